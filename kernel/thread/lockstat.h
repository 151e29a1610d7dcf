// Counters per class of kernel sleep lock (lockstat.c); the record is the
// one user programs read, struct lockstat in uapi/lockstat.h.
#pragma once
#include "uapi/lockstat.h"

// The class named name (created on first use; a full table gives "other").
struct lockstat *lockstat_class(const char *name);
// Count one acquisition: held = found held, slept = slept at least once.
void lockstat_count(struct lockstat *c, int held, int slept, uint64 spin_loops);
// Copy every class to the user array at uaddr; how many, or -1.
int lockstat_copyout(uint64 uaddr);
