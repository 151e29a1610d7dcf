// The console line discipline. Input bytes arrive in the UART's interrupt
// thread; a line becomes readable at newline or Ctrl-D. Backspace and
// Ctrl-U edit the line; Ctrl-P dumps every KLT and process (a debugging aid
// that works even when user space is stuck); Ctrl-T opens kdebug's test
// hooks (proc/kdebug.c: only someone at the console may).
#include "dev/console.h"
#include "dev/uart.h"
#include "arch/memlayout.h"
#include "thread/ithread.h"
#include "thread/sleepq.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "proc/proc.h"
#include "proc/kdebug.h"
#include "lib/spinlock.h"
#include "lib/printf.h"

#define CTRL(x) ((x) - '@')
#define INPUT_SIZE 256

static struct {
  struct spinlock lock;
  char buf[INPUT_SIZE];
  uint read, write, edit;   // read <= write (readable) <= edit (being typed)
} cons;

static void echo(int c)
{
  if (c == '\b') {
    uart_putc_sync('\b');
    uart_putc_sync(' ');
    uart_putc_sync('\b');
    return;
  }
  uart_putc_sync(c);
}

static void console_input(int c)
{
  if (c == CTRL('P')) {
    klt_dump();
    proc_dump();
    return;
  }
  if (c == CTRL('T')) {
    kdebug_arm();                   // test hooks: proc/kdebug.c
    return;
  }
  spinlock_acquire(&cons.lock);
  if (c == CTRL('U')) {
    while (cons.edit != cons.write && cons.buf[(cons.edit - 1) % INPUT_SIZE] != '\n') {
      cons.edit--;
      echo('\b');
    }
  } else if (c == '\b' || c == 0x7f) {
    if (cons.edit != cons.write) {
      cons.edit--;
      echo('\b');
    }
  } else if (c != 0 && cons.edit - cons.read < INPUT_SIZE) {
    c = (c == '\r') ? '\n' : c;
    echo(c);
    cons.buf[cons.edit++ % INPUT_SIZE] = c;
    if (c == '\n' || c == CTRL('D') || cons.edit - cons.read == INPUT_SIZE) {
      cons.write = cons.edit;
      sleepq_wakeup(&cons.read);
    }
  }
  spinlock_release(&cons.lock);
}

static void console_intr(void)
{
  int c;
  while ((c = uart_getc()) >= 0)
    console_input(c);
}

int console_read(int user_dst, uint64 dst, int n)
{
  int got = 0;
  spinlock_acquire(&cons.lock);
  while (got < n) {
    while (cons.read == cons.write) {
      if (lwp_interrupted(curlwp())) {
        spinlock_release(&cons.lock);
        return -1;
      }
      sleepq_sleep_sig(&cons.read, &cons.lock, 0);
    }
    int c = cons.buf[cons.read % INPUT_SIZE];
    if (c == CTRL('D')) {
      if (got == 0)
        cons.read++;     // else leave ^D for the next read, which returns 0
      break;
    }
    char ch = c;
    if (either_copyout(user_dst, dst + got, &ch, 1) < 0) {
      got = got > 0 ? got : -1;  // the byte stays for the next read
      break;
    }
    cons.read++;
    got++;
    if (c == '\n')
      break;
  }
  spinlock_release(&cons.lock);
  return got;
}

int console_write(int user_src, uint64 src, int n)
{
  char buf[64];
  int done = 0;
  print_lock();      // one write() reaches the screen in one piece
  while (done < n) {
    int chunk = n - done < (int)sizeof(buf) ? n - done : (int)sizeof(buf);
    if (either_copyin(buf, user_src, src + done, chunk) < 0)
      break;
    for (int i = 0; i < chunk; i++)
      uart_putc_sync(buf[i]);
    done += chunk;
  }
  print_unlock();
  return done || n == 0 ? done : -1;
}

void console_init(void)
{
  spinlock_init(&cons.lock, "console");
  uart_init();
  ithread_register(UART0_IRQ, "uart_intr", console_intr);
}
