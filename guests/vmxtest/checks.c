/*
 * vmx-checks: the VMX instructions' success and error paths and the VM-entry checks, each
 * against the SDM (Vol. 3C §30.2 conventions, §30.3 instruction pseudocode, §30.4 VM-
 * instruction error numbers, §26.2-26.4 VM-entry checks, §26.8 entry failures).
 *
 * This file (no guest): VMXON, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH/VMRESUME
 * without a usable VMCS, INVEPT, INVVPID, VMCALL in root operation and VMXOFF, on regions of
 * this file; every outcome is checked with the full §30.2 flag semantics: before each
 * instruction the six arithmetic flags are preset to the opposite of what the SDM says it
 * leaves (VMsucceed: all clear; VMfailInvalid: CF only; VMfailValid: ZF only).
 * checks-entry.c and checks-guest.c (vt.h framework): one VM-entry check per test, one field
 * corrupted from a valid baseline (vt_baseline) -> VMfailValid 7 (controls) / 8 (host
 * state), or a VM-entry failure exit 33 (guest state) / 34 (MSR loading) with bit 31 set and
 * the qualification of §26.8.
 *
 * Expected values come from the SDM, never from the implementation under test. A check
 * whose feature the capability MSRs do not offer prints "SKIP: name (not supported)"
 * instead of PASS/FAIL (PASS + SKIP lines are the same number on every processor) and is
 * not counted in the SUMMARY line. Exit status 1 when everything passed, 3 otherwise.
 */
#include "checks.h"

/* RFLAGS arithmetic flags each outcome of §30.2 leaves */
static const u64 outcome_flags[3] = { 0, FL_CF, FL_ZF };

static u8 vmxon_region[4096] __attribute__((aligned(4096)));
static u8 vmcs_a[4096] __attribute__((aligned(4096)));
static u8 vmcs_b[4096] __attribute__((aligned(4096)));
static u8 vmcs_bad_rev[4096] __attribute__((aligned(4096)));
/* memory operands of the instructions: static, so no operand is RSP-relative while the
 * wrappers below push and pop the flags */
static u64 ptr_op;
u64 mem_op;
static struct { u64 lo, hi; } __attribute__((aligned(16))) desc_op;

u32 revision_id, maxphyaddr;
u64 misc_cap, ept_vpid_cap, proc2_allowed1;

void skip(const char *name) { report_skip(name); }
int sup(int ok, const char *name) { if (!ok) skip(name); return ok; }

/* ---- instruction wrappers: preset flags, execute, return RFLAGS ---- */
/* Each pushes `pre` into RFLAGS (bit 1 always 1, IF/TF/DF clear), runs the instruction with
 * register-indirect operands only, and returns RFLAGS right after it. */
#define VMX_M64(insn, p, pre)                                                                  \
  ({                                                                                           \
    u64 _fl;                                                                                   \
    __asm__ volatile("pushq %2; popfq; " insn " (%1); pushfq; popq %0"                         \
                     : "=&r"(_fl) : "r"(p), "r"((u64)(pre) | 2) : "cc", "memory");             \
    _fl;                                                                                       \
  })

static u64 do_vmxon(u64 pa, u64 pre) { ptr_op = pa; return VMX_M64("vmxon", &ptr_op, pre); }
u64 do_vmclear(u64 pa, u64 pre) { ptr_op = pa; return VMX_M64("vmclear", &ptr_op, pre); }
u64 do_vmptrld(u64 pa, u64 pre) { ptr_op = pa; return VMX_M64("vmptrld", &ptr_op, pre); }
u64 do_vmptrst(u64 pre) { mem_op = 0x5a5a5a5a5a5a5a5aull; return VMX_M64("vmptrst", &mem_op, pre); }

