// Timer ticks. Each hart's timer interrupt (hardclock) only re-arms the
// timer, charges the tick and ends the running LWP's time slice; on the
// boot hart it also wakes the softclock thread, which does the rest of the
// per-tick work in thread context: the tick count, timed sleeps, and
// balancing user LWPs across CPUs. While the profiler is on, the same timer
// also takes its samples (clock_intr): it is set for whichever is due first.
#include "thread/clock.h"
#include "thread/cpu.h"
#include "thread/lwkt.h"
#include "thread/lwp.h"
#include "thread/sleepq.h"
#include "thread/profile.h"
#include "thread/ipiq.h"
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

// Set this hart's timer for its next tick or, if sooner, its next sample.
static void timer_arm(struct cpu *c)
{
  uint64 next = c->next_tick;
  if (prof_interval && c->next_sample < next)
    next = c->next_sample;
  sbi_set_timer(next);
}

// The profiler just started: take this hart's first sample now.
static void sample_now(void *arg)
{
  (void)arg;
  struct cpu *c = mycpu();
  c->next_sample = r_time();
  timer_arm(c);
}

void clock_profile_started(void)
{
  for (int i = 0; i < NCPU; i++)
    if (cpus[i].started)
      ipiq_send(&cpus[i], sample_now, 0);
}

void clock_start_hart(void)
{
  struct cpu *c = mycpu();
  c->next_tick = r_time() + TIMER_INTERVAL;
  timer_arm(c);
  CSR_SET(sie, SIE_STIE);
}

// The tick: charge it to the running LWP, in user or kernel time, and end
// its time slice.
static void hardclock(struct cpu *c, int user)
{
  c->ticks++;
  c->reqflags |= RQF_TICK;
  struct lwp *l = c->cur->lwp;
  if (l && user)
    l->uticks++;
  else if (l)
    l->sticks++;
  if (c->id == boot_hart && softclock_klt) {
    softclock_pending = 1;
    lwkt_schedule(softclock_klt);
  }
}

// The timer interrupt (interrupts off; sepc and sstatus.SPP still describe
// what it interrupted).
void clock_intr(void)
{
  struct cpu *c = mycpu();
  uint64 now = r_time();
  int user = !(CSR_READ(sstatus) & SSTATUS_SPP);
  if (prof_interval && now >= c->next_sample) {
    // Taken more than one time unit (100 instructions) after it was due:
    // interrupts were off.
    profile_sample(CSR_READ(sepc), user, now - c->next_sample > 1);
    c->next_sample = now + profile_next_gap(c);
  }
  if (now >= c->next_tick) {
    c->next_tick = now + TIMER_INTERVAL;
    hardclock(c, user);
  }
  timer_arm(c);
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
