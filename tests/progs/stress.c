// stress: many threads doing everything at once, for a while.
//   stress SECONDS [PROCS [LWPS [ULTS]]]     (defaults 60 4 3 6)
// Starts PROCS worker processes at once, half of them with LWPS bare LWPs
// that pass numbered messages through pipes, take a futex mutex and fork
// short-lived children, the other half with ULTS user threads (uthread) over
// LWPS LWPs that take mutexes and wait on condition variables; plus a killer
// that forks victims (several LWPs each, spinning or blocked) and kills them.
// Every worker checks its own results (no message lost or out of order, no
// lost mutex update, a killed victim reported with status -1). At the end
// the free pages (with what caches would give back) and live threads must
// be back where they were, and nothing may still be running (a hang).
// Prints the operation counts, then `stress: OK` or `stress: FAILED`.
#include "user/user.h"
#include "user/testsuite.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"

#define STACK_SIZE  8192
#define MAXLWPS     8
#define MSG_BATCH   64

struct counts {
  int kind;              // 0 LWPs, 1 user threads, 2 killer
  int ok;
  uint64 msgs, locks, forks, kills, waits;
};

static int deadline;       // uptime at which workers stop
static int nlwps = 3, nults = 6;
static struct counts res;

static void fail(const char *why)
{
  printf("stress: pid %d: %s\n", getpid(), why);
  res.ok = 0;
}

// ---- a futex mutex (0 free, 1 held, 2 held with waiters) -----------------------------

static void fmutex_lock(int *m)
{
  int c = __sync_val_compare_and_swap(m, 0, 1);
  while (c != 0) {
    if (c == 2 || __sync_val_compare_and_swap(m, 1, 2) != 0)
      futex_wait(m, 2, 0);
    c = __sync_val_compare_and_swap(m, 0, 2);
  }
}

static void fmutex_unlock(int *m)
{
  if (__sync_fetch_and_sub(m, 1) != 1) {
    *m = 0;
    futex_wake(m, 1);
  }
}

// ---- kind 0: bare LWPs ----------------------------------------------------------------

static int fmutex;
static volatile uint64 fcounter;
static uint64 lwp_locks[MAXLWPS], lwp_msgs[MAXLWPS], lwp_forks[MAXLWPS], lwp_waits[MAXLWPS];
static int lwp_ok[MAXLWPS];
static char stacks[MAXLWPS][STACK_SIZE] __attribute__((aligned(16)));
static int pipes[MAXLWPS][2];

// A pipe is a byte stream: a message may arrive in pieces.
static int read_msg(int fd, uint32 *msg)
{
  char *p = (char *)msg;
  int got = 0;
  while (got < (int)sizeof(*msg)) {
    int r = read(fd, p + got, sizeof(*msg) - got);
    if (r <= 0)
      return got == 0 ? r : -1;
    got += r;
  }
  return got;
}

// LWP i sends numbered messages to LWP (i+1) % n through pipes[(i+1) % n] and
// receives from LWP i-1 through pipes[i]; between batches it takes the
// mutex and, now and then, forks a child that exits at once. At the end it
// closes its sending end and reads what is left until end of file.
static void lwp_worker(void *arg)
{
  int i = (int)(uint64)arg;
  uint32 sent = 0, expect = 0, got;
  while (uptime() < deadline) {
    for (int k = 0; k < MSG_BATCH; k++, sent++)
      if (write(pipes[(i + 1) % nlwps][1], &sent, sizeof(sent)) != sizeof(sent))
        lwp_ok[i] = 0;
    int r = 0;
    for (int k = 0; k < MSG_BATCH; k++, expect++) {
      if ((r = read_msg(pipes[i][0], &got)) != sizeof(got))
        break;                   // end of file: the sender has stopped
      if (got != expect)
        lwp_ok[i] = 0;
    }
    if (r != sizeof(got)) {
      lwp_ok[i] &= r == 0;
      break;
    }
    lwp_msgs[i] += MSG_BATCH;
    for (int k = 0; k < 50; k++) {
      fmutex_lock(&fmutex);
      fcounter++;
      fmutex_unlock(&fmutex);
    }
    lwp_locks[i] += 50;
    if (sent % (MSG_BATCH * 8) == 0) {
      int pid = fork(), status = 0;
      if (pid == 0)
        exit(7);
      if (pid > 0) {
        lwp_forks[i]++;
        if (wait(&status) > 0) {   // some LWP's child: zombies must not fill the table
          lwp_waits[i]++;
          lwp_ok[i] &= status == 7;
        }
      }
    }
  }
  close(pipes[(i + 1) % nlwps][1]);
  for (int r; (r = read_msg(pipes[i][0], &got)) != 0; expect++) {
    if (r != sizeof(got) || got != expect) {
      lwp_ok[i] = 0;
      break;
    }
  }
  if (i != 0)
    lwp_exit();
}

