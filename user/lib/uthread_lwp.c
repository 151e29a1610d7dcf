// LWP records: one struct ult_lwp per LWP that runs ULTs (its scheduler
// context and stack, the thread it runs), taken and given back here; the
// boot path by which an LWP the kernel adds (set_concurrency, or a
// replacement activation) leaves the shared boot stack for a record of its
// own; and bound LWPs, which run one thread only. Owns the list of records
// (ult_lwps) and each record's in_use (under ult_table_lock), and the boot
// stack's occupancy check.
//
// There are as many records as LWPs ever ran ULTs at once: each blocked
// activation (lab upcalls) holds one, and the library sets those no limit
// of its own; the limits are the kernel's max_threads and memory. Only an
// LWP the level adds finds none past LEVEL_LWPS_MAX running ones. Records come
// from sbrk, never from malloc: a replacement activation takes its record
// on the boot stack, and malloc's lock may be held by the very thread whose
// block it replaces. A record is never freed; one whose LWP has left is
// reused, scheduler stack and all, and a replacement activation first
// looks for the record it had when it last served (lwp_record_given).
// Does not touch the run queue: a shared LWP's loop is user/lib/uthread.c's
// ult_shared_lwp_loop, and the boot stack and its lock are
// user/lib/uthread_level.c's (lab concurrency).
#include "user/lib/uthread_core.h"
#include "uapi/syscall.h"

struct ult_lwp *ult_lwps;          // every record, newest first (linked by all_next)

// ---- records ---------------------------------------------------------------------
// A new record with its scheduler stack, in use, on the list; 0 if sbrk
// has no memory. One system call, and no user lock: the boot path's.
static struct ult_lwp *lwp_record_new(void)
{
  uint64 size = (sizeof(struct ult_lwp) + 15) & ~15ull;
  char *mem = sbrk(size + SCHED_STACK + 16);
  if (mem == (char *)-1)
    return 0;
  struct ult_lwp *l = (struct ult_lwp *)(((uint64)mem + 15) & ~15ull);
  memset(l, 0, size);
  l->stack_mem = (char *)l + size;
  l->in_use = 1;
  spin_lock(&ult_table_lock);
  l->all_next = ult_lwps;
  __atomic_store_n(&ult_lwps, l, __ATOMIC_RELEASE);   // readers walk the list without the lock
  spin_unlock(&ult_table_lock);
  return l;
}

// The free record `want` (any free one if want is 0), taken; 0 if there is none.
static struct ult_lwp *lwp_record_claim(struct ult_lwp *want)
{
  struct ult_lwp *l;
  spin_lock(&ult_table_lock);
  for (l = ult_lwps; l != 0 && (l->in_use || (want && l != want)); l = l->all_next)
    ;
  if (l)
    l->in_use = 1;
  spin_unlock(&ult_table_lock);
  return l;
}

// A record, taken, made ready for an LWP about to use it.
static struct ult_lwp *lwp_record_ready(struct ult_lwp *l)
{
  set_current(l, 0);
  l->in_lib = 1;                     // its scheduler runs first
  l->resched_pending = 0;
  l->kmask = SIG_UNKNOWN;            // a new LWP's mask is its creator's, or 0
  l->bound = 0;
  l->bound_wake = 0;
  l->after_switch = (struct wakeup){ 0, 0 };
  return l;
}

// A free record with a scheduler stack, for an LWP about to use it; 0 if
// there is no free record and no memory for one.
struct ult_lwp *ult_lwp_slot_take(void)
{
  struct ult_lwp *l = lwp_record_claim(0);
  if (l == 0 && (l = lwp_record_new()) == 0)
    return 0;
  return lwp_record_ready(l);
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
  spin_lock(&ult_table_lock);
  l->in_use = 0;
  spin_unlock(&ult_table_lock);
}

void *ult_sched_stack_top(struct ult_lwp *l)
{
  return l->stack_mem + SCHED_STACK;
}

