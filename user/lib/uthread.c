// The uthread library: M:N user threads (ULTs) over the process's LWPs.
// This file owns the thread table (tids are indices) and the threads' life
// (create, exit, join), the shared priority run queue under run_lock with
// the idle-LWP bookkeeping, the scheduler loop of a shared LWP, switching
// threads, wait lists and ucond. The other concerns are files of their own
// (user/lib/uthread_core.h lists them); the mutexes are in
// user/lib/uthread_mutex.c, which reaches the library only through the few
// ult_* entry points of user/lib/uthread_impl.h. The register switch itself
// is user/lib/uthread_switch.S; the design is explained in docs/uthread.md.
//
// A ULT switches straight to the next ULT, or to its LWP's scheduler loop
// when there is none. It leaves holding the lock that guards the way back to
// it, and the switch releases that lock once the ULT is off its stack, so
// that no ULT can be resumed elsewhere while its stack is still in use (see
// "switching threads" below).
#include "user/lib/uthread_core.h"

#define DEFAULT_STACK     8192

int uthread_debug;

int ult_ready;
struct ult *ult_threads;           // [UTHREAD_MAX], allocated by uthread_init
static int live_threads;           // not yet exited

// ult_table_lock: thread states, joiners, slot allocation, the death row,
// the LWP records.
int ult_table_lock;

// run_lock: the shared run queue and the idle-LWP bookkeeping.
static int run_lock;
static uint32 run_mask;            // bit p set: queue p is not empty
static struct ult *run_head[NPRIO], *run_tail[NPRIO];   // 0: empty
static int work_seq;               // futex word idle LWPs sleep on
int ult_idle_lwps;

// ---- the shared run queue (run_lock held) ----------------------------------------
static inline int highest_prio(uint32 mask)
{
  int p = 0;
  if (mask >> 16) { p += 16; mask >>= 16; }
  if (mask >> 8)  { p += 8;  mask >>= 8; }
  if (mask >> 4)  { p += 4;  mask >>= 4; }
  if (mask >> 2)  { p += 2;  mask >>= 2; }
  if (mask >> 1)  { p += 1; }
  return p;
}

// run_mask without run_lock, as a hint: it may change right after.
static inline uint64 run_mask_hint(void)
{
  return __atomic_load_n(&run_mask, __ATOMIC_RELAXED);
}

static inline void run_queue_append(struct ult *t)
{
  int p = t->prio;
  t->run_next = 0;
  if (run_head[p] == 0)
    run_head[p] = t;
  else
    run_tail[p]->run_next = t;
  run_tail[p] = t;
  run_mask |= 1u << p;
  t->queued = 1;
}

// The first thread of the highest priority queued, if that is minprio or
// more (minprio may be NPRIO: none is), else 0.
static inline struct ult *run_queue_take_highest(int minprio)
{
  uint64 levels = (uint64)run_mask >> minprio;   // the non-empty levels from minprio up
  if (levels == 0)
    return 0;
  int p = levels == 1 ? minprio : highest_prio(run_mask);   // one level: no search
  struct ult *t = run_head[p];
  run_head[p] = t->run_next;
  if (run_head[p] == 0)
    run_mask &= ~(1u << p);
  t->queued = 0;
  return t;
}

// Yield's step: self (running, not queued) goes to the back of its level p
// and the first thread of the highest level at or above p comes off; 0 if
// there is none. With no level above p occupied (the usual case) that is one
// turn of level p, which leaves run_mask as it is.
static inline struct ult *run_queue_rotate(struct ult *self)
{
  int p = self->prio;
  uint32 levels = run_mask >> p;
  if (levels == 0)
    return 0;
  if (levels != 1) {               // a higher level is occupied
    run_queue_append(self);
    return run_queue_take_highest(p + 1);
  }
  struct ult *next = run_head[p];
  self->run_next = 0;
  run_tail[p]->run_next = self;    // self to the back (next may be the back)
  run_tail[p] = self;
  run_head[p] = next->run_next;    // next off the front (self at least follows)
  self->queued = 1;
  next->queued = 0;
  return next;
}

static void run_queue_remove(struct ult *t)
{
  int p = t->prio;
  struct ult *prev = 0;
  for (struct ult *u = run_head[p]; u != 0; prev = u, u = u->run_next) {
    if (u != t)
      continue;
    if (prev == 0)
      run_head[p] = t->run_next;
    else
      prev->run_next = t->run_next;
    if (run_tail[p] == t)
      run_tail[p] = prev;
    break;
  }
  if (run_head[p] == 0)
    run_mask &= ~(1u << p);
  t->queued = 0;
}

