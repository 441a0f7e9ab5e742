// cowstress: many pages, many writers. The parent fills NPAGES pages, forks
// NCHILD children, and everyone rewrites pages while the others still share
// them; each checks that it sees exactly its own writes. At the end every
// frame must be back on the free list.
#include "user/user.h"

#define NPAGES 32
#define NCHILD 4
#define ROUNDS 3
#define WORDS (PGSIZE / 8)

static uint64 *mem;

static uint64 value(int page, int word, int owner) {
  return ((uint64)owner << 32) | (page << 16) | word;
}

static void fill(int page, int owner) {
  for (int w = 0; w < WORDS; w++)
    mem[page * WORDS + w] = value(page, w, owner);
}

static int check(int page, int owner) {
  for (int w = 0; w < WORDS; w++)
    if (mem[page * WORDS + w] != value(page, w, owner))
      return 0;
  return 1;
}

// Child c owns pages p with p % NCHILD == c and rewrites them each round.
static int child(int c) {
  for (int r = 1; r <= ROUNDS; r++) {
    for (int p = c; p < NPAGES; p += NCHILD)
      fill(p, 100 * (c + 1) + r);
    for (int p = 0; p < NPAGES; p++)
      if (!check(p, p % NCHILD == c ? 100 * (c + 1) + r : 0))
        return 1;
  }
  return 0;
}

int main(void) {
  int before = freemem();
  mem = (uint64 *)sbrk(NPAGES * PGSIZE);
  for (int p = 0; p < NPAGES; p++)
    fill(p, 0);
  for (int c = 0; c < NCHILD; c++) {
    int pid = fork();
    if (pid < 0) {
      printf("cowstress: fork failed\n");
      return 1;
    }
    if (pid == 0)
      exit(child(c));
  }
  // The parent rewrites the odd pages while the children run.
  for (int p = 1; p < NPAGES; p += 2)
    fill(p, 1);
  int ok = 1;
  for (int p = 0; p < NPAGES; p++)
    ok &= check(p, p % 2 ? 1 : 0);
  for (int c = 0; c < NCHILD; c++) {
    int status;
    if (wait(&status) < 0 || status != 0)
      ok = 0;
  }
  if (!ok) {
    printf("cowstress: FAIL wrong data\n");
    return 1;
  }
  printf("cowstress: %d children x %d pages x %d rounds: data ok\n", NCHILD, NPAGES, ROUNDS);
  sbrk(-NPAGES * PGSIZE);
  int after = freemem();
  if (after != before) {
    printf("cowstress: FAIL %d frames not returned\n", before - after);
    return 1;
  }
  printf("cowstress: all frames returned\n");
  return 0;
}
