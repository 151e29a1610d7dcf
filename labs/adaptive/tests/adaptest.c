// Graded tests of lab adaptive: adaptive mutexes in uthread and in the kernel.
// Run as `adaptest --token T NAME`, one test per run (2 harts):
//   counts      2 threads take turns, each waiter forced to find the mutex held,
//               in each mode: mutual exclusion, exact counters (BLOCK waiters
//               block, SPIN waiters spin); then 4 threads count freely
//   spin        (icount) the owner runs on the other hart: waiters spin, also
//               when it took the mutex inside the old owner's unlock or with
//               umutex_trylock
//   notrunning  the owner is asleep in the kernel (also when it took the mutex
//               with umutex_trylock or inside the old owner's unlock), blocked
//               on another mutex, or waiting for its LWP: the waiter blocks
//               without spinning and leaves its LWP to other threads
//   bounded     (icount) the owner runs a long section: the waiter spins, then
//               blocks within SPIN_BOUND instructions
//   wakeups     the owner unlocks inside the waiter's window (between a look
//               at the lock word and blocking) and the waiter inside unlock's:
//               no wake-up is lost; unlock does not hand the mutex to a waiter
//   kernel      (icount) the in-kernel test of adaptive sleep locks (kdebug)
//   perf        (icount) guest instructions per acquisition: ADAPTIVE against
//               SPIN with a running owner, against BLOCK with a sleeping one
// The windows are forced through the library's test hook (ult_test_hook,
// user/lib/uthread_impl.h), which sees each failed look at a lock word, each
// release (before and after its store), each thread that blocks and each
// that is woken; a test that sees no progress says what it saw and ends.
// Lines not starting with GRADE are for the reader of the log.
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"
#include "uapi/kdebug.h"
#include "grade/testlib/grade.h"

#define SLICE 20                  // bench slicing (time units) for the icount tests
#define STALL_TICKS 100           // no progress for this long: say what was seen, end
#define HOOK_TICKS 20             // a hook holds a thread at most this long

static struct umutex m;
static volatile int count;
static volatile int aborted;      // a check failed so that the rest cannot run: stop

static void busy(int n)
{
  for (volatile int i = 0; i < n; i++)
    ;
}

static void show(const char *what, struct umutex_stats *s)
{
  printf("adaptest: %s: acquired %lu spun %lu blocked %lu spin_loops %lu\n", what,
         s->acquired, s->spun, s->blocked, s->spin_loops);
}

static struct umutex_stats stats_of(struct umutex *x)
{
  struct umutex_stats s = { 0, 0, 0, 0 };
  umutex_stats(x, &s);
  return s;
}

static void fail_now(const char *why, int a, int b)
{
  if (!aborted)
    printf("adaptest: %s (%d, %d)\n", why, a, b);
  aborted = 1;
}

// ---- what the hook saw, per thread -----------------------------------------------------
static volatile int fails[UTHREAD_MAX];    // failed looks at m's lock word
static volatile int blocks[UTHREAD_MAX];   // blocked (ult_block_releasing)
static volatile int wakes[UTHREAD_MAX];    // woken (ult_wake)
static void (*extra_hook)(int event, void *obj, int tid);   // a test's own, or 0

static void hook(int event, void *obj, int tid)
{
  if (tid < 0 || tid >= UTHREAD_MAX)
    return;
  if (event == ULT_HOOK_TAKE_FAILED && obj == &m)
    __atomic_add_fetch(&fails[tid], 1, __ATOMIC_SEQ_CST);
  else if (event == ULT_HOOK_BLOCK)
    __atomic_add_fetch(&blocks[tid], 1, __ATOMIC_SEQ_CST);
  else if (event == ULT_HOOK_WAKE)
    __atomic_add_fetch(&wakes[tid], 1, __ATOMIC_SEQ_CST);
  if (extra_hook)
    extra_hook(event, obj, tid);
}

// ---- the watchdog ------------------------------------------------------------------------
// counts and notrunning wait for each other's threads without bounds of
// their own: an LWP outside the library (no mistake in umutex can hold it
// up) ends the test once neither the count nor anything the hook sees has
// moved for STALL_TICKS, saying what it saw. The results reported stand;
// the others fail.
static char watch_stack[4096] __attribute__((aligned(16)));
static const char *volatile doing = "starting", *volatile doing_mode = "";

static int moved(void)
{
  int sum = count;
  for (int t = 0; t < UTHREAD_MAX; t++)
    sum += fails[t] + blocks[t] + wakes[t];
  return sum;
}

static void watchdog(void *arg)
{
  (void)arg;
  int seen = moved(), since = uptime();
  for (;;) {
    sleep(1);
    int now = moved();
    if (now != seen) {
      seen = now;
      since = uptime();
    } else if (uptime() - since >= STALL_TICKS) {
      printf("adaptest: nothing moved for %d ticks in %s%s (count %d)\n", STALL_TICKS, doing,
             doing_mode, count);
      for (int t = 0; t < UTHREAD_MAX; t++)
        if (fails[t] || blocks[t] || wakes[t])
          printf("adaptest: thread %d: %d failed looks, blocked %d times, woken %d times\n", t,
                 fails[t], blocks[t], wakes[t]);
      grade_end();
      exit(0);
    }
  }
}

// Blocked now, and not woken since.
static int is_blocked(int tid)
{
  return blocks[tid] > wakes[tid];
}

static void slicing(int on)
{
  kdebug(KD_BENCH_SLICE, on ? SLICE : 0);
}

static volatile int worker_cpu[2] = { -1, -1 };

// Bound thread me (0 or 1) waits until its LWP and the other's sit on
// different harts (the kernel's balancer separates two busy LWPs of one
// hart within a few ticks), or STALL_TICKS (then says so: the figures and
// counters that follow are not what they should be).
static void on_own_hart(int me)
{
  int t0 = uptime();
  while (worker_cpu[0] < 0 || worker_cpu[1] < 0 || worker_cpu[0] == worker_cpu[1]) {
    worker_cpu[me] = getcpu();
    if (uptime() - t0 > STALL_TICKS) {
      printf("adaptest: the two bound threads still share a hart after %d ticks\n", STALL_TICKS);
      return;
    }
  }
}

// ---- counts ---------------------------------------------------------------------------
// Two bound threads take turns: in round i one holds the mutex until the
// other is waiting for it (has looked at the held lock word in SPIN mode,
// blocked in the others), so every second acquisition finds it held: the
// counters are exact. In ADAPTIVE mode the holder first sleeps a tick or
// two, and the waiter comes once the holder's LWP is off CPU: it must block.
// In SPIN mode the holder sometimes sleeps a tick before it unlocks.
#define TURNS 40
#define FREE_THREADS 4
#define FREE_ROUNDS 300
static volatile int turn_tid[2], turn_taken, turn_done, inside, returned_in;
static struct schedctl *volatile turn_sc[2];
static volatile int trylock_took_held;
static int turns_mode;

