// IPI message queues (after DragonFly's lwkt_ipiq). The receiving CPU owns
// one ring per sender; a ring has one writer (the sender) and one reader
// (the receiver), so indices plus memory fences are all the locking needed.
// The hardware doorbell (arch/ipi.c) raises the receiver's supervisor
// software interrupt. The receiver's ipimask says which senders queued
// messages since it last looked: a burst of messages rings one doorbell,
// and the receiver reads only those rings. A sender inside a critical
// section rings only when it leaves it (crit_exit), after it has let go of
// its spinlocks.
//
// Why no message is stranded. The receiver clears SSIP, then takes the
// whole ipimask to 0, then reads the rings it names. A sender sets its bit
// after its message is in the ring; the sender that finds the mask 0 owes
// the doorbell (its CPU's `doorbells`), and every later sender until the
// receiver looks again counts on that one doorbell. So a set bit must mean
// a doorbell rung, or owed by a CPU that will ring it without waiting for
// anything: otherwise the later senders, one of which may be waiting for
// room in its ring (wait_for_room), wait for good. Hence:
//   - a CPU owes doorbells only inside a critical section, and rings them
//     before it waits: at crit_exit, before a spinlock waiter waits
//     (spinlock.c), at every turn of wait_for_room, before tlb_shootdown's
//     wfi; never across a switch (lwkt_switch asserts it);
//   - ipiq_ring keeps interrupts off from taking the owed set to the last
//     store: a preemption in between would leave the doorbell in the
//     registers of the preempted thread, while the interrupt thread that
//     preempted it (a softclock waking hundreds of sleepers at one tick)
//     waits for room in its ring to the CPU that doorbell is for.
// So a sender waiting for room never rings its target itself: the owed
// doorbell comes. racetests doorbell (proc/ktest_doorbell.c) forces both
// ways of losing it.
//
// Why a wait for room reads every ring. A handler may send and wait for
// room (flush_local's wake-up, migrate_local's schedule), and the drain
// that runs it has taken the bits of rings it has not read to the end:
// their senders set no bit again until they send anew. If such a sender
// waits for room in its ring to us from a handler of its own, run by its
// drain of our ring, a wait that read only the rings whose bits are set
// again would leave each CPU waiting for the other for good (racetests
// ipiqnest, proc/ktest_ipiqnest.c). So the wait reads every non-empty
// ring, as DragonFly's does. That is harmless: a ring has one reader, this
// CPU, and every drain, however deeply nested, takes the message at rindex
// and moves rindex past it before it runs it, so a ring's messages still
// start in the order they were sent (a later one may run while an earlier
// handler waits, as it could when its sender set the bit again); a bit
// still set for a ring read meanwhile costs one look at an empty ring.
// Handlers take no spinlocks (spinlock.c), so a spinlock waiter's drain
// never runs inside a handler that waits.
#include "thread/ipiq.h"
#include "thread/cpu.h"
#include "thread/trace.h"
#include "arch/riscv.h"
#include "arch/ipi.h"
#include "lib/printf.h"

static void process(uint32 also);

// The ring q to another CPU is over half full: wait until that CPU has
// drained it to a quarter, running our own inbox meanwhile, every ring of
// it (above), as DragonFly does. The target may be waiting for room in its
// ring to us; and what our handlers send while we wait still finds room.
// The target keeps draining too, even when it spins on a lock with
// interrupts off (spinlock.c). Out of line: the common send then needs no
// registers saved for it.
static void __attribute__((noinline)) wait_for_room(struct ipiq *q)
{
  while (q->windex - q->rindex > IPIQ_SIZE / 4) {
    mycpu()->stats.ipi_room_turns++;
    ipiq_ring();       // a doorbell we deferred (crit_exit) would never come
    process((1u << NCPU) - 1);
  }
}

// Puts the message in me's ring to target, interrupts off, the ring not
// over half full.
static inline void enqueue(struct cpu *me, struct cpu *target, ipi_func_t func, void *arg)
{
  struct ipiq *q = &target->ipiq[me->id];
  uint32 w = q->windex;
  struct ipi_msg *m = &q->msg[w % IPIQ_SIZE];
  m->func = func;
  m->arg = arg;
  __sync_synchronize();
  q->windex = w + 1;
  me->stats.ipi_sent++;
  __sync_synchronize();
  if (__sync_fetch_and_or(&target->ipimask, 1u << me->id) == 0)
    me->doorbells |= 1UL << target->id;   // else a doorbell is on its way
}

