// Sleep locks: long-term locks (inodes, disk buffers) whose holder may block.
#pragma once
#include "lib/spinlock.h"

struct sleeplock {
  unsigned int locked;
  struct spinlock lk;     // protects this structure
  const char *name;
  struct klt *holder;
};

void sleeplock_init(struct sleeplock *lk, const char *name);
void sleeplock_acquire(struct sleeplock *lk);
void sleeplock_release(struct sleeplock *lk);
int  sleeplock_holding(struct sleeplock *lk);
