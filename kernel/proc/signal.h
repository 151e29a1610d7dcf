// Signals inside the kernel (kernel/proc/signal.c): posting, the return-to-
// user delivery, and what the rest of the kernel asks about them.
#pragma once
#include "uapi/types.h"
#include "uapi/signal.h"
#include "proc/proc.h"

#define SIGBIT(sig) (1ull << (sig))
// Every signal a mask may hold: 1 .. NSIG-1 but SIGKILL.
#define SIG_BLOCKABLE (((1ull << NSIG) - 2) & ~SIGBIT(SIGKILL))

// Post sig to process p (any LWP that does not block it takes it); 0, or
// -1 for a process that is not alive. Never for SIGKILL (proc_kill).
int  sig_post_proc(struct proc *p, int sig);
// A caught or fatal signal waits for l itself (its own or one handed to it),
// not blocked: a signal-interruptible sleep of l must end.
// (Inline: asked on every return to user mode and interruptible sleep.)
static inline int sig_ready_lwp(struct lwp *l)
{
  return (l->sigpending & ~l->sigmask) != 0;
}
// Anything l may take at its return to user mode (its own or its process's).
static inline int sig_ready(struct lwp *l)
{
  return ((l->sigpending | l->proc->sigpending) & ~l->sigmask) != 0;
}
// Take one ready signal at the return to user mode: run its handler there,
// or end the process for a fatal one (lwp_userret calls it).
void sig_deliver(struct lwp *l);
// An LWP of p has ended (marked dead): a signal pending for p that it was
// told to take goes to another LWP.
void sig_lwp_gone(struct proc *p);
// Called by the clock thread once per tick: post the alarms that are due.
void sig_alarms(uint64 now);
// A new process: default handlers, nothing pending, no alarm (proc_alloc).
void sig_proc_init(struct proc *p);
// A new process image: handlers back to SIG_DFL (exec; the mask, what is
// pending and the alarm stay).
void sig_exec(struct proc *p);
// fork: the child gets the parent's handlers (the mask goes with the LWP).
void sig_fork(struct proc *parent, struct proc *child);
