// Processes: the table, fork, exit, wait, kill and growth, and the rules
// that tie a process's LWPs together (exit and exec end every other LWP;
// wait frees a process only once all its LWPs are off their CPUs).
//
// Locks: table_lock guards slot allocation (the free list); wait_lock guards
// parent links (parent, children, sibling) and the exit/wait hand-off;
// p->lock guards a process's state and LWP list;
// p->vmlock (a sleep lock) serializes changes to the address space with
// fork's copy of it. Order: vmlock, wait_lock, p->lock. p->lock is also taken
// with interrupts off (lwp_offcpu), so it is never held across a TLB
// shootdown (docs/locking.md).
#include "proc/proc.h"
#include "proc/signal.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/ipiq.h"
#include "thread/sleepq.h"
#include "thread/tlb.h"
#include "arch/trap.h"
#include "arch/memlayout.h"
#include "arch/sbi.h"
#include "vm/vm.h"
#include "vm/kalloc.h"
#include "fs/fs.h"
#include "fs/file.h"
#include "fs/inode.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "uapi/procinfo.h"
#include "uapi/schedctl.h"

#define SCHEDCTL_VA (USER_TOP - PGSIZE)

struct proc procs[NPROC];
static struct proc *initproc;
static struct spinlock table_lock;
static struct spinlock wait_lock;
static int next_pid = 1;
// Unused slots, so fork finds one at once whatever the number of processes
// (a scan from slot 0 passed every live one: 50 idle processes made
// fork + exit + wait 1.4% dearer).
static struct proc *free_procs;

// Give slot p back (its state is set here, under the lock).
static void slot_free(struct proc *p)
{
  spinlock_acquire(&table_lock);
  p->state = PROC_UNUSED;
  p->next_free = free_procs;
  free_procs = p;
  spinlock_release(&table_lock);
}

void proc_init(void)
{
  spinlock_init(&table_lock, "proc_table");
  spinlock_init(&wait_lock, "wait");
  for (int i = NPROC - 1; i >= 0; i--) {   // slot 0 first: init is pid 1 in slot 0
    spinlock_init(&procs[i].lock, "proc");
    sleeplock_init(&procs[i].vmlock, "vm");
    upcall_proc_init(&procs[i]);
    slot_free(&procs[i]);
  }
}

static struct proc *proc_alloc(void)
{
  spinlock_acquire(&table_lock);
  struct proc *p = free_procs;
  if (p) {
    assert(p->state == PROC_UNUSED);
    free_procs = p->next_free;
    p->state = PROC_ALIVE;
    p->pid = next_pid++;
  }
  spinlock_release(&table_lock);
  if (p == 0)
    return 0;
  p->pagetable = uvm_create();
  if (p->pagetable == 0) {
    slot_free(p);
    return 0;
  }
  p->sz = 0;
  p->parent = 0;
  p->children = 0;
  p->sibling = 0;
  p->lwps = 0;
  p->nlwp = 0;
  p->next_lwpid = 1;
  p->killed = p->exiting = p->xstate = 0;
  p->concurrency = 1;
  p->lwp_entry = p->lwp_entry_arg = 0;
  upcall_forget(p, 0);
  p->schedctl = 0;
  p->preempt_handler = 0;      // a forked child registers its own
  sig_proc_init(p);
  p->cwd = 0;
  memset(p->ofile, 0, sizeof(p->ofile));
  return p;
}

static void schedctl_free(struct proc *p, pagetable_t pt)
{
  if (p->schedctl == 0)
    return;
  pte_t *pte = vm_walk(pt, SCHEDCTL_VA, 0);
  assert(pte);
  *pte = 0;
  kfree(p->schedctl);
  p->schedctl = 0;
}

// Free a process whose LWPs have all left their CPUs.
static void proc_free(struct proc *p)
{
  spinlock_acquire(&p->lock);
  while (p->lwps)
    lwp_release(p->lwps);
  spinlock_release(&p->lock);
  schedctl_free(p, p->pagetable);
  uvm_free(p->pagetable, p->sz);
  p->pagetable = 0;
  p->sz = 0;
  p->pid = 0;
  p->parent = 0;
  p->name[0] = 0;
  slot_free(p);
}

// The first LWP starts here, in the kernel: mount the root file system
// (which sleeps on the disk, so it needs a thread) and exec /init.
static void init_start(void *arg)
{
  (void)arg;
  struct proc *p = curproc();
  fs_init(ROOTDEV);
  p->cwd = path_lookup("/");
  char *argv[] = { "init", 0 };
  if (proc_exec("/init", argv) < 0)
    panic("cannot exec /init");
  usertrapret();
}

