// Kicks: preempting a lower-priority ULT on another LWP. When a ULT becomes
// runnable while another LWP runs a lower-priority one, that LWP is kicked
// (lwp_kick, kernel/proc/kick.c) and runs ult_preempt_handler() on top of
// its interrupted ULT, which yields. A kick that lands while the LWP is
// inside the library (in_lib) only marks it (resched_pending); lib_leave()
// acts on the mark. Owns kick_target, the one kick in flight. Chooses and
// sends kicks; the run queue and the yield itself are user/lib/uthread.c's.
#include "user/lib/uthread_core.h"

static struct ult_lwp *kick_target; // the one kick in flight, or 0 (set under the run queue's lock)

// The run queue's lock held; a thread of priority prio was just queued.
// Chooses the LWP to kick: of the other shared LWPs, the one running the
// lowest-priority ULT, if that is below prio. None if an LWP is idle or in
// its scheduler (it takes the best thread itself) or a kick is already in
// flight (one at a time). The caller's own LWP is not preempted: the caller
// keeps running.
struct ult_lwp *ult_kick_choose(int prio)
{
  if (prio == 0 || ult_idle_lwps > 0 || __atomic_load_n(&kick_target, __ATOMIC_ACQUIRE))
    return 0;
  struct ult_lwp *me = this_lwp(), *victim = 0;
  int lowest = prio;
  for (struct ult_lwp *l = ult_lwp_first(); l != 0; l = l->all_next) {
    if (!l->in_use || l->bound || l->in_kernel || l == me)
      continue;
    struct ult *running = l->current;
    if (running == 0)
      return 0;
    if (running->prio < lowest) {
      lowest = running->prio;
      victim = l;
    }
  }
  __atomic_store_n(&kick_target, victim, __ATOMIC_RELEASE);
  return victim;
}

// Sends the kick ult_kick_choose() chose (the run queue's lock released).
void ult_kick_send(struct ult_lwp *victim)
{
  if (victim == 0 || lwp_kick(victim->lwpid) == 0)
    return;
  ult_kick_cancel(victim);           // it has ended: no kick in flight after all
}

int ult_kick_aimed_at(struct ult_lwp *l)
{
  return __atomic_load_n(&kick_target, __ATOMIC_ACQUIRE) == l;
}

void ult_kick_cancel(struct ult_lwp *l)
{
  struct ult_lwp *expected = l;
  __atomic_compare_exchange_n(&kick_target, &expected, 0, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

// The kernel runs this on a kicked LWP, on the stack of whatever it was
// running, with f holding the interrupted registers (kernel/proc/kick.c).
// In a ULT's own code: the ULT yields right here, and when it is resumed
// (maybe on another LWP) lwp_resume takes it back to where it was. Inside
// the library: only mark the LWP; lib_leave() yields on the way out.
void ult_preempt_handler(struct uframe *f)
{
  if (this_lwp() != 0) {           // 0: an LWP still booting (it has no record)
    int was = lib_enter();
    struct ult_lwp *me = this_lwp();
    ult_kick_cancel(me);             // the kick in flight has arrived
    me->resched_pending = 1;
    sig_switched_in(me, me->current);   // a uthread_kill may be why it was kicked
    lib_leave(was);                  // was 0: yields now; else the library will
  }
  lwp_resume(f);                     // tp stays this LWP's (the kernel keeps it)
  printf("uthread: lwp_resume failed\n");
  exit(1);
}
