// Signals: the process's handler table (hard state, in struct proc), each
// LWP's mask and pending set (light state, in struct lwp), the process's
// own pending set, alarm, sigreturn, and the rules of fork and exec. Owns
// the signal system calls. Which LWP takes a signal and its delivery at the
// return to user mode are kernel/proc/sigdeliver.c (lab signals). Must not
// touch the sleep queues' insides or the kick flag (kick.c).
//
// Theory. A pending signal is one bit: posting it again adds nothing. All
// of the state is guarded by p->lock; an LWP changes its own mask only
// under it, so a sender's choice of taker sees masks that hold.
//  - Posting to a process puts the bit in p->sigpending and asks
//    sig_tell_taker to make one LWP that does not block it take it: one
//    running user code (interrupted by an IPI when it runs on another
//    CPU), else one sleeping in a signal-interruptible call, to which the
//    bit is handed as its sleep ends. With no LWP to tell, the next one
//    through lwp_userret that does not block it takes the bit.
//  - Taking happens in lwp_userret (sig_deliver), under p->lock: the
//    lowest ready bit, the LWP's own set first, is cleared by exactly one LWP.
//  - An LWP that blocks a bit pending for its process tells another taker,
//    so a signal never waits on an LWP that will not take it.
//  - A caught signal's handler returns through the trampoline, which calls
//    sigreturn(frame): the interrupted registers and mask come back.
#include "proc/signal.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "proc/kick.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/cpu.h"
#include "thread/ipiq.h"
#include "thread/sleepq.h"
#include "thread/clock.h"
#include "thread/trace.h"
#include "vm/vm.h"
#include "arch/memlayout.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "uapi/uframe.h"

static int nalarms;     // processes with an alarm set: the clock looks only when > 0

static int sig_valid(int sig)
{
  return sig > 0 && sig < NSIG;
}

// Is sig thrown away when posted to p? Ignored, or SIGCHLD left at its
// default, or a fatal default for init, which must not end. (held: p->lock)
static int sig_discarded(struct proc *p, int sig)
{
  uint64 h = p->sighandler[sig];
  return h == (uint64)SIG_IGN || (h == (uint64)SIG_DFL && (sig == SIGCHLD || p->pid == 1));
}

static void nudge_ipi(void *arg)
{
  (void)arg;   // the trap it causes passes lwp_userret, which delivers
  mycpu()->stats.sig_nudges++;   // interrupts off (ipiq_process): sigtest prefer reads it
}

static void ring(struct cpu *c)
{
  if (c)
    ipiq_send(c, nudge_ipi, 0);
}

// (held: p->lock) Returns a CPU to interrupt once the lock is dropped.
static struct cpu *post_locked(struct proc *p, int sig)
{
  uint64 bit = SIGBIT(sig);
  if (p->state != PROC_ALIVE || sig_discarded(p, sig) || (p->sigpending & bit))
    return 0;
  p->sigpending |= bit;
  return sig_tell_taker(p, bit);
}

int sig_post_proc(struct proc *p, int sig)
{
  assert(sig_valid(sig) && sig != SIGKILL);
  spinlock_acquire(&p->lock);
  int alive = p->state == PROC_ALIVE;
  struct cpu *c = post_locked(p, sig);
  spinlock_release(&p->lock);
  ring(c);
  return alive ? 0 : -1;
}

// Tell a taker again about the bits in `bits` pending for p, then drop
// p->lock (held on entry) and send the IPIs.
static void retell_and_release(struct proc *p, uint64 bits)
{
  struct cpu *cpus[NSIG] = { 0 };
  for (int sig = 1; sig < NSIG; sig++)
    if (bits & p->sigpending & SIGBIT(sig))
      cpus[sig] = sig_tell_taker(p, SIGBIT(sig));
  spinlock_release(&p->lock);
  for (int sig = 1; sig < NSIG; sig++)
    ring(cpus[sig]);
}

// l's mask becomes mask (SIGKILL never in it); bits pending for the
// process that l now blocks go to another taker.
static void set_mask(struct lwp *l, uint64 mask)
{
  struct proc *p = l->proc;
  spinlock_acquire(&p->lock);
  uint64 newly = mask & ~l->sigmask & SIG_BLOCKABLE;
  l->sigmask = mask & SIG_BLOCKABLE;
  retell_and_release(p, newly);
}

void sig_lwp_gone(struct proc *p)
{
  spinlock_acquire(&p->lock);
  retell_and_release(p, p->sigpending);
}

void sig_no_room(struct lwp *l, int sig)
{
  struct proc *p = l->proc;
  printf("pid %d (%s) lwp %d: killed: no room for the signal %d frame below sp %p\n",
         p->pid, p->name, l->id, sig, (void *)l->tf.sp);
  proc_kill(p->pid);
}

// Every user register but tp comes back from the frame: tp names the LWP
// (the uthread library keeps its LWP record there) and a handler may have
// moved the interrupted thread to another LWP (as lwp_resume). Returns the
// restored a0, which syscall() stores in a0 again.
uint64 sys_sigreturn(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  struct sigframe f;
  if (copyin(p->pagetable, &f, arg_addr(0), sizeof(f)) < 0 || !user_code(p, f.regs.epc))
    return -1;
  f.regs.tp = l->tf.tp;
  memmove(&l->tf.epc, &f.regs, sizeof(f.regs));
  set_mask(l, f.mask);
  return f.regs.a0;
}

