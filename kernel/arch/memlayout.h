// The physical and virtual memory map. QEMU virt's devices and RAM are
// identity-mapped by the kernel; user space is the 1 GiB from USER_BASE, so
// every page table shares the kernel's upper-level entries and a trap needs
// no page-table switch.
//
//   0x0c000000  PLIC             (kernel, identity)
//   0x10000000  UART 16550       (kernel, identity)
//   0x10001000  virtio-blk MMIO  (kernel, identity)
//   0x40000000  USER_BASE: program text, data, guard, stack, heap ... USER_TOP
//   0x80000000  RAM: OpenSBI, then the kernel at 0x80200000 ... PHYSTOP
//   0xc0000000  kernel stacks, each with an unmapped guard page below it
#pragma once

#define UART0        0x10000000UL
#define UART0_IRQ    10
#define VIRTIO0      0x10001000UL
#define VIRTIO0_IRQ  1
#define PLIC         0x0c000000UL
#define PLIC_SIZE    0x4000000UL

#define KERNBASE     0x80200000UL
#define RAMBASE      0x80000000UL
#define PHYSTOP      (RAMBASE + 128UL * 1024 * 1024)

#define USER_BASE    0x40000000UL
#define USER_TOP     0x80000000UL

#define KSTACK_BASE  0xc0000000UL
#define KSTACK_SLOT  ((KSTACK_PAGES + 1) * PGSIZE)   // guard page + stack
#define KSTACK(i)    (KSTACK_BASE + (uint64)(i) * KSTACK_SLOT + PGSIZE)
