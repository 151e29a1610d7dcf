// Inside the uthread library, for its own files only (not the labs' files,
// which see user/lib/uthread_impl.h): the thread and LWP records, the state
// several files share, and the few helpers every switch uses, inline so a
// switch costs what it did when the library was one file. Owns no state:
// each global below is defined in the file named beside it, and only that
// file's functions change it (under the lock named there).
//
//   uthread.c             threads, the run queue, switching, the thread calls
//   uthread_stack.c       red-zoned stacks, thread slots and the death row
//   uthread_lwp.c         LWP records, the boot path, bound LWPs
//   uthread_kick.c        kicks: preempting a lower priority on another LWP
//   uthread_activation.c  what the upcall handler's events do (lab upcalls)
//   uthread_lock.c        the library's spin-then-nap lock
//   uthread_signal.c      thread signal masks and uthread_kill
//
// Every LWP that runs ULTs keeps a pointer to its struct ult_lwp in tp.
#pragma once
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"
#include "user/lib/uthread_lock.h"

#define PAGE              4096
#define SCHED_STACK       8192    // stack of an LWP's scheduler loop
#define NPRIO             (UTHREAD_PRIO_MAX + 1)
#define SIG_ALL     (((1ull << NSIG) - 2) & ~(1ull << SIGKILL))   // every signal a mask can hold
#define SIG_UNKNOWN (~0ull)       // ult_lwp.kmask of an LWP whose kernel mask is not known

// Callee-saved registers; the layout is used by uthread_switch.S.
struct ult_context {
  uint64 ra, sp, s[12];
};
// Saves the running context in *save, resumes *load, and there releases the
// spinlock *release (0: none).
void uthread_switch(struct ult_context *save, struct ult_context *load, int *release);

enum ult_state { ULT_FREE, ULT_NEW, ULT_ALIVE, ULT_EXITED, ULT_DEAD };

struct ult {
  struct ult_context ctx;
  int tid;
  int state;                 // enum ult_state; changed under ult_table_lock
  int prio;
  int queued;                // on the run queue (under run_lock, uthread.c)
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

// Who must hear of a thread just queued: an idle LWP to wake, an LWP to kick.
struct wakeup {
  int someone_idle;
  struct ult_lwp *victim;
};

struct ult_lwp {
  // The first two fields are read and written through tp, one instruction at
  // a time (lib_enter, lib_leave), so a preemption cannot fall between
  // finding the record and using it (offsets 0 and 4: asserted below).
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
  int word_lwpid;                 // the LWP that registered current_tid last, or 0 if unknown
  uint64 kmask;                   // the mask its kernel LWP has (SIG_UNKNOWN: not known)
  struct wakeup after_switch;     // a yield's wake-up, sent by what runs next here (switched_in)
  int in_use;                     // ult_lwp_leave() clears it with its last store
  char *stack_mem;                // its scheduler stack, SCHED_STACK bytes
  struct ult_lwp *all_next;       // the list of every record (set once)
};

// ---- shared state (each defined in the file named) ----------------------------
extern int ult_ready;               // uthread_init has run (uthread.c)
extern struct ult *ult_threads;     // [UTHREAD_MAX], tids are indices (uthread.c)
extern int ult_table_lock;          // thread states, joiners, slots, death row, LWP records (uthread.c)
extern int ult_next_tid;            // ult_threads[0 .. ult_next_tid) have been used (uthread_stack.c)
extern struct ult_lwp *ult_lwps;    // every LWP record, newest first (uthread_lwp.c)
extern int ult_sig_used;            // a mask was set or uthread_kill called (uthread_signal.c)

// ---- who is running ------------------------------------------------------------
static inline struct ult_lwp *this_lwp(void)
{
  struct ult_lwp *l;
  asm volatile("mv %0, tp" : "=r"(l));
  return l;
}

static inline void set_tp(struct ult_lwp *l)
{
  asm volatile("mv tp, %0" : : "r"(l));
}

// The calling LWP, whose id is lwpid (0: not known yet), runs on l. Also
// tells the kernel where this LWP keeps its running thread's id, so a
// stack overflow into a red zone is reported with that id, and the upcall
// path knows the thread (the kernel then forgets the word for any other
// LWP: word_lwpid names the one it is registered for).
// Its schedctl entry tells other LWPs whether it is on a CPU (the mutexes).
static inline void set_this_lwp(struct ult_lwp *l, int lwpid)
{
  set_tp(l);
  lwp_tidword(&l->current_tid);
  l->word_lwpid = lwpid;
  l->sc = schedctl();
}

static inline void set_current(struct ult_lwp *l, struct ult *t)
{
  if (t)
    t->lwp = l;
  l->current = t;
  l->current_tid = t ? t->tid : NO_TID;
}

// The running thread; 0 before uthread_init.
static inline struct ult *current_thread(void)
{
  if (!ult_ready)
    return 0;
  return this_lwp()->current;
}

// ---- inside the library: no preemption -------------------------------------------
// A ULT may be preempted (and resumed on another LWP, with tp naming that
// LWP) between any two of its instructions while in_lib is 0. So in_lib and
// resched_pending are reached through tp by single loads and stores: a
// preemption between "mark" and "use" would otherwise mark one LWP and use
// another. Once in_lib is 1 the thread stays on its LWP until it switches.
_Static_assert(__builtin_offsetof(struct ult_lwp, in_lib) == 0 &&
               __builtin_offsetof(struct ult_lwp, resched_pending) == 4, "lib_enter offsets");

// Enters library code; returns 1 if the caller was already inside (nested
// call, or the library is not initialised: nothing to do on leaving).
static inline int lib_enter(void)
{
  if (!ult_ready)
    return 1;
  int was, one = 1;
  asm volatile("lw %0, 0(tp)\n"
               "sw %1, 0(tp)" : "=&r"(was) : "r"(one) : "memory");
  // Preempted between the two? Then was is 0 and we resumed on an LWP whose
  // in_lib is 0 too: the store marks the right one.
  return was;
}

void ult_preempt_current(void);     // uthread.c

// Leaves library code entered with lib_enter() == was. A kick that came
// meanwhile is acted on here: the thread yields if a higher priority waits.
static inline void lib_leave(int was)
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
    ult_preempt_current();
  }
}

