// racetests: provoke the kernel races a reading of the code pointed to
// (issue 12), each with several LWPs on several harts, many times over.
//
//   racetests [-n SCALE] [NAME...]
//
// `make test` runs it once (SCALE 1, a few seconds per test); `make stress`
// runs it with a large SCALE. A race that is back shows as a failed check,
// a kernel panic, or a hang that the watchdog turns into "hung at try N".
#include "user/user.h"
#include "user/testsuite.h"
#include "uapi/kdebug.h"
#include "param.h"

#define CHECK(c, msg) do { if (!(c)) { printf("  %s: %s\n", test_current, msg); exit(1); } } while (0)
#define PGSIZE 4096
#define STACK  4096
#define NLWP   6
#define NPAGES 32   // pages a shrink gives back at once: the longer it takes, the wider a window

static int scale = 1;
static char stacks[NLWP][STACK] __attribute__((aligned(16)));

static void *stack_top(int i)
{
  return stacks[i] + STACK;
}

static int rand_state = 1;
static int rnd(int n)
{
  rand_state = rand_state * 1103515245 + 12345;
  return ((unsigned)rand_state >> 8) % n;
}

static void delay(int n)
{
  for (volatile int i = 0; i < n; i++)
    ;
}

// ---- the watchdog: a hang becomes a failure naming the try ------------------
static volatile int progress, tries_done;

static void watchdog(void *arg)
{
  (void)arg;
  int last = -1;
  for (;;) {
    sleep(1000);   // 10 s of no progress on a busy host means stuck
    if (progress == last) {
      printf("  %s: hung at try %d\n", test_current, tries_done);
      exit(1);
    }
    last = progress;
  }
}

static void start_watchdog(void)
{
  CHECK(lwp_create(watchdog, 0, stack_top(NLWP - 1)) > 0, "lwp_create watchdog");
}

static void spin_forever(void *arg)
{
  (void)arg;
  for (;;)
    ;
}

// ---- shrink: pages freed only after every TLB forgot them --------------------
// A sibling on another hart keeps writing garbage into the lowest of the
// heap's top pages while the main LWP shrinks the heap by all of them.
// Freed before the shootdown, the page is on the free list with the
// writer's garbage in its link word, and the kernel crashes at the next
// allocations. The writer's fault after the shootdown kills the child:
// that is the expected end.
static volatile long *volatile target;
static volatile int writing;

static void scribble(void *arg)
{
  (void)arg;
  writing = 1;
  for (;;)
    *target = 0x0123456789abcdefL;
}

static void test_shrinktlb(void)
{
  for (int i = 0; i < 150 * scale; i++) {
    int pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      char *page = sbrk(NPAGES * PGSIZE);
      if (page == (char *)-1)
        exit(2);
      target = (long *)page;
      if (lwp_create(scribble, 0, stack_top(0)) < 0)
        exit(3);
      while (!writing)
        ;
      delay(rnd(2000));
      sbrk(-NPAGES * PGSIZE);
      for (;;)   // the writer faults: that kills us
        ;
    }
    int st;
    CHECK(wait(&st) == pid, "wait");
    char *p = sbrk(2 * PGSIZE);  // allocate what the child freed
    CHECK(p != (char *)-1, "sbrk");
    CHECK(p[0] == 0 && p[PGSIZE] == 0, "a new page is not zero");
    sbrk(-2 * PGSIZE);
  }
}

// ---- shrink against exiting LWPs: no lock held across the shootdown ---------
// Each shrink waits for the other harts to flush; an LWP that exits takes
// the process lock as it leaves its hart, with interrupts off.
static volatile int churn_stop;

static void quick_exit(void *arg)
{
  (void)arg;
  lwp_exit();
}

static void churn(void *arg)
{
  int stack = (long)arg;   // its LWPs' stack
  while (!churn_stop) {
    int id = lwp_create(quick_exit, 0, stack_top(stack));
    if (id > 0)
      lwp_join(id);
  }
  lwp_exit();
}

