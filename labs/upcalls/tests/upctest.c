// Graded tests of lab upcalls: scheduler activations for the uthread library.
// Run as `upctest --token T NAME`, one test per run:
//   reader     level 1: a reader blocks first on an empty pipe; its writer still runs
//   sleep      level 1: one thread sleeps, another finishes its work meanwhile
//   dozen1     level 1: 12 threads each blocked on its own pipe, fed one by one
//   dozen2     the same at level 2
//   pingpong   level 1: two threads bounce a counter through two pipes
//   kill       killing a process with blocked activations: reaped, no KLT leak;
//              and exec from a process with blocked activations: they end too
//   burst      more wake-ups at once than the ring holds: in order, none lost
// "At most n LWPs in user mode at once" is read from the kernel's counter
// (kdebug KD_UPCALL_STATS), not from timing.
#include "user/user.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "uapi/upcall.h"
#include "grade/testlib/grade.h"

#define WAIT_TICKS 300         // a bound on every wait: a hole fails, never hangs

static struct upcall_kstats kstats(void)
{
  struct upcall_kstats s;
  memset(&s, 0, sizeof(s));
  kdebug(KD_UPCALL_STATS, (long)&s);
  return s;
}

static struct uthread_upcall_stats ustats(void)
{
  struct uthread_upcall_stats s;
  memset(&s, 0, sizeof(s));
  uthread_upcall_stats(&s);
  return s;
}

// uthread_init(level) and upcalls on; reports "on".
static int start(int level)
{
  int ok = uthread_init(level) == 0 && uthread_upcalls(1) == 0;
  kdebug(KD_UPCALL_RESET, 0);
  printf("upctest: level %d, upcalls %s\n", level, ok ? "on" : "unavailable");
  grade_result("on", ok);
  return ok;
}

// Yields until *flag reaches want or WAIT_TICKS pass; 1 if it did.
static int await(volatile int *flag, int want)
{
  for (int t0 = uptime(); *flag < want; uthread_yield())
    if (uptime() - t0 > WAIT_TICKS)
      return 0;
  return 1;
}

// Yields until the library has seen n BLOCKED events.
static int await_blocked(uint64 n)
{
  for (int t0 = uptime(); ustats().blocked < n; uthread_yield())
    if (uptime() - t0 > WAIT_TICKS)
      return 0;
  return 1;
}

// Yields until the kernel counts no activation blocked, or WAIT_TICKS pass.
// A woken activation posts UNBLOCKED before it parks, so the thread it hands
// back can finish (and be joined) a moment before the count drops.
static struct upcall_kstats await_none_blocked(void)
{
  struct upcall_kstats k = kstats();
  for (int t0 = uptime(); k.blocked != 0 && uptime() - t0 <= WAIT_TICKS; k = kstats())
    uthread_yield();
  return k;
}

// ---- reader: blocks first on an empty pipe ---------------------------------------
static int rw_pipe[2];
static volatile int reader_got, writer_done, reader_done, reader_n;

static void reader(void *arg)
{
  (void)arg;
  char c = 0;
  int n = read(rw_pipe[0], &c, 1);
  reader_n = n;
  if (n == 1)
    reader_got = c;
  reader_done = 1;
}

static void writer(void *arg)
{
  (void)arg;
  writer_done = write(rw_pipe[1], "x", 1) == 1;
}

static void test_reader(void)
{
  if (!start(1) || pipe(rw_pipe) < 0)
    return;
  int r = uthread_create(reader, 0, 0);
  await_blocked(1);                  // the reader is in read() before the writer exists
  int w = uthread_create(writer, 0, 0);
  int ok = await(&reader_done, 1) && await(&writer_done, 1);
  ok = ok && uthread_join(r) == 0 && uthread_join(w) == 0;
  struct uthread_upcall_stats u = ustats();
  printf("upctest: reader got '%c' (read %d), writer %s; events %d disorder %d\n", reader_got ? reader_got : '?',
         reader_n, writer_done ? "done" : "stuck", (int)u.events, (int)u.disorder);
  grade_result("finish", ok && reader_got == 'x');
}

