// Graded tests of lab signals: which thread takes a signal, and how.
// Run as `sigtest --token T NAME`, one test per run:
//   deliver    one LWP: the handler runs before the sending call returns,
//              with its signal blocked; the interrupted mask comes back;
//              a blocked signal stays pending (one bit a set) and none is
//              lost; two ready at once are taken lowest first; with a
//              second LWP, the LWP's own copy is taken before the process's
//   registers  signals from another LWP land anywhere in a computation held
//              in registers, which still gives the right result
//   defaults   default actions, SIG_IGN, and SIGKILL (never caught, ignored
//              or blocked)
//   interrupt  a sleeping LWP sent a signal (lwp_sigsend) leaves its pipe
//              read, sleep, futex_wait and lwp_join with -1, after its
//              handler ran (wait is left to sigtests: its sleep also ends
//              whenever another LWP of the process goes off its CPU, and then
//              sees the signal, so no test of it tells a sleep ended for
//              the signal from one that was not)
//   sleeper    a process-directed signal with no LWP in user code: an LWP
//              asleep in an interruptible call takes it, never one that
//              blocks it; alarm ends the sleep of a one-LWP process; a
//              sleeper that runs as soon as its sleep ends (the sender held
//              there by KD_SIG_ABORT_WAIT) must find the signal its own
//   prefer     an LWP running user code is preferred to a sleeper, whose
//              call is then left alone
//   onetaker   three LWPs in user code: each process-directed signal runs
//              once, never where it is blocked; pending while all block it
//   mnmask     M:N: a process-directed signal goes to the one thread that
//              does not mask it; pending while every thread masks it
//   mnswitch   M:N on one LWP: the kernel mask follows the thread it runs
//   mnkill     uthread_kill: the named thread, held while it masks the
//              signal, at once for the caller; SIGKILL ends the process
//   badargs    bad input returns -1 and changes nothing (kernel and library)
//   roundtrip  guest instructions per send-to-self, handler, return (graded
//              under -icount), against ROUNDTRIP_BOUND
// Each test runs in a child process that records its checks in its exit
// status; the parent reports them, so a signal that ends the child (every
// signal does, in the untouched handout) fails the test at once. Each wait
// is bounded (WAIT_TICKS) and then undone by the test itself (a byte
// written, a flag set), and a watchdog ends a child still running after
// WATCH_TICKS: a hole fails, never hangs.
#include "user/user.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "grade/testlib/grade.h"

#define WAIT_TICKS 50          // a bound on every wait for a handler (a delivery takes a tick or two)
#define WATCH_TICKS 600        // a child still running after this is ended
#define ROUNDTRIP_BOUND 4000   // guest instructions per round trip (reference: see README)
#define STACK 8192
#define BIT(s) ((uint64)1 << (s))
#define MAGIC 0x5a             // in bits 16..23 of a child's exit status: it reported

// ---- recording checks (in the child) --------------------------------------------------

static const char *const *check_names;
static volatile int passed;    // bit i: check i held (any LWP of the child may record)

static void check(int i, int ok, const char *saw)
{
  if (ok)
    __atomic_fetch_or(&passed, 1 << i, __ATOMIC_SEQ_CST);
  else
    printf("  %s: %s\n", check_names[i], saw);
}

static void report(void)
{
  exit((MAGIC << 16) | __atomic_load_n(&passed, __ATOMIC_SEQ_CST));
}

// ---- the handler and helpers ------------------------------------------------------

static volatile int hits[NSIG];        // handler runs per signal
static volatile int taker_lwp;         // lwp_self() of the last handler run
static volatile int taker_tid = -2;    // uthread_self() of the last handler run (M:N tests)
static volatile uint64 mask_in_handler;

static void handler(int sig)
{
  uint64 m = 0;
  sigprocmask(SIG_BLOCK, 0, &m);
  mask_in_handler = m;
  taker_lwp = lwp_self();
  taker_tid = uthread_self();
  if (sig > 0 && sig < NSIG)
    __atomic_fetch_add(&hits[sig], 1, __ATOMIC_SEQ_CST);
}

static uint64 cur_mask(void)
{
  uint64 m = ~0ull;
  sigprocmask(SIG_BLOCK, 0, &m);
  return m;
}

static uint64 pending(void)
{
  uint64 p = ~0ull;
  sigpending(&p);
  return p;
}

static char *new_stack(void)
{
  char *s = malloc(STACK);
  return s ? s + STACK : 0;
}

static void wait_hits(int sig, int n)
{
  for (int i = 0; i < WAIT_TICKS && hits[sig] < n; i++)
    sleep(1);
}

// Is LWP lwpid of this process asleep in the kernel (procinfo says so:
// past the look for a ready signal that a sleep makes before it starts)?
static int asleep(int lwpid)
{
  static struct procinfo pi[64];
  int n = procinfo(pi, 64);
  for (int i = 0; i < n; i++) {
    if (pi[i].pid != getpid())
      continue;
    for (int k = 0; k < pi[i].nlwp; k++)
      if (pi[i].lwps[k].lwpid == lwpid)
        return strcmp(pi[i].lwps[k].state_name, "sleep") == 0;
  }
  return 0;
}

static void wait_asleep(volatile int *lwpid)
{
  for (int i = 0; i < WAIT_TICKS && (*lwpid <= 0 || !asleep(*lwpid)); i++)
    sleep(1);
}

// ---- deliver ----------------------------------------------------------------------

static const char *const deliver_checks[] = { "runs", "blocked", "restored", "pending", "kept",
                                               "lowest", "ownfirst", 0 };
static volatile int order[4], norder;
static volatile uint64 order_mask[4];

// Records its signal, then the mask it runs with. Two signals ready at one
// return to user mode may both be taken there, the second one's frame on
// top of the first's: then the first handler to run is the second one's,
// and the first signal taken is blocked in it.
static void order_handler(int sig)
{
  int i = norder++;
  if (i >= 4)
    return;
  order[i] = sig;
  order_mask[i] = cur_mask();
}

// ownfirst: LWP A (the test's) and LWP B block SIGUSR1; it is sent to A and
// to the process; A unblocks it and takes one copy, and in its handler (the
// signal blocked) lets B unblock it: the process's copy must be left for B.
static volatile int own_a, own_go, own_done, own_b_ready, own_stop;
static volatile int own_hits_a, own_hits_b;

static void own_handler(int sig)
{
  (void)sig;
  if (lwp_self() != own_a) {
    own_hits_b++;
    return;
  }
  own_hits_a++;
  own_go = 1;
  for (int i = 0; i < WAIT_TICKS && !own_done; i++)
    sleep(1);
}

