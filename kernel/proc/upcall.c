// Scheduler activations (lab upcalls): the given machinery. Owns the
// registration of a process's upcall area, posting events into its ring
// (and waiting for room there), making new spare LWP/KLT pairs, the hooks
// that call activation.c, and the counters that tests and ps read. The
// spare cache itself (p->upc.spares and the upc_* hand-off fields of each
// LWP) and what an activation does when it blocks and when it wakes are
// activation.c's (the lab): this file only calls it. Must not touch the
// LWKT queues or the sleep queues' insides: it only sleeps, wakes and
// schedules through their calls.
//
// Which sleeps are activations blocking (docs/upcalls.md): a sleep of a
// serving LWP (detached: see concurrency.c) of a process with upcalls on,
// inside a system call, while its lwp_tidword names a user thread (>= 0).
// The library publishes -1 there whenever the LWP runs its own scheduler, so
// its parking (futex_wait on the work word) and its lock naps produce no
// event, like KSE's km_curthread == NULL.
//
// Locks: p->upc.lock guards the ring's kernel side (head, seq), the spare
// list and the LWPs' upc_* hand-off fields. It is taken with the caller of
// sleep's lock held, so nothing is taken under it but sleep-queue buckets.
#include "proc/upcall.h"
#include "proc/proc.h"
#include "proc/kick.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/sleepq.h"
#include "thread/futex.h"
#include "thread/clock.h"
#include "thread/trace.h"
#include "arch/trap.h"
#include "vm/vm.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "uapi/upcall.h"

#define AREA(u, field) ((u)->area + offsetof(struct upcall_area, field))

_Static_assert(offsetof(struct upcall_proc, lock) == 0, "upcall_forget keeps the lock");

void upcall_proc_init(struct proc *p)
{
  spinlock_init(&p->upc.lock, "upcall");
}

void upcall_forget(struct proc *p, struct lwp *self)
{
  memset((char *)&p->upc + sizeof(p->upc.lock), 0, sizeof(p->upc) - sizeof(p->upc.lock));
  if (self) {
    self->upc_state = UPC_LWP_ACTIVE;
    self->upc_inuser = 0;
    self->upc_replaces = 0;
  }
}

// A new spare's KLT: it waits in the cache, then first returns to user mode
// as a replacement, or ends.
static void spare_main(void *arg)
{
  (void)arg;
  struct lwp *l = curlwp();
  if (!activation_spare_wait(l)) {
    l->upc_state = UPC_LWP_ACTIVE;
    lwp_exit();                     // detached: released as it leaves the CPU
  }
  usertrapret();
}

// Top the cache up to UPC_SPARES. Runs only where the caller holds nothing
// (registration, a replacement's first return to user): blocking itself
// never allocates. A new spare joins the cache at once, before its KLT
// first runs (spare_main), so a block right after finds it. At most
// UPC_SPARES new ones per call, whatever the cache does with them.
static void spare_refill(struct proc *p)
{
  struct upcall_proc *u = &p->upc;
  for (int i = 0; i < UPC_SPARES && u->on && u->nspare < UPC_SPARES; i++) {
    struct lwp *l = lwp_killed(curlwp()) ? 0 : lwp_alloc(p, 0, 0, 0);
    if (l == 0)
      return;                       // max_threads or memory: blocks go without
    spinlock_acquire(&p->lock);
    l->detached = 1;                // released when it ends; nobody joins a spare
    spinlock_release(&p->lock);
    l->klt->fn = spare_main;
    activation_spare_add(l);
    lwkt_schedule(l->klt);
  }
}

int upcall_register(struct proc *p, uint64 va, const struct upcall_area *a)
{
  struct upcall_proc *u = &p->upc;
  if (va == 0) {                    // off: no new BLOCKED; blocked ones still report
    u->on = 0;
    return 0;
  }
  spinlock_acquire(&u->lock);
  if (u->area != 0 && u->area != va) {
    spinlock_release(&u->lock);
    return -1;                      // one area per program image
  }
  if (u->area == 0) {
    uint32 zero[4] = { 0, 0, 0, 0 };   // head, tail, kwait, coalesced
    if (copyout(p->pagetable, va + offsetof(struct upcall_area, head), zero, sizeof(zero)) < 0) {
      spinlock_release(&u->lock);
      return -1;
    }
    u->head = u->seq = 0;
  }
  u->area = va;
  u->entry = a->entry;
  u->arg = a->arg;
  u->stack = a->stack;
  u->wake_word = a->wake_word;
  u->on = 1;
  spinlock_release(&u->lock);
  spare_refill(p);
  return 0;
}

// ---- the ring ---------------------------------------------------------------------
static void area_gone(struct proc *p)
{
  printf("pid %d (%s): killed: upcall area unreadable\n", p->pid, p->name);
  proc_kill(p->pid);
}

