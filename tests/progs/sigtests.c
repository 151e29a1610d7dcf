// Signal tests: handlers, masks and pending sets (hard and light state),
// which LWP takes a process-directed signal, delivery and sigreturn,
// blocking calls a caught signal interrupts, alarm, fork and exec, the
// default actions, SIGKILL, and bad arguments to every signal call. Run on
// 1 and 3 harts (tests/groups/threads.py). Output follows usertests: one
// "test NAME: OK|FAILED" line per test, then ALL TESTS PASSED or SOME TESTS FAILED.
//   sigtests -execchild   (used by the exec test) reports the handler it inherited
#include "user/user.h"
#include "user/testsuite.h"
#include "user/uthread.h"

#define STACK 8192
#define BIT(s) (1ull << (s))
#define CHECK(c, msg) do { if (!(c)) { printf("  %s: %s\n", test_current, msg); exit(1); } } while (0)

static volatile int hits[NSIG];        // handler runs per signal
static volatile int taker_lwp;         // lwp_self() of the last handler run
static volatile int taker_tid = -2;    // uthread_self() of the last handler run (M:N tests)
static volatile uint64 mask_in_handler;

static void handler(int sig)
{
  uint64 m;
  sigprocmask(SIG_BLOCK, 0, &m);
  mask_in_handler = m;
  taker_lwp = lwp_self();
  taker_tid = uthread_self();
  if (sig > 0 && sig < NSIG)
    hits[sig]++;
}

static uint64 cur_mask(void)
{
  uint64 m;
  CHECK(sigprocmask(SIG_BLOCK, 0, &m) == 0, "sigprocmask to read the mask failed");
  return m;
}

static char *new_stack(void)
{
  char *s = malloc(STACK);
  return s ? s + STACK : 0;
}

// ---- delivery to the sender itself ---------------------------------------------

static void test_self(void)
{
  CHECK(signal(SIGUSR1, handler) == SIG_DFL, "first signal() did not return SIG_DFL");
  volatile uint64 a = 0x1234567890abcdefull, b = 42;
  CHECK(sigsend(getpid(), SIGUSR1) == 0, "sigsend to self failed");
  CHECK(hits[SIGUSR1] == 1, "handler did not run before sigsend returned");
  CHECK(a == 0x1234567890abcdefull && b == 42, "registers or stack changed across the handler");
  CHECK(lwp_sigsend(lwp_self(), SIGUSR1) == 0, "lwp_sigsend to self failed");
  CHECK(hits[SIGUSR1] == 2, "handler did not run for lwp_sigsend");
  CHECK(signal(SIGUSR1, SIG_IGN) == handler, "signal() did not return the old handler");
  sigsend(getpid(), SIGUSR1);
  CHECK(hits[SIGUSR1] == 2, "an ignored signal ran the handler");
}

// During the handler its own signal is blocked; after it the mask it
// interrupted is back, and a signal sent while blocked runs once afterwards.
static void test_mask_restore(void)
{
  signal(SIGUSR1, handler);
  signal(SIGUSR2, handler);
  CHECK(sigprocmask(SIG_SETMASK, BIT(SIGUSR2), 0) == 0, "sigprocmask SETMASK failed");
  sigsend(getpid(), SIGUSR1);
  CHECK(hits[SIGUSR1] == 1, "handler did not run");
  CHECK(mask_in_handler == (BIT(SIGUSR1) | BIT(SIGUSR2)), "mask in the handler is not old mask + its signal");
  CHECK(cur_mask() == BIT(SIGUSR2), "mask not restored after the handler");
  sigsend(getpid(), SIGUSR2);
  sigsend(getpid(), SIGUSR2);
  CHECK(hits[SIGUSR2] == 0, "a blocked signal was delivered");
  uint64 p = 0;
  CHECK(sigpending(&p) == 0 && p == BIT(SIGUSR2), "sigpending does not show the blocked signal");
  sigprocmask(SIG_UNBLOCK, BIT(SIGUSR2), 0);
  CHECK(hits[SIGUSR2] == 1, "unblocked signal not delivered exactly once (a pending signal is one bit)");
  CHECK(sigpending(&p) == 0 && p == 0, "still pending after delivery");
  CHECK(cur_mask() == 0, "mask not restored after the unblocked signal's handler");
  // A blocked signal stays pending while a higher-numbered one is delivered.
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  sigsend(getpid(), SIGUSR1);
  sigsend(getpid(), SIGUSR2);
  CHECK(hits[SIGUSR2] == 2 && hits[SIGUSR1] == 1, "a blocked signal was delivered with an unblocked one");
  sigprocmask(SIG_SETMASK, 0, 0);
  CHECK(hits[SIGUSR1] == 2, "the blocked signal was lost");
}

