// How costs grow with the number of threads, LWPs and processes: the
// scaling table of `make bench` (tests/bench.py, docs/perf.md "How costs
// grow"). Run under QEMU with -icount shift=0, where the time CSR ticks every
// 100 guest instructions, so rdtime deltas times 100 count instructions.
//
// scalebench [ROW [N]] - every row at N = 2, 100 and 1000 (or the row's
//                  largest N), or one row, or one row at one N.
// Prints lines "scale ROW N INSTRUCTIONS" (per operation or round trip).
// Each measurement runs in a child process of its own: the thread library
// initialises once per process, and nothing one row leaves behind (threads,
// stacks, LWPs) is seen by the next.
#include "user/user.h"
#include "user/uthread.h"

#define INSNS_PER_TICK 100

static uint64 start_time;

static void start(void) { start_time = rdtime(); }

static uint64 elapsed(void) { return (rdtime() - start_time) * INSNS_PER_TICK; }

static void report(const char *row, int n, uint64 insns, uint64 ops)
{
  printf("scale %s %d %lu\n", row, n, insns / ops);
}

static void die(const char *what)
{
  printf("scalebench: %s failed\n", what);
  exit(1);
}

static void ult_init(void)
{
  if (uthread_init(1) < 0)
    die("uthread_init");
}

// ---- idle threads: blocked on a condition variable until released -----------
static struct umutex idle_mu;
static struct ucond idle_cv;
static volatile int idle_go, idle_waiting;

static void idle_thread(void *arg)
{
  (void)arg;
  umutex_lock(&idle_mu);
  idle_waiting++;
  while (!idle_go)
    ucond_wait(&idle_cv, &idle_mu);
  umutex_unlock(&idle_mu);
}

// Creates n threads that block on idle_cv; returns once all of them wait.
static void idle_start(int n, int *tids)
{
  idle_go = idle_waiting = 0;
  umutex_init(&idle_mu);
  ucond_init(&idle_cv);
  for (int i = 0; i < n; i++)
    if ((tids[i] = uthread_create(idle_thread, 0, 0)) < 0)
      die("uthread_create");
  while (idle_waiting < n)
    uthread_yield();
}

static void idle_stop(int n, int *tids)
{
  umutex_lock(&idle_mu);
  idle_go = 1;
  ucond_broadcast(&idle_cv);
  umutex_unlock(&idle_mu);
  for (int i = 0; i < n; i++)
    uthread_join(tids[i]);
}

static int *tid_array(int n)
{
  int *t = malloc((n + 1) * sizeof(int));
  if (t == 0)
    die("malloc");
  return t;
}

// ---- ULT yield round trip: n runnable threads on one LWP ----------------------
// One thread measures: each of its yields goes once around all n threads, so
// one of its yields is n switches; a round trip is two switches.
static volatile int yield_stop;

static void yield_spinner(void *arg)
{
  (void)arg;
  while (!yield_stop)
    uthread_yield();
}

static void yield_measurer(void *arg)
{
  int n = (long)arg;
  int turns = 20000 / n + 20;
  for (int i = 0; i < 3; i++)
    uthread_yield();                  // every spinner is in its loop now
  start();
  for (int i = 0; i < turns; i++)
    uthread_yield();
  report("ult_yield", n, elapsed() * 2, (uint64)turns * n);
  yield_stop = 1;
}

static void row_ult_yield(int n)
{
  ult_init();
  int *tids = tid_array(n);
  for (int i = 0; i < n - 1; i++)
    if ((tids[i] = uthread_create(yield_spinner, 0, 0)) < 0)
      die("uthread_create");
  int m = uthread_create(yield_measurer, (void *)(long)n, 0);
  uthread_join(m);                    // thread 0 sleeps: only the n take turns
  for (int i = 0; i < n - 1; i++)
    uthread_join(tids[i]);
}

// ---- uthread_create + uthread_join beside n idle threads ----------------------
static void nothing(void *arg)
{
  (void)arg;
}

