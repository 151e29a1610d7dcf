// IPI message queues (after DragonFly's lwkt_ipiq). The receiving CPU owns
// one ring per sender; a ring has one writer (the sender) and one reader
// (the receiver), so indices plus memory fences are all the locking needed.
// The hardware doorbell is SBI send_ipi, which raises the receiver's
// supervisor software interrupt; npoll keeps a burst of messages to one
// doorbell, and a sender inside a critical section rings only when it
// leaves it (crit_exit), after it has let go of its spinlocks.
#include "thread/ipiq.h"
#include "thread/cpu.h"
#include "thread/trace.h"
#include "arch/riscv.h"
#include "arch/sbi.h"
#include "lib/printf.h"

void ipiq_send(struct cpu *target, ipi_func_t func, void *arg)
{
  int s = intr_save();   // the ring of (me, target) has one writer: this code on this CPU
  struct cpu *me = mycpu();
  if (target == me) {
    func(arg);
    intr_restore(s);
    return;
  }
  struct ipiq *q = &target->ipiq[me->id];
  // Over half full: wait until the target has drained it to a quarter,
  // running our own inbox meanwhile, as DragonFly does. The target may be
  // waiting for room in its ring to us; and what our handlers send while we
  // wait still finds room. The target keeps draining too, even when it
  // spins on a lock with interrupts off (spinlock.c).
  if (q->windex - q->rindex > IPIQ_SIZE / 2)
    while (q->windex - q->rindex > IPIQ_SIZE / 4) {
      ipiq_ring();       // a doorbell we deferred (crit_exit) would never come
      ipiq_process();
    }
  assert(q->windex - q->rindex < IPIQ_SIZE);
  struct ipi_msg *m = &q->msg[q->windex % IPIQ_SIZE];
  m->func = func;
  m->arg = arg;
  __sync_synchronize();
  q->windex++;
  me->stats.ipi_sent++;
  trace_ipi(me->id, target->id);
  __sync_synchronize();
  if (__sync_lock_test_and_set(&target->npoll, 1) == 0)
    me->doorbells |= 1UL << target->id;
  // A thread in a critical section may hold the very lock the thread it
  // wakes takes first (a futex or pipe lock): ring when the section ends
  // (crit_exit), so the target never spins on it. A trap handler rings
  // now: the thread it interrupted may be waiting for this message.
  if (me->critcount == 0 || me->intr_depth > 0)
    ipiq_ring();
  intr_restore(s);
}

// Raise the hardware IPIs this CPU owes, in one SBI call.
void ipiq_ring(void)
{
  int s = intr_save();
  struct cpu *me = mycpu();
  uint64 harts = me->doorbells;
  me->doorbells = 0;
  if (harts) {
    me->stats.ipi_raised++;
    sbi_send_ipi(harts, 0);
  }
  intr_restore(s);
}

// Drain every ring of this CPU's inbox. Called with interrupts off from
// the software-interrupt handler (and by a sender whose ring is full).
void ipiq_process(void)
{
  struct cpu *me = mycpu();
  assert(!intr_get());
  CSR_CLEAR(sip, SIE_SSIE);
  me->npoll = 0;
  __sync_synchronize();
  for (int from = 0; from < NCPU; from++) {
    struct ipiq *q = &me->ipiq[from];
    while (q->rindex != q->windex) {
      __sync_synchronize();
      struct ipi_msg m = q->msg[q->rindex % IPIQ_SIZE];
      __sync_synchronize();
      q->rindex++;
      me->stats.ipi_recv++;
      m.func(m.arg);
    }
  }
}

void ipiq_dump(void)
{
  for (int to = 0; to < NCPU; to++) {
    if (!cpus[to].started)
      continue;
    for (int from = 0; from < NCPU; from++) {
      struct ipiq *q = &cpus[to].ipiq[from];
      if (q->windex != q->rindex)
        printf("ipiq %d->%d: %d pending\n", from, to, (int)(q->windex - q->rindex));
    }
  }
}
