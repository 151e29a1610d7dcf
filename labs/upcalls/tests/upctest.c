// Graded tests of lab upcalls: scheduler activations for the uthread library.
// Run as `upctest --token T NAME`, one test per run:
//   events     no library: the events one block and its wake-up post, what
//              each carries and their order (the replacement is held back,
//              so the blocked LWP wakes before it is announced; nothing is
//              posted while it is held)
//   reader     level 1: a reader blocks first on an empty pipe; its writer still runs
//   sleep      level 1: one thread sleeps, another finishes its work meanwhile
//   dozen1     level 1: 12 threads each blocked on its own pipe, fed one by one
//   dozen2     the same at level 2
//   pollers    level 2: one LWP is held inside the ring's drain while
//              another polls: the second must not act on the same events;
//              then a gap in seq must count in disorder
//   pingpong   level 1: two threads bounce a counter through two pipes
//   kill       killing a process with blocked activations: reaped, no KLT leak;
//              and exec from a process with blocked activations: they end too
//   burst      more wake-ups at once than the ring holds: in order, none
//              lost, and the spare cache stays bounded
//   fullring   level 1: the wake-ups have filled the ring as far as they may (and no further)
//              while nobody reads it; then the only serving thread blocks
//   roundtrip  level 1: guest instructions per block-and-unblock round trip
//              (graded under -icount), against ROUNDTRIP_BOUND
//   together   no library: replacements block in turn until the ring is full;
//              with one slot given back, the waiting replacement posts nothing
//   onoff      level 1: upcalls on, off (every spare ends and leaves the
//              cache) and on again, with a block replaced each time on
// "At most n LWPs in user mode at once" is read from the kernel's counter
// (kdebug KD_UPCALL_STATS), not from timing. A watchdog LWP (not a serving
// one: it never becomes an activation) ends the test as soon as nothing has
// moved for STALL_TICKS, saying what the kernel counts: a test never waits
// out the grader's timeout.
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"
#include "uapi/kdebug.h"
#include "uapi/upcall.h"
#include "uapi/uframe.h"
#include "grade/testlib/grade.h"

#define UPC_SPARES_KEEP 8      // kernel/proc/upcall.h: the most spares the cache keeps

#define WAIT_TICKS 200         // a bound on every wait: a hole fails, never hangs
#define STALL_TICKS 150        // the watchdog: no progress for this long ends the test
#define ROUNDTRIP_BOUND 30000  // guest instructions per round trip (reference: see README)
#define DRAIN_BOUND 3000000    // guest instructions from the first to the last of a burst's
                               // sleepers back (a poster left waiting costs a tick: 10,000,000)

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

// ---- reporting, and the watchdog ----------------------------------------------------
// Only the watchdog prints result lines and the end line. It is an LWP of
// its own, never an activation, so it is never stuck behind a mistake the
// test provokes; the test's threads only record their results.
#define MAX_RESULTS 16
static struct { const char *name; int ok, set; } results[MAX_RESULTS];
static int nresults;                   // slots claimed
static volatile int done;              // the test is over: report
static volatile int progress;          // bumped by every waiting loop and step
static const char *volatile doing = "starting";
static char watch_stack[4096] __attribute__((aligned(16)));

static void result(const char *name, int ok)
{
  int i = __atomic_fetch_add(&nresults, 1, __ATOMIC_SEQ_CST);
  if (i >= MAX_RESULTS)
    return;
  results[i].name = name;
  results[i].ok = ok;
  __atomic_store_n(&results[i].set, 1, __ATOMIC_RELEASE);
}

// The test is over: the watchdog reports (this thread may be an activation
// that would not come back from a blocking call: it only waits to be ended).
static void finish(void)
{
  done = 1;
  for (;;)
    sleep(100);
}

static void step(const char *what)
{
  doing = what;
  progress++;
}

// Reports when the test is over, or when nothing moved for STALL_TICKS
// (every thread that could report is stuck) after saying what the kernel
// saw: the checks the test reached stand, the others fail.
static void watchdog(void *arg)
{
  (void)arg;
  int seen = progress, since = uptime();
  while (!done) {
    sleep(1);
    if (progress != seen) {
      seen = progress;
      since = uptime();
    } else if (uptime() - since >= STALL_TICKS) {
      struct upcall_kstats k = kstats();
      printf("upctest: stuck for %d ticks while %s (kernel: %d blocked, %d spares, %d in user "
             "mode; %d events posted, a poster waited for room %d times; %d blocks replaced, "
             "%d not)\n", STALL_TICKS, doing, k.blocked, k.spares, k.inuser, (int)k.posted,
             (int)k.waits, (int)k.replaced, (int)k.noreplace);
      break;
    }
  }
  for (int i = 0; i < MAX_RESULTS; i++)
    if (__atomic_load_n(&results[i].set, __ATOMIC_ACQUIRE))
      grade_result(results[i].name, results[i].ok);
  grade_end();
  exit(0);
}

// uthread_init(level) and upcalls on; reports "on".
static int start(int level)
{
  int ok = uthread_init(level) == 0 && uthread_upcalls(1) == 0;
  kdebug(KD_UPCALL_RESET, 0);
  printf("upctest: level %d, upcalls %s\n", level, ok ? "on" : "unavailable");
  result("on", ok);
  return ok;
}

// Yields until *flag reaches want or WAIT_TICKS pass; 1 if it did.
static int await(volatile int *flag, int want)
{
  for (int t0 = uptime(); *flag < want; uthread_yield(), progress++)
    if (uptime() - t0 > WAIT_TICKS)
      return 0;
  return 1;
}

