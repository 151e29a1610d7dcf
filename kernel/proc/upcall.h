// Scheduler activations (lab upcalls), the kernel side. upcall.c owns the
// registration, the event ring and its waits, making new spare LWP/KLT
// pairs, the hooks and the counters; activation.c (the lab) owns the spare
// cache and what an activation does when it blocks in the kernel and when
// it wakes. See docs/upcalls.md.
#pragma once
#include "uapi/types.h"
#include "lib/spinlock.h"
#include "thread/lwp.h"

struct proc;
struct lwp;

// Per-process state (struct proc embeds one as p->upc).
struct upcall_proc {
  struct spinlock lock;   // the ring (head, seq), the spare cache; a leaf lock
  uint64 area;            // user address of the registered struct upcall_area, or 0
  int on;                 // BLOCKED events wanted (upcall_register(0) clears it)
  uint64 entry, arg, stack, wake_word;   // copied from the area at registration
  uint32 head, seq;       // the kernel's own copies: the user cannot move them
  struct lwp *spares;     // parked spare LWPs (linked through upc.next): activation.c's
  int nspare;             // on that list
  struct lwp *last;       // the LWP announced last (activation.c's hint; may be stale)
  int announce_delay;     // kdebug KD_UPCALL_DELAY: ticks a replacement waits before it announces (-1: held)
  int seq_gap;            // kdebug KD_UPCALL_GAP: seq numbers the next post skips
  int spare_delay;        // kdebug KD_SPARE_DELAY: ticks the next new spare waits once marked serving
  int room_wait;          // kdebug KD_UPCALL_ROOM_WAIT: ticks a poster waits for room before it looks again (0: 1)
  int inuser, maxuser;    // LWPs in user mode now, the most at once
  uint64 posted, waits, replaced, noreplace;
  int short_told;         // spares_short said which limit stopped the spares
};

// lwp->upc.state
#define UPC_LWP_ACTIVE  0   // an ordinary LWP (or an activation running user code)
#define UPC_LWP_BLOCKED 1   // blocked in the kernel; a replacement serves in its place
#define UPC_LWP_SPARE   2   // parked in the process's cache

#define UPC_SPARES   2    // spares the cache is refilled to
#define UPC_SPARES_KEEP 8 // a woken LWP beyond this many spares ends instead of parking

// ---- given machinery (upcall.c) ----
void upcall_proc_init(struct proc *p);
void upcall_forget(struct proc *p, struct lwp *self);   // fork, exec: no area, no spares, counters 0
struct upcall_area;
// sys_upcall_register (syslwp.c), with a copy of the area whose addresses it checked.
int  upcall_register(struct proc *p, uint64 va, const struct upcall_area *a);
// The blocking path (sleepq.c) calls this before an LWP of a process with
// upcalls sleeps; the return to user (lwp.c) calls upcall_userret().
void upcall_sleeping(struct lwp *l);
void upcall_userret_work(struct lwp *l);                 // a blocked LWP woke, or a replacement announces
// Inline: every return to user mode asks, and nearly always there is nothing to do.
static inline void upcall_userret(struct lwp *l)
{
  if (l->upc.state == UPC_LWP_BLOCKED || l->upc.replaces)
    upcall_userret_work(l);
}
void upcall_preempted(struct lwp *l);                    // after an involuntary switch
int  upcall_kick(struct lwp *l);                         // sys_lwp_kick: mark l, unless it runs no thread
void upcall_count_user(struct lwp *l);                   // trap.c: into user mode
void upcall_count_kernel(struct lwp *l);                 //          out of it
int  upcall_stats(uint64 uaddr);                         // kdebug KD_UPCALL_STATS
void upcall_reset_max(void);                             // kdebug KD_UPCALL_RESET
int  upcall_set_delay(int ticks);                        // kdebug KD_UPCALL_DELAY
int  upcall_set_gap(int n);                              // kdebug KD_UPCALL_GAP
int  upcall_set_room_wait(int ticks);                    // kdebug KD_UPCALL_ROOM_WAIT
int  upcall_set_spare_delay(int ticks);                  // kdebug KD_SPARE_DELAY

// Helpers for activation.c.
int  upcall_thread_of(struct lwp *l);                    // tid from its lwp_tidword, or -1
void upcall_entry_regs(struct lwp *r);                   // r's user registers: a fresh start at the upcall entry
int  upcall_woken_here(struct lwp *l);                   // l woken, waiting for this CPU (u->lock held)
// Post ev[0..n) together, in order (the kernel fills in their seq): waits
// (kill-able) while fewer than n + reserve slots are free; 0 on success, -1
// if the process is dying or the area is gone.
struct upcall_event;
int  upcall_post(struct lwp *l, struct upcall_event *ev, int n, int reserve);
// (and uframe_push() in proc/kick.h: a thread's registers onto its own stack)

// ---- the lab (activation.c) ----
// The hooks: the blocking path, the return to user mode.
void activation_block(struct lwp *l);      // l is about to sleep in a system call
void activation_announce(struct lwp *r);   // r, a replacement, returns to user for the first time
void activation_unblock(struct lwp *l);    // l, blocked with a replacement, has finished its call
// The spare cache: a spare_refill()ed LWP joins it (p->lock held) before
// its KLT first runs; that KLT then waits there: 1 when taken to serve, 0
// when it must end.
void activation_spare_add(struct lwp *l);
int  activation_spare_wait(struct lwp *l);
