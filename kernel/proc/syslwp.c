// LWP system calls: create, exit, identify and join LWPs; the CPU an LWP
// runs on; futexes; page protection; the schedctl page; and the upcall
// registration a lab builds on. The concurrency level is in concurrency.c.
#include "proc/proc.h"
#include "proc/syscall.h"
#include "thread/lwp.h"
#include "thread/lwkt.h"
#include "thread/futex.h"
#include "thread/cpu.h"
#include "thread/tlb.h"
#include "vm/vm.h"
#include "arch/memlayout.h"
#include "uapi/mman.h"
#include "uapi/upcall.h"

// Is [va, va+len) inside the process's user image?
static int in_image(struct proc *p, uint64 va, uint64 len)
{
  return va >= USER_BASE && va + len >= va && va + len <= USER_BASE + p->sz;
}

uint64 sys_lwp_create(void)
{
  struct proc *p = curproc();
  uint64 fn = arg_addr(0), arg = arg_addr(1), stack_top = arg_addr(2);
  if (!in_image(p, fn, 4) || !in_image(p, stack_top - 16, 16) || stack_top % 16)
    return -1;
  struct lwp *l = lwp_alloc(p, fn, stack_top, arg);
  if (l == 0)
    return -1;
  int id = l->id;
  l->sigmask = curlwp()->sigmask;   // a new thread starts with its creator's mask
  lwkt_schedule(l->klt);
  return id;
}

uint64 sys_lwp_exit(void) { lwp_exit(); }
uint64 sys_lwp_self(void) { return curlwp()->id; }

// lwp_tidword(&word): where this LWP's thread library keeps the id of the
// user thread it runs, so that a fault message can name it. A word names
// one LWP: any other LWP of the process that registered it forgets it (a
// parked activation keeps its word, and its library gives the word's
// record to the next LWP that registers it; docs/upcalls.md).
uint64 sys_lwp_tidword(void)
{
  struct proc *p = curproc();
  struct lwp *self = curlwp();
  uint64 va = arg_addr(0);
  if (va != 0 && (va % sizeof(int) || !in_image(p, va, sizeof(int))))
    return -1;
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; va != 0 && l; l = l->next)
    if (l != self && l->tidword == va)
      l->tidword = 0;
  self->tidword = va;
  spinlock_release(&p->lock);
  return 0;
}
uint64 sys_lwp_join(void) { return lwp_join(arg_int(0)); }
uint64 sys_getcpu(void)   { return cpuid(); }

uint64 sys_futex_wait(void)
{
  return futex_wait(curproc()->pagetable, arg_addr(0), arg_int(1), arg_int(2));
}

uint64 sys_futex_wake(void)
{
  return futex_wake(curproc()->pagetable, arg_addr(0), arg_int(1));
}

uint64 sys_mprotect(void)
{
  struct proc *p = curproc();
  uint64 va = arg_addr(0);
  int len = arg_int(1);
  int ok = -1;
  sleeplock_acquire(&p->vmlock);       // no sibling shrinks the range meanwhile
  if (len > 0 && in_image(p, va, len) && uvm_protect(p->pagetable, va, PGROUNDUP(len), arg_int(2)) == 0) {
    tlb_shootdown(va, PGROUNDUP(len)); // other LWPs may run elsewhere
    ok = 0;
  }
  sleeplock_release(&p->vmlock);
  return ok;
}

uint64 sys_schedctl(void)
{
  if (schedctl_delay > 0)
    lwp_test_delay(schedctl_delay);
  return proc_schedctl();
}

// upcall_register(area): scheduler activations (kernel/proc/upcall.c). 0
// turns BLOCKED events off (those blocked already still report).
uint64 sys_upcall_register(void)
{
  struct proc *p = curproc();
  uint64 va = arg_addr(0);
  struct upcall_area a;
  if (va == 0)
    return upcall_register(p, 0, 0);
  if (va % 8 || !in_image(p, va, sizeof(a)) || copyin(p->pagetable, &a, va, sizeof(a)) < 0)
    return -1;
  if (!in_image(p, a.entry, 4) || !in_image(p, a.stack - 16, 16) || a.stack % 16 ||
      a.wake_word % sizeof(int) || !in_image(p, a.wake_word, sizeof(int)) ||
      uvm_add_word(p->pagetable, a.wake_word, 0) == 0)   // writable?
    return -1;
  return upcall_register(p, va, &a);
}
