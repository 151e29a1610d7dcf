// The uthread library: M:N user threads (ULTs) over the process's LWPs.
// Owns the thread table (tids are indices), the shared priority run queue,
// the per-LWP scheduler loops (shared and bound), red-zoned stacks and the
// death row that recycles them, and ucond. The mutexes are in
// user/lib/uthread_mutex.c, which reaches this file only through the few
// ult_* entry points of user/lib/uthread_impl.h. The register switch itself
// is user/lib/uthread_switch.S; the design is explained in docs/uthread.md.
//
// Every LWP that runs ULTs keeps a pointer to its struct ult_lwp in tp. A ULT
// switches straight to the next ULT, or to its LWP's scheduler loop when
// there is none. It leaves holding the lock that guards the way back to it,
// and the switch releases that lock once the ULT is off its stack, so that no
// ULT can be resumed elsewhere while its stack is still in use (see
// "switching threads" below).
//
// Preemption (the kick): when a ULT becomes runnable while another LWP runs a
// lower-priority one, that LWP is kicked (lwp_kick, kernel/proc/kick.c) and
// runs preempt_handler() on top of its interrupted ULT, which yields. A kick
// that lands while the LWP is inside the library (in_lib) only marks it
// (resched_pending); lib_leave() acts on the mark.
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"
#include "uapi/syscall.h"

#define PAGE              4096
#define DEFAULT_STACK     8192
#define SCHED_STACK       8192    // stack of an LWP's scheduler loop
#define MAX_LWPS          64
#define STACK_CACHE_BYTES (16 << 20)   // stack memory kept on the death row (glibc: 40 MiB)
#define NPRIO             (UTHREAD_PRIO_MAX + 1)
#define SPINS_BEFORE_NAP  20000   // then nap one tick in the kernel
#define SIG_ALL     (((1ull << NSIG) - 2) & ~(1ull << SIGKILL))   // every signal a mask can hold
#define SIG_UNKNOWN (~0ull)       // ult_lwp.kmask of an LWP whose kernel mask is not known

int uthread_debug;

// Callee-saved registers; the layout is used by uthread_switch.S.
struct ult_context {
  uint64 ra, sp, s[12];
};
// Saves the running context in *save, resumes *load, and there releases the
// spinlock *release (0: none).
void uthread_switch(struct ult_context *save, struct ult_context *load, int *release);

enum ult_state { ULT_FREE, ULT_NEW, ULT_ALIVE, ULT_EXITED, ULT_DEAD };

struct ult_lwp;

struct ult {
  struct ult_context ctx;
  int tid;
  int state;                 // enum ult_state; changed under table_lock
  int prio;
  int queued;                // on the run queue (under run_lock)
  struct ult *run_next;      // link on the run queue
  int next;                  // link (tid): a wait list, or the death row
  int joiner;                // tid blocked in uthread_join on us, or NO_TID
  void (*fn)(void *);
  void *arg;
  struct ult_lwp *bound_lwp; // the LWP of a bound thread, else 0
  struct ult_lwp *lwp;       // the LWP that runs it, or last ran it (0: none yet)
  char *stack_mem;           // malloc'd block holding red zone + stack (0: none)
  uint64 red_lo;             // red zone [red_lo, red_lo + PAGE)
  uint64 stack_lo, stack_hi; // usable stack [stack_lo, stack_hi)
  int stack_size;
  uint64 resume_frame;       // unblocked by the kernel: its registers (lab upcalls)
  int resume_in_lib;         //   and whether it was inside the library then
  uint64 sigmask;            // signals it masks (changed only by itself)
  uint64 sigpending;         // sent by uthread_kill, not yet raised (atomic)
};

struct ult_lwp {
  // The first two fields are read and written through tp, one instruction at
  // a time (lib_enter, lib_leave), so a preemption cannot fall between
  // finding the record and using it. Offsets 0 and 4: see LWP_IN_LIB.
  volatile int in_lib;            // 1 while this LWP runs library code or its scheduler
  volatile int resched_pending;   // a kick came while in_lib: check on the way out
  struct ult_context sched_ctx;   // the scheduler loop of this LWP
  struct ult *current;            // ULT running (or just switched away from)
  int current_tid;                // its id, for the kernel's fault message
  struct ult *bound;              // the only ULT of a bound LWP, else 0
  int bound_wake;                 // futex word: 1 when the bound ULT may run
  int lwpid;
  int in_kernel;                  // blocked in the kernel holding current (lab upcalls)
  struct schedctl *sc;            // this LWP's schedctl entry (kernel-written), or 0
  uint64 kmask;                   // the mask its kernel LWP has (SIG_UNKNOWN: not known)
  int in_use;                     // lwp_leave() clears it with its last store
  char *stack_mem;
};

// Allocated by uthread_init, so programs that never use threads pay nothing.
static struct ult *threads;        // [UTHREAD_MAX]
static struct ult_lwp *lwps;       // [MAX_LWPS]
static int live_threads;           // not yet exited

