// System call dispatch: the number is in a7, arguments in a0..a5, the result
// goes back in a0.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "syscall.h"
#include "defs.h"

static uint64 argraw(int n) {
  return (&myproc()->trapframe->a0)[n];   // a0..a5 are adjacent in the trapframe
}

void argint(int n, int *ip) {
  *ip = argraw(n);
}

void argaddr(int n, uint64 *ap) {
  *ap = argraw(n);
}

// Fetch the n-th argument as a string into buf; returns its length or -1.
int argstr(int n, char *buf, int max) {
  return fetchstr(argraw(n), buf, max);
}

int fetchaddr(uint64 addr, uint64 *ip) {
  struct proc *p = myproc();
  if (addr >= p->sz || addr + sizeof(uint64) > p->sz)
    return -1;
  return copyin(p->pagetable, (char *)ip, addr, sizeof(*ip));
}

int fetchstr(uint64 addr, char *buf, int max) {
  if (copyinstr(myproc()->pagetable, buf, addr, max) < 0)
    return -1;
  return strlen(buf);
}

uint64 sys_fork(void), sys_exit(void), sys_wait(void), sys_pipe(void),
    sys_read(void), sys_write(void), sys_close(void), sys_kill(void),
    sys_exec(void), sys_getpid(void), sys_sbrk(void), sys_freemem(void),
    sys_eatmem(void), sys_halt(void);

static uint64 (*syscalls[])(void) = {
  [SYS_fork] = sys_fork,       [SYS_exit] = sys_exit,
  [SYS_wait] = sys_wait,       [SYS_pipe] = sys_pipe,
  [SYS_read] = sys_read,       [SYS_write] = sys_write,
  [SYS_close] = sys_close,     [SYS_kill] = sys_kill,
  [SYS_exec] = sys_exec,       [SYS_getpid] = sys_getpid,
  [SYS_sbrk] = sys_sbrk,       [SYS_freemem] = sys_freemem,
  [SYS_eatmem] = sys_eatmem,   [SYS_halt] = sys_halt,
};

void syscall(void) {
  struct proc *p = myproc();
  uint64 num = p->trapframe->a7;
  if (num < NELEM(syscalls) && syscalls[num]) {
    p->trapframe->a0 = syscalls[num]();
  } else {
    printf("%d %s: unknown sys call %ld\n", p->pid, p->name, num);
    p->trapframe->a0 = -1;
  }
}
