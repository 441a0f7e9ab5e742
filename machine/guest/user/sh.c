// The shell: read a line, run the program it names with its arguments.
// Built in: `halt` powers the machine off (QEMU exits).
#include "user/user.h"

#define MAXARGS 16

static int parse(char *line, char **argv) {
  int argc = 0;
  char *s = line;
  while (argc < MAXARGS) {
    while (*s == ' ' || *s == '\t' || *s == '\n')
      *s++ = 0;
    if (*s == 0)
      break;
    argv[argc++] = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '\n')
      s++;
  }
  argv[argc] = 0;
  return argc;
}

int main(void) {
  static char line[128];
  char *argv[MAXARGS + 1];
  for (;;) {
    printf("$ ");
    int n = read(0, line, sizeof(line) - 1);
    if (n <= 0)
      exit(0);   // end of input
    line[n] = 0;
    if (parse(line, argv) == 0)
      continue;
    if (strcmp(argv[0], "halt") == 0)
      halt(0);
    int pid = fork();
    if (pid < 0) {
      printf("sh: fork failed\n");
      continue;
    }
    if (pid == 0) {
      exec(argv[0], argv);
      printf("sh: no such program: %s\n", argv[0]);
      exit(1);
    }
    int w;
    while ((w = wait(0)) >= 0 && w != pid)
      ;
  }
}
