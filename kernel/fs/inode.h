// In-memory inodes and the helpers fs/ shares among fs.c, file.c and
// proc/sysfile.c. Owned by fs/fs.c; code outside the file system should use
// only fs/fs.h.
#pragma once
#include "uapi/types.h"
#include "uapi/fs.h"
#include "thread/sleeplock.h"

struct inode {
  uint dev;
  uint inum;
  int ref;                 // references; under the inode cache's spinlock
  struct sleeplock lock;   // guards everything below
  int valid;               // fields below were read from disk
  short type;              // copy of struct dinode
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NDIRECT + 1];
};

#define NLINK_MAX 32000    // refuse link() beyond this, well under SHRT_MAX

extern struct superblock sb;

// All of these run inside a log op when they may change the disk.
struct inode *inode_get(uint dev, uint inum);        // referenced, unlocked, or 0
struct inode *inode_alloc(uint dev, short type);     // referenced, unlocked, or 0
void inode_update(struct inode *ip);                 // write ip (locked) to disk
void inode_trunc(struct inode *ip);                  // free ip's (locked) data

// Directories (dp locked and a directory).
uint dir_find(struct inode *dp, const char *name, uint *poff);  // inum or 0
int  dir_link(struct inode *dp, const char *name, uint inum);   // 0 or -1
int  dir_is_empty(struct inode *dp);                            // only . and ..

// The calling process's working directory. cwd_get returns a reference
// (the root when the process has none yet); cwd_swap installs ip and returns
// the old one, for the caller to inode_put inside an op.
struct inode *cwd_get(void);
struct inode *cwd_swap(struct inode *ip);
