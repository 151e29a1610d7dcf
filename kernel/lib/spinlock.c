// Spinlocks for data shared between CPUs. Acquiring enters a critical
// section, so the holder is never switched out on its own CPU; interrupts
// stay enabled (trap handlers take no spinlocks, by rule).
//
// A few locks are also taken with interrupts off (docs/locking.md). A CPU
// spinning for one with interrupts off keeps running its IPI inbox: the
// holder may be waiting for room in its IPI ring to this CPU, and would
// otherwise wait for us while we wait for it.
//
// A CPU that finds the lock taken spins only briefly: then it marks itself
// in `waiters` and waits in wfi, and the release sends the waiters an IPI
// (ARM's wfe/sev, by hand). Under QEMU's -icount all harts take turns on
// one host thread and a spinning hart keeps it until the next timer tick,
// so the holder could not run to let the lock go (a woken thread that took
// its waker's lock waited a whole 10 ms tick so).
#include "lib/spinlock.h"
#include "lib/printf.h"
#include "thread/crit.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"
#include "arch/ipi.h"

#define SPIN_TRIES 200   // looks at the lock before sleeping: ~1,000 instructions

void spinlock_init(struct spinlock *lk, const char *name)
{
  lk->locked = 0;
  lk->name = name;
  lk->cpu = -1;
}

// Wait until lk looks free. Marking ourselves first and looking again
// after (a full fence between) pairs with the release: either we see the
// lock free, or the releaser sees our mark and sends the IPI. A hart that
// cannot be woken by an IPI yet (booting, SSIE off) just spins.
//
// A waiter owes no doorbell: what our critical section sent (or what a
// message we ran above sent) is rung before we wait. Another CPU's message
// to the same target may count on our doorbell (ipiq.c), and its sender may
// be the holder we wait for.
static void wait_for_release(struct spinlock *lk)
{
  for (int i = 0; i < SPIN_TRIES && lk->locked; i++)
    ;                      // a short hold ends sooner than a wfi wake-up
  if (mycpu()->doorbells)
    ipiq_ring();
  __sync_fetch_and_or(&lk->waiters, 1u << cpuid());
  if (lk->locked && (CSR_READ(sie) & SIE_SSIE))
    asm volatile("wfi");   // until the release IPI, or any other interrupt
}

void spinlock_acquire(struct spinlock *lk)
{
  crit_enter();
  if (spinlock_holding(lk))
    panic("spinlock_acquire: %s already held by this cpu", lk->name);
  while (__sync_lock_test_and_set(&lk->locked, 1) != 0) {
    if (!intr_get())
      ipiq_process();      // interrupts off: keep our inbox moving (above)
    wait_for_release(lk);
  }
  __sync_synchronize();
  lk->cpu = cpuid();
}

void spinlock_release(struct spinlock *lk)
{
  if (!spinlock_holding(lk))
    panic("spinlock_release: %s not held", lk->name);
  lk->cpu = -1;
  __sync_lock_release(&lk->locked);   // a release: the stores above come first
  __sync_synchronize();   // the store above before the load below
  if (lk->waiters) {
    uint64 harts = __sync_lock_test_and_set(&lk->waiters, 0);
    if (harts)
      ipi_raise(harts);
  }
  crit_exit();
}

int spinlock_holding(struct spinlock *lk)
{
  return lk->locked && lk->cpu == cpuid();
}
