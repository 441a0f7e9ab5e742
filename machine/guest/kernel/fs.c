// The file system: a read-only flat directory of programs (format in fs.h).
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "fs.h"
#include "defs.h"

static struct {
  struct superblock sb;
  struct dirent dir[NDIRENT];
} fs;

// Read block 0 and list the programs. Runs in the first process (disk reads sleep).
void fsinit(void) {
  virtio_disk_read(0, (char *)&fs, 0, sizeof(fs));
  if (fs.sb.magic != FS_MAGIC || fs.sb.nfiles > NDIRENT)
    panic("fsinit: not a cowtui disk image");
  printf("disk:");
  for (uint i = 0; i < fs.sb.nfiles; i++)
    printf(" %s", fs.dir[i].name);
  printf("\n");
}

int fs_lookup(char *name, struct dirent *out) {
  for (uint i = 0; i < fs.sb.nfiles; i++) {
    if (strncmp(fs.dir[i].name, name, DIRSIZ) == 0) {
      *out = fs.dir[i];
      return 0;
    }
  }
  return -1;
}

// Copy n bytes at offset off of file f to dst (a kernel address). Returns the
// number of bytes copied (less than n at the end of the file).
int fs_read(struct dirent *f, char *dst, uint off, uint n) {
  if (off >= f->size)
    return 0;
  if (n > f->size - off)
    n = f->size - off;
  for (uint done = 0; done < n;) {
    uint boff = (off + done) % BSIZE;
    uint m = BSIZE - boff < n - done ? BSIZE - boff : n - done;
    virtio_disk_read(f->start + (off + done) / BSIZE, dst + done, boff, m);
    done += m;
  }
  return n;
}
