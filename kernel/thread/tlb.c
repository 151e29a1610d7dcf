// TLB shootdown through IPI messages. The sender flushes its own TLB, asks
// every other started CPU to flush, and waits until all have; while it
// waits it keeps draining its own inbox, so two CPUs shooting at each other
// cannot deadlock. (The SBI remote-fence call would do the same in M-mode,
// but a hart waiting inside the firmware cannot be interrupted, and under
// QEMU's -icount that wait was seen to never end.)
#include "thread/tlb.h"
#include "thread/cpu.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"

struct shootdown {
  volatile int pending;   // CPUs that have not flushed yet
};

static void flush_local(void *arg)
{
  struct shootdown *sd = arg;
  sfence_vma();
  __sync_fetch_and_sub(&sd->pending, 1);
}

void tlb_shootdown(uint64 va, uint64 len)
{
  (void)va;   // every flush is a full flush: simpler, and rare
  (void)len;
  struct shootdown sd = { 0 };
  int s = intr_save();
  struct cpu *me = mycpu();
  sfence_vma();
  for (int i = 0; i < NCPU; i++)
    if (cpus[i].started && &cpus[i] != me)
      sd.pending++;
  for (int i = 0; i < NCPU; i++)
    if (cpus[i].started && &cpus[i] != me)
      ipiq_send(&cpus[i], flush_local, &sd);
  while (sd.pending > 0)
    ipiq_process();
  intr_restore(s);
}
