// Kicks: how one LWP makes another LWP of its process run user code of the
// process's choosing, promptly. The uthread library uses it to preempt a
// low-priority user thread when a higher-priority one becomes runnable
// (docs/uthread.md), as the SunOS two-level scheduler did with its
// "kick" of another LWP.
//
//   lwp_preempt_handler(h)  registers the process's handler (0 removes it)
//   lwp_kick(id)            asks LWP id to run h at its next return to user
//                           mode; if it runs in user mode on another CPU, an
//                           IPI message makes that CPU trap at once
//   lwp_resume(frame)       the handler's way back: reload the user
//                           registers from the frame (like sigreturn), tp
//                           excepted (see sys_lwp_resume)
//
// Delivery happens in lwp_userret(): the LWP's user registers are written as
// a struct uframe (kernel/uapi/uframe.h) below its user sp, and it returns to
// user mode in h(frame) with sp = frame. A kick is a flag, not a queue: two
// kicks before a delivery are one.
#include "proc/proc.h"
#include "proc/syscall.h"
#include "proc/kick.h"
#include "proc/upcall.h"
#include "thread/lwp.h"
#include "thread/cpu.h"
#include "thread/ipiq.h"
#include "arch/memlayout.h"
#include "vm/vm.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "uapi/uframe.h"

// The frame is the trap frame from epc to the end.
_Static_assert(sizeof(struct uframe) == sizeof(struct trapframe) - offsetof(struct trapframe, epc),
               "struct uframe must match struct trapframe from epc on");

int user_code(struct proc *p, uint64 pc)
{
  return pc >= USER_BASE && pc < USER_BASE + p->sz && pc % 2 == 0;
}

uint64 sys_lwp_preempt_handler(void)
{
  struct proc *p = curproc();
  uint64 handler = arg_addr(0);
  if (handler != 0 && !user_code(p, handler))
    return -1;
  p->preempt_handler = handler;
  return 0;
}

// The IPI message itself does nothing: the trap it causes on the target CPU
// goes back to user mode through lwp_userret(), which delivers the kick.
static void kick_ipi(void *arg)
{
  (void)arg;
}

uint64 sys_lwp_kick(void)
{
  struct lwp *self = curlwp();
  struct proc *p = self->proc;
  int id = arg_int(0);
  struct cpu *ring = 0;
  spinlock_acquire(&p->lock);
  struct lwp *l = p->lwps;
  while (l && l->id != id)
    l = l->next;
  int ok = l && l != self && !l->dead && !l->exit_req && p->preempt_handler != 0 &&
           upcall_kick(l);          // sets l->kicked
  if (ok) {
    // Running on another CPU right now? Then it may stay in user mode for a
    // whole tick: interrupt it. (A stale guess costs one spurious IPI, or a
    // delivery at the target's next tick.)
    struct klt *t = l->klt;
    struct cpu *c = t->cpu;
    if (c != mycpu() && c->cur == t)
      ring = c;
  }
  spinlock_release(&p->lock);
  if (ring)
    ipiq_send(ring, kick_ipi, 0);
  return ok ? 0 : -1;
}

uint64 uframe_push(struct lwp *l, const char *what)
{
  struct proc *p = l->proc;
  uint64 frame = (l->tf.sp - UFRAME_GAP - sizeof(struct uframe)) & ~(uint64)15;
  if (frame < USER_BASE || frame > l->tf.sp ||
      copyout(p->pagetable, frame, &l->tf.epc, sizeof(struct uframe)) < 0) {   // the frame is tf from epc on
    printf("pid %d (%s) lwp %d: killed: no room for the %s frame below sp %p\n",
           p->pid, p->name, l->id, what, (void *)l->tf.sp);
    proc_kill(p->pid);
    return 0;
  }
  return frame;
}

// Called by lwp_userret() when l->kicked is set.
void kick_deliver(struct lwp *l)
{
  struct proc *p = l->proc;
  __atomic_store_n(&l->kicked, 0, __ATOMIC_SEQ_CST);
  uint64 handler = p->preempt_handler;
  if (handler == 0)
    return;                       // unregistered since the kick: drop it
  uint64 frame = uframe_push(l, "preemption");
  if (frame == 0)
    return;
  l->tf.epc = handler;
  l->tf.a0 = frame;
  l->tf.sp = frame;
}

// The frame's pc must be user code (read at the frame itself: 8-aligned, so
// it lies in the frame's first page).
static int frame_pc_ok(const void *src, void *proc)
{
  return user_code(proc, ((const struct uframe *)src)->epc);
}

// Every user register but tp comes from the frame. tp names the LWP, not
// the code it runs (the uthread library keeps its LWP record there), and the
// handler may have moved the interrupted code to another LWP before resuming
// it: so tp stays the caller's. The frame goes straight into the trap frame,
// all or nothing (copyin_checked): a bad frame leaves the caller's registers
// as they were. Returns the restored a0, which syscall() then stores in a0
// again.
uint64 sys_lwp_resume(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  uint64 va = arg_addr(0);
  uint64 tp = l->tf.tp;
  if (va % sizeof(uint64) ||
      copyin_checked(p->pagetable, &l->tf.epc, va, sizeof(struct uframe), frame_pc_ok, p) < 0)
    return -1;
  l->tf.tp = tp;                    // user registers only: kernel_sp/tp stay
  return l->tf.a0;
}
