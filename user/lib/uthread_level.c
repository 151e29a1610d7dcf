// The library's side of the concurrency level (lab concurrency): how many
// LWPs serve the shared run queue. Owns the boot stack that every LWP the
// kernel adds starts on, its lock, the hand-over from that stack to an LWP
// record of the library's (user/lib/uthread_lwp.c), and the count of serving
// LWPs with the decision that a surplus one ends. It does not touch the run
// queue, the thread table or the records' fields: uthread_lwp.c offers it the
// few ult_boot_* and ulevel_* entry points of uthread_impl.h.
//
// The protocol with the kernel (kernel/proc/concurrency.c):
//  - concurrency_entry(entry, arg, stack_top) registers where the LWPs the
//    kernel adds start: at entry(arg) with sp = stack_top, all of them on the
//    one stack the library gave. The caller then serves the run queue.
//  - set_concurrency(n) makes the kernel start LWPs there until n serve; a
//    lower n is only recorded, and get_concurrency() reports it.
//  - uthread_boot_entry (uthread_switch.S) takes boot.lock before it touches
//    the stack, then calls boot.start (boot.upcall_start for a replacement
//    activation, lab upcalls) with boot.lock held.
//  - An LWP ends with lwp_exit; the kernel releases it (it is detached).
#include "user/user.h"
#include "user/uthread.h"
#include "user/lib/uthread_impl.h"

#define BOOT_STACK 4096            // shared by the LWPs the kernel adds, one at a time

static void boot_lwp(void *bootp, int lwpid, int *tidword);
static void upcall_boot_lwp(void *bootp, int lwpid, int *tidword);
static void boot_lwp_as(int serving_lwp) __attribute__((noreturn));

// Offsets known to uthread_boot_entry (uthread_switch.S): lock 0, start 8,
// upcall_start 16.
static struct {
  int lock;                        // held by the one LWP that may use boot_stack
  void (*start)(void *, int, int *);          // an LWP set_concurrency added
  void (*upcall_start)(void *, int, int *);   // a replacement activation (lab upcalls)
} boot = { 0, boot_lwp, upcall_boot_lwp };
static char boot_stack[BOOT_STACK] __attribute__((aligned(16)));

void uthread_boot_entry(void *bootp);     // uthread_switch.S
void uthread_upcall_entry(void *bootp);

// The kernel gives a replacement its LWP id and the word it registered
// with lwp_tidword (user/lib/uthread_lwp.c takes that word's record back);
// an LWP set_concurrency added gets 0 for both.
static void boot_lwp(void *bootp, int lwpid, int *tidword)
{
  (void)bootp;
  ult_boot_given(lwpid, tidword);
  boot_lwp_as(1);
}

// A replacement activation (lab upcalls) takes over the count of the LWP
// that blocked.
static void upcall_boot_lwp(void *bootp, int lwpid, int *tidword)
{
  (void)bootp;
  ult_boot_given(lwpid, tidword);
  boot_lwp_as(0);
}

void ulevel_upcall_entry(uint64 *entry, uint64 *arg, uint64 *stack)
{
  *entry = (uint64)uthread_upcall_entry;
  *arg = (uint64)&boot;
  *stack = (uint64)(boot_stack + BOOT_STACK);
}

int ulevel_boot_held(void)
{
  return __atomic_load_n(&boot.lock, __ATOMIC_ACQUIRE) != 0;
}

// LAB concurrency BEGIN
// Serving LWPs: the first one, and those boot_lwp_as counted, less those
// that ended. Atomic: a booting LWP adds itself while idle ones, one at a
// time (ulevel_idle runs under the run queue's lock), decide to leave.
static int serving;

#define LEVEL_CHECK_TICKS 10       // an idle LWP with company re-reads the level this often

int ulevel_start(int n)
{
  serving = 1;
  if (concurrency_entry(uthread_boot_entry, &boot, boot_stack + BOOT_STACK) < 0 ||
      set_concurrency(n) < 0)
    return -1;
  return 0;
}

// Runs on boot_stack holding boot.lock. serving: the LWP adds to the
// level's count (0: a replacement activation, which is needed). The lock goes
// back only once the LWP has left the stack, or as its last store.
static void boot_lwp_as(int serving_lwp)
{
  struct ult_lwp *l = ult_boot_take(!serving_lwp);
  if (l == 0)
    ult_boot_leave(&boot.lock);    // no record or no memory: not needed after all
  if (serving_lwp)
    __atomic_add_fetch(&serving, 1, __ATOMIC_RELAXED);
  ult_boot_switch(l, ult_shared_lwp_loop, &boot.lock);
}

// A lone LWP never reads the level; one with company leaves while more serve
// than the level asks, and otherwise parks for a while only: nobody wakes an
// idle LWP when the level is lowered.
int ulevel_idle(void)
{
  if (serving == 1)
    return 0;
  if (serving > get_concurrency()) {
    __atomic_sub_fetch(&serving, 1, __ATOMIC_RELAXED);
    return -1;
  }
  return LEVEL_CHECK_TICKS;
}
// STUB
//| int ulevel_start(int n)
//| {
//|   return n == 1 ? 0 : -1;   // lab concurrency: see the handout, Part 1
//| }
//|
//| static void boot_lwp_as(int serving)
//| {
//|   (void)serving;
//|   ult_boot_leave(0);            // lab concurrency: see the handout, Part 1
//| }
//|
//| int ulevel_idle(void)
//| {
//|   return 0;                     // lab concurrency: see the handout, Part 2
//| }
// LAB concurrency END
