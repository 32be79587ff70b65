/*
 * cpu-basic: many small checks of the general-purpose instruction set in 64-bit mode.
 * Expected values follow the SDM Vol. 2 pages of each instruction; every check passes on
 * real hardware and under QEMU TCG. Flags are read with PUSHFQ right after the
 * instruction; only the flags the SDM defines for that instruction are compared.
 */
#include "rt.h"

#define CF 0x001
#define PF 0x004
#define AF 0x010
#define ZF 0x040
#define SF 0x080
#define OF 0x800
#define ARITH (CF | PF | AF | ZF | SF | OF)
#define LOGIC (CF | PF | ZF | SF | OF) /* AF is undefined after AND/OR/XOR/TEST */

/* r = a OP b (64-bit); returns RFLAGS. */
#define OP64(op, x_, y_, out_)                                                          \
  ({ u64 _f, _a = (x_); __asm__ volatile(op " %[b], %[a]\n\tpushfq\n\tpop %[f]"      \
                                 : [a] "+r"(_a), [f] "=r"(_f) : [b] "r"((u64)(y_)) : "cc"); \
     (out_) = _a; _f; })
#define OP32(op, x_, y_, out_)                                                          \
  ({ u64 _f; u32 _a = (x_); __asm__ volatile(op " %[b], %[a]\n\tpushfq\n\tpop %[f]"  \
                                 : [a] "+r"(_a), [f] "=r"(_f) : [b] "r"((u32)(y_)) : "cc"); \
     (out_) = _a; _f; })
#define OP8(op, x_, y_, out_)                                                           \
  ({ u64 _f; u8 _a = (x_); __asm__ volatile(op " %[b], %[a]\n\tpushfq\n\tpop %[f]"   \
                                 : [a] "+q"(_a), [f] "=r"(_f) : [b] "q"((u8)(y_)) : "cc"); \
     (out_) = _a; _f; })

static void check(const char *name, int ok) { report(name, ok); }

static void arith(void) {
  u64 r, f;
  f = OP64("add", 0x7fffffffffffffffull, 1, r);
  check("add64 signed overflow", r == 0x8000000000000000ull && (f & ARITH) == (OF | SF | AF | PF));
  f = OP32("sub", 0, 1, r);
  check("sub32 borrow", r == 0xffffffff && (f & ARITH) == (CF | SF | AF | PF));
  f = OP8("add", 0xff, 1, r);
  check("add8 carry to zero", r == 0 && (f & ARITH) == (CF | ZF | AF | PF));
  f = OP64("xor", 0x1234, 0x1234, r);
  check("xor64 self", r == 0 && (f & LOGIC) == (ZF | PF));
  f = OP64("and", 0xf0f0, 0x0ff0, r);
  check("and64", r == 0x00f0 && (f & LOGIC) == PF);
  f = OP32("or", 0x80000000, 1, r);
  check("or32 sign", r == 0x80000001 && (f & LOGIC) == SF);
  f = OP64("cmp", 7, 5, r); /* AT&T order: flags of 7 - 5 */
  check("cmp64 keeps dest, sets flags", r == 7 && (f & ARITH) == 0);
  f = OP64("cmp", 5, 7, r); /* 5 - 7 = 0x...fe: borrow, sign, nibble borrow, odd parity */
  check("cmp64 below", (f & ARITH) == (CF | SF | AF));

  u64 a = 0, fl;
  __asm__ volatile("stc\n\tadc $0, %0\n\tpushfq\n\tpop %1" : "+r"(a), "=r"(fl) : : "cc");
  check("adc adds CF", a == 1 && !(fl & CF));
  a = 10;
  __asm__ volatile("stc\n\tsbb $3, %0" : "+r"(a) : : "cc");
  check("sbb subtracts CF", a == 6);
  a = 0xffffffffffffffffull;
  __asm__ volatile("stc\n\tinc %0\n\tpushfq\n\tpop %1" : "+r"(a), "=r"(fl) : : "cc");
  check("inc keeps CF", a == 0 && (fl & (CF | ZF)) == (CF | ZF));
  a = 0;
  __asm__ volatile("neg %0\n\tpushfq\n\tpop %1" : "+r"(a), "=r"(fl) : : "cc");
  check("neg 0 clears CF", a == 0 && !(fl & CF));
  a = 5;
  __asm__ volatile("neg %0\n\tpushfq\n\tpop %1" : "+r"(a), "=r"(fl) : : "cc");
  check("neg 5", a == (u64)-5 && (fl & CF));
  u32 d = 0x80000000;
  __asm__ volatile("dec %0\n\tpushfq\n\tpop %1" : "+r"(d), "=r"(fl) : : "cc");
  check("dec32 overflow", d == 0x7fffffff && (fl & OF));
  u64 x = 0x1122334455667788ull;
  __asm__ volatile("bswap %0" : "+r"(x));
  check("bswap64", x == 0x8877665544332211ull);
  u64 c = 0, one = 1;
  __asm__ volatile("cmp $1, %1\n\tcmove %2, %0" : "+r"(c) : "r"(one), "r"(42ull) : "cc");
  check("cmove taken", c == 42);
  u8 s;
  __asm__ volatile("cmp $2, %1\n\tsetl %0" : "=q"(s) : "r"(one) : "cc");
  check("setl", s == 1);
  long m = -1;
  u64 z;
  __asm__ volatile("movzbl %b1, %k0" : "=r"(z) : "q"(m));
  check("movzx", z == 0xff);
  __asm__ volatile("movsbq %b1, %0" : "=r"(z) : "q"(0x80l));
  check("movsx", z == 0xffffffffffffff80ull);
  u32 w = 0xffffffff;
  u64 wide = 0xdeadbeef00000000ull;
  __asm__ volatile("mov %k1, %k0" : "+r"(wide) : "r"(w));
  check("32-bit mov zero-extends", wide == 0xffffffff);
  __asm__ volatile("lea 7(%1,%2,4), %0" : "=r"(z) : "r"(100ull), "r"(3ull));
  check("lea base+index*4+disp", z == 119);
}

