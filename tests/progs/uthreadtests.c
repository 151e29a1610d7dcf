// Tests of the uthread library (user/uthread.h): mutex counting with many
// ULTs over several LWPs, producer/consumer with condition variables,
// priorities, bound threads, create/join churn with a flat heap, bad ids,
// blocking in the kernel, a stack overflow caught by a red zone, and the
// kick that preempts a low-priority thread running on another LWP; and
// scheduler activations under load: a contended malloc raises no event
// (mallocnap), a replacement boots while a blocked thread holds malloc's lock
// (bootmalloc), 1,000 threads blocked at level 1 all come back (upcmany,
// and upcgate, where as many as max_threads allows are blocked at once),
// and level 8 with 48 sleepers and 16 computers completes (level8; on 8
// harts in the uthreadtests-8hart group).
// Output follows lwptests: one "test NAME: OK|FAILED" line per test, each run
// in a forked child, then ALL TESTS PASSED or SOME TESTS FAILED.
#include "user/user.h"
#include "user/testsuite.h"
#include "user/uthread.h"
#include "uapi/kdebug.h"
#include "uapi/upcall.h"


#define CHECK(c, msg) do { if (!(c)) { printf("  %s: %s\n", test_current, msg); exit(1); } } while (0)

// ---- 1000 ULTs x 100 increments under one umutex, on 3 LWPs ------------------------
#define COUNT_THREADS 1000
#define COUNT_ADDS    100

static struct umutex count_lock;
static volatile int count;
static int count_tids[COUNT_THREADS];

static void add_under_lock(void *arg)
{
  (void)arg;
  for (int i = 0; i < COUNT_ADDS; i++) {
    umutex_lock(&count_lock);
    int c = count;
    if (i % 10 == 0)
      uthread_yield();           // hold the lock across a switch now and then
    count = c + 1;
    umutex_unlock(&count_lock);
  }
}

static void test_mutexcount(void)
{
  CHECK(uthread_init(3) == 0, "uthread_init(3)");
  CHECK(uthread_self() == 0, "the caller is not thread 0");
  umutex_init(&count_lock);
  for (int i = 0; i < COUNT_THREADS; i++) {
    count_tids[i] = uthread_create(add_under_lock, 0, 0);
    CHECK(count_tids[i] > 0, "uthread_create failed");
  }
  for (int i = 0; i < COUNT_THREADS; i++)
    CHECK(uthread_join(count_tids[i]) == 0, "uthread_join failed");
  printf("  mutexcount: %d of %d\n", count, COUNT_THREADS * COUNT_ADDS);
  CHECK(count == COUNT_THREADS * COUNT_ADDS, "lost increments");
  umutex_lock(&count_lock);
  CHECK(umutex_trylock(&count_lock) != 0, "trylock took a held mutex");
  umutex_unlock(&count_lock);
  CHECK(umutex_trylock(&count_lock) == 0, "trylock failed on a free mutex");
  umutex_unlock(&count_lock);
}

// ---- producer/consumer with ucond ------------------------------------------------------
#define PC_SLOTS     8
#define PC_PRODUCERS 4
#define PC_CONSUMERS 4
#define PC_ITEMS     2000          // per producer

static struct umutex pc_lock;
static struct ucond pc_not_full, pc_not_empty;
static int pc_buf[PC_SLOTS], pc_head, pc_count, pc_producers_left;
static long pc_sum_in, pc_sum_out;
static int pc_items_out;

static void producer(void *arg)
{
  int base = (int)(long)arg * PC_ITEMS;
  for (int i = 1; i <= PC_ITEMS; i++) {
    umutex_lock(&pc_lock);
    while (pc_count == PC_SLOTS)
      ucond_wait(&pc_not_full, &pc_lock);
    pc_buf[(pc_head + pc_count) % PC_SLOTS] = base + i;
    pc_count++;
    pc_sum_in += base + i;
    ucond_signal(&pc_not_empty);
    umutex_unlock(&pc_lock);
  }
  umutex_lock(&pc_lock);
  pc_producers_left--;
  ucond_broadcast(&pc_not_empty);
  umutex_unlock(&pc_lock);
}

static void consumer(void *arg)
{
  (void)arg;
  for (;;) {
    umutex_lock(&pc_lock);
    while (pc_count == 0 && pc_producers_left > 0)
      ucond_wait(&pc_not_empty, &pc_lock);
    if (pc_count == 0) {
      umutex_unlock(&pc_lock);
      return;
    }
    int v = pc_buf[pc_head];
    pc_head = (pc_head + 1) % PC_SLOTS;
    pc_count--;
    pc_sum_out += v;
    pc_items_out++;
    ucond_signal(&pc_not_full);
    umutex_unlock(&pc_lock);
  }
}

