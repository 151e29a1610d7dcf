// Host tool: builds a Spindle file-system image.
//   build/mkfs fs.img file...
// The image has FSSIZE blocks: superblock, an empty log, the inode area, the
// free-block bitmap and a root directory holding every given file under its
// base name. Runs on the build machine only; the format is uapi/fs.h's, and
// this tool must not depend on anything else in the kernel.
// Spindle's struct stat would clash with the host's; only its T_* constants
// are wanted, so its struct is renamed while the header is read.
#define stat spindle_stat
#include "uapi/stat.h"
#undef stat
#include "uapi/types.h"
#include "uapi/fs.h"
#include "param.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <fcntl.h>
#include <unistd.h>
#include <assert.h>

#define NLOG        (LOGBLOCKS + 1)                      // header + blocks
#define NINODEBLKS  (NINODES / IPB + 1)
#define NBITMAP     (FSSIZE / BPB + 1)
#define NMETA       (2 + NLOG + NINODEBLKS + NBITMAP)    // boot, super, ...

_Static_assert(NMETA < FSSIZE, "FSSIZE too small for the metadata");
_Static_assert(LOGBLOCKS <= LOG_MAXBLOCKS, "log header too small");

static int img_fd;
static struct superblock sb;
static uint next_inum = 1;          // ROOTINO is the first one handed out
static uint next_block = NMETA;     // data blocks are handed out in order

static void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "mkfs: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void block_write(uint bno, const void *data)
{
  assert(bno < FSSIZE);
  if (pwrite(img_fd, data, BSIZE, (off_t)bno * BSIZE) != BSIZE)
    die("write of block %u failed", bno);
}

static void block_read(uint bno, void *data)
{
  assert(bno < FSSIZE);
  if (pread(img_fd, data, BSIZE, (off_t)bno * BSIZE) != BSIZE)
    die("read of block %u failed", bno);
}

static void dinode_write(uint inum, const struct dinode *di)
{
  uchar buf[BSIZE];
  block_read(IBLOCK(inum, sb), buf);
  memcpy((struct dinode *)buf + inum % IPB, di, sizeof(*di));
  block_write(IBLOCK(inum, sb), buf);
}

static void dinode_read(uint inum, struct dinode *di)
{
  uchar buf[BSIZE];
  block_read(IBLOCK(inum, sb), buf);
  memcpy(di, (struct dinode *)buf + inum % IPB, sizeof(*di));
}

static uint inode_new(short type)
{
  if (next_inum >= NINODES)
    die("out of inodes");
  struct dinode di;
  memset(&di, 0, sizeof(di));
  di.type = type;
  di.nlink = 1;
  dinode_write(next_inum, &di);
  return next_inum++;
}

static uint block_new(void)
{
  if (next_block >= FSSIZE)
    die("image full (%d blocks)", FSSIZE);
  return next_block++;
}

// Disk block holding byte offset off of the file, allocated if missing.
static uint file_block(struct dinode *di, uint off)
{
  uint bn = off / BSIZE;
  if (bn < NDIRECT) {
    if (!di->addrs[bn])
      di->addrs[bn] = block_new();
    return di->addrs[bn];
  }
  bn -= NDIRECT;
  if (bn >= NINDIRECT)
    die("file too big (max %lu bytes)", (unsigned long)(MAXFILE * BSIZE));
  uint table[NINDIRECT];
  if (!di->addrs[NDIRECT]) {
    di->addrs[NDIRECT] = block_new();
    memset(table, 0, sizeof(table));
    block_write(di->addrs[NDIRECT], table);
  }
  block_read(di->addrs[NDIRECT], table);
  if (!table[bn]) {
    table[bn] = block_new();
    block_write(di->addrs[NDIRECT], table);
  }
  return table[bn];
}

