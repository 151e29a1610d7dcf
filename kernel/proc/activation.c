// Scheduler activations (lab upcalls): the activation mechanism. Owns the
// process's spare cache (p->upc.spares, nspare), what the LWPs in it and
// the LWPs handed over keep in their l->upc (struct lwp_upcall, and this
// lab's struct activation in proc/activation.h), and how a blocked LWP's
// place goes to a spare and its thread back to the library: which events
// say so, with what, in which order. The ring, registration, making new
// spares and the hooks that call this file are kernel/proc/upcall.c
// (given); this file must not touch the ring's storage or the sleep
// queues' insides. The contract is labs/upcalls/README.md; the design,
// docs/upcalls.md.
//
// The invariant: with upcalls on at level n, at most n LWPs of the process
// run user code at once, and a thread that blocks in the kernel never takes
// an activation with it. Locks: p->upc.lock (a leaf) guards the cache and
// the l->upc of the LWPs in it or handed over; the blocking path may hold
// the sleeper's lock, so nothing here sleeps or allocates there.
#include "proc/upcall.h"
#include "proc/proc.h"
#include "proc/kick.h"
#include "thread/lwp.h"
#include "thread/sleepq.h"
#include "lib/spinlock.h"
#include "uapi/upcall.h"
// LAB upcalls BEGIN

// With u->lock held: l joins the cache.
static void cache_push(struct upcall_proc *u, struct lwp *l)
{
  l->upc.state = UPC_LWP_SPARE;
  l->upc.act.go = 0;
  l->upc.next = u->spares;
  u->spares = l;
  u->nspare++;
}

// With u->lock held: l waits in the cache until a block takes it (1), or
// until it is killed or upcalls go off (0), and then leaves the cache itself.
static int cache_wait(struct upcall_proc *u, struct lwp *l)
{
  while (!l->upc.act.go && !lwp_killed(l) && u->on)
    sleepq_sleep_intr(&l->upc.act.go, &u->lock, 0);
  if (l->upc.act.go)
    return 1;
  for (struct lwp **pp = &u->spares; *pp; pp = &(*pp)->upc.next)
    if (*pp == l) {
      *pp = l->upc.next;
      u->nspare--;
      break;
    }
  return 0;
}

// With u->lock held: a spare off the cache, or 0.
static struct lwp *cache_take(struct upcall_proc *u)
{
  struct lwp *r = u->spares;
  if (r == 0)
    return 0;
  u->spares = r->upc.next;
  u->nspare--;
  r->upc.next = 0;
  return r;
}

// With u->lock held: r, off the cache, is to serve in the place of l (id
// and thread copied now: l may be gone by the time r posts them).
static void choose(struct lwp *r, struct lwp *l, int id, int tid)
{
  r->upc.replaces = l;
  r->upc.act.for_id = id;
  r->upc.act.for_tid = tid;
}

// With u->lock held: r, chosen by choose(), starts afresh at the upcall entry.
static void serve(struct lwp *r)
{
  upcall_entry_regs(r);
  r->upc.state = UPC_LWP_ACTIVE;
}

// With u->lock held: the blocked LWP announced last, if it is woken and
// waits for this CPU, and the cache has a spare to hand its new place to if
// it sleeps again before it serves (activation_block); else 0. Such an LWP
// serves as the next replacement: it reports its wake-up and announces in
// one post, with no spare woken and no park. Not while a test holds
// replacements back (KD_UPCALL_DELAY): it would post before the hold.
static struct lwp *woken_blocked(struct upcall_proc *u, struct lwp *l)
{
  struct lwp *m = u->last;
  if (m == 0 || m == l || m->proc != l->proc || m->upc.state != UPC_LWP_BLOCKED ||
      !m->upc.act.announced || m->upc.replaces || u->nspare == 0 || u->announce_delay ||
      lwp_killed(m) || !upcall_woken_here(m))
    return 0;
  return m;
}

// r posted the BLOCKED of l: l may report its wake-up. l may end (and its
// slot be reused) once it is no longer BLOCKED: only a kill does that
// before the announcement, and then r is killed too.
static void announced(struct upcall_proc *u, struct lwp *r, struct lwp *l)
{
  spinlock_acquire(&u->lock);
  if (l->proc == r->proc && l->upc.state == UPC_LWP_BLOCKED) {
    __atomic_store_n(&l->upc.act.announced, 1, __ATOMIC_RELEASE);
    u->last = l;
    sleepq_wakeup(&l->upc.act.announced);
  }
  spinlock_release(&u->lock);
}
// STUB
// LAB upcalls END

// l, a new LWP of its process whose KLT has not run yet, joins the cache
// (a block may take it at once). p->lock is held (so that set_concurrency
// never counts l as serving before it is a spare); u->lock may be taken.
void activation_spare_add(struct lwp *l)
{
  // LAB upcalls BEGIN
  struct upcall_proc *u = &l->proc->upc;
  spinlock_acquire(&u->lock);
  cache_push(u, l);
  spinlock_release(&u->lock);
  // STUB
  //| (void)l;
  // LAB upcalls END
}

// The first run of a new spare's KLT: returns 1 when a block has taken l to
// serve (its registers set for the upcall entry), 0 when l must end instead.
int activation_spare_wait(struct lwp *l)
{
  // LAB upcalls BEGIN
  struct upcall_proc *u = &l->proc->upc;
  spinlock_acquire(&u->lock);
  int taken = cache_wait(u, l);
  spinlock_release(&u->lock);
  return taken;
  // STUB
  //| (void)l;
  //| return 0;
  // LAB upcalls END
}

