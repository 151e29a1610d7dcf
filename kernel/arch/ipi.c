// The IPI doorbell. Owns how a hart raises another hart's supervisor
// software interrupt (SSIP), and nothing about what the interrupt means
// (thread/ipiq.c, lib/spinlock.c).
//
// Two ways, chosen once at boot from the device tree. With an ACLINT SSWI
// device (the RISC-V ACLINT specification; QEMU's `-machine virt,aclint=on`)
// each hart has a SETSSIP register: a store of 1 raises that hart's SSIP
// directly, so a doorbell is one store here and one S-mode trap there.
// Without it the kernel asks the SBI (sbi_send_ipi): an ecall into OpenSBI,
// which raises the target's machine software interrupt, and OpenSBI's M-mode
// handler on the target sets its SSIP. That is about 1,500 guest
// instructions per doorbell on the two harts together, more than a whole
// local pipe round trip's switch (docs/perf.md, "Cross-CPU paths").
// The receiving side is the same either way: SSIP, cleared in sip by
// ipiq_process.
#include "arch/ipi.h"
#include "arch/fdt.h"

volatile uint32 *ipi_setssip;

void ipi_init(uint64 dtb)
{
  ipi_setssip = (volatile uint32 *)fdt_find_reg(dtb, "riscv,aclint-sswi");
}

uint64 ipi_mmio(void)
{
  return (uint64)ipi_setssip;
}
