// The scheduler trace rings: one per CPU, written only by that CPU with
// interrupts off, read out through the trace system call.
#include "thread/trace.h"
#include "thread/cpu.h"
#include "thread/lwp.h"
#include "proc/proc.h"
#include "vm/vm.h"
#include "arch/riscv.h"

#define TRACE_SIZE 2048   // events per CPU

#ifndef NO_TRACE
volatile int trace_on;
static struct trace_rec rings[NCPU][TRACE_SIZE];
static uint32 heads[NCPU];     // events written per CPU (wraps around the ring)

static void put(int cpu, struct trace_rec r)
{
  int s = intr_save();
  rings[cpu][heads[cpu] % TRACE_SIZE] = r;
  heads[cpu]++;
  intr_restore(s);
}

void trace_record(int type, struct klt *t, int other)
{
  struct trace_rec r = { r_time(), type, t->pri, t->id, other, t->lwp ? t->lwp->id + 1 : 0 };
  put(cpuid(), r);
}

void trace_record_ipi(int from, int to)
{
  struct trace_rec r = { r_time(), TR_IPI, 0, from, to, 0 };
  put(cpuid(), r);
}
#endif

// cmd 1: clear the rings and start; 2: stop; 3: copy the ring of CPU
// (n >> 16), at most (n & 0xffff) records, oldest first; returns how many.
int trace_control(int cmd, uint64 uaddr, int n)
{
#ifdef NO_TRACE
  (void)cmd; (void)uaddr; (void)n;
  return -1;
#else
  if (cmd == 1) {
    for (int c = 0; c < NCPU; c++)
      heads[c] = 0;
    trace_on = 1;
    return 0;
  }
  if (cmd == 2) {
    trace_on = 0;
    return 0;
  }
  if (cmd != 3 || n < 0)
    return -1;
  int cpu = n >> 16, max = n & 0xffff;
  if (cpu >= NCPU)
    return -1;
  uint32 count = heads[cpu] < TRACE_SIZE ? heads[cpu] : TRACE_SIZE;
  uint32 first = heads[cpu] - count;
  int copied = 0;
  for (uint32 i = 0; i < count && copied < max; i++, copied++) {
    struct trace_rec r = rings[cpu][(first + i) % TRACE_SIZE];
    if (copyout(curproc()->pagetable, uaddr + copied * sizeof(r), &r, sizeof(r)) < 0)
      return -1;
  }
  return copied;
#endif
}
