// The physical page allocator: a free list of 4096-byte pages covering RAM
// from the end of the kernel image to PHYSTOP. Shared by every CPU, so it
// is one of the few places with a spinlock.
#include "vm/kalloc.h"
#include "arch/riscv.h"
#include "arch/memlayout.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "lib/printf.h"

extern char end[];   // first address after the kernel image (kernel.ld)

struct free_page {
  struct free_page *next;
};

static struct {
  struct spinlock lock;
  struct free_page *head;
  uint64 nfree;
} pages;

void kalloc_init(void)
{
  spinlock_init(&pages.lock, "kalloc");
  for (uint64 pa = PGROUNDUP((uint64)end); pa + PGSIZE <= PHYSTOP; pa += PGSIZE)
    kfree((void *)pa);
}

void kfree(void *page)
{
  uint64 pa = (uint64)page;
  assert(pa % PGSIZE == 0 && pa >= (uint64)end && pa < PHYSTOP);
  memset(page, 0x5a, PGSIZE);   // make use-after-free show up quickly
  struct free_page *fp = page;
  spinlock_acquire(&pages.lock);
  fp->next = pages.head;
  pages.head = fp;
  pages.nfree++;
  spinlock_release(&pages.lock);
}

void *kalloc(void)
{
  spinlock_acquire(&pages.lock);
  struct free_page *fp = pages.head;
  if (fp) {
    pages.head = fp->next;
    pages.nfree--;
  }
  spinlock_release(&pages.lock);
  if (fp)
    memset(fp, 0, PGSIZE);
  return fp;
}

uint64 kalloc_free_pages(void)
{
  return pages.nfree;
}
