/*
 * Runtime glue: the C entry from boot.S, test reporting, exit through isa-debug-exit, the
 * Multiboot command line, and the string functions GCC may call even when freestanding.
 */
#include "rt.h"

#define MB_INFO_CMDLINE 0x4 /* Multiboot 1 §3.3: flags bit 2, cmdline at offset 16 */
#define DEBUG_EXIT_PORT 0xf4

extern u32 mb_magic, mb_info;
static unsigned tests, failures;

void rt_start(void);
void rt_start(void) {
  serial_init();
  idt_init();
  if (mb_magic != 0x2BADB002) printf("warning: not booted by a Multiboot loader (eax=%#x)\n", mb_magic);
  exit(main());
}

void report(const char *name, int ok) {
  tests++;
  if (!ok) failures++;
  printf("%s: %s\n", ok ? "PASS" : "FAIL", name);
}

int report_summary(void) {
  printf("SUMMARY: %u tests, %u failures\n", tests, failures);
  return (int)failures;
}

void exit(int code) {
  /* QEMU's isa-debug-exit turns this into process status (code << 1) | 1. */
  outl(DEBUG_EXIT_PORT, (u32)code);
  for (;;) __asm__ volatile("cli; hlt");
}

const char *cmdline_args(void) {
  const u32 *info = (const u32 *)(u64)mb_info;
  if (mb_magic != 0x2BADB002 || !info || !(info[0] & MB_INFO_CMDLINE) || !info[4]) return "";
  const char *s = (const char *)(u64)info[4];
  while (*s == ' ') s++;
  while (*s && *s != ' ') s++; /* skip the kernel's own name */
  while (*s == ' ') s++;
  return s;
}

u64 arg_u64(int n, u64 fallback) {
  const char *s = cmdline_args();
  for (;;) {
    while (*s == ' ') s++;
    if (!*s) return fallback;
    if (n-- == 0) break;
    while (*s && *s != ' ') s++;
  }
  if (*s < '0' || *s > '9') return fallback;
  u64 v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
  return v;
}

void *memset(void *d, int c, size_t n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

void *memcpy(void *d, const void *s, size_t n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const u8 *p = a, *q = b;
  for (; n; n--, p++, q++) if (*p != *q) return *p - *q;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (u8)*a - (u8)*b;
}