void proc_user_init(void)
{
  struct proc *p = proc_alloc();
  assert(p);
  initproc = p;
  safestrcpy(p->name, "init", sizeof(p->name));
  struct lwp *l = lwp_alloc(p, 0, 0, 0);
  assert(l);
  l->klt->fn = init_start;
  lwkt_schedule(l->klt);
}

int proc_fork(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  struct proc *np = proc_alloc();
  if (np == 0)
    return -1;
  safestrcpy(np->name, p->name, sizeof(np->name));
  sleeplock_acquire(&p->vmlock);       // no sibling shrinks what we copy
  int copied = uvm_copy(p->pagetable, np->pagetable, p->sz);
  np->sz = p->sz;
  sleeplock_release(&p->vmlock);
  if (copied < 0) {
    np->sz = 0;                        // uvm_copy freed what it had copied
    proc_free(np);
    return -1;
  }
  struct lwp *nl = lwp_alloc(np, 0, 0, 0);
  if (nl == 0) {
    proc_free(np);
    return -1;
  }
  nl->tf = l->tf;            // the caller's registers; fork returns 0 in the child
  nl->tf.a0 = 0;
  nl->sigmask = l->sigmask;  // and the caller's mask, with the process's handlers
  sig_fork(p, np);
  fd_table_copy(np);         // both under their locks: a sibling LWP may
  np->cwd = cwd_get();       // close a file or chdir meanwhile
  int pid = np->pid;
  spinlock_acquire(&wait_lock);
  np->parent = p;
  np->sibling = p->children;
  p->children = np;
  spinlock_release(&wait_lock);
  lwkt_schedule(nl->klt);
  return pid;
}

static void kick(void *arg)
{
  (void)arg;   // the IPI itself is the point: its trap passes lwp_userret()
}

// Wake every LWP of p but the caller so that it notices it must end. The
// sleeps are aborted under p->lock: once it is dropped, an LWP may be
// released and its KLT reused by another process, whose sleep must not be
// cut short. The CPUs to kick are only hints: a spurious kick is harmless.
static void wake_lwps(struct proc *p, struct lwp *self, int set_exit_req)
{
  uint32 kick_cpus = 0;
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next) {
    if (l == self || l->dead)
      continue;
    if (set_exit_req)
      l->exit_req = 1;
    sleepq_abort(l->klt);
    kick_cpus |= 1u << l->klt->cpu->id;
  }
  spinlock_release(&p->lock);
  for (int i = 0; i < NCPU; i++)
    if ((kick_cpus & (1u << i)) && &cpus[i] != mycpu())
      ipiq_send(&cpus[i], kick, 0);
}

void proc_end_other_lwps(struct proc *p)
{
  struct lwp *self = curlwp();
  wake_lwps(p, self, 1);
  spinlock_acquire(&p->lock);
  for (;;) {
    int busy = 0;
    for (struct lwp *l = p->lwps; l; l = l->next)
      if (l != self && !l->offcpu)
        busy = 1;
    if (!busy)
      break;
    sleepq_sleep(p, &p->lock);
  }
  struct lwp *l = p->lwps;
  while (l) {
    struct lwp *next = l->next;
    if (l != self)
      lwp_release(l);
    l = next;
  }
  spinlock_release(&p->lock);
}

// exec's way to become the process's only LWP. Like exit() it sets
// p->exiting while it ends the others, so that an exit() or a second exec()
// on another LWP meanwhile ends only that LWP (Linux lets a running exec win
// the same way), and a kill meanwhile is acted on when the exec returns to
// user mode (lwp_userret). Fails, changing nothing, if an exit or exec is
// already ending the LWPs, or after a kill: the caller must then end too.
int proc_single(struct proc *p)
{
  struct lwp *self = curlwp();
  spinlock_acquire(&p->lock);
  if (p->exiting || p->killed || self->exit_req) {
    spinlock_release(&p->lock);
    return -1;
  }
  p->exiting = 1;
  spinlock_release(&p->lock);
  proc_end_other_lwps(p);
  spinlock_acquire(&p->lock);
  p->exiting = 0;
  spinlock_release(&p->lock);
  return 0;
}

