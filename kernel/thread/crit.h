// Critical sections: while this CPU's depth is above zero, no thread switch
// happens here (no preemption, no interrupt-thread dispatch). Interrupts are
// still taken; what they make runnable waits until crit_exit().
#pragma once
#include "thread/cpu.h"
#include "lib/printf.h"

void crit_exit_work(void);   // crit.c: run what arrived during the section

// Inline, as every spinlock and every wake-up enters and leaves one.
static inline void crit_enter(void)
{
  mycpu()->critcount++;
  __sync_synchronize();
}

static inline void crit_exit(void)
{
  struct cpu *c = mycpu();
  __sync_synchronize();
  assert(c->critcount > 0);
  if (--c->critcount == 0 && (c->doorbells || (c->reqflags & RQF_RESCHED)))
    crit_exit_work();
}