// table_lock: thread states, joiners, slot allocation, the death row, lwps[].
static int table_lock;
static int next_unused_tid;
static int death_row_head = NO_TID;
static uint64 cached_bytes;        // stack memory held by the death row

// run_lock: the shared run queue and the idle-LWP bookkeeping.
static int run_lock;
static uint32 run_mask;            // bit p set: queue p is not empty
static struct ult *run_head[NPRIO], *run_tail[NPRIO];   // 0: empty
static int work_seq;               // futex word idle LWPs sleep on
static int idle_lwps;
static int lwp_slots_hi;           // lwps[0 .. lwp_slots_hi) have been used (under table_lock)
static struct ult_lwp *kick_target; // the one kick in flight, or 0 (under run_lock)

static void sig_switched_in(struct ult_lwp *me, struct ult *t);   // ---- signals, below

// ---- spinlocks --------------------------------------------------------------
// Test-and-set; a waiter that has spun for long (the holder's LWP was probably
// preempted) naps for a tick in the kernel instead of burning its slice.
static void lock_nap(int *l);

static void spin_lock_contended(int *l)
{
  do {
    int spins = 0;
    while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
      if (++spins >= SPINS_BEFORE_NAP) {
        lock_nap(l);
        spins = 0;
      }
    }
  } while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE));
}

