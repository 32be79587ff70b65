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

typedef struct {
  uint8_t y[4][32];    /* 0 */
  uint32_t mxcsr, pad; /* 128 */
  uint64_t rax;        /* 136 */
} S;

static S st;
static uint8_t mem[128] __attribute__((aligned(64)));
static uint8_t *code;
static sigjmp_buf jb;
static volatile int sig;

static uint32_t fault_mxcsr;
static uint8_t fault_y[4][32];
/* The signal frame's FP state is an uncompacted XSAVE image (Linux x86-64): legacy area with
   MXCSR at 24 and XMM0-15 at 160, XSTATE_BV at 512, YMM_Hi128 at 576 (SDM Vol. 1 §13.4-13.5). */
static void handler(int s, siginfo_t *si, void *ucv) {
  (void)si;
  ucontext_t *uc = ucv;
  sig = s;
  memset(fault_y, 0, sizeof fault_y);
  fault_mxcsr = 0;
  const uint8_t *xs = (const uint8_t *)uc->uc_mcontext.fpregs;
  if (xs) {
    uint64_t bv;
    memcpy(&fault_mxcsr, xs + 24, 4);
    memcpy(&bv, xs + 512, 8);
    for (int k = 0; k < 4; k++) {
      memcpy(fault_y[k], xs + 160 + 16 * k, 16);
      if (bv & 4) memcpy(fault_y[k] + 16, xs + 576 + 16 * k, 16);
    }
  }
  siglongjmp(jb, 1);
}

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

static int hexv(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
/* big-endian hex text (most significant first) into n little-endian bytes */
static void rdhex(const char *s, uint8_t *out, int n) {
  for (int i = 0; i < n; i++) out[n - 1 - i] = (uint8_t)(hexv(s[2 * i]) << 4 | hexv(s[2 * i + 1]));
}
static void prhex(const uint8_t *b, int n) { for (int i = n - 1; i >= 0; i--) printf("%02x", b[i]); }

int main(void) {
  code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = handler; sa.sa_flags = SA_NODEFER | SA_SIGINFO;
  sigaction(SIGFPE, &sa, 0); sigaction(SIGSEGV, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGBUS, &sa, 0);
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
      printf("SIG %d %x ", sig, fault_mxcsr);
      for (int k = 0; k < 4; k++) { prhex(fault_y[k], 32); putchar(' '); }
      prhex(mem + 32, 64); putchar('\n');
      continue;
    }
    for (int k = 0; k < 4; k++) { prhex(st.y[k], 32); putchar(' '); }
    printf("%x %llx ", st.mxcsr, (unsigned long long)st.rax);
    prhex(mem + 32, 64); putchar('\n');
  }
  return 0;
}