static void own_b(void *arg)
{
  (void)arg;
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  own_b_ready = 1;
  while (!own_go && !own_stop)
    ;
  sigprocmask(SIG_UNBLOCK, BIT(SIGUSR1), 0);   // takes the process's copy, if still pending
  own_done = 1;
  while (!own_stop)
    ;
  lwp_exit();
}

static int own_set_first(void)
{
  signal(SIGUSR1, own_handler);
  own_a = lwp_self();
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  int b = lwp_create(own_b, 0, new_stack());
  for (int i = 0; i < WAIT_TICKS && !own_b_ready; i++)
    sleep(1);
  lwp_sigsend(own_a, SIGUSR1);
  sigsend(getpid(), SIGUSR1);      // every LWP blocks it: pending for the process
  sigprocmask(SIG_SETMASK, 0, 0);  // A takes one; B unblocks it in A's handler
  for (int i = 0; i < WAIT_TICKS && own_hits_a + own_hits_b < 2; i++)
    sleep(1);
  own_stop = 1;
  if (b > 0)
    lwp_join(b);
  if (own_hits_a != 1 || own_hits_b != 1)
    printf("  SIGUSR1 pending for LWP A and for the process, A unblocked it, and B in A's handler: "
           "A ran the handler %d times, B %d times (want 1 and 1)\n", own_hits_a, own_hits_b);
  return b > 0 && own_hits_a == 1 && own_hits_b == 1;
}

static void t_deliver(void)
{
  signal(SIGUSR1, handler);
  signal(SIGUSR2, handler);
  volatile uint64 a = 0x1234567890abcdefull, b = 42;
  sigsend(getpid(), SIGUSR1);
  int h1 = hits[SIGUSR1];
  lwp_sigsend(lwp_self(), SIGUSR1);
  int h2 = hits[SIGUSR1];
  if (h1 != 1 || h2 != 2)
    printf("  handler runs after sigsend %d, after lwp_sigsend %d\n", h1, h2);
  check(0, h1 == 1 && h2 == 2 && a == 0x1234567890abcdefull && b == 42,
        "the handler did not run once before the call returned, or the caller's state changed");

  sigprocmask(SIG_SETMASK, BIT(SIGUSR2), 0);
  sigsend(getpid(), SIGUSR1);
  int ran = hits[SIGUSR1] == 3;
  uint64 in = mask_in_handler, after = cur_mask();
  if (in != (BIT(SIGUSR1) | BIT(SIGUSR2)) || after != BIT(SIGUSR2))
    printf("  mask before 0x%lx, in the handler 0x%lx, after 0x%lx\n", BIT(SIGUSR2), in, after);
  check(1, ran && in == (BIT(SIGUSR1) | BIT(SIGUSR2)), "the handler's own signal was not blocked in it");
  check(2, ran && after == BIT(SIGUSR2), "the mask the handler interrupted did not come back");

  sigsend(getpid(), SIGUSR2);
  sigsend(getpid(), SIGUSR2);
  int early = hits[SIGUSR2];
  uint64 p = pending();
  sigprocmask(SIG_UNBLOCK, BIT(SIGUSR2), 0);
  int once = hits[SIGUSR2];
  uint64 left = pending();
  if (early != 0 || p != BIT(SIGUSR2) || once != 1 || left != 0)
    printf("  blocked SIGUSR2 sent twice: %d runs, pending 0x%lx; unblocked: %d runs, pending 0x%lx\n",
           early, p, once, left);
  check(3, early == 0 && p == BIT(SIGUSR2) && once == 1 && left == 0 && cur_mask() == 0,
        "a blocked signal was not pending, or ran other than once when unblocked");

  // Nothing ready is lost: two blocked signals, one blocked while a
  // higher-numbered one runs, and one pending both for the LWP and for the process.
  int u1 = hits[SIGUSR1], u2 = hits[SIGUSR2];
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  sigsend(getpid(), SIGUSR1);
  sigsend(getpid(), SIGUSR2);
  int high = hits[SIGUSR2] - u2, low = hits[SIGUSR1] - u1;
  lwp_sigsend(lwp_self(), SIGUSR1);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1) | BIT(SIGUSR2), 0);
  sigsend(getpid(), SIGUSR2);
  sigprocmask(SIG_SETMASK, 0, 0);
  int r1 = hits[SIGUSR1] - u1, r2 = hits[SIGUSR2] - u2;
  if (high != 1 || low != 0 || r1 != 2 || r2 != 2)
    printf("  SIGUSR2 ran %d while SIGUSR1 was blocked (%d); after: SIGUSR1 %d runs (want 2), SIGUSR2 %d (want 2)\n",
           high, low, r1, r2);
  check(4, high == 1 && low == 0 && r1 == 2 && r2 == 2 && pending() == 0,
        "a pending signal was lost or delivered while blocked");

  // Two ready at once: SIGUSR2 sent before SIGUSR1, both blocked, then
  // both unblocked by one call.
  signal(SIGUSR1, order_handler);
  signal(SIGUSR2, order_handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1) | BIT(SIGUSR2), 0);
  sigsend(getpid(), SIGUSR2);
  sigsend(getpid(), SIGUSR1);
  sigprocmask(SIG_SETMASK, 0, 0);
  int other = order[0] == SIGUSR1 ? SIGUSR2 : SIGUSR1;
  int first = order_mask[0] & BIT(other) ? other : order[0];   // taken first
  int lowest = norder == 2 && order[0] != order[1] && first == SIGUSR1;
  if (!lowest)
    printf("  SIGUSR2 and SIGUSR1 ready at once: %d handler runs; the first run was signal %d's, "
           "with mask 0x%lx: signal %d was taken first\n", norder, order[0], order_mask[0], first);
  check(5, lowest, "two ready signals were not taken lowest first");
  check(6, own_set_first(), "a signal pending for the LWP and for the process was not taken from "
        "the LWP's own set first");
}

// ---- registers --------------------------------------------------------------------

static const char *const registers_checks[] = { "ran", "regs", 0 };
static volatile int regs_done;
static volatile int regs_sends;        // lwp_sigsend calls the sender has made
static volatile uint64 regs_seed = 1;

#define REGS_HITS 20                   // handlers that must land in the work
#define REGS_ROUND 100000              // iterations of regs_work per round
#define REGS_IDLE_SENDS 100000         // sends with no handler: delivery is broken

