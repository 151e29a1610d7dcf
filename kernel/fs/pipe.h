// Pipes: a bounded byte buffer between a writing and a reading open file.
// Owned by fs/pipe.c; only fs/file.c and proc/sysfile.c use it.
#pragma once
#include "uapi/types.h"

struct file;
struct pipe;

// Makes a pipe and its two open files; 0, or -1 when out of memory/files.
int  pipe_alloc(struct file **rf, struct file **wf);
void pipe_close(struct pipe *pi, int writable);
int  pipe_read(struct pipe *pi, uint64 addr, int n);    // user address
int  pipe_write(struct pipe *pi, uint64 addr, int n);   // user address
