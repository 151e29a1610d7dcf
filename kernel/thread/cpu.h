// Per-CPU state. A CPU's run queues, IPI inbox and counters are touched only
// by that CPU (other CPUs send it IPI messages instead).
#pragma once
#include "param.h"
#include "thread/klt.h"
#include "thread/ipiq.h"
#include "arch/riscv.h"

#define RQF_RESCHED   0x1   // a higher-priority thread waits: switch soon
#define RQF_TICK      0x2   // time slice of the user thread is over

struct proc;

struct cpu_stats {
  uint64 switch_same_proc;   // LWP to LWP of one process: page table kept
  uint64 switch_cross_proc;  // to another process: satp written, TLB flushed
  uint64 switch_kernel;      // to or from a kernel-only thread
  uint64 preempt;            // an interrupt thread preempted the current one
  uint64 ipi_sent;           // IPI messages sent from this CPU
  uint64 ipi_recv;           // IPI messages run on this CPU
  uint64 ipi_raised;         // doorbells rung (arch/ipi.c)
  uint64 ipi_room_turns;     // turns spent waiting for room in a ring to another CPU (ipiq.c)
  uint64 shootdowns;         // TLB shootdowns this CPU started (tlb.c)
  uint64 migrations;         // LWPs moved away by the user scheduler
  uint64 user_entries;       // returns to user mode (trap.c)
  uint64 sig_nudges;         // IPIs run here to make an LWP take a signal (proc/signal.c)
};

struct cpu {
  int id;                        // hart id
  int started;
  const char *volatile boot_stage; // how far this hart's start-up got (kernel/main.c)
  struct klt *cur;               // running KLT
  struct klt *idle;              // this CPU's idle KLT
  struct klt *rq_head[NPRI];     // run queues, one FIFO per priority
  struct klt *rq_tail[NPRI];
  uint32 rq_mask;                // bit p set when rq_head[p] is not empty
  int nuser;                     // user-level LWPs here, sleeping ones included
  volatile int critcount;        // critical-section depth
  volatile int reqflags;         // RQF_*
  int intr_depth;                // nested traps being handled
  struct ipiq ipiq[NCPU];        // inbox: one FIFO per sending CPU
  volatile uint32 ipimask;       // bit s: CPU s queued messages since the last look
                                 // (and rang: a doorbell is on its way)
  uint64 doorbells;              // harts owed an IPI when this critical section ends
  struct proc *loaded_proc;      // whose page table satp holds (NULL: kernel)
  uint64 ticks;                  // timer ticks seen by this CPU
  uint64 drained_tick;           // `ticks` when ipiq_process last ran (the dump)
  uint64 next_tick;              // time CSR value of this CPU's next tick
  uint64 next_sample;            // ... and of its next profiler sample (clock.c)
  uint64 prof_seed;              // the profiler's random gaps (profile.c)
  struct cpu_stats stats;
};

extern struct cpu cpus[NCPU];
extern int ncpu;                 // harts started
extern int boot_hart;            // the hart OpenSBI started us on

void cpu_enter(int hartid);      // first thing a hart does in C: point tp at its cpu

// In the kernel, tp always holds the address of this hart's struct cpu
// (cpu_enter), so finding it is one register move: nearly every kernel path
// asks, many times (an index, &cpus[hart id], cost a multiply and five more
// instructions each time).
static inline struct cpu *mycpu(void) { return (struct cpu *)r_tp(); }
static inline int cpuid(void) { return mycpu()->id; }
static inline struct klt *curklt(void) { return mycpu()->cur; }
