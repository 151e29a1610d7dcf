// Sleep queues: sleeping KLTs hashed by wait channel into buckets, each
// with its own spinlock (sleepers and wakers on different CPUs meet here).
// A wake-up scans one bucket, so its cost does not grow with the number of
// threads in the system. Making the woken thread runnable is the owning
// CPU's job: lwkt_schedule() sends it there.
#include "thread/sleepq.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/lwp.h"
#include "thread/trace.h"
#include "thread/clock.h"
#include "thread/ipiq.h"
#include "proc/upcall.h"
#include "proc/signal.h"
#include "lib/spinlock.h"
#include "lib/printf.h"
#include "arch/riscv.h"

#define NBUCKET 64

static struct bucket {
  struct spinlock lock;   // also taken with interrupts off (docs/locking.md)
  struct klt *head;
} buckets[NBUCKET];

static struct bucket *bucket_of(void *chan)
{
  uint64 h = (uint64)chan;
  h ^= h >> 17;
  h ^= h >> 7;
  return &buckets[h % NBUCKET];
}

void sleepq_init(void)
{
  for (int i = 0; i < NBUCKET; i++)
    spinlock_init(&buckets[i].lock, "sleepq");
}

static void bucket_unlink(struct bucket *b, struct klt *t)
{
  for (struct klt **pp = &b->head; *pp; pp = &(*pp)->sq_next) {
    if (*pp == t) {
      *pp = t->sq_next;
      t->sq_next = 0;
      return;
    }
  }
  panic("sleepq: %s not in its bucket", t->name);
}

enum { UNINTERRUPTIBLE, FOR_KILL, FOR_SIGNAL };   // what ends a sleep early

static int must_wake(struct lwp *l, int interruptible)
{
  if (interruptible == UNINTERRUPTIBLE || l == 0)
    return 0;
  return lwp_killed(l) || (interruptible == FOR_SIGNAL && sig_ready_lwp(l));
}

// An interruptible sleep that ends before it begins (a kill, or a signal
// to take) is answered by its caller going back toward user mode, where
// the signal is taken or the LWP ends: at most once or twice before
// lwp_userret resets the count. A caller that sleeps again instead loops
// in the kernel for good, and starves whatever waits for its CPU: a wait
// that only a kill may end was made signal-interruptible (issue 21). Say
// who, rather than hang.
#define SLEEPS_REFUSED_MAX 1000

static void refused(struct klt *t)
{
  if (++t->sleeps_refused >= SLEEPS_REFUSED_MAX)
    panic("sleepq: %s (lwp %d) refused %d interruptible sleeps in a row in the kernel: "
          "its caller ignores the interruption", t->name, t->lwp->id, t->sleeps_refused);
}

// Sleep, unless (interruptible and) the caller's LWP must end or has a
// signal to take: that check comes after the thread is on the bucket,
// under the bucket lock, and a killer or sender sets its flag before it
// looks for sleepers (sleepq_abort, sleepq_abort_sig), so one of the two
// always sees the other and no kill or signal is lost.
static int sleep_common(void *chan, struct spinlock *lk, int ticks, int interruptible)
{
  struct klt *t = curklt();
  struct bucket *b = bucket_of(chan);
  int pri = t->pri;
  assert(chan != 0);
  if (t->chan)               // a wake-up that never took it off its last bucket
    lwkt_broken(t, "sleeps while still on a sleep queue");
  if (t->lwp)
    upcall_sleeping(t->lwp);   // scheduler activations: maybe a replacement serves meanwhile (may lower t->pri)
  spinlock_acquire(&b->lock);
  t->chan = chan;
  t->timed_out = 0;
  t->sleep_sig = interruptible == FOR_SIGNAL;
  t->wake_tick = ticks > 0 ? clock_ticks() + ticks : 0;
  t->sq_next = b->head;
  b->head = t;
  __sync_synchronize();
  if (lk)                  // only now: a waker may look at the bucket unlocked
    spinlock_release(lk);
  if (must_wake(t->lwp, interruptible)) {
    bucket_unlink(b, t);
    t->chan = 0;
    t->wake_tick = 0;
    spinlock_release(&b->lock);
    refused(t);
    t->pri = pri;
    if (lk)
      spinlock_acquire(lk);
    return 0;
  }
  // From here until the switch, interrupts stay off: a waker on another CPU
  // can take us off the bucket, but its message to run us is handled only
  // after we are off this CPU.
  int s = intr_save();
  t->sleeps_refused = 0;
  t->state = KLT_SLEEPING;
  if (t->lwp)
    t->lwp->vcsw++;
  trace_event(TR_BLOCK, t);
  spinlock_release(&b->lock);
  lwkt_switch();
  t->pri = pri;            // woken at the priority it slept with, it runs at its own
  intr_restore(s);
  int timed_out = t->timed_out;
  t->wake_tick = 0;
  if (lk)
    spinlock_acquire(lk);
  return timed_out ? -1 : 0;
}

int sleepq_sleep_timeout(void *chan, struct spinlock *lk, int ticks)
{
  return sleep_common(chan, lk, ticks, UNINTERRUPTIBLE);
}