// ---- making a thread runnable ----------------------------------------------------------
// run_lock held; t was just queued. Decides who must hear of it, and the
// caller passes the answer to wakeup_send(). work_seq changes only when an
// LWP is parked (or about to park) on it: any other LWP takes run_lock
// before it parks, and so finds t. (The kernel bumps it too: lab upcalls.)
static inline struct wakeup wakeup_choose(struct ult *t)
{
  struct wakeup w = { 0, 0 };
  if (ult_idle_lwps > 0) {
    __atomic_add_fetch(&work_seq, 1, __ATOMIC_RELEASE);
    w.someone_idle = 1;
  } else if (t->prio > 0) {        // priority 0 preempts nobody
    w.victim = ult_kick_choose(t->prio);
  }
  return w;
}

// Wakes one idle LWP, or kicks the victim, as wakeup_choose() decided: a
// system call that does not sleep, and none at all with a lone LWP.
static inline void wakeup_send(struct wakeup w)
{
  if (w.someone_idle)
    futex_wake(&work_seq, 1);
  if (w.victim)
    ult_kick_send(w.victim);
}

// Makes t runnable: on its own LWP if bound, else on the shared queue, waking
// one idle LWP if there is any, or kicking an LWP that runs a lower priority.
void ult_make_runnable(struct ult *t)
{
  struct ult_lwp *bl = t->bound_lwp;
  if (bl) {
    __atomic_store_n(&bl->bound_wake, 1, __ATOMIC_RELEASE);
    if (this_lwp() != bl)
      futex_wake(&bl->bound_wake, 1);
    return;
  }
  spin_lock(&run_lock);
  run_queue_append(t);
  struct wakeup w = wakeup_choose(t);
  spin_unlock(&run_lock);
  wakeup_send(w);
}

void ult_after_switch_send(struct ult_lwp *me)
{
  struct wakeup w = me->after_switch;
  me->after_switch = (struct wakeup){ 0, 0 };
  wakeup_send(w);
}

// The running thread gives way if a higher-priority thread is queued.
// Called inside the library (in_lib set), when a kick has come.
void ult_preempt_current(void)
{
  struct ult_lwp *me = this_lwp();
  struct ult *self = me->current;
  if (self == 0 || me->bound)      // 0: in its scheduler, which takes the best itself
    return;
  if ((run_mask_hint() >> (self->prio + 1)) != 0)
    uthread_yield();
}

// ---- the scheduler loop of a shared LWP ---------------------------------------------
// The next thread for a shared LWP, returned with run_lock held (the switch
// to it releases the lock); parks the LWP in the kernel while there is none.
// Returns 0 when the queue is empty and the level's code (ulevel_idle,
// uthread_level.c) says this LWP is surplus: the caller must end. So an LWP
// ends only between threads.
static struct ult *wait_for_work(struct ult_lwp *me)
{
  struct ult *t;
  int seen = __atomic_load_n(&work_seq, __ATOMIC_ACQUIRE);
  uthread_upcall_poll();             // the kernel's events may bring work (lab upcalls)
  spin_lock(&run_lock);
  while ((t = run_queue_take_highest(0)) == 0) {
    // A kick on its way to us could land on our stack after the record is
    // reused: wait for it. ult_kick_choose() runs under run_lock and never picks
    // an LWP whose current is 0, so none can come after this look.
    int ticks = ult_kick_aimed_at(me) ? 1 : ulevel_idle();
    if (ticks < 0)
      break;
    ult_idle_lwps++;
    spin_unlock(&run_lock);
    futex_wait(&work_seq, seen, ticks);
    seen = __atomic_load_n(&work_seq, __ATOMIC_ACQUIRE);   // read before looking again
    uthread_upcall_poll();
    spin_lock(&run_lock);
    ult_idle_lwps--;
  }
  if (t == 0) {
    spin_unlock(&run_lock);
    return 0;
  }
  set_current(me, t);                // under run_lock: ult_kick_choose() reads it
  return t;
}

// The loop of an LWP that serves the shared run queue, on the LWP's own
// stack. A thread switches here only when the queue had nothing for it
// (it has already left its stack and released its lock); this loop waits for
// work and switches to it. Never returns.
void ult_shared_lwp_loop(void)
{
  struct ult_lwp *me = this_lwp();
  for (;;) {
    struct ult *next = wait_for_work(me);
    if (next == 0)
      ult_lwp_leave(&me->in_use);   // surplus; the record keeps its stack for reuse
    uthread_switch(&me->sched_ctx, &next->ctx, &run_lock);
    switched_in(me, 0);
  }
}

