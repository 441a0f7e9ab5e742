// The first process: runs the shell on the console, restarts it if it exits,
// and reaps orphaned processes handed to it.
#include "user/user.h"

int main(void) {
  char *argv[] = { "sh", 0 };
  for (;;) {
    int pid = fork();
    if (pid < 0) {
      printf("init: fork failed\n");
      exit(1);
    }
    if (pid == 0) {
      exec("sh", argv);
      printf("init: exec sh failed\n");
      exit(1);
    }
    int w;
    while ((w = wait(0)) >= 0 && w != pid)
      ;   // an orphan
  }
}
