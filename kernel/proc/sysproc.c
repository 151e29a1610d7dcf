// Process system calls: fork, exit, wait, kill, exec, getpid, sbrk, sleep,
// uptime, poweroff, procinfo, and the kdebug and trace hooks for tests and
// tools.
#include "proc/proc.h"
#include "proc/syscall.h"
#include "proc/kdebug.h"
#include "thread/lwp.h"
#include "thread/klt.h"
#include "thread/cpu.h"
#include "thread/clock.h"
#include "thread/sleepq.h"
#include "thread/trace.h"
#include "thread/profile.h"
#include "thread/lockstat.h"
#include "vm/kalloc.h"
#include "dev/virtio.h"
#include "arch/sbi.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "uapi/kdebug.h"
#include "uapi/procinfo.h"
#include "vm/vm.h"
#include "arch/memlayout.h"

int kdebug_preempt_test(void);
int kdebug_remote_wake_test(void);
int kdebug_ipiq_full_test(void);
int kdebug_doorbell_test(void);
int kdebug_sleeplock_test(void);
int kdebug_reaper_test(struct reaper_trim *out);
int kdebug_ipiq_nest_test(void);

uint64 sys_fork(void)   { return proc_fork(); }
uint64 sys_exit(void)   { proc_exit(arg_int(0)); }
uint64 sys_wait(void)   { return proc_wait(arg_addr(0)); }
uint64 sys_kill(void)   { return proc_kill(arg_int(0)); }
uint64 sys_getpid(void) { return curproc()->pid; }
uint64 sys_uptime(void) { return clock_ticks(); }

uint64 sys_sbrk(void)
{
  uint64 old;
  if (proc_grow(arg_int(0), &old) < 0)
    return -1;
  return USER_BASE + old;
}

uint64 sys_sleep(void)
{
  int n = arg_int(0);
  if (n < 0)
    return -1;
  uint64 until = clock_ticks() + n;
  struct lwp *l = curlwp();
  // One reading of the clock per turn: read twice, a tick between the test
  // and the argument asked for a sleep of 0 ticks, i.e. without a timeout,
  // and nothing ever woke it (the fuzzer's watchdog LWP slept for good).
  for (uint64 now; (now = clock_ticks()) < until;) {
    if (lwp_interrupted(l))
      return -1;
    sleepq_sleep_sig(l, 0, until - now);
  }
  return 0;
}

// exec(path, argv): argv strings are copied into kernel pages first.
uint64 sys_exec(void)
{
  char path[MAXPATH];
  char *argv[MAXARG + 1];
  uint64 uargv = arg_addr(1);
  int argc = 0, result = -1;
  if (arg_str(0, path, sizeof(path)) < 0)
    return -1;
  for (;; argc++) {
    uint64 uarg;
    if (argc > MAXARG || fetch_addr(uargv + argc * sizeof(uint64), &uarg) < 0)
      goto out;
    if (uarg == 0)
      break;
    if ((argv[argc] = kalloc()) == 0 || fetch_str(uarg, argv[argc], PGSIZE) < 0) {
      argc += argv[argc] != 0;
      goto out;
    }
  }
  argv[argc] = 0;
  result = proc_exec(path, argv);
out:
  for (int i = 0; i < argc; i++)
    kfree(argv[i]);
  return result;
}

uint64 sys_poweroff(void)
{
  printf("spindle: power off\n");
  sbi_shutdown();
}

uint64 sys_procinfo(void)
{
  return proc_info(arg_addr(0), arg_int(1));
}

uint64 sys_trace(void)
{
  return trace_control(arg_int(0), arg_addr(1), arg_int(2));
}

uint64 sys_profile(void)
{
  return profile_control(arg_int(0), arg_addr(1), arg_int(2));
}

