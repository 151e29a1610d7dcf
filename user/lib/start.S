# Program entry point of every user program. The kernel enters _start with
# a0 = argc, a1 = argv and a 16-byte aligned sp; main's return value becomes
# the exit status.
        .section .text._start, "ax"    # placed first: entry = USER_BASE
        .globl _start
        .type _start, @function
_start:
        li ra, 0                # no caller: stops backtraces here
        call main               # a0, a1 are already argc, argv
        call exit               # a0 = main's return value; never returns
1:      j 1b
        .size _start, . - _start
