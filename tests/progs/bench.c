// Micro-benchmarks of the kernel's basic costs. Run under QEMU with
// -icount shift=0, where one guest instruction takes one nanosecond and the
// time CSR ticks every 100 instructions, so `rdtime` deltas times 100 are
// guest instruction counts (deterministic, unlike host seconds).
//
// bench [idle] [NAME...] - with "idle", first start 50 idle processes, to
//                  show the costs do not depend on how many processes exist;
//                  with names (getpid lwp pipe lwp_create ult block fork), run only
//                  those benchmarks (for `make trace` and `make profile`).
// Prints lines "bench NAME INSTRUCTIONS" (per operation or round trip).
#include "user/user.h"
#include "user/uthread.h"

#define INSNS_PER_TICK 100

static uint64 start_time;

static void start(void) { start_time = rdtime(); }

static void report(const char *name, int n)
{
  uint64 insns = (rdtime() - start_time) * INSNS_PER_TICK;
  printf("bench %s %lu\n", name, insns / n);
}

static void bench_getpid(void)
{
  int n = 20000;
  start();
  for (int i = 0; i < n; i++)
    getpid();
  report("getpid", n);
}

// Two LWPs of one process take turns through a futex word.
static volatile int turn;
static volatile int partner_cpu;

static void ping_partner(void *arg)
{
  int n = (long)arg;
  partner_cpu = getcpu();
  for (int i = 0; i < n; i++) {
    while (turn != 1)
      futex_wait((int *)&turn, 0, 0);
    turn = 0;
    futex_wake((int *)&turn, 1);
  }
  lwp_exit();
}

static void lwp_pingpong(const char *name, int n)
{
  static char stack[8192] __attribute__((aligned(16)));
  turn = 0;
  int id = lwp_create(ping_partner, (void *)(long)n, stack + sizeof(stack));
  sleep(1);   // let the partner reach its first wait
  start();
  for (int i = 0; i < n; i++) {
    turn = 1;
    futex_wake((int *)&turn, 1);
    while (turn != 0)
      futex_wait((int *)&turn, 1, 0);
  }
  // Both LWPs on one CPU: a plain LWP switch. On two CPUs: every wake-up
  // crosses CPUs as an IPI message, so a round trip holds two remote wake-ups.
  report(partner_cpu == getcpu() ? name : "remote_wake_roundtrip", n);
  lwp_join(id);
}

static void bench_lwp_pingpong(void)
{
  lwp_pingpong("lwp_pingpong", 3000);
}

static void bench_pipe(void)
{
  int n = 2000, up[2], down[2];
  char c = 'x';
  pipe(up);
  pipe(down);
  int pid = fork();
  if (pid == 0) {
    for (int i = 0; i < n; i++) {
      read(down[0], &c, 1);
      write(up[1], &c, 1);
    }
    exit(0);
  }
  start();
  for (int i = 0; i < n; i++) {
    write(down[1], &c, 1);
    read(up[0], &c, 1);
  }
  report("pipe_roundtrip", n);
  wait(0);
  close(up[0]); close(up[1]); close(down[0]); close(down[1]);
}

static void nothing(void *arg)
{
  (void)arg;
  lwp_exit();
}

static void bench_lwp_create(void)
{
  static char stack[4096] __attribute__((aligned(16)));
  int n = 1000;
  start();
  for (int i = 0; i < n; i++)
    lwp_join(lwp_create(nothing, 0, stack + sizeof(stack)));
  report("lwp_create_join", n);
}

static void bench_fork(void)
{
  int n = 200;
  start();
  for (int i = 0; i < n; i++) {
    if (fork() == 0)
      exit(0);
    wait(0);
  }
  report("fork_exit_wait", n);
}

// User threads (the uthread library) on one LWP, in a child process since a
// process initialises the library once: a ULT-to-ULT round trip (two
// switches through uthread_yield, no system call) and create + join.
static void ult_partner(void *arg)
{
  int n = (long)arg;
  for (int i = 0; i < n; i++)
    uthread_yield();
}

static void ult_pinger(void *arg)
{
  int n = (long)arg;
  start();
  for (int i = 0; i < n; i++)
    uthread_yield();          // to the partner and back
  report("ult_pingpong", n);
}

static void ult_nothing(void *arg)
{
  (void)arg;
}

