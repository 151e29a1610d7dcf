// Kernel console output: printf, panic and assert. Safe to call on any hart
// at any time, including from trap handlers.
#pragma once

void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void backtrace(void);
void printf_init(void);
// Hold the console output lock across a multi-part write so that it reaches
// the UART in one piece (console_write uses it for each write() call).
void print_lock(void);
void print_unlock(void);

extern volatile int panicked;   // set once a hart panics: other harts freeze

#define assert(cond) \
  do { if (!(cond)) panic("assert failed: %s at %s:%d", #cond, __FILE__, __LINE__); } while (0)
