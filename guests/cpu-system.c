/*
 * cpu-system: system instructions in 64-bit mode — SYSCALL/SYSRET and SYSENTER/SYSEXIT
 * round trips to ring 3, MSRs (SWAPGS, KERNEL_GS_BASE, canonical checks), RDTSC/RDTSCP
 * with TSC_AUX, CPUID, INVLPG after a PTE change, REP MOVS/STOS with an FS override,
 * and the dirty bit.
 * Expected values follow the SDM pages of each instruction (Vol. 2, Vol. 3A §5.8.8,
 * Vol. 3B §17.3). Run under QEMU with an Intel vendor (SYSENTER is #UD in 64-bit mode
 * on AMD): -cpu max,vendor=GenuineIntel. QEMU 7.2 TCG fails two checks, both TCG bugs:
 * WRMSR of a non-canonical FS_BASE does not #GP, and RDMSR of an unknown MSR returns 0
 * instead of #GP (SDM Vol. 2 RDMSR/WRMSR); Nestvisor passes all 20.
 */
#include "rt.h"

static void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))); }

/* GDT: 0x08 kernel code64, 0x10 kernel data, 0x18 user code32, 0x20 user data,
 * 0x28 user code64, 0x30 user data (SYSRET and SYSEXIT selector arithmetic). */
static u64 gdt[7] __attribute__((aligned(16))) = {
  0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00cffa000000ffffull,
  0x00cff2000000ffffull, 0x00affa000000ffffull, 0x00cff2000000ffffull,
};

