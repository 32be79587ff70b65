/*
 * Differential reference for the AV-X family (src/cpu/avx/x-diff.test.ts: AVX2 cross-lane
 * and masked moves, gathers, BMI1/BMI2): runs raw instruction bytes on this machine's real
 * CPU from a fixed register image and prints the resulting image. Unlike avx-harness.c it
 * also carries RBX, RCX and the arithmetic flags (the BMI instructions read and write
 * general registers and flags), and a 256-byte buffer that RDX points into the middle of
 * (gathers address it with negative and positive indices).
 *
 * Input lines:  CODE Y0 Y1 Y2 Y3 MXCSR RAX RBX RCX FLAGS MEM
 *   CODE  instruction bytes in hex (no spaces); a RET is appended
 *   Y0-Y3 ymm0..ymm3 as 64 hex digits (byte 31 first); MXCSR, RAX, RBX, RCX, FLAGS hex
 *         (FLAGS: only CF PF AF ZF SF OF = 0x8d5 are loaded)
 *   MEM   512 hex digits = the 256-byte buffer (byte 255 first); RDX = buffer + 128.
 *         The buffer lies below 2 GiB (67-prefixed forms address it with EDX) and ends
 *         where an inaccessible page begins: any access past its end faults (SIGSEGV),
 *         which is how partially completed gathers and masked moves that fault are
 *         compared.
 * Output lines: Y0 Y1 Y2 Y3 MXCSR RAX RBX RCX FLAGS MEM   (FLAGS & 0x8d5)
 *           or: SIG n Y0 Y1 Y2 Y3 MXCSR RAX RBX RCX FLAGS MEM   (SIGFPE = #XM, SIGSEGV =
 *               #GP/#PF, SIGILL = #UD) with the registers as the signal frame holds them
 *               at the faulting instruction (YMM upper halves from the XSAVE area) and the
 *               buffer as the fault left it.
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
  uint8_t y[4][32];        /* 0 */
  uint32_t mxcsr, pad;     /* 128 */
  uint64_t rax, rbx, rcx;  /* 136, 144, 152 */
  uint64_t flags;          /* 160 */
} S;

static S st;
static uint8_t *mem; /* 256-byte buffer followed by a PROT_NONE page */
static uint8_t *code;
/* The state at the faulting instruction, from the signal frame (fault-state.h): XMM and MXCSR
   from the FXSAVE image, bits 255:128 from the XSAVE area's YMM_Hi128 component when
   XSTATE_BV[2] says it was saved, else zero (its init state); the GPRs and RFLAGS. */
static void fault_to_st(void) {
  for (int k = 0; k < 4; k++) fault_ymm(k, st.y[k]);
  st.mxcsr = fault_mxcsr();
  st.rax = (uint64_t)fault_gregs[REG_RAX];
  st.rbx = (uint64_t)fault_gregs[REG_RBX];
  st.rcx = (uint64_t)fault_gregs[REG_RCX];
  st.flags = (uint64_t)fault_gregs[REG_EFL];
}

static void run(void) {
  __asm__ volatile(
      "vmovdqu 0(%0),%%ymm0\n\tvmovdqu 32(%0),%%ymm1\n\tvmovdqu 64(%0),%%ymm2\n\tvmovdqu 96(%0),%%ymm3\n\t"
      "ldmxcsr 128(%0)\n\tmov 136(%0),%%rax\n\tmov 144(%0),%%rbx\n\tmov 152(%0),%%rcx\n\tmov %1,%%rdx\n\t"
      "pushfq\n\tandq $~0x8d5,(%%rsp)\n\tmov 160(%0),%%r8\n\tand $0x8d5,%%r8\n\tor %%r8,(%%rsp)\n\tpopfq\n\t"
      "call *%2\n\t"
      "pushfq\n\tpop 160(%0)\n\t"
      "mov %%rax,136(%0)\n\tmov %%rbx,144(%0)\n\tmov %%rcx,152(%0)\n\tstmxcsr 128(%0)\n\t"
      "vmovdqu %%ymm0,0(%0)\n\tvmovdqu %%ymm1,32(%0)\n\tvmovdqu %%ymm2,64(%0)\n\tvmovdqu %%ymm3,96(%0)\n\tvzeroupper\n\t"
      : : "r"(&st), "r"(mem + 256), "r"(code)
      : "rax", "rbx", "rcx", "rdx", "r8", "xmm0", "xmm1", "xmm2", "xmm3", "memory", "cc");
}

int main(void) {
  code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  /* below 2 GiB (MAP_32BIT), so 32-bit address-size forms (67 prefix) reach the buffer too */
  uint8_t *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (pages == MAP_FAILED || mprotect(pages + 4096, 4096, PROT_NONE) != 0) { perror("mmap"); return 1; }
  mem = pages + 4096 - 384; /* buffer = mem + 128 .. mem + 383, rdx = mem + 256 */
  catch_faults();
  static char c[256], y[4][72], mem_s[520];
  unsigned mx; unsigned long long rax, rbx, rcx, fl;
  while (scanf("%255s %71s %71s %71s %71s %x %llx %llx %llx %llx %519s", c, y[0], y[1], y[2], y[3], &mx, &rax, &rbx, &rcx, &fl, mem_s) == 11) {
    int n = (int)strlen(c) / 2;
    for (int i = 0; i < n; i++) code[i] = (uint8_t)(hexv(c[2 * i]) << 4 | hexv(c[2 * i + 1]));
    code[n] = 0xc3;
    __builtin___clear_cache((char *)code, (char *)code + n + 1);
    for (int k = 0; k < 4; k++) rdhex(y[k], st.y[k], 32);
    rdhex(mem_s, mem + 128, 256);
    st.mxcsr = mx; st.rax = rax; st.rbx = rbx; st.rcx = rcx; st.flags = fl;
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) run();
    if (sig) { fault_to_st(); printf("SIG %d ", sig); }
    for (int k = 0; k < 4; k++) { prhex(st.y[k], 32); putchar(' '); }
    printf("%x %llx %llx %llx %llx ", st.mxcsr, (unsigned long long)st.rax, (unsigned long long)st.rbx,
           (unsigned long long)st.rcx, (unsigned long long)(st.flags & 0x8d5));
    prhex(mem + 128, 256); putchar('\n');
  }
  return 0;
}