// Yields until the library has seen n BLOCKED events.
static int await_blocked(uint64 n)
{
  for (int t0 = uptime(); ustats().blocked < n; uthread_yield(), progress++)
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
    uthread_yield(), progress++;
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

// One round at level 1: a reader blocks on an empty pipe before its writer
// exists, so only a replacement can run the writer; 1 if both finished and
// the byte arrived.
static int reader_round(void)
{
  reader_got = writer_done = reader_done = reader_n = 0;
  if (pipe(rw_pipe) < 0)
    return 0;
  int r = uthread_create(reader, 0, 0);
  await_blocked(ustats().blocked + 1);   // the reader is in read() before the writer exists
  int w = uthread_create(writer, 0, 0);
  int ok = await(&reader_done, 1) && await(&writer_done, 1);
  ok = ok && uthread_join(r) == 0 && uthread_join(w) == 0;
  struct uthread_upcall_stats u = ustats();
  printf("upctest: reader got '%c' (read %d), writer %s; events %d disorder %d\n", reader_got ? reader_got : '?',
         reader_n, writer_done ? "done" : "stuck", (int)u.events, (int)u.disorder);
  close(rw_pipe[0]);
  close(rw_pipe[1]);
  return ok && reader_got == 'x';
}

static void test_reader(void)
{
  if (!start(1))
    return;
  step("a reader blocked on an empty pipe, then its writer ran");
  result("finish", reader_round());
}

// ---- onoff: upcalls on, off and on again -----------------------------------------------
// With upcalls off every spare must end, and leave the cache as it ends: a
// block after upcalls come back on takes whatever the cache still lists,
// and an LWP that ended may already be released. The spares' KLTs ending
// is the handshake: once as many KLTs have ended as the cache held, the
// cache must count none.
static void test_onoff(void)
{
  if (!start(1))
    return;
  struct upcall_kstats k = kstats();
  int first = k.spares > 0;
  if (!first)
    printf("upctest: no spare in the cache after upcalls went on: a block would stall the process\n");
  step("a reader blocked before its writer, upcalls on");
  first = first && reader_round();
  result("first", first);
  if (!first) {
    result("off", 0);
    result("again", 0);
    return;
  }
  // The woken reader's LWP parks: once none is blocked, one more look
  // counts the cache after that (the counters read it before the states).
  await_none_blocked();
  k = kstats();
  int live = kdebug(KD_LIVE_THREADS, 0), want = live - k.spares, now = live;
  step("upcalls went off and the spares ended");
  int off = uthread_upcalls(0) == 0;
  for (int t0 = uptime(); off && now > want && uptime() - t0 <= WAIT_TICKS; now = kdebug(KD_LIVE_THREADS, 0))
    sleep(1), progress++;
  struct upcall_kstats k2 = kstats();
  printf("upctest: upcalls off: %d spares were cached; live KLTs %d, then %d; the cache now counts %d, "
         "upcalls %s\n", k.spares, live, now, k2.spares, k2.on ? "on" : "off");
  off = off && now <= want && k2.spares == 0 && !k2.on;
  result("off", off);
  if (!off) {
    printf("upctest: on again not tried: %s\n", now > want ? "the spares did not end"
           : "spares that ended are still in the cache, and a block would take one");
    result("again", 0);
    return;
  }
  step("upcalls went on again and a reader blocked before its writer");
  int on = uthread_upcalls(1) == 0;
  k = kstats();
  printf("upctest: upcalls on again: %d spares cached\n", k.spares);
  int again = on && k.spares > 0 && reader_round();
  k2 = await_none_blocked();
  printf("upctest: on again: %d blocks replaced (%d before)\n", (int)k2.replaced, (int)k.replaced);
  result("again", again && k2.replaced > k.replaced && k2.blocked == 0);
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
  step("one thread slept while another worked");
  int s = uthread_create(sleeper, 0, 0);
  await_blocked(1);
  int w = uthread_create(worker, 0, 0);
  int ok = uthread_join(w) == 0;
  int during = woke_at == 0;         // the worker finished before the sleeper woke
  ok = ok && uthread_join(s) == 0;
  printf("upctest: slept at %d, worker done at %d, sleeper woke at %d\n", slept_at, worked_at,
         woke_at);
  result("overlap", ok && during && work_units == 200 && woke_at >= slept_at + 20);
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
  step("a dozen readers blocked, then were fed one by one");
  for (int i = 0; i < DOZEN; i++)
    tids[i] = uthread_create(pipe_reader, (void *)(long)i, 0);
  int all_blocked = await_blocked(DOZEN);
  struct upcall_kstats k = kstats();
  printf("upctest: %d readers blocked at once (kernel: %d blocked, %d spares)\n",
         (int)ustats().blocked, k.blocked, k.spares);
  // Each fed reader must come back through the library: its UNBLOCKED is
  // counted before the thread can run again, so a reader done before the
  // library counted it returned to user mode with its LWP (level), whatever
  // the harts were doing meanwhile. Feeding stops there: what such a
  // reader's LWP does next is luck.
  int through = 1;
  for (int i = 0; i < DOZEN && ok && through; i++) {
    char c = 'a' + i;
    ok = write(pipes[i][1], &c, 1) == 1 && await(&done_count, i + 1) && got[i] == c;
    through = ustats().unblocked >= (uint64)i + 1;
    if (!ok)
      say_stuck(i);
    else if (!through)
      printf("upctest: reader %d came back with no UNBLOCKED read by the library: feeding stops\n", i);
  }
  ok &= through;
  for (int i = 0; i < DOZEN && ok; i++)   // a reader never fed would never end
    ok &= uthread_join(tids[i]) == 0;
  k = ok ? await_none_blocked() : kstats();
  printf("upctest: fed %d of %d; at most %d LWPs in user mode at once (level %d)\n",
         done_count, DOZEN, k.maxuser, level);
  struct uthread_upcall_stats u = ustats();
  printf("upctest: the library read %d BLOCKED events, %d out of order\n", (int)u.blocked,
         (int)u.disorder);
  result("blocked", all_blocked && k.blocked == 0 && u.disorder == 0);
  result("fed", ok && done_count == DOZEN);
  result("level", all_blocked && through && k.maxuser >= 1 && k.maxuser <= level);
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
  step("two threads played ping-pong");
  int b = uthread_create(ponger, 0, 0);   // first, so it blocks on the empty pipe
  int a = uthread_create(pinger, 0, 0);
  // Every round replaces two blocks: once the first rounds have made the
  // records they need, a released LWP's record serves the next one, and
  // the heap stops growing.
  int warm = await(&pinged, ROUNDS / 5);
  char *brk = sbrk(0);
  int ok = warm && await(&pinged, ROUNDS) && uthread_join(a) == 0 && uthread_join(b) == 0;
  long grew = (long)(sbrk(0) - brk);
  struct upcall_kstats k = kstats();
  struct uthread_upcall_stats u = ustats();
  printf("upctest: %d rounds pinged, %d ponged; %d blocks replaced, %d UNBLOCKED read; at most %d "
         "LWPs in user mode; the heap grew %ld bytes after round %d\n",
         pinged, ponged, (int)k.replaced, (int)u.unblocked, k.maxuser, grew, ROUNDS / 5);
  result("rounds", ok && ponged == ROUNDS);
  // Both threads joined: every replaced block's thread came back through
  // its UNBLOCKED, whatever the harts did meanwhile.
  result("level", ok && k.maxuser == 1 && u.unblocked == k.replaced);
  result("records", ok && grew == 0);
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
  step("a child with blocked activations exec'd echo");
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
    step("a child blocked its threads and reported");
    int n = 0;
    if (pid < 0 || read(rep[0], &n, sizeof n) != sizeof n)   // child gone: it failed
      n = 0;
    close(rep[0]);
    if (n < KILL_THREADS)
      blocked = 0;
    step("a child with blocked activations was killed and reaped");
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
  result("blocked", blocked);
  result("reaped", reaped && blocked);
  result("noleak", noleak && blocked);
  result("exec", blocked && exec_ends_activations(base));
}

// ---- pollers: two LWPs read the ring at once -------------------------------------------------
// Level 2: main spins on one LWP, without polling, while a thread blocks on
// the other. The replacement reads the ring first and is held inside the
// drain, in the BLOCKED event's effect (ult_test_hook), until main has
// started a poll of its own (uthread_yield) and POLL_HOLD ticks have passed,
// or main reached an effect as well, or main's poll returned: main must
// wait for the drain (its poll returns only once the events posted before
// it are acted on) and must not act on the events the held reader is
// acting on. Then one more block whose events carry a gap in seq.
#define POLL_HOLD 30
static int poll_pipe[2];
static volatile int ph_armed, ph_held, ph_polling, ph_inside, ph_twice, ph_left, ph_back;

static void poll_hook(int event, void *obj, int tid)
{
  (void)obj;
  if (event != ULT_HOOK_LWP_BLOCKED)
    return;
  if (__atomic_add_fetch(&ph_inside, 1, __ATOMIC_SEQ_CST) > 1)
    ph_twice = 1;                    // a second LWP acts on a BLOCKED event meanwhile
  else if (__atomic_exchange_n(&ph_armed, 0, __ATOMIC_SEQ_CST)) {
    ph_held = tid + 1;
    for (int t0 = uptime(); !ph_polling && uptime() - t0 <= WAIT_TICKS;)
      progress++;
    for (int t0 = uptime(); !ph_twice && !ph_back && uptime() - t0 <= POLL_HOLD;)
      progress++;
    ph_left = 1;
  }
  __atomic_sub_fetch(&ph_inside, 1, __ATOMIC_SEQ_CST);
}

static void poll_blocker(void *arg)
{
  (void)arg;
  char c;
  read(poll_pipe[0], &c, 1);
}

static void test_pollers(void)
{
  if (!start(2) || pipe(poll_pipe) < 0)
    return;
  ph_armed = 1;
  ult_test_hook = poll_hook;
  int waited = 0;
  step("a thread blocked on the other LWP");
  uthread_create(poll_blocker, 0, 0);
  struct upcall_kstats k = kstats();   // main never polls until the reader is held
  for (int t0 = uptime(); k.replaced + k.noreplace == 0 && uptime() - t0 <= WAIT_TICKS; k = kstats())
    progress++;
  step("the replacement read the ring and was held in BLOCKED's effect");
  for (int t0 = uptime(); k.replaced > 0 && !ph_held && uptime() - t0 <= WAIT_TICKS;)
    progress++;
  if (ph_held) {                       // nothing that may block in between (a printf may)
    step("main polled while the first reader was held in the drain");
    ph_polling = 1;
    uthread_yield();                   // polls: waits for the drain, or (wrongly) enters it or skips it
    waited = ph_left;
    ph_back = 1;
  }
  printf("upctest: the block was %s; the first reader of the ring %s\n",
         k.replaced ? "replaced" : "not replaced",
         ph_held ? "was held in ulib_lwp_blocked" : "never called ulib_lwp_blocked");
  result("held", ph_held != 0);
  if (!ph_held)
    return;
  // Main in the effect too is alone's to judge; else its poll must not
  // have returned while the held reader was still acting on the events.
  if (!waited && !ph_twice)
    printf("upctest: main's poll returned while the first reader was still held in the drain: "
           "it left events behind that it may have been woken for\n");
  result("waited", waited || ph_twice);
  // The blocked thread stays blocked (the exit ends it): once two LWPs
  // have been in the drain together, every later poll may race, and the
  // test must not score what that race does.
  struct uthread_upcall_stats u = ustats();
  int alone = !ph_twice && u.disorder == 0;
  printf("upctest: %s; the library read %d events (%d BLOCKED), %d out of order\n",
         ph_twice ? "a second LWP acted on a BLOCKED event while the first reader was held"
                  : "no other LWP acted on a BLOCKED event while the first reader was held",
         (int)u.events, (int)u.blocked, (int)u.disorder);
  result("alone", alone);
  if (!alone) {
    printf("upctest: gap not tried: the library's counts are already off\n");
    result("gap", 0);
    return;
  }
  // The kernel skips one seq number (KD_UPCALL_GAP) in the events of one
  // more block: the handler must count that gap in disorder, once.
  step("main slept a tick with a gap in seq");
  int gap = kdebug(KD_UPCALL_GAP, 1) == 0 && sleep(1) == 0;
  struct upcall_kstats k2 = kstats();
  for (int t0 = uptime(); gap && ustats().events != k2.posted && uptime() - t0 <= WAIT_TICKS;
       k2 = kstats())
    uthread_yield(), progress++;
  struct uthread_upcall_stats u2 = ustats();
  printf("upctest: after a gap of one seq number: %d out of order (was %d); kernel posted %d, "
         "library read %d\n", (int)u2.disorder, (int)u.disorder, (int)k2.posted, (int)u2.events);
  result("gap", gap && u2.disorder == u.disorder + 1);
}

// ---- a burst of wake-ups larger than the ring ---------------------------------------------
#define BURST 40
static volatile int burst_until, bwoke[BURST], bdone, bstray;

// Every sleeper ends at the same tick, so all BURST wake at once and post
// 2*BURST events (UNBLOCKED, RELEASED) while nobody reads the ring. Each
// block was replaced and its BLOCKED read before any wakes (the test waits
// for that), so a sleeper may only be back once its UNBLOCKED was read: the
// first one back without that ends the test, before what follows could
// hang or not.
static void burst_sleeper(void *arg)
{
  int i = (int)(long)arg;
  int left = burst_until - uptime();
  if (left > 0 && sleep(left) == 0)
    bwoke[i] = uptime() >= burst_until;
  if (left > 0 && ustats().unblocked == 0 && __atomic_exchange_n(&bstray, 1, __ATOMIC_SEQ_CST) == 0) {
    printf("upctest: sleeper %d is back on lwp %d with no UNBLOCKED read: a woken LWP went back "
           "to user mode with its thread\n", i, lwp_self());
    result("woke", 0);
    finish();
  }
  __atomic_add_fetch(&bdone, 1, __ATOMIC_SEQ_CST);
}

static void test_burst(void)
{
  _Static_assert(BURST * 2 > UPC_RING, "the burst must overflow the ring");
  if (!start(1))
    return;
  int tids[BURST], ok = 1;
  step("a burst of sleepers blocked and woke at once");
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
    uthread_yield(), progress++;
  struct uthread_upcall_stats u = ustats();
  printf("upctest: %d of %d woke; events: kernel posted %d, library read %d "
         "(blocked %d unblocked %d released %d newlwp %d), out of order %d; "
         "the kernel waited for room %d times\n", bdone, BURST, (int)k.posted, (int)u.events,
         (int)u.blocked, (int)u.unblocked, (int)u.released, (int)u.newlwp, (int)u.disorder,
         (int)k.waits);
  result("woke", all_blocked && ok);
  result("nolost", all_blocked && u.events == k.posted && u.unblocked == BURST &&
                         u.released == BURST && u.blocked >= BURST);
  result("ordered", all_blocked && u.disorder == 0 && k.waits > 0);
  printf("upctest: after the burst: %d spares parked (at most %d), %d live KLTs in the system\n",
         k.spares, UPC_SPARES_KEEP, kdebug(KD_LIVE_THREADS, 0));
  result("bounded", all_blocked && ok && k.spares <= UPC_SPARES_KEEP);
}


// ---- events: one block and its wake-up, without the library ------------------------------
// The main LWP serves "user thread" EV_TID and sleeps one tick; its
// replacement is held back (KD_UPCALL_DELAY -1) until the observer lets it
// go, EV_DELAY ticks after the block, so the sleeper wakes first. The
// replacement starts in ev_entry, reads the ring itself and resumes the
// sleeper's thread from the UNBLOCKED frame.
#define EV_TID 5
#define EV_DELAY 30
#define EV_WANT 4                      // BLOCKED, NEWLWP, UNBLOCKED, RELEASED
static struct upcall_area ev_area __attribute__((aligned(16)));
static char ev_stack[4096] __attribute__((aligned(16)));
static int ev_tid = EV_TID, ev_wake, ev_sleeper, ev_replacement, ev_slept = -1, ev_slept_on = -1;
static volatile int ev_back;           // the sleeper is back on its own LWP
static volatile int ev_woke;           // the sleeper's sleep() returned, on whichever LWP
static char ev_observer_stack[4096] __attribute__((aligned(16)));
static struct upcall_event ev_seen[UPC_RING];
static int ev_n, ev_seq_ok;

// The position in ev_seen of the first event of type naming lwpid, or -1.
static int ev_find(int type, int lwpid)
{
  for (int i = 0; i < ev_n; i++)
    if ((int)ev_seen[i].type == type && ev_seen[i].lwpid == lwpid)
      return i;
  return -1;
}

static void ev_say(int i, const char *what)
{
  struct upcall_event *e = &ev_seen[i];
  printf("upctest: event %d: %s seq %d lwpid %d tid %d arg %d frame %s\n", i, what, (int)e->seq,
         e->lwpid, e->tid, e->arg, e->frame ? "set" : "0");
}

// Reports once, from whichever LWP gets here (the resumed sleeper, or the
// replacement when there is no frame to resume), and ends the process.
static void ev_report(void)
{
  static const char *names[] = { "?", "NEWLWP", "PREEMPTED", "BLOCKED", "UNBLOCKED", "RELEASED" };
  for (int i = 0; i < ev_n; i++)
    ev_say(i, ev_seen[i].type <= UPC_RELEASED ? names[ev_seen[i].type] : "unknown");
  int L = ev_sleeper, R = ev_replacement;
  int b = ev_find(UPC_BLOCKED, L), n = ev_find(UPC_NEWLWP, R);
  int u = ev_find(UPC_UNBLOCKED, L), r = ev_find(UPC_RELEASED, L);
  struct uframe *f = u >= 0 ? (struct uframe *)ev_seen[u].frame : 0;
  printf("upctest: %d events besides PREEMPTED; sleeper lwp %d, replacement lwp %d; the "
         "sleeper's sleep() returned %d on lwp %d\n", ev_n, L, R, ev_slept, ev_slept_on);
  result("blocked", b >= 0 && ev_seen[b].tid == EV_TID);
  result("newlwp", b >= 0 && n > b && ev_seen[n].tid == -1 && ev_seen[n].arg == L);
  result("unblocked", b >= 0 && u > b && ev_seen[u].tid == EV_TID && f != 0);
  result("released", u >= 0 && r > u && ev_seen[r].tid == -1);
  result("seq", ev_seq_ok && ev_n == EV_WANT);
  result("resumed", ev_slept == 0 && ev_slept_on == R);
  finish();
}

// The replacement: wait for the four events (PREEMPTED, advice, is left out),
// then resume the thread the UNBLOCKED event hands back. Once the sleeper is
// back on its own LWP, everything that will come is in the ring: one more
// look, and report.
static void ev_entry(void *arg)
{
  struct upcall_area *a = arg;
  ev_replacement = lwp_self();
  step("the replacement read the ring");
  uint32 i = 0;
  ev_seq_ok = 1;
  for (int t0 = uptime(), back = 0; ev_n < EV_WANT && !back && uptime() - t0 <= WAIT_TICKS;
       progress++) {
    back = __atomic_load_n(&ev_back, __ATOMIC_ACQUIRE);
    for (uint32 head = __atomic_load_n(&a->head, __ATOMIC_ACQUIRE); i != head; i++) {
      struct upcall_event *e = &a->ring[i % UPC_RING];
      ev_seq_ok &= e->seq == i;
      if (e->type != UPC_PREEMPTED && ev_n < UPC_RING)
        ev_seen[ev_n++] = *e;
    }
    __atomic_store_n(&a->tail, i, __ATOMIC_RELEASE);
  }
  int u = ev_find(UPC_UNBLOCKED, ev_sleeper);
  if (u >= 0 && ev_seen[u].frame != 0 && ev_find(UPC_RELEASED, ev_sleeper) >= 0)
    lwp_resume((struct uframe *)ev_seen[u].frame);   // on to the sleeper's thread
  ev_report();
}

// An LWP of the test's own (never an activation). Once the kernel counts
// the block replaced, and while the replacement is held, the ring may hold
// only PREEMPTED advice: BLOCKED is the replacement's to post when it
// starts serving, not the blocking LWP's on its way into the sleep. Then,
// EV_DELAY ticks on (the sleeper has woken), it lets the replacement go.
static void ev_observer(void *arg)
{
  (void)arg;
  struct upcall_kstats k = kstats();
  for (int t0 = uptime(); k.replaced == 0 && !ev_woke && uptime() - t0 <= WAIT_TICKS; k = kstats())
    sleep(1);
  if (k.replaced > 0) {
    uint32 head = __atomic_load_n(&ev_area.head, __ATOMIC_ACQUIRE), i = 0;
    while (i < head && i < UPC_RING && ev_area.ring[i].type == UPC_PREEMPTED)
      i++;
    int early = i < head && i < UPC_RING;
    if (early)
      printf("upctest: event %d (type %d, lwpid %d) was in the ring before the replacement "
             "served: the blocking LWP posted it\n", (int)i, (int)ev_area.ring[i].type,
             ev_area.ring[i].lwpid);
    result("held", !early);
    sleep(EV_DELAY);
  }
  kdebug(KD_UPCALL_DELAY, 0);
  lwp_exit();
}

static void test_events(void)
{
  ev_sleeper = lwp_self();
  ev_area.entry = (uint64)ev_entry;
  ev_area.arg = (uint64)&ev_area;
  ev_area.stack = (uint64)(ev_stack + sizeof(ev_stack));
  ev_area.wake_word = (uint64)&ev_wake;
  // Registration last: from then on any call of main's that sleeps is a
  // block, and its replacement held until the observer lets it go.
  int ok = concurrency_entry(ev_entry, &ev_area, ev_stack + sizeof(ev_stack)) == 0 &&
           lwp_create(ev_observer, 0, ev_observer_stack + sizeof(ev_observer_stack)) >= 0 &&
           lwp_tidword(&ev_tid) == 0 && kdebug(KD_UPCALL_DELAY, -1) == 0 &&
           upcall_register(&ev_area) == 0;
  if (!ok) {
    printf("upctest: could not set up upcalls without the library\n");
    return;
  }
  step("the sleeper slept");
  ev_slept = sleep(1);                 // returns on the replacement, from the frame
  ev_slept_on = lwp_self();
  ev_woke = 1;
  if (ev_slept_on == ev_sleeper && kstats().replaced > 0) {
    // Back with its thread although a replacement took over: the
    // replacement reports what the ring holds; this LWP only waits.
    ev_tid = -1;                       // its sleeps from here on post nothing
    __atomic_store_n(&ev_back, 1, __ATOMIC_RELEASE);
    for (;;)
      sleep(100);
  }
  ev_report();
}

// ---- together: a replacement's two events go into the ring together -------------------
// No library, as in events: main and then each replacement publish a
// "thread" of their own (lwp_tidword) and block for good in read() on a pipe
// nobody writes, so each block's replacement announces it and blocks in
// turn, while nobody reads the ring. After UPC_RING / 2 blocks the ring is
// full and the next replacement waits for room. An observer LWP of the
// test's own then gives back one slot, and once that replacement has looked
// again (the kernel sets kwait when it finds no room), the ring's head must
// not have moved: a replacement that takes the last slot for BLOCKED alone
// waits for room for NEWLWP while it holds it, and several announcers at
// once (level n on n harts) can each hold one until no slot is left and no
// replacement reaches user mode to read the ring: the process stops.
#define TG_WORDS 40                    // lwp_tidword words: more than the blocks that fill the ring
static struct upcall_area tg_area __attribute__((aligned(16)));
static char tg_stack[4096] __attribute__((aligned(16)));   // each user of it blocks for good
static char tg_observer_stack[4096] __attribute__((aligned(16)));
static int tg_pipe[2], tg_wake, tg_words[TG_WORDS];
static volatile int tg_entered, tg_stop;
static struct upcall_event tg_seen[UPC_RING];

// A replacement, at its upcall entry: publishes the next thread and
// blocks, until the observer has seen enough; then it only waits (a fresh
// spare's word is 0: no thread, so its sleeps are no events).
static void tg_entry(void *arg)
{
  (void)arg;
  int n = __atomic_add_fetch(&tg_entered, 1, __ATOMIC_SEQ_CST);
  progress++;
  if (!tg_stop && n < TG_WORDS) {
    tg_words[n] = 100 + n;
    lwp_tidword(&tg_words[n]);
  }
  char c;
  read(tg_pipe[0], &c, 1);
  for (;;)
    sleep(100);
}

// Waits until a poster has found no room since kwait was last cleared with
// at most one slot free (PREEMPTED advice, which never waits, also sets
// kwait when it finds fewer than 1 + UPC_RESERVE), or a block went without
// a replacement, or WAIT_TICKS; 1 on the first.
static int tg_await_kwait(void)
{
  for (int t0 = uptime(); uptime() - t0 <= WAIT_TICKS; sleep(1)) {
    uint32 used = __atomic_load_n(&tg_area.head, __ATOMIC_ACQUIRE) - tg_area.tail;
    if (__atomic_load_n(&tg_area.kwait, __ATOMIC_ACQUIRE) && used >= UPC_RING - 1)
      return 1;
    if (kstats().noreplace > 0)
      return 0;
  }
  return 0;
}

// 1 if every BLOCKED in tg_seen[0..n) is followed at once by the NEWLWP of
// the replacement that announced it.
static int tg_paired(int n)
{
  for (int i = 0; i < n; i++)
    if (tg_seen[i].type == UPC_BLOCKED &&
        (i + 1 >= n || tg_seen[i + 1].type != UPC_NEWLWP || tg_seen[i + 1].arg != tg_seen[i].lwpid)) {
      printf("upctest: event %d (BLOCKED of lwp %d) is not followed by its NEWLWP\n", i,
             tg_seen[i].lwpid);
      return 0;
    }
  return 1;
}

// Gives slots back up to new_tail, then clears kwait and wakes the posters:
// the library's order (tail, then kwait), so a poster that sets kwait after
// the clear reads the new tail.
static void tg_give_back(uint32 new_tail)
{
  __atomic_store_n(&tg_area.tail, new_tail, __ATOMIC_SEQ_CST);
  __atomic_store_n(&tg_area.kwait, 0, __ATOMIC_SEQ_CST);
  futex_wake((int *)&tg_area.tail, 1 << 30);
}

static void tg_observer(void *arg)
{
  (void)arg;
  int full = tg_await_kwait();
  struct upcall_kstats k = kstats();   // the ring's lock: the post that set kwait is over
  uint32 head = __atomic_load_n(&tg_area.head, __ATOMIC_ACQUIRE), used = head - tg_area.tail;
  for (uint32 i = 0; i < used && i < UPC_RING; i++)
    tg_seen[i] = tg_area.ring[(tg_area.tail + i) % UPC_RING];
  printf("upctest: %d blocks replaced, %d not; %d replacements reached user mode; the ring holds %d "
         "events and a poster %s for room\n", (int)k.replaced, (int)k.noreplace, tg_entered,
         (int)used, full ? "waits" : "does not wait");
  full = full && used >= UPC_RING - 1 && tg_paired(used);
  result("full", full);
  int together = 0;
  if (full) {
    step("the observer gave back one slot to the waiting replacement");
    tg_give_back(head - (UPC_RING - 1));
    int looked = tg_await_kwait();
    kstats();                          // the lock again: that look is over
    uint32 head2 = __atomic_load_n(&tg_area.head, __ATOMIC_ACQUIRE);
    together = looked && head2 == head;
    if (head2 != head)
      printf("upctest: with one slot free the waiting replacement posted %d event%s (type %d): it "
             "now waits for room for the other while it holds the ring's last slot\n",
             (int)(head2 - head), head2 - head == 1 ? "" : "s", (int)tg_area.ring[head % UPC_RING].type);
    else
      printf("upctest: with one slot free the waiting replacement %s\n",
             looked ? "posted nothing and waits for two" : "never looked again");
  }
  result("together", together);
  int drained = 0;
  if (full) {
    step("the observer gave back the whole ring");
    tg_stop = 1;
    int entered = tg_entered;
    uint32 head2 = __atomic_load_n(&tg_area.head, __ATOMIC_ACQUIRE);
    tg_give_back(head2);
    for (int t0 = uptime(); tg_entered == entered && uptime() - t0 <= WAIT_TICKS;)
      sleep(1);
    uint32 head3 = __atomic_load_n(&tg_area.head, __ATOMIC_ACQUIRE);
    for (uint32 i = head2; i != head3 && i - head2 < UPC_RING; i++)
      tg_seen[i - head2] = tg_area.ring[i % UPC_RING];
    drained = tg_entered > entered && tg_paired(head3 - head2);
    printf("upctest: with the ring given back, %d more replacement%s reached user mode\n",
           tg_entered - entered, tg_entered - entered == 1 ? "" : "s");
  }
  result("drained", drained);
  finish();
}

static void test_together(void)
{
  tg_area.entry = (uint64)tg_entry;
  tg_area.arg = (uint64)&tg_area;
  tg_area.stack = (uint64)(tg_stack + sizeof(tg_stack));
  tg_area.wake_word = (uint64)&tg_wake;
  tg_words[0] = 100;
  // Registration last: from then on main's read() is a block.
  int ok = pipe(tg_pipe) == 0 &&
           concurrency_entry(tg_entry, &tg_area, tg_stack + sizeof(tg_stack)) == 0 &&
           lwp_create(tg_observer, 0, tg_observer_stack + sizeof(tg_observer_stack)) >= 0 &&
           lwp_tidword(&tg_words[0]) == 0 && upcall_register(&tg_area) == 0;
  if (!ok) {
    printf("upctest: could not set up upcalls without the library\n");
    return;
  }
  step("replacements blocked in turn until the ring was full");
  char c;
  read(tg_pipe[0], &c, 1);             // nobody writes: the observer reports
  for (;;)
    sleep(100);
}

// ---- fullring: a block while the wake-ups have filled the ring -------------------------
// FILL sleepers wake at once while the only serving thread (main) runs user
// code without reading the ring: their UNBLOCKED and RELEASED events fill it
// as far as wake-ups may. Then main blocks in read(): its replacement must
// still find room to announce, reach the library and drain the ring, so that
// a woken sleeper can write the byte main waits for.
#define FILL 30
static int fill_pipe[2];
static volatile int fill_until, fill_done;

static void fill_sleeper(void *arg)
{
  int left = fill_until - uptime();
  if (left > 0)
    sleep(left);
  if (__atomic_add_fetch(&fill_done, 1, __ATOMIC_SEQ_CST) == 1)
    write(fill_pipe[1], "x", 1);       // the first one back frees main
  (void)arg;
}

static void test_fullring(void)
{
  _Static_assert(FILL * 2 > UPC_RING, "the wake-ups must be able to fill the ring");
  if (!start(1) || pipe(fill_pipe) < 0)
    return;
  int tids[FILL], ok = 1;
  fill_until = uptime() + 100;
  for (int i = 0; i < FILL && ok; i++)
    ok = (tids[i] = uthread_create(fill_sleeper, 0, 0)) >= 0;
  int all_blocked = ok && await_blocked(FILL) && uptime() < fill_until;
  step("main waited, without reading the ring, for a wake-up to wait for room");
  struct upcall_kstats k = kstats();
  for (int t0 = uptime(); all_blocked && k.waits == 0 && uptime() - t0 <= WAIT_TICKS; k = kstats())
    progress++;
  int unread = (int)(k.posted - ustats().events);
  printf("upctest: %d sleepers blocked; ring: %d events posted, %d read, a wake-up waited for "
         "room %d times\n", FILL, (int)k.posted, (int)(k.posted - unread), (int)k.waits);
  result("filled", all_blocked && k.waits > 0);
  if (!all_blocked || k.waits == 0)
    return;
  // Nothing reads the ring now: what the wake-ups left in it is all the
  // ring holds, and the first of them to wait found it as full as they may.
  printf("upctest: the wake-ups filled %d of %d slots (at most %d: UPC_RESERVE %d stay free)\n",
         unread, UPC_RING, UPC_RING - UPC_RESERVE, UPC_RESERVE);
  result("reserve", unread <= UPC_RING - UPC_RESERVE);
  step("main blocked in read() with the ring full of wake-ups");
  char c = 0;
  int n = read(fill_pipe[0], &c, 1);
  step("main came back");
  printf("upctest: main's read() returned %d ('%c'): its replacement announced and drained the ring\n",
         n, c ? c : '?');
  result("replaced", n == 1 && c == 'x');
  ok = await(&fill_done, FILL);
  for (int i = 0; i < FILL; i++)
    ok &= uthread_join(tids[i]) == 0;
  k = await_none_blocked();
  struct uthread_upcall_stats u = ustats();
  printf("upctest: %d of %d sleepers back; kernel posted %d, library read %d, out of order %d\n",
         fill_done, FILL, (int)k.posted, (int)u.events, (int)u.disorder);
  result("ordered", ok && u.disorder == 0 && u.unblocked >= FILL + 1);
}

// ---- roundtrip: the cost of one block and its UNBLOCKED ------------------------------------
// Two threads at level 1 bounce a byte through two pipes: each round trip
// is two blocks, each with its BLOCKED and NEWLWP, and two wake-ups, each
// with its UNBLOCKED handled and the thread resumed. Graded under -icount
// (one guest instruction per nanosecond, rdtime ticks every 100).
#define RT_ROUNDS 100
static int rt_up[2], rt_down[2];

static void rt_partner(void *arg)
{
  (void)arg;
  char c;
  for (int i = 0; i <= RT_ROUNDS; i++)
    if (read(rt_down[0], &c, 1) != 1 || write(rt_up[1], &c, 1) != 1)
      break;
}

static volatile uint64 rt_insns;
static volatile int rt_rounds;

static void rt_pinger(void *arg)
{
  (void)arg;
  char c = 'x';
  if (write(rt_down[1], &c, 1) != 1 || read(rt_up[0], &c, 1) != 1)   // warm up (and spares)
    return;
  uint64 t0 = rdtime();
  for (int i = 0; i < RT_ROUNDS; i++, rt_rounds++)
    if (write(rt_down[1], &c, 1) != 1 || read(rt_up[0], &c, 1) != 1)
      return;
  rt_insns = (rdtime() - t0) * 100;
}

// Then DRAIN sleepers, each blocked in futex_wait on one gate, are woken by
// one futex_wake: more wake-ups than the ring holds. How long from the first
// of them back in user mode to the last. The gate, not a timed sleep, wakes
// them together: a sleep(dr_until - uptime()) that a tick interrupts between
// its two readings of the clock wakes a tick after the others. A poster that
// finds the ring full looks again only after DR_ROOM_WAIT ticks
// (KD_UPCALL_ROOM_WAIT), so a library that never wakes it (kwait) costs the
// drain that long every time, not anything from 0 to a tick.
#define DRAIN 40
#define DR_ROOM_WAIT 30
static int dr_gate;
static volatile uint64 dr_first, dr_last;

static void dr_sleeper(void *arg)
{
  (void)arg;
  while (__atomic_load_n(&dr_gate, __ATOMIC_ACQUIRE) == 0)
    futex_wait(&dr_gate, 0, 0);
  uint64 now = rdtime();             // level 1: one thread in user mode at a time
  if (dr_first == 0)
    dr_first = now;
  dr_last = now;
}

static void test_roundtrip(void)
{
  if (!start(1) || pipe(rt_up) < 0 || pipe(rt_down) < 0)
    return;
  step("two threads bounced a byte");
  int b = uthread_create(rt_partner, 0, 0);
  int a = uthread_create(rt_pinger, 0, 0);
  int ok = uthread_join(a) == 0 && rt_rounds == RT_ROUNDS && uthread_join(b) == 0;
  struct upcall_kstats k = kstats();
  uint64 per = ok ? rt_insns / RT_ROUNDS : 0;
  printf("upctest: %d round trips, %d blocks replaced; %d guest instructions per round trip "
         "(bound %d)\n", rt_rounds, (int)k.replaced, (int)per, ROUNDTRIP_BOUND);
  result("rounds", ok && k.replaced >= 2 * RT_ROUNDS);
  result("fast", ok && k.replaced >= 2 * RT_ROUNDS && per <= ROUNDTRIP_BOUND);
  step("a burst of sleepers woke at once");
  _Static_assert(DRAIN * 2 > UPC_RING, "the burst must overflow the ring");
  int tids[DRAIN];
  uint64 before = ustats().blocked;
  for (int i = 0; i < DRAIN; i++)
    ok &= (tids[i] = uthread_create(dr_sleeper, 0, 0)) >= 0;
  ok &= await_blocked(before + DRAIN);
  ok &= kdebug(KD_UPCALL_ROOM_WAIT, DR_ROOM_WAIT) == 0;
  __atomic_store_n(&dr_gate, 1, __ATOMIC_RELEASE);
  futex_wake(&dr_gate, DRAIN);
  for (int i = 0; i < DRAIN; i++)
    ok &= uthread_join(tids[i]) == 0;
  kdebug(KD_UPCALL_ROOM_WAIT, 0);
  uint64 drain = (dr_last - dr_first) * 100;
  printf("upctest: %d sleepers back within %d guest instructions of the first (bound %d); "
         "a poster waited for room %d times\n", DRAIN, (int)drain, DRAIN_BOUND,
         (int)(kstats().waits - k.waits));
  result("drain", ok && dr_first != 0 && kstats().waits > k.waits && drain <= DRAIN_BOUND);
}

int main(int argc, char *argv[])
{
  grade_init(&argc, &argv);
  if (argc < 2) {
    fprintf(2, "usage: upctest events|reader|sleep|dozen1|dozen2|pollers|pingpong|kill|burst|fullring|"
            "roundtrip|onoff|together\n");
    exit(1);
  }
  char *t = argv[1];
  lwp_create(watchdog, 0, watch_stack + sizeof(watch_stack));
  if (strcmp(t, "events") == 0)
    test_events();
  else if (strcmp(t, "fullring") == 0)
    test_fullring();
  else if (strcmp(t, "roundtrip") == 0)
    test_roundtrip();
  else if (strcmp(t, "reader") == 0)
    test_reader();
  else if (strcmp(t, "onoff") == 0)
    test_onoff();
  else if (strcmp(t, "together") == 0)
    test_together();
  else if (strcmp(t, "sleep") == 0)
    test_sleep();
  else if (strcmp(t, "dozen1") == 0)
    test_dozen(1);
  else if (strcmp(t, "dozen2") == 0)
    test_dozen(2);
  else if (strcmp(t, "pollers") == 0)
    test_pollers();
  else if (strcmp(t, "pingpong") == 0)
    test_pingpong();
  else if (strcmp(t, "kill") == 0)
    test_kill();
  else if (strcmp(t, "burst") == 0)
    test_burst();
  else
    fprintf(2, "upctest: no test %s\n", t);
  finish();
  return 0;
}
