// Graded tests of lab concurrency: set_concurrency / get_concurrency and the
// library's side of the level (user/lib/uthread_level.c). Run as
// `conctest --token T NAME`, one test per run, on 3 harts:
//   default  level 1; set_concurrency(n > 1) before uthread_init is refused
//   level3   uthread_init(3): 3 LWPs that stay while idle, ULTs on two harts at
//            once; each LWP added once the ones before are asleep
//            (KD_LWP_ALLOC_DELAY);
//            growing to 5 while each new LWP dawdles on the boot stack
//            (KD_SCHEDCTL_DELAY)
//   again    set_concurrency(0) gives ncpu; a second call, or raising right
//            after lowering, does not over-grow
//   bounds   refusals leave the level and the LWPs as they were; 64 works; an
//            LWP with no record left ends and later LWPs still start
//   shrink   lowering under load loses no thread; lowering while idle takes
//            effect, and never below the level
//   churn    60 level changes while 16 threads count under a lock
//   kill     killing a process while its level grows leaks no KLT
//   perf     critical path of parallel work at level 3 (-icount)
// Each check prints what it saw on a `conctest:` line before its GRADE line.
#include "user/user.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "grade/testlib/grade.h"

#define MAXT 16
#define IDLE_TICKS 25      // a lowered level takes effect this soon once the LWPs are idle

static struct procinfo pinfo[64];

// LWPs of process pid as procinfo counts them (at most 8), or -1.
static int nlwp_of(int pid)
{
  int n = procinfo(pinfo, 64);
  for (int i = 0; i < n; i++)
    if (pinfo[i].pid == pid)
      return pinfo[i].nlwp;
  return -1;
}

static int my_nlwp(void)
{
  return nlwp_of(getpid());
}

// Is LWP id one of this process's (procinfo lists 8)?
static int has_lwp(int id)
{
  int n = procinfo(pinfo, 64), pid = getpid();
  for (int i = 0; i < n; i++)
    for (int j = 0; pinfo[i].pid == pid && j < pinfo[i].nlwp; j++)
      if (pinfo[i].lwps[j].lwpid == id)
        return 1;
  return 0;
}

// Is LWP id of this process asleep in the kernel (parked, sleeping, in a test
// delay)? Only 8 LWPs are listed: enough for the checks that ask.
static int lwp_asleep(int id)
{
  int n = procinfo(pinfo, 64), pid = getpid();
  for (int i = 0; i < n; i++)
    for (int j = 0; pinfo[i].pid == pid && j < pinfo[i].nlwp; j++)
      if (pinfo[i].lwps[j].lwpid == id)
        return strcmp(pinfo[i].lwps[j].state_name, "sleep") == 0;
  return 0;
}

// How many of this process's LWPs but the caller's are not asleep.
static int others_awake(void)
{
  int n = procinfo(pinfo, 64), pid = getpid(), self = lwp_self(), awake = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; pinfo[i].pid == pid && j < pinfo[i].nlwp; j++)
      awake += pinfo[i].lwps[j].lwpid != self && strcmp(pinfo[i].lwps[j].state_name, "sleep") != 0;
  return awake;
}

static int lwps_made(void)
{
  return kdebug(KD_LWP_ALLOCS, 0);
}

// Polls until this process has `want` LWPs or `ticks` pass; the count seen last.
static int wait_nlwp(int want, int ticks)
{
  int n = my_nlwp();
  for (int t0 = uptime(); n != want && uptime() - t0 < ticks; n = my_nlwp())
    sleep(1);
  return n;
}

static int live_klts(void)
{
  return kdebug(KD_LIVE_THREADS, 0);
}

// Harts the kernel started (ncpu): a hart may fail to start on a loaded host.
static int harts_up(void)
{
  static struct cpuinfo cpus[8];
  return kdebug(KD_CPU_STATS, (long)cpus);
}

static void busy(int n)
{
  for (volatile int i = 0; i < n; i++)
    ;
}

