/*
 * Differential reference for the MMX/SSE families: runs raw instruction bytes on this
 * machine's real CPU from a fixed register image and prints the resulting image.
 *
 * Input lines:  CODE X0 X1 X2 X3 MM0 MM1 MXCSR RAX RCX FLAGS MEM
 *   CODE  instruction bytes in hex (no spaces); a RET is appended
 *   X0-X3 xmm0..xmm3 as 32 hex digits (byte 15 first); MM0/MM1 16 hex digits
 *   MXCSR, RAX, RCX, FLAGS hex; MEM 64 hex digits = the 32-byte buffer rdx points to (16-aligned)
 * Output lines: X0 X1 MM0 MM1 MXCSR RAX RCX FLAGS MEM     (FLAGS = RFLAGS & 0x8d5)
 *           or: SIG n MXCSR X0 X1 MEM   (the instruction raised signal n: SIGFPE = #XM, SIGSEGV = #GP,
 *               SIGILL = #UD; MXCSR, xmm0 and xmm1 as the signal frame holds them, the buffer as
 *               the fault left it: the flags an unmasked exception set, and that nothing else changed)
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
  uint8_t x[4][16];   /* 0 */
  uint64_t mm[2];     /* 64 */
  uint32_t mxcsr, pad; /* 80 */
  uint64_t rax, rcx, fl; /* 88 96 104 */
} S;

static S st;
static uint8_t mem[64] __attribute__((aligned(64)));
static uint8_t *code;
static void run(void) {
  __asm__ volatile(
      "movdqu 0(%0),%%xmm0\n\tmovdqu 16(%0),%%xmm1\n\tmovdqu 32(%0),%%xmm2\n\tmovdqu 48(%0),%%xmm3\n\t"
      "movq 64(%0),%%mm0\n\tmovq 72(%0),%%mm1\n\tldmxcsr 80(%0)\n\t"
      "mov 88(%0),%%rax\n\tmov 96(%0),%%rcx\n\tmov %1,%%rdx\n\tpushq 104(%0)\n\tpopfq\n\t"
      "call *%2\n\t"
      "pushfq\n\tpopq 104(%0)\n\tmov %%rax,88(%0)\n\tmov %%rcx,96(%0)\n\tstmxcsr 80(%0)\n\t"
      "movq %%mm0,64(%0)\n\tmovq %%mm1,72(%0)\n\temms\n\t"
      "movdqu %%xmm0,0(%0)\n\tmovdqu %%xmm1,16(%0)\n\t"
      : : "r"(&st), "r"(mem + 16), "r"(code)
      : "rax", "rcx", "rdx", "xmm0", "xmm1", "xmm2", "xmm3", "mm0", "mm1", "memory", "cc");
}

int main(void) {
  code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  catch_faults();
  static char c[64], x[4][40], m0[24], m1[24], mem_s[80];
  unsigned mx; unsigned long long rax, rcx, fl;
  while (scanf("%63s %39s %39s %39s %39s %23s %23s %x %llx %llx %llx %79s", c, x[0], x[1], x[2], x[3], m0, m1, &mx, &rax, &rcx, &fl, mem_s) == 12) {
    int n = (int)strlen(c) / 2;
    for (int i = 0; i < n; i++) code[i] = (uint8_t)(hexv(c[2 * i]) << 4 | hexv(c[2 * i + 1]));
    code[n] = 0xc3;
    __builtin___clear_cache((char *)code, (char *)code + n + 1);
    for (int k = 0; k < 4; k++) rdhex(x[k], st.x[k], 16);
    rdhex(m0, (uint8_t *)&st.mm[0], 8); rdhex(m1, (uint8_t *)&st.mm[1], 8);
    rdhex(mem_s, mem + 16, 32);
    st.mxcsr = mx; st.rax = rax; st.rcx = rcx; st.fl = (fl & 0x8d5) | 0x202;
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) run();
    if (sig) {
      /* MXCSR, xmm0 and xmm1 as the fault left them, read from the signal frame (fault-state.h) */
      printf("SIG %d %x ", sig, fault_mxcsr()); prhex(fault_xmm(0), 16); putchar(' '); prhex(fault_xmm(1), 16); putchar(' ');
      prhex(mem + 16, 32); putchar('\n'); __asm__ volatile("emms"); continue;
    }
    prhex(st.x[0], 16); putchar(' '); prhex(st.x[1], 16); putchar(' ');
    prhex((uint8_t *)&st.mm[0], 8); putchar(' '); prhex((uint8_t *)&st.mm[1], 8);
    printf(" %x %llx %llx %llx ", st.mxcsr, (unsigned long long)st.rax, (unsigned long long)st.rcx, (unsigned long long)(st.fl & 0x8d5));
    prhex(mem + 16, 32); putchar('\n');
  }
  return 0;
}
