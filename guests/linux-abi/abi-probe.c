/*
 * abi-probe: checks what the linux-abi kernel gives a static glibc program (the process
 * state Linux would give it), one "probe: NAME ok|FAIL ..." line each, then ends with a
 * deliberate write to a read-only page, which the kernel must report as a #PF from ring 3
 * (vector, error code, RIP, CR2) and exit with failure. Built like libc-check.c by
 * src/machine/linux-abi.test.ts (never committed); run only as a guest (natively the last
 * step is a SIGSEGV).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int failures;
extern char **environ;

/* The auxiliary vector as the kernel wrote it (after envp's NULL): glibc's getauxval
 * answers AT_HWCAP from its own copy (HWCAP_X86_64 on x86-64), not the kernel's word. */
static unsigned long raw_aux(unsigned long type) {
  char **e = environ;
  while (*e) e++;
  for (unsigned long *v = (unsigned long *)(e + 1); v[0]; v += 2) if (v[0] == type) return v[1];
  return 0;
}
static void check(const char *name, int ok, const char *detail) {
  printf("probe: %s %s%s%s\n", name, ok ? "ok" : "FAIL", detail[0] ? " " : "", detail);
  if (!ok) failures++;
}

int main(int argc, char **argv) {
  char d[160];
  snprintf(d, sizeof d, "argc=%d argv1=%s env FOO=%s", argc, argc > 1 ? argv[1] : "-", getenv("FOO") ? getenv("FOO") : "-");
  check("argv-envp", argc == 3 && strcmp(argv[1], "one") == 0 && strcmp(argv[2], "two") == 0 && getenv("FOO") &&
                         strcmp(getenv("FOO"), "bar") == 0, d);

  unsigned a, b, c, e;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(e) : "a"(1), "c"(0));
  snprintf(d, sizeof d, "AT_HWCAP=%#lx (CPUID.1:EDX %#x) AT_PAGESZ=%lu AT_PHNUM=%lu", raw_aux(AT_HWCAP), e, getauxval(AT_PAGESZ), getauxval(AT_PHNUM));
  const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
  check("auxv", raw_aux(AT_HWCAP) == e && getauxval(AT_PAGESZ) == 4096 && getauxval(AT_PHNUM) > 0 && getauxval(AT_PHDR) != 0 &&
                    getauxval(AT_ENTRY) != 0 && rnd != NULL && getauxval(AT_SECURE) == 0 && getauxval(AT_CLKTCK) == 100 &&
                    getauxval(AT_EXECFN) && strcmp((const char *)getauxval(AT_EXECFN), argv[0]) == 0, d);

  /* XCR0 as Linux sets it: every user component the CPU offers (x87|SSE|AVX = 7 with AVX) */
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  int has_avx = (c >> 28) & 1, osxsave = (c >> 27) & 1;
  snprintf(d, sizeof d, "xcr0=%#x osxsave=%d avx=%d", lo, osxsave, has_avx);
  check("xcr0", osxsave && lo == (has_avx ? 7u : 3u), d);

  /* the vector registers survive system calls (the kernel never touches them) */
  double x = 1.25, y = -3.5;
  __asm__ volatile("movq %0, %%xmm7" : : "r"(x) : "xmm7");
  __asm__ volatile("movq %0, %%xmm15" : : "r"(y) : "xmm15");
  syscall(SYS_getpid);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double x2, y2;
  __asm__ volatile("movq %%xmm7, %0" : "=r"(x2));
  __asm__ volatile("movq %%xmm15, %0" : "=r"(y2));
  check("xmm-across-syscall", x2 == x && y2 == y, "");

  errno = 0;
  long r = syscall(999, 1, 2, 3);
  snprintf(d, sizeof d, "r=%ld errno=%d", r, errno);
  check("unknown-syscall-enosys", r == -1 && errno == ENOSYS, d);

  struct utsname u;
  check("uname", uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0, u.release);

  struct timespec t1, t2;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (volatile int i = 0; i < 100000; i++) {
  }
  clock_gettime(CLOCK_MONOTONIC, &t2);
  check("clock-monotonic", t2.tv_sec > t1.tv_sec || (t2.tv_sec == t1.tv_sec && t2.tv_nsec > t1.tv_nsec), "");

  char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int zero = m != MAP_FAILED;
  for (int i = 0; zero && i < 3 * 4096; i++) zero = m[i] == 0;
  if (m != MAP_FAILED) memset(m, 0xab, 3 * 4096);
  check("mmap-anonymous-zeroed", zero && m[3 * 4096 - 1] == (char)0xab, "");
  check("mprotect", mprotect(m + 4096, 4096, PROT_READ) == 0 && mprotect(m, 4096, PROT_NONE) == 0, "");
  check("munmap-then-fixed", munmap(m + 8192, 4096) == 0 &&
                                 mmap(m + 8192, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == m + 8192 &&
                                 m[8192] == 0, "");
  errno = 0;
  check("fixed-noreplace-eexist", mmap(m + 8192, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
                                      errno == EEXIST, "");
  errno = 0;
  check("mmap-file-enodev", mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0) == MAP_FAILED && errno == ENODEV, "");

  char *p0 = sbrk(0), *p1 = sbrk(1 << 20);
  int brk_ok = p1 == p0 && sbrk(0) == p0 + (1 << 20);
  if (brk_ok) { p0[0] = 1; p0[(1 << 20) - 1] = 2; }
  check("brk", brk_ok && p0[(1 << 20) - 1] == 2, "");

  char *big = malloc(10 << 20);  /* above the mmap threshold: an anonymous mapping */
  if (big) memset(big, 7, 10 << 20);
  check("malloc-10MiB", big && big[(10 << 20) - 1] == 7, "");
  free(big);

  printf("probe: %d failures; now writing to the read-only page %p\n", failures, (void *)(m + 4096));
  fflush(stdout);
  *(volatile char *)(m + 4096) = 1;
  printf("probe: FAIL the write did not fault\n");
  return 1;
}
