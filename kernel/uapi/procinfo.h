// What procinfo() reports about processes and their LWPs (used by ps).
#pragma once
#include "uapi/types.h"

#define PI_NAMELEN 16

struct lwpinfo {
  int    lwpid;       // id within the process
  int    kltid;       // id of its kernel-level thread
  int    pri;         // current LWKT priority
  int    state;       // KLT state (see kernel/thread/klt.h)
  int    cpu;         // owning CPU
  uint64 vcsw;        // voluntary switches (blocked)
  uint64 ivcsw;       // involuntary switches (preempted)
};

struct procinfo {
  int    pid;
  int    ppid;
  int    state;       // 1 = alive, 2 = zombie
  int    nlwp;        // LWPs described in lwps[] (at most 8 shown)
  int    concurrency; // set_concurrency level
  uint64 size;        // user memory bytes
  char   name[PI_NAMELEN];
  struct lwpinfo lwps[8];
};