// A computation held in registers gives the same result however many
// handlers interrupt it: sigreturn puts every register back. The signals
// come from another LWP, so they land anywhere in the loop.
static volatile int regs_done;
static volatile uint64 regs_seed = 1;   // read each time: the compiler may not fold the calls

static void regs_sender(void *arg)
{
  int target = (int)(uint64)arg;
  while (!regs_done)
    lwp_sigsend(target, SIGUSR1);
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

static void test_registers(void)
{
  signal(SIGUSR1, handler);
  uint64 want = regs_work(2000000);
  regs_done = 0;
  int id = lwp_create(regs_sender, (void *)(uint64)lwp_self(), new_stack());
  CHECK(id > 0, "lwp_create failed");
  uint64 got = 0;
  for (int round = 0; round < 200 && (round < 5 || hits[SIGUSR1] < 10); round++)
    got |= regs_work(2000000) ^ want;
  regs_done = 1;
  lwp_join(id);
  printf("  registers: %d handlers ran during the work\n", hits[SIGUSR1]);
  CHECK(hits[SIGUSR1] > 0, "no handler ran during the work");
  CHECK(got == 0, "a handler changed the interrupted code's registers");
}

// A caught SIGCHLD comes when a child ends; blocked, it waits (one bit).
static void test_sigchld(void)
{
  signal(SIGCHLD, handler);
  sigprocmask(SIG_BLOCK, BIT(SIGCHLD), 0);
  for (int i = 0; i < 2; i++) {
    int pid = fork();
    if (pid == 0)
      exit(0);
    CHECK(wait(0) == pid, "wait failed");
  }
  uint64 p = 0;
  CHECK(sigpending(&p) == 0 && p == BIT(SIGCHLD), "SIGCHLD not pending after the children ended");
  CHECK(hits[SIGCHLD] == 0, "a blocked SIGCHLD ran the handler");
  sigprocmask(SIG_UNBLOCK, BIT(SIGCHLD), 0);
  CHECK(hits[SIGCHLD] == 1, "SIGCHLD not delivered once when unblocked");
}

// ---- default actions, SIGKILL, kill() ---------------------------------------------

static int child_status(int sig, sighandler_t h)
{
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    if (h != SIG_DFL)
      signal(sig, h);
    sigsend(getpid(), sig);
    exit(7);
  }
  int st = 0;
  CHECK(wait(&st) == pid, "wait failed");
  return st;
}

static void test_defaults(void)
{
  CHECK(child_status(SIGUSR1, SIG_DFL) == -1, "SIGUSR1 by default did not end the process");
  CHECK(child_status(SIGTERM, SIG_DFL) == -1, "SIGTERM by default did not end the process");
  CHECK(child_status(SIGCHLD, SIG_DFL) == 7, "SIGCHLD by default was not ignored");
  CHECK(child_status(SIGTERM, SIG_IGN) == 7, "an ignored SIGTERM ended the process");
  CHECK(child_status(SIGTERM, handler) == 7, "a caught SIGTERM ended the process");
  CHECK(child_status(SIGKILL, SIG_DFL) == -1, "SIGKILL did not end the process");
}

static void test_sigkill(void)
{
  CHECK(signal(SIGKILL, handler) == (sighandler_t)-1, "SIGKILL could be caught");
  CHECK(signal(SIGKILL, SIG_IGN) == (sighandler_t)-1, "SIGKILL could be ignored");
  sigprocmask(SIG_SETMASK, ~0ull, 0);
  CHECK(!(cur_mask() & BIT(SIGKILL)), "SIGKILL could be blocked");
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe failed");
  int pid = fork();
  if (pid == 0) {              // blocks everything it can, catches SIGTERM
    signal(SIGTERM, handler);
    write(fds[1], "r", 1);
    for (;;)
      sleep(100);
  }
  char c;
  CHECK(read(fds[0], &c, 1) == 1, "child did not start");
  CHECK(kill(pid) == 0, "kill failed");
  int st = 0;
  CHECK(wait(&st) == pid && st == -1, "kill() did not end a child that blocks every signal");
  sigprocmask(SIG_SETMASK, 0, 0);
}

