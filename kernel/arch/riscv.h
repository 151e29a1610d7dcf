// RISC-V CSR access and page-table bit definitions used across the kernel.
#pragma once
#include "uapi/types.h"

#define PGSIZE 4096
#define PGSHIFT 12
#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~(uint64)(PGSIZE - 1))
#define PGROUNDDOWN(a) ((a) & ~(uint64)(PGSIZE - 1))

// sstatus
#define SSTATUS_SPP  (1L << 8)   // previous mode: 1 = supervisor
#define SSTATUS_SPIE (1L << 5)   // interrupts enabled before the trap
#define SSTATUS_SIE  (1L << 1)   // supervisor interrupt enable
#define SSTATUS_SUM  (1L << 18)  // supervisor may access user pages

// sie / sip
#define SIE_SSIE (1L << 1)       // software (IPI)
#define SIE_STIE (1L << 5)       // timer
#define SIE_SEIE (1L << 9)       // external (PLIC)

// scause values
#define SCAUSE_INTR        (1UL << 63)
#define IRQ_S_SOFT         1
#define IRQ_S_TIMER        5
#define IRQ_S_EXT          9
#define EXC_INST_MISALIGNED 0
#define EXC_INST_ACCESS    1
#define EXC_ILLEGAL        2
#define EXC_BREAKPOINT     3
#define EXC_LOAD_MISALIGNED 4
#define EXC_LOAD_ACCESS    5
#define EXC_STORE_MISALIGNED 6   // also an AMO's
#define EXC_STORE_ACCESS   7
#define EXC_ECALL_U        8
#define EXC_INST_PAGE      12
#define EXC_LOAD_PAGE      13
#define EXC_STORE_PAGE     15

// Sv39 page-table entries
#define PTE_V (1L << 0)
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)
#define PTE_G (1L << 5)
#define PTE_A (1L << 6)
#define PTE_D (1L << 7)
#define PA2PTE(pa) ((((uint64)(pa)) >> 12) << 10)
#define PTE2PA(pte) (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)
#define PX(level, va) ((((uint64)(va)) >> (PGSHIFT + 9 * (level))) & 0x1FF)
#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pt) (SATP_SV39 | (((uint64)(pt)) >> 12))
#define MAXVA (1L << 38)

typedef uint64 pte_t;
typedef uint64 *pagetable_t;

#define CSR_READ(name) ({ uint64 v_; asm volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" : : "r"((uint64)(v)))
#define CSR_SET(name, v) asm volatile("csrs " #name ", %0" : : "r"((uint64)(v)))
#define CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" : : "r"((uint64)(v)))

static inline void intr_on(void)  { CSR_SET(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { CSR_CLEAR(sstatus, SSTATUS_SIE); }
static inline int  intr_get(void) { return (CSR_READ(sstatus) & SSTATUS_SIE) != 0; }

// Disable interrupts and return whether they were on, for intr_restore().
static inline int intr_save(void)
{
  uint64 s;
  asm volatile("csrrc %0, sstatus, %1" : "=r"(s) : "r"(SSTATUS_SIE));
  return (s & SSTATUS_SIE) != 0;
}
static inline void intr_restore(int on) { if (on) intr_on(); }

static inline uint64 r_tp(void) { uint64 x; asm volatile("mv %0, tp" : "=r"(x)); return x; }
static inline void w_tp(uint64 x) { asm volatile("mv tp, %0" : : "r"(x)); }
static inline uint64 r_fp(void) { uint64 x; asm volatile("mv %0, s0" : "=r"(x)); return x; }
static inline uint64 r_time(void) { uint64 x; asm volatile("rdtime %0" : "=r"(x)); return x; }
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero" ::: "memory"); }
