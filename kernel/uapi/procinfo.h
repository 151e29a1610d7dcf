// What procinfo() reports about processes and their LWPs (used by ps).
#pragma once
#include "uapi/types.h"

#define PI_NAMELEN 16

struct lwpinfo {
  int    lwpid;       // id within the process
  int    kltid;       // id of its kernel-level thread
  int    pri;         // current LWKT priority
  int    state;       // KLT state (see kernel/thread/klt.h)
  char   state_name[8]; // that state as a word: runq, run, sleep, ...
  char   cls[8];      // priority class: intr, soft, kern, ukern, user, idle
  int    cpu;         // owning CPU
  uint64 vcsw;        // voluntary switches (blocked)
  uint64 ivcsw;       // involuntary switches (preempted)
  int    upc_state;   // scheduler activations: 0 active, 1 blocked, 2 spare (kernel/proc/upcall.h)
  int    upc_tid;     // blocked: the user thread it holds; else -1
  uint64 sigmask;     // signals it blocks (bit 1 << sig, kernel/uapi/signal.h)
  uint64 sigpending;  // signals sent to it (or handed to it), not yet taken
};

struct procinfo {
  int    pid;
  int    ppid;
  int    state;       // 1 = alive, 2 = zombie
  int    nlwp;        // LWPs described in lwps[] (at most 8 shown)
  int    concurrency; // set_concurrency level
  uint64 size;        // user memory bytes
  uint64 sigpending;  // signals sent to the process, not yet taken by an LWP
  char   name[PI_NAMELEN];
  struct lwpinfo lwps[8];
};

// What kdebug(KD_CPU_STATS, buf) copies out per started CPU (for ps).
struct cpuinfo {
  int    id;                  // hart id
  int    nuser;               // user LWPs it owns
  uint64 switch_same_proc;    // LWP to LWP of one process: no satp write
  uint64 switch_cross_proc;   // to another process: satp written
  uint64 switch_kernel;       // to or from a kernel-only thread
  uint64 preempt;             // interrupt thread preempted the running one
  uint64 ipi_sent, ipi_recv;  // IPI messages
  uint64 migrations;          // LWPs moved away by the user scheduler
  uint64 user_entries;        // returns to user mode (any LWP): one ends every trap from user mode
  uint64 sig_nudges;          // IPIs run here to make an LWP running user code take a signal
};
