// Processes: the hard state shared by all LWPs of a program: address space,
// open files, working directory, identity, exit status, LWP list.
#pragma once
#include "param.h"
#include "lib/spinlock.h"
#include "thread/sleeplock.h"
#include "arch/riscv.h"
#include "thread/lwp.h"
#include "proc/upcall.h"
#include "uapi/signal.h"

enum proc_state { PROC_UNUSED, PROC_ALIVE, PROC_ZOMBIE };

struct file;
struct inode;
struct schedctl;

struct proc {
  struct spinlock lock;         // state, killed, xstate, the LWP list; also taken with
                                // interrupts off (lwp_offcpu): never held across a shootdown
  enum proc_state state;
  int pid;
  struct proc *parent;          // under wait_lock
  struct proc *children;        // under wait_lock: the first child, linked by sibling
  struct proc *sibling;         //   (so wait looks at its own children only)
  struct sleeplock vmlock;      // changes to the address space: sbrk, mprotect, fork's copy
  pagetable_t pagetable;
  uint64 sz;                    // bytes of user memory above USER_BASE (changed under vmlock)
  struct file *ofile[NOFILE];
  struct inode *cwd;
  char name[16];
  int killed;                   // kill() was called
  int exiting;                  // exit() has begun, or exec() ends the other LWPs
  int xstate;                   // exit status for wait()
  struct lwp *lwps;             // every LWP not yet reaped
  int nlwp;                     // LWPs alive (not yet dead)
  int next_lwpid;
  int concurrency;              // level asked for with set_concurrency
  uint64 lwp_entry;             // user entry of LWPs the kernel adds (concurrency lab)
  uint64 lwp_entry_arg;         //   their a0
  uint64 lwp_entry_stack;       //   their sp: the library's boot stack (see concurrency.c)
  struct upcall_proc upc;       // scheduler activations (upcalls lab, proc/upcall.c)
  struct schedctl *schedctl;    // kernel address of the schedctl page, or NULL
  uint64 preempt_handler;       // user handler run by a kicked LWP, or 0 (proc/kick.c)
  // Signals (proc/signal.c), under lock: the handlers are hard state; each
  // LWP's mask and own pending set are in struct lwp.
  uint64 sighandler[NSIG];      // user address, SIG_DFL or SIG_IGN, per signal
  uint64 sigtramp;              // user code that calls sigreturn (the library's)
  uint64 sigpending;            // process-directed, not yet taken by an LWP
  uint64 alarm_tick;            // tick at which SIGALRM is posted, 0 = none
  struct proc *next_free;       // PROC_UNUSED: the next free slot (under table_lock)
};

extern struct proc procs[NPROC];

static inline struct proc *curproc(void)
{
  struct lwp *l = curlwp();
  return l ? l->proc : 0;
}
void proc_init(void);
void proc_user_init(void);     // create the first process (/init)
int  proc_fork(void);
void proc_exit(int status) __attribute__((noreturn));
int  proc_wait(uint64 status_addr);
int  proc_kill(int pid);
int  proc_grow(int n, uint64 *oldsz);
void proc_end_other_lwps(struct proc *p);  // exit: one LWP remains
int  proc_single(struct proc *p);          // exec: the same, or -1 if an exit or kill came first
void proc_dump(void);
int  proc_info(uint64 uaddr, int max);
int  proc_exec(const char *path, char **argv);   // exec.c
void fd_table_copy(struct proc *child);          // sysfile.c: fork's copy of the open files
uint64 proc_schedctl(void);                       // map the schedctl page; user address of ours

// Copy to or from either user (user_addr != 0) or kernel memory, for code such
// as inode_read() that serves both exec (kernel buffers) and read() (user
// buffers). They use the current process's page table.
int either_copyout(int user_dst, uint64 dst, const void *src, uint64 len);
int either_copyin(void *dst, int user_src, uint64 src, uint64 len);
