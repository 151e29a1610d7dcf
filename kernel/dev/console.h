// The console: line-buffered input from the UART with simple editing, and
// output, as the device file "console" (major CONSOLE).
#pragma once
#include "uapi/types.h"

void console_init(void);
int  console_read(int user_dst, uint64 dst, int n);
int  console_write(int user_src, uint64 src, int n);
