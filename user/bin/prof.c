// prof: the sampling profiler's command (kernel/thread/profile.c).
//
//   prof run [-i N] CMD ARGS...  start sampling every N time-CSR units
//                                (default 20: 2,000 instructions under
//                                -icount shift=0), run CMD, wait, stop, dump
//   prof spin N                  a known loop, for the profiler's own test
//
// The dump is text for tools/profile/profile.py, which names the PCs:
//   PROF BEGIN interval 10
//   N 5 bench                   a pid and its program (its ELF: build/bin/bench)
//   S 5 1 0 0x1234 42           pid, user (1) or kernel (0), late (1: due while
//                               interrupts were off), pc, samples
//   PROF END samples 1234 lost 0
// Samples are sorted by (pid, user, late, pc) here, so equal ones print once.
#include "user/user.h"
#include "kernel/uapi/profile.h"

static struct prof_sample buf[32768];   // PROF_SAMPLES in kernel/thread/profile.c
static struct prof_name names[64];

static int before(struct prof_sample *a, struct prof_sample *b)
{
  if (a->pid != b->pid)
    return a->pid < b->pid;
  if (a->user != b->user)
    return a->user < b->user;
  if (a->late != b->late)
    return a->late < b->late;
  return a->pc < b->pc;
}

// Shell sort: short, and fast enough for 32,768 samples.
static void sort(struct prof_sample *s, int n)
{
  for (int gap = n / 2; gap > 0; gap /= 2) {
    for (int i = gap; i < n; i++) {
      struct prof_sample t = s[i];
      int j = i;
      for (; j >= gap && before(&t, &s[j - gap]); j -= gap)
        s[j] = s[j - gap];
      s[j] = t;
    }
  }
}

static void dump(int interval)
{
  int n = profile(PROF_READ, buf, sizeof(buf) / sizeof(buf[0]));
  int nn = profile(PROF_NAMES, names, sizeof(names) / sizeof(names[0]));
  if (n < 0 || nn < 0) {
    fprintf(2, "prof: cannot read the samples\n");
    return;
  }
  printf("PROF BEGIN interval %d\n", interval);
  for (int i = 0; i < nn; i++)
    printf("N %d %s\n", names[i].pid, names[i].name);
  sort(buf, n);
  for (int i = 0; i < n;) {
    int j = i;
    while (j < n && buf[j].pid == buf[i].pid && buf[j].user == buf[i].user
           && buf[j].late == buf[i].late && buf[j].pc == buf[i].pc)
      j++;
    printf("S %d %d %d %p %d\n", buf[i].pid, buf[i].user, buf[i].late, (void *)buf[i].pc, j - i);
    i = j;
  }
  printf("PROF END samples %d lost %d\n", n, profile(PROF_LOST, 0, 0));
}

static int run(int interval, char *argv[])
{
  if (profile(PROF_START, 0, interval) < 0) {
    fprintf(2, "prof: cannot start\n");
    return 1;
  }
  int pid = fork();
  if (pid < 0) {
    profile(PROF_STOP, 0, 0);
    fprintf(2, "prof: fork failed\n");
    return 1;
  }
  if (pid == 0) {
    exec(argv[0], argv);
    fprintf(2, "prof: cannot run %s\n", argv[0]);
    exit(1);
  }
  int status;
  wait(&status);
  profile(PROF_STOP, 0, 0);
  printf("prof: %s exited with status %d\n", argv[0], status);
  dump(interval);
  return 0;
}

// The loop the profiler's test expects on top of the table.
__attribute__((noinline)) static long prof_spin_loop(long n)
{
  volatile long x = 0;
  for (long i = 0; i < n; i++)
    x += i;
  return x;
}

int main(int argc, char *argv[])
{
  if (argc >= 3 && strcmp(argv[1], "spin") == 0) {
    prof_spin_loop(atoi(argv[2]));
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "run") == 0) {
    int interval = 20;
    char **cmd = argv + 2;
    if (argc >= 5 && strcmp(argv[2], "-i") == 0) {
      interval = atoi(argv[3]);
      cmd = argv + 4;
    }
    if (interval > 0 && cmd[0])
      return run(interval, cmd);
  }
  fprintf(2, "usage: prof run [-i N] CMD [ARGS...] | prof spin N\n");
  return 1;
}
