// The physical page allocator: a free list of 4096-byte pages covering RAM
// from the end of the kernel image to PHYSTOP. Shared by every CPU, so it
// is one of the few places with a spinlock. Before saying "no memory" it
// asks the registered cache to give pages back.
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

// Pages held by caches (thread/klt.c's death row) that can be given back
// when the free list runs dry. Called with no allocator lock held; it may
// take spinlocks of its own and kfree, but never waits for another hart.
static uint64 (*reclaim)(void);

void kalloc_set_reclaim(uint64 (*fn)(void))
{
  reclaim = fn;
}

static struct free_page *take_page(void)
{
  spinlock_acquire(&pages.lock);
  struct free_page *fp = pages.head;
  if (fp) {
    pages.head = fp->next;
    pages.nfree--;
  }
  spinlock_release(&pages.lock);
  return fp;
}

// Fault injection for tests (kdebug KD_FAIL_ALLOC): the fail_after-th
// kalloc from now returns 0 as if memory were exhausted, once.
static int fail_after;
static int fail_fired;

void kalloc_fail_after(int n)
{
  fail_fired = 0;
  __atomic_store_n(&fail_after, n > 0 ? n : 0, __ATOMIC_SEQ_CST);
}

int kalloc_fail_fired(void)
{
  return fail_fired;
}

static int injected_failure(void)
{
  int n = __atomic_load_n(&fail_after, __ATOMIC_SEQ_CST);
  while (n > 0) {
    if (__atomic_compare_exchange_n(&fail_after, &n, n - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      if (n == 1)
        fail_fired = 1;
      return n == 1;
    }
  }
  return 0;
}

static void *alloc_page(void)
{
  if (injected_failure())
    return 0;
  struct free_page *fp = take_page();
  if (fp == 0 && reclaim && reclaim() > 0)
    fp = take_page();
  return fp;
}

void *kalloc(void)
{
  void *page = alloc_page();
  if (page)
    memset(page, 0, PGSIZE);
  return page;
}

// Fork copies every page of the parent: zeroing each new page first, only
// to overwrite it, cost about a third of fork + exit + wait.
void *kalloc_copy(const void *src)
{
  void *page = alloc_page();
  if (page)
    memmove(page, src, PGSIZE);
  return page;
}

uint64 kalloc_free_pages(void)
{
  return pages.nfree;
}