// signal(sig, handler) with the library's trampoline in a2 (user/lib/usys.S).
uint64 sys_signal(void)
{
  struct proc *p = curproc();
  int sig = arg_int(0);
  uint64 h = arg_addr(1), tramp = arg_addr(2);
  if (!sig_valid(sig) || sig == SIGKILL)
    return -1;
  if (sig_caught(h) && (!user_code(p, h) || !user_code(p, tramp)))
    return -1;
  spinlock_acquire(&p->lock);
  uint64 old = p->sighandler[sig];
  p->sighandler[sig] = h;
  if (sig_caught(h))
    p->sigtramp = tramp;
  if (sig_discarded(p, sig)) {   // what is pending is thrown away too
    p->sigpending &= ~SIGBIT(sig);
    for (struct lwp *l = p->lwps; l; l = l->next)
      l->sigpending &= ~SIGBIT(sig);
  }
  spinlock_release(&p->lock);
  return old;
}

uint64 sys_sigsend(void)
{
  int pid = arg_int(0), sig = arg_int(1);
  if (!sig_valid(sig))
    return -1;
  if (sig == SIGKILL)
    return proc_kill(pid);
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->pid != pid)         // a stale look; decided under the lock
      continue;
    spinlock_acquire(&p->lock);
    if (p->pid != pid || p->state != PROC_ALIVE) {
      spinlock_release(&p->lock);
      continue;
    }
    struct cpu *c = post_locked(p, sig);
    spinlock_release(&p->lock);
    ring(c);
    return 0;
  }
  return -1;
}

uint64 sys_lwp_sigsend(void)
{
  struct proc *p = curproc();
  int id = arg_int(0), sig = arg_int(1);
  if (!sig_valid(sig))
    return -1;
  spinlock_acquire(&p->lock);
  struct lwp *l = p->lwps;
  while (l && l->id != id)
    l = l->next;
  if (l == 0 || l->dead || l->exit_req) {
    spinlock_release(&p->lock);
    return -1;
  }
  if (sig == SIGKILL) {
    spinlock_release(&p->lock);
    return proc_kill(p->pid);
  }
  struct cpu *c = 0;
  if (!sig_discarded(p, sig)) {
    l->sigpending |= SIGBIT(sig);
    if (!(l->sigmask & SIGBIT(sig)))
      c = sig_nudge(l);
  }
  spinlock_release(&p->lock);
  ring(c);
  return 0;
}

// The old mask is written before anything changes: a bad pointer changes nothing.
uint64 sys_sigprocmask(void)
{
  struct lwp *l = curlwp();
  int how = arg_int(0);
  uint64 set = arg_addr(1), old_addr = arg_addr(2), mask = l->sigmask;
  if (!sigmask_how_ok(how))
    return -1;
  if (old_addr && copyout(l->proc->pagetable, old_addr, &mask, sizeof(mask)) < 0)
    return -1;
  set_mask(l, sigmask_apply(mask, how, set));
  return 0;
}

uint64 sys_sigpending(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  spinlock_acquire(&p->lock);
  uint64 set = l->sigpending | p->sigpending;
  spinlock_release(&p->lock);
  return copyout(p->pagetable, arg_addr(0), &set, sizeof(set)) < 0 ? -1 : 0;
}

// (held: p->lock) due 0: no alarm.
static void alarm_set(struct proc *p, uint64 due)
{
  if (p->alarm_tick)
    __sync_fetch_and_sub(&nalarms, 1);
  if (due)
    __sync_fetch_and_add(&nalarms, 1);
  p->alarm_tick = due;
}

// alarm(ticks): the ticks the previous alarm had left (0 if none).
uint64 sys_alarm(void)
{
  struct proc *p = curproc();
  int ticks = arg_int(0);
  if (ticks < 0)
    return -1;
  uint64 now = clock_ticks();
  spinlock_acquire(&p->lock);
  uint64 left = p->alarm_tick > now ? p->alarm_tick - now : 0;
  alarm_set(p, ticks ? now + ticks : 0);
  spinlock_release(&p->lock);
  return left;
}

void sig_alarms(uint64 now)
{
  if (__atomic_load_n(&nalarms, __ATOMIC_RELAXED) == 0)
    return;
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    uint64 due = p->alarm_tick;    // a stale look; decided under the lock
    if (due == 0 || due > now)
      continue;
    spinlock_acquire(&p->lock);
    struct cpu *c = 0;
    if (p->alarm_tick != 0 && p->alarm_tick <= now) {
      alarm_set(p, 0);
      c = post_locked(p, SIGALRM);
    }
    spinlock_release(&p->lock);
    ring(c);
  }
}

void sig_proc_init(struct proc *p)
{
  spinlock_acquire(&p->lock);
  memset(p->sighandler, 0, sizeof(p->sighandler));
  p->sigtramp = 0;
  p->sigpending = 0;
  alarm_set(p, 0);
  spinlock_release(&p->lock);
}

void sig_exec(struct proc *p)
{
  spinlock_acquire(&p->lock);
  memset(p->sighandler, 0, sizeof(p->sighandler));
  p->sigtramp = 0;
  spinlock_release(&p->lock);
}

void sig_fork(struct proc *parent, struct proc *child)
{
  spinlock_acquire(&parent->lock);
  memmove(child->sighandler, parent->sighandler, sizeof(child->sighandler));
  child->sigtramp = parent->sigtramp;
  spinlock_release(&parent->lock);
}
