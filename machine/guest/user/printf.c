// printf for user programs: formats into a buffer and writes it with one
// write(), so a line from one process is not split by another's output.
#include <stdarg.h>
#include "user/user.h"

struct out {
  int fd;
  int n;
  char buf[160];
};

static void flush(struct out *o) {
  if (o->n > 0)
    write(o->fd, o->buf, o->n);
  o->n = 0;
}

static void putc(struct out *o, char c) {
  if (o->n == sizeof(o->buf))
    flush(o);
  o->buf[o->n++] = c;
}

static void printnum(struct out *o, uint64 x, int base, int sign) {
  char digits[24];
  int i = 0;
  if (sign && (long)x < 0) {
    putc(o, '-');
    x = -x;
  }
  do {
    digits[i++] = "0123456789abcdef"[x % base];
  } while ((x /= base) != 0);
  while (--i >= 0)
    putc(o, digits[i]);
}

static void vprintf(int fd, const char *fmt, va_list ap) {
  struct out o = { fd, 0 };
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      putc(&o, *f);
      continue;
    }
    int lng = 0;
    while (*++f == 'l')
      lng = 1;
    switch (*f) {
    case 'd': printnum(&o, lng ? va_arg(ap, long) : va_arg(ap, int), 10, 1); break;
    case 'u': printnum(&o, lng ? va_arg(ap, uint64) : va_arg(ap, uint), 10, 0); break;
    case 'x': printnum(&o, lng ? va_arg(ap, uint64) : va_arg(ap, uint), 16, 0); break;
    case 'p': putc(&o, '0'); putc(&o, 'x'); printnum(&o, va_arg(ap, uint64), 16, 0); break;
    case 'c': putc(&o, va_arg(ap, int)); break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      for (s = s ? s : "(null)"; *s; s++)
        putc(&o, *s);
      break;
    }
    case '%': putc(&o, '%'); break;
    case 0: f--; break;
    default: putc(&o, '%'); putc(&o, *f); break;
    }
  }
  flush(&o);
}

void printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(1, fmt, ap);
  va_end(ap);
}

void fprintf(int fd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fd, fmt, ap);
  va_end(ap);
}
