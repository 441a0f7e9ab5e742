// badaccess: bad memory accesses, each in its own forked child. The kernel must
// kill just that child (printing an xv6-style usertrap() line), never panic.
#include "user/user.h"

int main(void);

static struct {
  const char *what;
  uint64 addr;
  int store;
} cases[] = {
  { "store to read-only text", 0, 1 },   // addr filled in from main()
  { "store to a kernel address", 0x80000000L, 1 },
  { "store to an unmapped address", 0x10000000L, 1 },
  { "store to the trampoline (no PTE_U)", 0x3ffffff000L, 1 },
  { "store at MAXVA", MAXVA, 1 },
  { "load from an unmapped address", 0x10000000L, 0 },
};

int main(void) {
  cases[0].addr = (uint64)main;
  int bad = 0;
  for (int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    printf("badaccess: %s (%p)\n", cases[i].what, cases[i].addr);
    int pid = fork();
    if (pid == 0) {
      volatile char *p = (volatile char *)cases[i].addr;
      if (cases[i].store)
        *p = 1;
      else
        (void)*p;
      exit(0);   // not killed
    }
    int status;
    wait(&status);
    if (status == -1) {
      printf("badaccess: killed, ok\n");
    } else {
      printf("badaccess: FAIL not killed\n");
      bad = 1;
    }
  }
  printf(bad ? "badaccess: FAIL\n" : "badaccess: all killed, ok\n");
  return bad;
}
