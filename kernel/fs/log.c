// The write-ahead redo log: makes each file-system operation atomic across a
// crash. Ops run between log_begin_op and log_end_op; blocks they change are
// only recorded (log_write) and stay pinned in the buffer cache. When the last
// op of a group ends, the group is committed:
//   1. copy every changed block into the log area,
//   2. write the header with the block count (the commit point),
//   3. copy the blocks to their home locations,
//   4. write the header with count 0.
// A crash before 2 leaves nothing of the group on disk; after 2, log_init
// redoes 3 at the next boot. This file owns the log area of the disk and
// must not touch inodes, the bitmap or directories.
#include "fs/log.h"
#include "fs/fs.h"
#include "fs/buf.h"
#include "uapi/fs.h"
#include "param.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "thread/sleepq.h"
#include "dev/virtio.h"

// Pinned log blocks occupy cache buffers until commit; keep MAXOPBLOCKS
// buffers out of the log's reach so running ops can still read blocks.
#define LOG_CACHE_RESERVE MAXOPBLOCKS
#define LOG_BUDGET_CACHE  (NBUF - LOG_CACHE_RESERVE)
#define LOG_BUDGET        (LOGBLOCKS < LOG_BUDGET_CACHE ? LOGBLOCKS : LOG_BUDGET_CACHE)

_Static_assert(LOG_BUDGET >= MAXOPBLOCKS, "the log must hold at least one op");
_Static_assert(LOGBLOCKS <= LOG_MAXBLOCKS, "log header too small for LOGBLOCKS");

static struct {
  // Shared by every CPU running file-system ops.
  struct spinlock lock;
  uint dev;
  uint start;                  // header block; log blocks follow it
  uint size;                   // log blocks usable (header excluded)
  int outstanding;             // ops between begin and end
  int committing;              // a commit is writing the disk: no new ops
  int nblocks;                 // distinct blocks recorded in this group
  uint home[LOGBLOCKS];        // home block of each recorded block
  struct buf *pinned[LOGBLOCKS];
} wal;

// Log I/O bypasses the cache: the log area is private to this file, and a
// commit must never wait for a cache buffer that only the commit frees.
static struct buf log_io;

static void log_io_rw(uint blockno, int write)
{
  log_io.dev = wal.dev;
  log_io.blockno = blockno;
  virtio_blk_rw(&log_io, write);
}

static void log_write_header(int n, const uint *home)
{
  struct logheader *lh = (struct logheader *)log_io.data;
  memset(log_io.data, 0, BSIZE);
  lh->n = n;
  for (int i = 0; i < n; i++)
    lh->block[i] = home[i];
  log_io_rw(wal.start, 1);
}

// Redo a committed transaction found at boot. Idempotent, so a crash during
// recovery is recovered by the next boot the same way.
static void log_recover(void)
{
  log_io_rw(wal.start, 0);
  struct logheader lh;
  memmove(&lh, log_io.data, sizeof(lh));
  if (lh.n == 0)
    return;
  if (lh.n > wal.size)
    panic("log: corrupt header (%d blocks)", (int)lh.n);
  printf("fs: recovering %d logged blocks\n", (int)lh.n);
  for (uint i = 0; i < lh.n; i++) {
    log_io_rw(wal.start + 1 + i, 0);
    struct buf *home = bio_read(wal.dev, lh.block[i]);
    memmove(home->data, log_io.data, BSIZE);
    bio_write(home);
    bio_release(home);
  }
  log_write_header(0, 0);
}

void log_init(uint dev, const struct superblock *sb)
{
  spinlock_init(&wal.lock, "log");
  sleeplock_init(&log_io.lock, "log_io");
  wal.dev = dev;
  wal.start = sb->logstart;
  if (sb->nlog < 2)
    panic("log: no log area on disk");
  wal.size = sb->nlog - 1;
  if (wal.size > LOGBLOCKS)
    wal.size = LOGBLOCKS;
  log_recover();
}

static int log_budget(void)
{
  return wal.size < LOG_BUDGET ? (int)wal.size : LOG_BUDGET;
}

// Each op may record up to MAXOPBLOCKS blocks, so admit a new op only while
// the worst case of every running op still fits in the log.
void log_begin_op(void)
{
  spinlock_acquire(&wal.lock);
  for (;;) {
    int worst = wal.nblocks + (wal.outstanding + 1) * MAXOPBLOCKS;
    if (!wal.committing && worst <= log_budget())
      break;
    sleepq_sleep(&wal, &wal.lock);
  }
  wal.outstanding++;
  spinlock_release(&wal.lock);
}

static void log_copy_to_log_area(void)
{
  for (int i = 0; i < wal.nblocks; i++) {
    struct buf *b = wal.pinned[i];
    sleeplock_acquire(&b->lock);
    memmove(log_io.data, b->data, BSIZE);
    sleeplock_release(&b->lock);
    log_io_rw(wal.start + 1 + i, 1);
  }
}

static void log_install(void)
{
  for (int i = 0; i < wal.nblocks; i++) {
    struct buf *b = bio_read(wal.dev, wal.home[i]);
    assert(b == wal.pinned[i]);
    bio_write(b);
    bio_release(b);
    bio_unpin(b);
  }
}

// Runs with committing set and no op outstanding, so the group is frozen
// and only this thread touches nblocks/home/pinned.
static void log_commit(void)
{
  if (wal.nblocks == 0)
    return;
  log_copy_to_log_area();
  log_write_header(wal.nblocks, wal.home);   // commit point
  log_install();
  log_write_header(0, 0);
  wal.nblocks = 0;
}

void log_end_op(void)
{
  spinlock_acquire(&wal.lock);
  assert(wal.outstanding > 0);
  assert(!wal.committing);
  wal.outstanding--;
  int do_commit = wal.outstanding == 0;
  if (do_commit)
    wal.committing = 1;
  else
    sleepq_wakeup(&wal);     // our unused reservation may admit a waiter
  spinlock_release(&wal.lock);

  if (!do_commit)
    return;
  log_commit();
  spinlock_acquire(&wal.lock);
  wal.committing = 0;
  sleepq_wakeup(&wal);
  spinlock_release(&wal.lock);
}

void log_write(struct buf *b)
{
  assert(sleeplock_holding(&b->lock));
  spinlock_acquire(&wal.lock);
  assert(wal.outstanding > 0);
  for (int i = 0; i < wal.nblocks; i++) {
    if (wal.home[i] == b->blockno) {    // absorbed: already in this group
      spinlock_release(&wal.lock);
      return;
    }
  }
  if (wal.nblocks >= log_budget())
    panic("log: transaction too big");
  wal.home[wal.nblocks] = b->blockno;
  wal.pinned[wal.nblocks] = b;
  wal.nblocks++;
  bio_pin(b);
  spinlock_release(&wal.lock);
}