static void row_ult_create_join(int n)
{
  ult_init();
  int *tids = tid_array(n);
  idle_start(n, tids);
  int k = 2000;
  uthread_join(uthread_create(nothing, 0, 0));   // warm the stack cache
  start();
  for (int i = 0; i < k; i++)
    uthread_join(uthread_create(nothing, 0, 0));
  report("ult_create_join", n, elapsed(), k);
  idle_stop(n, tids);
}

// ---- thread exit + join: n started threads end and are joined -----------------
// Each thread has run (and blocked); the timed part releases them all, and
// thread 0 joins them in the order they were created. Rounds until about
// 2,000 threads have ended: a round of two threads is a few hundred
// instructions, and rdtime counts in hundreds.
static void row_ult_exit_join(int n)
{
  ult_init();
  int *tids = tid_array(n);
  int rounds = n >= 2000 ? 1 : 2000 / n;
  uint64 insns = 0;
  for (int r = 0; r < rounds; r++) {
    idle_start(n, tids);
    start();
    idle_stop(n, tids);
    insns += elapsed();
  }
  report("ult_exit_join", n, insns, (uint64)rounds * n);
}

// ---- umutex hand-over between two threads beside n idle threads ---------------
// One LWP: the holder yields inside the section, so the other thread finds
// the mutex held and blocks; the unlock wakes it and the holder's next yield
// lets it take the mutex. Each turn of the loop is one hand-over.
static struct umutex hand_mu;

static void handover_thread(void *arg)
{
  int k = (long)arg;
  for (int i = 0; i < k; i++) {
    umutex_lock(&hand_mu);
    uthread_yield();
    umutex_unlock(&hand_mu);
    uthread_yield();
  }
}

static void row_umutex(int n)
{
  ult_init();
  int *tids = tid_array(n);
  idle_start(n, tids);
  umutex_init(&hand_mu);
  int k = 2000;
  start();
  int a = uthread_create(handover_thread, (void *)(long)k, 0);
  int b = uthread_create(handover_thread, (void *)(long)k, 0);
  uthread_join(a);
  uthread_join(b);
  report("umutex_handover", n, elapsed(), 2 * k);
  idle_stop(n, tids);
}

// ---- LWP futex round trip with n other LWPs asleep on futexes -----------------
#define LWP_STACK 4096
static volatile int turn;
static int *sleep_words;

static void futex_partner(void *arg)
{
  int k = (long)arg;
  for (int i = 0; i < k; i++) {
    while (turn != 1)
      futex_wait((int *)&turn, 0, 0);
    turn = 0;
    futex_wake((int *)&turn, 1);
  }
  lwp_exit();
}

static void futex_sleeper(void *arg)
{
  int *w = arg;
  while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == 0)
    futex_wait(w, 0, 0);
  lwp_exit();
}

static void row_lwp_futex(int n)
{
  int sleepers = n, k = 3000;
  char *stacks = malloc((sleepers + 1) * LWP_STACK);
  int *ids = tid_array(sleepers + 1);
  sleep_words = malloc((sleepers + 1) * 64);    // one word per 64 bytes
  if (stacks == 0 || sleep_words == 0)
    die("malloc");
  for (int i = 0; i < sleepers; i++) {
    int *w = &sleep_words[i * 16];
    *w = 0;
    if ((ids[i] = lwp_create(futex_sleeper, w, stacks + (i + 1) * LWP_STACK)) < 0)
      die("lwp_create");
  }
  int p = lwp_create(futex_partner, (void *)(long)k, stacks + (sleepers + 1) * LWP_STACK);
  if (p < 0)
    die("lwp_create");
  sleep(1);                           // every LWP reaches its first wait
  start();
  for (int i = 0; i < k; i++) {
    turn = 1;
    futex_wake((int *)&turn, 1);
    while (turn != 0)
      futex_wait((int *)&turn, 1, 0);
  }
  report("lwp_futex", n, elapsed(), k);
  lwp_join(p);
  for (int i = 0; i < sleepers; i++) {
    __atomic_store_n(&sleep_words[i * 16], 1, __ATOMIC_RELEASE);
    futex_wake(&sleep_words[i * 16], 1);
    lwp_join(ids[i]);
  }
}

