// usertests: the kernel's regression suite, run from the shell.
//   usertests            run every test
//   usertests NAME...    run the named tests
//   usertests -l         list the test names, one per line
// Each test runs in its own forked child, guarded by a watchdog process that
// kills it after TEST_TIMEOUT ticks. For each test one line is printed,
// `test NAME: OK` or `test NAME: FAILED`, and at the end `ALL TESTS PASSED`
// or `SOME TESTS FAILED`. A failing test explains itself on the lines above.
//
// Kernel behaviour relied on: a process killed by the kernel (bad access,
// illegal instruction) or by kill() is reaped by wait() with a non-zero
// status (-1 expected); sbrk allocates eagerly and returns (char *)-1 when
// memory runs out; system calls given bad arguments return -1.
#include "user/user.h"
#include "uapi/fs.h"          // BSIZE, MAXFILE, NINODES, struct dirent
#include "uapi/kdebug.h"      // KD_FREE_PAGES, KD_CACHED_PAGES
#include "uapi/trace.h"       // TRACE_START, struct trace_rec

#define TEST_TIMEOUT   3000           // ticks a test may take before it is killed
#define PAGE           4096
#define SURVIVED       55             // exit status of a child that should have died
#define EXEC_FAILED    77             // exit status of a child whose exec returned -1
#define KERNEL_ADDR    ((void *)0x80200000UL)
#define UNMAPPED_ADDR  ((void *)0x7ff00000UL)
#define NOFILE_GUESS   32             // per-process open files (kernel NOFILE)
#define MAXARG_GUESS   32             // exec arguments (kernel MAXARG)

static const char *current_test = "?";
static void lwp_spin(void *arg);
static void *new_lwp_stack(void);

// Reports why the current test failed and ends its process.
static void fail(int line, const char *what)
{
  fprintf(2, "  %s: line %d: %s\n", current_test, line, what);
  exit(1);
}

#define CHECK(cond, what) do { if (!(cond)) fail(__LINE__, what); } while (0)

// ---- helpers -------------------------------------------------------------------

// Forks; the child runs fn and exits with its return value.
static int spawn(int (*fn)(void *), void *arg)
{
  int pid = fork();
  if (pid == 0)
    exit(fn(arg));
  return pid;
}

// Waits for pid in particular; returns its exit status (other children are
// reaped on the way). Fails the test if pid never comes back.
static int wait_for(int pid)
{
  for (;;) {
    int status = -12345;
    int r = wait(&status);
    CHECK(r >= 0, "wait returned -1 before the expected child exited");
    if (r == pid)
      return status;
  }
}

// Byte `pos` of the test pattern: varies with the position so that lost,
// repeated or reordered bytes are noticed.
static uchar pattern_byte(uint64 pos, int seed)
{
  return (uchar)((pos * 131) ^ (pos >> 8) ^ (pos >> 16) ^ seed);
}

static void fill_pattern(uchar *buf, int n, uint64 pos, int seed)
{
  for (int i = 0; i < n; i++)
    buf[i] = pattern_byte(pos + i, seed);
}

static int check_pattern(const uchar *buf, int n, uint64 pos, int seed)
{
  for (int i = 0; i < n; i++) {
    if (buf[i] != pattern_byte(pos + i, seed))
      return 0;
  }
  return 1;
}

// Creates (or truncates) path with n bytes of pattern `seed`.
static void make_file(const char *path, int n, int seed)
{
  static uchar buf[512];
  int fd = open(path, O_CREATE | O_TRUNC | O_RDWR);
  CHECK(fd >= 0, "cannot create a file");
  for (int done = 0; done < n;) {
    int chunk = n - done < (int)sizeof(buf) ? n - done : (int)sizeof(buf);
    fill_pattern(buf, chunk, done, seed);
    CHECK(write(fd, buf, chunk) == chunk, "write to a new file failed");
    done += chunk;
  }
  close(fd);
}

// Runs fn in a child and expects the kernel to kill it; `line` is the
// caller's, for the failure report.
static void expect_killed_at(int line, int (*fn)(void *), void *arg, const char *what)
{
  int pid = spawn(fn, arg);
  CHECK(pid > 0, "fork failed");
  int status = wait_for(pid);
  if (status == 0 || status == SURVIVED)
    fail(line, what);
}

// Runs fn in a child, expecting it to exit with `want`.
static void expect_exit_at(int line, int (*fn)(void *), void *arg, int want, const char *what)
{
  int pid = spawn(fn, arg);
  CHECK(pid > 0, "fork failed");
  if (wait_for(pid) != want)
    fail(line, what);
}

#define expect_killed(...) expect_killed_at(__LINE__, __VA_ARGS__)
#define expect_exit(...)   expect_exit_at(__LINE__, __VA_ARGS__)

// ---- processes ------------------------------------------------------------------

static void test_exitwait(void)
{
  for (int i = 0; i < 20; i++) {
    int pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0)
      exit(i);
    int status = -1;
    CHECK(wait(&status) == pid, "wait did not return the child's pid");
    CHECK(status == i, "wait gave the wrong exit status");
  }
  int pids[5];
  for (int i = 0; i < 5; i++) {
    pids[i] = fork();
    CHECK(pids[i] >= 0, "fork failed");
    if (pids[i] == 0)
      exit(100 + i);
  }
  for (int n = 0; n < 5; n++) {
    int status = -1, pid = wait(&status);
    int found = 0;
    for (int i = 0; i < 5; i++) {
      if (pids[i] == pid) {
        CHECK(status == 100 + i, "exit status mixed up between children");
        pids[i] = -1;
        found = 1;
      }
    }
    CHECK(found, "wait returned an unknown pid");
  }
  int pid = fork();
  if (pid == 0)
    exit(3);
  CHECK(wait(0) == pid, "wait(0) did not reap the child");
  CHECK(wait(0) == -1, "wait without children did not return -1");
}

static void test_fork(void)
{
  int parent = getpid();
  static int shared_value = 1;
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    if (getpid() == parent || shared_value != 1)
      exit(1);
    shared_value = 2;            // the parent's copy must not change
    exit(0);
  }
  CHECK(pid != parent, "child has the parent's pid");
  CHECK(wait_for(pid) == 0, "child saw a wrong pid or memory");
  CHECK(shared_value == 1, "child's write reached the parent's memory");
}

static void test_exec(void)
{
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    char *argv[] = { "echo", "hello", "exec", 0 };
    close(1);
    if (open("exec.out", O_CREATE | O_TRUNC | O_WRONLY) != 1)
      exit(2);
    exec("echo", argv);
    exit(EXEC_FAILED);
  }
  CHECK(wait_for(pid) == 0, "exec of echo failed or echo did not exit 0");
  char buf[64];
  int fd = open("exec.out", O_RDONLY);
  CHECK(fd >= 0, "exec.out missing");
  int n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  CHECK(n == 11 && memcmp(buf, "hello exec\n", 11) == 0, "echo wrote the wrong text");

  // main's return value becomes the exit status: grep returns 1 on no match
  for (int want = 0; want <= 1; want++) {
    pid = fork();
    if (pid == 0) {
      char *argv[] = { "grep", want ? "zzqqzz" : "hel*o", "exec.out", 0 };
      close(1);
      open("exec.out2", O_CREATE | O_TRUNC | O_WRONLY);
      exec("grep", argv);
      exit(EXEC_FAILED);
    }
    CHECK(wait_for(pid) == want, "exit status of an exec'd program is wrong");
  }
  unlink("exec.out");
  unlink("exec.out2");
}

