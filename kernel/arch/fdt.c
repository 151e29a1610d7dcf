// A minimal reader of the flattened device tree (the devicetree
// specification's "DTB" format): a walk of the structure block that finds
// a node by one of its compatible strings. Owns nothing; the kernel's
// devices are otherwise at fixed addresses (memlayout.h), so this is only
// for what may or may not be there (the ACLINT SSWI, ipi.c).
#include "arch/fdt.h"
#include "lib/string.h"

#define FDT_MAGIC      0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE   2
#define FDT_PROP       3
#define FDT_NOP        4
#define FDT_END        9

// Strings of the tree are NUL-terminated within its blob.
static int streq(const char *a, const char *b)
{
  return strncmp(a, b, strlen(b) + 1) == 0;
}

// The device tree is big-endian.
static uint32 be32(const void *p)
{
  const uint8 *b = p;
  return (uint32)b[0] << 24 | (uint32)b[1] << 16 | (uint32)b[2] << 8 | b[3];
}

// Does the string list (NUL-separated, len bytes) hold s?
static int list_has(const char *list, uint32 len, const char *s)
{
  for (uint32 i = 0; i < len; i += strlen(list + i) + 1)
    if (streq(list + i, s))
      return 1;
  return 0;
}

// reg's first address: two cells (the virt machine's #address-cells under
// /soc), or one if the property is that short.
static uint64 reg_address(const uint8 *val, uint32 len)
{
  if (len >= 8)
    return (uint64)be32(val) << 32 | be32(val + 4);
  return len >= 4 ? be32(val) : 0;
}

uint64 fdt_find_reg(uint64 dtb, const char *compat)
{
  const uint8 *fdt = (const uint8 *)dtb;
  if (fdt == 0 || be32(fdt) != FDT_MAGIC)
    return 0;
  const uint8 *p = fdt + be32(fdt + 8);          // off_dt_struct
  const char *strings = (const char *)fdt + be32(fdt + 12);
  int match = 0;                                 // the current node is compatible
  uint64 reg = 0;                                // the current node's reg
  for (;;) {
    uint32 token = be32(p);
    p += 4;
    if (token == FDT_BEGIN_NODE) {
      match = 0;
      reg = 0;
      p += (strlen((const char *)p) + 1 + 3) & ~3;   // the name, padded
    } else if (token == FDT_PROP) {
      uint32 len = be32(p), name = be32(p + 4);
      const uint8 *val = p + 8;
      if (streq(strings + name, "compatible") && list_has((const char *)val, len, compat))
        match = 1;
      else if (streq(strings + name, "reg"))
        reg = reg_address(val, len);
      p = val + ((len + 3) & ~3);
    } else if (token == FDT_END_NODE) {
      if (match && reg)                          // properties come before subnodes
        return reg;
      match = 0;
    } else if (token != FDT_NOP) {
      return 0;                                  // FDT_END, or not a device tree
    }
  }
}
