/*
 * vmx-checks, VM-entry part 1 (see checks.h): the harness every VM-entry check uses, the
 * launch-state errors that need a launched VMCS (SDM Vol. 3C §30.3), and the checks on VMX
 * controls (§26.2.1, VMfailValid 7) and on the host-state area (§26.2.2-26.2.4, VMfailValid
 * 8), each from the valid baseline of vt_baseline() with one field corrupted.
 */
#include "checks.h"

/* L2 code: returning from a guest function lands on VMCALL (vt.h); ck_vmcall_loop is the
 * same in 32-bit and 64-bit mode (0F 01 C1, EB rel8), for the non-IA-32e guests below. */
__asm__("  .text\n  .globl ck_vmcall_loop\nck_vmcall_loop:\n  vmcall\n  jmp ck_vmcall_loop\n");
static void g_return(void) {}

/* every exception in L2 exits (exit reason 0) instead of reaching the kernel's handlers,
 * so an entry that wrongly succeeds shows as a wrong exit reason, not a crash */
void base(void) {
  vt_baseline(g_return);
  vt_write(EXCEPTION_BITMAP, 0xffffffff);
}

static void explain(int r) {
  if (r == VT_FAIL_INVALID) printf("got VMfailInvalid\n");
  else if (r == VT_FAIL_VALID) printf("got VMfailValid(%lu)\n", vmread(VM_INSTRUCTION_ERROR));
  else printf("got exit reason %#x, qualification %#lx\n", (u32)r, vmread(EXIT_QUALIFICATION));
}

/* §26.2: a control (7) or host-state (8) check failing is VMfailValid with that error */
void entry_vmfail(const char *name, u32 err) {
  int r = vt_run();
  int ok = r == VT_FAIL_VALID && vmread(VM_INSTRUCTION_ERROR) == err;
  if (!ok) { printf("  %s: expected VMfailValid(%u), ", name, err); explain(r); }
  report(name, ok);
}
/* §26.8: a guest-state (33) or MSR-loading (34) failure is a VM exit with bit 31 of the exit
 * reason set and the exit qualification of §26.8 / §26.4 */
void entry_fails(const char *name, u32 reason, u64 qual) {
  int r = vt_run();
  int ok = (u32)r == (EXIT_REASON_ENTRY_FAILURE | reason) && vmread(EXIT_QUALIFICATION) == qual;
  if (!ok) { printf("  %s: expected entry failure %u, qualification %lu, ", name, reason, qual); explain(r); }
  report(name, ok);
}
void entry_ok(const char *name) {
  int r = vt_run();
  int ok = r == EXIT_REASON_VMCALL;
  if (!ok) { printf("  %s: expected a successful entry (VMCALL exit), ", name); explain(r); }
  report(name, ok);
}
static const char *cat3(const char *a, const char *b, const char *c);
/* one corrupted field: controls -> 7, host state -> 8, guest state -> exit 33, qualification 0 */
void CTL(const char *name) { entry_vmfail(cat3(name, " -> VMfailValid(7)", ""), 7); }
void HOST(const char *name) { entry_vmfail(cat3(name, " -> VMfailValid(8)", ""), 8); }
void GUEST(const char *name) { entry_fails(cat3(name, " -> entry failure 33", ""), EXIT_REASON_INVALID_GUEST_STATE, 0); }

static const u32 ctl_fields[5] = { PIN_BASED_CONTROLS, PROC_BASED_CONTROLS, SECONDARY_CONTROLS, EXIT_CONTROLS, ENTRY_CONTROLS };
static const char *const ctl_names[5] = { "pin-based", "primary processor-based", "secondary processor-based",
                                          "VM-exit", "VM-entry" };
int allowed1(int word, u32 bits) { return ((u32)(vt_cap(word) >> 32) & bits) == bits; }

static u8 page_a[4096] __attribute__((aligned(4096)));
static u8 page_b[4096] __attribute__((aligned(4096)));
u8 page_c[4096] __attribute__((aligned(4096)));
/* only its address matters: the MSR-area address checks of §26.2.1.2-26.2.1.3 */
static u8 msr_area_ctl[64] __attribute__((aligned(16)));

void set_field(u32 field, u64 v) { vt_write(field, v); }
void or_field(u32 field, u64 v) { vt_write(field, vmread(field) | v); }
void and_field(u32 field, u64 v) { vt_write(field, vmread(field) & v); }

