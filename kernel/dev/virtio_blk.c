// The virtio-blk driver: one virtio-mmio device (modern interface) at VIRTIO0
// with one split virtqueue. It moves whole BSIZE blocks between struct buf
// and the disk; callers sleep until their request finishes. It owns the
// queue memory and the device registers, and nothing of the file system.
#include "dev/virtio.h"
#include "fs/buf.h"
#include "arch/memlayout.h"
#include "arch/sbi.h"
#include "lib/printf.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "thread/sleepq.h"
#include "thread/ithread.h"

#define QSIZE VIRTIO_BLK_QSIZE
#define SECTORS_PER_BLOCK (BSIZE / 512)

int disk_crash_after;

static inline volatile uint32 *vreg(uint32 off)
{
  return (volatile uint32 *)(VIRTIO0 + off);
}

// Per-request state, indexed by the request's head descriptor.
struct vblk_request {
  struct virtio_blk_req hdr;    // read by the device
  volatile uint8 status;        // written by the device
  volatile int done;            // set by the interrupt thread
};

static struct {
  // Shared by every CPU that does disk I/O and by the interrupt thread:
  // guards the rings, the free map and the request table.
  struct spinlock lock;
  struct virtq_desc desc[QSIZE] __attribute__((aligned(16)));
  struct virtq_avail avail __attribute__((aligned(2)));
  struct virtq_used used __attribute__((aligned(4)));
  uint8 desc_free[QSIZE];
  uint16 used_seen;             // used.idx we have processed up to
  struct vblk_request req[QSIZE];
  uint64 capacity;              // in sectors
} vblk __attribute__((aligned(4096)));

static void vblk_set_status(uint32 bit)
{
  *vreg(VIRTIO_MMIO_STATUS) = *vreg(VIRTIO_MMIO_STATUS) | bit;
}

