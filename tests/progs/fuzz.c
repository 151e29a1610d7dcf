// fuzz: random system calls with hostile arguments, to find kernel panics,
// hangs and leaks.
//   fuzz SEED CALLS [PROCS [LWPS]]
// runs two passes of CALLS calls each, from PROCS processes (default 4)
// with LWPS LWPs each (default 3); every third process runs user threads
// (uthread, upcalls on in its odd generations) instead of bare LWPs. A
// process that ends early (killed for a fault, exit, exec, its watchdog) is
// replaced by the next generation until the pass has made its calls. Each
// LWP draws its calls from its own generator seeded from (SEED, process,
// generation, LWP), so a seed always asks for the same calls (the
// interleaving is the machine's). The second pass repeats the first's
// seeds once the kernel's caches are warm, and must leave the free pages
// (counting pages a cache would give back: KD_CACHED_PAGES) and the live
// threads exactly where the first left them.
//
// The calls come from call_table, one row per system call of
// kernel/uapi/syscall.h (tests/groups/fuzz.py checks that none is
// missing) plus unknown numbers. Arguments: kernel, device and unmapped
// addresses, buffers straddling the end of the heap, huge and negative
// sizes, bad fds and ids, unterminated and too-long paths. Kept out, so the
// fuzz tests the kernel and not the machine around it: poweroff, kdebug
// commands that crash, reconfigure or run the in-kernel tests (one
// injected allocation failure at a time is in), profiler intervals short
// enough to slow every hart, kill of anything but the caller's own children
// or nonexistent pids, exec of anything but `fuzz -exit`, the console (fds
// 0-2 are closed; mknod never makes a console), paths outside the
// process's scratch directory fz/<n> (relative names from a fixed set, no
// ".."), and file writes beyond a small budget. A watchdog LWP ends a
// process (or forked grandchild) in which no call finished for 0.2 s: a
// fuzzed process may legitimately block itself forever.
//
// Fuzzed code scribbles over its own process (wild jumps after a hostile
// lwp_resume, stacks placed in the scratch), so no figure is taken from a
// fuzzing process on trust: counts reach the master in checked frames (see
// "counts on their way to the master" below).
//
// Output: one line per pass, then `fuzz: OK` or `fuzz: LEAK`; a figure the
// harness itself got wrong prints a `fuzz: HARNESS:` line (exit status 2).
//   fuzz -forge SEED CALLS PROCS LWPS   (tests) the first report of slots
// 0 to 3 is bad in one way each, until the slot has rejected one.
#include "user/user.h"
#include "user/testsuite.h"
#include "user/uthread.h"
#include "uapi/syscall.h"
#include "uapi/kdebug.h"
#include "uapi/profile.h"
#include "uapi/upcall.h"
#include "uapi/uframe.h"
#include "uapi/signal.h"
#include "uapi/fs.h"
#include "param.h"             // NOFILE

#define PAGE        4096
#define REPORT_FD   15          // the pipe to the master; never a fuzzed fd
#define MAXPROCS    16
#define MAXLWPS     8
#define STACKS      8           // ready-made LWP stacks per process
#define STACK_SIZE  8192
#define SCRATCH     (4 * PAGE)  // buffers the kernel may read and write
#define GROW_MAX    32          // pages the fuzz may add with sbrk
#define WRITE_BUDGET (64 * 1024)
#define CHILD_CALLS 30          // calls a forked grandchild makes

// ---- the random generator (xorshift64*) -------------------------------------------

struct rng { uint64 s; };

static uint64 next(struct rng *r)
{
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 2685821657736338717UL;
}

static uint64 mix(uint64 a, uint64 b)
{
  struct rng r = { (a * 0x9E3779B97F4A7C15UL) ^ (b + 0x632BE59BD9B4E019UL) ^ 1 };
  next(&r);
  return next(&r) | 1;
}

static int below(struct rng *r, int n) { return (int)(next(r) % (uint64)n); }

// ---- per-process state ----------------------------------------------------------------

static int is_ult_proc;                 // runs user threads instead of bare LWPs
static int nested;                      // a forked grandchild: no fork, short life
static int lwps_per_proc = 3;
static volatile int calls_left;         // calls this process still makes
static volatile int calls_done;         // read only by the watchdog, which reports it
static int slot_index;                  // which slot this process fills
static int forge;                       // fuzz -forge: make the first report bad
static char *scratch;                   // SCRATCH bytes, the kernel's playground
static char *stacks[STACKS];
static volatile int stacks_used;
static volatile int grown;              // pages added by the fuzz, may be given back
static volatile int write_budget = WRITE_BUDGET;
static int children[32];
static volatile int nchildren;
static volatile int futex_word;
static char watchdog_stack[STACK_SIZE] __attribute__((aligned(16)));

static long raw(long n, long a0, long a1, long a2, long a3, long a4, long a5)
{
  register long x0 asm("a0") = a0;
  register long x1 asm("a1") = a1;
  register long x2 asm("a2") = a2;
  register long x3 asm("a3") = a3;
  register long x4 asm("a4") = a4;
  register long x5 asm("a5") = a5;
  register long x7 asm("a7") = n;
  asm volatile("ecall" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5), "r"(x7)
               : "memory");
  return x0;
}

// ---- counts on their way to the master -------------------------------------------
//
// A fuzzing process's watchdog LWP sends its slot a frame on REPORT_FD, a
// descriptor no fuzzed call is given, every WATCHDOG_CHECK ticks: the calls
// the process has finished in all, and whether the watchdog fired. The slot
// (a process of its own, running no fuzzed code) keeps the tally in its own
// memory and takes a frame only if it is whole (magic, checksum), in
// sequence, and its count neither went backwards nor passed what the process
// was asked for. The first bad frame is quoted and ends the process, which
// then counts for what its good frames said. Slots send their results to the
// master in frames too; a bad one there is the harness's fault.

