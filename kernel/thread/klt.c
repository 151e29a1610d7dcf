// The KLT table, kernel stacks, the death row and the reaper.
//
// Slot i of the table always uses the stack at KSTACK(i), which sits over
// an unmapped guard page. A KLT that exits keeps its stack and waits on the
// death row; klt_create() takes from the death row first, so creating a
// thread after one exited costs no allocation. When a page allocation finds
// memory exhausted, kalloc drains the whole death row.
//
// The reaper thread trims the death row back to DEATHROW_KEEP entries. A
// trim unmaps every stack beyond the keep, makes one TLB shootdown for them
// all, and only then frees their pages and marks their slots free: until
// every hart has forgotten a stack's mapping, neither its pages nor its
// addresses may serve anything else. The shootdown waits, in a critical
// section, for an IPI round trip to every other hart, so the trim holds the
// reaper's CPU for one round trip whatever it frees; one shootdown per stack
// held CPU 0 for 25 round trips to 7 harts while LWPs in system calls
// waited there (uthreadtests upcmany, issue 20; racetests reaper: 41 stacks
// took 1,452 time units under -icount on 8 harts, now 714).
// The reaper stays at PRI_KERN and does not yield within a trim: splitting
// the trim would cost one round trip per part, the very cost removed, and
// below PRI_KERN_USER a CPU kept busy with system calls could put the trim
// off for as long as they last, keeping every exited thread's stack. What a
// thread at PRI_KERN_USER now waits behind is one round trip and the
// unmapping and freeing, what a system call's own shootdown (sbrk) costs.
#include "thread/klt.h"
#include "thread/cpu.h"
#include "thread/lwkt.h"
#include "thread/lwp.h"
#include "thread/sleepq.h"
#include "thread/tlb.h"
#include "thread/ipiq.h"
#include "thread/clock.h"
#include "vm/vm.h"
#include "vm/kalloc.h"
#include "arch/memlayout.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "lib/ksym.h"

#define DEATHROW_KEEP 16

struct klt klts[MAX_THREADS];
int max_threads = MAX_THREADS;

static struct {
  struct spinlock lock;   // slot states FREE/EMBRYO, the death row, nlive; also
                          // taken with interrupts off (docs/locking.md)
  struct klt *deathrow;
  int deathrow_len;
  int nlive;              // KLTs neither free nor on the death row
} table;

static struct klt *reaper;
static volatile int reaper_pending;
static struct reaper_count reaped;

const char *pri_class(int pri)
{
  if (pri >= PRI_INT)       return "intr";
  if (pri >= PRI_SOFT)      return "soft";
  if (pri >= PRI_KERN)      return "kern";
  if (pri >= PRI_KERN_USER) return "ukern";
  if (pri > PRI_IDLE)       return "user";
  return "idle";
}

int klt_live_count(void)
{
  return table.nlive;
}

uint64 klt_cached_pages(void)
{
  return (uint64)table.deathrow_len * KSTACK_PAGES;
}

static int kstack_map(struct klt *t)
{
  void *pages[KSTACK_PAGES];
  for (int i = 0; i < KSTACK_PAGES; i++) {
    if ((pages[i] = kalloc()) == 0) {
      while (--i >= 0)
        kfree(pages[i]);
      return -1;
    }
  }
  for (int i = 0; i < KSTACK_PAGES; i++)
    if (kvm_map(t->kstack + i * PGSIZE, (uint64)pages[i], PGSIZE, PTE_R | PTE_W) < 0)
      panic("kstack_map: kernel stack tables were made at boot");
  if (t->kstack_stale) {      // other harts may still map the old pages here
    tlb_shootdown(t->kstack, KSTACK_PAGES * PGSIZE);
    t->kstack_stale = 0;
  }
  t->kstack_mapped = 1;
  return 0;
}