static void muldiv(void) {
  u64 lo = 0xffffffffffffffffull, hi, fl;
  __asm__ volatile("mulq %3\n\tpushfq\n\tpop %2" : "+a"(lo), "=d"(hi), "=r"(fl) : "r"(2ull) : "cc");
  check("mul64 high half", lo == 0xfffffffffffffffeull && hi == 1 && (fl & (CF | OF)) == (CF | OF));
  long p = 7;
  __asm__ volatile("imul $-3, %0, %0" : "+r"(p) : : "cc");
  check("imul imm", p == -21);
  u64 a = 0, d = 1, divisor = 2;
  __asm__ volatile("divq %2" : "+a"(a), "+d"(d) : "r"(divisor) : "cc");
  check("div128/64", a == 0x8000000000000000ull && d == 0);
  long q = -7, r;
  __asm__ volatile("cqo\n\tidivq %2" : "+a"(q), "=&d"(r) : "r"(2l) : "cc");
  check("idiv truncates toward zero", q == -3 && r == -1);
  u32 eax = 100, edx = 0;
  __asm__ volatile("divl %2" : "+a"(eax), "+d"(edx) : "r"(7u) : "cc");
  check("div32", eax == 14 && edx == 2);
  u16 ax = 0x00ff;
  u8 bl = 0x10;
  __asm__ volatile("mulb %1" : "+a"(ax) : "q"(bl) : "cc");
  check("mul8 into ax", ax == 0x0ff0);
}

static void shifts(void) {
  u64 v = 0x8000000000000001ull, fl;
  __asm__ volatile("shl $1, %0\n\tpushfq\n\tpop %1" : "+r"(v), "=r"(fl) : : "cc");
  check("shl out of bit 63", v == 2 && (fl & CF));
  long s = -8;
  __asm__ volatile("sar $1, %0" : "+r"(s) : : "cc");
  check("sar keeps sign", s == -4);
  v = 0x80;
  __asm__ volatile("shr $8, %0\n\tpushfq\n\tpop %1" : "+r"(v), "=r"(fl) : : "cc");
  check("shr to zero", v == 0 && (fl & (CF | ZF)) == (CF | ZF));
  u32 r = 0x80000001;
  __asm__ volatile("rol $4, %0" : "+r"(r) : : "cc");
  check("rol32", r == 0x00000018);
  __asm__ volatile("ror $8, %0" : "+r"(r) : : "cc");
  check("ror32", r == 0x18000000);
  u8 b = 0x81;
  __asm__ volatile("clc\n\trcl $1, %0\n\tpushfq\n\tpop %1" : "+q"(b), "=r"(fl) : : "cc");
  check("rcl8", b == 0x02 && (fl & CF));
  __asm__ volatile("stc\n\trcr $1, %0" : "+q"(b) : : "cc");
  check("rcr8", b == 0x81);
  u64 hi = 0x1, lo = 0xf000000000000000ull;
  __asm__ volatile("shld $4, %1, %0" : "+r"(hi) : "r"(lo) : "cc");
  check("shld64", hi == 0x1f);
  lo = 0xff;
  __asm__ volatile("shrd $4, %1, %0" : "+r"(lo) : "r"(0x5ull) : "cc");
  check("shrd64", lo == 0x500000000000000full);
  u64 c = 70; /* counts are masked to 6 bits: 70 & 63 = 6 */
  v = 1;
  __asm__ volatile("shl %%cl, %0" : "+r"(v) : "c"(c) : "cc");
  check("shl count masked to 6 bits", v == 64);
}

