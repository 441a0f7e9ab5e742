// File-descriptor system calls, and exec.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "file.h"
#include "defs.h"

// The open file for argument n, or 0 if it is not a valid descriptor.
static struct file *argfd(int n, int *pfd) {
  int fd;
  argint(n, &fd);
  if (fd < 0 || fd >= NOFILE)
    return 0;
  if (pfd)
    *pfd = fd;
  return myproc()->ofile[fd];
}

static int fdalloc(struct file *f) {
  struct proc *p = myproc();
  for (int fd = 0; fd < NOFILE; fd++) {
    if (p->ofile[fd] == 0) {
      p->ofile[fd] = f;
      return fd;
    }
  }
  return -1;
}

uint64 sys_read(void) {
  struct file *f = argfd(0, 0);
  uint64 addr;
  int n;
  argaddr(1, &addr);
  argint(2, &n);
  return f ? fileread(f, addr, n) : -1;
}

uint64 sys_write(void) {
  struct file *f = argfd(0, 0);
  uint64 addr;
  int n;
  argaddr(1, &addr);
  argint(2, &n);
  return f ? filewrite(f, addr, n) : -1;
}

uint64 sys_close(void) {
  int fd;
  struct file *f = argfd(0, &fd);
  if (f == 0)
    return -1;
  myproc()->ofile[fd] = 0;
  fileclose(f);
  return 0;
}

// pipe(int fds[2])
uint64 sys_pipe(void) {
  struct proc *p = myproc();
  uint64 fdarray;
  struct file *rf, *wf;
  argaddr(0, &fdarray);
  if (pipealloc(&rf, &wf) < 0)
    return -1;
  int fd[2] = { fdalloc(rf), -1 };
  if (fd[0] >= 0)
    fd[1] = fdalloc(wf);
  if (fd[1] < 0 || copyout(p->pagetable, fdarray, (char *)fd, sizeof(fd)) < 0) {
    if (fd[0] >= 0)
      p->ofile[fd[0]] = 0;
    if (fd[1] >= 0)
      p->ofile[fd[1]] = 0;
    fileclose(rf);
    fileclose(wf);
    return -1;
  }
  return 0;
}

// exec(path, argv): the argument strings are copied into one kernel page first.
uint64 sys_exec(void) {
  char path[MAXPATH];
  char *argv[MAXARG + 1];
  uint64 uargv;
  if (argstr(0, path, sizeof(path)) < 0)
    return -1;
  argaddr(1, &uargv);
  char *strings = kalloc();
  if (strings == 0)
    return -1;
  int ret = -1, used = 0;
  for (int i = 0;; i++) {
    uint64 uarg;
    if (i > MAXARG || fetchaddr(uargv + 8 * i, &uarg) < 0)
      goto done;
    if (uarg == 0) {
      argv[i] = 0;
      break;
    }
    int n = fetchstr(uarg, strings + used, PGSIZE - used);
    if (n < 0)
      goto done;
    argv[i] = strings + used;
    used += n + 1;
  }
  ret = exec(path, argv);
done:
  kfree(strings);
  return ret;
}
