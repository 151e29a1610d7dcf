// trace: the scheduler timeline, from the kernel's per-CPU trace rings
// (kernel/thread/trace.c) to text a host script can parse
// (tools/trace/render.py draws it; docs/trace.md explains it).
//
//   trace on              clear the rings and start recording
//   trace off             stop recording
//   trace dump            print every CPU's records, oldest first
//   trace run CMD ARGS... clear + start, run CMD, wait for it, stop, dump
//
// The dump is line oriented:
//   TRACE BEGIN tick_hz 10000000
//   N klt pid lwp name          a thread name known from procinfo()
//   T cpu time type klt other lwp pri pid utid
//   TRACE END records N
// type is switch, wake, ipi, preempt, block, upcall or signal. For switch, klt is the
// thread switched to and other the one switched from; for ipi, klt is the sending
// CPU and other the target CPU; for upcall, klt is the LWP's thread that
// posted a scheduler-activation event and other the event's type
// (kernel/uapi/upcall.h); for signal, klt is the thread of the LWP that took
// a signal and other its number (kernel/uapi/signal.h); lwp is the LWP id + 1 (0: kernel-only);
// pid its process (0: kernel-only); utid the user thread its library
// reported running on that LWP (lwp_tidword), -1 if none.
// time is the `time` CSR (10 MHz; 100 guest instructions under -icount 0).
#include "user/user.h"

#include "uapi/trace.h"

#define MAX_CPUS    8         // NCPU in kernel/param.h
#define MAX_PROCS   64

static const char *const type_names[] = { "?", "switch", "wake", "ipi", "preempt", "block",
                                          "upcall", "signal" };

static struct trace_rec recs[TRACE_SIZE];
static struct procinfo procs[MAX_PROCS];

static const char *type_name(int t)
{
  return t > 0 && t < (int)(sizeof(type_names) / sizeof(type_names[0])) ? type_names[t] : "?";
}

// One N line per LWP of every live process. A name in the trace is a
// process name; the kernel-only threads (idle, interrupt threads) are named
// by the renderer from their priority or from a Ctrl-p dump.
static void print_names(void)
{
  int n = procinfo(procs, MAX_PROCS);
  for (int i = 0; i < n; i++) {
    char name[PI_NAMELEN + 1];
    memmove(name, procs[i].name, PI_NAMELEN);
    name[PI_NAMELEN] = 0;
    int nlwp = procs[i].nlwp < 8 ? procs[i].nlwp : 8;
    for (int j = 0; j < nlwp; j++)
      printf("N %d %d %d %s\n", procs[i].lwps[j].kltid, procs[i].pid, procs[i].lwps[j].lwpid,
             name);
  }
}

// The LWPs of the command `trace run` ran, as seen just after the fork
// (they have exited by the dump).
static int child_n, child_pid, child_klt[8], child_lwp[8];
static const char *child_name;

static int dump(void)
{
  int total = 0;
  printf("TRACE BEGIN tick_hz 10000000\n");
  print_names();
  for (int i = 0; i < child_n; i++)
    printf("N %d %d %d %s\n", child_klt[i], child_pid, child_lwp[i], child_name);
  for (int cpu = 0; cpu < MAX_CPUS; cpu++) {
    int n = trace(TRACE_READ, recs, (cpu << 16) | TRACE_SIZE);
    if (n < 0) {
      fprintf(2, "trace: cannot read the rings (kernel built with NO_TRACE?)\n");
      return 1;
    }
    if (n == TRACE_SIZE)
      printf("# cpu %d: ring full, older records were overwritten\n", cpu);
    for (int i = 0; i < n; i++) {
      struct trace_rec *r = &recs[i];
      printf("T %d %lu %s %d %d %d %d %d %d\n", cpu, (unsigned long)r->time, type_name(r->type),
             r->klt, r->other, r->lwp, r->pri, r->pid, r->utid);
    }
    total += n;
  }
  printf("TRACE END records %d\n", total);
  return 0;
}

static int run(int argc, char *argv[])
{
  if (trace(TRACE_START, 0, 0) < 0) {
    fprintf(2, "trace: cannot start (kernel built with NO_TRACE?)\n");
    return 1;
  }
  int pid = fork();
  if (pid < 0) {
    trace(TRACE_STOP, 0, 0);
    fprintf(2, "trace: fork failed\n");
    return 1;
  }
  if (pid == 0) {
    exec(argv[0], argv);
    if (argv[0][0] != '/') {          // programs live in the root directory
      char path[64];
      if (strlen(argv[0]) + 2 <= sizeof(path)) {
        path[0] = '/';
        strcpy(path + 1, argv[0]);
        exec(path, argv);
      }
    }
    fprintf(2, "trace: cannot run %s\n", argv[0]);
    exit(127);
  }
  // The child's first LWP keeps its KLT across exec: name it (and any LWP
  // already made) now, since they are gone by the time of the dump. LWPs
  // it creates later are named only by KLT and LWP id.
  int n = procinfo(procs, MAX_PROCS);
  for (int i = 0; i < n; i++)
    if (procs[i].pid == pid)
      for (int j = 0; j < procs[i].nlwp && j < 8; j++, child_n++) {
        child_klt[child_n] = procs[i].lwps[j].kltid;
        child_lwp[child_n] = procs[i].lwps[j].lwpid;
      }
  child_pid = pid;
  child_name = argv[0];
  int status = 0;
  wait(&status);
  trace(TRACE_STOP, 0, 0);
  (void)argc;
  printf("trace: %s exited with status %d\n", argv[0], status);
  return dump();
}

int main(int argc, char *argv[])
{
  if (argc >= 2 && strcmp(argv[1], "on") == 0)
    return trace(TRACE_START, 0, 0) < 0;
  if (argc >= 2 && strcmp(argv[1], "off") == 0)
    return trace(TRACE_STOP, 0, 0) < 0;
  if (argc >= 2 && strcmp(argv[1], "dump") == 0)
    return dump();
  if (argc >= 3 && strcmp(argv[1], "run") == 0)
    return run(argc - 2, argv + 2);
  fprintf(2, "usage: trace on | off | dump | run CMD [ARGS...]\n");
  return 1;
}
