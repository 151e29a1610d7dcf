// Timer ticks. Each hart's timer interrupt (hardclock) only re-arms the
// timer, charges the tick and ends the running LWP's time slice; on the
// boot hart it also wakes the softclock thread, which does the rest of the
// per-tick work in thread context: the tick count, timed sleeps, and
// balancing user LWPs across CPUs. While the profiler is on, the same timer
// also takes its samples (clock_intr), and while bench slicing is on it also
// fires every few thousand instructions doing nothing: it is set for
// whichever is due first. Also keeps the time all harts sat idle together.
#include "thread/clock.h"
#include "thread/cpu.h"
#include "thread/lwkt.h"
#include "thread/lwp.h"
#include "thread/sleepq.h"
#include "thread/profile.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"
#include "arch/sbi.h"
#include "proc/signal.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "uapi/kdebug.h"
#include "param.h"

static volatile uint64 ticks;
static struct klt *softclock_klt;
static volatile int softclock_pending;

#define BALANCE_EVERY 5   // ticks between load-balancing passes

uint64 clock_ticks(void)
{
  return ticks;
}

// Bench slicing (kdebug KD_BENCH_SLICE, for `lockbench`): QEMU's -icount
// runs the harts in turn on one host thread, each until the next timer
// deadline; with ticks 10 ms apart one hart runs millions of instructions
// while the other stands still, so no waiter ever sees a running owner let
// go. A deadline every bench_slice time units interleaves the harts in
// turns of about a thousand instructions (docs/adaptive.md). One busy
// hart's slices bound every hart's turn, so an idle hart is not sliced
// (each slice would wake it, and the wake-ups would count as busy time); it
// is sliced again when its idle loop switches to a thread
// (clock_idle_done).
volatile uint64 bench_slice;
static volatile uint64 bench_slices;   // slice interrupts taken (neither tick nor sample)
void (*clock_slice_hook)(void);

// Ticks and slices fall on a fixed grid of the time CSR, so they do not
// drift with the time taken to handle them: under -icount, what a run does
// then depends only on what it executes, not on when it started (`bench
// locks` asks for figures that repeat). Slices end at the same instants on
// every hart; ticks are spread evenly over the harts, so that no two harts
// take a tick at once (which would go first would be QEMU's choice).
static uint64 next_multiple(uint64 now, uint64 period)
{
  return (now / period + 1) * period;
}

static uint64 next_tick_after(struct cpu *c, uint64 now)
{
  uint64 offset = c->id * (TIMER_INTERVAL / NCPU);
  if (now < offset)
    return offset;
  return next_multiple(now - offset, TIMER_INTERVAL) + offset;
}

// Set this hart's timer for its next tick or, if sooner, its next sample or
// (busy: not idle) the end of its bench slice.
static void timer_set(struct cpu *c, int busy)
{
  uint64 next = c->next_tick;
  if (prof_interval && c->next_sample < next)
    next = c->next_sample;
  if (bench_slice && busy) {
    uint64 slice_end = next_multiple(r_time(), bench_slice);
    if (slice_end < next)
      next = slice_end;
  }
  sbi_set_timer(next);
}

static void timer_arm(struct cpu *c)
{
  timer_set(c, c->cur != c->idle);
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

static void rearm(void *arg)
{
  (void)arg;
  timer_arm(mycpu());
}

uint64 clock_bench_slice(uint64 units)
{
  uint64 old = bench_slice;
  bench_slice = units;
  bench_slices = 0;
  for (int i = 0; i < NCPU; i++)
    if (cpus[i].started)
      ipiq_send(&cpus[i], rearm, 0);
  return old;
}

// Time during which every started hart sat idle in wfi. Under -icount,
// elapsed time minus this is what all harts executed, whichever ran it
// (`lockbench`). While bench slicing is on, the idle loop brackets its
// wfi with these two (turning slicing on sends every hart an IPI, so an
// idle hart starts a counted wait at once); otherwise nothing is counted,
// and a hart's wake-up does not pay for the lock.
static struct spinlock idle_lock = { 0, "idletime", -1 };
static int nidle;
static uint64 all_idle_since, all_idle_total;

void clock_idle_enter(void)
{
  spinlock_acquire(&idle_lock);
  if (++nidle == ncpu)
    all_idle_since = r_time();
  spinlock_release(&idle_lock);
}

void clock_idle_leave(void)
{
  spinlock_acquire(&idle_lock);
  if (nidle-- == ncpu)
    all_idle_total += r_time() - all_idle_since;
  spinlock_release(&idle_lock);
}

void clock_idle_done(void)
{
  timer_set(mycpu(), 1);
}

void clock_bench_times(struct bench_times *bt)
{
  spinlock_acquire(&idle_lock);
  bt->all_idle = all_idle_total + (nidle == ncpu ? r_time() - all_idle_since : 0);
  spinlock_release(&idle_lock);
  bt->slices = bench_slices;
}

void clock_start_hart(void)
{
  struct cpu *c = mycpu();
  c->next_tick = next_tick_after(c, r_time());
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
  if (now < c->next_tick && !(prof_interval && now >= c->next_sample)) {
    __sync_fetch_and_add(&bench_slices, 1);   // only a bench slice ended
    if (clock_slice_hook)
      clock_slice_hook();
  }
  if (prof_interval && now >= c->next_sample) {
    // Taken more than one time unit (100 instructions) after it was due:
    // interrupts were off.
    profile_sample(CSR_READ(sepc), user, now - c->next_sample > 1);
    c->next_sample = now + profile_next_gap(c);
  }
  if (now >= c->next_tick) {
    c->next_tick = next_tick_after(c, now);
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
      sig_alarms(ticks);
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