/* name buffer for generated names */
static char nbuf[200];
static const char *cat3(const char *a, const char *b, const char *c) {
  int n = 0;
  const char *parts[3] = { a, b, c };
  for (int i = 0; i < 3; i++)
    for (const char *p = parts[i]; *p && n < (int)sizeof nbuf - 1; p++) nbuf[n++] = *p;
  nbuf[n] = 0;
  return nbuf;
}

/* VMLAUNCH right after MOV SS (blocking by MOV SS): VMfailValid(26) comes before the control
 * checks in §30.3's pseudocode, so a bad control field must not change the outcome */
static u64 vmlaunch_after_mov_ss(u64 pre) {
  u64 fl;
  __asm__ volatile("pushq %1; popfq; mov %%ss, %%eax; mov %%eax, %%ss; vmlaunch; pushfq; popq %0"
                   : "=&r"(fl) : "r"(pre | 2) : "rax", "cc", "memory");
  return fl;
}

static void test_baseline_and_launch_state(void) {
  base();
  entry_ok("baseline VMLAUNCH: VM entry succeeds, L2 runs to VMCALL (exit reason 18)");
  /* §30.3 VMLAUNCH: launch state "launched" -> VMfailValid(4) */
  u64 fl = do_simple(I_VMLAUNCH, pre_for(FAIL_VALID));
  expect("VMLAUNCH with a launched VMCS: VMfailValid(4) (SDM 30.3 VMLAUNCH)", fl, FAIL_VALID, 4);
  vt_skip();
  entry_ok("VMRESUME of the launched VMCS succeeds (SDM 30.3 VMRESUME)");
  /* after VMCLEAR the VMCS is clear again: VMRESUME -> 5 (§30.3, §24.11.3) */
  do_vmptrst(0);
  u64 cur = mem_op;
  do_vmclear(cur, 0);
  do_vmptrld(cur, 0);
  expect("VMRESUME after VMCLEAR of a launched VMCS: VMfailValid(5) (SDM 30.3 VMRESUME)",
         do_simple(I_VMRESUME, pre_for(FAIL_VALID)), FAIL_VALID, 5);
  base();
  set_field(CR3_TARGET_COUNT, 0x1ff + 1); /* would be VMfailValid(7) */
  expect("VMLAUNCH in a MOV SS shadow: VMfailValid(26) before the control checks (SDM 30.3 VMLAUNCH)",
         vmlaunch_after_mov_ss(pre_for(FAIL_VALID)), FAIL_VALID, 26);
  /* §26.1: the checks of §26.2 (controls, host state) come before the guest-state checks */
  base();
  set_field(HOST_CS_SELECTOR, 0);
  and_field(GUEST_CR4, ~CR4_VMXE);
  entry_vmfail("26.1 a host-state error with a guest-state error: VMfailValid(8), not an entry failure", 8);
  /* a VM-entry failure leaves the launch state clear (§26.7): VMRESUME still fails with 5 */
  base();
  and_field(GUEST_CR4, ~CR4_VMXE);
  vt_run();
  expect("VMRESUME after a failed VMLAUNCH: VMfailValid(5) (SDM 26.7, 30.3 VMRESUME)",
         do_simple(I_VMRESUME, pre_for(FAIL_VALID)), FAIL_VALID, 5);
}

