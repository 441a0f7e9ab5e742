// virtio-mmio block device driver (modern interface, version 2). One request
// is in flight at a time: a 3-descriptor chain of header, 1024-byte data
// buffer and status byte. The caller sleeps until the completion interrupt.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "spinlock.h"
#include "fs.h"
#include "virtio.h"
#include "defs.h"

#define R(off) (*(volatile uint32 *)(VIRTIO0 + (off)))

static struct {
  // The virtqueue, shared with the device through physical addresses.
  struct virtq_desc desc[VIRTQ_NUM] __attribute__((aligned(16)));
  struct virtq_avail avail __attribute__((aligned(2)));
  struct virtq_used used __attribute__((aligned(4)));
  // The one request.
  struct virtio_blk_req req;
  char buf[BSIZE];
  volatile uint8 status;
  uint16 used_idx;   // how far we have looked into the used ring
  int busy;          // a request is in flight (others sleep on &busy)
  int done;          // the device has completed it
  struct spinlock lock;
} disk __attribute__((aligned(PGSIZE)));

void virtio_disk_init(void) {
  initlock(&disk.lock, "virtio_disk");
  if (R(VIRTIO_MMIO_MAGIC_VALUE) != 0x74726976 || R(VIRTIO_MMIO_VERSION) != 2 ||
      R(VIRTIO_MMIO_DEVICE_ID) != 2)
    panic("virtio: no modern block device at 0x10001000");

  uint32 status = 0;
  R(VIRTIO_MMIO_STATUS) = status;   // reset
  R(VIRTIO_MMIO_STATUS) = status |= VIRTIO_STATUS_ACKNOWLEDGE;
  R(VIRTIO_MMIO_STATUS) = status |= VIRTIO_STATUS_DRIVER;

  // Accept only VIRTIO_F_VERSION_1: no optional block-device features needed.
  R(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 0;
  R(VIRTIO_MMIO_DRIVER_FEATURES) = 0;
  R(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 1;
  R(VIRTIO_MMIO_DRIVER_FEATURES) = VIRTIO_F_VERSION_1_HIGH;
  R(VIRTIO_MMIO_STATUS) = status |= VIRTIO_STATUS_FEATURES_OK;
  if ((R(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0)
    panic("virtio: features not accepted");

  R(VIRTIO_MMIO_QUEUE_SEL) = 0;
  if (R(VIRTIO_MMIO_QUEUE_READY))
    panic("virtio: queue 0 already in use");
  if (R(VIRTIO_MMIO_QUEUE_NUM_MAX) < VIRTQ_NUM)
    panic("virtio: queue too short");
  R(VIRTIO_MMIO_QUEUE_NUM) = VIRTQ_NUM;
  R(VIRTIO_MMIO_QUEUE_DESC_LOW) = (uint64)disk.desc;
  R(VIRTIO_MMIO_QUEUE_DESC_HIGH) = (uint64)disk.desc >> 32;
  R(VIRTIO_MMIO_DRIVER_DESC_LOW) = (uint64)&disk.avail;
  R(VIRTIO_MMIO_DRIVER_DESC_HIGH) = (uint64)&disk.avail >> 32;
  R(VIRTIO_MMIO_DEVICE_DESC_LOW) = (uint64)&disk.used;
  R(VIRTIO_MMIO_DEVICE_DESC_HIGH) = (uint64)&disk.used >> 32;
  R(VIRTIO_MMIO_QUEUE_READY) = 1;

  R(VIRTIO_MMIO_STATUS) = status |= VIRTIO_STATUS_DRIVER_OK;
}

// Read block blockno and copy bytes [off, off+n) of it to dst (a kernel address).
void virtio_disk_read(uint blockno, char *dst, uint off, uint n) {
  acquire(&disk.lock);
  while (disk.busy)
    sleep(&disk.busy, &disk.lock);
  disk.busy = 1;

  disk.req.type = VIRTIO_BLK_T_IN;
  disk.req.reserved = 0;
  disk.req.sector = (uint64)blockno * (BSIZE / 512);
  disk.desc[0] = (struct virtq_desc){ (uint64)&disk.req, sizeof(disk.req), VIRTQ_DESC_F_NEXT, 1 };
  disk.desc[1] = (struct virtq_desc){ (uint64)disk.buf, BSIZE, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2 };
  disk.desc[2] = (struct virtq_desc){ (uint64)&disk.status, 1, VIRTQ_DESC_F_WRITE, 0 };
  disk.status = 0xff;
  disk.done = 0;

  disk.avail.ring[disk.avail.idx % VIRTQ_NUM] = 0;   // the chain starts at descriptor 0
  __sync_synchronize();
  disk.avail.idx++;
  __sync_synchronize();
  R(VIRTIO_MMIO_QUEUE_NOTIFY) = 0;

  while (!disk.done)
    sleep(&disk.done, &disk.lock);
  if (disk.status != 0)
    panic("virtio: read failed");
  memmove(dst, disk.buf + off, n);

  disk.busy = 0;
  wakeup(&disk.busy);
  release(&disk.lock);
}

void virtio_disk_intr(void) {
  acquire(&disk.lock);
  R(VIRTIO_MMIO_INTERRUPT_ACK) = R(VIRTIO_MMIO_INTERRUPT_STATUS) & 0x3;
  __sync_synchronize();
  while (disk.used_idx != *(volatile uint16 *)&disk.used.idx) {
    __sync_synchronize();
    disk.used_idx++;
    disk.done = 1;
    wakeup(&disk.done);
  }
  release(&disk.lock);
}