// ---- blocking calls a caught signal interrupts --------------------------------------

static int main_lwp;
static volatile struct schedctl *main_sc;
static volatile int sender_go;

// Is the LWP of sc asleep: off its CPU, and still so a tick later with no
// switch in between (not just preempted)?
static int asleep(volatile struct schedctl *sc)
{
  if (sc == 0 || sc->sc_state != SC_OFFPROC)
    return 0;
  uint64 sw = sc->sc_switches;
  sleep(1);
  return sc->sc_state == SC_OFFPROC && sc->sc_switches == sw;
}

// Sends SIGUSR1 to the main LWP once it is told to and sleeps in its call:
// sent sooner, a timer trap between `sender_go = 1` and the call could
// deliver it first, and the call would then sleep on (sigtests-1hart saw
// sleep(10000) return 0 so).
static void lwp_sender(void *arg)
{
  (void)arg;
  while (!sender_go)
    ;
  while (!asleep(main_sc))
    ;
  lwp_sigsend(main_lwp, SIGUSR1);
  lwp_exit();
}

static volatile int waiter_go;

static void lwp_waiter(void *arg)
{
  (void)arg;
  while (!waiter_go)
    ;
  lwp_exit();
}

static int start_sender(void)
{
  sender_go = 0;
  main_lwp = lwp_self();
  main_sc = schedctl();
  int id = lwp_create(lwp_sender, 0, new_stack());
  CHECK(id > 0, "lwp_create failed");
  return id;
}

static void expect_interrupted(int r, int before, const char *what)
{
  if (r != -1)
    printf("  %s returned %d\n", what, r);
  CHECK(r == -1, "blocking call not interrupted by a caught signal");
  CHECK(hits[SIGUSR1] == before + 1, "call returned before the handler ran");
}

static void test_intr_calls(void)
{
  signal(SIGUSR1, handler);
  int fds[2];
  CHECK(pipe(fds) == 0, "pipe failed");
  char c;
  int id, h;

  id = start_sender(); h = hits[SIGUSR1]; sender_go = 1;
  expect_interrupted(read(fds[0], &c, 1), h, "pipe read");
  lwp_join(id);

  id = start_sender(); h = hits[SIGUSR1]; sender_go = 1;
  expect_interrupted(sleep(10000), h, "sleep");
  lwp_join(id);

  static int word;
  id = start_sender(); h = hits[SIGUSR1]; sender_go = 1;
  expect_interrupted(futex_wait(&word, 0, 0), h, "futex_wait");
  lwp_join(id);

  int pid = fork();
  if (pid == 0) {
    read(fds[0], &c, 1);        // until the parent writes
    exit(0);
  }
  id = start_sender(); h = hits[SIGUSR1]; sender_go = 1;
  expect_interrupted(wait(0), h, "wait");
  lwp_join(id);
  write(fds[1], "x", 1);
  CHECK(wait(0) == pid, "wait after the interrupted one failed");

  waiter_go = 0;
  int waiter = lwp_create(lwp_waiter, 0, new_stack());
  CHECK(waiter > 0, "lwp_create failed");
  id = start_sender(); h = hits[SIGUSR1]; sender_go = 1;
  expect_interrupted(lwp_join(waiter), h, "lwp_join");
  lwp_join(id);
  waiter_go = 1;
  CHECK(lwp_join(waiter) == 0, "lwp_join after the interrupted one failed");
}

// A process-directed signal with no LWP in user code goes to one sleeping in
// an interruptible call, which returns -1 after the handler; the sender
// blocks it. If the signal went elsewhere, the byte written after a while
// ends the read and the test says so.
static int pd_fds[2];

static void pd_sender(void *arg)
{
  (void)arg;
  sigprocmask(SIG_BLOCK, BIT(SIGUSR1), 0);
  while (!sender_go)
    ;
  while (!asleep(main_sc))
    ;
  sigsend(getpid(), SIGUSR1);
  sleep(20);
  write(pd_fds[1], "x", 1);
  lwp_exit();
}

