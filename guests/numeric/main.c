/*
 * numeric as a guest kernel: turns on SSE for numeric.c (built with -msse4.2) and sends its
 * output to COM1. This file is built with the runtime's -mgeneral-regs-only flags, so no
 * SSE instruction runs before the enable below. Built with -DNUMERIC_AVX2 it is the main of
 * numeric-avx2.elf (numeric.c with -mavx2 -mfma) and enables AVX state as well.
 */
#include "rt.h"

void numeric_run(void (*emit)(const char *s, unsigned long n));

static void emit(const char *s, unsigned long n) {
  for (unsigned long i = 0; i < n; i++) putchar(s[i]);
}

int main(void) {
  u32 a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
  /* CPUID.1: EDX.FXSR[24] SSE[25] SSE2[26], ECX.SSE3[0] SSSE3[9] SSE4.1[19] SSE4.2[20] */
  if ((d & (7u << 24)) != (7u << 24) || (c & 0x180201u) != 0x180201u) {
    printf("numeric: the CPU does not advertise SSE through SSE4.2 (CPUID.1 ECX %x EDX %x)\n", c, d);
    return 1;
  }
  /* SDM Vol. 3A §14.1.3 (was 13.1.3) "Initialization of the SSE Extensions": CR0.EM = 0,
   * CR0.MP = 1, CR0.TS = 0, CR4.OSFXSR = 1, CR4.OSXMMEXCPT = 1; then the x87 and MXCSR in
   * their initial states (FNINIT: FCW 0x37F, as a Linux process starts; MXCSR 0x1F80). */
  u64 cr0, cr4;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = (cr0 & ~(u64)((1 << 2) | (1 << 3))) | (1 << 1);
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= (1 << 9) | (1 << 10);
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
#ifdef NUMERIC_AVX2
  /* numeric-avx2.elf: numeric.c built with -mavx2 -mfma needs AVX state enabled too.
   * CPUID.1:ECX.FMA[12] XSAVE[26] AVX[28], CPUID.(7,0):EBX.AVX2[5]; then SDM Vol. 1 §13.3
   * "Enabling the XSAVE Feature Set and XSAVE-Enabled Features": CR4.OSXSAVE[18] = 1 and
   * XSETBV XCR0 = 7 (x87 | SSE | AVX), which is what makes VEX instructions legal. */
  u32 b7, c7, d7, a7;
  __asm__ volatile("cpuid" : "=a"(a7), "=b"(b7), "=c"(c7), "=d"(d7) : "a"(7), "c"(0));
  if ((c & ((1u << 12) | (1u << 26) | (1u << 28))) != ((1u << 12) | (1u << 26) | (1u << 28)) || (b7 & (1u << 5)) == 0) {
    printf("numeric: the CPU does not advertise AVX, AVX2 and FMA (CPUID.1 ECX %x, CPUID.7 EBX %x)\n", c, b7);
    return 1;
  }
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= 1 << 18;
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
  __asm__ volatile("xsetbv" : : "c"(0), "a"(7), "d"(0));
#endif
  u32 mxcsr = 0x1f80;
  __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
  numeric_run(emit);
  return 0;
}
