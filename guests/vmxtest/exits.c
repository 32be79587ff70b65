/*
 * vmx-exits: one test per VM-exit reason of issue 5 (SDM Vol. 3C Chapter 25 "VMX non-root
 * operation" for what exits, Chapter 27 / §27.2 for the exit information). Each test starts
 * from vt_baseline(), turns on the one control it needs, runs a small L2 function and checks
 * the exit reason, qualification, instruction length and information, then resumes L2
 * after vt_skip() to see that it continues correctly. This file has the instruction exits
 * and main(); exits-events.c the exceptions, interrupts, windows and other events.
 */
#include "exits.h"

/* L2 reports what it saw through memory (it shares the kernel's address space) */
volatile u64 out[4];
void clear_out(void) { for (int i = 0; i < 4; i++) out[i] = 0; }

/* the local APIC's page: one page directory of 2 MiB uncached pages for 3-4 GiB (the
 * runtime maps only the first GiB; PWT|PCD, SDM Vol. 3A §11.12) */
static u64 high_pd[512] __attribute__((aligned(4096)));
static void map_apic(void) {
  u64 *pml4 = (u64 *)(read_cr3() & ~0xffful);
  u64 *pdpt = (u64 *)(pml4[0] & ~0xffful);
  for (u64 i = 0; i < 512; i++) high_pd[i] = (0xc0000000ul + (i << 21)) | 0x9b; /* P W PWT PCD PS */
  pdpt[3] = (u64)high_pd | 3;
  __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
  apic_write(0xf0, 0x1ff); /* spurious-interrupt vector register: software-enable (§10.9) */
}

/* an IDT gate for vector `v` in the kernel's IDT (L1 handles the interrupts tests leave pending) */
static void set_gate(int v, void (*h)(void)) {
  struct { u16 limit; u64 base; } __attribute__((packed)) d;
  __asm__ volatile("sidt %0" : "=m"(d));
  u8 *g = (u8 *)d.base + v * 16;
  u64 a = (u64)h;
  *(u16 *)(g + 0) = (u16)a;
  *(u16 *)(g + 2) = 0x08;
  g[4] = 0;
  g[5] = 0x8e;
  *(u16 *)(g + 6) = (u16)(a >> 16);
  *(u32 *)(g + 8) = (u32)(a >> 32);
  *(u32 *)(g + 12) = 0;
}

volatile u32 irq_count;
void irq_handler(void);
__asm__(".text\n.globl irq_handler\nirq_handler:\n"
        "  incl irq_count(%rip)\n"
        "  push %rax\n  mov $0xfee000b0, %eax\n  movl $0, (%rax)\n  pop %rax\n" /* EOI */
        "  iretq\n");

/* ---- CPUID (§25.1.2: CPUID always exits; Appendix C reason 10) ---- */
static void g_cpuid(void) {
  u32 a, b, c, d;
  cpuid(0x12345678, 0x9abc, &a, &b, &c, &d);
  out[0] = a; /* what L1 answered: L2 continued with L1's values */
  out[1] = d;
}

static void test_cpuid(void) {
  clear_out();
  vt_baseline(g_cpuid);
  int r = vt_run();
  report_eq("CPUID: exit reason 10", r, VT_EXIT_CPUID);
  report_eq("CPUID: leaf in RAX", (u32)vt_regs.rax, 0x12345678);
  report_eq("CPUID: subleaf in RCX", (u32)vt_regs.rcx, 0x9abc);
  report_eq("CPUID: instruction length 2 (0F A2)", vmread(EXIT_INSTRUCTION_LEN), 2);
  vt_regs.rax = 0x11111111; vt_regs.rbx = 0x22222222; vt_regs.rcx = 0x33333333; vt_regs.rdx = 0x44444444;
  vt_skip();
  r = vt_run();
  report_eq("CPUID: L2 continues after vt_skip with L1's results", r, VT_EXIT_VMCALL);
  report("CPUID: L2 saw L1's EAX and EDX", out[0] == 0x11111111 && out[1] == 0x44444444);
}

/* ---- HLT (§25.1.3 with "HLT exiting"; reason 12) ---- */
static void g_hlt(void) {
  __asm__ volatile("hlt" ::: "memory");
  out[0] = 0x4c54;
}

static void test_hlt(void) {
  clear_out();
  vt_baseline(g_hlt);
  if (!vt_ctl_on(VT_PROC, VT_PROC_HLT)) { report_skip("HLT exiting"); return; }
  int r = vt_run();
  report_eq("HLT: exit reason 12", r, VT_EXIT_HLT);
  report_eq("HLT: instruction length 1 (F4)", vmread(EXIT_INSTRUCTION_LEN), 1);
  report_eq("HLT: qualification 0 (§27.2.1)", vmread(EXIT_QUALIFICATION), 0);
  vt_skip();
  r = vt_run();
  report_eq("HLT: L2 continues after vt_skip", r, VT_EXIT_VMCALL);
  report_eq("HLT: L2 ran the next instruction", out[0], 0x4c54);
}

/* ---- VMCALL (§25.1.2: VMCALL always exits in VMX non-root operation; reason 18) ---- */
void g_vmcall(void) {
  u64 a = 0x1234;
  __asm__ volatile("vmcall" : "+a"(a) : : "memory");
  out[0] = a;
}

static void test_vmcall(void) {
  clear_out();
  vt_baseline(g_vmcall);
  int r = vt_run();
  report_eq("VMCALL: exit reason 18", r, VT_EXIT_VMCALL);
  report_eq("VMCALL: instruction length 3 (0F 01 C1)", vmread(EXIT_INSTRUCTION_LEN), 3);
  report_eq("VMCALL: L2's RAX", vt_regs.rax, 0x1234);
  vt_regs.rax = 0x5678;
  vt_skip();
  r = vt_run();
  report_eq("VMCALL: L2 continues after vt_skip (the function's return VMCALL)", r, VT_EXIT_VMCALL);
  report_eq("VMCALL: L2 saw the RAX L1 set", out[0], 0x5678);
}

/* INVLPG (reason 14, qualification = linear address), RDPMC (15), RDTSC (16), RDTSCP (51) */
GUEST(g_invlpg, "mov $0x123456, %rax\n invlpg (%rax)");
GUEST(g_rdpmc, "xor %ecx, %ecx\n rdpmc");
GUEST(g_rdtsc, "rdtsc\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, out(%rip)");
GUEST(g_rdtscp, "rdtscp\n mov %ecx, out+8(%rip)\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, out(%rip)");

static void instr_exit(const char *what, void (*g)(void), int word, u32 ctl, int reason, u64 len) {
  char name[128];
  vt_baseline(g);
  if (ctl && !vt_ctl_on(word, ctl)) { report_skip(what); return; }
  int r = vt_run();
  printf("  (%s)\n", what);
  report_eq("exit reason", r, reason);
  report_eq("instruction length", vmread(EXIT_INSTRUCTION_LEN), len);
  vt_skip();
  memcpy(name, "L2 continues after vt_skip", 27);
  report_eq(name, vt_run(), VT_EXIT_VMCALL);
}

