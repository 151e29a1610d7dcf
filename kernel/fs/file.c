// Open files: the system-wide file table and the read/write/stat/close
// operations that dispatch to pipes, inodes and character devices. Owns
// struct file and devsw[]; per-process descriptor tables belong to
// proc/sysfile.c, and inode internals to fs/fs.c.
#include "fs/file.h"
#include "fs/fs.h"
#include "fs/inode.h"
#include "fs/pipe.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "param.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "vm/vm.h"
#include "proc/proc.h"

struct devsw devsw[NDEV];

static struct {
  // Shared by every CPU: guards each file's ref and the free slots.
  struct spinlock lock;
  struct file file[NFILE];
} ftable;

void file_init(void)
{
  spinlock_init(&ftable.lock, "ftable");
}

// Returns a file with ref 1 and type FD_NONE, or 0 when the table is full.
struct file *file_alloc(void)
{
  spinlock_acquire(&ftable.lock);
  for (struct file *f = ftable.file; f < ftable.file + NFILE; f++) {
    if (f->ref == 0) {
      f->ref = 1;
      f->type = FD_NONE;
      f->readable = f->writable = 0;
      f->pipe = 0;
      f->ip = 0;
      f->off = 0;
      f->major = 0;
      spinlock_release(&ftable.lock);
      return f;
    }
  }
  spinlock_release(&ftable.lock);
  return 0;
}

// References are counted with atomic instructions, without the table lock
// (every read and write takes one and drops it): only a count that may
// reach 0, which frees the slot for file_alloc, is changed under the lock.
struct file *file_dup(struct file *f)
{
  assert(f->ref > 0);
  __sync_fetch_and_add(&f->ref, 1);
  return f;
}

// A new reference to f, unless its count is 0 (closed, maybe reused by
// the time we look): for fd_get, which found f without a lock.
int file_tryref(struct file *f)
{
  int ref = __atomic_load_n(&f->ref, __ATOMIC_SEQ_CST);
  while (ref > 0)
    if (__atomic_compare_exchange_n(&f->ref, &ref, ref + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return 1;
  return 0;
}

// The last close releases what the file refers to; that may free an
// unlinked inode, hence the op around inode_put.
void file_close(struct file *f)
{
  for (int ref = f->ref; ref > 1; ref = f->ref)
    if (__sync_bool_compare_and_swap(&f->ref, ref, ref - 1))
      return;              // not the last reference
  spinlock_acquire(&ftable.lock);
  assert(f->ref > 0);
  if (__sync_sub_and_fetch(&f->ref, 1) > 0) {
    spinlock_release(&ftable.lock);
    return;
  }
  struct file copy = *f;
  f->type = FD_NONE;
  spinlock_release(&ftable.lock);

  if (copy.type == FD_PIPE) {
    pipe_close(copy.pipe, copy.writable);
  } else if (copy.type == FD_INODE || copy.type == FD_DEVICE) {
    log_begin_op();
    inode_put(copy.ip);
    log_end_op();
  }
}

int file_stat(struct file *f, uint64 addr)
{
  if (f->type != FD_INODE && f->type != FD_DEVICE)
    return -1;
  struct stat st;
  inode_lock(f->ip);
  inode_stat(f->ip, &st);
  inode_unlock(f->ip);
  return copyout(curproc()->pagetable, addr, &st, sizeof(st)) < 0 ? -1 : 0;
}

static struct devsw *device_of(struct file *f)
{
  if (f->major < 0 || f->major >= NDEV)
    return 0;
  return &devsw[f->major];
}

int file_read(struct file *f, uint64 addr, int n)
{
  if (!f->readable || n < 0)
    return -1;
  if (f->type == FD_PIPE)
    return pipe_read(f->pipe, addr, n);
  if (f->type == FD_DEVICE) {
    struct devsw *d = device_of(f);
    return d && d->read ? d->read(1, addr, n) : -1;
  }
  if (f->type != FD_INODE)
    return -1;
  inode_lock(f->ip);
  int r = inode_read(f->ip, 1, addr, f->off, n);
  if (r > 0)
    f->off += r;
  inode_unlock(f->ip);
  return r;
}

// Largest write that fits one op: an unaligned chunk of this size touches
// MAXOPBLOCKS-4 data blocks, plus the inode, the indirect block and up to
// two bitmap blocks.
#define WRITE_CHUNK ((MAXOPBLOCKS - 5) * BSIZE)
_Static_assert(WRITE_CHUNK > 0, "MAXOPBLOCKS too small for file writes");

static int file_write_inode(struct file *f, uint64 addr, int n)
{
  int done = 0;
  while (done < n) {
    int m = n - done < WRITE_CHUNK ? n - done : WRITE_CHUNK;
    log_begin_op();
    inode_lock(f->ip);
    int r = inode_write(f->ip, 1, addr + done, f->off, m);
    if (r > 0)
      f->off += r;
    inode_unlock(f->ip);
    log_end_op();
    if (r <= 0)
      break;
    done += r;
    if (r < m)
      break;                       // file at its size limit or disk full
  }
  return done > 0 || n == 0 ? done : -1;
}

int file_write(struct file *f, uint64 addr, int n)
{
  if (!f->writable || n < 0)
    return -1;
  if (f->type == FD_PIPE)
    return pipe_write(f->pipe, addr, n);
  if (f->type == FD_DEVICE) {
    struct devsw *d = device_of(f);
    return d && d->write ? d->write(1, addr, n) : -1;
  }
  if (f->type != FD_INODE)
    return -1;
  return file_write_inode(f, addr, n);
}
