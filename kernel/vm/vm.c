// Sv39 page tables. The kernel table identity-maps devices and RAM and
// holds the kernel stacks; a user table is a fresh root whose kernel
// entries point at the kernel's own lower-level tables, so kernel mappings
// are shared and the user part (USER_BASE..USER_TOP, one root entry) is
// private. This file does not know about processes or threads.
#include "vm/vm.h"
#include "vm/kalloc.h"
#include "arch/memlayout.h"
#include "arch/ipi.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "uapi/mman.h"
#include "param.h"

pagetable_t kernel_pagetable;
extern char etext[];


#define USER_ROOT_INDEX PX(2, USER_BASE)   // the one root entry user space uses

// A user page made PROT_NONE keeps its physical page but loses V, R, W, X
// and U; the software-reserved bit 8 says the page is still there.
#define PTE_NONE (1L << 8)
static int pte_present(pte_t pte) { return (pte & (PTE_V | PTE_NONE)) != 0; }

// The PTE for va in pt, or 0 if a table on the way is missing. Unlike
// vm_walk it calls nothing, so it needs no stack frame: every copyin and
// copyout looks up its page here, and vm_walk's frame (kept for its kalloc
// call) cost as much as the walk itself.
pte_t *vm_lookup(pagetable_t pt, uint64 va)
{
  if (va >= MAXVA)
    return 0;
  for (int level = 2; level > 0; level--) {
    pte_t pte = pt[PX(level, va)];
    if (!(pte & PTE_V))
      return 0;
    pt = (pagetable_t)PTE2PA(pte);
  }
  return &pt[PX(0, va)];
}

// The PTE for va in pt, creating intermediate tables when alloc is set.
pte_t *vm_walk(pagetable_t pt, uint64 va, int alloc)
{
  if (!alloc)
    return vm_lookup(pt, va);
  if (va >= MAXVA)
    return 0;
  for (int level = 2; level > 0; level--) {
    pte_t *pte = &pt[PX(level, va)];
    if (*pte & PTE_V) {
      pt = (pagetable_t)PTE2PA(*pte);
      continue;
    }
    if ((pt = kalloc()) == 0)
      return 0;
    *pte = PA2PTE(pt) | PTE_V;
  }
  return &pt[PX(0, va)];
}

static int map_range(pagetable_t pt, uint64 va, uint64 pa, uint64 size, int perm)
{
  assert(va % PGSIZE == 0 && size % PGSIZE == 0);
  for (uint64 off = 0; off < size; off += PGSIZE) {
    pte_t *pte = vm_walk(pt, va + off, 1);
    if (pte == 0)
      return -1;
    assert(!(*pte & PTE_V));
    *pte = PA2PTE(pa + off) | perm | PTE_V | PTE_A | PTE_D;
  }
  return 0;
}

int kvm_map(uint64 va, uint64 pa, uint64 size, int perm)
{
  return map_range(kernel_pagetable, va, pa, size, perm);
}

// Unmap kernel pages (not freeing them). All harts share the kernel
// mappings: the caller shoots the range down on the others (thread/tlb.h).
void kvm_unmap(uint64 va, uint64 npages)
{
  for (uint64 i = 0; i < npages; i++) {
    pte_t *pte = vm_walk(kernel_pagetable, va + i * PGSIZE, 0);
    assert(pte && (*pte & PTE_V));
    *pte = 0;
  }
  sfence_vma();
}

void vm_init(void)
{
  kernel_pagetable = kalloc();
  assert(kernel_pagetable);
  int ok = 0;
  ok |= kvm_map(UART0, UART0, PGSIZE, PTE_R | PTE_W);
  ok |= kvm_map(VIRTIO0, VIRTIO0, PGSIZE, PTE_R | PTE_W);
  ok |= kvm_map(PLIC, PLIC, PLIC_SIZE, PTE_R | PTE_W);
  if (ipi_mmio())
    ok |= kvm_map(ipi_mmio(), ipi_mmio(), PGSIZE, PTE_R | PTE_W);
  ok |= kvm_map(KERNBASE, KERNBASE, (uint64)etext - KERNBASE, PTE_R | PTE_X);
  ok |= kvm_map((uint64)etext, (uint64)etext, PHYSTOP - (uint64)etext, PTE_R | PTE_W);
  // Pre-create the tables that will hold the kernel stacks so that every
  // user page table, which copies the root entries, sees later stack maps,
  // and so that mapping a stack never needs a page for a table.
  for (uint64 va = KSTACK_BASE; va < KSTACK(MAX_THREADS); va += PGSIZE * 512)
    ok |= vm_walk(kernel_pagetable, va, 1) == 0;
  assert(ok == 0);
}

