// Memory and string helpers. memset/memmove use 8-byte accesses when they can,
// since zeroing and copying pages is most of what the kernel does.
#include "types.h"

void *memset(void *dst, int c, uint64 n) {
  char *d = dst;
  if ((((uint64)d | n) & 7) == 0) {
    uint64 v = (uint8)c;
    v |= v << 8;
    v |= v << 16;
    v |= v << 32;
    for (uint64 *p = (uint64 *)d, *e = (uint64 *)(d + n); p < e; p++)
      *p = v;
  } else {
    for (uint64 i = 0; i < n; i++)
      d[i] = c;
  }
  return dst;
}

void *memmove(void *dst, const void *src, uint64 n) {
  char *d = dst;
  const char *s = src;
  if (s < d && s + n > d) {   // overlapping, destination above: copy backwards
    while (n-- > 0)
      d[n] = s[n];
  } else if ((((uint64)d | (uint64)s | n) & 7) == 0) {
    uint64 *dw = (uint64 *)d;
    const uint64 *sw = (const uint64 *)s;
    for (uint64 i = 0; i < n / 8; i++)
      dw[i] = sw[i];
  } else {
    for (uint64 i = 0; i < n; i++)
      d[i] = s[i];
  }
  return dst;
}

// The compiler may emit calls to memcpy for struct assignments.
void *memcpy(void *dst, const void *src, uint64 n) {
  return memmove(dst, src, n);
}

int memcmp(const void *a, const void *b, uint64 n) {
  const uint8 *x = a, *y = b;
  for (uint64 i = 0; i < n; i++)
    if (x[i] != y[i])
      return x[i] - y[i];
  return 0;
}

int strncmp(const char *a, const char *b, uint n) {
  for (; n > 0 && *a && *a == *b; n--, a++, b++)
    ;
  return n == 0 ? 0 : (uint8)*a - (uint8)*b;
}

// Copy at most n-1 characters and always NUL-terminate.
char *safestrcpy(char *dst, const char *src, int n) {
  char *d = dst;
  if (n <= 0)
    return dst;
  while (--n > 0 && (*d++ = *src++) != 0)
    ;
  *d = 0;
  return dst;
}

int strlen(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}
