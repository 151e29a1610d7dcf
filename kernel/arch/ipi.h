// The IPI doorbell: raising other harts' supervisor software interrupt
// (what they do then is thread/ipiq.c's). How: arch/ipi.c.
#pragma once
#include "uapi/types.h"
#include "arch/sbi.h"

extern volatile uint32 *ipi_setssip;   // the ACLINT SSWI: SETSSIP of hart h at [h]; 0: none

void   ipi_init(uint64 dtb);   // boot hart, first thing: is there an ACLINT SSWI?
uint64 ipi_mmio(void);         // its registers' page, for vm_init to map; 0: none

// Raises the SSIP of each hart h whose bit h is set. Inline: a wake-up on
// another CPU rings once (ipiq_ring), and the store is all it takes.
static inline void ipi_raise(uint64 harts)
{
  volatile uint32 *setssip = ipi_setssip;
  if (setssip == 0) {
    sbi_send_ipi(harts, 0);
    return;
  }
  asm volatile("fence w, o" ::: "memory");   // the messages before the doorbell
  for (int h = 0; harts; h++, harts >>= 1)
    if (harts & 1)
      setssip[h] = 1;
}
