// In-kernel scheduler tests reached through kdebug(): rules a user program
// cannot observe directly. Each returns 0 when the rule held, or a small
// positive number saying which check failed.
//
// preempt: a busy kernel-only thread on the boot hart is preempted by the
// softclock interrupt thread (the tick count moves while it spins), but a
// higher-priority kernel-only thread it wakes waits until it blocks.
// remote_wake: waking a thread owned by another CPU travels as an IPI
// message and the thread runs there.
// ipiq_full: a CPU holding a lock fills its IPI ring to a CPU that spins on
// that lock with interrupts off; the spinner must keep draining its inbox,
// or each waits for the other forever (docs/locking.md).
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/clock.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"
#include "lib/spinlock.h"
#include "lib/printf.h"
#include "param.h"

static struct {
  struct spinlock lock;
  int done;
  struct klt *waker;       // B: the kernel thread A wakes while it spins
  uint64 a_end, b_start;   // time A stopped spinning, time B first ran
  uint64 ticks_during;     // ticks that passed while A spun
  int b_cpu;
} pt;

static void finish_one(void)
{
  spinlock_acquire(&pt.lock);
  pt.done++;
  sleepq_wakeup(&pt.done);
  spinlock_release(&pt.lock);
}

static void busy_thread(void *arg)
{
  (void)arg;
  uint64 ticks0 = clock_ticks();
  uint64 start = r_time();
  lwkt_schedule(pt.waker);   // more urgent than us, but not an interrupt thread
  // Spin until three ticks have passed (only a preemption by the softclock
  // can count them), or give up after 300 ticks' time. Not a fixed time: on
  // a loaded host a hart may miss ticks while QEMU does not run it.
  while (clock_ticks() - ticks0 < 3 && r_time() - start < 300 * TIMER_INTERVAL)
    ;
  pt.ticks_during = clock_ticks() - ticks0;
  pt.a_end = r_time();
  finish_one();
}

static void woken_thread(void *arg)
{
  (void)arg;
  pt.b_start = r_time();
  pt.b_cpu = cpuid();
  finish_one();
}

static int wait_done(int n)
{
  spinlock_acquire(&pt.lock);
  while (pt.done < n)
    sleepq_sleep(&pt.done, &pt.lock);
  spinlock_release(&pt.lock);
  return 0;
}

int kdebug_preempt_test(void)
{
  struct cpu *boot = &cpus[boot_hart];
  spinlock_init(&pt.lock, "ktest");
  pt.done = 0;
  uint64 preempts0 = boot->stats.preempt;
  pt.waker = klt_create("ktest-b", woken_thread, 0, PRI_KERN + 1, boot);
  struct klt *a = klt_create("ktest-a", busy_thread, 0, PRI_KERN, boot);
  if (pt.waker == 0 || a == 0)
    return 9;
  lwkt_schedule(a);
  wait_done(2);
  printf("ktest preempt: ticks while busy %ld, preemptions %ld, b waited %s\n",
         pt.ticks_during, boot->stats.preempt - preempts0,
         pt.b_start >= pt.a_end ? "yes" : "no");
  if (pt.ticks_during < 3)
    return 1;        // the softclock thread did not preempt the busy thread
  if (boot->stats.preempt == preempts0)
    return 2;
  if (pt.b_start < pt.a_end)
    return 3;        // a kernel-only thread preempted another
  return 0;
}

int kdebug_remote_wake_test(void)
{
  struct cpu *me = mycpu(), *other = 0;
  for (int i = 0; i < NCPU && !other; i++)
    if (cpus[i].started && &cpus[i] != me)
      other = &cpus[i];
  if (other == 0)
    return 8;        // needs two harts
  spinlock_init(&pt.lock, "ktest");
  pt.done = 0;
  pt.b_cpu = -1;
  uint64 sent0 = me->stats.ipi_sent, recv0 = other->stats.ipi_recv;
  struct klt *t = klt_create("ktest-remote", woken_thread, 0, PRI_KERN, other);
  if (t == 0)
    return 9;
  lwkt_schedule(t);          // t belongs to the other CPU: an IPI message
  wait_done(1);
  printf("ktest remote wake: from cpu %d to cpu %d, ran on cpu %d, ipi sent %ld recv %ld\n",
         me->id, other->id, pt.b_cpu, me->stats.ipi_sent - sent0,
         other->stats.ipi_recv - recv0);
  if (pt.b_cpu != other->id)
    return 1;
  if (me->stats.ipi_sent == sent0 || other->stats.ipi_recv == recv0)
    return 2;
  return 0;
}

static struct {
  struct spinlock lock;      // what the other CPU spins on
  volatile int spinning;     // it is about to spin, interrupts off
  volatile int received;     // messages it ran
} iq;

static void iq_count(void *arg)
{
  (void)arg;
  iq.received++;
}

static void iq_spinner(void *arg)
{
  (void)arg;
  int s = intr_save();
  iq.spinning = 1;
  spinlock_acquire(&iq.lock);
  spinlock_release(&iq.lock);
  intr_restore(s);
  finish_one();
}

int kdebug_ipiq_full_test(void)
{
  struct cpu *me = mycpu(), *other = 0;
  for (int i = 0; i < NCPU && !other; i++)
    if (cpus[i].started && &cpus[i] != me)
      other = &cpus[i];
  if (other == 0)
    return 0;        // nothing to test on one hart
  spinlock_init(&pt.lock, "ktest");
  spinlock_init(&iq.lock, "ktest-iq");
  pt.done = 0;
  iq.spinning = iq.received = 0;
  struct klt *t = klt_create("ktest-spinner", iq_spinner, 0, PRI_KERN, other);
  if (t == 0)
    return 9;
  int n = 3 * IPIQ_SIZE;
  spinlock_acquire(&iq.lock);   // keeps us on this CPU too
  lwkt_schedule(t);
  ipiq_ring();                  // we wait inside the critical section: ring now (ipiq.c)
  while (!iq.spinning)
    ;
  for (int i = 0; i < n; i++)
    ipiq_send(other, iq_count, 0);
  spinlock_release(&iq.lock);
  wait_done(1);
  while (iq.received < n)       // the last ones may still be on their way
    ;
  return 0;
}
