#include "sample.h"

/* A second compilation unit: struct proc is described again here, and the
 * globals defined in kern.c appear only as declarations. */

__attribute__((noinline)) static struct proc *
allocproc(void)
{
  for (struct proc *p = proc; p < &proc[NPROC]; p++)
    if (p->state == UNUSED) {
      p->state = USED;
      return p;
    }
  return 0;
}

int
fork_like(struct proc *parent)
{
  struct proc *np = allocproc();
  if (np == 0)
    return -1;
  np->parent = parent;
  np->sz = parent->sz;
  np->pagetable = kalloc();
  for (uint64 va = 0; va < parent->sz; va += PGSIZE)
    incref(va);
  np->state = RUNNABLE;
  started = np->pid;
  return np->pid;
}