static void regs_sender(void *arg)
{
  int target = (int)(uint64)arg;
  while (!regs_done) {
    lwp_sigsend(target, SIGUSR1);
    regs_sends++;
  }
  lwp_exit();
}

static uint64 regs_work(int n)
{
  uint64 a = regs_seed, b = 2, c = 3;
  for (int i = 0; i < n; i++) {
    a = a * 6364136223846793005ull + b;
    b ^= a >> 13;
    c += a ^ (b << 7);
  }
  return a ^ b ^ c;
}

static void busy_handler(int sig)
{
  handler(sig);
  (void)regs_work(50);
}

// The work goes on until REGS_HITS handlers have landed in it, however slow
// the sender's CPU is: it ends early only when the sender has sent
// REGS_IDLE_SENDS times since the last handler ran (then delivery is broken,
// and waiting longer would show nothing more).
static void t_registers(void)
{
  signal(SIGUSR1, busy_handler);
  uint64 want = regs_work(REGS_ROUND);
  int id = lwp_create(regs_sender, (void *)(uint64)lwp_self(), new_stack());
  uint64 got = 0;
  int seen = 0, sends_then = 0;
  while (hits[SIGUSR1] < REGS_HITS) {
    got |= regs_work(REGS_ROUND) ^ want;
    if (hits[SIGUSR1] != seen) {
      seen = hits[SIGUSR1];
      sends_then = regs_sends;
    } else if (regs_sends - sends_then > REGS_IDLE_SENDS) {
      break;
    }
  }
  regs_done = 1;
  lwp_join(id);
  printf("  %d handlers ran during the work, %d sends\n", hits[SIGUSR1], regs_sends);
  check(0, hits[SIGUSR1] >= REGS_HITS, "fewer than 20 handlers ran while another LWP kept sending");
  check(1, hits[SIGUSR1] > 0 && got == 0, "the interrupted computation's registers changed");
}

// ---- defaults ---------------------------------------------------------------------

static const char *const defaults_checks[] = { "fatal", "ignored", "caught", "sigkill", 0 };

// The exit status of a child that sends itself sig with handler h (or the default).
static int child_status(int sig, sighandler_t h, uint64 mask)
{
  int pid = fork();
  if (pid == 0) {
    if (h != SIG_DFL)
      signal(sig, h);
    sigprocmask(SIG_SETMASK, mask, 0);
    sigsend(getpid(), sig);
    sigprocmask(SIG_SETMASK, 0, 0);
    exit(7);
  }
  int st = 0;
  if (pid < 0 || wait(&st) != pid)
    return -100;
  return st;
}

static void t_defaults(void)
{
  int usr1 = child_status(SIGUSR1, SIG_DFL, 0), term = child_status(SIGTERM, SIG_DFL, 0);
  int late = child_status(SIGALRM, SIG_DFL, BIT(SIGALRM));
  if (usr1 != -1 || term != -1 || late != -1)
    printf("  default SIGUSR1: status %d, SIGTERM %d, SIGALRM once unblocked %d (want -1)\n", usr1, term, late);
  check(0, usr1 == -1 && term == -1 && late == -1, "a signal whose default is fatal did not end the process");
  int chld = child_status(SIGCHLD, SIG_DFL, 0), ign = child_status(SIGTERM, SIG_IGN, 0);
  if (chld != 7 || ign != 7)
    printf("  default SIGCHLD: status %d, ignored SIGTERM %d (want 7)\n", chld, ign);
  check(1, chld == 7 && ign == 7, "SIGCHLD by default, or an ignored signal, ended the process");
  int caught = child_status(SIGTERM, handler, 0);
  check(2, caught == 7, "a caught SIGTERM ended the process");

  int ok = signal(SIGKILL, handler) == (sighandler_t)-1 && signal(SIGKILL, SIG_IGN) == (sighandler_t)-1;
  sigprocmask(SIG_SETMASK, ~0ull, 0);
  ok = ok && !(cur_mask() & BIT(SIGKILL));
  int fds[2];
  pipe(fds);
  int pid = fork();
  if (pid == 0) {
    signal(SIGTERM, handler);
    write(fds[1], "r", 1);
    for (;;)
      sleep(100);
  }
  char c;
  read(fds[0], &c, 1);
  int st = 0;
  sigsend(pid, SIGKILL);
  int waited = wait(&st);
  if (!ok || waited != pid || st != -1)
    printf("  SIGKILL refused by signal and masks: %d; a child blocking all: wait %d status %d\n", ok, waited, st);
  check(3, ok && waited == pid && st == -1, "SIGKILL could be caught, ignored or blocked");
  sigprocmask(SIG_SETMASK, 0, 0);
}

// ---- interrupt --------------------------------------------------------------------

static const char *const interrupt_checks[] = { "read", "sleep", "futex", "join", 0 };
static volatile int main_lwp;
static int fds[2];
static volatile int call_done, rescued;
static int futex_word;
static volatile int waiter_go;

// Once the main LWP is asleep in its call, sends it SIGUSR1; if the call has
// not returned WAIT_TICKS later, ends it the ordinary way.
static void intr_sender(void *arg)
{
  int which = (int)(uint64)arg;
  wait_asleep(&main_lwp);
  lwp_sigsend(main_lwp, SIGUSR1);
  for (int i = 0; i < 2 * WAIT_TICKS && !call_done; i++)
    sleep(1);
  if (!call_done) {
    rescued = 1;
    if (which == 0)
      write(fds[1], "x", 1);
    else if (which == 2)
      futex_wake(&futex_word, 1);
    else if (which == 3)
      waiter_go = 1;
  }
  lwp_exit();
}

static void intr_waiter(void *arg)
{
  (void)arg;
  while (!waiter_go)
    sleep(1);
  lwp_exit();
}

static void t_interrupt(void)
{
  static const char *what[] = { "pipe read", "sleep", "futex_wait", "lwp_join" };
  signal(SIGUSR1, handler);
  pipe(fds);
  main_lwp = lwp_self();
  int waiter = lwp_create(intr_waiter, 0, new_stack());
  for (int which = 0; which < 4; which++) {
    call_done = rescued = 0;
    int h = hits[SIGUSR1];
    int id = lwp_create(intr_sender, (void *)(uint64)which, new_stack());
    int r = 0;
    char c;
    if (which == 0)
      r = read(fds[0], &c, 1);
    else if (which == 1)
      r = sleep(WAIT_TICKS * 2);
    else if (which == 2)
      r = futex_wait(&futex_word, 0, 0);
    else
      r = lwp_join(waiter);
    int ran = hits[SIGUSR1] - h;
    call_done = 1;
    lwp_join(id);
    if (r != -1 || ran != 1)
      printf("  %s returned %d after %d handler runs%s\n", what[which], r, ran,
             rescued ? " (ended by the test, not by the signal)" : "");
    check(which, r == -1 && ran == 1 && !rescued, "not interrupted, or returned before its handler ran");
  }
  waiter_go = 1;
  lwp_join(waiter);
}

