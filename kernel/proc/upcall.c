// Scheduler activations (lab upcalls): the given machinery. Owns the
// registration of a process's upcall area, posting events into its ring
// (and waiting for room there), making new spare LWP/KLT pairs, the hooks
// that call activation.c, and the counters that tests and ps read. The
// spare cache itself (p->upc.spares and the hand-off fields of each LWP's
// upc) and what an activation does when it blocks and when it wakes are
// activation.c's (the lab): this file only calls it. Must not touch the
// LWKT queues or the sleep queues' insides: it only sleeps, wakes and
// schedules through their calls.
//
// Which sleeps are activations blocking (docs/upcalls.md): a sleep of a
// serving LWP (see concurrency.c) of a process with upcalls on,
// inside a system call, while its lwp_tidword names a user thread (>= 0).
// The library publishes -1 there whenever the LWP runs its own scheduler, so
// its parking (futex_wait on the work word) produces no event, like KSE's
// km_curthread == NULL. Any other sleep while the word names a thread is
// that thread blocking, whatever it waits for: a nap for a library lock is
// an event too unless the library publishes -1 for its duration.
//
// Locks: p->upc.lock guards the ring's kernel side (head, seq), the spare
// list, the hand-off fields of the LWPs' upc and a kick's mark (upcall_kick). It
// is taken with the caller of sleep's lock held, or under p->lock, so
// nothing is taken under it but sleep-queue buckets.
#include "proc/upcall.h"
#include "proc/proc.h"
#include "proc/kick.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/cpu.h"
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

_Static_assert(offsetof(struct upcall_proc, lock) == 0, "upcall_forget keeps the lock");

void upcall_proc_init(struct proc *p)
{
  spinlock_init(&p->upc.lock, "upcall");
}

void upcall_forget(struct proc *p, struct lwp *self)
{
  memset((char *)&p->upc + sizeof(p->upc.lock), 0, sizeof(p->upc) - sizeof(p->upc.lock));
  if (self) {
    self->upc.state = UPC_LWP_ACTIVE;
    self->upc.inuser = 0;
    self->upc.replaces = 0;
  }
}

// A new spare's KLT: it waits in the cache, then first returns to user mode
// as a replacement, or ends.
static void spare_main(void *arg)
{
  (void)arg;
  struct lwp *l = curlwp();
  if (!activation_spare_wait(l)) {
    l->upc.state = UPC_LWP_ACTIVE;
    lwp_exit();                     // detached: released as it leaves the CPU
  }
  usertrapret();
}

// No spare could be made: say once per registration which limit was
// reached, since from now on a thread that blocks keeps its LWP and the
// process may run with fewer LWPs than its level.
static void spares_short(struct proc *p)
{
  if (__atomic_exchange_n(&p->upc.short_told, 1, __ATOMIC_RELAXED))
    return;
  if (klt_live_count() >= max_threads)
    printf("pid %d (%s): upcalls: max_threads (%d) reached: blocks go without a replacement\n",
           p->pid, p->name, max_threads);
  else
    printf("pid %d (%s): upcalls: no memory for a spare LWP: blocks go without a replacement\n",
           p->pid, p->name);
}

// kdebug KD_SPARE_DELAY: a test holds the registering LWP here, once, its
// new spare marked serving, while another LWP counts the serving ones. It
// yields rather than sleeps: a sleep would be its thread's block, which the
// spare just cached would replace.
static void spare_delay(struct proc *p)
{
  uint64 until = clock_ticks() + __atomic_exchange_n(&p->upc.spare_delay, 0, __ATOMIC_RELAXED);
  while (clock_ticks() < until && !lwp_killed(curlwp()))
    lwkt_yield();
}

int upcall_set_spare_delay(int ticks)
{
  if (ticks < 0 || ticks > 100)
    return -1;
  curproc()->upc.spare_delay = ticks;
  return 0;
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
    if (lwp_killed(curlwp()))
      return;
    struct lwp *l = lwp_alloc(p, 0, 0, 0);
    if (l == 0) {
      spares_short(p);              // max_threads or memory: blocks go without
      return;
    }
    // A spare and serving at once, under p->lock, where set_concurrency
    // counts the serving LWPs (concurrency.c): never counted as serving
    // while it is not yet in the cache.
    l->klt->fn = spare_main;
    spinlock_acquire(&p->lock);
    l->detached = 1;                // released when it ends; nobody joins a spare
    l->serving = 1;
    activation_spare_add(l);
    spinlock_release(&p->lock);
    spare_delay(p);
    lwkt_schedule(l->klt);
  }
}

