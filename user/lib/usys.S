# System-call stubs: one function per call, each putting the number from
# kernel/uapi/syscall.h in a7 and trapping with ecall. Arguments are already
# in a0-a5 and the kernel leaves the result in a0.
#include "uapi/syscall.h"

        .macro SYSCALL_STUB name, number
        .section .text
        .globl \name
        .type \name, @function
\name:
        li a7, \number
        ecall
        ret
        .size \name, . - \name
        .endm

# STUB(x) expands to the stub of system call x with number SYS_x.
#define STUB(x) SYSCALL_STUB x, SYS_##x

STUB(fork)
STUB(exit)
STUB(wait)
STUB(pipe)
STUB(read)
STUB(kill)
STUB(exec)
STUB(fstat)
STUB(chdir)
STUB(dup)
STUB(getpid)
STUB(sbrk)
STUB(sleep)
STUB(uptime)
STUB(open)
STUB(write)
STUB(mknod)
STUB(unlink)
STUB(link)
STUB(mkdir)
STUB(close)
STUB(poweroff)
STUB(lwp_create)
STUB(lwp_exit)
STUB(lwp_self)
STUB(lwp_join)
STUB(getcpu)
STUB(futex_wait)
STUB(futex_wake)
STUB(mprotect)
STUB(schedctl)
STUB(set_concurrency)
STUB(get_concurrency)
STUB(upcall_register)
STUB(procinfo)
STUB(kdebug)
STUB(trace)
STUB(concurrency_entry)
STUB(lwp_kick)
STUB(lwp_preempt_handler)
STUB(lwp_resume)
STUB(lwp_tidword)
STUB(profile)
STUB(sigsend)
STUB(lwp_sigsend)
STUB(sigprocmask)
STUB(sigpending)
STUB(alarm)

# signal(sig, handler) hands the kernel the trampoline too (in a2): a
# handler returns to it, and it gives the frame at sp back to sigreturn,
# which resumes the interrupted code with its registers and mask. Should
# sigreturn refuse the frame, there is nowhere to go: unimp ends the process.
        .section .text
        .globl signal
        .type signal, @function
signal:
        la a2, sigtramp
        li a7, SYS_signal
        ecall
        ret
        .size signal, . - signal

        .type sigtramp, @function
sigtramp:
        mv a0, sp
        li a7, SYS_sigreturn
        ecall
        unimp
        .size sigtramp, . - sigtramp