int *ult_work_word(void)
{
  return &work_seq;
}

// ---- switching threads ------------------------------------------------------------
// The running thread, self, switches straight to the next one, or to its
// LWP's scheduler loop when none is runnable. Until the switch has saved
// self's registers and left its stack, no other LWP may resume self. So self
// leaves holding the one lock that guards every way back to it, and
// uthread_switch releases that lock on the next thread's stack:
//
//   yield: self goes back on the run queue   -> run_lock (taking from the queue needs it)
//   block: self is on a wait list            -> that list's guard (a waker needs it)
//   exit:  self's joiner will free its stack -> ult_table_lock (uthread_join needs it)
//
// All three run inside the library (in_lib set), so no kick moves self to
// another LWP meanwhile.

// Gives the LWP to the first queued thread of self's priority or more, if
// any; self goes to the back of its level. Returns when self runs again
// (maybe on another LWP), or at once if nobody was waiting. Not for a bound
// thread.
static inline void yield(struct ult *self)
{
  spin_lock(&run_lock);
  struct ult *next = run_queue_rotate(self);
  if (next == 0) {
    spin_unlock(&run_lock);
    return;
  }
  // Another LWP may take self once run_lock is free: the wake-up goes out
  // then, from next (switched_in), so that no system call is made holding
  // run_lock (an LWP switched out in one would keep every other one waiting).
  struct ult_lwp *me = this_lwp();
  me->after_switch = wakeup_choose(self);
  set_current(me, next);
  uthread_switch(&self->ctx, &next->ctx, &run_lock);
  switched_in(this_lwp(), self);
}

// Leaves the LWP to the best queued thread, or to its scheduler if there is
// none (always, for a bound thread), releasing *lock once off self's stack.
static void switch_away(struct ult *self, int *lock)
{
  if (self->bound_lwp) {
    struct ult_lwp *me = this_lwp();
    set_current(me, 0);
    uthread_switch(&self->ctx, &me->sched_ctx, lock);
    switched_in(this_lwp(), self);
    return;
  }
  spin_lock(&run_lock);
  struct ult_lwp *me = this_lwp();  // after the lock: a nap for it may move self (lab upcalls)
  struct ult *next = run_queue_take_highest(0);
  set_current(me, next);            // 0 under run_lock: see ult_kick_choose()
  spin_unlock(&run_lock);
  uthread_switch(&self->ctx, next ? &next->ctx : &me->sched_ctx, lock);
  switched_in(this_lwp(), self);
}

// Blocks the caller, which its waker will find on the wait list `guard`
// (held) protects; guard is released once the caller is off its stack.
static void block_releasing(struct ult *self, int *guard)
{
  switch_away(self, guard);
}

// The running thread ends: its joiner, if it waits, becomes runnable, and
// its stack is left for the joiner to recycle (uthread_join, under
// ult_table_lock). The last thread to end ends the process.
static void thread_exit(struct ult *self) __attribute__((noreturn));
static void thread_exit(struct ult *self)
{
  if (__atomic_sub_fetch(&live_threads, 1, __ATOMIC_ACQ_REL) == 0)
    exit(0);
  spin_lock(&ult_table_lock);
  self->state = ULT_EXITED;
  if (self->joiner != NO_TID)
    ult_make_runnable(&ult_threads[self->joiner]);   // it takes ult_table_lock before it goes on
  switch_away(self, &ult_table_lock);
  for (;;)
    ;                              // not reached: an exited thread is never resumed
}

static void thread_start(void)
{
  struct ult *self = current_thread();
  switched_in(this_lwp(), self);
  lib_leave(0);            // we were switched to inside the library
  self->fn(self->arg);
  uthread_exit();
}

// ---- the thread interface ----------------------------------------------------------
static int tables_alloc(void)
{
  if (ult_threads == 0)
    ult_threads = malloc(UTHREAD_MAX * sizeof(struct ult));
  if (ult_threads == 0)
    return 0;
  malloc_set_reclaim(ult_stack_cache_drain);
  memset(ult_threads, 0, UTHREAD_MAX * sizeof(struct ult));
  return 1;
}

