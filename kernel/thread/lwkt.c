// The LWKT scheduler (after DragonFly BSD): each CPU owns its threads and
// its run queues, one FIFO per fixed priority, with a bit mask of non-empty
// queues so picking the next thread is one count-leading-zeros. No lock
// guards the queues: only the owning CPU touches them, with interrupts off,
// and other CPUs reach them only through IPI messages (ipiq.c).
//
// Preemption rules: an interrupt thread preempts any lower priority at the
// end of a trap (or at crit_exit); other threads never preempt, they wait
// until the running thread blocks or returns to user mode.
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/crit.h"
#include "thread/lwp.h"
#include "thread/ipiq.h"
#include "thread/trace.h"
#include "thread/clock.h"
#include "proc/proc.h"
#include "vm/vm.h"
#include "arch/riscv.h"
#include "lib/printf.h"
#include "lib/ksym.h"
#include "uapi/schedctl.h"

struct context *swtch(struct context *old, struct context *new);

// A scheduling invariant does not hold for t: say what t looks like and
// who scheduled it last, then stop where it broke (the backtrace). A lost
// or doubly queued thread otherwise shows only much later, as a hang.
void __attribute__((noinline, noreturn, cold)) lwkt_broken(struct klt *t, const char *what)
{
  printf("lwkt: klt %d %s: %s: state %s cpu %d queued on %d, %d schedule messages in flight, lwp %d, on cpu %d\n",
         t->id, t->name, what, klt_state_name(t->state), t->cpu ? t->cpu->id : -1, t->rq_cpu ? t->rq_cpu->id : -1,
         t->sched_msgs, t->lwp ? t->lwp->id : -1, cpuid());
  printf("lwkt: klt %d last scheduled from ", t->id);
  ksym_print(t->sched_from[0]);
  printf(", before that from ");
  ksym_print(t->sched_from[1]);
  printf("\n");
  panic("lwkt: klt %d: %s", t->id, what);
}

// Queue t on c, its own CPU. A thread is on one queue at most: queued twice,
// a FIFO loses whatever followed it (the tail's link is overwritten).
static inline void runq_insert(struct cpu *c, struct klt *t, int at_head)
{
  assert(!intr_get() && t->cpu == c && t != c->idle);
  if (t->rq_cpu)
    lwkt_broken(t, "queued twice");
  int p = t->pri;
  t->state = KLT_RUNQ;
  t->rq_cpu = c;
  if (c->rq_head[p] == 0) {
    t->rq_next = 0;
    c->rq_head[p] = c->rq_tail[p] = t;
  } else if (at_head) {
    t->rq_next = c->rq_head[p];
    c->rq_head[p] = t;
  } else {
    t->rq_next = 0;
    c->rq_tail[p]->rq_next = t;
    c->rq_tail[p] = t;
  }
  c->rq_mask |= 1u << p;
}

static void runq_remove(struct cpu *c, struct klt *t)
{
  if (t->rq_cpu != c)
    lwkt_broken(t, "removed but not queued here");
  t->rq_cpu = 0;
  int p = t->pri;
  struct klt **pp = &c->rq_head[p], *prev = 0;
  while (*pp && *pp != t) {
    prev = *pp;
    pp = &(*pp)->rq_next;
  }
  assert(*pp == t);
  *pp = t->rq_next;
  if (c->rq_tail[p] == t)
    c->rq_tail[p] = prev;
  if (c->rq_head[p] == 0)
    c->rq_mask &= ~(1u << p);
}

// top_bit[b]: the highest set bit of the byte b (b > 0).
static const uint8 top_bit[256] = {
  0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
  4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
  5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
  5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
  6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
  6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
  6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
  6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
};

// The highest non-empty priority, or -1: the top set bit of rq_mask, found
// by halving to a byte and a table (rv64gc has no count-leading-zeros
// instruction, and the compiler's __builtin_clz is a libgcc call the
// profiler saw at 4% of an LWP switch). Inline: every switch asks.
static inline int runq_top(struct cpu *c)
{
  uint32 m = c->rq_mask;
  if (m == 0)
    return -1;
  int p = 0;
  if (m >> 16) { m >>= 16; p += 16; }
  if (m >> 8)  { m >>= 8;  p += 8; }
  return p + top_bit[m];
}

