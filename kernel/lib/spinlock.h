// Spinlocks: only for data truly shared between CPUs. Holding one keeps the
// holder in a critical section (no preemption on this CPU), so a holder must
// never sleep. Per-CPU data needs no lock: use crit_enter() instead.
#pragma once

struct spinlock {
  volatile unsigned int locked;
  const char *name;     // for debugging
  int cpu;              // holder's CPU id, -1 when free
  volatile unsigned int waiters;  // harts waiting in wfi for the release IPI
};

void spinlock_init(struct spinlock *lk, const char *name);
void spinlock_acquire(struct spinlock *lk);
void spinlock_release(struct spinlock *lk);
int  spinlock_holding(struct spinlock *lk);
