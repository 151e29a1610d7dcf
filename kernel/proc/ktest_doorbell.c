// The in-kernel test of owed doorbells, reached through
// kdebug(KD_DOORBELL_TEST) (racetests doorbell). A CPU inside a critical
// section defers the doorbells it owes until the section ends (ipiq.c);
// the rules under test are that it never waits for a lock while it owes
// one, and that no thread is switched out holding one it took to ring.
//
// Waiting: three CPUs. This one (M) holds a spinlock L; a kernel-only
// thread on X spins for L with interrupts off, owing the doorbell of C, the
// target of its message; M then queues messages to C too. C's ipimask has
// X's bit already, so M rings nothing: if X waits owing C's doorbell,
// nobody rings C until M lets L go, and M, once its ring to C is full,
// never does.
//   how 0: X sends to C inside its own section, then spins for L;
//   how 1: X, spinning, runs an IPI message from M whose handler sends to C.
// Either way X must ring before it waits: C must run the messages while
// M still holds L. The failure is seen, not timed: X marked itself a waiter
// of L after its send, still owes C's doorbell, and has run no IPI message
// since (only a handler could owe one anew). Then M floods C with three
// rings' worth while X still waits, the hang's own shape.
//
// Ringing: this thread (V) owes C's doorbell and leaves its critical
// section while an interrupt thread I waits for this CPU; ipiq_ring_hook
// stalls ipiq_ring, between taking the owed set and raising it, until an
// interrupt is pending or I has run. If I preempts V there, I sees the
// doorbell taken and not rung: C waits for a thread that waits for I (the
// uthreadtests hang: I was the softclock, waiting for room in its ring
// to C).
// Returns 0, or the bits of what failed (DB_* below).
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/crit.h"
#include "thread/ipiq.h"
#include "lib/spinlock.h"
#include "lib/printf.h"
#include "arch/riscv.h"

#define DB_LOST_BEFORE 1   // how 0: X waited for L owing C's doorbell
#define DB_LOST_DURING 2   // how 1: the same, the doorbell owed by a handler
#define DB_NEVER_OWED  4   // C's ipimask was never empty when X sent: not tested
#define DB_NOKLT       8
#define DB_RING_PREEMPTED 16  // a thread was switched out between taking a doorbell and ringing it
#define TRIES          20  // attempts to find C's ipimask empty, per way

enum { HELD, LOST, NOT_OWED, NO_KLT };   // what one attempt saw

static struct {
  struct spinlock lock;     // L
  struct cpu *x, *c;
  int how;
  volatile int spinning;    // X is about to spin for L, interrupts off
  volatile int sent;        // X has sent its message to C
  volatile int owed;        // ... and owed C's doorbell then
  volatile uint64 recv_mark; // X's ipi_recv just after that send
  volatile int received;    // messages C ran
  volatile int done;        // X's thread has finished
} dt;

static void counted(void *arg)
{
  (void)arg;
  dt.received++;
}

// On X, interrupts off, critical section: send, and note what X owes.
static void send_to_c(void)
{
  struct cpu *x = mycpu();
  ipiq_send(dt.c, counted, 0);
  dt.owed = (x->doorbells >> dt.c->id) & 1;
  dt.recv_mark = x->stats.ipi_recv;
  // A mark M sees from now on was made after the send.
  __sync_fetch_and_and(&dt.lock.waiters, ~(1u << x->id));
  __sync_synchronize();
  dt.sent = 1;
}

static void forward(void *arg)   // how 1: runs on X while it spins for L
{
  (void)arg;
  send_to_c();
}

static void owing_thread(void *arg)
{
  (void)arg;
  int s = intr_save();
  crit_enter();
  if (dt.how == 0)
    send_to_c();
  dt.spinning = 1;
  spinlock_acquire(&dt.lock);
  spinlock_release(&dt.lock);
  crit_exit();
  intr_restore(s);
  dt.done = 1;
}

static int x_waits_owing(void)
{
  return ((dt.lock.waiters >> dt.x->id) & 1) && ((dt.x->doorbells >> dt.c->id) & 1) &&
         dt.x->stats.ipi_recv == dt.recv_mark;
}