int sleepq_sleep_intr(void *chan, struct spinlock *lk, int ticks)
{
  return sleep_common(chan, lk, ticks, FOR_KILL);
}

int sleepq_sleep_sig(void *chan, struct spinlock *lk, int ticks)
{
  return sleep_common(chan, lk, ticks, FOR_SIGNAL);
}

void sleepq_sleep(void *chan, struct spinlock *lk)
{
  sleep_common(chan, lk, 0, UNINTERRUPTIBLE);
}

// An empty bucket is not locked: a sleeper on chan put itself on the
// bucket before it released the lock that guards its condition, and the
// waker changed the condition under that lock (after), so it sees it here.
int sleepq_wakeup_n(void *chan, int n)
{
  struct bucket *b = bucket_of(chan);
  int woken = 0;
  __sync_synchronize();
  if (b->head == 0)
    return 0;
  spinlock_acquire(&b->lock);
  struct klt **pp = &b->head;
  while (*pp && woken < n) {
    struct klt *t = *pp;
    if (t->chan != chan) {
      pp = &t->sq_next;
      continue;
    }
    *pp = t->sq_next;
    t->sq_next = 0;
    t->chan = 0;
    lwkt_schedule(t);
    woken++;
  }
  spinlock_release(&b->lock);
  return woken;
}

void sleepq_abort(struct klt *t)
{
  void *chan = t->chan;
  if (chan == 0)
    return;
  struct bucket *b = bucket_of(chan);
  spinlock_acquire(&b->lock);
  if (t->chan == chan) {
    bucket_unlink(b, t);
    t->chan = 0;
    lwkt_schedule(t);
  }
  spinlock_release(&b->lock);
}

// KD_SIG_ABORT_WAIT, a test hook: the process whose LWPs' next ended signal
// sleep makes sleepq_abort_sig wait, how long at most, and whether it did.
static struct proc *abort_wait_proc;
static int abort_wait_ticks, abort_waited;

int sleepq_abort_wait(struct proc *p, int ticks)
{
  __atomic_store_n(&abort_wait_proc, 0, __ATOMIC_SEQ_CST);
  int waited = __atomic_exchange_n(&abort_waited, 0, __ATOMIC_SEQ_CST);
  abort_wait_ticks = ticks;
  if (ticks > 0)
    __atomic_store_n(&abort_wait_proc, p, __ATOMIC_SEQ_CST);
  return waited;
}

// Holds the caller (a signal's sender, under p->lock) between ending t's
// sleep and whatever it does next, while t runs on its own CPU: until t
// has gone to sleep again (its count of sleeps moved from vcsw) or the
// armed ticks have passed. Spins: the caller may hold spinlocks.
static void abort_wait(struct klt *t, uint64 vcsw)
{
  struct lwp *l = t->lwp;
  struct proc *p = __atomic_load_n(&abort_wait_proc, __ATOMIC_SEQ_CST);
  if (p == 0 || l == 0 || l->proc != p || t->cpu == mycpu() ||
      !__atomic_compare_exchange_n(&abort_wait_proc, &p, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    return;
  __atomic_store_n(&abort_waited, 1, __ATOMIC_SEQ_CST);
  ipiq_ring();                   // t's CPU hears of it now, not when our locks are dropped
  uint64 until = r_time() + (uint64)abort_wait_ticks * TIMER_INTERVAL;
  while (__atomic_load_n(&l->vcsw, __ATOMIC_SEQ_CST) == vcsw && r_time() < until)
    ;
}

int sleepq_abort_sig(struct klt *t)
{
  void *chan = t->chan;
  if (chan == 0)
    return 0;
  struct bucket *b = bucket_of(chan);
  int ended = 0;
  uint64 vcsw = 0;
  spinlock_acquire(&b->lock);
  if (t->chan == chan && t->sleep_sig) {
    bucket_unlink(b, t);
    t->chan = 0;
    vcsw = t->lwp ? t->lwp->vcsw : 0;
    lwkt_schedule(t);
    ended = 1;
  }
  spinlock_release(&b->lock);
  if (ended)
    abort_wait(t, vcsw);
  return ended;
}

// End t's sleep on chan if it is a timed sleep that is due. The unlocked
// look in sleepq_timeouts() may be stale (t woken since, maybe asleep again
// with no timeout): so decide only under the bucket lock, which every
// wake-up holds, or the timeout could abort a later sleep or report a
// wake-up that a waker counted (futex_wake) as a timeout.
static void timeout_one(struct klt *t, void *chan, uint64 now)
{
  struct bucket *b = bucket_of(chan);
  spinlock_acquire(&b->lock);
  if (t->chan == chan && t->wake_tick != 0 && t->wake_tick <= now) {
    bucket_unlink(b, t);
    t->chan = 0;
    t->timed_out = 1;
    lwkt_schedule(t);
  }
  spinlock_release(&b->lock);
}

// Called by the clock once per tick: end the timed sleeps that are due.
void sleepq_timeouts(uint64 now)
{
  for (int i = 0; i < MAX_THREADS; i++) {
    struct klt *t = &klts[i];
    uint64 due = t->wake_tick;
    void *chan = t->chan;
    if (due == 0 || due > now || chan == 0)
      continue;
    timeout_one(t, chan, now);
  }
}