static int spin_forever(void *arg)
{
  volatile int n = 0;
  for (;;)
    n++;
  return SURVIVED;
}

static void test_killspin(void)
{
  for (int i = 0; i < 10; i++) {
    int pid = spawn(spin_forever, 0);
    CHECK(pid > 0, "fork failed");
    if (i % 2)
      sleep(1);
    CHECK(kill(pid) == 0, "kill of a live child failed");
    CHECK(wait_for(pid) != SURVIVED, "killed child exited normally");
    CHECK(kill(pid) == -1, "kill of a reaped pid did not fail");
  }
  CHECK(kill(-1) == -1, "kill(-1) did not fail");
  CHECK(kill(100000) == -1, "kill of a nonexistent pid did not fail");
}

static int read_one_byte(void *arg)
{
  int *p = arg;
  char c;
  close(p[1]);
  read(p[0], &c, 1);
  return SURVIVED;
}

static int sleep_long(void *arg)
{
  sleep(100000);
  return SURVIVED;
}

static void test_killblocked(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe failed");
  int pid = spawn(read_one_byte, p);
  CHECK(pid > 0, "fork failed");
  sleep(5);                      // let it block in read
  CHECK(kill(pid) == 0, "kill failed");
  CHECK(wait_for(pid) != SURVIVED, "child blocked in pipe read survived kill");
  close(p[0]);
  close(p[1]);

  pid = spawn(sleep_long, 0);
  CHECK(pid > 0, "fork failed");
  sleep(5);
  int t0 = uptime();
  CHECK(kill(pid) == 0, "kill failed");
  CHECK(wait_for(pid) != SURVIVED, "sleeping child survived kill");
  CHECK(uptime() - t0 < 300, "kill did not end the sleep promptly");
}

// wait() reports a process ended by kill() with status -1, whatever it was
// doing (docs/decisions.md), so a parent can tell it from exit(0).
static int lwps_then_spin(void *arg)
{
  static volatile int running[2];
  for (int i = 0; i < 2; i++)
    if (lwp_create(lwp_spin, (void *)&running[i], new_lwp_stack()) < 0)
      return 1;
  return spin_forever(arg);
}

static int exit_zero_later(void *arg)
{
  sleep(100000);
  return 0;
}

static void test_killstatus(void)
{
  int (*fns[])(void *) = { spin_forever, sleep_long, exit_zero_later, lwps_then_spin };
  for (int i = 0; i < 4 * 4; i++) {
    int pid = spawn(fns[i % 4], 0);
    CHECK(pid > 0, "fork failed");
    if (i >= 4)
      sleep(i / 4);              // first round: killed before it ever ran
    CHECK(kill(pid) == 0, "kill failed");
    int status = wait_for(pid);
    if (status != -1) {
      printf("  killstatus: case %d: status %d\n", i, status);
      CHECK(0, "a killed process was not reported with status -1");
    }
  }
  // Against exit(0): a kill() that returned 0 wins; one that came too late fails.
  for (int i = 0; i < 200; i++) {
    int pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0)
      exit(0);
    for (volatile int d = 0; d < (i % 20) * 500; d++)
      ;
    int k = kill(pid);
    int status = wait_for(pid);
    if (status != (k == 0 ? -1 : 0)) {
      printf("  killstatus: kill returned %d, status %d\n", k, status);
      CHECK(0, "the status does not say whether kill() reached the process");
    }
  }
}

static void test_sleep(void)
{
  int t0 = uptime();
  CHECK(sleep(10) == 0, "sleep failed");
  int t1 = uptime();
  CHECK(t1 - t0 >= 9, "sleep(10) returned too early");
  CHECK(t1 - t0 < 200, "sleep(10) took far too long");
  CHECK(sleep(0) == 0, "sleep(0) failed");
}

// Forks until the process table is full: fork must fail cleanly with -1;
// then every child is reaped and fork works again.
static void test_forkfull(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe failed");
  int n = 0;
  for (; n < 1000; n++) {
    int pid = fork();
    if (pid < 0)
      break;
    if (pid == 0) {
      char c;
      close(p[1]);
      read(p[0], &c, 1);         // wait until the parent lets go
      exit(0);
    }
  }
  close(p[0]);
  close(p[1]);                   // every child sees end of file and exits
  CHECK(n < 1000, "fork never failed");
  CHECK(n >= 8, "could not fork even 8 processes");
  for (int i = 0; i < n; i++)
    CHECK(wait(0) > 0, "a child went missing");
  CHECK(wait(0) == -1, "more children than were forked");
  int pid = fork();
  if (pid == 0)
    exit(0);
  CHECK(pid > 0, "fork failed after the table was freed");
  CHECK(wait_for(pid) == 0, "child status");
}

// ---- memory ---------------------------------------------------------------------

static void test_sbrk(void)
{
  char *start = sbrk(0);
  CHECK(sbrk(10000) == start, "sbrk did not return the old break");
  CHECK(sbrk(0) == start + 10000, "break did not move");
  for (int i = 0; i < 10000; i++)
    CHECK(start[i] == 0, "new memory is not zeroed");
  memset(start, 0xab, 10000);
  CHECK(sbrk(-10000) == start + 10000, "shrinking sbrk returned the wrong break");
  CHECK(sbrk(0) == start, "break did not come back");

  // grow 1 MiB in steps, touch it all, give it back
  char *base = sbrk(0);
  for (int i = 0; i < 64; i++)
    CHECK(sbrk(16384) != (char *)-1, "sbrk of 16 KiB failed");
  CHECK(sbrk(0) == base + (1 << 20), "break is not 1 MiB higher");
  for (int off = 0; off < (1 << 20); off += 512)
    base[off] = (char)off;
  for (int off = 0; off < (1 << 20); off += 512)
    CHECK(base[off] == (char)off, "grown memory lost a write");
  CHECK(sbrk(-(1 << 20)) != (char *)-1, "shrinking by 1 MiB failed");
  CHECK(sbrk(0) == base, "break wrong after shrinking");

  // regrown whole pages come back zeroed
  char *again = sbrk(8 * PAGE);
  char *page = (char *)(((uint64)again + PAGE - 1) & ~(uint64)(PAGE - 1));
  for (int i = 0; i < 4 * PAGE; i++)
    CHECK(page[i] == 0, "regrown page is not zeroed");
  sbrk(-8 * PAGE);
}

static int touch_after_shrink(void *arg)
{
  char *old = sbrk(8 * PAGE);
  if (old == (char *)-1)
    return 2;
  char *inside = (char *)(((uint64)old + PAGE - 1) & ~(uint64)(PAGE - 1)) + PAGE;
  inside[0] = 1;                 // mapped now
  sbrk(-8 * PAGE);
  inside[0] = 2;                 // no longer mapped: the kernel must kill us
  return SURVIVED;
}

static void test_sbrkfault(void)
{
  expect_killed(touch_after_shrink, 0, "touching memory given back to sbrk did not kill");
}

// Grows the heap 1 MiB at a time until sbrk fails; exits with the MiB count.
static int eat_memory(void *arg)
{
  int mib = 0;
  for (; mib < 1024; mib++) {
    char *p = sbrk(1 << 20);
    if (p == (char *)-1)
      break;
    for (int off = 0; off < (1 << 20); off += PAGE)
      p[off] = 1;
  }
  return mib;
}

