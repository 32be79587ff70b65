/*
 * Differential reference for the integer ALU: executes one instruction on this machine's
 * real CPU per input line and prints the architectural results.
 *
 * Input lines:  NAME RAX RCX RDX FLAGS       (hex; NAME like "add_32", "shl_8", "btmem_64")
 * Output lines: RAX RCX RDX FLAGS            (hex; FLAGS = EFLAGS & 0x8d5)
 *           or: DE                           (the instruction raised #DE: SIGFPE)
 *
 * Register roles match the encodings the TypeScript side assembles (alu-diff.test.ts):
 *   binary ops, TEST, BT*:     op rCX -> rAX            (dest/base rAX, source/offset rCX)
 *   shifts/rotates:            op CL  -> rAX
 *   SHLD/SHRD:                 op CL, rDX -> rAX
 *   MUL/IMUL/DIV/IDIV r/m:     rCX with rAX/rDX implicit
 *   IMUL2, BSF..POPCNT:        rAX <- op rCX
 *   BT* memory form:           bit string at [rDX]; rDX in/out is a checksum of the buffer
 * Build: gcc -O1 -mno-red-zone (the asm pushes/pops flags below the stack pointer).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t u64;
typedef struct { u64 rax, rcx, rdx, fl; } S;

#define RUN(insn) \
  __asm__ volatile("push %[f]\n\tpopfq\n\t" insn "\n\tpushfq\n\tpop %[f]" \
                   : "+a"(s->rax), "+c"(s->rcx), "+d"(s->rdx), [f] "+r"(s->fl) : : "cc", "memory")

#define F(nm, insn) static void nm(S *s) { RUN(insn); }
/* one function per operand size; m = AT&T mnemonic, operands given per size */
#define BIN(m) \
  F(m##_8, #m "b %%cl,%%al") F(m##_16, #m "w %%cx,%%ax") \
  F(m##_32, #m "l %%ecx,%%eax") F(m##_64, #m "q %%rcx,%%rax")
#define UN(m) \
  F(m##_8, #m "b %%al") F(m##_16, #m "w %%ax") F(m##_32, #m "l %%eax") F(m##_64, #m "q %%rax")
#define SH(m) \
  F(m##_8, #m "b %%cl,%%al") F(m##_16, #m "w %%cl,%%ax") \
  F(m##_32, #m "l %%cl,%%eax") F(m##_64, #m "q %%cl,%%rax")
#define ACC(m) \
  F(m##_8, #m "b %%cl") F(m##_16, #m "w %%cx") F(m##_32, #m "l %%ecx") F(m##_64, #m "q %%rcx")
#define R3(m) \
  F(m##_16, #m "w %%cx,%%ax") F(m##_32, #m "l %%ecx,%%eax") F(m##_64, #m "q %%rcx,%%rax")
#define DSH(m) \
  F(m##_16, #m "w %%cl,%%dx,%%ax") F(m##_32, #m "l %%cl,%%edx,%%eax") F(m##_64, #m "q %%cl,%%rdx,%%rax")
#define BTM(m) \
  F(m##mem_16, #m "w %%cx,(%%rdx)") F(m##mem_32, #m "l %%ecx,(%%rdx)") F(m##mem_64, #m "q %%rcx,(%%rdx)")

BIN(add) BIN(or) BIN(adc) BIN(sbb) BIN(and) BIN(sub) BIN(xor) BIN(cmp) BIN(test)
UN(inc) UN(dec) UN(neg) UN(not)
SH(rol) SH(ror) SH(rcl) SH(rcr) SH(shl) SH(shr) SH(sar)
ACC(mul) ACC(imul) ACC(div) ACC(idiv)
F(imul2_16, "imulw %%cx,%%ax") F(imul2_32, "imull %%ecx,%%eax") F(imul2_64, "imulq %%rcx,%%rax")
R3(bsf) R3(bsr) R3(tzcnt) R3(lzcnt) R3(popcnt)
R3(bt) R3(bts) R3(btr) R3(btc)
DSH(shld) DSH(shrd)
BTM(bt) BTM(bts) BTM(btr) BTM(btc)

#undef F

typedef struct { const char *name; void (*fn)(S *); } Op;
#define E(m) {#m "_8", m##_8}, {#m "_16", m##_16}, {#m "_32", m##_32}, {#m "_64", m##_64},
#define E3(m) {#m "_16", m##_16}, {#m "_32", m##_32}, {#m "_64", m##_64},
#define EM(m) {#m "mem_16", m##mem_16}, {#m "mem_32", m##mem_32}, {#m "mem_64", m##mem_64},
static const Op ops[] = {
  E(add) E(or) E(adc) E(sbb) E(and) E(sub) E(xor) E(cmp) E(test)
  E(inc) E(dec) E(neg) E(not)
  E(rol) E(ror) E(rcl) E(rcr) E(shl) E(shr) E(sar)
  E(mul) E(imul) E(div) E(idiv)
  E3(imul2) E3(bsf) E3(bsr) E3(tzcnt) E3(lzcnt) E3(popcnt)
  E3(bt) E3(bts) E3(btr) E3(btc)
  E3(shld) E3(shrd)
  EM(bt) EM(bts) EM(btr) EM(btc)
};

/* Bit-string buffer for the memory forms: base pointer in the middle, pattern from a seed. */
static uint8_t buf[2048];
static void fill(u64 seed) { for (int i = 0; i < 2048; i++) buf[i] = (uint8_t)(i * 167 + seed * 13 + (i >> 3)); }
static u64 fnv(void) { uint32_t h = 2166136261u; for (int i = 0; i < 2048; i++) { h ^= buf[i]; h *= 16777619u; } return h; }

static sigjmp_buf env;
static void onfpe(int sig) { (void)sig; siglongjmp(env, 1); }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onfpe;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, 0);
  char name[32];
  unsigned long long a, c, d, f;
  const Op *op = 0;
  while (scanf("%31s %llx %llx %llx %llx", name, &a, &c, &d, &f) == 5) {
    if (!op || strcmp(op->name, name) != 0) {
      op = 0;
      for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) if (strcmp(ops[i].name, name) == 0) op = &ops[i];
      if (!op) { fprintf(stderr, "unknown op %s\n", name); return 2; }
    }
    int mem = strstr(name, "mem_") != 0;
    static S s;
    s.rax = a; s.rcx = c; s.rdx = d;
    s.fl = 0x202 | (f & 0x8d5);
    if (mem) { fill(d); s.rdx = (u64)(uintptr_t)(buf + 1024); }
    if (sigsetjmp(env, 1)) { printf("DE\n"); continue; }
    op->fn(&s);
    if (mem) s.rdx = fnv();
    printf("%llx %llx %llx %llx\n", (unsigned long long)s.rax, (unsigned long long)s.rcx,
           (unsigned long long)s.rdx, (unsigned long long)(s.fl & 0x8d5));
  }
  return 0;
}
