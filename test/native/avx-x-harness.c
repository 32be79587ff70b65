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

typedef struct {
  uint8_t y[4][32];        /* 0 */
  uint32_t mxcsr, pad;     /* 128 */
  uint64_t rax, rbx, rcx;  /* 136, 144, 152 */
  uint64_t flags;          /* 160 */
} S;

static S st;
static uint8_t *mem; /* 256-byte buffer followed by a PROT_NONE page */
static uint8_t *code;
static sigjmp_buf jb;
static volatile int sig;

/* The state at the faulting instruction, from the signal frame: XMM and MXCSR from the
   FXSAVE image, bits 255:128 from the XSAVE area's YMM_Hi128 component (standard format,
   offset 576) when XSTATE_BV[2] says it was saved, else zero (its init state). */
static void handler(int s, siginfo_t *si, void *ucv) {
  (void)si;
  ucontext_t *uc = ucv;
  uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
  uint64_t xstate_bv; memcpy(&xstate_bv, fp + 512, 8);
  uint32_t magic; memcpy(&magic, fp + 464, 4); /* FP_XSTATE_MAGIC1: the frame has an XSAVE header */
  for (int k = 0; k < 4; k++) {
    memcpy(st.y[k], fp + 160 + 16 * k, 16);
    if (magic == 0x46505853U && (xstate_bv & 4)) memcpy(st.y[k] + 16, fp + 576 + 16 * k, 16);
    else memset(st.y[k] + 16, 0, 16);
  }
  memcpy(&st.mxcsr, fp + 24, 4);
  st.rax = (uint64_t)uc->uc_mcontext.gregs[REG_RAX];
  st.rbx = (uint64_t)uc->uc_mcontext.gregs[REG_RBX];
  st.rcx = (uint64_t)uc->uc_mcontext.gregs[REG_RCX];
  st.flags = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
  sig = s;
  siglongjmp(jb, 1);
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

static int hexv(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
/* big-endian hex text (most significant first) into n little-endian bytes */
static void rdhex(const char *s, uint8_t *out, int n) {
  for (int i = 0; i < n; i++) out[n - 1 - i] = (uint8_t)(hexv(s[2 * i]) << 4 | hexv(s[2 * i + 1]));
}
static void prhex(const uint8_t *b, int n) { for (int i = n - 1; i >= 0; i--) printf("%02x", b[i]); }

int main(void) {
  code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  /* below 2 GiB (MAP_32BIT), so 32-bit address-size forms (67 prefix) reach the buffer too */
  uint8_t *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (pages == MAP_FAILED || mprotect(pages + 4096, 4096, PROT_NONE) != 0) { perror("mmap"); return 1; }
  mem = pages + 4096 - 384; /* buffer = mem + 128 .. mem + 383, rdx = mem + 256 */
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = handler; sa.sa_flags = SA_NODEFER | SA_SIGINFO;
  sigaction(SIGFPE, &sa, 0); sigaction(SIGSEGV, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGBUS, &sa, 0);
  static char c[64], y[4][72], mem_s[520];
  unsigned mx; unsigned long long rax, rbx, rcx, fl;
  while (scanf("%63s %71s %71s %71s %71s %x %llx %llx %llx %llx %519s", c, y[0], y[1], y[2], y[3], &mx, &rax, &rbx, &rcx, &fl, mem_s) == 11) {
    int n = (int)strlen(c) / 2;
    for (int i = 0; i < n; i++) code[i] = (uint8_t)(hexv(c[2 * i]) << 4 | hexv(c[2 * i + 1]));
    code[n] = 0xc3;
    __builtin___clear_cache((char *)code, (char *)code + n + 1);
    for (int k = 0; k < 4; k++) rdhex(y[k], st.y[k], 32);
    rdhex(mem_s, mem + 128, 256);
    st.mxcsr = mx; st.rax = rax; st.rbx = rbx; st.rcx = rcx; st.flags = fl;
    sig = 0;
    if (sigsetjmp(jb, 1) == 0) run();
    if (sig) printf("SIG %d ", sig);
    for (int k = 0; k < 4; k++) { prhex(st.y[k], 32); putchar(' '); }
    printf("%x %llx %llx %llx %llx ", st.mxcsr, (unsigned long long)st.rax, (unsigned long long)st.rbx,
           (unsigned long long)st.rcx, (unsigned long long)(st.flags & 0x8d5));
    prhex(mem + 128, 256); putchar('\n');
  }
  return 0;
}
