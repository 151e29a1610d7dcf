// Scheduler activations, the library's effects (lab upcalls): what each of
// the kernel's events does to the library's records. The upcall handler
// that reads the ring and calls these is user/lib/uthread_upcall.c (the
// lab's student file), through the ulib_* entry points of
// user/lib/uthread_impl.h; the kernel side is kernel/proc/upcall.c and
// kernel/proc/activation.c, the design docs/upcalls.md. Owns no state: it
// marks LWP records blocked or released (under ult_table_lock where their
// in_use changes) and readies threads the kernel unblocked. Does not read
// the ring.
#include "user/lib/uthread_core.h"

int ulib_ready(void)
{
  return ult_ready;
}

// Where a replacement activation starts: the boot entry's variant that
// does not count it as one more serving LWP (uthread_level.c).
void ulib_upcall_entry(uint64 *entry, uint64 *arg, uint64 *stack, uint64 *wake_word)
{
  ulevel_upcall_entry(entry, arg, stack);
  *wake_word = (uint64)ult_work_word();
}

int ulib_lwp_blocked(int lwpid, int tid)
{
  if (ult_test_hook)
    ult_test_hook(ULT_HOOK_LWP_BLOCKED, 0, tid);   // upctest pollers holds a reader here
  struct ult_lwp *l = ult_lwp_by_id(lwpid, 0, tid);
  if (l == 0 || tid == NO_TID)
    return -1;
  l->in_kernel = 1;                  // ult_kick_choose() leaves it alone now
  ult_kick_cancel(l);                // a kick on its way there will never land
  return 0;
}

// A thread the kernel unblocked starts here when a scheduler picks it, on
// its own stack just below the frame the kernel wrote: it leaves the library
// as it was when it blocked, then reloads every register from the frame
// (lwp_resume keeps tp, which names this LWP's record).
static void upcall_resume(void)
{
  struct ult *self = current_thread();
  struct uframe *f = (struct uframe *)self->resume_frame;
  switched_in(this_lwp(), self);
  lib_leave(self->resume_in_lib);
  lwp_resume(f);
}

int ulib_thread_resume_at(int tid, uint64 frame, int lwpid)
{
  struct ult_lwp *l = ult_lwp_by_id(lwpid, 1, tid);
  if (tid < 0 || tid >= UTHREAD_MAX || l == 0 || l->current != &ult_threads[tid])
    return -1;
  struct ult *t = &ult_threads[tid];
  t->resume_frame = frame;
  t->resume_in_lib = l->in_lib;      // l is parked in the kernel: nothing moves it
  t->ctx = (struct ult_context){ .ra = (uint64)upcall_resume,
                                 .sp = frame };   // below the frame: it stays intact
  return 0;
}

void ulib_make_runnable(int tid)
{
  ult_make_runnable(&ult_threads[tid]);
}

int ulib_lwp_released(int lwpid)
{
  struct ult_lwp *l = ult_lwp_by_id(lwpid, 1, NO_TID);
  if (l == 0)
    return -1;
  set_current(l, 0);
  l->in_kernel = 0;
  l->lwpid = -1;                     // the kernel reuses the id for a spare: forget it
  spin_lock(&ult_table_lock);
  l->in_use = 0;                     // keeps its scheduler stack for the next LWP
  spin_unlock(&ult_table_lock);
  return 0;
}