/* ---- §26.2.1 checks on VMX controls -> VMfailValid(7) ---- */
static void test_control_reserved_bits(void) {
  for (int w = 0; w < 5; w++) {
    u64 cap = vt_cap(w);
    u32 a0 = (u32)cap, a1 = (u32)(cap >> 32);
    base();
    if (w == VT_PROC2 && !vt_ctl_on(VT_PROC, VT_PROC_SECONDARY)) { skip("secondary controls"); continue; }
    if (a0) {
      and_field(ctl_fields[w], ~(u64)(a0 & -a0));
      entry_vmfail(cat3("26.2.1 ", ctl_names[w], " control: a must-be-1 bit (allowed-0 = 1) cleared -> VMfailValid(7)"), 7);
    } else if (w != VT_PROC2) {
      skip(cat3("26.2.1 ", ctl_names[w], " control: must-be-1 bit cleared (none must be 1)"));
    }
    base();
    if (w == VT_PROC2) vt_ctl_on(VT_PROC, VT_PROC_SECONDARY);
    if (~a1) {
      or_field(ctl_fields[w], ~a1 & -~a1);
      entry_vmfail(cat3("26.2.1 ", ctl_names[w], " control: a must-be-0 bit (allowed-1 = 0) set -> VMfailValid(7)"), 7);
    } else {
      skip(cat3("26.2.1 ", ctl_names[w], " control: must-be-0 bit set (every bit may be 1)"));
    }
  }
  /* §26.2.1.1: with "activate secondary controls" 0 the secondary controls are not checked
   * (treated as 0, §24.6.2) */
  u32 a1 = (u32)(vt_cap(VT_PROC2) >> 32);
  if (allowed1(VT_PROC, VT_PROC_SECONDARY) && ~a1 && (u32)vt_cap(VT_PROC) == ((u32)vt_cap(VT_PROC) & ~VT_PROC_SECONDARY)) {
    base();
    and_field(PROC_BASED_CONTROLS, ~(u64)VT_PROC_SECONDARY);
    set_field(SECONDARY_CONTROLS, ~a1 & -~a1);
    entry_ok("26.2.1.1 secondary controls are ignored when \"activate secondary controls\" is 0: entry succeeds");
  } else {
    skip("26.2.1.1 secondary controls ignored without \"activate secondary controls\"");
  }
}

