// IPI message queues: how one CPU asks another to run a function (schedule a
// thread, wake one, take a migrating LWP). One single-producer ring per
// (sender, receiver) pair, so no locks; SBI send_ipi rings the doorbell.
#pragma once
#include "uapi/types.h"

#define IPIQ_SIZE 64

typedef void (*ipi_func_t)(void *arg);

struct ipi_msg {
  ipi_func_t func;
  void *arg;
};

struct ipiq {
  volatile uint32 windex;        // written by the sender
  volatile uint32 rindex;        // written by the receiver
  struct ipi_msg msg[IPIQ_SIZE];
};

struct cpu;
// Run func(arg) on target: directly if it is this CPU, else as a message.
void ipiq_send(struct cpu *target, ipi_func_t func, void *arg);
// Raise the IPIs this CPU deferred while in a critical section (crit_exit).
void ipiq_ring(void);
// A test's (kdebug, ktest_doorbell.c): runs in ipiq_ring between taking the
// owed doorbells and raising them. 0: none.
extern void (*ipiq_ring_hook)(uint64 harts);
// Run the messages waiting for this CPU (software-interrupt handler).
void ipiq_process(void);
void ipiq_dump(void);