static void test_prodcons(void)
{
  CHECK(uthread_init(3) == 0, "uthread_init(3)");
  umutex_init(&pc_lock);
  ucond_init(&pc_not_full);
  ucond_init(&pc_not_empty);
  pc_producers_left = PC_PRODUCERS;
  int tids[PC_PRODUCERS + PC_CONSUMERS];
  for (int i = 0; i < PC_CONSUMERS; i++)
    CHECK((tids[i] = uthread_create(consumer, 0, 0)) > 0, "uthread_create(consumer)");
  for (int i = 0; i < PC_PRODUCERS; i++)
    CHECK((tids[PC_CONSUMERS + i] = uthread_create(producer, (void *)(long)i, 0)) > 0,
          "uthread_create(producer)");
  for (int i = 0; i < PC_PRODUCERS + PC_CONSUMERS; i++)
    CHECK(uthread_join(tids[i]) == 0, "uthread_join");
  printf("  prodcons: %d items of %d\n", pc_items_out, PC_PRODUCERS * PC_ITEMS);
  CHECK(pc_items_out == PC_PRODUCERS * PC_ITEMS, "items lost or duplicated");
  CHECK(pc_sum_in == pc_sum_out, "item values changed");
}

// ---- priorities on one LWP ---------------------------------------------------------------
static int order[8], order_n;

static void record_order(void *arg)
{
  order[order_n++] = (int)(long)arg;
}

static void test_priority(void)
{
  CHECK(uthread_init(1) == 0, "uthread_init(1)");
  struct uthread_attr low = { 0, 0, 0 }, high = { 0, 20, 0 };
  int t[5];
  t[0] = uthread_create(record_order, (void *)1L, &low);
  t[1] = uthread_create(record_order, (void *)2L, &low);
  t[2] = uthread_create(record_order, (void *)3L, &low);
  t[3] = uthread_create(record_order, (void *)10L, &high);   // created last, runs first
  t[4] = uthread_create(record_order, (void *)5L, &low);
  for (int i = 0; i < 5; i++)
    CHECK(t[i] > 0, "uthread_create");
  CHECK(uthread_setprio(t[4], 10) == 0, "uthread_setprio");   // raised above 1..3
  for (int i = 0; i < 5; i++)
    CHECK(uthread_join(t[i]) == 0, "uthread_join");
  printf("  priority: order %d %d %d %d %d\n", order[0], order[1], order[2], order[3], order[4]);
  CHECK(order_n == 5, "not every thread ran");
  CHECK(order[0] == 10, "the high-priority thread did not run first");
  CHECK(order[1] == 5, "uthread_setprio did not move a queued thread up");
  CHECK(order[2] == 1 && order[3] == 2 && order[4] == 3, "round robin within a level broken");
}

// ---- a bound thread keeps its LWP ------------------------------------------------------------
#define BOUND_ROUNDS 300

static volatile int bound_lwp = -1, bound_ok = 1, others_ok = 1, bound_done;
static struct umutex bound_lock;
static struct ucond bound_cond;
static volatile int bound_turn;

static void bound_body(void *arg)
{
  (void)arg;
  bound_lwp = lwp_self();
  for (int i = 0; i < BOUND_ROUNDS; i++) {
    if (lwp_self() != bound_lwp)
      bound_ok = 0;
    umutex_lock(&bound_lock);            // block and be woken now and then
    bound_turn++;
    ucond_broadcast(&bound_cond);
    umutex_unlock(&bound_lock);
    uthread_yield();
  }
  bound_done = 1;
}

static void unbound_body(void *arg)
{
  (void)arg;
  while (!bound_done) {
    if (bound_lwp >= 0 && lwp_self() == bound_lwp)
      others_ok = 0;
    umutex_lock(&bound_lock);
    int seen = bound_turn;
    while (bound_turn == seen && !bound_done)
      ucond_wait(&bound_cond, &bound_lock);
    umutex_unlock(&bound_lock);
    uthread_yield();
  }
}

static void test_bound(void)
{
  CHECK(uthread_init(2) == 0, "uthread_init(2)");
  umutex_init(&bound_lock);
  ucond_init(&bound_cond);
  struct uthread_attr bound = { 0, 0, 1 };
  int others[6];
  for (int i = 0; i < 6; i++)
    CHECK((others[i] = uthread_create(unbound_body, 0, 0)) > 0, "uthread_create");
  int b = uthread_create(bound_body, 0, &bound);
  CHECK(b > 0, "uthread_create(bound)");
  CHECK(uthread_join(b) == 0, "uthread_join(bound)");
  umutex_lock(&bound_lock);
  ucond_broadcast(&bound_cond);
  umutex_unlock(&bound_lock);
  for (int i = 0; i < 6; i++)
    CHECK(uthread_join(others[i]) == 0, "uthread_join");
  printf("  bound: bound thread on lwp %d for %d rounds\n", bound_lwp, BOUND_ROUNDS);
  CHECK(bound_ok, "the bound thread changed LWP");
  CHECK(others_ok, "another thread ran on the bound thread's LWP");
  CHECK(lwp_self() != bound_lwp, "thread 0 ran on the bound LWP");
}

// ---- this process's LWPs, as the kernel reports them (procinfo) -----------------------------
static struct procinfo proc_info[64];

