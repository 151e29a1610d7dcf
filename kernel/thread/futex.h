// Futexes: user-space words that LWPs can block on. The key is the word's
// physical address, so LWPs of one process (which share the page) meet.
#pragma once
#include "arch/riscv.h"

// Block while *uaddr == val. 0: woken (or the value differed),
// 1: timed out after ticks (0 = no timeout), -1: bad address, killed, or a
// signal to take (the futex_wait system call).
int futex_wait(pagetable_t pt, uint64 uaddr, int val, int ticks);
// The same wait for the kernel's own use, before a return to user mode
// (upcall.c waits so for room in the ring): only a kill ends it early. A
// signal is taken at that return, after the wait: if a signal ended the
// wait, its caller would wait again at once, for good.
int futex_wait_kernel(pagetable_t pt, uint64 uaddr, int val, int ticks);
// Wake up to n waiters; returns how many, or -1 for a bad address.
int futex_wake(pagetable_t pt, uint64 uaddr, int n);
// Add 1 to the writable word at uaddr (atomically against user code), then
// wake up to n waiters: one page-table lookup for both. The same returns.
int futex_bump_wake(pagetable_t pt, uint64 uaddr, int n);
void futex_init(void);