static void test_exec_controls(void) {
  u32 maxph = maxphyaddr;
  /* CR3-target count > IA32_VMX_MISC[24:16] */
  u32 ntargets = (u32)(misc_cap >> 16) & 0x1ff;
  base();
  set_field(CR3_TARGET_COUNT, ntargets + 1);
  CTL("26.2.1.1 CR3-target count above IA32_VMX_MISC[24:16]");
  CHECK(ntargets != 0, "26.2.1.1 CR3-target count = IA32_VMX_MISC[24:16]: entry succeeds") {
    base(); set_field(CR3_TARGET_COUNT, ntargets); entry_ok(n);
  }

  /* I/O bitmaps: each address 4-KByte aligned, within MAXPHYADDR */
  int io = allowed1(VT_PROC, VT_PROC_IO_BITMAPS);
  CHECK(io, "26.2.1.1 I/O bitmap A address not 4-KByte aligned") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_IO_BITMAPS);
    set_field(VT_IO_BITMAP_A, (u64)page_a + 0x800); set_field(VT_IO_BITMAP_B, (u64)page_b);
    CTL(n);
  }
  CHECK(io, "26.2.1.1 I/O bitmap B address beyond MAXPHYADDR") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_IO_BITMAPS);
    set_field(VT_IO_BITMAP_A, (u64)page_a); set_field(VT_IO_BITMAP_B, (u64)page_b | (1ull << maxph));
    CTL(n);
  }
  CHECK(io, "26.2.1.1 valid I/O bitmap addresses: entry succeeds") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_IO_BITMAPS);
    memset(page_a, 0, 4096); memset(page_b, 0, 4096);
    set_field(VT_IO_BITMAP_A, (u64)page_a); set_field(VT_IO_BITMAP_B, (u64)page_b);
    entry_ok(n);
  }
  int msrbm = allowed1(VT_PROC, VT_PROC_MSR_BITMAPS);
  CHECK(msrbm, "26.2.1.1 MSR bitmap address not 4-KByte aligned") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_MSR_BITMAPS);
    set_field(VT_MSR_BITMAP, (u64)page_c + 0x10);
    CTL(n);
  }
  CHECK(msrbm, "26.2.1.1 MSR bitmap address beyond MAXPHYADDR") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_MSR_BITMAPS);
    set_field(VT_MSR_BITMAP, (u64)page_c | (1ull << maxph));
    CTL(n);
  }

  /* TPR shadow: virtual-APIC address, TPR threshold bits 31:4, threshold vs VTPR (byte 80H
   * of the virtual-APIC page) */
  int tpr = allowed1(VT_PROC, VT_PROC_TPR_SHADOW);
  memset(page_a, 0, 4096);
  CHECK(tpr, "26.2.1.1 virtual-APIC address not 4-KByte aligned") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_TPR_SHADOW);
    set_field(VT_VIRTUAL_APIC_PAGE, (u64)page_a + 0x80);
    CTL(n);
  }
  CHECK(tpr, "26.2.1.1 virtual-APIC address beyond MAXPHYADDR") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_TPR_SHADOW);
    set_field(VT_VIRTUAL_APIC_PAGE, (u64)page_a | (1ull << maxph));
    CTL(n);
  }
  CHECK(tpr, "26.2.1.1 TPR threshold bits 31:4 not 0") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_TPR_SHADOW);
    set_field(VT_VIRTUAL_APIC_PAGE, (u64)page_a);
    set_field(VT_TPR_THRESHOLD, 0x10);
    CTL(n);
  }
  CHECK(tpr, "26.2.1.1 TPR threshold 3 above VTPR[7:4] = 2") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_TPR_SHADOW);
    set_field(VT_VIRTUAL_APIC_PAGE, (u64)page_a);
    page_a[0x80] = 0x20;
    set_field(VT_TPR_THRESHOLD, 3);
    CTL(n);
  }
  CHECK(tpr, "26.2.1.1 TPR threshold 2 = VTPR[7:4]: entry succeeds") {
    base(); vt_ctl_on(VT_PROC, VT_PROC_TPR_SHADOW);
    set_field(VT_VIRTUAL_APIC_PAGE, (u64)page_a);
    page_a[0x80] = 0x20;
    set_field(VT_TPR_THRESHOLD, 2);
    entry_ok(n);
  }

  /* NMI controls */
  CHECK(allowed1(VT_PIN, VT_PIN_VIRTUAL_NMIS), "26.2.1.1 virtual NMIs without NMI exiting") {
    base(); vt_ctl_off(VT_PIN, VT_PIN_NMI); or_field(PIN_BASED_CONTROLS, VT_PIN_VIRTUAL_NMIS);
    CTL(n);
  }
  CHECK(allowed1(VT_PROC, VT_PROC_NMI_WINDOW), "26.2.1.1 NMI-window exiting without virtual NMIs") {
    base(); vt_ctl_off(VT_PIN, VT_PIN_VIRTUAL_NMIS); or_field(PROC_BASED_CONTROLS, VT_PROC_NMI_WINDOW);
    CTL(n);
  }
  CHECK(allowed1(VT_PIN, 1u << 7), "26.2.1.1 process posted interrupts without virtual-interrupt delivery") {
    base(); or_field(PIN_BASED_CONTROLS, 1u << 7);
    CTL(n);
  }

  /* VPID 0 */
  int vpid = allowed1(VT_PROC2, VT_PROC2_VPID);
  CHECK(vpid, "26.2.1.1 enable VPID with VPID 0") {
    base(); vt_ctl_on(VT_PROC2, VT_PROC2_VPID); set_field(VT_VPID, 0);
    CTL(n);
  }
  CHECK(vpid, "26.2.1.1 enable VPID with VPID 1: entry succeeds") {
    base(); vt_ctl_on(VT_PROC2, VT_PROC2_VPID); set_field(VT_VPID, 1);
    entry_ok(n);
  }

  /* EPTP (§24.6.11); the EPT itself is vt_ept_identity's */
  int ept = allowed1(VT_PROC2, VT_PROC2_EPT);
  u64 eptp = 0;
  if (ept) { base(); ept = vt_ept_identity(1); eptp = vmread(EPT_POINTER); }
  CHECK(ept, "26.2.1.1 EPT with a valid EPTP: entry succeeds") entry_ok(n);
  static const struct { u64 clear, set; const char *name; } bad[] = {
    { 7, 2, "26.2.1.1 EPTP memory type 2 (reserved)" },
    { 7, 7, "26.2.1.1 EPTP memory type 7 (reserved)" },
    { 0x38, 1 << 3, "26.2.1.1 EPTP page-walk length 2" },
    { 0, 0x200, "26.2.1.1 EPTP reserved bit 9" },
    { 0, 0x800, "26.2.1.1 EPTP reserved bit 11" },
    { 0, 0, "26.2.1.1 EPTP address beyond MAXPHYADDR" },
  };
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(ept, bad[i].name) {
      base(); vt_ept_identity(1);
      set_field(EPT_POINTER, bad[i].clear | bad[i].set ? (eptp & ~bad[i].clear) | bad[i].set : eptp | (1ull << maxph));
      CTL(n);
    }
  }
  CHECK(ept && !(ept_vpid_cap & (1ull << 7)), "26.2.1.1 EPTP page-walk length 5 when IA32_VMX_EPT_VPID_CAP[7] = 0") {
    base(); vt_ept_identity(1);
    set_field(EPT_POINTER, (eptp & ~0x38ull) | (4 << 3));
    CTL(n);
  }
  CHECK(ept && !(ept_vpid_cap & (1ull << 8)), "26.2.1.1 EPTP memory type UC when IA32_VMX_EPT_VPID_CAP[8] = 0") {
    base(); vt_ept_identity(1);
    set_field(EPT_POINTER, eptp & ~7ull);
    CTL(n);
  }
  CHECK(ept && !(ept_vpid_cap & (1ull << 21)), "26.2.1.1 EPTP accessed/dirty enable when IA32_VMX_EPT_VPID_CAP[21] = 0") {
    base(); vt_ept_identity(1);
    set_field(EPT_POINTER, eptp | 0x40);
    CTL(n);
  }
  CHECK(ept && (ept_vpid_cap & (1ull << 21)), "26.2.1.1 EPTP accessed/dirty enable when IA32_VMX_EPT_VPID_CAP[21] = 1: entry succeeds") {
    base(); vt_ept_identity(1);
    set_field(EPT_POINTER, eptp | 0x40);
    entry_ok(n);
  }
  CHECK(allowed1(VT_PROC2, VT_PROC2_UNRESTRICTED), "26.2.1.1 unrestricted guest without EPT") {
    base(); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED); vt_ctl_off(VT_PROC2, VT_PROC2_EPT);
    CTL(n);
  }
}