// ---- sleep: work goes on while one thread sleeps ---------------------------------------
static volatile int slept_at, woke_at, worked_at, work_units;

static void sleeper(void *arg)
{
  (void)arg;
  slept_at = uptime();
  sleep(20);
  woke_at = uptime();
}

static void worker(void *arg)
{
  (void)arg;
  for (int i = 0; i < 200; i++) {
    for (volatile int j = 0; j < 200; j++)
      ;
    work_units++;
  }
  worked_at = uptime();
}

static void test_sleep(void)
{
  if (!start(1))
    return;
  int s = uthread_create(sleeper, 0, 0);
  await_blocked(1);
  int w = uthread_create(worker, 0, 0);
  int ok = uthread_join(w) == 0;
  int during = woke_at == 0;         // the worker finished before the sleeper woke
  ok = ok && uthread_join(s) == 0;
  printf("upctest: slept at %d, worker done at %d, sleeper woke at %d\n", slept_at, worked_at,
         woke_at);
  grade_result("overlap", ok && during && work_units == 200 && woke_at >= slept_at + 20);
}

// ---- a dozen threads each blocked on its own pipe ------------------------------------
#define DOZEN 12
static int pipes[DOZEN][2];
static volatile int got[DOZEN], done_count;

static void pipe_reader(void *arg)
{
  int i = (int)(long)arg;
  char c;
  if (read(pipes[i][0], &c, 1) == 1)
    got[i] = c;
  __atomic_add_fetch(&done_count, 1, __ATOMIC_SEQ_CST);
}

// What the kernel and the library had seen when reader i did not come back.
static void say_stuck(int i)
{
  struct upcall_kstats k = kstats();
  struct uthread_upcall_stats u = ustats();
  printf("upctest: reader %d not done after %d ticks (done %d; kernel: %d blocked, %d spares, "
         "%d posted; library: %d events, %d unblocked, %d disorder)\n", i, WAIT_TICKS, done_count,
         k.blocked, k.spares, (int)k.posted, (int)u.events, (int)u.unblocked, (int)u.disorder);
}

static void test_dozen(int level)
{
  if (!start(level))
    return;
  int tids[DOZEN], ok = 1;
  for (int i = 0; i < DOZEN; i++)
    ok &= pipe(pipes[i]) == 0;
  for (int i = 0; i < DOZEN; i++)
    tids[i] = uthread_create(pipe_reader, (void *)(long)i, 0);
  int all_blocked = await_blocked(DOZEN);
  struct upcall_kstats k = kstats();
  printf("upctest: %d readers blocked at once (kernel: %d blocked, %d spares)\n",
         (int)ustats().blocked, k.blocked, k.spares);
  for (int i = 0; i < DOZEN && ok; i++) {
    char c = 'a' + i;
    ok = write(pipes[i][1], &c, 1) == 1 && await(&done_count, i + 1) && got[i] == c;
    if (!ok)
      say_stuck(i);
  }
  for (int i = 0; i < DOZEN && ok; i++)   // a reader never fed would never end
    ok &= uthread_join(tids[i]) == 0;
  k = await_none_blocked();
  printf("upctest: fed %d of %d; at most %d LWPs in user mode at once (level %d)\n",
         done_count, DOZEN, k.maxuser, level);
  grade_result("blocked", all_blocked && k.blocked == 0);
  grade_result("fed", ok && done_count == DOZEN);
  grade_result("level", all_blocked && k.maxuser >= 1 && k.maxuser <= level);
}

// ---- ping-pong through two pipes ---------------------------------------------------------
#define ROUNDS 50
static int ping[2], pong[2];
static volatile int pinged, ponged;

static void pinger(void *arg)
{
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    int v = i;
    if (write(ping[1], &v, sizeof v) != sizeof v || read(pong[0], &v, sizeof v) != sizeof v ||
        v != i + 1)
      return;
    pinged++;
  }
}

static void ponger(void *arg)
{
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    int v;
    if (read(ping[0], &v, sizeof v) != sizeof v || v != i)
      return;
    v++;
    if (write(pong[1], &v, sizeof v) != sizeof v)
      return;
    ponged++;
  }
}

