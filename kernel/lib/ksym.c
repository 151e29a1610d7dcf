// Kernel symbol lookup. The table (build/ksyms.S, written by tools/ksyms.py
// from the first link's `nm`) is sorted by address and holds only symbols
// with a size, so an address maps to a symbol only if it lies inside it.
// Read-only after link: no locks.
#include "lib/ksym.h"
#include "lib/printf.h"

struct ksym {
  uint64 addr;
  uint32 size;
  uint32 name;        // offset into ksym_names
};

extern const uint32 nksyms;
extern const struct ksym ksyms[];
extern const char ksym_names[];

const char *ksym_name(uint64 addr, uint64 *off)
{
  uint32 lo = 0, hi = nksyms;      // find the last symbol starting at or below addr
  while (lo < hi) {
    uint32 mid = lo + (hi - lo) / 2;
    if (ksyms[mid].addr <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return 0;
  const struct ksym *s = &ksyms[lo - 1];
  if (addr - s->addr >= s->size)
    return 0;
  *off = addr - s->addr;
  return ksym_names + s->name;
}

void ksym_print(uint64 addr)
{
  uint64 off;
  const char *name = ksym_name(addr, &off);
  if (name == 0)
    printf("%p", (void *)addr);
  else if (off == 0)
    printf("%s", name);
  else
    printf("%s+%d", name, (int)off);
}