// One attempt of the waiting test: HELD (C ran a message while X waited),
// LOST (X waited owing C's doorbell), NOT_OWED (C's ipimask was not empty
// when X sent), NO_KLT.
static int wait_attempt(int how)
{
  spinlock_init(&dt.lock, "ktest-doorbell");
  dt.how = how;
  dt.spinning = dt.sent = dt.owed = dt.received = dt.done = 0;
  struct klt *t = klt_create("ktest-owing", owing_thread, 0, PRI_KERN, dt.x);
  if (t == 0)
    return NO_KLT;
  spinlock_acquire(&dt.lock);   // keeps us on this CPU too
  lwkt_schedule(t);
  ipiq_ring();                  // we wait inside the critical section: ring now
  while (!dt.spinning || !((dt.lock.waiters >> dt.x->id) & 1))
    ;
  if (how == 1) {
    ipiq_send(dt.x, forward, 0);
    ipiq_ring();
  }
  while (!dt.sent)
    ;
  ipiq_send(dt.c, counted, 0);  // C's ipimask has X's bit: we owe nothing
  ipiq_ring();
  int lost = 0;
  while (dt.owed && dt.received == 0 && !lost)
    lost = x_waits_owing();
  if (lost)
    printf("ktest doorbell: cpu %d waits for a lock owing cpu %d's doorbell (how %d, "
           "ipimask of cpu %d 0x%x, cpu %d owes 0x%lx)\n", dt.x->id, dt.c->id, how, dt.c->id,
           dt.c->ipimask, mycpu()->id, mycpu()->doorbells);
  int n = lost || !dt.owed ? 0 : 3 * IPIQ_SIZE;
  for (int i = 0; i < n; i++)
    ipiq_send(dt.c, counted, 0);
  spinlock_release(&dt.lock);
  while (!dt.done || dt.received < 2 + n)   // the last ones may still be on their way
    ;
  if (lost)
    return LOST;
  return dt.owed ? HELD : NOT_OWED;
}

static struct {
  struct klt *v;            // the ringing thread
  volatile uint64 taken;    // doorbells V has taken and not rung yet
  volatile uint64 seen;     // what I saw of that
  volatile int ran;         // I has run
} rp;

static void ring_stall(uint64 harts)
{
  if (curklt() != rp.v)
    return;
  rp.taken = harts;
  while (!rp.ran && !(CSR_READ(sip) & CSR_READ(sie)))
    ;                       // until a trap would be taken, or was
  rp.taken = 0;
}

static void ring_checker(void *arg)
{
  (void)arg;
  rp.seen = rp.taken;
  rp.ran = 1;
}

// One attempt of the ringing test: HELD (no doorbell stranded), LOST (I
// found one taken and not rung), NOT_OWED, NO_KLT.
static int ring_attempt(int how)
{
  (void)how;
  crit_enter();             // on this CPU until crit_exit
  struct cpu *me = mycpu();
  struct klt *i = klt_create("ktest-ring", ring_checker, 0, PRI_SOFT, me);
  if (i == 0) {
    crit_exit();
    return NO_KLT;
  }
  i->flags |= KLT_INTERRUPT;
  rp.v = curklt();
  rp.taken = rp.seen = 0;
  rp.ran = dt.received = 0;
  ipiq_send(dt.c, counted, 0);
  int owed = (me->doorbells >> dt.c->id) & 1;
  lwkt_schedule(i);         // waits for our crit_exit
  ipiq_ring_hook = ring_stall;
  crit_exit();
  ipiq_ring_hook = 0;
  while (!rp.ran || dt.received < 1)
    ;
  if (rp.seen)
    printf("ktest doorbell: a thread was preempted holding doorbells 0x%lx it had taken\n",
           rp.seen);
  return rp.seen ? LOST : owed ? HELD : NOT_OWED;
}

// Attempts until one finds C's ipimask empty; the DB_* bit of what failed.
static int repeat(int (*attempt)(int), int how, int lost_bit)
{
  int r = NOT_OWED;
  for (int i = 0; i < TRIES && r == NOT_OWED; i++)
    r = attempt(how);
  return r == LOST ? lost_bit : r == NOT_OWED ? DB_NEVER_OWED : r == NO_KLT ? DB_NOKLT : 0;
}

int kdebug_doorbell_test(void)
{
  struct cpu *me = mycpu();
  dt.x = dt.c = 0;
  for (int i = 0; i < NCPU; i++) {
    struct cpu *o = &cpus[i];
    if (!o->started || o == me)
      continue;
    if (dt.x == 0)
      dt.x = o;
    else if (dt.c == 0)
      dt.c = o;
  }
  if (dt.c == 0)
    return 0;        // needs three harts
  return repeat(wait_attempt, 0, DB_LOST_BEFORE) | repeat(wait_attempt, 1, DB_LOST_DURING) |
         repeat(ring_attempt, 0, DB_RING_PREEMPTED);
}