// Voluntary switches of this process's LWP lwpid (a nap is one), or -1 if
// there is none; lwpid -1: the most of any LWP but the caller's.
static long lwp_vcsw(int lwpid)
{
  int n = procinfo(proc_info, 64), pid = getpid(), self = lwp_self();
  long most = -1;
  for (int i = 0; i < n; i++)
    for (int j = 0; proc_info[i].pid == pid && j < proc_info[i].nlwp; j++) {
      struct lwpinfo *l = &proc_info[i].lwps[j];
      if (l->lwpid == lwpid)
        return (long)l->vcsw;
      if (lwpid == -1 && l->lwpid != self && (long)l->vcsw > most)
        most = (long)l->vcsw;
    }
  return most;
}

// ---- create/join churn keeps the heap flat -------------------------------------------------
static volatile int churn_runs;

static void churn_body(void *arg)
{
  (void)arg;
  churn_runs++;
}

static void test_churn(void)
{
  CHECK(uthread_init(2) == 0, "uthread_init(2)");
  // The level's second LWP takes its record (sbrk) when it boots: wait
  // until it has, and parked once, so that the heap's growth counted below
  // is the cycles' own.
  for (int t0 = uptime(); lwp_vcsw(-1) < 1; sleep(1))
    CHECK(uptime() - t0 < 200, "the second LWP did not start within 200 ticks");
  char *brk0 = 0;
  for (int i = 0; i < 10000; i++) {
    int t = uthread_create(churn_body, 0, 0);
    CHECK(t > 0, "uthread_create failed during churn");
    CHECK(uthread_join(t) == 0, "uthread_join failed during churn");
    if (i == 100)
      brk0 = sbrk(0);
  }
  char *brk1 = sbrk(0);
  printf("  churn: %d runs, break %p after 100 cycles, %p after 10000\n", churn_runs, brk0, brk1);
  CHECK(churn_runs == 10000, "a thread did not run");
  CHECK(brk1 == brk0, "the heap grows with create/join cycles");
}

// ---- the stack cache gives its memory back -----------------------------------------------
// 64 threads retired at once leave their stacks (about 1 MiB, contiguous) on
// the death row. A malloc bigger than any free block must grow the heap; with
// that growth made to fail (the next page allocation), malloc's reclaim hook
// empties the cache and the request is served from the stacks' memory,
// without moving the break.
#define CACHE_THREADS 64

static void test_stackcache(void)
{
  static int tids[CACHE_THREADS];
  CHECK(uthread_init(1) == 0, "uthread_init(1)");
  for (int i = 0; i < CACHE_THREADS; i++)
    CHECK((tids[i] = uthread_create(churn_body, 0, 0)) > 0, "uthread_create failed");
  for (int i = 0; i < CACHE_THREADS; i++)
    CHECK(uthread_join(tids[i]) == 0, "uthread_join failed");
  char *brk0 = sbrk(0);
  kdebug(KD_FAIL_ALLOC, 1);
  char *p = malloc(512 * 1024);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  printf("  stackcache: break %p before, %p after; block at %p\n", brk0, sbrk(0), p);
  CHECK(fired == 1, "the heap's growth did not fail as armed");
  CHECK(p != 0, "malloc failed: the cached stacks were not given back");
  CHECK(sbrk(0) == brk0, "the heap grew");
  int t = uthread_create(churn_body, 0, 0);   // a stack of its own again
  CHECK(t > 0 && uthread_join(t) == 0, "create + join after the cache was emptied");
}

// ---- bad ids ------------------------------------------------------------------------------
static void nothing(void *arg)
{
  (void)arg;
}

static void test_badids(void)
{
  CHECK(uthread_join(1) == -1, "uthread_join before uthread_init");
  CHECK(uthread_init(2) == 0, "uthread_init(2)");
  CHECK(uthread_init(2) == -1, "a second uthread_init");
  int t = uthread_create(nothing, 0, 0);
  CHECK(t > 0, "uthread_create");
  CHECK(uthread_create(0, 0, 0) == -1, "uthread_create(NULL fn)");
  struct uthread_attr badprio = { 0, 32, 0 };
  CHECK(uthread_create(nothing, 0, &badprio) == -1, "uthread_create(prio 32)");
  CHECK(uthread_join(-1) == -1, "uthread_join(-1)");
  CHECK(uthread_join(10000) == -1, "uthread_join(10000)");
  CHECK(uthread_join(uthread_self()) == -1, "uthread_join(own tid)");
  CHECK(uthread_join(t + 1) == -1, "uthread_join(never-created tid)");
  CHECK(uthread_setprio(-1, 1) == -1, "uthread_setprio(-1)");
  CHECK(uthread_setprio(10000, 1) == -1, "uthread_setprio(10000)");
  CHECK(uthread_setprio(t, 32) == -1, "uthread_setprio(prio 32)");
  CHECK(uthread_setprio(t, -1) == -1, "uthread_setprio(prio -1)");
  CHECK(uthread_setprio(uthread_self(), 3) == 0, "uthread_setprio(own tid)");
  CHECK(uthread_join(t) == 0, "uthread_join");
  CHECK(uthread_join(t) == -1, "uthread_join(already joined)");
  CHECK(uthread_setprio(t, 1) == -1, "uthread_setprio(already joined)");
  // The kick system calls under the library (kernel/proc/kick.c).
  CHECK(lwp_kick(-1) == -1, "lwp_kick(-1)");
  CHECK(lwp_kick(10000) == -1, "lwp_kick(10000)");
  CHECK(lwp_kick(lwp_self()) == -1, "lwp_kick(own LWP)");
  CHECK(lwp_preempt_handler((void (*)(struct uframe *))0x1000) == -1,
        "lwp_preempt_handler(address below user space)");
  CHECK(lwp_preempt_handler((void (*)(struct uframe *))0x70000000L) == -1,
        "lwp_preempt_handler(address beyond the image)");
  CHECK(lwp_resume(0) == -1, "lwp_resume(NULL)");
  CHECK(lwp_resume((struct uframe *)0x70000000L) == -1, "lwp_resume(unmapped frame)");
  struct uframe bad;
  memset(&bad, 0, sizeof bad);
  bad.epc = 0x1000;
  CHECK(lwp_resume(&bad) == -1, "lwp_resume(frame with a kernel pc)");
}

