// Compile-time limits of the kernel. Everything sized statically lives here
// so a reader can see the whole budget at once.
#pragma once

#define NCPU          8     // most harts the kernel will use
#define NPROC         64    // processes
#define MAX_THREADS   256   // KLTs of any kind, system wide (default max_threads)
#define KSTACK_PAGES  2     // kernel stack size in pages (plus one guard page)
#define NOFILE        32    // open files per process (lab upcalls: a dozen pipes)
#define NFILE         128   // open files system wide
#define NINODE        64    // in-memory inodes
#define NDEV          10    // device major numbers
#define ROOTDEV       1     // device number of the root disk
#define MAXARG        32    // exec arguments
#define MAXOPBLOCKS   10    // most blocks one file-system operation writes
#define LOGBLOCKS     (MAXOPBLOCKS * 3)  // data blocks in the on-disk log
#define NBUF          (MAXOPBLOCKS * 3)  // blocks in the buffer cache
#define FSSIZE        6000  // file-system size in blocks
#define MAXPATH       128   // longest path name
#define HZ            100   // timer ticks per second
#define USTACK_PAGES  4     // user stack of a new program, in pages
