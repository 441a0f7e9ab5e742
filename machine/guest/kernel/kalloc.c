// Physical frame allocator with a reference count per frame.
// refcnt[(pa - KERNBASE) >> 12] is the number of references to the frame at pa:
// 1 after kalloc(), +1 for each extra page-table mapping of a shared
// copy-on-write page (kref), -1 per kfree(); the frame returns to the free
// list when it reaches 0. Free frames have count 0.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "spinlock.h"
#include "defs.h"

extern char end[];   // first address after the kernel (kernel.ld)

struct run {
  struct run *next;
};
#define FRAME(pa) (((uint64)(pa) - REFCOUNT_BASE) >> PGSHIFT)
struct {
  struct spinlock lock;
  struct run *freelist;
  int nfree;  KMEM_REFCOUNT_FIELD   // empty unless -DREFCOUNT_IN_KMEM (param.h)
} kmem;
#ifndef REFCOUNT_KNOBS   // build knobs (param.h) can rename, resize or move the array
int refcnt[NFRAMES];
#elif !defined(REFCOUNT_IN_KMEM)
REFCOUNT_TYPE REFCOUNT_NAME[REFCOUNT_LEN];
#endif
// Put every frame between the kernel and PHYSTOP on the free list. Unlike xv6
// there is no junk fill: writing 128 MiB would cost hundreds of millions of
// instructions at boot. The list ends up highest address first.
void kinit(void) {
  initlock(&kmem.lock, "kmem");
  struct run *head = 0;
  int n = 0;
  for (char *p = (char *)PGROUNDUP((uint64)end); p + PGSIZE <= (char *)PHYSTOP; p += PGSIZE) {
    ((struct run *)p)->next = head;
    head = (struct run *)p;
    n++;
  }
  kmem.freelist = head;
  kmem.nfree = n;
}

static void check(void *pa, char *who) {
  if ((uint64)pa % PGSIZE || (char *)pa < end || (uint64)pa >= PHYSTOP)
    panic(who);
}

// One frame with reference count 1, or 0 if none is free. Not zeroed.
void *kalloc(void) {
  acquire(&kmem.lock);
  struct run *r = kmem.freelist;
  if (r) {
    kmem.freelist = r->next;
    kmem.nfree--;
#ifndef BUG_KALLOC_NO_COUNT   // BUG: the new frame keeps count 0, as if still free
    refcnt[FRAME(r)] = 1;
#endif
  }
  release(&kmem.lock);
  return r;
}

// Drop one reference; the last one frees the frame.
void KFREE(void *pa) {   // kfree, unless a multi-hart bug replaces it (param.h, end of file)
  check(pa, "kfree: bad address");
  acquire(&kmem.lock);
  if (refcnt[FRAME(pa)] <= 0)
    panic("kfree: frame is already free");
#ifdef BUG_KFREE_IGNORES_COUNT   // BUG: every kfree frees, however many PTEs still map it
  KFREE_IGNORED_COUNT(refcnt[FRAME(pa)]);
  if (1) {
#else
  if (--refcnt[FRAME(pa)] == 0) {
#endif
    struct run *r = pa;
    r->next = kmem.freelist;
    kmem.freelist = r;
    kmem.nfree++;
  }
  release(&kmem.lock);
}

// One more reference to an allocated frame (a COW page shared by one more PTE).
void kref(void *pa) {
  check(pa, "kref: bad address");
  acquire(&kmem.lock);
  if (refcnt[FRAME(pa)] <= 0)
    panic("kref: frame is free");
  refcnt[FRAME(pa)]++;
  release(&kmem.lock);
}

int krefcount(void *pa) {
  return refcnt[FRAME(pa)];
}

int kfreecount(void) {
  return kmem.nfree;
}

// Test hook behind eatmem(): move up to n free frames onto *list, as if
// allocated, so out-of-memory paths can be reached without filling 128 MiB.
int kreserve(void **list, int n) {
  int got = 0;
  acquire(&kmem.lock);
  for (; got < n && kmem.freelist; got++) {
    struct run *r = kmem.freelist;
    kmem.freelist = r->next;
    kmem.nfree--;
    refcnt[FRAME(r)] = 1;
    r->next = *list;
    *list = r;
  }
  release(&kmem.lock);
  return got;
}

void kunreserve(void **list) {
  while (*list) {
    struct run *r = *list;
    *list = r->next;
    kfree(r);
  }
}

#if defined(BUG_REFCOUNT_UNLOCKED) || defined(BUG_FREE_CHECK_THEN_ACT)
static void push_free(struct run *r) {   // caller holds kmem.lock
  r->next = kmem.freelist;
  kmem.freelist = r;
  kmem.nfree++;
}
#endif

#ifdef BUG_REFCOUNT_UNLOCKED
// BUG: the count is read, decremented and written back without kmem.lock. Two
// harts dropping references to one frame at once can both read the old count,
// and one decrement is lost (the frame leaks), or a kref in between is lost
// (the frame is freed while still mapped).
void kfree(void *pa) {
  check(pa, "kfree: bad address");
  if (refcnt[FRAME(pa)] <= 0)
    panic("kfree: frame is already free");
  int left = refcnt[FRAME(pa)] - 1;
  refcnt[FRAME(pa)] = left;
  if (left == 0) {
    acquire(&kmem.lock);
    push_free(pa);
    release(&kmem.lock);
  }
}
#endif

#ifdef BUG_FREE_CHECK_THEN_ACT
// BUG: the decrement and the test for the last reference are two locked
// sections. When two harts drop the last two references at once, both can
// see 0 in the second one, and the frame goes on the free list twice.
void kfree(void *pa) {
  check(pa, "kfree: bad address");
  acquire(&kmem.lock);
  if (refcnt[FRAME(pa)] <= 0)
    panic("kfree: frame is already free");
  refcnt[FRAME(pa)]--;
  release(&kmem.lock);

  acquire(&kmem.lock);
  if (refcnt[FRAME(pa)] == 0)
    push_free(pa);
  release(&kmem.lock);
}
#endif