static void inode_append(uint inum, const void *data, uint n)
{
  struct dinode di;
  dinode_read(inum, &di);
  const uchar *p = data;
  while (n > 0) {
    uint off = di.size;
    uint bno = file_block(&di, off);
    uint m = BSIZE - off % BSIZE;
    if (m > n)
      m = n;
    uchar buf[BSIZE];
    block_read(bno, buf);
    memcpy(buf + off % BSIZE, p, m);
    block_write(bno, buf);
    di.size += m;
    p += m;
    n -= m;
  }
  dinode_write(inum, &di);
}

static void dir_add(uint dir, const char *name, uint inum)
{
  struct dirent de;
  memset(&de, 0, sizeof(de));
  de.inum = (ushort)inum;
  memcpy(de.name, name, strnlen(name, DIRSIZ));   // NUL-padded, maybe unterminated
  inode_append(dir, &de, sizeof(de));
}

static int dir_has(uint dir, const char *name)
{
  struct dinode di;
  dinode_read(dir, &di);
  for (uint off = 0; off < di.size; off += sizeof(struct dirent)) {
    uchar buf[BSIZE];
    block_read(file_block(&di, off), buf);
    struct dirent *de = (struct dirent *)(buf + off % BSIZE);
    if (de->inum && strncmp(de->name, name, DIRSIZ) == 0)
      return 1;
  }
  return 0;
}

static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static void add_file(uint root, const char *path)
{
  const char *name = base_name(path);
  if (*name == 0 || strlen(name) > DIRSIZ)
    die("%s: name must be 1..%d characters", path, DIRSIZ);
  if (dir_has(root, name))
    die("%s: a file named %s is already in the image", path, name);
  FILE *in = fopen(path, "rb");
  if (!in)
    die("cannot open %s", path);
  uint inum = inode_new(T_FILE);
  dir_add(root, name, inum);
  uchar buf[BSIZE];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    inode_append(inum, buf, n);
  if (ferror(in))
    die("read error on %s", path);
  fclose(in);
}

// Marks every block handed out so far (metadata included) as in use.
static void bitmap_write(void)
{
  for (uint b = 0; b < NBITMAP; b++) {
    uchar buf[BSIZE];
    memset(buf, 0, sizeof(buf));
    for (uint i = 0; i < BPB; i++) {
      uint bno = b * BPB + i;
      if (bno < next_block)
        buf[i / 8] |= 1 << (i % 8);
    }
    block_write(sb.bmapstart + b, buf);
  }
}

static void image_create(const char *path)
{
  img_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666);
  if (img_fd < 0)
    die("cannot create %s", path);
  uchar zero[BSIZE];
  memset(zero, 0, sizeof(zero));
  for (uint b = 0; b < FSSIZE; b++)
    block_write(b, zero);

  sb.magic = FS_MAGIC;
  sb.size = FSSIZE;
  sb.nblocks = FSSIZE - NMETA;
  sb.ninodes = NINODES;
  sb.nlog = NLOG;
  sb.logstart = 2;
  sb.inodestart = 2 + NLOG;
  sb.bmapstart = 2 + NLOG + NINODEBLKS;
  uchar buf[BSIZE];
  memset(buf, 0, sizeof(buf));
  memcpy(buf, &sb, sizeof(sb));
  block_write(1, buf);
}

int main(int argc, char *argv[])
{
  const union { uint32 word; uchar byte[4]; } probe = { 1 };
  if (!probe.byte[0])
    die("the image format is little-endian; this host is not");
  if (argc < 2) {
    fprintf(stderr, "usage: mkfs fs.img file...\n");
    return 2;
  }
  image_create(argv[1]);

  uint root = inode_new(T_DIR);
  assert(root == ROOTINO);
  dir_add(root, ".", root);
  dir_add(root, "..", root);
  for (int i = 2; i < argc; i++)
    add_file(root, argv[i]);

  bitmap_write();
  if (close(img_fd) < 0)
    die("close of %s failed", argv[1]);
  printf("mkfs: %s: %d blocks (%d meta, %u data used), %u inodes used\n",
         argv[1], FSSIZE, (int)NMETA, next_block - (uint)NMETA, next_inum - 1);
  return 0;
}