// Unmap t's stack and chain its pages on *pages, through their first words
// (RAM is identity-mapped), for pages_free. No hart may use them until they
// are freed: the caller frees them after a shootdown, or marks the slot
// kstack_stale so that kstack_map flushes before the addresses are reused.
static void kstack_unmap(struct klt *t, void **pages)
{
  for (int i = 0; i < KSTACK_PAGES; i++) {
    void **pa = (void **)PTE2PA(*vm_walk(kernel_pagetable, t->kstack + i * PGSIZE, 0));
    *pa = *pages;
    *pages = pa;
  }
  kvm_unmap(t->kstack, KSTACK_PAGES);
  t->kstack_mapped = 0;
}

static void pages_free(void *pages)
{
  while (pages) {
    void *next = *(void **)pages;
    kfree(pages);
    pages = next;
  }
}

// A slot to build a new KLT in: a death-row entry if any, else a free one.
static struct klt *slot_take(void)
{
  struct klt *t = 0;
  spinlock_acquire(&table.lock);
  if (table.nlive >= max_threads)
    goto out;
  if (table.deathrow) {
    t = table.deathrow;
    table.deathrow = t->dr_next;
    table.deathrow_len--;
  } else {
    for (int i = 0; i < MAX_THREADS && !t; i++)
      if (klts[i].state == KLT_FREE)
        t = &klts[i];
  }
  if (t) {
    t->state = KLT_EMBRYO;
    table.nlive++;
  }
out:
  spinlock_release(&table.lock);
  return t;
}

static void slot_return(struct klt *t)
{
  spinlock_acquire(&table.lock);
  t->state = KLT_FREE;
  table.nlive--;
  spinlock_release(&table.lock);
}

// First code a new KLT runs. swtch() "returns" here with the old context in
// a0, as if called with it: finish that switch, then enter the thread's
// function with interrupts on.
static void klt_trampoline(struct context *from)
{
  struct klt *t = curklt();
  lwkt_switch_finish((struct klt *)((char *)from - __builtin_offsetof(struct klt, ctx)));
  intr_on();
  t->fn(t->arg);
  klt_exit();
}

struct klt *klt_create(const char *name, void (*fn)(void *), void *arg, int pri, struct cpu *cpu)
{
  struct klt *t = slot_take();
  if (t == 0)
    return 0;
  if (t->rq_cpu || t->sched_msgs != 0)
    lwkt_broken(t, "reused while queued or scheduled");
  if (!t->kstack_mapped && kstack_map(t) < 0) {
    slot_return(t);
    return 0;
  }
  safestrcpy(t->name, name, sizeof(t->name));
  t->pri = pri;
  t->flags = 0;
  t->cpu = cpu ? cpu : mycpu();
  t->chan = 0;
  t->wake_tick = 0;
  t->sleeps_refused = 0;
  t->lwp = 0;
  t->fn = fn;
  t->arg = arg;
  t->nswitch = 0;
  // A compound literal, not memset: fourteen stores instead of a byte loop
  // (the context is 112 bytes, below memset's 16-word turns).
  t->ctx = (struct context){ .ra = (uint64)klt_trampoline, .sp = t->kstack + KSTACK_PAGES * PGSIZE };
  return t;
}

void klt_exit(void)
{
  intr_off();
  struct klt *t = curklt();
  t->state = KLT_DEAD;
  lwkt_switch();
  panic("klt_exit: dead thread %s resumed", t->name);
}

void klt_deathrow_add(struct klt *t)
{
  assert(t->state == KLT_DEAD);
  if (t->rq_cpu || t->sched_msgs != 0)
    lwkt_broken(t, "ended while queued or scheduled");
  t->lwp = 0;
  spinlock_acquire(&table.lock);
  t->dr_next = table.deathrow;
  table.deathrow = t;
  table.deathrow_len++;
  table.nlive--;
  int trim = table.deathrow_len > DEATHROW_KEEP;
  spinlock_release(&table.lock);
  if (trim && reaper) {
    reaper_pending = 1;
    lwkt_schedule(reaper);
  }
}

