// Critical sections: a per-CPU depth counter. Entering is one increment
// (crit.h); leaving the outermost section rings the IPIs sent meanwhile
// (ipiq.c) and runs what arrived meanwhile (an interrupt thread that wants
// this CPU): that part is here.
#include "thread/crit.h"
#include "thread/lwkt.h"
#include "thread/ipiq.h"
#include "thread/cpu.h"
#include "arch/riscv.h"
#include "lib/printf.h"

// The outermost section just ended and something waits: ring the IPIs sent
// meanwhile, and let a waiting interrupt thread preempt us.
void crit_exit_work(void)
{
  struct cpu *c = mycpu();
  if (c->doorbells)
    ipiq_ring();
  if ((c->reqflags & RQF_RESCHED) && intr_get() && c->intr_depth == 0)
    lwkt_maybe_preempt();
}