// Takes the head of the top queue (runq_remove would walk for it).
static struct klt *runq_pop(struct cpu *c)
{
  int p = runq_top(c);
  if (p < 0)
    return 0;
  struct klt *t = c->rq_head[p];
  if (t->rq_cpu != c)
    lwkt_broken(t, "popped but not queued here");
  t->rq_cpu = 0;
  c->rq_head[p] = t->rq_next;
  if (c->rq_head[p] == 0) {
    c->rq_tail[p] = 0;
    c->rq_mask &= ~(1u << p);
  }
  return t;
}

// The next thread to run. An interrupt thread that preempted another and
// now blocks gives the CPU straight back to the thread it preempted, even if
// other non-interrupt threads of higher priority are queued: those never
// preempt, so they wait until the preempted thread blocks itself.
static struct klt *pick_next(struct cpu *c, struct klt *prev)
{
  struct klt *victim = prev->preempted;
  if (victim && prev->state != KLT_RUNQ) {
    assert(victim->state == KLT_RUNQ && victim->cpu == c);
    prev->preempted = 0;
    int top = runq_top(c);
    struct klt *urgent = top > victim->pri ? c->rq_head[top] : 0;
    if (urgent && (urgent->flags & KLT_INTERRUPT)) {
      runq_remove(c, urgent);
      urgent->preempted = victim;     // it resumes the victim when it blocks
      return urgent;
    }
    runq_remove(c, victim);
    return victim;
  }
  struct klt *next = runq_pop(c);
  return next ? next : c->idle;
}

// Make t runnable on its own CPU, which is this one. Raises the
// reschedule request when t outranks the running thread. Interrupts are
// off: an IPI message runs so, and lwkt_schedule turns them off.
// A kernel-only thread may be scheduled again while it runs or waits
// (ithreads, softclock: a pending flag says why), never once ended. An
// LWP's KLT is scheduled once per sleep (one waker takes it off its sleep
// queue), when new, and when it moves (migrate_local): anything else is a
// stale message that would end a later sleep, or run a reused slot.
static inline void schedule_here(struct cpu *c, struct klt *t)
{
  if (t->cpu != c)
    lwkt_broken(t, "scheduled on a CPU not its own");
  if (t->state == KLT_SLEEPING || t->state == KLT_EMBRYO) {
    if (t->chan)
      lwkt_broken(t, "scheduled while on a sleep queue");
    runq_insert(c, t, 0);
    trace_event(TR_WAKE, t);
    if (t->pri > c->cur->pri)
      c->reqflags |= RQF_RESCHED;
  } else if (t->lwp || t->state == KLT_DEAD || t->state == KLT_FREE) {
    lwkt_broken(t, "scheduled while neither asleep nor new");
  }
}

// lwkt_schedule's IPI message, run by t's CPU. sched_msgs counts the
// messages on their way, so that a KLT never ends or is reused with one.
static void schedule_local(void *arg)
{
  struct klt *t = arg;
  __sync_fetch_and_sub(&t->sched_msgs, 1);
  schedule_here(mycpu(), t);
}

void lwkt_schedule(struct klt *t)
{
  t->sched_from[1] = t->sched_from[0];
  t->sched_from[0] = (uint64)__builtin_return_address(0);
  crit_enter();
  struct cpu *to = t->cpu;
  if (to == mycpu()) {
    int s = intr_save();
    schedule_here(to, t);
    intr_restore(s);
  } else {
    __sync_fetch_and_add(&t->sched_msgs, 1);
    ipiq_send(to, schedule_local, t);
  }
  crit_exit();
  if (t->lwp && t->lwp->start_wait)
    lwp_start_test_wait(t->lwp);   // a test hook (kdebug KD_LWP_START_WAIT)
}