// ---- the kick: a high-priority thread preempts a spinning low one on another LWP -------------
// Two priority-0 threads spin forever on the two shared LWPs without calling
// the library, so nothing but a kick lets another thread run there. A bound
// thread (its own LWP) creates a priority-10 thread and waits for it to run.
#define KICK_WAIT_TICKS 50

static volatile int kick_stop, kick_ran, kick_bad, kick_ticks = -1;
static volatile long kick_spins[2];
static volatile uint64 kick_t_create, kick_t_ran;

static void kick_spinner(void *arg)
{
  int me = (int)(long)arg;
  long a = 0, b = 0;
  while (!kick_stop) {
    a += 3;                        // registers only: a preemption must keep them
    b += 5;
    if (a * 5 != b * 3)
      kick_bad = 1;
    kick_spins[me]++;
  }
}

static void kick_high(void *arg)
{
  (void)arg;
  kick_t_ran = rdtime();
  kick_ran = 1;
}

static void kick_trigger(void *arg)
{
  (void)arg;
  // Thread 0 is blocked: the spinners take both LWPs once the level's
  // second one has booted.
  for (int t0 = uptime(); (kick_spins[0] == 0 || kick_spins[1] == 0) && uptime() - t0 < KICK_WAIT_TICKS;)
    sleep(1);
  if (kick_spins[0] == 0 || kick_spins[1] == 0) {
    kick_stop = 1;
    return;
  }
  int t0 = uptime();
  struct uthread_attr high = { 0, 10, 0 };
  kick_t_create = rdtime();
  int h = uthread_create(kick_high, 0, &high);
  while (h > 0 && !kick_ran && uptime() - t0 < KICK_WAIT_TICKS)
    sleep(1);
  if (kick_ran)
    kick_ticks = uptime() - t0;
  // The preempted spinner must be back at work. Waiting for it (rather than
  // for a fixed 3 ticks) keeps a host that deschedules a hart from failing.
  long seen0 = kick_spins[0], seen1 = kick_spins[1];
  int t1 = uptime();
  while ((kick_spins[0] == seen0 || kick_spins[1] == seen1) && uptime() - t1 < KICK_WAIT_TICKS)
    sleep(1);
  if (kick_spins[0] == seen0 || kick_spins[1] == seen1)
    kick_bad = 2;
  kick_stop = 1;
  if (h > 0)
    uthread_join(h);
}

static void test_kick(void)
{
  CHECK(uthread_init(2) == 0, "uthread_init(2)");
  int s0 = uthread_create(kick_spinner, (void *)0L, 0);
  int s1 = uthread_create(kick_spinner, (void *)1L, 0);
  struct uthread_attr bound = { 0, 0, 1 };
  int trig = uthread_create(kick_trigger, 0, &bound);
  CHECK(s0 > 0 && s1 > 0 && trig > 0, "uthread_create");
  CHECK(uthread_join(trig) == 0, "uthread_join(trigger)");
  CHECK(uthread_join(s0) == 0 && uthread_join(s1) == 0, "uthread_join(spinners)");
  printf("  kick: priority-10 thread ran %d ticks (%d us) after its creation; spins %ld %ld\n",
         kick_ticks, kick_ran ? (int)((kick_t_ran - kick_t_create) / 10) : -1,
         kick_spins[0], kick_spins[1]);
  CHECK(kick_spins[0] > 0 && kick_spins[1] > 0, "the spinners did not both start");
  CHECK(kick_ticks >= 0, "the priority-10 thread did not run within 50 ticks beside the spinners");
  CHECK(kick_bad != 1, "a preempted spinner lost its registers");
  CHECK(kick_bad != 2, "a preempted spinner did not resume");
}

// ---- blocking in the kernel blocks only that LWP ---------------------------------------------
static int block_pipe[2];
static volatile int block_progress, block_reader_done;

static void block_reader(void *arg)
{
  (void)arg;
  char c;
  read(block_pipe[0], &c, 1);   // this LWP sleeps in the kernel
  block_reader_done = 1;
}

