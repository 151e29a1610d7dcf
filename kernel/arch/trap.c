// Traps. From user mode: system calls go to the dispatcher, faults kill the
// process with a one-line message, interrupts are dispatched. From kernel
// mode: only interrupts are expected; anything else is a kernel bug and
// panics. Interrupt dispatch is small on purpose: the timer re-arms and
// charges a tick, a software interrupt drains the IPI inbox, an external
// interrupt claims the IRQ and wakes its interrupt thread.
#include "arch/trap.h"
#include "arch/riscv.h"
#include "thread/cpu.h"
#include "thread/lwkt.h"
#include "thread/lwp.h"
#include "thread/ipiq.h"
#include "thread/ithread.h"
#include "thread/clock.h"
#include "proc/proc.h"
#include "proc/syscall.h"
#include "vm/vm.h"
#include "dev/plic.h"
#include "lib/printf.h"
#include "param.h"

extern char uservec[], kernelvec[];
void userret(struct trapframe *tf) __attribute__((noreturn));

void trap_init_hart(void)
{
  CSR_WRITE(stvec, kernelvec);
  CSR_WRITE(sscratch, 0);
  CSR_SET(sie, SIE_SEIE | SIE_SSIE);
  CSR_WRITE(scounteren, 0x7);   // user code may read cycle, time and instret
}

// Returns 1 if scause was an interrupt this code knows how to handle.
static int handle_interrupt(uint64 scause)
{
  if (!(scause & SCAUSE_INTR))
    return 0;
  switch (scause & ~SCAUSE_INTR) {
  case IRQ_S_TIMER:
    clock_intr();
    return 1;
  case IRQ_S_SOFT:
    ipiq_process();
    return 1;
  case IRQ_S_EXT: {
    int irq = plic_claim();
    if (irq)
      ithread_dispatch(irq);
    return 1;
  }
  }
  return 0;
}

static const char *fault_name(uint64 scause)
{
  switch (scause) {
  case EXC_INST_MISALIGNED: return "misaligned instruction";
  case EXC_INST_ACCESS:     return "instruction access fault";
  case EXC_ILLEGAL:         return "illegal instruction";
  case EXC_BREAKPOINT:      return "breakpoint";
  case EXC_LOAD_MISALIGNED: return "misaligned load";
  case EXC_STORE_MISALIGNED: return "misaligned store or atomic";
  case EXC_LOAD_ACCESS:     return "load access fault";
  case EXC_STORE_ACCESS:    return "store access fault";
  case EXC_INST_PAGE:       return "instruction page fault";
  case EXC_LOAD_PAGE:       return "load page fault";
  case EXC_STORE_PAGE:      return "store page fault";
  }
  return "unexpected trap";
}

// A user fault ends the process (every LWP of it), never the kernel.
// A touch of a PROT_NONE page is reported as a stack overflow into a red
// zone, naming the user thread when the LWP's library told us where it
// keeps that thread's id (lwp_tidword).
static void user_fault(struct lwp *l, uint64 scause)
{
  struct proc *p = l->proc;
  uint64 addr = CSR_READ(stval);
  int tid;
  if (!uvm_is_red_zone(p->pagetable, addr))
    printf("pid %d (%s) lwp %d: killed: %s at pc %p addr %p\n", p->pid, p->name, l->id,
           fault_name(scause), (void *)l->tf.epc, (void *)addr);
  else if (l->tidword && copyin(p->pagetable, &tid, l->tidword, sizeof(tid)) == 0)
    printf("pid %d (%s) lwp %d: killed: stack overflow into red zone by thread %d at pc %p addr %p\n",
           p->pid, p->name, l->id, tid, (void *)l->tf.epc, (void *)addr);
  else
    printf("pid %d (%s) lwp %d: killed: stack overflow into red zone at pc %p addr %p\n",
           p->pid, p->name, l->id, (void *)l->tf.epc, (void *)addr);
  proc_kill(p->pid);
}

void usertrap(void)
{
  struct cpu *c = mycpu();
  struct lwp *l = c->cur->lwp;
  uint64 scause = CSR_READ(scause);
  assert((CSR_READ(sstatus) & SSTATUS_SPP) == 0);
  c->cur->pri = PRI_KERN_USER;
  if (l->upc.inuser)
    upcall_count_kernel(l);   // upcalls lab: LWPs of the process in user mode
  if (scause == EXC_ECALL_U) {
    l->tf.epc += 4;
    intr_on();
    syscall();
  } else if (handle_interrupt(scause)) {
    lwkt_maybe_preempt();
  } else {
    intr_on();
    user_fault(l, scause);
  }
  usertrapret();
}

// Back to user mode: end the LWP if it was told to, drop to user priority,
// give up the CPU if the scheduler wants it, and restore the user registers.
void usertrapret(void)
{
  lwp_userret();
  intr_off();
  while (lwp_userret_pending(curlwp())) {
    intr_on();
    lwp_userret();
    intr_off();
  }
  struct klt *t = curklt();
  struct lwp *l = t->lwp;
  mycpu()->stats.user_entries++;
  if (l->proc->upc.area)
    upcall_count_user(l);
  l->tf.kernel_sp = t->kstack + KSTACK_PAGES * PGSIZE;
  l->tf.kernel_tp = (uint64)mycpu();
  uint64 sstatus = CSR_READ(sstatus);
  sstatus &= ~SSTATUS_SPP;
  sstatus |= SSTATUS_SPIE;
  CSR_WRITE(sstatus, sstatus);
  userret(&l->tf);
}

void kerneltrap(void)
{
  uint64 sepc = CSR_READ(sepc);
  uint64 sstatus = CSR_READ(sstatus);
  uint64 scause = CSR_READ(scause);
  struct cpu *c = mycpu();
  assert(sstatus & SSTATUS_SPP);
  assert(!intr_get());
  c->intr_depth++;
  if (!handle_interrupt(scause))
    panic("kerneltrap: %s (scause %p) at pc %p addr %p in %s", fault_name(scause),
          (void *)scause, (void *)sepc, (void *)CSR_READ(stval), c->cur->name);
  c->intr_depth--;
  if (c->intr_depth == 0)
    lwkt_maybe_preempt();
  // A switch may have run other threads' traps: restore ours.
  CSR_WRITE(sepc, sepc);
  CSR_WRITE(sstatus, sstatus);
}