void vm_init_hart(void)
{
  sfence_vma();
  CSR_WRITE(satp, MAKE_SATP(kernel_pagetable));
  sfence_vma();
}

// A user table starts as a copy of the kernel's root without its user entry.
pagetable_t uvm_create(void)
{
  pagetable_t pt = kalloc_copy(kernel_pagetable);
  if (pt == 0)
    return 0;
  pt[USER_ROOT_INDEX] = 0;
  return pt;
}

static int user_perm(int prot)
{
  int perm = PTE_U;
  if (prot & PROT_READ)  perm |= PTE_R;
  if (prot & PROT_WRITE) perm |= PTE_R | PTE_W;
  if (prot & PROT_EXEC)  perm |= PTE_R | PTE_X;
  return perm;
}

int uvm_map_page(pagetable_t pt, uint64 va, uint64 pa, int perm)
{
  return map_range(pt, va, pa, PGSIZE, perm);
}

// Free the user pages from USER_BASE+newsz up to USER_BASE+oldsz.
uint64 uvm_dealloc(pagetable_t pt, uint64 oldsz, uint64 newsz)
{
  if (newsz >= oldsz)
    return oldsz;
  for (uint64 va = USER_BASE + PGROUNDUP(newsz); va < USER_BASE + PGROUNDUP(oldsz); va += PGSIZE) {
    pte_t *pte = vm_lookup(pt, va);
    if (pte == 0 || !pte_present(*pte))
      continue;
    kfree((void *)PTE2PA(*pte));
    *pte = 0;
  }
  return newsz;
}

// Unmap the user page at va and return its physical address (0 if none),
// without freeing it: a caller whose page table other harts may be using
// frees it only after a TLB shootdown (proc_grow).
uint64 uvm_unmap_page(pagetable_t pt, uint64 va)
{
  pte_t *pte = vm_lookup(pt, va);
  if (pte == 0 || !pte_present(*pte))
    return 0;
  uint64 pa = PTE2PA(*pte);
  *pte = 0;
  return pa;
}

// Map fresh pages from oldsz up to newsz; stop at the first page that cannot
// be had. Returns the size reached (newsz when all went well): the caller
// undoes a partial growth its own way (proc_grow shoots the pages down
// first, since a sibling may already have touched them).
uint64 uvm_grow(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm)
{
  if (newsz <= oldsz)
    return oldsz;
  if (newsz > USER_TOP - USER_BASE - 2 * PGSIZE)   // top pages: schedctl area
    return oldsz;
  for (uint64 a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
    void *mem = kalloc();
    if (mem == 0 || uvm_map_page(pt, USER_BASE + a, (uint64)mem, PTE_U | PTE_R | xperm) < 0) {
      if (mem)
        kfree(mem);
      return a > oldsz ? a : oldsz;
    }
  }
  return newsz;
}

// uvm_grow for a table nobody else uses yet (exec): all or nothing.
uint64 uvm_alloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm)
{
  uint64 got = uvm_grow(pt, oldsz, newsz, xperm);
  if (newsz > oldsz && got != newsz) {
    uvm_dealloc(pt, got, oldsz);
    return 0;
  }
  return got;
}

// Free a page-table page and the tables below it. Leaf pages were freed by
// uvm_dealloc() already, so a level-0 table holds nothing more to free.
static void free_table(pagetable_t pt, int level)
{
  for (int i = 0; level > 0 && i < 512; i++)
    if (pt[i] & PTE_V)
      free_table((pagetable_t)PTE2PA(pt[i]), level - 1);
  kfree(pt);
}

// Free the user pages and the private part of the table; the kernel's
// shared lower-level tables are left alone.
void uvm_free(pagetable_t pt, uint64 size)
{
  uvm_dealloc(pt, size, 0);
  pte_t root = pt[USER_ROOT_INDEX];
  if (root & PTE_V)
    free_table((pagetable_t)PTE2PA(root), 1);
  kfree(pt);
}

// Copy the user image [USER_BASE, USER_BASE+size) of one table into another,
// keeping each page's permissions (red zones stay red zones).
int uvm_copy(pagetable_t from, pagetable_t to, uint64 size)
{
  for (uint64 a = 0; a < size; a += PGSIZE) {
    pte_t *pte = vm_lookup(from, USER_BASE + a);
    if (pte == 0 || !pte_present(*pte))
      continue;
    void *mem = kalloc_copy((void *)PTE2PA(*pte));
    if (mem == 0)
      goto fail;
    pte_t *copy = vm_walk(to, USER_BASE + a, 1);
    if (copy == 0) {
      kfree(mem);
      goto fail;
    }
    *copy = PA2PTE(mem) | PTE_FLAGS(*pte);
  }
  return 0;
fail:
  uvm_dealloc(to, size, 0);
  return -1;
}

