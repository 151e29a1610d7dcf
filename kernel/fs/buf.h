// The buffer cache's interface: one disk block held in memory. Owned by
// fs/bio.c; the log pins buffers, the virtio driver fills and drains them.
// Nothing outside fs/ and dev/virtio_blk.c should need this header.
#pragma once
#include "uapi/types.h"
#include "uapi/fs.h"
#include "thread/sleeplock.h"

struct buf {
  int valid;               // data holds the block's contents
  uint dev;
  uint blockno;
  struct sleeplock lock;   // held by whoever reads or changes data
  uint refcnt;             // users + log pins; under the cache's spinlock
  struct buf *prev;        // LRU list, most recently used first
  struct buf *next;
  uchar data[BSIZE];       // handed to the device as is (identity mapped)
};

void        bio_init(void);
struct buf *bio_read(uint dev, uint blockno);   // returns the buffer locked
void        bio_write(struct buf *b);           // b must be locked
void        bio_release(struct buf *b);         // unlock and drop the reference
void        bio_pin(struct buf *b);             // keep b cached until bio_unpin
void        bio_unpin(struct buf *b);
