// The lock of the uthread library and of malloc: test-and-set, and a
// waiter that has spun for long (the holder's LWP was probably preempted)
// naps for a tick in the kernel instead of burning its slice. The free case
// is inline (spin_lock in user/lib/uthread_lock.h); this file owns the
// contended one, and the entry into the library that makes the lock safe
// for code outside it (ulock_acquire). It knows nothing of what a lock
// guards.
#include "user/lib/uthread_core.h"

#define SPINS_BEFORE_NAP  20000   // then nap one tick in the kernel

// A nap for a lock is the library waiting for itself, not its thread
// blocking: the LWP publishes no thread (NO_TID) meanwhile. Else, with
// upcalls, the kernel reports the nap as BLOCKED and hands the thread to
// another LWP only through the ring: every contended lock would cost four
// events (BLOCKED, NEWLWP, UNBLOCKED, RELEASED), and a thread napping inside
// uthread_upcall_poll (holding the ring's drain lock) could never be handed
// back: every LWP napped on that lock for good (upctest dozen2). A nap ends
// because the holder runs: every holder is inside the library (in_lib), so
// no kick has taken it off its LWP, and the kernel runs that LWP again.
static void lock_nap(int *l)
{
  struct ult_lwp *me = ult_ready ? this_lwp() : 0;
  int tid = me ? me->current_tid : NO_TID;
  if (me)
    me->current_tid = NO_TID;
  futex_wait(l, 1, 1);
  if (me)
    me->current_tid = tid;
}

void ult_spin_contended(int *l)
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

// For the mutexes (user/lib/uthread_mutex.c) and the upcall handler
// (user/lib/uthread_upcall.c), through user/lib/uthread_impl.h.
void ult_spin_lock(int *l)      { spin_lock(l); }
void ult_spin_unlock(int *l)    { spin_unlock(l); }
void ulib_lock(int *l)          { spin_lock(l); }
void ulib_unlock(int *l)        { spin_unlock(l); }

int ulock_acquire(int *l)
{
  int was = ult_ready && this_lwp() != 0 ? lib_enter() : 1;
  spin_lock(l);
  return was;
}

void ulock_release(int *l, int was)
{
  spin_unlock(l);
  lib_leave(was);
}