static void test_shrinkexit(void)
{
  start_watchdog();
  int c1 = lwp_create(churn, (void *)1L, stack_top(0));
  int c2 = lwp_create(churn, (void *)3L, stack_top(2));
  CHECK(c1 > 0 && c2 > 0, "lwp_create");
  for (int i = 0; i < 500 * scale; i++) {
    CHECK(sbrk(NPAGES * PGSIZE) != (char *)-1, "sbrk grow");
    CHECK(sbrk(-NPAGES * PGSIZE) != (char *)-1, "sbrk shrink");
    progress++;
    tries_done = i;
  }
  churn_stop = 1;
  CHECK(lwp_join(c1) == 0 && lwp_join(c2) == 0, "join");
}

// ---- exec against exit, kill and another exec --------------------------------
static char *exit_argv[] = { "racetests", "-x", 0 };

static void exit_later(void *arg)
{
  delay((long)arg);
  exit(7);
}

static void exec_later(void *arg)
{
  delay((long)arg);
  exec("racetests", exit_argv);
  lwp_exit();   // exec lost the race: this LWP was told to end
}

// how: 0 = another LWP exits, 1 = the parent kills, 2 = another LWP execs.
static void exec_race(int how)
{
  start_watchdog();
  for (int i = 0; i < 150 * scale; i++) {
    int pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      lwp_create(spin_forever, 0, stack_top(0));
      if (how == 0)
        lwp_create(exit_later, (void *)(long)rnd(3000), stack_top(1));
      if (how == 2)
        lwp_create(exec_later, (void *)(long)rnd(3000), stack_top(1));
      exec("racetests", exit_argv);
      exit(9);
    }
    if (how == 1) {
      delay(rnd(20000));
      kill(pid);
    }
    int st = -1;
    CHECK(wait(&st) == pid, "wait");
    if (how == 0)
      CHECK(st == 0 || st == 7, "exit status neither exec's 0 nor exit's 7");
    if (how == 2)
      CHECK(st == 0, "an exec'ed image did not exit 0");
    progress++;
    tries_done = i;
  }
}

static void test_execexit(void) { exec_race(0); }
static void test_execkill(void) { exec_race(1); }
static void test_execexec(void) { exec_race(2); }

// ---- page tables changed or read against a shrink --------------------------
// mprotect and fork's copy of the address space run while another LWP
// grows and shrinks the heap. A page mprotect maps again after the shrink
// freed it, or one fork copies past the size it records, is freed twice or
// never: the free-page count tells.
static volatile int flap_stop;
static char *volatile flap_page;

static void flap(void *arg)
{
  (void)arg;
  while (!flap_stop) {
    if (sbrk(-PGSIZE) == (char *)-1)
      break;
    if (sbrk(PGSIZE) == (char *)-1)
      break;
  }
  flap_stop = 2;
  lwp_exit();
}

static void page_table_race(int use_fork)
{
  start_watchdog();
  flap_page = sbrk(PGSIZE);
  CHECK(flap_page != (char *)-1, "sbrk");
  int id = lwp_create(flap, 0, stack_top(0));
  CHECK(id > 0, "lwp_create");
  for (int i = 0; i < 2000 * scale; i++) {
    if (use_fork) {
      int pid = fork();
      if (pid == 0)
        exit(0);
      CHECK(pid > 0 && wait(0) == pid, "fork or wait");
    } else {
      mprotect(flap_page, PGSIZE, PROT_READ | PROT_WRITE);
    }
    progress++;
    tries_done = i;
  }
  flap_stop = 1;
  CHECK(lwp_join(id) == 0, "join");
}

// The counts are taken in a child, so that the death row and the caches
// are warm before and after.
static void free_pages_unchanged(void (*fn)(int), int arg)
{
  for (int pass = 0; pass < 2; pass++) {
    int before = kdebug(KD_FREE_PAGES, 0);
    int pid = fork();
    if (pid == 0) {
      fn(arg);
      exit(0);
    }
    int st = -1;
    CHECK(wait(&st) == pid && st == 0, "the racing child failed");
    int after = kdebug(KD_FREE_PAGES, 0);
    if (pass == 1 && before != after) {
      printf("  %s: free pages %d before, %d after\n", test_current, before, after);
      exit(1);
    }
  }
}