// ---- sleeper ----------------------------------------------------------------------

static const char *const sleeper_checks[] = { "sleeper", "skips", "intact", "alarm", "handed", 0 };
static volatile int rd_ret[2] = { -2, -2 }, rd_lwp[2];
static int rd_fds[2][2];

static void reader(void *arg)
{
  int i = (int)(uint64)arg;
  sigprocmask(SIG_SETMASK, i == 1 ? BIT(SIGUSR1) : 0, 0);
  rd_lwp[i] = lwp_self();
  char c;
  rd_ret[i] = read(rd_fds[i][0], &c, 1);
  lwp_exit();
}

// A sleeper chosen to take a signal may run as soon as its sleep ends:
// the kernel (KD_SIG_ABORT_WAIT) holds the sender just after it ends the
// reader's sleep, until the reader has slept again or 30 ticks passed.
// The signal must be the reader's own by then, so its read fails instead
// of sleeping again for good. The hook holds the sender only if the reader
// runs on another CPU (a fresh reader goes to the least busy one): tried
// up to 5 times.
static void sleeper_handed(void)
{
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  int waited = 0, before = 0, ret = -2;
  for (int try = 0; try < 5 && !waited; try++) {
    rd_lwp[0] = 0;
    rd_ret[0] = -2;
    pipe(rd_fds[0]);
    int id = lwp_create(reader, 0, new_stack());
    wait_asleep(&rd_lwp[0]);
    before = hits[SIGUSR1];
    kdebug(KD_SIG_ABORT_WAIT, 30);
    sigsend(getpid(), SIGUSR1);
    waited = kdebug(KD_SIG_ABORT_WAIT, 0);
    for (int t = 0; t < WAIT_TICKS && rd_ret[0] == -2; t++)
      sleep(1);
    write(rd_fds[0][1], "x", 1);
    lwp_join(id);
    ret = rd_ret[0];
    close(rd_fds[0][0]);
    close(rd_fds[0][1]);
    if (!waited)
      wait_hits(SIGUSR1, before + 1);   // taken: not left for the next try
  }
  int took = hits[SIGUSR1] - before;
  if (!waited || ret != -1 || took != 1 || taker_lwp != rd_lwp[0])
    printf("  held after ending the reader's sleep (%s): read returned %d, %d handler runs, the last on lwp %d "
           "(reader %d)\n", waited ? "held" : "never on another CPU", ret, took, taker_lwp, rd_lwp[0]);
  check(4, waited && ret == -1 && took == 1 && taker_lwp == rd_lwp[0],
        "a sleeper woken before its signal was its own slept again: its read did not fail");
  sigprocmask(SIG_SETMASK, 0, 0);
}

static void t_sleeper(void)
{
  signal(SIGUSR1, handler);
  signal(SIGALRM, handler);
  // The main LWP blocks SIGUSR1 and sleeps; one reader blocks it too and
  // is newer (first in the kernel's list), the other does not.
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  int ids[2];
  for (int i = 0; i < 2; i++) {
    pipe(rd_fds[i]);
    ids[i] = lwp_create(reader, (void *)(uint64)i, new_stack());
  }
  wait_asleep(&rd_lwp[0]);
  wait_asleep(&rd_lwp[1]);
  sigsend(getpid(), SIGUSR1);
  for (int t = 0; t < WAIT_TICKS && rd_ret[0] == -2; t++)
    sleep(1);
  int once = hits[SIGUSR1];
  write(rd_fds[0][1], "x", 1);
  write(rd_fds[1][1], "x", 1);
  for (int i = 0; i < 2; i++)
    lwp_join(ids[i]);
  if (rd_ret[0] != -1 || rd_ret[1] != 1 || once != 1 || taker_lwp != rd_lwp[0])
    printf("  reads returned %d (not blocking) and %d (blocking); %d handler runs, the last on lwp %d (readers %d, %d)\n",
           rd_ret[0], rd_ret[1], once, taker_lwp, rd_lwp[0], rd_lwp[1]);
  check(0, rd_ret[0] == -1 && once == 1 && taker_lwp == rd_lwp[0],
        "the LWP asleep not blocking the signal did not take it once, its read failing");
  check(1, once == 1 && taker_lwp != rd_lwp[1] && taker_lwp != lwp_self(), "an LWP that blocks the signal took it");
  check(2, rd_ret[1] == 1, "the read of an LWP that blocks the signal was cut short");
  sigprocmask(SIG_SETMASK, 0, 0);

  alarm(2);
  int r = sleep(WAIT_TICKS * 2);
  if (r != -1 || hits[SIGALRM] != 1)
    printf("  sleep returned %d, SIGALRM handler runs %d\n", r, hits[SIGALRM]);
  check(3, r == -1 && hits[SIGALRM] == 1, "alarm did not end the sleep of a one-LWP process after its handler");
  sleeper_handed();
}

// ---- prefer -----------------------------------------------------------------------

static const char *const prefer_checks[] = { "running", "notcut", 0 };
static volatile struct schedctl *volatile run_sc;
static volatile int run_lwp, run_stop;
static volatile uint64 run_spins;   // the spinner's loop count: it moves only in user code

static void runner(void *arg)
{
  (void)arg;
  sigprocmask(SIG_SETMASK, 0, 0);   // its creator's mask blocks SIGUSR1
  run_lwp = lwp_self();
  run_sc = schedctl();
  while (!run_stop)
    run_spins++;
  lwp_exit();
}

// Waits, spinning, at most WAIT_TICKS for the spinner's loop count to move
// from `from` (and, if elsewhere, for it to be on a CPU other than the
// caller's); says whether it did. Spinning, not sleep(1): a sleep ends just
// after a tick of the boot hart, whose softclock thread has then preempted a
// spinner running there.
static int spinner_moved(uint64 from, int elsewhere)
{
  int start = uptime();
  do {
    if (run_spins != from &&
        (!elsewhere || (run_sc->sc_state == SC_ONPROC && (int)run_sc->sc_cpu != getcpu())))
      return 1;
  } while (uptime() - start < WAIT_TICKS);
  return 0;
}

