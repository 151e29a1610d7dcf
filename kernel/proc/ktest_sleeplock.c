// The in-kernel test of adaptive sleep locks, reached through
// kdebug(KD_SLEEPLOCK_TEST) (lab adaptive). Two kernel-only threads on two
// CPUs share one sleep lock of class "ktest-sleeplock":
//   1. they take turns holding it, each waiting for the other to try: no
//      count is lost, and a waiter whose holder runs on the other CPU spins
//      rather than sleeps;
//   2. one holds it while asleep: the other sleeps at once, without spinning;
//   3. one holds it running for long (until the other sleeps, or LONG_HOLD)
//      while interrupts take most of the other's CPU (STEAL_SLICES of every
//      bench slice, when bench slicing is on): the other spins at most
//      SPIN_LIMIT, then sleeps, however few looks it made meanwhile;
//   4. one holds it running until the other has spun for STALE_RUN, then
//      sleeps holding it: the spinner must sleep within STALE_LIMIT of that
//      (a third thread on the holder's CPU, run once the holder sleeps,
//      times it).
// Returns 0, or the checks that failed (KT_* bits below).
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/crit.h"
#include "thread/sleeplock.h"
#include "thread/lockstat.h"
#include "lib/spinlock.h"
#include "lib/printf.h"
#include "thread/clock.h"
#include "arch/riscv.h"

#define ROUNDS      1000                   // phase 1; each thread holds in every other one
#define SLOW_ROUNDS 5                      // phase 1 stops once this many hand-offs took a tick
#define LONG_HOLD   (8 * TIMER_INTERVAL)   // phase 3: the holder gives up waiting after this
#define SPIN_LIMIT  (5 * TIMER_INTERVAL)   // phase 3: the waiter must sleep within this
#define STALE_RUN   (TIMER_INTERVAL / 2)   // phase 4: the holder runs this long after the waiter came
#define STALE_LIMIT (TIMER_INTERVAL / 4)   // phase 4: the waiter must sleep within this of the holder
#define STEAL_SLICES 19                    // phase 3: the waiter's CPU spends 19 slices of 20 in interrupts

// The result: the checks that failed (the graded test reads these bits).
#define KT_COUNT   1    // a count or an acquisition was lost
#define KT_SPIN    2    // waiters behind a running holder slept instead of spinning
#define KT_SLEEP   4    // a waiter behind a sleeping holder spun, or did not sleep
#define KT_BOUND   8    // a waiter behind a long-running holder spun past SPIN_LIMIT
#define KT_STALE   16   // a waiter kept spinning after its running holder went to sleep
#define KT_ONEHART 64   // fewer than two CPUs
#define KT_NOKLT   128  // no KLT for the test threads

static struct {
  struct spinlock lock;     // over done, and the channel the holder naps on
  int done;
  struct sleeplock sl;      // the lock under test
  int count;                // incremented under sl
  volatile int held;        // phases 2 and 3: the holder has sl
  struct klt *holder;       // the first thread of the pair running
  struct klt *waiter;       // the second
  volatile int abort;
  volatile int holding;     // phase 1: round whose holder has the lock
  volatile int trying;      // phase 1: round whose waiter is trying
  volatile int slow;        // phase 1: hand-offs that took a tick or more
  volatile uint64 wait_start, wait_slept;   // phases 3 and 4: the waiter's times (r_time)
  volatile uint64 holder_slept;             // phase 4: when the holder went to sleep
  struct klt *watcher;      // phase 4: the third thread, on the holder's CPU
  struct cpu *volatile slowed;   // phase 3: the CPU whose slice interrupts last long
} st;

static void finish_one(void)
{
  spinlock_acquire(&st.lock);
  st.done++;
  sleepq_wakeup(&st.done);
  spinlock_release(&st.lock);
}

static void spin_wait(int n)
{
  for (volatile int i = 0; i < n; i++)
    ;
}

// The two threads, one per CPU, take turns: in round i the holder takes the
// lock, announces round i, and keeps it until the other is trying too. So
// every waiter finds the lock held by a thread running on the other CPU.
static void take_turns(int me)
{
  for (int i = 0; i < ROUNDS && st.slow < SLOW_ROUNDS; i++) {
    if (i % 2 == me) {
      sleeplock_acquire(&st.sl);
      st.holding = i;
      while (st.trying != i && st.slow < SLOW_ROUNDS)
        ;
      spin_wait(50);
      st.count++;
      sleeplock_release(&st.sl);
    } else {
      while (st.holding != i && st.slow < SLOW_ROUNDS)
        ;
      st.trying = i;
      uint64 t0 = r_time();
      sleeplock_acquire(&st.sl);
      if (r_time() - t0 >= TIMER_INTERVAL)
        st.slow++;                 // both threads stop: a hand-off should take microseconds
      st.count++;
      sleeplock_release(&st.sl);
    }
  }
}

