// The 16550 UART at UART0: polled output, interrupt-driven input.
#pragma once

void uart_init(void);
void uart_putc_sync(int c);   // busy-waits until the transmitter takes c
int  uart_getc(void);         // a received byte, or -1 if none waits