static void lwp_process(void)
{
  for (int i = 0; i < nlwps; i++) {
    lwp_ok[i] = 1;
    if (pipe(pipes[i]) < 0)
      fail("pipe");
  }
  int ids[MAXLWPS];
  for (int i = 1; i < nlwps; i++)
    if ((ids[i] = lwp_create(lwp_worker, (void *)(uint64)i, stacks[i] + STACK_SIZE)) < 0)
      fail("lwp_create");
  lwp_worker(0);
  for (int i = 1; i < nlwps; i++)
    if (lwp_join(ids[i]) < 0)
      fail("lwp_join");
  for (int i = 0; i < nlwps; i++) {
    res.msgs += lwp_msgs[i];
    res.locks += lwp_locks[i];
    res.forks += lwp_forks[i];
    res.waits += lwp_waits[i];
    if (!lwp_ok[i])
      fail("a pipe message was lost or came out of order, or a child's status was wrong");
  }
  if (fcounter != res.locks)
    fail("the futex mutex lost an update");
  for (int status; wait(&status) >= 0; res.waits++)
    if (status != 7)
      fail("a forked child exited with the wrong status");
  if (res.waits != res.forks)
    fail("forked children missing");
}

// ---- kind 1: user threads -------------------------------------------------------------

static struct umutex um;
static struct ucond uc;
static volatile uint64 ucounter, uticket;
static uint64 ult_locks[64];

// Threads take turns: each waits until the ticket is its number mod n.
static void ult_worker(void *arg)
{
  int i = (int)(uint64)arg;
  while (uptime() < deadline) {
    for (int k = 0; k < 20; k++) {
      umutex_lock(&um);
      ucounter++;
      umutex_unlock(&um);
    }
    ult_locks[i] += 20;
    umutex_lock(&um);
    while (uticket % nults != i && uptime() < deadline)
      ucond_wait(&uc, &um);
    uticket++;
    ucond_broadcast(&uc);
    umutex_unlock(&um);
    if (i % 2)
      uthread_yield();
  }
  umutex_lock(&um);
  uticket++;                 // let the others see the deadline
  ucond_broadcast(&uc);
  umutex_unlock(&um);
}

static void ult_process(void)
{
  if (uthread_init(nlwps) < 0) {
    fail("uthread_init");
    return;
  }
  umutex_init(&um);
  ucond_init(&uc);
  int tids[64];
  for (int i = 0; i < nults; i++)
    if ((tids[i] = uthread_create(ult_worker, (void *)(uint64)i, 0)) < 0)
      fail("uthread_create");
  for (int i = 0; i < nults; i++) {
    if (uthread_join(tids[i]) < 0)
      fail("uthread_join");
    res.locks += ult_locks[i];
  }
  if (ucounter != res.locks)
    fail("a uthread mutex lost an update");
  res.msgs = uticket;
}

// ---- kind 2: the killer ---------------------------------------------------------------

static int victim_word;

static void victim_lwp(void *arg)
{
  if ((uint64)arg % 2)
    for (;;)
      ;
  for (;;)
    futex_wait(&victim_word, 0, 0);
}

// A victim: LWPs spinning and blocked, and a child blocked on a pipe read.
static void victim(void)
{
  for (int i = 1; i < nlwps; i++)
    lwp_create(victim_lwp, (void *)(uint64)i, stacks[i] + STACK_SIZE);
  int p[2];
  if (pipe(p) == 0) {
    char c;
    read(p[0], &c, 1);       // never returns: we hold the write end
  }
  for (;;)
    sleep(100);
}

