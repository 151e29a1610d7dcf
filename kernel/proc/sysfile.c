// File-system system calls: argument checking, the per-process descriptor
// table, and name-space changes (open/create, link, unlink, mkdir, mknod,
// chdir). Every argument a user passes is validated here; nothing a program
// passes may panic the kernel. Owns no on-disk structure: it goes through
// fs/fs.c's inode and directory helpers, inside log ops.
#include "uapi/types.h"
#include "uapi/fcntl.h"
#include "uapi/stat.h"
#include "uapi/fs.h"
#include "param.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "lib/printf.h"
#include "fs/fs.h"
#include "fs/inode.h"
#include "fs/file.h"
#include "fs/pipe.h"
#include "vm/vm.h"
#include "proc/proc.h"
#include "proc/syscall.h"

// LWPs of one process share ofile[]; this keeps their open/close/dup from
// racing on a slot (fd_get reads a slot without it). Shared by every CPU.
// Statically initialised (as spinlock_init would) so no boot hook is needed.
static struct spinlock fd_lock = { .locked = 0, .name = "fdtable", .cpu = -1 };

// Returns a new reference to the file open at fd, or 0 for a bad fd. The
// caller drops it with file_close, so a sibling's close cannot free the file
// under us. Every read and write starts here, so it takes no lock: it takes
// a reference to the file it finds in the slot, then looks again, and keeps
// the reference only if the slot still holds that file (a sibling may have
// closed it in between, and the struct may even be reused by then; it is
// never freed memory, and file_tryref refuses a file whose count is 0).
static struct file *fd_get(int fd)
{
  if (fd < 0 || fd >= NOFILE)
    return 0;
  struct file **slot = &curproc()->ofile[fd];
  for (;;) {
    struct file *f = __atomic_load_n(slot, __ATOMIC_SEQ_CST);
    if (f == 0)
      return 0;
    if (!file_tryref(f))
      continue;              // being closed: the slot no longer holds it
    if (__atomic_load_n(slot, __ATOMIC_SEQ_CST) == f)
      return f;
    file_close(f);           // the slot changed meanwhile: look again
  }
}

static struct file *arg_file(int n)
{
  return fd_get(arg_int(n));
}

// Gives f (and the caller's reference) a descriptor; -1 when none is free.
static int fd_alloc(struct file *f)
{
  struct proc *p = curproc();
  spinlock_acquire(&fd_lock);
  for (int fd = 0; fd < NOFILE; fd++) {
    if (!p->ofile[fd]) {
      p->ofile[fd] = f;
      spinlock_release(&fd_lock);
      return fd;
    }
  }
  spinlock_release(&fd_lock);
  return -1;
}

// Empties slot fd and hands back its reference, or 0 if it was not open.
static struct file *fd_take(int fd)
{
  if (fd < 0 || fd >= NOFILE)
    return 0;
  struct proc *p = curproc();
  spinlock_acquire(&fd_lock);
  struct file *f = p->ofile[fd];
  p->ofile[fd] = 0;
  spinlock_release(&fd_lock);
  return f;
}

// fork: the child gets a reference to each file open in the caller, read
// under the lock so that a sibling's close cannot free a file between the
// read of the slot and the file_dup.
void fd_table_copy(struct proc *child)
{
  struct proc *p = curproc();
  spinlock_acquire(&fd_lock);
  for (int fd = 0; fd < NOFILE; fd++)
    if (p->ofile[fd])
      child->ofile[fd] = file_dup(p->ofile[fd]);
  spinlock_release(&fd_lock);
}

// Undoes fd_alloc(f) = fd of a call that fails after it (fd -1: f never got
// a slot). A sibling LWP may have closed fd meanwhile, and that close took
// the slot's reference with it: f is closed here only if the slot still
// holds it.
static void fd_untake(int fd, struct file *f)
{
  int ours = fd < 0;
  if (fd >= 0) {
    struct proc *p = curproc();
    spinlock_acquire(&fd_lock);
    if (p->ofile[fd] == f) {
      p->ofile[fd] = 0;
      ours = 1;
    }
    spinlock_release(&fd_lock);
  }
  if (ours)
    file_close(f);
}

static int arg_path(int n, char *path)
{
  return arg_str(n, path, MAXPATH) < 0 ? -1 : 0;
}

uint64 sys_dup(void)
{
  struct file *f = arg_file(0);
  if (!f)
    return -1;
  int fd = fd_alloc(f);
  if (fd < 0)
    file_close(f);
  return fd;
}

uint64 sys_read(void)
{
  int n = arg_int(2);
  uint64 addr = arg_addr(1);
  struct file *f = arg_file(0);
  if (!f)
    return -1;
  int r = n < 0 ? -1 : file_read(f, addr, n);
  file_close(f);
  return r;
}

uint64 sys_write(void)
{
  int n = arg_int(2);
  uint64 addr = arg_addr(1);
  struct file *f = arg_file(0);
  if (!f)
    return -1;
  int r = n < 0 ? -1 : file_write(f, addr, n);
  file_close(f);
  return r;
}

