// The system-call dispatcher: the number in a7 selects a sys_* function,
// whose result goes back in a0. Argument helpers read a0..a5 of the
// calling LWP's trap frame; pointers are checked when they are used
// (copyin/copyout fail on anything that is not mapped user memory).
#include "proc/syscall.h"
#include "proc/proc.h"
#include "thread/lwp.h"
#include "vm/vm.h"
#include "lib/printf.h"
#include "uapi/syscall.h"

int fetch_addr(uint64 addr, uint64 *ip)
{
  return copyin(curproc()->pagetable, ip, addr, sizeof(*ip));
}

int fetch_str(uint64 addr, char *buf, int max)
{
  if (copyinstr(curproc()->pagetable, buf, addr, max) < 0)
    return -1;
  int n = 0;
  while (buf[n])
    n++;
  return n;
}

int arg_str(int n, char *buf, int max)
{
  return fetch_str(arg_addr(n), buf, max);
}

// The system calls, each in the file of its subsystem.
uint64 sys_fork(void);
uint64 sys_exit(void);
uint64 sys_wait(void);
uint64 sys_pipe(void);
uint64 sys_read(void);
uint64 sys_kill(void);
uint64 sys_exec(void);
uint64 sys_fstat(void);
uint64 sys_chdir(void);
uint64 sys_dup(void);
uint64 sys_getpid(void);
uint64 sys_sbrk(void);
uint64 sys_sleep(void);
uint64 sys_uptime(void);
uint64 sys_open(void);
uint64 sys_write(void);
uint64 sys_mknod(void);
uint64 sys_unlink(void);
uint64 sys_link(void);
uint64 sys_mkdir(void);
uint64 sys_close(void);
uint64 sys_poweroff(void);
uint64 sys_lwp_create(void);
uint64 sys_lwp_exit(void);
uint64 sys_lwp_self(void);
uint64 sys_lwp_join(void);
uint64 sys_getcpu(void);
uint64 sys_futex_wait(void);
uint64 sys_futex_wake(void);
uint64 sys_mprotect(void);
uint64 sys_schedctl(void);
uint64 sys_set_concurrency(void);
uint64 sys_get_concurrency(void);
uint64 sys_concurrency_entry(void);
uint64 sys_upcall_register(void);
uint64 sys_procinfo(void);
uint64 sys_kdebug(void);
uint64 sys_trace(void);
uint64 sys_profile(void);
uint64 sys_lwp_kick(void);
uint64 sys_lwp_preempt_handler(void);
uint64 sys_lwp_resume(void);
uint64 sys_lwp_tidword(void);
uint64 sys_signal(void);
uint64 sys_sigsend(void);
uint64 sys_lwp_sigsend(void);
uint64 sys_sigprocmask(void);
uint64 sys_sigpending(void);
uint64 sys_alarm(void);
uint64 sys_sigreturn(void);

static uint64 (*const syscalls[])(void) = {
  [SYS_fork]            = sys_fork,
  [SYS_exit]            = sys_exit,
  [SYS_wait]            = sys_wait,
  [SYS_pipe]            = sys_pipe,
  [SYS_read]            = sys_read,
  [SYS_kill]            = sys_kill,
  [SYS_exec]            = sys_exec,
  [SYS_fstat]           = sys_fstat,
  [SYS_chdir]           = sys_chdir,
  [SYS_dup]             = sys_dup,
  [SYS_getpid]          = sys_getpid,
  [SYS_sbrk]            = sys_sbrk,
  [SYS_sleep]           = sys_sleep,
  [SYS_uptime]          = sys_uptime,
  [SYS_open]            = sys_open,
  [SYS_write]           = sys_write,
  [SYS_mknod]           = sys_mknod,
  [SYS_unlink]          = sys_unlink,
  [SYS_link]            = sys_link,
  [SYS_mkdir]           = sys_mkdir,
  [SYS_close]           = sys_close,
  [SYS_poweroff]        = sys_poweroff,
  [SYS_lwp_create]      = sys_lwp_create,
  [SYS_lwp_exit]        = sys_lwp_exit,
  [SYS_lwp_self]        = sys_lwp_self,
  [SYS_lwp_join]        = sys_lwp_join,
  [SYS_getcpu]          = sys_getcpu,
  [SYS_futex_wait]      = sys_futex_wait,
  [SYS_futex_wake]      = sys_futex_wake,
  [SYS_mprotect]        = sys_mprotect,
  [SYS_schedctl]        = sys_schedctl,
  [SYS_set_concurrency] = sys_set_concurrency,
  [SYS_get_concurrency] = sys_get_concurrency,
  [SYS_upcall_register] = sys_upcall_register,
  [SYS_procinfo]        = sys_procinfo,
  [SYS_kdebug]          = sys_kdebug,
  [SYS_trace]           = sys_trace,
  [SYS_concurrency_entry] = sys_concurrency_entry,
  [SYS_lwp_kick]        = sys_lwp_kick,
  [SYS_lwp_preempt_handler] = sys_lwp_preempt_handler,
  [SYS_lwp_resume]      = sys_lwp_resume,
  [SYS_lwp_tidword]     = sys_lwp_tidword,
  [SYS_profile]         = sys_profile,
  [SYS_signal]          = sys_signal,
  [SYS_sigsend]         = sys_sigsend,
  [SYS_lwp_sigsend]     = sys_lwp_sigsend,
  [SYS_sigprocmask]     = sys_sigprocmask,
  [SYS_sigpending]      = sys_sigpending,
  [SYS_alarm]           = sys_alarm,
  [SYS_sigreturn]       = sys_sigreturn,
};

void syscall(void)
{
  struct lwp *l = curlwp();
  uint64 num = l->tf.a7;
  if (num == 0 || num >= sizeof(syscalls) / sizeof(syscalls[0]) || syscalls[num] == 0) {
    printf("pid %d (%s): unknown system call %ld\n", l->proc->pid, l->proc->name, num);
    l->tf.a0 = -1;
    return;
  }
  l->syscall_nr = num;
  l->tf.a0 = syscalls[num]();
}