int uthread_init(int nlwp)
{
  if (ult_ready || nlwp < 1)
    return -1;
  if (!tables_alloc())
    return -1;
  struct ult *main_thread = &ult_threads[0];
  main_thread->tid = 0;
  main_thread->state = ULT_ALIVE;
  main_thread->joiner = NO_TID;
  sigprocmask(SIG_BLOCK, 0, &main_thread->sigmask);
  ult_next_tid = 1;
  live_threads = 1;

  struct ult_lwp *l = ult_lwp_slot_take();
  if (l == 0)
    return -1;
  l->lwpid = lwp_self();
  l->sched_ctx.ra = (uint64)ult_shared_lwp_loop;
  l->sched_ctx.sp = (uint64)ult_sched_stack_top(l);
  set_current(l, main_thread);
  set_this_lwp(l, l->lwpid);
  ult_ready = 1;
  lib_leave(0);            // thread 0 runs its own code again
  if (lwp_preempt_handler(ult_preempt_handler) < 0 || ulevel_start(nlwp) < 0)
    return -1;
  return 0;
}

static int attr_stack_size(const struct uthread_attr *attr)
{
  if (attr == 0 || attr->stacksize <= 0)
    return DEFAULT_STACK;
  if (attr->stacksize > (1 << 24))
    return -1;
  return (attr->stacksize + PAGE - 1) & ~(PAGE - 1);
}

static int create_in_lib(void (*fn)(void *), void *arg, const struct uthread_attr *attr)
{
  int size = attr_stack_size(attr);
  int prio = attr ? attr->prio : 0;
  if (!ult_ready || fn == 0 || size < 0 || prio < 0 || prio > UTHREAD_PRIO_MAX)
    return -1;
  struct ult *t = ult_slot_take();
  if (t == 0)
    return -1;
  if (!ult_stack_ensure(t, size)) {
    ult_death_row_put(t);
    return -1;
  }
  t->fn = fn;
  t->arg = arg;
  t->prio = prio;
  t->joiner = NO_TID;
  t->queued = 0;
  t->bound_lwp = 0;
  t->sigmask = current_thread()->sigmask;   // its creator's, as POSIX threads
  t->sigpending = 0;
  t->ctx = (struct ult_context){ .ra = (uint64)thread_start, .sp = t->stack_hi };
  if (uthread_debug)
    ult_announce_stack(t);
  __atomic_add_fetch(&live_threads, 1, __ATOMIC_ACQ_REL);
  spin_lock(&ult_table_lock);
  t->state = ULT_ALIVE;
  spin_unlock(&ult_table_lock);
  if (attr && attr->bound) {
    if (!ult_bound_lwp_start(t)) {
      __atomic_sub_fetch(&live_threads, 1, __ATOMIC_ACQ_REL);
      ult_death_row_put(t);
      return -1;
    }
  } else {
    ult_make_runnable(t);
  }
  return t->tid;
}

// Each entry point below runs between lib_enter() and lib_leave(): no kick
// preempts the thread while it holds a library lock or is being switched.
int uthread_create(void (*fn)(void *), void *arg, const struct uthread_attr *attr)
{
  int was = lib_enter();
  int tid = create_in_lib(fn, arg, attr);
  lib_leave(was);
  return tid;
}

void uthread_exit(void)
{
  if (!ult_ready)
    exit(0);
  lib_enter();
  thread_exit(current_thread());
}

static int tid_is_valid(int tid)
{
  return tid >= 0 && tid < UTHREAD_MAX;
}

static int join_in_lib(int tid)
{
  if (!ult_ready || !tid_is_valid(tid) || tid == current_thread()->tid)
    return -1;
  struct ult *self = current_thread();
  struct ult *t = &ult_threads[tid];
  spin_lock(&ult_table_lock);
  int joinable = (t->state == ULT_ALIVE || t->state == ULT_EXITED) && t->joiner == NO_TID;
  if (!joinable) {
    spin_unlock(&ult_table_lock);
    return -1;
  }
  if (t->state != ULT_EXITED) {
    t->joiner = self->tid;
    block_releasing(self, &ult_table_lock);    // thread_retire wakes us
    spin_lock(&ult_table_lock);
  }
  t->state = ULT_DEAD;                      // nobody else may join it now
  t->joiner = NO_TID;
  spin_unlock(&ult_table_lock);
  if (t->bound_lwp) {
    ult_bound_lwp_reap(t->bound_lwp);
    t->bound_lwp = 0;
  }
  ult_death_row_put(t);
  return 0;
}

int uthread_join(int tid)
{
  int was = lib_enter();
  int r = join_in_lib(tid);
  lib_leave(was);
  return r;
}

int uthread_self(void)
{
  if (!ult_ready)
    return -1;
  int was = lib_enter();   // current_thread() reads two words through tp
  int tid = current_thread()->tid;
  lib_leave(was);
  return tid;
}

