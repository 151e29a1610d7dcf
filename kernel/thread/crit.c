// Critical sections: a per-CPU depth counter. Entering is one increment;
// leaving the outermost section rings the IPIs sent meanwhile (ipiq.c) and
// runs what arrived meanwhile (an interrupt thread that wants this CPU).
#include "thread/crit.h"
#include "thread/lwkt.h"
#include "thread/ipiq.h"
#include "thread/cpu.h"
#include "arch/riscv.h"
#include "lib/printf.h"

void crit_enter(void)
{
  mycpu()->critcount++;
  __sync_synchronize();
}

void crit_exit(void)
{
  struct cpu *c = mycpu();
  __sync_synchronize();
  assert(c->critcount > 0);
  if (--c->critcount > 0)
    return;
  if (c->doorbells)
    ipiq_ring();
  if ((c->reqflags & RQF_RESCHED) && intr_get() && c->intr_depth == 0)
    lwkt_maybe_preempt();
}