// The record of kernel LWP lwpid, blocked in the kernel (in_kernel 1) or
// not, that runs thread tid (NO_TID: whatever it runs). One id may name two
// records for a while (lab upcalls): an LWP that blocked, woke and parked
// as a spare can be taken again as a replacement, and boot on a new record,
// before the ring's BLOCKED for its old life has been read. Of the two, only
// the old one runs the thread that BLOCKED names: its current, not its
// current_tid, which the kernel sets to -1 when the LWP wakes, before it
// posts UNBLOCKED (the BLOCKED may be read only after that).
struct ult_lwp *ult_lwp_by_id(int lwpid, int in_kernel, int tid)
{
  for (struct ult_lwp *l = ult_lwp_first(); l != 0; l = l->all_next)
    if (l->in_use && l->lwpid == lwpid && l->in_kernel == in_kernel &&
        (tid == NO_TID || (l->current != 0 && l->current->tid == tid)))
      return l;
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
    switched_in(me, 0);
    if (t->state != ULT_ALIVE)   // it exited (the joiner may have marked it dead)
      lwp_exit();                // the joiner lwp_joins us, then frees this stack
  }
}

static void bound_lwp_entry(void *arg)
{
  set_this_lwp(arg, 0);            // its creator stores its id after lwp_create
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

// Under the boot lock: what the kernel gave its holder (ult_boot_given), and
// whether the record it took is the one its word is registered in already.
static struct {
  int lwpid;                       // 0: not given, ask lwp_self
  int *tidword;                    // the word the kernel reads for it, or 0
  int registered;                  // ult_boot_take took that word's record back
} given;

void ult_boot_given(int lwpid, int *tidword)
{
  given.lwpid = lwpid;
  given.tidword = tidword;
  given.registered = 0;
}

// The record whose current_tid is the word the kernel gave for this LWP: a
// replacement activation that served before, parked, and now serves again
// gets its own record back, scheduler stack, registered word and schedctl
// entry all still right. Not if another LWP holds the record now, nor if
// one registered its word since (word_lwpid): the kernel then forgot the
// word for this LWP, maybe after it gave it.
static struct ult_lwp *lwp_record_given(void)
{
  if (given.tidword == 0)
    return 0;
  uthread_upcall_poll();           // the RELEASED of its last service frees the record
  struct ult_lwp *want = (struct ult_lwp *)((char *)given.tidword -
                                            __builtin_offsetof(struct ult_lwp, current_tid));
  struct ult_lwp *l = lwp_record_claim(want);
  if (l == 0)
    return 0;
  given.registered = l->word_lwpid == given.lwpid;   // else it registers the word anew
  return lwp_record_ready(l);
}

#define BOOT_TAKE_TICKS 300        // a replacement waits this long for a record, then gives up
#define LEVEL_LWPS_MAX  64         // the kernel's highest level (CONCURRENCY_MAX)

// LWPs that run ULTs now, not blocked in the kernel: the level's, the
// replacements serving for blocked ones, the bound ones.
static int lwps_running(void)
{
  int n = 0;
  spin_lock(&ult_table_lock);
  for (struct ult_lwp *l = ult_lwps; l != 0; l = l->all_next)
    n += l->in_use && !l->in_kernel;
  spin_unlock(&ult_table_lock);
  return n;
}

// A replacement activation is needed: the LWP it replaces parks when it
// wakes, so without it nobody may be left to serve, and the process would
// hang. Memory and records come back as others free them; 3 s is long
// enough for a program's own watchdog (a lab test's) to report first.
//
// An LWP the level adds is not needed: it finds no record once
// LEVEL_LWPS_MAX LWPs run ULTs (a bound LWP, or one still leaving, can take
// the level's place), and ends. A replacement is not counted there: it runs
// for a blocked LWP, and blocked threads have no limit of the library's.
struct ult_lwp *ult_boot_take(int needed)
{
  if (!needed && lwps_running() >= LEVEL_LWPS_MAX)
    return 0;
  struct ult_lwp *l = lwp_record_given();
  if (l == 0)
    l = ult_lwp_slot_take();
  for (int tries = 0; l == 0 && needed && tries < BOOT_TAKE_TICKS; tries++) {
    sleep(1);                      // not an activation block: no thread is named
    l = ult_lwp_slot_take();
  }
  if (l == 0 && needed) {
    fprintf(2, "uthread: no memory for a replacement activation's LWP record\n");
    exit(-1);
  }
  if (l)
    l->lwpid = given.lwpid ? given.lwpid : lwp_self();
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
  if (given.registered)
    set_tp(l);                     // its word and schedctl entry are right already
  else
    set_this_lwp(l, l->lwpid);
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