uint64 sys_close(void)
{
  struct file *f = fd_take(arg_int(0));
  if (!f)
    return -1;
  file_close(f);
  return 0;
}

uint64 sys_fstat(void)
{
  uint64 addr = arg_addr(1);
  struct file *f = arg_file(0);
  if (!f)
    return -1;
  int r = file_stat(f, addr);
  file_close(f);
  return r;
}

static int is_dot_or_dotdot(const char *name)
{
  return strncmp(name, ".", DIRSIZ) == 0 || strncmp(name, "..", DIRSIZ) == 0;
}

// Adds a name in an existing directory for ip (unlocked, referenced).
static int link_into(const char *path, struct inode *ip)
{
  char name[DIRSIZ + 1];
  struct inode *dp = path_parent(path, name);
  if (!dp)
    return -1;
  inode_lock(dp);
  int r = -1;
  if (dp->dev == ip->dev && !is_dot_or_dotdot(name))
    r = dir_link(dp, name, ip->inum);
  inode_unlockput(dp);
  return r;
}

// Links to directories are refused: they would make the tree a graph.
static int do_link(const char *old, const char *new)
{
  struct inode *ip = path_lookup(old);
  if (!ip)
    return -1;
  inode_lock(ip);
  if (ip->type == T_DIR || ip->nlink >= NLINK_MAX) {
    inode_unlockput(ip);
    return -1;
  }
  ip->nlink++;
  inode_update(ip);
  inode_unlock(ip);

  int r = link_into(new, ip);
  if (r < 0) {
    inode_lock(ip);
    ip->nlink--;
    inode_update(ip);
    inode_unlock(ip);
  }
  inode_put(ip);
  return r;
}

uint64 sys_link(void)
{
  char old[MAXPATH], new[MAXPATH];
  if (arg_path(0, old) < 0 || arg_path(1, new) < 0)
    return -1;
  log_begin_op();
  int r = do_link(old, new);
  log_end_op();
  return r;
}

// Removes the entry at off in dp (locked) naming ip (locked).
static void unlink_entry(struct inode *dp, uint off, struct inode *ip)
{
  struct dirent de;
  memset(&de, 0, sizeof(de));
  int w = inode_write(dp, 0, (uint64)&de, off, sizeof(de));
  assert(w == sizeof(de));       // overwrites an existing entry: no allocation
  if (ip->type == T_DIR) {       // its ".." no longer names dp
    dp->nlink--;
    inode_update(dp);
  }
  ip->nlink--;
  inode_update(ip);
}

static int do_unlink(const char *path)
{
  char name[DIRSIZ + 1];
  struct inode *dp = path_parent(path, name);
  if (!dp)
    return -1;
  inode_lock(dp);
  uint off = 0;
  uint inum = is_dot_or_dotdot(name) ? 0 : dir_find(dp, name, &off);
  struct inode *ip = inum ? inode_get(dp->dev, inum) : 0;
  if (!ip) {
    inode_unlockput(dp);
    return -1;
  }
  inode_lock(ip);
  int ok = ip->nlink > 0 && (ip->type != T_DIR || dir_is_empty(ip));
  if (ok)
    unlink_entry(dp, off, ip);
  inode_unlockput(ip);
  inode_unlockput(dp);
  return ok ? 0 : -1;
}

uint64 sys_unlink(void)
{
  char path[MAXPATH];
  if (arg_path(0, path) < 0)
    return -1;
  log_begin_op();
  int r = do_unlink(path);
  log_end_op();
  return r;
}

// Gives a new directory its "." and ".." entries. "." is not counted in
// nlink (it would keep the directory alive forever); ".." counts for dp.
static int dir_init(struct inode *ip, struct inode *dp)
{
  if (dir_link(ip, ".", ip->inum) < 0 || dir_link(ip, "..", dp->inum) < 0)
    return -1;
  dp->nlink++;
  inode_update(dp);
  return 0;
}

// Makes a new inode named by path in dp (locked). Returns it locked, or 0;
// on failure nothing stays allocated (nlink 0 frees it at inode_put).
static struct inode *create_in(struct inode *dp, const char *name, short type,
                               short major, short minor)
{
  if (is_dot_or_dotdot(name) || dp->nlink == 0)   // dp removed meanwhile
    return 0;
  struct inode *ip = inode_alloc(dp->dev, type);
  if (!ip)
    return 0;
  inode_lock(ip);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  inode_update(ip);
  int counted = 0;               // dp->nlink raised by dir_init
  int r = 0;
  if (type == T_DIR) {
    r = dir_init(ip, dp);
    counted = r == 0;
  }
  if (r == 0)
    r = dir_link(dp, name, ip->inum);
  if (r == 0)
    return ip;
  if (counted) {
    dp->nlink--;
    inode_update(dp);
  }
  ip->nlink = 0;
  inode_update(ip);
  inode_unlockput(ip);
  return 0;
}