// CPU cpu's counters (KD_CPU_STATS) in *c; 0 if it has none.
static int cpu_stats(int cpu, struct cpuinfo *c)
{
  static struct cpuinfo ci[8];
  int k = kdebug(KD_CPU_STATS, (long)ci);
  for (int i = 0; i < k; i++)
    if (ci[i].id == cpu) {
      *c = ci[i];
      return 1;
    }
  return 0;
}

// CPU cpu's count of returns to user mode in *n; 0 if it has none.
static int cpu_returns(int cpu, uint64 *n)
{
  struct cpuinfo c;
  if (!cpu_stats(cpu, &c))
    return 0;
  *n = c.user_entries;
  return 1;
}

// Was CPU cpu interrupted to take a signal (signal.c's nudge IPI) since its
// count read `before`? The IPI may still be on its way when the signal was
// taken at a tick first: wait for it, up to WAIT_TICKS.
static int cpu_nudged(int cpu, uint64 before)
{
  struct cpuinfo c;
  int start = uptime();
  do {
    if (cpu_stats(cpu, &c) && c.sig_nudges > before)
      return 1;
  } while (uptime() - start < WAIT_TICKS);
  return 0;
}

// One LWP spins in user code and one sleeps in a read, neither blocking
// SIGUSR1; the main LWP blocks it and sends it to the process once the
// spinner is back in its loop on another CPU, a fresh sleeper each round,
// until the spinner has taken 5 (at most 20 rounds, none started after
// PREFER_TICKS: the test ends before the watchdog, saying what it saw).
// The spinner need not take every one: it is not running user code while
// it is in a trap (a timer tick), and under host load a trap can last as
// long as a whole send. But a round in which it surely ran user code when
// the taker was chosen must go to it and leave the sleeper alone. It surely
// did if, from before the send until it ran its loop again after the send,
// it was never switched and its CPU never returned to user mode: every trap
// from user mode ends with such a return. Such a taker must also be
// interrupted for it (an IPI to its CPU), not left to take it at its next
// tick.
#define PREFER_ROUNDS 5
#define PREFER_TICKS (WATCH_TICKS / 2)   // a round takes at most 4 WAIT_TICKS

static void t_prefer(void)
{
  signal(SIGUSR1, handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  int rn = lwp_create(runner, 0, new_stack());
  int round = 0, took = 0, wrong = 0, cut = 0, late = 0, start = uptime();
  for (; round < 20 && took < PREFER_ROUNDS && !wrong && !cut && !late && uptime() - start < PREFER_TICKS; round++) {
    rd_lwp[0] = 0;
    rd_ret[0] = -2;
    pipe(rd_fds[0]);
    int sl = lwp_create(reader, 0, new_stack());
    wait_asleep(&rd_lwp[0]);
    spinner_moved(run_spins, 1);
    int h = hits[SIGUSR1], cpu = run_sc ? (int)run_sc->sc_cpu : 0;
    uint64 sw = run_sc ? run_sc->sc_switches : 0, before = 0, after = 0;
    struct cpuinfo was;
    int surely = cpu_stats(cpu, &was) && cpu_returns(cpu, &before);
    sigsend(getpid(), SIGUSR1);
    surely = surely && spinner_moved(run_spins, 0) && cpu_returns(cpu, &after) &&
             after == before && run_sc->sc_switches == sw;
    wait_hits(SIGUSR1, h + 1);
    int mine = hits[SIGUSR1] == h + 1 && taker_lwp == run_lwp;
    write(rd_fds[0][1], "x", 1);
    lwp_join(sl);
    close(rd_fds[0][0]);
    close(rd_fds[0][1]);
    took += mine;
    wrong += surely && !mine;
    late += surely && mine && !cpu_nudged(cpu, was.sig_nudges);
    cut += (surely || mine) && rd_ret[0] == -1;
  }
  run_stop = 1;
  lwp_join(rn);
  if (took < PREFER_ROUNDS || wrong || cut || late)
    printf("  %d sends in %d ticks: %d taken by the spinner, %d not while it surely ran user code, "
           "%d taken with no IPI to its CPU, %d sleepers' reads cut short while it did\n",
           round, uptime() - start, took, wrong, late, cut);
  check(0, took == PREFER_ROUNDS && wrong == 0 && late == 0,
        late ? "an LWP running user code on another CPU was not interrupted to take the signal"
             : "an LWP running user code was not the one to take the signal");
  check(1, took == PREFER_ROUNDS && cut == 0, "a sleeper's call was cut short while an LWP ran user code");
  sigprocmask(SIG_SETMASK, 0, 0);
}

// ---- onetaker ---------------------------------------------------------------------

static const char *const onetaker_checks[] = { "once", "notblocked", "pending", "unblocker", 0 };
#define NSPIN 3
static volatile int spin_stop, spin_ready;
static volatile uint64 spin_mask[NSPIN], spin_have[NSPIN];   // asked for, in force

static void spinner(void *arg)
{
  int i = (int)(uint64)arg;
  uint64 have = spin_mask[i];
  sigprocmask(SIG_SETMASK, have, 0);
  spin_have[i] = have;
  __sync_fetch_and_add(&spin_ready, 1);
  while (!spin_stop) {
    if (spin_mask[i] != have) {
      have = spin_mask[i];
      sigprocmask(SIG_SETMASK, have, 0);
      spin_have[i] = have;
    }
  }
  lwp_exit();
}

static void t_onetaker(void)
{
  signal(SIGUSR1, handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  spin_mask[0] = BIT(SIGUSR1);
  int ids[NSPIN];
  for (int i = 0; i < NSPIN; i++)
    ids[i] = lwp_create(spinner, (void *)(uint64)i, new_stack());
  for (int i = 0; i < WAIT_TICKS && spin_ready < NSPIN; i++)
    sleep(1);
  int once = 1, blocked = 0;
  for (int n = 1; n <= 20 && once; n++) {
    sigsend(getpid(), SIGUSR1);
    wait_hits(SIGUSR1, n);
    sleep(1);                  // a second run would come now
    if (hits[SIGUSR1] != n) {
      printf("  send %d: %d handler runs\n", n, hits[SIGUSR1]);
      once = 0;
    }
    if (taker_lwp == lwp_self() || taker_lwp == ids[0]) {
      printf("  send %d: taken by lwp %d, which blocks it\n", n, taker_lwp);
      blocked = 1;
    }
  }
  check(0, once, "a process-directed signal was not taken exactly once");
  check(1, once && !blocked, "an LWP that blocks the signal took it");

  spin_mask[1] = spin_mask[2] = BIT(SIGUSR1);
  for (int i = 0; i < WAIT_TICKS && (spin_have[1] != BIT(SIGUSR1) || spin_have[2] != BIT(SIGUSR1)); i++)
    sleep(1);
  int before = hits[SIGUSR1];
  sigsend(getpid(), SIGUSR1);
  sleep(5);
  int early = hits[SIGUSR1] - before;
  uint64 p = pending();
  if (early != 0 || !(p & BIT(SIGUSR1)))
    printf("  every LWP blocks it: %d handler runs, pending 0x%lx\n", early, p);
  check(2, early == 0 && (p & BIT(SIGUSR1)), "not pending while every LWP blocks it");
  spin_mask[2] = 0;
  wait_hits(SIGUSR1, before + 1);
  sleep(1);
  if (hits[SIGUSR1] != before + 1 || taker_lwp != ids[2])
    printf("  after one unblocked it: %d handler runs, the last on lwp %d (it is lwp %d)\n",
           hits[SIGUSR1] - before, taker_lwp, ids[2]);
  check(3, early == 0 && hits[SIGUSR1] == before + 1 && taker_lwp == ids[2],
        "the pending signal was not taken once by the LWP that unblocked it");
  spin_stop = 1;
  for (int i = 0; i < NSPIN; i++)
    lwp_join(ids[i]);
}

// ---- M:N --------------------------------------------------------------------------
// Threads A and B spin, each on one of two LWPs, while a bound thread
// (an LWP of its own, masking everything) runs the test body.

static volatile int mn_stop, mn_ready;
static volatile uint64 mn_mask[2], mn_have[2];   // asked for, in force
static volatile int mn_tid[2];

static void mn_spinner(void *arg)
{
  int i = (int)(uint64)arg;
  uint64 have = mn_mask[i];
  uthread_sigmask(SIG_SETMASK, have, 0);
  mn_have[i] = have;
  __sync_fetch_and_add(&mn_ready, 1);
  while (!mn_stop) {
    if (mn_mask[i] != have) {
      have = mn_mask[i];
      uthread_sigmask(SIG_SETMASK, have, 0);
      mn_have[i] = have;
    }
  }
}

static void mn_bound(void *arg)
{
  void (*body)(void) = (void (*)(void))arg;
  uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1) | BIT(SIGUSR2), 0);
  for (int i = 0; i < WAIT_TICKS && mn_ready < 2; i++)
    sleep(1);
  body();
}