static void test_outofmem(void)
{
  int free_before = kdebug(KD_FREE_PAGES, 0);
  int first = spawn(eat_memory, 0);
  CHECK(first > 0, "fork failed");
  int got1 = wait_for(first);
  CHECK(got1 >= 8 && got1 < 1024, "sbrk never failed, or failed far too early");
  int second = spawn(eat_memory, 0);
  CHECK(second > 0, "fork failed after running out of memory");
  int got2 = wait_for(second);
  CHECK(got2 + 1 >= got1, "memory was not returned after the first child");
  if (free_before > 0) {
    sleep(5);                    // let the reaper free the dead threads
    int free_after = kdebug(KD_FREE_PAGES, 0);
    CHECK(free_after + 64 >= free_before, "free pages did not come back");
  }
}

static int store_to_kernel(void *arg)
{
  *(volatile int *)KERNEL_ADDR = 1;
  return SURVIVED;
}

static int load_from_null(void *arg)
{
  volatile int *volatile null_ptr = 0;   // hidden from the optimizer
  return *null_ptr == 12345 ? SURVIVED : SURVIVED + 1;
}

static int load_unmapped(void *arg)
{
  return *(volatile int *)UNMAPPED_ADDR == 12345 ? SURVIVED : SURVIVED + 1;
}

static int illegal_instruction(void *arg)
{
  asm volatile(".word 0");       // all-zero is defined to be illegal
  return SURVIVED;
}

static int jump_to_kernel(void *arg)
{
  void (*fn)(void) = (void (*)(void))KERNEL_ADDR;
  fn();
  return SURVIVED;
}

static void test_badmem(void)
{
  expect_killed(store_to_kernel, 0, "store to a kernel address did not kill");
  expect_killed(load_from_null, 0, "load from NULL did not kill");
  expect_killed(load_unmapped, 0, "load from an unmapped address did not kill");
  expect_killed(illegal_instruction, 0, "illegal instruction did not kill");
  expect_killed(jump_to_kernel, 0, "jump into the kernel did not kill");
}

static int recurse_deeply(int depth)
{
  volatile char frame[512];
  frame[0] = (char)depth;
  if (depth > 10000000)
    return frame[0];
  return recurse_deeply(depth + 1) + frame[0];
}

static int overflow_stack(void *arg)
{
  recurse_deeply(0);
  return SURVIVED;
}

static void test_stackguard(void)
{
  expect_killed(overflow_stack, 0, "stack overflow into the guard page did not kill");
}

// ---- pipes ----------------------------------------------------------------------

#define PIPE_TOTAL (1 << 20)

// Writes PIPE_TOTAL pattern bytes to fd in chunks of varying sizes.
static int pipe_send(int fd, int seed)
{
  static uchar buf[3001];
  uint64 pos = 0;
  for (int k = 0; pos < PIPE_TOTAL; k++) {
    int chunk = (k * 977) % 3000 + 1;
    if (chunk > PIPE_TOTAL - (int)pos)
      chunk = PIPE_TOTAL - pos;
    fill_pattern(buf, chunk, pos, seed);
    if (write(fd, buf, chunk) != chunk)
      return -1;
    pos += chunk;
  }
  return 0;
}

// Reads until end of file, checking every byte and a checksum. 0 if right.
static int pipe_receive(int fd, int seed)
{
  static uchar buf[2048];
  uint64 pos = 0, sum = 0, want_sum = 0;
  int n;
  for (int k = 0; (n = read(fd, buf, (k * 611) % 2048 + 1)) > 0; k++) {
    if (pos + n > PIPE_TOTAL || !check_pattern(buf, n, pos, seed))
      return -1;
    for (int i = 0; i < n; i++)
      sum = sum * 31 + buf[i];
    pos += n;
  }
  for (uint64 i = 0; i < PIPE_TOTAL; i++)
    want_sum = want_sum * 31 + pattern_byte(i, seed);
  return (n == 0 && pos == PIPE_TOTAL && sum == want_sum) ? 0 : -1;
}

static void test_pipe(void)
{
  int p[2];
  char buf[16];
  CHECK(pipe(p) == 0, "pipe failed");
  CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1], "pipe gave odd fds");
  CHECK(write(p[1], "hello", 5) == 5, "write to pipe failed");
  CHECK(read(p[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0,
        "read from pipe gave the wrong data");
  CHECK(close(p[1]) == 0, "close of write end failed");
  CHECK(read(p[0], buf, sizeof(buf)) == 0, "no end of file after the writer closed");
  close(p[0]);

  CHECK(pipe(p) == 0, "pipe failed");
  close(p[0]);
  CHECK(write(p[1], "x", 1) <= 0, "write with no reader succeeded");
  close(p[1]);
}

static void test_pipeup(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe failed");
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    close(p[0]);
    exit(pipe_send(p[1], 7) == 0 ? 0 : 1);
  }
  close(p[1]);
  CHECK(pipe_receive(p[0], 7) == 0, "data from the child arrived damaged");
  close(p[0]);
  CHECK(wait_for(pid) == 0, "child could not write");
}

static void test_pipedown(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe failed");
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    close(p[1]);
    exit(pipe_receive(p[0], 9) == 0 ? 0 : 1);
  }
  close(p[0]);
  CHECK(pipe_send(p[1], 9) == 0, "write to the child failed");
  close(p[1]);
  CHECK(wait_for(pid) == 0, "data to the child arrived damaged");
}

// ---- files ----------------------------------------------------------------------

static void test_files(void)
{
  static uchar buf[1000];
  make_file("ft.file", 1000, 3);
  int fd = open("ft.file", O_RDONLY);
  CHECK(fd >= 0, "cannot reopen the file");
  struct stat st;
  CHECK(fstat(fd, &st) == 0, "fstat failed");
  CHECK(st.type == T_FILE && st.size == 1000 && st.nlink == 1, "fstat reports wrong values");
  int got = 0, n;
  while ((n = read(fd, buf + got, got + 37 <= 1000 ? 37 : 1000 - got)) > 0)
    got += n;
  CHECK(n == 0 && got == 1000, "read back the wrong amount");
  CHECK(check_pattern(buf, 1000, 0, 3), "read back the wrong data");
  CHECK(write(fd, "x", 1) == -1, "write to a read-only fd succeeded");
  close(fd);

  fd = open("ft.file", O_WRONLY);
  CHECK(fd >= 0, "open for writing failed");
  CHECK(read(fd, buf, 10) == -1, "read from a write-only fd succeeded");
  CHECK(write(fd, "abc", 3) == 3, "overwrite failed");
  close(fd);
  CHECK(stat("ft.file", &st) == 0 && st.size == 1000, "overwrite changed the size");

  fd = open("ft.file", O_RDWR | O_TRUNC);
  CHECK(fd >= 0, "open with O_TRUNC failed");
  CHECK(fstat(fd, &st) == 0 && st.size == 0, "O_TRUNC did not empty the file");
  close(fd);
  CHECK(unlink("ft.file") == 0, "unlink failed");
  CHECK(open("ft.file", O_RDONLY) == -1, "unlinked file can still be opened");
  CHECK(unlink("ft.file") == -1, "second unlink succeeded");
}

