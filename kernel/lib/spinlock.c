// Spinlocks for data shared between CPUs. Acquiring enters a critical
// section, so the holder is never switched out on its own CPU; interrupts
// stay enabled (trap handlers take no spinlocks, by rule).
//
// A few locks are also taken with interrupts off (docs/locking.md). A CPU
// spinning for one with interrupts off keeps running its IPI inbox: the
// holder may be waiting for room in its IPI ring to this CPU, and would
// otherwise wait for us while we wait for it.
#include "lib/spinlock.h"
#include "lib/printf.h"
#include "thread/crit.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"

void spinlock_init(struct spinlock *lk, const char *name)
{
  lk->locked = 0;
  lk->name = name;
  lk->cpu = -1;
}

void spinlock_acquire(struct spinlock *lk)
{
  crit_enter();
  if (spinlock_holding(lk))
    panic("spinlock_acquire: %s already held by this cpu", lk->name);
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0)
    if (!intr_get())
      ipiq_process();
  __sync_synchronize();
  lk->cpu = cpuid();
}

void spinlock_release(struct spinlock *lk)
{
  if (!spinlock_holding(lk))
    panic("spinlock_release: %s not held", lk->name);
  lk->cpu = -1;
  __sync_synchronize();
  __sync_lock_release(&lk->locked);
  crit_exit();
}

int spinlock_holding(struct spinlock *lk)
{
  return lk->locked && lk->cpu == cpuid();
}
