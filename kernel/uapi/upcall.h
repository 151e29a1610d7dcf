// Scheduler activations (lab upcalls): the area a process shares with the
// kernel through upcall_register(area), and the events the kernel puts in
// its ring. The kernel side is kernel/proc/upcall.c (given machinery) and
// kernel/proc/activation.c (what an activation does when it blocks and
// wakes); the library side is user/lib/uthread_upcall.c. docs/upcalls.md
// tells the whole story with a sequence diagram.
//
// The ring is single-producer (the kernel, serialised per process) and
// single-consumer (the library, under its own lock). Indexes run freely and
// wrap at 2^32; slot i is ring[i % UPC_RING]. The kernel writes an event, then
// head; the library reads events below head, then writes tail. The ring
// never loses an event: a poster that finds it full WAITS in the kernel until
// the library moves tail (only PREEMPTED, which is advice, is COALESCED into
// `coalesced` instead, so that an activation never waits for itself).
#pragma once
#include "uapi/types.h"

// Event types (after NetBSD's SA_UPCALL_* and Anderson et al.).
#define UPC_NEWLWP     1   // lwpid: a fresh activation starts serving (it replaces `arg`)
#define UPC_PREEMPTED  2   // lwpid was switched off its CPU while running tid, and other user code
                           // ran there meanwhile (tid stays on it)
#define UPC_BLOCKED    3   // lwpid blocked in the kernel while running tid
#define UPC_UNBLOCKED  4   // tid's system call finished; its registers are at `frame`
#define UPC_RELEASED   5   // lwpid left the process's service (its record may be reused)

#define UPC_RING       32  // events in the ring
#define UPC_RESERVE    8   // slots only replacements may fill (see upcall.c)

struct upcall_event {
  uint32 seq;       // 0, 1, 2, ...: the kernel's posting order, without gaps
  uint32 type;      // UPC_*
  int    lwpid;     // the LWP the event is about
  int    tid;       // the user thread (from the LWP's lwp_tidword), or -1
  uint64 frame;     // UNBLOCKED: user address of a struct uframe (uapi/uframe.h)
                    //   on tid's own stack, for lwp_resume(frame)
  int    arg;       // NEWLWP: the blocked LWP it replaces
  int    pad;
};

struct upcall_area {
  // Written by the library before upcall_register; the kernel copies them.
  uint64 entry;              // a new activation starts at entry(arg, its LWP id, the word it
  uint64 arg;                //   registered with lwp_tidword or 0: docs/upcalls.md) ...
  uint64 stack;              // ... with sp = stack (shared: the entry code serialises)
  uint64 wake_word;          // an int the kernel increments and futex_wakes after posting
  // The ring.
  volatile uint32 head;      // written by the kernel only
  volatile uint32 tail;      // written by the library only
  volatile uint32 kwait;     // a poster waits for room: futex_wake(&tail) after moving tail
  volatile uint32 coalesced; // PREEMPTED events folded into this count (ring nearly full)
  struct upcall_event ring[UPC_RING];
};

// kdebug(KD_UPCALL_STATS, &s): the calling process's activation counters.
struct upcall_kstats {
  int    on;          // upcalls registered and on
  int    inuser;      // serving LWPs of the process in user mode now (counted while registered)
  int    maxuser;     // the most at once since registration or KD_UPCALL_RESET
  int    spares;      // LWP/KLT pairs parked in the process's cache
  int    blocked;     // activations blocked in the kernel now
  int    pad;
  uint64 posted;      // events posted
  uint64 waits;       // times a poster waited for room in the ring
  uint64 replaced;    // blocks that got a replacement
  uint64 noreplace;   // blocks with no spare to be had (blocked as without upcalls)
};