static void test_exit_entry_controls(void) {
  u32 maxph = maxphyaddr;
  /* §26.2.1.2 */
  CHECK(allowed1(VT_EXIT, VT_EXIT_CTL_SAVE_PREEMPT), "26.2.1.2 save VMX-preemption timer value without the timer") {
    base(); vt_ctl_off(VT_PIN, VT_PIN_PREEMPT); vt_ctl_on(VT_EXIT, VT_EXIT_CTL_SAVE_PREEMPT);
    CTL(n);
  }
  static const struct { u32 count, addr; const char *name; } areas[] = {
    { EXIT_MSR_STORE_COUNT, VT_EXIT_MSR_STORE_ADDR, "26.2.1.2 VM-exit MSR-store address" },
    { EXIT_MSR_LOAD_COUNT, VT_EXIT_MSR_LOAD_ADDR, "26.2.1.2 VM-exit MSR-load address" },
    { ENTRY_MSR_LOAD_COUNT, VT_ENTRY_MSR_LOAD_ADDR, "26.2.1.3 VM-entry MSR-load address" },
  };
  for (int i = 0; i < 3; i++) {
    base(); set_field(areas[i].count, 1); set_field(areas[i].addr, (u64)msr_area_ctl + 8);
    entry_vmfail(cat3(areas[i].name, " not 16-byte aligned", " -> VMfailValid(7)"), 7);
    base(); set_field(areas[i].count, 2); set_field(areas[i].addr, (1ull << maxph) - 0x10);
    entry_vmfail(cat3(areas[i].name, ": count 2 from 16 bytes below 2^MAXPHYADDR, last byte beyond", " -> VMfailValid(7)"), 7);
  }
  /* the count is 0: the address is not checked (§26.2.1.2: "If the count field is not 0") */
  base(); set_field(VT_ENTRY_MSR_LOAD_ADDR, (u64)msr_area_ctl + 8);
  entry_ok("26.2.1.3 misaligned VM-entry MSR-load address with count 0: entry succeeds");

  /* §26.2.1.3 VM-entry interruption-information field */
  static const struct { u32 info, err, len, flags; const char *name; } inj[] = {
    { VT_INTR_VALID | (1 << 8) | 0x20, 0, 0, 0, "26.2.1.3 injection type 1 (reserved)" },
    { VT_INTR_VALID | (VT_INTR_NMI << 8) | 3, 0, 0, 0, "26.2.1.3 NMI injection with vector 3" },
    { VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | 32, 0, 0, 0, "26.2.1.3 hardware exception vector 32" },
    { VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | VT_INTR_ERROR_VALID | 6, 0, 0, 1, "26.2.1.3 #UD with deliver-error-code" },
    { VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | 13, 0, 0, 1, "26.2.1.3 #GP without deliver-error-code" },
    { VT_INTR_VALID | (VT_INTR_EXT << 8) | VT_INTR_ERROR_VALID | 0x30, 0, 0, 0, "26.2.1.3 external interrupt with deliver-error-code" },
    { VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | (1 << 12) | 3, 0, 0, 0, "26.2.1.3 interruption-information reserved bit 12" },
    { VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | (1 << 30) | 3, 0, 0, 0, "26.2.1.3 interruption-information reserved bit 30" },
    { VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | VT_INTR_ERROR_VALID | 13, 0x10000, 0, 0, "26.2.1.3 error code bits 31:16 not 0" },
    { VT_INTR_VALID | (VT_INTR_SW_INT << 8) | 0x80, 0, 16, 0, "26.2.1.3 software interrupt with instruction length 16" },
    { VT_INTR_VALID | (VT_INTR_SW_EXC << 8) | 3, 0, 16, 0, "26.2.1.3 software exception with instruction length 16" },
    { VT_INTR_VALID | (VT_INTR_PRIV_SW_EXC << 8) | 1, 0, 16, 0, "26.2.1.3 privileged software exception with instruction length 16" },
  };
  /* IA32_VMX_BASIC[56] = 1 lifts the deliver-error-code consistency rule (App. A.1) */
  int any_ec = (rdmsr(MSR_VMX_BASIC) >> 56) & 1;
  for (unsigned i = 0; i < sizeof inj / sizeof inj[0]; i++) {
    if (any_ec && (inj[i].flags & 1)) { skip(inj[i].name); continue; }
    base();
    set_field(GUEST_RFLAGS, 0x202); /* IF = 1: only the checked field is wrong */
    set_field(ENTRY_INTR_INFO, inj[i].info);
    set_field(VT_ENTRY_EXCEPTION_ERROR, inj[i].err);
    set_field(VT_ENTRY_INSTRUCTION_LEN, inj[i].len);
    CTL(inj[i].name);
  }
  CHECK(!(misc_cap & (1ull << 30)), "26.2.1.3 software interrupt with instruction length 0 when IA32_VMX_MISC[30] = 0") {
    base();
    set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_SW_INT << 8) | 0x80);
    set_field(VT_ENTRY_INSTRUCTION_LEN, 0);
    CTL(n);
  }
  /* with unrestricted guest and CR0.PE = 0, no hardware exception delivers an error code */
  CHECK(!any_ec && allowed1(VT_PROC2, VT_PROC2_UNRESTRICTED) && allowed1(VT_PROC2, VT_PROC2_EPT),
        "26.2.1.3 #GP with deliver-error-code into an unrestricted guest with CR0.PE = 0") {
    base(); vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED);
    and_field(GUEST_CR0, ~0x80000001ull);
    set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_HW_EXC << 8) | VT_INTR_ERROR_VALID | 13);
    CTL(n);
  }
  /* type 7 "other event": needs the monitor trap flag; vector must be 0 */
  if (allowed1(VT_PROC, VT_PROC_MTF)) {
    base();
    set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (7 << 8) | 1);
    CTL("26.2.1.3 other event (type 7) with vector 1");
  } else {
    base();
    set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (7 << 8));
    CTL("26.2.1.3 other event (type 7) without monitor-trap-flag support");
  }
  /* the valid bit clear: the other bits are not checked */
  base();
  set_field(ENTRY_INTR_INFO, (1 << 8) | (1 << 30) | 0xff);
  entry_ok("26.2.1.3 interruption-information with valid bit 0 is not checked: entry succeeds");
}