static void hold_until_waited(int i, int w)
{
  int f0 = fails[w], b0 = blocks[w];
  turn_taken = i;
  if (turns_mode == UMUTEX_ADAPTIVE)
    sleep(2);                      // off CPU, holding the mutex, a whole tick at least
  while (!aborted) {
    if (returned_in == i) {
      fail_now("mutual exclusion: the waiter returned from umutex_lock while the mutex was held",
               w, i);
      break;
    }
    if (blocks[w] > b0 || (turns_mode == UMUTEX_SPIN && fails[w] > f0))
      break;
    if (fails[w] - f0 > 10000)     // spins where it should block: the counters tell
      break;
    uthread_yield();
  }
  if (turns_mode == UMUTEX_SPIN && i % 20 == 0)
    sleep(1);                      // a SPIN waiter keeps spinning, however long it takes
}

static void turn_taker(void *arg)
{
  int me = (int)(long)arg;
  turn_sc[me] = schedctl();
  turn_tid[me] = uthread_self();
  while (turn_tid[1 - me] < 0)
    uthread_yield();
  for (int i = 0; i < TURNS && !aborted; i++) {
    if (i % 2 == me) {
      while (turn_done < i - 1 && !aborted)
        uthread_yield();
      umutex_lock(&m);
      if (umutex_trylock(&m) == 0)
        trylock_took_held = 1;
      inside = me;
      hold_until_waited(i, turn_tid[1 - me]);
      count++;
      inside = -1;
      umutex_unlock(&m);
    } else {
      while ((turn_taken < i || (turns_mode == UMUTEX_ADAPTIVE &&
              turn_sc[1 - me]->sc_state != SC_OFFPROC)) && !aborted)
        ;
      umutex_lock(&m);
      returned_in = i;
      if (inside != -1)
        fail_now("mutual exclusion: two threads held the mutex at once", me, i);
      count++;
      umutex_unlock(&m);
      turn_done = i;
    }
  }
}

static void free_counter(void *arg)
{
  int me = (int)(long)arg;
  for (int i = 0; i < FREE_ROUNDS && !aborted; i++) {
    if (i % 10 == me) {
      int tries = 0;
      while (umutex_trylock(&m) != 0 && !aborted) {
        if (++tries > 20000)
          fail_now("umutex_trylock never took the mutex in 20000 tries", me, i);
        uthread_yield();
      }
    } else {
      umutex_lock(&m);
    }
    int c = count;
    busy(20);                      // a lost update shows in the total
    count = c + 1;
    umutex_unlock(&m);
    if (i % 50 == 0)
      uthread_yield();
  }
}

static void run_threads(void (*fn)(void *), int n, int bound)
{
  struct uthread_attr attr = { 0, 0, bound };
  int tids[FREE_THREADS];
  for (int i = 0; i < n; i++)
    tids[i] = uthread_create(fn, (void *)(long)i, &attr);
  for (int i = 0; i < n; i++)
    uthread_join(tids[i]);
}

// The forced turns, then the free counting; 1 if all was exact.
static int count_in_mode(const char *name, int mode)
{
  umutex_init(&m);
  umutex_setmode(&m, mode);
  turns_mode = mode;
  count = 0;
  aborted = trylock_took_held = 0;
  turn_tid[0] = turn_tid[1] = -1;
  turn_taken = turn_done = returned_in = inside = -1;
  doing = "the turns, mode ";
  doing_mode = name;
  run_threads(turn_taker, 2, 1);
  struct umutex_stats t = stats_of(&m);
  printf("adaptest: %s: %d turns, count %d\n", name, TURNS, count);
  show(name, &t);
  int ok = !aborted && count == 2 * TURNS && t.acquired == 2 * TURNS;
  if (mode == UMUTEX_SPIN)
    ok = ok && t.spun == TURNS && t.blocked == 0;
  else
    ok = ok && t.blocked == TURNS && t.spun == 0;
  if (mode == UMUTEX_BLOCK)
    ok = ok && t.spin_loops == 0;
  if (trylock_took_held)
    printf("adaptest: %s: umutex_trylock took a mutex its caller held\n", name);
  if (aborted)
    return 0;
  count = 0;
  doing = "the free counting, mode ";
  run_threads(free_counter, FREE_THREADS, 0);
  struct umutex_stats f = stats_of(&m);
  int total = FREE_THREADS * FREE_ROUNDS;
  printf("adaptest: %s: free counting: count %d of %d\n", name, count, total);
  show(name, &f);
  f.acquired -= t.acquired;
  ok = ok && !aborted && !trylock_took_held && count == total && f.acquired == (uint64)total &&
       f.spun + f.blocked <= f.acquired;
  if (mode == UMUTEX_BLOCK)
    ok = ok && f.spin_loops == 0;
  if (mode == UMUTEX_SPIN)
    ok = ok && f.blocked == 0;
  return ok;
}

static void test_counts(void)
{
  grade_result("adaptive", count_in_mode("adaptive", UMUTEX_ADAPTIVE));
  grade_result("block", count_in_mode("block", UMUTEX_BLOCK));
  grade_result("spin", count_in_mode("spin", UMUTEX_SPIN));
}

// ---- spin: owners on CPU (icount) -----------------------------------------------------------
// Two bound threads (an LWP each) on two harts take turns: in round i the
// owner locks, announces round i, and holds the mutex until the other has
// announced that it is trying too, then a little longer. So every waiter
// finds the mutex held by an owner that is running on the other hart.
#define SPIN_ROUNDS 1000
static volatile int holding = -1, trying = -1, turns_done[2];

// Joins the two threads of a test while count moves; ends the test (with a
// message) once it has not moved for STALL_TICKS: a waiter lost its wake-up.
static void join_while_counting(int a, int b)
{
  volatile int *done[2] = { &turns_done[0], &turns_done[1] };
  int last = -1, since = uptime();
  while (!*done[0] || !*done[1]) {
    if (count != last) {
      last = count;
      since = uptime();
    } else if (uptime() - since > STALL_TICKS) {
      fail_now("no progress: the count stuck (a waiter blocked and was never woken?)",
               count, STALL_TICKS);
      return;
    }
    sleep(1);
  }
  uthread_join(a);
  uthread_join(b);
}

static uint64 perf_t0;               // perf: where the measurement starts
static struct bench_times perf_bt0;
static void perf_begin(void);

