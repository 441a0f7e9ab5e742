// Copy-on-write fork, as the cow lab describes it.
//
// fork() does not copy user memory: uvmcopy() maps the child's pages to the
// parent's frames. Pages that were writable lose PTE_W in both processes and
// gain PTE_COW; each frame's reference count goes up by one. The first store
// to such a page traps (scause 15) and cowfault() gives the process a private
// writable page: a copy if the frame is still shared, or the same frame made
// writable again if this process holds the last reference. copyout() calls
// cowfault() too, before the kernel writes into a user page.
//
// The -DBUG_... branches build the bug zoo: each is a classic cow-lab mistake.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "defs.h"

// Share the parent's user memory [0, sz) with the child copy-on-write.
int uvmcopy(pagetable_t old, pagetable_t new, uint64 sz) {
  uint64 va;
  for (va = 0; va < sz; va += PGSIZE) {
    pte_t *pte = walk(old, va, 0);
    if (pte == 0 || (*pte & PTE_V) == 0)
      continue;   // a hole (the stack guard page)
    uint64 pa = PTE2PA(*pte);
    uint flags = PTE_FLAGS(*pte);
#ifdef BUG_TEXT_BECOMES_WRITABLE
    if (1) {   // BUG: read-only pages (text) become COW too, so a fault makes them writable
#else
    if (flags & PTE_W) {   // only writable pages become COW; text stays read-only
#endif
      flags = (flags & ~PTE_W) | PTE_COW;
#ifndef BUG_PARENT_LEFT_WRITABLE   // BUG: only the child's PTE is write-protected
      *pte = PA2PTE(pa) | flags;
#endif
    }
    if (mappages(new, va, PGSIZE, pa, flags) != 0)
      goto fail;
    kref((void *)pa);
  }
  sfence_vma();   // the parent's cached translations may still allow stores
  return 0;

fail:
  uvmunmap(new, 0, va / PGSIZE, 1);
  sfence_vma();
  return -1;
}

// Resolve a store to va. Returns 0 when the page is now writable, -1 if va is
// not a COW page of this address space (the caller kills the process), -2 if
// there was no free frame for the copy (the caller kills the process too).
int cowfault(pagetable_t pagetable, uint64 va) {
#ifndef BUG_NO_MAXVA_CHECK
  if (va >= MAXVA)   // walk() panics on such addresses
    return -1;
#endif
  pte_t *pte = walk(pagetable, va, 0);
#ifdef BUG_NO_COW_CHECK   // BUG: any present user page counts as COW, text included
  if (pte == 0 || (*pte & (PTE_V | PTE_U)) != (PTE_V | PTE_U))
    return -1;
#else
  if (pte == 0 || (*pte & (PTE_V | PTE_U | PTE_COW)) != (PTE_V | PTE_U | PTE_COW))
    return -1;
#endif
  uint64 pa = PTE2PA(*pte);
  uint flags = (PTE_FLAGS(*pte) | PTE_W) & ~PTE_COW;

  if (krefcount((void *)pa) == 1 && COW_LAST_SHARER_SHORTCUT) {   // the last sharer: no copy needed
    *pte = PA2PTE(pa) | flags;
    sfence_vma();
    return 0;
  }

  char *mem = kalloc();
  if (mem == 0) {
#ifdef BUG_OOM_PANICS
    panic("cowfault: out of memory");   // BUG: should kill only this process
#endif
    return -2;
  }
  memmove(mem, (char *)pa, PGSIZE);
  *pte = PA2PTE(mem) | flags;
  sfence_vma();
#ifndef BUG_REFCOUNT_LEAK   // BUG: the old frame's reference is never dropped
  kfree((void *)pa);
#endif
#ifdef BUG_DOUBLE_FREE
  kfree((void *)pa);   // BUG: one reference too many dropped: freed while still mapped
#endif
  return 0;
}
