// Thread signals (docs/signals.md): each thread's signal mask, the signals
// uthread_kill sends to one thread, and keeping each LWP's kernel mask equal
// to the mask of the thread it runs. Owns ult_sig_used and every thread's
// sigpending; a thread's sigmask is changed only by itself, here. Does not
// switch threads: the switch calls sig_switched_in (user/lib/uthread_core.h).
// The contract is labs/signals/README.md (Part 3).
//
// LAB signals BEGIN
// The kernel knows LWPs, not threads; its masks are per LWP. So each LWP's
// kernel mask is kept equal to the mask of the thread it runs, and an LWP
// in its scheduler (no thread) blocks every signal. The kernel then gives a
// process-directed signal only to an LWP running a thread that does not
// mask it; while every thread masks it, it stays pending in the kernel
// until a thread unmasks it or one that does not mask it is switched in.
// A uthread_kill signal waits on its thread (sigpending) and is raised on
// the LWP running that thread, with lwp_sigsend to itself (the kernel
// delivers it as that call returns, on the thread's stack), once the
// thread runs not masking it: at a switch-in, at uthread_sigmask, or when
// the kick that uthread_kill sends reaches it running. All of this costs
// nothing until a thread masks a signal or uthread_kill is called
// (ult_sig_used): until then every kernel mask stays as the program set it.
// STUB
//| // Design (yours, Part 3): what each LWP's kernel mask is, and when a
//| // signal held for one thread reaches it.
// LAB signals END
#include "user/lib/uthread_core.h"

int ult_sig_used;

// LAB signals BEGIN
static void sig_raise_pending(struct ult_lwp *me, struct ult *t)
{
  uint64 ready;
  while ((ready = __atomic_load_n(&t->sigpending, __ATOMIC_ACQUIRE) & ~t->sigmask) != 0) {
    int sig = 1;
    while (!(ready & (1ull << sig)))
      sig++;
    __atomic_fetch_and(&t->sigpending, ~(1ull << sig), __ATOMIC_ACQ_REL);
    lwp_sigsend(me->lwpid, sig);
  }
}
// LAB signals END

// sig_switched_in's work once ult_sig_used is set: the LWP me now runs t
// (0: its scheduler); called inside the library.
void ult_sig_switched_in_slow(struct ult_lwp *me, struct ult *t)
{
  // LAB signals BEGIN
  uint64 want = t ? t->sigmask : SIG_ALL;
  if (me->kmask != want) {
    me->kmask = want;
    sigprocmask(SIG_SETMASK, want, 0);
  }
  if (t)
    sig_raise_pending(me, t);
  // STUB
  //| (void)me; (void)t;   // lab signals: see the handout, Part 3
  // LAB signals END
}

int uthread_sigmask(int how, uint64 set, uint64 *old)
{
  if (!ult_ready)
    return sigprocmask(how, set, old);
  // sigpending writes *old: the kernel checks the pointer for us.
  if (!sigmask_how_ok(how) || (old && sigpending(old) < 0))
    return -1;
  // LAB signals BEGIN
  int was = lib_enter();
  struct ult_lwp *me = this_lwp();
  struct ult *self = me->current;
  if (old)
    *old = self->sigmask;
  self->sigmask = sigmask_apply(self->sigmask, how, set) & SIG_ALL;
  __atomic_store_n(&ult_sig_used, 1, __ATOMIC_RELEASE);
  sig_switched_in(me, self);
  lib_leave(was);
  return 0;
  // STUB
  //| return sigprocmask(how, set, old);   // lab signals: see the handout, Part 3 (the LWP's mask)
  // LAB signals END
}

int uthread_kill(int tid, int sig)
{
  if (!ult_ready || tid < 0 || tid >= UTHREAD_MAX || sig <= 0 || sig >= NSIG)
    return -1;
  // LAB signals BEGIN
  int was = lib_enter();
  struct ult *t = &ult_threads[tid];
  spin_lock(&ult_table_lock);
  int alive = tid < ult_next_tid && t->state == ULT_ALIVE;
  if (alive && sig != SIGKILL)
    __atomic_fetch_or(&t->sigpending, 1ull << sig, __ATOMIC_ACQ_REL);
  spin_unlock(&ult_table_lock);
  if (!alive || sig == SIGKILL) {
    lib_leave(was);
    return alive ? sigsend(getpid(), SIGKILL) : -1;
  }
  __atomic_store_n(&ult_sig_used, 1, __ATOMIC_RELEASE);
  struct ult_lwp *me = this_lwp(), *l = t->lwp;
  if (t == me->current)
    sig_switched_in(me, t);
  else if (l && ult_lwp_current(l) == tid)
    lwp_kick(l->lwpid);          // running elsewhere: its preemption handler raises it
  lib_leave(was);
  return 0;
  // STUB
  //| return -1;   // lab signals: see the handout, Part 3
  // LAB signals END
}