// Tell the library there is something to read: bump its work word (so a
// futex_wait that read the old value returns at once) and wake one waiter.
static void wake_library(struct proc *p)
{
  if (p->upc.wake_word == 0 || uvm_add_word(p->pagetable, p->upc.wake_word, 1) < 0)
    return;
  futex_wake(p->pagetable, p->upc.wake_word, 1);
}

// With u->lock held: put ev in the ring if more than `reserve` slots are
// free. 1 posted, 0 no room (kwait set), -1 the area is gone (unmapped,
// shrunk away or made read-only since registration: the caller kills the
// process with area_gone).
static int ring_put(struct proc *p, struct upcall_event *ev, int reserve, uint32 *tail_seen)
{
  struct upcall_proc *u = &p->upc;
  uint32 tail, one = 1;
  for (int tries = 0; tries < 2; tries++) {
    if (copyin(p->pagetable, &tail, AREA(u, tail), sizeof(tail)) < 0)
      return -1;
    uint32 used = u->head - tail;
    if (used <= UPC_RING && UPC_RING - used > (uint32)reserve) {
      // head and seq move only once the library can see the event: one
      // that did not reach the area leaves no gap (the process is killed,
      // but it may be reaped later than a new area is looked at).
      ev->seq = u->seq;
      uint32 head = u->head + 1;
      uint64 slot = AREA(u, ring) + (u->head % UPC_RING) * sizeof(*ev);
      if (copyout(p->pagetable, slot, ev, sizeof(*ev)) < 0)
        return -1;
      __sync_synchronize();         // the event before the head that shows it
      if (copyout(p->pagetable, AREA(u, head), &head, sizeof(head)) < 0)
        return -1;
      u->head = head;
      u->seq++;
      u->posted++;
      trace_upcall(curklt(), ev->type);
      return 1;
    }
    // Full: ask for a wake-up, then look once more (the library moves tail,
    // then reads kwait; we write kwait, then read tail: one of us sees the other).
    if (copyout(p->pagetable, AREA(u, kwait), &one, sizeof(one)) < 0)
      return -1;
    __sync_synchronize();
    *tail_seen = tail;
  }
  return 0;
}

int upcall_post(struct lwp *l, int type, int lwpid, int tid, uint64 frame, int arg, int reserve)
{
  struct proc *p = l->proc;
  struct upcall_proc *u = &p->upc;
  struct upcall_event ev = { 0, type, lwpid, tid, frame, arg, 0 };
  for (;;) {
    if (lwp_killed(l))
      return -1;
    spinlock_acquire(&u->lock);
    uint32 tail = 0;
    int r = u->area ? ring_put(p, &ev, reserve, &tail) : -1;
    uint64 area = u->area;
    if (r == 0)
      u->waits++;
    spinlock_release(&u->lock);
    if (r < 0) {
      if (area)
        area_gone(p);
      return -1;
    }
    if (r > 0) {
      wake_library(p);
      return 0;
    }
    // Full: wait until the library moves tail (or a tick passes).
    futex_wait(p->pagetable, area + offsetof(struct upcall_area, tail), tail, 1);
  }
}

// After an involuntary switch at the return to user mode (lwp_userret).
// Advice only, so never waits: with the ring nearly full it is coalesced
// into the area's `coalesced` count.
void upcall_preempted(struct lwp *l)
{
  struct proc *p = l->proc;
  struct upcall_proc *u = &p->upc;
  if (!u->on || !l->detached || l->upc_state != UPC_LWP_ACTIVE || l->upc_replaces)
    return;
  int tid = upcall_thread_of(l);
  if (tid < 0)
    return;
  struct upcall_event ev = { 0, UPC_PREEMPTED, l->id, tid, 0, 0, 0 };
  uint32 tail, n;
  spinlock_acquire(&u->lock);
  int r = u->area ? ring_put(p, &ev, UPC_RESERVE, &tail) : -1;
  if (r == 0 && copyin(p->pagetable, &n, AREA(u, coalesced), sizeof(n)) == 0) {
    n++;
    copyout(p->pagetable, AREA(u, coalesced), &n, sizeof(n));
  }
  uint64 area = u->area;
  spinlock_release(&u->lock);
  if (r > 0)
    wake_library(p);
  if (r < 0 && area)
    area_gone(p);
}

// ---- activations ------------------------------------------------------------------
int upcall_thread_of(struct lwp *l)
{
  int tid;
  if (l->tidword == 0 || copyin(l->proc->pagetable, &tid, l->tidword, sizeof(tid)) < 0)
    return -1;
  return tid < 0 ? -1 : tid;
}

