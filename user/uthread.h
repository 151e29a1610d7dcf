// The uthread library interface: M:N user threads (ULTs) multiplexed over the
// process's LWPs, with priorities, bound threads, mutexes and condition
// variables. Implementation: user/lib/uthread*.c (user/lib/uthread_core.h
// lists the files) and user/lib/uthread_switch.S; design notes:
// docs/uthread.md, docs/adaptive.md.
#pragma once

#define UTHREAD_MAX       2048   // thread ids are 0 .. UTHREAD_MAX-1 (indices into a table)
#define UTHREAD_PRIO_MAX  31     // priorities are 0 (lowest, default) .. 31

// Thread attributes; a zero field means the default.
struct uthread_attr {
  int stacksize;   // bytes, rounded up to whole pages (default 8 KiB)
  int prio;        // 0 .. 31
  int bound;       // nonzero: the thread gets an LWP of its own for its whole life
};

// The caller becomes thread 0; set_concurrency(nlwp) asks the kernel for nlwp >= 1
// LWPs to run user threads (the program may change the level later; 0 or -1).
int  uthread_init(int nlwp);
int  uthread_create(void (*fn)(void *), void *arg, const struct uthread_attr *attr); // tid or -1
void uthread_exit(void) __attribute__((noreturn));   // returning from fn is the same
int  uthread_join(int tid);    // 0, or -1 for an unknown, finished-and-joined, or own tid
int  uthread_self(void);
void uthread_yield(void);
int  uthread_setprio(int tid, int prio);   // 0 or -1
// Signals (docs/signals.md): each thread has its own mask (a new thread
// starts with its creator's); a signal sent to the process is taken by one
// thread that does not mask it, and stays pending while all of them do.
// uthread_kill sends to one thread, which takes it once it runs not
// masking it. Both 0, or -1 for a bad how, pointer, tid or signal number.
int  uthread_sigmask(int how, uint64 set, uint64 *old);
int  uthread_kill(int tid, int sig);

// Lab upcalls: after uthread_init, turn scheduler-activation upcalls on (1) or
// off (0). With them on, a user thread that blocks in the kernel no longer
// takes its LWP with it: the kernel hands the process a replacement LWP and
// gives the thread back to the library when its call finishes. 0, or -1
// where the kernel does not support them (the library then works as before).
int  uthread_upcalls(int on);

// What the upcall handler has seen (lab upcalls); 0 or -1.
struct uthread_upcall_stats {
  uint64 events;      // events read from the ring
  uint64 blocked, unblocked, newlwp, preempted, released;   // by type
  uint64 disorder;    // events out of sequence, of an unknown type, or naming
                      // an LWP or thread the library did not expect
  uint64 coalesced;   // PREEMPTED events the kernel folded (ring nearly full)
};
int  uthread_upcall_stats(struct uthread_upcall_stats *out);

// When set to 1 before uthread_create, each library-made stack is announced on
// fd 1 as "uthread: tid T stack [lo,hi) red zone [a,b)" so that a fault
// address printed by the kernel can be mapped back to the thread that overflowed.
extern int uthread_debug;

// A mutex. Fields are the library's; users only declare, init and pass it.
// Its waiting policy (umutex_setmode, lab adaptive): a thread that finds it
// held spins while the owner runs on a CPU and blocks otherwise (ADAPTIVE,
// the default after umutex_init), always blocks (BLOCK) or always spins,
// yielding now and then (SPIN). Implementation: user/lib/uthread_mutex.c.
#define UMUTEX_ADAPTIVE 0
#define UMUTEX_BLOCK    1
#define UMUTEX_SPIN     2

// What umutex_stats reports (counted by the owner, under the mutex).
struct umutex_stats {
  uint64 acquired;    // successful umutex_lock and umutex_trylock calls
  uint64 spun;        // acquisitions that found it held and got it without blocking
  uint64 blocked;     // acquisitions that blocked at least once
  uint64 spin_loops;  // re-checks of the held mutex while spinning
};

struct umutex {
  int locked;         // the lock word: 1 while owned (taken by an atomic swap)
  int owner;          // umutex_init: -1 (NO_TID); what it means after that is the mutex's
  int waiters;        // room for the mutex's waiter protocol (user/lib/uthread_mutex.c):
  int guard;          //   umutex_init zeroes waiters and guard and sets wait_head and
  int wait_head;      //   wait_tail to -1 (an empty list for ult_wait_*); what they
  int wait_tail;      //   mean after that is the design's
  int mode;           // UMUTEX_ADAPTIVE, UMUTEX_BLOCK or UMUTEX_SPIN
  struct umutex_stats stats;
};
void umutex_init(struct umutex *m);
void umutex_lock(struct umutex *m);
void umutex_unlock(struct umutex *m);
int  umutex_trylock(struct umutex *m);     // 0 on success, -1 if it is held
int  umutex_setmode(struct umutex *m, int mode);              // 0, or -1 for an unknown mode
int  umutex_stats(struct umutex *m, struct umutex_stats *out); // 0, or -1

// A condition variable.
struct ucond {
  int guard;          // spinlock over the wait list
  int wait_head;      // tid of the first waiter, -1 if none
  int wait_tail;
};
void ucond_init(struct ucond *c);
void ucond_wait(struct ucond *c, struct umutex *m);
void ucond_signal(struct ucond *c);
void ucond_broadcast(struct ucond *c);
