// Interrupt threads: a device interrupt only acknowledges the PLIC and wakes
// the device's interrupt thread; the handler runs in that thread, at
// interrupt priority, and may take locks and wake sleepers.
#pragma once

void ithread_register(int irq, const char *name, void (*handler)(void));
void ithread_dispatch(int irq);   // called by the trap handler
