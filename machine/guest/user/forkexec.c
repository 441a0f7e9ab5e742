// forkexec: fork then exec at once, the common case COW makes cheap: the child
// replaces its memory before writing any shared page, so nothing is copied.
#include "user/user.h"

int main(void) {
  char *argv[] = { "echo", "forkexec: hello from echo, exec'd in the child", 0 };
  printf("forkexec: parent pid %d forks; the child execs echo\n", getpid());
  int pid = fork();
  if (pid == 0) {
    exec("echo", argv);
    printf("forkexec: exec failed\n");
    exit(1);
  }
  int status;
  if (wait(&status) != pid || status != 0) {
    printf("forkexec: FAIL child status %d\n", status);
    return 1;
  }
  printf("forkexec: child exited with status 0\n");
  return 0;
}
