// Pipes: a 512-byte ring buffer in one kernel page. Reads copy into user
// memory with copyout(), which is where the kernel meets copy-on-write pages.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "file.h"
#include "defs.h"

#define PIPESIZE 512

struct pipe {
  struct spinlock lock;
  char data[PIPESIZE];
  uint nread;      // bytes read so far
  uint nwrite;     // bytes written so far
  int readopen;
  int writeopen;
};

int pipealloc(struct file **f0, struct file **f1) {
  struct pipe *pi = 0;
  *f0 = *f1 = 0;
  if ((*f0 = filealloc()) == 0 || (*f1 = filealloc()) == 0 || (pi = kalloc()) == 0)
    goto bad;
  initlock(&pi->lock, "pipe");
  pi->nread = pi->nwrite = 0;
  pi->readopen = pi->writeopen = 1;
  (*f0)->type = FD_PIPE;
  (*f0)->readable = 1;
  (*f0)->writable = 0;
  (*f0)->pipe = pi;
  (*f1)->type = FD_PIPE;
  (*f1)->readable = 0;
  (*f1)->writable = 1;
  (*f1)->pipe = pi;
  return 0;

bad:
  if (*f0)
    fileclose(*f0);
  if (*f1)
    fileclose(*f1);
  return -1;
}

void pipeclose(struct pipe *pi, int writable) {
  acquire(&pi->lock);
  if (writable) {
    pi->writeopen = 0;
    wakeup(&pi->nread);
  } else {
    pi->readopen = 0;
    wakeup(&pi->nwrite);
  }
  if (!pi->readopen && !pi->writeopen) {
    release(&pi->lock);
    kfree(pi);
  } else {
    release(&pi->lock);
  }
}

static int min(int a, int b) {
  return a < b ? a : b;
}

int pipewrite(struct pipe *pi, uint64 addr, int n) {
  struct proc *p = myproc();
  int i = 0;
  acquire(&pi->lock);
  while (i < n) {
    if (!pi->readopen || killed(p)) {
      release(&pi->lock);
      return -1;
    }
    if (pi->nwrite == pi->nread + PIPESIZE) {   // full
      wakeup(&pi->nread);
      sleep(&pi->nwrite, &pi->lock);
      continue;
    }
    int m = min(n - i, PIPESIZE - (pi->nwrite - pi->nread));
    m = min(m, PIPESIZE - pi->nwrite % PIPESIZE);   // up to the end of the ring
    if (copyin(p->pagetable, &pi->data[pi->nwrite % PIPESIZE], addr + i, m) < 0)
      break;
    pi->nwrite += m;
    i += m;
  }
  wakeup(&pi->nread);
  release(&pi->lock);
  return i;
}

int piperead(struct pipe *pi, uint64 addr, int n) {
  struct proc *p = myproc();
  int i = 0;
  acquire(&pi->lock);
  while (pi->nread == pi->nwrite && pi->writeopen) {
    if (killed(p)) {
      release(&pi->lock);
      return -1;
    }
    sleep(&pi->nread, &pi->lock);
  }
  while (i < n && pi->nread != pi->nwrite) {
    int m = min(n - i, pi->nwrite - pi->nread);
    m = min(m, PIPESIZE - pi->nread % PIPESIZE);
    if (copyout(p->pagetable, addr + i, &pi->data[pi->nread % PIPESIZE], m) < 0) {
      if (i == 0)
        i = -1;
      break;
    }
    pi->nread += m;
    i += m;
  }
  wakeup(&pi->nwrite);
  release(&pi->lock);
  return i;
}
