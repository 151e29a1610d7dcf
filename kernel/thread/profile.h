// The sampling profiler: records the PC each timer interrupt finds, while on.
#pragma once
#include "uapi/types.h"

extern volatile uint64 prof_interval;   // time-CSR units between samples; 0 = off
struct cpu;
void profile_sample(uint64 pc, int user, int late);   // timer interrupt, interrupts off
uint64 profile_next_gap(struct cpu *c);       // time to c's next sample
int  profile_control(int cmd, uint64 uaddr, int n);   // the profile system call
