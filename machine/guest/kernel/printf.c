// Kernel printf (polls the UART, usable anywhere) and panic.
#include <stdarg.h>
#include "types.h"
#include "param.h"
#include "spinlock.h"
#include "riscv.h"
#include "defs.h"

volatile int panicked;
static struct spinlock pr = { 0, "pr", 0 };

static void printnum(uint64 x, int base, int sign) {
  char buf[24];
  int i = 0;
  if (sign && (long)x < 0) {
    uartputc_sync('-');
    x = -x;
  }
  do {
    buf[i++] = "0123456789abcdef"[x % base];
  } while ((x /= base) != 0);
  while (--i >= 0)
    uartputc_sync(buf[i]);
}

// Formats: %d %u %x with optional l, %p, %s, %c, %%.
void printf(const char *fmt, ...) {
  va_list ap;
  int locking = !panicked;
  if (locking)
    acquire(&pr);
  va_start(ap, fmt);
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      uartputc_sync(*f);
      continue;
    }
    int lng = 0;
    while (*++f == 'l')
      lng = 1;
    switch (*f) {
    case 'd': printnum(lng ? va_arg(ap, long) : va_arg(ap, int), 10, 1); break;
    case 'u': printnum(lng ? va_arg(ap, uint64) : va_arg(ap, uint), 10, 0); break;
    case 'x': printnum(lng ? va_arg(ap, uint64) : va_arg(ap, uint), 16, 0); break;
    case 'p': uartputc_sync('0'); uartputc_sync('x'); printnum(va_arg(ap, uint64), 16, 0); break;
    case 'c': uartputc_sync(va_arg(ap, int)); break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      for (s = s ? s : "(null)"; *s; s++)
        uartputc_sync(*s);
      break;
    }
    case '%': uartputc_sync('%'); break;
    case 0: f--; break;
    default: uartputc_sync('%'); uartputc_sync(*f); break;
    }
  }
  va_end(ap);
  if (locking)
    release(&pr);
}

// Print and stop. With every interrupt source disabled the hart sleeps in
// wfi for good, and the state stays as it was for a debugger to inspect.
void panic(const char *s) {
  intr_off();
  panicked = 1;
  printf("panic: %s\n", s);
  csrw(sie, 0);
  for (;;)
    asm volatile("wfi");
}
