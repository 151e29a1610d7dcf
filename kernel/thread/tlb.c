// TLB shootdown through IPI messages. The sender flushes its own TLB, asks
// every other started CPU to flush, and waits in wfi, with interrupts on,
// until all have (the last one sends it an IPI). Interrupts on: its own
// inbox keeps draining, so two CPUs shooting at each other cannot deadlock.
// wfi, not a spin: under QEMU's -icount all harts share one host thread,
// and a spinning hart was seen never to hand it to the others. For the same
// reason this does not use SBI's remote fence, which spins in the firmware.
#include "thread/tlb.h"
#include "thread/cpu.h"
#include "thread/ipiq.h"
#include "thread/crit.h"
#include "lib/printf.h"
#include "arch/riscv.h"

struct shootdown {
  volatile int pending;   // CPUs that have not flushed yet
  struct cpu *origin;     // the CPU waiting for them
};

static void wake_up(void *arg)
{
  (void)arg;   // the IPI that carries this ends the origin's wfi
}

static void flush_local(void *arg)
{
  struct shootdown *sd = arg;
  struct cpu *origin = sd->origin;   // sd may vanish once pending is 0
  sfence_vma();
  if (__sync_sub_and_fetch(&sd->pending, 1) == 0)
    ipiq_send(origin, wake_up, 0);
}

void tlb_shootdown(uint64 va, uint64 len)
{
  (void)va;   // every flush is a full flush: simpler, and rare
  (void)len;
  struct shootdown sd = { 0 };
  assert(intr_get());
  // No spinlock held (docs/locking.md): the wait lasts an IPI round trip
  // to every CPU, some of which may be spinning for that lock.
  assert(mycpu()->critcount == 0);
  crit_enter();           // stay on this CPU, its IPIs are our wake-up
  struct cpu *me = mycpu();
  me->stats.shootdowns++;
  sd.origin = me;
  sfence_vma();
  for (int i = 0; i < NCPU; i++)
    if (cpus[i].started && &cpus[i] != me)
      sd.pending++;
  for (int i = 0; i < NCPU; i++)
    if (cpus[i].started && &cpus[i] != me)
      ipiq_send(&cpus[i], flush_local, &sd);
  ipiq_ring();            // we wait inside the critical section: ring now
  // Sleep in wfi rather than spin: the last CPU to flush sends an IPI.
  // (We stay in the critical section: this thread must not move off `me`.)
  while (sd.pending > 0)
    asm volatile("wfi");
  crit_exit();
}