static void bitops(void) {
  u64 i, fl;
  __asm__ volatile("bsf %1, %0" : "=r"(i) : "r"(0x100ull) : "cc");
  check("bsf", i == 8);
  __asm__ volatile("bsr %1, %0" : "=r"(i) : "r"(0x8000000000000100ull) : "cc");
  check("bsr", i == 63);
  u64 v;
  __asm__ volatile("bsf %1, %1\n\tpushfq\n\tpop %0" : "=r"(fl) : "r"(0ull) : "cc");
  check("bsf of zero sets ZF", fl & ZF);
  v = 0x10;
  __asm__ volatile("bt $4, %1\n\tpushfq\n\tpop %0" : "=r"(fl) : "r"(v) : "cc");
  check("bt set bit", fl & CF);
  __asm__ volatile("bts $0, %0" : "+r"(v) : : "cc");
  __asm__ volatile("btr $4, %0" : "+r"(v) : : "cc");
  __asm__ volatile("btc $63, %0" : "+r"(v) : : "cc");
  check("bts/btr/btc", v == 0x8000000000000001ull);
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (c & (1u << 23)) {
    __asm__ volatile("popcnt %1, %0" : "=r"(i) : "r"(0xf0f0f0f0f0f0f0f1ull) : "cc");
    check("popcnt", i == 33);
  }
  u8 mem[8] = { 0 };
  __asm__ volatile("btsq $35, %0" : "+m"(*(u64 *)mem) : : "cc");
  check("bts on memory", mem[4] == 0x08);
}

static void strings(void) {
  static u8 src[64], dst[64];
  for (int i = 0; i < 64; i++) src[i] = (u8)(i * 7 + 1);
  u8 *di = dst;
  const u8 *si = src;
  u64 n = 64;
  __asm__ volatile("cld\n\trep movsb" : "+D"(di), "+S"(si), "+c"(n) : : "memory");
  check("rep movsb", n == 0 && di == dst + 64 && memcmp(src, dst, 64) == 0);
  u64 q[4];
  u64 *qd = q;
  n = 4;
  __asm__ volatile("rep stosq" : "+D"(qd), "+c"(n) : "a"(0x0123456789abcdefull) : "memory");
  check("rep stosq", q[0] == 0x0123456789abcdefull && q[3] == q[0] && n == 0);
  dst[40] ^= 1;
  si = src; di = dst; n = 64;
  __asm__ volatile("repe cmpsb" : "+D"(di), "+S"(si), "+c"(n) : : "memory", "cc");
  check("repe cmpsb stops after the mismatch", si == src + 41 && n == 23);
  di = dst; n = 64;
  __asm__ volatile("repne scasb" : "+D"(di), "+c"(n) : "a"(src[10]) : "memory", "cc");
  check("repne scasb finds a byte", di == dst + 11);
  si = src + 3;
  u64 al;
  __asm__ volatile("lodsb" : "+S"(si), "=a"(al) : : "memory");
  check("lodsb", (u8)al == src[3] && si == src + 4);
  si = src + 63; di = dst + 63; n = 64;
  __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(di), "+S"(si), "+c"(n) : : "memory");
  check("rep movsb backwards (DF=1)", (u64)di == (u64)dst - 1 && memcmp(src, dst, 64) == 0);
}