static void killer_process(void)
{
  uint32 r = getpid();
  while (uptime() < deadline) {
    int pid = fork();
    if (pid < 0) {
      sleep(1);
      continue;
    }
    if (pid == 0)
      victim();
    r = r * 1103515245 + 12345;
    if ((r >> 16) % 3)
      sleep((r >> 8) % 4);
    if (kill(pid) != 0)
      fail("kill of a live victim failed");
    int status = 0;
    if (wait(&status) != pid || status != -1)
      fail("a killed victim was not reported with status -1");
    res.kills++;
  }
}

// ---- the master -----------------------------------------------------------------------

// Kills what is left of processes started after `master`; how many were.
static int kill_younger(int master, int spare)
{
  static struct procinfo pi[64];
  int n = procinfo(pi, 64), left = 0;
  for (int i = 0; i < n; i++)
    if (pi[i].pid > master && pi[i].pid != spare && pi[i].pid != getpid()) {
      kill(pi[i].pid);
      left++;
    }
  return left;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(2, "usage: stress SECONDS [PROCS [LWPS [ULTS]]]\n");
    exit(1);
  }
  int secs = atoi(argv[1]);
  int nprocs = argc > 2 ? atoi(argv[2]) : 4;
  nlwps = argc > 3 ? atoi(argv[3]) : 3;
  nults = argc > 4 ? atoi(argv[4]) : 6;
  if (secs < 1 || nprocs < 1 || nprocs > 32 || nlwps < 2 || nlwps > MAXLWPS || nults < 1 ||
      nults > 64) {
    fprintf(2, "stress: SECONDS >= 1, PROCS 1..32, LWPS 2..%d, ULTS 1..64\n", MAXLWPS);
    exit(1);
  }
  int master = getpid();
  int pages0, threads0, pages1, threads1;
  test_kernel_settle(&pages0, &threads0);
  deadline = uptime() + secs * 100;
  int p[2];
  if (pipe(p) < 0)
    exit(1);
  for (int i = 0; i <= nprocs; i++) {
    if (fork() == 0) {
      close(p[0]);
      res.ok = 1;
      res.kind = i == nprocs ? 2 : i % 2;
      if (res.kind == 0)
        lwp_process();
      else if (res.kind == 1)
        ult_process();
      else
        killer_process();
      write(p[1], &res, sizeof(res));
      exit(0);
    }
  }
  close(p[1]);
  // A hang: anything still running a minute after the deadline.
  int watchdog = fork();
  if (watchdog == 0) {
    close(p[0]);
    sleep(secs * 100 + 6000);
    exit(kill_younger(master, 0) > 0);
  }
  struct counts total = { 0, 1, 0, 0, 0, 0, 0 }, c;
  int reports = 0;
  while (read(p[0], &c, sizeof(c)) == sizeof(c)) {
    reports++;
    total.ok &= c.ok;
    total.msgs += c.msgs;
    total.locks += c.locks;
    total.forks += c.forks;
    total.kills += c.kills;
  }
  close(p[0]);
  kill(watchdog);
  int hang = 0;
  for (int pid, status; (pid = wait(&status)) >= 0;)
    if (pid == watchdog && status == 1)
      hang = 1;
  while (kill_younger(master, 0) > 0)
    sleep(10);
  test_kernel_settle(&pages1, &threads1);
  int leak = pages1 != pages0 || threads1 != threads0;
  printf("stress: %d s, %d procs x %d lwps (%d user threads): %d pipe msgs, %d lock ops, "
         "%d forks, %d kills\n", secs, nprocs, nlwps, nults, (int)total.msgs, (int)total.locks,
         (int)total.forks, (int)total.kills);
  printf("stress: free pages %d -> %d, live threads %d -> %d\n", pages0, pages1, threads0,
         threads1);
  if (reports != nprocs + 1)
    printf("stress: %d of %d workers reported\n", reports, nprocs + 1);
  if (hang)
    printf("stress: HANG (workers still running a minute after the end)\n");
  if (leak)
    printf("stress: LEAK\n");
  int ok = total.ok && !hang && !leak && reports == nprocs + 1;
  printf(ok ? "stress: OK\n" : "stress: FAILED\n");
  exit(!ok);
}