static void take_turns(void *arg)
{
  int me = (int)(long)arg;
  on_own_hart(me);
  if (me == 0)
    perf_begin();
  for (int i = 0; i < SPIN_ROUNDS && !aborted; i++) {
    if (i % 2 == me) {
      umutex_lock(&m);
      holding = i;
      while (trying != i && !aborted)
        ;
      busy(50);
      count++;
      umutex_unlock(&m);
    } else {
      while (holding != i && !aborted)
        ;
      trying = i;
      umutex_lock(&m);              // held: the owner runs on the other hart
      count++;
      umutex_unlock(&m);
    }
  }
  turns_done[me] = 1;
}

// The mutex changes hands inside an unlock: the old owner A is held right
// after its release of the lock word (ULT_HOOK_RELEASED) until B, on the
// other hart, has taken the mutex; then A, out of umutex_unlock, wants it
// again while B runs holding it (B waits until A is trying, then holds it a
// little longer, as in the turns above): A must get it by spinning,
// whatever its unlock did after the release.
#define NEWOWNER_ROUNDS 20
static volatile int no_round = -1, no_released = -1, no_taken = -1, no_trying = -1, no_got = -1;
static volatile int no_a = -1, no_spun;   // no_spun: rounds in which A did not block

static void newowner_hook(int event, void *obj, int tid)
{
  int i = no_round;
  if (event != ULT_HOOK_RELEASED || obj != &m || tid != no_a || i < 0 || no_released == i)
    return;
  no_released = i;
  int t0 = uptime();
  while (no_taken != i && uptime() - t0 <= HOOK_TICKS)
    ;
}

static void newowner_a(void *arg)
{
  (void)arg;
  int self = uthread_self();
  on_own_hart(0);
  umutex_lock(&m);
  no_a = self;
  for (int i = 0; i < NEWOWNER_ROUNDS && !aborted; i++) {
    no_round = i;
    umutex_unlock(&m);            // held after the release until B owns m
    int b0 = blocks[self];
    no_trying = i;
    umutex_lock(&m);
    no_spun += blocks[self] == b0;
    count++;
    no_got = i;
  }
  no_round = -1;
  umutex_unlock(&m);
  turns_done[0] = 1;
}

static void newowner_b(void *arg)
{
  (void)arg;
  on_own_hart(1);
  for (int i = 0; i < NEWOWNER_ROUNDS && !aborted; i++) {
    while (no_released < i && !aborted)
      ;
    umutex_lock(&m);
    no_taken = i;
    while (no_trying < i && !aborted)
      ;
    busy(50);
    count++;
    umutex_unlock(&m);
    while (no_got < i && !aborted)
      ;
  }
  turns_done[1] = 1;
}

// 1 if A got the mutex by spinning in at least 4 of 5 rounds. Runs with
// bench slicing on: under -icount one QEMU thread runs the harts in turn,
// and without short slices each hand-shake between them waits for a tick.
static int new_owner_spun(void)
{
  umutex_init(&m);
  count = 0;
  turns_done[0] = turns_done[1] = 0;
  worker_cpu[0] = worker_cpu[1] = -1;
  extra_hook = newowner_hook;
  struct uthread_attr attr = { 0, 0, 1 };
  int a = uthread_create(newowner_a, 0, &attr);
  int b = uthread_create(newowner_b, 0, &attr);
  join_while_counting(a, b);
  extra_hook = 0;
  struct umutex_stats s = stats_of(&m);
  show("new owner", &s);
  printf("adaptest: new owner: the old owner, held in umutex_unlock after its release while the "
         "other took the mutex, then spun on the running new owner in %d of %d rounds\n",
         no_spun, NEWOWNER_ROUNDS);
  return !aborted && count == 2 * NEWOWNER_ROUNDS && no_spun * 5 >= NEWOWNER_ROUNDS * 4 &&
         s.spun * 5 >= NEWOWNER_ROUNDS * 4;
}

// The owner took the mutex with umutex_trylock: B, on the other hart,
// takes it by trylock while A waits for that, then holds it until A is
// trying, a little longer; A must get it by spinning (a trylock owner runs
// as much as a lock owner does).
#define TRYLOCK_ROUNDS 20
static volatile int tl_round = -1, tl_taken = -1, tl_got = -1, tl_spun;

static void trylock_a(void *arg)
{
  (void)arg;
  int self = uthread_self();
  on_own_hart(0);
  for (int i = 0; i < TRYLOCK_ROUNDS && !aborted; i++) {
    tl_round = i;
    while (tl_taken < i && !aborted)
      ;
    int b0 = blocks[self];
    trying = i;
    umutex_lock(&m);
    tl_spun += blocks[self] == b0;
    count++;
    umutex_unlock(&m);
    tl_got = i;
  }
  turns_done[0] = 1;
}

static void trylock_b(void *arg)
{
  (void)arg;
  on_own_hart(1);
  for (int i = 0; i < TRYLOCK_ROUNDS && !aborted; i++) {
    while (tl_round < i && !aborted)
      ;
    while (umutex_trylock(&m) != 0 && !aborted)
      ;
    tl_taken = i;
    while (trying != i && !aborted)
      ;
    busy(50);
    count++;
    umutex_unlock(&m);
    while (tl_got < i && !aborted)
      ;
  }
  turns_done[1] = 1;
}

// 1 if A spun (did not block, and the counters say so) in at least 4 of 5
// rounds behind B's trylock.
static int trylock_owner_spun(void)
{
  umutex_init(&m);
  count = 0;
  trying = -1;
  turns_done[0] = turns_done[1] = 0;
  worker_cpu[0] = worker_cpu[1] = -1;
  struct uthread_attr attr = { 0, 0, 1 };
  int a = uthread_create(trylock_a, 0, &attr);
  int b = uthread_create(trylock_b, 0, &attr);
  join_while_counting(a, b);
  struct umutex_stats s = stats_of(&m);
  show("trylock owner running", &s);
  printf("adaptest: trylock owner: the waiter spun on the running owner, which took the mutex "
         "with umutex_trylock, in %d of %d rounds\n", tl_spun, TRYLOCK_ROUNDS);
  return !aborted && count == 2 * TRYLOCK_ROUNDS && tl_spun * 5 >= TRYLOCK_ROUNDS * 4 &&
         s.spun * 5 >= TRYLOCK_ROUNDS * 4;
}