// ---- the area ---------------------------------------------------------------------
// The kernel reaches the area through its physical pages, looked up with
// interrupts off and used before they come back on, as a copy holds its
// page (kernel/vm/vm.c): a shrink frees a page only after every CPU took its
// flush IPI. One lookup per page serves a whole post (tail, the events,
// head, kwait), where a copy per field would walk the page table each time.
// The area is smaller than a page, so it spans two at most.
_Static_assert(sizeof(struct upcall_area) <= PGSIZE, "the area spans two pages at most");

struct area_view {
  char *lo;           // kernel address of the area's first byte
  char *hi;           // kernel address of the area's first byte in its second page, or 0
  uint64 split;       // bytes of the area in its first page
};

// With interrupts off: look the area at va up; -1 unless every byte of it
// is mapped and writable by user code.
static int area_open(pagetable_t pt, uint64 va, struct area_view *v)
{
  assert(!intr_get());
  v->split = PGSIZE - va % PGSIZE;
  v->lo = (char *)uvm_addr_writable(pt, va);
  v->hi = 0;
  if (v->split < sizeof(struct upcall_area))
    v->hi = (char *)uvm_addr_writable(pt, va + v->split);
  else
    v->split = sizeof(struct upcall_area);
  return v->lo && (v->hi || v->split == sizeof(struct upcall_area)) ? 0 : -1;
}

// A 4-byte field: aligned, so never split between the pages.
static volatile uint32 *area_word(struct area_view *v, uint64 off)
{
  return (volatile uint32 *)(off < v->split ? v->lo + off : v->hi + (off - v->split));
}

// An event: 8-byte aligned in the area (registration checks the area's
// alignment), so a whole one is copied as a struct, a word at a time, not
// through memmove's checks; only one across the page boundary goes in two parts.
static void area_put_event(struct area_view *v, uint64 off, const struct upcall_event *ev)
{
  if (off + sizeof(*ev) <= v->split) {
    *(struct upcall_event *)(v->lo + off) = *ev;
  } else if (off >= v->split) {
    *(struct upcall_event *)(v->hi + (off - v->split)) = *ev;
  } else {
    uint64 n = v->split - off;
    memmove(v->lo + off, ev, n);
    memmove(v->hi, (const char *)ev + n, sizeof(*ev) - n);
  }
}

// Upcalls went off: wake every spare in the cache, which then sees that it
// must end (activation_spare_wait returns 0). An LWP that parks later sees
// it under u->lock and ends instead.
static void spares_end(struct proc *p)
{
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next)
    if (l->upc.state == UPC_LWP_SPARE)
      sleepq_abort(l->klt);
  spinlock_release(&p->lock);
}

// ---- registration -----------------------------------------------------------------
int upcall_register(struct proc *p, uint64 va, const struct upcall_area *a)
{
  struct upcall_proc *u = &p->upc;
  if (va == 0) {                    // off: no new BLOCKED; blocked ones still report
    spinlock_acquire(&u->lock);
    u->on = 0;
    spinlock_release(&u->lock);
    spares_end(p);
    return 0;
  }
  spinlock_acquire(&u->lock);
  if (u->area != 0 && u->area != va) {
    spinlock_release(&u->lock);
    return -1;                      // one area per program image
  }
  struct area_view v;
  int on = intr_save();
  int ok = area_open(p->pagetable, va, &v) == 0;   // the whole ring: posts write all of it
  if (ok && u->area == 0) {
    *area_word(&v, offsetof(struct upcall_area, head)) = 0;
    *area_word(&v, offsetof(struct upcall_area, tail)) = 0;
    *area_word(&v, offsetof(struct upcall_area, kwait)) = 0;
    *area_word(&v, offsetof(struct upcall_area, coalesced)) = 0;
    u->head = u->seq = 0;
  }
  intr_restore(on);
  if (!ok) {
    spinlock_release(&u->lock);
    return -1;
  }
  u->area = va;
  u->entry = a->entry;
  u->arg = a->arg;
  u->stack = a->stack;
  u->wake_word = a->wake_word;
  u->on = 1;
  u->short_told = 0;
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
  if (p->upc.wake_word != 0)
    futex_bump_wake(p->pagetable, p->upc.wake_word, 1);
}

