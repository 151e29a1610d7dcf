// The lock of the uthread library and of malloc (user/lib/uthread_lock.c):
// test-and-set, and a waiter that has spun for long naps a tick in the
// kernel publishing no thread, so a nap is never an activation's block. The
// free case is inline: one atomic swap and a branch.
#pragma once

void ult_spin_contended(int *l);

static inline void spin_lock(int *l)
{
  if (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
    ult_spin_contended(l);
}

static inline void spin_unlock(int *l)
{
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

// The same lock for code outside the library (malloc): the caller enters
// the library while it holds l, so no kick takes a thread holding l off its
// LWP (a kick only marks it, and ulock_release acts on the mark once l is
// free). An LWP without a library record (tp 0: not a uthread LWP, or one
// still booting) only takes the lock. Returns what ulock_release needs.
int  ulock_acquire(int *l);
void ulock_release(int *l, int was);
