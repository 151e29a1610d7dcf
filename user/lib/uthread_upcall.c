// The uthread library's side of scheduler activations (lab upcalls):
// registering the upcall area, and the upcall handler, which turns the
// kernel's events into run-queue work; what each event does to the
// library's records is user/lib/uthread_activation.c's. A replacement
// activation starts in the library's boot entry (user/lib/uthread_level.c)
// and serves the run queue like any LWP; every scheduler calls
// uthread_upcall_poll() before it looks for work and after it wakes. The kernel side is kernel/proc/upcall.c and
// kernel/proc/activation.c; the design is docs/upcalls.md.
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"
#include "uapi/upcall.h"

static struct upcall_area area __attribute__((aligned(16)));
static int registered;             // the area was handed to the kernel once
static int drain_lock;             // one LWP reads the ring at a time
static struct uthread_upcall_stats stats;   // under drain_lock
// LAB upcalls BEGIN
static uint32 next_seq;            // the seq the next event must carry (under drain_lock)
// STUB
// LAB upcalls END

int uthread_upcalls(int on)
{
  if (!ulib_ready() || (on != 0 && on != 1))
    return -1;
  if (!on)
    return registered ? upcall_register(0) : 0;
  ulib_upcall_entry(&area.entry, &area.arg, &area.stack, &area.wake_word);
  if (upcall_register(&area) < 0)
    return -1;
  registered = 1;
  return 0;
}

int uthread_upcall_stats(struct uthread_upcall_stats *out)
{
  if (out == 0)
    return -1;
  ulib_lock(&drain_lock);
  *out = stats;
  out->coalesced = area.coalesced;
  ulib_unlock(&drain_lock);
  return 0;
}

// The upcall handler: act on every event the kernel has put in the ring
// (kernel/uapi/upcall.h), in order and once each, counting them in `stats`
// (user/uthread.h), then give the slots back to the kernel. Any LWP may call
// it at any time, several at once; when it returns, every event posted
// before the call began has been acted on, by this LWP or another.
void uthread_upcall_poll(void)
{
  if (!registered)
    return;
  // LAB upcalls BEGIN
  if (area.tail == __atomic_load_n(&area.head, __ATOMIC_ACQUIRE))
    return;                        // nothing new (a hint; checked again under the lock)
  ulib_lock(&drain_lock);
  uint32 head = __atomic_load_n(&area.head, __ATOMIC_ACQUIRE);
  for (uint32 i = area.tail; i != head; i++) {
    struct upcall_event *e = &area.ring[i % UPC_RING];
    int ok = e->seq == next_seq;
    next_seq = e->seq + 1;
    stats.events++;
    switch (e->type) {
    case UPC_BLOCKED:
      stats.blocked++;
      ok &= ulib_lwp_blocked(e->lwpid, e->tid) == 0;
      break;
    case UPC_UNBLOCKED:
      stats.unblocked++;
      if (ulib_thread_resume_at(e->tid, e->frame, e->lwpid) == 0)
        ulib_make_runnable(e->tid);
      else
        ok = 0;
      break;
    case UPC_RELEASED:
      stats.released++;
      ok &= ulib_lwp_released(e->lwpid) == 0;
      break;
    case UPC_NEWLWP:
      stats.newlwp++;
      break;
    case UPC_PREEMPTED:
      stats.preempted++;           // advice: the thread stays where it is
      break;
    default:
      ok = 0;
    }
    stats.disorder += !ok;
  }
  // kwait is taken before tail moves, then read again after: a poster that
  // asked for room before the exchange is woken below; one that asks after
  // it reads the new tail, or is seen by the second look, or leaves kwait
  // set for the next drain. (Cleared after the look, a request made in
  // between would be lost, and its poster would wait out its tick.)
  uint32 asked = __atomic_exchange_n(&area.kwait, 0, __ATOMIC_ACQ_REL);
  __atomic_store_n(&area.tail, head, __ATOMIC_RELEASE);
  __sync_synchronize();            // tail before kwait (the kernel: kwait before tail)
  if (asked || area.kwait)
    futex_wake((int *)&area.tail, 1 << 30);
  ulib_unlock(&drain_lock);
  // STUB
  // LAB upcalls END
}