static void test_mprotectshrink(void) { free_pages_unchanged(page_table_race, 0); }
static void test_forkshrink(void) { free_pages_unchanged(page_table_race, 1); }

// ---- descriptors closed and reused under a lookup ---------------------------
// The kernel looks a descriptor up without a lock (fd_get): it takes a
// reference to the file in the slot, then checks the slot still holds it.
// LWPs stat, dup and write to descriptors 3..6 while the main LWP closes
// them and opens new pipes in their place. A file counted once too often
// keeps its pipe page (the free-page count tells: a lookup that did not
// drop its reference when the slot changed leaked pages in every run);
// once too rarely, it is closed twice (the kernel asserts).
#define FDC_FIRST 3
#define FDC_FDS   4
static volatile int fdc_stop;

static void fd_user(void *arg)
{
  int fd = FDC_FIRST + (int)(long)arg % FDC_FDS;
  struct stat st;
  for (int i = 0; !fdc_stop; i++) {
    fstat(fd, &st);
    write(fd, "", 0);
    if (i % 16 == 0) {           // a dup now and then holds a reference of its own
      int d = dup(fd);
      if (d >= 0)
        close(d);
    }
    fd = fd + 1 < FDC_FIRST + FDC_FDS ? fd + 1 : FDC_FIRST;
  }
  lwp_exit();
}

static void fd_race(int unused)
{
  (void)unused;
  int p[2], ids[NLWP - 2];
  start_watchdog();
  for (int i = 0; i < NLWP - 2; i++)
    CHECK((ids[i] = lwp_create(fd_user, (void *)(long)i, stack_top(i))) > 0, "lwp_create");
  for (int i = 0; i < 3000 * scale; i++) {
    for (int fd = FDC_FIRST; fd < FDC_FIRST + FDC_FDS; fd++)
      close(fd);                 // may close an LWP's dup instead: no matter
    for (int k = 0; k < FDC_FDS / 2; k++)
      pipe(p);                   // fails only when a dup holds the last free slot
    progress++;
    tries_done = i;
  }
  fdc_stop = 1;
  for (int i = 0; i < NLWP - 2; i++)
    CHECK(lwp_join(ids[i]) == 0, "join");
  for (int fd = FDC_FIRST; fd < NOFILE; fd++)
    close(fd);
}

static void test_fdclose(void) { free_pages_unchanged(fd_race, 0); }

// ---- futex: a timeout never steals a counted wake-up ------------------------
// Waiters sleep on a futex with a one-tick timeout, again and again; a
// waker wakes one at a time. Every wake-up futex_wake counts must be seen
// by a waiter as a wake-up (0), never as a timeout (1), and no waiter may
// see a wake-up nobody counted.
static int fword;
static volatile int fstop;
static volatile int woken_seen[NLWP];

static void futex_waiter(void *arg)
{
  long me = (long)arg;
  while (!fstop) {
    int r = futex_wait(&fword, 0, 1 + (me & 1));
    if (r == 0)
      woken_seen[me]++;
  }
  lwp_exit();
}

static void test_futextimeout(void)
{
  int ids[NLWP - 1];
  int n = NLWP - 1;
  for (int i = 0; i < n; i++)
    CHECK((ids[i] = lwp_create(futex_waiter, (void *)(long)i, stack_top(i))) > 0, "lwp_create");
  int woken = 0;
  int end = uptime() + 100 * scale;
  while (uptime() < end) {
    int r = futex_wake(&fword, 1);
    CHECK(r >= 0, "futex_wake");
    woken += r;
    delay(rnd(3000));
  }
  fstop = 1;   // each waiter ends within two ticks
  for (int i = 0; i < n; i++)
    CHECK(lwp_join(ids[i]) == 0, "join");
  int seen = 0;
  for (int i = 0; i < n; i++)
    seen += woken_seen[i];
  if (seen != woken) {
    printf("  %s: futex_wake counted %d wake-ups, waiters saw %d\n", test_current, woken, seen);
    exit(1);
  }
  CHECK(woken > 0, "no wake-up at all");
}

