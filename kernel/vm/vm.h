// Virtual memory: the kernel's page table, per-process user page tables, and
// safe copies between kernel and user memory. Every copy checks that the
// user range is mapped with PTE_U; a bad pointer makes it return -1.
#pragma once
#include "arch/riscv.h"

void        vm_init(void);            // build the kernel page table (boot hart)
void        vm_init_hart(void);       // turn on paging on this hart
extern pagetable_t kernel_pagetable;

int         kvm_map(uint64 va, uint64 pa, uint64 size, int perm);  // kernel space
void        kvm_unmap(uint64 va, uint64 npages);

pagetable_t uvm_create(void);         // empty user page table sharing the kernel map
void        uvm_free(pagetable_t pt, uint64 size);
// Grow the user image from oldsz to newsz (bytes above USER_BASE); returns
// the new size or 0 when out of memory (the partial growth is undone).
uint64      uvm_alloc(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm);
// The same, but stops at the first failure and returns the size reached.
uint64      uvm_grow(pagetable_t pt, uint64 oldsz, uint64 newsz, int xperm);
uint64      uvm_dealloc(pagetable_t pt, uint64 oldsz, uint64 newsz);
int         uvm_copy(pagetable_t from, pagetable_t to, uint64 size);
uint64      uvm_unmap_page(pagetable_t pt, uint64 va);
int         uvm_protect(pagetable_t pt, uint64 va, uint64 len, int prot);
int         uvm_map_page(pagetable_t pt, uint64 va, uint64 pa, int perm);
pte_t      *vm_walk(pagetable_t pt, uint64 va, int alloc);
pte_t      *vm_lookup(pagetable_t pt, uint64 va);   // vm_walk without alloc, and cheaper
uint64      uvm_addr(pagetable_t pt, uint64 va);  // physical address of a user va, or 0
uint64      uvm_addr_writable(pagetable_t pt, uint64 va);  // the same, if user code may write it
int         uvm_is_red_zone(pagetable_t pt, uint64 va);  // a PROT_NONE page of the image?

int copyout(pagetable_t pt, uint64 dstva, const void *src, uint64 len);
uint64 copyout_prefix(pagetable_t pt, uint64 dstva, const void *src, uint64 len);  // bytes copied
int copyin(pagetable_t pt, void *dst, uint64 srcva, uint64 len);
int copyinstr(pagetable_t pt, char *dst, uint64 srcva, uint64 max);
int copyin_checked(pagetable_t pt, void *dst, uint64 srcva, uint64 len,   // all or nothing
                   int (*ok)(const void *src, void *cookie), void *cookie);
// Single user words, looked up and used in one step like the copies above.
int uvm_read_word(pagetable_t pt, uint64 va, uint64 pa, int *val);   // if va still maps to pa
uint64 uvm_add_word(pagetable_t pt, uint64 va, int n);               // atomic; its pa or 0
int uvm_get_word(pagetable_t pt, uint64 va, int *val);              // aligned; 0 or -1
int uvm_set_word(pagetable_t pt, uint64 va, int val);               // aligned, writable; 0 or -1
// A copy holds its page's translation with interrupts off (vm.c): a shrink
// frees the page only after every CPU took its flush IPI, so never mid-copy.
// Tests widen that window: spin n loops between a lookup and the copy.
void uvm_set_copy_delay(int n);
