// Sleep queues: a KLT waits on a channel (any address) until another thread
// wakes that channel. Channels hash into buckets so a wake-up touches only
// the sleepers of its own bucket, never every thread in the system.
#pragma once

struct spinlock;

// Atomically release lk and sleep on chan; reacquire lk before returning.
// May return without a wake-up of chan (a kill wakes every sleeper of the
// process), so callers re-check their condition, and lwp_killed(), in a loop.
void sleepq_sleep(void *chan, struct spinlock *lk);
// Like sleepq_sleep, but gives up after ticks timer ticks (0 = never).
// Returns 0 when woken, -1 on timeout.
int  sleepq_sleep_timeout(void *chan, struct spinlock *lk, int ticks);
// Like sleepq_sleep_timeout, for waits a kill must end (pipes, futexes,
// wait, sleep, the console): does not sleep at all if the calling LWP has
// been told to end, so a kill racing with going to sleep is never lost.
int  sleepq_sleep_intr(void *chan, struct spinlock *lk, int ticks);
// Like sleepq_sleep_intr, for the waits a caught signal also ends (pipe,
// sleep, futex_wait, wait, lwp_join, the console): their callers return -1
// when lwp_interrupted(), and the handler runs on the way back to user mode.
int  sleepq_sleep_sig(void *chan, struct spinlock *lk, int ticks);
// Wake at most n KLTs sleeping on chan; returns how many were woken.
int  sleepq_wakeup_n(void *chan, int n);
// Wake every KLT sleeping on chan. Works from any CPU.
static inline void sleepq_wakeup(void *chan) { sleepq_wakeup_n(chan, 1 << 30); }
// Take klt off whatever channel it sleeps on and make it runnable (kill uses it).
struct klt;
void sleepq_abort(struct klt *t);
// The same for a sleepq_sleep_sig sleep only; 1 if it ended one (signals).
int  sleepq_abort_sig(struct klt *t);
// KD_SIG_ABORT_WAIT (uapi/kdebug.h): arm (ticks > 0) or disarm (0) the wait
// in sleepq_abort_sig for p's LWPs; 1 if an armed wait happened.
struct proc;
int  sleepq_abort_wait(struct proc *p, int ticks);
void sleepq_init(void);
