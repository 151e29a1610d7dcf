// Signals: the numbers, the special handlers and the sigprocmask modes that
// user programs and the kernel share (the fixed interface of lab signals,
// see docs/signals.md). A set of signals is a uint64 with bit 1ull << sig.
#pragma once
#include "uapi/types.h"

#define SIGKILL  9     // ends the process; cannot be caught, ignored or blocked
#define SIGUSR1 10
#define SIGUSR2 12
#define SIGALRM 14     // alarm() ran out
#define SIGTERM 15
#define SIGCHLD 17     // a child ended; ignored unless caught
#define NSIG    32     // valid numbers are 1 .. NSIG-1

typedef void (*sighandler_t)(int);
#define SIG_DFL ((sighandler_t)0)   // the default action: SIGCHLD ignored, others end the process
#define SIG_IGN ((sighandler_t)1)   // discard the signal

#define SIG_BLOCK   0   // sigprocmask: add set to the mask
#define SIG_UNBLOCK 1   //              take set out of the mask
#define SIG_SETMASK 2   //              the mask becomes set

// The one reading of `how`, for the kernel's sigprocmask and the library's
// uthread_sigmask alike: is it one of the three, and what mask it makes.
static inline int sigmask_how_ok(int how)
{
  return how == SIG_BLOCK || how == SIG_UNBLOCK || how == SIG_SETMASK;
}

static inline uint64 sigmask_apply(uint64 mask, int how, uint64 set)
{
  if (how == SIG_BLOCK)
    return mask | set;
  if (how == SIG_UNBLOCK)
    return mask & ~set;
  return set;
}
