/*
 * Differential reference for the x87 family: runs raw instruction bytes on this machine's
 * real FPU from a fixed state image and prints the resulting state.
 *
 * Input lines:  CODE IMAGE MEM RAX FLAGS
 *   CODE   instruction bytes in hex; a RET is appended
 *   IMAGE  the 108-byte FRSTOR image (32-bit protected-mode layout, SDM Vol. 1 Figure 8-9),
 *          216 hex digits, byte 0 first
 *   MEM    the 128-byte buffer rdx points to (16-aligned), 256 hex digits, byte 0 first
 *   RAX, FLAGS hex
 * Output lines: FCW FSW FTW ST0..ST7 RAX FLAGS MEM
 *   FSW/FTW/ST(i) as FNSAVE stores them right after the instruction (FNSAVE does not wait,
 *   so an unmasked exception is seen as ES in FSW rather than as a signal); ST(i) as
 *   20 hex digits (sign/exponent first); FLAGS = RFLAGS & 0x8d5; MEM as the input
 *   or: SIG n FSW ST0..ST7 MEM  (the instruction raised signal n; FSW and the registers as the
 *       signal frame holds them, the buffer as the fault left it)
 * Build: gcc -O1 -mno-red-zone (the code is entered with CALL from inline asm).
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

static uint8_t img[112] __attribute__((aligned(16)));
static uint8_t out[112] __attribute__((aligned(16)));
static uint8_t mem[128] __attribute__((aligned(64)));
static uint64_t rax, fl;
static uint8_t *code;
static void run(void) {
  __asm__ volatile(
      "frstor (%0)\n\t"
      "mov (%3),%%rax\n\tmov %1,%%rdx\n\tpushq (%4)\n\tpopfq\n\t"
      "call *%2\n\t"
      "pushfq\n\tpopq (%4)\n\tmov %%rax,(%3)\n\t"
      "fnsave (%5)\n\t"
      : : "r"(img), "r"(mem), "r"(code), "r"(&rax), "r"(&fl), "r"(out)
      : "rax", "rdx", "memory", "cc");
}

static void rdbytes(const char *s, uint8_t *o, int n) { for (int i = 0; i < n; i++) o[i] = (uint8_t)(hexv(s[2 * i]) << 4 | hexv(s[2 * i + 1])); }

int main(void) {
  code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  catch_faults();
  static char c[64], im[240], ms[280];
  unsigned long long a, f;
  while (scanf("%63s %239s %279s %llx %llx", c, im, ms, &a, &f) == 5) {
    int n = (int)strlen(c) / 2;
    rdbytes(c, code, n);
    code[n] = 0xc3;
    __builtin___clear_cache((char *)code, (char *)code + n + 1);
    rdbytes(im, img, 108);
    rdbytes(ms, mem, 128);
    rax = a; fl = (f & 0x8d5) | 0x202;
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) run();
    if (sig) {
      /* FSW and ST(0)-ST(7) as the fault left them, read from the signal frame (fault-state.h) */
      printf("SIG %d %04x", sig, fault_fsw());
      for (int i = 0; i < 8; i++) { putchar(' '); prhex(fault_st(i), 10); }
      putchar(' '); for (int i = 0; i < 128; i++) printf("%02x", mem[i]);
      putchar('\n'); __asm__ volatile("fninit"); continue;
    }
    printf("%04x %04x %04x", out[0] | out[1] << 8, out[4] | out[5] << 8, out[8] | out[9] << 8);
    for (int i = 0; i < 8; i++) {
      putchar(' ');
      for (int k = 9; k >= 0; k--) printf("%02x", out[28 + 10 * i + k]);
    }
    printf(" %llx %llx ", (unsigned long long)rax, (unsigned long long)(fl & 0x8d5));
    for (int i = 0; i < 128; i++) printf("%02x", mem[i]);
    putchar('\n');
  }
  return 0;
}