static void block_worker(void *arg)
{
  (void)arg;
  for (int i = 0; i < 200; i++) {
    block_progress++;
    uthread_yield();
  }
}

static void test_kernelblock(void)
{
  CHECK(pipe(block_pipe) == 0, "pipe");
  CHECK(uthread_init(2) == 0, "uthread_init(2)");
  int r = uthread_create(block_reader, 0, 0);
  CHECK(r > 0, "uthread_create(reader)");
  sleep(2);                        // thread 0 sleeps too: the reader takes the other LWP
  int w = uthread_create(block_worker, 0, 0);
  CHECK(w > 0, "uthread_create(worker)");
  CHECK(uthread_join(w) == 0, "uthread_join(worker)");
  printf("  kernelblock: worker ran %d steps while the reader was blocked\n", block_progress);
  CHECK(block_progress == 200 && !block_reader_done, "the worker did not run beside the blocked read");
  CHECK(write(block_pipe[1], "x", 1) == 1, "write");
  CHECK(uthread_join(r) == 0, "uthread_join(reader)");
  CHECK(block_reader_done, "the reader did not finish");
}

// ---- stack overflow into the red zone --------------------------------------------------------
// The child announces every stack (uthread_debug) and the recursion reports
// its stack pointer on the way down, both into a pipe. The child is killed by
// the kernel's fault line; the parent maps the last reported sp to the red
// zone of the tid that announced it and prints the one-line report.
#define FRAME_BYTES 512

__attribute__((noinline)) static int recurse(int depth)
{
  volatile char frame[FRAME_BYTES];
  frame[0] = (char)depth;
  if (depth > 1000000)             // never: the red zone stops us long before
    return 0;
  printf("sp %p tid %d\n", (void *)frame, uthread_self());
  return recurse(depth + 1) + frame[0];
}

__attribute__((noinline)) static void overflow_body(void *arg)
{
  (void)arg;
  recurse(0);
}

static void overflow_child(int out)
{
  close(1);
  dup(out);
  uthread_debug = 1;
  if (uthread_init(2) < 0)
    exit(2);
  int t = uthread_create(overflow_body, 0, 0);
  uthread_join(t);
  exit(3);                         // not reached: the overflow kills the process
}

static uint64 parse_hex(const char *s)
{
  uint64 v = 0;
  if (s[0] == '0' && s[1] == 'x')
    s += 2;
  for (;; s++) {
    if (*s >= '0' && *s <= '9') v = v * 16 + (*s - '0');
    else if (*s >= 'a' && *s <= 'f') v = v * 16 + (*s - 'a' + 10);
    else return v;
  }
}

static char overflow_out[16384];

static int read_all(int fd, char *buf, int max)
{
  int n = 0, r;
  while (n < max - 1 && (r = read(fd, buf + n, max - 1 - n)) > 0)
    n += r;
  buf[n] = 0;
  return n;
}

static const char *after(const char *s, const char *key)
{
  int k = strlen(key);
  for (; *s; s++)
    if (strncmp(s, key, k) == 0)
      return s + k;
  return 0;
}

static const char *last_line_starting(const char *buf, const char *key)
{
  const char *last = 0;
  int k = strlen(key);
  for (const char *s = buf; *s; s++)
    if ((s == buf || s[-1] == '\n') && strncmp(s, key, k) == 0)
      last = s;
  return last;
}

static void test_overflow(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe");
  int pid = fork();
  if (pid == 0) {
    close(p[0]);
    overflow_child(p[1]);
  }
  close(p[1]);
  read_all(p[0], overflow_out, sizeof overflow_out);
  close(p[0]);
  int st = 0;
  CHECK(wait(&st) == pid, "wait");
  CHECK(st != 0 && st != 2 && st != 3, "the child was not killed by the overflow");

  const char *ann = last_line_starting(overflow_out, "uthread: tid ");
  CHECK(ann != 0, "no stack announcement from the child");
  int tid = atoi(ann + 13);
  const char *lo_s = after(ann, "stack ["), *red_s = after(ann, "red zone [");
  CHECK(lo_s && red_s, "malformed stack announcement");
  uint64 stack_lo = parse_hex(lo_s);
  uint64 red_lo = parse_hex(red_s), red_hi = parse_hex(after(red_s, ","));

  const char *last = last_line_starting(overflow_out, "sp ");
  CHECK(last != 0, "the recursion reported nothing");
  uint64 sp = parse_hex(last + 3);
  int sp_tid = atoi(after(last, "tid "));
  printf("uthread: tid %d stack overflow into red zone [%p,%p), last frame at address %p "
         "(pid %d killed; the kernel line above gives the faulting address)\n",
         sp_tid, (void *)red_lo, (void *)red_hi, (void *)sp, pid);
  CHECK(sp_tid == tid, "the recursing thread is not the announced one");
  CHECK(red_hi == stack_lo, "the red zone is not right below the stack");
  CHECK(sp >= stack_lo && sp < stack_lo + 4 * FRAME_BYTES, "the recursion stopped far from the red zone");
}

