// Scheduler event tracing: a per-CPU ring of timestamped events (switches,
// wake-ups, IPIs, preemptions, blocking) for the timeline tool. Recording
// is a few stores when on, one test when off, and nothing when the kernel
// is built with KCFLAGS=-DNO_TRACE.
#pragma once
#include "uapi/trace.h"

struct klt;
#ifdef NO_TRACE
static inline int trace_enabled(void) { return 0; }
static inline void trace_event(int type, struct klt *t) { (void)type; (void)t; }
static inline void trace_switch(struct klt *from, struct klt *to) { (void)from; (void)to; }
static inline void trace_ipi(int from, int to) { (void)from; (void)to; }
static inline void trace_upcall(struct klt *t, int type) { (void)t; (void)type; }
static inline void trace_signal(struct klt *t, int sig) { (void)t; (void)sig; }
#else
extern volatile int trace_on;
static inline int trace_enabled(void) { return trace_on; }
void trace_record(int type, struct klt *t, int other);
static inline void trace_event(int type, struct klt *t) { if (trace_on) trace_record(type, t, 0); }
void trace_record_ipi(int from, int to);
static inline void trace_switch(struct klt *from, struct klt *to)
{
  if (trace_on)
    trace_record(TR_SWITCH, to, *(int *)from);   // struct klt starts with its id
}
static inline void trace_ipi(int from, int to) { if (trace_on) trace_record_ipi(from, to); }
static inline void trace_upcall(struct klt *t, int type) { if (trace_on) trace_record(TR_UPCALL, t, type); }
static inline void trace_signal(struct klt *t, int sig) { if (trace_on) trace_record(TR_SIGNAL, t, sig); }
#endif
int trace_control(int cmd, uint64 uaddr, int n);   // start, stop, read (system call)
