// allocfail: walks allocation failures through system calls.
//   allocfail [OP...]      OP: fork exec sbrk pipe lwp_create set_concurrency
//                             upcalls upcall_block
// For n = 1, 2, ... a child makes the n-th next page allocation fail
// (kdebug KD_FAIL_ALLOC) and runs OP once, until OP no longer reaches an
// n-th allocation. Each time the call must fail with -1 or succeed (or the
// process is killed with a message: status -1), the kernel must not panic,
// the process must not hang, and once the child is reaped the free pages
// (counting what caches would give back) and live threads must be where
// they were before.
// Prints one line per OP (`allocfail OP: N points ok`, or what went wrong)
// and at the end `allocfail: OK` or `allocfail: FAILED`.
#include "user/user.h"
#include "user/uthread.h"
#include "user/testsuite.h"
#include "uapi/kdebug.h"
#include "uapi/syscall.h"

#define PAGE        4096
#define MAX_POINTS  400
#define STACK_SIZE  8192

// Child exit statuses.
#define DONE_FAILED   10   // the call returned -1 and the failure was injected
#define DONE_OK       11   // the call succeeded and the failure was injected
#define NOT_REACHED   12   // the call never made an n-th allocation
#define WRONG         13   // the call failed without an injected failure, or lied

static char lwp_stack[STACK_SIZE] __attribute__((aligned(16)));

static void lwp_body(void *arg)
{
  lwp_exit();
}

// set_concurrency's LWPs share one stack: this entry touches none. It
// blocks on a futex that is never woken, so every LWP asked for stays and
// needs a stack of its own; the process's exit ends them.
void conc_entry(void *arg);
int conc_word;
asm(".globl conc_entry\nconc_entry:\n  lla a0, conc_word\n  li a1, 0\n  li a2, 0\n"
    "  li a7, 28\n  ecall\n  li a7, 24\n  ecall\n");
_Static_assert(SYS_futex_wait == 28 && SYS_lwp_exit == 24, "conc_entry's system call numbers");

// Runs op once with the n-th allocation failing; returns the status above.
static int status_of(int r, int fired)
{
  if (!fired)
    return r < 0 ? WRONG : NOT_REACHED;
  return r < 0 ? DONE_FAILED : DONE_OK;
}

static int op_fork(int n)
{
  kdebug(KD_CACHED_PAGES, 1);         // a new thread must allocate its stack
  kdebug(KD_FAIL_ALLOC, n);
  int pid = fork();
  if (pid == 0)
    exit(0);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  if (pid > 0 && wait(0) != pid)
    return WRONG;
  return status_of(pid, fired);
}

static int op_exec(int n)
{
  static char *argv[] = { "allocfail", "-execed", 0 };
  kdebug(KD_FAIL_ALLOC, n);
  int r = exec("allocfail", argv);     // on success main() reports
  return status_of(r, kdebug(KD_FAIL_ALLOC, 0));
}

static int op_sbrk(int n)
{
  kdebug(KD_FAIL_ALLOC, n);
  char *r = sbrk(64 * PAGE);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  if (r != (char *)-1)
    sbrk(-64 * PAGE);
  return status_of(r == (char *)-1 ? -1 : 0, fired);
}

static int op_pipe(int n)
{
  int p[2];
  kdebug(KD_FAIL_ALLOC, n);
  int r = pipe(p);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  if (r == 0) {
    if (write(p[1], "x", 1) != 1)
      return WRONG;
    close(p[0]);
    close(p[1]);
  }
  return status_of(r, fired);
}

static int op_lwp_create(int n)
{
  kdebug(KD_CACHED_PAGES, 1);         // a new thread must allocate its stack
  kdebug(KD_FAIL_ALLOC, n);
  int id = lwp_create(lwp_body, 0, lwp_stack + STACK_SIZE);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  if (id >= 0 && lwp_join(id) < 0)
    return WRONG;
  return status_of(id, fired);
}

static int op_set_concurrency(int n)
{
  if (concurrency_entry(conc_entry, 0, lwp_stack + STACK_SIZE) < 0)
    return WRONG;
  kdebug(KD_CACHED_PAGES, 1);
  kdebug(KD_FAIL_ALLOC, n);
  int r = set_concurrency(4);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  set_concurrency(1);
  return status_of(r, fired);
}

