// Calls into the SBI firmware (OpenSBI): timer, IPIs, hart start, and
// system reset. The kernel runs in S-mode and reaches M-mode only
// through these.
#pragma once
#include "uapi/types.h"

struct sbiret { long error; long value; };

// HSM hart states (SBI specification, Hart State Management).
#define SBI_HSM_STARTED       0
#define SBI_HSM_STOPPED       1
#define SBI_HSM_START_PENDING 2

void sbi_set_timer(uint64 stime);
void sbi_send_ipi(uint64 hart_mask, uint64 hart_mask_base);
int  sbi_hart_start(uint64 hartid, uint64 addr, uint64 opaque);
int  sbi_hart_status(uint64 hartid);   // SBI_HSM_*, or <0: no such hart
long sbi_probe(long eid);              // non-zero if the extension exists
void sbi_console_putchar(int c);
void sbi_shutdown(void) __attribute__((noreturn));