static void test_spin(void)
{
  umutex_init(&m);                  // the default mode: adaptive
  count = 0;
  slicing(1);
  struct uthread_attr attr = { 0, 0, 1 };
  int a = uthread_create(take_turns, (void *)0L, &attr);
  int b = uthread_create(take_turns, (void *)1L, &attr);
  join_while_counting(a, b);
  struct umutex_stats s = stats_of(&m);
  show("owner running", &s);
  printf("adaptest: workers on harts %d and %d\n", worker_cpu[0], worker_cpu[1]);
  grade_result("exact", count == 2 * SPIN_ROUNDS && s.acquired == 2 * SPIN_ROUNDS);
  // Nearly all of the SPIN_ROUNDS waiters found the mutex held; at least 4
  // in 5 of them must have got it by spinning (a tick may take an owner off
  // its CPU for a moment, and then blocking is right).
  uint64 held = s.spun + s.blocked;
  grade_result("spins", held >= SPIN_ROUNDS / 2 && s.blocked * 5 <= held && s.spin_loops >= s.spun);
  grade_result("newowner", !aborted && new_owner_spun());
  grade_result("trylock", !aborted && trylock_owner_spun());
  slicing(0);
}

// ---- notrunning: the owner is not running ---------------------------------------------------
// 1. asleep in the kernel (its LWP off CPU): the waiter blocks, and its LWP
//    runs another thread meanwhile; also when the owner took the mutex with
//    umutex_trylock.
static struct schedctl *volatile owner_sc;
static volatile int owner_done, waiter_done, others_count, others_at_unlock, waiter_trying;

static void sleeping_owner(void *arg)
{
  if (arg == 0)
    umutex_lock(&m);
  else
    while (umutex_trylock(&m) != 0)
      uthread_yield();
  while (!waiter_trying)
    uthread_yield();
  owner_sc = schedctl();          // our LWP's entry: off CPU while we sleep
  sleep(10);                      // holding the mutex, asleep in the kernel
  others_at_unlock = others_count;
  umutex_unlock(&m);
  owner_done = 1;
}

static void asleep_waiter(void *arg)
{
  (void)arg;
  waiter_trying = 1;
  while (owner_sc == 0)           // the owner may be waiting for this LWP
    uthread_yield();
  while (owner_sc->sc_state != SC_OFFPROC)   // the owner's LWP is asleep now
    ;
  umutex_lock(&m);
  umutex_unlock(&m);
  waiter_done = 1;
}

// Runs on whatever LWP is free: while the owner's LWP sleeps, that is the
// waiter's LWP, once the waiter has blocked.
static void other_work(void *arg)
{
  (void)arg;
  while (!waiter_done && !owner_done) {
    others_count++;
    uthread_yield();
  }
}

// by_trylock: the owner took the mutex with umutex_trylock (check trylock).
static void owner_asleep(int by_trylock)
{
  umutex_init(&m);
  owner_sc = 0;
  owner_done = waiter_done = others_count = others_at_unlock = waiter_trying = 0;
  int o = uthread_create(sleeping_owner, (void *)(long)by_trylock, 0);
  int w = uthread_create(asleep_waiter, 0, 0);
  while (!waiter_trying)
    uthread_yield();
  int x = uthread_create(other_work, 0, 0);
  uthread_join(o);
  uthread_join(w);
  uthread_join(x);
  struct umutex_stats s = stats_of(&m);
  show(by_trylock ? "owner asleep, took it by trylock" : "owner asleep", &s);
  int ok = s.acquired == 2 && s.blocked == 1 && s.spin_loops <= 10;
  if (by_trylock) {
    grade_result("trylock", ok);
    return;
  }
  printf("adaptest: another thread ran %d times while the owner slept\n", others_at_unlock);
  grade_result("asleep", ok);
  grade_result("others", others_at_unlock >= 10 && s.blocked == 1);
}

// 2. asleep in the kernel, having taken the mutex while the old owner A was
//    inside umutex_unlock just after its release of the lock word (A is
//    held there, spin's newowner hook, until the new owner B has it). Then
//    A wants the mutex again while B sleeps: it must block, whatever its
//    unlock did after the release.
static struct schedctl *volatile na_sc;
static volatile int na_done;

static void na_old_owner(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  no_a = uthread_self();
  no_round = 0;
  umutex_unlock(&m);              // held after the release until B owns m
  no_round = -1;
  int t0 = uptime();
  while ((na_sc == 0 || na_sc->sc_state != SC_OFFPROC) && !na_done) {
    if (uptime() - t0 > STALL_TICKS) {
      printf("adaptest: the new owner did not take the mutex and sleep\n");
      break;
    }
  }
  umutex_lock(&m);
  umutex_unlock(&m);
}

static void na_new_owner(void *arg)
{
  (void)arg;
  int t0 = uptime();
  while (no_released < 0 && uptime() - t0 <= STALL_TICKS)
    ;
  umutex_lock(&m);
  na_sc = schedctl();
  no_taken = 0;
  sleep(5);                       // holding the mutex, asleep in the kernel
  umutex_unlock(&m);
  na_done = 1;
}

static void new_owner_asleep(void)
{
  umutex_init(&m);
  no_released = no_taken = no_round = no_a = -1;
  extra_hook = newowner_hook;
  struct uthread_attr attr = { 0, 0, 1 };
  int a = uthread_create(na_old_owner, 0, &attr);
  int b = uthread_create(na_new_owner, 0, &attr);
  uthread_join(a);
  uthread_join(b);
  extra_hook = 0;
  struct umutex_stats s = stats_of(&m);
  show("new owner asleep", &s);
  printf("adaptest: new owner asleep: it took the mutex inside the old owner's unlock %s\n",
         no_taken == 0 ? "(as forced)" : "(not forced: the old owner never released the word?)");
  grade_result("newowner", no_taken == 0 && s.acquired == 3 && s.blocked == 1 &&
               s.spin_loops <= 10);
}

// Until thread tid has blocked or *done is set, for at most STALL_TICKS; 1 if
// it blocked.
static int until_blocked(int tid, volatile int *done, const char *who)
{
  int t0 = uptime();
  while (!is_blocked(tid) && !*done) {
    if (uptime() - t0 > STALL_TICKS) {
      printf("adaptest: %s neither blocked nor finished in %d ticks\n", who, STALL_TICKS);
      return 0;
    }
    uthread_yield();
  }
  return is_blocked(tid);
}

// 3. blocked at user level, on another mutex (gate): the waiter does not spin.
//    A thread that never yields keeps the other LWP, so the waiter runs on
//    the LWP the owner blocked on: an LWP on a CPU, running another thread.
static struct umutex gate;
static volatile int gate_owner_done, gate_waiter_done, gate_wtid = -1;
static volatile int stop_busy, busy_running, busy_timed_out;
static void busy_thread(void *arg);

static void gate_waiter(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  umutex_unlock(&m);
  gate_waiter_done = 1;
}

static void gate_owner(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  gate_wtid = uthread_create(gate_waiter, 0, 0);   // queued: runs here once we block
  umutex_lock(&gate);             // held by the test: blocks here at user level
  umutex_unlock(&gate);
  umutex_unlock(&m);
  gate_owner_done = 1;
}