// open(O_CREATE) of an existing file or device opens it; anything else that
// exists makes create fail. Returns the inode locked, or 0.
static struct inode *create(const char *path, short type, short major, short minor)
{
  char name[DIRSIZ + 1];
  struct inode *dp = path_parent(path, name);
  if (!dp)
    return 0;
  inode_lock(dp);
  uint inum = dir_find(dp, name, 0);
  if (inum) {
    struct inode *ip = inode_get(dp->dev, inum);
    inode_unlockput(dp);
    if (!ip)
      return 0;
    inode_lock(ip);
    if (type == T_FILE && (ip->type == T_FILE || ip->type == T_DEVICE))
      return ip;
    inode_unlockput(ip);
    return 0;
  }
  struct inode *ip = create_in(dp, name, type, major, minor);
  inode_unlockput(dp);
  return ip;
}

static int open_flags_ok(int omode)
{
  int known = O_RDONLY | O_WRONLY | O_RDWR | O_CREATE | O_TRUNC;
  if (omode & ~known)
    return 0;
  return (omode & (O_WRONLY | O_RDWR)) != (O_WRONLY | O_RDWR);
}

// Turns a locked inode into an open file on a new descriptor; -1 if the
// mode does not fit the inode or tables are full. Unlocks ip either way and
// keeps the reference only on success.
static int open_inode(struct inode *ip, int omode)
{
  int writable = (omode & (O_WRONLY | O_RDWR)) != 0;
  int bad = (ip->type == T_DIR && (writable || (omode & O_TRUNC))) ||
            (ip->type == T_DEVICE && (ip->major < 0 || ip->major >= NDEV));
  struct file *f = bad ? 0 : file_alloc();
  if (!f) {
    inode_unlockput(ip);
    return -1;
  }
  // Complete before it has a descriptor: from then on a sibling LWP may use
  // or close it, and its close puts the file's inode reference. So the
  // file gets a reference of its own and ours is kept until we are done.
  f->type = ip->type == T_DEVICE ? FD_DEVICE : FD_INODE;
  f->major = ip->major;
  f->ip = inode_dup(ip);
  f->off = 0;
  f->readable = !(omode & O_WRONLY);
  f->writable = writable;
  int fd = fd_alloc(f);
  if (fd < 0) {
    f->type = FD_NONE;           // never published: closed without its inode
    file_close(f);
    inode_put(ip);
  } else if ((omode & O_TRUNC) && ip->type == T_FILE) {
    inode_trunc(ip);
  }
  inode_unlockput(ip);
  return fd;
}

uint64 sys_open(void)
{
  char path[MAXPATH];
  int omode = arg_int(1);
  if (arg_path(0, path) < 0 || !open_flags_ok(omode))
    return -1;
  log_begin_op();
  struct inode *ip;
  if (omode & O_CREATE) {
    ip = create(path, T_FILE, 0, 0);
  } else {
    ip = path_lookup(path);
    if (ip)
      inode_lock(ip);
  }
  int fd = ip ? open_inode(ip, omode) : -1;
  log_end_op();
  return fd;
}

uint64 sys_mkdir(void)
{
  char path[MAXPATH];
  if (arg_path(0, path) < 0)
    return -1;
  log_begin_op();
  struct inode *ip = create(path, T_DIR, 0, 0);
  if (ip)
    inode_unlockput(ip);
  log_end_op();
  return ip ? 0 : -1;
}

uint64 sys_mknod(void)
{
  char path[MAXPATH];
  int major = arg_int(1);
  int minor = arg_int(2);
  if (arg_path(0, path) < 0 || major < 0 || major >= NDEV || minor < 0 || minor > 32767)
    return -1;
  log_begin_op();
  struct inode *ip = create(path, T_DEVICE, major, minor);
  if (ip)
    inode_unlockput(ip);
  log_end_op();
  return ip ? 0 : -1;
}

uint64 sys_chdir(void)
{
  char path[MAXPATH];
  if (arg_path(0, path) < 0)
    return -1;
  log_begin_op();
  struct inode *ip = path_lookup(path);
  if (!ip) {
    log_end_op();
    return -1;
  }
  inode_lock(ip);
  int is_dir = ip->type == T_DIR;
  inode_unlock(ip);
  if (!is_dir) {
    inode_put(ip);
    log_end_op();
    return -1;
  }
  struct inode *old = cwd_swap(ip);
  if (old)
    inode_put(old);
  log_end_op();
  return 0;
}

uint64 sys_pipe(void)
{
  uint64 fdarray = arg_addr(0);
  struct file *rf, *wf;
  if (pipe_alloc(&rf, &wf) < 0)
    return -1;
  int fd[2] = { fd_alloc(rf), -1 };
  if (fd[0] >= 0)
    fd[1] = fd_alloc(wf);
  if (fd[1] < 0 || copyout(curproc()->pagetable, fdarray, fd, sizeof(fd)) < 0) {
    fd_untake(fd[0], rf);
    fd_untake(fd[1], wf);
    return -1;
  }
  return 0;
}