// l, a serving LWP of a process with upcalls on, is about to sleep inside a
// system call; maybe with the sleeper's spinlock held. When it returns and l
// is UPC_LWP_BLOCKED, a replacement serves in l's place; otherwise l simply
// blocks as without upcalls. Also called for an l still UPC_LWP_BLOCKED
// whose upc.replaces was set (a woken blocked LWP chosen to serve next)
// that sleeps again before it returns to user mode.
void activation_block(struct lwp *l)
{
  // LAB upcalls BEGIN
  struct upcall_proc *u = &l->proc->upc;
  if (l->upc.state == UPC_LWP_BLOCKED) {
    // Chosen to serve next (woken_blocked), l sleeps again first: its new
    // place goes to a spare. With none left, l keeps it (a block without
    // a spare waits so too).
    spinlock_acquire(&u->lock);
    struct lwp *r = cache_take(u);
    if (r) {
      choose(r, l->upc.replaces, l->upc.act.for_id, l->upc.act.for_tid);
      l->upc.replaces = 0;
      serve(r);
      r->upc.act.go = 1;
    }
    spinlock_release(&u->lock);
    if (r)
      sleepq_wakeup(&r->upc.act.go);
    return;
  }
  int tid = upcall_thread_of(l);
  if (tid < 0)
    return;                         // the library's own parking: no event
  spinlock_acquire(&u->lock);
  struct lwp *m = woken_blocked(u, l);
  struct lwp *r = m ? m : cache_take(u);
  if (r == 0) {
    spinlock_release(&u->lock);
    return;                         // cache empty: block as without upcalls
  }
  l->upc.tid = tid;
  l->upc.act.announced = 0;
  l->upc.state = UPC_LWP_BLOCKED;
  choose(r, l, l->id, tid);         // r announces l before it serves
  if (r != m) {
    serve(r);
    r->upc.act.go = 1;
  }
  spinlock_release(&u->lock);
  if (r != m)
    sleepq_wakeup(&r->upc.act.go);
  // STUB
  //| (void)l;
  // LAB upcalls END
}

// r, a replacement (r->upc.replaces is the LWP it replaces), is about to
// return to user mode at the library's upcall entry for the first time.
// Nothing is held: posting may wait for room in the ring.
void activation_announce(struct lwp *r)
{
  // LAB upcalls BEGIN
  if (r->upc.act.posted) {          // with its wake-up (activation_unblock)
    r->upc.act.posted = 0;
    return;
  }
  struct upcall_event ev[2] = {    // both at once: see docs/upcalls.md
    { .type = UPC_BLOCKED, .lwpid = r->upc.act.for_id, .tid = r->upc.act.for_tid },
    { .type = UPC_NEWLWP, .lwpid = r->id, .tid = -1, .arg = r->upc.act.for_id },
  };
  if (upcall_post(r, ev, 2, 0) == 0)
    announced(&r->proc->upc, r, r->upc.replaces);
  // STUB
  //| (void)r;
  // LAB upcalls END
}

// l blocked with a replacement serving in its place, and its system call has
// finished (l->tf holds the thread's registers, the result in a0). Called at
// the return to user mode, holding nothing. l must not return to user mode
// with its thread: when this returns with l still UPC_LWP_BLOCKED, l goes
// on with its thread (only right when it is killed).
void activation_unblock(struct lwp *l)
{
  // LAB upcalls BEGIN
  struct upcall_proc *u = &l->proc->upc;
  if (!__atomic_load_n(&l->upc.act.announced, __ATOMIC_ACQUIRE)) {   // set once, by the announcer
    spinlock_acquire(&u->lock);
    while (!l->upc.act.announced && !lwp_killed(l))
      sleepq_sleep_intr(&l->upc.act.announced, &u->lock, 0);   // BLOCKED before UNBLOCKED
    spinlock_release(&u->lock);
  }
  uint64 frame = uframe_push(l, "upcall");
  if (frame == 0)
    return;                         // no room on its stack: the process was killed
  struct upcall_event ev[4] = {
    { .type = UPC_UNBLOCKED, .lwpid = l->id, .tid = l->upc.tid, .frame = frame },
    { .type = UPC_RELEASED, .lwpid = l->id, .tid = -1 },
    { .type = UPC_BLOCKED, .lwpid = l->upc.act.for_id, .tid = l->upc.act.for_tid },
    { .type = UPC_NEWLWP, .lwpid = l->id, .tid = -1, .arg = l->upc.act.for_id },
  };
  // Chosen to serve next (woken_blocked)? Then it reports and announces in
  // one post, with the replacement's reserve: it reads the ring next.
  spinlock_acquire(&u->lock);
  struct lwp *next = l->upc.replaces;
  if (next)
    serve(l);
  spinlock_release(&u->lock);
  if (next) {
    if (upcall_post(l, ev, 4, 0) == 0) {
      l->upc.act.posted = 1;
      announced(u, l, next);
    }
    return;
  }
  if (upcall_post(l, ev, 2, UPC_RESERVE) < 0)
    return;
  spinlock_acquire(&u->lock);
  if (l->upc.replaces) {            // chosen since: it announces next (the hook)
    serve(l);
    spinlock_release(&u->lock);
    return;
  }
  // Parks unless upcalls are off or a burst of blocks left enough spares.
  if (u->on && u->nspare < UPC_SPARES_KEEP) {
    cache_push(u, l);
    if (cache_wait(u, l)) {
      spinlock_release(&u->lock);
      return;                       // taken: back to user mode as a replacement
    }
  }
  spinlock_release(&u->lock);
  l->upc.state = UPC_LWP_ACTIVE;
  lwp_exit();                       // detached: released as it leaves the CPU
  // STUB
  //| (void)l;
  // LAB upcalls END
}
