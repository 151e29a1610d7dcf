// Futex wait and wake. One spinlock per hash bucket of futex words makes
// "check the value, then sleep" atomic against a waker: the waker takes the
// same lock before waking, and the sleeper is on the sleep queue before it
// lets the lock go. So no wake-up is ever lost.
#include "thread/futex.h"
#include "thread/sleepq.h"
#include "thread/lwp.h"
#include "lib/spinlock.h"
#include "vm/vm.h"

#define NFUTEX_LOCKS 16

static struct spinlock locks[NFUTEX_LOCKS];

void futex_init(void)
{
  for (int i = 0; i < NFUTEX_LOCKS; i++)
    spinlock_init(&locks[i], "futex");
}

static struct spinlock *lock_of(uint64 pa)
{
  return &locks[(pa >> 2) % NFUTEX_LOCKS];
}

// The physical address of an aligned user word, or 0. Only a key: the page
// may be freed before the lock is taken, so the word itself is read through
// uvm_read_word, which checks that it is still there.
static uint64 futex_key(pagetable_t pt, uint64 uaddr)
{
  if (uaddr % sizeof(int))
    return 0;
  return uvm_addr(pt, uaddr);
}

// for_signal: the sleep ends for a signal as well as for a kill.
static int wait_word(pagetable_t pt, uint64 uaddr, int val, int ticks, int for_signal)
{
  uint64 pa = futex_key(pt, uaddr);
  if (pa == 0 || ticks < 0)
    return -1;
  struct spinlock *lk = lock_of(pa);
  spinlock_acquire(lk);
  int now;
  if (uvm_read_word(pt, uaddr, pa, &now) < 0 || now != val) {
    spinlock_release(lk);
    return 0;                       // changed (or the word moved): look again
  }
  int timed_out = for_signal ? sleepq_sleep_sig((void *)pa, lk, ticks)
                             : sleepq_sleep_intr((void *)pa, lk, ticks);
  spinlock_release(lk);
  struct lwp *l = curlwp();
  if (for_signal ? lwp_interrupted(l) : lwp_killed(l))
    return -1;
  return timed_out ? 1 : 0;
}

int futex_wait(pagetable_t pt, uint64 uaddr, int val, int ticks)
{
  return wait_word(pt, uaddr, val, ticks, 1);
}

int futex_wait_kernel(pagetable_t pt, uint64 uaddr, int val, int ticks)
{
  return wait_word(pt, uaddr, val, ticks, 0);
}

static int wake_key(uint64 pa, int n)
{
  struct spinlock *lk = lock_of(pa);
  spinlock_acquire(lk);
  int woken = sleepq_wakeup_n((void *)pa, n);
  spinlock_release(lk);
  return woken;
}

int futex_wake(pagetable_t pt, uint64 uaddr, int n)
{
  uint64 pa = futex_key(pt, uaddr);
  if (pa == 0 || n < 0)
    return -1;
  return wake_key(pa, n);
}

// A waiter that read the old value sleeps under the key's lock, so the
// wake-up after the add finds it asleep, or it finds the new value.
int futex_bump_wake(pagetable_t pt, uint64 uaddr, int n)
{
  uint64 pa = uvm_add_word(pt, uaddr, 1);
  if (pa == 0 || n < 0)
    return -1;
  return wake_key(pa, n);
}
