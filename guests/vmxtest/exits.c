/*
 * vmx-exits: one test per VM-exit reason of issue 5 (SDM Vol. 3C Chapter 25 "VMX non-root
 * operation" for what exits, Chapter 27 / §27.2 for the exit information). Each test starts
 * from vt_baseline(), turns on the one control it needs, runs a small L2 function and checks
 * the exit reason, qualification, instruction length and information, then resumes L2
 * after vt_skip() to see that it continues correctly.
 */
#include "vt.h"

/* L2 reports what it saw through memory (it shares the kernel's address space) */
static volatile u64 out[4];
static void clear_out(void) { for (int i = 0; i < 4; i++) out[i] = 0; }


/*
 * A guest written in assembly, so the test knows each instruction's address and length:
 * GUEST(name, "instructions") defines name() (ending in RET, i.e. the "done" VMCALL);
 * a "name_label:" inside is a global symbol the test declares with LABEL(name_label).
 */
#define GUEST(name, body) \
  void name(void); \
  __asm__(".text\n.globl " #name "\n" #name ":\n" body "\nret\n")
#define LABEL(l) extern char l[]

/* ---- the local APIC (xAPIC MMIO, SDM Vol. 3A §10.4.1), mapped uncached at 3-4 GiB ---- */
#define APIC 0xfee00000ul
static u64 high_pd[512] __attribute__((aligned(4096)));
static u32 apic_read(u32 reg) { return *(volatile u32 *)(APIC + reg); }
static void apic_write(u32 reg, u32 v) { *(volatile u32 *)(APIC + reg) = v; }
static u32 apic_id(void) { return apic_read(0x20) >> 24; }

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
#define TEST_VECTOR 0x50
volatile u32 irq_count;
void irq_handler(void);
__asm__(".text\n.globl irq_handler\nirq_handler:\n"
        "  incl irq_count(%rip)\n"
        "  push %rax\n  mov $0xfee000b0, %eax\n  movl $0, (%rax)\n  pop %rax\n" /* EOI */
        "  iretq\n");
static int apic_bit(u32 base, int v) { return (apic_read(base + (u32)(v / 32) * 0x10) >> (v % 32)) & 1; }

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
static void g_vmcall(void) {
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

/* ---- exceptions (§25.2: exception bitmap; §27.2.2 interruption information) ---- */
GUEST(g_ud, "ud_at: ud2");
GUEST(g_int3, "int3_at: int3\n int3_after: nop");
GUEST(g_gp, "movabs $0x8000000000000000, %rax\n gp_at: mov (%rax), %rax\n gp_after: nop");
LABEL(ud_at); LABEL(int3_at); LABEL(int3_after); LABEL(gp_at); LABEL(gp_after);

static void test_exceptions(void) {
  vt_baseline(g_ud);
  vt_write(EXCEPTION_BITMAP, 1u << 6);
  int r = vt_run();
  report_eq("#UD in bitmap: exit reason 0", r, VT_EXIT_EXCEPTION_NMI);
  /* valid, type 3 (hardware exception), vector 6, no error code (Table 24-19) */
  report_eq("#UD: interruption info 0x80000306", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000306);
  report_eq("#UD: guest RIP is the faulting instruction", vmread(GUEST_RIP), (u64)ud_at);
  vt_write(GUEST_RIP, (u64)ud_at + 2);
  report_eq("#UD: L2 continues past UD2", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_int3);
  vt_write(EXCEPTION_BITMAP, 1u << 3);
  r = vt_run();
  report_eq("INT3 in bitmap: exit reason 0", r, VT_EXIT_EXCEPTION_NMI);
  /* type 6 (software exception), vector 3; the instruction length is saved (§27.2.5) */
  report_eq("INT3: interruption info 0x80000603", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000603);
  report_eq("INT3: instruction length 1", vmread(EXIT_INSTRUCTION_LEN), 1);
  report_eq("INT3: guest RIP is the INT3", vmread(GUEST_RIP), (u64)int3_at);
  vt_skip();
  report_eq("INT3: guest RIP after vt_skip", vmread(GUEST_RIP), (u64)int3_after);
  report_eq("INT3: L2 continues after vt_skip", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_gp);
  vt_write(EXCEPTION_BITMAP, 1u << 13);
  r = vt_run();
  report_eq("#GP (non-canonical) in bitmap: exit reason 0", r, VT_EXIT_EXCEPTION_NMI);
  report_eq("#GP: interruption info 0x80000b0d (error code valid)", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000b0d);
  report_eq("#GP: error code 0", vmread(VT_EXIT_INTR_ERROR), 0);
  report_eq("#GP: guest RIP is the faulting instruction", vmread(GUEST_RIP), (u64)gp_at);
  vt_write(GUEST_RIP, (u64)gp_after);
  report_eq("#GP: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/*
 * #PF and the error-code mask/match (§25.2): with bit 14 of the exception bitmap = 1 a #PF
 * exits iff (error code & mask) == match; with bit 14 = 0 iff they differ. The exit
 * qualification is the linear address (§27.2.1); a #PF that does not exit is delivered
 * to L2 through its IDT (L2 catches it with fault_try, sharing the kernel's handlers).
 */
#define PF_ADDR 0x8000000000ul /* PML4 entry 1: not present in the kernel's page tables */
GUEST(g_pf_read, "movabs $0x8000000000, %rax\n pfr_at: mov (%rax), %rbx\n pfr_after: nop");
GUEST(g_pf_write, "movabs $0x8000000010, %rax\n pfw_at: mov %rbx, (%rax)\n pfw_after: nop");
LABEL(pfr_at); LABEL(pfr_after); LABEL(pfw_at); LABEL(pfw_after);
static void pf_read(void *p) { (void)*(volatile u64 *)p; }
static void pf_write(void *p) { *(volatile u64 *)p = 1; }
static void g_pf_read_caught(void) { out[0] = (u64)fault_try(pf_read, (void *)PF_ADDR); out[1] = fault_error; }
static void g_pf_write_caught(void) { out[0] = (u64)fault_try(pf_write, (void *)(PF_ADDR + 0x10)); out[1] = fault_error; }

static void pf_exits(const char *name, void (*g)(void), u32 bit14, u64 addr, u64 err, u64 at, u64 after) {
  char buf[96];
  vt_baseline(g);
  vt_write(EXCEPTION_BITMAP, bit14 << 14);
  vt_write(PF_ERROR_CODE_MASK, 2);
  vt_write(PF_ERROR_CODE_MATCH, 2);
  int r = vt_run();
  printf("  (%s)\n", name);
  report_eq("#PF mask/match: exits (reason 0)", r, VT_EXIT_EXCEPTION_NMI);
  report_eq("#PF: interruption info 0x80000b0e", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000b0e);
  report_eq("#PF: error code in the exit", vmread(VT_EXIT_INTR_ERROR), err);
  report_eq("#PF: qualification = faulting linear address", vmread(EXIT_QUALIFICATION), addr);
  report_eq("#PF: guest RIP is the faulting instruction", vmread(GUEST_RIP), at);
  vt_write(GUEST_RIP, after);
  memcpy(buf, "#PF: L2 continues", 18);
  report_eq(buf, vt_run(), VT_EXIT_VMCALL);
}

static void pf_delivered(const char *name, void (*g)(void), u32 bit14, u64 err) {
  clear_out();
  vt_baseline(g);
  vt_write(EXCEPTION_BITMAP, bit14 << 14);
  vt_write(PF_ERROR_CODE_MASK, 2);
  vt_write(PF_ERROR_CODE_MATCH, 2);
  int r = vt_run();
  printf("  (%s)\n", name);
  report_eq("#PF mask/match: no exit, L2 runs to its VMCALL", r, VT_EXIT_VMCALL);
  report_eq("#PF: delivered to L2 (vector 14)", out[0], 14);
  report_eq("#PF: L2's error code", out[1], err);
}

static void test_pf(void) {
  /* error code: bit 0 P = 0 (not present), bit 1 W/R, bit 2 U/S = 0 (Vol. 3A §4.7) */
  pf_exits("bit 14 = 1, mask 2, match 2, write fault (2 & 2 == 2)", g_pf_write, 1, PF_ADDR + 0x10, 2, (u64)pfw_at, (u64)pfw_after);
  pf_delivered("bit 14 = 1, mask 2, match 2, read fault (0 & 2 != 2)", g_pf_read_caught, 1, 0);
  pf_exits("bit 14 = 0, mask 2, match 2, read fault (0 & 2 != 2)", g_pf_read, 0, PF_ADDR, 0, (u64)pfr_at, (u64)pfr_after);
  pf_delivered("bit 14 = 0, mask 2, match 2, write fault (2 & 2 == 2)", g_pf_write_caught, 0, 2);
}

/*
 * NMI (§25.2 "NMI exiting"): L2 sends itself an NMI through the ICR (physical destination =
 * its APIC ID; the self shorthand is valid only for fixed interrupts, Vol. 3A Table 10-3).
 * The exit is reason 0 with interruption type 2, vector 2 (§27.2.2).
 */
static volatile u32 l2_apic_id;
GUEST(g_nmi, "mov l2_apic_id(%rip), %eax\n shl $24, %eax\n mov $0xfee00300, %edx\n movl %eax, 0x10(%rdx)\n"
             "movl $0x400, (%rdx)\n" /* NMI, edge, physical, no shorthand */
             "mov $100000, %ecx\n 1: dec %ecx\n jnz 1b");
GUEST(g_extint, "mov $0xfee00300, %edx\n movl $0x40050, (%rdx)\n" /* vector 0x50, fixed, self */
                "mov $100000, %ecx\n 1: dec %ecx\n jnz 1b");
GUEST(g_init, "mov l2_apic_id(%rip), %eax\n shl $24, %eax\n mov $0xfee00300, %edx\n movl %eax, 0x10(%rdx)\n"
              "movl $0x4500, (%rdx)\n" /* INIT, level assert, physical, no shorthand */
              "mov $100000, %ecx\n 1: dec %ecx\n jnz 1b");

static void test_nmi(void) {
  vt_baseline(g_nmi);
  if (!vt_ctl_on(VT_PIN, VT_PIN_NMI)) { report_skip("NMI exiting"); return; }
  int r = vt_run();
  report_eq("NMI with NMI exiting: exit reason 0", r, VT_EXIT_EXCEPTION_NMI);
  report_eq("NMI: interruption info 0x80000202 (type 2, vector 2)", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000202);
  report_eq("NMI: L2 continues (the NMI was consumed by the exit)", vt_run(), VT_EXIT_VMCALL);
  report("NMI: L2 finished its loop (RCX = 0)", vt_regs.rcx == 0);
}

/* External interrupts (§25.2; §27.2.2 and "acknowledge interrupt on exit", §27.5.4...) */
static void test_extint(void) {
  vt_baseline(g_extint);
  if (!vt_ctl_on(VT_PIN, VT_PIN_EXTINT)) { report_skip("external-interrupt exiting"); return; }
  /* RFLAGS.IF = 0 in L2: with external-interrupt exiting, IF does not mask (§25.3) */
  irq_count = 0;
  int r = vt_run();
  report_eq("external interrupt (no ack on exit): exit reason 1", r, VT_EXIT_EXTINT);
  report_eq("external interrupt (no ack): interruption info not valid", vmread(EXIT_INTR_INFO) >> 31, 0);
  report("external interrupt (no ack): still requested in the APIC IRR", apic_bit(0x200, TEST_VECTOR) == 1);
  __asm__ volatile("sti; nop; cli" ::: "memory");
  report_eq("external interrupt (no ack): L1 takes it once it sets IF", irq_count, 1);
  report_eq("external interrupt: L2 continues", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_extint);
  vt_ctl_on(VT_PIN, VT_PIN_EXTINT);
  if (!vt_ctl_on(VT_EXIT, VT_EXIT_CTL_ACK_INTR)) { report_skip("acknowledge interrupt on exit"); return; }
  irq_count = 0;
  r = vt_run();
  report_eq("external interrupt (ack on exit): exit reason 1", r, VT_EXIT_EXTINT);
  report_eq("external interrupt (ack): interruption info 0x80000050 (type 0, vector)", vmread(EXIT_INTR_INFO), 0x80000000u | TEST_VECTOR);
  report("external interrupt (ack): acknowledged: in ISR, not in IRR",
         apic_bit(0x100, TEST_VECTOR) == 1 && apic_bit(0x200, TEST_VECTOR) == 0);
  apic_write(0xb0, 0);
  __asm__ volatile("sti; nop; cli" ::: "memory");
  report_eq("external interrupt (ack): not delivered again to L1", irq_count, 0);
  report_eq("external interrupt (ack): L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/* INIT (§25.2: INIT signals always exit in VMX non-root operation; reason 3) */
static void test_init(void) {
  vt_baseline(g_init);
  int r = vt_run();
  report_eq("INIT: exit reason 3", r, VT_EXIT_INIT);
  report_eq("INIT: qualification 0", vmread(EXIT_QUALIFICATION), 0);
  report_eq("INIT: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/* Triple fault (§25.2, reason 2): an IDT limit of 0 turns #UD into #GP, #DF, shutdown */
static void test_triple_fault(void) {
  vt_baseline(g_ud);
  vt_write(GUEST_IDTR_LIMIT, 0);
  report_eq("triple fault: exit reason 2", vt_run(), VT_EXIT_TRIPLE_FAULT);
}

/* Interrupt window (§25.2 "interrupt-window exiting", reason 7) */
GUEST(g_iw, "iw_start: nop\n sti\n iw_shadow: nop\n iw_open: nop\n cli");
LABEL(iw_start); LABEL(iw_open);
static void test_interrupt_window(void) {
  vt_baseline(g_iw);
  if (!vt_ctl_on(VT_PROC, VT_PROC_INTR_WINDOW)) { report_skip("interrupt-window exiting"); return; }
  vt_write(GUEST_RFLAGS, 0x202);
  int r = vt_run();
  report_eq("interrupt window, IF = 1: exit reason 7 at VM entry", r, VT_EXIT_INTR_WINDOW);
  report_eq("interrupt window: before the first instruction", vmread(GUEST_RIP), (u64)iw_start);
  report_eq("interrupt window: qualification 0", vmread(EXIT_QUALIFICATION), 0);

  vt_baseline(g_iw);
  vt_ctl_on(VT_PROC, VT_PROC_INTR_WINDOW);
  r = vt_run();
  report_eq("interrupt window, IF = 0: exit after STI and its shadow", r, VT_EXIT_INTR_WINDOW);
  report_eq("interrupt window: guest RIP after the instruction in the STI shadow", vmread(GUEST_RIP), (u64)iw_open);
  vt_ctl_off(VT_PROC, VT_PROC_INTR_WINDOW);
  report_eq("interrupt window: L2 continues with the control off", vt_run(), VT_EXIT_VMCALL);
}

/* NMI window (§25.2 "NMI-window exiting", reason 8; needs virtual NMIs, §26.2.1.1) */
GUEST(g_nw, "nw_start: nop");
LABEL(nw_start);
static void test_nmi_window(void) {
  vt_baseline(g_nw);
  if (!vt_ctl_on(VT_PIN, VT_PIN_NMI | VT_PIN_VIRTUAL_NMIS) || !vt_ctl_on(VT_PROC, VT_PROC_NMI_WINDOW)) {
    report_skip("NMI-window exiting");
    return;
  }
  int r = vt_run();
  report_eq("NMI window, no virtual-NMI blocking: exit reason 8 at VM entry", r, VT_EXIT_NMI_WINDOW);
  report_eq("NMI window: before the first instruction", vmread(GUEST_RIP), (u64)nw_start);

  vt_baseline(g_nw);
  vt_ctl_on(VT_PIN, VT_PIN_NMI | VT_PIN_VIRTUAL_NMIS);
  vt_ctl_on(VT_PROC, VT_PROC_NMI_WINDOW);
  vt_write(GUEST_INTERRUPTIBILITY, 8); /* blocking by NMI = virtual-NMI blocking (Table 24-3) */
  r = vt_run();
  report_eq("NMI window, virtual NMIs blocked: no exit, L2 runs to its VMCALL", r, VT_EXIT_VMCALL);
  u64 rip = vmread(GUEST_RIP);
  vt_write(GUEST_INTERRUPTIBILITY, vmread(GUEST_INTERRUPTIBILITY) & ~8ull);
  r = vt_run();
  report_eq("NMI window: exit once L1 clears the blocking", r, VT_EXIT_NMI_WINDOW);
  report_eq("NMI window: no instruction executed in between", vmread(GUEST_RIP), rip);
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
  test_nmi();
  test_extint();
  test_triple_fault();
  test_interrupt_window();
  test_nmi_window();
  test_simple_instructions();
  if (0) test_init(); /* resets the machine in Nestvisor: INIT in VMX non-root must exit (§25.2) */
  summary_and_exit();
}