// An in-kernel test (kdebug cmd, 0 = passed), 20 tries a scale; file is
// where it lives, for the failure line.
static void ktest_tries(int cmd, const char *file)
{
  for (int i = 0; i < 20 * scale; i++) {
    int r = kdebug(cmd, 0);
    if (r != 0) {
      printf("  %s: try %d: the in-kernel test returned %d (%s)\n", test_current, i, r, file);
      exit(1);
    }
  }
}

// ---- a full IPI ring while the target spins on a lock with interrupts off ---
static void test_ipiqfull(void) { ktest_tries(KD_IPIQ_FULL_TEST, "kernel/proc/ktests.c"); }

// ---- a CPU spinning for a lock owes no other CPU its doorbell ----------------
static void test_doorbell(void) { ktest_tries(KD_DOORBELL_TEST, "kernel/proc/ktest_doorbell.c"); }

// ---- two CPUs wait for room in their rings to each other from a drain --------
// The wait's own drain read only the rings whose bits were set again; the
// bits of the two rings were taken by the drains that ran the waiting
// handlers.
static void test_ipiqnest(void) { ktest_tries(KD_IPIQ_NEST_TEST, "kernel/proc/ktest_ipiqnest.c"); }

// ---- the reaper frees a death row far past its keep with one shootdown -------
// (kernel/proc/ktest_reaper.c). One TLB shootdown per freed stack, each an
// IPI round trip to every other hart, kept LWPs in system calls waiting on
// the reaper's CPU for hundreds of ticks (uthreadtests upcmany, 8 harts).
static void test_reaper(void)
{
  struct reaper_trim rt = { 0 };
  for (int i = 0; i < 3 * scale; i++) {
    CHECK(kdebug(KD_REAPER_TEST, (long)&rt) == 0, "kdebug(KD_REAPER_TEST) failed");
    if (rt.doomed == 0)
      return;      // one hart
    int bad = rt.failed || rt.stacks < rt.doomed / 2 || rt.trims == 0 || rt.shootdowns != rt.trims;
    if (bad || i == 3 * scale - 1)
      printf("  %s: try %d: %d threads ended, death row %d; the reaper freed %d stacks in %d "
             "trim(s) with %d TLB shootdown(s) (want one a trim); a thread at PRI_KERN_USER "
             "queued on its CPU waited %d time units; failed 0x%x\n", test_current, i,
             (int)rt.doomed, (int)rt.deathrow, (int)rt.stacks, (int)rt.trims,
             (int)rt.shootdowns, (int)rt.waited, (int)rt.failed);
    if (bad)
      exit(1);
  }
}

// ---- schedctl: an LWP created while the page appears gets its entry ---------
static volatile int sc_go;

static void sc_worker(void *arg)
{
  (void)arg;
  struct schedctl *sc = schedctl();
  int before = sc->sc_switches;
  for (int i = 0; i < 3; i++)
    sleep(1);
  exit(sc->sc_switches > before ? 0 : 4);
}

static void sc_first_use(void *arg)
{
  (void)arg;
  while (!sc_go)
    ;
  schedctl();
  lwp_exit();
}

static void test_schedctlnew(void)
{
  for (int i = 0; i < 300 * scale; i++) {
    int pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      lwp_create(sc_first_use, 0, stack_top(0));
      sc_go = 1;
      delay(rnd(500));
      lwp_create(sc_worker, 0, stack_top(1));
      for (;;)
        sleep(100);
    }
    int st = -1;
    CHECK(wait(&st) == pid, "wait");
    if (st != 0) {
      printf("  %s: try %d: the new LWP's schedctl entry was never updated\n", test_current, i);
      exit(1);
    }
  }
}

