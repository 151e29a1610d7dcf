// The concurrency level of a process (lab concurrency): how many LWPs run
// its user threads. As in SunOS, a process whose user threads could run in
// parallel asks the kernel for more kernel-level threads, and for fewer when
// they cannot.
//
// The protocol with the user thread library:
//  - The library (user/lib/uthread_level.c) registers, once, where a new LWP
//    starts: concurrency_entry(entry, arg, boot_stack_top). The kernel cannot
//    allocate user stacks, so every LWP it adds starts at entry(arg) on the
//    same small boot stack; the library keeps them from using it at once.
//    The calling LWP becomes the first LWP serving user threads.
//  - The serving LWPs are the LWPs of the process marked `serving` that
//    have not ended: the registering one, and those set_concurrency adds.
//    They are also detached: released as soon as they end (nobody joins
//    them).
//  - set_concurrency(n) grows the process at once: it adds LWPs until n
//    serve. Lowering n only records it: the library ends surplus LWPs
//    (lwp_exit) between user threads, when it sees the lower level.
//  - A process starts at level 1 (proc_alloc) with nothing registered; a
//    forked child too. exec drops the registration (the entry belonged to
//    the old image) and the level.
#include "proc/proc.h"
#include "proc/syscall.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "arch/memlayout.h"

#define CONCURRENCY_MAX 64    // the highest level a process may ask for

// Has the library of p's current program registered an entry for new LWPs?
static int concurrency_registered(struct proc *p)
{
  return p->lwp_entry != 0;
}

static int in_image(struct proc *p, uint64 va, uint64 len)
{
  return va >= USER_BASE && va + len >= va && va + len <= USER_BASE + p->sz;
}

// concurrency_entry(entry, arg, boot_stack_top): where LWPs added by
// set_concurrency start; the caller becomes a serving LWP (and detached).
// 0 on success, -1 for a bad address.
uint64 sys_concurrency_entry(void)
{
  struct proc *p = curproc();
  uint64 entry = arg_addr(0), arg = arg_addr(1), stack_top = arg_addr(2);
  if (!in_image(p, entry, 4) || !in_image(p, stack_top - 16, 16) || stack_top % 16)
    return -1;
  spinlock_acquire(&p->lock);
  p->lwp_entry = entry;
  p->lwp_entry_arg = arg;
  p->lwp_entry_stack = stack_top;
  curlwp()->detached = 1;
  curlwp()->serving = 1;
  spinlock_release(&p->lock);
  return 0;
}

uint64 sys_get_concurrency(void)
{
  struct proc *p = curproc();
  return concurrency_registered(p) ? p->concurrency : 1;
}

// LAB concurrency BEGIN
// LWPs of p that serve its user threads now: those marked serving that have
// not ended (some may not have reached user mode yet, some may be on their
// way out), less the activations blocked in the kernel and the spares (lab
// upcalls). The caller serves if the library registered; if not, it is the
// process's one LWP and counts as 1 all the same.
static int serving_lwps(struct proc *p)
{
  int n = 0;
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next)
    if (l->serving && !l->dead && l->upc.state == UPC_LWP_ACTIVE)
      n++;
  spinlock_release(&p->lock);
  return n > 0 ? n : 1;
}

// set_concurrency(n): n LWPs should run this process's user threads; 0 lets
// the kernel choose (one per CPU). 0 on success; -1 for n < 0, n above
// CONCURRENCY_MAX or more LWPs than max_threads allows, n > 1 with no entry
// registered, or a kill meanwhile; the level is then unchanged.
uint64 sys_set_concurrency(void)
{
  struct proc *p = curproc();
  int n = arg_int(0);
  if (n == 0)
    n = ncpu;
  if (n < 0 || n > CONCURRENCY_MAX)
    return -1;
  if (n > 1 && !concurrency_registered(p))
    return -1;
  int add = n - serving_lwps(p);
  if (add > max_threads - klt_live_count())
    return -1;
  int old = p->concurrency;
  p->concurrency = n;           // first: a new LWP with no work compares itself to it
  // Counted again before each LWP: a call at the same time may be adding too
  // (each then adds one too many at most) or may have changed the level. No
  // more than counted first: an LWP that ends at once is not made again.
  for (int i = 0; i < add && p->concurrency == n && serving_lwps(p) < n; i++) {
    struct lwp *l = lwp_killed(curlwp()) ? 0 :
                    lwp_alloc(p, p->lwp_entry, p->lwp_entry_stack, p->lwp_entry_arg);
    if (l == 0) {
      if (p->concurrency == n)
        p->concurrency = old;   // those already added leave when they find no work
      return -1;
    }
    spinlock_acquire(&p->lock);
    l->detached = 1;
    l->serving = 1;
    spinlock_release(&p->lock);
    lwkt_schedule(l->klt);
  }
  return 0;
}
// STUB
//| // set_concurrency(n): n LWPs should run this process's user threads; 0 lets
//| // the kernel choose (one per CPU). 0 on success; -1 for n < 0, n above
//| // CONCURRENCY_MAX or more LWPs than max_threads allows, n > 1 with no entry
//| // registered, or a kill meanwhile; the level is then unchanged.
//| uint64 sys_set_concurrency(void)
//| {
//|   return arg_int(0) == 1 ? 0 : -1;   // lab concurrency: see the handout, Part 1
//| }
// LAB concurrency END
