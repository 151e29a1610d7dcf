// Kernel-level threads (KLTs): the unit the LWKT scheduler runs. Every KLT
// has its own kernel stack (with a guard page below it) and saved context.
// A KLT either carries an LWP (a user thread, in or out of the kernel) or is
// kernel-only (idle, interrupt threads, the reaper). Exited KLTs go to a
// death row; klt_create() takes from it first, and the reaper frees the rest.
#pragma once
#include "uapi/types.h"
#include "param.h"

// Fixed LWKT priorities, high number = more urgent (DragonFly's values).
// Classes, high to low: hardware interrupt, software interrupt, kernel-only,
// user thread in the kernel, user thread at user level, idle.
#define PRI_IDLE        0
#define PRI_USER        6    // user thread running user code
#define PRI_KERN_USER   10   // user thread inside a system call or fault
#define PRI_KERN        12   // kernel-only daemon (reaper, tests)
#define PRI_SOFT        14   // software interrupt thread (softclock)
#define PRI_INT         28   // hardware interrupt thread
#define PRI_MAX         31
#define NPRI            32

// Printable class name of a priority.
const char *pri_class(int pri);

enum klt_state {
  KLT_FREE,       // slot unused
  KLT_EMBRYO,     // being set up
  KLT_RUNQ,       // on its CPU's run queue
  KLT_RUNNING,    // on a CPU now
  KLT_SLEEPING,   // waiting on a channel
  KLT_DEAD,       // exited, on the death row
};

const char *klt_state_name(enum klt_state s);

// Callee-saved registers, saved by swtch().
struct context {
  uint64 ra, sp;
  uint64 s[12];
};

#define KLT_INTERRUPT  0x1   // interrupt thread: may preempt lower classes
#define KLT_PREEMPTED  0x2   // preempted by an interrupt thread, waiting to resume

struct cpu;
struct lwp;

struct klt {
  int id;                   // index in the KLT table; fixes its stack slot
  enum klt_state state;
  int pri;                  // current priority
  int flags;                // KLT_*
  char name[16];
  struct cpu *cpu;          // owner: only this CPU touches the KLT's queues
  uint64 kstack;            // lowest address of the stack (guard page below)
  int kstack_mapped;        // stack pages allocated and mapped
  int kstack_stale;         // unmapped without a shootdown: flush before reuse
  struct context ctx;
  // scheduling links (owned by cpu)
  struct klt *rq_next;
  struct cpu *rq_cpu;       // CPU whose run queue holds it, or NULL (lwkt.c checks it)
  int sched_msgs;           // lwkt_schedule messages sent to its CPU and not yet run
  uint64 sched_from[2];     // return addresses of the last two lwkt_schedule calls (dumps)
  // sleeping (protected by the sleep-queue bucket lock)
  void *chan;
  struct klt *sq_next;
  uint64 wake_tick;         // tick at which a timed sleep ends, 0 = none
  int timed_out;
  int sleep_sig;            // this sleep ends for a signal (sleepq_sleep_sig)
  int sleeps_refused;       // interruptible sleeps in a row that ended before they began
  struct klt *preempted;    // thread this interrupt thread preempted
  struct lwp *lwp;          // NULL for kernel-only threads
  void (*fn)(void *);       // entry of a kernel-only thread
  void *arg;
  struct klt *dr_next;      // death-row link
  uint64 nswitch;           // times switched in
};

extern struct klt klts[MAX_THREADS];
extern int max_threads;     // system-wide limit on live KLTs (<= MAX_THREADS)

// Create a KLT owned by cpu (NULL = this CPU). It starts in fn(arg) once
// lwkt_schedule()d. Returns NULL when max_threads is reached or memory runs out.
struct klt *klt_create(const char *name, void (*fn)(void *), void *arg, int pri,
                       struct cpu *cpu);
// End the calling KLT: it goes to the death row and never returns.
void klt_exit(void) __attribute__((noreturn));
int  klt_live_count(void);
uint64 klt_cached_pages(void);   // stack pages kept by the death row
uint64 klt_deathrow_drain(void); // free them all (kalloc's reclaim); returns how many
// Hand an exited KLT (and its LWP, if any) to the death row for reuse.
void klt_deathrow_add(struct klt *t);
void klt_init(void);
void klt_init_idle(struct cpu *c);  // the running boot context becomes c's idle KLT
void klt_reaper_start(void);
// What the reaper has freed since boot (a trim: one pass that freed any),
// and its CPU: racetests reaper (proc/ktest_reaper.c).
struct reaper_count { uint64 trims, stacks; };
void klt_reaper_count(struct reaper_count *rc);
struct cpu *klt_reaper_cpu(void);
void klt_dump(void);        // Ctrl-p: every KLT per CPU with its class
