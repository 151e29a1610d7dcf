// Time: the per-CPU timer tick (hardclock, in the trap) and the softclock
// interrupt thread that advances the system tick count, ends timed sleeps
// and runs the user scheduler's load balancing.
#pragma once
#include "uapi/types.h"

#define TIMER_INTERVAL (10000000 / HZ)   // time CSR runs at 10 MHz

void   clock_init(void);          // boot hart: start the softclock thread
void   clock_start_hart(void);    // arm this hart's timer
void   clock_profile_started(void);   // every hart: arm the timer for a sample now
void   clock_intr(void);          // timer interrupt on this hart: tick and/or profile sample
uint64 clock_ticks(void);
void   sleepq_timeouts(uint64 now);
