// LWP and scheduler tests: LWPs of one process on several harts, futex
// locking, the remote wake-up and preemption rules (through kdebug), exit,
// kill and exec with many LWPs, max_threads, create/exit churn, and bad
// arguments to every LWP system call. Output follows usertests: one
// "test NAME: OK|FAILED" line per test, then ALL TESTS PASSED or SOME TESTS FAILED.
#include "user/user.h"
#include "user/testsuite.h"
#include "uapi/kdebug.h"
#include "uapi/upcall.h"

#define STACK 4096
#define MAXL  16


#define CHECK(c, msg) do { if (!(c)) { printf("  %s: %s\n", test_current, msg); exit(1); } } while (0)

static char *new_stack(void)
{
  char *s = malloc(STACK);
  return s ? s + STACK : 0;
}

// ---- LWPs on several harts -------------------------------------------------
static volatile int seen[8];
static volatile int go, stop;

static void spin_and_record(void *arg)
{
  (void)arg;
  while (!go)
    ;
  while (!stop) {
    int c = getcpu();
    if (c >= 0 && c < 8)
      seen[c] = 1;
  }
  lwp_exit();
}

static void test_multihart(void)
{
  int ids[3];
  for (int i = 0; i < 3; i++) {
    ids[i] = lwp_create(spin_and_record, 0, new_stack());
    CHECK(ids[i] > 0, "lwp_create failed");
  }
  go = 1;
  sleep(20);
  stop = 1;
  for (int i = 0; i < 3; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join failed");
  int n = 0;
  for (int i = 0; i < 8; i++)
    n += seen[i];
  printf("  multihart: LWPs seen on %d harts\n", n);
  CHECK(n >= 2, "LWPs never ran on two harts");
}

// ---- load balancing ------------------------------------------------------------
// Six spinning LWPs spread over the harts; all but two on one hart are told
// to stop, leaving that hart with two and the others with none. The user
// scheduler must then move one of the two: both are seen on different harts.
#define NSPIN 6
static volatile int where[NSPIN];
static volatile int quit[NSPIN];

static void spin_report(void *arg)
{
  int i = (long)arg;
  while (!quit[i])
    where[i] = getcpu();
  lwp_exit();
}

static void test_balance(void)
{
  int ids[NSPIN];
  for (int i = 0; i < NSPIN; i++) {
    where[i] = -1;
    CHECK((ids[i] = lwp_create(spin_report, (void *)(long)i, new_stack())) > 0, "lwp_create");
  }
  sleep(5);
  // Keep two LWPs of the first hart that has two; stop every other one.
  int keep[2] = { -1, -1 };
  for (int i = 0; i < NSPIN && keep[1] < 0; i++)
    for (int j = i + 1; j < NSPIN && keep[1] < 0; j++)
      if (where[i] == where[j] && where[i] >= 0) {
        keep[0] = i;
        keep[1] = j;
      }
  CHECK(keep[1] >= 0, "no hart had two LWPs to start with");
  int start_hart = where[keep[0]];
  for (int i = 0; i < NSPIN; i++)
    if (i != keep[0] && i != keep[1])
      quit[i] = 1;
  int apart = 0;
  for (int t = 0; t < 100 && !apart; t++) {
    sleep(1);
    apart = where[keep[0]] != where[keep[1]];
  }
  printf("  balance: LWPs %d and %d started on hart %d, now on harts %d and %d\n", keep[0], keep[1],
         start_hart, where[keep[0]], where[keep[1]]);
  quit[keep[0]] = quit[keep[1]] = 1;
  for (int i = 0; i < NSPIN; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join");
  CHECK(apart, "the user scheduler never moved an LWP off the busy hart");
}

// ---- futex lock -----------------------------------------------------------
static int lockword;
static volatile int counter;

static void lock(int *l)
{
  while (__sync_lock_test_and_set(l, 1))
    futex_wait(l, 1, 0);
}

static void unlock(int *l)
{
  __sync_lock_release(l);
  futex_wake(l, 1);
}

static void add_many(void *arg)
{
  int n = (long)arg;
  for (int i = 0; i < n; i++) {
    lock(&lockword);
    counter = counter + 1;
    unlock(&lockword);
  }
  lwp_exit();
}

static void test_futexcount(void)
{
  int ids[4];
  counter = 0;
  for (int i = 0; i < 4; i++)
    CHECK((ids[i] = lwp_create(add_many, (void *)5000L, new_stack())) > 0, "lwp_create");
  for (int i = 0; i < 4; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join");
  printf("  futexcount: %d of %d\n", counter, 4 * 5000);
  CHECK(counter == 4 * 5000, "lost increments");
}

static void test_futextimeout(void)
{
  int w = 0;
  int t0 = uptime();
  CHECK(futex_wait(&w, 0, 3) == 1, "futex_wait did not time out");
  CHECK(uptime() - t0 >= 2, "timed out too early");
  CHECK(futex_wait(&w, 1, 0) == 0, "futex_wait with a stale value blocked");
}

// ---- kernel rules -------------------------------------------------------------
static void test_remotewake(void)
{
  CHECK(kdebug(KD_REMOTE_WAKE_TEST, 0) == 0, "remote wake-up through an IPI message failed");
}

static void test_preempt(void)
{
  CHECK(kdebug(KD_PREEMPT_TEST, 0) == 0, "preemption rules broken");
}

// ---- exit, kill, exec with many LWPs ------------------------------------------
static int pipefd[2];

static void block_in_read(void *arg)
{
  (void)arg;
  char c;
  read(pipefd[0], &c, 1);
  lwp_exit();
}

static void spin(void *arg)
{
  (void)arg;
  for (;;)
    ;
}

static void sleep_long(void *arg)
{
  (void)arg;
  sleep(100000);
  lwp_exit();
}

static void futex_block(void *arg)
{
  (void)arg;
  static int w;
  futex_wait(&w, 0, 0);
  lwp_exit();
}

// A child with LWPs blocked every way there is, then ends by `how`.
static void child_with_lwps(int how)
{
  pipe(pipefd);
  lwp_create(block_in_read, 0, new_stack());
  lwp_create(spin, 0, new_stack());
  lwp_create(spin, 0, new_stack());
  lwp_create(sleep_long, 0, new_stack());
  lwp_create(futex_block, 0, new_stack());
  sleep(2);
  if (how == 0)
    exit(7);
  if (how == 1) {
    for (;;)
      sleep(1);
  }
  char *argv[] = { "echo", "exec-from-lwps", 0 };
  exec("echo", argv);
  exit(99);
}

static void test_exitlwps(void)
{
  for (int how = 0; how < 3; how++) {
    int free0 = kdebug(KD_LIVE_THREADS, 0);
    int pid = fork();
    if (pid == 0)
      child_with_lwps(how);
    if (how == 1) {
      sleep(5);
      CHECK(kill(pid) == 0, "kill failed");
    }
    int st;
    int t0 = uptime();
    CHECK(wait(&st) == pid, "wait failed");
    CHECK(uptime() - t0 < 200, "wait took too long");
    if (how == 0)
      CHECK(st == 7, "exit status lost");
    if (how == 2)
      CHECK(st == 0, "exec'd program did not run");
    sleep(2);
    CHECK(kdebug(KD_LIVE_THREADS, 0) <= free0, "LWPs left behind");
  }
}

static void quick_exit(void *arg)
{
  (void)arg;
  lwp_exit();
}

// ---- max_threads -----------------------------------------------------------
static void park(void *arg)
{
  (void)arg;
  static int w;
  futex_wait(&w, 0, 0);
  lwp_exit();
}

static void test_maxthreads(void)
{
  int live = kdebug(KD_LIVE_THREADS, 0);
  int old = kdebug(KD_SET_MAX_THREADS, live + 5);
  CHECK(old > 0, "KD_SET_MAX_THREADS failed");
  int pid = fork();
  if (pid == 0) {
    int n = 0;
    while (lwp_create(park, 0, new_stack()) > 0)
      n++;
    if (n < 3 || n > 5)
      exit(2);
    exit(0);           // ends the parked LWPs too
  }
  int st;
  wait(&st);
  kdebug(KD_SET_MAX_THREADS, old);
  CHECK(st == 0, "lwp_create did not fail cleanly at max_threads");
  sleep(2);
  int id = lwp_create(quick_exit, 0, new_stack());
  CHECK(id > 0, "lwp_create fails after recovery");
  CHECK(lwp_join(id) == 0, "lwp_join after recovery");
}

// ---- churn: create/exit cycles keep memory flat --------------------------------
static void quick(void *arg)
{
  (void)arg;
  lwp_exit();
}

static void test_churn(void)
{
  char *stack = new_stack();
  int pages0 = -1;
  for (int i = 0; i < 3000; i++) {
    int id = lwp_create(quick, 0, stack);
    CHECK(id > 0, "lwp_create failed during churn");
    CHECK(lwp_join(id) == 0, "lwp_join failed during churn");
    if (i == 100)
      pages0 = kdebug(KD_FREE_PAGES, 0);
  }
  int pages1 = kdebug(KD_FREE_PAGES, 0);
  printf("  churn: free pages %d after 100 cycles, %d after 3000\n", pages0, pages1);
  CHECK(pages1 >= pages0 - 4, "memory use grows with create/exit cycles");
}

// ---- sbrk from several LWPs at once ---------------------------------------------
// Every sbrk must return a region of its own while other LWPs grow the heap
// too (a thread library takes records with sbrk while malloc grows the heap
// on another LWP). LWP 0 grows it by 64 pages at a time, which holds the
// process's memory lock for long; the others grow it a page at a time
// meanwhile, each on a hart of its own. The break is read and moved under
// that lock, or a call that waits for it returns the region the holder just
// took.
#define SBRK_LWPS  3
#define SBRK_CALLS 300
#define SBRK_BIG   (64 * 4096)
static char *sbrk_got[SBRK_LWPS][SBRK_CALLS];
static volatile int sbrk_go, sbrk_cpu[SBRK_LWPS];

static int sbrk_size(int lwp)
{
  return lwp == 0 ? SBRK_BIG : 4096;
}

static void sbrk_grow(void *arg)
{
  int me = (long)arg, n = me == 0 ? SBRK_CALLS / 10 : SBRK_CALLS;
  while (!sbrk_go)
    sbrk_cpu[me] = getcpu() + 1;
  for (int i = 0; i < n; i++)
    sbrk_got[me][i] = sbrk(sbrk_size(me));
  if (me != 0)
    lwp_exit();
}

static void test_sbrkrace(void)
{
  int ids[SBRK_LWPS];
  for (long i = 1; i < SBRK_LWPS; i++) {
    ids[i] = lwp_create(sbrk_grow, (void *)i, new_stack());
    CHECK(ids[i] > 0, "lwp_create failed");
  }
  // Each LWP on a hart of its own (the scheduler spreads spinners), or the
  // calls would interleave only where a tick preempts one.
  int t0 = uptime();
  for (;;) {
    sbrk_cpu[0] = getcpu() + 1;
    int distinct = 1;
    for (int a = 0; a < SBRK_LWPS; a++)
      for (int b = a + 1; b < SBRK_LWPS; b++)
        distinct &= sbrk_cpu[a] != 0 && sbrk_cpu[a] != sbrk_cpu[b];
    if (distinct)
      break;
    CHECK(uptime() - t0 < 500, "the LWPs were not on harts of their own within 500 ticks");
  }
  char *start = sbrk(0);
  sbrk_go = 1;
  sbrk_grow((void *)0L);
  for (int i = 1; i < SBRK_LWPS; i++)
    CHECK(lwp_join(ids[i]) == 0, "lwp_join failed");
  int overlaps = 0, bad = 0;
  uint64 total = 0;
  for (int a = 0; a < SBRK_LWPS * SBRK_CALLS; a++) {
    int la = a / SBRK_CALLS;
    char *x = sbrk_got[la][a % SBRK_CALLS];
    if (x == 0)
      continue;                    // LWP 0 makes fewer calls
    bad += x == (char *)-1 || x < start;
    total += sbrk_size(la);
    for (int b = a + 1; b < SBRK_LWPS * SBRK_CALLS; b++) {
      int lb = b / SBRK_CALLS;
      char *y = sbrk_got[lb][b % SBRK_CALLS];
      overlaps += y != 0 && x < y + sbrk_size(lb) && y < x + sbrk_size(la);
    }
  }
  printf("  sbrkrace: %d regions overlap another, %d calls failed, the break moved %d pages of %d\n",
         overlaps, bad, (int)((sbrk(0) - start) / 4096), (int)(total / 4096));
  CHECK(bad == 0, "an sbrk failed");
  CHECK(overlaps == 0, "two sbrk calls returned overlapping regions");
  CHECK(sbrk(0) - start == total, "the break moved by another amount than the calls asked");
}

// ---- bad arguments ---------------------------------------------------------------
static void test_badargs(void)
{
  char *stack = new_stack();
  CHECK(lwp_create(0, 0, stack) == -1, "lwp_create(NULL fn)");
  CHECK(lwp_create((void *)0x80200000UL, 0, stack) == -1, "lwp_create(kernel fn)");
  CHECK(lwp_create(quick, 0, (void *)0x80200000UL) == -1, "lwp_create(kernel stack)");
  CHECK(lwp_create(quick, 0, 0) == -1, "lwp_create(NULL stack)");
  CHECK(lwp_create(quick, 0, (void *)0x7ff00000UL) == -1, "lwp_create(unmapped stack)");
  CHECK(lwp_join(lwp_self()) == -1, "lwp_join(self)");
  CHECK(lwp_join(12345) == -1, "lwp_join(unknown)");
  CHECK(lwp_join(-1) == -1, "lwp_join(-1)");
  CHECK(futex_wait(0, 0, 0) == -1, "futex_wait(NULL)");
  CHECK(futex_wait((int *)0x80200000UL, 0, 0) == -1, "futex_wait(kernel)");
  CHECK(futex_wait((int *)((char *)stack - 7), 0, 0) == -1, "futex_wait(misaligned)");
  CHECK(futex_wait(&lockword, lockword, -1) == -1, "futex_wait(negative ticks)");
  CHECK(futex_wake(0, 1) == -1, "futex_wake(NULL)");
  CHECK(futex_wake(&lockword, -1) == -1, "futex_wake(negative n)");
  CHECK(mprotect(0, 4096, PROT_NONE) == -1, "mprotect(NULL)");
  CHECK(mprotect((void *)0x80200000UL, 4096, PROT_NONE) == -1, "mprotect(kernel)");
  CHECK(mprotect((char *)stack - 4096 + 1, 4096, PROT_NONE) == -1, "mprotect(unaligned)");
  CHECK(mprotect((char *)stack - 4096, -1, PROT_NONE) == -1, "mprotect(negative len)");
  CHECK(mprotect((char *)stack - 4096, 4096, 0x100) == -1, "mprotect(bad prot)");
  CHECK(set_concurrency(-1) == -1, "set_concurrency(-1)");
  CHECK(lwp_tidword((int *)0x80200000UL) == -1, "lwp_tidword(kernel)");
  CHECK(lwp_tidword((int *)((char *)stack - 7)) == -1, "lwp_tidword(misaligned)");
  CHECK(lwp_tidword(0) == 0, "lwp_tidword(0) forgets the word");
  CHECK(kdebug(12345, 0) == -1, "kdebug(bad cmd)");
  CHECK(procinfo((void *)0x80200000UL, 4) == -1, "procinfo(kernel)");
  struct schedctl *sc = schedctl();
  CHECK(sc != 0, "schedctl failed");
  CHECK(sc->sc_state == SC_ONPROC && sc->sc_cpu == (uint32)getcpu(), "schedctl state wrong");
  uint64 sw = sc->sc_switches;
  sleep(1);
  CHECK(sc->sc_switches > sw, "schedctl switch count did not move");
}

// ---- the upcall area and the schedctl page: bad addresses ------------------
// upcall_register checks the area and the addresses in it once; the kernel
// then writes the ring until the program ends. A bad area or field gets -1
// and changes nothing; an area that goes away later kills only its process
// (with one line on the console); the kernel never panics.

#define PGSIZE         4096
#define SURVIVED       55             // exit status of a child that should have died
#define KERNEL_ADDR    ((void *)0x80200000UL)
#define UNMAPPED_ADDR  ((void *)0x7ff00000UL)

// Runs fn in a child; its exit status (-1: killed).
static int child_status(int (*fn)(void *), void *arg)
{
  int pid = fork();
  if (pid == 0)
    exit(fn(arg));
  int st = -12345;
  CHECK(pid > 0 && wait(&st) == pid, "fork or wait failed");
  return st;
}

static char upc_stack[4096] __attribute__((aligned(16)));
static int upc_wake;
static int upc_tid;              // the "user thread" the main LWP runs: thread 0

// A replacement activation starts here. The ring must hold the sleeping
// LWP's BLOCKED, then this one's NEWLWP.
static void upc_entry(void *arg)
{
  struct upcall_area *a = arg;
  int ok = a->head >= 2 && a->ring[0].type == UPC_BLOCKED && a->ring[0].seq == 0 &&
           a->ring[1].type == UPC_NEWLWP && a->ring[1].seq == 1;
  exit(ok ? 42 : 43);
}

// A good area alone on a new page at the top of the heap.
static struct upcall_area *upc_new_area(void)
{
  uint64 top = (uint64)sbrk(0);
  CHECK(sbrk(PGSIZE - top % PGSIZE) != (char *)-1, "sbrk failed");
  struct upcall_area *a = (struct upcall_area *)sbrk(PGSIZE);
  CHECK(a != (struct upcall_area *)-1, "sbrk failed");
  a->entry = (uint64)upc_entry;
  a->arg = (uint64)a;
  a->stack = (uint64)(upc_stack + sizeof(upc_stack));
  a->wake_word = (uint64)&upc_wake;
  return a;
}

// Registers a copy of the good area `a` with one field replaced.
static int upc_register_with(struct upcall_area *a, uint64 *field, uint64 value)
{
  struct upcall_area good = *a;
  *field = value;
  int r = upcall_register(a);
  *a = good;
  return r;
}

// Blocks the calling LWP, as user thread 0 of a process with upcalls on:
// its replacement runs upc_entry, which ends the process.
static int upc_block(void)
{
  CHECK(concurrency_entry(upc_entry, 0, upc_stack + sizeof(upc_stack)) == 0,
        "concurrency_entry failed");   // the caller serves user threads
  CHECK(lwp_tidword(&upc_tid) == 0, "lwp_tidword failed");
  sleep(3);
  return 44;                     // no replacement came
}

static int upcall_bad_then_good(void *arg)
{
  (void)arg;
  struct upcall_area *a = upc_new_area();
  uint64 text = (uint64)upc_entry & ~7UL, unmapped = (uint64)UNMAPPED_ADDR;
  void *bad[] = { KERNEL_ADDR, UNMAPPED_ADDR, (void *)0x10000000UL, (char *)a + 4,
                  (char *)sbrk(0) - 64, (void *)-4096L };
  for (int i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
    CHECK(upcall_register(bad[i]) == -1, "upcall_register of a bad area did not fail");
  uint64 entries[] = { 0, (uint64)KERNEL_ADDR, unmapped };
  for (int i = 0; i < 3; i++)
    CHECK(upc_register_with(a, &a->entry, entries[i]) == -1, "a bad entry was taken");
  uint64 stacks[] = { 0, 8, a->stack + 8, (uint64)KERNEL_ADDR, unmapped, (uint64)sbrk(0) + 4096 };
  for (int i = 0; i < 6; i++)
    CHECK(upc_register_with(a, &a->stack, stacks[i]) == -1, "a bad stack was taken");
  uint64 words[] = { 0, a->wake_word + 2, (uint64)KERNEL_ADDR, unmapped, text };
  for (int i = 0; i < 5; i++)
    CHECK(upc_register_with(a, &a->wake_word, words[i]) == -1,
          "a bad (or read-only) wake word was taken");
  CHECK(mprotect(a, PGSIZE, PROT_READ) == 0, "mprotect failed");
  CHECK(upcall_register(a) == -1, "a read-only area was taken");
  CHECK(mprotect(a, PGSIZE, PROT_READ | PROT_WRITE) == 0, "mprotect failed");
  struct upcall_kstats st;
  CHECK(kdebug(KD_UPCALL_STATS, (long)&st) == 0 && !st.on && st.spares == 0,
        "a failed upcall_register changed something");
  a->head = a->tail = 77;        // the kernel must reset the ring
  CHECK(upcall_register(a) == 0, "upcall_register of a good area failed after bad ones");
  CHECK(a->head == 0 && a->tail == 0, "registration did not reset the ring");
  CHECK(kdebug(KD_UPCALL_STATS, (long)&st) == 0 && st.on && st.spares > 0, "upcalls not on");
  CHECK(upcall_register(upc_new_area()) == -1, "a second area was taken");
  return upc_block();
}

// how 0: the area is shrunk away, 1: made read-only, after registration.
static int upcall_area_goes(void *arg)
{
  struct upcall_area *a = upc_new_area();
  CHECK(upcall_register(a) == 0, "upcall_register failed");
  if (arg == 0)
    CHECK(sbrk(-PGSIZE) != (char *)-1, "sbrk shrink failed");
  else
    CHECK(mprotect(a, PGSIZE, PROT_READ) == 0, "mprotect failed");
  upc_block();
  return SURVIVED;
}

static void test_upcallbad(void)
{
  int pages0, threads0, pages, threads;
  test_kernel_settle(&pages0, &threads0);
  CHECK(child_status(upcall_bad_then_good, 0) == 42,
        "no upcall after a good registration (or a bad one was taken)");
  CHECK(child_status(upcall_area_goes, (void *)0) == -1,
        "a process whose upcall area was shrunk away was not killed");
  CHECK(child_status(upcall_area_goes, (void *)1) == -1,
        "a process whose upcall area became read-only was not killed");
  test_kernel_settle(&pages, &threads);
  if (pages != pages0 || threads != threads0) {
    printf("  upcallbad: free pages %d -> %d, live threads %d -> %d\n", pages0, pages, threads0, threads);
    CHECK(0, "upcall processes leaked");
  }
}

// The whole area must be writable: the ring's slots may lie on its second
// page, and the first post there would kill the process.
static int upcall_ring_readonly(void *arg)
{
  (void)arg;
  struct upcall_area *a = upc_new_area();           // alone on its page
  char *second = (char *)sbrk(PGSIZE);
  CHECK(second == (char *)a + PGSIZE, "sbrk failed");
  struct upcall_area *b = (struct upcall_area *)(second - 64);   // the ring on the second page
  *b = *a;
  b->arg = (uint64)b;
  CHECK(mprotect(second, PGSIZE, PROT_READ) == 0, "mprotect failed");
  CHECK(upcall_register(b) == -1, "an area whose ring is read-only was taken");
  CHECK(mprotect(second, PGSIZE, PROT_READ | PROT_WRITE) == 0, "mprotect failed");
  CHECK(upcall_register(b) == 0, "an area over two writable pages was refused");
  return upc_block();
}

// upcall_register(0): the spares end, and an LWP that wakes from a block
// afterwards ends instead of parking in the cache.
static volatile int upc_off_entered;
static int upc_off_pipe[2];

static void upc_off_entry(void *arg)
{
  (void)arg;
  upc_off_entered = 1;
  for (;;)
    futex_wait((int *)&upc_off_pipe[0], upc_off_pipe[0], 0);   // serve nothing, never return
}

static void upc_off_checker(void *arg)
{
  (void)arg;
  while (!upc_off_entered)
    sleep(1);                      // the main LWP blocked, its replacement runs
  CHECK(upcall_register(0) == 0, "upcall_register(0) failed");
  char c = 'x';
  CHECK(write(upc_off_pipe[1], &c, 1) == 1, "write failed");   // the blocked LWP wakes
  struct upcall_kstats st;
  for (int i = 0; i < 20; i++) {   // the woken LWP and the spares end at kernel priority
    sleep(1);
    CHECK(kdebug(KD_UPCALL_STATS, (long)&st) == 0, "KD_UPCALL_STATS failed");
    if (st.spares == 0 && st.blocked == 0)
      break;
  }
  if (st.spares != 0 || st.blocked != 0)
    printf("  upcalloff: %d spares, %d blocked after upcalls went off\n", st.spares, st.blocked);
  exit(st.spares == 0 && st.blocked == 0 ? 42 : 43);
}

static int upcall_off(void *arg)
{
  (void)arg;
  struct upcall_area *a = upc_new_area();
  a->entry = (uint64)upc_off_entry;
  CHECK(pipe(upc_off_pipe) == 0, "pipe failed");
  CHECK(upcall_register(a) == 0, "upcall_register failed");
  CHECK(concurrency_entry(upc_entry, 0, upc_stack + sizeof(upc_stack)) == 0,
        "concurrency_entry failed");
  CHECK(lwp_tidword(&upc_tid) == 0, "lwp_tidword failed");
  CHECK(lwp_create(upc_off_checker, 0, new_stack()) > 0, "lwp_create failed");
  char c;
  read(upc_off_pipe[0], &c, 1);    // blocks: BLOCKED, a replacement runs upc_off_entry
  for (;;)
    sleep(100);                    // back here only if the kernel gave the thread back
}

// A kick never lands on an LWP that serves no thread: here the replacement,
// held on its way to the upcall entry (KD_UPCALL_DELAY), whose frame would
// go on the shared upcall stack.
static void upc_kick_handler(struct uframe *f)
{
  int on_upcall_stack = (char *)f >= upc_stack && (char *)f < upc_stack + sizeof(upc_stack);
  exit(on_upcall_stack ? 45 : 46);
}

// Called on an LWP of the test's own: returns once the main LWP has blocked
// (its replacement is then held by KD_UPCALL_DELAY before it announces).
static void upc_wait_blocked(void)
{
  struct upcall_kstats st;
  do {
    sleep(1);
    CHECK(kdebug(KD_UPCALL_STATS, (long)&st) == 0, "KD_UPCALL_STATS failed");
  } while (st.blocked == 0);
}

static void upc_kicker(void *arg)
{
  (void)arg;
  upc_wait_blocked();
  for (int id = 1; id < 64; id++)
    if (id != lwp_self())
      lwp_kick(id);
  for (;;)
    sleep(100);
}

static int upcall_kick_replacement(void *arg)
{
  (void)arg;
  struct upcall_area *a = upc_new_area();
  CHECK(upcall_register(a) == 0, "upcall_register failed");
  CHECK(lwp_preempt_handler(upc_kick_handler) == 0, "lwp_preempt_handler failed");
  CHECK(kdebug(KD_UPCALL_DELAY, 5) == 0, "KD_UPCALL_DELAY failed");
  CHECK(lwp_create(upc_kicker, 0, new_stack()) > 0, "lwp_create failed");
  return upc_block();
}

// A kill while a replacement is on its way to announce the LWP it replaces
// (held there by KD_UPCALL_DELAY): the blocked LWP ends, may be released
// and its slot reused, and the replacement must neither read it nor post.
static int upc_kill_pipe[2];

static void upc_tell_blocked(void *arg)
{
  (void)arg;
  upc_wait_blocked();
  CHECK(write(upc_kill_pipe[1], "b", 1) == 1, "write failed");
  for (;;)
    sleep(100);
}

static int upcall_killed_announcing(void *arg)
{
  (void)arg;
  struct upcall_area *a = upc_new_area();
  CHECK(upcall_register(a) == 0, "upcall_register failed");
  CHECK(kdebug(KD_UPCALL_DELAY, 20) == 0, "KD_UPCALL_DELAY failed");
  CHECK(lwp_create(upc_tell_blocked, 0, new_stack()) > 0, "lwp_create failed");
  return upc_block();
}

static void test_upcallkill(void)
{
  int pages0, threads0, pages, threads;
  test_kernel_settle(&pages0, &threads0);
  for (int round = 0; round < 3; round++) {
    CHECK(pipe(upc_kill_pipe) == 0, "pipe failed");
    int pid = fork();
    if (pid == 0)
      exit(upcall_killed_announcing(0));
    char c;
    CHECK(read(upc_kill_pipe[0], &c, 1) == 1, "the child never blocked");
    CHECK(kill(pid) == 0, "kill failed");
    int st = 0;
    CHECK(wait(&st) == pid && st == -1, "the killed child was not reaped as killed");
    close(upc_kill_pipe[0]);
    close(upc_kill_pipe[1]);
  }
  test_kernel_settle(&pages, &threads);
  if (pages != pages0 || threads != threads0) {
    printf("  upcallkill: free pages %d -> %d, live threads %d -> %d\n", pages0, pages, threads0, threads);
    CHECK(0, "killed activations leaked");
  }
}

static void test_upcallring(void)
{
  CHECK(child_status(upcall_ring_readonly, 0) == 42,
        "no upcall after registering an area over two pages (or a read-only ring was taken)");
}

static void test_upcalloff(void)
{
  CHECK(child_status(upcall_off, 0) == 42, "spares collected after upcalls went off");
}

static void test_upcallkick(void)
{
  int st = child_status(upcall_kick_replacement, 0);
  CHECK(st != 45, "a kick ran its handler on the shared upcall stack");
  CHECK(st == 42, "no upcall after kicks (or the process died)");
}

// ---- a signal for an activation that waits for room in the ring ----------
// A replacement announces the LWP it replaces before it first returns to
// user mode; with the ring full it waits, a tick at a time, for the
// library to move tail. A signal sent to it meanwhile can only be taken at
// that return, so it must not end the wait: a wait that a signal ends at
// once, again and again, spins in the kernel, and the library LWPs queued
// behind it on its hart never run to make room (issue 21: fuzz hung so).
// Here the ring looks full (the library has read none of UPC_RING events)
// and a helper LWP, not serving, sends SIGUSR1 to the spares, counts the
// waits for ten ticks, then makes room: the handler runs in the replacement
// once both events are posted, then the entry.
static volatile int upcsig_caught;
static volatile int upcsig_main_id, upcsig_helper_id;

static void upcsig_handler(int sig)
{
  if (sig == SIGUSR1)
    upcsig_caught++;
}

static void upcsig_entry(void *arg)
{
  struct upcall_area *a = arg;
  int ok = a->head == 2 && a->ring[0].type == UPC_BLOCKED && a->ring[1].type == UPC_NEWLWP;
  exit(!ok ? 43 : upcsig_caught != 1 ? 44 : 42);
}

static struct upcall_kstats upcsig_stats(void)
{
  struct upcall_kstats st;
  CHECK(kdebug(KD_UPCALL_STATS, (long)&st) == 0, "kdebug upcall stats failed");
  return st;
}

static void upcsig_helper(void *arg)
{
  struct upcall_area *a = arg;
  upcsig_helper_id = lwp_self();
  for (int t = 0; upcsig_stats().waits == 0; t++) {
    CHECK(t < 300, "the replacement never waited for room in a full ring");
    sleep(1);
  }
  for (int id = upcsig_main_id + 1; id < upcsig_helper_id; id++)
    lwp_sigsend(id, SIGUSR1);    // the spares: one of them is the replacement
  int t0 = uptime();
  uint64 w0 = upcsig_stats().waits;
  sleep(10);
  uint64 waits = upcsig_stats().waits - w0;
  int ticks = uptime() - t0;
  printf("  upcallsig: %d waits for room in %d ticks after the signal\n", (int)waits, ticks);
  CHECK(waits <= (uint64)ticks + 2, "the replacement's wait for room spins: a signal ends it at once");
  a->tail = a->head;             // room: the library has read everything
  futex_wake((int *)&a->tail, 1);
  sleep(300);
  CHECK(0, "the replacement did not reach the entry after room was made");
}

static int upcsig_child(void *arg)
{
  (void)arg;
  CHECK(signal(SIGUSR1, upcsig_handler) != (sighandler_t)-1, "signal failed");
  struct upcall_area *a = upc_new_area();
  a->entry = (uint64)upcsig_entry;
  upcsig_main_id = lwp_self();
  CHECK(upcall_register(a) == 0, "upcall_register failed");
  a->tail = a->head - UPC_RING;  // full: UPC_RING events not read yet
  CHECK(lwp_create(upcsig_helper, a, new_stack()) > 0, "lwp_create failed");
  CHECK(concurrency_entry(upcsig_entry, 0, upc_stack + sizeof(upc_stack)) == 0,
        "concurrency_entry failed");
  CHECK(lwp_tidword(&upc_tid) == 0, "lwp_tidword failed");
  int p[2];
  char c;
  CHECK(pipe(p) == 0, "pipe failed");
  read(p[0], &c, 1);             // blocks for good: a replacement serves meanwhile
  return SURVIVED;
}

static void test_upcallsig(void)
{
  int st = child_status(upcsig_child, 0);
  CHECK(st != 43, "the ring did not hold BLOCKED then NEWLWP");
  CHECK(st != 44, "the replacement's SIGUSR1 handler did not run once before the entry");
  CHECK(st == 42, "the process with a signalled replacement did not end at its entry");
}

static int store_into_schedctl(void *arg)
{
  (void)arg;
  struct schedctl *sc = schedctl();
  if (sc == 0)
    return 1;
  sc->sc_state = 7;              // the page is the kernel's: read-only
  return SURVIVED;
}

// The schedctl page is the kernel's: user code reads it and nothing more,
// neither directly nor through a system call.
static void test_schedctlbad(void)
{
  struct schedctl *sc = schedctl();
  CHECK(sc != 0 && sc->sc_state == SC_ONPROC, "no schedctl entry");
  void *page = (void *)((uint64)sc & ~(uint64)(PGSIZE - 1));
  CHECK(mprotect(page, PGSIZE, PROT_READ | PROT_WRITE) == -1, "mprotect of the schedctl page worked");
  CHECK(mprotect(page, PGSIZE, PROT_NONE) == -1, "mprotect of the schedctl page worked");
  int p[2];
  char buf[8];
  CHECK(pipe(p) == 0 && write(p[1], "abcdefgh", 8) == 8, "pipe failed");
  CHECK(read(p[0], sc, 8) == -1, "read() wrote into the schedctl page");
  CHECK(read(p[0], buf, 8) == 8 && memcmp(buf, "abcdefgh", 8) == 0, "bytes lost to a read into it");
  close(p[0]);
  close(p[1]);
  CHECK(fstat(0, (struct stat *)sc) == -1, "fstat wrote into the schedctl page");
  CHECK(lwp_tidword((int *)sc) == -1, "a tid word on the schedctl page was taken");
  CHECK(upcall_register((struct upcall_area *)page) == -1, "an upcall area on the schedctl page");
  CHECK(sbrk(0x7fffffff) == (char *)-1, "the heap grew over the schedctl page");
  CHECK(child_status(store_into_schedctl, 0) == -1, "a store into the schedctl page did not kill");
  CHECK(schedctl() == sc && sc->sc_state == SC_ONPROC, "the schedctl entry broke");
}

static const struct test tests[] = {
  { "multihart", test_multihart },
  { "futexcount", test_futexcount },
  { "balance", test_balance },
  { "futextimeout", test_futextimeout },
  { "remotewake", test_remotewake },
  { "preempt", test_preempt },
  { "exitlwps", test_exitlwps },
  { "maxthreads", test_maxthreads },
  { "churn", test_churn },
  { "sbrkrace", test_sbrkrace },
  { "badargs", test_badargs },
  { "upcallbad", test_upcallbad },
  { "upcallring", test_upcallring },
  { "upcalloff", test_upcalloff },
  { "upcallkick", test_upcallkick },
  { "upcallsig", test_upcallsig },
  { "upcallkill", test_upcallkill },
  { "schedctlbad", test_schedctlbad },
};

int main(int argc, char *argv[])
{
  return test_suite_run(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
