/* numeric as a Linux program: the same numeric.c, its output to stdout (numeric.test.ts). */
#include <unistd.h>

void numeric_run(void (*emit)(const char *s, unsigned long n));

static void emit(const char *s, unsigned long n) {
  while (n) { long w = write(1, s, n); if (w <= 0) return; s += w; n -= (unsigned long)w; }
}

int main(void) { numeric_run(emit); return 0; }
