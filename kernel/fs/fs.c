// The file system proper: superblock, free-block bitmap, inodes and their
// cache, file contents, directories and path names. Disk changes go through
// log_write inside ops; this file must not write the disk directly and owns
// neither the log area nor open-file state (fs/file.c, proc/sysfile.c).
#include "fs/fs.h"
#include "fs/inode.h"
#include "fs/buf.h"
#include "fs/log.h"
#include "uapi/fs.h"
#include "uapi/stat.h"
#include "param.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "proc/proc.h"

struct superblock sb;

static struct {
  // Shared by every CPU: guards ref, dev and inum of each cached inode.
  struct spinlock lock;
  struct inode inode[NINODE];
} icache;

// Guards every process's cwd pointer against a chdir by a sibling LWP.
static struct spinlock cwd_lock;

void fs_init(int dev)
{
  spinlock_init(&icache.lock, "icache");
  spinlock_init(&cwd_lock, "cwd");
  for (int i = 0; i < NINODE; i++)
    sleeplock_init(&icache.inode[i].lock, "inode");
  bio_init();

  struct buf *b = bio_read(dev, 1);
  memmove(&sb, b->data, sizeof(sb));
  bio_release(b);
  if (sb.magic != FS_MAGIC)
    panic("fs: bad superblock magic %x (not a Spindle image?)", sb.magic);
  log_init(dev, &sb);
}

// ---- blocks -----------------------------------------------------------

static void block_zero(uint dev, uint bno)
{
  struct buf *b = bio_read(dev, bno);
  memset(b->data, 0, BSIZE);
  log_write(b);
  bio_release(b);
}

// Returns a zeroed block, or 0 when the disk is full (callers fail softly).
static uint block_alloc(uint dev)
{
  for (uint base = 0; base < sb.size; base += BPB) {
    struct buf *b = bio_read(dev, BBLOCK(base, sb));
    for (uint bit = 0; bit < BPB && base + bit < sb.size; bit++) {
      uchar mask = 1 << (bit % 8);
      if (b->data[bit / 8] & mask)
        continue;
      b->data[bit / 8] |= mask;
      log_write(b);
      bio_release(b);
      block_zero(dev, base + bit);
      return base + bit;
    }
    bio_release(b);
  }
  return 0;
}

static void block_free(uint dev, uint bno)
{
  assert(bno > 0 && bno < sb.size);
  struct buf *b = bio_read(dev, BBLOCK(bno, sb));
  uint bit = bno % BPB;
  uchar mask = 1 << (bit % 8);
  if (!(b->data[bit / 8] & mask))
    panic("fs: freeing free block %d", (int)bno);
  b->data[bit / 8] &= ~mask;
  log_write(b);
  bio_release(b);
}

// ---- inodes -------------------------------------------------------------

// A cached inode is identified by (dev, inum) only while referenced; a slot
// with ref 0 is free to take for another inode.
struct inode *inode_get(uint dev, uint inum)
{
  struct inode *empty = 0;
  spinlock_acquire(&icache.lock);
  for (struct inode *ip = icache.inode; ip < icache.inode + NINODE; ip++) {
    if (ip->ref > 0 && ip->dev == dev && ip->inum == inum) {
      ip->ref++;
      spinlock_release(&icache.lock);
      return ip;
    }
    if (!empty && ip->ref == 0)
      empty = ip;
  }
  if (empty) {
    empty->dev = dev;
    empty->inum = inum;
    empty->ref = 1;
    empty->valid = 0;
  }
  spinlock_release(&icache.lock);
  return empty;
}

struct inode *inode_dup(struct inode *ip)
{
  spinlock_acquire(&icache.lock);
  assert(ip->ref > 0);
  ip->ref++;
  spinlock_release(&icache.lock);
  return ip;
}

// Writes a whole on-disk inode as free (type 0) or freshly claimed.
static void dinode_set_type(struct buf *b, uint inum, short type)
{
  struct dinode *dip = (struct dinode *)b->data + inum % IPB;
  memset(dip, 0, sizeof(*dip));
  dip->type = type;
  log_write(b);
}

