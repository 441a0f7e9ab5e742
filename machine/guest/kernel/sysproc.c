// Process and memory system calls.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "memlayout.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

uint64 sys_fork(void) {
  return fork();
}

uint64 sys_exit(void) {
  int status;
  argint(0, &status);
  exit(status);
}

uint64 sys_wait(void) {
  uint64 addr;
  argaddr(0, &addr);
  return wait(addr);
}

uint64 sys_kill(void) {
  int pid;
  argint(0, &pid);
  return kill(pid);
}

uint64 sys_getpid(void) {
  return myproc()->pid;
}

// sbrk(n): grow (or shrink) user memory by n bytes; returns the old end.
uint64 sys_sbrk(void) {
  int n;
  argint(0, &n);
  uint64 addr = myproc()->sz;
  if (growproc(n) < 0)
    return -1;
  return addr;
}

// freemem(): number of free physical frames, for leak checks.
uint64 sys_freemem(void) {
  return kfreecount();
}

// eatmem(n): take up to n free frames away until this process exits; returns
// how many. Lets a test run out of memory cheaply.
uint64 sys_eatmem(void) {
  int n;
  argint(0, &n);
  return kreserve(&myproc()->reserved, n);
}

// halt(code): power off through the test finisher; QEMU exits with code.
uint64 sys_halt(void) {
  int code;
  argint(0, &code);
  *(volatile uint32 *)FINISHER = code == 0 ? FINISHER_PASS : ((uint32)code << 16) | FINISHER_FAIL;
  intr_off();   // no finisher: just stop
  csrw(sie, 0);
  for (;;)
    asm volatile("wfi");
}
