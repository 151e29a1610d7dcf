// The user-space API of Spindle: the one header a user program includes.
// It brings in the kernel/user shared types and declares every system call
// (stubs in user/lib/usys.S) and the small C library (user/lib/*.c).
#pragma once
#include "uapi/types.h"
#include "uapi/stat.h"
#include "uapi/fcntl.h"
#include "uapi/mman.h"
#include "uapi/schedctl.h"
#include "uapi/procinfo.h"
#include "uapi/uframe.h"
#include "uapi/signal.h"

// ---- processes --------------------------------------------------------------
int fork(void);
void exit(int status) __attribute__((noreturn));
int wait(int *status);               // pid of a reaped child (its exit status in *status) or -1
int kill(int pid);
int exec(const char *path, char **argv);
int getpid(void);
char *sbrk(int n);                   // old break, or (char *)-1
int sleep(int ticks);
int uptime(void);                    // ticks since boot
int poweroff(void);

// ---- files ------------------------------------------------------------------
int pipe(int *fds);
int write(int fd, const void *buf, int n);
int read(int fd, void *buf, int n);
int close(int fd);
int open(const char *path, int flags);
int mknod(const char *path, short major, short minor);
int unlink(const char *path);
int fstat(int fd, struct stat *st);
int link(const char *oldpath, const char *newpath);
int mkdir(const char *path);
int chdir(const char *path);
int dup(int fd);

// ---- lightweight processes (LWPs) --------------------------------------------
// lwp_create starts a new LWP of this process at fn(arg) on the stack whose
// top (16-byte aligned, highest address + 1) is stack_top. The kernel enters
// fn with ra = 0, so fn must end by calling lwp_exit(): it must not return.
// Returns the new LWP's id, or -1.
int lwp_create(void (*fn)(void *), void *arg, void *stack_top);
void lwp_exit(void) __attribute__((noreturn));
int lwp_self(void);
int lwp_join(int lwpid);
int getcpu(void);
int futex_wait(int *addr, int val, int ticks);  // sleep while *addr == val (0 ticks: no timeout)
int futex_wake(int *addr, int n);               // wake up to n waiters on addr
int mprotect(void *addr, int len, int prot);
// Kicks (kernel/proc/kick.c): lwp_kick asks LWP lwpid of this process to run
// the registered preemption handler at its next return to user mode, at once
// (by IPI) if it runs on another CPU; -1 for a bad, own or ended id or no
// handler. The handler runs handler(frame) on the kicked LWP's stack, frame
// holding its interrupted registers; lwp_resume(frame) continues there
// (returns -1 only if frame is bad). lwp_preempt_handler(0) removes it.
int lwp_kick(int lwpid);
int lwp_preempt_handler(void (*handler)(struct uframe *frame));
int lwp_resume(struct uframe *frame);
// lwp_tidword(&word): the calling LWP keeps the id of the user thread it runs
// in word, so a fatal fault message can name that thread (0 to forget it).
int lwp_tidword(int *word);

// ---- signals (kernel/proc/signal.c, docs/signals.md) -------------------------
// The handler table belongs to the process; the mask and the signals sent to
// one LWP belong to that LWP. A signal sent to a process is taken by one LWP
// that does not block it. Each call returns -1, changing nothing, for a bad
// signal number, pid, LWP id, how or pointer.
sighandler_t signal(int sig, sighandler_t h);       // set the process's handler; the old one, or (sighandler_t)-1
int sigsend(int pid, int sig);                       // to a process; 0 or -1
int lwp_sigsend(int lwpid, int sig);                 // to one LWP of this process; 0 or -1
int sigprocmask(int how, uint64 set, uint64 *old);   // the calling LWP's mask (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK)
int sigpending(uint64 *set);                         // pending for the calling LWP or its process
int alarm(int ticks);                                // SIGALRM to the process after ticks (0 cancels); ticks left of the old one

// ---- scheduling labs and introspection ----------------------------------------
struct schedctl *schedctl(void);
int set_concurrency(int n);          // n LWPs run this process's user threads (0: one per CPU); 0 or -1
int get_concurrency(void);
// Where LWPs added by set_concurrency start: entry(arg) on the shared boot
// stack whose top is stack_top (the uthread library registers this; the stub
// is in user/lib/uthread_level.c).
int concurrency_entry(void (*entry)(void *), void *arg, void *stack_top);
struct upcall_area;
int upcall_register(struct upcall_area *area);
int procinfo(struct procinfo *buf, int max);    // fills up to max entries, returns the count
int kdebug(int cmd, long arg);
// Scheduler trace rings (kernel/thread/trace.c): cmd 1 clears and starts,
// 2 stops, 3 copies the ring of CPU (n >> 16), at most (n & 0xffff) records
// (struct trace_rec, 24 bytes), oldest first, into buf and returns how many (-1 if the kernel
// was built with -DNO_TRACE). The user command is user/bin/trace.c.
int trace(int cmd, void *buf, int n);
// The sampling profiler (kernel/thread/profile.c; commands and records in
// kernel/uapi/profile.h). The user command is user/bin/prof.c.
int profile(int cmd, void *buf, int n);

// ---- C library: user/lib/ulib.c ---------------------------------------------
char *strcpy(char *dst, const char *src);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, uint n);
uint strlen(const char *s);
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, uint n);
void *memcpy(void *dst, const void *src, uint n);
int memcmp(const void *a, const void *b, uint n);
char *strchr(const char *s, char c);
char *gets(char *buf, int max);                 // one line from fd 0, newline kept
int stat(const char *path, struct stat *st);
int atoi(const char *s);

// ---- formatted output: user/lib/printf.c ---------------------------------------
// Conversions: %d %u %x %p %s %c %ld %lu %lx %%, with an optional
// '-' or '0' flag and a field width (e.g. %-8s, %5d, %08x).
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// ---- heap: user/lib/umalloc.c --------------------------------------------------
void *malloc(uint nbytes);                      // 0 when memory runs out
void free(void *p);
void malloc_set_reclaim(void (*fn)(void));      // fn frees cached memory when the heap is full
extern void (*malloc_test_hook)(void);          // tests: called in malloc holding the heap lock

// ---- cycle counters (the kernel enables them in scounteren) ----------------------
static inline uint64 rdtime(void)
{
  uint64 t;
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

static inline uint64 rdinstret(void)
{
  uint64 n;
  asm volatile("rdinstret %0" : "=r"(n));
  return n;
}
