// Interrupt threads. All device interrupts are routed to the boot hart,
// which owns one interrupt thread per IRQ. The trap handler claims the IRQ
// from the PLIC and schedules the thread; the thread runs the driver's
// handler and then completes the IRQ, re-enabling it.
#include "thread/ithread.h"
#include "thread/lwkt.h"
#include "thread/cpu.h"
#include "dev/plic.h"
#include "lib/printf.h"

#define NIRQ 64

static struct ithread {
  struct klt *klt;
  void (*handler)(void);
  volatile int pending;
} ithreads[NIRQ];

static void ithread_main(void *arg)
{
  struct ithread *it = arg;
  int irq = it - ithreads;
  for (;;) {
    while (it->pending) {
      it->pending = 0;
      it->handler();
      plic_complete(irq);
    }
    lwkt_block(&it->pending);
  }
}

void ithread_register(int irq, const char *name, void (*handler)(void))
{
  assert(irq > 0 && irq < NIRQ && ithreads[irq].klt == 0);
  struct ithread *it = &ithreads[irq];
  it->handler = handler;
  it->klt = klt_create(name, ithread_main, it, PRI_INT, &cpus[boot_hart]);
  assert(it->klt);
  it->klt->flags |= KLT_INTERRUPT;
  lwkt_schedule(it->klt);
  plic_enable(irq);
}

void ithread_dispatch(int irq)
{
  if (irq <= 0 || irq >= NIRQ || ithreads[irq].klt == 0) {
    plic_complete(irq);
    return;
  }
  ithreads[irq].pending = 1;
  lwkt_schedule(ithreads[irq].klt);
}