/* ---- §26.2.2-26.2.4 checks on the host-state area -> VMfailValid(8) ---- */
static void test_host_state(void) {
  u32 maxph = maxphyaddr;
  const u64 noncanon = 0x0000800000000000ull;
  base(); and_field(HOST_CR0, ~CR0_NE);
  HOST("26.2.2 host CR0.NE = 0 (IA32_VMX_CR0_FIXED0)");
  base(); or_field(HOST_CR0, 1ull << 32);
  HOST("26.2.2 host CR0 bit 32 set (IA32_VMX_CR0_FIXED1)");
  base(); and_field(HOST_CR4, ~CR4_VMXE);
  HOST("26.2.2 host CR4.VMXE = 0 (IA32_VMX_CR4_FIXED0)");
  base(); or_field(HOST_CR4, 1ull << 63);
  HOST("26.2.2 host CR4 bit 63 set (IA32_VMX_CR4_FIXED1)");
  base(); or_field(HOST_CR3, 1ull << maxph);
  HOST("26.2.2 host CR3 beyond MAXPHYADDR");
  base(); set_field(HOST_SYSENTER_ESP, noncanon);
  HOST("26.2.2 host IA32_SYSENTER_ESP not canonical");
  base(); set_field(HOST_SYSENTER_EIP, noncanon);
  HOST("26.2.2 host IA32_SYSENTER_EIP not canonical");
  int hpat = allowed1(VT_EXIT, 1u << 19);
  CHECK(hpat, "26.2.2 load IA32_PAT: host PAT entry 1 = 2 (reserved type)") {
    base(); vt_ctl_on(VT_EXIT, 1u << 19); set_field(VT_HOST_IA32_PAT, (0x0007040600070406ull & ~0xff00ull) | (2ull << 8));
    HOST(n);
  }
  CHECK(hpat, "26.2.2 load IA32_PAT: valid host PAT: entry succeeds") {
    base(); vt_ctl_on(VT_EXIT, 1u << 19); set_field(VT_HOST_IA32_PAT, 0x0007040600070406ull);
    entry_ok(n);
  }
  int hefer = allowed1(VT_EXIT, 1u << 21);
  u64 efer = rdmsr(0xc0000080);
  CHECK(hefer, "26.2.2 load IA32_EFER: host EFER reserved bit 3 set") {
    base(); vt_ctl_on(VT_EXIT, 1u << 21); set_field(VT_HOST_IA32_EFER, efer | (1ull << 3));
    HOST(n);
  }
  CHECK(hefer, "26.2.2 load IA32_EFER: host EFER.LMA = 0 with host address-space size 1") {
    base(); vt_ctl_on(VT_EXIT, 1u << 21); set_field(VT_HOST_IA32_EFER, efer & ~(1ull << 10));
    HOST(n);
  }
  CHECK(hefer, "26.2.2 load IA32_EFER: host EFER.LME = 0 with host address-space size 1") {
    base(); vt_ctl_on(VT_EXIT, 1u << 21); set_field(VT_HOST_IA32_EFER, efer & ~(1ull << 8));
    HOST(n);
  }
  /* §26.2.3 selectors: RPL and TI 0; CS and TR not 0 */
  static const struct { u32 field; u64 value; const char *name; } sel[] = {
    { HOST_ES_SELECTOR, 0x13, "26.2.3 host ES selector RPL 3" },
    { HOST_CS_SELECTOR, 0x0c, "26.2.3 host CS selector TI 1" },
    { HOST_SS_SELECTOR, 0x11, "26.2.3 host SS selector RPL 1" },
    { HOST_DS_SELECTOR, 0x14, "26.2.3 host DS selector TI 1" },
    { HOST_FS_SELECTOR, 0x12, "26.2.3 host FS selector RPL 2" },
    { HOST_GS_SELECTOR, 0x17, "26.2.3 host GS selector RPL 3, TI 1" },
    { HOST_TR_SELECTOR, 0x23, "26.2.3 host TR selector RPL 3" },
    { HOST_CS_SELECTOR, 0, "26.2.3 host CS selector 0" },
    { HOST_TR_SELECTOR, 0, "26.2.3 host TR selector 0" },
  };
  for (unsigned i = 0; i < sizeof sel / sizeof sel[0]; i++) {
    base(); set_field(sel[i].field, sel[i].value);
    HOST(sel[i].name);
  }
  /* SS = 0 is allowed with a 64-bit host (§26.2.3): a positive check; the exit loads SS = 0,
   * so the kernel's SS is restored right after */
  base(); set_field(HOST_SS_SELECTOR, 0);
  entry_ok("26.2.3 host SS selector 0 with host address-space size 1: entry succeeds");
  __asm__ volatile("mov %0, %%ss" : : "r"(0x10) : "memory");
  static const struct { u32 field; const char *name; } bases[] = {
    { HOST_FS_BASE, "26.2.3 host FS base not canonical" },
    { HOST_GS_BASE, "26.2.3 host GS base not canonical" },
    { HOST_GDTR_BASE, "26.2.3 host GDTR base not canonical" },
    { HOST_IDTR_BASE, "26.2.3 host IDTR base not canonical" },
    { HOST_TR_BASE, "26.2.3 host TR base not canonical" },
  };
  for (unsigned i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    base(); set_field(bases[i].field, noncanon);
    HOST(bases[i].name);
  }
  /* §26.2.4 address-space size */
  base(); and_field(EXIT_CONTROLS, ~(u64)VT_EXIT_CTL_HOST64); and_field(ENTRY_CONTROLS, ~(u64)VT_ENTRY_CTL_IA32E);
  HOST("26.2.4 host address-space size 0 while in IA-32e mode");
  base(); and_field(HOST_CR4, ~(1ull << 5));
  HOST("26.2.4 host CR4.PAE = 0 with host address-space size 1");
  base(); set_field(HOST_RIP, noncanon);
  HOST("26.2.4 host RIP not canonical");
  base(); and_field(EXIT_CONTROLS, ~(u64)VT_EXIT_CTL_HOST64);
  HOST("26.2.4 IA-32e mode guest with host address-space size 0");
}

