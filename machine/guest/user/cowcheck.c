// cowcheck: our copy-on-write test suite. Each test forks children, checks the
// data every process sees and that freemem() returns to its starting value
// once the children are gone. It stops at the first failure.
#include "user/user.h"

int main(void);

static const char *test;   // name of the running test

static void fail(const char *what) {
  printf("cowcheck: FAIL %s: %s\n", test, what);
  exit(1);
}

static void start(const char *name) {
  test = name;
}

static void pass(int before) {
  int after = freemem();
  if (after != before) {
    printf("cowcheck: FAIL %s: %d frames not returned to the free list\n", test, before - after);
    exit(1);
  }
  printf("cowcheck: %s: ok\n", test);
}

static uint64 *grow(int npages) {
  char *p = sbrk(npages * PGSIZE);
  if (p == (char *)-1)
    fail("sbrk failed");
  return (uint64 *)p;
}

static void shrink(int npages) {
  sbrk(-npages * PGSIZE);
}

// Every word of every page holds a value unique to (seed, page, word).
static void fill(uint64 *p, int npages, int seed) {
  for (int i = 0; i < npages * PGSIZE / 8; i++)
    p[i] = ((uint64)seed << 40) ^ (i * 0x9e3779b97f4a7c15UL);
}

static int same(uint64 *p, int npages, int seed) {
  for (int i = 0; i < npages * PGSIZE / 8; i++)
    if (p[i] != (((uint64)seed << 40) ^ (i * 0x9e3779b97f4a7c15UL)))
      return 0;
  return 1;
}

static int waitstatus(void) {
  int status;
  if (wait(&status) < 0)
    fail("wait failed");
  return status;
}

// The child sees the parent's data, writes its own copy; the parent's stays.
static void test_fork_write(void) {
  enum { N = 8 };
  start("child writes its copy, parent keeps its data");
  int before = freemem();
  uint64 *p = grow(N);
  fill(p, N, 1);
  if (fork() == 0) {
    if (!same(p, N, 1))
      exit(2);
    fill(p, N, 2);
    exit(same(p, N, 2) ? 0 : 3);
  }
  int status = waitstatus();
  if (status == 2)
    fail("the child did not see the parent's data");
  if (status == 3)
    fail("the child's writes did not stick");
  if (status != 0)
    fail("the child died");
  if (!same(p, N, 1))
    fail("the parent's pages changed when the child wrote");
  fill(p, N, 3);
  if (!same(p, N, 3))
    fail("the parent's writes did not stick");
  shrink(N);
  pass(before);
}

// Parent and several children all write while sharing.
static void test_many_children(void) {
  enum { N = 4, KIDS = 3 };
  start("parent and 3 children write shared pages");
  int before = freemem();
  uint64 *p = grow(N);
  fill(p, N, 10);
  for (int k = 0; k < KIDS; k++) {
    if (fork() == 0) {
      if (!same(p, N, 10))
        exit(2);
      fill(p, N, 11 + k);
      exit(same(p, N, 11 + k) ? 0 : 3);
    }
  }
  fill(p, N, 20);
  for (int k = 0; k < KIDS; k++)
    if (waitstatus() != 0)
      fail("a child saw wrong data");
  if (!same(p, N, 20))
    fail("the parent's pages changed");
  shrink(N);
  pass(before);
}

// When the other sharer has exited, a store needs no copy: the page just
// becomes writable again.
static void test_last_ref(void) {
  start("last sharer writes in place");
  int before = freemem();
  uint64 *p = grow(1);
  fill(p, 1, 30);
  if (fork() == 0)
    exit(0);
  if (waitstatus() != 0)
    fail("the child died");
  int free0 = freemem();
  p[0] = 31;   // COW page with reference count 1
  if (freemem() != free0)
    fail("a frame was allocated for a page nobody else shares");
  shrink(1);
  pass(before);
}

// The kernel writing into a shared page (read() from a pipe) must copy it too.
static void test_copyout(void) {
  static const char msg[] = "from the pipe";
  start("read() into a shared page copies it");
  int before = freemem();
  char *p = (char *)grow(1);
  strcpy(p, "parent's data");
  int fds[2];
  if (pipe(fds) < 0)
    fail("pipe failed");
  if (fork() == 0) {
    close(fds[1]);
    int n = read(fds[0], p, sizeof(msg));
    exit(n == sizeof(msg) && strcmp(p, msg) == 0 ? 0 : 2);
  }
  close(fds[0]);
  write(fds[1], msg, sizeof(msg));
  close(fds[1]);
  int status = waitstatus();
  if (strcmp(p, "parent's data") != 0)
    fail("copyout() wrote into the frame the parent still maps");
  if (status != 0)
    fail("the child did not read the pipe's data");
  shrink(1);
  pass(before);
}

// A child that stores to (read-only) text must be killed, even after fork.
static void test_text(void) {
  start("text stays read-only after fork");
  printf("cowcheck: %s: the child must be killed:\n", test);
  int before = freemem();
  if (fork() == 0) {
    *(volatile char *)main = 0;
    exit(0);
  }
  if (waitstatus() != -1)
    fail("the child stored to its text page and was not killed");
  pass(before);
}

// A store at MAXVA must kill the process, not crash the kernel.
static void test_maxva(void) {
  start("store at MAXVA is killed");
  printf("cowcheck: %s: the child must be killed:\n", test);
  int before = freemem();
  if (fork() == 0) {
    *(volatile char *)MAXVA = 0;
    exit(0);
  }
  if (waitstatus() != -1)
    fail("the child was not killed");
  pass(before);
}

// Out of memory during a COW fault kills the process, not the kernel.
static void test_oom(void) {
  start("out of memory in a COW fault is killed");
  printf("cowcheck: %s: the child must be killed:\n", test);
  int before = freemem();
  uint64 *p = grow(1);
  fill(p, 1, 40);
  if (fork() == 0) {
    eatmem(1 << 30);   // every free frame
    p[0] = 0;          // needs a frame for its copy
    exit(0);
  }
  if (waitstatus() != -1)
    fail("the child was not killed");
  if (!same(p, 1, 40))
    fail("the parent's page changed");
  shrink(1);
  pass(before);
}

int main(void) {
  int before = freemem();
  test_fork_write();
  test_many_children();
  test_last_ref();
  test_copyout();
  test_text();
  test_maxva();
  test_oom();
  start("all frames returned");
  pass(before);
  printf("cowcheck: ALL PASSED\n");
  return 0;
}