// ---- inode allocation: two creators never claim the same inode -------------
// Each round, NCREATE threads (the main LWP and NCREATE - 1 others, one per
// hart) create NFILES files at the same moment, each in a directory of its
// own (creates in one directory are serialised by its lock). Testing "is
// this on-disk inode free?" and claiming it must be one step, or two files
// share an inode whose nlink is 1, and unlinking one frees the inode under
// the other's name (the fuzzer found "inode N is free").
#define NCREATE 3
#define NFILES  6
static int ia_round, ia_done;   // futex words: waiters sleep, not spin
static volatile uint ia_ino[NCREATE][NFILES];

static void ia_name(char *name, int i, int file)
{
  strcpy(name, file >= 0 ? "ia.0/f0" : "ia.0");
  name[3] = '0' + i;
  if (file >= 0)
    name[6] = '0' + file;
}

static void ia_create_all(int i)
{
  char name[8];
  for (int k = 0; k < NFILES; k++) {
    ia_name(name, i, k);
    struct stat st;
    int fd = open(name, O_CREATE | O_RDWR);
    ia_ino[i][k] = fd >= 0 && fstat(fd, &st) == 0 ? st.ino : 0;
    if (fd >= 0)
      close(fd);
  }
  if (__sync_add_and_fetch(&ia_done, 1) == NCREATE)
    futex_wake(&ia_done, 1);
}

static void ia_creator(void *arg)
{
  for (int round = 1;; round++) {
    int seen;
    while ((seen = *(volatile int *)&ia_round) < round)
      futex_wait(&ia_round, seen, 0);
    ia_create_all((int)(long)arg);
  }
}

static void ia_check(int round)
{
  uint *ino = (uint *)ia_ino;
  for (int a = 0; a < NCREATE * NFILES; a++) {
    CHECK(ino[a] != 0, "create failed");
    for (int b = 0; b < a; b++)
      if (ino[a] == ino[b]) {
        printf("  %s: round %d: two new files got inode %d\n", test_current, round, ino[a]);
        exit(1);
      }
  }
}

static void test_inodealloc(void)
{
  char name[8];
  for (int i = 0; i < NCREATE; i++) {
    ia_name(name, i, -1);
    mkdir(name);
  }
  start_watchdog();
  for (int i = 1; i < NCREATE; i++)
    CHECK(lwp_create(ia_creator, (void *)(long)i, stack_top(i)) > 0, "lwp_create");
  for (int round = 1; round <= 200 * scale; round++) {
    ia_done = 0;
    __sync_synchronize();
    ia_round = round;
    futex_wake(&ia_round, NCREATE);
    ia_create_all(0);
    int done;
    while ((done = *(volatile int *)&ia_done) < NCREATE)
      futex_wait(&ia_done, done, 0);
    ia_check(round);
    for (int i = 0; i < NCREATE; i++)
      for (int k = 0; k < NFILES; k++) {
        ia_name(name, i, k);
        CHECK(unlink(name) == 0, "unlink");
      }
    tries_done = round;
    progress++;
  }
  for (int i = 0; i < NCREATE; i++) {
    ia_name(name, i, -1);
    unlink(name);
  }
}

// ---- copies against a shrink: no copy into or out of a freed page ---------
// The kernel copies to and from user memory through the physical page it
// looked up. Two pages X, X+1 sit at the heap's top; the main LWP shrinks
// them away and grows them back, thousands of times. A shrink frees X then
// X+1 and the regrowth takes them back last-freed first, so X's old page
// becomes X+1. Siblings on the other harts meanwhile read a pipe and
// procinfo into X and write X into another pipe (and futex on it). Nothing
// ever legitimately writes X+1, so a byte in it that is not 0 is a copy into
// X that finished after its page was freed; a 0x5a (the kernel's junk for
// freed pages) coming out of the second pipe is a copy out of a freed page.
#define FILL 0x11            // what the feeder writes: never 0, never 0x5a
static char *volatile cs_page;
static int cs_in[2], cs_out[2];
static volatile int cs_bad_in;

static void cs_feeder(void *arg)
{
  (void)arg;
  static char fill[128];
  memset(fill, FILL, sizeof(fill));
  for (;;)
    write(cs_in[1], fill, sizeof(fill));
}

static void cs_copyout(void *arg)
{
  (void)arg;
  for (;;) {
    read(cs_in[0], cs_page, 128);
    procinfo((struct procinfo *)(cs_page + PGSIZE / 2), 3);
  }
}