// Change the permissions of whole pages of the user image (red zones).
// The caller flushes TLBs (tlb_shootdown) if the table may be in use.
int uvm_protect(pagetable_t pt, uint64 va, uint64 len, int prot)
{
  if (va % PGSIZE || len == 0 || va < USER_BASE || va + len > USER_TOP || va + len < va)
    return -1;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
    return -1;
  for (uint64 a = va; a < va + len; a += PGSIZE) {
    pte_t *pte = vm_lookup(pt, a);
    if (pte == 0 || !pte_present(*pte))
      return -1;
  }
  for (uint64 a = va; a < va + len; a += PGSIZE) {
    pte_t *pte = vm_lookup(pt, a);
    uint64 pa = PTE2PA(*pte);
    if (prot == PROT_NONE)
      *pte = PA2PTE(pa) | PTE_NONE;
    else
      *pte = PA2PTE(pa) | user_perm(prot) | PTE_V | PTE_A | PTE_D;
  }
  return 0;
}

int uvm_is_red_zone(pagetable_t pt, uint64 va)
{
  if (va < USER_BASE || va >= USER_TOP)
    return 0;
  pte_t *pte = vm_lookup(pt, va);
  return pte && (*pte & PTE_NONE) && !(*pte & PTE_V);
}

uint64 uvm_addr(pagetable_t pt, uint64 va)
{
  if (va < USER_BASE || va >= USER_TOP)
    return 0;
  pte_t *pte = vm_lookup(pt, va);
  if (pte == 0 || (*pte & (PTE_V | PTE_U)) != (PTE_V | PTE_U))
    return 0;
  return PTE2PA(*pte) + (va & (PGSIZE - 1));
}

// Physical address of a user page that may be written, or 0.
uint64 uvm_addr_writable(pagetable_t pt, uint64 va)
{
  if (va < USER_BASE || va >= USER_TOP)
    return 0;
  pte_t *pte = vm_lookup(pt, va);
  if (pte == 0 || (*pte & (PTE_V | PTE_U | PTE_W)) != (PTE_V | PTE_U | PTE_W))
    return 0;
  return PTE2PA(*pte) + (va & (PGSIZE - 1));
}

// ---- copies between kernel and user memory ------------------------------------
// The kernel reaches a user page through its physical address, not through
// the user mapping, so the TLB shootdown that ends a shrink does not cover
// it. A copy's translation is therefore held like a TLB entry: only with
// interrupts off, from the page-table lookup to the last byte of that page.
// The shrink frees a page only after every other CPU has taken its flush
// IPI (proc_shrink: unmap, shoot down, free), so the free waits until the
// copy is done with the page; a lookup after the unmap finds nothing. Each
// page is looked up again, so the section lasts one page at most. Nothing
// in it takes a lock or waits for another CPU (docs/locking.md).

static volatile int copy_delay;   // kdebug KD_COPY_DELAY: widen the window in tests

void uvm_set_copy_delay(int n)
{
  copy_delay = n < 0 ? 0 : n > 100000 ? 100000 : n;   // interrupts are off meanwhile
}

// Between a lookup and the copy: what a slow copy (a long page, an
// interrupt) would take. Only tests set it, to make the race they look for
// happen often.
static inline void copy_window(void)
{
  for (int i = copy_delay; i > 0; i--)
    asm volatile("");
}

// Copy as much of src as fits the writable pages starting at dstva; returns
// how many bytes that was (len when the whole range is good). Callers that
// took the data out of a kernel object put back what did not fit.
uint64 copyout_prefix(pagetable_t pt, uint64 dstva, const void *src, uint64 len)
{
  uint64 done = 0;
  while (done < len) {
    uint64 n = PGSIZE - ((dstva + done) & (PGSIZE - 1));
    if (n > len - done)
      n = len - done;
    int on = intr_save();
    uint64 pa = uvm_addr_writable(pt, dstva + done);
    if (pa) {
      copy_window();
      memmove((void *)pa, (const char *)src + done, n);
    }
    intr_restore(on);
    if (pa == 0)
      break;
    done += n;
  }
  return done;
}

int copyout(pagetable_t pt, uint64 dstva, const void *src, uint64 len)
{
  return copyout_prefix(pt, dstva, src, len) == len ? 0 : -1;
}

