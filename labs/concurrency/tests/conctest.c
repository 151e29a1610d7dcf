// Graded tests of lab concurrency: set_concurrency / get_concurrency with the
// uthread library. Run as `conctest --token T NAME [ARG]`, one test per run:
//   default        level 1: get_concurrency() == 1, CPU-bound ULTs never run at once
//   level3         uthread_init(3): 3 LWPs, CPU-bound ULTs seen on two harts at once
//   level0 NCPU    set_concurrency(0): the kernel picks one LWP per CPU
//   shrink         3 -> 1 under load: no thread lost, surplus LWPs end
//   bounds         -1, 1000000, 65, more than max_threads: -1, level unchanged
//   churn          the level changes 60 times while threads count under a mutex
//   kill           killing a process while its level grows leaks no KLT
#include "user/user.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "grade/testlib/grade.h"

#define MAXT 16

static struct procinfo pinfo[64];

// LWPs of this process as procinfo counts them (at most 8 are listed).
static int nlwp_of(int pid);
static int my_nlwp(void)
{
  return nlwp_of(getpid());
}

// Polls until this process has `want` LWPs; the count seen last.
// LWPs of process pid, or -1 if it is not there.
static int nlwp_of(int pid)
{
  int n = procinfo(pinfo, 64);
  for (int i = 0; i < n; i++)
    if (pinfo[i].pid == pid)
      return pinfo[i].nlwp;
  return -1;
}

static int wait_nlwp(int want, int ticks)
{
  int n = my_nlwp();
  for (int t0 = uptime(); n != want && uptime() - t0 < ticks; n = my_nlwp())
    sleep(2);
  return n;
}

static void busy(int n)
{
  for (volatile int i = 0; i < n; i++)
    ;
}

// ---- CPU-bound threads that watch for each other --------------------------------
static volatile int oncpu[MAXT];        // hart of a thread inside its busy section, or -1
static volatile int inside, max_inside, par_seen, stop_spinning;
static volatile int spun;

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
  inside = max_inside = par_seen = stop_spinning = spun = 0;
}

// ---- threads that count under a mutex -----------------------------------------------
static struct umutex count_lock;
static volatile int count;