// r will start afresh at the library's upcall entry: its registers, no user
// thread published until its library says so, no kick pending.
void upcall_entry_regs(struct lwp *r)
{
  struct proc *p = r->proc;
  memset(&r->tf.epc, 0, sizeof(r->tf) - offsetof(struct trapframe, epc));
  r->tf.epc = p->upc.entry;
  r->tf.sp = p->upc.stack;
  r->tf.a0 = p->upc.arg;
  r->tidword = 0;
  r->kicked = 0;
}

// The blocking path (sleepq.c): a serving LWP of a process with upcalls on,
// inside a system call, not already blocked, not a spare, not a replacement
// yet to announce, not ending. activation_block decides the rest.
void upcall_sleeping(struct lwp *l)
{
  struct proc *p = l->proc;
  if (!p->upc.on || l->upc_state != UPC_LWP_ACTIVE || l->upc_replaces || !l->detached ||
      l->syscall_nr < 0 || lwp_killed(l))
    return;
  activation_block(l);
  if (l->upc_state == UPC_LWP_BLOCKED)
    __atomic_add_fetch(&p->upc.replaced, 1, __ATOMIC_RELAXED);
  else if (upcall_thread_of(l) >= 0)
    __atomic_add_fetch(&p->upc.noreplace, 1, __ATOMIC_RELAXED);
}

// A blocked LWP that was not handed over (killed, or no room for its frame:
// the process was killed) goes on with its thread, or ends. It leaves the
// BLOCKED state under u->lock, so that its replacement, which may still be
// about to announce it, can see that under the same lock and leave it
// alone: once it has ended it may be released and its slot reused.
static void leave_blocked(struct lwp *l)
{
  struct upcall_proc *u = &l->proc->upc;
  spinlock_acquire(&u->lock);
  l->upc_state = UPC_LWP_ACTIVE;
  spinlock_release(&u->lock);
}

// kdebug KD_UPCALL_DELAY: tests hold a replacement back, so that the LWP it
// replaces wakes before it is announced.
static void announce_delay(struct lwp *r)
{
  uint64 until = clock_ticks() + r->proc->upc.announce_delay;
  for (uint64 now; (now = clock_ticks()) < until && !lwp_killed(r);)
    sleepq_sleep_intr(&r->proc->upc.announce_delay, 0, until - now);
}

int upcall_set_delay(int ticks)
{
  if (ticks < 0 || ticks > 100)
    return -1;
  curproc()->upc.announce_delay = ticks;
  return 0;
}

void upcall_userret_work(struct lwp *l)
{
  if (l->upc_state == UPC_LWP_BLOCKED && !lwp_killed(l))
    activation_unblock(l);          // normally parks l: back here as a replacement
  if (l->upc_state == UPC_LWP_BLOCKED)
    leave_blocked(l);
  if (l->upc_replaces && !lwp_killed(l)) {
    announce_delay(l);
    activation_announce(l);
    l->upc_replaces = 0;
    spare_refill(l->proc);
  }
}

// ---- counters ---------------------------------------------------------------------
// Only serving LWPs (detached: concurrency.c) count against the level: a
// bound thread's LWP, or a program's own lwp_create, runs beside it.
void upcall_count_user(struct lwp *l)
{
  struct upcall_proc *u = &l->proc->upc;
  if (l->upc_inuser || !l->detached)
    return;
  l->upc_inuser = 1;
  int n = __atomic_add_fetch(&u->inuser, 1, __ATOMIC_SEQ_CST);
  int m = __atomic_load_n(&u->maxuser, __ATOMIC_SEQ_CST);
  while (n > m && !__atomic_compare_exchange_n(&u->maxuser, &m, n, 0, __ATOMIC_SEQ_CST,
                                               __ATOMIC_SEQ_CST))
    ;
}

void upcall_count_kernel(struct lwp *l)
{
  l->upc_inuser = 0;
  __atomic_sub_fetch(&l->proc->upc.inuser, 1, __ATOMIC_SEQ_CST);
}

int upcall_stats(uint64 uaddr)
{
  struct proc *p = curproc();
  struct upcall_proc *u = &p->upc;
  struct upcall_kstats s;
  memset(&s, 0, sizeof(s));
  spinlock_acquire(&u->lock);
  s.on = u->on;
  s.inuser = u->inuser;
  s.maxuser = u->maxuser;
  s.spares = u->nspare;
  s.posted = u->posted;
  s.waits = u->waits;
  s.replaced = u->replaced;
  s.noreplace = u->noreplace;
  spinlock_release(&u->lock);
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next)
    s.blocked += l->upc_state == UPC_LWP_BLOCKED;
  spinlock_release(&p->lock);
  return copyout(p->pagetable, uaddr, &s, sizeof(s));
}

void upcall_reset_max(void)
{
  struct upcall_proc *u = &curproc()->upc;
  __atomic_store_n(&u->maxuser, __atomic_load_n(&u->inuser, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
}
