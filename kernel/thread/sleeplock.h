// Sleep locks: long-term locks (inodes, disk buffers) whose holder may block.
// Adaptive (lab adaptive): a thread that finds one held spins while the
// holder runs on another CPU, and sleeps otherwise.
#pragma once
#include "lib/spinlock.h"

struct lockstat;

struct sleeplock {
  unsigned int locked;
  struct spinlock lk;     // protects this structure
  const char *name;
  struct klt *holder;
  struct lockstat *cls;   // counters of its class (all locks of this name)
};

void sleeplock_init(struct sleeplock *lk, const char *name);
void sleeplock_acquire(struct sleeplock *lk);
void sleeplock_release(struct sleeplock *lk);
int  sleeplock_holding(struct sleeplock *lk);
