// Time: the per-CPU timer tick (hardclock, in the trap) and the softclock
// interrupt thread that advances the system tick count, ends timed sleeps
// and runs the user scheduler's load balancing.
#pragma once
#include "uapi/types.h"

#define TIMEBASE_HZ 10000000              // the time CSR's rate (QEMU virt)
#define TIMER_INTERVAL (TIMEBASE_HZ / HZ)

void   clock_init(void);          // boot hart: start the softclock thread
void   clock_start_hart(void);    // arm this hart's timer
void   clock_profile_started(void);   // every hart: arm the timer for a sample now
void   clock_intr(void);          // timer interrupt on this hart: tick and/or profile sample
uint64 clock_ticks(void);
// Bench slicing: the timer also fires every `units` time units on a busy
// hart (0: off; see clock.c); returns the previous setting.
uint64 clock_bench_slice(uint64 units);
extern volatile uint64 bench_slice;   // the setting: the idle loop calls the
void   clock_idle_enter(void);        // three below only while it is on:
void   clock_idle_leave(void);        // around its wfi,
void   clock_idle_done(void);         // and when it switches to a thread
struct bench_times;
void   clock_bench_times(struct bench_times *bt);   // for kdebug KD_BENCH_TIMES
// A test's (kdebug, ktest_sleeplock.c): runs in each bench-slice interrupt,
// interrupts off. 0: none.
extern void (*clock_slice_hook)(void);
void   sleepq_timeouts(uint64 now);