static void test_pingpong(void)
{
  if (!start(1) || pipe(ping) < 0 || pipe(pong) < 0)
    return;
  int b = uthread_create(ponger, 0, 0);   // first, so it blocks on the empty pipe
  int a = uthread_create(pinger, 0, 0);
  int ok = await(&pinged, ROUNDS) && uthread_join(a) == 0 && uthread_join(b) == 0;
  struct upcall_kstats k = kstats();
  printf("upctest: %d rounds pinged, %d ponged; %d blocks replaced; at most %d LWPs in user mode\n",
         pinged, ponged, (int)k.replaced, k.maxuser);
  grade_result("rounds", ok && ponged == ROUNDS);
  grade_result("level", ok && k.maxuser == 1);
}

// ---- kill with blocked activations ----------------------------------------------------------
#define KILL_THREADS 6
static int kill_pipe[2];

static void forever_reader(void *arg)
{
  (void)arg;
  char c;
  read(kill_pipe[0], &c, 1);         // nobody ever writes
}

// The child blocks KILL_THREADS threads, tells the parent how many blocks
// the kernel replaced, and waits to be killed (in a read of its own).
static void child_blocks(int report)
{
  if (uthread_init(1) < 0 || uthread_upcalls(1) < 0 || pipe(kill_pipe) < 0)
    exit(1);
  for (int i = 0; i < KILL_THREADS; i++)
    uthread_create(forever_reader, 0, 0);
  await_blocked(KILL_THREADS);
  int n = kstats().blocked;
  write(report, &n, sizeof n);
  char c;
  read(kill_pipe[0], &c, 1);
  exit(0);
}

// The child blocks KILL_THREADS threads, then replaces itself with echo:
// exec must end the blocked activations before the new program runs.
static void child_execs(void)
{
  if (uthread_init(1) < 0 || uthread_upcalls(1) < 0 || pipe(kill_pipe) < 0)
    exit(1);
  for (int i = 0; i < KILL_THREADS; i++)
    uthread_create(forever_reader, 0, 0);
  await_blocked(KILL_THREADS);
  char *argv[] = {"echo", "upctest: exec ran with activations blocked", 0};
  exec("echo", argv);
  exit(1);
}

// 1 if the child's exec ran echo, which ended, and its KLTs came back.
static int exec_ends_activations(int base)
{
  int pid = fork();
  if (pid == 0)
    child_execs();
  int st, t0 = uptime();
  if (pid < 0 || wait(&st) != pid || st != 0 || uptime() - t0 > WAIT_TICKS)
    return 0;
  int live = kdebug(KD_LIVE_THREADS, 0);
  for (t0 = uptime(); live > base && uptime() - t0 < 200; live = kdebug(KD_LIVE_THREADS, 0))
    sleep(2);
  printf("upctest: exec: live KLTs %d (before %d)\n", live, base);
  return live <= base;
}

static void test_kill(void)
{
  int base = kdebug(KD_LIVE_THREADS, 0), freebase = kdebug(KD_FREE_PAGES, 0);
  int reaped = 1, noleak = 1, blocked = 1;
  for (int round = 0; round < 3; round++) {
    int rep[2];
    if (pipe(rep) < 0)
      break;
    int pid = fork();
    if (pid == 0) {
      close(rep[0]);
      child_blocks(rep[1]);
    }
    close(rep[1]);
    int n = 0;
    if (pid < 0 || read(rep[0], &n, sizeof n) != sizeof n)   // child gone: it failed
      n = 0;
    close(rep[0]);
    if (n < KILL_THREADS)
      blocked = 0;
    int st, t0 = uptime();
    if (pid < 0 || kill(pid) != 0 || wait(&st) != pid || uptime() - t0 > WAIT_TICKS)
      reaped = 0;
    int live = kdebug(KD_LIVE_THREADS, 0);
    for (t0 = uptime(); live > base && uptime() - t0 < 200; live = kdebug(KD_LIVE_THREADS, 0))
      sleep(2);
    int freep = kdebug(KD_FREE_PAGES, 0);
    printf("upctest: round %d: child %d had %d blocked activations; live KLTs %d (before %d); "
           "free pages %d (before %d)\n", round, pid, n, live, base, freep, freebase);
    // Stacks of ended KLTs wait on the death row (kernel/thread/klt.c), so
    // free pages may stay a few stacks below; a leak grows each round.
    if (live > base || freep < freebase - 64)
      noleak = 0;
  }
  grade_result("blocked", blocked);
  grade_result("reaped", reaped && blocked);
  grade_result("noleak", noleak && blocked);
  grade_result("exec", blocked && exec_ends_activations(base));
}