void proc_exit(int status)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  if (p == initproc)
    panic("init exiting");
  spinlock_acquire(&p->lock);
  if (p->exiting) {            // another LWP is already ending the process
    spinlock_release(&p->lock);
    lwp_exit();
  }
  p->exiting = 1;
  p->xstate = status;
  spinlock_release(&p->lock);
  proc_end_other_lwps(p);

  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd]) {
      file_close(p->ofile[fd]);
      p->ofile[fd] = 0;
    }
  }
  log_begin_op();
  inode_put(p->cwd);
  log_end_op();
  p->cwd = 0;

  spinlock_acquire(&wait_lock);
  while (p->children) {        // init adopts them
    struct proc *c = p->children;
    p->children = c->sibling;
    c->parent = initproc;
    c->sibling = initproc->children;
    initproc->children = c;
    sleepq_wakeup(initproc);
  }
  spinlock_acquire(&p->lock);
  l->dead = 1;
  p->nlwp--;
  if (p->killed)
    p->xstate = -1;            // a kill() that succeeded shows, even against exit()
  p->state = PROC_ZOMBIE;
  spinlock_release(&p->lock);
  sleepq_wakeup(p->parent);
  sig_post_proc(p->parent, SIGCHLD);
  spinlock_release(&wait_lock);
  klt_exit();
}

static int all_offcpu(struct proc *p)
{
  int ok = 1;
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next)
    if (!l->offcpu)
      ok = 0;
  spinlock_release(&p->lock);
  return ok;
}

int proc_wait(uint64 status_addr)
{
  struct proc *p = curproc();
  spinlock_acquire(&wait_lock);
  for (;;) {
    int have_kids = 0, leaving = 0;
    for (struct proc **pp = &p->children; *pp; pp = &(*pp)->sibling) {
      struct proc *q = *pp;
      assert(q->parent == p);
      have_kids = 1;
      if (q->state != PROC_ZOMBIE)
        continue;
      if (!all_offcpu(q)) {    // its last LWP is still switching out
        leaving = 1;
        continue;
      }
      int pid = q->pid;
      if (status_addr && copyout(p->pagetable, status_addr, &q->xstate, sizeof(int)) < 0) {
        spinlock_release(&wait_lock);
        return -1;
      }
      *pp = q->sibling;
      proc_free(q);
      spinlock_release(&wait_lock);
      return pid;
    }
    if (!have_kids || lwp_interrupted(curlwp())) {
      spinlock_release(&wait_lock);
      return -1;
    }
    sleepq_sleep_sig(p, &wait_lock, leaving ? 1 : 0);
  }
}

int proc_kill(int pid)
{
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    spinlock_acquire(&p->lock);
    if (p->pid != pid || p->state != PROC_ALIVE) {
      spinlock_release(&p->lock);
      continue;
    }
    p->killed = 1;
    spinlock_release(&p->lock);
    wake_lwps(p, curlwp(), 0);
    return 0;
  }
  return -1;
}

// Shrink p's image to newsz: unmap, shoot down, free, a batch of pages at a
// time (the order kstack_unmap keeps). Until every hart has dropped a page
// from its TLB, a sibling LWP running there may still write it. Called with
// vmlock, so the range stays ours, and with no spinlock: the shootdown waits
// for the other harts.
#define SHRINK_BATCH 64
static void proc_shrink(struct proc *p, uint64 newsz)
{
  uint64 pa[SHRINK_BATCH];
  uint64 top = PGROUNDUP(p->sz), keep = PGROUNDUP(newsz);
  p->sz = newsz;
  while (top > keep) {
    uint64 low = top - keep > SHRINK_BATCH * PGSIZE ? top - SHRINK_BATCH * PGSIZE : keep;
    int n = 0;
    for (uint64 a = low; a < top; a += PGSIZE)
      if ((pa[n] = uvm_unmap_page(p->pagetable, USER_BASE + a)) != 0)
        n++;
    tlb_shootdown(USER_BASE + low, top - low);
    for (int i = 0; i < n; i++)
      kfree((void *)pa[i]);
    top = low;
  }
}

// sbrk: grow or shrink the user image by n bytes; *oldsz is the size it
// had. Read under vmlock with the change: LWPs that call at once each get a
// region of their own (lwptests sbrkrace).
int proc_grow(int n, uint64 *oldsz)
{
  struct proc *p = curproc();
  int ok = 0;
  sleeplock_acquire(&p->vmlock);
  uint64 sz = p->sz;
  *oldsz = sz;
  if (n > 0) {
    // A sibling may touch the new pages before we know all could be had:
    // undo a partial growth like any shrink (shoot down, then free).
    p->sz = uvm_grow(p->pagetable, sz, sz + n, PTE_W);
    if (p->sz != sz + n) {
      proc_shrink(p, sz);
      ok = -1;
    }
  } else if (n < 0) {
    if ((uint64)-n > sz)
      ok = -1;
    else
      proc_shrink(p, sz + n);
  }
  sleeplock_release(&p->vmlock);
  return ok;
}