static void turns_0(void) { take_turns(0); }
static void turns_1(void) { take_turns(1); }

static void sleeping_holder(void)
{
  sleeplock_acquire(&st.sl);
  st.held = 1;
  spinlock_acquire(&st.lock);
  sleepq_sleep_timeout((void *)&st.held, &st.lock, 5);   // nobody wakes it: 5 ticks
  spinlock_release(&st.lock);
  sleeplock_release(&st.sl);
}

// Waits until the holder is asleep (state SLEEPING: off its CPU, or about to
// be), then takes the lock.
static void sleeper_waiter(void)
{
  while (!st.held || __atomic_load_n(&st.holder->state, __ATOMIC_RELAXED) != KLT_SLEEPING)
    ;
  sleeplock_acquire(&st.sl);
  sleeplock_release(&st.sl);
}

// Phase 3: holds the lock, running, until the waiter sleeps (or LONG_HOLD).
// The waiter must first spin (the holder runs), then sleep within SPIN_LIMIT.
static void long_holder(void)
{
  sleeplock_acquire(&st.sl);
  crit_enter();                   // no interrupt thread takes our CPU: we run all along
  st.held = 1;
  uint64 t0 = r_time();
  while (st.wait_slept == 0 && r_time() - t0 < LONG_HOLD) {
    struct klt *w = st.waiter;
    if (st.wait_start && w && __atomic_load_n(&w->state, __ATOMIC_RELAXED) == KLT_SLEEPING)
      st.wait_slept = r_time();
  }
  crit_exit();
  sleeplock_release(&st.sl);
}

// Phase 3, in each bench-slice interrupt (clock_slice_hook): on the
// waiter's CPU, hold the CPU STEAL_SLICES slices long, so that the waiter
// makes a look only now and then. A spin bounded by a count of looks then
// lasts many times what it lasts otherwise; one bounded in time does not.
static void steal_time(void)
{
  if (mycpu() != st.slowed)
    return;
  uint64 t0 = r_time();
  while (r_time() - t0 < STEAL_SLICES * bench_slice)
    ;
}

static void long_waiter(void)
{
  while (!st.held)
    ;
  st.wait_start = r_time();
  sleeplock_acquire(&st.sl);
  sleeplock_release(&st.sl);
}

// Phase 4: holds the lock, running, until the waiter has spun for
// STALE_RUN, then sleeps holding it; the watcher, on this CPU, runs then.
static void stale_holder(void)
{
  sleeplock_acquire(&st.sl);
  crit_enter();                   // we run all along until we sleep
  st.held = 1;
  uint64 t0 = r_time();
  while ((st.wait_start == 0 || r_time() - st.wait_start < STALE_RUN) &&
         r_time() - t0 < LONG_HOLD)
    ;
  crit_exit();
  lwkt_schedule(st.watcher);
  spinlock_acquire(&st.lock);
  st.holder_slept = r_time();
  sleepq_sleep_timeout((void *)&st.held, &st.lock, 5);   // nobody wakes it: 5 ticks
  spinlock_release(&st.lock);
  sleeplock_release(&st.sl);
}

// Phase 4, on the holder's CPU while the holder sleeps: when the waiter sleeps.
static void stale_watcher(void)
{
  uint64 t0 = r_time();
  while (__atomic_load_n(&st.waiter->state, __ATOMIC_RELAXED) != KLT_SLEEPING) {
    if (r_time() - t0 >= LONG_HOLD)
      return;
  }
  st.wait_slept = r_time();
}

static void test_thread(void *arg)
{
  if (!st.abort)
    ((void (*)(void))arg)();
  finish_one();
}

// Runs a on CPU ca and b on CPU cb (a's KLT in st.holder, b's in
// st.waiter) and waits for both, and for w if given: a third thread on ca,
// in st.watcher, which a schedules itself. 0 if there was no KLT for them
// (then those made only end).
static int run_threads(void (*a)(void), struct cpu *ca, void (*b)(void), struct cpu *cb,
                       void (*w)(void))
{
  st.done = 0;
  st.watcher = w ? klt_create("ktest-sl-w", test_thread, (void *)w, PRI_KERN, ca) : 0;
  st.holder = klt_create("ktest-sl-a", test_thread, (void *)a, PRI_KERN, ca);
  st.waiter = klt_create("ktest-sl-b", test_thread, (void *)b, PRI_KERN, cb);
  st.abort = st.holder == 0 || st.waiter == 0 || (w && st.watcher == 0);
  struct klt *now[3] = { st.holder, st.waiter, st.abort ? st.watcher : 0 };
  int n = st.watcher && !st.abort;   // a schedules the watcher
  for (int i = 0; i < 3; i++) {
    if (now[i]) {
      lwkt_schedule(now[i]);
      n++;
    }
  }
  spinlock_acquire(&st.lock);
  while (st.done < n)
    sleepq_sleep(&st.done, &st.lock);
  spinlock_release(&st.lock);
  return !st.abort;
}