static void test_process_sleeper(void)
{
  signal(SIGUSR1, handler);
  CHECK(pipe(pd_fds) == 0, "pipe failed");
  main_sc = schedctl();
  CHECK(main_sc != 0, "schedctl failed");
  sender_go = 0;
  int id = lwp_create(pd_sender, 0, new_stack());
  CHECK(id > 0, "lwp_create failed");
  int h = hits[SIGUSR1];
  char c;
  sender_go = 1;
  int r = read(pd_fds[0], &c, 1);
  CHECK(r == -1, "a sleeping LWP was not chosen to take the process's signal");
  CHECK(hits[SIGUSR1] == h + 1 && taker_lwp == lwp_self(), "handler did not run on the sleeper");
  lwp_join(id);
}

// Two LWPs sleep in pipe reads, B blocking SIGUSR1 and Y not; B was made
// last, so it comes first in the kernel's list. A process-directed SIGUSR1
// must end Y's read (-1, the handler on Y), never wait on B. If it went
// wrong, the bytes written after a while end both reads and the test says so.
static volatile struct schedctl *volatile skip_sc[2];   // the pointers too: the
                                                            // main LWP waits for them to be set
static volatile int skip_ret[2] = { -2, -2 }, skip_lwp[2];
static int skip_fds[2][2];

static void skip_reader(void *arg)
{
  int i = (int)(uint64)arg;
  sigprocmask(SIG_SETMASK, i == 1 ? BIT(SIGUSR1) : 0, 0);
  skip_lwp[i] = lwp_self();
  skip_sc[i] = schedctl();
  char c;
  skip_ret[i] = read(skip_fds[i][0], &c, 1);
  lwp_exit();
}

static void test_taker_skips_blocked(void)
{
  signal(SIGUSR1, handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  int ids[2];
  for (int i = 0; i < 2; i++) {
    CHECK(pipe(skip_fds[i]) == 0, "pipe failed");
    ids[i] = lwp_create(skip_reader, (void *)(uint64)i, new_stack());
    CHECK(ids[i] > 0, "lwp_create failed");
  }
  while (!asleep(skip_sc[0]) || !asleep(skip_sc[1]))
    ;
  sigsend(getpid(), SIGUSR1);
  for (int t = 0; t < 50 && skip_ret[0] == -2; t++)
    sleep(1);
  write(skip_fds[0][1], "x", 1);
  write(skip_fds[1][1], "x", 1);
  for (int i = 0; i < 2; i++)
    lwp_join(ids[i]);
  CHECK(skip_ret[0] == -1 && hits[SIGUSR1] == 1 && taker_lwp == skip_lwp[0],
        "the LWP not blocking the signal did not take it");
  CHECK(skip_ret[1] == 1, "the LWP that blocks the signal had its read cut short");
}

// ---- which LWP takes a process-directed signal -------------------------------------

#define NSPIN 3
static volatile int spin_stop;
static volatile int spin_ready;
static volatile uint64 spin_mask[NSPIN + 1];   // asked for
static volatile uint64 spin_have[NSPIN + 1];   // in force (a handshake, not a wait)

static void spinner(void *arg)
{
  int i = (int)(uint64)arg;
  uint64 have = spin_mask[i];
  sigprocmask(SIG_SETMASK, have, 0);
  spin_have[i] = have;
  __sync_fetch_and_add(&spin_ready, 1);
  while (!spin_stop) {         // in user code, but for a change of mask
    if (spin_mask[i] != have) {
      have = spin_mask[i];
      sigprocmask(SIG_SETMASK, have, 0);
      spin_have[i] = have;
    }
  }
  lwp_exit();
}

static void wait_hits(int sig, int n)
{
  for (int i = 0; i < 300 && hits[sig] < n; i++)   // a delivery takes a tick or two
    sleep(1);
}

// Three LWPs spin in user code, the main LWP blocks the signal: each
// process-directed SIGUSR1 runs the handler exactly once, never on the
// main LWP, and never on the one LWP that blocks it as well.
static void test_one_taker(void)
{
  signal(SIGUSR1, handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1), 0);
  spin_stop = 0;
  spin_ready = 0;
  spin_mask[0] = BIT(SIGUSR1);
  int ids[NSPIN];
  for (int i = 0; i < NSPIN; i++) {
    ids[i] = lwp_create(spinner, (void *)(uint64)i, new_stack());
    CHECK(ids[i] > 0, "lwp_create failed");
  }
  while (spin_ready < NSPIN)
    sleep(1);
  for (int n = 1; n <= 20; n++) {
    sigsend(getpid(), SIGUSR1);
    wait_hits(SIGUSR1, n);
    CHECK(hits[SIGUSR1] == n, "a process-directed signal was not taken exactly once");
    CHECK(taker_lwp != lwp_self(), "taken by the main LWP, which blocks it");
    CHECK(taker_lwp != ids[0], "taken by an LWP that blocks it");
  }
  // All block it: it stays pending; the one that unblocks takes it.
  spin_mask[1] = spin_mask[2] = BIT(SIGUSR1);
  while (spin_have[1] != BIT(SIGUSR1) || spin_have[2] != BIT(SIGUSR1))
    sleep(1);
  sigsend(getpid(), SIGUSR1);
  sleep(5);
  if (hits[SIGUSR1] != 20)
    printf("  %d handler runs, the last on lwp %d (spinners %d %d %d)\n", hits[SIGUSR1], taker_lwp,
           ids[0], ids[1], ids[2]);
  CHECK(hits[SIGUSR1] == 20, "delivered while every LWP blocks it");
  uint64 p = 0;
  CHECK(sigpending(&p) == 0 && (p & BIT(SIGUSR1)), "not pending while every LWP blocks it");
  spin_mask[2] = 0;
  wait_hits(SIGUSR1, 21);
  CHECK(hits[SIGUSR1] == 21 && taker_lwp == ids[2], "not taken by the LWP that unblocked it");
  spin_stop = 1;
  for (int i = 0; i < NSPIN; i++)
    lwp_join(ids[i]);
  sigprocmask(SIG_SETMASK, 0, 0);
}

