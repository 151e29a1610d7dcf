// Signals inside the kernel (kernel/proc/signal.c): posting, the return-to-
// user delivery, and what the rest of the kernel asks about them.
#pragma once
#include "uapi/types.h"
#include "uapi/signal.h"
#include "proc/proc.h"
#include "uapi/uframe.h"

struct cpu;

#define SIGBIT(sig) (1ull << (sig))
// Every signal a mask may hold: 1 .. NSIG-1 but SIGKILL.
#define SIG_BLOCKABLE (((1ull << NSIG) - 2) & ~SIGBIT(SIGKILL))

// What a caught signal leaves on the user stack, 16-byte aligned, at least
// UFRAME_GAP bytes below the interrupted sp; the handler starts with sp at
// the frame. sigreturn(frame) reads it back. The layout is the contract
// between delivery (proc/sigdeliver.c) and sigreturn (proc/signal.c).
struct sigframe {
  struct uframe regs;   // the interrupted user registers
  uint64 mask;          // the mask to restore
  uint64 sig;
};

// Does handler value h catch the signal (neither SIG_DFL nor SIG_IGN)?
static inline int sig_caught(uint64 h)
{
  return h != (uint64)SIG_DFL && h != (uint64)SIG_IGN;
}

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

// proc/sigdeliver.c (lab signals).
// A process-directed bit was just set in p->sigpending: make exactly one
// LWP that does not block it take it, preferring one that runs user code,
// else one in a signal-interruptible sleep (whose call then fails for it).
// Returns the CPU to interrupt once p->lock is dropped, or 0. (held: p->lock)
struct cpu *sig_tell_taker(struct proc *p, uint64 bit);
// A bit that l does not block is now in l->sigpending: make l notice it.
// Returns the CPU to interrupt once p->lock is dropped, or 0. (held: p->lock)
struct cpu *sig_nudge(struct lwp *l);
// Take one ready signal at the return to user mode: run its handler there,
// or end the process for a fatal one (lwp_userret calls it). Afterwards
// sig_ready(l) holds only for signals still left for later.
void sig_deliver(struct lwp *l);
// The frame of sig does not fit below l's user sp: end the process, saying so.
void sig_no_room(struct lwp *l, int sig);
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