static void test_dup(void)
{
  int fd = open("dup.file", O_CREATE | O_TRUNC | O_RDWR);
  CHECK(fd >= 0, "create failed");
  int fd2 = dup(fd);
  CHECK(fd2 >= 0 && fd2 != fd, "dup failed");
  CHECK(write(fd, "ab", 2) == 2 && write(fd2, "cd", 2) == 2, "writes failed");
  close(fd);
  int pid = fork();
  if (pid == 0)
    exit(write(fd2, "ef", 2) == 2 ? 0 : 1);   // the child shares the offset
  CHECK(wait_for(pid) == 0, "child write failed");
  CHECK(write(fd2, "gh", 2) == 2, "write after close of the original failed");
  close(fd2);
  char buf[16];
  fd = open("dup.file", O_RDONLY);
  CHECK(read(fd, buf, sizeof(buf)) == 8 && memcmp(buf, "abcdefgh", 8) == 0,
        "dup'd and inherited fds do not share one offset");
  close(fd);
  unlink("dup.file");
}

static void test_link(void)
{
  make_file("lk.one", 300, 5);
  CHECK(link("lk.one", "lk.two") == 0, "link failed");
  struct stat st;
  CHECK(stat("lk.two", &st) == 0 && st.nlink == 2, "nlink is not 2");
  CHECK(link("lk.one", "lk.two") == -1, "link over an existing name succeeded");
  CHECK(link("lk.none", "lk.three") == -1, "link of a missing file succeeded");
  CHECK(unlink("lk.one") == 0, "unlink of the first name failed");
  CHECK(open("lk.one", O_RDONLY) == -1, "unlinked name still opens");
  uchar buf[300];
  int fd = open("lk.two", O_RDONLY);
  CHECK(fd >= 0, "second name is gone too");
  CHECK(read(fd, buf, 300) == 300 && check_pattern(buf, 300, 0, 5), "data lost");
  CHECK(fstat(fd, &st) == 0 && st.nlink == 1, "nlink is not back to 1");
  close(fd);
  CHECK(unlink("lk.two") == 0, "unlink failed");
}

static void test_unlinkopen(void)
{
  make_file("uo.file", 2000, 8);
  int fd = open("uo.file", O_RDWR);
  CHECK(fd >= 0, "open failed");
  CHECK(unlink("uo.file") == 0, "unlink of an open file failed");
  CHECK(open("uo.file", O_RDONLY) == -1, "unlinked name still opens");
  static uchar buf[2000];
  CHECK(read(fd, buf, 2000) == 2000 && check_pattern(buf, 2000, 0, 8),
        "the open file lost its data");
  CHECK(write(fd, "more", 4) == 4, "write to the unlinked open file failed");
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.nlink == 0 && st.size == 2004, "fstat wrong after unlink");
  close(fd);
  // its name is free for reuse
  fd = open("uo.file", O_CREATE | O_RDWR);
  CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.size == 0, "recreated file is not empty");
  close(fd);
  unlink("uo.file");
}

static void test_dirs(void)
{
  struct stat st, root;
  CHECK(mkdir("dt") == 0, "mkdir failed");
  CHECK(mkdir("dt") == -1, "mkdir of an existing name succeeded");
  CHECK(mkdir("dt/sub") == 0, "nested mkdir failed");
  CHECK(stat("dt", &st) == 0 && st.type == T_DIR, "not a directory");
  CHECK(chdir("dt/sub") == 0, "chdir failed");
  make_file("f", 100, 1);
  CHECK(stat("../../dt/sub/f", &st) == 0 && st.size == 100, "relative path with .. failed");
  CHECK(chdir("..") == 0, "chdir .. failed");
  CHECK(stat("sub/f", &st) == 0, "relative path failed");
  CHECK(chdir("/") == 0, "chdir / failed");
  CHECK(stat("/dt/sub/f", &st) == 0, "absolute path failed");
  CHECK(open("dt", O_WRONLY) == -1 && open("dt", O_RDWR) == -1, "a directory opened for writing");
  CHECK(unlink("dt/sub") == -1, "unlink of a non-empty directory succeeded");
  CHECK(chdir("dt/sub/f") == -1, "chdir to a file succeeded");
  CHECK(unlink("dt/sub/.") == -1 && unlink("dt/sub/..") == -1, "unlink of . or .. succeeded");
  CHECK(link("dt", "dt.link") == -1, "link of a directory succeeded");
  CHECK(unlink("dt/sub/f") == 0, "unlink of the file failed");
  CHECK(unlink("dt/sub") == 0, "unlink of the empty directory failed");
  CHECK(unlink("dt") == 0, "unlink of the top directory failed");
  CHECK(stat("/..", &st) == 0 && stat("/", &root) == 0 && st.ino == root.ino,
        "/.. is not /");
}

// A directory removed while it is some process's cwd stays a directory, but
// its ".." may name an inode that has since been freed or reused: every
// lookup and create in it fails (the fuzzer once found ".." panicking).
static void test_deaddir(void)
{
  struct stat st;
  CHECK(mkdir("dd") == 0 && mkdir("dd/sub") == 0, "mkdir failed");
  CHECK(chdir("dd/sub") == 0, "chdir failed");
  CHECK(unlink("/dd/sub") == 0 && unlink("/dd") == 0, "unlink of the empty directories failed");
  CHECK(open("..", O_RDONLY) == -1 && stat("..", &st) == -1, "lookup of .. in a removed directory succeeded");
  CHECK(open(".", O_RDONLY) == -1, "lookup of . in a removed directory succeeded");
  CHECK(open("f", O_CREATE | O_RDWR) == -1, "file created in a removed directory");
  CHECK(mkdir("d") == -1 && mknod("n", 1, 0) == -1, "entry created in a removed directory");
  CHECK(chdir("..") == -1, "chdir .. out of a removed directory succeeded");
  CHECK(chdir("/") == 0 && stat("/dd", &st) == -1, "chdir / failed");
}

// As many files as the inode table comfortably holds beside the programs.
#define MANY_FILES (NINODES - 50 < 200 ? NINODES - 50 : 200)

static void many_file_name(char *name, int i)
{
  strcpy(name, "mf/f000");
  name[4] = '0' + i / 100;
  name[5] = '0' + (i / 10) % 10;
  name[6] = '0' + i % 10;
}

static void test_manyfiles(void)
{
  char name[16];
  CHECK(mkdir("mf") == 0, "mkdir failed");
  for (int i = 0; i < MANY_FILES; i++) {
    many_file_name(name, i);
    int fd = open(name, O_CREATE | O_RDWR);
    CHECK(fd >= 0, "create failed");
    CHECK(write(fd, &i, sizeof(i)) == sizeof(i), "write failed");
    close(fd);
  }
  for (int i = 0; i < MANY_FILES; i++) {
    many_file_name(name, i);
    int fd = open(name, O_RDONLY), v = -1;
    CHECK(fd >= 0, "a file went missing");
    CHECK(read(fd, &v, sizeof(v)) == sizeof(v) && v == i, "a file has the wrong data");
    close(fd);
  }
  int fd = open("mf", O_RDONLY), entries = 0;
  struct dirent de;
  CHECK(fd >= 0, "cannot open the directory");
  while (read(fd, &de, sizeof(de)) == sizeof(de))
    entries += de.inum != 0;
  close(fd);
  CHECK(entries == MANY_FILES + 2, "directory entry count is wrong");
  for (int i = 0; i < MANY_FILES; i++) {
    many_file_name(name, i);
    CHECK(unlink(name) == 0, "unlink failed");
  }
  CHECK(unlink("mf") == 0, "directory not empty after removing every file");
}