// Copy every started CPU's counters to the user array at uaddr.
static int cpu_info(uint64 uaddr)
{
  int n = 0;
  for (int i = 0; i < NCPU; i++) {
    struct cpu *c = &cpus[i];
    if (!c->started)
      continue;
    struct cpuinfo ci = { c->id, c->nuser, c->stats.switch_same_proc, c->stats.switch_cross_proc,
                          c->stats.switch_kernel, c->stats.preempt, c->stats.ipi_sent,
                          c->stats.ipi_recv, c->stats.migrations, c->stats.user_entries,
                          c->stats.sig_nudges };
    if (copyout(curproc()->pagetable, uaddr + n * sizeof(ci), &ci, sizeof(ci)) < 0)
      return -1;
    n++;
  }
  return n;
}

uint64 sys_kdebug(void)
{
  long arg = arg_addr(1);
  if (!kdebug_allowed(arg_int(0)))
    return -1;                      // a test hook, not armed: proc/kdebug.c
  switch (arg_int(0)) {
  case KD_CRASH_AFTER_WRITES:
    disk_crash_after = arg;
    return 0;
  case KD_SET_MAX_THREADS: {
    if (arg < 1 || arg > MAX_THREADS)
      return -1;
    int old = max_threads;
    max_threads = arg;
    return old;
  }
  case KD_GET_MAX_THREADS:  return max_threads;
  case KD_LIVE_THREADS:     return klt_live_count();
  case KD_FREE_PAGES:       return kalloc_free_pages();
  case KD_PREEMPT_TEST:     return kdebug_preempt_test();
  case KD_REMOTE_WAKE_TEST: return kdebug_remote_wake_test();
  case KD_CPU_STATS:        return cpu_info(arg);
  case KD_FAIL_ALLOC: {
    int fired = kalloc_fail_fired();
    kalloc_fail_after(arg);
    return fired;
  }
  case KD_CACHED_PAGES:
    if (arg == 1)
      klt_deathrow_drain();
    return klt_cached_pages();
  case KD_IPIQ_FULL_TEST:   return kdebug_ipiq_full_test();
  case KD_DOORBELL_TEST:    return kdebug_doorbell_test();
  case KD_IPIQ_NEST_TEST:   return kdebug_ipiq_nest_test();
  case KD_REAPER_TEST: {
    struct reaper_trim rt;
    if (kdebug_reaper_test(&rt) < 0)
      return -1;
    return copyout(curproc()->pagetable, arg, &rt, sizeof(rt));
  }
  case KD_COPY_DELAY:
    uvm_set_copy_delay(arg);
    return 0;
  case KD_LWP_ALLOC_DELAY:
    if (arg < 0 || arg > 100)
      return -1;
    lwp_alloc_delay = arg;
    lwp_delayed_allocs = 0;
    return 0;
  case KD_LWP_ALLOCS:       return lwp_allocs;
  case KD_SCHEDCTL_DELAY:
    if (arg < 0 || arg > 100)
      return -1;
    schedctl_delay = arg;
    return 0;
  case KD_LWP_START_WAIT:
    if (arg < 0 || arg > 100)
      return -1;
    lwp_start_wait = arg;
    return 0;
  case KD_SIG_ABORT_WAIT:
    if (arg < 0 || arg > 100)
      return -1;
    return sleepq_abort_wait(curproc(), arg);
  case KD_UPCALL_STATS:     return upcall_stats(arg);
  case KD_UPCALL_RESET:
    upcall_reset_max();
    return 0;
  case KD_UPCALL_DELAY:     return upcall_set_delay(arg);
  case KD_UPCALL_GAP:       return upcall_set_gap(arg);
  case KD_UPCALL_ROOM_WAIT: return upcall_set_room_wait(arg);
  case KD_SPARE_DELAY:      return upcall_set_spare_delay(arg);
  case KD_SLEEPLOCK_TEST:   return kdebug_sleeplock_test();
  case KD_LOCKSTAT:         return lockstat_copyout(arg);
  case KD_BENCH_SLICE:
    if (arg != 0 && (arg < 20 || arg > 100000))
      return -1;
    return clock_bench_slice(arg);
  case KD_BENCH_TIMES: {
    struct bench_times bt;
    clock_bench_times(&bt);
    return copyout(curproc()->pagetable, arg, &bt, sizeof bt);
  }
  case KD_DUMP:
    klt_dump();
    proc_dump();
    return 0;
  }
  return -1;
}