static uint64 vblk_device_features(void)
{
  *vreg(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 0;
  uint64 lo = *vreg(VIRTIO_MMIO_DEVICE_FEATURES);
  *vreg(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 1;
  uint64 hi = *vreg(VIRTIO_MMIO_DEVICE_FEATURES);
  return lo | (hi << 32);
}

static void vblk_write_features(uint64 f)
{
  *vreg(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 0;
  *vreg(VIRTIO_MMIO_DRIVER_FEATURES) = (uint32)f;
  *vreg(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 1;
  *vreg(VIRTIO_MMIO_DRIVER_FEATURES) = (uint32)(f >> 32);
}

// We need nothing optional: VERSION_1 is mandatory for a modern device, and
// refusing the rest keeps the ring format the plain one.
static void vblk_negotiate(void)
{
  uint64 offered = vblk_device_features();
  if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
    panic("virtio_blk: device does not offer VERSION_1");
  if (offered & (1ULL << VIRTIO_BLK_F_RO))
    printf("virtio_blk: warning: disk is read-only\n");
  vblk_write_features(1ULL << VIRTIO_F_VERSION_1);
  vblk_set_status(VIRTIO_STATUS_FEATURES_OK);
  if (!(*vreg(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
    panic("virtio_blk: device refused our features");
}

static void vblk_write_addr(uint32 low_reg, void *p)
{
  uint64 a = (uint64)p;
  *vreg(low_reg) = (uint32)a;
  *vreg(low_reg + 4) = (uint32)(a >> 32);
}

static void vblk_setup_queue(void)
{
  *vreg(VIRTIO_MMIO_QUEUE_SEL) = 0;
  if (*vreg(VIRTIO_MMIO_QUEUE_READY))
    panic("virtio_blk: queue 0 already in use");
  uint32 max = *vreg(VIRTIO_MMIO_QUEUE_NUM_MAX);
  if (max < QSIZE)
    panic("virtio_blk: queue too short (%d)", (int)max);
  *vreg(VIRTIO_MMIO_QUEUE_NUM) = QSIZE;
  vblk_write_addr(VIRTIO_MMIO_QUEUE_DESC_LOW, vblk.desc);
  vblk_write_addr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, &vblk.avail);
  vblk_write_addr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, &vblk.used);
  *vreg(VIRTIO_MMIO_QUEUE_READY) = 1;
}

static uint64 vblk_read_capacity(void)
{
  volatile uint32 *cfg = vreg(VIRTIO_MMIO_CONFIG);
  uint32 gen, lo, hi;
  do {          // re-read if the device changed the config in between
    gen = *vreg(VIRTIO_MMIO_CONFIG_GENERATION);
    lo = cfg[0];
    hi = cfg[1];
  } while (gen != *vreg(VIRTIO_MMIO_CONFIG_GENERATION));
  return (uint64)lo | ((uint64)hi << 32);
}

// Follows the initialisation order of the virtio 1.x spec (section 3.1.1).
void virtio_blk_init(void)
{
  if (*vreg(VIRTIO_MMIO_MAGIC) != VIRTIO_MAGIC_VALUE ||
      *vreg(VIRTIO_MMIO_VERSION) != 2 ||
      *vreg(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_ID_BLOCK)
    panic("virtio_blk: no modern virtio disk at %p (is force-legacy=false set?)",
          (void *)VIRTIO0);

  spinlock_init(&vblk.lock, "virtio_blk");
  for (int i = 0; i < QSIZE; i++)
    vblk.desc_free[i] = 1;

  *vreg(VIRTIO_MMIO_STATUS) = 0;                  // reset
  vblk_set_status(VIRTIO_STATUS_ACKNOWLEDGE);
  vblk_set_status(VIRTIO_STATUS_DRIVER);
  vblk_negotiate();
  vblk_setup_queue();
  vblk.capacity = vblk_read_capacity();
  ithread_register(VIRTIO0_IRQ, "virtio_blk", virtio_blk_intr);
  vblk_set_status(VIRTIO_STATUS_DRIVER_OK);
}

static int desc_alloc_one(void)
{
  for (int i = 0; i < QSIZE; i++) {
    if (vblk.desc_free[i]) {
      vblk.desc_free[i] = 0;
      return i;
    }
  }
  return -1;
}

static void desc_free_one(int i)
{
  assert(i >= 0 && i < QSIZE && !vblk.desc_free[i]);
  vblk.desc[i].addr = 0;
  vblk.desc[i].len = 0;
  vblk.desc[i].flags = 0;
  vblk.desc[i].next = 0;
  vblk.desc_free[i] = 1;
}

static void desc_free_chain(int head)
{
  for (int i = head;;) {
    int more = vblk.desc[i].flags & VIRTQ_DESC_F_NEXT;
    int next = vblk.desc[i].next;
    desc_free_one(i);
    if (!more)
      break;
    i = next;
  }
  sleepq_wakeup(&vblk.desc_free);
}

// All-or-nothing, so two half-built requests can never starve each other.
static int desc_alloc_three(int idx[3])
{
  for (int i = 0; i < 3; i++) {
    idx[i] = desc_alloc_one();
    if (idx[i] < 0) {
      while (--i >= 0)
        desc_free_one(idx[i]);
      return -1;
    }
  }
  return 0;
}

static void vblk_fill_chain(int idx[3], struct buf *b, int write)
{
  struct vblk_request *r = &vblk.req[idx[0]];
  r->hdr.type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
  r->hdr.reserved = 0;
  r->hdr.sector = (uint64)b->blockno * SECTORS_PER_BLOCK;
  r->status = 0xff;             // the device overwrites it
  r->done = 0;

  vblk.desc[idx[0]] = (struct virtq_desc){
    (uint64)&r->hdr, sizeof(r->hdr), VIRTQ_DESC_F_NEXT, idx[1] };
  vblk.desc[idx[1]] = (struct virtq_desc){
    (uint64)b->data, BSIZE, VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE), idx[2] };
  vblk.desc[idx[2]] = (struct virtq_desc){
    (uint64)&r->status, 1, VIRTQ_DESC_F_WRITE, 0 };
}

static void vblk_submit(int head)
{
  vblk.avail.ring[vblk.avail.idx % QSIZE] = head;
  __sync_synchronize();         // ring entry visible before the index moves
  vblk.avail.idx++;
  __sync_synchronize();         // index visible before the doorbell
  *vreg(VIRTIO_MMIO_QUEUE_NOTIFY) = 0;
}

// The crash hook sits here, before submission, so the write it stops never
// reaches the disk: the image is exactly what a power cut would leave.
static void vblk_crash_check(int write)
{
  if (!write || disk_crash_after <= 0)
    return;
  if (--disk_crash_after == 0) {
    printf("virtio_blk: simulated power loss before a disk write\n");
    sbi_shutdown();
  }
}

void virtio_blk_rw(struct buf *b, int write)
{
  uint64 sector = (uint64)b->blockno * SECTORS_PER_BLOCK;
  if (sector + SECTORS_PER_BLOCK > vblk.capacity)
    panic("virtio_blk: block %d beyond the end of the disk", (int)b->blockno);

  spinlock_acquire(&vblk.lock);
  int idx[3];
  while (desc_alloc_three(idx) < 0)
    sleepq_sleep(&vblk.desc_free, &vblk.lock);

  vblk_crash_check(write);
  vblk_fill_chain(idx, b, write);
  vblk_submit(idx[0]);

  // Kills may wake us early: only the interrupt thread's done counts.
  struct vblk_request *r = &vblk.req[idx[0]];
  while (!r->done)
    sleepq_sleep(r, &vblk.lock);

  if (r->status != VIRTIO_BLK_S_OK)
    panic("virtio_blk: %s of block %d failed (status %d)",
          write ? "write" : "read", (int)b->blockno, r->status);
  desc_free_chain(idx[0]);
  spinlock_release(&vblk.lock);
}

void virtio_blk_intr(void)
{
  spinlock_acquire(&vblk.lock);
  // Acknowledge first: a completion arriving after this raises a new
  // interrupt, so none is lost between the ack and the ring scan.
  *vreg(VIRTIO_MMIO_INTERRUPT_ACK) = *vreg(VIRTIO_MMIO_INTERRUPT_STATUS) & 0x3;
  __sync_synchronize();
  while (vblk.used_seen != *(volatile uint16 *)&vblk.used.idx) {
    __sync_synchronize();       // read the entry only after seeing the index
    uint32 head = vblk.used.ring[vblk.used_seen % QSIZE].id;
    assert(head < QSIZE);
    vblk.req[head].done = 1;
    sleepq_wakeup(&vblk.req[head]);
    vblk.used_seen++;
  }
  spinlock_release(&vblk.lock);
}
