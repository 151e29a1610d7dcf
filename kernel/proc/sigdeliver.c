// Signals (lab signals): which LWP takes a signal, and how it takes it.
// Owns the choice of a taker for a process-directed signal, making an LWP
// notice a signal that is ready for it (ending its signal-interruptible
// sleep, or naming the CPU to interrupt), and delivery at the return to user
// mode: one ready bit taken, its handler entered on the LWP's own user stack
// over a struct sigframe (proc/signal.h), or its default action.
// Must not touch the sleep queues' insides (sleepq_abort_sig ends a sleep),
// the handler table or the masks outside p->lock, nor the system calls and
// sigreturn (kernel/proc/signal.c, given). The contract is
// labs/signals/README.md; the design, docs/signals.md.
//
// LAB signals BEGIN
// Theory. Every bit is guarded by p->lock, and an LWP changes its own mask
// only under it, so a choice made under the lock sees masks that hold. A
// bit is taken (cleared) by exactly one LWP, in sig_deliver, under the lock.
// A sleeper told to take a process-directed bit owns it before its sleep
// ends, so the call it sleeps in fails for a signal it will take itself.
// One that holds the bit in its own set already is on its way out (its
// own copy ends the sleep): ours stays with the process, or two merge.
// STUB
//| // Theory (yours, Part 2): why no signal is taken twice, taken while
//| // blocked, or lost.
// LAB signals END
#include "proc/signal.h"
#include "proc/proc.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/trace.h"
#include "vm/vm.h"
#include "arch/memlayout.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "uapi/uframe.h"

// LAB signals BEGIN
static int runs_user_code(struct klt *t)
{
  return t->cpu->cur == t && t->pri == PRI_USER;
}

// The LWP that should take a process-directed bit: one running user code,
// else one in a signal-interruptible sleep, never one that blocks it or is
// ending. 0: none now. (held: p->lock)
static struct lwp *taker(struct proc *p, uint64 bit)
{
  struct lwp *sleeper = 0;
  for (struct lwp *l = p->lwps; l; l = l->next) {
    if (l->dead || l->exit_req || (l->sigmask & bit))
      continue;
    if (runs_user_code(l->klt))
      return l;
    if (sleeper == 0 && l->klt->sleep_sig && l->klt->chan)
      sleeper = l;
  }
  return sleeper;
}
// LAB signals END

struct cpu *sig_tell_taker(struct proc *p, uint64 bit)
{
  assert(spinlock_holding(&p->lock) && !(bit & ~SIG_BLOCKABLE));
  // LAB signals BEGIN
  struct lwp *l = taker(p, bit);
  if (l == 0)
    return 0;
  if (runs_user_code(l->klt))
    return l->klt->cpu != mycpu() ? l->klt->cpu : 0;
  if (l->sigpending & bit)
    return 0;                    // its own copy ends the sleep: ours waits, not merged
  p->sigpending &= ~bit;         // the sleeper's own before its sleep ends
  l->sigpending |= bit;
  if (!sleepq_abort_sig(l->klt)) {
    l->sigpending &= ~bit;       // it woke meanwhile: the process's again
    p->sigpending |= bit;
  }
  return 0;
  // STUB
  //| return 0;   // lab signals: see the handout, Part 2
  // LAB signals END
}

struct cpu *sig_nudge(struct lwp *l)
{
  // LAB signals BEGIN
  struct klt *t = l->klt;
  if (sleepq_abort_sig(t))
    return 0;
  return t->cpu != mycpu() && runs_user_code(t) ? t->cpu : 0;
  // STUB
  //| (void)l;
  //| return 0;   // lab signals: see the handout, Part 1
  // LAB signals END
}

void sig_deliver(struct lwp *l)
{
  struct proc *p = l->proc;
  // LAB signals BEGIN
  spinlock_acquire(&p->lock);
  uint64 ready = (l->sigpending | p->sigpending) & ~l->sigmask;
  if (ready == 0) {
    spinlock_release(&p->lock);
    return;
  }
  int sig = __builtin_ctzll(ready);
  uint64 bit = SIGBIT(sig);
  assert(bit & SIG_BLOCKABLE);   // SIGKILL is never posted: it is proc_kill
  if (l->sigpending & bit)
    l->sigpending &= ~bit;
  else
    p->sigpending &= ~bit;
  uint64 h = p->sighandler[sig], mask = l->sigmask;
  if (sig_caught(h))
    l->sigmask |= bit;           // blocked while its handler runs
  spinlock_release(&p->lock);
  trace_signal(l->klt, sig);
  if (!sig_caught(h)) {
    if (h == (uint64)SIG_DFL && sig != SIGCHLD)
      proc_kill(p->pid);         // lwp_userret ends the process
    return;
  }
  struct sigframe f;
  memmove(&f.regs, &l->tf.epc, sizeof(f.regs));
  f.mask = mask;
  f.sig = sig;
  uint64 frame = (l->tf.sp - UFRAME_GAP - sizeof(f)) & ~(uint64)15;
  if (frame < USER_BASE || frame > l->tf.sp || copyout(p->pagetable, frame, &f, sizeof(f)) < 0) {
    sig_no_room(l, sig);
    return;
  }
  l->tf.epc = h;
  l->tf.a0 = sig;
  l->tf.ra = p->sigtramp;
  l->tf.sp = frame;
  // STUB
  //| proc_kill(p->pid);   // lab signals: see the handout, Part 1 (until then every signal ends the process)
  // LAB signals END
}