// Keep satp on the page table the next thread needs; LWPs of the same
// process share it, so a switch between them writes nothing. A kernel-only
// thread (the idle thread above all) runs on whatever table is loaded,
// since every user table maps the kernel too: an LWP that sleeps and is
// woken on an otherwise idle CPU then costs no satp write either way.
// Such a lazily kept table must never outlive its process: a CPU keeps it
// only while the LWP it last ran from that process is still its own and
// alive, so a dead thread's switch loads the kernel's table, and so does
// migrate_local when it sends that LWP away (the only way a live thread
// changes CPU).
static void switch_address_space(struct cpu *c, struct klt *prev, struct klt *next)
{
  struct proc *p = next->lwp ? next->lwp->proc : 0;
  if (p == 0 && prev->state != KLT_DEAD)
    p = c->loaded_proc;            // lazily kept (or already the kernel's)
  if (p == c->loaded_proc) {
    if (p)
      c->stats.switch_same_proc++;
    else
      c->stats.switch_kernel++;
    return;
  }
  CSR_WRITE(satp, MAKE_SATP(p ? p->pagetable : kernel_pagetable));
  sfence_vma();
  c->loaded_proc = p;
  if (p)
    c->stats.switch_cross_proc++;
  else
    c->stats.switch_kernel++;
}

static void schedctl_update(struct klt *t, int state)
{
  struct lwp *l = t->lwp;
  if (l == 0 || l->sc == 0)
    return;
  l->sc->sc_state = state;
  l->sc->sc_cpu = t->cpu->id;
  if (state == SC_ONPROC)
    l->sc->sc_switches++;
}

// Switch to the most urgent runnable thread of this CPU (or idle). The
// caller has set cur->state: RUNQ (and queued it), SLEEPING or DEAD.
void lwkt_switch(void)
{
  struct cpu *c = mycpu();
  struct klt *prev = c->cur;
  assert(!intr_get());
  assert(c->critcount == 0 && c->doorbells == 0);
  c->reqflags &= ~RQF_RESCHED;
  struct klt *next = pick_next(c, prev);
  if (next == prev) {
    prev->state = KLT_RUNNING;
    return;
  }
  if (prev->state == KLT_RUNNING && prev != c->idle)
    panic("lwkt_switch: %s still running", prev->name);
  next->state = KLT_RUNNING;
  next->flags &= ~KLT_PREEMPTED;
  next->nswitch++;
  c->cur = next;
  switch_address_space(c, prev, next);
  schedctl_update(prev, SC_OFFPROC);
  schedctl_update(next, SC_ONPROC);
  trace_switch(prev, next);
  struct context *from = swtch(&prev->ctx, &next->ctx);
  lwkt_switch_finish((struct klt *)((char *)from - __builtin_offsetof(struct klt, ctx)));
}

// Runs in the thread that was just switched to, once the previous thread
// is fully off this CPU: only now may an exited thread be reused.
void lwkt_switch_finish(struct klt *prev)
{
  if (prev->state != KLT_DEAD)
    return;
  if (prev->lwp)
    lwp_offcpu(prev->lwp);
  else
    klt_deathrow_add(prev);
}

void lwkt_yield(void)
{
  struct cpu *c = mycpu();
  int s = intr_save();
  struct klt *t = c->cur;
  if (t != c->idle)
    runq_insert(c, t, 0);
  lwkt_switch();
  intr_restore(s);
}

// Block until lwkt_schedule(), unless *pending is already set. Checking
// with interrupts off closes the window in which an interrupt on this CPU
// could set the flag and schedule us just before we block.
void lwkt_block(volatile int *pending)
{
  int s = intr_save();
  if (!*pending) {
    mycpu()->cur->state = KLT_SLEEPING;
    lwkt_switch();
  }
  intr_restore(s);
}

// Preempt the running thread for a waiting interrupt thread of higher
// priority. The preempted thread goes back to the head of its queue so it
// resumes as soon as the interrupt thread blocks.
void lwkt_maybe_preempt(void)
{
  struct cpu *c = mycpu();
  int s = intr_save();
  struct klt *cur = c->cur;
  int top = runq_top(c);
  if (c->critcount > 0 || top <= cur->pri || cur == c->idle) {
    intr_restore(s);
    return;
  }
  if (!(c->rq_head[top]->flags & KLT_INTERRUPT)) {
    c->reqflags |= RQF_RESCHED;
    intr_restore(s);
    return;
  }
  struct klt *intr = c->rq_head[top];
  c->stats.preempt++;
  trace_event(TR_PREEMPT, intr);
  if (cur->lwp)
    cur->lwp->ivcsw++;
  intr->preempted = cur;      // it gives the CPU back to cur when it blocks
  cur->flags |= KLT_PREEMPTED;  // so the user scheduler leaves it here
  runq_insert(c, cur, 1);
  // An interrupt between crit_exit's last decrement and its ring: cur owes
  // doorbells but holds no lock now, so ring them before switching.
  if (c->doorbells)
    ipiq_ring();
  lwkt_switch();
  intr_restore(s);
}