static u64 __attribute__((noinline)) fib(u64 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static u64 __attribute__((noinline)) twice(u64 v) { return v * 2; }

static void control(void) {
  check("recursive call/ret", fib(20) == 6765);
  u64 (*volatile fp)(u64) = twice;
  check("indirect call", fp(21) == 42);
  u64 v = 0;
  __asm__ volatile("push $0x1234\n\tpush $0x5678\n\tpop %0\n\tpop %0" : "=r"(v));
  check("push/pop", v == 0x1234);
  u64 out;
  __asm__ volatile("call 1f\n\t1: pop %0" : "=r"(out));
  check("call pushes the next RIP", out != 0);
  u64 cnt = 0;
  __asm__ volatile("mov $5, %%ecx\n\t1: inc %0\n\tloop 1b" : "+r"(cnt) : : "rcx", "cc");
  check("loop", cnt == 5);
  u64 rsp_before, rsp_after;
  __asm__ volatile("mov %%rsp, %0\n\tenter $16, $0\n\tleave\n\tmov %%rsp, %1" : "=r"(rsp_before), "=r"(rsp_after));
  check("enter/leave", rsp_before == rsp_after);
}

static void atomics(void) {
  u64 m = 5, a = 5;
  __asm__ volatile("lock cmpxchgq %2, %1" : "+a"(a), "+m"(m) : "r"(9ull) : "cc");
  check("cmpxchg equal stores", m == 9 && a == 5);
  a = 1;
  __asm__ volatile("lock cmpxchgq %2, %1" : "+a"(a), "+m"(m) : "r"(3ull) : "cc");
  check("cmpxchg unequal loads", m == 9 && a == 9);
  u64 r = 10;
  __asm__ volatile("lock xaddq %0, %1" : "+r"(r), "+m"(m) : : "cc");
  check("xadd", r == 9 && m == 19);
  r = 1;
  __asm__ volatile("xchgq %0, %1" : "+r"(r), "+m"(m));
  check("xchg", r == 19 && m == 1);
}

static void system(void) {
  u32 a, b, c, d;
  cpuid(0, 0, &a, &b, &c, &d);
  check("cpuid leaf 0: max leaf and vendor", a >= 1 && b != 0);
  cpuid(0x80000001, 0, &a, &b, &c, &d);
  check("cpuid: long mode supported", d & (1u << 29));
  u64 efer = rdmsr(0xC0000080);
  check("rdmsr EFER: LME and LMA", (efer & 0x500) == 0x500);
  u64 cr0;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  check("CR0: PE and PG", (cr0 & 0x80000001) == 0x80000001);
}

static void do_ud2(void *arg) { (void)arg; __asm__ volatile("ud2"); }
static void do_div0(void *arg) { u64 z = (u64)arg; __asm__ volatile("divq %0" : : "r"(z) : "rax", "rdx"); }
static void do_noncanonical(void *arg) { (void)arg; *(volatile u64 *)0x8000000000000000ull; }
static void do_read_unmapped(void *arg) { *(volatile u64 *)arg; }
static void do_write_unmapped(void *arg) { *(volatile u64 *)arg = 1; }
static void do_int3(void *arg) { (void)arg; __asm__ volatile("int3"); }
static void do_nothing(void *arg) { (void)arg; }

static void exceptions(void) {
  expect_fault("#UD on ud2", do_ud2, 0, 6);
  expect_fault("#DE on division by zero", do_div0, 0, 0);
  expect_fault("#GP on a non-canonical address", do_noncanonical, 0, 13);
  check("#GP error code is 0", fault_error == 0);
  void *unmapped = (void *)0x40000000ull; /* first byte past the 1 GiB identity map */
  expect_fault("#PF on reading an unmapped page", do_read_unmapped, unmapped, 14);
  check("#PF: CR2 and error code (not present, read)", fault_cr2 == 0x40000000ull && fault_error == 0);
  expect_fault("#PF on writing an unmapped page", do_write_unmapped, (u8 *)unmapped + 8, 14);
  check("#PF: CR2 and error code (not present, write)", fault_cr2 == 0x40000008ull && fault_error == 2);
  expect_fault("#BP on int3", do_int3, 0, 3);
  check("no fault when none is raised", fault_try(do_nothing, 0) == -1);
}

int main(void) {
  arith();
  muldiv();
  shifts();
  bitops();
  strings();
  control();
  atomics();
  system();
  exceptions();
  return report_summary() ? 1 : 0;
}
