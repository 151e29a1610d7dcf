// LWP records: one struct ult_lwp per LWP that runs ULTs (its scheduler
// context and stack, the thread it runs), taken and given back here; the
// boot path by which an LWP the kernel adds (set_concurrency, or a
// replacement activation) leaves the shared boot stack for a record of its
// own; and bound LWPs, which run one thread only. Owns ult_lwps[] and
// ult_lwps_hi (under ult_table_lock) and the boot stack's occupancy check.
// Does not touch the run queue: a shared LWP's loop is user/lib/uthread.c's
// ult_shared_lwp_loop, and the boot stack and its lock are
// user/lib/uthread_level.c's (lab concurrency).
#include "user/lib/uthread_core.h"
#include "uapi/syscall.h"

struct ult_lwp *ult_lwps;          // [MAX_LWPS], allocated by uthread_init
int ult_lwps_hi;

int ult_lwps_alloc(void)
{
  if (ult_lwps == 0)
    ult_lwps = malloc(MAX_LWPS * sizeof(struct ult_lwp));
  if (ult_lwps == 0)
    return 0;
  memset(ult_lwps, 0, MAX_LWPS * sizeof(struct ult_lwp));
  return 1;
}

// ---- records ---------------------------------------------------------------------
// A free record with a scheduler stack, for an LWP about to use it; 0 if
// there is no record or no memory.
struct ult_lwp *ult_lwp_slot_take(void)
{
  struct ult_lwp *l = 0;
  spin_lock(&ult_table_lock);
  for (int i = 0; i < MAX_LWPS && l == 0; i++)
    if (!ult_lwps[i].in_use)
      l = &ult_lwps[i];
  if (l) {
    set_current(l, 0);
    l->in_use = 1;
    if (l - ult_lwps >= ult_lwps_hi)
      __atomic_store_n(&ult_lwps_hi, (int)(l - ult_lwps) + 1, __ATOMIC_RELEASE);
  }
  spin_unlock(&ult_table_lock);
  if (l == 0)
    return 0;
  l->in_lib = 1;                     // its scheduler runs first
  l->resched_pending = 0;
  l->kmask = SIG_UNKNOWN;            // a new LWP's mask is its creator's, or 0
  l->bound = 0;
  l->bound_wake = 0;
  if (l->stack_mem == 0)             // kept by an LWP that left (ult_lwp_leave)
    l->stack_mem = malloc(SCHED_STACK);
  if (l->stack_mem == 0) {
    spin_lock(&ult_table_lock);
    l->in_use = 0;
    spin_unlock(&ult_table_lock);
    return 0;
  }
  return l;
}

// Ends the calling LWP, whose last store frees *word (the record or lock
// protecting the stack it runs on): nothing touches the stack after that
// store, and the next instruction is the lwp_exit system call.
void ult_lwp_leave(int *word)
{
  asm volatile("fence rw, w\n"
               "sw zero, 0(%0)\n"
               "li a7, %1\n"
               "ecall\n"
               : : "r"(word), "i"(SYS_lwp_exit) : "a7", "memory");
  __builtin_unreachable();
}

static void lwp_slot_release(struct ult_lwp *l)
{
  free(l->stack_mem);
  l->stack_mem = 0;
  spin_lock(&ult_table_lock);
  l->in_use = 0;
  spin_unlock(&ult_table_lock);
}

void *ult_sched_stack_top(struct ult_lwp *l)
{
  return l->stack_mem + SCHED_STACK;
}

// The record of kernel LWP lwpid, blocked in the kernel (in_kernel 1) or not.
struct ult_lwp *ult_lwp_by_id(int lwpid, int in_kernel)
{
  int n = __atomic_load_n(&ult_lwps_hi, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++)
    if (ult_lwps[i].in_use && ult_lwps[i].lwpid == lwpid && ult_lwps[i].in_kernel == in_kernel)
      return &ult_lwps[i];
  return 0;
}

