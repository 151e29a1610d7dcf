// Scheduler activations (lab upcalls): what an activation does when the user
// thread it runs blocks in the kernel, and when that thread's system call
// finishes. This file is the student's; the machinery it calls (the ring,
// the spare cache, the hand-off) is kernel/proc/upcall.c, described in
// kernel/proc/upcall.h and docs/upcalls.md.
//
// The invariant: with upcalls on at level n, at most n LWPs of the process
// run user code at once. A blocking activation hands its place to a spare;
// when it wakes, it does not go back to user mode with its thread: it gives
// the thread's registers to the library and parks in the cache.
#include "proc/upcall.h"
#include "proc/proc.h"
#include "proc/kick.h"
#include "thread/lwp.h"
#include "uapi/upcall.h"

// l, a serving LWP of a process with upcalls on, is about to sleep inside a
// system call (upcall_sleeping checked that). Runs on the way into the sleep,
// maybe with the sleeper's lock held: take nothing that may sleep, allocate
// nothing. If l is not running a user thread (the library parking) or no
// spare is to be had, do nothing: l simply blocks as without upcalls.
void activation_block(struct lwp *l)
{
  // LAB upcalls BEGIN
  int tid = upcall_thread_of(l);
  if (tid < 0)
    return;                         // the library's own parking: no event
  struct lwp *r = upcall_spare_take(l->proc);
  if (r == 0)
    return;                         // cache empty: block as without upcalls
  l->upc_tid = tid;
  l->upc_announced = 0;
  l->upc_state = UPC_LWP_BLOCKED;
  r->upc_replaces = l;              // r announces l's BLOCKED before it serves
  upcall_spare_start(r);
  // STUB
  //| // TODO (lab upcalls): if l runs a user thread (upcall_thread_of), take
  //| // a spare (upcall_spare_take), mark l UPC_LWP_BLOCKED holding that thread,
  //| // tell the spare whom it replaces, and start it (upcall_spare_start).
  //| (void)l;
  // LAB upcalls END
}

// r, a spare that replaces a blocked LWP (r->upc_replaces), is about to
// return to user mode at the library's upcall entry for the first time.
// Nothing is held: posting may wait for room in the ring.
void activation_announce(struct lwp *r)
{
  // LAB upcalls BEGIN
  struct lwp *l = r->upc_replaces;
  upcall_post(r, UPC_BLOCKED, l->id, l->upc_tid, 0, 0, 0);
  upcall_announced(l);              // l may now report its wake-up
  upcall_post(r, UPC_NEWLWP, r->id, -1, 0, l->id, 0);
  // STUB
  //| // TODO (lab upcalls): post BLOCKED for the LWP r replaces, let that LWP
  //| // know (upcall_announced), then post NEWLWP for r.
  //| (void)r;
  // LAB upcalls END
}

// l blocked with a replacement serving in its place, and its system call has
// finished (l->tf holds the thread's registers, the result in a0). Called at
// the return to user mode, holding nothing. Hand the thread to the library
// and park l in the cache; if l must end instead, just return.
void activation_unblock(struct lwp *l)
{
  // LAB upcalls BEGIN
  upcall_wait_announced(l);         // BLOCKED before UNBLOCKED, always
  uint64 frame = uframe_push(l, "upcall");
  if (frame == 0)
    return;                         // no room on its stack: the process was killed
  if (upcall_post(l, UPC_UNBLOCKED, l->id, l->upc_tid, frame, 0, UPC_RESERVE) < 0)
    return;
  if (upcall_post(l, UPC_RELEASED, l->id, -1, 0, 0, UPC_RESERVE) < 0)
    return;
  upcall_spare_park(l);
  // STUB
  //| // TODO (lab upcalls): wait until l's BLOCKED is in the ring, put the
  //| // thread's registers on its own stack (uframe_push), post UNBLOCKED and
  //| // RELEASED (leaving UPC_RESERVE slots for replacements), and park l.
  //| (void)l;
  // LAB upcalls END
}