static void mn_run(void (*body)(void))
{
  if (uthread_init(2) != 0 || uthread_setprio(0, 5) != 0) {
    printf("  uthread_init failed\n");
    return;
  }
  signal(SIGUSR1, handler);
  signal(SIGUSR2, handler);
  uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1) | BIT(SIGUSR2), 0);
  for (int i = 0; i < 2; i++)
    mn_tid[i] = uthread_create(mn_spinner, (void *)(uint64)i, 0);
  struct uthread_attr bound = { .bound = 1 };
  int s = uthread_create(mn_bound, (void *)body, &bound);
  uthread_join(s);
  mn_stop = 1;
  for (int i = 0; i < 2; i++)
    uthread_join(mn_tid[i]);
}

static const char *const mnmask_checks[] = { "onethread", "pending", "unmasker", "idle", 0 };

static void mn_mask_body(void)
{
  int ok = 1;
  for (int n = 1; n <= 10 && ok; n++) {
    sigsend(getpid(), SIGUSR1);
    wait_hits(SIGUSR1, n);
    sleep(1);
    if (hits[SIGUSR1] != n || taker_tid != mn_tid[1]) {
      printf("  send %d: %d handler runs, the last on thread %d (A %d masks it, B %d does not)\n", n,
             hits[SIGUSR1], taker_tid, mn_tid[0], mn_tid[1]);
      ok = 0;
    }
  }
  check(0, ok, "not taken once by the one thread that does not mask it");
  mn_mask[1] = BIT(SIGUSR1);
  for (int i = 0; i < WAIT_TICKS && mn_have[1] != BIT(SIGUSR1); i++)
    sleep(1);
  int before = hits[SIGUSR1];
  sigsend(getpid(), SIGUSR1);
  sleep(5);
  int early = hits[SIGUSR1] - before;
  if (early != 0)
    printf("  every thread masks it: %d handler runs, the last on thread %d\n", early, taker_tid);
  check(1, early == 0, "delivered while every thread masks it");
  mn_mask[1] = 0;
  wait_hits(SIGUSR1, before + 1);
  sleep(1);
  if (hits[SIGUSR1] != before + 1 || taker_tid != mn_tid[1])
    printf("  B unmasked it: %d handler runs, the last on thread %d\n", hits[SIGUSR1] - before, taker_tid);
  check(2, early == 0 && hits[SIGUSR1] == before + 1 && taker_tid == mn_tid[1],
        "not taken once by the thread that unmasked it");
}

// Two LWPs; thread T runs on the second (the main thread spins on the
// first until it has) and ends, so that LWP waits in its scheduler with no
// thread. The main thread then masks SIGUSR1 and sends it to the process:
// no thread may take it (the LWP with no thread least of all, though T did
// not mask it), so it stays pending until the main thread unmasks it and
// takes it before uthread_sigmask returns. Masked while sending, the main
// thread gives the kernel no reason to pick it, whatever its choice of
// taker. Exit status 0 if so.
static volatile int idle_lwp;

static void idle_thread(void *arg)
{
  (void)arg;
  idle_lwp = lwp_self();
}

static int mn_idle_child(void)
{
  if (uthread_init(2) != 0)
    return 1;
  signal(SIGUSR1, handler);
  uthread_sigmask(SIG_SETMASK, 0, 0);
  int t = uthread_create(idle_thread, 0, 0);
  for (uint64 t0 = rdtime(); idle_lwp == 0 && rdtime() - t0 < 100 * 100000ull; )
    ;                          // spin (no yield): T runs on the other LWP
  int before = lwp_self();
  uthread_join(t);
  // If the join blocked, the main thread may have come back on T's LWP:
  // then the LWP left with no thread is the one it blocked on.
  if (lwp_self() != before)
    idle_lwp = before;
  wait_asleep(&idle_lwp);
  uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1), 0);
  sigsend(getpid(), SIGUSR1);
  int early = hits[SIGUSR1], early_lwp = taker_lwp;
  uthread_sigmask(SIG_UNBLOCK, BIT(SIGUSR1), 0);
  if (idle_lwp == 0 || early != 0 || hits[SIGUSR1] != 1 || taker_lwp != lwp_self()) {
    printf("  the other LWP (%d) idle in its scheduler: %d handler runs while the main thread "
           "masked it (the last on lwp %d), %d after it unmasked it, the last on lwp %d (main %d)\n",
           idle_lwp, early, early_lwp, hits[SIGUSR1] - early, taker_lwp, lwp_self());
    return 1;
  }
  return 0;
}

