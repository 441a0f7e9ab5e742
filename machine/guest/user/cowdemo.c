// cowdemo: the smallest copy-on-write story. The parent writes a page and
// forks; the child reads the shared page, then writes it (the kernel copies
// the page); the parent reads its page back unchanged.
#include "user/user.h"

static char page[PGSIZE] __attribute__((aligned(PGSIZE)));

int main(void) {
  strcpy(page, "written by the parent before fork");
  printf("cowdemo: parent pid %d wrote \"%s\" at %p\n", getpid(), page, page);
  int pid = fork();
  if (pid == 0) {
    printf("cowdemo: child pid %d reads \"%s\" (the same frame)\n", getpid(), page);
    strcpy(page, "written by the child");   // store page fault: the kernel copies the page
    printf("cowdemo: child wrote \"%s\" (its own copy now)\n", page);
    exit(0);
  }
  int status;
  wait(&status);
  printf("cowdemo: parent reads \"%s\"\n", page);
  if (strcmp(page, "written by the parent before fork") != 0) {
    printf("cowdemo: FAIL the child's write reached the parent\n");
    return 1;
  }
  printf("cowdemo: ok, the parent's page is unchanged\n");
  return 0;
}
