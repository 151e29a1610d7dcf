// Open files: the objects file descriptors point at (pipes, inodes, devices).
#pragma once
#include "uapi/types.h"
#include "param.h"

struct pipe;
struct inode;

// One open file; several descriptors (dup, fork) may share it through ref.
enum file_type { FD_NONE, FD_PIPE, FD_INODE, FD_DEVICE };
struct file {
  enum file_type type;
  int ref;                // atomic; reaches 0 only under the file table's spinlock
  char readable;
  char writable;
  struct pipe *pipe;      // FD_PIPE
  struct inode *ip;       // FD_INODE and FD_DEVICE
  uint off;               // FD_INODE; under ip's lock
  short major;            // FD_DEVICE
};

struct file *file_alloc(void);
struct file *file_dup(struct file *f);
int   file_tryref(struct file *f);   // file_dup unless its count is 0; returns 1 if it took one
void  file_close(struct file *f);
int   file_stat(struct file *f, uint64 addr);
int   file_read(struct file *f, uint64 addr, int n);
int   file_write(struct file *f, uint64 addr, int n);
void  file_init(void);

// Character devices by major number: read/write move n bytes to or from a
// user (user != 0) or kernel address and return the count or -1.
struct devsw {
  int (*read)(int user_dst, uint64 dst, int n);
  int (*write)(int user_src, uint64 src, int n);
};
extern struct devsw devsw[NDEV];
#define CONSOLE 1