/* ---- §26.3.1 checks on the guest-state area -> VM-entry failure, exit reason 33 ---- */

/* Fields whose checks apply only with a control set (§26.2.1, §26.2.2, §26.3.1.1): with the
 * control clear, a value that would fail must not matter. `off` tells whether the control
 * could be cleared (a must-be-1 control makes the check a SKIP). */
static int ctl_is_off(int word, u32 bit) {
  static const u32 fields[5] = { PIN_BASED_CONTROLS, PROC_BASED_CONTROLS, SECONDARY_CONTROLS, EXIT_CONTROLS, ENTRY_CONTROLS };
  vt_ctl_off(word, bit);
  return (vmread(fields[word]) & bit) == 0;
}
static void test_unchecked_when_off(void) {
  base();
  CHECK(ctl_is_off(VT_PROC2, VT_PROC2_EPT), "26.2.1.1 EPTP with reserved memory type 2 is not checked when \"enable EPT\" is 0: entry succeeds") {
    set_field(EPT_POINTER, 0x802); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_PROC, VT_PROC_IO_BITMAPS), "26.2.1.1 misaligned I/O bitmap addresses are not checked without \"use I/O bitmaps\": entry succeeds") {
    set_field(VT_IO_BITMAP_A, 0x123); set_field(VT_IO_BITMAP_B, 0x456); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_PROC, VT_PROC_MSR_BITMAPS), "26.2.1.1 a misaligned MSR-bitmap address is not checked without \"use MSR bitmaps\": entry succeeds") {
    set_field(VT_MSR_BITMAP, 0x789); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_PROC, VT_PROC_TPR_SHADOW), "26.2.1.1 virtual-APIC address and TPR threshold are not checked without \"use TPR shadow\": entry succeeds") {
    set_field(VT_VIRTUAL_APIC_PAGE, 0xabc); set_field(VT_TPR_THRESHOLD, 0xff); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_EXIT, 1u << 19), "26.2.2 host IA32_PAT is not checked without \"load IA32_PAT\" on exit: entry succeeds") {
    set_field(VT_HOST_IA32_PAT, 0x0202020202020202ull); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_EXIT, 1u << 21), "26.2.2 host IA32_EFER is not checked without \"load IA32_EFER\" on exit: entry succeeds") {
    set_field(VT_HOST_IA32_EFER, 0xffff0000ull); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_ENTRY, 1u << 14), "26.3.1.1 guest IA32_PAT is not checked without \"load IA32_PAT\" on entry: entry succeeds") {
    set_field(VT_GUEST_IA32_PAT, 0x0303030303030303ull); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_ENTRY, 1u << 15), "26.3.1.1 guest IA32_EFER is not checked without \"load IA32_EFER\" on entry: entry succeeds") {
    set_field(VT_GUEST_IA32_EFER, 0xffff0000ull); entry_ok(n);
  }
  base();
  CHECK(ctl_is_off(VT_ENTRY, 1u << 2), "26.3.1.1 IA32_DEBUGCTL and DR7 bits 63:32 are not checked without \"load debug controls\": entry succeeds") {
    set_field(GUEST_IA32_DEBUGCTL, 1ull << 63); set_field(GUEST_DR7, 0x400 | (1ull << 40)); entry_ok(n);
  }
}

void test_entry_controls_host(void) {
  test_baseline_and_launch_state();
  test_control_reserved_bits();
  test_exec_controls();
  test_exit_entry_controls();
  test_host_state();
  test_unchecked_when_off();
}