// Inline: a free lock costs one atomic swap and a branch.
static inline void spin_lock(int *l)
{
  if (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
    spin_lock_contended(l);
}

static inline void spin_unlock(int *l)
{
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

// ---- who is running ------------------------------------------------------------
static inline struct ult_lwp *this_lwp(void)
{
  struct ult_lwp *l;
  asm volatile("mv %0, tp" : "=r"(l));
  return l;
}

// Also tells the kernel where this LWP keeps its running thread's id, so a
// stack overflow into a red zone is reported with that id.
// Its schedctl entry tells other LWPs whether it is on a CPU (the mutexes).
static inline void set_this_lwp(struct ult_lwp *l)
{
  asm volatile("mv tp, %0" : : "r"(l));
  lwp_tidword(&l->current_tid);
  l->sc = schedctl();
}

static void set_current(struct ult_lwp *l, struct ult *t)
{
  if (t)
    t->lwp = l;
  l->current = t;
  l->current_tid = t ? t->tid : NO_TID;
}

// ---- inside the library: no preemption -------------------------------------------
// A ULT may be preempted (and resumed on another LWP, with tp naming that
// LWP) between any two of its instructions while in_lib is 0. So in_lib and
// resched_pending are reached through tp by single loads and stores: a
// preemption between "mark" and "use" would otherwise mark one LWP and use
// another. Once in_lib is 1 the thread stays on its LWP until it switches.
_Static_assert(__builtin_offsetof(struct ult_lwp, in_lib) == 0 &&
               __builtin_offsetof(struct ult_lwp, resched_pending) == 4, "lib_enter offsets");

static int library_ready;

// A nap for a library lock is the library waiting for itself, not its thread
// blocking: the LWP publishes no thread (NO_TID) meanwhile. Else, with
// upcalls, the kernel reports the nap as BLOCKED and hands the thread to
// another LWP only through the ring, and a thread napping inside
// uthread_upcall_poll (holding the ring's drain lock) could then never be
// handed back: every LWP napped on that lock for good (upctest dozen2).
static void lock_nap(int *l)
{
  struct ult_lwp *me = library_ready ? this_lwp() : 0;
  int tid = me ? me->current_tid : NO_TID;
  if (me)
    me->current_tid = NO_TID;
  futex_wait(l, 1, 1);
  if (me)
    me->current_tid = tid;
}

// Enters library code; returns 1 if the caller was already inside (nested
// call, or the library is not initialised: nothing to do on leaving).
static inline int lib_enter(void)
{
  if (!library_ready)
    return 1;
  int was, one = 1;
  asm volatile("lw %0, 0(tp)\n"
               "sw %1, 0(tp)" : "=&r"(was) : "r"(one) : "memory");
  // Preempted between the two? Then was is 0 and we resumed on an LWP whose
  // in_lib is 0 too: the store marks the right one.
  return was;
}

static void preempt_current(void);

// Leaves library code entered with lib_enter() == was. A kick that came
// meanwhile is acted on here: the thread yields if a higher priority waits.
static void lib_leave(int was)
{
  if (was)
    return;
  for (;;) {
    int pending;
    asm volatile("sw zero, 0(tp)\n"              // in_lib = 0: preemptible again
                 "lw %0, 4(tp)" : "=r"(pending) : : "memory");
    if (!pending)
      return;
    lib_enter();
    asm volatile("sw zero, 4(tp)" : : : "memory");
    preempt_current();
  }
}

// The running thread; 0 before uthread_init.
static struct ult *current_thread(void)
{
  if (!library_ready)
    return 0;
  return this_lwp()->current;
}

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

// ---- kicks: preempting a lower-priority ULT on another LWP -------------------------------
// run_lock held; a thread of priority prio was just queued. Chooses the LWP
// to kick: of the other shared LWPs, the one running the lowest-priority ULT,
// if that is below prio. None if an LWP is idle or in its scheduler (it takes
// the best thread itself) or a kick is already in flight (one at a time).
// The caller's own LWP is not preempted: the caller keeps running, as before.
static struct ult_lwp *kick_choose(int prio)
{
  if (prio == 0 || idle_lwps > 0 || __atomic_load_n(&kick_target, __ATOMIC_ACQUIRE))
    return 0;
  struct ult_lwp *me = this_lwp(), *victim = 0;
  int lowest = prio, n = __atomic_load_n(&lwp_slots_hi, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++) {
    struct ult_lwp *l = &lwps[i];
    if (!l->in_use || l->bound || l->in_kernel || l == me)
      continue;
    struct ult *running = l->current;
    if (running == 0)
      return 0;
    if (running->prio < lowest) {
      lowest = running->prio;
      victim = l;
    }
  }
  __atomic_store_n(&kick_target, victim, __ATOMIC_RELEASE);
  return victim;
}

// Sends the kick kick_choose() chose (run_lock released).
static void kick_send(struct ult_lwp *victim)
{
  if (victim == 0 || lwp_kick(victim->lwpid) == 0)
    return;
  struct ult_lwp *expected = victim;     // it has ended: no kick in flight after all
  __atomic_compare_exchange_n(&kick_target, &expected, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

// Who must hear of a thread just queued: an idle LWP to wake, an LWP to kick.
struct wakeup {
  int someone_idle;
  struct ult_lwp *victim;
};

// run_lock held; t was just queued. Decides who must hear of it, and the
// caller passes the answer to wakeup_send(). work_seq changes only when an
// LWP is parked (or about to park) on it: any other LWP takes run_lock
// before it parks, and so finds t. (The kernel bumps it too: lab upcalls.)
static inline struct wakeup wakeup_choose(struct ult *t)
{
  struct wakeup w = { 0, 0 };
  if (idle_lwps > 0) {
    __atomic_add_fetch(&work_seq, 1, __ATOMIC_RELEASE);
    w.someone_idle = 1;
  } else if (t->prio > 0) {        // priority 0 preempts nobody
    w.victim = kick_choose(t->prio);
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
    kick_send(w.victim);
}

// Makes t runnable: on its own LWP if bound, else on the shared queue, waking
// one idle LWP if there is any, or kicking an LWP that runs a lower priority.
static void make_runnable(struct ult *t)
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

// The running thread gives way if a higher-priority thread is queued.
// Called inside the library (in_lib set), when a kick has come.
static void preempt_current(void)
{
  struct ult_lwp *me = this_lwp();
  struct ult *self = me->current;
  if (self == 0 || me->bound)      // 0: in its scheduler, which takes the best itself
    return;
  if ((run_mask_hint() >> (self->prio + 1)) != 0)
    uthread_yield();
}

// The kernel runs this on a kicked LWP, on the stack of whatever it was
// running, with f holding the interrupted registers (kernel/proc/kick.c).
// In a ULT's own code: the ULT yields right here, and when it is resumed
// (maybe on another LWP) lwp_resume takes it back to where it was. Inside
// the library: only mark the LWP; lib_leave() yields on the way out.
static void preempt_handler(struct uframe *f)
{
  if (this_lwp() != 0) {           // 0: an LWP still booting (it has no record)
    int was = lib_enter();
    struct ult_lwp *me = this_lwp();
    struct ult_lwp *expected = me;   // the kick in flight has arrived
    __atomic_compare_exchange_n(&kick_target, &expected, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    me->resched_pending = 1;
    sig_switched_in(me, me->current);   // a uthread_kill may be why it was kicked
    lib_leave(was);                  // was 0: yields now; else the library will
  }
  lwp_resume(f);                     // tp stays this LWP's (the kernel keeps it)
  printf("uthread: lwp_resume failed\n");
  exit(1);
}

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
    // reused: wait for it. kick_choose() runs under run_lock and never picks
    // an LWP whose current is 0, so none can come after this look.
    int ticks = __atomic_load_n(&kick_target, __ATOMIC_ACQUIRE) == me ? 1 : ulevel_idle();
    if (ticks < 0)
      break;
    idle_lwps++;
    spin_unlock(&run_lock);
    futex_wait(&work_seq, seen, ticks);
    seen = __atomic_load_n(&work_seq, __ATOMIC_ACQUIRE);   // read before looking again
    uthread_upcall_poll();
    spin_lock(&run_lock);
    idle_lwps--;
  }
  if (t == 0) {
    spin_unlock(&run_lock);
    return 0;
  }
  set_current(me, t);                // under run_lock: kick_choose() reads it
  return t;
}

// ---- stacks with red zones ----------------------------------------------------------
static int stack_alloc(struct ult *t, int size)
{
  char *mem = malloc(size + 2 * PAGE);
  if (mem == 0)
    return 0;
  uint64 red = ((uint64)mem + PAGE - 1) & ~(uint64)(PAGE - 1);
  if (mprotect((void *)red, PAGE, PROT_NONE) < 0) {
    free(mem);
    return 0;
  }
  t->stack_mem = mem;
  t->red_lo = red;
  t->stack_lo = red + PAGE;
  t->stack_hi = t->stack_lo + size;
  t->stack_size = size;
  return 1;
}

static void stack_release(char *mem, uint64 red_lo)
{
  mprotect((void *)red_lo, PAGE, PROT_READ | PROT_WRITE);
  free(mem);
}

// The heap memory a stack of t's holds: the stack, its red zone and the
// page lost to alignment.
static uint64 stack_bytes(struct ult *t)
{
  return t->stack_size + 2 * PAGE;
}

// Gives t a stack of `size` bytes, reusing the cached one when it fits.
static int stack_ensure(struct ult *t, int size)
{
  if (t->stack_mem && t->stack_size == size)
    return 1;
  if (t->stack_mem)
    stack_release(t->stack_mem, t->red_lo);
  t->stack_mem = 0;
  return stack_alloc(t, size);
}

static void announce_stack(struct ult *t)
{
  printf("uthread: tid %d stack [%p,%p) red zone [%p,%p)\n", t->tid,
         (void *)t->stack_lo, (void *)t->stack_hi, (void *)t->red_lo, (void *)(t->red_lo + PAGE));
}

// ---- thread slots and the death row -------------------------------------------------
// A slot for a new thread: a retired one from the death row first.
static struct ult *slot_take(void)
{
  struct ult *t = 0;
  spin_lock(&table_lock);
  if (death_row_head != NO_TID) {
    t = &threads[death_row_head];
    death_row_head = t->next;
    if (t->stack_mem)
      cached_bytes -= stack_bytes(t);
  } else if (next_unused_tid < UTHREAD_MAX) {
    t = &threads[next_unused_tid];
    t->tid = next_unused_tid++;
  }
  if (t)
    t->state = ULT_NEW;
  spin_unlock(&table_lock);
  return t;
}

// Retires t (joined, or never started) to the death row; keeps its stack
// while the cached stacks stay within STACK_CACHE_BYTES, frees it otherwise.
// The bound is in bytes, not stacks, and large (a thousand default stacks),
// so that retiring a thread costs the same with 2 threads or 1,000: freeing
// a stack is a system call (the red zone) and a free. The memory is not
// lost to the rest of the program: malloc empties the cache when the heap
// cannot grow (stack_cache_drain).
static void death_row_put(struct ult *t)
{
  char *drop = 0;
  uint64 drop_red = 0;
  spin_lock(&table_lock);
  t->state = ULT_DEAD;
  if (t->stack_mem && cached_bytes + stack_bytes(t) > STACK_CACHE_BYTES) {
    drop = t->stack_mem;
    drop_red = t->red_lo;
    t->stack_mem = 0;
  } else if (t->stack_mem) {
    cached_bytes += stack_bytes(t);
  }
  t->next = death_row_head;
  death_row_head = t->tid;
  spin_unlock(&table_lock);
  if (drop)
    stack_release(drop, drop_red);
}

// A cached stack waiting to be freed by stack_cache_drain, written at the
// bottom of its own usable stack.
struct stack_to_free {
  char *mem;
  uint64 red_lo;
  struct stack_to_free *next;
};

// malloc's reclaim hook: frees every stack the death row keeps. Slots keep
// their place on the row, without a stack; slot_take's caller allocates one.
static void stack_cache_drain(void)
{
  struct stack_to_free *list = 0;
  spin_lock(&table_lock);
  for (int tid = death_row_head; tid != NO_TID; tid = threads[tid].next) {
    struct ult *t = &threads[tid];
    if (t->stack_mem == 0)
      continue;
    struct stack_to_free *f = (struct stack_to_free *)t->stack_lo;
    *f = (struct stack_to_free){ t->stack_mem, t->red_lo, list };
    list = f;
    t->stack_mem = 0;
  }
  cached_bytes = 0;
  spin_unlock(&table_lock);
  while (list) {
    struct stack_to_free f = *list;  // the block holding *list is freed next
    stack_release(f.mem, f.red_lo);
    list = f.next;
  }
}

// ---- LWPs -------------------------------------------------------------------------
static struct ult_lwp *lwp_slot_take(void)
{
  struct ult_lwp *l = 0;
  spin_lock(&table_lock);
  for (int i = 0; i < MAX_LWPS && l == 0; i++)
    if (!lwps[i].in_use)
      l = &lwps[i];
  if (l) {
    set_current(l, 0);
    l->in_use = 1;
    if (l - lwps >= lwp_slots_hi)
      __atomic_store_n(&lwp_slots_hi, (int)(l - lwps) + 1, __ATOMIC_RELEASE);
  }
  spin_unlock(&table_lock);
  if (l == 0)
    return 0;
  l->in_lib = 1;                     // its scheduler runs first
  l->resched_pending = 0;
  l->kmask = SIG_UNKNOWN;            // a new LWP's mask is its creator's, or 0
  l->bound = 0;
  l->bound_wake = 0;
  if (l->stack_mem == 0)             // kept by an LWP that left (lwp_leave)
    l->stack_mem = malloc(SCHED_STACK);
  if (l->stack_mem == 0) {
    spin_lock(&table_lock);
    l->in_use = 0;
    spin_unlock(&table_lock);
    return 0;
  }
  return l;
}

// Ends the calling LWP, whose last store frees *word (the record or lock
// protecting the stack it runs on): nothing touches the stack after that
// store, and the next instruction is the lwp_exit system call.
static void lwp_leave(int *word) __attribute__((noreturn));
static void lwp_leave(int *word)
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
  spin_lock(&table_lock);
  l->in_use = 0;
  spin_unlock(&table_lock);
}

static void *sched_stack_top(struct ult_lwp *l)
{
  return l->stack_mem + SCHED_STACK;
}

// The loop of an LWP that serves the shared run queue, on the LWP's own
// stack. A thread switches here only when the queue had nothing for it
// (it has already left its stack and released its lock); this loop waits for
// work and switches to it. Never returns.
static void shared_lwp_loop(void)
{
  struct ult_lwp *me = this_lwp();
  for (;;) {
    struct ult *next = wait_for_work(me);
    if (next == 0)
      lwp_leave(&me->in_use);   // surplus; the record keeps its stack for reuse
    uthread_switch(&me->sched_ctx, &next->ctx, &run_lock);
    sig_switched_in(me, 0);
  }
}

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

// ---- LWPs the kernel adds (set_concurrency): leaving the boot stack -----------
// uthread_level.c owns the boot stack and its lock, and calls these on it.
static int boot_user;              // 1 + lwpid of the LWP inside ult_boot_run, or 0

// A replacement activation is needed: the LWP it replaces parks when it
// wakes, so without it nobody may be left to serve, and the process would
// hang. Memory comes back as others free it.
struct ult_lwp *ult_boot_take(int needed)
{
  struct ult_lwp *l = lwp_slot_take();
  for (int tries = 0; l == 0 && needed && tries < 100; tries++) {
    sleep(1);                      // not an activation block: no thread is named
    l = lwp_slot_take();
  }
  if (l == 0 && needed) {
    fprintf(2, "uthread: no memory for a replacement activation's stack\n");
    exit(-1);
  }
  if (l)
    l->lwpid = lwp_self();
  return l;
}

// Checks that one LWP at a time uses the boot stack: an LWP that finds
// another one still inside ends the process with a message (the two would
// overwrite each other's frames). kdebug(KD_SCHEDCTL_DELAY) keeps an LWP
// inside (set_this_lwp calls schedctl) so that a test can see it.
void ult_boot_run(struct ult_lwp *l, int *release)
{
  int other = __atomic_exchange_n(&boot_user, l->lwpid + 1, __ATOMIC_ACQ_REL);
  if (other != 0) {
    fprintf(2, "uthread: LWPs %d and %d on the boot stack at once\n", other - 1, l->lwpid);
    exit(-1);
  }
  set_this_lwp(l);
  l->sched_ctx.ra = (uint64)shared_lwp_loop;
  l->sched_ctx.sp = (uint64)sched_stack_top(l);
  __atomic_store_n(&boot_user, 0, __ATOMIC_RELEASE);
  struct ult_context abandoned;    // the boot stack is given back by the switch
  uthread_switch(&abandoned, &l->sched_ctx, release);
  __builtin_unreachable();
}

void ult_boot_leave(int *release)
{
  static int nothing;
  lwp_leave(release ? release : &nothing);
}

static int bound_lwp_start(struct ult *t)
{
  struct ult_lwp *l = lwp_slot_take();
  if (l == 0)
    return 0;
  l->bound = t;
  l->bound_wake = 1;
  t->bound_lwp = l;
  l->lwpid = lwp_create(bound_lwp_entry, l, sched_stack_top(l));
  if (l->lwpid < 0) {
    t->bound_lwp = 0;
    lwp_slot_release(l);
    return 0;
  }
  return 1;
}

static void bound_lwp_reap(struct ult_lwp *l)
{
  lwp_join(l->lwpid);
  lwp_slot_release(l);
}

// ---- scheduler activations: what the events do (lab upcalls) -----------------------
// The handler that reads the kernel's events is user/lib/uthread_upcall.c;
// these are the effects it asks for (declared in uthread_impl.h).
int ulib_ready(void)
{
  return library_ready;
}

void ulib_lock(int *l)
{
  spin_lock(l);
}

void ulib_unlock(int *l)
{
  spin_unlock(l);
}

// Where a replacement activation starts: the boot entry's variant that
// does not count it as one more serving LWP (uthread_level.c).
void ulib_upcall_entry(uint64 *entry, uint64 *arg, uint64 *stack, uint64 *wake_word)
{
  ulevel_upcall_entry(entry, arg, stack);
  *wake_word = (uint64)&work_seq;
}

// The record of kernel LWP lwpid, blocked in the kernel (in_kernel 1) or not.
static struct ult_lwp *lwp_by_id(int lwpid, int in_kernel)
{
  int n = __atomic_load_n(&lwp_slots_hi, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++)
    if (lwps[i].in_use && lwps[i].lwpid == lwpid && lwps[i].in_kernel == in_kernel)
      return &lwps[i];
  return 0;
}

int ulib_lwp_blocked(int lwpid, int tid)
{
  struct ult_lwp *l = lwp_by_id(lwpid, 0);
  if (l == 0 || l->current_tid != tid)
    return -1;
  l->in_kernel = 1;                  // kick_choose() leaves it alone now
  struct ult_lwp *expected = l;      // a kick on its way there will never land
  __atomic_compare_exchange_n(&kick_target, &expected, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
  return 0;
}

// A thread the kernel unblocked starts here when a scheduler picks it, on
// its own stack just below the frame the kernel wrote: it leaves the library
// as it was when it blocked, then reloads every register from the frame
// (lwp_resume keeps tp, which names this LWP's record).
static void upcall_resume(void)
{
  struct ult *self = current_thread();
  struct uframe *f = (struct uframe *)self->resume_frame;
  sig_switched_in(this_lwp(), self);
  lib_leave(self->resume_in_lib);
  lwp_resume(f);
}

int ulib_thread_resume_at(int tid, uint64 frame, int lwpid)
{
  struct ult_lwp *l = lwp_by_id(lwpid, 1);
  if (tid < 0 || tid >= UTHREAD_MAX || l == 0 || l->current != &threads[tid])
    return -1;
  struct ult *t = &threads[tid];
  t->resume_frame = frame;
  t->resume_in_lib = l->in_lib;      // l is parked in the kernel: nothing moves it
  memset(&t->ctx, 0, sizeof t->ctx);
  t->ctx.ra = (uint64)upcall_resume;
  t->ctx.sp = frame;                 // below the frame: it stays intact
  return 0;
}

void ulib_make_runnable(int tid)
{
  make_runnable(&threads[tid]);
}

int ulib_lwp_released(int lwpid)
{
  struct ult_lwp *l = lwp_by_id(lwpid, 1);
  if (l == 0)
    return -1;
  set_current(l, 0);
  l->in_kernel = 0;
  l->lwpid = -1;                     // the kernel reuses the id for a spare: forget it
  spin_lock(&table_lock);
  l->in_use = 0;                     // keeps its scheduler stack for the next LWP
  spin_unlock(&table_lock);
  return 0;
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
//   exit:  self's joiner will free its stack -> table_lock (uthread_join needs it)
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
  wakeup_send(wakeup_choose(self)); // another LWP may take self once run_lock is free
  set_current(this_lwp(), next);
  uthread_switch(&self->ctx, &next->ctx, &run_lock);
  sig_switched_in(this_lwp(), self);
}

// Leaves the LWP to the best queued thread, or to its scheduler if there is
// none (always, for a bound thread), releasing *lock once off self's stack.
static void switch_away(struct ult *self, int *lock)
{
  if (self->bound_lwp) {
    struct ult_lwp *me = this_lwp();
    set_current(me, 0);
    uthread_switch(&self->ctx, &me->sched_ctx, lock);
    sig_switched_in(this_lwp(), self);
    return;
  }
  spin_lock(&run_lock);
  struct ult_lwp *me = this_lwp();  // after the lock: a nap for it may move self (lab upcalls)
  struct ult *next = run_queue_take_highest(0);
  set_current(me, next);            // 0 under run_lock: see kick_choose()
  spin_unlock(&run_lock);
  uthread_switch(&self->ctx, next ? &next->ctx : &me->sched_ctx, lock);
  sig_switched_in(this_lwp(), self);
}

// Blocks the caller, which its waker will find on the wait list `guard`
// (held) protects; guard is released once the caller is off its stack.
static void block_releasing(struct ult *self, int *guard)
{
  switch_away(self, guard);
}

// The running thread ends: its joiner, if it waits, becomes runnable, and
// its stack is left for the joiner to recycle (uthread_join, under
// table_lock). The last thread to end ends the process.
static void thread_exit(struct ult *self) __attribute__((noreturn));
static void thread_exit(struct ult *self)
{
  if (__atomic_sub_fetch(&live_threads, 1, __ATOMIC_ACQ_REL) == 0)
    exit(0);
  spin_lock(&table_lock);
  self->state = ULT_EXITED;
  if (self->joiner != NO_TID)
    make_runnable(&threads[self->joiner]);   // it takes table_lock before it goes on
  switch_away(self, &table_lock);
  for (;;)
    ;                              // not reached: an exited thread is never resumed
}

static void thread_start(void)
{
  struct ult *self = current_thread();
  sig_switched_in(this_lwp(), self);
  lib_leave(0);            // we were switched to inside the library
  self->fn(self->arg);
  uthread_exit();
}

// ---- the thread interface ----------------------------------------------------------
static int tables_alloc(void)
{
  if (threads == 0)
    threads = malloc(UTHREAD_MAX * sizeof(struct ult));
  if (lwps == 0)
    lwps = malloc(MAX_LWPS * sizeof(struct ult_lwp));
  if (threads == 0 || lwps == 0)
    return 0;
  malloc_set_reclaim(stack_cache_drain);
  memset(threads, 0, UTHREAD_MAX * sizeof(struct ult));
  memset(lwps, 0, MAX_LWPS * sizeof(struct ult_lwp));
  return 1;
}

int uthread_init(int nlwp)
{
  if (library_ready || nlwp < 1 || nlwp > MAX_LWPS)
    return -1;
  if (!tables_alloc())
    return -1;
  struct ult *main_thread = &threads[0];
  main_thread->tid = 0;
  main_thread->state = ULT_ALIVE;
  main_thread->joiner = NO_TID;
  sigprocmask(SIG_BLOCK, 0, &main_thread->sigmask);
  next_unused_tid = 1;
  live_threads = 1;

  struct ult_lwp *l = lwp_slot_take();
  if (l == 0)
    return -1;
  l->lwpid = lwp_self();
  l->sched_ctx.ra = (uint64)shared_lwp_loop;
  l->sched_ctx.sp = (uint64)sched_stack_top(l);
  set_current(l, main_thread);
  set_this_lwp(l);
  library_ready = 1;
  lib_leave(0);            // thread 0 runs its own code again
  if (lwp_preempt_handler(preempt_handler) < 0 || ulevel_start(nlwp) < 0)
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
  if (!library_ready || fn == 0 || size < 0 || prio < 0 || prio > UTHREAD_PRIO_MAX)
    return -1;
  struct ult *t = slot_take();
  if (t == 0)
    return -1;
  if (!stack_ensure(t, size)) {
    death_row_put(t);
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
    announce_stack(t);
  __atomic_add_fetch(&live_threads, 1, __ATOMIC_ACQ_REL);
  spin_lock(&table_lock);
  t->state = ULT_ALIVE;
  spin_unlock(&table_lock);
  if (attr && attr->bound) {
    if (!bound_lwp_start(t)) {
      __atomic_sub_fetch(&live_threads, 1, __ATOMIC_ACQ_REL);
      death_row_put(t);
      return -1;
    }
  } else {
    make_runnable(t);
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
  if (!library_ready)
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
  if (!library_ready || !tid_is_valid(tid) || tid == current_thread()->tid)
    return -1;
  struct ult *self = current_thread();
  struct ult *t = &threads[tid];
  spin_lock(&table_lock);
  int joinable = (t->state == ULT_ALIVE || t->state == ULT_EXITED) && t->joiner == NO_TID;
  if (!joinable) {
    spin_unlock(&table_lock);
    return -1;
  }
  if (t->state != ULT_EXITED) {
    t->joiner = self->tid;
    block_releasing(self, &table_lock);    // thread_retire wakes us
    spin_lock(&table_lock);
  }
  t->state = ULT_DEAD;                      // nobody else may join it now
  t->joiner = NO_TID;
  spin_unlock(&table_lock);
  if (t->bound_lwp) {
    bound_lwp_reap(t->bound_lwp);
    t->bound_lwp = 0;
  }
  death_row_put(t);
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
  if (!library_ready)
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
  if (!library_ready || !tid_is_valid(tid) || prio < 0 || prio > UTHREAD_PRIO_MAX)
    return -1;
  struct ult *t = &threads[tid];
  spin_lock(&table_lock);
  if (t->state != ULT_ALIVE && t->state != ULT_EXITED) {
    spin_unlock(&table_lock);
    return -1;
  }
  struct ult_lwp *victim = 0;
  spin_lock(&run_lock);
  if (t->queued) {
    run_queue_remove(t);
    t->prio = prio;
    run_queue_append(t);
    victim = kick_choose(prio);
  } else {
    t->prio = prio;
  }
  spin_unlock(&run_lock);
  spin_unlock(&table_lock);
  kick_send(victim);
  return 0;
}

int uthread_setprio(int tid, int prio)
{
  int was = lib_enter();
  int r = setprio_in_lib(tid, prio);
  lib_leave(was);
  return r;
}

// ---- wait lists (FIFO through threads[].next; the owner's guard held) ---------------
void ult_wait_append(int *head, int *tail, int tid)
{
  threads[tid].next = NO_TID;
  if (*head == NO_TID)
    *head = tid;
  else
    threads[*tail].next = tid;
  *tail = tid;
}

int ult_wait_take(int *head, int *tail)
{
  int tid = *head;
  if (tid == NO_TID)
    return NO_TID;
  *head = threads[tid].next;
  if (*head == NO_TID)
    *tail = NO_TID;
  return tid;
}

// ---- for the mutexes (user/lib/uthread_mutex.c, through uthread_impl.h) ---------------
int  ult_lib_enter(void)        { return lib_enter(); }
void ult_lib_leave(int was)     { lib_leave(was); }
void ult_spin_lock(int *l)      { spin_lock(l); }
void ult_spin_unlock(int *l)    { spin_unlock(l); }

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
  make_runnable(&threads[tid]);
}

struct ult_lwp *ult_lwp_of(int tid)
{
  return library_ready && tid_is_valid(tid) ? threads[tid].lwp : 0;
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
    make_runnable(&threads[tid]);
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
    struct ult *t = &threads[id];
    id = t->next;                     // read before t can run and wait again
    make_runnable(t);
  }
  lib_leave(was);
}

// ---- signals (docs/signals.md) -------------------------------------------------------
// The kernel knows LWPs, not threads; its masks are per LWP. So each LWP's
// kernel mask is kept equal to the mask of the thread it runs, and an LWP
// in its scheduler (no thread) blocks every signal. The kernel then gives a
// process-directed signal only to an LWP running a thread that does not
// mask it; while every thread masks it, it stays pending in the kernel
// until a thread unmasks it or one that does not mask it is switched in.
// A uthread_kill signal waits on its thread (sigpending) and is raised on
// the LWP running that thread, with lwp_sigsend to itself (the kernel
// delivers it as that call returns, on the thread's stack), once the
// thread runs not masking it: at a switch-in, at uthread_sigmask, or when
// the kick that uthread_kill sends reaches it running. All of this costs
// nothing until a thread masks a signal or uthread_kill is called
// (sig_used): until then every kernel mask stays as the program set it.
static int sig_used;

static void sig_raise_pending(struct ult_lwp *me, struct ult *t)
{
  uint64 ready;
  while ((ready = __atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE) & ~t->sigmask) != 0) {
    int sig = 1;
    while (!(ready & (1ull << sig)))
      sig++;
    __atomic_fetch_and(&t->sigpending, ~(1ull << sig), __ATOMIC_ACQ_REL);
    lwp_sigsend(me->lwpid, sig);
  }
}

// The LWP me now runs t (0: its scheduler); called inside the library.
static void sig_switched_in(struct ult_lwp *me, struct ult *t)
{
  if (!__atomic_load_n(&sig_used, __ATOMIC_ACQUIRE))
    return;
  uint64 want = t ? t->sigmask : SIG_ALL;
  if (me->kmask != want) {
    me->kmask = want;
    sigprocmask(SIG_SETMASK, want, 0);
  }
  if (t)
    sig_raise_pending(me, t);
}

int uthread_sigmask(int how, uint64 set, uint64 *old)
{
  if (!library_ready)
    return sigprocmask(how, set, old);
  // sigpending writes *old: the kernel checks the pointer for us.
  if (!sigmask_how_ok(how) || (old && sigpending(old) < 0))
    return -1;
  int was = lib_enter();
  struct ult_lwp *me = this_lwp();
  struct ult *self = me->current;
  if (old)
    *old = self->sigmask;
  self->sigmask = sigmask_apply(self->sigmask, how, set) & SIG_ALL;
  __atomic_store_n(&sig_used, 1, __ATOMIC_RELEASE);
  sig_switched_in(me, self);
  lib_leave(was);
  return 0;
}

int uthread_kill(int tid, int sig)
{
  if (!library_ready || tid < 0 || tid >= UTHREAD_MAX || sig <= 0 || sig >= NSIG)
    return -1;
  int was = lib_enter();
  struct ult *t = &threads[tid];
  spin_lock(&table_lock);
  int alive = tid < next_unused_tid && t->state == ULT_ALIVE;
  if (alive && sig != SIGKILL)
    __atomic_fetch_or(&t->sigpending, 1ull << sig, __ATOMIC_ACQ_REL);
  spin_unlock(&table_lock);
  if (!alive || sig == SIGKILL) {
    lib_leave(was);
    return alive ? sigsend(getpid(), SIGKILL) : -1;
  }
  __atomic_store_n(&sig_used, 1, __ATOMIC_RELEASE);
  struct ult_lwp *me = this_lwp(), *l = t->lwp;
  if (t == me->current)
    sig_switched_in(me, t);
  else if (l && ult_lwp_current(l) == tid)
    lwp_kick(l->lwpid);          // running elsewhere: its preemption handler raises it
  lib_leave(was);
  return 0;
}
