// Program entry and the string/memory helpers of the tiny libc.
#include "user/user.h"

int main(int argc, char **argv);

// exec() starts here with argc in a0 and argv in a1.
__attribute__((section(".text.start"))) void _start(int argc, char **argv) {
  exit(main(argc, argv));
}

int strlen(const char *s) {
  int n = 0;
  while (s[n])
    n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b)
    a++, b++;
  return (uint8)*a - (uint8)*b;
}

char *strcpy(char *dst, const char *src) {
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

char *strchr(const char *s, int c) {
  for (; *s; s++)
    if (*s == c)
      return (char *)s;
  return 0;
}

void *memset(void *dst, int c, uint64 n) {
  char *d = dst;
  for (uint64 i = 0; i < n; i++)
    d[i] = c;
  return dst;
}

void *memmove(void *dst, const void *src, uint64 n) {
  char *d = dst;
  const char *s = src;
  if (s < d && s + n > d) {
    while (n-- > 0)
      d[n] = s[n];
  } else {
    for (uint64 i = 0; i < n; i++)
      d[i] = s[i];
  }
  return dst;
}

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

int atoi(const char *s) {
  int n = 0, sign = 1;
  if (*s == '-')
    sign = -1, s++;
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return sign * n;
}
