// PLIC programming (QEMU virt layout): per-source priority, and per-context
// enable bits, threshold and claim/complete, with S-mode context 2*hart+1.
#include "dev/plic.h"
#include "arch/memlayout.h"
#include "thread/cpu.h"
#include "uapi/types.h"

#define CTX(h)          (2 * (h) + 1)
#define PRIORITY(irq)   ((volatile uint32 *)(PLIC + 4 * (irq)))
#define ENABLE(h)       ((volatile uint32 *)(PLIC + 0x2000 + 0x80 * CTX(h)))
#define THRESHOLD(h)    ((volatile uint32 *)(PLIC + 0x200000 + 0x1000 * CTX(h)))
#define CLAIM(h)        ((volatile uint32 *)(PLIC + 0x200004 + 0x1000 * CTX(h)))

void plic_init(void)
{
}

void plic_init_hart(void)
{
  *THRESHOLD(cpuid()) = 0;
}

void plic_enable(int irq)
{
  *PRIORITY(irq) = 1;
  ENABLE(boot_hart)[irq / 32] |= 1u << (irq % 32);
}

int plic_claim(void)
{
  return *CLAIM(cpuid());
}

void plic_complete(int irq)
{
  *CLAIM(boot_hart) = irq;
}
