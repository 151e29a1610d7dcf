// TLB shootdown: make every running hart forget a range of mappings before
// the pages behind it are reused. Travels as IPI messages and waits for
// every hart to have flushed.
#pragma once
#include "uapi/types.h"

void tlb_shootdown(uint64 va, uint64 len);