// A thread in a critical section may hold the very lock the thread it
// wakes takes first (a futex or pipe lock): it rings when the section ends
// (crit_exit), so the target never spins on it. A trap handler rings now:
// the thread it interrupted may be waiting for this message.
static inline int ring_now(struct cpu *me)
{
  return me->critcount == 0 || me->intr_depth > 0;
}

// ipiq_send's rare cases: the target is this CPU, the ring to it is over
// half full, or tracing is on.
static void __attribute__((noinline)) send_slow(struct cpu *target, ipi_func_t func, void *arg)
{
  int s = intr_save();
  struct cpu *me = mycpu();
  if (target == me) {
    func(arg);
    intr_restore(s);
    return;
  }
  struct ipiq *q = &target->ipiq[me->id];
  if (q->windex - q->rindex > IPIQ_SIZE / 2)
    wait_for_room(q);
  enqueue(me, target, func, arg);
  trace_ipi(me->id, target->id);
  if (ring_now(me))
    ipiq_ring();
  intr_restore(s);
}

// The usual send calls nothing but the doorbell, and that only outside a
// critical section: it saves few registers. It rings before interrupts
// come back on: a preemption in between would switch away owing it.
void ipiq_send(struct cpu *target, ipi_func_t func, void *arg)
{
  int s = intr_save();   // the ring of (me, target) has one writer: this code on this CPU
  struct cpu *me = mycpu();
  struct ipiq *q = &target->ipiq[me->id];
  if (target == me || q->windex - q->rindex > IPIQ_SIZE / 2 || trace_enabled()) {
    intr_restore(s);
    send_slow(target, func, arg);
    return;
  }
  enqueue(me, target, func, arg);
  if (ring_now(me))
    ipiq_ring();
  intr_restore(s);
}

void (*ipiq_ring_hook)(uint64 harts);

// Raise the hardware IPIs this CPU owes (one SBI call, or one store per
// hart: arch/ipi.c). Out of line: most sends defer it to crit_exit.
// Interrupts are off from taking the owed set to the last store: crit_exit
// rings with them on, and a trap in between could switch this thread out
// (a preemption) with the doorbells in its registers only.
void __attribute__((noinline)) ipiq_ring(void)
{
  int s = intr_save();
  struct cpu *me = mycpu();
  uint64 harts = me->doorbells;
  me->doorbells = 0;
  if (harts) {
    me->stats.ipi_raised++;
    if (ipiq_ring_hook)
      ipiq_ring_hook(harts);
    ipi_raise(harts);
  }
  intr_restore(s);
}

// Drain the rings of this CPU's inbox that ipimask names, and those that
// `also` names (bit s: CPU s's ring). A sender sets its bit after its
// message is in the ring; taking the mask to 0 before reading the rings
// means a message queued after that sets the bit again and rings again,
// so none is left behind.
static inline void process(uint32 also)
{
  struct cpu *me = mycpu();
  assert(!intr_get());
  CSR_CLEAR(sip, SIE_SSIE);
  me->drained_tick = me->ticks;
  uint32 senders = __sync_lock_test_and_set(&me->ipimask, 0) | also;
  __sync_synchronize();
  for (int from = 0; senders; from++, senders >>= 1) {
    if (!(senders & 1))
      continue;
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

// Called with interrupts off from the software-interrupt handler, the idle
// loop and a spinlock waiter (a sender whose ring is full: wait_for_room).
void ipiq_process(void)
{
  process(0);
}

// Ctrl-p (klt_dump): per CPU, its turns waiting for room and the TLB
// shootdowns it made; every non-empty ring.
void ipiq_dump(void)
{
  for (int to = 0; to < NCPU; to++) {
    struct cpu *c = &cpus[to];
    if (!c->started)
      continue;
    printf("ipiq cpu %d: room turns %ld  shootdowns %ld\n", to, c->stats.ipi_room_turns,
           c->stats.shootdowns);
    for (int from = 0; from < NCPU; from++) {
      struct ipiq *q = &c->ipiq[from];
      if (q->windex != q->rindex)
        printf("ipiq %d->%d: %d pending\n", from, to, (int)(q->windex - q->rindex));
    }
  }
}