// Claims a free on-disk inode. The test and the claim happen under one
// buffer lock: two creators must never both see the same inode free (both
// directory entries would then name one inode with nlink 1). If the cache
// is full, the claim is undone in the same op so no inode leaks.
struct inode *inode_alloc(uint dev, short type)
{
  for (uint inum = 1; inum < sb.ninodes; inum++) {
    struct buf *b = bio_read(dev, IBLOCK(inum, sb));
    struct dinode *dip = (struct dinode *)b->data + inum % IPB;
    if (dip->type != 0) {
      bio_release(b);
      continue;
    }
    dinode_set_type(b, inum, type);
    struct inode *ip = inode_get(dev, inum);
    if (!ip)
      dinode_set_type(b, inum, 0);
    bio_release(b);
    return ip;
  }
  return 0;
}

void inode_update(struct inode *ip)
{
  assert(sleeplock_holding(&ip->lock));
  struct buf *b = bio_read(ip->dev, IBLOCK(ip->inum, sb));
  struct dinode *dip = (struct dinode *)b->data + ip->inum % IPB;
  dip->type = ip->type;
  dip->major = ip->major;
  dip->minor = ip->minor;
  dip->nlink = ip->nlink;
  dip->size = ip->size;
  memmove(dip->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(b);
  bio_release(b);
}

static void inode_load(struct inode *ip)
{
  struct buf *b = bio_read(ip->dev, IBLOCK(ip->inum, sb));
  struct dinode *dip = (struct dinode *)b->data + ip->inum % IPB;
  ip->type = dip->type;
  ip->major = dip->major;
  ip->minor = dip->minor;
  ip->nlink = dip->nlink;
  ip->size = dip->size;
  memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
  bio_release(b);
  ip->valid = 1;
}

void inode_lock(struct inode *ip)
{
  assert(ip && ip->ref > 0);
  sleeplock_acquire(&ip->lock);
  if (!ip->valid)
    inode_load(ip);
  if (ip->type == 0)
    panic("inode_lock: inode %d is free (corrupt directory?)", (int)ip->inum);
}

void inode_unlock(struct inode *ip)
{
  assert(ip && ip->ref > 0);
  assert(sleeplock_holding(&ip->lock));
  sleeplock_release(&ip->lock);
}

// Dropping the last reference to an inode that no directory names frees it
// on disk, which is why inode_put must run inside an op.
void inode_put(struct inode *ip)
{
  spinlock_acquire(&icache.lock);
  assert(ip->ref > 0);
  if (ip->ref == 1 && ip->valid && ip->nlink == 0) {
    // ref == 1: nobody else can find or hold this inode, the lock is free.
    spinlock_release(&icache.lock);
    sleeplock_acquire(&ip->lock);
    inode_trunc(ip);
    ip->type = 0;
    inode_update(ip);
    ip->valid = 0;
    sleeplock_release(&ip->lock);
    spinlock_acquire(&icache.lock);
  }
  ip->ref--;
  spinlock_release(&icache.lock);
}

void inode_unlockput(struct inode *ip)
{
  inode_unlock(ip);
  inode_put(ip);
}

int inode_type(struct inode *ip)
{
  assert(sleeplock_holding(&ip->lock));
  return ip->type;
}

void inode_stat(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// ---- file contents -----------------------------------------------------

// Disk address of the file's block bn. With alloc, missing blocks are
// allocated; 0 means beyond MAXFILE, a hole (no alloc) or a full disk.
static uint inode_bmap(struct inode *ip, uint bn, int alloc)
{
  if (bn < NDIRECT) {
    if (!ip->addrs[bn] && alloc)
      ip->addrs[bn] = block_alloc(ip->dev);
    return ip->addrs[bn];
  }
  bn -= NDIRECT;
  if (bn >= NINDIRECT)
    return 0;
  if (!ip->addrs[NDIRECT]) {
    if (!alloc)
      return 0;
    ip->addrs[NDIRECT] = block_alloc(ip->dev);
    if (!ip->addrs[NDIRECT])
      return 0;
  }
  struct buf *b = bio_read(ip->dev, ip->addrs[NDIRECT]);
  uint *table = (uint *)b->data;
  uint addr = table[bn];
  if (!addr && alloc) {
    addr = block_alloc(ip->dev);
    if (addr) {
      table[bn] = addr;
      log_write(b);
    }
  }
  bio_release(b);
  return addr;
}

void inode_trunc(struct inode *ip)
{
  assert(sleeplock_holding(&ip->lock));
  for (int i = 0; i < NDIRECT; i++) {
    if (ip->addrs[i])
      block_free(ip->dev, ip->addrs[i]);
    ip->addrs[i] = 0;
  }
  if (ip->addrs[NDIRECT]) {
    struct buf *b = bio_read(ip->dev, ip->addrs[NDIRECT]);
    uint *table = (uint *)b->data;
    for (uint i = 0; i < NINDIRECT; i++)
      if (table[i])
        block_free(ip->dev, table[i]);
    bio_release(b);
    block_free(ip->dev, ip->addrs[NDIRECT]);
    ip->addrs[NDIRECT] = 0;
  }
  ip->size = 0;
  inode_update(ip);
}

static uint min_uint(uint a, uint b) { return a < b ? a : b; }

// Returns bytes read (0 at or past the end), or -1 on a bad destination
// (short when the destination goes bad after some whole blocks).
int inode_read(struct inode *ip, int user_dst, uint64 dst, uint off, uint n)
{
  assert(sleeplock_holding(&ip->lock));
  if (off >= ip->size || n == 0)
    return 0;
  if (off + n < off)
    return -1;
  n = min_uint(n, ip->size - off);
  uint done = 0;
  while (done < n) {
    uint addr = inode_bmap(ip, off / BSIZE, 0);
    uint m = min_uint(n - done, BSIZE - off % BSIZE);
    if (!addr)
      break;                       // hole: cannot happen with our writers
    struct buf *b = bio_read(ip->dev, addr);
    int bad = either_copyout(user_dst, dst, b->data + off % BSIZE, m) < 0;
    bio_release(b);
    if (bad)
      return done > 0 ? (int)done : -1;   // the count delivered before the bad page
    done += m;
    off += m;
    dst += m;
  }
  return done;
}

// Returns bytes written, short when the file reaches MAXFILE blocks or the
// disk fills, or -1 when nothing could be written. The caller's op must
// have room for the blocks this touches (see file_write's chunking).
int inode_write(struct inode *ip, int user_src, uint64 src, uint off, uint n)
{
  assert(sleeplock_holding(&ip->lock));
  if (off > ip->size || off + n < off)
    return -1;
  if (n == 0)
    return 0;
  uint max = MAXFILE * BSIZE;
  if (off >= max)
    return -1;
  n = min_uint(n, max - off);
  uint done = 0;
  while (done < n) {
    uint addr = inode_bmap(ip, off / BSIZE, 1);
    if (!addr)
      break;                       // disk full
    uint m = min_uint(n - done, BSIZE - off % BSIZE);
    struct buf *b = bio_read(ip->dev, addr);
    int bad = either_copyin(b->data + off % BSIZE, user_src, src, m) < 0;
    if (!bad)
      log_write(b);
    bio_release(b);
    if (bad)
      break;
    done += m;
    off += m;
    src += m;
  }
  if (off > ip->size)
    ip->size = off;
  inode_update(ip);                // bmap may have changed addrs
  return done > 0 ? (int)done : -1;
}

// ---- directories ----------------------------------------------------------

static int name_eq(const char *name, const char *entry)
{
  return strncmp(name, entry, DIRSIZ) == 0;
}

uint dir_find(struct inode *dp, const char *name, uint *poff)
{
  assert(dp->type == T_DIR);
  struct dirent de;
  for (uint off = 0; off + sizeof(de) <= dp->size; off += sizeof(de)) {
    if (inode_read(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      return 0;
    if (de.inum && name_eq(name, de.name)) {
      if (poff)
        *poff = off;
      return de.inum;
    }
  }
  return 0;
}

int dir_link(struct inode *dp, const char *name, uint inum)
{
  assert(dp->type == T_DIR);
  if (dp->nlink == 0 || dir_find(dp, name, 0))   // removed: see path_walk
    return -1;
  struct dirent de;
  uint off;
  for (off = 0; off + sizeof(de) <= dp->size; off += sizeof(de)) {
    if (inode_read(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      return -1;
    if (de.inum == 0)
      break;
  }
  memset(&de, 0, sizeof(de));
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  if (inode_write(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
    return -1;
  return 0;
}

int dir_is_empty(struct inode *dp)
{
  struct dirent de;
  for (uint off = 2 * sizeof(de); off + sizeof(de) <= dp->size; off += sizeof(de)) {
    if (inode_read(dp, 0, (uint64)&de, off, sizeof(de)) != sizeof(de))
      return 0;
    if (de.inum)
      return 0;
  }
  return 1;
}

// ---- path names -------------------------------------------------------------

struct inode *cwd_get(void)
{
  struct proc *p = curproc();
  struct inode *ip = 0;
  spinlock_acquire(&cwd_lock);
  if (p && p->cwd)
    ip = inode_dup(p->cwd);
  spinlock_release(&cwd_lock);
  return ip ? ip : inode_get(ROOTDEV, ROOTINO);
}

struct inode *cwd_swap(struct inode *ip)
{
  struct proc *p = curproc();
  assert(p);
  spinlock_acquire(&cwd_lock);
  struct inode *old = p->cwd;
  p->cwd = ip;
  spinlock_release(&cwd_lock);
  return old;
}

// Splits off the next element of *path into name. Returns 1 with *path
// advanced past it, 0 when no element is left, -1 when the element is
// longer than DIRSIZ (rejected rather than silently truncated).
static int path_next(const char **path, char *name)
{
  const char *s = *path;
  while (*s == '/')
    s++;
  if (*s == 0)
    return 0;
  const char *start = s;
  while (*s != '/' && *s != 0)
    s++;
  size_t len = s - start;
  if (len > DIRSIZ)
    return -1;
  memmove(name, start, len);
  name[len] = 0;
  while (*s == '/')
    s++;
  *path = s;
  return 1;
}

// Walks path one directory at a time, holding at most one inode lock so two
// walks can never deadlock. With want_parent, stops one element early and
// leaves the last element in name.
static struct inode *path_walk(const char *path, int want_parent, char *name)
{
  if (!path || *path == 0)
    return 0;
  struct inode *ip = *path == '/' ? inode_get(ROOTDEV, ROOTINO) : cwd_get();
  if (!ip)
    return 0;
  for (;;) {
    int r = path_next(&path, name);
    if (r < 0) {
      inode_put(ip);
      return 0;
    }
    if (r == 0)
      break;
    inode_lock(ip);
    if (ip->type != T_DIR || ip->nlink == 0) {
      // A removed directory (someone's cwd) is dead: its ".." may name
      // a freed inode, and an entry made in it could never be reached.
      inode_unlockput(ip);
      return 0;
    }
    if (want_parent && *path == 0) {
      inode_unlock(ip);
      return ip;
    }
    uint inum = dir_find(ip, name, 0);
    struct inode *next = inum ? inode_get(ip->dev, inum) : 0;
    inode_unlockput(ip);
    if (!next)
      return 0;
    ip = next;
  }
  if (want_parent) {             // the path named no element, e.g. "/"
    inode_put(ip);
    return 0;
  }
  return ip;
}

struct inode *path_lookup(const char *path)
{
  char name[DIRSIZ + 1];
  return path_walk(path, 0, name);
}

// name must hold DIRSIZ + 1 bytes.
struct inode *path_parent(const char *path, char *name)
{
  return path_walk(path, 1, name);
}
