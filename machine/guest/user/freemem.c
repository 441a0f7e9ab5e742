// freemem: print the number of free physical frames.
#include "user/user.h"

int main(void) {
  printf("%d free frames\n", freemem());
  return 0;
}
