// Page tables: the kernel's direct map, and user address spaces.
// Copy-on-write sharing and faults are in cow.c.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "defs.h"

pagetable_t kernel_pagetable;

extern char etext[];        // end of kernel code (kernel.ld)
extern char trampoline[];   // trampoline.S

static void kvmmap(pagetable_t kpt, uint64 va, uint64 pa, uint64 sz, int perm) {
  if (mappages(kpt, va, sz, pa, perm) != 0)
    panic("kvmmap");
}

// The kernel maps devices and all of RAM at their physical addresses, so it
// reaches any frame through its physical address.
void kvminit(void) {
  pagetable_t kpt = kalloc();
  memset(kpt, 0, PGSIZE);
  kvmmap(kpt, FINISHER, FINISHER, PGSIZE, PTE_R | PTE_W);
  kvmmap(kpt, UART0, UART0, PGSIZE, PTE_R | PTE_W);
  kvmmap(kpt, VIRTIO0, VIRTIO0, PGSIZE, PTE_R | PTE_W);
  // The three PLIC pages used: priorities, hart 0 S-mode enables, its threshold/claim.
  kvmmap(kpt, PLIC, PLIC, PGSIZE, PTE_R | PTE_W);
  kvmmap(kpt, PGROUNDDOWN(PLIC_SENABLE), PGROUNDDOWN(PLIC_SENABLE), PGSIZE, PTE_R | PTE_W);
  kvmmap(kpt, PGROUNDDOWN(PLIC_SCLAIM), PGROUNDDOWN(PLIC_SCLAIM), PGSIZE, PTE_R | PTE_W);  KVMMAP_OTHER_HARTS_PLIC(kpt)
  kvmmap(kpt, KERNBASE, KERNBASE, (uint64)etext - KERNBASE, PTE_R | PTE_X);
  kvmmap(kpt, (uint64)etext, (uint64)etext, PHYSTOP - (uint64)etext, PTE_R | PTE_W);
  kvmmap(kpt, TRAMPOLINE, (uint64)trampoline, PGSIZE, PTE_R | PTE_X);
  kernel_pagetable = kpt;
}

void kvminithart(void) {
  sfence_vma();
  csrw(satp, MAKE_SATP(kernel_pagetable));
  sfence_vma();
}

// The level-0 PTE for va, creating missing page-table pages if alloc.
// Returns 0 if it does not exist (or cannot be allocated).
pte_t *walk(pagetable_t pagetable, uint64 va, int alloc) {
  if (va >= MAXVA)
    panic("walk");
  for (int level = 2; level > 0; level--) {
    pte_t *pte = &pagetable[PX(level, va)];
    if (*pte & PTE_V) {
      pagetable = (pagetable_t)PTE2PA(*pte);
    } else {
      if (!alloc || (pagetable = kalloc()) == 0)
        return 0;
      memset(pagetable, 0, PGSIZE);
      *pte = PA2PTE(pagetable) | PTE_V;
    }
  }
  return &pagetable[PX(0, va)];
}

// Physical address of a user page, or 0 if va is not mapped for user access.
uint64 walkaddr(pagetable_t pagetable, uint64 va) {
  if (va >= MAXVA)
    return 0;
  pte_t *pte = walk(pagetable, va, 0);
  if (pte == 0 || (*pte & (PTE_V | PTE_U)) != (PTE_V | PTE_U))
    return 0;
  return PTE2PA(*pte);
}

// Map [va, va+size) to [pa, pa+size). The walk is done once per level-0 table:
// consecutive PTEs in one table are adjacent, which keeps boot-time mapping of
// 128 MiB cheap.
int mappages(pagetable_t pagetable, uint64 va, uint64 size, uint64 pa, int perm) {
  if (va % PGSIZE || size % PGSIZE || size == 0)
    panic("mappages: not aligned");
  pte_t *pte = 0;
  for (uint64 a = va; a < va + size; a += PGSIZE, pa += PGSIZE, pte++) {
    if (pte == 0 || PX(0, a) == 0)
      if ((pte = walk(pagetable, a, 1)) == 0)
        return -1;
    if (*pte & PTE_V)
      panic("mappages: remap");
    *pte = PA2PTE(pa) | perm | PTE_V;
  }
  return 0;
}

// Remove npages mappings starting at va, dropping a frame reference for each
// if do_free. Unmapped pages (holes such as the stack guard) are skipped.
void uvmunmap(pagetable_t pagetable, uint64 va, uint64 npages, int do_free) {
  for (uint64 a = va; a < va + npages * PGSIZE; a += PGSIZE) {
    pte_t *pte = walk(pagetable, a, 0);
    if (pte == 0 || (*pte & PTE_V) == 0)
      continue;
    if (PTE_FLAGS(*pte) == PTE_V)
      panic("uvmunmap: not a leaf");
    if (do_free)
      kfree((void *)PTE2PA(*pte));
    *pte = 0;
  }
  sfence_vma();
}

pagetable_t uvmcreate(void) {
  pagetable_t pagetable = kalloc();
  if (pagetable)
    memset(pagetable, 0, PGSIZE);
  return pagetable;
}

