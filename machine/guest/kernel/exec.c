// exec: replace the calling process's memory with a program from the disk.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "spinlock.h"
#include "proc.h"
#include "fs.h"
#include "elf.h"
#include "defs.h"

static int flags2perm(int flags) {
  int perm = 0;
  if (flags & ELF_PROG_FLAG_EXEC)
    perm |= PTE_X;
  if (flags & ELF_PROG_FLAG_WRITE)
    perm |= PTE_W;
  return perm;
}

// Load file bytes [off, off+sz) at va, which uvmalloc() already mapped.
static int loadseg(pagetable_t pagetable, uint64 va, struct dirent *f, uint off, uint sz) {
  for (uint i = 0; i < sz; i += PGSIZE) {
    uint64 pa = walkaddr(pagetable, va + i);
    if (pa == 0)
      panic("loadseg: address not mapped");
    uint n = sz - i < PGSIZE ? sz - i : PGSIZE;
    if (fs_read(f, (char *)pa, off + i, n) != n)
      return -1;
  }
  return 0;
}

// Returns argc (which the caller puts in a0), or -1 with the process unchanged.
// Memory layout: segments from 0, an unmapped guard page, the stack page.
int exec(char *path, char **argv) {
  struct proc *p = myproc();
  struct dirent de;
  struct elfhdr elf;
  struct proghdr ph;
  pagetable_t pagetable = 0;
  uint64 sz = 0;

  if (fs_lookup(path, &de) < 0)
    return -1;
  if (fs_read(&de, (char *)&elf, 0, sizeof(elf)) != sizeof(elf) || elf.magic != ELF_MAGIC)
    return -1;
  if ((pagetable = proc_pagetable(p)) == 0)
    return -1;

  for (int i = 0; i < elf.phnum; i++) {
    if (fs_read(&de, (char *)&ph, elf.phoff + i * sizeof(ph), sizeof(ph)) != sizeof(ph))
      goto bad;
    if (ph.type != ELF_PROG_LOAD || ph.memsz == 0)
      continue;
    if (ph.memsz < ph.filesz || ph.vaddr + ph.memsz < ph.vaddr || ph.vaddr % PGSIZE != 0 ||
        ph.vaddr < sz || ph.vaddr + ph.memsz > TRAPFRAME)
      goto bad;
    if (uvmalloc(pagetable, ph.vaddr, ph.vaddr + ph.memsz, flags2perm(ph.flags)) == 0)
      goto bad;
    sz = ph.vaddr + ph.memsz;
    if (loadseg(pagetable, ph.vaddr, &de, ph.off, ph.filesz) < 0)
      goto bad;
  }

  // Leave a guard page unmapped below the stack, so overflows fault.
  sz = PGROUNDUP(sz) + PGSIZE;
  if (uvmalloc(pagetable, sz, sz + USERSTACK * PGSIZE, PTE_W) == 0)
    goto bad;
  sz += USERSTACK * PGSIZE;
  uint64 sp = sz, stackbase = sp - USERSTACK * PGSIZE;

  // Push the argument strings, then the argv[] array of pointers to them.
  uint64 ustack[MAXARG + 1];
  int argc;
  for (argc = 0; argv[argc]; argc++) {
    if (argc >= MAXARG)
      goto bad;
    sp -= strlen(argv[argc]) + 1;
    sp -= sp % 16;   // RISC-V wants sp 16-byte aligned
    if (sp < stackbase || copyout(pagetable, sp, argv[argc], strlen(argv[argc]) + 1) < 0)
      goto bad;
    ustack[argc] = sp;
  }
  ustack[argc] = 0;
  sp -= (argc + 1) * sizeof(uint64);
  sp -= sp % 16;
  if (sp < stackbase || copyout(pagetable, sp, (char *)ustack, (argc + 1) * sizeof(uint64)) < 0)
    goto bad;

  // main(argc, argv): argc is returned into a0, argv goes in a1.
  p->trapframe->a1 = sp;
  char *last = path;
  for (char *s = path; *s; s++)
    if (*s == '/')
      last = s + 1;
  safestrcpy(p->name, last, sizeof(p->name));

  pagetable_t oldpagetable = p->pagetable;
  uint64 oldsz = p->sz;
  p->pagetable = pagetable;
  p->sz = sz;
  p->trapframe->epc = elf.entry;
  p->trapframe->sp = sp;
  proc_freepagetable(oldpagetable, oldsz);
  return argc;

bad:
  proc_freepagetable(pagetable, sz);
  return -1;
}
