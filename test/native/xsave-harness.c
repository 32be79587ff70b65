/*
 * Differential reference for FXSAVE/FXRSTOR and the XSAVE family (src/cpu/fpu/xsave-diff.test.ts):
 * runs a program at fixed addresses on this machine's real CPU at CPL 3 and prints the save
 * areas it leaves. The program is built by the TypeScript side and is the same bytes the
 * emulator runs, at the same linear addresses, so FIP/FDP (the addresses of the last x87
 * instruction and operand) and every byte of the images compare without masking.
 *
 * Fixed layout (MAP_FIXED_NOREPLACE, mapped once):
 *   0x10000 CODE  the program: XRSTOR64 of IN (RFBM = 7: x87, SSE, AVX), RAX/RDX from REGS,
 *                 RBX = AREA, RSI = IN, RDI = OUT, the test's instructions, then
 *                 XSAVE64 of the final state to OUT (RFBM = 7) and RET (the TS side builds it)
 *   0x20000 IN    832 bytes: the starting state as a standard-format XSAVE image
 *   0x21000 AREA  1024 bytes the test's instructions save to / restore from
 *   0x22000 OUT   832 bytes, zeroed before each case
 *   0x23000 REGS  RAX, RDX
 *
 * Input lines:  CODE IN AREA RAX RDX   (hex; CODE the whole program, IN/AREA byte 0 first)
 * Output lines: AREA OUT               (hex, byte 0 first)
 *           or: SIG n LEGACY YMMH AREA  (the program faulted with signal n: SIGSEGV = #GP,
 *               SIGILL = #UD; LEGACY = bytes 0..415 of the signal frame's XSAVE image (the
 *               state at the fault: FCW..MXCSR, ST0-7, XMM0-15), YMMH = YMM_Hi128 (256 bytes,
 *               zero when the frame's XSTATE_BV[2] = 0), AREA as the fault left it)
 * The first output line is "XCR0 lo hi": the host's XCR0, so the generator keeps RFBM and
 * XSTATE_BV within bits 0-2 plus bits the host does not enable (AVX-512 state is never touched).
 * Build: gcc -O1 (x86-64 Linux).
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

#define BASE 0x10000UL
#define CODE ((uint8_t *)0x10000UL)
#define IN ((uint8_t *)0x20000UL)
#define AREA ((uint8_t *)0x21000UL)
#define OUT ((uint8_t *)0x22000UL)
#define REGS ((uint64_t *)0x23000UL)

static void rdbytes(const char *s, uint8_t *o, int n) { for (int i = 0; i < n; i++) o[i] = (uint8_t)(hexv(s[2 * i]) << 4 | hexv(s[2 * i + 1])); }
static void prbytes(const uint8_t *b, int n) { for (int i = 0; i < n; i++) printf("%02x", b[i]); }

static void run(void) {
  /* the program clobbers every general register it names and the whole FP/vector state; the
     state is reset to what the C code expects afterwards */
  __asm__ volatile("call *%0\n\tfninit\n\tvzeroupper\n\tpush $0x1f80\n\tldmxcsr (%%rsp)\n\tadd $8,%%rsp"
                   : : "r"(CODE)
                   : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc",
                     "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                     "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

int main(void) {
  void *m = mmap((void *)BASE, 0x14000, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (m != (void *)BASE) { perror("mmap at 0x10000"); return 1; }
  uint32_t x0, x1;
  __asm__ volatile("xgetbv" : "=a"(x0), "=d"(x1) : "c"(0));
  printf("XCR0 %x %x\n", x0, x1);
  catch_faults();
  static char c[4096], in[2000], ar[2100];
  unsigned long long rax, rdx;
  while (scanf("%4095s %1999s %2099s %llx %llx", c, in, ar, &rax, &rdx) == 5) {
    int n = (int)strlen(c) / 2;
    rdbytes(c, CODE, n);
    __builtin___clear_cache((char *)CODE, (char *)CODE + n);
    rdbytes(in, IN, 832);
    rdbytes(ar, AREA, 1024);
    memset(OUT, 0, 832);
    REGS[0] = rax; REGS[1] = rdx;
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) run();
    if (sig) {
      uint64_t bv;
      memcpy(&bv, fault_xs + 512, 8);
      printf("SIG %d ", sig);
      prbytes(fault_xs, 416); putchar(' ');
      if (bv & 4) prbytes(fault_xs + 576, 256); else for (int i = 0; i < 256; i++) printf("00");
      putchar(' '); prbytes(AREA, 1024); putchar('\n');
      __asm__ volatile("fninit\n\tvzeroupper\n\tpush $0x1f80\n\tldmxcsr (%%rsp)\n\tadd $8,%%rsp" ::: "memory");
      continue;
    }
    prbytes(AREA, 1024); putchar(' '); prbytes(OUT, 832); putchar('\n');
  }
  return 0;
}