static void t_mnmask(void)
{
  int pid = fork();
  if (pid == 0)
    exit(mn_idle_child());
  int st = -1;
  wait(&st);
  check(3, st == 0, "an LWP with no thread to run took a signal");
  mn_mask[0] = BIT(SIGUSR1);
  mn_mask[1] = 0;
  mn_run(mn_mask_body);
}

// One LWP, two threads taking turns: A masks SIGUSR1 and sends it to the
// process, then yields to B, which does not mask it; then the other way round.
static const char *const mnswitch_checks[] = { "held", "switchin", "masked", "kept", 0 };
static volatile int sw_turn, sw_tid[2];
static volatile int sw_b_saw;

static void sw_a(void *arg)
{
  (void)arg;
  uthread_sigmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  sigsend(getpid(), SIGUSR1);
  int held = hits[SIGUSR1] == 0;
  check(0, held, "a thread that masks the signal took it");
  sw_turn = 1;
  while (sw_turn == 1)
    uthread_yield();
  // B masks it now and sent it; A unmasks it and must take it here.
  int before = hits[SIGUSR1];
  uthread_sigmask(SIG_SETMASK, 0, 0);
  int took = hits[SIGUSR1] == before + 1 && taker_tid == sw_tid[0];
  if (!took)
    printf("  A unmasked it: %d handler runs, the last on thread %d (A is %d)\n", hits[SIGUSR1] - before,
           taker_tid, sw_tid[0]);
  check(2, took, "an unmasking thread did not take the signal pending for the process at once");
  // A masks SIGUSR2; B sends it to A (held), A is switched in and out
  // again, B is switched in: it must not run there; A unmasks it and takes it.
  uthread_sigmask(SIG_BLOCK, BIT(SIGUSR2), 0);
  sw_turn = 3;
  while (sw_turn == 3)
    uthread_yield();
  sw_turn = 5;
  while (sw_turn == 5)
    uthread_yield();
  uthread_sigmask(SIG_UNBLOCK, BIT(SIGUSR2), 0);
  int kept = sw_b_saw == 0 && hits[SIGUSR2] == 1 && taker_tid == sw_tid[0];
  if (!kept)
    printf("  SIGUSR2 held for A: %d handler runs while B ran, %d in all, the last on thread %d (A is %d)\n",
           sw_b_saw, hits[SIGUSR2], taker_tid, sw_tid[0]);
  check(3, kept, "a signal held for a thread that masks it ran on another thread, or not on it once unmasked");
  sw_turn = 7;
}

static void sw_b(void *arg)
{
  (void)arg;
  while (sw_turn == 0)
    uthread_yield();
  // Switched in on the LWP where A masked it: the signal pending for the
  // process must have run on B by now.
  int ran = hits[SIGUSR1];
  int ok = ran == 1 && taker_tid == sw_tid[1];
  if (!ok)
    printf("  B switched in: %d handler runs, the last on thread %d (B is %d)\n", ran, taker_tid, sw_tid[1]);
  check(1, ok, "the signal did not run on the thread switched in that does not mask it");
  uthread_sigmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  sigsend(getpid(), SIGUSR1);
  sw_turn = 2;
  while (sw_turn == 2)
    uthread_yield();
  uthread_kill(sw_tid[0], SIGUSR2);   // A masks it and does not run now
  sw_turn = 4;
  while (sw_turn == 4)
    uthread_yield();
  sw_b_saw = hits[SIGUSR2];           // switched in after A
  sw_turn = 6;
  while (sw_turn == 6)
    uthread_yield();
}

static void t_mnswitch(void)
{
  if (uthread_init(1) != 0) {
    printf("  uthread_init failed\n");
    return;
  }
  signal(SIGUSR1, handler);
  signal(SIGUSR2, handler);
  sw_tid[0] = uthread_create(sw_a, 0, 0);
  sw_tid[1] = uthread_create(sw_b, 0, 0);
  uthread_join(sw_tid[0]);
  uthread_join(sw_tid[1]);
}

static const char *const mnkill_checks[] = { "named", "masked", "self", "sigkill", 0 };

static void mn_kill_body(void)
{
  uthread_kill(mn_tid[1], SIGUSR2);
  wait_hits(SIGUSR2, 1);
  sleep(1);
  if (hits[SIGUSR2] != 1 || taker_tid != mn_tid[1])
    printf("  to B: %d handler runs, the last on thread %d (B is %d)\n", hits[SIGUSR2], taker_tid, mn_tid[1]);
  check(0, hits[SIGUSR2] == 1 && taker_tid == mn_tid[1], "not taken once by the thread named");
  uthread_kill(mn_tid[0], SIGUSR2);
  sleep(5);
  int early = hits[SIGUSR2] - 1;
  mn_mask[0] = 0;
  wait_hits(SIGUSR2, 2);
  sleep(1);
  if (early != 0 || hits[SIGUSR2] != 2 || taker_tid != mn_tid[0])
    printf("  to A masking it: %d runs while masked, then %d, the last on thread %d (A is %d)\n", early,
           hits[SIGUSR2] - 1 - early, taker_tid, mn_tid[0]);
  check(1, early == 0 && hits[SIGUSR2] == 2 && taker_tid == mn_tid[0],
        "delivered to a thread while it masks it, or not once it unmasked it");
  uthread_sigmask(SIG_UNBLOCK, BIT(SIGUSR2), 0);
  int r = uthread_kill(uthread_self(), SIGUSR2);
  check(2, r == 0 && hits[SIGUSR2] == 3 && taker_tid == uthread_self(),
        "uthread_kill to the caller did not run the handler before it returned");
  report();   // what follows ends the process, if right
}

static void t_mnkill(void)
{
  mn_mask[0] = BIT(SIGUSR1) | BIT(SIGUSR2);
  mn_mask[1] = 0;
  int pid = fork();
  if (pid == 0) {
    mn_run(mn_kill_body);
    exit(0);
  }
  int st = 0;
  wait(&st);
  if (st >= 0 && (st >> 16) == MAGIC)
    __atomic_fetch_or(&passed, st & 7, __ATOMIC_SEQ_CST);   // the child's three checks
  else
    printf("  the M:N child ended with status %d before it reported\n", st);
  // SIGKILL to a thread that masks everything and has not run yet (the
  // main thread keeps the one LWP asleep in the kernel): the process ends.
  pid = fork();
  if (pid == 0) {
    uthread_init(1);
    uthread_sigmask(SIG_SETMASK, ~0ull, 0);
    int t = uthread_create(idle_thread, 0, 0);
    uthread_kill(t, SIGKILL);
    sleep(WAIT_TICKS);
    exit(7);
  }
  st = 0;
  wait(&st);
  if (st != -1)
    printf("  uthread_kill SIGKILL to a thread masking all: status %d (want -1)\n", st);
  check(3, st == -1, "SIGKILL sent to a thread did not end the process");
}