static void owner_blocked(void)
{
  umutex_init(&m);
  umutex_init(&gate);
  umutex_setmode(&gate, UMUTEX_BLOCK);
  umutex_lock(&gate);
  stop_busy = busy_running = 0;
  int x = uthread_create(busy_thread, 0, 0);   // takes the other LWP
  while (!busy_running)
    ;
  int o = uthread_create(gate_owner, 0, 0);
  int ok = until_blocked(o, &gate_owner_done, "the owner (locking a held mutex)");
  int w = gate_wtid;              // made by the owner, before it blocked
  ok = ok && w >= 0 && until_blocked(w, &gate_waiter_done, "the waiter");
  umutex_unlock(&gate);
  uthread_join(o);
  if (w >= 0)
    uthread_join(w);
  stop_busy = 1;
  uthread_join(x);
  struct umutex_stats s = stats_of(&m);
  show("owner blocked", &s);
  grade_result("blocked", ok && s.acquired == 2 && s.blocked == 1 && s.spin_loops == 0);
}

// 4. waiting for its LWP (it yielded holding the mutex; both LWPs are busy):
//    the waiter does not spin.
static volatile int queued_waiter_done;

static void busy_thread(void *arg)
{
  (void)arg;
  busy_running = 1;
  int t0 = uptime();
  while (!stop_busy && uptime() - t0 < STALL_TICKS)   // never yields: keeps its LWP
    ;
  busy_timed_out = !stop_busy;
}

static void queued_waiter(void *arg)
{
  (void)arg;
  umutex_lock(&m);                // the owner waits on the run queue
  umutex_unlock(&m);
  queued_waiter_done = 1;
}

static void queued_owner(void *arg)
{
  int *w = arg;
  umutex_lock(&m);
  int x = uthread_create(busy_thread, 0, 0);   // takes the other LWP
  while (!busy_running)
    ;
  *w = uthread_create(queued_waiter, 0, 0);    // queued: both LWPs are busy
  int t0 = uptime();
  while (!is_blocked(*w) && !queued_waiter_done && uptime() - t0 < STALL_TICKS)
    uthread_yield();              // the waiter gets our LWP; we wait on the queue
  if (!is_blocked(*w))
    printf("adaptest: the waiter did not block behind a queued owner\n");
  umutex_unlock(&m);
  stop_busy = 1;
  uthread_join(x);
}

static void owner_queued(void)
{
  umutex_init(&m);
  stop_busy = busy_running = 0;
  int w = -1;
  int o = uthread_create(queued_owner, &w, 0);
  uthread_join(o);
  if (w >= 0)
    uthread_join(w);
  struct umutex_stats s = stats_of(&m);
  show("owner queued", &s);
  grade_result("queued", s.acquired == 2 && s.blocked == 1 && s.spin_loops == 0);
}

// 5. SPIN, the owner waiting for its LWP: the spinner runs on that LWP, and
//    must give it back now and then for the owner to unlock (the other LWP
//    stays busy until it gives up after STALL_TICKS).
static void spin_queued_owner(void *arg)
{
  int *w = arg;
  umutex_lock(&m);
  int x = uthread_create(busy_thread, 0, 0);   // takes the other LWP
  while (!busy_running)
    ;
  *w = uthread_create(queued_waiter, 0, 0);   // queued: both LWPs are busy
  int f0 = fails[*w];             // (a thread id is reused: counts go on)
  while (fails[*w] == f0 && !busy_timed_out)
    uthread_yield();              // the waiter gets our LWP and spins; we wait on the queue
  umutex_unlock(&m);
  stop_busy = 1;
  uthread_join(x);
}

static void owner_queued_spin(void)
{
  umutex_init(&m);
  umutex_setmode(&m, UMUTEX_SPIN);
  stop_busy = busy_running = busy_timed_out = 0;
  int w = -1;
  int o = uthread_create(spin_queued_owner, &w, 0);
  uthread_join(o);
  if (w >= 0)
    uthread_join(w);
  struct umutex_stats s = stats_of(&m);
  show("owner queued, SPIN", &s);
  if (busy_timed_out)
    printf("adaptest: the owner got no LWP until the busy thread gave up (%d ticks): the "
           "spinner never yielded\n", STALL_TICKS);
  grade_result("spinyield", !busy_timed_out && s.acquired == 2 && s.spun == 1 && s.blocked == 0);
}

static void test_notrunning(void)
{
  doing = "owner asleep";
  owner_asleep(0);
  doing = "owner asleep, taken by trylock";
  owner_asleep(1);
  doing = "new owner asleep";
  new_owner_asleep();
  doing = "owner blocked";
  owner_blocked();
  doing = "owner queued";
  owner_queued();
  doing = "owner queued, SPIN";
  owner_queued_spin();
}

// ---- bounded: the owner runs a long section (icount) -----------------------------------------
// Two bound threads on two harts: the owner holds the mutex, running, until
// the waiter blocks (or LONG_HOLD); the waiter must spin first (the owner
// runs), then block within SPIN_BOUND of its own instructions (rdinstret).
#define SPIN_BOUND 2000000
#define LONG_HOLD  (5 * 100000)        // time units: 5 ticks
static volatile int long_tid = -1, long_held, long_done;
static volatile uint64 long_insns0, long_insns_blocked;

static void long_hook(int event, void *obj, int tid)
{
  (void)obj;
  if (event == ULT_HOOK_BLOCK && tid == long_tid && long_insns_blocked == 0)
    long_insns_blocked = rdinstret();
}

static void long_owner(void *arg)
{
  on_own_hart(0);
  umutex_lock(&m);
  long_held = 1;
  uint64 t0 = rdtime();
  while (long_insns_blocked == 0 && !long_done && rdtime() - t0 < LONG_HOLD)
    ;
  umutex_unlock(&m);
}

static void long_waiter(void *arg)
{
  on_own_hart(1);
  long_tid = uthread_self();
  while (!long_held)
    ;
  long_insns0 = rdinstret();
  umutex_lock(&m);
  long_done = 1;
  umutex_unlock(&m);
}

static void test_bounded(void)
{
  umutex_init(&m);
  extra_hook = long_hook;
  slicing(1);
  struct uthread_attr attr = { 0, 0, 1 };
  int o = uthread_create(long_owner, 0, &attr);
  int w = uthread_create(long_waiter, 0, &attr);
  uthread_join(o);
  uthread_join(w);
  slicing(0);
  extra_hook = 0;
  struct umutex_stats s = stats_of(&m);
  show("owner running long", &s);
  uint64 spun = long_insns_blocked ? long_insns_blocked - long_insns0 : 0;
  if (long_insns_blocked)
    printf("adaptest: the waiter blocked after %lu instructions (bound %d)\n", spun, SPIN_BOUND);
  else
    printf("adaptest: the waiter had not blocked after %d time units of the owner's section\n",
           LONG_HOLD);
  grade_result("spins", s.spin_loops > 0);
  grade_result("bounded", long_insns_blocked != 0 && spun <= SPIN_BOUND && s.blocked == 1);
}

