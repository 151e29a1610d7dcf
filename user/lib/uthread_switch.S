# uthread_switch: the user-level context switch of the uthread library.
# Saves the callee-saved state (ra, sp, s0-s11; the kernel leaves user
# floating point off, so there is no fs0-fs11 to keep) of the running context
# into *a0, loads the one in *a1, and then, on the new stack, releases the
# spinlock *a2 (if a2 is not 0): the lock that keeps every other LWP away from
# the context just saved until it is complete and its stack no longer in use
# (user/lib/uthread.c, "switching threads"). Pure user code: no system call,
# and tp (which names the LWP, not the thread) is left alone. Layout matches
# struct ult_context in user/lib/uthread.c.
#
#   void uthread_switch(struct ult_context *save, struct ult_context *load, int *release);

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