// Grows a file to the largest size the inode can map; writing past it must
// fail or come up short, never crash.
static void test_bigfile(void)
{
  static uchar block[BSIZE * 2];
  const int max_bytes = MAXFILE * BSIZE;
  int fd = open("big.file", O_CREATE | O_TRUNC | O_RDWR);
  CHECK(fd >= 0, "create failed");
  for (int b = 0; b < (int)MAXFILE - 1; b++) {
    fill_pattern(block, BSIZE, (uint64)b * BSIZE, 4);
    CHECK(write(fd, block, BSIZE) == BSIZE, "write below the size limit failed");
  }
  // the last block plus half a block more: at most one block may land
  fill_pattern(block, 2 * BSIZE, (uint64)(MAXFILE - 1) * BSIZE, 4);
  int n = write(fd, block, BSIZE + BSIZE / 2);
  CHECK(n == BSIZE || n == -1, "write across the size limit wrote past it");
  if (n == -1)
    CHECK(write(fd, block, BSIZE) == BSIZE, "write of the last block failed");
  CHECK(write(fd, block, 1) <= 0, "write beyond the size limit succeeded");
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.size == (uint64)max_bytes, "size is not the maximum");
  close(fd);

  fd = open("big.file", O_RDONLY);
  CHECK(fd >= 0, "reopen failed");
  for (int b = 0; b < (int)MAXFILE; b++) {
    CHECK(read(fd, block, BSIZE) == BSIZE, "read back came up short");
    CHECK(check_pattern(block, BSIZE, (uint64)b * BSIZE, 4), "read back wrong data");
  }
  CHECK(read(fd, block, 1) == 0, "data past the end");
  close(fd);
  CHECK(unlink("big.file") == 0, "unlink failed");
}

// ---- bad arguments ------------------------------------------------------------------

static void *const bad_addresses[] = { 0, KERNEL_ADDR, UNMAPPED_ADDR, (void *)-4096L };
#define NBAD (int)(sizeof(bad_addresses) / sizeof(bad_addresses[0]))

static int exec_bad_path(void *arg)
{
  char *argv[] = { "echo", "bad", 0 };
  return exec((const char *)arg, argv) == -1 ? EXEC_FAILED : 0;
}

static int exec_bad_argv(void *arg)
{
  return exec("echo", (char **)arg) == -1 ? EXEC_FAILED : 0;
}

static int exec_bad_arg_string(void *arg)
{
  char *argv[] = { "echo", (char *)arg, 0 };
  return exec("echo", argv) == -1 ? EXEC_FAILED : 0;
}

// Every path-taking call given a bad pointer returns -1.
static void check_bad_path_pointer(const char *bad)
{
  CHECK(open(bad, O_RDONLY) == -1, "open(bad) did not fail");
  CHECK(open(bad, O_CREATE | O_RDWR) == -1, "open(bad, O_CREATE) did not fail");
  CHECK(mkdir(bad) == -1, "mkdir(bad) did not fail");
  CHECK(chdir(bad) == -1, "chdir(bad) did not fail");
  CHECK(unlink(bad) == -1, "unlink(bad) did not fail");
  CHECK(mknod(bad, 1, 0) == -1, "mknod(bad) did not fail");
  CHECK(link(bad, "ba.new") == -1, "link(bad, new) did not fail");
  CHECK(link("ba.file", bad) == -1, "link(old, bad) did not fail");
  expect_exit(exec_bad_path, (void *)bad, EXEC_FAILED, "exec(bad path) did not return -1");
  expect_exit(exec_bad_argv, (void *)bad, EXEC_FAILED, "exec(path, bad argv) did not return -1");
  if (bad != 0)                  // a 0 in argv[1] just ends the list
    expect_exit(exec_bad_arg_string, (void *)bad, EXEC_FAILED,
                "exec with a bad argv[1] did not return -1");
}

// Every buffer-taking call given a bad pointer returns -1.
static void check_bad_buffer(void *bad)
{
  int fd = open("ba.file", O_RDWR);
  CHECK(fd >= 0, "open failed");
  CHECK(read(fd, bad, 64) == -1, "read into a bad buffer did not fail");
  close(fd);
  fd = open("ba.file", O_RDWR);
  CHECK(write(fd, bad, 64) == -1, "write from a bad buffer did not fail");
  CHECK(fstat(fd, bad) == -1, "fstat into a bad buffer did not fail");
  close(fd);
  CHECK(pipe(bad) == -1, "pipe into a bad array did not fail");
  int p[2];
  CHECK(pipe(p) == 0, "pipe failed");
  CHECK(write(p[1], "abcdefgh", 8) == 8, "pipe write failed");
  CHECK(read(p[0], bad, 8) == -1, "pipe read into a bad buffer did not fail");
  close(p[0]);
  close(p[1]);
  CHECK(procinfo(bad, 4) == -1, "procinfo into a bad buffer did not fail");
  if (bad == 0)
    return;                      // wait(0) is fine: it means "status not wanted"
  int pid = fork();
  if (pid == 0)
    exit(0);
  sleep(1);
  CHECK(wait(bad) == -1, "wait with a bad status pointer did not fail");
  wait(0);                       // reap it if the failed wait did not
}

// ---- caches give memory back -------------------------------------------------------

// Pages a fresh child can add with sbrk before memory runs out.
static int sbrk_until_fail(void)
{
  int p[2];
  CHECK(pipe(p) == 0, "pipe failed");
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    int pages = 0;
    for (int chunk = 1024; chunk >= 1; chunk /= 8)
      while (sbrk(chunk * PAGE) != (char *)-1)
        pages += chunk;
    write(p[1], &pages, sizeof(pages));
    exit(0);
  }
  int pages = -1;
  CHECK(read(p[0], &pages, sizeof(pages)) == sizeof(pages), "no count from the sbrk child");
  CHECK(wait_for(pid) == 0, "the sbrk child failed");
  close(p[0]);
  close(p[1]);
  return pages;
}

// n children alive at once, then all reaped: their n threads end together.
static void fork_and_reap(int n)
{
  int p[2];
  char c;
  CHECK(pipe(p) == 0, "pipe failed");
  for (int i = 0; i < n; i++) {
    int pid = fork();
    CHECK(pid >= 0, "fork failed");
    if (pid == 0) {
      close(p[1]);
      exit(read(p[0], &c, 1));   // 0 at end of file: when the parent closes
    }
  }
  close(p[0]);
  close(p[1]);
  for (int i = 0; i < n; i++) {
    int status = -1;
    CHECK(wait(&status) > 0 && status == 0, "child failed");
  }
}

// Memory kept by the death row (kernel stacks of ended threads) comes back
// when an allocation would fail: "allocate everything" finds the same count
// however many threads ended before.
static void test_cachedrain(void)
{
  fork_and_reap(50);
  int first = sbrk_until_fail();
  CHECK(first > 1000, "sbrk found almost no memory");
  for (int round = 0; round < 3; round++) {
    fork_and_reap(50);
    int cached = kdebug(KD_CACHED_PAGES, 0);
    CHECK(cached > 0, "ended threads left no cached stacks");
    int again = sbrk_until_fail();
    CHECK(kdebug(KD_CACHED_PAGES, 0) < cached, "running out of memory did not drain the cache");
    if (again != first) {
      printf("  cachedrain: %d pages at first, %d after reaping children\n", first, again);
      CHECK(0, "memory held by a cache was not given back");
    }
  }
}