// With u->lock held: put ev[0..n) in the ring, one after the other, if at
// least n + reserve slots are free. 1 posted, 0 no room (kwait set, and
// *tail_seen the tail it saw), -1 the area is gone (unmapped, shrunk away or
// made read-only since registration: the caller kills the process with
// area_gone).
static int ring_put(struct proc *p, struct upcall_event *ev, int n, int reserve, uint32 *tail_seen)
{
  struct upcall_proc *u = &p->upc;
  struct area_view v;
  int on = intr_save();
  int r = area_open(p->pagetable, u->area, &v) < 0 ? -1 : 0;
  for (int tries = 0; r == 0 && tries < 2; tries++) {
    uint32 tail = *area_word(&v, offsetof(struct upcall_area, tail));
    uint32 used = u->head - tail;
    if (used <= UPC_RING && UPC_RING - used >= (uint32)(n + reserve)) {
      u->seq += u->seq_gap;         // a test's gap (KD_UPCALL_GAP), once
      u->seq_gap = 0;
      for (int i = 0; i < n; i++) {
        ev[i].seq = u->seq + i;
        area_put_event(&v, offsetof(struct upcall_area, ring) + (u->head + i) % UPC_RING * sizeof(*ev),
                       &ev[i]);
      }
      __sync_synchronize();         // the events before the head that shows them
      *area_word(&v, offsetof(struct upcall_area, head)) = u->head + n;
      u->head += n;                 // only now: an event that never reached the area leaves no gap
      u->seq += n;
      u->posted += n;
      r = 1;
      break;
    }
    // Full: ask for a wake-up, then look once more (the library moves tail,
    // then reads kwait; we write kwait, then read tail: one of us sees the other).
    *area_word(&v, offsetof(struct upcall_area, kwait)) = 1;
    __sync_synchronize();
    *tail_seen = tail;
  }
  intr_restore(on);
  for (int i = 0; r > 0 && i < n; i++)
    trace_upcall(curklt(), ev[i].type);
  return r;
}

int upcall_post(struct lwp *l, struct upcall_event *ev, int n, int reserve)
{
  struct proc *p = l->proc;
  struct upcall_proc *u = &p->upc;
  assert(n >= 1 && n + reserve <= UPC_RING);
  for (;;) {
    if (lwp_killed(l))
      return -1;
    spinlock_acquire(&u->lock);
    uint32 tail = 0;
    int r = u->area ? ring_put(p, ev, n, reserve, &tail) : -1;
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
      if (!l->upc.replaces)         // a replacement reads the ring itself, next
        wake_library(p);
      return 0;
    }
    // Full: wait until the library moves tail and wakes us (kwait), or a
    // tick passes (a test may make it longer). A signal does not end the
    // wait: l takes it once it is back in user mode.
    int ticks = __atomic_load_n(&u->room_wait, __ATOMIC_RELAXED);
    futex_wait_kernel(p->pagetable, area + offsetof(struct upcall_area, tail), tail, ticks ? ticks : 1);
  }
}

// After an involuntary switch at the return to user mode (lwp_userret), if
// other user code ran on the CPU meanwhile (a switch that only let kernel
// work finish, say the process's own woken activation reporting and
// parking, took nothing from l's thread). Advice only, so it never waits:
// with the ring nearly full it is coalesced into the area's `coalesced`
// count; and it wakes nobody: the library reads it at its next look.
void upcall_preempted(struct lwp *l)
{
  struct proc *p = l->proc;
  struct upcall_proc *u = &p->upc;
  if (!u->on || !l->serving || l->upc.state != UPC_LWP_ACTIVE || l->upc.replaces)
    return;
  int tid = upcall_thread_of(l);
  if (tid < 0)
    return;
  struct upcall_event ev = { .type = UPC_PREEMPTED, .lwpid = l->id, .tid = tid };
  uint32 tail;
  spinlock_acquire(&u->lock);
  uint64 area = u->area;
  int r = area ? ring_put(p, &ev, 1, UPC_RESERVE, &tail) : -1;
  if (r == 0 && uvm_add_word(p->pagetable, area + offsetof(struct upcall_area, coalesced), 1) == 0)
    r = -1;
  spinlock_release(&u->lock);
  if (r < 0 && area)
    area_gone(p);
}

// ---- activations ------------------------------------------------------------------
int upcall_thread_of(struct lwp *l)
{
  int tid;
  if (l->tidword == 0 || uvm_get_word(l->proc->pagetable, l->tidword, &tid) < 0)
    return -1;
  return tid < 0 ? -1 : tid;
}