// lwp_sigsend goes to the LWP named, even while others could take it.
static void test_lwp_directed(void)
{
  signal(SIGUSR2, handler);
  spin_stop = 0;
  spin_ready = 0;
  spin_mask[0] = spin_mask[1] = 0;
  int ids[2];
  for (int i = 0; i < 2; i++)
    ids[i] = lwp_create(spinner, (void *)(uint64)i, new_stack());
  while (spin_ready < 2)
    sleep(1);
  for (int n = 1; n <= 10; n++) {
    CHECK(lwp_sigsend(ids[n % 2], SIGUSR2) == 0, "lwp_sigsend failed");
    wait_hits(SIGUSR2, n);
    CHECK(hits[SIGUSR2] == n, "an LWP-directed signal was not taken exactly once");
    CHECK(taker_lwp == ids[n % 2], "an LWP-directed signal ran on another LWP");
  }
  spin_stop = 1;
  for (int i = 0; i < 2; i++)
    lwp_join(ids[i]);
}

// ---- alarm, fork, exec ------------------------------------------------------------

static void test_alarm(void)
{
  signal(SIGALRM, handler);
  CHECK(alarm(1000) == 0, "alarm with none set did not return 0");
  int left = alarm(0);
  CHECK(left > 0 && left <= 1000, "alarm(0) did not return the ticks left");
  sleep(3);
  CHECK(hits[SIGALRM] == 0, "a cancelled alarm fired");
  alarm(2);
  int r = sleep(1000);
  CHECK(r == -1 && hits[SIGALRM] == 1, "alarm did not interrupt sleep with SIGALRM");
  CHECK(alarm(-1) == -1, "alarm(-1) accepted");
}

static void test_fork(void)
{
  signal(SIGUSR1, handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR2), 0);
  int pid = fork();
  if (pid == 0) {
    CHECK(cur_mask() == BIT(SIGUSR2), "child did not get the caller's mask");
    uint64 p = 1;
    CHECK(sigpending(&p) == 0 && p == 0, "child has something pending");
    sigsend(getpid(), SIGUSR1);
    CHECK(hits[SIGUSR1] == 1, "child did not get the handler");
    exit(0);
  }
  int st = 1;
  wait(&st);
  CHECK(st == 0, "child failed");
  sigprocmask(SIG_SETMASK, 0, 0);
}