// Grow user memory from oldsz to newsz with zeroed pages. Returns the new
// size, or 0 (and no change) if memory ran out.
uint64 uvmalloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz, int xperm) {
  for (uint64 a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
    char *mem = kalloc();
    if (mem == 0) {
      uvmdealloc(pagetable, a, oldsz);
      return 0;
    }
    memset(mem, 0, PGSIZE);
    if (mappages(pagetable, a, PGSIZE, (uint64)mem, PTE_R | PTE_U | xperm) != 0) {
      kfree(mem);
      uvmdealloc(pagetable, a, oldsz);
      return 0;
    }
  }
  return newsz > oldsz ? newsz : oldsz;
}

// Shrink user memory from oldsz to newsz. Returns the new size.
uint64 uvmdealloc(pagetable_t pagetable, uint64 oldsz, uint64 newsz) {
  if (newsz >= oldsz)
    return oldsz;
  if (PGROUNDUP(newsz) < PGROUNDUP(oldsz))
    uvmunmap(pagetable, PGROUNDUP(newsz), (PGROUNDUP(oldsz) - PGROUNDUP(newsz)) / PGSIZE, 1);
  return newsz;
}

// Free the page-table pages themselves; every leaf must already be unmapped.
static void freewalk(pagetable_t pagetable) {
  for (int i = 0; i < 512; i++) {
    pte_t pte = pagetable[i];
    if ((pte & PTE_V) && (pte & (PTE_R | PTE_W | PTE_X)) == 0) {
      freewalk((pagetable_t)PTE2PA(pte));
      pagetable[i] = 0;
    } else if (pte & PTE_V) {
      panic("freewalk: leaf");
    }
  }
  kfree(pagetable);
}

void uvmfree(pagetable_t pagetable, uint64 sz) {
  if (sz > 0)
    uvmunmap(pagetable, 0, PGROUNDUP(sz) / PGSIZE, 1);
  freewalk(pagetable);
}

// Copy from the kernel to user memory. A copy-on-write page gets its own frame
// first, exactly as if the process had stored to it.
int copyout(pagetable_t pagetable, uint64 dstva, char *src, uint64 len) {
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(dstva);
    if (va0 >= MAXVA)
      return -1;
    pte_t *pte = walk(pagetable, va0, 0);
    if (pte == 0 || (*pte & (PTE_V | PTE_U)) != (PTE_V | PTE_U))
      return -1;
#ifdef BUG_COPYOUT_STALE_PA
    uint64 pa0 = PTE2PA(*pte);   // BUG: looked up before the COW copy, used after it
#endif
#ifndef BUG_COPYOUT_IGNORES_COW
    if ((*pte & PTE_COW) && cowfault(pagetable, va0) != 0)
      return -1;
    if ((*pte & PTE_W) == 0)
      return -1;
#endif
#ifndef BUG_COPYOUT_STALE_PA
    uint64 pa0 = PTE2PA(*pte);   // after the copy: this process's own frame
#endif
    uint64 n = PGSIZE - (dstva - va0);
    if (n > len)
      n = len;
    memmove((char *)(pa0 + (dstva - va0)), src, n);
    len -= n;
    src += n;
    dstva = va0 + PGSIZE;
  }
  return 0;
}

// Copy from user memory to the kernel.
int copyin(pagetable_t pagetable, char *dst, uint64 srcva, uint64 len) {
  while (len > 0) {
    uint64 va0 = PGROUNDDOWN(srcva);
    uint64 pa0 = walkaddr(pagetable, va0);
    if (pa0 == 0)
      return -1;
    uint64 n = PGSIZE - (srcva - va0);
    if (n > len)
      n = len;
    memmove(dst, (char *)(pa0 + (srcva - va0)), n);
    len -= n;
    dst += n;
    srcva = va0 + PGSIZE;
  }
  return 0;
}

// Copy a NUL-terminated string of at most max bytes (with the NUL) from user memory.
int copyinstr(pagetable_t pagetable, char *dst, uint64 srcva, uint64 max) {
  while (max > 0) {
    uint64 va0 = PGROUNDDOWN(srcva);
    uint64 pa0 = walkaddr(pagetable, va0);
    if (pa0 == 0)
      return -1;
    for (char *p = (char *)(pa0 + (srcva - va0)); p < (char *)(pa0 + PGSIZE) && max > 0; p++, max--) {
      *dst = *p;
      if (*p == 0)
        return 0;
      dst++;
    }
    srcva = va0 + PGSIZE;
  }
  return -1;
}

#if NCPU > 1
// kvminit() for harts 1..: their threshold/claim pages (hart 0's enable page
// holds every hart's enables).
void kvmmap_other_harts_plic(pagetable_t kpt) {
  for (int hart = 1; hart < NCPU; hart++) {
    uint64 va = PGROUNDDOWN(PLIC_SCLAIM_OF(hart));
    kvmmap(kpt, va, va, PGSIZE, PTE_R | PTE_W);
  }
}
#endif
