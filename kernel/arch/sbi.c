// The SBI calling convention (a7 = extension, a6 = function, a0-a5 = args,
// a0/a1 = error/value) and the few calls Spindle makes. Nothing else in the
// kernel issues ecall.
#include "arch/sbi.h"

#define SBI_EXT_BASE   0x10
#define SBI_EXT_TIME   0x54494D45
#define SBI_EXT_IPI    0x735049
#define SBI_EXT_HSM    0x48534D
#define SBI_EXT_SRST   0x53525354
#define SBI_LEGACY_PUTCHAR 0x01

static struct sbiret sbi_call(long eid, long fid, long a0, long a1, long a2, long a3)
{
  register long r_a0 asm("a0") = a0;
  register long r_a1 asm("a1") = a1;
  register long r_a2 asm("a2") = a2;
  register long r_a3 asm("a3") = a3;
  register long r_a6 asm("a6") = fid;
  register long r_a7 asm("a7") = eid;
  asm volatile("ecall"
               : "+r"(r_a0), "+r"(r_a1)
               : "r"(r_a2), "r"(r_a3), "r"(r_a6), "r"(r_a7)
               : "memory");
  return (struct sbiret){ r_a0, r_a1 };
}

void sbi_set_timer(uint64 stime)
{
  sbi_call(SBI_EXT_TIME, 0, stime, 0, 0, 0);
}

void sbi_send_ipi(uint64 hart_mask, uint64 hart_mask_base)
{
  sbi_call(SBI_EXT_IPI, 0, hart_mask, hart_mask_base, 0, 0);
}

int sbi_hart_start(uint64 hartid, uint64 addr, uint64 opaque)
{
  return sbi_call(SBI_EXT_HSM, 0, hartid, addr, opaque, 0).error;
}

int sbi_hart_status(uint64 hartid)
{
  struct sbiret r = sbi_call(SBI_EXT_HSM, 2, hartid, 0, 0, 0);
  return r.error ? -1 : r.value;
}

long sbi_probe(long eid)
{
  return sbi_call(SBI_EXT_BASE, 3, eid, 0, 0, 0).value;
}

void sbi_console_putchar(int c)
{
  sbi_call(SBI_LEGACY_PUTCHAR, 0, c, 0, 0, 0);
}

void sbi_shutdown(void)
{
  sbi_call(SBI_EXT_SRST, 0, 0, 0, 0, 0);
  for (;;)
    asm volatile("wfi");
}
