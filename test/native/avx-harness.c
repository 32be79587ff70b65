/*
 * Differential reference for the AVX families (src/cpu/avx/avx-diff.test.ts): runs raw
 * VEX instruction bytes on this machine's real CPU from a fixed register image and prints
 * the resulting image.
 *
 * Input lines:  CODE Y0 Y1 Y2 Y3 MXCSR RAX MEM
 *   CODE  instruction bytes in hex (no spaces); a RET is appended
 *   Y0-Y3 ymm0..ymm3 as 64 hex digits (byte 31 first); MXCSR, RAX hex
 *   MEM   128 hex digits = the 64-byte buffer rdx points to (32-byte aligned)
 * Output lines: Y0 Y1 Y2 Y3 MXCSR RAX MEM
 *           or: SIG n MXCSR Y0 Y1 Y2 Y3 MEM    (SIGFPE = #XM, SIGSEGV = #GP, SIGILL = #UD):
 *               the state the fault left, MXCSR and ymm0-3 from the signal frame's XSAVE
 *               image (bits 255:128 from its YMM_Hi128 component, zero when XSTATE_BV[2] = 0)
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

typedef struct {
  uint8_t y[4][32];    /* 0 */
  uint32_t mxcsr, pad; /* 128 */
  uint64_t rax;        /* 136 */
} S;

static S st;
static uint8_t mem[128] __attribute__((aligned(64)));
static uint8_t *code;
static void run(void) {
  __asm__ volatile(
      "vmovdqu 0(%0),%%ymm0\n\tvmovdqu 32(%0),%%ymm1\n\tvmovdqu 64(%0),%%ymm2\n\tvmovdqu 96(%0),%%ymm3\n\t"
      "ldmxcsr 128(%0)\n\tmov 136(%0),%%rax\n\tmov %1,%%rdx\n\t"
      "call *%2\n\t"
      "mov %%rax,136(%0)\n\tstmxcsr 128(%0)\n\t"
      "vmovdqu %%ymm0,0(%0)\n\tvmovdqu %%ymm1,32(%0)\n\tvmovdqu %%ymm2,64(%0)\n\tvmovdqu %%ymm3,96(%0)\n\tvzeroupper\n\t"
      : : "r"(&st), "r"(mem + 32), "r"(code)
      : "rax", "rcx", "rdx", "rdi", "xmm0", "xmm1", "xmm2", "xmm3", "memory", "cc");
}

int main(void) {
  code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  catch_faults();
  static char c[256], y[4][72], mem_s[140];
  unsigned mx; unsigned long long rax;
  while (scanf("%255s %71s %71s %71s %71s %x %llx %139s", c, y[0], y[1], y[2], y[3], &mx, &rax, mem_s) == 8) {
    int n = (int)strlen(c) / 2;
    for (int i = 0; i < n; i++) code[i] = (uint8_t)(hexv(c[2 * i]) << 4 | hexv(c[2 * i + 1]));
    code[n] = 0xc3;
    __builtin___clear_cache((char *)code, (char *)code + n + 1);
    for (int k = 0; k < 4; k++) rdhex(y[k], st.y[k], 32);
    rdhex(mem_s, mem + 32, 64);
    st.mxcsr = mx; st.rax = rax;
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) run();
    if (sig) {
      print_fault_ymm();
      prhex(mem + 32, 64); putchar('\n');
      continue;
    }
    for (int k = 0; k < 4; k++) { prhex(st.y[k], 32); putchar(' '); }
    printf("%x %llx ", st.mxcsr, (unsigned long long)st.rax);
    prhex(mem + 32, 64); putchar('\n');
  }
  return 0;
}