static void test_badaddr(void)
{
  make_file("ba.file", 200, 2);
  for (int i = 0; i < NBAD; i++) {
    check_bad_path_pointer(bad_addresses[i]);
    check_bad_buffer(bad_addresses[i]);
  }
  unlink("ba.file");
  struct stat st;
  CHECK(stat("ba.new", &st) == -1, "a bad link call created a file");
}

// ---- no data lost on bad buffers --------------------------------------------------
// A call that takes data out of a kernel object and meets a bad user buffer
// moves nothing it could not deliver: it returns -1 with the data still
// there, or the count delivered before the bad page; a good call then gets
// every byte, in order.

// A buffer whose first `good` bytes are the last ones of a page just added
// to the heap (the rest lies beyond the break, unmapped).
static char *straddling_buffer(int good)
{
  uint64 top = (uint64)sbrk(0);
  CHECK(sbrk(2 * PAGE - top % PAGE) != (char *)-1, "sbrk failed");
  return sbrk(0) - good;
}

// Pipe: nothing is lost to a bad buffer or to the bad part of one.
static void check_pipe_keeps(void *bad, int straddle)
{
  int p[2];
  uchar buf[300];
  CHECK(pipe(p) == 0, "pipe failed");
  fill_pattern(buf, 300, 0, 9);
  CHECK(write(p[1], buf, 300) == 300, "pipe write failed");
  int r = read(p[0], bad, 200);
  CHECK(r == -1 || (straddle && r == 100), "pipe read into a bad buffer: wrong count");
  if (r > 0)
    CHECK(check_pattern(bad, r, 0, 9), "pipe read delivered the wrong bytes");
  int from = r > 0 ? r : 0;
  memset(buf, 0, sizeof(buf));
  CHECK(read(p[0], buf, 300) == 300 - from, "bytes were lost from the pipe");
  CHECK(check_pattern(buf, 300 - from, from, 9), "pipe bytes changed after a bad read");
  // a write from a bad buffer puts in only what it could read
  r = write(p[1], bad, 200);
  CHECK(r == -1 || (straddle && r <= 100), "pipe write from a bad buffer: wrong count");
  if (r > 0) {
    CHECK(read(p[0], buf, 300) == r, "pipe write count does not match the bytes in the pipe");
  }
  close(p[1]);
  CHECK(read(p[0], buf, 300) == 0, "a pipe held bytes nobody wrote");
  close(p[0]);
}

// A file (or directory) read: the offset moves only by what was delivered.
static void check_file_keeps(void *bad, int straddle)
{
  uchar buf[300];
  make_file("nl.file", 300, 4);
  int fd = open("nl.file", O_RDONLY);
  CHECK(fd >= 0, "open failed");
  int r = read(fd, bad, 200);
  CHECK(r == -1 || (straddle && r >= 0 && r <= 100), "file read into a bad buffer: wrong count");
  int from = r > 0 ? r : 0;
  CHECK(read(fd, buf, 300) == 300 - from, "file read after a bad one: wrong count");
  CHECK(check_pattern(buf, 300 - from, from, 4), "file offset moved past undelivered bytes");
  close(fd);
  fd = open("nl.file", O_RDWR);
  r = write(fd, bad, 200);
  CHECK(r == -1 || (straddle && r >= 0 && r <= 100), "file write from a bad buffer: wrong count");
  close(fd);
  unlink("nl.file");

  struct dirent de;
  fd = open(".", O_RDONLY);
  CHECK(fd >= 0, "open of . failed");
  CHECK(read(fd, bad, sizeof(de)) == -1 || straddle, "directory read into a bad buffer");
  if (!straddle) {
    CHECK(read(fd, &de, sizeof(de)) == sizeof(de), "directory read failed");
    CHECK(strcmp(de.name, ".") == 0, "a directory entry was lost to a bad read");
  }
  close(fd);
}

// procinfo, fstat, trace, wait, futex: a bad buffer fails, the good call works.
static void check_calls_keep(void *bad)
{
  struct procinfo pi;
  CHECK(procinfo(bad, 1) == -1, "procinfo into a bad buffer did not fail");
  CHECK(procinfo(&pi, 1) == 1 && pi.pid > 0, "procinfo after a bad one failed");
  struct stat st;
  CHECK(fstat(0, bad) == -1, "fstat into a bad buffer did not fail");
  CHECK(fstat(0, &st) == 0, "fstat after a bad one failed");
  int pid = fork();
  CHECK(pid >= 0, "fork failed");
  if (pid == 0)
    exit(7);
  if (bad != 0) {
    CHECK(wait(bad) == -1, "wait with a bad status pointer did not fail");
  }
  int status = 0;
  CHECK(wait(&status) == pid && status == 7, "the child was lost to a bad wait");
  CHECK(futex_wait(bad, 0, 1) == -1 && futex_wake(bad, 1) == -1, "futex on a bad address");
}

// The console: a line typed at the prompt below is not lost to a read into
// a bad buffer, nor (in part) to one that straddles the end of the heap.
static void test_consoleread(void)
{
  char buf[64];
  printf("consoleread: type a line\n");
  CHECK(read(0, KERNEL_ADDR, sizeof(buf)) == -1, "console read into a bad buffer did not fail");
  int n = read(0, buf, sizeof(buf));
  CHECK(n == 6 && memcmp(buf, "hello\n", 6) == 0, "the typed line was lost to a bad read");
  printf("consoleread: type another line\n");
  char *edge = straddling_buffer(3);
  CHECK(read(0, edge, 9) == 3 && memcmp(edge, "abc", 3) == 0,
        "console read straddling the break: not the bytes that fit");
  n = read(0, buf, sizeof(buf));
  CHECK(n == 6 && memcmp(buf, "defgh\n", 6) == 0, "bytes past the break were lost");
}

static void test_nodataloss(void)
{
  void *bads[] = { KERNEL_ADDR, UNMAPPED_ADDR, (void *)0x10000000UL, (void *)-4096L };
  for (int i = 0; i < 4; i++) {
    check_pipe_keeps(bads[i], 0);
    check_file_keeps(bads[i], 0);
    check_calls_keep(bads[i]);
  }
  check_pipe_keeps(straddling_buffer(100), 1);
  check_file_keeps(straddling_buffer(100), 1);
  struct procinfo *two = (struct procinfo *)straddling_buffer(sizeof(struct procinfo));
  CHECK(procinfo(two, 2) == 1, "procinfo straddling the break: not the entries that fit");
  // trace: reading a ring takes nothing out of it
  static struct trace_rec recs[4];
  if (trace(TRACE_START, 0, 0) < 0)
    return;                      // built with -DNO_TRACE
  sleep(2);                      // some switches to record
  trace(TRACE_STOP, 0, 0);
  int cpu = getcpu(), n = trace(TRACE_READ, recs, cpu << 16 | 4);
  CHECK(n > 0, "no trace records");
  for (int i = 0; i < 4; i++)
    CHECK(trace(TRACE_READ, bads[i], cpu << 16 | 4) == -1, "trace into a bad buffer did not fail");
  struct trace_rec *edge = (struct trace_rec *)straddling_buffer(sizeof(struct trace_rec));
  CHECK(n < 2 || trace(TRACE_READ, edge, cpu << 16 | 2) == 1,
        "trace straddling the break: not the records that fit");
  CHECK(trace(TRACE_READ, recs, cpu << 16 | 4) == n, "a bad trace read took records");
}

