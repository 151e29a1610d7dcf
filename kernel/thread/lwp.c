// LWPs: creating, ending and joining the light half of a user thread. The
// LWP in slot i of lwps[] is always run by the KLT in slot i of klts[], so
// the pair is allocated, reused from the death row and freed together.
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "thread/sleepq.h"
#include "thread/clock.h"
#include "arch/trap.h"
#include "proc/proc.h"
#include "proc/kick.h"
#include "proc/signal.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "uapi/schedctl.h"

struct lwp lwps[MAX_THREADS];

int lwp_killed(struct lwp *l)
{
  return l->exit_req || l->proc->killed || l->proc->exiting;
}

int lwp_interrupted(struct lwp *l)
{
  return lwp_killed(l) || sig_ready_lwp(l);
}

static void lwp_start(void *arg)
{
  (void)arg;
  usertrapret();
}

// Test delays set by kdebug (0: off): they widen a window a lab test needs.
int lwp_alloc_delay;     // KD_LWP_ALLOC_DELAY: ticks an LWP sleeps before adding one to its process
int lwp_delayed_allocs;  // LWPs added under lwp_alloc_delay since it was set
int schedctl_delay;      // KD_SCHEDCTL_DELAY: ticks the schedctl system call sleeps first
int lwp_start_wait;      // KD_LWP_START_WAIT: ticks an LWP may wait for a new one of its process to end
int lwp_allocs;          // KD_LWP_ALLOCS: LWPs lwp_alloc made since boot

#define SETTLE_MAX_TICKS 50    // lwp_alloc_delay: the longest wait for the others to settle
#define DELAYED_ALLOCS_MAX 16  // lwp_alloc_delay: more LWPs than a test's growth needs

// The calling LWP sleeps `ticks` ticks, less if it is told to end.
void lwp_test_delay(int ticks)
{
  struct lwp *l = curlwp();
  uint64 until = clock_ticks() + ticks;
  for (uint64 now; (now = clock_ticks()) < until && !lwp_killed(l);)
    sleepq_sleep_intr(&lwp_alloc_delay, 0, until - now);
}

// Is every LWP of p but self asleep or ended? (A hint: read without the
// KLTs' locks, for a test delay only.)
static int others_asleep(struct proc *p, struct lwp *self)
{
  int asleep = 1;
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l && asleep; l = l->next)
    if (l != self && !l->dead && l->klt->state != KLT_SLEEPING)
      asleep = 0;
  spinlock_release(&p->lock);
  return asleep;
}

// kdebug KD_LWP_ALLOC_DELAY: before it adds an LWP to its own process, the
// caller sleeps `ticks`, then a tick at a time until the process's other
// LWPs are all asleep or ended (at most SETTLE_MAX_TICKS more): an LWP
// added before has then found work, parked or left before the next exists,
// however slowly the host runs it. Past DELAYED_ALLOCS_MAX LWPs the add
// fails (-1): a growth whose every new LWP leaves at once then ends, and
// its test says so, instead of adding LWPs a tick apart until it times out.
static int lwp_alloc_test_delay(struct proc *p, int ticks)
{
  struct lwp *self = curlwp();
  if (__atomic_add_fetch(&lwp_delayed_allocs, 1, __ATOMIC_RELAXED) > DELAYED_ALLOCS_MAX)
    return -1;
  lwp_test_delay(ticks);
  for (int t = 0; t < SETTLE_MAX_TICKS && !lwp_killed(self) && !others_asleep(p, self); t++)
    lwp_test_delay(1);
  return 0;
}

// Has LWP `id` of p not yet ended and left its CPU? (For a test wait only.)
static int lwp_not_offcpu(struct proc *p, int id)
{
  int on = 0;
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next)
    if (l->id == id)
      on = !l->offcpu;
  spinlock_release(&p->lock);
  return on;
}

// kdebug KD_LWP_START_WAIT: the LWP that lets a new LWP of its own process
// run (lwkt_schedule) then sleeps, a tick at a time, until that LWP has
// ended and left its CPU, at most lwp_start_wait ticks: whatever the creator
// does next comes after the end of an LWP that ends at once.
void lwp_start_test_wait(struct lwp *l)
{
  struct lwp *self = curlwp();
  struct proc *p = l->proc;
  l->start_wait = 0;
  if (self == 0 || self == l || self->proc != p)
    return;
  int id = l->id;
  for (int t = 0; t < lwp_start_wait && !lwp_killed(self) && lwp_not_offcpu(p, id); t++)
    lwp_test_delay(1);
}

// Where a new LWP of p goes: lwkt_pick_cpu, told how many live LWPs p has
// on each CPU (read while they may move: a hint, as placement is).
static struct cpu *lwp_pick_cpu(struct proc *p)
{
  int mine[NCPU] = { 0 };
  spinlock_acquire(&p->lock);
  for (struct lwp *l = p->lwps; l; l = l->next)
    if (!l->dead)
      mine[l->klt->cpu->id]++;
  spinlock_release(&p->lock);
  return lwkt_pick_cpu(mine);
}

