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

int main(void) {
  printf("vmx-exits: VM-exit reasons (SDM Vol. 3C Chapters 25, 27)\n");
  if (vt_init() != 0) { report("VMX operation (vt_init)", 0); summary_and_exit(); }
  test_cpuid();
  test_hlt();
  test_vmcall();
  summary_and_exit();
}
