// Micro-benchmarks of the kernel's basic costs. Run under QEMU with
// -icount shift=0, where one guest instruction takes one nanosecond and the
// time CSR ticks every 100 instructions, so `rdtime` deltas times 100 are
// guest instruction counts (deterministic, unlike host seconds).
//
// bench [idle] [NAME...] - with "idle", first start 50 idle processes, to
//                  show the costs do not depend on how many processes exist;
//                  with names (getpid lwp pipe lwp_create ult block fork), run only
//                  those benchmarks (for `make trace` and `make profile`).
// bench locks [WORKLOAD MODE [ROUNDS]] - the umutex modes in three workloads
//                  (lab adaptive), or just one of them.
// Prints lines "bench NAME INSTRUCTIONS" (per operation or round trip).
#include "user/user.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "uapi/trace.h"

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

// ---- mutexes: BLOCK, SPIN and ADAPTIVE (lab adaptive) -------------------------------
// Guest instructions per acquisition of one umutex. Under -icount the harts
// take turns on one host thread and the clock counts the instructions of
// both, so elapsed time minus the time all harts sat idle together is the
// instructions they executed, spinning included. Each workload runs in a
// child process (uthread_init(2)):
//   oncpu     2 bound threads, one per hart, take turns holding the mutex
//             for a short section: every other acquisition finds it held by
//             an owner running on the other hart
//   sleeper   a bound thread sleeps a tick in the kernel inside its critical
//             section, 10 times; each time a bound thread on the other hart
//             wants the mutex meanwhile
//   oversub   8 threads on the 2 LWPs; every 8th critical section the owner
//             yields to the other threads of its LWP while holding the mutex
// The run asks the kernel for bench slicing (kdebug KD_BENCH_SLICE): without
// it, -icount runs each hart for millions of instructions in turn and no
// waiter ever sees a running owner let go. The slice interrupts are the
// measurement's, not the workload's: their cost (calibrate_slices) is taken
// off. docs/adaptive.md explains the method.
#define BALANCE_PERIOD 5            // ticks between the kernel's load-balancing passes
#define BENCH_SLICE 20              // time units: 2,000 instructions
static struct umutex bench_m;
static volatile int bench_count, oncpu_cpu[2] = { -1, -1 };
static struct bench_times busy_start;
static uint64 slice_cost;           // instructions one slice interrupt costs
static int trace_measured;          // one workload, under `trace run`: record only it

static struct bench_times bench_times(void)
{
  struct bench_times bt = { 0, 0 };
  kdebug(KD_BENCH_TIMES, (long)&bt);
  return bt;
}

static void busy_begin(void)
{
  busy_start = bench_times();
  start();
}

// Instructions executed by all harts since busy_begin(), without idle time
// and, if net, without the slice interrupts.
static uint64 busy_since(int net)
{
  uint64 elapsed = rdtime() - start_time;
  struct bench_times now = bench_times();
  uint64 insns = (elapsed - (now.all_idle - busy_start.all_idle)) * INSNS_PER_TICK;
  uint64 slices = net ? (now.slices - busy_start.slices) * slice_cost : 0;
  return insns > slices ? insns - slices : 0;
}

static void cs_work(int n)
{
  for (volatile int i = 0; i < n; i++)
    ;
}

// Threads start together, once all exist (making one takes longer than
// some of them run). A bound thread blocks at the gate, which its creator
// holds meanwhile (spinning, it would keep the creator off its hart until
// the next tick); threads of the shared LWPs yield until bench_go.
static struct umutex bench_gate;
static volatile int bench_go;

static void pass_gate(void)
{
  umutex_lock(&bench_gate);
  umutex_unlock(&bench_gate);
}

static void wait_for_go(void)
{
  while (!bench_go)
    uthread_yield();
}

// The two threads take turns: in round i the owner takes the mutex, says
// so, and keeps it until the other is trying too (a few instructions
// later), so every second acquisition finds the mutex held by a thread
// running on the other hart.
static volatile int oncpu_holding = -1, oncpu_trying = -1;
static int oncpu_rounds = 2000;

