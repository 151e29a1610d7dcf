// Inside the uthread library: what user/lib/uthread.c offers the upcall
// handler in user/lib/uthread_upcall.c (lab upcalls). Not for programs.
#pragma once
#include "uapi/types.h"

int  ulib_ready(void);                 // uthread_init has run
void ulib_lock(int *l);                // the library's spinlock
void ulib_unlock(int *l);
// What upcall_register needs: the replacements' entry, its argument and
// stack, and the word idle LWPs wait on (the kernel bumps and wakes it).
void ulib_upcall_entry(uint64 *entry, uint64 *arg, uint64 *stack, uint64 *wake_word);
// BLOCKED: LWP lwpid is in the kernel with thread tid; 0, or -1 if the
// library knows no such LWP running tid.
int  ulib_lwp_blocked(int lwpid, int tid);
// UNBLOCKED: thread tid, held by the blocked LWP lwpid, resumes from the
// frame the kernel wrote, on whichever LWP picks it next; 0 or -1.
int  ulib_thread_resume_at(int tid, uint64 frame, int lwpid);
void ulib_make_runnable(int tid);      // onto the run queue (wakes an idle LWP)
// RELEASED: the blocked LWP lwpid left for good: its record is free; 0 or -1.
int  ulib_lwp_released(int lwpid);
// The upcall handler (uthread_upcall.c): read and act on every event in the
// ring. Schedulers call it before they look for work and after they wake.
void uthread_upcall_poll(void);
