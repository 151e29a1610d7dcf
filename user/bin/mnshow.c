// mnshow: a small M:N program to look at (docs/trace.md, docs/gdb.md).
//
//   mnshow [ROUNDS]      6 user threads over 3 LWPs (uthread_init(3)) take a
//                        mutex ROUNDS times (default 20) each, yielding in
//                        between: the timeline docs/trace-mn.svg.
//   mnshow park TICKS    the same threads, but thread 1 sleeps TICKS ticks
//                        in the kernel while it holds the mutex, so the others
//                        stay blocked on it: a still picture for gdb's `ults`.
//   mnshow upcalls TICKS the same threads on ONE LWP with scheduler-activation
//                        upcalls on (lab upcalls): threads 1-3 sleep TICKS
//                        ticks in the kernel, each holding an activation, while
//                        the others go on: what `ps`, gdb's `lwps` and `make
//                        trace` show of blocked activations (docs/upcalls.md).
#include "user/user.h"
#include "user/uthread.h"

#define NTHREADS 6

static struct umutex lock;
static volatile int counter;
static int rounds = 20;
static int park_ticks;
static int upcall_ticks;

static void worker(void *arg)
{
  int me = (long)arg;
  if (upcall_ticks && me < 3)
    sleep(upcall_ticks);        // blocks in the kernel: a spare LWP serves meanwhile
  if (park_ticks && me == 0) {
    umutex_lock(&lock);
    sleep(park_ticks);          // blocks this LWP in the kernel, mutex held
    umutex_unlock(&lock);
  }
  for (int i = 0; i < rounds; i++) {
    umutex_lock(&lock);
    counter++;
    for (volatile int spin = 0; spin < 200; spin++)
      ;
    umutex_unlock(&lock);
    uthread_yield();
  }
}

int main(int argc, char *argv[])
{
  if (argc > 2 && strcmp(argv[1], "park") == 0)
    park_ticks = atoi(argv[2]);
  else if (argc > 2 && strcmp(argv[1], "upcalls") == 0)
    upcall_ticks = atoi(argv[2]);
  else if (argc > 1)
    rounds = atoi(argv[1]);
  if (uthread_init(upcall_ticks ? 1 : 3) < 0) {
    fprintf(2, "mnshow: uthread_init failed\n");
    return 1;
  }
  if (upcall_ticks && uthread_upcalls(1) < 0) {
    fprintf(2, "mnshow: no upcalls in this kernel\n");
    return 1;
  }
  umutex_init(&lock);
  int tids[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    tids[i] = uthread_create(worker, (void *)(long)i, 0);
  if (park_ticks)
    printf("mnshow: pid %d parked\n", getpid());
  if (upcall_ticks) {
    struct uthread_upcall_stats s;
    for (int t0 = uptime(); uthread_upcall_stats(&s) == 0 && s.blocked < 3 && uptime() - t0 < 300;)
      uthread_yield();
    printf("mnshow: pid %d has 3 threads blocked in the kernel\n", getpid());
  }
  for (int i = 0; i < NTHREADS; i++)
    if (tids[i] >= 0)
      uthread_join(tids[i]);
  printf("mnshow: counter %d (expected %d)\n", counter, NTHREADS * rounds);
  return 0;
}