// ---- a burst of wake-ups larger than the ring ---------------------------------------------
#define BURST 40
static volatile int burst_until, bwoke[BURST], bdone;

// Every sleeper ends at the same tick, so all BURST wake at once and post
// 2*BURST events (UNBLOCKED, RELEASED) while nobody reads the ring.
static void burst_sleeper(void *arg)
{
  int i = (int)(long)arg;
  int left = burst_until - uptime();
  if (left > 0 && sleep(left) == 0)
    bwoke[i] = uptime() >= burst_until;
  __atomic_add_fetch(&bdone, 1, __ATOMIC_SEQ_CST);
}

static void test_burst(void)
{
  _Static_assert(BURST * 2 > UPC_RING, "the burst must overflow the ring");
  if (!start(1))
    return;
  int tids[BURST], ok = 1;
  int t0 = uptime();
  burst_until = t0 + 100;
  for (int i = 0; i < BURST && ok; i++)
    ok = (tids[i] = uthread_create(burst_sleeper, (void *)(long)i, 0)) >= 0;
  int all_blocked = ok && await_blocked(BURST);
  int t1 = uptime();
  printf("upctest: %d sleepers blocked after %d ticks (they wake at tick %d)\n", BURST, t1 - t0,
         burst_until - t0);
  all_blocked = all_blocked && t1 < burst_until;
  ok = ok && await(&bdone, BURST);
  for (int i = 0; i < BURST; i++)
    ok &= uthread_join(tids[i]) == 0 && bwoke[i];
  // The last events may still be on their way (posted, not yet read):
  // yield until the library has read all the kernel posted, or WAIT_TICKS.
  struct upcall_kstats k = await_none_blocked();
  for (int t2 = uptime(); ustats().events != k.posted && uptime() - t2 <= WAIT_TICKS; k = kstats())
    uthread_yield();
  struct uthread_upcall_stats u = ustats();
  printf("upctest: %d of %d woke; events: kernel posted %d, library read %d "
         "(blocked %d unblocked %d released %d newlwp %d), out of order %d; "
         "the kernel waited for room %d times\n", bdone, BURST, (int)k.posted, (int)u.events,
         (int)u.blocked, (int)u.unblocked, (int)u.released, (int)u.newlwp, (int)u.disorder,
         (int)k.waits);
  grade_result("woke", all_blocked && ok);
  grade_result("nolost", all_blocked && u.events == k.posted && u.unblocked == BURST &&
                         u.released == BURST && u.blocked >= BURST);
  grade_result("ordered", all_blocked && u.disorder == 0 && k.waits > 0);
}

int main(int argc, char *argv[])
{
  grade_init(&argc, &argv);
  if (argc < 2) {
    fprintf(2, "usage: upctest reader|sleep|dozen1|dozen2|pingpong|kill|burst\n");
    exit(1);
  }
  char *t = argv[1];
  if (strcmp(t, "reader") == 0)
    test_reader();
  else if (strcmp(t, "sleep") == 0)
    test_sleep();
  else if (strcmp(t, "dozen1") == 0)
    test_dozen(1);
  else if (strcmp(t, "dozen2") == 0)
    test_dozen(2);
  else if (strcmp(t, "pingpong") == 0)
    test_pingpong();
  else if (strcmp(t, "kill") == 0)
    test_kill();
  else if (strcmp(t, "burst") == 0)
    test_burst();
  else
    fprintf(2, "upctest: no test %s\n", t);
  grade_end();
  exit(0);
}
