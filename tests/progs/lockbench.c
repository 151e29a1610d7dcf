// The umutex modes of lab adaptive, BLOCK, SPIN and ADAPTIVE, in three
// workloads on two harts: guest instructions per acquisition under QEMU's
// -icount shift=0 (`make bench` runs it with CPUS=2; docs/adaptive.md). A
// program of its own, so that bench's process (whose fork `make bench`
// times) does not grow with it.
//
// lockbench                        every workload in every mode
// lockbench WORKLOAD MODE [ROUNDS] just one (WORKLOAD oncpu, sleeper or
//                                  oversub; MODE 0 adaptive, 1 block, 2
//                                  spin; ROUNDS for oncpu), for `make trace`,
//                                  which then records only that workload
// Prints "bench lock_WORKLOAD_MODE INSTRUCTIONS" and a "lockstats" line of
// counters per run, then the measured cost of a slice interrupt.
#include "user/user.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "uapi/trace.h"

#define INSNS_PER_TICK 100          // the time CSR ticks every 100 instructions

static uint64 start_time;

static void start(void) { start_time = rdtime(); }

// Under -icount the harts take turns on one host thread and the clock counts
// the instructions of both, so elapsed time minus the time all harts sat
// idle together is the instructions they executed, spinning included. Each
// workload runs in a child process (uthread_init(2)):
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
// some of them run), when bench_go is set. A bound thread waits for it
// asleep on the futex: spinning, it would keep its creator off its hart
// until the next tick. Threads of the shared LWPs yield meanwhile.
static volatile int bench_go;

static void start_all(void)
{
  bench_go = 1;
  futex_wake((int *)&bench_go, 8);
}

static void wait_for_go_asleep(void)
{
  while (!bench_go)
    futex_wait((int *)&bench_go, 0, 0);
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
  wait_for_go_asleep();
  while (oncpu_cpu[0] < 0 || oncpu_cpu[1] < 0 || oncpu_cpu[0] == oncpu_cpu[1])
    oncpu_cpu[me] = getcpu();
  if (me == 0)
    busy_begin();
}

// Under `trace run` the picture ends with the hand-offs (not with the
// threads' exit and join): the first thread done waits for the second on a
// futex, so both LWPs' intervals end at a kernel event, and the second
// stops the trace.
static volatile int oncpu_running = 2;

static void rounds_done(void)
{
  if (!trace_measured)
    return;
  if (__atomic_sub_fetch(&oncpu_running, 1, __ATOMIC_SEQ_CST) > 0) {
    while (oncpu_running > 0)
      futex_wait((int *)&oncpu_running, 1, 0);
    return;
  }
  futex_wake((int *)&oncpu_running, 1);
  trace(TRACE_STOP, 0, 0);
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
  rounds_done();
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
  run(tids, &n);
  start_all();
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

int main(int argc, char *argv[])
{
  int old = kdebug(KD_BENCH_SLICE, BENCH_SLICE);
  calibrate_slices();
  if (argc >= 3) {
    trace_measured = 1;
    if (argc > 3)
      oncpu_rounds = atoi(argv[3]);
    void (*run)(int *, int *) = strcmp(argv[1], "oncpu") == 0 ? run_oncpu :
                                strcmp(argv[1], "sleeper") == 0 ? run_sleeper : run_oversub;
    lock_workload(argv[1], atoi(argv[2]), run);
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
  printf("bench done\n");
  return 0;
}