static u64 do_vmread(u64 field, u64 *value, u64 pre) {
  u64 fl, v = 0xdeadbeefcafef00dull;
  __asm__ volatile("pushq %3; popfq; vmread %2, %1; pushfq; popq %0"
                   : "=&r"(fl), "+&r"(v) : "r"(field), "r"(pre | 2) : "cc", "memory");
  *value = v;
  return fl;
}
static u64 do_vmread_mem(u64 field, u64 pre) {
  u64 fl;
  mem_op = 0xdeadbeefcafef00dull;
  __asm__ volatile("pushq %3; popfq; vmread %2, (%1); pushfq; popq %0"
                   : "=&r"(fl) : "r"(&mem_op), "r"(field), "r"(pre | 2) : "cc", "memory");
  return fl;
}
static u64 do_vmwrite(u64 field, u64 value, u64 pre) {
  u64 fl;
  __asm__ volatile("pushq %3; popfq; vmwrite %2, %1; pushfq; popq %0"
                   : "=&r"(fl) : "r"(field), "r"(value), "r"(pre | 2) : "cc", "memory");
  return fl;
}
static u64 do_invept(u64 type, u64 eptp, u64 pre) {
  u64 fl;
  desc_op.lo = eptp;
  desc_op.hi = 0;
  __asm__ volatile("pushq %3; popfq; invept (%1), %2; pushfq; popq %0"
                   : "=&r"(fl) : "r"(&desc_op), "r"(type), "r"(pre | 2) : "cc", "memory");
  return fl;
}
static u64 do_invvpid(u64 type, u64 vpid_qword, u64 linear, u64 pre) {
  u64 fl;
  desc_op.lo = vpid_qword;
  desc_op.hi = linear;
  __asm__ volatile("pushq %3; popfq; invvpid (%1), %2; pushfq; popq %0"
                   : "=&r"(fl) : "r"(&desc_op), "r"(type), "r"(pre | 2) : "cc", "memory");
  return fl;
}
u64 do_simple(int which, u64 pre) {
  u64 fl;
  switch (which) {
  case 0: __asm__ volatile("pushq %1; popfq; vmlaunch; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  case 1: __asm__ volatile("pushq %1; popfq; vmresume; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  case 2: __asm__ volatile("pushq %1; popfq; vmcall; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  default: __asm__ volatile("pushq %1; popfq; vmxoff; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  }
  return fl;
}

/* The preset for an expected outcome: every arithmetic flag opposite to what §30.2 leaves,
 * so a flag the instruction forgets to set or clear shows. */
u64 pre_for(int want) { return (~outcome_flags[want]) & FL_ARITH; }

static u64 current_error(void) {
  u64 v = 0;
  do_vmread(VM_INSTRUCTION_ERROR, &v, 0);
  return v & 0xffffffff;
}

static const char *const outcome_name[3] = { "VMsucceed", "VMfailInvalid", "VMfailValid" };

/* Checks RFLAGS `fl` against outcome `want` (and, for VMfailValid, VM-instruction error
 * `err`, read from the current VMCS), and reports. */
int expect(const char *name, u64 fl, int want, u32 err) {
  u64 got = fl & FL_ARITH;
  int ok = got == outcome_flags[want];
  u32 e = 0;
  if (ok && want == FAIL_VALID) {
    e = (u32)current_error();
    ok = e == err;
  }
  if (!ok) {
    printf("  %s: expected %s", name, outcome_name[want]);
    if (want == FAIL_VALID) printf(" (error %u)", err);
    printf(", got RFLAGS arithmetic flags %#lx", got);
    if (got == FL_ZF) printf(" (error %u)", (u32)current_error());
    printf("\n");
  }
  report(name, ok);
  return ok;
}

/* ---- exceptions: fault_try() bodies ---- */
static void ud_vmxon(void *arg) { (void)arg; do_vmxon((u64)vmxon_region, 0); }
static void ud_vmptrld(void *arg) { (void)arg; do_vmptrld((u64)vmcs_a, 0); }
static void ud_vmptrst(void *arg) { (void)arg; do_vmptrst(0); }
static void ud_vmxoff(void *arg) { (void)arg; do_simple(I_VMXOFF, 0); }
static void ud_vmcall(void *arg) { (void)arg; do_simple(I_VMCALL, 0); }
static void ud_vmread(void *arg) { (void)arg; u64 v; do_vmread(GUEST_RIP, &v, 0); }
/* F0 0F 78 C0: LOCK VMREAD RAX, RAX */
static void ud_lock_vmread(void *arg) { (void)arg; __asm__ volatile(".byte 0xf0, 0x0f, 0x78, 0xc0" ::: "rax", "cc", "memory"); }

static u64 cr0_saved;
static void gp_vmxon_without_ne(void *arg) {
  (void)arg;
  write_cr0(cr0_saved & ~CR0_NE);
  do_vmxon((u64)vmxon_region, 0);
}

static void prepare_region(u8 *r, u32 rev) {
  memset(r, 0, 4096);
  *(u32 *)r = rev;
}

/* ============================================================================================
 * Part 1: the instructions without a guest
 * ========================================================================================== */

/* §30.3 VMXON: #UD with CR4.VMXE = 0; #GP(0) when CR0/CR4 violate the fixed bits (§23.8);
 * VMfailInvalid for a pointer not 4-KByte aligned, beyond MAXPHYADDR, or a region whose
 * revision identifier differs (bit 31 included); then VMsucceed; in root operation
 * VMfailInvalid without a current VMCS, VMfailValid(15) with one. */
static void test_vmxon(void) {
  u64 cr4 = read_cr4();
  write_cr4(cr4 & ~CR4_VMXE);
  expect_fault("VMXON with CR4.VMXE = 0: #UD (SDM 30.3 VMXON)", ud_vmxon, 0, 6);
  write_cr4(cr4 | CR4_VMXE);
  expect_fault("VMPTRLD outside VMX operation: #UD (SDM 30.3 VMPTRLD)", ud_vmptrld, 0, 6);
  expect_fault("VMPTRST outside VMX operation: #UD (SDM 30.3 VMPTRST)", ud_vmptrst, 0, 6);
  expect_fault("VMXOFF outside VMX operation: #UD (SDM 30.3 VMXOFF)", ud_vmxoff, 0, 6);
  expect_fault("VMCALL outside VMX operation: #UD (SDM 30.3 VMCALL)", ud_vmcall, 0, 6);
  expect_fault("VMREAD outside VMX operation: #UD (SDM 30.3 VMREAD)", ud_vmread, 0, 6);

  /* §23.8: CR0 bits fixed to 1 in VMX operation (IA32_VMX_CR0_FIXED0) must be 1 at VMXON;
   * the boot code leaves CR0.NE clear, so first set the fixed bits as any VMM does */
  write_cr0((read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1));
  cr0_saved = read_cr0();
  if (rdmsr(MSR_VMX_CR0_FIXED0) & CR0_NE) {
    int v = fault_try(gp_vmxon_without_ne, 0);
    write_cr0(cr0_saved);
    if (v < 0) {
      /* it entered VMX operation: leave again so the next tests start outside */
      do_simple(I_VMXOFF, 0);
    }
    report("VMXON with CR0.NE = 0 (IA32_VMX_CR0_FIXED0.NE = 1): #GP (SDM 23.8, 30.3 VMXON)", v == 13);
  } else {
    skip("VMXON with CR0.NE = 0 (CR0.NE not fixed to 1)");
  }

  prepare_region(vmxon_region, revision_id);
  expect("VMXON, pointer not 4-KByte aligned: VMfailInvalid (SDM 30.3 VMXON)",
         do_vmxon((u64)vmxon_region + 0x8, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  expect("VMXON, pointer bit 11 set: VMfailInvalid (SDM 30.3 VMXON)",
         do_vmxon((u64)vmxon_region | 0x800, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  expect("VMXON, pointer beyond MAXPHYADDR: VMfailInvalid (SDM 30.3 VMXON)",
         do_vmxon((u64)vmxon_region | (1ull << maxphyaddr), pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  prepare_region(vmxon_region, revision_id ^ 1);
  expect("VMXON, wrong VMCS revision identifier: VMfailInvalid (SDM 30.3 VMXON)",
         do_vmxon((u64)vmxon_region, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  prepare_region(vmxon_region, revision_id | 0x80000000u);
  expect("VMXON, revision identifier bit 31 set: VMfailInvalid (SDM 30.3 VMXON, 24.11.5)",
         do_vmxon((u64)vmxon_region, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  prepare_region(vmxon_region, revision_id);
  expect("VMXON: VMsucceed (SDM 30.3 VMXON)", do_vmxon((u64)vmxon_region, pre_for(OK)), OK, 0);
  expect("VMXON in VMX root operation, no current VMCS: VMfailInvalid (SDM 30.3 VMXON)",
         do_vmxon((u64)vmxon_region, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
}

/* §30.3 VMPTRLD / VMPTRST / VMCLEAR, and VMXON's error 15 once a VMCS is current. */
static void test_vmcs_pointers(void) {
  u64 v;
  prepare_region(vmcs_a, revision_id);
  prepare_region(vmcs_b, revision_id);
  prepare_region(vmcs_bad_rev, revision_id ^ 2);

  expect("VMPTRST with no current VMCS: VMsucceed (SDM 30.3 VMPTRST)", do_vmptrst(pre_for(OK)), OK, 0);
  report("VMPTRST with no current VMCS stores FFFFFFFF_FFFFFFFFH (SDM 30.3 VMPTRST, 24.11.2)", mem_op == ~0ull);
  expect("VMREAD with no current VMCS: VMfailInvalid (SDM 30.3 VMREAD)",
         do_vmread(GUEST_RIP, &v, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  expect("VMWRITE with no current VMCS: VMfailInvalid (SDM 30.3 VMWRITE)",
         do_vmwrite(GUEST_RIP, 0x1234, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  expect("VMLAUNCH with no current VMCS: VMfailInvalid (SDM 30.3 VMLAUNCH)",
         do_simple(I_VMLAUNCH, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  expect("VMRESUME with no current VMCS: VMfailInvalid (SDM 30.3 VMRESUME)",
         do_simple(I_VMRESUME, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  /* VMfail(n) is VMfailInvalid while there is no current VMCS (§30.2) */
  expect("VMPTRLD not aligned, no current VMCS: VMfailInvalid (SDM 30.2, 30.3 VMPTRLD)",
         do_vmptrld((u64)vmcs_a + 8, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  expect("VMCLEAR of the VMXON pointer, no current VMCS: VMfailInvalid (SDM 30.2, 30.3 VMCLEAR)",
         do_vmclear((u64)vmxon_region, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);

  expect("VMCLEAR: VMsucceed (SDM 30.3 VMCLEAR)", do_vmclear((u64)vmcs_a, pre_for(OK)), OK, 0);
  expect("VMPTRLD: VMsucceed (SDM 30.3 VMPTRLD)", do_vmptrld((u64)vmcs_a, pre_for(OK)), OK, 0);
  expect("VMPTRST: VMsucceed (SDM 30.3 VMPTRST)", do_vmptrst(pre_for(OK)), OK, 0);
  report("VMPTRST stores the current-VMCS pointer (SDM 30.3 VMPTRST)", mem_op == (u64)vmcs_a);

  expect("VMXON in VMX root operation with a current VMCS: VMfailValid(15) (SDM 30.3 VMXON)",
         do_vmxon((u64)vmxon_region, pre_for(FAIL_VALID)), FAIL_VALID, 15);

  expect("VMCLEAR, pointer not 4-KByte aligned: VMfailValid(2) (SDM 30.3 VMCLEAR)",
         do_vmclear((u64)vmcs_b + 0x10, pre_for(FAIL_VALID)), FAIL_VALID, 2);
  expect("VMCLEAR, pointer beyond MAXPHYADDR: VMfailValid(2) (SDM 30.3 VMCLEAR)",
         do_vmclear((u64)vmcs_b | (1ull << maxphyaddr), pre_for(FAIL_VALID)), FAIL_VALID, 2);
  expect("VMCLEAR of the VMXON pointer: VMfailValid(3) (SDM 30.3 VMCLEAR)",
         do_vmclear((u64)vmxon_region, pre_for(FAIL_VALID)), FAIL_VALID, 3);
  expect("VMPTRLD, pointer not 4-KByte aligned: VMfailValid(9) (SDM 30.3 VMPTRLD)",
         do_vmptrld((u64)vmcs_b + 0x100, pre_for(FAIL_VALID)), FAIL_VALID, 9);
  expect("VMPTRLD, pointer beyond MAXPHYADDR: VMfailValid(9) (SDM 30.3 VMPTRLD)",
         do_vmptrld((u64)vmcs_b | (1ull << maxphyaddr), pre_for(FAIL_VALID)), FAIL_VALID, 9);
  expect("VMPTRLD of the VMXON pointer: VMfailValid(10) (SDM 30.3 VMPTRLD)",
         do_vmptrld((u64)vmxon_region, pre_for(FAIL_VALID)), FAIL_VALID, 10);
  expect("VMPTRLD, wrong VMCS revision identifier: VMfailValid(11) (SDM 30.3 VMPTRLD)",
         do_vmptrld((u64)vmcs_bad_rev, pre_for(FAIL_VALID)), FAIL_VALID, 11);
  /* bit 31 = shadow-VMCS indicator: error 11 unless VMCS shadowing is supported (§24.2) */
  if (!(proc2_allowed1 & (1u << 14))) {
    prepare_region(vmcs_bad_rev, revision_id | 0x80000000u);
    expect("VMPTRLD, shadow-VMCS indicator without VMCS shadowing: VMfailValid(11) (SDM 30.3 VMPTRLD, 24.2)",
           do_vmptrld((u64)vmcs_bad_rev, pre_for(FAIL_VALID)), FAIL_VALID, 11);
  } else {
    skip("VMPTRLD of a shadow VMCS without shadowing (VMCS shadowing is supported)");
  }
  do_vmptrst(0);
  report("failed VMPTRLDs leave the current VMCS unchanged (SDM 30.3 VMPTRLD)", mem_op == (u64)vmcs_a);

  /* a second VMCS: VMPTRLD switches, VMCLEAR of a non-current VMCS leaves the current one */
  expect("VMCLEAR of a VMCS that is not current: VMsucceed (SDM 30.3 VMCLEAR)",
         do_vmclear((u64)vmcs_b, pre_for(OK)), OK, 0);
  do_vmptrst(0);
  report("VMCLEAR of another VMCS keeps the current-VMCS pointer (SDM 30.3 VMCLEAR)", mem_op == (u64)vmcs_a);
  /* VMCLEAR does not look at the revision identifier (§30.3 VMCLEAR "Operation") */
  prepare_region(vmcs_bad_rev, revision_id ^ 2);
  expect("VMCLEAR of a region with a wrong revision identifier: VMsucceed (SDM 30.3 VMCLEAR)",
         do_vmclear((u64)vmcs_bad_rev, pre_for(OK)), OK, 0);
  expect("VMPTRLD of the current VMCS again: VMsucceed (SDM 30.3 VMPTRLD)",
         do_vmptrld((u64)vmcs_a, pre_for(OK)), OK, 0);
  do_vmwrite(GUEST_RIP, 0xaaaa, 0);
  do_vmptrld((u64)vmcs_b, 0);
  do_vmwrite(GUEST_RIP, 0xbbbb, 0);
  do_vmptrld((u64)vmcs_a, 0);
  do_vmread(GUEST_RIP, &v, 0);
  report("each VMCS keeps its own data across VMPTRLD (SDM 24.11.1)", v == 0xaaaa);
  do_vmptrld((u64)vmcs_b, 0);
  do_vmread(GUEST_RIP, &v, 0);
  report("the second VMCS's data after VMPTRLD (SDM 24.11.1)", v == 0xbbbb);

  /* VMCLEAR of the current VMCS: current-VMCS pointer becomes FFFFFFFF_FFFFFFFFH (§30.3) */
  expect("VMCLEAR of the current VMCS: VMsucceed (SDM 30.3 VMCLEAR)", do_vmclear((u64)vmcs_b, pre_for(OK)), OK, 0);
  do_vmptrst(0);
  report("VMCLEAR of the current VMCS invalidates the current-VMCS pointer (SDM 30.3 VMCLEAR)", mem_op == ~0ull);
  expect("VMREAD after VMCLEAR of the current VMCS: VMfailInvalid (SDM 30.3 VMREAD)",
         do_vmread(GUEST_RIP, &v, pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  do_vmptrld((u64)vmcs_b, 0);
  do_vmread(GUEST_RIP, &v, 0);
  report("VMCLEAR wrote the VMCS data back to its region (SDM 30.3 VMCLEAR, 24.11.3)", v == 0xbbbb);
}

/* §30.3 VMREAD/VMWRITE with a current VMCS (vmcs_b): field widths (§24.11.2, Appendix B),
 * error 12 (unsupported component), 13 (read-only component). */
static void test_vmread_vmwrite(void) {
  u64 v;
  expect("VMWRITE of a natural-width field: VMsucceed (SDM 30.3 VMWRITE)",
         do_vmwrite(GUEST_RIP, 0xffff800012345678ull, pre_for(OK)), OK, 0);
  expect("VMREAD of a natural-width field: VMsucceed (SDM 30.3 VMREAD)",
         do_vmread(GUEST_RIP, &v, pre_for(OK)), OK, 0);
  report("VMREAD returns the 64 bits VMWRITE stored (SDM 30.3 VMREAD)", v == 0xffff800012345678ull);
  expect("VMREAD to memory: VMsucceed (SDM 30.3 VMREAD)", do_vmread_mem(GUEST_RIP, pre_for(OK)), OK, 0);
  report("VMREAD to memory stores the field (SDM 30.3 VMREAD)", mem_op == 0xffff800012345678ull);

  /* VMWRITE from memory */
  {
    u64 fl;
    mem_op = 0x0000700012345000ull;
    __asm__ volatile("pushq %3; popfq; vmwrite (%1), %2; pushfq; popq %0"
                     : "=&r"(fl) : "r"(&mem_op), "r"((u64)GUEST_RIP), "r"(pre_for(OK) | 2) : "cc", "memory");
    expect("VMWRITE from memory: VMsucceed (SDM 30.3 VMWRITE)", fl, OK, 0);
    do_vmread(GUEST_RIP, &v, 0);
    report("VMWRITE from memory stores the operand (SDM 30.3 VMWRITE)", v == 0x0000700012345000ull);
  }
  expect_fault("VMREAD with a LOCK prefix: #UD (SDM 30.3 VMREAD)", ud_lock_vmread, 0, 6);
  /* a 16-bit field: the high bits of the source are ignored, the destination zero-extended */
  do_vmwrite(GUEST_ES_SELECTOR, 0xabcd12345678ull, 0);
  do_vmread(GUEST_ES_SELECTOR, &v, 0);
  report("VMWRITE/VMREAD of a 16-bit field: high bits ignored, result zero-extended (SDM 30.3)", v == 0x5678);
  /* a 32-bit field likewise */
  do_vmwrite(GUEST_ES_LIMIT, 0x12345678abcdef01ull, 0);
  do_vmread(GUEST_ES_LIMIT, &v, 0);
  report("VMWRITE/VMREAD of a 32-bit field: high bits ignored, result zero-extended (SDM 30.3)", v == 0xabcdef01);

  /* 64-bit field: "full" (bit 0 = 0) and "high" (bit 0 = 1) accesses (Appendix B, §24.11.2) */
  do_vmwrite(VMCS_LINK_POINTER, 0x1122334455667788ull, 0);
  expect("VMREAD of a 64-bit field's high part: VMsucceed (SDM App. B)",
         do_vmread(VMCS_LINK_POINTER + 1, &v, pre_for(OK)), OK, 0);
  report("VMREAD of the high part returns bits 63:32 (SDM App. B)", v == 0x11223344);
  expect("VMWRITE of a 64-bit field's high part: VMsucceed (SDM App. B)",
         do_vmwrite(VMCS_LINK_POINTER + 1, 0xaabbccdd, pre_for(OK)), OK, 0);
  do_vmread(VMCS_LINK_POINTER, &v, 0);
  report("VMWRITE of the high part changes only bits 63:32 (SDM App. B)", v == 0xaabbccdd55667788ull);

  /* error 12: the register operand names no VMCS component */
  expect("VMREAD, high access to a 16-bit field: VMfailValid(12) (SDM 30.3 VMREAD, App. B)",
         do_vmread(GUEST_ES_SELECTOR + 1, &v, pre_for(FAIL_VALID)), FAIL_VALID, 12);
  expect("VMWRITE, high access to a natural-width field: VMfailValid(12) (SDM 30.3 VMWRITE, App. B)",
         do_vmwrite(GUEST_RIP + 1, 0, pre_for(FAIL_VALID)), FAIL_VALID, 12);
  expect("VMREAD, encoding bits 63:32 not 0 in 64-bit mode: VMfailValid(12) (SDM 30.3 VMREAD)",
         do_vmread((1ull << 32) | GUEST_RIP, &v, pre_for(FAIL_VALID)), FAIL_VALID, 12);
  expect("VMWRITE, encoding bit 15 set: VMfailValid(12) (SDM 30.3 VMWRITE, App. B)",
         do_vmwrite(0x8000 | GUEST_RIP, 0, pre_for(FAIL_VALID)), FAIL_VALID, 12);
  /* §24.11.2: IA32_VMX_VMCS_ENUM[9:1] is the highest index used by any field: one above it
   * names no field (an index beyond every width/type combination) */
  u32 max_index = (u32)(rdmsr(MSR_VMX_VMCS_ENUM) >> 1) & 0x1ff;
  if (max_index < 0x1ff) {
    u64 enc = 0x6000 | ((u64)(max_index + 1) << 1); /* natural-width control field */
    expect("VMREAD, index above IA32_VMX_VMCS_ENUM's highest index: VMfailValid(12) (SDM 30.3, App. A.9)",
           do_vmread(enc, &v, pre_for(FAIL_VALID)), FAIL_VALID, 12);
  } else {
    skip("VMREAD beyond the highest index (VMCS_ENUM reports the largest index)");
  }

  /* error 13: VM-exit information fields are read-only unless IA32_VMX_MISC[29] (§30.3 VMWRITE) */
  int m29 = (misc_cap >> 29) & 1;
  CHECK(m29, "VMWRITE to a VM-exit information field with IA32_VMX_MISC[29] = 1: VMsucceed (SDM 30.3 VMWRITE, App. A.6)")
    expect(n, do_vmwrite(EXIT_QUALIFICATION, 0x77, pre_for(OK)), OK, 0);
  CHECK(m29, "the VM-exit information field written with IA32_VMX_MISC[29] = 1 reads back (SDM App. A.6)") {
    do_vmread(EXIT_QUALIFICATION, &v, 0);
    report(n, v == 0x77);
  }
  CHECK(!m29, "VMWRITE to a VM-exit information field with IA32_VMX_MISC[29] = 0: VMfailValid(13) (SDM 30.3 VMWRITE)")
    expect(n, do_vmwrite(EXIT_QUALIFICATION, 0x77, pre_for(FAIL_VALID)), FAIL_VALID, 13);
  /* the VM-instruction error field (read-only data, App. B) reads like any other field */
  expect("VMREAD of the VM-instruction error field: VMsucceed (SDM 30.3 VMREAD)",
         do_vmread(VM_INSTRUCTION_ERROR, &v, pre_for(OK)), OK, 0);

  /* §30.2: VMsucceed and VMfailInvalid change only RFLAGS; the error number VMfailValid
   * stored stays in the VMCS (also across VMCLEAR and VMPTRLD: it is VMCS data) */
  u64 cur = (u64)vmcs_b;
  do_vmwrite(GUEST_RIP + 1, 0, 0); /* VMfailValid(12) */
  do_vmwrite(GUEST_RIP, 0x1000, 0);
  do_vmread(VM_INSTRUCTION_ERROR, &v, 0);
  report("VMsucceed leaves the VM-instruction error field unchanged (SDM 30.2)", v == 12);
  do_vmclear(cur, 0);
  do_vmread(GUEST_RIP, &v, 0); /* VMfailInvalid: no current VMCS */
  do_vmptrld(cur, 0);
  do_vmread(VM_INSTRUCTION_ERROR, &v, 0);
  report("the VM-instruction error survives VMCLEAR/VMPTRLD and VMfailInvalid (SDM 30.2, 24.11.1)", v == 12);
}

/* VMLAUNCH/VMRESUME launch-state errors that need no guest (§30.3): a clear VMCS is not
 * "launched" -> VMRESUME fails with error 5. */
static void test_launch_state(void) {
  do_vmclear((u64)vmcs_b, 0);
  do_vmptrld((u64)vmcs_b, 0);
  expect("VMRESUME with a clear (non-launched) VMCS: VMfailValid(5) (SDM 30.3 VMRESUME)",
         do_simple(I_VMRESUME, pre_for(FAIL_VALID)), FAIL_VALID, 5);
  expect("VMCALL in VMX root operation: VMfailValid(1) (SDM 30.3 VMCALL)",
         do_simple(I_VMCALL, pre_for(FAIL_VALID)), FAIL_VALID, 1);
}

/* §30.3 INVEPT / INVVPID: #UD when not supported; VMfail(28) for a type the capability MSR
 * does not list or a bad descriptor; VMsucceed otherwise. */
static void ud_invept(void *arg) { (void)arg; do_invept(2, 0, 0); }
static void ud_invvpid(void *arg) { (void)arg; do_invvpid(2, 0, 0, 0); }

static u64 valid_eptp(void) {
  /* a 4-level EPTP (§24.6.11) at vmcs_a's page: WB if supported else UC; only the format matters */
  u64 type = (ept_vpid_cap & (1ull << 14)) ? 6 : 0;
  return (u64)vmcs_a | (3 << 3) | type;
}

static void test_invept(void) {
  int ept = (proc2_allowed1 & PROC2_EPT) != 0 && (ept_vpid_cap & (1ull << 20)) != 0;
  if (!ept) {
    report("INVEPT without EPT/INVEPT support: #UD (SDM 30.3 INVEPT)", fault_try(ud_invept, 0) == 6);
    return;
  }
  /* no current VMCS: VMfail(28) is VMfailInvalid */
  do_vmclear((u64)vmcs_b, 0);
  expect("INVEPT type 0 with no current VMCS: VMfailInvalid (SDM 30.3 INVEPT, 30.2)",
         do_invept(0, valid_eptp(), pre_for(FAIL_INVALID)), FAIL_INVALID, 0);
  do_vmptrld((u64)vmcs_b, 0);
  expect("INVEPT type 0 (reserved): VMfailValid(28) (SDM 30.3 INVEPT)",
         do_invept(0, valid_eptp(), pre_for(FAIL_VALID)), FAIL_VALID, 28);
  expect("INVEPT type 3 (reserved): VMfailValid(28) (SDM 30.3 INVEPT)",
         do_invept(3, valid_eptp(), pre_for(FAIL_VALID)), FAIL_VALID, 28);
  int sc = (ept_vpid_cap >> 25) & 1, ac = (ept_vpid_cap >> 26) & 1;
  CHECK(sc, "INVEPT single-context: VMsucceed (SDM 30.3 INVEPT)")
    expect(n, do_invept(1, valid_eptp(), pre_for(OK)), OK, 0);
  CHECK(sc && !(ept_vpid_cap & (1ull << 7)), "INVEPT single-context, EPTP walk length 5 when IA32_VMX_EPT_VPID_CAP[7] = 0: VMfailValid(28) (SDM 30.3 INVEPT, 26.2.1.1)")
    expect(n, do_invept(1, (valid_eptp() & ~0x38ull) | (4 << 3), pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(sc, "INVEPT single-context, EPTP memory type 2: VMfailValid(28) (SDM 30.3 INVEPT, 26.2.1.1)")
    expect(n, do_invept(1, (valid_eptp() & ~7ull) | 2, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(sc, "INVEPT single-context, EPTP reserved bit 9: VMfailValid(28) (SDM 30.3 INVEPT, 26.2.1.1)")
    expect(n, do_invept(1, valid_eptp() | 0x200, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(sc, "INVEPT single-context, EPTP address beyond MAXPHYADDR: VMfailValid(28) (SDM 30.3 INVEPT, 26.2.1.1)")
    expect(n, do_invept(1, valid_eptp() | (1ull << maxphyaddr), pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(sc && !(ept_vpid_cap & (1ull << 21)), "INVEPT single-context, EPTP A/D enable when IA32_VMX_EPT_VPID_CAP[21] = 0: VMfailValid(28) (SDM 30.3 INVEPT, 26.2.1.1)")
    expect(n, do_invept(1, valid_eptp() | 0x40, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(!sc, "INVEPT single-context when IA32_VMX_EPT_VPID_CAP[25] = 0: VMfailValid(28) (SDM 30.3 INVEPT)")
    expect(n, do_invept(1, valid_eptp(), pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(ac, "INVEPT all-context: VMsucceed (SDM 30.3 INVEPT)")
    expect(n, do_invept(2, 0, pre_for(OK)), OK, 0);
  CHECK(!ac, "INVEPT all-context when IA32_VMX_EPT_VPID_CAP[26] = 0: VMfailValid(28) (SDM 30.3 INVEPT)")
    expect(n, do_invept(2, 0, pre_for(FAIL_VALID)), FAIL_VALID, 28);
}

static void test_invvpid(void) {
  int vpid = (proc2_allowed1 & (1u << 5)) != 0 && (ept_vpid_cap & (1ull << 32)) != 0;
  if (!vpid) {
    report("INVVPID without VPID/INVVPID support: #UD (SDM 30.3 INVVPID)", fault_try(ud_invvpid, 0) == 6);
    return;
  }
  static const char *const type_name[4] = { "individual-address", "single-context", "all-context",
                                             "single-context-retaining-globals" };
  char name[160];
  for (u64 t = 0; t < 4; t++) {
    int sup = (ept_vpid_cap >> (40 + t)) & 1;
    /* valid descriptor: VPID 1, canonical address */
    const char *parts[5] = { "INVVPID ", type_name[t], ": ", sup ? "VMsucceed" : "VMfailValid(28), not supported",
                             " (SDM 30.3 INVVPID)" };
    int n = 0;
    for (int i = 0; i < 5; i++)
      for (const char *s = parts[i]; *s && n < (int)sizeof name - 1; s++) name[n++] = *s;
    name[n] = 0;
    if (sup) expect(name, do_invvpid(t, 1, 0x1000, pre_for(OK)), OK, 0);
    else expect(name, do_invvpid(t, 1, 0x1000, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  }
  expect("INVVPID type 4 (reserved): VMfailValid(28) (SDM 30.3 INVVPID)",
         do_invvpid(4, 1, 0, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  expect("INVVPID, descriptor bits 63:16 not 0: VMfailValid(28) (SDM 30.3 INVVPID)",
         do_invvpid(2, 1ull << 16, 0, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(ept_vpid_cap & (1ull << 41), "INVVPID single-context with VPID 0: VMfailValid(28) (SDM 30.3 INVVPID)")
    expect(n, do_invvpid(1, 0, 0, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(ept_vpid_cap & (1ull << 40), "INVVPID individual-address with VPID 0: VMfailValid(28) (SDM 30.3 INVVPID)")
    expect(n, do_invvpid(0, 0, 0x1000, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(ept_vpid_cap & (1ull << 40), "INVVPID individual-address, non-canonical address: VMfailValid(28) (SDM 30.3 INVVPID)")
    expect(n, do_invvpid(0, 1, 0x8000000000000000ull, pre_for(FAIL_VALID)), FAIL_VALID, 28);
  CHECK(ept_vpid_cap & (1ull << 43), "INVVPID single-context-retaining-globals with VPID 0: VMfailValid(28) (SDM 30.3 INVVPID)")
    expect(n, do_invvpid(3, 0, 0, pre_for(FAIL_VALID)), FAIL_VALID, 28);
}

/* §30.3 VMXOFF: VMsucceed, then VMX instructions #UD again (not in VMX operation). */
static void test_vmxoff(void) {
  expect("VMXOFF: VMsucceed (SDM 30.3 VMXOFF)", do_simple(I_VMXOFF, pre_for(OK)), OK, 0);
  expect_fault("VMPTRST after VMXOFF: #UD (SDM 30.3 VMPTRST)", ud_vmptrst, 0, 6);
  expect_fault("VMXOFF after VMXOFF: #UD (SDM 30.3 VMXOFF)", ud_vmxoff, 0, 6);
}

static int vtx_present(void) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (!(c & (1u << 5))) return 0;
  u64 fc = rdmsr(MSR_FEATURE_CONTROL);
  if (fc & FC_LOCKED) return (fc & FC_VMX_OUTSIDE_SMX) != 0;
  wrmsr(MSR_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMX_OUTSIDE_SMX);
  return 1;
}

int main(void) {
  if (!vtx_present()) {
    printf("vmx-checks: VT-x not available\n");
    return 2;
  }
  u32 a, b, c, d;
  cpuid(0x80000008, 0, &a, &b, &c, &d);
  maxphyaddr = a & 0xff;
  u64 basic = rdmsr(MSR_VMX_BASIC);
  revision_id = (u32)basic & 0x7fffffff;
  misc_cap = rdmsr(MSR_VMX_MISC);
  u64 proc = rdmsr(MSR_VMX_PROCBASED_CTLS);
  proc2_allowed1 = (proc >> 63) & 1 ? rdmsr(MSR_VMX_PROCBASED_CTLS2) >> 32 : 0;
  ept_vpid_cap = (proc2_allowed1 & ((1u << 1) | (1u << 5))) ? rdmsr(MSR_VMX_EPT_VPID_CAP) : 0;
  printf("vmx-checks: revision %#x, MAXPHYADDR %u, IA32_VMX_MISC %#lx, EPT_VPID_CAP %#lx\n",
         revision_id, maxphyaddr, misc_cap, ept_vpid_cap);

  test_vmxon();
  test_vmcs_pointers();
  test_vmread_vmwrite();
  test_launch_state();
  test_invept();
  test_invvpid();
  test_vmxoff();

  if (vt_init() != 0) {
    report("vt_init: VMX operation for the VM-entry checks", 0);
    summary_and_exit();
  }
  /* VMXON leaves no current VMCS (§30.3 VMXON: current-VMCS pointer := FFFFFFFF_FFFFFFFFH) */
  do_vmptrst(0);
  report("VMXON again after VMXOFF: no current VMCS, VMPTRST stores FFFFFFFF_FFFFFFFFH (SDM 30.3 VMXON)", mem_op == ~0ull);
  test_entry_controls_host();
  test_entry_guest();
  summary_and_exit();
}
