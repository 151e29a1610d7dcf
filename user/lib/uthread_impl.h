// Inside the uthread library: what the library's core (user/lib/uthread.c
// and the files user/lib/uthread_core.h lists) offers the labs' files: the
// concurrency level in user/lib/uthread_level.c (lab concurrency), the
// upcall handler in user/lib/uthread_upcall.c (lab upcalls) and the mutexes
// in user/lib/uthread_mutex.c (lab adaptive), and what they offer it. Not
// for programs: they include user/uthread.h only (the tests of lab adaptive
// also set ult_test_hook).
#pragma once
#include "uapi/types.h"
#include "uapi/schedctl.h"

struct umutex;

// ---- the concurrency level (uthread_level.c) ---------------------------------
// What uthread_level.c offers the core:
// uthread_init, on the first LWP (which serves the run queue): registers
// where the LWPs the kernel adds start, and asks for n LWPs in all; 0 or -1.
int  ulevel_start(int n);
// An LWP that serves the run queue found it empty (the queue's lock is held,
// no kick is on its way to it). Returns -1 if the LWP must end now, else how
// many ticks it may park before it calls again (0: until work comes).
int  ulevel_idle(void);
// Where a replacement activation (lab upcalls) starts: the LWPs' entry, with
// the argument and stack that make it boot as one that does not serve.
void ulevel_upcall_entry(uint64 *entry, uint64 *arg, uint64 *stack);
// Whether the boot stack's lock is held (ult_boot_switch's check).
int  ulevel_boot_held(void);

// What the core (uthread_lwp.c, uthread.c) offers uthread_level.c: mechanism
// for an LWP the kernel added, which starts on the boot stack
// (uthread_switch.S, uthread_boot_entry).
// What the kernel gave the LWP that holds the boot lock at its entry: its
// LWP id and the word it registered with lwp_tidword (0 and 0: unknown).
void ult_boot_given(int lwpid, int *tidword);
// A free LWP record with a scheduler stack of its own, for the calling LWP
// (its id recorded), or 0 if there is no memory for one. needed: the
// caller cannot do without (a replacement activation, lab upcalls): it tries
// again every tick, and after a second ends the process with a message.
struct ult_lwp *ult_boot_take(int needed);
// The calling LWP becomes l: it runs fn, which must never return, on l's
// scheduler stack. *release (if release is not 0) is cleared once nothing
// uses the current stack any more. Ends the process with a message if the
// boot stack's lock is free, or another LWP is inside at the same time.
void ult_boot_switch(struct ult_lwp *l, void (*fn)(void), int *release)
  __attribute__((noreturn));
// Ends the calling LWP, which has no record (an LWP with one ends through
// its scheduler loop): its last store clears *release (0: nothing).
void ult_boot_leave(int *release) __attribute__((noreturn));
// The scheduler loop of an LWP that serves the run queue, for an LWP that
// runs on its record's stack: runs threads and parks, and ends the LWP when
// ulevel_idle says so.
void ult_shared_lwp_loop(void) __attribute__((noreturn));

// ---- for the upcall handler (uthread_activation.c, uthread_lock.c) -----------
int  ulib_ready(void);                 // uthread_init has run
void ulib_lock(int *l);                // the library's spinlock
void ulib_unlock(int *l);
// What upcall_register needs: the replacements' entry, its argument and
// stack, and the word idle LWPs wait on (the kernel bumps and wakes it).
void ulib_upcall_entry(uint64 *entry, uint64 *arg, uint64 *stack, uint64 *wake_word);
// BLOCKED: LWP lwpid is in the kernel with thread tid; 0, or -1 if the
// library knows no such LWP running tid.
int  ulib_lwp_blocked(int lwpid, int tid);
// UNBLOCKED: thread tid, held by the blocked LWP lwpid, resumes from the
// frame the kernel wrote, on whichever LWP picks it next; 0 or -1.
int  ulib_thread_resume_at(int tid, uint64 frame, int lwpid);
void ulib_make_runnable(int tid);      // onto the run queue (wakes an idle LWP)
// RELEASED: the blocked LWP lwpid left for good: its record is free; 0 or -1.
int  ulib_lwp_released(int lwpid);
// The upcall handler (uthread_upcall.c): read and act on every event in the
// ring. Schedulers call it before they look for work and after they wake.
void uthread_upcall_poll(void);

// ---- for the mutexes ---------------------------------------------------------
// Every function here runs between ult_lib_enter() and ult_lib_leave(), so
// the calling thread is not preempted by a kick while it uses them.
#define NO_TID (-1)

int  ult_lib_enter(void);           // 1 if already inside (pass it to ult_lib_leave)
void ult_lib_leave(int was);
int  ult_self(void);                // tid of the running thread; NO_TID before uthread_init

// Short spinlocks over library data (test-and-set; a long waiter naps a tick).
void ult_spin_lock(int *l);
void ult_spin_unlock(int *l);

// FIFO wait lists of tids, linked through the thread table; the caller holds
// the lock (guard) of the list.
void ult_wait_append(int *head, int *tail, int tid);
int  ult_wait_take(int *head, int *tail);    // first tid, or NO_TID when empty

// Blocks the running thread; guard (held) is released once the thread is off
// its stack, so a waker that takes guard finds it fully switched out.
void ult_block_releasing(int *guard);
void ult_wake(int tid);             // makes a blocked thread runnable

// The lock word of struct umutex (user/lib/uthread_lockword.c): m->locked
// is 1 while the mutex is owned. The mutexes change it only through these
// two, which the tests of lab adaptive watch (ult_test_hook below).
int  ult_lock_try(struct umutex *m);      // 0 -> 1: 1 if the caller owns m now
void ult_lock_release(struct umutex *m);  // 1 -> 0, with release order

// Who runs where. A thread's LWP is the one that runs it now or ran it last
// (0 if none yet); that LWP runs it now iff ult_lwp_current(l) == tid. The
// LWP's schedctl entry (written by the kernel at every switch, read-only
// here; 0 if the kernel gave none) says whether that LWP is on a CPU.
// Both answers may be stale the moment they are read: use them as hints.
struct ult_lwp;
struct ult_lwp *ult_lwp_of(int tid);
int ult_lwp_current(struct ult_lwp *l);
struct schedctl *ult_lwp_schedctl(struct ult_lwp *l);

// ---- test hooks (the labs' tests; 0 in every other program) ---------------------
// If set, called on the thread concerned, inside the library, at: a look at
// a held lock word (ult_lock_try failed), a release of the lock word (before
// the store, and after it), a thread blocking (ult_block_releasing, before
// it switches out) and a thread being woken (ult_wake, before it is made
// runnable); and, on the LWP reading the upcall ring, a BLOCKED event's
// effect (ulib_lwp_blocked, before it marks the LWP). A test holds a thread
// at one of these points to force the interleaving it needs. obj is the
// umutex (TAKE_FAILED, RELEASE, RELEASED) or the guard (BLOCK), 0 for WAKE
// and LWP_BLOCKED; tid is the thread blocking, woken or held in the kernel,
// else the caller.
enum { ULT_HOOK_TAKE_FAILED, ULT_HOOK_RELEASE, ULT_HOOK_BLOCK, ULT_HOOK_WAKE, ULT_HOOK_LWP_BLOCKED,
       ULT_HOOK_RELEASED };
extern void (*ult_test_hook)(int event, void *obj, int tid);
