/*
 * vmx-exits, part 2 (events): exceptions and the exception bitmap, #PF error-code
 * mask/match, #DB, NMI, external interrupts, HLT wake-up, INIT, triple fault, interrupt and
 * NMI windows, the monitor trap flag, the VMX-preemption timer and IDT-vectoring
 * information (SDM Vol. 3C §25.2-25.5, §27.2). exits.c has the instruction exits and main().
 */
#include "exits.h"

/* ---- exceptions (§25.2: exception bitmap; §27.2.2 interruption information) ---- */
GUEST(g_ud, "ud_at: ud2");
GUEST(g_int3, "int3_at: int3\n int3_after: nop");
GUEST(g_gp, "movabs $0x8000000000000000, %rax\n gp_at: mov (%rax), %rax\n gp_after: nop");
LABEL(ud_at); LABEL(int3_at); LABEL(int3_after); LABEL(gp_at); LABEL(gp_after);

void test_exceptions(void) {
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
 * #DB: a single-step trap exits with the DR6-format bits as qualification (Table 27-1: BS =
 * bit 14) and RIP after the stepped instruction; INT1 (F1) is a privileged software
 * exception (type 5) with its instruction length (§27.2.2, §27.2.5).
 */
GUEST(g_step, "pushf\n orl $0x100, (%rsp)\n popf\n step_nop: nop\n step_after: pushf\n andl $~0x100, (%rsp)\n popf");
GUEST(g_icebp, "icebp_at: .byte 0xf1\n icebp_after: nop");
LABEL(step_after); LABEL(icebp_at); LABEL(icebp_after);
void test_db(void) {
  vt_baseline(g_step);
  vt_write(EXCEPTION_BITMAP, 1u << 1);
  report_eq("single-step #DB in bitmap: exit reason 0", vt_run(), VT_EXIT_EXCEPTION_NMI);
  report_eq("single-step #DB: interruption info 0x80000301", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000301);
  report_eq("single-step #DB: qualification BS (0x4000)", vmread(EXIT_QUALIFICATION), 0x4000);
  report_eq("single-step #DB: trap, RIP after the stepped NOP", vmread(GUEST_RIP), (u64)step_after);
  vt_write(GUEST_RFLAGS, vmread(GUEST_RFLAGS) & ~0x100ull);
  report_eq("single-step #DB: L2 continues with TF clear", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_icebp);
  vt_write(EXCEPTION_BITMAP, 1u << 1);
  report_eq("INT1 (F1) in bitmap: exit reason 0", vt_run(), VT_EXIT_EXCEPTION_NMI);
  report_eq("INT1: interruption info 0x80000501 (privileged software exception)", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000501);
  report_eq("INT1: instruction length 1", vmread(EXIT_INSTRUCTION_LEN), 1);
  report_eq("INT1: guest RIP at the instruction", vmread(GUEST_RIP), (u64)icebp_at);
  vt_skip();
  report_eq("INT1: L2 continues after vt_skip", vt_run(), VT_EXIT_VMCALL);
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
  /* CR2 is not in the VMCS: L1 and L2 share it; a #PF that exits leaves it alone (§27.1) */
  __asm__ volatile("mov %0, %%cr2" : : "r"(0xc2c2000ull) : "memory");
  int r = vt_run();
  printf("  (%s)\n", name);
  report_eq("#PF mask/match: exits (reason 0)", r, VT_EXIT_EXCEPTION_NMI);
  report_eq("#PF exit: CR2 not updated", read_cr2(), 0xc2c2000);
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

void test_pf(void) {
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
volatile u32 l2_apic_id;
GUEST(g_nmi, "mov l2_apic_id(%rip), %eax\n shl $24, %eax\n mov $0xfee00300, %edx\n movl %eax, 0x10(%rdx)\n"
             "movl $0x400, (%rdx)\n" /* NMI, edge, physical, no shorthand */
             "mov $100000, %ecx\n 1: dec %ecx\n jnz 1b");
GUEST(g_extint, "mov $0xfee00300, %edx\n movl $0x40050, (%rdx)\n" /* vector 0x50, fixed, self */
                "mov $100000, %ecx\n 1: dec %ecx\n jnz 1b");
GUEST(g_init, "mov l2_apic_id(%rip), %eax\n shl $24, %eax\n mov $0xfee00300, %edx\n movl %eax, 0x10(%rdx)\n"
              "movl $0x4500, (%rdx)\n" /* INIT, level assert, physical, no shorthand */
              "mov $100000, %ecx\n 1: dec %ecx\n jnz 1b");

void test_nmi(void) {
  vt_baseline(g_nmi);
  if (!vt_ctl_on(VT_PIN, VT_PIN_NMI)) { report_skip("NMI exiting"); return; }
  int r = vt_run();
  report_eq("NMI with NMI exiting: exit reason 0", r, VT_EXIT_EXCEPTION_NMI);
  report_eq("NMI: interruption info 0x80000202 (type 2, vector 2)", vmread(EXIT_INTR_INFO) & ~(1u << 12), 0x80000202);
  report_eq("NMI: L2 continues (the NMI was consumed by the exit)", vt_run(), VT_EXIT_VMCALL);
  report("NMI: L2 finished its loop (RCX = 0)", vt_regs.rcx == 0);
}

/*
 * External interrupts (§25.2, reason 1). Without "acknowledge interrupt on exit" the
 * interruption information is invalid and the interrupt stays requested in the APIC; with
 * it the processor acknowledges the interrupt and reports its vector (§27.2.2).
 */
void test_extint(void) {
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

/*
 * An external interrupt that wakes L2 from HLT (no HLT exiting): the exit saves activity
 * state HLT (§27.3.4, Table 24-4) and the RIP of the instruction after the HLT. L2 arms its local APIC timer (one-shot, vector
 * 0x50) and halts with IF = 0: with external-interrupt exiting, IF does not mask (§25.3).
 */
GUEST(g_hlt_wake, "mov $0xfee00000, %edx\n movl $0xb, 0x3e0(%rdx)\n movl $0x50, 0x320(%rdx)\n"
                  "movl $1000, 0x380(%rdx)\n hlt\n hlt_woke: nop");
LABEL(hlt_woke);
void test_hlt_activity(void) {
  vt_baseline(g_hlt_wake);
  if (!vt_ctl_on(VT_PIN, VT_PIN_EXTINT) || !vt_ctl_on(VT_EXIT, VT_EXIT_CTL_ACK_INTR)) {
    report_skip("external-interrupt exiting with acknowledge on exit (HLT wake-up)");
    return;
  }
  report_eq("interrupt in HLT: exit reason 1", vt_run(), VT_EXIT_EXTINT);
  report_eq("interrupt in HLT: interruption info 0x80000050", vmread(EXIT_INTR_INFO), 0x80000000u | TEST_VECTOR);
  report_eq("interrupt in HLT: activity state saved as HLT (1)", vmread(GUEST_ACTIVITY_STATE), 1);
  report_eq("interrupt in HLT: guest RIP after the HLT", vmread(GUEST_RIP), (u64)hlt_woke);
  apic_write(0xb0, 0);
  apic_write(0x320, 0x10000); /* mask the LVT timer again */
  vt_write(GUEST_ACTIVITY_STATE, 0);
  report_eq("interrupt in HLT: L2 continues when L1 makes it active", vt_run(), VT_EXIT_VMCALL);
}

/*
 * The same wake-up from MWAIT (no MWAIT exiting): L2 arms MONITOR on mwait_line, its APIC
 * timer, and sleeps in MWAIT. The interrupt exits with RIP after the MWAIT, and the
 * activity state is saved as active: the field never shows MWAIT's inactive state
 * (SDM Vol. 3C §24.4.2, §27.1).
 */
u64 mwait_line[8] __attribute__((aligned(64)));
GUEST(g_mwait_wake, "lea mwait_line(%rip), %rax\n xor %ecx, %ecx\n xor %edx, %edx\n monitor\n"
                    "mov $0xfee00000, %edx\n movl $0xb, 0x3e0(%rdx)\n movl $0x50, 0x320(%rdx)\n"
                    "movl $1000, 0x380(%rdx)\n xor %eax, %eax\n xor %ecx, %ecx\n mwait\n mwait_woke: nop");
LABEL(mwait_woke);
void test_mwait_activity(void) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (!(c & (1u << 3))) { report_skip("MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0) in L2"); return; }
  vt_baseline(g_mwait_wake);
  if (!vt_ctl_on(VT_PIN, VT_PIN_EXTINT) || !vt_ctl_on(VT_EXIT, VT_EXIT_CTL_ACK_INTR)) {
    report_skip("external-interrupt exiting with acknowledge on exit (MWAIT wake-up)");
    return;
  }
  report_eq("interrupt in MWAIT: exit reason 1", vt_run(), VT_EXIT_EXTINT);
  report_eq("interrupt in MWAIT: interruption info 0x80000050", vmread(EXIT_INTR_INFO), 0x80000000u | TEST_VECTOR);
  report_eq("interrupt in MWAIT: activity state saved as active (0)", vmread(GUEST_ACTIVITY_STATE), 0);
  report_eq("interrupt in MWAIT: guest RIP after the MWAIT", vmread(GUEST_RIP), (u64)mwait_woke);
  apic_write(0xb0, 0);
  apic_write(0x320, 0x10000); /* mask the LVT timer again */
  report_eq("interrupt in MWAIT: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/* INIT (§25.2: INIT signals always exit in VMX non-root operation; reason 3) */
void test_init(void) {
  vt_baseline(g_init);
  int r = vt_run();
  report_eq("INIT: exit reason 3", r, VT_EXIT_INIT);
  report_eq("INIT: qualification 0", vmread(EXIT_QUALIFICATION), 0);
  report_eq("INIT: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/* Triple fault (§25.2, reason 2): an IDT limit of 0 turns #UD into #GP, #DF, shutdown */
void test_triple_fault(void) {
  vt_baseline(g_ud);
  vt_write(GUEST_IDTR_LIMIT, 0);
  report_eq("triple fault: exit reason 2", vt_run(), VT_EXIT_TRIPLE_FAULT);
}

/* Interrupt window (§25.2 "interrupt-window exiting", reason 7) */
GUEST(g_iw, "iw_start: nop\n sti\n iw_shadow: nop\n iw_open: nop\n cli");
LABEL(iw_start); LABEL(iw_open);
void test_interrupt_window(void) {
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
void test_nmi_window(void) {
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

/* Monitor trap flag (§25.5.2, reason 37): an exit after each instruction, RIP at the next */
GUEST(g_mtf, "nop\n mtf1: mov $1, %eax\n mtf2: nop");
LABEL(mtf1); LABEL(mtf2);
void test_mtf(void) {
  vt_baseline(g_mtf);
  if (!vt_ctl_on(VT_PROC, VT_PROC_MTF)) { report_skip("monitor trap flag"); return; }
  report_eq("MTF: exit reason 37 after the first instruction", vt_run(), VT_EXIT_MTF);
  report_eq("MTF: guest RIP = the next instruction", vmread(GUEST_RIP), (u64)mtf1);
  report_eq("MTF: exit after the second instruction", vt_run(), VT_EXIT_MTF);
  report_eq("MTF: guest RIP advanced by one instruction", vmread(GUEST_RIP), (u64)mtf2);
  report_eq("MTF: the instruction completed (EAX = 1)", vt_regs.rax & 0xffffffff, 1);
  report_eq("MTF: qualification 0", vmread(EXIT_QUALIFICATION), 0);
  vt_ctl_off(VT_PROC, VT_PROC_MTF);
  report_eq("MTF off: L2 continues", vt_run(), VT_EXIT_VMCALL);
}

/* VMX-preemption timer (§25.5.1, reason 52; "save VMX-preemption timer value", §27.3.4) */
GUEST(g_spin, "mov $2000000, %ecx\n 1: dec %ecx\n jnz 1b");
void test_preemption_timer(void) {
  vt_baseline(g_spin);
  if (!vt_ctl_on(VT_PIN, VT_PIN_PREEMPT)) { report_skip("VMX-preemption timer"); return; }
  vt_write(VT_PREEMPTION_TIMER, 100);
  int save = vt_ctl_on(VT_EXIT, VT_EXIT_CTL_SAVE_PREEMPT);
  report_eq("preemption timer: exit reason 52", vt_run(), VT_EXIT_PREEMPT_TIMER);
  report("preemption timer: L2 was interrupted in its loop", vt_regs.rcx != 0);
  report_eq("preemption timer: qualification 0", vmread(EXIT_QUALIFICATION), 0);
  if (save) report_eq("preemption timer: saved value 0 after a timer exit", vmread(VT_PREEMPTION_TIMER), 0);
  else report_skip("save VMX-preemption timer value");
  /* "save VMX-preemption timer value" needs the timer on (§26.2.1.2): both off */
  vt_ctl_off(VT_EXIT, VT_EXIT_CTL_SAVE_PREEMPT);
  vt_ctl_off(VT_PIN, VT_PIN_PREEMPT);
  report_eq("preemption timer off: L2 finishes", vt_run(), VT_EXIT_VMCALL);

  vt_baseline(g_vmcall);
  vt_ctl_on(VT_PIN, VT_PIN_PREEMPT);
  if (save) {
    vt_ctl_on(VT_EXIT, VT_EXIT_CTL_SAVE_PREEMPT);
    vt_write(VT_PREEMPTION_TIMER, 0x10000000);
    report_eq("preemption timer not expired: L2 reaches its VMCALL", vt_run(), VT_EXIT_VMCALL);
    u64 v = vmread(VT_PREEMPTION_TIMER);
    report("preemption timer: saved value counted down, not to 0", v > 0 && v <= 0x10000000);
  }
}

/*
 * IDT-vectoring information for an external interrupt and an NMI (§27.2.4, Table 24-20:
 * types 0 and 2): L2 takes them through its own IDT copy, on a page the EPT does not map,
 * so reading the gate exits 48 mid-delivery; L1 repairs the EPT and re-injects the event
 * (§26.6), and L2's handlers then run.
 */
static u8 l2_idt[4096] __attribute__((aligned(4096)));
static void g_ext_vectoring(void) {
  __asm__ volatile("sti" ::: "memory");
  apic_write(0x300, 0x40000 | TEST_VECTOR); /* fixed, self */
  for (volatile int i = 0; i < 1000; i++) {}
  __asm__ volatile("cli" ::: "memory");
  out[0] = irq_count;
}
static void send_nmi(void *p) {
  (void)p;
  apic_write(0x310, l2_apic_id << 24);
  apic_write(0x300, 0x400);
  for (volatile int i = 0; i < 1000; i++) {}
}
static void g_nmi_vectoring(void) { out[0] = (u64)fault_try(send_nmi, 0); }

static void vectoring(const char *what, void (*g)(void), u32 vector, u32 info, u64 want_out) {
  struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
  __asm__ volatile("sidt %0" : "=m"(idtr));
  memcpy(l2_idt, (void *)idtr.base, sizeof l2_idt);
  clear_out();
  irq_count = 0;
  vt_baseline(g);
  if (!vt_ept_identity(1)) { report_skip("enable EPT (IDT-vectoring tests)"); return; }
  vt_write(GUEST_IDTR_BASE, (u64)l2_idt);
  vt_write(GUEST_IDTR_LIMIT, sizeof l2_idt - 1);
  u64 *pte = vt_ept_pte((u64)l2_idt);
  *pte &= ~7ull;
  vt_invept();
  printf("  (%s)\n", what);
  report_eq("delivery through an unmapped IDT page: EPT violation (48)", vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq("guest-physical address of the gate", vmread(GUEST_PHYSICAL_ADDRESS), (u64)l2_idt + vector * 16);
  u64 v = vmread(IDT_VECTORING_INFO);
  report_eq("IDT-vectoring information", v & ~(1ull << 12), info);
  *pte |= 7;
  vt_invept();
  vt_write(ENTRY_INTR_INFO, v & ~(1ull << 12));
  report_eq("re-injected: L2 finishes", vt_run(), VT_EXIT_VMCALL);
  report_eq("re-injected: L2's handler ran", out[0], want_out);
}

void test_vectoring(void) {
  vectoring("external interrupt 0x50 (type 0)", g_ext_vectoring, TEST_VECTOR, 0x80000000u | TEST_VECTOR, 1);
  vectoring("NMI (type 2)", g_nmi_vectoring, 2, 0x80000202, 2);
}

