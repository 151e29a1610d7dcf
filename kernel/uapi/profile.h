// The sampling profiler's interface (kernel/thread/profile.c, the profile
// system call; user/bin/prof.c reads it out, tools/profile/ makes the table).
#pragma once
#include "uapi/types.h"

#define PROF_START 1   // clear and start: one sample every n time-CSR units per hart
#define PROF_STOP  2   // stop sampling
#define PROF_READ  3   // copy up to n samples (struct prof_sample) to buf; returns how many
#define PROF_NAMES 4   // copy up to n struct prof_name to buf; returns how many
#define PROF_LOST  5   // returns the samples dropped because the buffer was full

// One sample: the PC a timer interrupt found on a hart.
struct prof_sample {
  uint64 pc;
  int pid;          // the process whose code ran (0: kernel-only thread)
  uint16 cpu;
  uint8 user;       // 1: pc is a user address of pid, 0: a kernel address
  uint8 late;       // 1: due while interrupts were off, so taken where they came back on
};

// The program a pid ran when it was first sampled (its ELF: build/bin/<name>).
struct prof_name {
  int pid;
  char name[20];
};
