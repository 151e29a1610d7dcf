// Timer ticks. Each hart's timer interrupt (hardclock) only re-arms the
// timer, charges the tick and ends the running LWP's time slice; on the
// boot hart it also wakes the softclock thread, which does the rest of the
// per-tick work in thread context: the tick count, timed sleeps, and
// balancing user LWPs across CPUs.
#include "thread/clock.h"
#include "thread/cpu.h"
#include "thread/lwkt.h"
#include "thread/lwp.h"
#include "thread/sleepq.h"
#include "arch/riscv.h"
#include "arch/sbi.h"
#include "lib/printf.h"
#include "param.h"

static volatile uint64 ticks;
static struct klt *softclock_klt;
static volatile int softclock_pending;

#define BALANCE_EVERY 5   // ticks between load-balancing passes

uint64 clock_ticks(void)
{
  return ticks;
}

void clock_start_hart(void)
{
  sbi_set_timer(r_time() + TIMER_INTERVAL);
  CSR_SET(sie, SIE_STIE);
}

void hardclock(void)
{
  struct cpu *c = mycpu();
  sbi_set_timer(r_time() + TIMER_INTERVAL);
  c->ticks++;
  c->reqflags |= RQF_TICK;
  struct lwp *l = c->cur->lwp;
  if (l)
    l->sticks++;   // usertrap moves it to uticks when the tick came from user mode
  if (c->id == boot_hart && softclock_klt) {
    softclock_pending = 1;
    lwkt_schedule(softclock_klt);
  }
}

// The user scheduler's balancing: if one CPU has two or more user LWPs
// more than another, move one queued LWP from the busiest to the idlest.
static void balance(void)
{
  struct cpu *busy = 0, *idle = 0;
  for (int i = 0; i < NCPU; i++) {
    struct cpu *c = &cpus[i];
    if (!c->started)
      continue;
    if (busy == 0 || c->nuser > busy->nuser)
      busy = c;
    if (idle == 0 || c->nuser < idle->nuser)
      idle = c;
  }
  if (busy == 0 || busy->nuser - idle->nuser < 2)
    return;
  int pri = PRI_USER;
  struct klt *t = busy->rq_head[pri];   // a racy peek; the owner re-checks
  if (t)
    lwkt_migrate(t, idle);
}

static void softclock(void *arg)
{
  (void)arg;
  for (;;) {
    while (softclock_pending) {
      softclock_pending = 0;
      ticks++;
      sleepq_timeouts(ticks);
      if (ticks % BALANCE_EVERY == 0)
        balance();
    }
    lwkt_block(&softclock_pending);
  }
}

void clock_init(void)
{
  softclock_klt = klt_create("softclock", softclock, 0, PRI_SOFT, mycpu());
  assert(softclock_klt);
  softclock_klt->flags |= KLT_INTERRUPT;
  lwkt_schedule(softclock_klt);
}
