// Trap handling: entry from user and kernel mode, interrupt dispatch, and
// the return to user mode.
#pragma once

void trap_init_hart(void);
void usertrapret(void) __attribute__((noreturn));
