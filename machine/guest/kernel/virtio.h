// virtio-mmio (version 2, "modern") registers and split-virtqueue structures,
// from the virtio 1.x specification.
#define VIRTIO_MMIO_MAGIC_VALUE         0x000   // 0x74726976 "virt"
#define VIRTIO_MMIO_VERSION             0x004   // 2
#define VIRTIO_MMIO_DEVICE_ID           0x008   // 2 = block
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_DRIVER_DESC_LOW     0x090   // the available ring
#define VIRTIO_MMIO_DRIVER_DESC_HIGH    0x094
#define VIRTIO_MMIO_DEVICE_DESC_LOW     0x0a0   // the used ring
#define VIRTIO_MMIO_DEVICE_DESC_HIGH    0x0a4

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8

#define VIRTIO_F_VERSION_1_HIGH 1   // feature bit 32, in the high feature word

#define VIRTQ_NUM 8   // descriptors; one 3-descriptor request is in flight at a time

struct virtq_desc {
  uint64 addr;
  uint32 len;
  uint16 flags;
  uint16 next;
};
#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2   // the device writes this buffer

struct virtq_avail {
  uint16 flags;
  uint16 idx;
  uint16 ring[VIRTQ_NUM];
  uint16 unused;
};

struct virtq_used_elem {
  uint32 id;
  uint32 len;
};

struct virtq_used {
  uint16 flags;
  uint16 idx;
  struct virtq_used_elem ring[VIRTQ_NUM];
  uint16 avail_event;
};

#define VIRTIO_BLK_T_IN 0   // read

struct virtio_blk_req {
  uint32 type;
  uint32 reserved;
  uint64 sector;   // 512-byte units
};