static void test_badfd(void)
{
  char buf[8];
  struct stat st;
  int closed = open("bf.file", O_CREATE | O_RDWR);
  CHECK(closed >= 0, "create failed");
  close(closed);
  int bad[] = { -1, 1000, NOFILE_GUESS, closed, 0x7fffffff };
  for (int i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
    CHECK(read(bad[i], buf, 1) == -1, "read on a bad fd did not fail");
    CHECK(write(bad[i], buf, 1) == -1, "write on a bad fd did not fail");
    CHECK(close(bad[i]) == -1, "close on a bad fd did not fail");
    CHECK(fstat(bad[i], &st) == -1, "fstat on a bad fd did not fail");
    CHECK(dup(bad[i]) == -1, "dup on a bad fd did not fail");
  }
  // the fd table fills up cleanly
  int fds[64], n = 0;
  while (n < 64 && (fds[n] = open("bf.file", O_RDONLY)) >= 0)
    n++;
  CHECK(n < 64, "open never ran out of fds");
  CHECK(dup(0) == -1, "dup with a full fd table did not fail");
  int p[2];
  CHECK(pipe(p) == -1, "pipe with a full fd table did not fail");
  for (int i = 0; i < n; i++)
    close(fds[i]);
  unlink("bf.file");
}

static void test_badsize(void)
{
  char buf[16];
  make_file("bs.file", 100, 6);
  int fd = open("bs.file", O_RDWR);
  CHECK(fd >= 0, "open failed");
  CHECK(read(fd, buf, -1) == -1, "read of a negative size did not fail");
  CHECK(write(fd, buf, -5) == -1, "write of a negative size did not fail");
  CHECK(write(fd, buf, 0) == 0, "write of 0 bytes did not return 0");
  CHECK(read(fd, buf, 0) == 0, "read of 0 bytes did not return 0");
  close(fd);
  unlink("bs.file");
  char *brk = sbrk(0);
  CHECK(sbrk(-0x7fffffff) == (char *)-1, "sbrk below the program did not fail");
  CHECK(sbrk(0) == brk, "a failed sbrk moved the break");
  CHECK(sbrk(0x7fffffff) == (char *)-1, "sbrk of 2 GiB did not fail");
  CHECK(sbrk(0) == brk, "a failed sbrk moved the break");
  CHECK(mprotect(brk, -PAGE, PROT_NONE) == -1, "mprotect of a negative size did not fail");
}

static void test_badpath(void)
{
  char longpath[201];
  memset(longpath, 'a', 200);
  longpath[200] = 0;
  struct stat st;
  CHECK(open("", O_RDONLY) == -1, "open of an empty path did not fail");
  CHECK(open("", O_CREATE | O_RDWR) == -1, "create of an empty path did not fail");
  CHECK(mkdir("") == -1 && chdir("") == -1 && unlink("") == -1, "empty path accepted");
  CHECK(open(longpath, O_CREATE | O_RDWR) == -1, "create of a too-long path did not fail");
  CHECK(mkdir(longpath) == -1 && chdir(longpath) == -1, "too-long path accepted");
  CHECK(open("nodir/x", O_CREATE | O_RDWR) == -1, "create in a missing directory succeeded");
  CHECK(mkdir("nodir/x") == -1, "mkdir in a missing directory succeeded");
  CHECK(chdir("nodir") == -1, "chdir to a missing directory succeeded");
  CHECK(unlink("nodir/x") == -1, "unlink in a missing directory succeeded");
  make_file("bp.file", 10, 0);
  CHECK(link("bp.file", "nodir/x") == -1, "link into a missing directory succeeded");
  CHECK(link("bp.file", longpath) == -1, "link to a too-long path succeeded");
  CHECK(open("bp.file/x", O_CREATE | O_RDWR) == -1, "create under a file succeeded");
  CHECK(mkdir("bp.file/x") == -1, "mkdir under a file succeeded");
  CHECK(unlink("bp.file") == 0, "unlink failed");
  CHECK(stat(longpath, &st) == -1, "a too-long path was found");
}

static int exec_too_many_args(void *arg)
{
  char *argv[MAXARG_GUESS + 10];
  for (int i = 0; i < MAXARG_GUESS + 9; i++)
    argv[i] = "x";
  argv[MAXARG_GUESS + 9] = 0;
  return exec("echo", argv) == -1 ? EXEC_FAILED : 0;
}

static void test_badexec(void)
{
  expect_exit(exec_bad_path, "no.such.program", EXEC_FAILED, "exec of a missing file");
  expect_exit(exec_bad_path, "", EXEC_FAILED, "exec of an empty path");
  expect_exit(exec_bad_path, "/", EXEC_FAILED, "exec of a directory");
  make_file("notelf", 300, 1);
  expect_exit(exec_bad_path, "notelf", EXEC_FAILED, "exec of a non-ELF file");
  unlink("notelf");
  expect_exit(exec_bad_argv, KERNEL_ADDR, EXEC_FAILED, "exec with argv in the kernel");
  expect_exit(exec_bad_arg_string, UNMAPPED_ADDR, EXEC_FAILED, "exec with a bad argument");
  expect_exit(exec_too_many_args, 0, EXEC_FAILED, "exec with too many arguments");
}

static int raw_syscall(long number)
{
  register long a7 asm("a7") = number;
  register long a0 asm("a0") = 0;
  asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
  return (int)a0;
}

static void test_badsyscall(void)
{
  CHECK(raw_syscall(0) == -1, "system call 0 did not fail");
  CHECK(raw_syscall(999) == -1, "system call 999 did not fail");
  CHECK(raw_syscall(-1) == -1, "system call -1 did not fail");
  CHECK(getpid() > 0, "the process is broken after bad system calls");
}

// ---- lightweight processes --------------------------------------------------------

#define LWP_STACK 16384
#define NLWP 4

static volatile int lwp_seen_id[NLWP];
static volatile int lwp_ran[NLWP];

static void lwp_record_self(void *arg)
{
  int i = (int)(uint64)arg;
  lwp_seen_id[i] = lwp_self();
  lwp_ran[i] = 1;
  lwp_exit();
}

// Stack top for an LWP: a fresh malloc'd block, 16-byte aligned at the top.
static void *new_lwp_stack(void)
{
  char *stack = malloc(LWP_STACK);
  CHECK(stack != 0, "malloc of an LWP stack failed");
  return (void *)(((uint64)stack + LWP_STACK) & ~(uint64)15);
}

static void test_lwp_basic(void)
{
  int me = lwp_self();
  int ids[NLWP];
  CHECK(me >= 0, "lwp_self failed");
  for (int i = 0; i < NLWP; i++) {
    ids[i] = lwp_create(lwp_record_self, (void *)(uint64)i, new_lwp_stack());
    CHECK(ids[i] >= 0 && ids[i] != me, "lwp_create failed");
    for (int j = 0; j < i; j++)
      CHECK(ids[j] != ids[i], "two live LWPs have one id");
  }
  for (int i = 0; i < NLWP; i++) {
    CHECK(lwp_join(ids[i]) >= 0, "lwp_join failed");
    CHECK(lwp_ran[i], "joined LWP never ran");
    CHECK(lwp_seen_id[i] == ids[i], "lwp_self in the LWP is not its id");
  }
  CHECK(lwp_join(ids[0]) == -1, "second join of one LWP did not fail");
  CHECK(lwp_join(100000) == -1, "join of a nonexistent LWP did not fail");
  CHECK(lwp_self() == me, "lwp_self of the first LWP changed");
}

