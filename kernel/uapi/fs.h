// On-disk format of the Spindle file system, shared by the kernel (fs/) and
// the host tool tools/mkfs.c. Only layout and constants live here: no kernel
// types, no code. Changing anything here changes the disk format.
//
// Disk layout, in BSIZE blocks:
//   [ unused | superblock | log header + log blocks | inodes | bitmap | data ]
//     0        1            logstart ...               inodestart bmapstart
#pragma once
#include "uapi/types.h"

#define BSIZE      1024        // bytes per block
#define FS_MAGIC   0x53504e44  // "SPND" read as a little-endian word
#define ROOTINO    1           // inode number of "/"
#define NINODES    200         // inodes mkfs creates

struct superblock {
  uint magic;       // FS_MAGIC
  uint size;        // blocks in the whole image
  uint nblocks;     // data blocks
  uint ninodes;     // inodes
  uint nlog;        // log blocks, header included
  uint logstart;    // first log block (the header)
  uint inodestart;  // first inode block
  uint bmapstart;   // first free-map block
};

#define NDIRECT    12
#define NINDIRECT  (BSIZE / sizeof(uint))
#define MAXFILE    (NDIRECT + NINDIRECT)   // blocks of the biggest file

// An inode on disk. type 0 means free; T_DIR/T_FILE/T_DEVICE are in stat.h.
struct dinode {
  short type;
  short major;                 // T_DEVICE only
  short minor;
  short nlink;                 // directory entries naming this inode
  uint  size;                  // bytes
  uint  addrs[NDIRECT + 1];    // data blocks; the last one is the indirect block
};

#define IPB           (BSIZE / sizeof(struct dinode))    // inodes per block
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)      // block holding inode i
#define BPB           (BSIZE * 8)                        // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)       // bitmap block of block b

// A directory is a file of these. inum 0 marks a free entry. name is
// NUL-padded and not terminated when it is exactly DIRSIZ long.
#define DIRSIZ 14
struct dirent {
  ushort inum;
  char name[DIRSIZ];
};

// The log header, stored in block logstart: n blocks are committed and
// block[i] is the home of log block logstart + 1 + i. n == 0: nothing to redo.
#define LOG_MAXBLOCKS ((BSIZE - sizeof(uint)) / sizeof(uint))
struct logheader {
  uint n;
  uint block[LOG_MAXBLOCKS];
};

_Static_assert(sizeof(struct dinode) * IPB == BSIZE, "inodes must tile a block");
_Static_assert(BSIZE % sizeof(struct dirent) == 0, "dirents must tile a block");
_Static_assert(sizeof(struct logheader) <= BSIZE, "log header fits one block");