int copyin(pagetable_t pt, void *dst, uint64 srcva, uint64 len)
{
  char *d = dst;
  while (len > 0) {
    uint64 n = PGSIZE - (srcva & (PGSIZE - 1));
    if (n > len)
      n = len;
    int on = intr_save();
    uint64 pa = uvm_addr(pt, srcva);
    if (pa) {
      copy_window();
      memmove(d, (void *)pa, n);
    }
    intr_restore(on);
    if (pa == 0)
      return -1;
    len -= n;
    d += n;
    srcva += n;
  }
  return 0;
}

// Copy a NUL-terminated string of at most max bytes (NUL included).
// Copy len (at most a page) bytes at srcva into dst, all or nothing: 0, or
// -1 with dst untouched when a byte is not mapped or ok(source, cookie)
// refuses what it reads at the source (no more than the bytes of the
// range's first page). Both pages the range may span are looked up first,
// in one interrupts-off section that holds them until the copy ends. For a
// caller that would otherwise copy into a buffer, check it and copy it
// again (lwp_resume: a frame straight into the trap frame).
int copyin_checked(pagetable_t pt, void *dst, uint64 srcva, uint64 len,
                   int (*ok)(const void *src, void *cookie), void *cookie)
{
  assert(len <= PGSIZE);
  uint64 first = PGSIZE - (srcva & (PGSIZE - 1));
  if (first > len)
    first = len;
  int on = intr_save();
  uint64 lo = uvm_addr(pt, srcva);
  uint64 hi = first < len ? uvm_addr(pt, srcva + first) : 0;
  int good = lo && (hi || first == len) && ok((const void *)lo, cookie);
  if (good) {
    copy_window();
    memmove(dst, (void *)lo, first);
    if (hi)
      memmove((char *)dst + first, (void *)hi, len - first);
  }
  intr_restore(on);
  return good ? 0 : -1;
}

int copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max)
{
  while (max > 0) {
    uint64 n = PGSIZE - (srcva & (PGSIZE - 1));
    if (n > max)
      n = max;
    int on = intr_save();
    const char *p = (const char *)uvm_addr(pt, srcva);
    int end = p == 0 ? -1 : 1;     // -1 unmapped, 0 NUL copied, 1 go on
    for (uint64 i = 0; p && i < n && end > 0; i++) {
      *dst++ = p[i];
      if (p[i] == 0)
        end = 0;
    }
    intr_restore(on);
    if (end <= 0)
      return end;
    max -= n;
    srcva += n;
  }
  return -1;
}

// The aligned user int at va, if va still maps to pa (a futex re-reads the
// word it looked up before taking its lock). 0, or -1 if va moved or went.
int uvm_read_word(pagetable_t pt, uint64 va, uint64 pa, int *val)
{
  int on = intr_save();
  int ok = va % sizeof(int) == 0 && uvm_addr(pt, va) == pa && pa != 0;
  if (ok)
    *val = *(volatile int *)pa;
  intr_restore(on);
  return ok ? 0 : -1;
}

// The physical address of the aligned user int at va (writable if asked),
// or 0: one lookup, where copyin would loop over pages and call memmove for
// four bytes (the upcall path reads one at every block).
static uint64 word_pa(pagetable_t pt, uint64 va, int writable)
{
  if (va % sizeof(int))
    return 0;
  return writable ? uvm_addr_writable(pt, va) : uvm_addr(pt, va);
}

// The aligned user int at va. 0, or -1 if va is not such a word.
int uvm_get_word(pagetable_t pt, uint64 va, int *val)
{
  int on = intr_save();
  uint64 pa = word_pa(pt, va, 0);
  if (pa)
    *val = *(volatile int *)pa;
  intr_restore(on);
  return pa ? 0 : -1;
}

// Store val in the writable, aligned user int at va. 0, or -1 if va is not
// such a word.
int uvm_set_word(pagetable_t pt, uint64 va, int val)
{
  int on = intr_save();
  uint64 pa = word_pa(pt, va, 1);
  if (pa)
    *(volatile int *)pa = val;
  intr_restore(on);
  return pa ? 0 : -1;
}

// Add n to the writable, aligned user int at va, atomically against user
// threads. Its physical address (a futex's key: futex_bump_wake wakes the
// word's waiters next), or 0 if va is not such a word.
uint64 uvm_add_word(pagetable_t pt, uint64 va, int n)
{
  int on = intr_save();
  uint64 pa = word_pa(pt, va, 1);
  if (pa)
    __atomic_add_fetch((int *)pa, n, __ATOMIC_SEQ_CST);
  intr_restore(on);
  return pa;
}
