// The schedctl entry: one per LWP, in a page per process shared between the kernel (which writes it
// at every context switch) and the LWP's user code (which only reads it).
#pragma once
#include "uapi/types.h"

#define SC_FREE    0   // page not in use
#define SC_ONPROC  1   // the LWP runs on a CPU now
#define SC_OFFPROC 2   // the LWP is runnable or blocked, not on a CPU

// 16 bytes, so one page holds the entries of every KLT slot (MAX_THREADS).
struct schedctl {
  volatile uint32 sc_state;     // SC_ONPROC or SC_OFFPROC
  volatile uint32 sc_cpu;       // hart it runs (or last ran) on
  volatile uint64 sc_switches;  // times it was switched onto a CPU
};
