// Pipes: a ring buffer in one kernel page, filled by pipe_write and drained
// by pipe_read, each sleeping while the other side must act. User memory is
// copied outside the pipe's spinlock through a small bounce buffer, so a
// copy never runs inside a critical section. Owns struct pipe only; open
// files are fs/file.c's.
#include "fs/pipe.h"
#include "fs/file.h"
#include "arch/riscv.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "thread/sleepq.h"
#include "thread/lwp.h"
#include "vm/kalloc.h"
#include "vm/vm.h"
#include "proc/proc.h"

#define PIPESIZE 2048
#define PIPE_CHUNK 128            // bounce buffer on the kernel stack

struct pipe {
  // Shared by the reader's and the writer's CPUs.
  struct spinlock lock;
  uint nread;                     // bytes read so far (wraps)
  uint nwrite;                    // bytes written so far (wraps)
  int readopen;
  int writeopen;
  char data[PIPESIZE];
};

_Static_assert(sizeof(struct pipe) <= PGSIZE, "a pipe fits one page");

int pipe_alloc(struct file **rf, struct file **wf)
{
  struct pipe *pi = 0;
  *rf = *wf = 0;
  if (!(*rf = file_alloc()) || !(*wf = file_alloc()) || !(pi = kalloc())) {
    if (*rf)
      file_close(*rf);
    if (*wf)
      file_close(*wf);
    *rf = *wf = 0;
    return -1;
  }
  spinlock_init(&pi->lock, "pipe");
  pi->nread = pi->nwrite = 0;
  pi->readopen = pi->writeopen = 1;
  (*rf)->type = FD_PIPE;
  (*rf)->readable = 1;
  (*rf)->writable = 0;
  (*rf)->pipe = pi;
  (*wf)->type = FD_PIPE;
  (*wf)->readable = 0;
  (*wf)->writable = 1;
  (*wf)->pipe = pi;
  return 0;
}

void pipe_close(struct pipe *pi, int writable)
{
  spinlock_acquire(&pi->lock);
  if (writable) {
    pi->writeopen = 0;
    sleepq_wakeup(&pi->nread);
  } else {
    pi->readopen = 0;
    sleepq_wakeup(&pi->nwrite);
  }
  int last = !pi->readopen && !pi->writeopen;
  spinlock_release(&pi->lock);
  if (last)
    kfree(pi);
}

static uint pipe_space(struct pipe *pi) { return PIPESIZE - (pi->nwrite - pi->nread); }

// Puts m bytes into the pipe, waiting for room. Returns how many went in
// before the reader vanished or we were killed.
static int pipe_put(struct pipe *pi, const char *src, int m)
{
  int put = 0;
  spinlock_acquire(&pi->lock);
  while (put < m) {
    if (!pi->readopen || lwp_interrupted(curlwp()))
      break;
    if (pipe_space(pi) == 0) {
      sleepq_wakeup(&pi->nread);
      sleepq_sleep_sig(&pi->nwrite, &pi->lock, 0);
      continue;
    }
    pi->data[pi->nwrite++ % PIPESIZE] = src[put++];
  }
  sleepq_wakeup(&pi->nread);
  spinlock_release(&pi->lock);
  return put;
}

// Writes all n bytes unless the reader closes, we are killed, or the user
// buffer is bad; returns the bytes written, or -1 when none were.
int pipe_write(struct pipe *pi, uint64 addr, int n)
{
  char bounce[PIPE_CHUNK];
  int done = 0;
  while (done < n) {
    int m = n - done < PIPE_CHUNK ? n - done : PIPE_CHUNK;
    if (copyin(curproc()->pagetable, bounce, addr + done, m) < 0)
      break;
    int put = pipe_put(pi, bounce, m);
    done += put;
    if (put < m)
      break;
  }
  return done > 0 || n == 0 ? done : -1;
}

// Waits until the pipe has data or no writer is left; then copies up to m
// bytes into dst WITHOUT taking them, and says where they start (*at).
// Returns the count (0 at end of file), or -1 when killed while waiting.
static int pipe_peek(struct pipe *pi, char *dst, int m, uint *at)
{
  spinlock_acquire(&pi->lock);
  while (pi->nread == pi->nwrite && pi->writeopen) {
    if (lwp_interrupted(curlwp())) {
      spinlock_release(&pi->lock);
      return -1;
    }
    sleepq_sleep_sig(&pi->nread, &pi->lock, 0);
  }
  int got = 0;
  *at = pi->nread;
  while (got < m && pi->nread + got != pi->nwrite) {
    dst[got] = pi->data[(pi->nread + got) % PIPESIZE];
    got++;
  }
  spinlock_release(&pi->lock);
  return got;
}

// Takes the n bytes peeked at `at`, unless another reader took bytes
// meanwhile (then the peek is stale: 0, and the caller peeks again).
static int pipe_take(struct pipe *pi, uint at, int n)
{
  spinlock_acquire(&pi->lock);
  int ok = pi->nread == at;
  if (ok && n > 0) {
    pi->nread += n;
    sleepq_wakeup(&pi->nwrite);
  }
  spinlock_release(&pi->lock);
  return ok;
}

static int pipe_has_data(struct pipe *pi)
{
  spinlock_acquire(&pi->lock);
  int has = pi->nread != pi->nwrite;
  spinlock_release(&pi->lock);
  return has;
}

// Like a terminal read: waits for some data, then returns what is there
// (up to n) without waiting for more. 0 means end of file. Bytes leave the
// pipe only once they are in the user's buffer: a bad buffer gets -1 (or
// the count delivered before the bad page) and the rest stays in the pipe.
int pipe_read(struct pipe *pi, uint64 addr, int n)
{
  char bounce[PIPE_CHUNK];
  int done = 0;
  while (done < n) {
    if (done > 0 && !pipe_has_data(pi))
      break;
    int m = n - done < PIPE_CHUNK ? n - done : PIPE_CHUNK;
    uint at;
    int got = pipe_peek(pi, bounce, m, &at);
    if (got < 0)
      return done > 0 ? done : -1;
    if (got == 0)
      break;
    int put = copyout_prefix(curproc()->pagetable, addr + done, bounce, got);
    if (!pipe_take(pi, at, put))
      continue;                  // another reader was faster: peek again
    done += put;
    if (put < got)
      return done > 0 ? done : -1;
  }
  return done;
}