// Two bound threads wait until their LWPs sit on different harts (the
// kernel's balancer separates two busy LWPs of one hart within a few
// ticks); then the measurement starts.
static void two_harts(int me)
{
  pass_gate();
  while (oncpu_cpu[0] < 0 || oncpu_cpu[1] < 0 || oncpu_cpu[0] == oncpu_cpu[1])
    oncpu_cpu[me] = getcpu();
  if (me == 0)
    busy_begin();
}

static void oncpu_thread(void *arg)
{
  int me = (long)arg;
  two_harts(me);
  for (int i = 0; i < oncpu_rounds; i++) {
    if (i % 2 == me) {
      umutex_lock(&bench_m);
      oncpu_holding = i;
      while (oncpu_trying != i)
        ;
      cs_work(40);
      umutex_unlock(&bench_m);
    } else {
      while (oncpu_holding != i)
        ;
      oncpu_trying = i;
      umutex_lock(&bench_m);
      cs_work(40);
      umutex_unlock(&bench_m);
    }
  }
}

// In round i the sleeper takes the mutex, says so, and sleeps a tick
// holding it; the waiter, bound to the other hart, then wants the mutex.
static volatile int sleeper_round = -1, waiter_round = -1;

static void sleeper_thread(void *arg)
{
  two_harts((long)arg);
  for (int i = 0; i < 10; i++) {
    umutex_lock(&bench_m);
    sleeper_round = i;
    sleep(1);
    umutex_unlock(&bench_m);
    while (waiter_round < i)
      ;
  }
}

static void sleeper_waiter(void *arg)
{
  two_harts(1 + (long)arg);
  for (int i = 0; i < 10; i++) {
    while (sleeper_round < i)
      ;
    umutex_lock(&bench_m);
    bench_count++;
    umutex_unlock(&bench_m);
    waiter_round = i;
  }
}

static void oversub_thread(void *arg)
{
  (void)arg;
  wait_for_go();
  for (int i = 0; i < 1000; i++) {
    umutex_lock(&bench_m);
    bench_count++;
    cs_work(40);
    if (i % 8 == 7)
      uthread_yield();       // the owner leaves its LWP for a while
    umutex_unlock(&bench_m);
    cs_work(40);
  }
}

static int spawn(void (*fn)(void *), int n, int bound, int *tids)
{
  struct uthread_attr attr = { 0, 0, bound };
  for (int i = 0; i < n; i++)
    tids[i] = uthread_create(fn, (void *)(long)i, &attr);
  return n;
}

// Each starts the threads of a workload (the measurement starts here, or
// for oncpu once its threads are placed).
static void run_oncpu(int *tids, int *n)   { *n = spawn(oncpu_thread, 2, 1, tids); }
static void run_oversub(int *tids, int *n)
{
  *n = spawn(oversub_thread, 8, 0, tids);
  busy_begin();
  bench_go = 1;
}
static void run_sleeper(int *tids, int *n)
{
  *n = spawn(sleeper_thread, 1, 1, tids);
  *n += spawn(sleeper_waiter, 1, 1, tids + *n);
}

// The results of the workloads, printed only at the end: console output
// is the one thing QEMU finishes at the host's pace, and its interrupts
// would fall into the next workload at a different point every run.
static char results[2048];
static int nresults;

