// forktree: three generations share the same frames (reference count 3) until
// each writes. Each generation waits for the next, so the output is in order.
#include "user/user.h"

#define NPAGES 8

static char *mem;

static int same(int page, char c) {
  for (int i = 0; i < PGSIZE; i++)
    if (mem[page * PGSIZE + i] != c)
      return 0;
  return 1;
}

static int all(char c) {
  for (int p = 0; p < NPAGES; p++)
    if (!same(p, c))
      return 0;
  return 1;
}

int main(void) {
  int status;
  mem = sbrk(NPAGES * PGSIZE);
  memset(mem, 'A', NPAGES * PGSIZE);
  printf("forktree: generation 0 (pid %d) filled %d pages with 'A'\n", getpid(), NPAGES);

  int pid = fork();
  if (pid == 0) {
    int pid2 = fork();
    if (pid2 == 0) {
      // Generation 2: every page is mapped by three processes.
      if (!all('A'))
        exit(1);
      printf("forktree: generation 2 (pid %d) sees %d shared pages of 'A'\n", getpid(), NPAGES);
      memset(mem, 'C', PGSIZE);   // copy page 0
      if (!same(0, 'C'))
        exit(1);
      printf("forktree: generation 2 wrote page 0 ('C')\n");
      exit(0);
    }
    if (wait(&status) != pid2 || status != 0)
      exit(1);
    if (!all('A'))
      exit(1);
    printf("forktree: generation 1 (pid %d) still sees 'A' everywhere\n", getpid());
    memset(mem + PGSIZE, 'B', PGSIZE);   // copy page 1
    if (!same(1, 'B') || !same(0, 'A'))
      exit(1);
    printf("forktree: generation 1 wrote page 1 ('B')\n");
    exit(0);
  }
  if (wait(&status) != pid || status != 0) {
    printf("forktree: FAIL a descendant saw wrong data\n");
    return 1;
  }
  if (!all('A')) {
    printf("forktree: FAIL generation 0's pages changed\n");
    return 1;
  }
  printf("forktree: generation 0 still sees 'A' everywhere: ok\n");
  return 0;
}