struct lwp *lwp_alloc(struct proc *p, uint64 pc, uint64 sp, uint64 a0)
{
  int own = curlwp() && curlwp()->proc == p;
  if (lwp_alloc_delay > 0 && own && lwp_alloc_test_delay(p, lwp_alloc_delay) < 0)
    return 0;
  struct cpu *cpu = lwp_pick_cpu(p);
  struct klt *t = klt_create(p->name, lwp_start, 0, PRI_KERN_USER, cpu);
  if (t == 0)
    return 0;
  struct lwp *l = &lwps[t->id];
  memset(l, 0, sizeof(*l));
  l->tf.epc = pc;
  l->tf.sp = sp;
  l->tf.a0 = a0;
  l->proc = p;
  l->klt = t;
  l->syscall_nr = -1;
  l->start_wait = lwp_start_wait > 0 && own;
  t->lwp = l;
  __sync_fetch_and_add(&cpu->nuser, 1);
  spinlock_acquire(&p->lock);
  l->sc = p->schedctl ? &p->schedctl[t->id] : 0;   // with the list: proc_schedctl
  l->id = p->next_lwpid++;
  l->next = p->lwps;
  p->lwps = l;
  p->nlwp++;
  spinlock_release(&p->lock);
  __atomic_add_fetch(&lwp_allocs, 1, __ATOMIC_RELAXED);
  return l;
}

// End the calling LWP. The last LWP of a process ends the process.
void lwp_exit(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  // An activation never ends BLOCKED: ps, the counters and a replacement
  // still on its way would take it for one holding its thread, after its
  // slot is released (lab upcalls: activation.c leaves the state first).
  if (l->upc.state == UPC_LWP_BLOCKED)
    panic("lwp_exit: lwp %d of pid %d ends UPC_LWP_BLOCKED", l->id, p->pid);
  spinlock_acquire(&p->lock);
  if (p->nlwp == 1 && !p->exiting) {
    spinlock_release(&p->lock);
    proc_exit(0);
  }
  l->dead = 1;
  p->nlwp--;
  spinlock_release(&p->lock);
  if (p->sigpending)
    sig_lwp_gone(p);       // proc/signal.c: it may have been told to take one
  sleepq_wakeup(p);        // an exit() or exec() waiting for the others to end
  klt_exit();
}

// Runs on the CPU the LWP just left (lwkt_switch_finish).
void lwp_offcpu(struct lwp *l)
{
  struct proc *p = l->proc;
  __sync_fetch_and_sub(&l->klt->cpu->nuser, 1);
  spinlock_acquire(&p->lock);
  l->offcpu = 1;
  // A detached LWP is released here, unless a joiner found it before it
  // was marked detached (set_concurrency marks it just after lwp_alloc):
  // then the joiner releases it, and must find it still there.
  if (l->detached && !l->joining)
    lwp_release(l);
  spinlock_release(&p->lock);
  sleepq_wakeup(l);        // lwp_join
  sleepq_wakeup(p);        // wait() of a process whose LWPs are leaving
}

void lwp_release(struct lwp *l)
{
  struct proc *p = l->proc;
  assert(spinlock_holding(&p->lock) && l->offcpu);
  for (struct lwp **pp = &p->lwps; *pp; pp = &(*pp)->next) {
    if (*pp == l) {
      *pp = l->next;
      break;
    }
  }
  l->proc = 0;
  klt_deathrow_add(l->klt);
}

int lwp_join(int id)
{
  struct lwp *self = curlwp();
  struct proc *p = self->proc;
  spinlock_acquire(&p->lock);
  struct lwp *l = p->lwps;
  while (l && l->id != id)
    l = l->next;
  if (l == 0 || l == self || l->joining || l->detached) {
    spinlock_release(&p->lock);
    return -1;
  }
  l->joining = 1;
  while (!l->offcpu) {
    if (lwp_interrupted(self)) {
      l->joining = 0;
      spinlock_release(&p->lock);
      return -1;
    }
    sleepq_sleep_sig(l, &p->lock, 0);
  }
  lwp_release(l);
  spinlock_release(&p->lock);
  return 0;
}

// The last kernel code an LWP runs before user mode.
void lwp_userret(void)
{
  struct lwp *l = curlwp();
  struct proc *p = l->proc;
  upcall_userret(l);   // proc/upcall.c: a woken activation parks; a replacement announces
  if (l->kicked)
    kick_deliver(l);   // proc/kick.c: return into the preemption handler
  if (sig_ready(l))
    sig_deliver(l);    // proc/signal.c: return into a handler, or end the process
  if (p->killed && !p->exiting)
    proc_exit(-1);
  if (lwp_killed(l))
    lwp_exit();
  l->syscall_nr = -1;
  curklt()->pri = PRI_USER;
  curklt()->sleeps_refused = 0;   // sleepq.c: counted within one stay in the kernel
  if (lwkt_user_resched_needed()) {
    l->ivcsw++;
    struct cpu *c = mycpu();
    uint64 entries = c->stats.user_entries;
    lwkt_yield();
    if (mycpu() != c || c->stats.user_entries != entries)
      upcall_preempted(l);   // its thread lost the CPU to other user code
    if (lwp_killed(l))   // killed while it waited for the CPU
      lwp_exit();
  }
  mycpu()->reqflags &= ~RQF_TICK;
}

// Did something lwp_userret() acts on arrive after it looked? Asked with
// interrupts off just before the return to user mode: an IPI that came in
// between (a kick, a kill, a more urgent thread) has already run its
// handler, and would otherwise wait for the next trap, maybe a whole tick.
int lwp_userret_pending(struct lwp *l)
{
  assert(!intr_get());
  return l->kicked || lwp_killed(l) || sig_ready(l) || lwkt_user_resched_needed();
}
