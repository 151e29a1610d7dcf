// The in-kernel test of adaptive sleep locks, reached through
// kdebug(KD_SLEEPLOCK_TEST) (lab adaptive). Two kernel-only threads on two
// CPUs share one sleep lock of class "ktest-sleeplock":
//   1. they take turns holding it, each waiting for the other to try: no
//      count is lost, and a waiter whose holder runs on the other CPU spins
//      rather than sleeps;
//   2. one holds it while asleep: the other sleeps at once, without spinning.
// Returns 0, or which check failed: 1 count, 2 spin, 3 sleep, 8 one hart, 9
// no thread.
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/sleeplock.h"
#include "thread/lockstat.h"
#include "lib/spinlock.h"
#include "lib/printf.h"

#define ROUNDS 1000   // rounds of phase 1; each thread holds in every other one

static struct {
  struct spinlock lock;     // over done, and the channel the holder naps on
  int done;
  struct sleeplock sl;      // the lock under test
  int count;                // incremented under sl
  volatile int held;        // phase 2: the sleeping holder has sl
  struct klt *holder;       // the first thread of the pair running
  volatile int abort;
  volatile int holding;     // phase 1: round whose holder has the lock
  volatile int trying;      // phase 1: round whose waiter is trying       // the second thread could not be made: end at once
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
  for (int i = 0; i < ROUNDS; i++) {
    if (i % 2 == me) {
      sleeplock_acquire(&st.sl);
      st.holding = i;
      while (st.trying != i)
        ;
      spin_wait(50);
      st.count++;
      sleeplock_release(&st.sl);
    } else {
      while (st.holding != i)
        ;
      st.trying = i;
      sleeplock_acquire(&st.sl);
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

static void test_thread(void *arg)
{
  if (!st.abort)
    ((void (*)(void))arg)();
  finish_one();
}

// Runs a on CPU ca and b on CPU cb (a's KLT in st.holder) and waits for
// both; 0 if there was no KLT for them.
static int run_pair(void (*a)(void), struct cpu *ca, void (*b)(void), struct cpu *cb)
{
  st.done = 0;
  st.abort = 0;
  st.holder = klt_create("ktest-sl-a", test_thread, (void *)a, PRI_KERN, ca);
  if (st.holder == 0)
    return 0;
  struct klt *y = klt_create("ktest-sl-b", test_thread, (void *)b, PRI_KERN, cb);
  st.abort = y == 0;             // then a only ends
  lwkt_schedule(st.holder);
  if (y)
    lwkt_schedule(y);
  spinlock_acquire(&st.lock);
  while (st.done < (y ? 2 : 1))
    sleepq_sleep(&st.done, &st.lock);
  spinlock_release(&st.lock);
  return y != 0;
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
    return 8;
  spinlock_init(&st.lock, "ktest-sl");
  sleeplock_init(&st.sl, "ktest-sleeplock");
  struct lockstat *c = st.sl.cls, before = *c;
  st.count = 0;
  st.held = 0;
  st.holding = st.trying = -1;
  if (!run_pair(turns_0, one, turns_1, two))
    return 9;
  struct lockstat mid = *c;
  printf("ktest sleeplock: holder running: count %d of %d, spun %ld slept %ld spin_loops %ld\n",
         st.count, 2 * ROUNDS, mid.spun - before.spun, mid.slept - before.slept,
         mid.spin_loops - before.spin_loops);
  if (!run_pair(sleeping_holder, one, sleeper_waiter, two))
    return 9;
  struct lockstat end = *c;
  printf("ktest sleeplock: holder asleep: spun %ld slept %ld spin_loops %ld\n",
         end.spun - mid.spun, end.slept - mid.slept, end.spin_loops - mid.spin_loops);

  if (st.count != 2 * ROUNDS || end.acquired - before.acquired != 2 * ROUNDS + 2)
    return 1;
  // Nearly every waiter found the lock held; at least 4 in 5 of them must
  // have spun (an interrupt may preempt a holder for a moment, and then
  // sleeping is right).
  uint64 spun = mid.spun - before.spun, slept = mid.slept - before.slept;
  if (spun + slept < ROUNDS / 2 || slept * 5 > spun + slept)
    return 2;
  if (end.slept - mid.slept != 1 || end.spin_loops - mid.spin_loops > 10)
    return 3;
  return 0;
}
