// pipecopy: the kernel writes into a copy-on-write page. The child read()s
// from a pipe into a page it shares with the parent; copyout() must give the
// child its own copy first, or the parent would see the pipe's data.
#include "user/user.h"

static char page[PGSIZE] __attribute__((aligned(PGSIZE)));
static const char msg[] = "sent through the pipe";

int main(void) {
  int fds[2];
  strcpy(page, "the parent's data");
  if (pipe(fds) < 0) {
    printf("pipecopy: pipe failed\n");
    return 1;
  }
  printf("pipecopy: parent wrote \"%s\" at %p, forks\n", page, page);
  int pid = fork();
  if (pid == 0) {
    close(fds[1]);
    int n = read(fds[0], page, sizeof(msg));   // copyout() into a COW page
    if (n != sizeof(msg) || strcmp(page, msg) != 0) {
      printf("pipecopy: child read %d bytes: \"%s\"\n", n, page);
      exit(1);
    }
    printf("pipecopy: child read \"%s\" into its page\n", page);
    exit(0);
  }
  close(fds[0]);
  write(fds[1], msg, sizeof(msg));
  close(fds[1]);
  int status;
  wait(&status);
  printf("pipecopy: parent reads \"%s\"\n", page);
  if (strcmp(page, "the parent's data") != 0) {
    printf("pipecopy: FAIL copyout wrote into the parent's page\n");
    return 1;
  }
  if (status != 0) {
    printf("pipecopy: FAIL the child did not get the data\n");
    return 1;
  }
  printf("pipecopy: ok\n");
  return 0;
}