// ---- wakeups: the windows of a lost wake-up, and no hand-off ---------------------------------
// 1. The owner, asleep in the kernel holding m, is woken at the waiter's
//    k-th failed look at the lock word and unlocks while the waiter is held
//    there, for k = 1, 2, ... until the waiter blocks before its k-th look.
//    After the unlock the waiter must take m: blocked with nobody left to
//    wake it, it lost the wake-up.
static volatile int look_k, look_go, look_held, look_unlocked, look_released, look_done, look_wtid;
static volatile int look_early;   // the waiter returned before the owner released m
static volatile int look_base;    // the waiter's failed looks before this trial
static struct schedctl *volatile look_sc;

static void look_hook(int event, void *obj, int tid)
{
  if (event == ULT_HOOK_RELEASE && obj == &m)
    look_released = 1;
  if (event != ULT_HOOK_TAKE_FAILED || obj != &m || tid != look_wtid ||
      fails[tid] - look_base != look_k)
    return;
  look_go = 1;                    // the owner unlocks now; we wait for its release
  futex_wake((int *)&look_go, 1);
  int t0 = uptime();              // (an unlock that first needs a lock we hold cannot)
  while (!look_released && uptime() - t0 < HOOK_TICKS)
    ;
}

static void look_owner(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  look_sc = schedctl();
  look_held = 1;
  while (!look_go)
    futex_wait((int *)&look_go, 0, 0);        // off CPU, holding m
  umutex_unlock(&m);
  look_unlocked = 1;
}

static void look_waiter(void *arg)
{
  (void)arg;
  int self = uthread_self();
  look_base = fails[self];
  look_wtid = self;
  umutex_lock(&m);
  look_early = !look_released;
  umutex_unlock(&m);
  look_done = 1;
}

// One trial; 1 if the waiter took m, 0 if it lost the wake-up; sets *fired
// if the unlock came at the k-th look.
static int look_trial(int mode, int k, int *fired)
{
  umutex_init(&m);
  umutex_setmode(&m, mode);
  look_k = k;
  look_go = look_held = look_unlocked = look_released = look_done = look_early = 0;
  look_wtid = -1;
  look_sc = 0;
  struct uthread_attr attr = { 0, 0, 1 };
  int o = uthread_create(look_owner, 0, &attr);
  int t0 = uptime();
  while (!look_held || look_sc->sc_state != SC_OFFPROC) {  // asleep, holding m
    if (uptime() - t0 > STALL_TICKS) {
      printf("adaptest: the owner did not take the mutex and sleep\n");
      return 0;
    }
    uthread_yield();
  }
  int w = uthread_create(look_waiter, 0, &attr);
  t0 = uptime();
  int verdict = -1;
  while (verdict < 0) {
    if (look_done)
      verdict = !look_early;
    else if (look_unlocked && is_blocked(w))
      verdict = 0;                // blocked after the unlock, or never woken by it
    else if (!look_go && is_blocked(w)) {
      look_go = 1;                // blocked before its k-th look: unlock now
      futex_wake((int *)&look_go, 1);
    } else if (uptime() - t0 > STALL_TICKS) {
      printf("adaptest: look window %d: no progress in %d ticks (unlocked %d)\n",
             k, STALL_TICKS, look_unlocked);
      verdict = 0;
    } else {
      sleep(1);
    }
  }
  *fired = look_wtid == w && fails[w] - look_base >= k && look_unlocked;
  if (look_early)
    printf("adaptest: mode %d: umutex_lock returned while the owner held the mutex\n", mode);
  else if (verdict == 0)
    printf("adaptest: mode %d: the owner unlocked at the waiter's failed look %d; the waiter "
           "stayed blocked (lost wake-up)\n", mode, k);
  if (verdict == 0)
    return 0;
  uthread_join(o);
  uthread_join(w);
  return 1;
}

static int look_windows(int mode)
{
  extra_hook = look_hook;
  int k = 1, fired = 1, ok = 1;
  for (; ok && fired && k <= 8; k++)
    ok = look_trial(mode, k, &fired);
  extra_hook = 0;
  if (ok && fired)
    printf("adaptest: mode %d: the waiter looked at the lock word more than 8 times before "
           "blocking behind a sleeping owner\n", mode);
  else if (ok)
    printf("adaptest: mode %d: the owner unlocked at failed looks 1..%d: the waiter took the "
           "mutex each time\n", mode, k - 2);
  return ok && !fired;
}

// 2. The waiter announces itself and blocks while the owner is inside
//    umutex_unlock, just before its release of the lock word.
static volatile int rel_armed, rel_wtid = -1, rel_done, rel_unlocked, rel_blocked;

static void rel_hook(int event, void *obj, int tid)
{
  (void)tid;
  if (event != ULT_HOOK_RELEASE || obj != &m || !rel_armed)
    return;
  rel_armed = 0;
  int t0 = uptime();
  rel_wtid = -2;                  // the waiter may go
  while (rel_wtid < 0 || (!is_blocked(rel_wtid) && !rel_done)) {
    if (uptime() - t0 > HOOK_TICKS)
      break;
  }
  rel_blocked = rel_wtid >= 0 && is_blocked(rel_wtid);
}

static void rel_waiter(void *arg)
{
  (void)arg;
  while (rel_wtid != -2)
    ;
  rel_wtid = uthread_self();
  umutex_lock(&m);
  umutex_unlock(&m);
  rel_done = 1;
}

static void rel_owner(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  rel_armed = 1;
  umutex_unlock(&m);
  rel_unlocked = 1;
}

static int release_window(void)
{
  umutex_init(&m);
  umutex_setmode(&m, UMUTEX_BLOCK);
  extra_hook = rel_hook;
  struct uthread_attr attr = { 0, 0, 1 };
  int w = uthread_create(rel_waiter, 0, &attr);
  int o = uthread_create(rel_owner, 0, &attr);
  int t0 = uptime(), ok = -1;
  while (ok < 0) {
    if (rel_done)
      ok = 1;
    else if (rel_unlocked && (rel_wtid == -1 || (rel_wtid >= 0 && is_blocked(rel_wtid))))
      ok = 0;
    else if (uptime() - t0 > STALL_TICKS)
      ok = 0;
    else
      sleep(1);
  }
  extra_hook = 0;
  if (rel_wtid == -1)
    printf("adaptest: umutex_unlock never released the lock word (ult_lock_release)\n");
  else if (!rel_blocked)
    printf("adaptest: the BLOCK waiter did not block while the owner was in umutex_unlock\n");
  else
    printf("adaptest: the waiter blocked while the owner was in umutex_unlock: %s\n",
           ok ? "woken" : "never woken (lost wake-up)");
  if (ok) {
    uthread_join(o);
    uthread_join(w);
  }
  return ok && rel_blocked;
}

