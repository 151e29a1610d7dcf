// The scheduler trace rings: one per CPU, written only by that CPU with
// interrupts off, read out through the trace system call.
#include "thread/trace.h"
#include "thread/cpu.h"
#include "thread/lwp.h"
#include "proc/proc.h"
#include "vm/vm.h"
#include "arch/riscv.h"

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

// The user thread an LWP's library says it runs (the word registered with
// lwp_tidword), read through the process's page table; -1 if none.
static int user_tid(struct lwp *l)
{
  int tid;
  if (l == 0 || l->tidword == 0 || l->proc == 0 || l->proc->pagetable == 0)
    return -1;
  if (copyin(l->proc->pagetable, &tid, l->tidword, sizeof(tid)) < 0)
    return -1;
  return tid;
}

void trace_record(int type, struct klt *t, int other)
{
  struct lwp *l = t->lwp;
  struct trace_rec r = { r_time(), type, t->pri, t->id, other, l ? l->id + 1 : 0,
                         l ? l->proc->pid : 0, user_tid(l) };
  put(cpuid(), r);
}

void trace_record_ipi(int from, int to)
{
  struct trace_rec r = { r_time(), TR_IPI, 0, from, to, 0, 0, -1 };
  put(cpuid(), r);
}
#endif

// TRACE_START: clear the rings and start; TRACE_STOP: stop; TRACE_READ: copy
// the ring of CPU (n >> 16), at most (n & 0xffff) records, oldest first;
// returns how many.
int trace_control(int cmd, uint64 uaddr, int n)
{
#ifdef NO_TRACE
  (void)cmd; (void)uaddr; (void)n;
  return -1;
#else
  if (cmd == TRACE_START) {
    for (int c = 0; c < NCPU; c++)
      heads[c] = 0;
    trace_on = 1;
    return 0;
  }
  if (cmd == TRACE_STOP) {
    trace_on = 0;
    return 0;
  }
  if (cmd != TRACE_READ || n < 0)
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
      return copied > 0 ? copied : -1;   // reading does not consume records
  }
  return copied;
#endif
}
