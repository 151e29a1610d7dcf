# Trap entry and exit. uservec: traps from user mode; sscratch holds the
# running LWP's trapframe (a kernel address, mapped in every page table, so
# no page-table switch is needed). kernelvec: traps taken in the kernel; the
# interrupted registers go on the current kernel stack.
# Offsets follow struct trapframe in thread/lwp.h.

        .section .text
        .globl uservec
        .align 4
uservec:
        csrrw   a0, sscratch, a0        # a0 = trapframe, sscratch = user a0
        sd      ra, 24(a0)
        sd      sp, 32(a0)
        sd      gp, 40(a0)
        sd      tp, 48(a0)
        sd      t0, 56(a0)
        sd      t1, 64(a0)
        sd      t2, 72(a0)
        sd      s0, 80(a0)
        sd      s1, 88(a0)
        sd      a1, 104(a0)
        sd      a2, 112(a0)
        sd      a3, 120(a0)
        sd      a4, 128(a0)
        sd      a5, 136(a0)
        sd      a6, 144(a0)
        sd      a7, 152(a0)
        sd      s2, 160(a0)
        sd      s3, 168(a0)
        sd      s4, 176(a0)
        sd      s5, 184(a0)
        sd      s6, 192(a0)
        sd      s7, 200(a0)
        sd      s8, 208(a0)
        sd      s9, 216(a0)
        sd      s10, 224(a0)
        sd      s11, 232(a0)
        sd      t3, 240(a0)
        sd      t4, 248(a0)
        sd      t5, 256(a0)
        sd      t6, 264(a0)
        csrr    t0, sscratch
        sd      t0, 96(a0)
        csrr    t0, sepc
        sd      t0, 16(a0)
        ld      sp, 0(a0)
        ld      tp, 8(a0)
        li      s0, 0                   # end of the frame-pointer chain
        la      t0, kernelvec
        csrw    stvec, t0
        call    usertrap                # never returns here

# userret(tf): back to user mode with the registers in tf. Interrupts are off.
        .globl userret
userret:
        csrw    sscratch, a0
        ld      t0, 16(a0)
        csrw    sepc, t0
        la      t0, uservec
        csrw    stvec, t0
        ld      ra, 24(a0)
        ld      sp, 32(a0)
        ld      gp, 40(a0)
        ld      tp, 48(a0)
        ld      t0, 56(a0)
        ld      t1, 64(a0)
        ld      t2, 72(a0)
        ld      s0, 80(a0)
        ld      s1, 88(a0)
        ld      a1, 104(a0)
        ld      a2, 112(a0)
        ld      a3, 120(a0)
        ld      a4, 128(a0)
        ld      a5, 136(a0)
        ld      a6, 144(a0)
        ld      a7, 152(a0)
        ld      s2, 160(a0)
        ld      s3, 168(a0)
        ld      s4, 176(a0)
        ld      s5, 184(a0)
        ld      s6, 192(a0)
        ld      s7, 200(a0)
        ld      s8, 208(a0)
        ld      s9, 216(a0)
        ld      s10, 224(a0)
        ld      s11, 232(a0)
        ld      t3, 240(a0)
        ld      t4, 248(a0)
        ld      t5, 256(a0)
        ld      t6, 264(a0)
        ld      a0, 96(a0)
        sret

        .globl kernelvec
        .align 4
kernelvec:
        addi    sp, sp, -144
        sd      ra, 0(sp)
        sd      t6, 8(sp)
        sd      t0, 16(sp)
        sd      t1, 24(sp)
        sd      t2, 32(sp)
        sd      a0, 40(sp)
        sd      a1, 48(sp)
        sd      a2, 56(sp)
        sd      a3, 64(sp)
        sd      a4, 72(sp)
        sd      a5, 80(sp)
        sd      a6, 88(sp)
        sd      a7, 96(sp)
        sd      t3, 104(sp)
        sd      t4, 112(sp)
        sd      t5, 120(sp)
        sd      s0, 128(sp)
        csrr    t0, sepc                # frame record so backtraces cross traps
        sd      t0, 136(sp)
        addi    s0, sp, 144
        call    kerneltrap
        ld      ra, 0(sp)
        ld      t6, 8(sp)
        ld      t0, 16(sp)
        ld      t1, 24(sp)
        ld      t2, 32(sp)
        ld      a0, 40(sp)
        ld      a1, 48(sp)
        ld      a2, 56(sp)
        ld      a3, 64(sp)
        ld      a4, 72(sp)
        ld      a5, 80(sp)
        ld      a6, 88(sp)
        ld      a7, 96(sp)
        ld      t3, 104(sp)
        ld      t4, 112(sp)
        ld      t5, 120(sp)
        ld      s0, 128(sp)
        addi    sp, sp, 144
        sret
