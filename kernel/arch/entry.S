# Kernel entry points. OpenSBI enters _entry on the boot hart (a0 = hart id,
# a1 = device tree); the boot hart later starts the others at _entry_secondary
# with SBI HSM hart_start (a0 = hart id). Each hart gets a boot stack, which
# becomes the stack of its idle thread; tp holds its hart id until kmain
# makes it point at the hart's struct cpu.
#
# A hart the boot hart has asked for (hart_asked) may still arrive at
# _entry: OpenSBI 1.1 marks the hart START_PENDING before it stores the
# start address, and a hart that sees the mark first jumps to the address
# its firmware started with, ours (fixed in OpenSBI 1.3, e8e9ed37). It is
# sent on to _entry_secondary, marked 2 in hart_entered so kmain_secondary
# says so. A hart nobody asked for parks.
#include "param.h"

        .section .text.entry
        .globl _entry
_entry:
        la      t0, boot_entered        # only the first arrival clears bss
        li      t1, 1
        amoswap.w t1, t1, (t0)
        bnez    t1, late
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

late:   la      t0, hart_asked          # a second arrival: asked for?
        add     t0, t0, a0
        lb      t1, 0(t0)
        beqz    t1, park
        li      t1, 2
        j       3f

        .globl _entry_secondary
_entry_secondary:
        li      t1, 1                   # hart_entered[hart id] = 1: we are in
3:                                      # our code (kernel/main.c names the
        la      t0, hart_entered        # stage a slow hart reached)
        add     t0, t0, a0
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

        .globl hart_asked
hart_asked:                             # set by the boot hart before hart_start
        .space NCPU

        .section .bss
        .align 12
        .globl boot_stacks
boot_stacks:
        .space 4096 * 2 * NCPU