// ---- scheduler activations under load (issue 20) ---------------------------------------------
// A hang fails fast: a watchdog LWP (not a thread of the library, so never
// an activation) ends the test once nothing moved for STALL_TICKS, saying
// where the test was.
#define STALL_TICKS 300

static volatile int stall_progress;
static const char *volatile stall_doing = "starting";
static char stall_stack[4096] __attribute__((aligned(16)));

static void stall_watch(void *arg)
{
  (void)arg;
  int seen = stall_progress, since = uptime();
  for (;;) {
    sleep(1);
    if (stall_progress != seen) {
      seen = stall_progress;
      since = uptime();
    } else if (uptime() - since >= STALL_TICKS) {
      struct upcall_kstats k;
      memset(&k, 0, sizeof k);
      kdebug(KD_UPCALL_STATS, (long)&k);
      printf("  %s: stuck for %d ticks while %s (kernel: %d blocked, %d spares, %d in user "
             "mode, %d events posted, %d waits for room, %d replaced, %d not)\n",
             test_current, STALL_TICKS, stall_doing, k.blocked, k.spares, k.inuser,
             (int)k.posted, (int)k.waits, (int)k.replaced, (int)k.noreplace);
      struct uthread_upcall_stats u;
      uthread_upcall_stats(&u);
      printf("  %s: library: %d events read, %d BLOCKED, %d UNBLOCKED, %d RELEASED, %d refused\n",
             test_current, (int)u.events, (int)u.blocked, (int)u.unblocked, (int)u.released,
             (int)u.disorder);
      kdebug(KD_DUMP, 0);          // every LWP: system call, user pc, serving, upcall state
      exit(1);
    }
  }
}

static void upcalls_start(int level)
{
  CHECK(uthread_init(level) == 0, "uthread_init");
  CHECK(uthread_upcalls(1) == 0, "uthread_upcalls(1)");
  CHECK(lwp_create(stall_watch, 0, stall_stack + sizeof stall_stack) > 0, "lwp_create(watchdog)");
}

// Blocks the kernel has seen in this process (replaced or not): a nap
// that publishes its thread is one.
static uint64 kernel_blocks(void)
{
  struct upcall_kstats k;
  memset(&k, 0, sizeof k);
  kdebug(KD_UPCALL_STATS, (long)&k);
  return k.replaced + k.noreplace;
}

// A contended malloc is the library waiting for itself, not an activation's
// block: the taker's nap is no block (and so raises no BLOCKED, NEWLWP,
// UNBLOCKED and RELEASED). The holder keeps the heap's lock
// (malloc_test_hook) until the taker, on the other LWP, has napped twice.
static volatile int hold_armed, hold_go, hold_lwp = -1, hold_naps;
static uint64 hold_blocks;

static void hold_heap(void)
{
  if (!__atomic_exchange_n(&hold_armed, 0, __ATOMIC_ACQ_REL))
    return;
  uint64 blocks = kernel_blocks();
  hold_go = 1;
  long v0 = -1;
  for (int t0 = uptime(); uptime() - t0 < 200 && kernel_blocks() == blocks; stall_progress++) {
    if (v0 < 0)
      v0 = lwp_vcsw(hold_lwp);
    hold_naps = lwp_vcsw(hold_lwp) - v0;
    if (hold_naps >= 2)
      break;
  }
  hold_blocks = kernel_blocks() - blocks;
}

// The holder takes the lock only once the taker runs: thread 0 has made
// both (with their stacks, from malloc) by then.
static void heap_holder(void *arg)
{
  (void)arg;
  while (hold_lwp < 0)
    uthread_yield();
  hold_armed = 1;
  free(malloc(32));
}

static void heap_taker(void *arg)
{
  (void)arg;
  hold_lwp = lwp_self();
  while (!hold_go)
    uthread_yield();
  hold_lwp = lwp_self();
  free(malloc(32));
}

// The shape of both malloc tests: at `level` with upcalls on, `hook` runs
// inside malloc holding the heap's lock, and threads `first` and `second`
// run to their end.
static void malloc_pair(int level, void (*hook)(void), const char *doing,
                        void (*first)(void *), void (*second)(void *))
{
  upcalls_start(level);
  malloc_test_hook = hook;
  stall_doing = doing;
  int a = uthread_create(first, 0, 0);
  int b = uthread_create(second, 0, 0);
  CHECK(a > 0 && b > 0, "uthread_create");
  CHECK(uthread_join(a) == 0 && uthread_join(b) == 0, "uthread_join");
}

static void test_mallocnap(void)
{
  malloc_pair(2, hold_heap, "holding the heap's lock", heap_holder, heap_taker);
  printf("  mallocnap: the taker napped %d times for the heap's lock; the kernel saw %d blocks meanwhile\n",
         hold_naps, (int)hold_blocks);
  CHECK(hold_blocks == 0, "a nap for the heap's lock was an activation's block");
  CHECK(hold_naps >= 2, "the taker did not nap twice within 200 ticks");
}

// A replacement activation takes its LWP record on the boot stack, holding
// the boot lock: it must not wait for malloc's lock, which the thread whose
// block it replaces may hold. Here that thread sleeps in the kernel inside
// malloc (malloc_test_hook); the replacement must serve the other thread
// meanwhile, and both must come back.
static volatile int boot_armed, boot_other_ran, boot_saw_other;