// Lab upcalls: turning upcalls on fills the process's spare cache (a
// spare is an LWP with its KLT and kernel stack).
static int op_upcalls(int n)
{
  if (uthread_init(1) < 0)
    return WRONG;
  kdebug(KD_CACHED_PAGES, 1);
  kdebug(KD_FAIL_ALLOC, n);
  int r = uthread_upcalls(1);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  return status_of(r, fired);
}

// A user thread blocks in the kernel with upcalls on: its LWP's replacement
// comes from the spare cache (no allocation while blocking), and refills the
// cache on its way to user mode; the woken LWP hands the thread back and
// parks. The failure lands anywhere on that path.
#define BLOCKERS 2
static volatile int blocker_result[BLOCKERS];

static void blocker(void *arg)
{
  blocker_result[(long)arg] = sleep(2);
}

static int op_upcall_block(int n)
{
  int tid[BLOCKERS], r = 0;
  if (uthread_init(1) < 0 || uthread_upcalls(1) < 0)
    return WRONG;
  for (int i = 0; i < BLOCKERS; i++) {
    blocker_result[i] = -1;
    if ((tid[i] = uthread_create(blocker, (void *)(long)i, 0)) < 0)
      return WRONG;
  }
  kdebug(KD_CACHED_PAGES, 1);         // a refill must allocate a stack
  kdebug(KD_FAIL_ALLOC, n);
  for (int i = 0; i < BLOCKERS; i++)  // runs the blockers, which block in the kernel
    r |= uthread_join(tid[i]);
  int fired = kdebug(KD_FAIL_ALLOC, 0);
  for (int i = 0; i < BLOCKERS; i++)
    if (r == 0 && blocker_result[i] != 0)
      return WRONG;
  return status_of(r, fired);
}

struct op {
  const char *name;
  int (*run)(int n);
};

static const struct op ops[] = {
  { "fork", op_fork },
  { "exec", op_exec },
  { "sbrk", op_sbrk },
  { "pipe", op_pipe },
  { "lwp_create", op_lwp_create },
  { "set_concurrency", op_set_concurrency },
  { "upcalls", op_upcalls },
  { "upcall_block", op_upcall_block },
};
#define NOPS (int)(sizeof(ops) / sizeof(ops[0]))

// Runs op in a child with the n-th allocation failing; its status.
static int one_point(const struct op *op, int n)
{
  int pid = fork();
  if (pid < 0)
    return -2;
  if (pid == 0)
    exit(op->run(n));
  int status = -2;
  if (wait(&status) != pid)
    return -2;
  return status;
}

// Walks op's allocation points; 0 if all went well.
static int walk(const struct op *op)
{
  int pages0, threads0, pages, threads;
  one_point(op, MAX_POINTS + 1000);   // warm the caches the op uses
  test_kernel_settle(&pages0, &threads0);
  int n, failed = 0, succeeded = 0, killed = 0;
  for (n = 1; n <= MAX_POINTS; n++) {
    int status = one_point(op, n);
    test_kernel_settle(&pages, &threads);
    if (pages != pages0 || threads != threads0) {
      printf("allocfail %s: point %d leaked: free pages %d -> %d, live threads %d -> %d\n",
             op->name, n, pages0, pages, threads0, threads);
      return 1;
    }
    if (status == NOT_REACHED)
      break;
    if (status == DONE_FAILED)
      failed++;
    else if (status == DONE_OK)
      succeeded++;
    else if (status == -1)
      killed++;
    else {
      printf("allocfail %s: point %d: status %d\n", op->name, n, status);
      return 1;
    }
  }
  if (n > MAX_POINTS) {
    printf("allocfail %s: more than %d allocation points\n", op->name, MAX_POINTS);
    return 1;
  }
  printf("allocfail %s: %d points ok (%d failed with -1, %d succeeded anyway, %d killed)\n",
         op->name, n - 1, failed, succeeded, killed);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "-execed") == 0)
    exit(kdebug(KD_FAIL_ALLOC, 0) ? DONE_OK : NOT_REACHED);
  int bad = 0;
  for (int i = 0; i < NOPS; i++) {
    int wanted = argc < 2;
    for (int j = 1; j < argc; j++)
      wanted |= strcmp(argv[j], ops[i].name) == 0;
    if (wanted)
      bad |= walk(&ops[i]);
  }
  printf(bad ? "allocfail: FAILED\n" : "allocfail: OK\n");
  exit(bad);
}