static void bench_ult(void)
{
  if (fork() != 0) {
    wait(0);
    return;
  }
  if (uthread_init(1) < 0)
    exit(1);
  int n = 20000;
  int a = uthread_create(ult_pinger, (void *)(long)n, 0);
  int b = uthread_create(ult_partner, (void *)(long)n, 0);
  uthread_join(a);            // thread 0 waits: only the two take turns
  uthread_join(b);
  n = 2000;
  uthread_join(uthread_create(ult_nothing, 0, 0));   // warm the stack cache
  start();
  for (int i = 0; i < n; i++)
    uthread_join(uthread_create(ult_nothing, 0, 0));
  report("ult_create_join", n);
  exit(0);
}

// Blocking in the kernel and coming back: two threads of one process bounce
// a byte through two pipes, so each round trip is two blocks and two
// wake-ups. As plain LWPs, each blocked LWP simply sleeps and returns. As
// user threads at level 1 with upcalls (lab upcalls), each block hands the
// LWP's place to a spare (BLOCKED, NEWLWP) and each wake-up gives the thread
// back to the library (UNBLOCKED, RELEASED), which resumes it with
// lwp_resume. Each in a child process: the library initialises once.
static int blk_up[2], blk_down[2];

static void block_partner(int n)
{
  char c;
  for (int i = 0; i < n; i++) {
    read(blk_down[0], &c, 1);
    write(blk_up[1], &c, 1);
  }
}

static void block_pinger(int n, const char *name)
{
  char c = 'x';
  write(blk_down[1], &c, 1);          // one round to warm up (and spares)
  read(blk_up[0], &c, 1);
  start();
  for (int i = 1; i < n; i++) {
    write(blk_down[1], &c, 1);
    read(blk_up[0], &c, 1);
  }
  report(name, n - 1);
}

static void lwp_block_partner(void *arg)
{
  block_partner((long)arg);
  lwp_exit();
}

static void ult_block_partner(void *arg)
{
  block_partner((long)arg);
}

static void ult_block_pinger(void *arg)
{
  block_pinger((long)arg, "upcall_block_roundtrip");
}

static void bench_block(void)
{
  int n = 500;
  pipe(blk_up);
  pipe(blk_down);
  if (fork() == 0) {
    static char stack[8192] __attribute__((aligned(16)));
    int id = lwp_create(lwp_block_partner, (void *)(long)n, stack + sizeof(stack));
    block_pinger(n, "lwp_block_roundtrip");
    lwp_join(id);
    exit(0);
  }
  wait(0);
  close(blk_up[0]); close(blk_up[1]); close(blk_down[0]); close(blk_down[1]);
}

static void bench_upcall_block(void)
{
  int n = 500;
  pipe(blk_up);
  pipe(blk_down);
  if (fork() == 0) {
    if (uthread_init(1) < 0 || uthread_upcalls(1) < 0)
      exit(1);                        // a kernel without upcalls: no row
    int b = uthread_create(ult_block_partner, (void *)(long)n, 0);
    int a = uthread_create(ult_block_pinger, (void *)(long)n, 0);
    uthread_join(a);
    uthread_join(b);
    exit(0);
  }
  wait(0);
  close(blk_up[0]); close(blk_up[1]); close(blk_down[0]); close(blk_down[1]);
}

// Start idle processes that block in read() until the benchmark ends.
static int idle_pipe[2];
static void start_idle(int n)
{
  pipe(idle_pipe);
  for (int i = 0; i < n; i++) {
    if (fork() == 0) {
      char c;
      close(idle_pipe[1]);
      read(idle_pipe[0], &c, 1);
      exit(0);
    }
  }
  close(idle_pipe[0]);
}

static void stop_idle(int n)
{
  close(idle_pipe[1]);
  for (int i = 0; i < n; i++)
    wait(0);
}

static struct {
  const char *name;
  void (*run)(void);
} benches[] = {
  { "getpid", bench_getpid },
  { "lwp", bench_lwp_pingpong },
  { "pipe", bench_pipe },
  { "lwp_create", bench_lwp_create },
  { "ult", bench_ult },
  { "block", bench_block },
  { "upcall", bench_upcall_block },
  { "fork", bench_fork },
};

static int selected(const char *name, int argc, char *argv[])
{
  if (argc == 0)
    return 1;
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return 1;
  return 0;
}

int main(int argc, char *argv[])
{
  argc--, argv++;
  int idle = argc > 0 && strcmp(argv[0], "idle") == 0 ? 50 : 0;
  if (idle)
    argc--, argv++;
  if (idle)
    start_idle(idle);
  printf("bench cpus-seen %d idle-procs %d\n", getcpu(), idle);
  for (int i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
    if (selected(benches[i].name, argc, argv))
      benches[i].run();
  if (idle)
    stop_idle(idle);
  printf("bench done\n");
  return 0;
}