// Takes the death-row entries beyond `keep`, linked through dr_next; the
// caller frees their stacks and then marks each slot free.
static struct klt *deathrow_take(int keep)
{
  struct klt *taken = 0;
  spinlock_acquire(&table.lock);
  for (; table.deathrow_len > keep; table.deathrow_len--) {
    struct klt *t = table.deathrow;
    table.deathrow = t->dr_next;
    t->state = KLT_EMBRYO;   // ours until freed; not counted live
    t->dr_next = taken;
    taken = t;
  }
  spinlock_release(&table.lock);
  return taken;
}

// Mark the taken slots free, their stacks gone; returns how many.
static int slots_free(struct klt *taken)
{
  int n = 0;
  for (struct klt *t = taken, *next; t; t = next, n++) {
    next = t->dr_next;
    __sync_synchronize();    // kstack_mapped/stale before the slot is seen free
    t->state = KLT_FREE;
  }
  return n;
}

// Free the stacks of the whole death row, for an allocation that found no
// free page (kalloc's reclaim hook). The caller may hold spinlocks, so this
// must not wait for other harts: the shootdown is put off (kstack_unmap).
// Returns the pages freed.
uint64 klt_deathrow_drain(void)
{
  struct klt *taken = deathrow_take(0);
  void *pages = 0;
  for (struct klt *t = taken; t; t = t->dr_next) {
    kstack_unmap(t, &pages);
    t->kstack_stale = 1;
  }
  pages_free(pages);
  return (uint64)slots_free(taken) * KSTACK_PAGES;
}

// One trim: every stack beyond the keep, one shootdown for them all (the
// reaper's CPU waits an IPI round trip to every other hart, whatever it
// frees). Only then may the pages be freed and the slots reused.
static void reaper_trim(void)
{
  struct klt *taken = deathrow_take(DEATHROW_KEEP);
  if (taken == 0)
    return;
  void *pages = 0;
  for (struct klt *t = taken; t; t = t->dr_next)
    kstack_unmap(t, &pages);
  tlb_shootdown(KSTACK_BASE, KSTACK(MAX_THREADS) - KSTACK_BASE);
  pages_free(pages);
  reaped.stacks += slots_free(taken);
  reaped.trims++;
}

static void reaper_main(void *arg)
{
  (void)arg;
  for (;;) {
    reaper_pending = 0;
    reaper_trim();
    lwkt_block(&reaper_pending);
  }
}

void klt_init(void)
{
  spinlock_init(&table.lock, "klt");
  for (int i = 0; i < MAX_THREADS; i++) {
    klts[i].id = i;
    klts[i].state = KLT_FREE;
    klts[i].kstack = KSTACK(i);
  }
  kalloc_set_reclaim(klt_deathrow_drain);
}

void klt_reaper_start(void)
{
  reaper = klt_create("reaper", reaper_main, 0, PRI_KERN, mycpu());
  assert(reaper);
  lwkt_schedule(reaper);
}

void klt_reaper_count(struct reaper_count *rc)
{
  *rc = reaped;
}

struct cpu *klt_reaper_cpu(void)
{
  return reaper->cpu;
}

// The idle KLT of a CPU is the boot context already running on it (its
// stack is the hart's boot stack); it takes a table slot like any KLT.
void klt_init_idle(struct cpu *c)
{
  struct klt *t = slot_take();
  assert(t);
  safestrcpy(t->name, "idle", sizeof(t->name));
  t->pri = PRI_IDLE;
  t->cpu = c;
  t->state = KLT_RUNNING;
  c->idle = c->cur = t;
}

const char *klt_state_name(enum klt_state s)
{
  static const char *names[] = { "free", "embryo", "runq", "run", "sleep", "dead" };
  return names[s];
}