// ---- bound LWPs --------------------------------------------------------------------
// The loop of a bound LWP: runs its one ULT whenever it is runnable, and
// ends once it has exited.
static void bound_lwp_loop(void)
{
  struct ult_lwp *me = this_lwp();
  struct ult *t = me->bound;
  for (;;) {
    while (!__atomic_exchange_n(&me->bound_wake, 0, __ATOMIC_ACQUIRE))
      futex_wait(&me->bound_wake, 0, 0);
    set_current(me, t);
    uthread_switch(&me->sched_ctx, &t->ctx, 0);
    sig_switched_in(me, 0);
    if (t->state != ULT_ALIVE)   // it exited (the joiner may have marked it dead)
      lwp_exit();                // the joiner lwp_joins us, then frees this stack
  }
}

static void bound_lwp_entry(void *arg)
{
  set_this_lwp(arg);
  bound_lwp_loop();
}

int ult_bound_lwp_start(struct ult *t)
{
  struct ult_lwp *l = ult_lwp_slot_take();
  if (l == 0)
    return 0;
  l->bound = t;
  l->bound_wake = 1;
  t->bound_lwp = l;
  l->lwpid = lwp_create(bound_lwp_entry, l, ult_sched_stack_top(l));
  if (l->lwpid < 0) {
    t->bound_lwp = 0;
    lwp_slot_release(l);
    return 0;
  }
  return 1;
}

void ult_bound_lwp_reap(struct ult_lwp *l)
{
  lwp_join(l->lwpid);
  lwp_slot_release(l);
}

// ---- LWPs the kernel adds (set_concurrency): leaving the boot stack -----------
// uthread_level.c owns the boot stack and its lock, and calls these on it.
static int boot_user;              // 1 + lwpid of the LWP inside ult_boot_switch, or 0

#define BOOT_TAKE_TICKS 300        // a replacement waits this long for a record, then gives up

// A replacement activation is needed: the LWP it replaces parks when it
// wakes, so without it nobody may be left to serve, and the process would
// hang. Memory and records come back as others free them; 3 s is long
// enough for a program's own watchdog (a lab test's) to report first.
struct ult_lwp *ult_boot_take(int needed)
{
  struct ult_lwp *l = ult_lwp_slot_take();
  for (int tries = 0; l == 0 && needed && tries < BOOT_TAKE_TICKS; tries++) {
    sleep(1);                      // not an activation block: no thread is named
    l = ult_lwp_slot_take();
  }
  if (l == 0 && needed) {
    fprintf(2, "uthread: no memory for a replacement activation's stack\n");
    exit(-1);
  }
  if (l)
    l->lwpid = lwp_self();
  return l;
}

// Checks that one LWP at a time uses the boot stack: an LWP that arrives
// with the boot stack's guard free (ulevel_boot_held), or finds another one
// still inside, ends the process with a message (the two would overwrite
// each other's frames). kdebug(KD_SCHEDCTL_DELAY) keeps an LWP inside
// (set_this_lwp calls schedctl) so that a test can see it.
void ult_boot_switch(struct ult_lwp *l, void (*fn)(void), int *release)
{
  if (!ulevel_boot_held()) {
    fprintf(2, "uthread: LWP %d runs on the boot stack with its lock free\n", l->lwpid);
    exit(-1);
  }
  int other = __atomic_exchange_n(&boot_user, l->lwpid + 1, __ATOMIC_ACQ_REL);
  if (other != 0) {
    fprintf(2, "uthread: LWPs %d and %d on the boot stack at once\n", other - 1, l->lwpid);
    exit(-1);
  }
  set_this_lwp(l);
  l->sched_ctx.ra = (uint64)fn;
  l->sched_ctx.sp = (uint64)ult_sched_stack_top(l);
  __atomic_store_n(&boot_user, 0, __ATOMIC_RELEASE);
  struct ult_context abandoned;    // nothing switches back to the boot stack
  uthread_switch(&abandoned, &l->sched_ctx, release);
  __builtin_unreachable();
}

void ult_boot_leave(int *release)
{
  static int nothing;
  ult_lwp_leave(release ? release : &nothing);
}