// ---- signals (uthread_signal.c) ----------------------------------------------------
void ult_sig_switched_in_slow(struct ult_lwp *me, struct ult *t);

// The LWP me now runs t (0: its scheduler); called inside the library. Costs
// one load until a thread masks a signal or uthread_kill is called.
static inline void sig_switched_in(struct ult_lwp *me, struct ult *t)
{
  if (__atomic_load_n(&ult_sig_used, __ATOMIC_ACQUIRE))
    ult_sig_switched_in_slow(me, t);
}

// ---- after a switch ------------------------------------------------------------------
void ult_after_switch_send(struct ult_lwp *me);   // uthread.c

// The LWP me now runs t (0: its scheduler), on t's stack, the lock the
// switch released free again: sends the wake-up a yield could not send
// while it held the run queue's lock, and brings the kernel's signal mask
// up to date. Every return from uthread_switch calls it.
static inline void switched_in(struct ult_lwp *me, struct ult *t)
{
  if (me->after_switch.someone_idle || me->after_switch.victim)
    ult_after_switch_send(me);
  sig_switched_in(me, t);
}

// ---- threads and the run queue (uthread.c) -------------------------------------------
extern int ult_idle_lwps;           // LWPs parked for want of work (under its run_lock)
void ult_make_runnable(struct ult *t);
void ult_shared_lwp_loop(void) __attribute__((noreturn));   // a shared LWP's scheduler
int *ult_work_word(void);           // the futex word idle LWPs park on

// ---- stacks, slots and the death row (uthread_stack.c) --------------------------------
struct ult *ult_slot_take(void);
void ult_death_row_put(struct ult *t);
int  ult_stack_ensure(struct ult *t, int size);
void ult_announce_stack(struct ult *t);
void ult_stack_cache_drain(void);

// ---- LWP records (uthread_lwp.c) --------------------------------------------------------
// The list of records, walked without a lock: a record is never freed and
// its all_next never changes, but its other fields may be stale at once.
static inline struct ult_lwp *ult_lwp_first(void)
{
  return __atomic_load_n(&ult_lwps, __ATOMIC_ACQUIRE);
}
struct ult_lwp *ult_lwp_slot_take(void);
void *ult_sched_stack_top(struct ult_lwp *l);
void ult_lwp_leave(int *word) __attribute__((noreturn));
int  ult_bound_lwp_start(struct ult *t);
void ult_bound_lwp_reap(struct ult_lwp *l);
struct ult_lwp *ult_lwp_by_id(int lwpid, int in_kernel, int tid);

// ---- kicks (uthread_kick.c); ult_kick_choose runs under the run queue's lock ------------
struct ult_lwp *ult_kick_choose(int prio);
void ult_kick_send(struct ult_lwp *victim);
int  ult_kick_aimed_at(struct ult_lwp *l);   // the kick in flight goes to l
void ult_kick_cancel(struct ult_lwp *l);     // if it goes to l, it is not in flight any more
void ult_preempt_handler(struct uframe *f);
