// The buffer cache: NBUF in-memory copies of disk blocks, recycled least
// recently used first. It serialises access to each block (one sleeplock per
// buffer) so only one thread at a time reads or changes a block's data.
// It knows nothing about the log or the file system layout; it must not touch
// inodes or the log, only the disk driver.
#include "fs/buf.h"
#include "param.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "thread/sleepq.h"
#include "dev/virtio.h"

static struct {
  // Shared by every CPU: guards refcnt, dev/blockno identity and the LRU list.
  struct spinlock lock;
  struct buf bufs[NBUF];
  struct buf lru;          // list head: lru.next is the most recently used
  int waiters;             // threads sleeping for a free buffer
} bcache;

static void lru_unlink(struct buf *b)
{
  b->prev->next = b->next;
  b->next->prev = b->prev;
}

static void lru_push_front(struct buf *b)
{
  b->next = bcache.lru.next;
  b->prev = &bcache.lru;
  bcache.lru.next->prev = b;
  bcache.lru.next = b;
}

void bio_init(void)
{
  spinlock_init(&bcache.lock, "bcache");
  bcache.lru.next = bcache.lru.prev = &bcache.lru;
  for (struct buf *b = bcache.bufs; b < bcache.bufs + NBUF; b++) {
    sleeplock_init(&b->lock, "buf");
    lru_push_front(b);
  }
}

static struct buf *bio_find_cached(uint dev, uint blockno)
{
  for (struct buf *b = bcache.lru.next; b != &bcache.lru; b = b->next)
    if (b->dev == dev && b->blockno == blockno && (b->refcnt > 0 || b->valid))
      return b;
  return 0;
}

// Take the least recently used idle buffer; the tail has been idle longest.
static struct buf *bio_find_idle(void)
{
  for (struct buf *b = bcache.lru.prev; b != &bcache.lru; b = b->prev)
    if (b->refcnt == 0)
      return b;
  return 0;
}

// Returns the buffer for the block, locked, with a reference. When every
// buffer is busy we wait instead of panicking: busy buffers belong to
// threads that will release them (the log keeps enough of them unpinned).
static struct buf *bio_get(uint dev, uint blockno)
{
  spinlock_acquire(&bcache.lock);
  for (;;) {
    struct buf *b = bio_find_cached(dev, blockno);
    if (b) {
      b->refcnt++;
      spinlock_release(&bcache.lock);
      sleeplock_acquire(&b->lock);
      return b;
    }
    b = bio_find_idle();
    if (b) {
      b->dev = dev;
      b->blockno = blockno;
      b->valid = 0;
      b->refcnt = 1;
      spinlock_release(&bcache.lock);
      sleeplock_acquire(&b->lock);
      return b;
    }
    bcache.waiters++;
    sleepq_sleep(&bcache.waiters, &bcache.lock);
    bcache.waiters--;
  }
}

struct buf *bio_read(uint dev, uint blockno)
{
  struct buf *b = bio_get(dev, blockno);
  if (!b->valid) {
    virtio_blk_rw(b, 0);
    b->valid = 1;
  }
  return b;
}

void bio_write(struct buf *b)
{
  assert(sleeplock_holding(&b->lock));
  virtio_blk_rw(b, 1);
}

void bio_release(struct buf *b)
{
  assert(sleeplock_holding(&b->lock));
  sleeplock_release(&b->lock);

  spinlock_acquire(&bcache.lock);
  assert(b->refcnt > 0);
  b->refcnt--;
  if (b->refcnt == 0) {
    lru_unlink(b);
    lru_push_front(b);
    if (bcache.waiters)
      sleepq_wakeup(&bcache.waiters);
  }
  spinlock_release(&bcache.lock);
}

void bio_pin(struct buf *b)
{
  spinlock_acquire(&bcache.lock);
  b->refcnt++;
  spinlock_release(&bcache.lock);
}

void bio_unpin(struct buf *b)
{
  spinlock_acquire(&bcache.lock);
  assert(b->refcnt > 0);
  b->refcnt--;
  if (b->refcnt == 0 && bcache.waiters)
    sleepq_wakeup(&bcache.waiters);
  spinlock_release(&bcache.lock);
}
