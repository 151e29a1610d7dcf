// Time: the per-CPU timer tick (hardclock, in the trap) and the softclock
// interrupt thread that advances the system tick count, ends timed sleeps
// and runs the user scheduler's load balancing.
#pragma once
#include "uapi/types.h"

#define TIMER_INTERVAL (10000000 / HZ)   // time CSR runs at 10 MHz

void   clock_init(void);          // boot hart: start the softclock thread
void   clock_start_hart(void);    // arm this hart's timer
void   hardclock(void);           // timer interrupt on this hart
uint64 clock_ticks(void);
void   sleepq_timeouts(uint64 now);