static void lwp_spin(void *arg)
{
  volatile int *running = arg;
  *running = 1;
  for (;;)
    ;
}

static int exit_with_lwps_running(void *arg)
{
  static volatile int running[3];
  for (int i = 0; i < 3; i++) {
    if (lwp_create(lwp_spin, (void *)&running[i], new_lwp_stack()) < 0)
      return 1;
  }
  for (int i = 0; i < 3; i++)
    while (!running[i])
      ;
  return 0;                      // exit() must end the spinning LWPs too
}

static void test_lwp_procexit(void)
{
  expect_exit(exit_with_lwps_running, 0, 0, "exit with LWPs running did not finish");
}

// A mutex on futexes: 0 free, 1 locked, 2 locked with (maybe) waiters.
static void futex_lock(int *m)
{
  int expected = 0;
  if (__atomic_compare_exchange_n(m, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return;
  while (__atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE) != 0)
    futex_wait(m, 2, 0);
}

static void futex_unlock(int *m)
{
  if (__atomic_exchange_n(m, 0, __ATOMIC_RELEASE) == 2)
    futex_wake(m, 1);
}

#define FUTEX_LWPS  3
#define FUTEX_ROUNDS 10000

static int counter_lock;
static volatile int counter;

static void count_under_lock(void *arg)
{
  for (int i = 0; i < FUTEX_ROUNDS; i++) {
    futex_lock(&counter_lock);
    int v = counter;
    if (i % 64 == 0)
      getpid();                  // widen the window for a lost update
    counter = v + 1;
    futex_unlock(&counter_lock);
  }
  lwp_exit();
}

static void test_futex(void)
{
  int word = 5;
  CHECK(futex_wait(&word, 6, 0) <= 0, "futex_wait with a changed value blocked");
  int t0 = uptime();
  futex_wait(&word, 5, 5);       // times out after about 5 ticks
  CHECK(uptime() - t0 < 200, "futex_wait timeout did not end the wait");
  CHECK(futex_wake(&word, 1) >= 0, "futex_wake with no waiters failed");

  int ids[FUTEX_LWPS];
  for (int i = 0; i < FUTEX_LWPS; i++) {
    ids[i] = lwp_create(count_under_lock, 0, new_lwp_stack());
    CHECK(ids[i] >= 0, "lwp_create failed");
  }
  for (int i = 0; i < FUTEX_LWPS; i++)
    CHECK(lwp_join(ids[i]) >= 0, "lwp_join failed");
  CHECK(counter == FUTEX_LWPS * FUTEX_ROUNDS, "counter lost updates under the futex lock");
}

// ---- the runner ----------------------------------------------------------------------

struct test {
  const char *name;
  void (*run)(void);
};

static const struct test tests[] = {
  { "exitwait", test_exitwait },
  { "fork", test_fork },
  { "exec", test_exec },
  { "killspin", test_killspin },
  { "killblocked", test_killblocked },
  { "killstatus", test_killstatus },
  { "sleep", test_sleep },
  { "forkfull", test_forkfull },
  { "sbrk", test_sbrk },
  { "sbrkfault", test_sbrkfault },
  { "outofmem", test_outofmem },
  { "cachedrain", test_cachedrain },
  { "badmem", test_badmem },
  { "stackguard", test_stackguard },
  { "pipe", test_pipe },
  { "pipeup", test_pipeup },
  { "pipedown", test_pipedown },
  { "files", test_files },
  { "dup", test_dup },
  { "link", test_link },
  { "unlinkopen", test_unlinkopen },
  { "dirs", test_dirs },
  { "deaddir", test_deaddir },
  { "manyfiles", test_manyfiles },
  { "bigfile", test_bigfile },
  { "badaddr", test_badaddr },
  { "badfd", test_badfd },
  { "nodataloss", test_nodataloss },
  { "badsize", test_badsize },
  { "badpath", test_badpath },
  { "badexec", test_badexec },
  { "badsyscall", test_badsyscall },
  { "lwp_basic", test_lwp_basic },
  { "lwp_procexit", test_lwp_procexit },
  { "futex", test_futex },
};
#define NTESTS (int)(sizeof(tests) / sizeof(tests[0]))

// A process that kills `target` after `ticks` unless it is killed first.
static int start_watchdog(int target, int ticks)
{
  int pid = fork();
  if (pid == 0) {
    sleep(ticks);
    kill(target);
    exit(0);
  }
  return pid;
}

// Runs one test in a child and prints its result line. 1 if it passed.
static int run_test(const struct test *t)
{
  int pid = fork();
  if (pid < 0) {
    printf("test %s: FAILED (fork)\n", t->name);
    return 0;
  }
  if (pid == 0) {
    current_test = t->name;
    t->run();
    exit(0);
  }
  int watchdog = start_watchdog(pid, TEST_TIMEOUT);
  int status = -1, timed_out = 0;
  for (;;) {
    int st = -1, r = wait(&st);
    if (r == pid) {
      status = st;
      break;
    }
    if (r == watchdog) {
      timed_out = 1;             // it has killed the test; collect the test next
      watchdog = -1;
    } else if (r < 0) {
      break;
    }
  }
  if (watchdog > 0) {
    kill(watchdog);
    for (int r = 0; r != watchdog && r >= 0;)
      r = wait(0);
  }
  if (status == 0 && !timed_out) {
    printf("test %s: OK\n", t->name);
    return 1;
  }
  if (timed_out)
    printf("test %s: FAILED (timed out)\n", t->name);
  else
    printf("test %s: FAILED (status %d)\n", t->name, status);
  return 0;
}

// Tests that need someone at the console: run only when named, never by
// plain `usertests` or listed by -l (tests/groups/consoleread.py types).
static const struct test typed_tests[] = {
  { "consoleread", test_consoleread },
};

static const struct test *find_test(const char *name)
{
  for (int i = 0; i < NTESTS; i++) {
    if (strcmp(tests[i].name, name) == 0)
      return &tests[i];
  }
  for (int i = 0; i < (int)(sizeof(typed_tests) / sizeof(typed_tests[0])); i++) {
    if (strcmp(typed_tests[i].name, name) == 0)
      return &typed_tests[i];
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "-l") == 0) {
    for (int i = 0; i < NTESTS; i++)
      printf("%s\n", tests[i].name);
    return 0;
  }
  int failures = 0;
  if (argc < 2) {
    for (int i = 0; i < NTESTS; i++)
      failures += !run_test(&tests[i]);
  } else {
    for (int i = 1; i < argc; i++) {
      const struct test *t = find_test(argv[i]);
      if (t == 0) {
        printf("test %s: FAILED (no such test)\n", argv[i]);
        failures++;
        continue;
      }
      failures += !run_test(t);
    }
  }
  printf(failures == 0 ? "ALL TESTS PASSED\n" : "SOME TESTS FAILED\n");
  return failures == 0 ? 0 : 1;
}