// 3. No hand-off: a waiter W blocks; a thread X keeps the other LWP; the
//    owner unlocks (W becomes runnable, but has no LWP to run on) and
//    at once tries the mutex again: it must be free.
static volatile int ho_x_running, ho_stop, ho_wdone, ho_result = -1;

static void ho_waiter(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  umutex_unlock(&m);
  ho_wdone = 1;
}

static void ho_busy(void *arg)
{
  (void)arg;
  ho_x_running = 1;
  int t0 = uptime();
  while (!ho_stop && uptime() - t0 < STALL_TICKS)
    ;
}

static void ho_owner(void *arg)
{
  (void)arg;
  umutex_lock(&m);
  struct uthread_attr low = { 0, 0, 0 };
  int w = uthread_create(ho_waiter, 0, &low);
  int t0 = uptime();
  while (!is_blocked(w) && !ho_wdone && uptime() - t0 < STALL_TICKS)
    ;
  struct uthread_attr high = { 0, 5, 0 };
  int x = uthread_create(ho_busy, 0, &high);
  while (!ho_x_running)
    ;
  int blocked = is_blocked(w);
  umutex_unlock(&m);               // w is runnable now, but both LWPs are taken
  ho_result = !blocked ? -3 : is_blocked(w) || ho_wdone ? -2 : umutex_trylock(&m) == 0;
  if (ho_result == 1)
    umutex_unlock(&m);
  ho_stop = 1;
  uthread_join(x);
  uthread_join(w);
}

static int no_handoff(void)
{
  umutex_init(&m);
  umutex_setmode(&m, UMUTEX_BLOCK);
  struct uthread_attr high = { 0, 5, 0 };
  int o = uthread_create(ho_owner, 0, &high);
  uthread_join(o);
  if (ho_result == -3)
    printf("adaptest: the BLOCK waiter did not block\n");
  else if (ho_result == -2)
    printf("adaptest: the waiter %s\n", ho_wdone ? "took the mutex while the owner held it" :
           "was not woken by the unlock");
  else
    printf("adaptest: right after unlocking, with the woken waiter not yet running, the "
           "owner's trylock %s\n", ho_result == 1 ? "took the mutex" : "failed (handed off)");
  return ho_result == 1;
}

// Each part runs in a child process of its own (with the library started
// there), so threads a failed part leaves behind cannot disturb the next.
static int in_child(int (*part)(void))
{
  int pid = fork();
  if (pid == 0) {
    if (uthread_init(2) != 0)
      exit(1);
    ult_test_hook = hook;
    exit(part() ? 0 : 1);
  }
  int status = 1;
  if (pid < 0 || wait(&status) != pid)
    return 0;
  return status == 0;
}

static int look_adaptive(void) { return look_windows(UMUTEX_ADAPTIVE); }
static int look_block(void)    { return look_windows(UMUTEX_BLOCK); }

// 4. Two waiters blocked at once, then one unlock: each must get the mutex,
//    however the wake-ups go.
static volatile int two_done[2];

static void two_waiter(void *arg)
{
  umutex_lock(&m);
  umutex_unlock(&m);
  two_done[(long)arg] = 1;
}

static int two_waiters(void)
{
  umutex_init(&m);
  umutex_setmode(&m, UMUTEX_BLOCK);
  umutex_lock(&m);
  int a = uthread_create(two_waiter, (void *)0L, 0), b = uthread_create(two_waiter, (void *)1L, 0);
  int t0 = uptime();
  while (!(is_blocked(a) && is_blocked(b)) && uptime() - t0 <= STALL_TICKS)
    uthread_yield();
  int both = is_blocked(a) && is_blocked(b);
  umutex_unlock(&m);
  for (t0 = uptime(); !(two_done[0] && two_done[1]) && uptime() - t0 <= STALL_TICKS; )
    uthread_yield();
  if (!both)
    printf("adaptest: the two BLOCK waiters did not both block\n");
  else if (!(two_done[0] && two_done[1]))
    printf("adaptest: one unlock with two waiters blocked: waiter %d still blocked after %d "
           "ticks (the other took the mutex and let it go)\n", two_done[0] ? b : a, STALL_TICKS);
  return both && two_done[0] && two_done[1];
}

static void test_wakeups(void)
{
  int a = in_child(look_adaptive);
  int b = in_child(look_block);
  grade_result("look", a && b);
  grade_result("release", in_child(release_window));
  grade_result("handoff", in_child(no_handoff));
  grade_result("wakeall", in_child(two_waiters));
}

// ---- kernel: adaptive sleep locks ------------------------------------------------------
static void test_kernel(void)
{
  slicing(1);
  int r = kdebug(KD_SLEEPLOCK_TEST, 0);
  slicing(0);
  printf("adaptest: kernel sleep-lock test returned %d\n", r);
  // Bits (kernel/proc/ktest_sleeplock.c): 1 a count lost, 2 waiters behind a
  // running holder did not spin, 4 a waiter behind a sleeping holder spun or
  // did not sleep, 8 a waiter behind a long-running holder spun too long,
  // 16 a waiter kept spinning after its holder went to sleep; 64 and 128:
  // the test could not run.
  int ran = r >= 0 && r < 64;
  grade_result("kcount", ran && !(r & 1));
  grade_result("kspin", ran && !(r & 2));
  grade_result("ksleep", ran && !(r & 4));
  grade_result("kbound", ran && !(r & 8));
  grade_result("kstale", ran && !(r & 16));
}

// ---- perf: guest instructions per acquisition (icount) ----------------------------------
// As lockbench (tests/progs/lockbench.c, docs/adaptive.md): each workload runs
// in a child process with bench slicing on, and the figures are busy time
// (elapsed time minus the time every hart sat idle) in instructions. oncpu
// is test spin's turns, per acquisition; sleeper is below.
#define SLEEPER_ROUNDS 10
#define BALANCE_PERIOD 5
static volatile int sleeper_round = -1, waiter_round = -1;
static uint64 waits_cost, waits;  // sleeper: the waiter's umutex_lock calls

