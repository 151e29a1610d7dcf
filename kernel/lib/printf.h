// Kernel console output: printf, panic and assert. Safe to call on any hart
// at any time, including from trap handlers.
#pragma once

void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void backtrace(void);
void printf_init(void);

extern volatile int panicked;   // set once a hart panics: other harts freeze

#define assert(cond) \
  do { if (!(cond)) panic("assert failed: %s at %s:%d", #cond, __FILE__, __LINE__); } while (0)
