// Looking things up in the flattened device tree the firmware hands the
// boot hart (kmain's dtb). Read once, early, before kalloc_init reuses the
// memory it sits in.
#pragma once
#include "uapi/types.h"

// The first address in the "reg" of the first node whose "compatible" lists
// compat, or 0 if there is none (or dtb is not a device tree).
uint64 fdt_find_reg(uint64 dtb, const char *compat);
