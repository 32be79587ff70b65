/* hello: the smallest guest. Prints a greeting and the command line, then exits 0. */
#include "rt.h"

int main(void) {
  printf("Hello from a Nestvisor guest kernel!\n");
  printf("command line: \"%s\"\n", cmdline_args());
  return 0;
}
