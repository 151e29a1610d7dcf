// Lightweight processes (LWPs): the light, per-user-thread state the kernel
// keeps. An LWP is always paired with the KLT of the same table index, which
// runs it. The hard state shared by all LWPs of a process is in struct proc.
#pragma once
#include "uapi/types.h"
#include "thread/klt.h"
#include "thread/cpu.h"
#include "proc/activation.h"

// User registers saved at a trap. trapvec.S knows these offsets.
struct trapframe {
  /*   0 */ uint64 kernel_sp;   // top of this LWP's kernel stack
  /*   8 */ uint64 kernel_tp;   // this CPU's struct cpu, for tp on entry
  /*  16 */ uint64 epc;         // user pc
  /*  24 */ uint64 ra, sp, gp, tp;
  /*  56 */ uint64 t0, t1, t2;
  /*  80 */ uint64 s0, s1;
  /*  96 */ uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  /* 160 */ uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  /* 240 */ uint64 t3, t4, t5, t6;
};

struct proc;
struct schedctl;
struct lwp;

// An LWP's part in scheduler activations (lab upcalls). The given code
// (kernel/proc/upcall.c, its hooks, ps, gdb) reads these fields; the lab
// (kernel/proc/activation.c) writes them too, all but inuser, and keeps
// whatever else it needs per LWP in act.
struct lwp_upcall {
  int state;                // UPC_LWP_ACTIVE, _BLOCKED, _SPARE (proc/upcall.h)
  int tid;                  // UPC_LWP_BLOCKED: the user thread it holds
  int inuser;               // counted in the process's LWPs in user mode (upcall.c)
  struct lwp *replaces;     // a replacement yet to return to user mode: the LWP it serves for
  struct lwp *next;         // in the process's spare cache (p->upc.spares)
  struct activation act;    // the lab's own (proc/activation.h)
};

struct lwp {
  struct trapframe tf;      // user registers (first: trapvec.S uses its address)
  int id;                   // id within the process
  struct proc *proc;
  struct klt *klt;
  struct lwp *next;         // in proc->lwps (under proc->lock)
  int syscall_nr;           // system call being served, -1 if none
  uint64 sigmask;           // blocked signals (proc/signal.c, under proc->lock)
  uint64 sigpending;        // sent to this LWP, or handed to it from its process
  int exit_req;             // asked to end (exit, exec or kill of the process)
  int dead;                 // ended (lwp_exit ran)
  int offcpu;               // ended and off its CPU: safe to release
  int joining;              // a lwp_join is waiting for it
  int detached;             // released at once when it ends, never joined
  int serving;              // runs the library's user threads: counts toward the level (concurrency.c)
  uint64 uticks, sticks;    // timer ticks seen in user and kernel mode
  uint64 vcsw, ivcsw;       // voluntary and involuntary switches
  struct schedctl *sc;      // kernel address of its schedctl page, or NULL
  uint64 sc_uva;            // where that page is mapped for the user, or 0
  uint64 tidword;           // user address of the running user thread's id, or 0
  int kicked;               // lwp_kick: run the preemption handler at the next return to user
  int start_wait;           // kdebug KD_LWP_START_WAIT: its creator waits for its end once it runs
  struct lwp_upcall upc;    // scheduler activations (kernel/proc/upcall.c, activation.c)
};

extern struct lwp lwps[MAX_THREADS];

// Make a new LWP+KLT pair in p that starts in user mode at pc with sp and a0.
// Returns NULL when max_threads is reached or memory is short.
struct lwp *lwp_alloc(struct proc *p, uint64 pc, uint64 sp, uint64 a0);
extern int lwp_alloc_delay, schedctl_delay;   // kdebug test delays, in ticks (0: off)
extern int lwp_delayed_allocs;                // LWPs added under lwp_alloc_delay
extern int lwp_start_wait;                    // kdebug KD_LWP_START_WAIT, in ticks (0: off)
extern int lwp_allocs;                        // kdebug KD_LWP_ALLOCS
void lwp_test_delay(int ticks);
void lwp_start_test_wait(struct lwp *l);      // lwkt_schedule of a new LWP with start_wait
static inline struct lwp *curlwp(void) { return curklt()->lwp; }
int  lwp_killed(struct lwp *l);       // must it end at the next chance?
// Must a signal-interruptible wait give up (killed, or a signal ready for l)?
int  lwp_interrupted(struct lwp *l);
void lwp_exit(void) __attribute__((noreturn));
void lwp_offcpu(struct lwp *l);       // an ended LWP has left its CPU for good
int  lwp_join(int id);
// Release an ended, off-CPU LWP: unlink it from its process and send its
// KLT to the death row. Caller holds p->lock.
void lwp_release(struct lwp *l);
// Called before returning to user mode: time slicing, killed checks.
void lwp_userret(void);
int  lwp_userret_pending(struct lwp *l);   // re-checked with interrupts off before sret