/* Sets U/S on every paging-structure entry of the boot identity map (first GiB). */
static void make_user_accessible(void) {
  u64 cr3; __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  u64 *pml4 = (u64 *)(cr3 & ~0xfffull);
  u64 *pdpt = (u64 *)(pml4[0] & 0xffffffffff000ull);
  u64 *pd = (u64 *)(pdpt[0] & 0xffffffffff000ull);
  pml4[0] |= 4; pdpt[0] |= 4;
  for (int i = 0; i < 512; i++) pd[i] |= 4;
  __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* Filled by the ring-3 round trips below. */
u64 sc_cs, sc_rcx, sc_r11, sc_user_cs, sc_ksp, se_user_cs, se_rsp;
extern char syscall_entry[], syscall_user[], sysenter_entry[], sysenter_user[];

__asm__(
  ".text\n"
  "syscall_round_trip:\n"            /* sysretq to syscall_user at CPL 3, which syscalls back */
  "  push %rbx\n"
  "  mov %rsp, sc_ksp(%rip)\n"
  "  lea syscall_user(%rip), %rcx\n"
  "  mov $0x2, %r11\n"                /* RFLAGS for ring 3: IF = 0 */
  "  sysretq\n"
  "syscall_user:\n"
  "  mov %cs, %ebx\n"
  "  mov %rbx, sc_user_cs(%rip)\n"
  "  syscall\n"
  "syscall_after:\n"
  "syscall_entry:\n"
  "  mov %rcx, sc_rcx(%rip)\n"
  "  mov %r11, sc_r11(%rip)\n"
  "  mov %cs, %eax\n"
  "  mov %rax, sc_cs(%rip)\n"
  "  mov $0x10, %eax\n"
  "  mov %eax, %ss\n"
  "  mov sc_ksp(%rip), %rsp\n"
  "  pop %rbx\n"
  "  ret\n"
  "sysenter_round_trip:\n"           /* sysexitq to sysenter_user, which sysenters back */
  "  push %rbx\n"
  "  mov %rsp, sc_ksp(%rip)\n"
  "  lea sysenter_user(%rip), %rdx\n"
  "  mov %rsp, %rcx\n"
  "  rex64 sysexit\n"
  "sysenter_user:\n"
  "  mov %cs, %ebx\n"
  "  mov %rbx, se_user_cs(%rip)\n"
  "  sysenter\n"
  "sysenter_entry:\n"
  "  mov %rsp, se_rsp(%rip)\n"
  "  mov sc_ksp(%rip), %rsp\n"
  "  pop %rbx\n"
  "  ret\n");
void syscall_round_trip(void);
void sysenter_round_trip(void);

static u64 sysenter_stack[64];

static void test_syscall(void) {
  wrmsr(0xc0000080, rdmsr(0xc0000080) | 1);              /* EFER.SCE */
  wrmsr(0xc0000081, (0x1bull << 48) | (0x08ull << 32)); /* STAR: SYSRET CS = 0x1b+16, SYSCALL CS = 0x08 */
  wrmsr(0xc0000082, (u64)syscall_entry);                 /* LSTAR */
  wrmsr(0xc0000084, 0x200);                              /* FMASK: IF */
  syscall_round_trip();
  report("sysretq enters CPL 3 with CS = STAR[63:48] + 16 | 3", sc_user_cs == 0x2b);
  report("syscall enters CS = STAR[47:32] at LSTAR", sc_cs == 0x08);
  report("syscall saves the return RIP in RCX", sc_rcx == (u64)syscall_entry);
  report("syscall saves RFLAGS in R11", (sc_r11 & ~0x30000ull) == 0x2);
}

static void test_sysenter(void) {
  wrmsr(0x174, 0x08);                                         /* SYSENTER_CS */
  wrmsr(0x175, (u64)&sysenter_stack[64]);                    /* SYSENTER_ESP */
  wrmsr(0x176, (u64)sysenter_entry);                          /* SYSENTER_EIP */
  sysenter_round_trip();
  report("sysexitq (REX.W) enters CPL 3 with CS = SYSENTER_CS + 32 | 3", se_user_cs == 0x2b);
  report("sysenter loads RSP from IA32_SYSENTER_ESP", se_rsp == (u64)&sysenter_stack[64]);
}

static void wr_noncanon(void *a) { (void)a; wrmsr(0xc0000100, 0x0000800000000000ull); }
static void rd_bad_msr(void *a) { (void)a; rdmsr(0x12345678); }

static void test_msrs(void) {
  wrmsr(0xc0000102, 0x1234567890ull);           /* KERNEL_GS_BASE */
  u64 gs_before = rdmsr(0xc0000101);
  __asm__ volatile("swapgs");
  u64 gs_after = rdmsr(0xc0000101), kgs_after = rdmsr(0xc0000102);
  __asm__ volatile("swapgs");
  report("swapgs exchanges GS.base and IA32_KERNEL_GS_BASE", gs_after == 0x1234567890ull && kgs_after == gs_before);
  expect_fault("wrmsr FS_BASE non-canonical is #GP", wr_noncanon, 0, 13);
  expect_fault("rdmsr of an unknown MSR is #GP", rd_bad_msr, 0, 13);
  wrmsr(0xc0000100, 0x5000);
  u32 v; __asm__ volatile("movl %%fs:0, %0" : "=r"(v));
  report("FS_BASE applies to fs: accesses", v == *(volatile u32 *)0x5000);
  wrmsr(0xc0000100, 0);
}

static void test_tsc(void) {
  u32 a, b, c, d;
  cpuid(0x80000001, 0, &a, &b, &c, &d);
  if (!(d & (1u << 27))) { printf("SKIP: rdtscp (CPUID.80000001H:EDX.RDTSCP = 0)\n"); return; }
  wrmsr(0xc0000103, 0xabc);                      /* TSC_AUX */
  u32 lo1, hi1, lo2, hi2, aux;
  __asm__ volatile("rdtsc" : "=a"(lo1), "=d"(hi1));
  __asm__ volatile("rdtscp" : "=a"(lo2), "=d"(hi2), "=c"(aux));
  u64 t1 = ((u64)hi1 << 32) | lo1, t2 = ((u64)hi2 << 32) | lo2;
  report("rdtscp returns IA32_TSC_AUX in ECX", aux == 0xabc);
  report("the TSC increases", t2 > t1);
}

static void test_cpuid(void) {
  u32 a, b, c, d;
  cpuid(0, 0, &a, &b, &c, &d);
  report("cpuid 0: max leaf >= 7", a >= 7);
  cpuid(1, 0, &a, &b, &c, &d);
  report("cpuid 1: TSC, MSR, PAE, CX8, APIC, SEP, PGE, FXSR", (d & 0x01002b70u) == 0x01002b70u);
  cpuid(0x80000000, 0, &a, &b, &c, &d);
  report("cpuid 80000000h: extended leaves to at least 80000008h", a >= 0x80000008u);
  cpuid(0x80000001, 0, &a, &b, &c, &d);
  report("cpuid 80000001h: LM, NX, SYSCALL", (d & ((1u << 29) | (1u << 20) | (1u << 11))) == ((1u << 29) | (1u << 20) | (1u << 11)));
}

/* INVLPG: remap a 4K page through a fresh page table, check the stale translation goes. */
static u64 pt[512] __attribute__((aligned(4096)));
static u8 pages[3][4096] __attribute__((aligned(4096)));

static void test_invlpg(void) {
  u64 cr3; __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  u64 *pml4 = (u64 *)(cr3 & ~0xfffull);
  u64 *pdpt = (u64 *)(pml4[0] & 0xffffffffff000ull);
  u64 *pd = (u64 *)(pdpt[0] & 0xffffffffff000ull);
  /* virtual 2 MiB window at 0x3fe00000 (PD[511]) → 4K page table */
  u64 save = pd[511];
  for (int i = 0; i < 512; i++) pt[i] = 0;
  pt[0] = (u64)pages[0] | 3;
  pd[511] = (u64)pt | 3;
  __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
  pages[0][0] = 0x11; pages[1][0] = 0x22;
  volatile u8 *v = (volatile u8 *)0x3fe00000ull;
  u8 first = *v;
  pt[0] = (u64)pages[1] | 3;                      /* remap without invalidation ... */
  __asm__ volatile("invlpg (%0)" : : "r"(v) : "memory");
  u8 second = *v;
  report("invlpg drops the stale translation", first == 0x11 && second == 0x22);
  pt[0] = (u64)pages[0] | 0x23;                    /* accessed set, dirty clear */
  __asm__ volatile("invlpg (%0)" : : "r"(v) : "memory");
  *v = 5;
  report("a write sets the dirty bit of the PTE", (pt[0] & 0x40) != 0);
  pd[511] = save;
  __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static void test_string_fs(void) {
  static u8 src[64], dst[64];
  for (int i = 0; i < 64; i++) { src[i] = (u8)(i * 7); dst[i] = 0; }
  wrmsr(0xc0000100, (u64)src - 16);             /* FS.base: fs:16 is src */
  u64 si = 16, di = (u64)dst, cx = 64;
  __asm__ volatile("cld; rep movsb %%fs:(%%rsi), %%es:(%%rdi)" : "+S"(si), "+D"(di), "+c"(cx) : : "memory");
  wrmsr(0xc0000100, 0);
  report("rep movsb with an FS override copies from FS.base + RSI", memcmp(src, dst, 64) == 0 && cx == 0 && di == (u64)dst + 64);
  u64 q = 0x0101010101010101ull; di = (u64)dst; cx = 8;
  __asm__ volatile("std; rep stosq; cld" : "+D"(di), "+c"(cx) : "a"(q) : "memory");
  report("std; rep stosq runs downwards", di == (u64)dst - 64 && dst[0] == 1 && dst[7] == 1);
}

int main(void) {
  struct { u16 limit; u64 base; } __attribute__((packed)) d = { sizeof gdt - 1, (u64)gdt };
  __asm__ volatile("lgdt %0" : : "m"(d));
  make_user_accessible();
  test_cpuid();
  test_msrs();
  test_tsc();
  test_syscall();
  test_sysenter();
  test_invlpg();
  test_string_fs();
  return report_summary() ? 1 : 0;
}
