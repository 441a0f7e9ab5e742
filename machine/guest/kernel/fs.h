// The disk format (written by tools/mkdisk.py; keep the two in step).
// Block 0 holds the superblock followed by a flat directory; each file is one
// contiguous run of blocks starting at `start`. The disk is read-only.
#define BSIZE 1024
#define FS_MAGIC 0x31574f43   // "COW1"
#define DIRSIZ 24

struct superblock {
  uint magic;
  uint nfiles;
  uint nblocks;   // size of the image in blocks
  uint reserved;
};

struct dirent {
  char name[DIRSIZ];   // NUL-terminated
  uint start;          // first block
  uint size;           // bytes
};

#define NDIRENT ((BSIZE - sizeof(struct superblock)) / sizeof(struct dirent))