// Map the process's schedctl page on first use; return the user address of
// the calling LWP's entry in it.
uint64 proc_schedctl(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  spinlock_acquire(&p->lock);
  if (p->schedctl == 0) {
    struct schedctl *page = kalloc();
    if (page == 0 || uvm_map_page(p->pagetable, SCHEDCTL_VA, (uint64)page, PTE_U | PTE_R) < 0) {
      if (page)
        kfree(page);
      spinlock_release(&p->lock);
      return 0;
    }
    p->schedctl = page;
    for (struct lwp *q = p->lwps; q; q = q->next) {
      q->sc = &page[q->klt->id];
      q->sc->sc_state = q == l ? SC_ONPROC : SC_OFFPROC;
      q->sc->sc_cpu = q->klt->cpu->id;
    }
  }
  spinlock_release(&p->lock);
  return SCHEDCTL_VA + l->klt->id * sizeof(struct schedctl);
}

int proc_info(uint64 uaddr, int max)
{
  struct proc *self = curproc();
  int n = 0;
  if (max < 0)
    return -1;
  for (int i = 0; i < NPROC && n < max; i++) {
    struct proc *p = &procs[i];
    struct procinfo pi;
    memset(&pi, 0, sizeof(pi));
    spinlock_acquire(&p->lock);
    if (p->state == PROC_UNUSED) {
      spinlock_release(&p->lock);
      continue;
    }
    pi.pid = p->pid;
    pi.ppid = p->parent ? p->parent->pid : 0;
    pi.state = p->state;
    pi.concurrency = p->concurrency;
    pi.size = p->sz;
    pi.sigpending = p->sigpending;
    safestrcpy(pi.name, p->name, sizeof(pi.name));
    for (struct lwp *l = p->lwps; l && pi.nlwp < 8; l = l->next) {
      struct lwpinfo *li = &pi.lwps[pi.nlwp++];
      li->lwpid = l->id;
      li->kltid = l->klt->id;
      li->pri = l->klt->pri;
      li->state = l->klt->state;
      safestrcpy(li->state_name, klt_state_name(l->klt->state), sizeof(li->state_name));
      safestrcpy(li->cls, pri_class(l->klt->pri), sizeof(li->cls));
      li->cpu = l->klt->cpu->id;
      li->vcsw = l->vcsw;
      li->ivcsw = l->ivcsw;
      li->upc_state = l->upc.state;
      li->upc_tid = l->upc.state == UPC_LWP_BLOCKED ? l->upc.tid : -1;
      li->sigmask = l->sigmask;
      li->sigpending = l->sigpending;
    }
    spinlock_release(&p->lock);
    if (copyout(self->pagetable, uaddr + n * sizeof(pi), &pi, sizeof(pi)) < 0)
      return n > 0 ? n : -1;     // the entries that fit before the bad page
    n++;
  }
  return n;
}

void proc_dump(void)
{
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->state == PROC_UNUSED)
      continue;
    printf("pid %d %s %s sz %ld lwps %d", p->pid, p->name,
           p->state == PROC_ZOMBIE ? "zombie" : "alive", p->sz, p->nlwp);
    if (p->sigpending)
      printf(" pending 0x%lx", p->sigpending);
    if (p->upc.area)                 // where a hang of activations stands (proc/upcall.c)
      printf(" upcalls %s head %d posted %ld waits %ld spares %d in user %d", p->upc.on ? "on" : "off",
             p->upc.head, p->upc.posted, p->upc.waits, p->upc.nspare, p->upc.inuser);
    printf("\n");
    for (struct lwp *l = p->lwps; l; l = l->next) {
      printf("  lwp %d klt %d cpu %d %s vcsw %ld ivcsw %ld sys %d pc 0x%lx ra 0x%lx%s%s", l->id, l->klt->id,
             l->klt->cpu->id, pri_class(l->klt->pri), l->vcsw, l->ivcsw, l->syscall_nr, l->tf.epc,
             l->tf.ra, l->serving ? " serving" : "", l->upc.inuser ? " in user" : "");
      if (l->upc.replaces)
        printf(" upcall: replacement yet to announce");
      if (l->upc.state == UPC_LWP_BLOCKED)
        printf(" upcall: blocked holding thread %d", l->upc.tid);
      else if (l->upc.state == UPC_LWP_SPARE)
        printf(" upcall: spare");
      if (l->sigmask || l->sigpending)   // signals (proc/signal.c)
        printf(" sigmask 0x%lx pending 0x%lx", l->sigmask, l->sigpending);
      printf("\n");
    }
  }
}

int either_copyout(int user_dst, uint64 dst, const void *src, uint64 len)
{
  if (user_dst)
    return copyout(curproc()->pagetable, dst, src, len);
  memmove((void *)dst, src, len);
  return 0;
}

int either_copyin(void *dst, int user_src, uint64 src, uint64 len)
{
  if (user_src)
    return copyin(curproc()->pagetable, dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}