static void boot_hold_heap(void)
{
  if (!__atomic_exchange_n(&boot_armed, 0, __ATOMIC_ACQ_REL))
    return;
  sleep(5);                        // a block: the replacement boots meanwhile
  boot_saw_other = boot_other_ran;
}

static void boot_sleeper(void *arg)
{
  (void)arg;
  boot_armed = 1;
  free(malloc(32));
}

static void boot_other(void *arg)
{
  (void)arg;
  boot_other_ran = 1;
  stall_progress++;
}

static void test_bootmalloc(void)
{
  malloc_pair(1, boot_hold_heap, "a thread asleep holding malloc's lock", boot_sleeper, boot_other);
  printf("  bootmalloc: the other thread ran %s the sleeper held malloc's lock\n",
         boot_saw_other ? "while" : "only after");
  CHECK(boot_saw_other, "no replacement served while the blocked thread held malloc's lock");
}

// A new spare LWP is never counted as serving the level (issue 20): with
// the registering LWP held once its first spare is marked serving
// (KD_SPARE_DELAY), another LWP raises the level to 2; the kernel must
// add the LWP the level lacks, so exactly one more LWP is made.
static volatile int spare_go, spare_added = -1;
static char spare_stack[4096] __attribute__((aligned(16)));

// LWPs of this process now.
static int lwps_now(void)
{
  int n = procinfo(proc_info, 64), pid = getpid();
  for (int i = 0; i < n; i++)
    if (proc_info[i].pid == pid)
      return proc_info[i].nlwp;
  return -1;
}

// Raises the level once the first spare exists: the registering LWP is
// held (10 ticks) right after it has marked it.
static void spare_raiser(void *arg)
{
  (void)arg;
  while (!spare_go)
    ;
  for (int t0 = uptime(); lwps_now() < 3 && uptime() - t0 < 100;)
    ;
  int before = kdebug(KD_LWP_ALLOCS, 0);
  int ok = set_concurrency(2) == 0;
  spare_added = ok ? kdebug(KD_LWP_ALLOCS, 0) - before : -1;
  lwp_exit();
}

static void test_spareserving(void)
{
  CHECK(uthread_init(1) == 0, "uthread_init(1)");
  int w = lwp_create(spare_raiser, 0, spare_stack + sizeof spare_stack);
  CHECK(w > 0, "lwp_create(raiser)");
  CHECK(kdebug(KD_SPARE_DELAY, 10) == 0, "kdebug(KD_SPARE_DELAY)");
  spare_go = 1;
  CHECK(uthread_upcalls(1) == 0, "uthread_upcalls(1)");
  CHECK(lwp_join(w) == 0, "lwp_join(raiser)");
  printf("  spareserving: set_concurrency(2) beside a new spare added %d LWPs\n", spare_added);
  CHECK(spare_added >= 0, "set_concurrency(2) failed");
  CHECK(spare_added == 1, "a new spare was counted as serving: no LWP added for level 2");
}

// At level 1 with upcalls, 1,000 threads block in the kernel at once: each
// blocked thread holds an LWP, so the library needs as many LWP records.
// As many as max_threads allows get a replacement; the rest block as
// without upcalls. Every thread must come back.
#define MANY_THREADS 1000
static volatile int many_back;

// A start counts as progress: the library runs every new thread before it
// resumes any woken one, so no sleeper comes back until all 1,000 have
// started, which on a loaded host took longer than STALL_TICKS.
static void many_sleeper(void *arg)
{
  (void)arg;
  stall_progress++;
  sleep(3);
  __atomic_add_fetch(&many_back, 1, __ATOMIC_RELAXED);
  stall_progress++;
}

static int many_tids[MANY_THREADS];

static void test_upcmany(void)
{
  upcalls_start(1);
  stall_doing = "creating sleepers";
  for (int i = 0; i < MANY_THREADS; i++) {
    many_tids[i] = uthread_create(many_sleeper, 0, 0);
    CHECK(many_tids[i] > 0, "uthread_create");
  }
  stall_doing = "joining sleepers";
  for (int i = 0; i < MANY_THREADS; i++) {
    CHECK(uthread_join(many_tids[i]) == 0, "uthread_join");
    stall_progress++;
  }
  struct uthread_upcall_stats u;
  uthread_upcall_stats(&u);
  printf("  upcmany: %d of %d threads back; %d blocks seen, %d events out of order\n",
         many_back, MANY_THREADS, (int)u.blocked, (int)u.disorder);
  CHECK(many_back == MANY_THREADS, "threads lost");
  CHECK(u.blocked >= 64, "fewer than 64 blocks got a replacement");
  CHECK(u.disorder == 0, "events out of order");
}

// At level 1 with upcalls, 1,000 threads block in the kernel at once, on a
// futex gate: each blocked thread holds a KLT, so the kernel's max_threads
// stops the replacements first, and the kernel says so on the console
// (uthreadtests-8hart checks the line); the block that finds no spare keeps
// its LWP, which at level 1 stops the process. A watcher LWP opens the gate
// then, or once all have blocked, and every thread must come back.
static int gate;
static volatile int gate_in, gate_back;
static char gate_stack[4096] __attribute__((aligned(16)));

