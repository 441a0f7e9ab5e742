// cowrace: the multi-hart bug zoo's workload. NWORKERS processes share the
// parent's pages copy-on-write; each forks and reaps ROUNDS children in a loop,
// and every child writes one shared page (a COW fault: kalloc, copy, kfree of
// the shared frame) and exits (kfree of the rest). A worker also has a page of
// its own, which it and its child both write after each fork, so the last two
// references to a frame can be dropped at once. On several harts the workers
// run at once, so forks (kref), faults and exits (kfree) of the same frames
// overlap: a refcount update that is not atomic loses some of them. At the
// end every frame must be back on the free list.
#include "user/user.h"

#define NWORKERS 3
#define ROUNDS 40
#define NPAGES 8

static char *mem;

static void worker(int w) {
  char *own = sbrk(PGSIZE);
  own[0] = w;
  for (int r = 0; r < ROUNDS; r++) {
    int pid = fork();
    if (pid < 0)
      exit(2);
    if (pid == 0) {
      mem[((w + r) % NPAGES) * PGSIZE] = w + r;   // a COW fault on a shared frame
      own[1] = r;                                  // and on the worker's own page
      exit(0);
    }
    // The worker's fault on its own page races with the child's, once another
    // hart has picked the child up: it comes after a wait that varies by round.
    for (volatile int i = 0; i < (r % 8) * 4000; i++)
      ;
    own[1] = r;
    int status;
    if (wait(&status) != pid || status != 0)
      exit(3);
  }
  exit(0);
}

int main(void) {
  int before = freemem();
  mem = sbrk(NPAGES * PGSIZE);
  for (int p = 0; p < NPAGES; p++)
    mem[p * PGSIZE] = p;
  for (int w = 0; w < NWORKERS; w++) {
    int pid = fork();
    if (pid < 0) {
      printf("cowrace: fork failed\n");
      return 1;
    }
    if (pid == 0)
      worker(w);
  }
  int ok = 1;
  for (int w = 0; w < NWORKERS; w++) {
    int status;
    if (wait(&status) < 0 || status != 0)
      ok = 0;
  }
  for (int p = 0; p < NPAGES; p++)
    if (mem[p * PGSIZE] != p)
      ok = 0;
  if (!ok) {
    printf("cowrace: FAIL a worker or its data went wrong\n");
    return 1;
  }
  sbrk(-NPAGES * PGSIZE);
  int after = freemem();
  if (after != before) {
    printf("cowrace: FAIL %d frames not returned\n", before - after);
    return 1;
  }
  printf("cowrace: %d workers x %d forks: all frames returned\n", NWORKERS, ROUNDS);
  return 0;
}