static void test_exec(void)
{
  int pid = fork();
  if (pid == 0) {
    signal(SIGUSR1, handler);
    signal(SIGUSR2, SIG_IGN);
    char *argv[] = { "sigtests", "-execchild", 0 };
    exec("sigtests", argv);
    exit(3);
  }
  int st = 1;
  wait(&st);
  CHECK(st == 0, "after exec the handlers were not SIG_DFL");
}

static int exec_child(void)
{
  int ok = signal(SIGUSR1, SIG_IGN) == SIG_DFL && signal(SIGUSR2, SIG_IGN) == SIG_DFL;
  return ok ? 0 : 1;
}

// ps, the Ctrl-p dump and gdb's lwps show what procinfo reports: each
// LWP's mask and own pending set, and the process's pending set.
static void test_procinfo(void)
{
  static struct procinfo pi[64];
  signal(SIGUSR1, handler);
  signal(SIGUSR2, handler);
  sigprocmask(SIG_SETMASK, BIT(SIGUSR1) | BIT(SIGUSR2), 0);
  lwp_sigsend(lwp_self(), SIGUSR2);
  sigsend(getpid(), SIGUSR1);
  int n = procinfo(pi, 64), me = -1;
  for (int i = 0; i < n; i++)
    if (pi[i].pid == getpid())
      me = i;
  CHECK(me >= 0 && pi[me].nlwp == 1, "procinfo does not show this process with one LWP");
  CHECK(pi[me].sigpending == BIT(SIGUSR1), "procinfo: the process's pending set is wrong");
  CHECK(pi[me].lwps[0].sigmask == (BIT(SIGUSR1) | BIT(SIGUSR2)), "procinfo: the LWP's mask is wrong");
  CHECK(pi[me].lwps[0].sigpending == BIT(SIGUSR2), "procinfo: the LWP's pending set is wrong");
  sigprocmask(SIG_SETMASK, 0, 0);
  CHECK(hits[SIGUSR1] == 1 && hits[SIGUSR2] == 1, "the two pending signals did not run once each");
}

// ---- bad arguments ----------------------------------------------------------------

static void test_bad_args(void)
{
  sighandler_t bad_h[] = { (sighandler_t)0x10, (sighandler_t)0x80200000, (sighandler_t)-2 };
  int bad_sig[] = { 0, -1, NSIG, 64, 1 << 30 };
  signal(SIGUSR1, handler);
  for (int i = 0; i < 5; i++) {
    CHECK(signal(bad_sig[i], handler) == (sighandler_t)-1, "signal accepted a bad number");
    CHECK(sigsend(getpid(), bad_sig[i]) == -1, "sigsend accepted a bad number");
    CHECK(lwp_sigsend(lwp_self(), bad_sig[i]) == -1, "lwp_sigsend accepted a bad number");
  }
  for (int i = 0; i < 3; i++)
    CHECK(signal(SIGUSR1, bad_h[i]) == (sighandler_t)-1, "signal accepted a handler outside the program");
  CHECK(signal(SIGUSR1, SIG_DFL) == handler, "a refused signal() changed the handler");
  CHECK(sigsend(-1, SIGUSR1) == -1 && sigsend(0, SIGUSR1) == -1 && sigsend(100000, SIGUSR1) == -1,
        "sigsend accepted a bad pid");
  CHECK(lwp_sigsend(-1, SIGUSR1) == -1 && lwp_sigsend(9999, SIGUSR1) == -1, "lwp_sigsend accepted a bad id");
  sigprocmask(SIG_SETMASK, BIT(SIGUSR2), 0);
  CHECK(sigprocmask(3, BIT(SIGUSR1), 0) == -1 && sigprocmask(-1, 0, 0) == -1, "sigprocmask accepted a bad how");
  CHECK(sigprocmask(SIG_SETMASK, 0, (uint64 *)0x10) == -1, "sigprocmask accepted a bad pointer");
  CHECK(sigprocmask(SIG_SETMASK, 0, (uint64 *)0x80200000) == -1, "sigprocmask accepted a kernel pointer");
  CHECK(cur_mask() == BIT(SIGUSR2), "a refused sigprocmask changed the mask");
  CHECK(sigpending((uint64 *)0x10) == -1 && sigpending((uint64 *)0x80200000) == -1,
        "sigpending accepted a bad pointer");
  CHECK(hits[SIGUSR1] == 0, "a refused call delivered a signal");
}