static struct bench_times bench_times(void)
{
  struct bench_times bt = { 0, 0 };
  kdebug(KD_BENCH_TIMES, (long)&bt);
  return bt;
}

static void perf_begin(void)
{
  perf_bt0 = bench_times();
  perf_t0 = rdtime();
}

static uint64 perf_busy(void)
{
  uint64 elapsed = rdtime() - perf_t0;
  return (elapsed - (bench_times().all_idle - perf_bt0.all_idle)) * 100;
}

// The owner sleeps holding the mutex; the waiter, on the other hart, wants
// it a tick later, when the owner is surely asleep. The figure is what the
// waiter's umutex_lock costs, from the call to its return (the owner's wake
// from its sleep and its unlock included): the rest of the rounds (ticks,
// balancing, the futexes the two wait on for each other) is the same in
// every mode but does not always fall the same way.
static void sleeper_thread(void *arg)
{
  on_own_hart((int)(long)arg);
  for (int i = 0; i < SLEEPER_ROUNDS; i++) {
    umutex_lock(&m);
    sleeper_round = i;
    futex_wake((int *)&sleeper_round, 1);
    sleep(3);
    umutex_unlock(&m);
    while (waiter_round < i)
      futex_wait((int *)&waiter_round, i - 1, 0);
  }
}

static void sleeper_waiter(void *arg)
{
  on_own_hart((int)(long)arg);
  for (int i = 0; i < SLEEPER_ROUNDS; i++) {
    while (sleeper_round < i)
      futex_wait((int *)&sleeper_round, i - 1, 0);
    sleep(1);                     // the owner sleeps until 2 ticks later at least
    struct bench_times bt = bench_times();
    uint64 t0 = rdtime();
    umutex_lock(&m);
    waits_cost += (rdtime() - t0 - (bench_times().all_idle - bt.all_idle)) * 100;
    waits++;
    umutex_unlock(&m);
    waiter_round = i;
    futex_wake((int *)&waiter_round, 1);
  }
}

// One workload in one mode, in a child: its counters and instructions per
// acquisition (0 if it could not run), printed by the parent at the end
// (console output would fall into the next measurement).
struct perf_result {
  uint64 per_acq;
  struct umutex_stats s;
};

static struct perf_result perf_run(void (*a)(void *), void (*b)(void *), int mode)
{
  struct perf_result r = { 0, { 0, 0, 0, 0 } };
  int out[2];
  if (pipe(out) < 0)
    return r;
  int pid = fork();
  if (pid == 0) {
    close(out[0]);
    if (uthread_init(2) == 0) {
      umutex_init(&m);
      umutex_setmode(&m, mode);
      sleep(BALANCE_PERIOD - uptime() % BALANCE_PERIOD);   // the same start every run
      struct uthread_attr attr = { 0, 0, 1 };
      int x = uthread_create(a, (void *)0L, &attr);
      int y = uthread_create(b, (void *)1L, &attr);
      uthread_join(x);
      uthread_join(y);
      r.s = stats_of(&m);
      uint64 busy = waits ? waits_cost : perf_busy(), n = waits ? waits : r.s.acquired;
      r.per_acq = n ? busy / n : 0;
    }
    write(out[1], &r, sizeof r);
    exit(0);
  }
  close(out[1]);
  if (pid < 0 || read(out[0], &r, sizeof r) != sizeof r)
    r.per_acq = 0;
  close(out[0]);
  if (pid > 0)
    wait(0);
  return r;
}

static void test_perf(void)
{
  slicing(1);
  struct perf_result on_spin = perf_run(take_turns, take_turns, UMUTEX_SPIN);
  struct perf_result on_adapt = perf_run(take_turns, take_turns, UMUTEX_ADAPTIVE);
  struct perf_result sl_block = perf_run(sleeper_thread, sleeper_waiter, UMUTEX_BLOCK);
  struct perf_result sl_adapt = perf_run(sleeper_thread, sleeper_waiter, UMUTEX_ADAPTIVE);
  slicing(0);
  show("oncpu spin", &on_spin.s);
  show("oncpu adaptive", &on_adapt.s);
  show("sleeper block", &sl_block.s);
  show("sleeper adaptive", &sl_adapt.s);
  printf("adaptest: oncpu: ADAPTIVE %lu, SPIN %lu instructions per acquisition "
         "(bound: SPIN + 10%%)\n", on_adapt.per_acq, on_spin.per_acq);
  printf("adaptest: sleeper: ADAPTIVE %lu, BLOCK %lu instructions per contended umutex_lock "
         "(bound: BLOCK + 20%%)\n", sl_adapt.per_acq, sl_block.per_acq);
  // The figures count only if each run made its acquisitions, and the
  // sleeper's waiters blocked (behind a sleeping owner, as they must).
  int oncpu_ran = on_spin.s.acquired == 2 * SPIN_ROUNDS && on_adapt.s.acquired == 2 * SPIN_ROUNDS;
  int sleeper_ran = sl_block.s.acquired == 2 * SLEEPER_ROUNDS && sl_block.s.blocked == SLEEPER_ROUNDS &&
                    sl_adapt.s.acquired == 2 * SLEEPER_ROUNDS && sl_adapt.s.blocked == SLEEPER_ROUNDS;
  grade_result("oncpu", oncpu_ran && on_adapt.per_acq * 10 <= on_spin.per_acq * 11);
  grade_result("sleeper", sleeper_ran && sl_adapt.per_acq * 10 <= sl_block.per_acq * 12);
}

int main(int argc, char *argv[])
{
  grade_init(&argc, &argv);
  if (argc < 2) {
    printf("usage: adaptest [--token T] counts|spin|notrunning|bounded|wakeups|kernel|perf\n");
    exit(1);
  }
  char *t = argv[1];
  if (strcmp(t, "perf") == 0 || strcmp(t, "wakeups") == 0) {   // their children start the library
    if (t[0] == 'p')
      test_perf();
    else
      test_wakeups();
    grade_end();
    exit(0);
  }
  if (uthread_init(2) != 0) {
    printf("adaptest: uthread_init failed\n");
    exit(1);
  }
  ult_test_hook = hook;
  if (strcmp(t, "counts") == 0 || strcmp(t, "notrunning") == 0)
    lwp_create(watchdog, 0, watch_stack + sizeof(watch_stack));
  if (strcmp(t, "counts") == 0)
    test_counts();
  else if (strcmp(t, "spin") == 0)
    test_spin();
  else if (strcmp(t, "notrunning") == 0)
    test_notrunning();
  else if (strcmp(t, "bounded") == 0)
    test_bounded();
  else if (strcmp(t, "kernel") == 0)
    test_kernel();
  else
    printf("adaptest: no test %s\n", t);
  grade_end();
  exit(0);
}