#define FRAME_MAGIC 0x5a5a5546u         // "FUZZ"

struct frame {
  uint32 magic;
  uint32 seq;                           // 0, 1, 2, ... from one sender
  int v[4];                             // the payload
  uint32 sum;                           // frame_sum of everything before it
};

// FNV-1a over the frame up to its checksum.
static uint32 frame_sum(const struct frame *f)
{
  const uint8 *b = (const uint8 *)f;
  uint32 h = 2166136261u;
  for (int i = 0; i < (int)__builtin_offsetof(struct frame, sum); i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

static void frame_make(struct frame *f, uint32 seq, int v0, int v1, int v2, int v3)
{
  f->magic = FRAME_MAGIC;
  f->seq = seq;
  f->v[0] = v0;
  f->v[1] = v1;
  f->v[2] = v2;
  f->v[3] = v3;
  f->sum = frame_sum(f);
}

// Reads one frame; returns sizeof(*f) for a whole one, 0 at the end, or the
// bytes of a frame cut short (its writer ended while writing it).
static int frame_read(int fd, struct frame *f)
{
  int got = 0, n;
  while (got < (int)sizeof(*f) && (n = read(fd, (char *)f + got, sizeof(*f) - got)) > 0)
    got += n;
  return got;
}

// What is wrong with a frame read as number seq (0 if nothing).
static const char *frame_fault(const struct frame *f, uint32 seq)
{
  if (f->magic != FRAME_MAGIC)
    return "bad magic";
  if (f->sum != frame_sum(f))
    return "bad checksum";
  if (f->seq != seq)
    return "out of sequence";
  return 0;
}

// fuzz -forge: a bad first report, one kind per slot, as a process whose
// LWPs scribbled over its count or its frame would send.
static void forge_report(struct frame *f)
{
  switch (slot_index) {
  case 0:                                 // the count of issue 24: bit 30 set
    frame_make(f, f->seq, f->v[0] | 1 << 30, f->v[1], 0, 0);
    break;
  case 1:                                 // a bit flipped on the way
    f->v[0] ^= 4;
    break;
  case 2:                                 // a torn frame: the next one is misaligned
    write(REPORT_FD, f, 3);
    break;
  case 3:                                 // a count that went backwards
    frame_make(f, f->seq, -1, f->v[1], 0, 0);
    break;
  }
}

// Sends the slot this process's count (only the watchdog LWP reports).
static void report(int fired)
{
  static uint32 seq;
  struct frame f;
  if (nested)                             // a grandchild: the master counts only its own
    return;
  frame_make(&f, seq, calls_done, fired, 0, 0);
  if (forge && seq == 0)
    forge_report(&f);
  seq++;
  write(REPORT_FD, &f, sizeof(f));
}

// ---- hostile arguments -----------------------------------------------------------------

static uint64 heap_end(void)
{
  return is_ult_proc ? (uint64)scratch + SCRATCH : (uint64)sbrk(0);
}

// A pointer: good scratch memory, or kernel, device, unmapped, straddling
// the end of the heap, or random.
static uint64 any_ptr(struct rng *r)
{
  switch (below(r, 12)) {
  case 0: case 1: case 2: case 3:
    return (uint64)scratch + below(r, SCRATCH);
  case 4: return 0x80000000UL + below(r, 0x800000);        // kernel image and RAM
  case 5: return 0x10000000UL + below(r, 0x2000);          // UART, virtio
  case 6: return 0x0c000000UL + below(r, 0x400000);        // PLIC
  case 7: return 0x7ff00000UL + below(r, PAGE);            // unmapped user
  case 8: return heap_end() - below(r, 64);                // straddles the break
  case 9: return -(uint64)below(r, 2 * PAGE);              // the top of the space
  case 10: return below(r, PAGE);                          // near NULL
  default: return next(r);
  }
}

static long any_size(struct rng *r)
{
  switch (below(r, 8)) {
  case 0: return 0;
  case 1: return -1 - below(r, 100);
  case 2: return 0x7fffffff - below(r, 4);
  case 3: return (long)next(r);
  case 4: return PAGE + below(r, 3 * PAGE);
  default: return below(r, 300);
  }
}

static long any_fd(struct rng *r)
{
  switch (below(r, 10)) {
  case 0: return -1 - below(r, 3);
  case 1: return 16 + below(r, 1000);
  case 2: return (long)next(r);
  default: {
    int fd = below(r, NOFILE);
    return fd == REPORT_FD ? 3 : fd;
  }
  }
}

static long any_id(struct rng *r)
{
  switch (below(r, 4)) {
  case 0: return -1 - below(r, 5);
  case 1: return (long)next(r);
  default: return below(r, 24);
  }
}

static const char *names[] = { "a", "b", "c", "d", "d/e", "d/f", "g/h", "a/x", "" };
#define NNAMES (int)(sizeof(names) / sizeof(names[0]))

// A path: a name of the scratch directory, or a bad pointer, an
// unterminated string at the end of the heap, or a string too long.
static uint64 any_path(struct rng *r)
{
  switch (below(r, 8)) {
  case 0: return any_ptr(r);
  case 1:                                 // no NUL before the break (if not grown)
    return (uint64)scratch + SCRATCH - 1 - below(r, 40);
  case 2: {                               // longer than MAXPATH
    char *p = scratch + SCRATCH - 300;
    memset(p, 'z', 299);
    p[299] = 0;
    return (uint64)p;
  }
  default:
    return (uint64)names[below(r, NNAMES)];
  }
}

// ---- the calls ------------------------------------------------------------------------

// Where LWPs added by set_concurrency start: they share one stack, so this
// touches none and ends the LWP at once.
void conc_entry(void *arg);
asm(".globl conc_entry\nconc_entry:\n  li a7, 24\n  ecall\n");
_Static_assert(SYS_lwp_exit == 24, "conc_entry's system call number");

static void lwp_body(void *arg);
static void watchdog(void *arg);
static void run(struct rng *r, int budget);

// A new LWP on one of the ready stacks (each used once), or a hostile one.
static long fuzz_lwp_create(struct rng *r)
{
  if (is_ult_proc)
    return -1;
  int i = __sync_fetch_and_add(&stacks_used, 1);
  if (i < STACKS && below(r, 4))
    return raw(SYS_lwp_create, (long)lwp_body, (long)next(r), (long)(stacks[i] + STACK_SIZE),
               0, 0, 0);
  return raw(SYS_lwp_create, below(r, 8) ? (long)lwp_body : (long)any_ptr(r), 0,
             (long)any_ptr(r), 0, 0, 0);
}

static long fuzz_sbrk(struct rng *r)
{
  if (is_ult_proc)                        // the thread library owns the heap
    return raw(SYS_sbrk, below(r, 2) ? 0 : 0x7fffffff, 0, 0, 0, 0, 0);
  switch (below(r, 4)) {
  case 0: {                               // grow a little
    if (grown >= GROW_MAX)
      return 0;
    int n = 1 + below(r, 4);
    long old = raw(SYS_sbrk, n * PAGE, 0, 0, 0, 0, 0);
    if (old != -1)
      __sync_fetch_and_add(&grown, n);
    return old;
  }
  case 1: {                               // give back what the fuzz added
    int n = grown;
    if (n == 0 || !__sync_bool_compare_and_swap(&grown, n, n - 1))
      return 0;
    return raw(SYS_sbrk, -PAGE, 0, 0, 0, 0, 0);
  }
  case 2: return raw(SYS_sbrk, 0x7fffffff - below(r, 100), 0, 0, 0, 0, 0);
  default: return raw(SYS_sbrk, -0x7fffffff + below(r, 100), 0, 0, 0, 0, 0);
  }
}

static long fuzz_fork(struct rng *r)
{
  if (nested || is_ult_proc || nchildren >= 32)
    return -1;
  int pid = fork();
  if (pid == 0) {                         // only the caller's LWP goes on
    close(REPORT_FD);
    nested = 1;
    lwp_create(watchdog, 0, watchdog_stack + STACK_SIZE);   // a copy nobody runs on here
    run(r, CHILD_CALLS);
    exit(0);
  }
  if (pid > 0) {
    int i = __sync_fetch_and_add(&nchildren, 1);
    if (i < 32)
      children[i] = pid;
  }
  return pid;
}

static long fuzz_kill(struct rng *r)
{
  if (below(r, 2) && nchildren > 0)
    return kill(children[below(r, nchildren < 32 ? nchildren : 32)]);
  long bad[] = { -1, 0, 100000, -100000, 0x7fffffff };
  return kill(bad[below(r, 5)]);
}

static long fuzz_exec(struct rng *r)
{
  static char *ok_argv[] = { "fuzz", "-exit", 0 };
  if (below(r, 512) == 0 && !is_ult_proc)
    return exec("fuzz", ok_argv);
  return raw(SYS_exec, (long)(below(r, 2) ? any_path(r) : (uint64)"fuzz"), (long)any_ptr(r),
             0, 0, 0, 0);
}

static long fuzz_write(struct rng *r)
{
  long n = any_size(r);
  if (n > 0 && n < 0x10000) {
    if (write_budget <= 0)
      n = 0;
    else
      __sync_fetch_and_sub(&write_budget, n);
  } else if (n > 0 && below(r, 2) == 0) {
    return raw(SYS_write, any_fd(r), 0x80200000L, n, 0, 0, 0);   // huge from the kernel: fails
  }
  return raw(SYS_write, any_fd(r), (long)any_ptr(r), n, 0, 0, 0);
}

// Read-only commands, commands that copy out to hostile buffers, one
// injected allocation failure a bounded number of allocations ahead (the
// master disarms it after a pass), and unknown commands. Never the ones that
// power off, reconfigure or run the in-kernel tests.
static long fuzz_kdebug(struct rng *r)
{
  long cmd[] = { KD_GET_MAX_THREADS, KD_LIVE_THREADS, KD_FREE_PAGES, KD_CPU_STATS,
                 KD_CACHED_PAGES, KD_UPCALL_STATS, KD_UPCALL_RESET, KD_LOCKSTAT, KD_BENCH_TIMES,
                 KD_FAIL_ALLOC, 1000 + below(r, 1000), -1 - below(r, 1000) };
  long c = cmd[below(r, 12)];
  long arg = c == KD_FAIL_ALLOC ? 1 + below(r, 64) : c == KD_CACHED_PAGES ? below(r, 2)
                                                   : (long)any_ptr(r);
  return raw(SYS_kdebug, c, arg, 0, 0, 0, 0);
}

// Numbers no system call has: 0, beyond the table, negative, random.
static long fuzz_unknown(struct rng *r)
{
  long n[] = { 0, 100 + below(r, 900), -1 - below(r, 10), (long)next(r) };
  if (below(r, 20))
    return 0;                             // each one prints a line: keep them rare
  return raw(n[below(r, 4)], next(r), next(r), next(r), 0, 0, 0);
}

static long fuzz_read(struct rng *r)
{
  return raw(SYS_read, any_fd(r), (long)any_ptr(r), any_size(r), 0, 0, 0);
}

static long fuzz_pipe(struct rng *r) { return raw(SYS_pipe, (long)any_ptr(r), 0, 0, 0, 0, 0); }
static long fuzz_close(struct rng *r) { return raw(SYS_close, any_fd(r), 0, 0, 0, 0, 0); }
static long fuzz_dup(struct rng *r) { return raw(SYS_dup, any_fd(r), 0, 0, 0, 0, 0); }

static long fuzz_fstat(struct rng *r)
{
  return raw(SYS_fstat, any_fd(r), (long)any_ptr(r), 0, 0, 0, 0);
}

static long fuzz_open(struct rng *r)
{
  return raw(SYS_open, (long)any_path(r), (long)next(r) & 0xfff, 0, 0, 0, 0);
}

static long fuzz_mknod(struct rng *r)
{
  long majors[] = { 0, 2, 3, -1, 1000, 0x7fff };
  return raw(SYS_mknod, (long)any_path(r), majors[below(r, 6)], (long)next(r), 0, 0, 0);
}

static long fuzz_unlink(struct rng *r) { return raw(SYS_unlink, (long)any_path(r), 0, 0, 0, 0, 0); }
static long fuzz_mkdir(struct rng *r) { return raw(SYS_mkdir, (long)any_path(r), 0, 0, 0, 0, 0); }
static long fuzz_chdir(struct rng *r) { return raw(SYS_chdir, (long)any_path(r), 0, 0, 0, 0, 0); }

static long fuzz_link(struct rng *r)
{
  return raw(SYS_link, (long)any_path(r), (long)any_path(r), 0, 0, 0, 0);
}

// Calls without arguments (getpid, uptime, lwp_self, getcpu, ...).
static long fuzz_noargs(struct rng *r, int nr)
{
  return raw(nr, next(r), next(r), 0, 0, 0, 0);
}
static long fuzz_getpid(struct rng *r) { return fuzz_noargs(r, SYS_getpid); }
static long fuzz_uptime(struct rng *r) { return fuzz_noargs(r, SYS_uptime); }
static long fuzz_lwp_self(struct rng *r) { return fuzz_noargs(r, SYS_lwp_self); }
static long fuzz_getcpu(struct rng *r) { return fuzz_noargs(r, SYS_getcpu); }
static long fuzz_get_concurrency(struct rng *r) { return fuzz_noargs(r, SYS_get_concurrency); }

// Mostly sleep(0) (a yield and the kill check); a real sleep now and then.
static long fuzz_sleep(struct rng *r)
{
  long n[] = { 0, 0, 0, 1, -1, -100, (long)next(r) | (1L << 31) };
  return raw(SYS_sleep, n[below(r, 7)], 0, 0, 0, 0, 0);
}

static long fuzz_wait(struct rng *r) { return raw(SYS_wait, (long)any_ptr(r), 0, 0, 0, 0, 0); }

static long fuzz_lwp_join(struct rng *r) { return raw(SYS_lwp_join, any_id(r), 0, 0, 0, 0, 0); }

// A futex wait ends by a wake-up, a timeout of a tick or two, or a kill.
static long fuzz_futex_wait(struct rng *r)
{
  long ticks[] = { 1, 1, 2, 0, -1, -100 };
  uint64 a = below(r, 2) ? (uint64)&futex_word : any_ptr(r);
  return raw(SYS_futex_wait, a, below(r, 2) ? futex_word : next(r), ticks[below(r, 6)], 0, 0, 0);
}

static long fuzz_futex_wake(struct rng *r)
{
  return raw(SYS_futex_wake, below(r, 2) ? (long)&futex_word : (long)any_ptr(r),
             below(r, 2) ? 1 + below(r, 4) : (long)next(r), 0, 0, 0, 0);
}

// Only the scratch pages, or bad ranges.
static long fuzz_mprotect(struct rng *r)
{
  uint64 a = below(r, 2) ? (uint64)scratch + PAGE * below(r, SCRATCH / PAGE) : any_ptr(r);
  long len = below(r, 2) ? PAGE : any_size(r);
  return raw(SYS_mprotect, a, len, below(r, 5) == 0 ? (long)next(r) : below(r, 8), 0, 0, 0);
}

// The entry of this LWP in the schedctl page: read it (the page is read-only).
static long fuzz_schedctl(struct rng *r)
{
  volatile struct schedctl *sc = (void *)raw(SYS_schedctl, next(r), 0, 0, 0, 0, 0);
  return sc ? sc->sc_state : 0;
}

static long fuzz_set_concurrency(struct rng *r)
{
  if (is_ult_proc)                        // the library's level
    return -1;
  return raw(SYS_set_concurrency, below(r, 8) ? below(r, 8) - 2 : below(r, 100), 0, 0, 0, 0, 0);
}

static long fuzz_concurrency_entry(struct rng *r)
{
  if (is_ult_proc)
    return -1;
  if (below(r, 8))                        // an entry that ends the LWP at once
    return raw(SYS_concurrency_entry, (long)conc_entry, 0, (long)scratch + PAGE, 0, 0, 0);
  return raw(SYS_concurrency_entry, (long)any_ptr(r), (long)any_ptr(r), (long)any_ptr(r), 0, 0, 0);
}

// An area whose activations end at once (nobody reads the ring: posters
// wait for room until the process ends), or a hostile one, or off.
static long fuzz_upcall_register(struct rng *r)
{
  if (is_ult_proc)                        // the library's area
    return -1;
  struct upcall_area *a = (struct upcall_area *)(scratch + 2 * PAGE);
  switch (below(r, 4)) {
  case 0: return raw(SYS_upcall_register, 0, 0, 0, 0, 0, 0);
  case 1:
    a->entry = (uint64)conc_entry;
    a->arg = 0;
    a->stack = (uint64)scratch + PAGE;
    a->wake_word = below(r, 2) ? (uint64)&futex_word : any_ptr(r);
    return raw(SYS_upcall_register, (long)a, 0, 0, 0, 0, 0);
  case 2: return raw(SYS_upcall_register, (long)(scratch + SCRATCH - below(r, 200)), 0, 0, 0, 0, 0);
  default: return raw(SYS_upcall_register, (long)any_ptr(r), 0, 0, 0, 0, 0);
  }
}

static long fuzz_procinfo(struct rng *r)
{
  return raw(SYS_procinfo, (long)any_ptr(r), any_size(r), 0, 0, 0, 0);
}

static long fuzz_trace(struct rng *r)
{
  return raw(SYS_trace, below(r, 2) ? 3 : (long)next(r), (long)any_ptr(r),
             below(r, 2) ? (below(r, 4) << 16) | below(r, 50) : (long)next(r), 0, 0, 0);
}

// The profiler: reads with hostile buffers and counts, bad commands, and
// starts only with intervals the kernel must refuse or so long that they
// cost nothing (a short one slows every hart; the master stops it).
static long fuzz_profile(struct rng *r)
{
  long cmd[] = { PROF_READ, PROF_NAMES, PROF_LOST, PROF_STOP, PROF_START, 0, 6, (long)next(r) };
  long c = cmd[below(r, 8)], n = any_size(r);
  if (c == PROF_START)
    n = below(r, 2) ? -below(r, 3) : 1000000 + below(r, 1000000);
  return raw(SYS_profile, c, (long)any_ptr(r), n, 0, 0, 0);
}

// A kicked LWP runs this on its own stack and goes on where it was.
static void kick_handler(struct uframe *f)
{
  lwp_resume(f);
}

static long fuzz_lwp_kick(struct rng *r) { return raw(SYS_lwp_kick, any_id(r), 0, 0, 0, 0, 0); }

static long fuzz_lwp_preempt_handler(struct rng *r)
{
  if (is_ult_proc)                        // the library's handler
    return -1;
  long h[] = { 0, (long)kick_handler, (long)kick_handler, (long)any_ptr(r) };
  return raw(SYS_lwp_preempt_handler, h[below(r, 4)], 0, 0, 0, 0, 0);
}

// A frame that ends the LWP where it lands, or a hostile one.
static long fuzz_lwp_resume(struct rng *r)
{
  struct uframe *f = (struct uframe *)(scratch + 3 * PAGE);
  if (below(r, 4) == 0 && !is_ult_proc) {
    memset(f, 0, sizeof(*f));
    f->epc = (uint64)conc_entry;
    f->sp = (uint64)scratch + PAGE;
    return raw(SYS_lwp_resume, (long)f, 0, 0, 0, 0, 0);
  }
  return raw(SYS_lwp_resume, (long)any_ptr(r), 0, 0, 0, 0, 0);
}

static long fuzz_lwp_tidword(struct rng *r)
{
  if (is_ult_proc)                        // the library's word
    return -1;
  long w[] = { 0, (long)&futex_word, (long)any_ptr(r) };
  return raw(SYS_lwp_tidword, w[below(r, 3)], 0, 0, 0, 0, 0);
}

// Signals: mostly the harmless ones, with a handler that returns at once;
// numbers out of range, SIGKILL, hostile handlers, masks and frames too. A
// fatal default action ends the fuzzed process like any other death.
static void sig_handler(int sig) { (void)sig; }

static long any_sig(struct rng *r)
{
  long sig[] = { SIGUSR1, SIGUSR2, SIGUSR1, SIGCHLD, SIGALRM, SIGKILL, 0, -1, NSIG, 64,
                 (long)next(r) };
  return sig[below(r, 11)];
}

static long fuzz_signal(struct rng *r)
{
  long h[] = { (long)sig_handler, (long)sig_handler, (long)SIG_IGN, (long)SIG_DFL, (long)any_ptr(r) };
  return (long)signal(any_sig(r), (sighandler_t)h[below(r, 5)]);
}

static long fuzz_sigsend(struct rng *r)
{
  int sig = any_sig(r);
  if (sig == SIGKILL)                     // only what fuzz_kill may do
    return -1;
  if (below(r, 2) && nchildren > 0)
    return sigsend(children[below(r, nchildren < 32 ? nchildren : 32)], sig);
  long pid[] = { getpid(), getpid(), -1, 0, 100000, 0x7fffffff };
  return sigsend(pid[below(r, 6)], sig);
}

static long fuzz_lwp_sigsend(struct rng *r)
{
  return raw(SYS_lwp_sigsend, any_id(r), any_sig(r), 0, 0, 0, 0);
}

static long fuzz_sigprocmask(struct rng *r)
{
  long how = below(r, 4) ? below(r, 3) : (long)next(r);
  uint64 set = below(r, 2) ? (1ull << SIGUSR1) | (1ull << SIGALRM) : next(r);
  return raw(SYS_sigprocmask, how, set, below(r, 3) ? 0 : (long)any_ptr(r), 0, 0, 0);
}

static long fuzz_sigpending(struct rng *r) { return raw(SYS_sigpending, (long)any_ptr(r), 0, 0, 0, 0, 0); }

static long fuzz_alarm(struct rng *r)
{
  long ticks[] = { 0, 1, 3, -1, 0x7fffffff, (long)next(r) };
  return raw(SYS_alarm, ticks[below(r, 6)], 0, 0, 0, 0, 0);
}

// Like lwp_resume: a frame that ends the LWP where it lands, or a hostile one.
static long fuzz_sigreturn(struct rng *r)
{
  uint64 *f = (uint64 *)(scratch + 3 * PAGE);
  if (below(r, 4) == 0 && !is_ult_proc) {
    memset(f, 0, sizeof(struct uframe) + 16);
    ((struct uframe *)f)->epc = (uint64)conc_entry;
    ((struct uframe *)f)->sp = (uint64)scratch + PAGE;
    f[sizeof(struct uframe) / 8] = next(r);   // the mask to restore
    return raw(SYS_sigreturn, (long)f, 0, 0, 0, 0, 0);
  }
  return raw(SYS_sigreturn, (long)any_ptr(r), 0, 0, 0, 0, 0);
}

static long fuzz_exit(struct rng *r)
{
  if (below(r, 200) || is_ult_proc)
    return 0;
  return raw(below(r, 2) ? SYS_exit : SYS_lwp_exit, below(r, 256), 0, 0, 0, 0, 0);
}

static long fuzz_lwp_exit(struct rng *r) { return fuzz_exit(r); }

// Never called: it would end the whole run.
static long fuzz_poweroff(struct rng *r) { (void)r; return -1; }

// Every system call of kernel/uapi/syscall.h has a row (the fuzz test
// group checks), with how often it is drawn; unknown numbers too (-1).
struct call {
  int nr;
  int weight;
  long (*fn)(struct rng *r);
};

static const struct call call_table[] = {
  { SYS_fork, 1, fuzz_fork },
  { SYS_exit, 1, fuzz_exit },
  { SYS_wait, 1, fuzz_wait },
  { SYS_pipe, 1, fuzz_pipe },
  { SYS_read, 2, fuzz_read },
  { SYS_kill, 1, fuzz_kill },
  { SYS_exec, 1, fuzz_exec },
  { SYS_fstat, 1, fuzz_fstat },
  { SYS_chdir, 1, fuzz_chdir },
  { SYS_dup, 1, fuzz_dup },
  { SYS_getpid, 1, fuzz_getpid },
  { SYS_sbrk, 2, fuzz_sbrk },
  { SYS_sleep, 1, fuzz_sleep },
  { SYS_uptime, 1, fuzz_uptime },
  { SYS_open, 2, fuzz_open },
  { SYS_write, 2, fuzz_write },
  { SYS_mknod, 1, fuzz_mknod },
  { SYS_unlink, 1, fuzz_unlink },
  { SYS_link, 1, fuzz_link },
  { SYS_mkdir, 1, fuzz_mkdir },
  { SYS_close, 1, fuzz_close },
  { SYS_poweroff, 0, fuzz_poweroff },
  { SYS_lwp_create, 1, fuzz_lwp_create },
  { SYS_lwp_exit, 1, fuzz_lwp_exit },
  { SYS_lwp_self, 1, fuzz_lwp_self },
  { SYS_lwp_join, 1, fuzz_lwp_join },
  { SYS_getcpu, 1, fuzz_getcpu },
  { SYS_futex_wait, 1, fuzz_futex_wait },
  { SYS_futex_wake, 1, fuzz_futex_wake },
  { SYS_mprotect, 1, fuzz_mprotect },
  { SYS_schedctl, 1, fuzz_schedctl },
  { SYS_set_concurrency, 1, fuzz_set_concurrency },
  { SYS_get_concurrency, 1, fuzz_get_concurrency },
  { SYS_upcall_register, 1, fuzz_upcall_register },
  { SYS_procinfo, 1, fuzz_procinfo },
  { SYS_kdebug, 1, fuzz_kdebug },
  { SYS_trace, 1, fuzz_trace },
  { SYS_concurrency_entry, 1, fuzz_concurrency_entry },
  { SYS_lwp_kick, 1, fuzz_lwp_kick },
  { SYS_lwp_preempt_handler, 1, fuzz_lwp_preempt_handler },
  { SYS_lwp_resume, 1, fuzz_lwp_resume },
  { SYS_lwp_tidword, 1, fuzz_lwp_tidword },
  { SYS_profile, 1, fuzz_profile },
  { SYS_signal, 1, fuzz_signal },
  { SYS_sigsend, 1, fuzz_sigsend },
  { SYS_lwp_sigsend, 1, fuzz_lwp_sigsend },
  { SYS_sigprocmask, 1, fuzz_sigprocmask },
  { SYS_sigpending, 1, fuzz_sigpending },
  { SYS_alarm, 1, fuzz_alarm },
  { SYS_sigreturn, 1, fuzz_sigreturn },
  { -1, 1, fuzz_unknown },
};
#define NCALLS (int)(sizeof(call_table) / sizeof(call_table[0]))
static int total_weight;

// One random call.
static void one_call(struct rng *r)
{
  int w = below(r, total_weight);
  const struct call *c = call_table;
  while (w >= c->weight)
    w -= (c++)->weight;
  c->fn(r);
}

// Makes calls until this process's budget (or `budget`) is used up.
static void run(struct rng *r, int budget)
{
  while (budget-- > 0 && __sync_fetch_and_sub(&calls_left, 1) > 0) {
    one_call(r);
    __sync_fetch_and_add(&calls_done, 1);
  }
}

static void lwp_body(void *arg)
{
  struct rng r = { mix((uint64)arg, 77) };
  run(&r, 1 << 30);
  lwp_exit();
}

static void ult_body(void *arg)
{
  struct rng r = { (uint64)arg };
  run(&r, 1 << 30);
}

// ---- one fuzzing process ------------------------------------------------------------------

static void scratch_dir(int i)
{
  char name[16] = "fz/p";
  name[4] = 'a' + i;
  name[5] = 0;
  mkdir(name);
  chdir(name);
}

// The watchdog LWP of a fuzzing process: reports progress to the master,
// ends the process once its calls are made, and ends it too when no call
// has finished for WATCHDOG_TICKS (its LWPs blocked themselves for good).
// Short, because a blocked process only idles: any sleep or futex timeout
// the fuzz asks for is over within two ticks.
#define WATCHDOG_TICKS 20
#define WATCHDOG_CHECK 2

static void watchdog(void *arg)
{
  int last = -1, still = 0;
  for (;;) {
    sleep(WATCHDOG_CHECK);
    if (calls_left <= 0) {
      report(0);
      exit(0);
    }
    still = calls_done == last ? still + WATCHDOG_CHECK : 0;
    last = calls_done;
    if (still >= WATCHDOG_TICKS) {
      report(1);
      exit(0);
    }
    report(0);
  }
}

// Generation gen of slot i. Every third slot runs user threads instead of
// bare LWPs, with scheduler-activation upcalls on in odd generations.
static void fuzz_process(uint64 seed, int i, int gen, int calls)
{
  for (int fd = 0; fd < REPORT_FD; fd++)
    close(fd);
  scratch_dir(i);
  slot_index = i;
  calls_left = calls;
  is_ult_proc = i % 3 == 2;
  if (lwp_create(watchdog, 0, watchdog_stack + STACK_SIZE) < 0)
    exit(1);
  for (int k = 0; k < STACKS; k++)
    stacks[k] = malloc(STACK_SIZE);
  // Last of the heap for bare LWPs, so the break is the end of the scratch
  // (the thread library allocates later: its processes never use the break).
  scratch = sbrk(SCRATCH);
  if (scratch == (char *)-1)
    exit(1);
  memset(scratch, 0, SCRATCH);
  memset(scratch + SCRATCH - 64, 'a', 64);
  struct rng r = { mix(seed, i) };
  if (is_ult_proc) {
    if (uthread_init(lwps_per_proc) < 0 || (gen % 2 == 1 && uthread_upcalls(1) < 0))
      exit(1);
    for (int k = 1; k < lwps_per_proc * 2; k++)
      uthread_create(ult_body, (void *)mix(mix(seed, i), k), 0);
  }
  for (int k = 1; k < lwps_per_proc && !is_ult_proc; k++) {
    int s = __sync_fetch_and_add(&stacks_used, 1);
    lwp_create(lwp_body, (void *)mix(mix(seed, i), k), stacks[s] + STACK_SIZE);
  }
  run(&r, 1 << 30);
  for (;;)
    sleep(100);                   // the watchdog ends the process
}

// ---- the master -----------------------------------------------------------------------------

static int master_pid;

// Kills every process started after the master (orphans of the fuzzers);
// returns how many are left, zombies included.
static int kill_younger(void)
{
  static struct procinfo pi[64];
  int n = procinfo(pi, 64), left = 0;
  for (int i = 0; i < n; i++) {
    if (pi[i].pid > master_pid) {
      kill(pi[i].pid);
      left++;
    }
  }
  return left;
}

// Removes a scratch tree (names from the fixed set, nothing deeper).
static void remove_tree(char *path, int depth)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return;
  if (st.type == T_DIR && depth < 4) {
    int fd = open(path, O_RDONLY);
    struct dirent de;
    int len = strlen(path);
    while (fd >= 0 && read(fd, &de, sizeof(de)) == sizeof(de)) {
      if (de.inum == 0 || strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
        continue;
      if (len + 2 + DIRSIZ >= 64)
        continue;
      path[len] = '/';
      memmove(path + len + 1, de.name, DIRSIZ);
      path[len + 1 + DIRSIZ] = 0;
      remove_tree(path, depth + 1);
      path[len] = 0;
    }
    if (fd >= 0)
      close(fd);
  }
  unlink(path);
}

struct pass_result { int calls, watchdog_kills, processes, rejected; };

// A pipe whose write end is REPORT_FD (where a fuzzing process reports);
// returns the read end.
static int report_pipe(void)
{
  int p[2], extra[NOFILE], n = 0, fd;
  for (int tries = 0; pipe(p) < 0; tries++) {   // the file table may be full for a while
    if (tries == 100) {
      printf("fuzz: no pipe\n");
      exit(1);
    }
    sleep(10);
  }
  while ((fd = dup(p[1])) >= 0 && fd != REPORT_FD)
    extra[n++] = fd;
  while (n > 0)
    close(extra[--n]);
  close(p[1]);
  return p[0];
}

// The reports of fuzzing process pid, generation gen of slot i, asked for
// `asked` calls: returns the calls its good frames vouch for. A bad frame
// is quoted, ends the process and counts as rejected.
static int collect(int rd, int i, int gen, int pid, int asked, struct pass_result *res)
{
  struct frame f;
  int calls = 0;
  for (uint32 seq = 0; frame_read(rd, &f) == sizeof(f); seq++) {
    const char *why = frame_fault(&f, seq);
    if (!why && f.v[0] < calls)
      why = "its count went backwards";
    if (!why && f.v[0] > asked)
      why = "more calls than it was asked for";
    if (why) {
      printf("fuzz: slot %d generation %d: rejected report %d of pid %d (%s): "
             "%x %x %x %x %x %x %x, %d calls counted\n", i, gen, seq, pid, why, f.magic, f.seq,
             f.v[0], f.v[1], f.v[2], f.v[3], f.sum, calls);
      kill(pid);
      res->rejected++;
      break;
    }
    calls = f.v[0];
    res->watchdog_kills += f.v[1] != 0;
  }
  return calls;
}

// Keeps fuzzing process number i going: when one ends (killed, exited,
// exec'd, or ended by its watchdog) before `budget` calls were made, the
// next generation starts with a seed of its own. A fork that fails (the
// process table full of grandchildren for a moment) is tried again a tick
// later. Sends the result to `out`; says so if it gives up.
#define MAX_GENERATIONS 2000
#define MAX_FORK_FAILS 1000
static void slot(uint64 seed, int i, int budget, int out)
{
  struct pass_result res = { 0, 0, 0, 0 };
  int gen = 0, fails = 0, forging = forge;
  while (res.calls < budget && gen < MAX_GENERATIONS && fails < MAX_FORK_FAILS) {
    int rd = report_pipe();
    forge = forging && res.rejected == 0;
    int pid = fork();
    if (pid == 0)
      fuzz_process(gen ? mix(seed, gen) : seed, i, gen, budget - res.calls);
    close(REPORT_FD);
    if (pid < 0) {
      close(rd);
      fails++;
      sleep(1);
      continue;
    }
    res.processes++;
    res.calls += collect(rd, i, gen, pid, budget - res.calls, &res);
    gen++;
    close(rd);
    while (wait(0) >= 0)
      ;
  }
  if (res.calls < budget)
    printf("fuzz: slot %d gave up after %d generations and %d failed forks: %d of %d calls\n",
           i, gen, fails, res.calls, budget);
  struct frame f;
  frame_make(&f, i, res.calls, res.watchdog_kills, res.processes, res.rejected);
  if (write(out, &f, sizeof(f)) != sizeof(f))
    printf("fuzz: slot %d could not report\n", i);
  exit(0);
}

static int harness_failed;

// The calls slot i of nprocs makes in a pass of `calls`.
static int slot_share(int calls, int nprocs, int i)
{
  return calls / nprocs + (i < calls % nprocs);
}

// A figure only a harness bug (or a kernel that corrupts memory) can give.
static void harness_failure(const char *what, const struct frame *f)
{
  printf("fuzz: HARNESS: %s: %x %x %x %x %x %x %x\n", what, f->magic, f->seq, f->v[0], f->v[1],
         f->v[2], f->v[3], f->sum);
  harness_failed = 1;
}

// Adds slot frame f to the pass's tally, if it is whole and possible: the
// slot (seq) reports once, within its share of the calls.
static void tally(struct pass_result *res, const struct frame *f, int calls, int nprocs,
                  int *seen)
{
  const char *fault = frame_fault(f, f->seq);
  if (fault)
    harness_failure(fault, f);
  else if (f->seq >= (uint32)nprocs || seen[f->seq])
    harness_failure("no such slot, or one that reported twice", f);
  else if (f->v[0] < 0 || f->v[0] > slot_share(calls, nprocs, f->seq))
    harness_failure("a slot made more calls than its share", f);
  else if (f->v[1] < 0 || f->v[3] < 0 || f->v[1] + f->v[3] > f->v[2])
    harness_failure("more watchdog kills and rejected reports than processes", f);
  else {
    seen[f->seq] = 1;
    res->calls += f->v[0];
    res->watchdog_kills += f->v[1];
    res->processes += f->v[2];
    res->rejected += f->v[3];
  }
}

static struct pass_result pass(uint64 seed, int calls, int nprocs)
{
  struct pass_result res = { 0, 0, 0, 0 };
  struct frame f;
  int p[2], seen[MAXPROCS] = { 0 };
  mkdir("fz");
  if (pipe(p) < 0) {
    printf("fuzz: no pipe\n");
    exit(1);
  }
  for (int i = 0; i < nprocs; i++) {
    int pid;
    for (int tries = 0; (pid = fork()) < 0 && tries < 100; tries++)
      sleep(1);
    if (pid == 0) {
      close(p[0]);
      slot(seed, i, slot_share(calls, nprocs, i), p[1]);
    }
    if (pid < 0)
      printf("fuzz: no process for slot %d\n", i);
  }
  close(p[1]);
  int reported = 0, n;
  while ((n = frame_read(p[0], &f)) == sizeof(f)) {
    tally(&res, &f, calls, nprocs, seen);
    reported++;
  }
  close(p[0]);
  int st;
  for (int pid; (pid = wait(&st)) >= 0;)
    if (st != 0)
      printf("fuzz: slot pid %d ended with status %d\n", pid, st);
  if (reported != nprocs)
    printf("fuzz: %d of %d slots reported (last read %d)\n", reported, nprocs, n);
  // Orphans of the fuzzers (re-parented to init) may still run or block.
  for (int tries = 0; kill_younger() > 0; tries++)
    sleep(tries < 10 ? 1 : 10);
  kdebug(KD_FAIL_ALLOC, 0);             // an injected failure not yet reached
  profile(PROF_STOP, 0, 0);
  static char path[64];
  strcpy(path, "fz");
  remove_tree(path, 0);
  return res;
}

int main(int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "-exit") == 0)
    exit(0);
  if (argc >= 2 && strcmp(argv[1], "-forge") == 0) {
    forge = 1;
    argc--;
    argv++;
  }
  if (argc < 3) {
    fprintf(2, "usage: fuzz [-forge] SEED CALLS [PROCS [LWPS]]\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]);
  int calls = atoi(argv[2]);
  int nprocs = argc > 3 ? atoi(argv[3]) : 4;
  lwps_per_proc = argc > 4 ? atoi(argv[4]) : 3;
  if (nprocs < 1 || nprocs > MAXPROCS || lwps_per_proc < 1 || lwps_per_proc > MAXLWPS ||
      calls < 0) {
    fprintf(2, "fuzz: PROCS 1..%d, LWPS 1..%d\n", MAXPROCS, MAXLWPS);
    exit(1);
  }
  master_pid = getpid();
  for (int i = 0; i < NCALLS; i++)
    total_weight += call_table[i].weight;
  int pages[3], threads[3];
  test_kernel_settle(&pages[0], &threads[0]);
  int total = 0, leak = 0;
  for (int round = 1; round <= 2; round++) {
    int t0 = uptime();
    struct pass_result res = pass(seed, calls, nprocs);
    int ticks = uptime() - t0;
    test_kernel_settle(&pages[round], &threads[round]);
    total += res.calls;
    printf("fuzz: pass %d seed %d: %d calls, %d procs x %d lwps, %d processes, "
           "%d killed by the watchdog, %d reports rejected, %d ticks, free pages %d, "
           "live threads %d\n", round, (int)seed, res.calls, nprocs, lwps_per_proc,
           res.processes, res.watchdog_kills, res.rejected, ticks, pages[round], threads[round]);
  }
  if (pages[2] != pages[1] || threads[2] != threads[1] || threads[2] != threads[0])
    leak = 1;
  printf("fuzz: %d calls; free pages %d -> %d -> %d, live threads %d -> %d -> %d\n", total,
         pages[0], pages[1], pages[2], threads[0], threads[1], threads[2]);
  printf(leak ? "fuzz: LEAK\n" : "fuzz: OK\n");
  exit(harness_failed ? 2 : leak);
}
