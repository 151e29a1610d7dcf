// Commands of kdebug(cmd, arg): test and teaching hooks into the kernel.
// Tests use them to reach states a user program could not otherwise force.
#pragma once
#include "uapi/types.h"

#define KD_CRASH_AFTER_WRITES 1  // power off before the arg-th next disk block write
#define KD_SET_MAX_THREADS    2  // set max_threads to arg (<= MAX_THREADS); returns old value
#define KD_GET_MAX_THREADS    3  // returns max_threads
#define KD_LIVE_THREADS       4  // returns KLTs alive now (not free, not on death row)
#define KD_FREE_PAGES         5  // returns free physical pages
#define KD_PREEMPT_TEST       6  // runs the in-kernel preemption test; 0 = passed
#define KD_CPU_STATS          7  // copy a struct cpuinfo per CPU to arg (NCPU of room); returns how many
#define KD_REMOTE_WAKE_TEST   8  // wakes a KLT on another CPU through an IPI message; 0 = passed
#define KD_DUMP               9  // the Ctrl-p dump
#define KD_FAIL_ALLOC        40  // arg > 0: the arg-th next page allocation fails (once);
                                 // arg 0: disarm; returns 1 if the armed failure happened
#define KD_CACHED_PAGES      41  // returns pages held by caches (death-row kernel stacks);
                                 // arg 1: give them back first
#define KD_IPIQ_FULL_TEST    50  // fills an IPI ring to a CPU spinning on a lock with interrupts off; 0 = passed
#define KD_COPY_DELAY        51  // arg > 0: every copy to or from user memory spins arg loops
                                 // between looking a page up and copying it (0: off, at most
                                 // 100000); racetests copyshrink
#define KD_LWP_ALLOC_DELAY   52  // arg ticks (0: off, at most 100): an LWP that adds an LWP to its
                                 // own process sleeps that long first, then until its other LWPs
                                 // are all asleep or ended (lab concurrency's tests); after 16
                                 // LWPs added so (counted from this call) such an add fails
#define KD_SCHEDCTL_DELAY    53  // arg ticks (0: off, at most 100): the schedctl system call sleeps
                                 // that long first (lab concurrency's tests: the boot stack)
#define KD_LWP_ALLOCS        54  // returns how many LWPs the kernel has made since boot (lab
                                 // concurrency's kill test: none after a kill)
#define KD_DOORBELL_TEST     55  // a CPU spinning for a lock must not owe another CPU's doorbell
                                 // (kernel/proc/ktest_doorbell.c); 0 = passed
#define KD_SIG_ABORT_WAIT    56  // arg ticks (1..100): the next sleepq_abort_sig that ends the sleep
                                 // of an LWP of the caller's process on another CPU then waits,
                                 // spinning, until that LWP sleeps again or arg ticks pass (lab
                                 // signals' sleeper test: a sleeper woken before its signal is its
                                 // own); 0: off. Returns 1 if the armed wait happened since armed
#define KD_LWP_START_WAIT    58  // arg ticks (0: off, at most 100): an LWP that lets a new LWP of
                                 // its own process run (lwkt_schedule) then waits until that one
                                 // has ended, at most arg ticks (lab concurrency: one that ends at once)
#define KD_REAPER_TEST       59  // one trim of a death row far past its keep (kernel/proc/ktest_reaper.c):
                                 // copies a struct reaper_trim to arg; 0, or -1
#define KD_IPIQ_NEST_TEST    60  // two CPUs each wait for room in its IPI ring to the other from inside a
                                 // drain (kernel/proc/ktest_ipiqnest.c); 0 = passed
#define KD_UPCALL_STATS      20  // copy the caller's struct upcall_kstats (uapi/upcall.h) to arg; 0 or -1
#define KD_UPCALL_RESET      21  // restart the caller's "most LWPs in user mode at once" count
#define KD_UPCALL_DELAY      22  // the caller's replacements wait arg ticks (0..100) before they
                                 // announce, or with -1 until it is set again: upctest events
                                 // makes a blocked LWP wake first
#define KD_UPCALL_GAP        23  // the caller's next posted event skips arg (1..100) seq numbers:
                                 // a gap its library must count in disorder (upctest pollers)
#define KD_UPCALL_ROOM_WAIT  25  // a poster of the caller's process that finds the ring full
                                 // looks again after arg ticks (1..100; 0: the usual 1) unless
                                 // the library's kwait wake-up comes first (upctest roundtrip)
#define KD_SPARE_DELAY       24  // the caller's next new spare waits arg ticks (0..100) once it is
                                 // marked serving, before it runs (uthreadtests spareserving)
#define KD_SLEEPLOCK_TEST    30  // in-kernel test of adaptive sleep locks (2 harts); 0 = passed
#define KD_LOCKSTAT          31  // copy a struct lockstat per sleep-lock class to arg
                                 // (LOCKSTAT_MAX of room); returns how many
#define KD_BENCH_SLICE       32  // timer interrupts every arg time units on busy harts (0 = off,
                                 // else 20..100000), for `lockbench`; returns the old setting
#define KD_BENCH_TIMES       33  // copy a struct bench_times to arg; 0 or -1

// What KD_BENCH_TIMES reports (`lockbench`, docs/adaptive.md).
struct bench_times {
  uint64 all_idle;   // time units every hart sat idle in wfi at once (counted while slicing is on)
  uint64 slices;     // bench-slice interrupts taken by all harts since KD_BENCH_SLICE
};

// What KD_REAPER_TEST reports (racetests reaper). W is a thread at
// PRI_KERN_USER queued on the reaper's CPU just before the reaper runs.
struct reaper_trim {
  uint64 doomed;       // kernel-only threads that ended at once (0: one hart, not run)
  uint64 deathrow;     // death-row entries when W was queued
  uint64 stacks;       // stacks the reaper freed before W ran
  uint64 trims;        // the reaper's passes that freed them
  uint64 shootdowns;   // TLB shootdowns the reaper's CPU made meanwhile
  uint64 waited;       // time units W waited (under -icount, 100 guest instructions each)
  uint64 failed;       // RT_* bits
};
#define RT_NOKLT     1   // a test thread could not be made
#define RT_NOT_DEAD  2   // the doomed threads did not all reach the death row in 300 ticks' time