static void lock_workload(const char *name, int mode, void (*run)(int *, int *))
{
  static const char *modes[] = { "adaptive", "block", "spin" };
  int out[2];
  if (pipe(out) < 0)
    return;
  if (fork() != 0) {
    close(out[1]);
    int n;
    while (nresults < sizeof results &&
           (n = read(out[0], results + nresults, sizeof results - nresults)) > 0)
      nresults += n;
    close(out[0]);
    wait(0);
    return;
  }
  close(out[0]);
  if (uthread_init(2) < 0)
    exit(1);
  umutex_init(&bench_m);
  umutex_setmode(&bench_m, mode);
  // Start at a tick that is a multiple of the balancer's period: then what
  // follows does not depend on when the command was typed (under -icount
  // the rest is deterministic).
  sleep(BALANCE_PERIOD - uptime() % BALANCE_PERIOD);
  int tids[8], n;
  if (trace_measured)
    trace(TRACE_START, 0, 0);       // clears what was recorded before
  umutex_init(&bench_gate);
  umutex_setmode(&bench_gate, UMUTEX_BLOCK);
  umutex_lock(&bench_gate);
  run(tids, &n);
  umutex_unlock(&bench_gate);
  for (int i = 0; i < n; i++)
    uthread_join(tids[i]);
  if (trace_measured)
    trace(TRACE_STOP, 0, 0);
  struct umutex_stats s;
  umutex_stats(&bench_m, &s);
  uint64 raw = busy_since(0), net = busy_since(1);
  fprintf(out[1], "bench lock_%s_%s %lu\n", name, modes[mode], net / s.acquired);
  fprintf(out[1], "lockstats %s %s acquired %lu spun %lu blocked %lu spin_loops %lu raw %lu\n",
          name, modes[mode], s.acquired, s.spun, s.blocked, s.spin_loops, raw / s.acquired);
  exit(0);
}

// The cost of one slice interrupt: a loop on one hart (the other idle), with
// and without slicing. Runs differ by a few instructions per slice (the
// slices they count and the instructions they take do not move together
// exactly), so: the median of CALIBRATIONS runs, rounded to 10.
#define CALIBRATIONS 5
static uint64 calibrate_once(void)
{
  uint64 insns[2], slices = 0;
  for (int sliced = 0; sliced < 2; sliced++) {
    kdebug(KD_BENCH_SLICE, sliced ? BENCH_SLICE : 0);
    sleep(1);
    busy_begin();
    cs_work(200000);
    insns[sliced] = busy_since(0);
    slices = bench_times().slices - busy_start.slices;
  }
  return slices ? (insns[1] - insns[0]) / slices : 0;
}

static void calibrate_slices(void)
{
  uint64 cost[CALIBRATIONS];
  for (int i = 0; i < CALIBRATIONS; i++) {
    uint64 c = calibrate_once();
    int j = i;
    for (; j > 0 && cost[j - 1] > c; j--)    // insertion sort
      cost[j] = cost[j - 1];
    cost[j] = c;
  }
  slice_cost = (cost[CALIBRATIONS / 2] + 5) / 10 * 10;
}

// bench locks: every workload in every mode. bench locks WORKLOAD MODE
// [ROUNDS]: just that one (MODE 0 adaptive, 1 block, 2 spin; ROUNDS for
// oncpu), for `make trace`, which then records only the measured part.
static void bench_locks(int argc, char *argv[])
{
  int old = kdebug(KD_BENCH_SLICE, BENCH_SLICE);
  calibrate_slices();
  if (argc >= 4) {
    trace_measured = 1;
    if (argc > 4)
      oncpu_rounds = atoi(argv[4]);
    void (*run)(int *, int *) = strcmp(argv[2], "oncpu") == 0 ? run_oncpu :
                                strcmp(argv[2], "sleeper") == 0 ? run_sleeper : run_oversub;
    lock_workload(argv[2], atoi(argv[3]), run);
  } else {
    for (int mode = UMUTEX_ADAPTIVE; mode <= UMUTEX_SPIN; mode++) {
      lock_workload("oncpu", mode, run_oncpu);
      lock_workload("sleeper", mode, run_sleeper);
      lock_workload("oversub", mode, run_oversub);
    }
  }
  kdebug(KD_BENCH_SLICE, old);
  write(1, results, nresults);
  printf("lockslices cost %lu per slice interrupt (median of %d)\n", slice_cost, CALIBRATIONS);
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
  if (argc > 1 && strcmp(argv[1], "locks") == 0) {
    bench_locks(argc, argv);
    printf("bench done\n");
    return 0;
  }
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
