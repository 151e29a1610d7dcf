// The in-kernel test of the reaper's trim, reached through
// kdebug(KD_REAPER_TEST, addr) (racetests reaper), which copies what it saw
// (struct reaper_trim, uapi/kdebug.h) to addr. Owns nothing but its own
// threads; reads the reaper's counters (thread/klt.c) and its CPU's.
//
// A trim frees the death-row stacks beyond the keep. No hart may still map
// a stack when its pages are freed or its slot reused, and one TLB shootdown
// can cover every stack of the trim. Hang 1 of uthreadtests upcmany on 8
// harts (issue 20) was a reaper making one shootdown per stack, an IPI round
// trip to 7 harts each, while five LWPs in system calls waited on its CPU.
//
// The controller C runs on the reaper's CPU R above the reaper's priority,
// so the reaper cannot run there while NDOOMED kernel-only threads end on
// the other CPUs, once all are made (spread, so that no IPI ring fills), and fill the death row well past its
// keep. C waits until the death row has them all, then queues W, a thread at PRI_KERN_USER (an LWP in a system call), and ends:
// R runs the reaper, then W, which reads what R did in between.
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/clock.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"
#include "lib/spinlock.h"
#include "uapi/kdebug.h"
#include "param.h"

#define NDOOMED 56     // with the keep of 16, about 40 stacks for one trim

static struct {
  struct spinlock lock;
  int done;
  int go;                      // the doomed threads may end
  uint64 want;                 // death-row pages once every doomed thread is on it
  uint64 queued;               // time W was queued
  uint64 shootdowns0;          // R's shootdowns then
  struct reaper_count rc0;     // the reaper's counts then
  struct reaper_trim out;
} rt;

static void finish(int failed)
{
  spinlock_acquire(&rt.lock);
  rt.out.failed |= failed;
  rt.done = 1;
  sleepq_wakeup(&rt.done);
  spinlock_release(&rt.lock);
}

// Ends once all are made, so none reuses another's slot: its KLT goes to
// the death row.
static void doomed(void *arg)
{
  (void)arg;
  spinlock_acquire(&rt.lock);
  while (!rt.go)
    sleepq_sleep(&rt.go, &rt.lock);
  spinlock_release(&rt.lock);
}

static void waiter(void *arg)
{
  (void)arg;
  uint64 now = r_time();
  struct reaper_count rc;
  klt_reaper_count(&rc);
  rt.out.waited = now - rt.queued;
  rt.out.shootdowns = mycpu()->stats.shootdowns - rt.shootdowns0;
  rt.out.trims = rc.trims - rt.rc0.trims;
  rt.out.stacks = rc.stacks - rt.rc0.stacks;
  finish(0);
}

// The started CPU after x (0: the first) that is not R, round and round;
// 0 if R is the only one.
static struct cpu *other_cpu(struct cpu *x)
{
  struct cpu *r = klt_reaper_cpu();
  int from = x ? x->id + 1 : 0;
  for (int i = 0; i < NCPU; i++) {
    struct cpu *c = &cpus[(from + i) % NCPU];
    if (c->started && c != r)
      return c;
  }
  return 0;
}

// C, on R: never blocks until it ends, so the reaper waits. It waits in
// wfi, not a spin: under -icount a spinning hart can keep QEMU's one host
// thread from the others. Each death-row entry past the keep schedules the
// reaper, an IPI message to R, which ends the wfi.
static void controller(void *arg)
{
  (void)arg;
  struct klt *w = klt_create("ktest-w", waiter, 0, PRI_KERN_USER, mycpu());
  if (w == 0) {
    finish(RT_NOKLT);
    return;
  }
  int n = 0;
  for (struct cpu *x = other_cpu(0); n < NDOOMED; x = other_cpu(x), n++) {
    struct klt *t = klt_create("ktest-doomed", doomed, 0, PRI_KERN, x);
    if (t == 0)
      break;
    lwkt_schedule(t);
  }
  rt.out.doomed = n;
  rt.want = klt_cached_pages() + n * KSTACK_PAGES;
  spinlock_acquire(&rt.lock);
  rt.go = 1;
  sleepq_wakeup(&rt.go);
  spinlock_release(&rt.lock);
  uint64 start = r_time();
  while (klt_cached_pages() < rt.want) {
    if (r_time() - start > 300 * TIMER_INTERVAL) {   // not ticks: a loaded host loses some
      rt.out.failed |= RT_NOT_DEAD;
      break;
    }
    asm volatile("wfi");
  }
  rt.out.deathrow = klt_cached_pages() / KSTACK_PAGES;
  rt.shootdowns0 = mycpu()->stats.shootdowns;
  klt_reaper_count(&rt.rc0);
  rt.queued = r_time();
  lwkt_schedule(w);
}

int kdebug_reaper_test(struct reaper_trim *out)
{
  rt.out = (struct reaper_trim){ 0 };
  if (other_cpu(0)) {
    spinlock_init(&rt.lock, "ktest-reaper");
    rt.done = rt.go = 0;
    struct klt *c = klt_create("ktest-c", controller, 0, PRI_KERN + 1, klt_reaper_cpu());
    if (c == 0)
      return -1;
    lwkt_schedule(c);
    spinlock_acquire(&rt.lock);
    while (!rt.done)
      sleepq_sleep(&rt.done, &rt.lock);
    spinlock_release(&rt.lock);
  }
  *out = rt.out;
  return 0;
}
