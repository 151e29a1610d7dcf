// Signals: the process's handler table (hard state, in struct proc), each
// LWP's mask and pending set (light state, in struct lwp), the process's
// own pending set, alarm, and delivery at the return to user mode. Owns the
// signal system calls. Must not touch the sleep queues' insides (it asks
// sleepq_abort_sig to end a sleep) or the kick flag (kick.c).
//
// Theory. A pending signal is one bit: posting it again adds nothing. All
// of the state is guarded by p->lock; an LWP changes its own mask only
// under it, so a sender's choice of taker sees masks that hold.
//  - Posting to a process puts the bit in p->sigpending and tells the LWP
//    best placed to take it: one running user code (interrupted by an IPI
//    when it runs on another CPU), else one sleeping in a signal-
//    interruptible call. The bit is handed to such a sleeper (moved into
//    its own set) as its sleep ends, so the call it sleeps in returns -1
//    for a signal it then takes, never for one a sibling took. With no LWP
//    to tell, the next one through lwp_userret that does not block it
//    takes the bit.
//  - Taking happens in lwp_userret, under p->lock: the lowest ready bit,
//    the LWP's own set first, is cleared by exactly one LWP.
//  - An LWP that blocks a bit pending for its process tells another taker,
//    so a signal never waits on an LWP that will not take it.
//  - A caught signal writes a struct sigframe (the interrupted registers
//    and mask) on the LWP's user stack and enters the handler with its
//    signal blocked and ra at the process's trampoline, which calls
//    sigreturn(frame) to put both back.
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

// What a caught signal leaves on the user stack; sigreturn reads it back.
struct sigframe {
  struct uframe regs;   // the interrupted user registers
  uint64 mask;          // the mask to restore
  uint64 sig;
};

static int nalarms;     // processes with an alarm set: the clock looks only when > 0

static int sig_valid(int sig)
{
  return sig > 0 && sig < NSIG;
}

static int caught(uint64 h)
{
  return h != (uint64)SIG_DFL && h != (uint64)SIG_IGN;
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
}

static int runs_user_code(struct klt *t)
{
  return t->cpu->cur == t && t->pri == PRI_USER;
}

// Make l notice a bit that is ready for it: end its signal-interruptible
// sleep, or name the CPU to interrupt where it runs user code (the caller
// sends the IPI once p->lock is dropped). (held: p->lock)
static struct cpu *nudge(struct lwp *l)
{
  struct klt *t = l->klt;
  if (sleepq_abort_sig(t))
    return 0;
  return t->cpu != mycpu() && runs_user_code(t) ? t->cpu : 0;
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

// Tell the best taker of the process-directed bit. A sleeper gets the bit
// as its own just before its sleep is ended; if the sleep ended first, the
// bit goes back to the process. (held: p->lock)
static struct cpu *tell_taker(struct proc *p, uint64 bit)
{
  assert(spinlock_holding(&p->lock) && !(bit & ~SIG_BLOCKABLE));
  struct lwp *l = taker(p, bit);
  if (l == 0)
    return 0;
  if (runs_user_code(l->klt))
    return l->klt->cpu != mycpu() ? l->klt->cpu : 0;
  p->sigpending &= ~bit;
  l->sigpending |= bit;
  if (!sleepq_abort_sig(l->klt)) {
    l->sigpending &= ~bit;
    p->sigpending |= bit;
  }
  return 0;
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
  return tell_taker(p, bit);
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
      cpus[sig] = tell_taker(p, SIGBIT(sig));
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

static uint64 push_frame(struct lwp *l, int sig, uint64 mask)
{
  struct proc *p = l->proc;
  struct sigframe f;
  memmove(&f.regs, &l->tf.epc, sizeof(f.regs));
  f.mask = mask;
  f.sig = sig;
  uint64 frame = (l->tf.sp - UFRAME_GAP - sizeof(f)) & ~(uint64)15;
  if (frame < USER_BASE || frame > l->tf.sp || copyout(p->pagetable, frame, &f, sizeof(f)) < 0) {
    printf("pid %d (%s) lwp %d: killed: no room for the signal %d frame below sp %p\n",
           p->pid, p->name, l->id, sig, (void *)l->tf.sp);
    proc_kill(p->pid);
    return 0;
  }
  return frame;
}

void sig_deliver(struct lwp *l)
{
  struct proc *p = l->proc;
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
  if (caught(h))
    l->sigmask |= bit;         // blocked while its handler runs
  spinlock_release(&p->lock);
  trace_signal(l->klt, sig);
  if (!caught(h)) {
    if (h == (uint64)SIG_DFL && sig != SIGCHLD)
      proc_kill(p->pid);       // lwp_userret ends the process
    return;
  }
  uint64 frame = push_frame(l, sig, mask);
  if (frame == 0)
    return;
  l->tf.epc = h;
  l->tf.a0 = sig;
  l->tf.ra = p->sigtramp;
  l->tf.sp = frame;
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
  if (caught(h) && (!user_code(p, h) || !user_code(p, tramp)))
    return -1;
  spinlock_acquire(&p->lock);
  uint64 old = p->sighandler[sig];
  p->sighandler[sig] = h;
  if (caught(h))
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
      c = nudge(l);
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
  if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
    return -1;
  if (old_addr && copyout(l->proc->pagetable, old_addr, &mask, sizeof(mask)) < 0)
    return -1;
  if (how == SIG_BLOCK)
    mask |= set;
  else if (how == SIG_UNBLOCK)
    mask &= ~set;
  else
    mask = set;
  set_mask(l, mask);
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