void uthread_yield(void)
{
  int was = lib_enter();
  struct ult *self = current_thread();   // 0 before uthread_init
  if (self != 0 && !self->bound_lwp) {   // a bound thread owns its LWP
    uthread_upcall_poll();     // threads the kernel unblocked are work too (lab upcalls)
    yield(self);
  }
  lib_leave(was);
}

static int setprio_in_lib(int tid, int prio)
{
  if (!ult_ready || !tid_is_valid(tid) || prio < 0 || prio > UTHREAD_PRIO_MAX)
    return -1;
  struct ult *t = &ult_threads[tid];
  spin_lock(&ult_table_lock);
  if (t->state != ULT_ALIVE && t->state != ULT_EXITED) {
    spin_unlock(&ult_table_lock);
    return -1;
  }
  struct ult_lwp *victim = 0;
  spin_lock(&run_lock);
  if (t->queued) {
    run_queue_remove(t);
    t->prio = prio;
    run_queue_append(t);
    victim = ult_kick_choose(prio);
  } else {
    t->prio = prio;
  }
  spin_unlock(&run_lock);
  spin_unlock(&ult_table_lock);
  ult_kick_send(victim);
  return 0;
}

int uthread_setprio(int tid, int prio)
{
  int was = lib_enter();
  int r = setprio_in_lib(tid, prio);
  lib_leave(was);
  return r;
}

// ---- wait lists (FIFO through ult_threads[].next; the owner's guard held) ---------------
void ult_wait_append(int *head, int *tail, int tid)
{
  ult_threads[tid].next = NO_TID;
  if (*head == NO_TID)
    *head = tid;
  else
    ult_threads[*tail].next = tid;
  *tail = tid;
}

int ult_wait_take(int *head, int *tail)
{
  int tid = *head;
  if (tid == NO_TID)
    return NO_TID;
  *head = ult_threads[tid].next;
  if (*head == NO_TID)
    *tail = NO_TID;
  return tid;
}

// ---- for the mutexes (user/lib/uthread_mutex.c, through uthread_impl.h) ---------------
int  ult_lib_enter(void)        { return lib_enter(); }
void ult_lib_leave(int was)     { lib_leave(was); }

int ult_self(void)
{
  struct ult *t = current_thread();
  return t ? t->tid : NO_TID;
}

void ult_block_releasing(int *guard)
{
  struct ult *self = current_thread();
  if (ult_test_hook)
    ult_test_hook(ULT_HOOK_BLOCK, guard, self->tid);
  block_releasing(self, guard);
}

void ult_wake(int tid)
{
  if (ult_test_hook)
    ult_test_hook(ULT_HOOK_WAKE, 0, tid);
  ult_make_runnable(&ult_threads[tid]);
}

struct ult_lwp *ult_lwp_of(int tid)
{
  return ult_ready && tid_is_valid(tid) ? ult_threads[tid].lwp : 0;
}

int ult_lwp_current(struct ult_lwp *l)
{
  return l->current_tid;
}

struct schedctl *ult_lwp_schedctl(struct ult_lwp *l)
{
  return l->sc;
}

// ---- condition variables -------------------------------------------------------------
void ucond_init(struct ucond *c)
{
  c->guard = 0;
  c->wait_head = c->wait_tail = NO_TID;
}

void ucond_wait(struct ucond *c, struct umutex *m)
{
  int was = lib_enter();
  struct ult *self = current_thread();
  spin_lock(&c->guard);
  ult_wait_append(&c->wait_head, &c->wait_tail, self->tid);
  umutex_unlock(m);                   // c->guard held: no signal can slip by
  block_releasing(self, &c->guard);
  umutex_lock(m);
  lib_leave(was);
}

void ucond_signal(struct ucond *c)
{
  int was = lib_enter();
  spin_lock(&c->guard);
  int tid = ult_wait_take(&c->wait_head, &c->wait_tail);
  spin_unlock(&c->guard);
  if (tid != NO_TID)
    ult_make_runnable(&ult_threads[tid]);
  lib_leave(was);
}

void ucond_broadcast(struct ucond *c)
{
  int was = lib_enter();
  spin_lock(&c->guard);
  int id = c->wait_head;
  c->wait_head = c->wait_tail = NO_TID;
  spin_unlock(&c->guard);
  while (id != NO_TID) {
    struct ult *t = &ult_threads[id];
    id = t->next;                     // read before t can run and wait again
    ult_make_runnable(t);
  }
  lib_leave(was);
}
