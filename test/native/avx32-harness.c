/*
 * Differential reference for VEX instructions outside 64-bit mode (src/cpu/avx/avx32-diff.test.ts):
 * runs raw instruction bytes in compatibility mode (a far call to CS = 0x23, Linux's 32-bit
 * user code segment) from a fixed register image and prints the resulting image. Same line
 * format as avx-harness.c, with EAX and EDX = the 64-byte buffer (32-byte aligned, below 4 GiB):
 *   in:  CODE Y0 Y1 Y2 Y3 MXCSR EAX MEM
 *   out: Y0 Y1 Y2 Y3 MXCSR EAX MEM   or   SIG n MXCSR Y0 Y1 Y2 Y3 MEM (the state the fault left,
 *        from the signal frame's XSAVE image)
 * Build: gcc -O1 (x86-64 Linux; the compatibility-mode code and its stack live in a MAP_32BIT area).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include "fault-state.h"

/* low area layout: 0x000 64-bit trampoline, 0x100 32-bit code, 0x800 saved RSP, 0x810 far
   pointer, 0x1000 ymm0-3 image, 0x1080 EAX, 0x10a0 MXCSR, 0x2000 the buffer (EDX), stack top 0x8000 */
static uint8_t *lo;
static uint32_t L;

static void put(uint8_t **p, const uint8_t *b, int n) { memcpy(*p, b, n); *p += n; }
static void put32(uint8_t **p, uint32_t v) { memcpy(*p, &v, 4); *p += 4; }

int main(void) {
  lo = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (lo == MAP_FAILED) { perror("mmap"); return 1; }
  L = (uint32_t)(uintptr_t)lo;
  uint8_t *p = lo;
  /* mov [L+0x800], rsp; mov esp, L+0x8000; call far [L+0x810]; mov rsp, [L+0x800]; ret */
  uint8_t a1[] = {0x48, 0x89, 0x24, 0x25}; put(&p, a1, 4); put32(&p, L + 0x800);
  *p++ = 0xbc; put32(&p, L + 0x8000);
  uint8_t a3[] = {0xff, 0x1c, 0x25}; put(&p, a3, 3); put32(&p, L + 0x810);
  uint8_t a4[] = {0x48, 0x8b, 0x24, 0x25}; put(&p, a4, 4); put32(&p, L + 0x800);
  *p++ = 0xc3;
  uint32_t off = L + 0x100; memcpy(lo + 0x810, &off, 4); uint16_t cs32 = 0x23; memcpy(lo + 0x814, &cs32, 2);
  catch_faults();
  static char c[256], y[4][72], mem_s[140];
  unsigned mx, eax;
  while (scanf("%255s %71s %71s %71s %71s %x %x %139s", c, y[0], y[1], y[2], y[3], &mx, &eax, mem_s) == 8) {
    /* 32-bit code: ds = es = 0x2b; ldmxcsr; vmovdqu ymm0-3; mov eax; mov edx; TEST; store; retf */
    p = lo + 0x100;
    uint8_t b1[] = {0x6a, 0x2b, 0x1f, 0x6a, 0x2b, 0x07}; put(&p, b1, 6);
    uint8_t b2[] = {0x0f, 0xae, 0x15}; put(&p, b2, 3); put32(&p, L + 0x10a0);
    for (int k = 0; k < 4; k++) { uint8_t v[] = {0xc5, 0xfe, 0x6f, (uint8_t)(0x05 | (k << 3))}; put(&p, v, 4); put32(&p, L + 0x1000 + 32 * k); }
    *p++ = 0xa1; put32(&p, L + 0x1080);
    *p++ = 0xba; put32(&p, L + 0x2000);
    int n = (int)strlen(c) / 2;
    for (int i = 0; i < n; i++) *p++ = (uint8_t)(hexv(c[2 * i]) << 4 | hexv(c[2 * i + 1]));
    *p++ = 0xa3; put32(&p, L + 0x1080);
    uint8_t b3[] = {0x0f, 0xae, 0x1d}; put(&p, b3, 3); put32(&p, L + 0x10a0);
    for (int k = 0; k < 4; k++) { uint8_t v[] = {0xc5, 0xfe, 0x7f, (uint8_t)(0x05 | (k << 3))}; put(&p, v, 4); put32(&p, L + 0x1000 + 32 * k); }
    *p++ = 0xcb;
    __builtin___clear_cache((char *)lo, (char *)p);
    for (int k = 0; k < 4; k++) rdhex(y[k], lo + 0x1000 + 32 * k, 32);
    rdhex(mem_s, lo + 0x2000, 64);
    memcpy(lo + 0x1080, &eax, 4); memcpy(lo + 0x10a0, &mx, 4);
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) ((void (*)(void))lo)();
    if (sig) {
      print_fault_ymm();
      prhex(lo + 0x2000, 64); putchar('\n');
      continue;
    }
    for (int k = 0; k < 4; k++) { prhex(lo + 0x1000 + 32 * k, 32); putchar(' '); }
    memcpy(&mx, lo + 0x10a0, 4); memcpy(&eax, lo + 0x1080, 4);
    printf("%x %x ", mx, eax);
    prhex(lo + 0x2000, 64); putchar('\n');
  }
  return 0;
}