static void cs_copyin(void *arg)
{
  (void)arg;
  for (;;) {
    write(cs_out[1], cs_page, 128);
    futex_wait((int *)cs_page, 12345, 1);   // never equal: a read, no sleep
    futex_wake((int *)cs_page, 1);
  }
}

static void cs_drain(void *arg)
{
  (void)arg;
  static char buf[128];
  for (;;) {
    int n = read(cs_out[0], buf, sizeof(buf));
    for (int i = 0; i < n; i++)
      if (buf[i] == 0x5a)
        cs_bad_in++;
  }
}

static void copy_shrink(void)
{
  start_watchdog();
  char *top = sbrk(0);
  CHECK(sbrk(PGSIZE - (long)top % PGSIZE) != (char *)-1, "sbrk align");
  cs_page = sbrk(2 * PGSIZE);
  CHECK(cs_page != (char *)-1, "sbrk");
  CHECK(pipe(cs_in) == 0 && pipe(cs_out) == 0, "pipe");
  void (*fns[])(void *) = { cs_feeder, cs_copyout, cs_copyin, cs_drain };
  for (int i = 0; i < 4; i++)
    CHECK(lwp_create(fns[i], 0, stack_top(i)) > 0, "lwp_create");
  int tries = 3000 * scale, into = 0, outof = 0;
  for (int i = 0; i < tries; i++) {
    CHECK(sbrk(-2 * PGSIZE) != (char *)-1, "sbrk shrink");
    CHECK(sbrk(2 * PGSIZE) == cs_page, "sbrk grow");
    delay(rnd(200));
    for (int j = 0; j < PGSIZE; j++)
      if (cs_page[PGSIZE + j] != 0) {
        into++;
        break;
      }
    if (cs_bad_in) {
      outof++;
      cs_bad_in = 0;
    }
    progress++;
    tries_done = i;
  }
  if (into || outof) {
    printf("  %s: of %d tries, %d found a copy into a freed page, %d junk from a freed page\n",
           test_current, tries, into, outof);
    exit(1);
  }
  exit(0);
}

static void test_copyshrink(void)
{
  kdebug(KD_COPY_DELAY, 100000);
  int pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0)
    copy_shrink();
  int st = -1;
  int r = wait(&st);
  kdebug(KD_COPY_DELAY, 0);
  CHECK(r == pid && st == 0, "the racing child failed");
}

// ---- fork against a sibling's chdir ----------------------------------------
// One LWP makes a directory, moves into it, removes it and moves out again,
// so the last reference to a removed directory is put over and over; the
// main LWP forks meanwhile. A fork that read the cwd pointer unlocked could
// give its child a directory that chdir had just freed: the child's lookup
// then met a free inode (panic in inode_lock), or its exit put a reference
// it never had (panic in inode_put). Found by the fuzzer on 8 harts; fork's
// copy of the descriptor table had the same window against close.
static volatile int cwd_stop;

static void cwd_flip(void *arg)
{
  (void)arg;
  while (!cwd_stop)
    if (mkdir("/rcwd") < 0 || chdir("/rcwd") < 0 || unlink("/rcwd") < 0 || chdir("/") < 0)
      cwd_stop = 2;
  lwp_exit();
}

static void fork_chdir_race(int unused)
{
  (void)unused;
  struct stat st;
  start_watchdog();
  int id = lwp_create(cwd_flip, 0, stack_top(0));
  CHECK(id > 0, "lwp_create");
  for (int i = 0; i < 500 * scale && !cwd_stop; i++) {
    int pid = fork();
    if (pid == 0)
      exit(stat(".", &st) < 0 && stat("/", &st) < 0);   // "." fails when removed
    int code = -1;
    CHECK(pid > 0 && wait(&code) == pid && code == 0, "fork, wait or the child's lookup");
    progress++;
    tries_done = i;
  }
  CHECK(!cwd_stop, "mkdir, chdir or unlink failed");
  cwd_stop = 1;
  CHECK(lwp_join(id) == 0, "join");
  cwd_stop = 0;
}

