// The preemption frame: the user registers of an LWP at the moment a kick
// (lwp_kick) was delivered to it. The kernel writes it on the LWP's user
// stack and calls the process's preemption handler with its address;
// lwp_resume(frame) loads the registers back and continues where the LWP
// was interrupted. The order is that of struct trapframe from epc on, so
// the kernel copies it in one piece. See kernel/proc/kick.c.
#pragma once
#include "uapi/types.h"

struct uframe {
  uint64 epc;                                // pc to continue at
  uint64 ra, sp, gp, tp;
  uint64 t0, t1, t2;
  uint64 s0, s1;
  uint64 a0, a1, a2, a3, a4, a5, a6, a7;
  uint64 s2, s3, s4, s5, s6, s7, s8, s9, s10, s11;
  uint64 t3, t4, t5, t6;
};

#define UFRAME_GAP 128   // bytes left untouched below the interrupted sp
