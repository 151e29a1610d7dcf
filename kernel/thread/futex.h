// Futexes: user-space words that LWPs can block on. The key is the word's
// physical address, so LWPs of one process (which share the page) meet.
#pragma once
#include "arch/riscv.h"

// Block while *uaddr == val. 0: woken (or the value differed),
// 1: timed out after ticks (0 = no timeout), -1: bad address or killed.
int futex_wait(pagetable_t pt, uint64 uaddr, int val, int ticks);
// Wake up to n waiters; returns how many, or -1 for a bad address.
int futex_wake(pagetable_t pt, uint64 uaddr, int n);
void futex_init(void);
