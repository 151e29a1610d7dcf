# uthread_switch: the user-level context switch of the uthread library.
# Saves the callee-saved state (ra, sp, s0-s11; the kernel leaves user
# floating point off, so there is no fs0-fs11 to keep) of the running context
# into *a0, loads the one in *a1, and then, on the new stack, releases the
# spinlock *a2 (if a2 is not 0): the lock that keeps every other LWP away from
# the context just saved until it is complete and its stack no longer in use
# (user/lib/uthread.c, "switching threads"). Pure user code: no system call,
# and tp (which names the LWP, not the thread) is left alone. Layout matches
# struct ult_context in user/lib/uthread_core.h.
#
#   void uthread_switch(struct ult_context *save, struct ult_context *load, int *release);
#
# Also the entry of the LWPs the kernel adds, below: they have no stack of
# their own yet.

        .text
        .globl  uthread_switch
uthread_switch:
        sd      ra, 0(a0)
        sd      sp, 8(a0)
        sd      s0, 16(a0)
        sd      s1, 24(a0)
        sd      s2, 32(a0)
        sd      s3, 40(a0)
        sd      s4, 48(a0)
        sd      s5, 56(a0)
        sd      s6, 64(a0)
        sd      s7, 72(a0)
        sd      s8, 80(a0)
        sd      s9, 88(a0)
        sd      s10, 96(a0)
        sd      s11, 104(a0)

        ld      ra, 0(a1)
        ld      sp, 8(a1)
        ld      s0, 16(a1)
        ld      s1, 24(a1)
        ld      s2, 32(a1)
        ld      s3, 40(a1)
        ld      s4, 48(a1)
        ld      s5, 56(a1)
        ld      s6, 64(a1)
        ld      s7, 72(a1)
        ld      s8, 80(a1)
        ld      s9, 88(a1)
        ld      s10, 96(a1)
        ld      s11, 104(a1)

        beqz    a2, 1f
        amoswap.w.rl zero, zero, (a2)   # *a2 = 0, after every store above
1:      ret

# uthread_boot_entry(boot): where an LWP that set_concurrency added starts,
# with sp at the top of the library's one boot stack (user/lib/uthread_level.c).
# Other LWPs may start there at the same time, so it touches no memory but the
# lock until it holds the lock: it spins on boot->lock (offset 0) using
# registers only, then jumps to boot->start (offset 8) with tp = 0 (no LWP
# record yet), the lock held. uthread_upcall_entry is the same for a
# replacement activation (lab upcalls), going to boot->upcall_start (16).
# a0-a2 reach the start function as they came from the kernel: the boot
# struct, and for a replacement its LWP id and its lwp_tidword word (0 and
# 0 for an LWP set_concurrency added).
#
#   void uthread_boot_entry(void *boot, int lwpid, int *word);   (the same for uthread_upcall_entry)

        .globl  uthread_upcall_entry
uthread_upcall_entry:
        li      t2, 16
        j       2f
        .globl  uthread_boot_entry
uthread_boot_entry:
        li      t2, 8
2:      lw      t1, 0(a0)               # wait until the lock looks free
        bnez    t1, 2b
        li      t1, 1
        amoswap.w.aq t1, t1, (a0)
        bnez    t1, 2b
        li      tp, 0
        add     t0, a0, t2
        ld      t0, 0(t0)
        jr      t0
