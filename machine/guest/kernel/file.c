// The open-file table: reference-counted console and pipe ends.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "file.h"
#include "defs.h"

static struct {
  struct spinlock lock;
  struct file file[NFILE];
} ftable = { .lock = { 0, "ftable", 0 } };

struct file *filealloc(void) {
  acquire(&ftable.lock);
  for (struct file *f = ftable.file; f < ftable.file + NFILE; f++) {
    if (f->ref == 0) {
      f->ref = 1;
      release(&ftable.lock);
      return f;
    }
  }
  release(&ftable.lock);
  return 0;
}

struct file *filedup(struct file *f) {
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("filedup");
  f->ref++;
  release(&ftable.lock);
  return f;
}

void fileclose(struct file *f) {
  acquire(&ftable.lock);
  if (f->ref < 1)
    panic("fileclose");
  if (--f->ref > 0) {
    release(&ftable.lock);
    return;
  }
  struct file ff = *f;
  f->type = FD_NONE;
  release(&ftable.lock);
  if (ff.type == FD_PIPE)
    pipeclose(ff.pipe, ff.writable);
}

int fileread(struct file *f, uint64 addr, int n) {
  if (!f->readable)
    return -1;
  if (f->type == FD_PIPE)
    return piperead(f->pipe, addr, n);
  if (f->type == FD_CONSOLE)
    return consoleread(addr, n);
  return -1;
}

int filewrite(struct file *f, uint64 addr, int n) {
  if (!f->writable)
    return -1;
  if (f->type == FD_PIPE)
    return pipewrite(f->pipe, addr, n);
  if (f->type == FD_CONSOLE)
    return consolewrite(addr, n);
  return -1;
}

// A new open file on the console, for the first process's fds 0, 1 and 2.
struct file *consolefile(void) {
  struct file *f = filealloc();
  f->type = FD_CONSOLE;
  f->readable = 1;
  f->writable = 1;
  return f;
}