static void counter(void *arg)
{
  int adds = (int)(long)arg;
  for (int i = 0; i < adds; i++) {
    umutex_lock(&count_lock);
    int c = count;
    if (i % 8 == 0)
      uthread_yield();
    count = c + 1;
    umutex_unlock(&count_lock);
    busy(300);
  }
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

// ---- the tests -----------------------------------------------------------------------
static void test_default(void)
{
  int before = get_concurrency();
  int ok = uthread_init(1) == 0;
  int level = get_concurrency();
  printf("conctest: level before uthread_init %d, after uthread_init(1) %d\n", before, level);
  grade_result("level1", ok && before == 1 && level == 1 && my_nlwp() == 1);
  int tids[4];
  spinners_reset();
  for (int i = 0; i < 4; i++)
    tids[i] = uthread_create(spinner, (void *)(long)i, 0);
  int t0 = uptime();
  while (spun < 200 && uptime() - t0 < 300)
    uthread_yield();
  stop_spinning = 1;
  ok = join_all(tids, 4) && spun >= 200;
  printf("conctest: %d rounds, at most %d threads at once, parallel %s\n", spun, max_inside,
         par_seen ? "yes" : "no");
  grade_result("serial", ok && max_inside == 1 && !par_seen);
}

static void test_level3(void)
{
  int ok = uthread_init(3) == 0;
  int level = get_concurrency(), nlwp = my_nlwp();
  printf("conctest: uthread_init(3): level %d, %d LWPs\n", level, nlwp);
  grade_result("level", ok && level == 3);
  grade_result("lwps", nlwp == 3);
  int tids[6];
  spinners_reset();
  for (int i = 0; i < 6; i++)
    tids[i] = uthread_create(spinner, (void *)(long)i, 0);
  int t0 = uptime();
  while (!par_seen && uptime() - t0 < 500)
    sleep(2);                       // thread 0 leaves its LWP free for the spinners
  stop_spinning = 1;
  ok = join_all(tids, 6);
  printf("conctest: %d rounds in %d ticks, at most %d threads at once, parallel %s\n", spun,
         uptime() - t0, max_inside, par_seen ? "yes" : "no");
  grade_result("parallel", ok && par_seen);
}

static void test_level0(int ncpu)
{
  int ok = uthread_init(1) == 0 && set_concurrency(0) == 0;
  int level = get_concurrency(), nlwp = my_nlwp();
  printf("conctest: set_concurrency(0) on %d harts: level %d, %d LWPs\n", ncpu, level, nlwp);
  grade_result("level", ok && level == ncpu);
  int tids[6];
  umutex_init(&count_lock);
  count = 0;
  ok = start(counter, (void *)500L, tids, 6) && join_all(tids, 6);
  grade_result("lwps", ok && nlwp == ncpu && count == 6 * 500);
}

static void test_shrink(void)
{
  int ok = uthread_init(3) == 0 && get_concurrency() == 3;
  int grew = my_nlwp();
  int tids[12];
  umutex_init(&count_lock);
  count = 0;
  ok = ok && start(counter, (void *)2000L, tids, 12);
  int t0 = uptime();
  while (count < 100 && uptime() - t0 < 1000)   // shrink early, well under load
    uthread_yield();
  int at = count;
  ok = ok && set_concurrency(1) == 0 && get_concurrency() == 1;
  ok = join_all(tids, 12) && ok;
  printf("conctest: shrank to 1 at count %d; count %d of %d\n", at, count, 12 * 2000);
  grade_result("nolost", ok && count == 12 * 2000 && at < 12 * 2000);
  int nlwp = wait_nlwp(1, 300);
  printf("conctest: %d LWPs at level 3, %d after the work at level 1\n", grew, nlwp);
  grade_result("ended", grew == 3 && nlwp == 1 && get_concurrency() == 1);
}

static void test_bounds(void)
{
  int ok = uthread_init(2) == 0 && get_concurrency() == 2;
  int r1 = set_concurrency(-1), r2 = set_concurrency(-5);
  printf("conctest: set_concurrency(-1) %d, (-5) %d, level %d\n", r1, r2, get_concurrency());
  grade_result("negative", ok && r1 == -1 && r2 == -1 && get_concurrency() == 2);
  r1 = set_concurrency(1000000);
  r2 = set_concurrency(65);
  printf("conctest: set_concurrency(1000000) %d, (65) %d, level %d\n", r1, r2, get_concurrency());
  grade_result("huge", ok && r1 == -1 && r2 == -1 && get_concurrency() == 2 && my_nlwp() == 2);
  int live = kdebug(KD_LIVE_THREADS, 0);
  int old = kdebug(KD_SET_MAX_THREADS, live + 2);
  r1 = set_concurrency(10);
  int level = get_concurrency();
  kdebug(KD_SET_MAX_THREADS, old);
  r2 = set_concurrency(3);
  printf("conctest: max_threads %d: set_concurrency(10) %d, level %d; then (3) %d, level %d\n",
         live + 2, r1, level, r2, get_concurrency());
  grade_result("maxthreads", ok && r1 == -1 && level == 2 && r2 == 0 && get_concurrency() == 3);
}

static void test_churn(void)
{
  static const int levels[] = { 1, 3, 2, 4, 1, 3, 0, 2, 5, 1 };
  int ok = uthread_init(2) == 0;
  int tids[16];
  umutex_init(&count_lock);
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
  ok = join_all(tids, 16) && ok;
  printf("conctest: 60 level changes (%d refused); count %d of %d\n", bad, count, 16 * 1500);
  grade_result("complete", ok && bad == 0 && count == 16 * 1500);
  int r = set_concurrency(1);
  int nlwp = wait_nlwp(1, 300);
  printf("conctest: up to %d LWPs; back to level 1: %d LWPs\n", most, nlwp);
  grade_result("settles", r == 0 && nlwp == 1 && most >= 4);
}

static void child_grows(void)
{
  uthread_init(1);
  int tids[4];
  for (int i = 0; i < 4; i++)
    tids[i] = uthread_create(spinner, (void *)(long)i, 0);
  (void)tids;
  for (;;) {
    for (int k = 2; k <= 12; k++)
      set_concurrency(k);
    set_concurrency(1);
  }
}

static void test_kill(void)
{
  int base = kdebug(KD_LIVE_THREADS, 0);
  int reaped = 1, noleak = 1, grew = 1;
  for (int round = 0; round < 3; round++) {
    int pid = fork();
    if (pid == 0)
      child_grows();
    if (pid < 0) {
      reaped = 0;
      break;
    }
    // Wait until the child has started growing (a loaded host may take a
    // while to get it going), then kill it a little later each round.
    int most = 0, since = -1;
    for (int t0 = uptime(); uptime() - t0 < 300; sleep(1)) {
      int n = nlwp_of(pid);
      if (n > most)
        most = n;
      if (most >= 3 && since < 0)
        since = uptime();
      if (since >= 0 && uptime() - since >= 4 * round)
        break;
    }
    if (most < 3)
      grew = 0;
    int st, t0 = uptime();
    if (kill(pid) != 0 || wait(&st) != pid || uptime() - t0 > 300)
      reaped = 0;
    int live = kdebug(KD_LIVE_THREADS, 0);
    for (t0 = uptime(); live > base && uptime() - t0 < 200; live = kdebug(KD_LIVE_THREADS, 0))
      sleep(2);
    printf("conctest: round %d: child %d had up to %d LWPs; reaped; live KLTs %d (before %d)\n",
           round, pid, most, live, base);
    if (live > base)
      noleak = 0;
  }
  grade_result("reaped", reaped && grew);
  grade_result("noleak", noleak && grew);
}

int main(int argc, char *argv[])
{
  grade_init(&argc, &argv);
  if (argc < 2) {
    fprintf(2, "usage: conctest default|level3|level0 NCPU|shrink|bounds|churn|kill\n");
    exit(1);
  }
  char *t = argv[1];
  if (strcmp(t, "default") == 0)
    test_default();
  else if (strcmp(t, "level3") == 0)
    test_level3();
  else if (strcmp(t, "level0") == 0)
    test_level0(argc > 2 ? atoi(argv[2]) : 3);
  else if (strcmp(t, "shrink") == 0)
    test_shrink();
  else if (strcmp(t, "bounds") == 0)
    test_bounds();
  else if (strcmp(t, "churn") == 0)
    test_churn();
  else if (strcmp(t, "kill") == 0)
    test_kill();
  else
    fprintf(2, "conctest: no test %s\n", t);
  grade_end();
  exit(0);
}