void lwkt_idle_loop(void)
{
  struct cpu *c = mycpu();
  for (;;) {
    intr_off();
    if (c->rq_mask) {
      if (bench_slice)
        clock_idle_done();
      c->cur->state = KLT_RUNQ;
      lwkt_switch();
    } else {
      int counted = bench_slice != 0;
      if (counted)
        clock_idle_enter();
      asm volatile("wfi");
      if (counted)
        clock_idle_leave();
      // wfi returns on a pending interrupt even with interrupts off. A
      // doorbell (the usual wake-up: a thread made runnable here) is
      // drained right here rather than through a trap; others trap below.
      if (CSR_READ(sip) & SIE_SSIE)
        ipiq_process();
    }
    intr_on();
  }
}

// Runs on the CPU that owns t: if t still waits in the user-level run queue
// (so it holds nothing in the kernel), hand it to the new CPU. A thread an
// interrupt thread preempted stays: that interrupt thread resumes it, so
// the next one queued behind it goes instead. (When the softclock balances
// its own CPU, the head of that queue is always the LWP it preempted.)
struct migration { struct klt *t; struct cpu *to; };

// t leaves c. If c runs a kernel-only thread on t's page table, kept
// lazily (switch_address_space), it goes back to the kernel's: t may end
// elsewhere, and its process's table be freed, while c still holds it.
static void drop_lazy_table(struct cpu *c, struct klt *t)
{
  if (c->cur->lwp || c->loaded_proc == 0 || c->loaded_proc != t->lwp->proc)
    return;
  CSR_WRITE(satp, MAKE_SATP(kernel_pagetable));
  sfence_vma();
  c->loaded_proc = 0;
}
static struct migration migrations[NCPU];

static void migrate_local(void *arg)
{
  struct migration *m = arg;
  struct klt *t = m->t;
  struct cpu *c = mycpu();
  int s = intr_save();
  m->t = 0;
  if (t && (t->cpu != c || t->state != KLT_RUNQ || t->pri != PRI_USER))
    t = 0;
  while (t && (t->flags & KLT_PREEMPTED))
    t = t->rq_next;
  if (t) {
    runq_remove(c, t);
    drop_lazy_table(c, t);
    __sync_fetch_and_sub(&c->nuser, 1);
    __sync_fetch_and_add(&m->to->nuser, 1);
    c->stats.migrations++;
    t->state = KLT_EMBRYO;
    t->cpu = m->to;
    lwkt_schedule(t);
  }
  intr_restore(s);
}

void lwkt_migrate(struct klt *t, struct cpu *to)
{
  struct migration *m = &migrations[t->cpu->id];
  if (m->t)                  // one migration in flight per source CPU
    return;
  m->t = t;
  m->to = to;
  ipiq_send(t->cpu, migrate_local, m);
}

// mine[i]: the LWPs the new one's process has on CPU i. Its LWPs are
// meant to run at once, so the new one goes where the process has the
// fewest; among those, where the fewest user LWPs of any process are, and
// on a tie this CPU. Both counts include sleeping LWPs: a parked LWP of the
// process wakes when its library has work, and whether one sleeps at this
// moment is timing, which must not decide where its sibling runs.
// The started CPUs are harts 0 .. ncpu-1 (the board numbers harts from 0
// and main.c starts them all), so the loop stops at ncpu, not NCPU. A hart
// that failed to start would leave the last ones out: only balance suffers.
struct cpu *lwkt_pick_cpu(const int *mine)
{
  struct cpu *best = mycpu();
  for (int i = 0; i < ncpu; i++) {
    struct cpu *c = &cpus[i];
    if (!c->started)
      continue;
    if (mine[i] < mine[best->id] || (mine[i] == mine[best->id] && c->nuser < best->nuser))
      best = c;
  }
  return best;
}
