// The LWKT scheduler: per-CPU fixed-priority run queues, thread switching,
// and the preemption rules. Only a thread's owning CPU queues or switches
// it; lwkt_schedule() from another CPU travels as an IPI message.
#pragma once
#include "thread/klt.h"
#include "thread/cpu.h"

void lwkt_schedule(struct klt *t);        // make t runnable, from any CPU
void lwkt_switch(void);                   // caller set cur->state; interrupts off
void lwkt_yield(void);                    // let equal or higher priority threads run
void lwkt_block(volatile int *pending);   // sleep until lwkt_schedule, unless *pending
void lwkt_maybe_preempt(void);            // end of a trap, crit_exit: run a waiting interrupt thread
void lwkt_idle_loop(void) __attribute__((noreturn));
// Move a user LWP's KLT that is queued on its CPU to another CPU (user scheduler).
void lwkt_migrate(struct klt *t, struct cpu *to);
struct cpu *lwkt_pick_cpu(const int *mine); // for a new user LWP: fewest of its process's (mine[cpu]), then of all
void lwkt_switch_finish(struct klt *prev);
// A scheduling invariant broke for t (lwkt.c, klt.c, sleepq.c): print t and who
// scheduled it last, and panic.
void lwkt_broken(struct klt *t, const char *what) __attribute__((noreturn));

// On the way back to user mode: the LWP drops to user priority and yields
// if anything more urgent waits, or if its time slice ended and another
// user LWP waits. Inline: every return to user mode asks, twice.
static inline int lwkt_user_resched_needed(void)
{
  struct cpu *c = mycpu();
  if (c->rq_mask >> (PRI_USER + 1))       // a queue above user priority is not empty
    return 1;
  return (c->reqflags & RQF_TICK) && (c->rq_mask & (1u << PRI_USER));
}
