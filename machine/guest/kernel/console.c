// Console line discipline: received characters are echoed and collected into
// lines; read() returns one line at a time. ^D ends input, backspace erases.
#include "types.h"
#include "param.h"
#include "riscv.h"
#include "spinlock.h"
#include "proc.h"
#include "defs.h"

#define INPUT_BUF 128
#define CTRL(x) ((x) - '@')

static struct {
  struct spinlock lock;
  char buf[INPUT_BUF];
  uint r;   // next to read
  uint w;   // end of completed lines
  uint e;   // end of the line being edited
} cons = { .lock = { 0, "cons", 0 } };

void consoleintr(int c) {
  acquire(&cons.lock);
  if (c == '\b' || c == 0x7f) {
    if (cons.e != cons.w) {
      cons.e--;
      uartputc_sync('\b');
      uartputc_sync(' ');
      uartputc_sync('\b');
    }
  } else if (c != 0 && cons.e - cons.r < INPUT_BUF) {
    if (c == '\r')
      c = '\n';
    if (c != CTRL('D'))
      uartputc_sync(c);
    cons.buf[cons.e++ % INPUT_BUF] = c;
    if (c == '\n' || c == CTRL('D') || cons.e - cons.r == INPUT_BUF) {
      cons.w = cons.e;
      wakeup(&cons.r);
    }
  }
  release(&cons.lock);
}

int consoleread(uint64 dst, int n) {
  struct proc *p = myproc();
  int target = n;
  acquire(&cons.lock);
  while (n > 0) {
    while (cons.r == cons.w) {
      if (killed(p)) {
        release(&cons.lock);
        return -1;
      }
      sleep(&cons.r, &cons.lock);
    }
    char c = cons.buf[cons.r++ % INPUT_BUF];
    if (c == CTRL('D')) {
      if (n < target)
        cons.r--;   // keep ^D for the next read, which then returns 0
      break;
    }
    if (copyout(p->pagetable, dst, &c, 1) < 0)
      break;
    dst++;
    n--;
    if (c == '\n')
      break;
  }
  release(&cons.lock);
  return target - n;
}

int consolewrite(uint64 src, int n) {
  char buf[32];
  int i = 0;
  while (i < n) {
    int m = n - i < (int)sizeof(buf) ? n - i : (int)sizeof(buf);
    if (copyin(myproc()->pagetable, buf, src + i, m) < 0)
      break;
    uartwrite(buf, m);
    i += m;
  }
  return i;
}
