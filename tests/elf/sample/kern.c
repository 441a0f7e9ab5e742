#include "sample.h"

struct proc proc[NPROC];
struct cpu cpus[8];
struct proc *initproc;
volatile int started;
uint64 ticks;
int refcnt[NFRAMES];
short small_refs[16];
char grid[4][8];
union word scratch;
cv_context_t *saved_context;
const struct pteflags sample_flags = {
    .v = 1, .r = 0, .w = 1, .x = 0, .u = 1, .g = 0, .a = 1, .d = 1,
    .rsw = 2, .ppn = 0x80123};
enum odd odd_value = ODD_BIG;
int (*fault_handler)(struct proc *);
static int frees;

struct {
  struct spinlock lock;
  struct run *freelist;
  int ref[NFRAMES];
} kmem;

extern char end[];

__attribute__((noinline)) void
kfree(void *pa)
{
  struct run *r = (struct run *)pa;
  int idx = pa2index((uint64)pa);
  if (--kmem.ref[idx] > 0)   /* LINE:kfree-decrement */
    return;
  r->next = kmem.freelist;
  kmem.freelist = r;
  frees++;
}

__attribute__((noinline)) void *
kalloc(void)
{
  struct run *r = kmem.freelist;   /* LINE:kalloc-first */
  if (r) {
    kmem.freelist = r->next;
    kmem.ref[pa2index((uint64)r)] = 1;
  }
  return (void *)r;
}

__attribute__((noinline)) int
incref(uint64 pa)
{
  int idx = pa2index(pa);
  refcnt[idx]++;
  return ++kmem.ref[idx];
}

void
start(void)
{
  for (char *p = end; p + PGSIZE <= (char *)0x80100000UL; p += PGSIZE) {
    kmem.ref[((uint64)p - 0x80000000UL) / PGSIZE] = 1;
    kfree(p);
  }
  initproc = &proc[0];
  initproc->state = RUNNABLE;
  fork_like(initproc);
  started = 1;
  for (;;)
    ticks++;
}

#include "layout.inc"
