// Lock statistics: one struct lockstat per class of sleep lock, counted by
// sleeplock_acquire and read through kdebug(KD_LOCKSTAT) by `lockstat`.
// Owns the class table only; it knows nothing of how locks wait.
#include "thread/lockstat.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "proc/proc.h"
#include "vm/vm.h"

static struct lockstat classes[LOCKSTAT_MAX];
static int nclasses;
// Guards adding a class; the counters themselves are updated atomically
// (locks of one class are taken on several CPUs at once).
static struct spinlock class_lock = { 0, "lockstat", -1 };

struct lockstat *lockstat_class(const char *name)
{
  spinlock_acquire(&class_lock);
  struct lockstat *c = 0;
  for (int i = 0; i < nclasses && !c; i++)
    if (strncmp(classes[i].name, name, LOCKSTAT_NAMELEN - 1) == 0)
      c = &classes[i];
  if (c == 0 && nclasses < LOCKSTAT_MAX) {
    c = &classes[nclasses++];
    safestrcpy(c->name, nclasses == LOCKSTAT_MAX ? "other" : name, LOCKSTAT_NAMELEN);
  }
  if (c == 0)
    c = &classes[LOCKSTAT_MAX - 1];
  spinlock_release(&class_lock);
  return c;
}

void lockstat_count(struct lockstat *c, int held, int slept, uint64 spin_loops)
{
  __atomic_fetch_add(&c->acquired, 1, __ATOMIC_RELAXED);
  if (slept)
    __atomic_fetch_add(&c->slept, 1, __ATOMIC_RELAXED);
  else if (held)
    __atomic_fetch_add(&c->spun, 1, __ATOMIC_RELAXED);
  if (spin_loops)
    __atomic_fetch_add(&c->spin_loops, spin_loops, __ATOMIC_RELAXED);
}

int lockstat_copyout(uint64 uaddr)
{
  int n = __atomic_load_n(&nclasses, __ATOMIC_ACQUIRE);
  if (copyout(curproc()->pagetable, uaddr, classes, n * sizeof(struct lockstat)) < 0)
    return -1;
  return n;
}