// ---- fork + exit + wait with n idle processes -----------------------------------
static void row_fork(int n)
{
  int idle[2], k = 200;
  pipe(idle);
  for (int i = 0; i < n; i++) {
    int pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      char c;
      close(idle[1]);
      read(idle[0], &c, 1);
      exit(0);
    }
  }
  start();
  for (int i = 0; i < k; i++) {
    if (fork() == 0)
      exit(0);
    wait(0);
  }
  report("fork_wait", n, elapsed(), k);
  close(idle[1]);
  for (int i = 0; i < n; i++)
    wait(0);
}

// ---- upcall block/unblock round trip with n threads blocked in the kernel ---------
// Two threads at level 1 with upcalls on bounce a byte through two pipes
// (two blocks and two wake-ups per round trip, as `bench block`), while n
// other threads sit blocked in read() on a pipe nobody writes to.
static int up[2], down[2], quiet[2];

static void quiet_reader(void *arg)
{
  char c;
  (void)arg;
  read(quiet[0], &c, 1);
}

static void block_partner(void *arg)
{
  int k = (long)arg;
  char c;
  for (int i = 0; i < k; i++) {
    read(down[0], &c, 1);
    write(up[1], &c, 1);
  }
}

static void block_pinger(void *arg)
{
  int n = ((long)arg) >> 16, k = ((long)arg) & 0xffff;
  char c = 'x';
  write(down[1], &c, 1);              // one round to warm up (and spares)
  read(up[0], &c, 1);
  start();
  for (int i = 1; i < k; i++) {
    write(down[1], &c, 1);
    read(up[0], &c, 1);
  }
  report("upcall_block", n, elapsed(), k - 1);
}

static void row_upcall(int n)
{
  int k = 500;
  pipe(up);
  pipe(down);
  pipe(quiet);
  ult_init();
  if (uthread_upcalls(1) < 0)
    exit(0);                          // a kernel without upcalls: no row
  int *tids = tid_array(n);
  int blocked = n;
  for (int i = 0; i < blocked; i++)
    if ((tids[i] = uthread_create(quiet_reader, 0, 0)) < 0)
      die("uthread_create");
  struct uthread_upcall_stats st;
  do {                                // every reader has blocked in the kernel
    uthread_yield();
    uthread_upcall_stats(&st);
  } while (st.blocked < blocked);
  int b = uthread_create(block_partner, (void *)(long)k, 0);
  int a = uthread_create(block_pinger, (void *)(long)(((long)n << 16) | k), 0);
  uthread_join(a);
  uthread_join(b);
  close(quiet[1]);                    // the readers see end of file
  for (int i = 0; i < blocked; i++)
    uthread_join(tids[i]);
}

// ---- the rows ---------------------------------------------------------------------
static struct {
  const char *name;
  void (*run)(int n);
  int maxn;                           // the largest N the row can use
} rows[] = {
  { "ult_yield", row_ult_yield, 1000 },
  { "ult_create_join", row_ult_create_join, 1000 },
  { "ult_exit_join", row_ult_exit_join, 1000 },
  { "umutex_handover", row_umutex, 1000 },
  { "lwp_futex", row_lwp_futex, 200 },      // KLTs: MAX_THREADS (256) system wide
  { "fork_wait", row_fork, 50 },            // processes: NPROC (64)
  { "upcall_block", row_upcall, 50 },       // LWP records of the library: 64
};

static const int columns[] = { 2, 100, 1000 };

static void measure(int r, int n)
{
  int pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    rows[r].run(n);
    exit(0);
  }
  wait(0);
}

// Each column's N, or the row's largest N in the first column it cannot
// reach, and nothing after that.
static void run_row(int r)
{
  for (int c = 0; c < sizeof(columns) / sizeof(columns[0]); c++) {
    int n = columns[c] < rows[r].maxn ? columns[c] : rows[r].maxn;
    measure(r, n);
    if (n == rows[r].maxn)
      return;
  }
}

int main(int argc, char *argv[])
{
  int found = 0;
  for (int r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
    if (argc > 1 && strcmp(argv[1], rows[r].name) != 0)
      continue;
    found = 1;
    if (argc > 2)
      measure(r, atoi(argv[2]));
    else
      run_row(r);
  }
  if (!found)
    die("row name");
  printf("scale done\n");
  return 0;
}
