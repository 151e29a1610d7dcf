// The file-system interface used outside fs/: path lookup, inode access and
// the write-ahead log's operation brackets. Every change to the disk happens
// inside log_begin_op() ... log_end_op().
#pragma once
#include "uapi/types.h"

struct inode;
struct stat;

void fs_init(int dev);          // first process only: reads the superblock, recovers the log

void log_begin_op(void);
void log_end_op(void);

struct inode *path_lookup(const char *path);           // referenced, unlocked, or 0
struct inode *path_parent(const char *path, char *name);
void  inode_lock(struct inode *ip);
void  inode_unlock(struct inode *ip);
void  inode_put(struct inode *ip);                     // drop a reference (inside an op)
void  inode_unlockput(struct inode *ip);
struct inode *inode_dup(struct inode *ip);
int   inode_read(struct inode *ip, int user_dst, uint64 dst, uint off, uint n);
int   inode_write(struct inode *ip, int user_src, uint64 src, uint off, uint n);
int   inode_type(struct inode *ip);                    // T_DIR, T_FILE, T_DEVICE (locked)
void  inode_stat(struct inode *ip, struct stat *st);
