// The platform-level interrupt controller. Device IRQs are enabled only in
// the boot hart's S-mode context, so one CPU owns all interrupt threads.
#pragma once

void plic_init(void);
void plic_init_hart(void);
void plic_enable(int irq);
int  plic_claim(void);
void plic_complete(int irq);