// ---- badargs ----------------------------------------------------------------------

static const char *const badargs_checks[] = { "kernel", "library", 0 };

static void t_badargs(void)
{
  int bad_sig[] = { 0, -1, NSIG, 64 };
  signal(SIGUSR1, handler);
  int ok = 1;
  for (int i = 0; i < 4; i++)
    ok &= signal(bad_sig[i], handler) == (sighandler_t)-1 && sigsend(getpid(), bad_sig[i]) == -1 &&
          lwp_sigsend(lwp_self(), bad_sig[i]) == -1;
  ok &= signal(SIGUSR1, (sighandler_t)0x10) == (sighandler_t)-1 && signal(SIGUSR1, SIG_DFL) == handler;
  ok &= sigsend(-1, SIGUSR1) == -1 && sigsend(100000, SIGUSR1) == -1 && lwp_sigsend(9999, SIGUSR1) == -1;
  sigprocmask(SIG_SETMASK, BIT(SIGUSR2), 0);
  ok &= sigprocmask(3, BIT(SIGUSR1), 0) == -1 && sigprocmask(SIG_SETMASK, 0, (uint64 *)0x10) == -1;
  ok &= cur_mask() == BIT(SIGUSR2) && sigpending((uint64 *)0x10) == -1 && hits[SIGUSR1] == 0;
  check(0, ok, "a bad signal number, pid, LWP id, how or pointer was accepted or changed something");
  sigprocmask(SIG_SETMASK, 0, 0);

  int lib = uthread_kill(0, SIGUSR1) == -1;    // before uthread_init
  lib &= uthread_init(2) == 0;
  uint64 m = 0;
  lib &= uthread_sigmask(SIG_SETMASK, BIT(SIGUSR2), 0) == 0;
  lib &= uthread_sigmask(3, BIT(SIGUSR1), 0) == -1;
  lib &= uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1), (uint64 *)0x10) == -1;
  lib &= uthread_sigmask(SIG_BLOCK, 0, &m) == 0 && m == BIT(SIGUSR2);
  lib &= uthread_sigmask(SIG_SETMASK, BIT(SIGUSR1), &m) == 0 && m == BIT(SIGUSR2);   // the old mask
  lib &= uthread_sigmask(SIG_BLOCK, 0, &m) == 0 && m == BIT(SIGUSR1);
  lib &= uthread_kill(-1, SIGUSR1) == -1 && uthread_kill(UTHREAD_MAX, SIGUSR1) == -1 &&
         uthread_kill(77, SIGUSR1) == -1;
  lib &= uthread_kill(0, 0) == -1 && uthread_kill(0, NSIG) == -1 && uthread_kill(0, -3) == -1;
  lib &= hits[SIGUSR1] == 0;
  check(1, lib, "a bad how, pointer, thread id or signal number was accepted by the library, or changed something");
}

// ---- roundtrip --------------------------------------------------------------------

static const char *const roundtrip_checks[] = { "rounds", "fast", 0 };

static volatile int nop_hits;

static void nop_handler(int sig)
{
  (void)sig;
  nop_hits++;
}

static void t_roundtrip(void)
{
  signal(SIGUSR1, nop_handler);
  sigsend(getpid(), SIGUSR1);    // warm
  uint64 t0 = rdinstret();
  for (int i = 0; i < 100; i++)
    sigsend(getpid(), SIGUSR1);
  uint64 t1 = rdinstret();
  int per = (int)((t1 - t0) / 100);
  printf("  roundtrip: %d guest instructions per send-handler-return (bound %d)\n", per, ROUNDTRIP_BOUND);
  check(0, nop_hits == 101, "not one handler run per send");
  check(1, nop_hits == 101 && per <= ROUNDTRIP_BOUND, "slower than the bound");
}

// ---- the runner -------------------------------------------------------------------

static const struct {
  const char *name;
  void (*body)(void);
  const char *const *checks;
} tests[] = {
  { "deliver", t_deliver, deliver_checks },
  { "registers", t_registers, registers_checks },
  { "defaults", t_defaults, defaults_checks },
  { "interrupt", t_interrupt, interrupt_checks },
  { "sleeper", t_sleeper, sleeper_checks },
  { "prefer", t_prefer, prefer_checks },
  { "onetaker", t_onetaker, onetaker_checks },
  { "mnmask", t_mnmask, mnmask_checks },
  { "mnswitch", t_mnswitch, mnswitch_checks },
  { "mnkill", t_mnkill, mnkill_checks },
  { "badargs", t_badargs, badargs_checks },
  { "roundtrip", t_roundtrip, roundtrip_checks },
};

// Runs one test in a child and returns its exit status; a watchdog child
// ends it after WATCH_TICKS.
static int run_child(void (*body)(void))
{
  int pid = fork();
  if (pid == 0) {
    body();
    report();
  }
  int dog = fork();
  if (dog == 0) {
    sleep(WATCH_TICKS);
    printf("  still running after %d ticks: ended by the watchdog\n", WATCH_TICKS);
    kill(pid);
    exit(0);
  }
  int st = -1, w, got = 0;
  while ((w = wait(&st)) >= 0 && w != pid)
    ;
  got = st;
  kill(dog);
  while (wait(0) >= 0)
    ;
  return w == pid ? got : -1;
}

int main(int argc, char *argv[])
{
  grade_init(&argc, &argv);
  for (int t = 0; t < (int)(sizeof(tests) / sizeof(tests[0])); t++) {
    if (argc < 2 || strcmp(argv[1], tests[t].name) != 0)
      continue;
    check_names = tests[t].checks;
    int st = run_child(tests[t].body);
    int reported = st >= 0 && (st >> 16) == MAGIC;
    if (!reported)
      printf("  the test process ended with status %d before it reported (a signal ended it?)\n", st);
    for (int i = 0; tests[t].checks[i]; i++)
      grade_result(tests[t].checks[i], reported && (st & (1 << i)));
  }
  grade_end();
  exit(0);
}