static void gate_waiter(void *arg)
{
  (void)arg;
  __atomic_add_fetch(&gate_in, 1, __ATOMIC_RELAXED);
  while (!__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
    futex_wait(&gate, 0, 0);
  __atomic_add_fetch(&gate_back, 1, __ATOMIC_RELAXED);
  stall_progress++;
}

static volatile int gate_most;          // most blocked at once, as the kernel counts
static volatile int gate_noreplace;

static void gate_opener(void *arg)
{
  (void)arg;
  for (;;) {
    struct upcall_kstats k;
    memset(&k, 0, sizeof k);
    kdebug(KD_UPCALL_STATS, (long)&k);
    if (k.blocked > gate_most)
      gate_most = k.blocked;
    if (k.noreplace > 0 || gate_in == MANY_THREADS) {
      gate_noreplace = k.noreplace;
      break;
    }
    stall_progress++;
    sleep(1);
  }
  __atomic_store_n(&gate, 1, __ATOMIC_RELEASE);
  futex_wake(&gate, MANY_THREADS);
  lwp_exit();
}

static void test_upcgate(void)
{
  upcalls_start(1);
  CHECK(lwp_create(gate_opener, 0, gate_stack + sizeof gate_stack) > 0, "lwp_create(opener)");
  stall_doing = "threads blocking at a gate";
  for (int i = 0; i < MANY_THREADS; i++) {
    many_tids[i] = uthread_create(gate_waiter, 0, 0);
    CHECK(many_tids[i] > 0, "uthread_create");
  }
  for (int i = 0; i < MANY_THREADS; i++)
    CHECK(uthread_join(many_tids[i]) == 0, "uthread_join");
  printf("  upcgate: %d of %d threads back; %d blocked at once, %d blocks without a replacement\n",
         gate_back, MANY_THREADS, gate_most, gate_noreplace);
  CHECK(gate_back == MANY_THREADS, "threads lost");
  CHECK(gate_most >= 64, "fewer than 64 threads were blocked at once");
}

// Level 8 (on 8 harts in the uthreadtests-8hart group), 64 threads: 48 sleep
// one tick 15 times each while 16 compute. With that many blocks, an LWP that
// blocked, woke and parked is often taken again as a replacement before
// anyone has read its old BLOCKED: the library must still find the record
// that event names (ult_lwp_by_id), or the thread is lost.
#define L8_SLEEPERS 48
#define L8_COMPUTERS 16
static volatile int l8_sleeps, l8_computed;

static void l8_sleeper(void *arg)
{
  (void)arg;
  for (int i = 0; i < 15; i++) {
    sleep(1);
    __atomic_add_fetch(&l8_sleeps, 1, __ATOMIC_RELAXED);
    stall_progress++;
  }
}

static void l8_computer(void *arg)
{
  (void)arg;
  volatile uint64 x = 1;
  for (int i = 0; i < 200000; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    if (i % 10000 == 0)
      stall_progress++;
  }
  __atomic_add_fetch(&l8_computed, 1, __ATOMIC_RELAXED);
}

static void test_level8(void)
{
  upcalls_start(8);
  int tids[L8_SLEEPERS + L8_COMPUTERS], n = 0;
  for (int i = 0; i < L8_SLEEPERS; i++)
    tids[n++] = uthread_create(l8_sleeper, 0, 0);
  for (int i = 0; i < L8_COMPUTERS; i++)
    tids[n++] = uthread_create(l8_computer, 0, 0);
  stall_doing = "joining";
  for (int i = 0; i < n; i++) {
    CHECK(tids[i] > 0, "uthread_create");
    CHECK(uthread_join(tids[i]) == 0, "uthread_join");
  }
  struct uthread_upcall_stats u;
  uthread_upcall_stats(&u);
  printf("  level8: %d of %d sleeps, %d of %d computers done; %d blocks seen, %d events refused\n",
         l8_sleeps, L8_SLEEPERS * 15, l8_computed, L8_COMPUTERS, (int)u.blocked, (int)u.disorder);
  CHECK(l8_sleeps == L8_SLEEPERS * 15 && l8_computed == L8_COMPUTERS, "work lost");
  CHECK(u.disorder == 0, "the library refused events");
}

static const struct test tests[] = {
  { "mutexcount", test_mutexcount },
  { "prodcons", test_prodcons },
  { "priority", test_priority },
  { "bound", test_bound },
  { "churn", test_churn },
  { "stackcache", test_stackcache },
  { "badids", test_badids },
  { "kernelblock", test_kernelblock },
  { "overflow", test_overflow },
  { "kick", test_kick },
  { "mallocnap", test_mallocnap },
  { "bootmalloc", test_bootmalloc },
  { "spareserving", test_spareserving },
  { "upcmany", test_upcmany },
  { "upcgate", test_upcgate },
  { "level8", test_level8 },
};

int main(int argc, char *argv[])
{
  return test_suite_run(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
