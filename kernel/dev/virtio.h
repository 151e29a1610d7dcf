// virtio 1.x over MMIO (the "modern" register layout, version 2) and the
// virtio-blk driver built on it. Register offsets and ring layouts are the
// virtio specification's; the driver is in dev/virtio_blk.c. This header must
// not grow knowledge of the file system beyond struct buf.
#pragma once
#include "uapi/types.h"

// MMIO registers, as byte offsets from the device base.
#define VIRTIO_MMIO_MAGIC             0x000   // "virt"
#define VIRTIO_MMIO_VERSION           0x004   // 2 for the modern interface
#define VIRTIO_MMIO_DEVICE_ID         0x008   // 2 = block device
#define VIRTIO_MMIO_VENDOR_ID         0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES   0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES   0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL         0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX     0x034
#define VIRTIO_MMIO_QUEUE_NUM         0x038
#define VIRTIO_MMIO_QUEUE_READY       0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY      0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS  0x060
#define VIRTIO_MMIO_INTERRUPT_ACK     0x064
#define VIRTIO_MMIO_STATUS            0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW    0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH   0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW  0x090   // the available ring
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW  0x0a0   // the used ring
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG            0x100   // device-specific configuration

#define VIRTIO_MAGIC_VALUE  0x74726976
#define VIRTIO_ID_BLOCK     2

// Device status bits.
#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  64
#define VIRTIO_STATUS_FAILED       128

// Feature bits (bit numbers across the 64-bit feature space).
#define VIRTIO_BLK_F_RO        5
#define VIRTIO_F_VERSION_1     32

// Split virtqueue layout.
#define VIRTQ_DESC_F_NEXT   1   // the chain continues in next
#define VIRTQ_DESC_F_WRITE  2   // the device writes this buffer

struct virtq_desc {
  uint64 addr;
  uint32 len;
  uint16 flags;
  uint16 next;
};

#define VIRTIO_BLK_QSIZE 8      // descriptors; three per request

struct virtq_avail {
  uint16 flags;
  uint16 idx;
  uint16 ring[VIRTIO_BLK_QSIZE];
  uint16 used_event;
};

struct virtq_used_elem {
  uint32 id;                    // head descriptor of the finished chain
  uint32 len;
};

struct virtq_used {
  uint16 flags;
  uint16 idx;
  struct virtq_used_elem ring[VIRTIO_BLK_QSIZE];
  uint16 avail_event;
};

// virtio-blk request header (first descriptor of every request).
#define VIRTIO_BLK_T_IN   0     // read
#define VIRTIO_BLK_T_OUT  1     // write
#define VIRTIO_BLK_S_OK   0
struct virtio_blk_req {
  uint32 type;
  uint32 reserved;
  uint64 sector;                // in 512-byte units
};

struct buf;

void virtio_blk_init(void);
// Read (write == 0) or write b->data at b->blockno; sleeps until done.
void virtio_blk_rw(struct buf *b, int write);
void virtio_blk_intr(void);     // run by the disk's interrupt thread

// Crash-test hook (kdebug KD_CRASH_AFTER_WRITES): when > 0 it counts down on
// every block write submitted; the write that brings it to 0 is never sent,
// the machine powers off instead, as if power failed mid-way.
extern int disk_crash_after;
