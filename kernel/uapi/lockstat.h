// What kdebug(KD_LOCKSTAT, buf) reports: the counters of each class of kernel
// sleep lock (all locks initialised with one name form a class). Read by the
// `lockstat` command (user/bin/lockstat.c).
#pragma once
#include "uapi/types.h"

#define LOCKSTAT_MAX     16   // classes; later names share the last entry ("other")
#define LOCKSTAT_NAMELEN 16

struct lockstat {
  char   name[LOCKSTAT_NAMELEN];
  uint64 acquired;    // sleeplock_acquire calls
  uint64 spun;        // found it held and got it without sleeping
  uint64 slept;       // slept at least once before getting it
  uint64 spin_loops;  // re-checks of a held lock while spinning
};
