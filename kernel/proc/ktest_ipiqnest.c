// The in-kernel test of waiting for room in an IPI ring from inside a
// drain, reached through kdebug(KD_IPIQ_NEST_TEST) (racetests ipiqnest).
// Owns nothing but its own threads and messages.
//
// A drain (ipiq_process) takes its CPU's whole ipimask and then reads the
// rings it names, lowest sender first. A handler it runs may send, and wait
// for room (wait_for_room); the rings of that take not read yet hold
// messages whose bits are already taken. Three CPUs: R, the lowest, and P
// and Q. P and Q, interrupts off, each fill its ring to the other past half
// (33 messages); then R sends each a message S. Each drains: R's ring first,
// so S runs while the other's ring is still full and its bit taken. S sends
// one message to the other, finds the ring over half full and waits for
// room; the other does the same. Neither sends anything new, so neither bit
// is set again: if the nested drain read only rings whose bits are set,
// both would wait for good.
//
// R watches. The deadlock is seen, not timed: both are in S, each has
// drained its inbox in its wait for room since R looked, and neither ring
// between them has been read. R then breaks it by
// setting the bits that were lost (a bit set for nothing costs a look at a
// ring) and reports it. Returns 0, or the IN_* bits of what failed.
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/crit.h"
#include "thread/ipiq.h"
#include "thread/clock.h"
#include "thread/sleepq.h"
#include "arch/riscv.h"
#include "lib/spinlock.h"
#include "lib/printf.h"

#define IN_DEADLOCK  1   // P and Q each waited for room, neither reading the other's ring
#define IN_NOKLT     2
#define IN_STUCK     4   // a step did not happen in 300 ticks' time

#define FILL (IPIQ_SIZE / 2 + 1)   // the most a ring holds with no wait for room

static struct {
  struct cpu *r, *p, *q;
  volatile int ready, filled, relayed;   // counts of P and Q, and R's flag
  volatile int in_s, sent, done;         // counts of P and Q
  volatile int received;
  struct spinlock lock;
  int result;                            // IN_* | IN_OVER once R is done
} nt;

#define IN_OVER 0x100

static void filler(void *arg)
{
  (void)arg;
  __sync_fetch_and_add(&nt.received, 1);
}

static struct cpu *peer(struct cpu *me)
{
  return me == nt.p ? nt.q : nt.p;
}

// S, run from R's ring on P or Q while the peer's ring is full.
static void stall(void *arg)
{
  (void)arg;
  struct cpu *me = mycpu();
  __sync_fetch_and_add(&nt.in_s, 1);
  ipiq_send(peer(me), filler, 0);
  __sync_fetch_and_add(&nt.sent, 1);
}

static void until_all(volatile int *count, int n)
{
  while (*count < n)
    ;
}

// P or Q: interrupts off, so its inbox waits for its own drain below.
static void filling(void *arg)
{
  (void)arg;
  int s = intr_save();
  crit_enter();
  struct cpu *me = mycpu();
  __sync_fetch_and_add(&nt.ready, 1);
  until_all(&nt.ready, 2);
  for (int i = 0; i < FILL; i++)
    ipiq_send(peer(me), filler, 0);
  ipiq_ring();
  __sync_fetch_and_add(&nt.filled, 1);
  until_all(&nt.relayed, 1);
  ipiq_process();
  crit_exit();
  intr_restore(s);
  __sync_fetch_and_add(&nt.done, 1);
}

static uint64 turns(struct cpu *c)
{
  return __atomic_load_n(&c->stats.ipi_room_turns, __ATOMIC_RELAXED);   // another CPU's count
}

// R, once both are in S: until both have sent, or the deadlock shows. A
// turn of the wait that began after R looked (turns + 2) has drained its
// CPU's inbox since; a ring to a CPU in S only empties meanwhile.
static int watch(void)
{
  struct ipiq *to_p = &nt.p->ipiq[nt.q->id], *to_q = &nt.q->ipiq[nt.p->id];
  uint32 read_p = to_p->rindex, read_q = to_q->rindex;
  uint64 turns_p = turns(nt.p), turns_q = turns(nt.q);
  while (nt.sent < 2) {
    if (turns(nt.p) >= turns_p + 2 && turns(nt.q) >= turns_q + 2 &&
        to_p->rindex == read_p &&
        to_q->rindex == read_q) {
      printf("ktest ipiqnest: cpus %d and %d each wait for room in its ring to the other, "
             "%d and %d pending, neither read since\n", nt.p->id, nt.q->id,
             (int)(to_q->windex - to_q->rindex), (int)(to_p->windex - to_p->rindex));
      __sync_fetch_and_or(&nt.p->ipimask, 1u << nt.q->id);
      __sync_fetch_and_or(&nt.q->ipimask, 1u << nt.p->id);
      return IN_DEADLOCK;
    }
  }
  return 0;
}

// Spins until *count reaches n, or 300 ticks' time (a loaded host loses
// ticks); 0 on timeout.
static int wait_count(volatile int *count, int n)
{
  uint64 start = r_time();
  while (*count < n)
    if (r_time() - start > 300 * TIMER_INTERVAL)
      return 0;
  return 1;
}

static void relay(void *arg)
{
  (void)arg;
  int r = 0;
  if (!wait_count(&nt.filled, 2)) {
    r = IN_STUCK;
  } else {
    ipiq_send(nt.p, stall, 0);
    ipiq_send(nt.q, stall, 0);
    ipiq_ring();
    nt.relayed = 1;
    r = wait_count(&nt.in_s, 2) ? watch() : IN_STUCK;
  }
  nt.relayed = 1;     // a stuck P or Q must still end
  if (!wait_count(&nt.done, 2) || !wait_count(&nt.received, 2 * FILL + 2))
    r |= IN_STUCK;
  spinlock_acquire(&nt.lock);
  nt.result = r | IN_OVER;
  sleepq_wakeup(&nt.result);
  spinlock_release(&nt.lock);
}

int kdebug_ipiq_nest_test(void)
{
  nt.r = nt.p = nt.q = 0;
  for (int i = 0; i < NCPU; i++) {
    struct cpu *c = &cpus[i];
    if (!c->started)
      continue;
    if (nt.r == 0)
      nt.r = c;
    else if (nt.p == 0)
      nt.p = c;
    else if (nt.q == 0)
      nt.q = c;
  }
  if (nt.q == 0)
    return 0;        // needs three harts
  nt.ready = nt.filled = nt.relayed = nt.in_s = nt.sent = nt.done = nt.received = 0;
  nt.result = 0;
  spinlock_init(&nt.lock, "ktest-ipiqnest");
  struct klt *t[3] = {
    klt_create("ktest-relay", relay, 0, PRI_KERN, nt.r),
    klt_create("ktest-fill", filling, 0, PRI_KERN, nt.p),
    klt_create("ktest-fill", filling, 0, PRI_KERN, nt.q),
  };
  if (!t[0] || !t[1] || !t[2])
    return IN_NOKLT;
  for (int i = 0; i < 3; i++)
    lwkt_schedule(t[i]);
  spinlock_acquire(&nt.lock);
  while (nt.result == 0)
    sleepq_sleep(&nt.result, &nt.lock);
  spinlock_release(&nt.lock);
  return nt.result & ~IN_OVER;
}