// The IPI side of a CPU, for a hang where a message or a doorbell went
// missing: which senders it has yet to look at (ipimask), the doorbells it
// owes, how many ticks since it last drained its inbox. Its SSIP bit is
// readable only by itself: shown for the dumping CPU.
static void cpu_ipi_dump(struct cpu *c)
{
  printf("  ipimask 0x%x  doorbells owed 0x%lx  rq_mask 0x%x  intr depth %d  reqflags 0x%x  inbox drained %ld ticks ago",
         c->ipimask, c->doorbells, c->rq_mask, c->intr_depth, c->reqflags, c->ticks - c->drained_tick);
  if (c == mycpu())
    printf("  SSIP %d (this cpu)", (CSR_READ(sip) & SIE_SSIE) != 0);
  printf("\n");
}

// A run queue printed as the links give it, at most MAX_THREADS long (a
// corrupt one may loop), each entry with what the KLT says of itself.
static void runq_dump(struct cpu *c, int p)
{
  int n = 0;
  for (struct klt *t = c->rq_head[p]; t && n < MAX_THREADS; t = t->rq_next, n++) {
    printf("  runq %s(%d): klt %d %s", pri_class(p), p, t->id, t->name);
    if (t->state != KLT_RUNQ || t->rq_cpu != c)
      printf("  [state %s queued on %d]", klt_state_name(t->state), t->rq_cpu ? t->rq_cpu->id : -1);
    printf("\n");
  }
  if (n == MAX_THREADS)
    printf("  runq %s(%d): loops\n", pri_class(p), p);
  if ((c->rq_head[p] != 0) != ((c->rq_mask >> p) & 1) || (c->rq_head[p] && c->rq_tail[p]->rq_next))
    printf("  runq %s(%d): head, tail and rq_mask disagree\n", pri_class(p), p);
}

// Is t reachable from the head of the queue it says holds it? Looked up
// in one go, with interrupts off, so that a thread queued while the dump
// prints is not taken for a lost one (a remote queue may still move).
static int runq_holds(struct klt *t)
{
  struct cpu *c = t->rq_cpu;
  int s = intr_save(), n = 0, found = 0;
  for (struct klt *q = c->rq_head[t->pri]; q && n < MAX_THREADS && !found; q = q->rq_next, n++)
    found = q == t;
  intr_restore(s);
  return found;
}

void klt_dump(void)
{
  printf("\n");
  for (int i = 0; i < NCPU; i++) {
    struct cpu *c = &cpus[i];
    if (!c->started)
      continue;
    printf("cpu %d: cur %s (klt %d %s)  crit %d  nuser %d  switches same-proc %ld cross-proc %ld kernel %ld  preempt %ld  ipi sent %ld recv %ld\n",
           c->id, c->cur->name, c->cur->id, klt_state_name(c->cur->state), c->critcount, c->nuser, c->stats.switch_same_proc,
           c->stats.switch_cross_proc, c->stats.switch_kernel, c->stats.preempt,
           c->stats.ipi_sent, c->stats.ipi_recv);
    cpu_ipi_dump(c);
    for (int p = NPRI - 1; p >= 0; p--)
      runq_dump(c, p);
  }
  ipiq_dump();
  printf("death row %d  live %d  tick %ld\n", table.deathrow_len, table.nlive, clock_ticks());
  for (int i = 0; i < MAX_THREADS; i++) {
    struct klt *t = &klts[i];
    if (t->state == KLT_FREE)
      continue;
    printf("klt %d %s cpu %d pri %d %s %s", t->id, t->name, t->cpu ? t->cpu->id : -1, t->pri,
           pri_class(t->pri), klt_state_name(t->state));
    if (t->lwp)
      printf(" lwp %d", t->lwp->id);
    if (t->rq_cpu)
      printf(" queued on %d%s", t->rq_cpu->id, runq_holds(t) ? "" : " (not on that queue now)");
    if (t->sched_msgs)
      printf(" schedule messages %d", t->sched_msgs);
    if (t->flags & KLT_PREEMPTED)
      printf(" preempted");
    if (t->preempted)
      printf(" resumes klt %d", t->preempted->id);
    if (t->wake_tick)
      printf(" until tick %ld", t->wake_tick);
    if (t->chan) {
      printf(" chan ");
      ksym_print((uint64)t->chan);     // cons+280, as gdb's klts names it
    }
    printf("\n");
  }
}