// ---- CPU-bound threads that watch for each other and note their LWPs ------------
static volatile int oncpu[MAXT];        // hart of a thread inside its busy section, or -1
static volatile int max_inside, par_seen, stop_spinning;
static volatile int inside, spun;
static volatile char lwp_seen[256];      // [lwpid % 256]: a spinner ran on that LWP

static void spinner(void *arg)
{
  int me = (int)(long)arg;
  for (int r = 0; r < 100000 && !stop_spinning; r++) {
    int n = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
    int m = max_inside;
    while (n > m && !__atomic_compare_exchange_n(&max_inside, &m, n, 0,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      ;
    for (int k = 0; k < 20; k++) {
      int cpu = getcpu();
      oncpu[me] = cpu;
      for (int j = 0; j < MAXT; j++)
        if (j != me && oncpu[j] >= 0 && oncpu[j] != cpu)
          par_seen = 1;
      busy(2000);
    }
    lwp_seen[lwp_self() % 256] = 1;
    oncpu[me] = -1;
    __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&spun, 1, __ATOMIC_SEQ_CST);
    uthread_yield();
  }
}

static void spinners_reset(void)
{
  for (int j = 0; j < MAXT; j++)
    oncpu[j] = -1;
  for (int j = 0; j < 256; j++)
    lwp_seen[j] = 0;
  inside = max_inside = par_seen = stop_spinning = spun = 0;
}

static int lwps_seen(void)
{
  int n = 0;
  for (int j = 0; j < 256; j++)
    n += lwp_seen[j];
  return n;
}

static int start(void (*fn)(void *), void *arg, int *tids, int n)
{
  for (int i = 0; i < n; i++) {
    tids[i] = uthread_create(fn, arg, 0);
    if (tids[i] < 0)
      return 0;
  }
  return 1;
}

static int join_all(int *tids, int n)
{
  int ok = 1;
  for (int i = 0; i < n; i++)
    if (uthread_join(tids[i]) != 0)
      ok = 0;
  return ok;
}

static int spinners_start(int *tids, int n)
{
  int ok = 1;
  spinners_reset();
  for (int i = 0; i < n; i++)
    ok = ok && (tids[i] = uthread_create(spinner, (void *)(long)i, 0)) >= 0;
  return ok;
}

static int spinners_stop(int *tids, int n)
{
  stop_spinning = 1;
  return join_all(tids, n);
}

// Waits (at most `ticks`) until spinners have run on `want` LWPs; how many.
static int wait_lwps_seen(int want, int ticks)
{
  int n = lwps_seen();
  for (int t0 = uptime(); n < want && uptime() - t0 < ticks; n = lwps_seen())
    uthread_yield();              // a sleep would hold its LWP in the kernel
  return n;
}

// ---- threads that count under a lock ------------------------------------------------
// A lock of the test's own that yields while it is held: umutex is lab
// adaptive's, and in this lab's tree it is that lab's stub.
static int count_lock;
static volatile int count;
static int shrink_at = -1;         // the counter that brings count there lowers the level to 1
static volatile int shrink_result;

static void count_acquire(void)
{
  while (__atomic_exchange_n(&count_lock, 1, __ATOMIC_ACQUIRE))
    uthread_yield();
}

static void count_release(void)
{
  __atomic_store_n(&count_lock, 0, __ATOMIC_RELEASE);
}

static void counter(void *arg)
{
  int adds = (int)(long)arg;
  for (int i = 0; i < adds; i++) {
    count_acquire();
    int c = count;
    if (i % 8 == 0)
      uthread_yield();
    count = c + 1;
    if (count == shrink_at)
      shrink_result = set_concurrency(1) == 0 && get_concurrency() == 1;
    count_release();
    busy(300);
  }
}

// ---- a bound thread that calls set_concurrency when told -----------------------------
// It has an LWP of its own that does not serve, and it never sleeps between
// being told and its call: a caller that waits for the process's other LWPs to
// be asleep (KD_LWP_ALLOC_DELAY) waits until this one is inside its own call.
struct caller {
  int n, tid;
  volatile int ready, go, done, lwpid, result;
};

static void caller_thread(void *arg)
{
  struct caller *c = arg;
  c->lwpid = lwp_self();
  c->ready = 1;
  while (!c->go)
    ;
  c->result = set_concurrency(c->n);
  c->done = 1;
}

// Starts c's thread and waits until it spins; 0, or -1 (then nothing runs).
static int caller_start(struct caller *c, int n)
{
  struct uthread_attr bound = { 0, 0, 1 };
  c->n = n;
  c->ready = c->go = c->done = 0;
  c->result = -2;
  c->tid = uthread_create(caller_thread, c, &bound);
  for (int t0 = uptime(); c->tid >= 0 && !c->ready && uptime() - t0 < 50;)
    sleep(1);
  if (c->tid >= 0 && !c->ready) {
    c->go = 1;
    uthread_join(c->tid);
  }
  return c->ready ? 0 : -1;
}

// Waits (at most `ticks`) for c's call to return, then joins it; its result.
static int caller_finish(struct caller *c, int ticks)
{
  c->go = 1;
  for (int t0 = uptime(); !c->done && uptime() - t0 < ticks;)
    sleep(1);
  if (!c->done)
    return -2;                    // still inside: the process ends with it
  uthread_join(c->tid);
  return c->result;
}

// ---- the tests -----------------------------------------------------------------------
static void test_default(void)
{
  // Level 1 needs no new LWP, registered or not: the caller is the one.
  int r2 = set_concurrency(2), r0 = set_concurrency(0), r1 = set_concurrency(1);
  int level = get_concurrency(), nlwp = my_nlwp();
  printf("conctest: before uthread_init: set_concurrency(2) %d, (0) %d, (1) %d; level %d, %d LWPs\n",
         r2, r0, r1, level, nlwp);
  grade_result("unregistered", r2 == -1 && r0 == -1 && r1 == 0 && level == 1 && nlwp == 1);
  int ok = uthread_init(1) == 0;
  level = get_concurrency();
  printf("conctest: after uthread_init(1): level %d, %d LWPs\n", level, my_nlwp());
  grade_result("level1", ok && level == 1 && my_nlwp() == 1);
  int tids[4];
  ok = spinners_start(tids, 4);
  int t0 = uptime();
  while (spun < 200 && uptime() - t0 < 300)
    uthread_yield();
  ok = spinners_stop(tids, 4) && ok && spun >= 200;
  printf("conctest: %d rounds, at most %d threads at once, parallel %s\n", spun, max_inside,
         par_seen ? "yes" : "no");
  grade_result("serial", ok && max_inside == 1 && !par_seen);
}

static void test_level3(void)
{
  // The first LWP added finds no work and looks at the level while the
  // second is not made yet.
  int first = lwp_self() + 1, made = lwps_made();
  kdebug(KD_LWP_ALLOC_DELAY, 2);
  int r = uthread_init(3), ok = r == 0;
  kdebug(KD_LWP_ALLOC_DELAY, 0);
  made = lwps_made() - made;
  int level = get_concurrency(), nlwp = my_nlwp(), stayed = has_lwp(first);
  printf("conctest: uthread_init(3) %d, each LWP added once the others slept: %d LWPs made, level %d, "
         "%d LWPs, the first added %s\n", r, made, level, nlwp, stayed ? "still there" : "gone");
  grade_result("level", ok && level == 3 && stayed);
  if (!ok) {
    printf("conctest: no level 3 to test: steady, parallel and bootstack not run\n");
    grade_result("steady", 0);
    grade_result("parallel", 0);
    grade_result("bootstack", 0);
    return;
  }
  nlwp = wait_nlwp(2, IDLE_TICKS);  // returns early only if an LWP left
  printf("conctest: after %d ticks idle at level 3: %d LWPs\n", IDLE_TICKS, nlwp);
  grade_result("steady", nlwp == 3);
  int tids[6];
  ok = spinners_start(tids, 6);
  int t0 = uptime();
  while (ok && level == 3 && (!par_seen || lwps_seen() < 3) && uptime() - t0 < 100)
    uthread_yield();
  int par = par_seen, on = lwps_seen();
  printf("conctest: %d rounds in %d ticks on %d LWPs, at most %d threads at once, parallel %s\n",
         spun, uptime() - t0, on, max_inside, par ? "yes" : "no");
  grade_result("parallel", ok && par && on >= 3);
  // Each new LWP now stays 10 ticks inside the library's boot code, and the
  // harts are free: the second one gets there while the first is inside.
  ok = spinners_stop(tids, 6) && ok;
  kdebug(KD_SCHEDCTL_DELAY, 10);
  r = set_concurrency(5);
  ok = spinners_start(tids, 6) && ok;
  int seen = r == 0 ? wait_lwps_seen(5, 60) : lwps_seen();
  kdebug(KD_SCHEDCTL_DELAY, 0);
  ok = spinners_stop(tids, 6) && ok;
  printf("conctest: set_concurrency(5) %d with a slow boot: spinners ran on %d LWPs\n", r, seen);
  grade_result("bootstack", ok && r == 0 && seen >= 5);
}

static void test_again(void)
{
  int tids[6];
  int ok = uthread_init(2) == 0 && spinners_start(tids, 6);   // no LWP runs out of work
  int ncpu = harts_up();
  int r = set_concurrency(0), level = get_concurrency(), nlwp = my_nlwp();
  printf("conctest: level 2, then set_concurrency(0) %d on %d harts: level %d, %d LWPs\n", r,
         ncpu, level, nlwp);
  grade_result("zero", ok && r == 0 && level == ncpu && nlwp == (ncpu > 2 ? ncpu : 2));
  r = set_concurrency(3);
  nlwp = my_nlwp();
  printf("conctest: set_concurrency(3) again: %d, %d LWPs\n", r, nlwp);
  grade_result("twice", ok && r == 0 && nlwp == 3);
  int r2 = set_concurrency(2);
  r = set_concurrency(3);
  nlwp = my_nlwp();
  printf("conctest: 3 -> 2 -> 3 while busy: %d %d, level %d, %d LWPs\n", r2, r,
         get_concurrency(), nlwp);
  grade_result("relower", ok && r2 == 0 && r == 0 && get_concurrency() == 3 && nlwp == 3);
  spinners_stop(tids, 6);
  // Two calls at once from level 1: both count before either adds (the
  // first to add waits until the other is asleep inside its own call), so
  // together they may make one LWP too many, not more.
  r2 = set_concurrency(1);
  int one = wait_nlwp(1, 2 * IDLE_TICKS);
  static struct caller c;
  ok = caller_start(&c, 3) == 0 && ok;
  kdebug(KD_LWP_ALLOC_DELAY, 2);
  int made = lwps_made();
  c.go = 1;
  r = set_concurrency(3);
  int rc = caller_finish(&c, 200);
  made = lwps_made() - made;
  kdebug(KD_LWP_ALLOC_DELAY, 0);
  printf("conctest: level 1 (%d LWPs), then set_concurrency(3) twice at once: %d %d, level %d, "
         "%d LWPs made (2 are missing; 3 at most)\n", one, r, rc, get_concurrency(), made);
  grade_result("together", ok && r2 == 0 && one == 1 && r == 0 && rc == 0 && get_concurrency() == 3 &&
               made >= 2 && made <= 3);
}

static void bound_waiter(void *arg)
{
  volatile int *go = arg;
  while (!*go)
    futex_wait((int *)go, 0, 0);
}

static void test_bounds(void)
{
  static int go;
  struct uthread_attr bound = { 0, 0, 1 };
  int tids[6];
  int ok = uthread_init(2) == 0;
  int btid = uthread_create(bound_waiter, &go, &bound);   // an LWP record of its own
  ok = ok && btid >= 0 && spinners_start(tids, 6);          // the LWPs never run out of work
  int n0 = my_nlwp(), k0 = live_klts();
  int r1 = set_concurrency(-1), r2 = set_concurrency(-5);
  printf("conctest: set_concurrency(-1) %d, (-5) %d, level %d\n", r1, r2, get_concurrency());
  grade_result("negative", ok && r1 == -1 && r2 == -1 && get_concurrency() == 2);
  r1 = set_concurrency(1000000);
  r2 = set_concurrency(65);
  printf("conctest: set_concurrency(1000000) %d, (65) %d, level %d, LWPs %d -> %d\n", r1, r2,
         get_concurrency(), n0, my_nlwp());
  grade_result("huge", ok && r1 == -1 && r2 == -1 && get_concurrency() == 2 && my_nlwp() == n0);
  int old = kdebug(KD_SET_MAX_THREADS, k0 + 2);
  r1 = set_concurrency(10);
  int level = get_concurrency(), nlwp = my_nlwp(), k1 = live_klts();
  r2 = set_concurrency(4);          // exactly the 2 more there is room for
  int fit = get_concurrency(), k2 = live_klts();
  kdebug(KD_SET_MAX_THREADS, old);
  printf("conctest: max_threads %d: set_concurrency(10) %d, level %d, LWPs %d -> %d, "
         "live KLTs %d -> %d; (4) %d, level %d, live KLTs %d\n", k0 + 2, r1, level, n0, nlwp,
         k0, k1, r2, fit, k2);
  spinners_stop(tids, 6);           // back to 2 LWPs before going on
  set_concurrency(2);
  int back = my_nlwp(), t0;
  for (t0 = uptime(); (back != n0 || live_klts() != k0) && uptime() - t0 < 4 * IDLE_TICKS;
       back = my_nlwp())
    sleep(1);
  ok = spinners_start(tids, 6) && ok;
  grade_result("maxthreads", ok && r1 == -1 && level == 2 && nlwp == n0 && k1 == k0 &&
               r2 == 0 && fit == 4 && k2 == k0 + 2 && back == n0);
  // 64: 62 more; the library has 64 records and the bound thread holds one,
  // so one new LWP finds none and must leave the boot stack to the rest.
  // None leaves for want of work before all have booted (the spinners keep
  // them busy): the one without a record is the last, and ends.
  r1 = set_concurrency(64);
  level = get_concurrency();
  int added = live_klts() - k0;
  t0 = uptime();
  while (r1 == 0 && live_klts() > k0 + 61 && uptime() - t0 < 300)
    uthread_yield();
  spinners_stop(tids, 6);
  printf("conctest: set_concurrency(64) %d: level %d, %d KLTs added, %d once all booted "
         "(%d ticks)\n", r1, level, added, live_klts() - k0, uptime() - t0);
  r2 = set_concurrency(2);
  nlwp = wait_nlwp(n0, 4 * IDLE_TICKS);
  printf("conctest: back to 2 once idle: %d LWPs (bound one included)\n", nlwp);
  grade_result("sixtyfour", ok && r1 == 0 && level == 64 && added >= 61 && added <= 62 &&
               r2 == 0 && nlwp == n0);
  ok = spinners_start(tids, 6) && ok;
  r1 = set_concurrency(4);
  int seen = r1 == 0 ? wait_lwps_seen(4, 60) : lwps_seen();
  spinners_stop(tids, 6);
  printf("conctest: then set_concurrency(4) %d: spinners ran on %d LWPs\n", r1, seen);
  grade_result("restart", ok && r1 == 0 && seen >= 4);
  go = 1;
  futex_wake(&go, 1);
  uthread_join(btid);
}

static volatile int met;

// Spins until `arg` threads are in here at once: each holds an LWP meanwhile.
static void meet(void *arg)
{
  int want = (int)(long)arg;
  __atomic_add_fetch(&met, 1, __ATOMIC_SEQ_CST);
  for (int t0 = uptime(); met < want && uptime() - t0 < 100;)
    ;
}

static void test_shrink(void)
{
  int ok = uthread_init(3) == 0 && get_concurrency() == 3;
  int grew = my_nlwp();
  int tids[12];
  count = 0;
  shrink_at = 1000;               // well under load
  ok = ok && start(counter, (void *)2000L, tids, 12);
  ok = ok && join_all(tids, 12);
  shrink_at = -1;
  printf("conctest: a counter lowered the level 3 -> 1 at count 1000: %s; count %d of %d\n",
         shrink_result ? "done" : "refused", count, 12 * 2000);
  grade_result("nolost", ok && shrink_result && count == 12 * 2000);
  int nlwp = wait_nlwp(1, IDLE_TICKS);
  printf("conctest: %d LWPs at level 3, %d once idle at level 1\n", grew, nlwp);
  grade_result("ended", ok && shrink_result && nlwp == 1 && get_concurrency() == 1);
  // Each new LWP is parked before the next is added. Then all four run a
  // thread at once and park at about the same moment, and the level is
  // lowered as soon as the others are asleep: nobody wakes the surplus, they
  // must end within IDLE_TICKS of parking, and exactly 2 must stay.
  int made = lwps_made();
  kdebug(KD_LWP_ALLOC_DELAY, 1);
  int r = set_concurrency(4), most = my_nlwp();
  kdebug(KD_LWP_ALLOC_DELAY, 0);
  made = lwps_made() - made;
  met = 0;
  ok = r == 0 && start(meet, (void *)4L, tids, 4) && join_all(tids, 4) && met == 4;
  int t0 = uptime(), awake;
  while ((awake = others_awake()) > 0 && uptime() - t0 < IDLE_TICKS)
    ;
  int parked = uptime() - t0;
  int r2 = set_concurrency(2);
  t0 = uptime();
  nlwp = ok ? wait_nlwp(2, IDLE_TICKS) : my_nlwp();
  int took = uptime() - t0;
  int later = ok ? wait_nlwp(1, IDLE_TICKS) : nlwp;  // returns early only if one more left
  printf("conctest: idle: set_concurrency(4) %d: %d LWPs made, %d LWPs; 4 threads at once %s, "
         "%d others awake %d ticks later; (2) %d: %d LWPs after %d ticks, %d ticks later %d\n", r, made,
         most, met == 4 ? "ran" : "never ran", awake, parked, r2, nlwp, took, IDLE_TICKS, later);
  grade_result("idle", ok && r2 == 0 && most == 4 && awake == 0 && nlwp == 2 && later == 2);
  // A surplus LWP that ends at once, before the call that added it has
  // marked it: the caller's add waits until this thread has lowered the
  // level (KD_LWP_ALLOC_DELAY), and then until the new LWP has ended
  // (KD_LWP_START_WAIT). Its KLT must be released all the same.
  r = set_concurrency(1);
  int one = wait_nlwp(1, 2 * IDLE_TICKS), k0 = live_klts();
  static struct caller g;
  ok = r == 0 && caller_start(&g, 2) == 0;
  kdebug(KD_LWP_ALLOC_DELAY, 2);
  kdebug(KD_LWP_START_WAIT, 50);
  made = lwps_made();
  g.go = 1;
  int seen = 0;                     // no sleep here: the caller's add waits for this LWP
  for (t0 = uptime(); ok && !seen && !g.done && uptime() - t0 < 40;)
    seen = get_concurrency() == 2 && lwp_asleep(g.lwpid);
  r2 = seen ? set_concurrency(1) : -2;
  int rg = caller_finish(&g, 200);
  kdebug(KD_LWP_START_WAIT, 0);
  kdebug(KD_LWP_ALLOC_DELAY, 0);
  made = lwps_made() - made;
  int live = live_klts();
  for (t0 = uptime(); live > k0 && uptime() - t0 < 20; live = live_klts())
    sleep(1);
  printf("conctest: level 1 (%d LWPs); a bound thread's set_concurrency(2) %s, lowered to 1 (%d) "
         "before its LWP ran: it returned %d, %d LWPs made, live KLTs %d -> %d\n", one,
         seen ? "inside its add" : "never seen inside its add", r2, rg, made, k0, live);
  grade_result("released", ok && one == 1 && seen && r2 == 0 && made == 1 && live == k0);
}

static void test_churn(void)
{
  static const int levels[] = { 1, 3, 2, 4, 1, 3, 0, 2, 5, 1 };
  int ok = uthread_init(2) == 0;
  int tids[16];
  count = 0;
  ok = ok && start(counter, (void *)1500L, tids, 16);
  int bad = 0, most = 0;
  for (int i = 0; i < 60; i++) {
    int n = levels[i % 10];
    if (set_concurrency(n) != 0 || get_concurrency() < 1 || (n && get_concurrency() != n))
      bad++;
    int now = my_nlwp();
    if (now > most)
      most = now;
    if (i % 3 == 0)
      sleep(1);
    else
      uthread_yield();
  }
  ok = ok && join_all(tids, 16);
  printf("conctest: 60 level changes (%d refused); count %d of %d\n", bad, count, 16 * 1500);
  grade_result("complete", ok && bad == 0 && count == 16 * 1500);
  int r = set_concurrency(1);
  int nlwp = wait_nlwp(1, IDLE_TICKS);
  printf("conctest: up to %d LWPs; back to level 1: %d LWPs\n", most, nlwp);
  grade_result("settles", r == 0 && nlwp == 1 && most >= 4);
}

#define KILL_LEVEL 60           // far more than the child reaches before the kill

static void child_grows(void)
{
  uthread_init(1);
  set_concurrency(KILL_LEVEL);
  for (;;)
    sleep(100);
}

// The child adds LWPs one at a time, 2 ticks apart at least
// (KD_LWP_ALLOC_DELAY), towards a level it needs more than a second for, and is
// killed as soon as it has 3: while it is growing. After the kill its
// set_concurrency must stop adding: the kernel counts the LWPs it makes
// (KD_LWP_ALLOCS), and one may be under way when the kill comes.
static void test_kill(void)
{
  int base = live_klts();
  int reaped = 1, noleak = 1, grew = 1, stops = 1;
  for (int round = 0; round < 3; round++) {
    kdebug(KD_LWP_ALLOC_DELAY, 2);  // again: it allows 16 LWPs from here
    int pid = fork();
    if (pid == 0)
      child_grows();
    if (pid < 0) {
      reaped = 0;
      break;
    }
    int most = 0;                 // 3 within a few ticks: 40 is ample
    for (int t0 = uptime(); most < 3 && uptime() - t0 < 40; sleep(1)) {
      int n = nlwp_of(pid);
      if (n > most)
        most = n;
    }
    if (most < 3)
      grew = 0;
    int st, t0 = uptime(), made = kdebug(KD_LWP_ALLOCS, 0);
    if (kill(pid) != 0 || wait(&st) != pid || uptime() - t0 > 300)
      reaped = 0;
    made = kdebug(KD_LWP_ALLOCS, 0) - made;
    if (made > 2)
      stops = 0;
    int live = live_klts();
    for (t0 = uptime(); live > base && uptime() - t0 < 20; live = live_klts())
      sleep(1);
    printf("conctest: round %d: child %d had up to %d LWPs; reaped; LWPs made after the "
           "kill: %d; live KLTs %d (before %d)\n", round, pid, most, made, live, base);
    if (live > base)
      noleak = 0;
    if (!grew)
      break;                      // it cannot grow: once is enough to see it
  }
  kdebug(KD_LWP_ALLOC_DELAY, 0);
  grade_result("reaped", reaped && grew);
  grade_result("noleak", noleak && grew);
  grade_result("stops", stops && grew);
}

// ---- performance: the critical path ------------------------------------------------
// Under -icount QEMU runs the harts one after another and the guest clock
// counts every hart's instructions, so it cannot show work done in
// parallel. What it can show is the critical path: the work of the busiest
// LWP (at level 1, all of it). Each hart runs for up to a tick in its turn,
// and meanwhile the LWP there takes every thread the others left queued: so
// the test asks for a timer interrupt every PERF_SLICE time units on busy
// harts (kdebug KD_BENCH_SLICE, as lockbench does), and the harts take
// turns every 100,000 instructions or so, as if they ran at once.
#define PERF_THREADS 6
#define PERF_CHUNKS  80            // per thread
#define PERF_CHUNK   100000        // busy() loops: about 500,000 instructions
#define PERF_SLICE   1000          // time units: 100,000 instructions

static volatile int chunks_on[256];  // [lwpid % 256]: chunks run there

static void perf_worker(void *arg)
{
  (void)arg;
  for (int r = 0; r < PERF_CHUNKS; r++) {
    busy(PERF_CHUNK);
    __atomic_add_fetch(&chunks_on[lwp_self() % 256], 1, __ATOMIC_RELAXED);
    uthread_yield();
  }
}

static void test_perf(void)
{
  kdebug(KD_LWP_ALLOC_DELAY, 2);     // as in level3: the new LWPs see the level
  int r = uthread_init(3), ok = r == 0;
  kdebug(KD_LWP_ALLOC_DELAY, 0);
  if (!ok) {
    printf("conctest: uthread_init(3) %d: level %d, %d LWPs; no work run\n", r, get_concurrency(),
           my_nlwp());
    grade_result("critical", 0);
    return;
  }
  uint64 i0 = rdinstret();
  busy(PERF_CHUNK);
  uint64 chunk = rdinstret() - i0;  // no system call in between: one hart's count
  int tids[PERF_THREADS], total = PERF_THREADS * PERF_CHUNKS, most = 0, lwps = 0;
  int old = kdebug(KD_BENCH_SLICE, PERF_SLICE);
  uint64 t0 = rdtime();
  ok = ok && start(perf_worker, 0, tids, PERF_THREADS) && join_all(tids, PERF_THREADS);
  uint64 guest = rdtime() - t0;
  kdebug(KD_BENCH_SLICE, old);
  printf("conctest: chunks per LWP:");
  for (int j = 0; j < 256; j++) {
    if (chunks_on[j] > 0)
      printf(" LWP %d ran %d", j, chunks_on[j]);
    lwps += chunks_on[j] > 0;
    if (chunks_on[j] > most)
      most = chunks_on[j];
  }
  printf("\n");
  printf("conctest: level 3: %d chunks of %d instructions on %d LWPs in %d guest time units; "
         "the busiest LWP ran %d (%d%%, %d million instructions; level 1: all %d)\n", total,
         (int)chunk, lwps, (int)guest, most, most * 100 / total, (int)(most * chunk / 1000000),
         total);
  grade_result("critical", ok && lwps >= 3 && most * 2 <= total);   // at most half
}

int main(int argc, char *argv[])
{
  grade_init(&argc, &argv);
  if (argc < 2) {
    fprintf(2, "usage: conctest default|level3|again|bounds|shrink|churn|kill|perf\n");
    exit(1);
  }
  static const struct { const char *name; void (*fn)(void); } tests[] = {
    { "default", test_default }, { "level3", test_level3 }, { "again", test_again },
    { "bounds", test_bounds },   { "shrink", test_shrink }, { "churn", test_churn },
    { "kill", test_kill },       { "perf", test_perf },
  };
  int found = 0;
  for (int i = 0; i < (int)(sizeof tests / sizeof tests[0]); i++)
    if (strcmp(argv[1], tests[i].name) == 0) {
      tests[i].fn();
      found = 1;
    }
  if (!found)
    fprintf(2, "conctest: no test %s\n", argv[1]);
  grade_end();
  exit(0);
}
