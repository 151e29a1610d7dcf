// The system-call dispatcher and the helpers every sys_* function uses to
// fetch its arguments. Each helper validates: a bad argument gives -1.
#pragma once
#include "uapi/types.h"
#include "thread/lwp.h"
#include "lib/printf.h"

void   syscall(void);                 // trap.c calls this for ecall from U-mode

// Argument n (a0..a5) of the calling LWP's trap frame. Inline: with n a
// constant, as in every caller, the switch folds to one load.
static inline uint64 arg_raw(int n)
{
  struct trapframe *tf = &curlwp()->tf;
  switch (n) {
  case 0: return tf->a0;
  case 1: return tf->a1;
  case 2: return tf->a2;
  case 3: return tf->a3;
  case 4: return tf->a4;
  case 5: return tf->a5;
  }
  panic("arg_raw: argument %d", n);
}

static inline int    arg_int(int n)  { return (int)arg_raw(n); }
static inline uint64 arg_addr(int n) { return arg_raw(n); }
// Copy the NUL-terminated string argument n into buf; length or -1.
int    arg_str(int n, char *buf, int max);
int    fetch_addr(uint64 addr, uint64 *ip);
int    fetch_str(uint64 addr, char *buf, int max);
