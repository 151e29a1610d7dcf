// LWP and scheduler tests: LWPs of one process on several harts, futex
// locking, the remote wake-up and preemption rules (through kdebug), exit,
// kill and exec with many LWPs, max_threads, create/exit churn, and bad
// arguments to every LWP system call. Output follows usertests: one
// "test NAME: OK|FAILED" line per test, then ALL TESTS PASSED or SOME TESTS FAILED.
#include "user/user.h"
#include "user/testsuite.h"
#include "uapi/kdebug.h"

#define STACK 4096
#define MAXL  16


#define CHECK(c, msg) do { if (!(c)) { printf("  %s: %s\n", test_current, msg); exit(1); } } while (0)

static char *new_stack(void)
{
  char *s = malloc(STACK);
  return s ? s + STACK : 0;
}

// ---- LWPs on several harts -------------------------------------------------
static volatile int seen[8];
static volatile int go, stop;

static void spin_and_record(void *arg)
{
  (void)arg;
  while (!go)
    ;
  while (!stop) {
    int c = getcpu();
    if (c >= 0 && c < 8)
      seen[c] = 1;
  }
  lwp_exit();
}

static void test_multihart(void)
{
  int ids[3];
  for (int i = 0; i < 3; i++) {
    ids[i] = lwp_create(spin_and_record, 0, new_stack());
    CHECK(ids[i] > 0, "lwp_create failed");
  }
  go = 1;
  sleep(20);
  stop = 1;
  for (int i = 0; i < 3; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join failed");
  int n = 0;
  for (int i = 0; i < 8; i++)
    n += seen[i];
  printf("  multihart: LWPs seen on %d harts\n", n);
  CHECK(n >= 2, "LWPs never ran on two harts");
}

// ---- load balancing ------------------------------------------------------------
// Six spinning LWPs spread over the harts; all but two on one hart are told
// to stop, leaving that hart with two and the others with none. The user
// scheduler must then move one of the two: both are seen on different harts.
#define NSPIN 6
static volatile int where[NSPIN];
static volatile int quit[NSPIN];

static void spin_report(void *arg)
{
  int i = (long)arg;
  while (!quit[i])
    where[i] = getcpu();
  lwp_exit();
}

static void test_balance(void)
{
  int ids[NSPIN];
  for (int i = 0; i < NSPIN; i++) {
    where[i] = -1;
    CHECK((ids[i] = lwp_create(spin_report, (void *)(long)i, new_stack())) > 0, "lwp_create");
  }
  sleep(5);
  // Keep two LWPs of the first hart that has two; stop every other one.
  int keep[2] = { -1, -1 };
  for (int i = 0; i < NSPIN && keep[1] < 0; i++)
    for (int j = i + 1; j < NSPIN && keep[1] < 0; j++)
      if (where[i] == where[j] && where[i] >= 0) {
        keep[0] = i;
        keep[1] = j;
      }
  CHECK(keep[1] >= 0, "no hart had two LWPs to start with");
  int start_hart = where[keep[0]];
  for (int i = 0; i < NSPIN; i++)
    if (i != keep[0] && i != keep[1])
      quit[i] = 1;
  int apart = 0;
  for (int t = 0; t < 100 && !apart; t++) {
    sleep(1);
    apart = where[keep[0]] != where[keep[1]];
  }
  printf("  balance: LWPs %d and %d started on hart %d, now on harts %d and %d\n", keep[0], keep[1],
         start_hart, where[keep[0]], where[keep[1]]);
  quit[keep[0]] = quit[keep[1]] = 1;
  for (int i = 0; i < NSPIN; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join");
  CHECK(apart, "the user scheduler never moved an LWP off the busy hart");
}

// ---- futex lock -----------------------------------------------------------
static int lockword;
static volatile int counter;

static void lock(int *l)
{
  while (__sync_lock_test_and_set(l, 1))
    futex_wait(l, 1, 0);
}

static void unlock(int *l)
{
  __sync_lock_release(l);
  futex_wake(l, 1);
}

static void add_many(void *arg)
{
  int n = (long)arg;
  for (int i = 0; i < n; i++) {
    lock(&lockword);
    counter = counter + 1;
    unlock(&lockword);
  }
  lwp_exit();
}

static void test_futexcount(void)
{
  int ids[4];
  counter = 0;
  for (int i = 0; i < 4; i++)
    CHECK((ids[i] = lwp_create(add_many, (void *)5000L, new_stack())) > 0, "lwp_create");
  for (int i = 0; i < 4; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join");
  printf("  futexcount: %d of %d\n", counter, 4 * 5000);
  CHECK(counter == 4 * 5000, "lost increments");
}

static void test_futextimeout(void)
{
  int w = 0;
  int t0 = uptime();
  CHECK(futex_wait(&w, 0, 3) == 1, "futex_wait did not time out");
  CHECK(uptime() - t0 >= 2, "timed out too early");
  CHECK(futex_wait(&w, 1, 0) == 0, "futex_wait with a stale value blocked");
}

// ---- kernel rules -------------------------------------------------------------
static void test_remotewake(void)
{
  CHECK(kdebug(KD_REMOTE_WAKE_TEST, 0) == 0, "remote wake-up through an IPI message failed");
}

static void test_preempt(void)
{
  CHECK(kdebug(KD_PREEMPT_TEST, 0) == 0, "preemption rules broken");
}

// ---- exit, kill, exec with many LWPs ------------------------------------------
static int pipefd[2];

static void block_in_read(void *arg)
{
  (void)arg;
  char c;
  read(pipefd[0], &c, 1);
  lwp_exit();
}

static void spin(void *arg)
{
  (void)arg;
  for (;;)
    ;
}

static void sleep_long(void *arg)
{
  (void)arg;
  sleep(100000);
  lwp_exit();
}

static void futex_block(void *arg)
{
  (void)arg;
  static int w;
  futex_wait(&w, 0, 0);
  lwp_exit();
}

// A child with LWPs blocked every way there is, then ends by `how`.
static void child_with_lwps(int how)
{
  pipe(pipefd);
  lwp_create(block_in_read, 0, new_stack());
  lwp_create(spin, 0, new_stack());
  lwp_create(spin, 0, new_stack());
  lwp_create(sleep_long, 0, new_stack());
  lwp_create(futex_block, 0, new_stack());
  sleep(2);
  if (how == 0)
    exit(7);
  if (how == 1) {
    for (;;)
      sleep(1);
  }
  char *argv[] = { "echo", "exec-from-lwps", 0 };
  exec("echo", argv);
  exit(99);
}

static void test_exitlwps(void)
{
  for (int how = 0; how < 3; how++) {
    int free0 = kdebug(KD_LIVE_THREADS, 0);
    int pid = fork();
    if (pid == 0)
      child_with_lwps(how);
    if (how == 1) {
      sleep(5);
      CHECK(kill(pid) == 0, "kill failed");
    }
    int st;
    int t0 = uptime();
    CHECK(wait(&st) == pid, "wait failed");
    CHECK(uptime() - t0 < 200, "wait took too long");
    if (how == 0)
      CHECK(st == 7, "exit status lost");
    if (how == 2)
      CHECK(st == 0, "exec'd program did not run");
    sleep(2);
    CHECK(kdebug(KD_LIVE_THREADS, 0) <= free0, "LWPs left behind");
  }
}

static void quick_exit(void *arg)
{
  (void)arg;
  lwp_exit();
}

// ---- max_threads -----------------------------------------------------------
static void park(void *arg)
{
  (void)arg;
  static int w;
  futex_wait(&w, 0, 0);
  lwp_exit();
}

static void test_maxthreads(void)
{
  int live = kdebug(KD_LIVE_THREADS, 0);
  int old = kdebug(KD_SET_MAX_THREADS, live + 5);
  CHECK(old > 0, "KD_SET_MAX_THREADS failed");
  int pid = fork();
  if (pid == 0) {
    int n = 0;
    while (lwp_create(park, 0, new_stack()) > 0)
      n++;
    if (n < 3 || n > 5)
      exit(2);
    exit(0);           // ends the parked LWPs too
  }
  int st;
  wait(&st);
  kdebug(KD_SET_MAX_THREADS, old);
  CHECK(st == 0, "lwp_create did not fail cleanly at max_threads");
  sleep(2);
  int id = lwp_create(quick_exit, 0, new_stack());
  CHECK(id > 0, "lwp_create fails after recovery");
  CHECK(lwp_join(id) == 0, "lwp_join after recovery");
}

// ---- churn: create/exit cycles keep memory flat --------------------------------
static void quick(void *arg)
{
  (void)arg;
  lwp_exit();
}

static void test_churn(void)
{
  char *stack = new_stack();
  int pages0 = -1;
  for (int i = 0; i < 3000; i++) {
    int id = lwp_create(quick, 0, stack);
    CHECK(id > 0, "lwp_create failed during churn");
    CHECK(lwp_join(id) == 0, "lwp_join failed during churn");
    if (i == 100)
      pages0 = kdebug(KD_FREE_PAGES, 0);
  }
  int pages1 = kdebug(KD_FREE_PAGES, 0);
  printf("  churn: free pages %d after 100 cycles, %d after 3000\n", pages0, pages1);
  CHECK(pages1 >= pages0 - 4, "memory use grows with create/exit cycles");
}

// ---- bad arguments ---------------------------------------------------------------
static void test_badargs(void)
{
  char *stack = new_stack();
  CHECK(lwp_create(0, 0, stack) == -1, "lwp_create(NULL fn)");
  CHECK(lwp_create((void *)0x80200000UL, 0, stack) == -1, "lwp_create(kernel fn)");
  CHECK(lwp_create(quick, 0, (void *)0x80200000UL) == -1, "lwp_create(kernel stack)");
  CHECK(lwp_create(quick, 0, 0) == -1, "lwp_create(NULL stack)");
  CHECK(lwp_create(quick, 0, (void *)0x7ff00000UL) == -1, "lwp_create(unmapped stack)");
  CHECK(lwp_join(lwp_self()) == -1, "lwp_join(self)");
  CHECK(lwp_join(12345) == -1, "lwp_join(unknown)");
  CHECK(lwp_join(-1) == -1, "lwp_join(-1)");
  CHECK(futex_wait(0, 0, 0) == -1, "futex_wait(NULL)");
  CHECK(futex_wait((int *)0x80200000UL, 0, 0) == -1, "futex_wait(kernel)");
  CHECK(futex_wait((int *)((char *)stack - 7), 0, 0) == -1, "futex_wait(misaligned)");
  CHECK(futex_wait(&lockword, lockword, -1) == -1, "futex_wait(negative ticks)");
  CHECK(futex_wake(0, 1) == -1, "futex_wake(NULL)");
  CHECK(futex_wake(&lockword, -1) == -1, "futex_wake(negative n)");
  CHECK(mprotect(0, 4096, PROT_NONE) == -1, "mprotect(NULL)");
  CHECK(mprotect((void *)0x80200000UL, 4096, PROT_NONE) == -1, "mprotect(kernel)");
  CHECK(mprotect((char *)stack - 4096 + 1, 4096, PROT_NONE) == -1, "mprotect(unaligned)");
  CHECK(mprotect((char *)stack - 4096, -1, PROT_NONE) == -1, "mprotect(negative len)");
  CHECK(mprotect((char *)stack - 4096, 4096, 0x100) == -1, "mprotect(bad prot)");
  CHECK(set_concurrency(-1) == -1, "set_concurrency(-1)");
  CHECK(lwp_tidword((int *)0x80200000UL) == -1, "lwp_tidword(kernel)");
  CHECK(lwp_tidword((int *)((char *)stack - 7)) == -1, "lwp_tidword(misaligned)");
  CHECK(lwp_tidword(0) == 0, "lwp_tidword(0) forgets the word");
  CHECK(kdebug(12345, 0) == -1, "kdebug(bad cmd)");
  CHECK(procinfo((void *)0x80200000UL, 4) == -1, "procinfo(kernel)");
  struct schedctl *sc = schedctl();
  CHECK(sc != 0, "schedctl failed");
  CHECK(sc->sc_state == SC_ONPROC && sc->sc_cpu == (uint32)getcpu(), "schedctl state wrong");
  uint64 sw = sc->sc_switches;
  sleep(1);
  CHECK(sc->sc_switches > sw, "schedctl switch count did not move");
}

static const struct test tests[] = {
  { "multihart", test_multihart },
  { "futexcount", test_futexcount },
  { "balance", test_balance },
  { "futextimeout", test_futextimeout },
  { "remotewake", test_remotewake },
  { "preempt", test_preempt },
  { "exitlwps", test_exitlwps },
  { "maxthreads", test_maxthreads },
  { "churn", test_churn },
  { "badargs", test_badargs },
};

int main(int argc, char *argv[])
{
  return test_suite_run(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