static void test_simple_instructions(void) {
  vt_baseline(g_invlpg);
  if (vt_ctl_on(VT_PROC, VT_PROC_INVLPG)) {
    report_eq("INVLPG: exit reason 14", vt_run(), VT_EXIT_INVLPG);
    report_eq("INVLPG: qualification = linear address", vmread(EXIT_QUALIFICATION), 0x123456);
    report_eq("INVLPG: instruction length 3", vmread(EXIT_INSTRUCTION_LEN), 3);
    vt_skip();
    report_eq("INVLPG: L2 continues", vt_run(), VT_EXIT_VMCALL);
  } else report_skip("INVLPG exiting");
  instr_exit("RDPMC exiting: reason 15, length 2", g_rdpmc, VT_PROC, VT_PROC_RDPMC, VT_EXIT_RDPMC, 2);

  clear_out();
  vt_baseline(g_rdtsc);
  if (vt_ctl_on(VT_PROC, VT_PROC_RDTSC)) {
    report_eq("RDTSC: exit reason 16", vt_run(), VT_EXIT_RDTSC);
    report_eq("RDTSC: instruction length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
    vt_regs.rax = 0x89abcdef; vt_regs.rdx = 0x1234567;
    vt_skip();
    report_eq("RDTSC: L2 continues", vt_run(), VT_EXIT_VMCALL);
    report_eq("RDTSC: L2 got L1's EDX:EAX", out[0], 0x0123456789abcdefull);
  } else report_skip("RDTSC exiting");

  u32 a, b, c, d;
  cpuid(0x80000001, 0, &a, &b, &c, &d);
  clear_out();
  vt_baseline(g_rdtscp);
  if ((d >> 27) & 1 && vt_ctl_on(VT_PROC2, VT_PROC2_RDTSCP) && vt_ctl_on(VT_PROC, VT_PROC_RDTSC)) {
    report_eq("RDTSCP: exit reason 51", vt_run(), VT_EXIT_RDTSCP);
    report_eq("RDTSCP: instruction length 3", vmread(EXIT_INSTRUCTION_LEN), 3);
    vt_regs.rax = 5; vt_regs.rdx = 6; vt_regs.rcx = 7;
    vt_skip();
    report_eq("RDTSCP: L2 continues", vt_run(), VT_EXIT_VMCALL);
    report("RDTSCP: L2 got L1's EDX:EAX and ECX", out[0] == 0x600000005ull && out[1] == 7);
  } else report_skip("enable RDTSCP");

  /* TSC offsetting without RDTSC exiting (§25.3): L2 reads TSC + offset */
  clear_out();
  vt_baseline(g_rdtsc);
  if (vt_ctl_on(VT_PROC, VT_PROC_TSC_OFFSET)) {
    u64 off = 1ull << 40;
    vt_write(VT_TSC_OFFSET, off);
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    u64 t0 = ((u64)hi << 32) | lo;
    int r = vt_run();
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    u64 t1 = ((u64)hi << 32) | lo;
    report_eq("TSC offsetting: RDTSC does not exit", r, VT_EXIT_VMCALL);
    if (!(out[0] >= t0 + off && out[0] <= t1 + off)) printf("  t0 %#lx, L2 %#lx, t1 %#lx\n", t0, out[0], t1);
    report("TSC offsetting: L1 TSC before + offset <= L2's RDTSC <= L1 TSC after + offset", out[0] >= t0 + off && out[0] <= t1 + off);
  } else report_skip("use TSC offsetting");
}

/*
 * VMX instructions in L2 (§25.1.2: they always exit; reasons 19-27, 50, 53). The exit
 * qualification is the memory operand's displacement (§27.2.1) and the instruction
 * information has the format of Table 27-13 (VMCLEAR/VMPTRLD/VMPTRST/VMXON), 27-14
 * (VMREAD/VMWRITE) or 27-12 (INVEPT/INVVPID): scaling 1:0, reg1 6:3, address size 9:7
 * (2 = 64-bit), register/memory 10, segment 17:15 (0 ES, 2 SS, 3 DS), index 21:18, index
 * invalid 22, base 26:23, base invalid 27, reg2 31:28. Only defined bits are compared.
 */
static u64 vmx_mem[8] __attribute__((aligned(16)));
GUEST(g_vmclear, "lea vmx_mem(%rip), %rbx\n vmclear (%rbx)");
GUEST(g_vmptrld, "xor %eax, %eax\n vmptrld 0x10(%rax)");
GUEST(g_vmptrst, "vmptrst 8(%rsp)");
GUEST(g_vmxon, "lea vmx_mem(%rip), %rbx\n mov $1, %ecx\n vmxon (%rbx,%rcx,8)");
GUEST(g_vmread_reg, "mov $0x681e, %ecx\n vmread %rcx, %rdx");
GUEST(g_vmwrite_mem, "lea vmx_mem(%rip), %rsi\n mov $0x681e, %edi\n vmwrite 0x20(%rsi), %rdi");
GUEST(g_vmlaunch, "vmlaunch");
GUEST(g_vmresume, "vmresume");
GUEST(g_vmxoff, "vmxoff");
GUEST(g_invept, "lea vmx_mem(%rip), %rax\n mov $2, %ecx\n invept (%rax), %rcx");
GUEST(g_invvpid, "lea vmx_mem(%rip), %rdx\n sub $0x40, %rdx\n mov $2, %ebx\n invvpid 0x40(%rdx), %rbx");

#define II_ADDR64 (2u << 7)
#define II_SEG(s) ((u32)(s) << 15)
#define II_NOINDEX (1u << 22)
#define II_BASE(r) ((u32)(r) << 23)
#define II_REG1(r) ((u32)(r) << 3)
#define II_REG2(r) ((u32)(r) << 28)
#define II_REGOP (1u << 10)
#define M_MEM ((7u << 7) | (7u << 15) | (1u << 22) | (0xfu << 23) | (1u << 27))
#define M_MEM_INDEXED (M_MEM | 3u | (0xfu << 18))

struct instr_case {
  const char *name; void (*g)(void); int reason; u64 len; u32 mask, info; int has_qual; u64 qual;
};
static const struct instr_case vmx_instrs[] = {
  { "VMCLEAR (%rbx)", g_vmclear, VT_EXIT_VMCLEAR, 4, M_MEM, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(3), 1, 0 },
  { "VMPTRLD 0x10(%rax)", g_vmptrld, VT_EXIT_VMPTRLD, 4, M_MEM, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(0), 1, 0x10 },
  { "VMPTRST 8(%rsp) (SS)", g_vmptrst, VT_EXIT_VMPTRST, 5, M_MEM, II_ADDR64 | II_SEG(2) | II_NOINDEX | II_BASE(4), 1, 8 },
  { "VMXON (%rbx,%rcx,8)", g_vmxon, VT_EXIT_VMXON, 5, M_MEM_INDEXED, 3u | II_ADDR64 | II_SEG(3) | (1u << 18) | II_BASE(3), 1, 0 },
  { "VMREAD %rcx, %rdx (register)", g_vmread_reg, VT_EXIT_VMREAD, 3, (0xfu << 3) | II_REGOP | (0xfu << 28), II_REG1(2) | II_REGOP | II_REG2(1), 0, 0 },
  { "VMWRITE 0x20(%rsi), %rdi", g_vmwrite_mem, VT_EXIT_VMWRITE, 4, M_MEM | II_REGOP | (0xfu << 28),
    II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(6) | II_REG2(7), 1, 0x20 },
  { "VMLAUNCH", g_vmlaunch, VT_EXIT_VMLAUNCH, 3, 0, 0, 0, 0 },
  { "VMRESUME", g_vmresume, VT_EXIT_VMRESUME, 3, 0, 0, 0, 0 },
  { "VMXOFF", g_vmxoff, VT_EXIT_VMXOFF, 3, 0, 0, 0, 0 },
  { "INVEPT (%rax), %rcx", g_invept, VT_EXIT_INVEPT, 5, M_MEM | (0xfu << 28), II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(0) | II_REG2(1), 1, 0 },
  { "INVVPID 0x40(%rdx), %rbx", g_invvpid, VT_EXIT_INVVPID, 6, M_MEM | (0xfu << 28), II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(2) | II_REG2(3), 1, 0x40 },
};

static void run_instr_case(const struct instr_case *c) {
  printf("  (%s)\n", c->name);
  int r = vt_run();
  report_eq("exit reason", r, c->reason);
  report_eq("instruction length", vmread(EXIT_INSTRUCTION_LEN), c->len);
  if (c->mask) report_eq("instruction information (defined bits)", vmread(VT_EXIT_INSTRUCTION_INFO) & c->mask, c->info);
  if (c->has_qual) report_eq("qualification = displacement", vmread(EXIT_QUALIFICATION), c->qual);
  vt_skip();
  report_eq("L2 continues after vt_skip", vt_run(), VT_EXIT_VMCALL);
}

static void test_vmx_instructions(void) {
  for (unsigned i = 0; i < sizeof vmx_instrs / sizeof vmx_instrs[0]; i++) {
    vt_baseline(vmx_instrs[i].g);
    run_instr_case(&vmx_instrs[i]);
  }
}

/*
 * Control-register accesses (§25.1.3, §25.3; qualification Table 27-3: 3:0 CR number,
 * 5:4 access type 0 MOV to CR / 1 MOV from CR / 2 CLTS / 3 LMSW, 6 LMSW operand type
 * (1 = memory), 11:8 the general register, 31:16 LMSW source data).
 */
#define CR0_TS 8u
#define CR0_MP 2u
#define CR4_TSD 4u
GUEST(g_cr0_set_ts, "mov %cr0, %rbx\n or $8, %rbx\n mov %rbx, %cr0");
GUEST(g_cr0_read, "mov %cr0, %rax\n mov %rax, out(%rip)\n mov %cr4, %rax\n mov %rax, out+8(%rip)");
GUEST(g_cr0_same, "mov %cr0, %rbx\n mov %rbx, %cr0");
GUEST(g_clts, "clts");
GUEST(g_lmsw_reg, "mov %cr0, %rax\n or $2, %eax\n lmsw %ax");
GUEST(g_lmsw_mem, "lea vmx_mem(%rip), %rbx\n mov %cr0, %rax\n or $2, %eax\n mov %ax, (%rbx)\n lmsw (%rbx)");
GUEST(g_cr4_set_tsd, "mov %cr4, %rcx\n or $4, %rcx\n mov %rcx, %cr4");
GUEST(g_cr3_load, "mov %cr3, %rax\n mov %rax, %cr3");
GUEST(g_cr3_store, "mov %cr3, %rdx\n mov %rdx, out(%rip)");
GUEST(g_cr8_load, "mov %cr8, %rsi\n mov %rsi, %cr8");
GUEST(g_cr8_store, "mov %cr8, %rdi\n mov %rdi, out(%rip)");

static void cr_exit(const char *name, u64 qual, u64 len) {
  printf("  (%s)\n", name);
  report_eq("exit reason 28", vt_run(), VT_EXIT_CR);
  report_eq("qualification", vmread(EXIT_QUALIFICATION), qual);
  report_eq("instruction length", vmread(EXIT_INSTRUCTION_LEN), len);
}

static void test_cr(void) {
  u64 cr0 = read_cr0() & ~(u64)CR0_TS, cr4 = read_cr4();

  vt_baseline(g_cr0_set_ts);
  vt_write(GUEST_CR0, cr0);
  vt_write(CR0_GUEST_HOST_MASK, CR0_TS);
  vt_write(CR0_READ_SHADOW, cr0 & CR0_TS);
  cr_exit("MOV %rbx -> CR0 changing an owned bit (TS)", 0x300, 3);
  vt_skip();
  report_eq("CR0 write: L2 continues", vt_run(), VT_EXIT_VMCALL);
  report_eq("CR0 write: the real CR0 unchanged (L1 did not emulate)", vmread(GUEST_CR0) & CR0_TS, 0);

  clear_out();
  vt_baseline(g_cr0_read);
  vt_write(GUEST_CR0, cr0);
  vt_write(GUEST_CR4, cr4 & ~(u64)CR4_TSD);
  vt_write(CR0_GUEST_HOST_MASK, CR0_TS);
  vt_write(CR0_READ_SHADOW, CR0_TS);
  vt_write(CR4_GUEST_HOST_MASK, CR4_TSD);
  vt_write(CR4_READ_SHADOW, CR4_TSD);
  report_eq("CR0/CR4 reads never exit (§25.1.3)", vt_run(), VT_EXIT_VMCALL);
  report_eq("CR0 read: owned bit from the read shadow, others from CR0 (§25.3)", out[0], cr0 | CR0_TS);
  report_eq("CR4 read: owned bit from the read shadow", out[1], (cr4 & ~(u64)CR4_TSD) | CR4_TSD);

  vt_baseline(g_cr0_same);
  vt_write(GUEST_CR0, cr0);
  vt_write(CR0_GUEST_HOST_MASK, CR0_TS);
  vt_write(CR0_READ_SHADOW, 0);
  report_eq("CR0 write equal to the shadow in owned bits: no exit", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_clts);
  vt_write(GUEST_CR0, cr0);
  vt_write(CR0_GUEST_HOST_MASK, CR0_TS);
  vt_write(CR0_READ_SHADOW, CR0_TS);
  cr_exit("CLTS with TS owned and shadow TS = 1", 0x20, 2);
  vt_skip();
  report_eq("CLTS: L2 continues", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_clts);
  vt_write(GUEST_CR0, cr0 | CR0_TS);
  vt_write(CR0_GUEST_HOST_MASK, CR0_TS);
  vt_write(CR0_READ_SHADOW, 0);
  /* §25.3: mask TS = 1, shadow TS = 0: CLTS completes without changing CR0.TS */
  report_eq("CLTS with TS owned, shadow TS = 0: no exit", vt_run(), VT_EXIT_VMCALL);
  report_eq("CLTS with TS owned, shadow TS = 0: the real CR0.TS unchanged", vmread(GUEST_CR0) & CR0_TS, CR0_TS);

  vt_baseline(g_clts);
  vt_write(GUEST_CR0, cr0 | CR0_TS);
  report_eq("CLTS with TS guest-owned: no exit", vt_run(), VT_EXIT_VMCALL);
  report_eq("CLTS with TS guest-owned: clears the real CR0.TS", vmread(GUEST_CR0) & CR0_TS, 0);

  vt_baseline(g_lmsw_reg);
  vt_write(GUEST_CR0, cr0 & ~(u64)CR0_MP);
  vt_write(CR0_GUEST_HOST_MASK, CR0_MP);
  vt_write(CR0_READ_SHADOW, 0);
  {
    int r = vt_run();
    u64 q = vmread(EXIT_QUALIFICATION);
    printf("  (LMSW %%ax setting an owned bit, MP)\n");
    report_eq("LMSW: exit reason 28", r, VT_EXIT_CR);
    report_eq("LMSW: access type 3, register operand, CR 0", q & 0x7f, 0x30);
    report_eq("LMSW: source data in bits 31:16", (q >> 16) & 0xffff, vt_regs.rax & 0xffff);
    report_eq("LMSW: instruction length 3", vmread(EXIT_INSTRUCTION_LEN), 3);
  }

  vt_baseline(g_lmsw_mem);
  vt_write(GUEST_CR0, cr0 & ~(u64)CR0_MP);
  vt_write(CR0_GUEST_HOST_MASK, CR0_MP);
  vt_write(CR0_READ_SHADOW, 0);
  {
    int r = vt_run();
    u64 q = vmread(EXIT_QUALIFICATION);
    printf("  (LMSW (%%rbx): memory operand)\n");
    report_eq("LMSW mem: exit reason 28", r, VT_EXIT_CR);
    report_eq("LMSW mem: access type 3, memory operand (bit 6)", q & 0x7f, 0x70);
    report_eq("LMSW mem: source data", (q >> 16) & 0xffff, vt_regs.rax & 0xffff);
    report_eq("LMSW mem: guest-linear address of the operand (§27.2.1)", vmread(GUEST_LINEAR_ADDRESS), (u64)vmx_mem);
  }

  vt_baseline(g_cr4_set_tsd);
  vt_write(GUEST_CR4, cr4 & ~(u64)CR4_TSD);
  vt_write(CR4_GUEST_HOST_MASK, CR4_TSD);
  vt_write(CR4_READ_SHADOW, 0);
  cr_exit("MOV %rcx -> CR4 changing an owned bit (TSD)", 0x104, 3);
  vt_skip();
  report_eq("CR4 write: L2 continues", vt_run(), VT_EXIT_VMCALL);

  /* CR3-load exiting and the CR3-target values (§25.1.3: no exit for a target value) */
  vt_baseline(g_cr3_load);
  if (vt_ctl_on(VT_PROC, VT_PROC_CR3_LOAD)) {
    cr_exit("MOV %rax -> CR3 with CR3-load exiting", 0x3, 3);
    vt_skip();
    report_eq("CR3 load: L2 continues", vt_run(), VT_EXIT_VMCALL);
    u32 targets = (u32)(rdmsr(VT_MSR_VMX_MISC) >> 16) & 0x1ff;
    if (targets >= 2) {
      vt_baseline(g_cr3_load);
      vt_ctl_on(VT_PROC, VT_PROC_CR3_LOAD);
      vt_write(CR3_TARGET_COUNT, 2);
      vt_write(VT_CR3_TARGET0, 0x5000);
      vt_write(VT_CR3_TARGET0 + 2, read_cr3());
      report_eq("CR3 load of CR3-target value 1: no exit", vt_run(), VT_EXIT_VMCALL);
      vt_baseline(g_cr3_load);
      vt_ctl_on(VT_PROC, VT_PROC_CR3_LOAD);
      vt_write(CR3_TARGET_COUNT, 1);
      vt_write(VT_CR3_TARGET0 + 2, read_cr3()); /* beyond the count: does not count */
      report_eq("CR3 load of a target beyond CR3-target count: exits", vt_run(), VT_EXIT_CR);
    } else report_skip("CR3-target values (IA32_VMX_MISC[24:16] < 2)");
  } else report_skip("CR3-load exiting");

  clear_out();
  vt_baseline(g_cr3_store);
  if (vt_ctl_on(VT_PROC, VT_PROC_CR3_STORE)) {
    cr_exit("MOV CR3 -> %rdx with CR3-store exiting", 0x213, 3);
    vt_regs.rdx = 0xabc000;
    vt_skip();
    report_eq("CR3 store: L2 continues", vt_run(), VT_EXIT_VMCALL);
    report_eq("CR3 store: L2 got L1's value", out[0], 0xabc000);
  } else report_skip("CR3-store exiting");

  vt_baseline(g_cr8_load);
  if (vt_ctl_on(VT_PROC, VT_PROC_CR8_LOAD)) {
    cr_exit("MOV %rsi -> CR8 with CR8-load exiting", 0x608, 4);
    vt_skip();
    report_eq("CR8 load: L2 continues", vt_run(), VT_EXIT_VMCALL);
  } else report_skip("CR8-load exiting");

  clear_out();
  vt_baseline(g_cr8_store);
  if (vt_ctl_on(VT_PROC, VT_PROC_CR8_STORE)) {
    cr_exit("MOV CR8 -> %rdi with CR8-store exiting", 0x718, 4);
    vt_regs.rdi = 9;
    vt_skip();
    report_eq("CR8 store: L2 continues", vt_run(), VT_EXIT_VMCALL);
    report_eq("CR8 store: L2 got L1's value", out[0], 9);
  } else report_skip("CR8-store exiting");
}

/* MOV DR (§25.1.3; qualification Table 27-4: 2:0 DR, 4 direction 1 = from DR, 11:8 GPR) */
GUEST(g_dr_write, "mov $0x1000, %ecx\n mov %rcx, %dr0");
GUEST(g_dr_read, "mov %dr6, %rsi\n mov %rsi, out(%rip)");
static void test_dr(void) {
  vt_baseline(g_dr_write);
  if (!vt_ctl_on(VT_PROC, VT_PROC_MOV_DR)) { report_skip("MOV-DR exiting"); return; }
  report_eq("MOV %rcx -> DR0: exit reason 29", vt_run(), VT_EXIT_DR);
  report_eq("MOV -> DR0: qualification 0x100", vmread(EXIT_QUALIFICATION), 0x100);
  report_eq("MOV -> DR0: instruction length 3", vmread(EXIT_INSTRUCTION_LEN), 3);
  vt_skip();
  report_eq("MOV -> DR0: L2 continues", vt_run(), VT_EXIT_VMCALL);
  clear_out();
  vt_baseline(g_dr_read);
  vt_ctl_on(VT_PROC, VT_PROC_MOV_DR);
  report_eq("MOV DR6 -> %rsi: exit reason 29", vt_run(), VT_EXIT_DR);
  report_eq("MOV DR6 ->: qualification 0x616", vmread(EXIT_QUALIFICATION), 0x616);
  vt_regs.rsi = 0xffff4ff0;
  vt_skip();
  report_eq("MOV DR6 ->: L2 continues", vt_run(), VT_EXIT_VMCALL);
  report_eq("MOV DR6 ->: L2 got L1's value", out[0], 0xffff4ff0);
}

/*
 * I/O instructions (§25.1.3; qualification Table 27-5: 2:0 size - 1, 3 direction (1 = IN),
 * 4 string, 5 REP, 6 operand encoding (1 = immediate), 31:16 port). INS/OUTS also save
 * the guest-linear address (§27.2.1) and, with IA32_VMX_BASIC[54], the instruction
 * information of Table 27-8 (address size 9:7, segment 17:15).
 */
static u8 io_buf[16];
GUEST(g_io_out_imm, "mov $0x5a, %al\n outb %al, $0x80");
GUEST(g_io_inw, "mov $0x1234, %dx\n inw %dx, %ax\n mov %rax, out(%rip)");
GUEST(g_io_rep_outsb, "lea io_buf(%rip), %rsi\n mov $3, %ecx\n mov $0x3456, %dx\n rep outsb");
GUEST(g_io_insb, "lea io_buf(%rip), %rdi\n mov $0x71, %dx\n insb");
GUEST(g_io_bitmaps, "outb %al, $0x81\n io_b1: outb %al, $0x80\n io_b1_after: mov $0x8001, %dx\n io_b2: outb %al, %dx\n"
                    "mov $0x7f, %dx\n io_b3: outw %ax, %dx\n io_b3_after: mov $0x8002, %dx\n outb %al, %dx");
LABEL(io_b1); LABEL(io_b2); LABEL(io_b3);
static u8 io_bitmap_a[4096] __attribute__((aligned(4096)));
static u8 io_bitmap_b[4096] __attribute__((aligned(4096)));

static void test_io(void) {
  vt_baseline(g_io_out_imm);
  if (!vt_ctl_on(VT_PROC, VT_PROC_UNCOND_IO)) { report_skip("unconditional I/O exiting"); return; }
  report_eq("OUT imm8: exit reason 30", vt_run(), VT_EXIT_IO);
  report_eq("OUT imm8: qualification 0x800040 (byte, out, immediate, port 0x80)", vmread(EXIT_QUALIFICATION), 0x800040);
  report_eq("OUT imm8: instruction length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
  report_eq("OUT imm8: AL in RAX", vt_regs.rax & 0xff, 0x5a);
  vt_skip();
  report_eq("OUT: L2 continues", vt_run(), VT_EXIT_VMCALL);

  clear_out();
  vt_baseline(g_io_inw);
  vt_ctl_on(VT_PROC, VT_PROC_UNCOND_IO);
  report_eq("IN DX word: exit reason 30", vt_run(), VT_EXIT_IO);
  report_eq("IN DX word: qualification 0x12340009 (word, in, DX, port 0x1234)", vmread(EXIT_QUALIFICATION), 0x12340009);
  report_eq("IN DX word: instruction length 2 (66 ED)", vmread(EXIT_INSTRUCTION_LEN), 2);
  vt_regs.rax = (vt_regs.rax & ~0xffffull) | 0xbeef;
  vt_skip();
  report_eq("IN: L2 continues", vt_run(), VT_EXIT_VMCALL);
  report_eq("IN: L2 got L1's data", out[0] & 0xffff, 0xbeef);

  int ins_info = (rdmsr(MSR_VMX_BASIC) >> 54) & 1;
  vt_baseline(g_io_rep_outsb);
  vt_ctl_on(VT_PROC, VT_PROC_UNCOND_IO);
  report_eq("REP OUTSB: exit reason 30", vt_run(), VT_EXIT_IO);
  report_eq("REP OUTSB: qualification 0x34560030 (byte, out, string, REP, port 0x3456)", vmread(EXIT_QUALIFICATION), 0x34560030);
  report_eq("REP OUTSB: instruction length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
  report_eq("REP OUTSB: guest-linear address = DS:RSI", vmread(GUEST_LINEAR_ADDRESS), (u64)io_buf);
  report_eq("REP OUTSB: RCX (count) in the saved registers", vt_regs.rcx, 3);
  if (ins_info) report_eq("REP OUTSB: instruction info: 64-bit address, DS", vmread(VT_EXIT_INSTRUCTION_INFO) & ((7u << 7) | (7u << 15)), (2u << 7) | (3u << 15));
  else report_skip("INS/OUTS instruction information (IA32_VMX_BASIC[54])");
  vt_skip();
  report_eq("REP OUTSB: L2 continues", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_io_insb);
  vt_ctl_on(VT_PROC, VT_PROC_UNCOND_IO);
  report_eq("INSB: exit reason 30", vt_run(), VT_EXIT_IO);
  report_eq("INSB: qualification 0x710018 (byte, in, string, port 0x71)", vmread(EXIT_QUALIFICATION), 0x710018);
  report_eq("INSB: instruction length 1", vmread(EXIT_INSTRUCTION_LEN), 1);
  report_eq("INSB: guest-linear address = ES:RDI", vmread(GUEST_LINEAR_ADDRESS), (u64)io_buf);
  if (ins_info) report_eq("INSB: instruction info: 64-bit address, ES", vmread(VT_EXIT_INSTRUCTION_INFO) & ((7u << 7) | (7u << 15)), 2u << 7);
  vt_skip();
  report_eq("INSB: L2 continues", vt_run(), VT_EXIT_VMCALL);

  /* I/O bitmaps (§24.6.4, §25.1.3): A covers 0-0x7fff, B 0x8000-0xffff; they override
   * unconditional I/O exiting; an access exits if the bit of any port it touches is 1. */
  vt_baseline(g_io_bitmaps);
  if (!vt_ctl_on(VT_PROC, VT_PROC_IO_BITMAPS)) { report_skip("use I/O bitmaps"); return; }
  vt_ctl_on(VT_PROC, VT_PROC_UNCOND_IO);
  memset(io_bitmap_a, 0, sizeof io_bitmap_a);
  memset(io_bitmap_b, 0, sizeof io_bitmap_b);
  io_bitmap_a[0x80 / 8] |= 1u << (0x80 % 8);
  io_bitmap_b[1 / 8] |= 1u << 1; /* port 0x8001 */
  vt_write(VT_IO_BITMAP_A, (u64)io_bitmap_a);
  vt_write(VT_IO_BITMAP_B, (u64)io_bitmap_b);
  report_eq("I/O bitmap A: port 0x81 (bit 0) passes, port 0x80 (bit 1) exits", vt_run(), VT_EXIT_IO);
  report_eq("I/O bitmap A: at the OUT to 0x80", vmread(GUEST_RIP), (u64)io_b1);
  vt_skip();
  report_eq("I/O bitmap B: port 0x8001 exits", vt_run(), VT_EXIT_IO);
  report_eq("I/O bitmap B: at the OUT to 0x8001", vmread(GUEST_RIP), (u64)io_b2);
  report_eq("I/O bitmap B: qualification 0x80010000 (byte, out, DX)", vmread(EXIT_QUALIFICATION), 0x80010000);
  vt_skip();
  report_eq("I/O bitmap: a word OUT to 0x7f touches 0x80: exits", vt_run(), VT_EXIT_IO);
  report_eq("I/O bitmap: at the word OUT", vmread(GUEST_RIP), (u64)io_b3);
  report_eq("I/O bitmap: qualification 0x7f0001 (word, out, DX)", vmread(EXIT_QUALIFICATION), 0x7f0001);
  vt_skip();
  report_eq("I/O bitmap: port 0x8002 (bit 0) passes, L2 reaches its VMCALL", vt_run(), VT_EXIT_VMCALL);
}

/*
 * RDMSR/WRMSR (§25.1.3): without MSR bitmaps every RDMSR/WRMSR exits; with them (§24.6.9)
 * read-low at 0, read-high (0xc0000000-0xc0001fff) at 1024, write-low at 2048, write-high
 * at 3072; an MSR outside both ranges always exits.
 */
static u8 msr_bitmap[4096] __attribute__((aligned(4096)));
GUEST(g_msr_plain, "mov $0x174, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, out(%rip)\n"
                   "mov $0x174, %ecx\n mov $0x10, %eax\n xor %edx, %edx\n wrmsr");
GUEST(g_msr_bitmap, "mov $0x174, %ecx\n msr_b1: rdmsr\n"
                    "mov $0x174, %ecx\n xor %eax, %eax\n xor %edx, %edx\n wrmsr\n"
                    "mov $0xc0000102, %ecx\n rdmsr\n msr_b2: wrmsr\n"
                    "mov $0x40000000, %ecx\n msr_b3: rdmsr\n"
                    "mov $0x175, %ecx\n xor %eax, %eax\n xor %edx, %edx\n msr_b4: wrmsr\n"
                    "mov $0xc0000101, %ecx\n msr_b5: rdmsr");
LABEL(msr_b1); LABEL(msr_b2); LABEL(msr_b3); LABEL(msr_b4); LABEL(msr_b5);
static void test_msr(void) {
  clear_out();
  vt_baseline(g_msr_plain);
  report_eq("RDMSR without MSR bitmaps: exit reason 31", vt_run(), VT_EXIT_RDMSR);
  report_eq("RDMSR: ECX", vt_regs.rcx & 0xffffffff, 0x174);
  report_eq("RDMSR: instruction length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
  vt_regs.rax = 0x11; vt_regs.rdx = 0x22;
  vt_skip();
  report_eq("WRMSR without MSR bitmaps: exit reason 32", vt_run(), VT_EXIT_WRMSR);
  report_eq("RDMSR: L2 got L1's EDX:EAX", out[0], 0x2200000011ull);
  report("WRMSR: ECX, EAX, EDX", (u32)vt_regs.rcx == 0x174 && (u32)vt_regs.rax == 0x10 && (u32)vt_regs.rdx == 0);
  report_eq("WRMSR: instruction length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
  vt_skip();
  report_eq("WRMSR: L2 continues", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_msr_bitmap);
  if (!vt_ctl_on(VT_PROC, VT_PROC_MSR_BITMAPS)) { report_skip("use MSR bitmaps"); return; }
  memset(msr_bitmap, 0, sizeof msr_bitmap);
  msr_bitmap[0x174 / 8] |= 1u << (0x174 % 8);                 /* read-low */
  msr_bitmap[3072 + 0x102 / 8] |= 1u << (0x102 % 8);          /* write-high */
  msr_bitmap[2048 + 0x175 / 8] |= 1u << (0x175 % 8);          /* write-low */
  msr_bitmap[1024 + 0x101 / 8] |= 1u << (0x101 % 8);          /* read-high */
  vt_write(VT_MSR_BITMAP, (u64)msr_bitmap);
  report_eq("MSR bitmap read-low bit: RDMSR 0x174 exits", vt_run(), VT_EXIT_RDMSR);
  report_eq("MSR bitmap: at the RDMSR", vmread(GUEST_RIP), (u64)msr_b1);
  vt_skip();
  report_eq("MSR bitmap: WRMSR 0x174 (write-low clear) and RDMSR 0xc0000102 (read-high clear) pass; WRMSR 0xc0000102 exits",
            vt_run(), VT_EXIT_WRMSR);
  report_eq("MSR bitmap write-high: at the WRMSR", vmread(GUEST_RIP), (u64)msr_b2);
  vt_skip();
  report_eq("MSR bitmap: MSR 0x40000000 outside both ranges exits", vt_run(), VT_EXIT_RDMSR);
  report_eq("MSR outside ranges: at the RDMSR", vmread(GUEST_RIP), (u64)msr_b3);
  vt_skip();
  report_eq("MSR bitmap write-low bit: WRMSR 0x175 exits", vt_run(), VT_EXIT_WRMSR);
  report_eq("MSR bitmap write-low: at the WRMSR", vmread(GUEST_RIP), (u64)msr_b4);
  vt_skip();
  report_eq("MSR bitmap read-high bit: RDMSR 0xc0000101 exits", vt_run(), VT_EXIT_RDMSR);
  report_eq("MSR bitmap read-high: at the RDMSR", vmread(GUEST_RIP), (u64)msr_b5);
  vt_skip();
  report_eq("MSR bitmap: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/* MONITOR (39), MWAIT (36), PAUSE (40), WBINVD (54), XSETBV (55) */
GUEST(g_monitor, "lea vmx_mem(%rip), %rax\n xor %ecx, %ecx\n xor %edx, %edx\n monitor");
GUEST(g_mwait, "xor %eax, %eax\n xor %ecx, %ecx\n mwait");
/*
 * MONITOR runs in L2 (no MONITOR exiting) and arms the line of mon_line; MWAIT's exit
 * qualification bit 0 says whether it is still armed (SDM Vol. 3C §28.2.1): a store to the
 * line after MONITOR disarms it, and MWAIT without exiting then returns at once (Vol. 2B MWAIT).
 */
u64 mon_line[8] __attribute__((aligned(64)));
GUEST(g_mon_mwait, "lea mon_line(%rip), %rax\n xor %ecx, %ecx\n xor %edx, %edx\n monitor\n"
                   "xor %eax, %eax\n mon_mwait1: mwait");
GUEST(g_mon_store_mwait, "lea mon_line(%rip), %rax\n xor %ecx, %ecx\n xor %edx, %edx\n monitor\n"
                         "movq $1, 8(%rax)\n xor %eax, %eax\n mon_mwait2: mwait\n movq $2, out(%rip)");
LABEL(mon_mwait1); LABEL(mon_mwait2);

static void test_monitor_mwait(void) {
  instr_exit("MONITOR exiting: reason 39, length 3", g_monitor, VT_PROC, VT_PROC_MONITOR, VT_EXIT_MONITOR, 3);
  instr_exit("MWAIT exiting: reason 36, length 3", g_mwait, VT_PROC, VT_PROC_MWAIT, VT_EXIT_MWAIT, 3);
  vt_baseline(g_mon_mwait);
  if (!vt_ctl_on(VT_PROC, VT_PROC_MWAIT)) { report_skip("MWAIT exiting (armed monitor)"); return; }
  report_eq("MWAIT after L2's MONITOR: exit reason 36", vt_run(), VT_EXIT_MWAIT);
  report_eq("MWAIT after MONITOR: qualification bit 0 = 1 (monitor armed)", vmread(EXIT_QUALIFICATION) & 1, 1);
  report_eq("MWAIT after MONITOR: guest RIP at the MWAIT", vmread(GUEST_RIP), (u64)mon_mwait1);
  vt_skip();
  report_eq("MWAIT after MONITOR: L2 continues", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_mon_store_mwait);
  vt_ctl_on(VT_PROC, VT_PROC_MWAIT);
  report_eq("MWAIT after a store to the monitored line: exit reason 36", vt_run(), VT_EXIT_MWAIT);
  report_eq("MWAIT after a store: qualification bit 0 = 0 (the store disarmed it)", vmread(EXIT_QUALIFICATION) & 1, 0);
  report_eq("MWAIT after a store: guest RIP at the MWAIT", vmread(GUEST_RIP), (u64)mon_mwait2);
  vt_skip();
  report_eq("MWAIT after a store: L2 continues", vt_run(), VT_EXIT_VMCALL);

  clear_out();
  vt_baseline(g_mon_store_mwait); /* no MWAIT exiting: the disarmed MWAIT does not wait */
  report_eq("MWAIT in L2 with the line written since MONITOR: returns at once, L2 runs on", vt_run(), VT_EXIT_VMCALL);
  report_eq("MWAIT in L2 returned: L2 ran the next instruction", out[0], 2);
}
GUEST(g_pause, "pause");
GUEST(g_wbinvd, "wbinvd");
GUEST(g_xsetbv, "xor %ecx, %ecx\n mov $1, %eax\n xor %edx, %edx\n xsetbv");

static void test_misc_instructions(void) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (c & (1u << 3)) test_monitor_mwait();
  else report_skip("MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0)");
  instr_exit("PAUSE exiting: reason 40, length 2", g_pause, VT_PROC, VT_PROC_PAUSE, VT_EXIT_PAUSE, 2);
  instr_exit("WBINVD exiting: reason 54, length 2", g_wbinvd, VT_PROC2, VT_PROC2_WBINVD, VT_EXIT_WBINVD, 2);

  /* XSETBV always exits (§25.1.2); CR4.OSXSAVE = 1 first, else #UD has priority */
  if ((c & (1u << 26)) && (rdmsr(MSR_VMX_CR4_FIXED1) & (1u << 18))) {
    vt_baseline(g_xsetbv);
    vt_write(GUEST_CR4, read_cr4() | (1u << 18));
    report_eq("XSETBV: exit reason 55", vt_run(), VT_EXIT_XSETBV);
    report_eq("XSETBV: instruction length 3", vmread(EXIT_INSTRUCTION_LEN), 3);
    report("XSETBV: ECX = 0, EDX:EAX = 1 in the saved registers", (u32)vt_regs.rcx == 0 && (u32)vt_regs.rax == 1 && (u32)vt_regs.rdx == 0);
    vt_skip();
    report_eq("XSETBV: L2 continues", vt_run(), VT_EXIT_VMCALL);
  } else report_skip("XSETBV (CPUID.1:ECX.XSAVE = 0)");
}

/*
 * TPR below threshold (§25.6.7 / §29.1.2 with "use TPR shadow"): a MOV to CR8 that lowers
 * VTPR[7:4] below TPR threshold[3:0] exits (trap-like, reason 43) after the instruction.
 */
static u8 virtual_apic[4096] __attribute__((aligned(4096)));
GUEST(g_tpr, "mov %cr8, %rax\n mov %rax, out(%rip)\n mov $2, %eax\n mov %rax, %cr8\n tpr_after: nop");
LABEL(tpr_after);
static void test_tpr(void) {
  clear_out();
  vt_baseline(g_tpr);
  if (!vt_ctl_on(VT_PROC, VT_PROC_TPR_SHADOW)) { report_skip("use TPR shadow (TPR below threshold)"); return; }
  memset(virtual_apic, 0, sizeof virtual_apic);
  virtual_apic[0x80] = 0x50;
  vt_write(VT_VIRTUAL_APIC_PAGE, (u64)virtual_apic);
  vt_write(VT_TPR_THRESHOLD, 3);
  report_eq("TPR below threshold: exit reason 43", vt_run(), VT_EXIT_TPR_BELOW);
  report_eq("TPR below threshold: after the MOV to CR8 (trap-like)", vmread(GUEST_RIP), (u64)tpr_after);
  report_eq("TPR shadow: MOV from CR8 read VTPR[7:4]", out[0], 5);
  report_eq("TPR shadow: MOV to CR8 wrote VTPR = 0x20", virtual_apic[0x80], 0x20);
  vt_write(VT_TPR_THRESHOLD, 0);
  report_eq("TPR: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/*
 * Descriptor-table exiting (§25.1.3; reason 46 for LGDT/LIDT/SGDT/SIDT with the instruction
 * information of Table 27-10, reason 47 for LLDT/LTR/SLDT/STR with Table 27-11; identity
 * in bits 29:28; qualification = displacement).
 */
static u8 dt_buf[32] __attribute__((used));
GUEST(g_dt, "lea dt_buf(%rip), %rbx\n lea dt_buf(%rip), %rsi\n"
            "sgdt 8(%rbx)\n sidt (%rbx)\n lgdt (%rbx)\n lidt (%rbx)\n"
            "sldt %eax\n str %ecx\n lldt %dx\n ltr 0x10(%rsi)");
struct dt_case { const char *name; int reason; u64 len; u32 mask, info; u64 qual; };
#define M_DT_MEM (M_MEM | (3u << 28))
#define M_DT_REG ((0xfu << 3) | II_REGOP | (3u << 28))
static const struct dt_case dt_cases[] = {
  { "SGDT 8(%rbx)", VT_EXIT_GDTR_IDTR, 4, M_DT_MEM, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(3) | (0u << 28), 8 },
  { "SIDT (%rbx)", VT_EXIT_GDTR_IDTR, 3, M_DT_MEM, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(3) | (1u << 28), 0 },
  { "LGDT (%rbx)", VT_EXIT_GDTR_IDTR, 3, M_DT_MEM, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(3) | (2u << 28), 0 },
  { "LIDT (%rbx)", VT_EXIT_GDTR_IDTR, 3, M_DT_MEM, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(3) | (3u << 28), 0 },
  { "SLDT %eax", VT_EXIT_LDTR_TR, 3, M_DT_REG, II_REG1(0) | II_REGOP | (0u << 28), 0 },
  { "STR %ecx", VT_EXIT_LDTR_TR, 3, M_DT_REG, II_REG1(1) | II_REGOP | (1u << 28), 0 },
  { "LLDT %dx", VT_EXIT_LDTR_TR, 3, M_DT_REG, II_REG1(2) | II_REGOP | (2u << 28), 0 },
  { "LTR 0x10(%rsi)", VT_EXIT_LDTR_TR, 4, M_DT_MEM | II_REGOP, II_ADDR64 | II_SEG(3) | II_NOINDEX | II_BASE(6) | (3u << 28), 0x10 },
};
static void test_desc_tables(void) {
  vt_baseline(g_dt);
  if (!vt_ctl_on(VT_PROC2, VT_PROC2_DESC_TABLE)) { report_skip("descriptor-table exiting"); return; }
  for (unsigned i = 0; i < sizeof dt_cases / sizeof dt_cases[0]; i++) {
    const struct dt_case *c = &dt_cases[i];
    printf("  (%s)\n", c->name);
    report_eq("exit reason", vt_run(), c->reason);
    report_eq("instruction length", vmread(EXIT_INSTRUCTION_LEN), c->len);
    report_eq("instruction information (defined bits)", vmread(VT_EXIT_INSTRUCTION_INFO) & c->mask, c->info);
    if (c->mask & (1u << 27)) report_eq("qualification = displacement", vmread(EXIT_QUALIFICATION), c->qual);
    vt_skip();
  }
  report_eq("descriptor tables: L2 continues after the last one", vt_run(), VT_EXIT_VMCALL);
}

/*
 * EPT violations and misconfigurations (§29.3.3; qualification Table 27-7: bit 0 read,
 * 1 write, 2 fetch, 3-5 the R/W/X of the translation, 7 guest-linear address valid, 8 the
 * access was to the translation of that linear address; guest-physical address saved).
 */
static u8 ept_data[4096] __attribute__((aligned(4096)));
void ept_code(void);
__asm__(".text\n.balign 4096\n.globl ept_code\nept_code:\n mov $0x77, %eax\n ret\n.balign 4096\n");
GUEST(g_ept_write, "lea ept_data(%rip), %rax\n ept_w: movq $0x1234, (%rax)");
GUEST(g_ept_read, "lea ept_data(%rip), %rax\n ept_r: mov (%rax), %rbx");
GUEST(g_ept_exec, "call ept_code\n mov %rax, out(%rip)");
LABEL(ept_w); LABEL(ept_r);
#define EQ_MASK 0x1bfull
static void test_ept(void) {
  vt_baseline(g_ept_write);
  if (!vt_ept_identity(1)) { report_skip("enable EPT"); return; }
  memset(ept_data, 0, sizeof ept_data);
  u64 *pte = vt_ept_pte((u64)ept_data);
  *pte &= ~2ull; /* R-X */
  vt_invept();
  report_eq("EPT write to an R-X page: exit reason 48", vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq("EPT violation: qualification write, R-X, linear valid (0x1aa)", vmread(EXIT_QUALIFICATION) & EQ_MASK, 0x1aa);
  report_eq("EPT violation: guest-physical address", vmread(GUEST_PHYSICAL_ADDRESS), (u64)ept_data);
  report_eq("EPT violation: guest-linear address", vmread(GUEST_LINEAR_ADDRESS), (u64)ept_data);
  report_eq("EPT violation: guest RIP at the faulting instruction", vmread(GUEST_RIP), (u64)ept_w);
  *pte |= 2;
  vt_invept();
  report_eq("EPT violation fixed: L2 re-executes the write and continues", vt_run(), VT_EXIT_VMCALL);
  report_eq("EPT: the write landed", *(volatile u64 *)ept_data, 0x1234);

  vt_baseline(g_ept_read);
  vt_ept_identity(1);
  pte = vt_ept_pte((u64)ept_data);
  *pte &= ~7ull; /* not present */
  vt_invept();
  report_eq("EPT read of a not-present page: exit reason 48", vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq("EPT violation: qualification read, ---, linear valid (0x181)", vmread(EXIT_QUALIFICATION) & EQ_MASK, 0x181);
  report_eq("EPT violation: guest RIP at the read", vmread(GUEST_RIP), (u64)ept_r);

  /* W without R is a misconfiguration (§29.3.3.1) */
  *pte = (*pte & ~7ull) | 2;
  vt_invept();
  report_eq("EPT write-only entry: misconfiguration, exit reason 49", vt_run(), VT_EXIT_EPT_MISCONFIG);
  report_eq("EPT misconfiguration: guest-physical address", vmread(GUEST_PHYSICAL_ADDRESS), (u64)ept_data);
  /* memory type 2 is reserved (§29.3.3.1) */
  *pte = (*pte & ~0x3full) | 7 | (2ull << 3);
  vt_invept();
  report_eq("EPT reserved memory type 2: misconfiguration", vt_run(), VT_EXIT_EPT_MISCONFIG);
  *pte = (*pte & ~0x3full) | 7 | (6ull << 3);
  vt_invept();
  report_eq("EPT entry fixed: L2 continues", vt_run(), VT_EXIT_VMCALL);

  clear_out();
  vt_baseline(g_ept_exec);
  vt_ept_identity(1);
  pte = vt_ept_pte((u64)ept_code);
  *pte &= ~4ull; /* RW- */
  vt_invept();
  report_eq("EPT fetch from an RW- page: exit reason 48", vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq("EPT violation: qualification fetch, RW-, linear valid (0x19c)", vmread(EXIT_QUALIFICATION) & EQ_MASK, 0x19c);
  report_eq("EPT fetch violation: guest RIP = the code", vmread(GUEST_RIP), (u64)ept_code);
  *pte |= 4;
  vt_invept();
  report_eq("EPT fetch fixed: L2 continues", vt_run(), VT_EXIT_VMCALL);
  report_eq("EPT: the code ran", out[0] & 0xffffffff, 0x77);
}

/*
 * MSR-load area on VM entry (§26.4), MSR-store and MSR-load areas on VM exit (§27.4, §27.6):
 * 16-byte entries {index, reserved, data}. L2 reads and writes IA32_KERNEL_GS_BASE with
 * MSR bitmaps all clear (no exits).
 */
#define MSR_KGS 0xc0000102u
struct msr_entry { u32 index, reserved; u64 data; };
static struct msr_entry entry_load[1] __attribute__((aligned(16)));
static struct msr_entry exit_store[1] __attribute__((aligned(16)));
static struct msr_entry exit_load[1] __attribute__((aligned(16)));
GUEST(g_msr_areas, "mov $0xc0000102, %ecx\n rdmsr\n shl $32, %rdx\n or %rdx, %rax\n mov %rax, out(%rip)\n"
                   "mov $0xc0000102, %ecx\n mov $0x3333000, %eax\n xor %edx, %edx\n wrmsr");
static void test_msr_areas(void) {
  clear_out();
  vt_baseline(g_msr_areas);
  if (!vt_ctl_on(VT_PROC, VT_PROC_MSR_BITMAPS)) { report_skip("use MSR bitmaps (MSR areas test)"); return; }
  memset(msr_bitmap, 0, sizeof msr_bitmap);
  vt_write(VT_MSR_BITMAP, (u64)msr_bitmap);
  wrmsr(MSR_KGS, 0x1111000);
  entry_load[0] = (struct msr_entry){ MSR_KGS, 0, 0x2222000 };
  exit_store[0] = (struct msr_entry){ MSR_KGS, 0, 0 };
  exit_load[0] = (struct msr_entry){ MSR_KGS, 0, 0x4444000 };
  vt_write(VT_ENTRY_MSR_LOAD_ADDR, (u64)entry_load);
  vt_write(ENTRY_MSR_LOAD_COUNT, 1);
  vt_write(VT_EXIT_MSR_STORE_ADDR, (u64)exit_store);
  vt_write(EXIT_MSR_STORE_COUNT, 1);
  vt_write(VT_EXIT_MSR_LOAD_ADDR, (u64)exit_load);
  vt_write(EXIT_MSR_LOAD_COUNT, 1);
  report_eq("MSR areas: L2 runs to its VMCALL", vt_run(), VT_EXIT_VMCALL);
  report_eq("VM-entry MSR-load area: L2 read the loaded value", out[0], 0x2222000);
  report_eq("VM-exit MSR-store area: L2's value stored", exit_store[0].data, 0x3333000);
  report_eq("VM-exit MSR-load area: L1 has the loaded value", rdmsr(MSR_KGS), 0x4444000);
}

/*
 * Exits from a real-mode L2 (unrestricted guest, which needs EPT: §26.2.1.1, §26.3.1.1):
 * the same exit information in 16-bit code — instruction lengths, the I/O qualification,
 * the INS address size (16-bit = 0, Table 27-8) and guest-linear address ES.base + DI.
 * CS/SS/DS/ES bases point at a 4 KiB block of this image (real-mode bases need only be
 * below 4 GiB, §26.3.1.2), RIP is the offset in it.
 */
void rm_block(void);
__asm__(".text\n.balign 4096\n.globl rm_block\nrm_block:\n.code16\n"
        "rm_cpuid: cpuid\n"
        "rm_out: outb %al, $0x80\n"
        "mov $0x100, %di\n mov $0x70, %dx\n"
        "rm_insb: insb\n"
        "rm_vmcall: vmcall\n"
        "1: jmp 1b\n"
        ".code64\n.balign 4096\n");
LABEL(rm_cpuid); LABEL(rm_out); LABEL(rm_insb); LABEL(rm_vmcall);

static void test_real_mode(void) {
  vt_baseline(rm_block);
  if (!vt_ept_identity(1) || !vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED)) { report_skip("unrestricted guest (real-mode L2)"); return; }
  vt_ctl_on(VT_PROC, VT_PROC_UNCOND_IO);
  vt_ctl_off(VT_ENTRY, VT_ENTRY_CTL_IA32E);
  u64 base = (u64)rm_block;
  vt_write(GUEST_CR0, read_cr0() & ~0x80000001ull); /* PE = PG = 0 */
  vt_write(GUEST_CR4, read_cr4() & ~(1ull << 17));  /* CR4.PCIDE = 0 outside IA-32e mode */
  for (u32 i = 0; i < 6; i++) {
    vt_write(GUEST_ES_SELECTOR + i * 2, 0);
    vt_write(GUEST_ES_BASE + i * 2, base);
    vt_write(GUEST_ES_LIMIT + i * 2, 0xffff);
    vt_write(GUEST_ES_AR + i * 2, i == 1 ? 0x9b : 0x93); /* 16-bit, byte granular, DPL 0 */
  }
  vt_write(GUEST_RIP, 0);
  vt_write(GUEST_RSP, 0xff0);
  vt_write(GUEST_RFLAGS, 0x2);

  report_eq("real mode: CPUID exits (reason 10)", vt_run(), VT_EXIT_CPUID);
  report_eq("real mode: RIP = the offset of CPUID", vmread(GUEST_RIP), (u64)rm_cpuid - base);
  report_eq("real mode: CPUID length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
  vt_skip();
  report_eq("real mode: OUT imm8 exits (reason 30)", vt_run(), VT_EXIT_IO);
  report_eq("real mode: OUT qualification 0x800040", vmread(EXIT_QUALIFICATION), 0x800040);
  report_eq("real mode: OUT length 2", vmread(EXIT_INSTRUCTION_LEN), 2);
  vt_skip();
  report_eq("real mode: INSB exits (reason 30)", vt_run(), VT_EXIT_IO);
  report_eq("real mode: RIP = the offset of INSB", vmread(GUEST_RIP), (u64)rm_insb - base);
  report_eq("real mode: INSB qualification 0x700018", vmread(EXIT_QUALIFICATION), 0x700018);
  report_eq("real mode: INSB guest-linear address = ES.base + DI", vmread(GUEST_LINEAR_ADDRESS), base + 0x100);
  if ((rdmsr(MSR_VMX_BASIC) >> 54) & 1)
    report_eq("real mode: INSB instruction info: 16-bit address size, ES", vmread(VT_EXIT_INSTRUCTION_INFO) & ((7u << 7) | (7u << 15)), 0);
  vt_skip();
  report_eq("real mode: VMCALL exits (reason 18)", vt_run(), VT_EXIT_VMCALL);
  report_eq("real mode: VMCALL length 3", vmread(EXIT_INSTRUCTION_LEN), 3);
  report_eq("real mode: RIP = the offset of VMCALL", vmread(GUEST_RIP), (u64)rm_vmcall - base);
}

int main(void) {
  printf("vmx-exits: VM-exit reasons (SDM Vol. 3C Chapters 25, 27)\n");
  if (vt_init() != 0) { report("VMX operation (vt_init)", 0); summary_and_exit(); }
  map_apic();
  set_gate(TEST_VECTOR, irq_handler);
  l2_apic_id = apic_id();
  test_cpuid();
  test_hlt();
  test_vmcall();
  test_exceptions();
  test_pf();
  test_db();
  test_nmi();
  test_extint();
  test_hlt_activity();
  test_mwait_activity();
  test_triple_fault();
  test_interrupt_window();
  test_nmi_window();
  test_simple_instructions();
  test_vmx_instructions();
  test_cr();
  test_dr();
  test_io();
  test_msr();
  test_misc_instructions();
  test_mtf();
  test_tpr();
  test_desc_tables();
  test_ept();
  test_preemption_timer();
  test_msr_areas();
  test_real_mode();
  test_vectoring();
  test_init();
  summary_and_exit();
}
