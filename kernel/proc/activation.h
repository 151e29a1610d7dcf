// The lab's own per-LWP state for scheduler activations (lab upcalls): what
// kernel/proc/activation.c keeps in each LWP beyond the fields the given
// code reads (struct lwp_upcall, kernel/thread/lwp.h, which embeds this as
// l->upc.act). Only activation.c reads or writes it; it starts zeroed with
// the LWP.
#pragma once

struct activation {
  // LAB upcalls BEGIN
  int go;           // a block took this spare: it serves at the upcall entry
  int announced;    // blocked: its BLOCKED event is in the ring
  int for_id;       // a replacement: the id of the LWP it replaces,
  int for_tid;      // and the thread that LWP holds (its BLOCKED event)
  int posted;       // a replacement that posted its announcement with its wake-up
  // STUB
  //| int unused;     // lab upcalls: what activation.c keeps per LWP
  // LAB upcalls END
};
