// The scheduler trace records as the trace system call hands them out
// (kernel/thread/trace.c writes them, user/bin/trace.c prints them).
#pragma once
#include "uapi/types.h"

#define TRACE_SIZE   2048     // records kept per CPU (the newest)
#define TRACE_START  1        // trace(TRACE_START, 0, 0): clear the rings, record
#define TRACE_STOP   2        // trace(TRACE_STOP, 0, 0)
#define TRACE_READ   3        // trace(TRACE_READ, buf, cpu << 16 | max): copy a ring

enum trace_type { TR_SWITCH = 1, TR_WAKE, TR_IPI, TR_PREEMPT, TR_BLOCK, TR_UPCALL, TR_SIGNAL };

struct trace_rec {
  uint64 time;        // time CSR
  uint8  type;        // enum trace_type
  uint8  pri;         // priority of the thread concerned
  uint16 klt;         // its id (for TR_IPI: the sender CPU)
  uint16 other;       // TR_SWITCH: the thread switched from; TR_IPI: target CPU;
                      // TR_UPCALL: the event type it posted (uapi/upcall.h);
                      // TR_SIGNAL: the signal delivered to it (uapi/signal.h)
  uint16 lwp;         // LWP id + 1 if the thread carries one, else 0
  int32_t pid;        // its process, 0 for a kernel-only thread
  int32_t utid;       // the user thread its library reports (lwp_tidword), else -1
};