static void test_forkcwd(void) { free_pages_unchanged(fork_chdir_race, 0); }

// ---- a failing pipe() or an open against a sibling's close ---------------
// pipe() gives both files descriptors before it writes their numbers out;
// open() gave its file a descriptor before filling it in. Siblings close
// descriptors 3..9 over and over meanwhile. A pipe() whose copy-out fails
// (a bad address) took back its slots and closed its files even when a
// sibling had closed them already (panic: f->ref > 0 in file_close, found
// by the fuzzer on 8 harts); a half-built open file closed by a sibling
// was then filled in with an inode reference nobody would put.
static volatile int pc_stop;

static void pc_closer(void *arg)
{
  (void)arg;
  while (!pc_stop)
    for (int fd = 3; fd < 10; fd++)
      close(fd);
  lwp_exit();
}

static void test_pipeclose(void)
{
  int ids[2];
  start_watchdog();
  int fd = open("/rfile", O_CREATE | O_RDWR);
  CHECK(fd >= 0 && close(fd) == 0, "create /rfile");
  for (int k = 0; k < 2; k++)
    CHECK((ids[k] = lwp_create(pc_closer, 0, stack_top(k))) > 0, "lwp_create");
  for (int i = 0; i < 3000 * scale; i++) {
    if (i % 2)
      pipe((int *)0x10);          // fails at the copy-out, after both fds were given
    else
      open("/rfile", O_RDONLY);
    progress++;
    tries_done = i;
  }
  pc_stop = 1;
  for (int k = 0; k < 2; k++)
    CHECK(lwp_join(ids[k]) == 0, "join");
  for (fd = 3; fd < 10; fd++)
    close(fd);
  CHECK(unlink("/rfile") == 0, "unlink");
}

// ---- sleep(n) always comes back -------------------------------------------
// sys_sleep read the clock twice: a tick between the loop's test and the
// argument asked the sleep queue for a sleep of 0 ticks, which means no
// timeout, and the LWP slept for good (the fuzzer's watchdog LWP, which
// sleeps two ticks at a time, hung a whole pass). LWPs sleep a tick over
// and over; each must come back, or the join hangs and the watchdog says so.
static void sleeper(void *arg)
{
  (void)arg;
  for (int i = 0; i < 100 * scale; i++) {
    sleep(1);
    progress++;
  }
  lwp_exit();
}

static void test_sleepwake(void)
{
  int ids[NLWP - 1];
  start_watchdog();
  for (int i = 0; i < NLWP - 1; i++)
    CHECK((ids[i] = lwp_create(sleeper, 0, stack_top(i))) > 0, "lwp_create");
  for (int i = 0; i < NLWP - 1; i++)
    CHECK(lwp_join(ids[i]) == 0, "join");
}

static const struct test tests[] = {
  { "shrinktlb", test_shrinktlb },
  { "shrinkexit", test_shrinkexit },
  { "execexit", test_execexit },
  { "execkill", test_execkill },
  { "execexec", test_execexec },
  { "mprotectshrink", test_mprotectshrink },
  { "forkshrink", test_forkshrink },
  { "futextimeout", test_futextimeout },
  { "ipiqfull", test_ipiqfull },
  { "doorbell", test_doorbell },
  { "ipiqnest", test_ipiqnest },
  { "reaper", test_reaper },
  { "schedctlnew", test_schedctlnew },
  { "inodealloc", test_inodealloc },
  { "copyshrink", test_copyshrink },
  { "forkcwd", test_forkcwd },
  { "fdclose", test_fdclose },
  { "pipeclose", test_pipeclose },
  { "sleepwake", test_sleepwake },
};

int main(int argc, char *argv[])
{
  if (argc == 2 && strcmp(argv[1], "-x") == 0)
    exit(0);   // the image the exec races load
  if (argc >= 3 && strcmp(argv[1], "-n") == 0) {
    scale = atoi(argv[2]);
    argc -= 2;
    argv += 2;
  }
  rand_state = uptime() | 1;
  return test_suite_run(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