// r will start afresh at the library's upcall entry, entry(arg, its LWP
// id, the lwp_tidword it registered or 0), with no kick pending. It keeps
// that word: the library keeps the word's record for it while no other LWP
// registers the word (sys_lwp_tidword), and while the record is free its
// word reads -1, so a sleep before the library takes the record is the
// library's own. With the record back, the replacement starts with no
// system call (docs/upcalls.md, "A replacement's way to its record").
void upcall_entry_regs(struct lwp *r)
{
  struct proc *p = r->proc;
  memset(&r->tf.epc, 0, sizeof(r->tf) - offsetof(struct trapframe, epc));
  r->tf.epc = p->upc.entry;
  r->tf.sp = p->upc.stack;
  r->tf.a0 = p->upc.arg;
  r->tf.a1 = r->id;
  r->tf.a2 = r->tidword;
  r->kicked = 0;
}

// Is l woken from a sleep and waiting on this CPU's run queue? Asked by
// the caller's block with u->lock held (a critical section: only this CPU
// runs or moves the threads on its queue, so l stays so meanwhile). Such an
// l runs on this CPU after the caller sleeps, from the sleep it left: a
// blocked l that was woken finishes its call, or sleeps again first
// (upcall_sleeping). One an interrupt thread preempted is not, whatever it
// was doing.
int upcall_woken_here(struct lwp *l)
{
  struct klt *t = l->klt;
  return t->cpu == mycpu() && t->state == KLT_RUNQ && !(t->flags & KLT_PREEMPTED);
}

// The blocking path (sleepq.c): a serving LWP of a process with upcalls on,
// inside a system call, not already blocked, not a spare, not a replacement
// yet to announce, not ending. activation_block decides the rest. A blocked
// LWP, chosen to serve next (activation.c) and sleeping again first, goes to
// activation_block too.
//
// A blocked LWP sleeps at user priority (sleep_common restores its own once
// it runs): its wake-up only hands its thread back to the library, which
// has an activation meanwhile, so it does not preempt the serving LWP at
// that one's next return to user mode; a block soon after may find it
// woken and make it the next replacement.
void upcall_sleeping(struct lwp *l)
{
  struct proc *p = l->proc;
  if (l->upc.state == UPC_LWP_BLOCKED) {
    if (l->upc.replaces && !lwp_killed(l))
      activation_block(l);
  } else {
    if (!p->upc.on || l->upc.state != UPC_LWP_ACTIVE || l->upc.replaces || !l->serving ||
        l->syscall_nr < 0 || lwp_killed(l))
      return;
    activation_block(l);
    if (l->upc.state != UPC_LWP_BLOCKED) {
      if (upcall_thread_of(l) >= 0)
        __atomic_add_fetch(&p->upc.noreplace, 1, __ATOMIC_RELAXED);
      return;
    }
    __atomic_add_fetch(&p->upc.replaced, 1, __ATOMIC_RELAXED);
  }
  curklt()->pri = PRI_USER;
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
  l->upc.state = UPC_LWP_ACTIVE;
  spinlock_release(&u->lock);
}

// kdebug KD_UPCALL_DELAY: tests hold a replacement back, so that the LWP it
// replaces wakes before it is announced: `announce_delay` ticks from its
// arrival here, or while that is -1 until the test sets it again (read
// afresh at each wake-up; upcall_set_delay wakes the held ones).
static void announce_delay(struct lwp *r)
{
  struct upcall_proc *u = &r->proc->upc;
  if (__atomic_load_n(&u->announce_delay, __ATOMIC_RELAXED) == 0)
    return;                         // no test hold: the round trip's path stays short
  uint64 start = clock_ticks();
  spinlock_acquire(&u->lock);
  for (;;) {
    int d = u->announce_delay;
    uint64 now = clock_ticks();
    if (lwp_killed(r) || (d >= 0 && now >= start + d))
      break;
    sleepq_sleep_intr(&u->announce_delay, &u->lock, d < 0 ? 0 : start + d - now);
  }
  spinlock_release(&u->lock);
}

int upcall_set_delay(int ticks)
{
  struct upcall_proc *u = &curproc()->upc;
  if (ticks < -1 || ticks > 100)
    return -1;
  spinlock_acquire(&u->lock);
  u->announce_delay = ticks;
  spinlock_release(&u->lock);
  sleepq_wakeup(&u->announce_delay);
  return 0;
}

