// Sleep locks: a flag guarded by a spinlock, with waiters on a sleep queue.
// For long holds (disk buffers, inodes) where spinning would waste a CPU.
#include "thread/sleeplock.h"
#include "thread/sleepq.h"
#include "thread/klt.h"
#include "thread/cpu.h"

void sleeplock_init(struct sleeplock *lk, const char *name)
{
  spinlock_init(&lk->lk, "sleeplock");
  lk->name = name;
  lk->locked = 0;
  lk->holder = 0;
}

void sleeplock_acquire(struct sleeplock *lk)
{
  spinlock_acquire(&lk->lk);
  while (lk->locked)
    sleepq_sleep(lk, &lk->lk);
  lk->locked = 1;
  lk->holder = curklt();
  spinlock_release(&lk->lk);
}

void sleeplock_release(struct sleeplock *lk)
{
  spinlock_acquire(&lk->lk);
  lk->locked = 0;
  lk->holder = 0;
  sleepq_wakeup(lk);
  spinlock_release(&lk->lk);
}

int sleeplock_holding(struct sleeplock *lk)
{
  spinlock_acquire(&lk->lk);
  int r = lk->locked && lk->holder == curklt();
  spinlock_release(&lk->lk);
  return r;
}