// ---- M:N: the uthread library's per-thread masks and uthread_kill ---------------------
// Two LWPs; thread A masks SIGUSR1, thread B does not, and each spins on an
// LWP of its own while the main thread waits in uthread_join.

static volatile int mn_stop, mn_ready;
static volatile uint64 mn_mask[2], mn_have[2];   // asked for, in force
static volatile int mn_tid[2];

static void mn_spinner(void *arg)
{
  int i = (int)(uint64)arg;
  uint64 have = mn_mask[i];
  CHECK(uthread_sigmask(SIG_SETMASK, have, 0) == 0, "uthread_sigmask failed");
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

// The bodies run in a bound thread (an LWP of its own) while the main
// thread waits in uthread_join, so A and B each keep one of the two LWPs;
// the main thread's higher priority gets it an LWP back (the library kicks
// a spinner) when it is woken. A body's failure is a line and mn_fail = 1.
static volatile int mn_fail;
#define MN_CHECK(c, msg) do { if (!(c)) { printf("  %s\n", msg); mn_fail = 1; return; } } while (0)

static void mn_bound(void *arg)
{
  void (*body)(void) = (void (*)(void))arg;
  uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1) | BIT(SIGUSR2), 0);
  while (mn_ready < 2)
    sleep(1);
  body();
}

static void mn_run(void (*body)(void))
{
  CHECK(uthread_init(2) == 0, "uthread_init failed");
  CHECK(uthread_setprio(0, 5) == 0, "uthread_setprio failed");
  signal(SIGUSR1, handler);
  signal(SIGUSR2, handler);
  CHECK(uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1) | BIT(SIGUSR2), 0) == 0, "uthread_sigmask failed");
  for (int i = 0; i < 2; i++) {
    mn_tid[i] = uthread_create(mn_spinner, (void *)(uint64)i, 0);
    CHECK(mn_tid[i] > 0, "uthread_create failed");
  }
  struct uthread_attr bound = { .bound = 1 };
  int s = uthread_create(mn_bound, (void *)body, &bound);
  CHECK(s > 0, "uthread_create (bound) failed");
  CHECK(uthread_join(s) == 0, "uthread_join failed");
  mn_stop = 1;
  for (int i = 0; i < 2; i++)
    CHECK(uthread_join(mn_tid[i]) == 0, "uthread_join failed");
  CHECK(!mn_fail, "see above");
}

// Waits (on its own LWP) for n runs of sig's handler.
static void mn_wait_hits(int sig, int n)
{
  for (int i = 0; i < 300 && hits[sig] < n; i++)   // a delivery takes a tick or two
    sleep(1);
}

// Process-directed SIGUSR1: the threads that could take it are A (masks it)
// and B (does not); the sender and the main thread mask it.
static void mn_one_thread(void)
{
  for (int n = 1; n <= 10; n++) {
    sigsend(getpid(), SIGUSR1);
    mn_wait_hits(SIGUSR1, n);
    if (hits[SIGUSR1] != n || taker_tid != mn_tid[1])
      printf("  send %d: %d handler runs, the last on thread %d (B is %d)\n", n, hits[SIGUSR1],
             taker_tid, mn_tid[1]);
    MN_CHECK(hits[SIGUSR1] == n && taker_tid == mn_tid[1], "not taken once by the one thread not masking it");
  }
  mn_mask[1] = BIT(SIGUSR1);     // both mask it: it stays pending until B unmasks it
  while (mn_have[1] != BIT(SIGUSR1))
    sleep(1);
  sigsend(getpid(), SIGUSR1);
  sleep(5);
  MN_CHECK(hits[SIGUSR1] == 10, "delivered while every thread masks it");
  mn_mask[1] = 0;
  mn_wait_hits(SIGUSR1, 11);
  MN_CHECK(hits[SIGUSR1] == 11 && taker_tid == mn_tid[1], "not taken by the thread that unmasked it");
}

static void test_mn_one_thread(void)
{
  mn_mask[0] = BIT(SIGUSR1);
  mn_mask[1] = 0;
  mn_run(mn_one_thread);
}

