// Names of kernel addresses for the kernel's own messages: the variable or
// function an address falls in, from the table the build generates at link
// time (tools/ksyms.py). Used by the Ctrl-p dump (wait channels) and panic
// backtraces; gdb's `klts` names channels the same way.
#pragma once
#include "uapi/types.h"

// The symbol holding addr and the offset into it, or NULL (heap, stacks).
const char *ksym_name(uint64 addr, uint64 *off);
// Print "name" or "name+off" (gdb's notation), else the address in hex.
void ksym_print(uint64 addr);