static int run_pair(void (*a)(void), struct cpu *ca, void (*b)(void), struct cpu *cb)
{
  return run_threads(a, ca, b, cb, 0);
}

int kdebug_sleeplock_test(void)
{
  struct cpu *one = 0, *two = 0;
  for (int i = 0; i < NCPU && !two; i++) {
    if (!cpus[i].started)
      continue;
    if (one == 0)
      one = &cpus[i];
    else
      two = &cpus[i];
  }
  if (two == 0)
    return KT_ONEHART;
  spinlock_init(&st.lock, "ktest-sl");
  sleeplock_init(&st.sl, "ktest-sleeplock");
  struct lockstat *c = st.sl.cls, before = *c;
  st.count = 0;
  st.held = 0;
  st.slow = 0;
  st.holding = st.trying = -1;
  if (!run_pair(turns_0, one, turns_1, two))
    return KT_NOKLT;
  struct lockstat mid = *c;
  uint64 spun = mid.spun - before.spun, slept = mid.slept - before.slept;
  uint64 rounds = mid.acquired - before.acquired;
  printf("ktest sleeplock: holder running: count %d of %ld, spun %ld slept %ld spin_loops %ld%s\n",
         st.count, rounds, spun, slept, mid.spin_loops - before.spin_loops,
         st.slow >= SLOW_ROUNDS ? " (stopped: hand-offs took a tick)" : "");
  st.held = 0;
  if (!run_pair(sleeping_holder, one, sleeper_waiter, two))
    return KT_NOKLT;
  struct lockstat end = *c;
  printf("ktest sleeplock: holder asleep: spun %ld slept %ld spin_loops %ld\n",
         end.spun - mid.spun, end.slept - mid.slept, end.spin_loops - mid.spin_loops);
  st.held = 0;
  st.wait_start = st.wait_slept = 0;
  st.slowed = two;
  clock_slice_hook = steal_time;
  int slowed = run_pair(long_holder, one, long_waiter, two);
  clock_slice_hook = 0;
  st.slowed = 0;
  if (!slowed)
    return KT_NOKLT;
  struct lockstat last = *c;
  uint64 long_slept = st.wait_slept, spin_time = long_slept ? long_slept - st.wait_start : 0;
  if (long_slept)
    printf("ktest sleeplock: holder running long, the waiter's CPU in interrupts %d time "
           "units of %d: the waiter slept after %ld time units (limit %d), spin_loops %ld\n",
           bench_slice ? STEAL_SLICES : 0, STEAL_SLICES + 1, spin_time, SPIN_LIMIT,
           last.spin_loops - end.spin_loops);
  else
    printf("ktest sleeplock: holder running long: the waiter had not slept after %d time "
           "units\n", LONG_HOLD);
  st.held = 0;
  st.wait_start = st.wait_slept = st.holder_slept = 0;
  if (!run_threads(stale_holder, one, long_waiter, two, stale_watcher))
    return KT_NOKLT;
  struct lockstat stale = *c;
  uint64 stale_time = st.wait_slept ? st.wait_slept - st.holder_slept : 0;
  if (st.wait_slept)
    printf("ktest sleeplock: holder went to sleep after the waiter spun %ld time units: the "
           "waiter slept %ld time units later (limit %d), spin_loops %ld\n",
           st.holder_slept - st.wait_start, stale_time, STALE_LIMIT,
           stale.spin_loops - last.spin_loops);
  else
    printf("ktest sleeplock: holder went to sleep after the waiter spun %ld time units: the "
           "waiter had not slept %d time units later\n", st.holder_slept - st.wait_start,
           LONG_HOLD);

  int r = 0;
  if (st.count != rounds || end.acquired - before.acquired != rounds + 2 ||
      stale.acquired - before.acquired != rounds + 6 || st.count == 0)
    r |= KT_COUNT;
  // Nearly every waiter found the lock held; at least 4 in 5 of them must
  // have spun (an interrupt may preempt a holder for a moment, and then
  // sleeping is right).
  if (st.slow >= SLOW_ROUNDS || spun + slept < ROUNDS / 2 || slept * 5 > spun + slept)
    r |= KT_SPIN;
  if (end.slept - mid.slept != 1 || end.spin_loops - mid.spin_loops > 10)
    r |= KT_SLEEP;
  if (long_slept == 0 || spin_time > SPIN_LIMIT || last.spin_loops == end.spin_loops)
    r |= KT_BOUND;
  if (st.wait_slept == 0 || stale_time > STALE_LIMIT || stale.spin_loops == last.spin_loops)
    r |= KT_STALE;
  return r;
}
