// The 16550 UART driver. Output spins on the transmit-holding-register
// bit (QEMU's UART is never slow); input raises IRQ 10, whose interrupt
// thread (the console's) drains bytes with uart_getc(). Knows nothing of
// the console's line discipline.
#include "dev/uart.h"
#include "arch/memlayout.h"
#include "uapi/types.h"

#define REG(r) ((volatile uint8 *)(UART0 + (r)))
#define RHR 0          // receive holding register
#define THR 0          // transmit holding register
#define IER 1          // interrupt enable
#define FCR 2          // FIFO control
#define LCR 3          // line control
#define LSR 5          // line status
#define LSR_RX_READY (1 << 0)
#define LSR_TX_IDLE  (1 << 5)

void uart_init(void)
{
  *REG(IER) = 0x00;
  *REG(LCR) = 0x80;      // divisor latch: 38.4K baud
  *REG(0) = 0x03;
  *REG(1) = 0x00;
  *REG(LCR) = 0x03;      // 8 bits, no parity
  *REG(FCR) = 0x07;      // reset and enable FIFOs
  *REG(IER) = 0x01;      // receive interrupts
}

void uart_putc_sync(int c)
{
  while ((*REG(LSR) & LSR_TX_IDLE) == 0)
    ;
  *REG(THR) = c;
}

int uart_getc(void)
{
  if (*REG(LSR) & LSR_RX_READY)
    return *REG(RHR);
  return -1;
}
