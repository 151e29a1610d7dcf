// Physical page allocator: hands out and takes back 4096-byte pages.
#pragma once
#include "uapi/types.h"

void  *kalloc(void);          // one zeroed page, or 0 when memory is exhausted
void  *kalloc_copy(const void *src);   // one page holding a copy of the page src, or 0
void   kfree(void *page);
void   kalloc_init(void);
uint64 kalloc_free_pages(void);
// fn gives back cached pages (returns how many) when kalloc finds none free.
void   kalloc_set_reclaim(uint64 (*fn)(void));
// Tests (kdebug KD_FAIL_ALLOC): make the n-th next kalloc fail (0: never);
// did the armed failure happen?
void   kalloc_fail_after(int n);
int    kalloc_fail_fired(void);
