// System call numbers: the one list that the kernel dispatcher and the user
// stubs (user/usys.S) are both built from. Append only; never renumber.
#pragma once

#define SYS_fork            1
#define SYS_exit            2
#define SYS_wait            3
#define SYS_pipe            4
#define SYS_read            5
#define SYS_kill            6
#define SYS_exec            7
#define SYS_fstat           8
#define SYS_chdir           9
#define SYS_dup            10
#define SYS_getpid         11
#define SYS_sbrk           12
#define SYS_sleep          13
#define SYS_uptime         14
#define SYS_open           15
#define SYS_write          16
#define SYS_mknod          17
#define SYS_unlink         18
#define SYS_link           19
#define SYS_mkdir          20
#define SYS_close          21
#define SYS_poweroff       22
#define SYS_lwp_create     23
#define SYS_lwp_exit       24
#define SYS_lwp_self       25
#define SYS_lwp_join       26
#define SYS_getcpu         27
#define SYS_futex_wait     28
#define SYS_futex_wake     29
#define SYS_mprotect       30
#define SYS_schedctl       31
#define SYS_set_concurrency 32
#define SYS_get_concurrency 33
#define SYS_upcall_register 34
#define SYS_procinfo       35
#define SYS_kdebug         36
#define SYS_trace          37
#define SYS_concurrency_entry 38
#define SYS_lwp_kick       39
#define SYS_lwp_preempt_handler 40
#define SYS_lwp_resume     41
#define SYS_lwp_tidword    42
#define SYS_profile        57