// kdebug KD_UPCALL_GAP: the next post skips n seq numbers, so a test can
// see that the library counts a gap in disorder.
int upcall_set_gap(int n)
{
  struct upcall_proc *u = &curproc()->upc;
  if (n < 1 || n > 100)
    return -1;
  spinlock_acquire(&u->lock);
  u->seq_gap = n;
  spinlock_release(&u->lock);
  return 0;
}

// kdebug KD_UPCALL_ROOM_WAIT: a poster waiting for room looks again only
// after `ticks`, so that a test sees whether the library's kwait wake-up
// comes (a lost one then costs the drain `ticks`, not at most one).
int upcall_set_room_wait(int ticks)
{
  if (ticks < 0 || ticks > 100)
    return -1;
  __atomic_store_n(&curproc()->upc.room_wait, ticks, __ATOMIC_RELAXED);
  return 0;
}

// l, woken, is about to give its thread back: from now on its word reads
// -1 (no thread), as the library's RELEASED handler also leaves it. l keeps
// the word when it parks and when it comes back as a replacement
// (upcall_entry_regs); until its library reads RELEASED the word's record
// still names the thread, and a sleep on l's way back to its record (a
// nap for a library lock) would otherwise report that thread BLOCKED.
// Written before UNBLOCKED is posted: after it, the record may be another
// LWP's.
static void unpublish_thread(struct lwp *l)
{
  if (l->tidword != 0)
    uvm_set_word(l->proc->pagetable, l->tidword, -1);
}

void upcall_userret_work(struct lwp *l)
{
  if (l->upc.state == UPC_LWP_BLOCKED && !lwp_killed(l)) {
    unpublish_thread(l);
    activation_unblock(l);          // normally parks l: back here as a replacement
  }
  if (l->upc.state == UPC_LWP_BLOCKED)
    leave_blocked(l);
  if (l->upc.replaces && !lwp_killed(l)) {
    announce_delay(l);
    activation_announce(l);
    spare_refill(l->proc);
    assert(!l->kicked);             // none since upcall_entry_regs: see upcall_kick
    __atomic_store_n(&l->upc.replaces, 0, __ATOMIC_RELEASE);   // it serves: kicks may come
  }
}

// sys_lwp_kick, with p->lock held: mark l kicked (1), unless it runs no user
// thread (0): blocked holding its thread (the thread is the library's again
// once it wakes), parked in the cache, or on its way to the upcall entry,
// which starts on the shared upcall stack (a kick's frame there would
// overwrite another activation's). The mark is made under u->lock, where
// those states change, so an LWP enters each with no kick pending
// (upcall_entry_regs) and none lands before it leaves it.
int upcall_kick(struct lwp *l)
{
  struct upcall_proc *u = &l->proc->upc;
  spinlock_acquire(&u->lock);
  int ok = l->upc.state == UPC_LWP_ACTIVE && l->upc.replaces == 0;
  if (ok)
    __atomic_store_n(&l->kicked, 1, __ATOMIC_SEQ_CST);
  spinlock_release(&u->lock);
  return ok;
}

// ---- counters ---------------------------------------------------------------------
// Only serving LWPs (concurrency.c) count against the level: a
// bound thread's LWP, or a program's own lwp_create, runs beside it.
void upcall_count_user(struct lwp *l)
{
  struct upcall_proc *u = &l->proc->upc;
  if (l->upc.inuser || !l->serving)
    return;
  l->upc.inuser = 1;
  int n = __atomic_add_fetch(&u->inuser, 1, __ATOMIC_SEQ_CST);
  int m = __atomic_load_n(&u->maxuser, __ATOMIC_SEQ_CST);
  while (n > m && !__atomic_compare_exchange_n(&u->maxuser, &m, n, 0, __ATOMIC_SEQ_CST,
                                               __ATOMIC_SEQ_CST))
    ;
}

void upcall_count_kernel(struct lwp *l)
{
  l->upc.inuser = 0;
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
    s.blocked += l->upc.state == UPC_LWP_BLOCKED;
  spinlock_release(&p->lock);
  return copyout(p->pagetable, uaddr, &s, sizeof(s));
}

void upcall_reset_max(void)
{
  struct upcall_proc *u = &curproc()->upc;
  __atomic_store_n(&u->maxuser, __atomic_load_n(&u->inuser, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
}
