# Kernel entry points. OpenSBI enters _entry on the boot hart (a0 = hart id,
# a1 = device tree); the boot hart later starts the others at _entry_secondary
# with SBI HSM hart_start (a0 = hart id). Each hart gets a boot stack, which
# becomes the stack of its idle thread; tp holds its hart id until kmain
# makes it point at the hart's struct cpu.
#include "param.h"

        .section .text.entry
        .globl _entry
_entry:
        la      t0, boot_entered        # only the first arrival clears bss
        li      t1, 1
        amoswap.w t1, t1, (t0)
        bnez    t1, park
        la      t0, bss_start
        la      t1, bss_end
1:      bgeu    t0, t1, 2f
        sd      zero, 0(t0)
        addi    t0, t0, 8
        j       1b
2:      call    set_boot_stack
        call    kmain                   # (hart id, dtb)
park:   wfi
        j       park

        .globl _entry_secondary
_entry_secondary:
        la      t0, hart_entered        # hart_entered[hart id] = 1: we are in
        add     t0, t0, a0              # our code (kernel/main.c names the
        li      t1, 1                   # stage a slow hart reached)
        sb      t1, 0(t0)
        call    set_boot_stack
        call    kmain_secondary         # (hart id)
        j       park

# sp = boot_stacks + (hart id + 1) * BOOT_STACK; tp = hart id until C code
# points it at the hart's struct cpu (cpu_enter). Preserves a0, a1.
set_boot_stack:
        mv      tp, a0
        li      t0, 4096 * 2
        addi    t1, a0, 1
        mul     t0, t0, t1
        la      sp, boot_stacks
        add     sp, sp, t0
        ret

        .section .data
boot_entered:
        .word 0

        .globl hart_entered
hart_entered:
        .space NCPU

        .section .bss
        .align 12
        .globl boot_stacks
boot_stacks:
        .space 4096 * 2 * NCPU
