// The system-call dispatcher and the helpers every sys_* function uses to
// fetch its arguments. Each helper validates: a bad argument gives -1.
#pragma once
#include "uapi/types.h"

void   syscall(void);                 // trap.c calls this for ecall from U-mode
int    arg_int(int n);
uint64 arg_addr(int n);
// Copy the NUL-terminated string argument n into buf; length or -1.
int    arg_str(int n, char *buf, int max);
int    fetch_addr(uint64 addr, uint64 *ip);
int    fetch_str(uint64 addr, char *buf, int max);