// uthread_kill: to B running on another LWP; to A while A masks it (held
// until A unmasks it); to the caller itself.
static void mn_kill(void)
{
  MN_CHECK(uthread_kill(mn_tid[1], SIGUSR2) == 0, "uthread_kill failed");
  mn_wait_hits(SIGUSR2, 1);
  MN_CHECK(hits[SIGUSR2] == 1 && taker_tid == mn_tid[1], "uthread_kill not taken by the thread named");
  MN_CHECK(uthread_kill(mn_tid[0], SIGUSR2) == 0, "uthread_kill failed");
  sleep(5);
  MN_CHECK(hits[SIGUSR2] == 1, "delivered to a thread that masks it");
  mn_mask[0] = 0;
  mn_wait_hits(SIGUSR2, 2);
  MN_CHECK(hits[SIGUSR2] == 2 && taker_tid == mn_tid[0], "not taken by the thread once it unmasked it");
  uthread_sigmask(SIG_UNBLOCK, BIT(SIGUSR2), 0);
  MN_CHECK(uthread_kill(uthread_self(), SIGUSR2) == 0 && hits[SIGUSR2] == 3 && taker_tid == uthread_self(),
           "uthread_kill to self did not run the handler before it returned");
}

static void test_mn_kill(void)
{
  mn_mask[0] = BIT(SIGUSR1) | BIT(SIGUSR2);
  mn_mask[1] = 0;
  mn_run(mn_kill);
}

static void test_mn_bad_args(void)
{
  CHECK(uthread_kill(0, SIGUSR1) == -1, "uthread_kill before uthread_init accepted");
  CHECK(uthread_init(2) == 0, "uthread_init failed");
  uint64 m = 0;
  CHECK(uthread_sigmask(SIG_SETMASK, BIT(SIGUSR2), 0) == 0, "uthread_sigmask failed");
  CHECK(uthread_sigmask(3, BIT(SIGUSR1), 0) == -1, "uthread_sigmask accepted a bad how");
  CHECK(uthread_sigmask(SIG_BLOCK, BIT(SIGUSR1), (uint64 *)0x10) == -1, "uthread_sigmask accepted a bad pointer");
  CHECK(uthread_sigmask(SIG_BLOCK, 0, &m) == 0 && m == BIT(SIGUSR2), "a refused uthread_sigmask changed the mask");
  CHECK(uthread_kill(-1, SIGUSR1) == -1 && uthread_kill(UTHREAD_MAX, SIGUSR1) == -1 &&
        uthread_kill(77, SIGUSR1) == -1, "uthread_kill accepted a bad tid");
  CHECK(uthread_kill(0, 0) == -1 && uthread_kill(0, NSIG) == -1 && uthread_kill(0, -3) == -1,
        "uthread_kill accepted a bad signal number");
}

// ---- the delivery round trip --------------------------------------------------------

static void nop_handler(int sig) { (void)sig; }

// Send to self, handler, return: guest instructions per round trip.
static void test_roundtrip(void)
{
  signal(SIGUSR1, nop_handler);
  sigsend(getpid(), SIGUSR1);    // warm
  uint64 t0 = rdinstret();
  for (int i = 0; i < 100; i++)
    sigsend(getpid(), SIGUSR1);
  uint64 t1 = rdinstret();
  printf("  roundtrip: %d instructions per send-handler-return\n", (int)((t1 - t0) / 100));
}

static const struct test tests[] = {
  { "self", test_self },
  { "mask-restore", test_mask_restore },
  { "registers", test_registers },
  { "sigchld", test_sigchld },
  { "defaults", test_defaults },
  { "sigkill", test_sigkill },
  { "intr-calls", test_intr_calls },
  { "process-sleeper", test_process_sleeper },
  { "taker-skips-blocked", test_taker_skips_blocked },
  { "one-taker", test_one_taker },
  { "lwp-directed", test_lwp_directed },
  { "alarm", test_alarm },
  { "fork", test_fork },
  { "exec", test_exec },
  { "procinfo", test_procinfo },
  { "bad-args", test_bad_args },
  { "mn-one-thread", test_mn_one_thread },
  { "mn-kill", test_mn_kill },
  { "mn-bad-args", test_mn_bad_args },
  { "roundtrip", test_roundtrip },
};

int main(int argc, char *argv[])
{
  if (argc > 1 && strcmp(argv[1], "-execchild") == 0)
    exit(exec_child());
  exit(test_suite_run(argc, argv, tests, sizeof(tests) / sizeof(tests[0])) == 0 ? 0 : 1);
}
