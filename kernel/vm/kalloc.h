// Physical page allocator: hands out and takes back 4096-byte pages.
#pragma once
#include "uapi/types.h"

void  *kalloc(void);          // one zeroed page, or 0 when memory is exhausted
void   kfree(void *page);
void   kalloc_init(void);
uint64 kalloc_free_pages(void);
