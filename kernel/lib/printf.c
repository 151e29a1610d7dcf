// Kernel printf and panic. Output goes to the UART one character at a time
// under a lock, so lines from different harts do not interleave. panic()
// prints the hart, the message and a frame-pointer backtrace, then stops
// every hart's output so the message stays readable.
#include <stdarg.h>
#include "lib/printf.h"
#include "lib/ksym.h"
#include "lib/spinlock.h"
#include "thread/cpu.h"
#include "dev/uart.h"
#include "arch/riscv.h"
#include "arch/sbi.h"

volatile int panicked;
static struct spinlock uart_lock;   // one writer on the UART at a time
static const char digits[] = "0123456789abcdef";

void printf_init(void)
{
  spinlock_init(&uart_lock, "printf");
}

void print_lock(void)
{
  if (!panicked)
    spinlock_acquire(&uart_lock);
}

void print_unlock(void)
{
  if (spinlock_holding(&uart_lock))
    spinlock_release(&uart_lock);
}

static void print_uint(uint64 x, int base, int width, char pad)
{
  char buf[24];
  int i = 0;
  do {
    buf[i++] = digits[x % base];
    x /= base;
  } while (x);
  while (i < width && i < (int)sizeof(buf))
    buf[i++] = pad;
  while (--i >= 0)
    uart_putc_sync(buf[i]);
}

static void print_int(long x, int width, char pad)
{
  if (x < 0) {
    uart_putc_sync('-');
    print_uint(-(uint64)x, 10, width ? width - 1 : 0, pad);
    return;
  }
  print_uint(x, 10, width, pad);
}

static void vprintf(const char *fmt, va_list ap)
{
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      uart_putc_sync(*fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0, is_long = 0;
    if (*fmt == '0')
      pad = '0';
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') {
      is_long = 1;
      fmt++;
    }
    switch (*fmt) {
    case 'd': print_int(is_long ? va_arg(ap, long) : va_arg(ap, int), width, pad); break;
    case 'u': print_uint(is_long ? va_arg(ap, uint64) : va_arg(ap, uint), 10, width, pad); break;
    case 'x': print_uint(is_long ? va_arg(ap, uint64) : va_arg(ap, uint), 16, width, pad); break;
    case 'p':
      uart_putc_sync('0');
      uart_putc_sync('x');
      print_uint(va_arg(ap, uint64), 16, 16, '0');
      break;
    case 'c': uart_putc_sync(va_arg(ap, int)); break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      for (s = s ? s : "(null)"; *s; s++)
        uart_putc_sync(*s);
      break;
    }
    case '%': uart_putc_sync('%'); break;
    case 0: return;
    default: uart_putc_sync('%'); uart_putc_sync(*fmt); break;
    }
  }
}

void printf(const char *fmt, ...)
{
  va_list ap;
  print_lock();
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  print_unlock();
}

// Walk the frame-pointer chain: each frame keeps the return address at
// fp-8 and the caller's frame pointer at fp-16. Stop at anything that does
// not look like a kernel stack address.
void backtrace(void)
{
  uint64 fp = r_fp();
  printf("backtrace:\n");
  for (int depth = 0; depth < 32; depth++) {
    if (fp < 0x80000000UL || (fp & 7))
      break;
    uint64 ra = *(uint64 *)(fp - 8);
    uint64 prev = *(uint64 *)(fp - 16);
    if (ra == 0)
      break;
    printf("  %p ", (void *)ra);
    ksym_print(ra);
    printf("\n");
    if (prev <= fp && (prev >> 12) != (fp >> 12))
      break;
    fp = prev;
  }
}

void panic(const char *fmt, ...)
{
  va_list ap;
  intr_off();
  spinlock_acquire(&uart_lock);   // wait for a line in progress on another hart
  panicked = 1;
  spinlock_release(&uart_lock);
  printf("panic: hart %d: ", cpuid());
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  backtrace();
  for (;;)
    asm volatile("wfi");
}
