/*
 * vmx-checks: the VMX instructions' success and error paths and the VM-entry checks, each
 * against the SDM (Vol. 3C §30.2 conventions, §30.3 instruction pseudocode, §30.4 VM-
 * instruction error numbers, §26.2-26.4 VM-entry checks, §26.8 entry failures).
 *
 * Part 1 (no guest): VMXON, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH/VMRESUME
 * without a usable VMCS, INVEPT, INVVPID, VMCALL in root operation and VMXOFF, on regions of
 * this file; every outcome is checked with the full §30.2 flag semantics: before each
 * instruction the six arithmetic flags are preset to the opposite of what the SDM says it
 * leaves (VMsucceed: all clear; VMfailInvalid: CF only; VMfailValid: ZF only).
 * Part 2 (vt.h framework): one VM-entry check per test, one field corrupted from a valid
 * baseline (vt_baseline) -> VMfailValid 7 (controls) / 8 (host state), or a VM-entry failure
 * exit 33 (guest state) / 34 (MSR loading) with bit 31 set and the qualification of §26.8.
 *
 * Expected values come from the SDM, never from the implementation under test. Features
 * the capability MSRs do not offer print "SKIP: name (not supported)" and count nothing.
 * Output: one "PASS:"/"FAIL:"/"SKIP:" line per check, then the SUMMARY line; exit status 1
 * when everything passed, 3 otherwise.
 */
#include "vt.h"

/* ---- what this file needs beyond vmx.h (SDM Vol. 3C Appendix A, B) ---- */
#ifndef MSR_VMX_MISC
#define MSR_VMX_MISC 0x485
#endif
#define MSR_VMX_VMCS_ENUM 0x48a
#define CR4_VMXE (1ull << 13)
#define CR0_NE (1ull << 5)

/* RFLAGS arithmetic flags (SDM Vol. 1 §3.4.3.1) */
#define FL_CF 0x001ull
#define FL_PF 0x004ull
#define FL_AF 0x010ull
#define FL_ZF 0x040ull
#define FL_SF 0x080ull
#define FL_OF 0x800ull
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* The three outcomes of §30.2 as the arithmetic flags they leave. */
enum { OK = 0, FAIL_INVALID = 1, FAIL_VALID = 2 };
static const u64 outcome_flags[3] = { 0, FL_CF, FL_ZF };

static u8 vmxon_region[4096] __attribute__((aligned(4096)));
static u8 vmcs_a[4096] __attribute__((aligned(4096)));
static u8 vmcs_b[4096] __attribute__((aligned(4096)));
static u8 vmcs_bad_rev[4096] __attribute__((aligned(4096)));
/* memory operands of the instructions: static, so no operand is RSP-relative while the
 * wrappers below push and pop the flags */
static u64 ptr_op;
static u64 mem_op;
static struct { u64 lo, hi; } __attribute__((aligned(16))) desc_op;

static u32 revision_id;
static u32 maxphyaddr;
static u64 misc_cap, ept_vpid_cap, proc2_allowed1;

static void skip(const char *name) { report_skip(name); }
static int sup(int ok, const char *name) { if (!ok) skip(name); return ok; }
/* CHECK(supported, "name") { ... }: runs the block (which uses `n` as the check's name) when
 * the capability MSRs offer what it needs, else prints one SKIP line for it, so that the
 * number of PASS plus SKIP lines does not depend on what the processor supports */
#define CHECK(ok, nm) for (const char *n = (nm), *once_ = sup(!!(ok), n) ? n : 0; once_; once_ = 0)

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
static u64 do_vmclear(u64 pa, u64 pre) { ptr_op = pa; return VMX_M64("vmclear", &ptr_op, pre); }
static u64 do_vmptrld(u64 pa, u64 pre) { ptr_op = pa; return VMX_M64("vmptrld", &ptr_op, pre); }
static u64 do_vmptrst(u64 pre) { mem_op = 0x5a5a5a5a5a5a5a5aull; return VMX_M64("vmptrst", &mem_op, pre); }

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
static u64 do_simple(int which, u64 pre) {
  u64 fl;
  switch (which) {
  case 0: __asm__ volatile("pushq %1; popfq; vmlaunch; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  case 1: __asm__ volatile("pushq %1; popfq; vmresume; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  case 2: __asm__ volatile("pushq %1; popfq; vmcall; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  default: __asm__ volatile("pushq %1; popfq; vmxoff; pushfq; popq %0" : "=&r"(fl) : "r"(pre | 2) : "cc", "memory"); break;
  }
  return fl;
}
enum { I_VMLAUNCH, I_VMRESUME, I_VMCALL, I_VMXOFF };

/* The preset for an expected outcome: every arithmetic flag opposite to what §30.2 leaves,
 * so a flag the instruction forgets to set or clear shows. */
static u64 pre_for(int want) { return (~outcome_flags[want]) & FL_ARITH; }

static u64 current_error(void) {
  u64 v = 0;
  do_vmread(VM_INSTRUCTION_ERROR, &v, 0);
  return v & 0xffffffff;
}

static const char *const outcome_name[3] = { "VMsucceed", "VMfailInvalid", "VMfailValid" };

/* Checks RFLAGS `fl` against outcome `want` (and, for VMfailValid, VM-instruction error
 * `err`, read from the current VMCS), and reports. */
static int expect(const char *name, u64 fl, int want, u32 err) {
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
  /* the VM-instruction error field itself is read-only data too: a VMWRITE never makes an
   * error number appear in it unless allowed; VMREAD of it works */
  expect("VMREAD of the VM-instruction error field: VMsucceed (SDM 30.3 VMREAD)",
         do_vmread(VM_INSTRUCTION_ERROR, &v, pre_for(OK)), OK, 0);
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

/* ============================================================================================
 * Part 2: VM-entry checks (SDM Vol. 3C §26.2-26.4), one field corrupted per test from the
 * valid baseline of vt_baseline()
 * ========================================================================================== */

/* L2 code: returning from a guest function lands on VMCALL (vt.h); ck_vmcall_loop is the
 * same in 32-bit and 64-bit mode (0F 01 C1, EB rel8), for the non-IA-32e guests below. */
__asm__("  .text\n  .globl ck_vmcall_loop\nck_vmcall_loop:\n  vmcall\n  jmp ck_vmcall_loop\n");
extern char ck_vmcall_loop[];
static void g_return(void) {}

/* every exception in L2 exits (exit reason 0) instead of reaching the kernel's handlers,
 * so an entry that wrongly succeeds shows as a wrong exit reason, not a crash */
static void base(void) {
  vt_baseline(g_return);
  vt_write(EXCEPTION_BITMAP, 0xffffffff);
}

static void explain(int r) {
  if (r == VT_FAIL_INVALID) printf("got VMfailInvalid\n");
  else if (r == VT_FAIL_VALID) printf("got VMfailValid(%lu)\n", vmread(VM_INSTRUCTION_ERROR));
  else printf("got exit reason %#x, qualification %#lx\n", (u32)r, vmread(EXIT_QUALIFICATION));
}

/* §26.2: a control (7) or host-state (8) check failing is VMfailValid with that error */
static void entry_vmfail(const char *name, u32 err) {
  int r = vt_run();
  int ok = r == VT_FAIL_VALID && vmread(VM_INSTRUCTION_ERROR) == err;
  if (!ok) { printf("  %s: expected VMfailValid(%u), ", name, err); explain(r); }
  report(name, ok);
}
/* §26.8: a guest-state (33) or MSR-loading (34) failure is a VM exit with bit 31 of the exit
 * reason set and the exit qualification of §26.8 / §26.4 */
static void entry_fails(const char *name, u32 reason, u64 qual) {
  int r = vt_run();
  int ok = (u32)r == (EXIT_REASON_ENTRY_FAILURE | reason) && vmread(EXIT_QUALIFICATION) == qual;
  if (!ok) { printf("  %s: expected entry failure %u, qualification %lu, ", name, reason, qual); explain(r); }
  report(name, ok);
}
static void entry_ok(const char *name) {
  int r = vt_run();
  int ok = r == EXIT_REASON_VMCALL;
  if (!ok) { printf("  %s: expected a successful entry (VMCALL exit), ", name); explain(r); }
  report(name, ok);
}
static const char *cat3(const char *a, const char *b, const char *c);
/* one corrupted field: controls -> 7, host state -> 8, guest state -> exit 33, qualification 0 */
static void CTL(const char *name) { entry_vmfail(cat3(name, " -> VMfailValid(7)", ""), 7); }
static void HOST(const char *name) { entry_vmfail(cat3(name, " -> VMfailValid(8)", ""), 8); }
static void GUEST(const char *name) { entry_fails(cat3(name, " -> entry failure 33", ""), EXIT_REASON_INVALID_GUEST_STATE, 0); }

static const u32 ctl_fields[5] = { PIN_BASED_CONTROLS, PROC_BASED_CONTROLS, SECONDARY_CONTROLS, EXIT_CONTROLS, ENTRY_CONTROLS };
static const char *const ctl_names[5] = { "pin-based", "primary processor-based", "secondary processor-based",
                                          "VM-exit", "VM-entry" };
static int allowed1(int word, u32 bits) { return ((u32)(vt_cap(word) >> 32) & bits) == bits; }

static u8 page_a[4096] __attribute__((aligned(4096)));
static u8 page_b[4096] __attribute__((aligned(4096)));
static u8 page_c[4096] __attribute__((aligned(4096)));
static struct msr_entry { u32 index, reserved; u64 value; } msr_area[4] __attribute__((aligned(16)));
static u64 pae_pdpt[4] __attribute__((aligned(32)));

static void set_field(u32 field, u64 v) { vt_write(field, v); }
static void or_field(u32 field, u64 v) { vt_write(field, vmread(field) | v); }
static void and_field(u32 field, u64 v) { vt_write(field, vmread(field) & v); }

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
  ptr_op = 0;
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
    base(); set_field(areas[i].count, 1); set_field(areas[i].addr, (u64)msr_area + 8);
    entry_vmfail(cat3(areas[i].name, " not 16-byte aligned", " -> VMfailValid(7)"), 7);
    base(); set_field(areas[i].count, 2); set_field(areas[i].addr, (1ull << maxph) - 0x10);
    entry_vmfail(cat3(areas[i].name, ": count 2 from 16 bytes below 2^MAXPHYADDR, last byte beyond", " -> VMfailValid(7)"), 7);
  }
  /* the count is 0: the address is not checked (§26.2.1.2: "If the count field is not 0") */
  base(); set_field(VT_ENTRY_MSR_LOAD_ADDR, (u64)msr_area + 8);
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
static void test_guest_cr_msr(void) {
  u32 maxph = maxphyaddr;
  const u64 noncanon = 0x0000800000000000ull;
  base(); and_field(GUEST_CR0, ~CR0_NE);
  GUEST("26.3.1.1 guest CR0.NE = 0 (IA32_VMX_CR0_FIXED0)");
  base(); or_field(GUEST_CR0, 1ull << 32);
  GUEST("26.3.1.1 guest CR0 bit 32 set");
  base(); and_field(GUEST_CR0, ~1ull);
  GUEST("26.3.1.1 guest CR0.PE = 0 without unrestricted guest");
  base(); and_field(GUEST_CR4, ~CR4_VMXE);
  GUEST("26.3.1.1 guest CR4.VMXE = 0 (IA32_VMX_CR4_FIXED0)");
  base(); or_field(GUEST_CR4, 1ull << 63);
  GUEST("26.3.1.1 guest CR4 bit 63 set");
  int ug = allowed1(VT_PROC2, VT_PROC2_UNRESTRICTED) && allowed1(VT_PROC2, VT_PROC2_EPT);
  CHECK(ug, "26.3.1.1 unrestricted guest with EPT (baseline): entry succeeds") {
    base(); vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED);
    entry_ok(n);
  }
  CHECK(ug, "26.3.1.1 unrestricted guest: CR0.PG = 1 with CR0.PE = 0") {
    base(); vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED); and_field(GUEST_CR0, ~1ull);
    GUEST(n);
  }
  CHECK(ug, "26.3.1.1 IA-32e mode guest with CR0.PG = 0 (unrestricted guest)") {
    base(); vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED); and_field(GUEST_CR0, ~(1ull << 31));
    GUEST(n);
  }
  base(); and_field(GUEST_CR4, ~(1ull << 5));
  GUEST("26.3.1.1 IA-32e mode guest with CR4.PAE = 0");
  base(); or_field(GUEST_CR3, 1ull << maxph);
  GUEST("26.3.1.1 guest CR3 beyond MAXPHYADDR");
  base(); vt_ctl_on(VT_ENTRY, 1u << 2); set_field(GUEST_IA32_DEBUGCTL, 1ull << 63);
  GUEST("26.3.1.1 load debug controls: IA32_DEBUGCTL reserved bit 63");
  base(); vt_ctl_on(VT_ENTRY, 1u << 2); set_field(GUEST_DR7, 0x400 | (1ull << 32));
  GUEST("26.3.1.1 load debug controls: DR7 bit 32 set");
  base(); set_field(GUEST_SYSENTER_ESP, noncanon);
  GUEST("26.3.1.1 guest IA32_SYSENTER_ESP not canonical");
  base(); set_field(GUEST_SYSENTER_EIP, noncanon);
  GUEST("26.3.1.1 guest IA32_SYSENTER_EIP not canonical");
  CHECK(allowed1(VT_ENTRY, 1u << 14), "26.3.1.1 load IA32_PAT: guest PAT entry 2 = 3 (reserved type)") {
    base(); vt_ctl_on(VT_ENTRY, 1u << 14); set_field(VT_GUEST_IA32_PAT, (0x0007040600070406ull & ~0xff0000ull) | (3ull << 16));
    GUEST(n);
  }
  int gefer = allowed1(VT_ENTRY, 1u << 15);
  u64 efer = rdmsr(0xc0000080);
  CHECK(gefer, "26.3.1.1 load IA32_EFER with the kernel's EFER: entry succeeds") {
    base(); vt_ctl_on(VT_ENTRY, 1u << 15); set_field(VT_GUEST_IA32_EFER, efer);
    entry_ok(n);
  }
  CHECK(gefer, "26.3.1.1 load IA32_EFER: guest EFER reserved bit 2") {
    base(); vt_ctl_on(VT_ENTRY, 1u << 15); set_field(VT_GUEST_IA32_EFER, efer | (1ull << 2));
    GUEST(n);
  }
  CHECK(gefer, "26.3.1.1 load IA32_EFER: guest EFER.LMA = 0 with IA-32e mode guest") {
    base(); vt_ctl_on(VT_ENTRY, 1u << 15); set_field(VT_GUEST_IA32_EFER, efer & ~(1ull << 10));
    GUEST(n);
  }
  CHECK(gefer, "26.3.1.1 load IA32_EFER: guest EFER.LME = 0 with IA-32e mode guest and CR0.PG") {
    base(); vt_ctl_on(VT_ENTRY, 1u << 15); set_field(VT_GUEST_IA32_EFER, efer & ~(1ull << 8));
    GUEST(n);
  }
}

static void test_guest_segments(void) {
  const u64 noncanon = 0x0000800000000000ull;
  static const struct { u32 field; u64 value; const char *name; } seg[] = {
    { GUEST_TR_SELECTOR, 0x24, "26.3.1.2 TR selector TI 1" },
    { GUEST_SS_SELECTOR, 0x13, "26.3.1.2 SS.RPL 3 != CS.RPL 0" },
    { GUEST_CS_AR, 0xa093, "26.3.1.2 CS type 3 (data) without unrestricted guest" },
    { GUEST_CS_AR, 0xa093 & ~0x1, "26.3.1.2 CS type 2 (data)" },
    { GUEST_SS_AR, 0xc09b, "26.3.1.2 SS type 11 (code)" },
    { GUEST_SS_AR, 0xc091, "26.3.1.2 SS type 1 (read-only data)" },
    { GUEST_DS_AR, 0xc092, "26.3.1.2 DS not accessed (type 2)" },
    { GUEST_ES_AR, 0xc099, "26.3.1.2 ES execute-only code (type 9)" },
    { GUEST_FS_AR, 0xc083, "26.3.1.2 FS S = 0" },
    { GUEST_CS_AR, 0xa08b, "26.3.1.2 CS S = 0" },
    { GUEST_GS_AR, 0xc013, "26.3.1.2 GS P = 0 (usable)" },
    { GUEST_CS_AR, 0xa01b, "26.3.1.2 CS P = 0" },
    { GUEST_DS_AR, 0xc193, "26.3.1.2 DS access-rights reserved bit 8" },
    { GUEST_SS_AR, 0x2c093, "26.3.1.2 SS access-rights reserved bit 17" },
    { GUEST_DS_LIMIT, 0xfffff7ff, "26.3.1.2 DS limit bits 11:0 not all 1 with G = 1" },
    { GUEST_CS_AR, 0xe09b, "26.3.1.2 CS.L = 1 and CS.D = 1 in an IA-32e mode guest" },
    { GUEST_CS_AR, 0xa0fb, "26.3.1.2 CS DPL 3 != SS DPL 0 (non-conforming code)" },
    { GUEST_SS_AR, 0xc0f3, "26.3.1.2 SS DPL 3 != SS RPL 0" },
    { GUEST_DS_SELECTOR, 0x13, "26.3.1.2 DS RPL 3 > DPL 0" },
    { GUEST_TR_AR, 0x83, "26.3.1.2 TR type 3 (busy 16-bit TSS) in an IA-32e mode guest" },
    { GUEST_TR_AR, 0x9b, "26.3.1.2 TR S = 1" },
    { GUEST_TR_AR, 0x0b, "26.3.1.2 TR P = 0" },
    { GUEST_TR_AR, 0x1008b, "26.3.1.2 TR unusable" },
    { GUEST_TR_AR, 0x808b, "26.3.1.2 TR limit 0x67 with G = 1" },
    { GUEST_TR_AR, 0x18b, "26.3.1.2 TR access-rights reserved bit 8" },
    { GUEST_LDTR_AR, 0x83, "26.3.1.2 usable LDTR type 3 (not an LDT)" },
    { GUEST_FS_BASE, noncanon, "26.3.1.2 FS base not canonical" },
    { GUEST_GS_BASE, noncanon, "26.3.1.2 GS base not canonical" },
    { GUEST_TR_BASE, noncanon, "26.3.1.2 TR base not canonical" },
    { GUEST_CS_BASE, 1ull << 32, "26.3.1.2 CS base bits 63:32 not 0" },
    { GUEST_SS_BASE, 1ull << 32, "26.3.1.2 usable SS base bits 63:32 not 0" },
    { GUEST_DS_BASE, 1ull << 40, "26.3.1.2 usable DS base bits 63:32 not 0" },
    { GUEST_GDTR_BASE, noncanon, "26.3.1.3 GDTR base not canonical" },
    { GUEST_IDTR_BASE, noncanon, "26.3.1.3 IDTR base not canonical" },
    { GUEST_GDTR_LIMIT, 0x10000, "26.3.1.3 GDTR limit bit 16 set" },
    { GUEST_IDTR_LIMIT, 0x10000, "26.3.1.3 IDTR limit bit 16 set" },
    { GUEST_RIP, noncanon, "26.3.1.4 RIP not canonical (CS.L = 1)" },
    { GUEST_RFLAGS, 0x0, "26.3.1.4 RFLAGS bit 1 = 0" },
    { GUEST_RFLAGS, 0xa, "26.3.1.4 RFLAGS reserved bit 3 set" },
    { GUEST_RFLAGS, 0x400002, "26.3.1.4 RFLAGS reserved bit 22 set" },
    { GUEST_RFLAGS, 0x100000002ull, "26.3.1.4 RFLAGS bit 32 set" },
    { GUEST_RFLAGS, 0x20002, "26.3.1.4 RFLAGS.VM = 1 in an IA-32e mode guest" },
  };
  for (unsigned i = 0; i < sizeof seg / sizeof seg[0]; i++) {
    base(); set_field(seg[i].field, seg[i].value);
    GUEST(seg[i].name);
  }
  /* conforming code: CS.DPL may not exceed SS.DPL */
  base(); set_field(GUEST_CS_AR, 0xa0ff);
  GUEST("26.3.1.2 conforming CS (type 15) DPL 3 > SS DPL 0");
  /* with unrestricted guest, CS may be a read/write accessed data segment (type 3): then its
   * DPL and SS.DPL must be 0 */
  int ug = allowed1(VT_PROC2, VT_PROC2_UNRESTRICTED) && allowed1(VT_PROC2, VT_PROC2_EPT);
  CHECK(ug, "26.3.1.2 unrestricted guest: CS type 3 with DPL 3") {
    base(); vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED);
    set_field(GUEST_CS_AR, 0xa0f3);
    GUEST(n);
  }
  CHECK(ug, "26.3.1.2 unrestricted guest: CS type 3 with SS DPL 3") {
    base(); vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED);
    set_field(GUEST_CS_AR, 0xa093); set_field(GUEST_SS_SELECTOR, 0x13); set_field(GUEST_SS_AR, 0xc0f3);
    GUEST(n);
  }
  /* a usable LDTR's base must be canonical */
  base(); set_field(GUEST_LDTR_SELECTOR, 0x08); set_field(GUEST_LDTR_AR, 0x82); set_field(GUEST_LDTR_LIMIT, 0xffff);
  set_field(GUEST_LDTR_BASE, 0x0000800000000000ull);
  GUEST("26.3.1.2 usable LDTR base not canonical");
  /* a limit with bits 31:20 set and G = 0 (§26.3.1.2) */
  base(); set_field(GUEST_ES_AR, 0x4093); set_field(GUEST_ES_LIMIT, 0x100000);
  GUEST("26.3.1.2 ES limit bit 20 set with G = 0");
  /* usable LDTR with TI... LDTR selector TI = 1 (§26.3.1.2) */
  base(); set_field(GUEST_LDTR_SELECTOR, 0x04); set_field(GUEST_LDTR_AR, 0x82); set_field(GUEST_LDTR_LIMIT, 0xffff);
  GUEST("26.3.1.2 usable LDTR selector TI 1");
  /* positive checks: what the SDM allows must enter */
  base(); set_field(GUEST_DS_AR, 0x10000); set_field(GUEST_ES_AR, 0x10000); set_field(GUEST_DS_SELECTOR, 0);
  set_field(GUEST_ES_SELECTOR, 0);
  entry_ok("26.3.1.2 unusable DS/ES with null selectors in a 64-bit guest: entry succeeds");
  base(); set_field(GUEST_LDTR_SELECTOR, 0x08); set_field(GUEST_LDTR_AR, 0x82); set_field(GUEST_LDTR_LIMIT, 0xffff);
  entry_ok("26.3.1.2 usable LDTR (type 2, P, G = 0): entry succeeds");
  base(); set_field(GUEST_DS_AR, 0xc09b);
  entry_ok("26.3.1.2 DS = readable, accessed code segment (type 11): entry succeeds");
  base(); set_field(GUEST_RFLAGS, 0x2 | 0x8d5);
  entry_ok("26.3.1.4 RFLAGS with every arithmetic flag set: entry succeeds");
}

static void test_guest_nonregister(void) {
  /* RFLAGS.IF = 0 with external-interrupt injection (§26.3.1.4) */
  base(); set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_EXT << 8) | 0x30);
  GUEST("26.3.1.4 external-interrupt injection with RFLAGS.IF = 0");
  /* activity state (§26.3.1.5) */
  base(); set_field(GUEST_ACTIVITY_STATE, 4);
  GUEST("26.3.1.5 activity state 4 (reserved)");
  CHECK(!(misc_cap & (1u << 7)), "26.3.1.5 activity state shutdown when IA32_VMX_MISC[7] = 0") {
    base(); set_field(GUEST_ACTIVITY_STATE, 2);
    GUEST(n);
  }
  CHECK(!(misc_cap & (1u << 8)), "26.3.1.5 activity state wait-for-SIPI when IA32_VMX_MISC[8] = 0") {
    base(); set_field(GUEST_ACTIVITY_STATE, 3);
    GUEST(n);
  }
  CHECK(misc_cap & (1u << 6), "26.3.1.5 HLT activity state with blocking by STI") {
    base(); set_field(GUEST_ACTIVITY_STATE, 1); set_field(GUEST_RFLAGS, 0x202); set_field(GUEST_INTERRUPTIBILITY, 1);
    GUEST(n);
  }
  /* HLT needs SS.DPL 0: a CPL-3 guest (conforming CS DPL 0, SS DPL 3, both RPL 3) may not
   * enter halted; the preemption timer, when offered, ends a wrong entry instead of a hang */
  CHECK(misc_cap & (1u << 6), "26.3.1.5 HLT activity state with SS.DPL 3") {
    base();
    set_field(GUEST_CS_SELECTOR, 0x0b); set_field(GUEST_CS_AR, 0xa09f);
    set_field(GUEST_SS_SELECTOR, 0x13); set_field(GUEST_SS_AR, 0xc0f3);
    set_field(GUEST_ACTIVITY_STATE, 1);
    if (vt_ctl_on(VT_PIN, VT_PIN_PREEMPT)) set_field(PREEMPTION_TIMER_VALUE, 1000);
    GUEST(n);
  }
  /* interruptibility state */
  base(); set_field(GUEST_RFLAGS, 0x202); set_field(GUEST_INTERRUPTIBILITY, 3);
  GUEST("26.3.1.5 blocking by STI and by MOV SS together");
  base(); set_field(GUEST_INTERRUPTIBILITY, 1);
  GUEST("26.3.1.5 blocking by STI with RFLAGS.IF = 0");
  base(); set_field(GUEST_INTERRUPTIBILITY, 4);
  GUEST("26.3.1.5 blocking by SMI outside SMM");
  base(); set_field(GUEST_INTERRUPTIBILITY, 1u << 31);
  GUEST("26.3.1.5 interruptibility reserved bit 31");
  base(); set_field(GUEST_RFLAGS, 0x202); set_field(GUEST_INTERRUPTIBILITY, 1);
  set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_EXT << 8) | 0x30);
  GUEST("26.3.1.5 external-interrupt injection with blocking by STI");
  base(); set_field(GUEST_RFLAGS, 0x202); set_field(GUEST_INTERRUPTIBILITY, 2);
  set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_EXT << 8) | 0x30);
  GUEST("26.3.1.5 external-interrupt injection with blocking by MOV SS");
  base(); set_field(GUEST_INTERRUPTIBILITY, 2);
  set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_NMI << 8) | 2);
  GUEST("26.3.1.5 NMI injection with blocking by MOV SS");
  CHECK(allowed1(VT_PIN, VT_PIN_VIRTUAL_NMIS | VT_PIN_NMI), "26.3.1.5 virtual-NMI injection with blocking by NMI") {
    base(); or_field(PIN_BASED_CONTROLS, VT_PIN_NMI | VT_PIN_VIRTUAL_NMIS); set_field(GUEST_INTERRUPTIBILITY, 8);
    set_field(ENTRY_INTR_INFO, VT_INTR_VALID | (VT_INTR_NMI << 8) | 2);
    GUEST(n);
  }
  /* pending debug exceptions */
  base(); set_field(GUEST_PENDING_DBG, 1u << 4);
  GUEST("26.3.1.5 pending debug exceptions reserved bit 4");
  base(); set_field(GUEST_PENDING_DBG, 1ull << 32);
  GUEST("26.3.1.5 pending debug exceptions bit 32");
  base(); set_field(GUEST_RFLAGS, 0x302); set_field(GUEST_INTERRUPTIBILITY, 1);
  GUEST("26.3.1.5 blocking by STI, RFLAGS.TF = 1, BTF = 0, pending BS = 0");
  base(); set_field(GUEST_RFLAGS, 0x202); set_field(GUEST_INTERRUPTIBILITY, 1); set_field(GUEST_PENDING_DBG, 1u << 14);
  GUEST("26.3.1.5 blocking by STI, RFLAGS.TF = 0, pending BS = 1");
  /* VMCS link pointer: qualification 4 (§26.3.1.5, §26.8) */
  base(); set_field(VMCS_LINK_POINTER, (u64)page_c + 0x100);
  entry_fails("26.3.1.5 VMCS link pointer not 4-KByte aligned -> entry failure 33, qualification 4", 33, 4);
  base(); set_field(VMCS_LINK_POINTER, (u64)page_c | (1ull << maxphyaddr));
  entry_fails("26.3.1.5 VMCS link pointer beyond MAXPHYADDR -> entry failure 33, qualification 4", 33, 4);
  memset(page_c, 0, 4096);
  *(u32 *)page_c = revision_id ^ 4;
  base(); set_field(VMCS_LINK_POINTER, (u64)page_c);
  entry_fails("26.3.1.5 VMCS link pointer to a wrong revision identifier -> entry failure 33, qualification 4", 33, 4);
  CHECK(allowed1(VT_PROC, VT_PROC_SECONDARY), "26.3.1.5 VMCS link pointer with shadow-VMCS indicator 1, shadowing 0 -> entry failure 33, qualification 4") {
    *(u32 *)page_c = revision_id | 0x80000000u;
    base(); vt_ctl_off(VT_PROC2, 1u << 14); set_field(VMCS_LINK_POINTER, (u64)page_c);
    entry_fails(n, 33, 4);
  }
  base();
  do_vmptrst(0);
  set_field(VMCS_LINK_POINTER, mem_op);
  entry_fails("26.3.1.5 VMCS link pointer = the current-VMCS pointer -> entry failure 33, qualification 4", 33, 4);
  *(u32 *)page_c = revision_id;
  base(); set_field(VMCS_LINK_POINTER, (u64)page_c);
  entry_ok("26.3.1.5 VMCS link pointer to a region with the right revision identifier: entry succeeds");
}

/* §26.3.1.6 a PAE guest without EPT: the PDPTEs are loaded from CR3 and checked; a
 * reserved bit in a present one is entry failure 33 with qualification 2 (§26.8) */
static void pae_guest(u64 pdpte0) {
  base();
  vt_write(GUEST_RIP, (u64)ck_vmcall_loop);
  and_field(ENTRY_CONTROLS, ~(u64)VT_ENTRY_CTL_IA32E);
  vt_write(GUEST_CS_AR, 0xc09b); /* 32-bit code */
  u64 *pml4 = (u64 *)(read_cr3() & ~0xfffull);
  u64 *pdpt = (u64 *)(pml4[0] & 0xffffffffff000ull);
  u64 pd = pdpt[0] & 0xffffffffff000ull; /* the kernel's PD: 2 MiB pages over the first GiB */
  pae_pdpt[0] = pdpte0 ? pdpte0 : pd | 1;
  pae_pdpt[1] = pae_pdpt[2] = pae_pdpt[3] = 0;
  vt_write(GUEST_CR3, (u64)pae_pdpt);
}
/* a virtual-8086 guest (RFLAGS.VM = 1, not IA-32e mode, §26.3.1.2 "virtual-8086 mode"):
 * every segment base = selector * 16, limit FFFFH, access rights F3H; it runs the VMCALL loop
 * copied to guest-linear (= physical) 7000H, free conventional memory below the kernel */
#define V86_CODE 0x7000
static u64 v86_pd[512] __attribute__((aligned(4096)));
static void v86_guest(void) {
  memcpy((void *)V86_CODE, ck_vmcall_loop, 5); /* 0F 01 C1 vmcall; EB FB jmp */
  /* virtual-8086 code runs at CPL 3: its first 2 MiB need a user page (SDM Vol. 3A §4.6) */
  v86_pd[0] = 0x87; /* P, R/W, U/S, PS */
  pae_guest((u64)v86_pd | 1);
  for (u32 i = 0; i < 6; i++) {
    vt_write(GUEST_ES_SELECTOR + i * 2, V86_CODE >> 4);
    vt_write(GUEST_ES_BASE + i * 2, V86_CODE);
    vt_write(GUEST_ES_LIMIT + i * 2, 0xffff);
    vt_write(GUEST_ES_AR + i * 2, 0xf3);
  }
  vt_write(GUEST_RIP, 0);
  vt_write(GUEST_RSP, 0xff0);
  vt_write(GUEST_RFLAGS, 0x20002);
}

static void test_non_ia32e_guests(void) {
  pae_guest(0);
  or_field(GUEST_CR4, 1ull << 17);
  GUEST("26.3.1.1 CR4.PCIDE = 1 in a guest that is not in IA-32e mode");
  pae_guest(0);
  set_field(GUEST_RIP, (1ull << 32) | (u64)ck_vmcall_loop);
  GUEST("26.3.1.4 RIP bit 32 set in a guest that is not in IA-32e mode");
  v86_guest();
  entry_ok("26.3.1.2 virtual-8086 guest with base = selector * 16, limit FFFFH, AR F3H: entry succeeds");
  v86_guest(); set_field(GUEST_ES_BASE, V86_CODE + 0x10);
  GUEST("26.3.1.2 virtual-8086 guest: ES base != selector * 16");
  v86_guest(); set_field(GUEST_DS_LIMIT, 0xfffe);
  GUEST("26.3.1.2 virtual-8086 guest: DS limit FFFEH");
  v86_guest(); set_field(GUEST_SS_AR, 0x93);
  GUEST("26.3.1.2 virtual-8086 guest: SS access rights 93H");
  v86_guest(); set_field(GUEST_CS_AR, 0xfb);
  GUEST("26.3.1.2 virtual-8086 guest: CS access rights FBH");
}

static void test_pae_pdptes(void) {
  pae_guest(0);
  entry_ok("26.3.1.6 32-bit PAE guest with valid PDPTEs: entry succeeds");
  u64 *pml4 = (u64 *)(read_cr3() & ~0xfffull);
  u64 pd = ((u64 *)(pml4[0] & 0xffffffffff000ull))[0] & 0xffffffffff000ull;
  pae_guest(pd | 1 | 2);
  entry_fails("26.3.1.6 PAE PDPTE 0 present with reserved bit 1 -> entry failure 33, qualification 2", 33, 2);
  pae_guest(pd | 1 | (1ull << maxphyaddr));
  entry_fails("26.3.1.6 PAE PDPTE 0 present with an address beyond MAXPHYADDR -> entry failure 33, qualification 2", 33, 2);
}

/* §26.4 the VM-entry MSR-load area: a bad entry -> exit reason 34, qualification = its index */
static void msr_load(int n) {
  base();
  set_field(ENTRY_MSR_LOAD_COUNT, n);
  set_field(VT_ENTRY_MSR_LOAD_ADDR, (u64)msr_area);
}
static void test_msr_load(void) {
  memset(msr_area, 0, sizeof msr_area);
  msr_area[0].index = 0xc0000102; msr_area[0].value = 0x123456789abcull; /* IA32_KERNEL_GS_BASE */
  wrmsr(0xc0000102, 0);
  msr_load(1);
  entry_ok("26.4 VM-entry MSR-load of IA32_KERNEL_GS_BASE: entry succeeds");
  /* the VM exit loads no IA32_KERNEL_GS_BASE (§27.5), so L1 sees what the entry loaded */
  report_eq("26.4 the MSR-load area's IA32_KERNEL_GS_BASE value was loaded", rdmsr(0xc0000102), 0x123456789abcull);
  wrmsr(0xc0000102, 0);

  msr_area[1].index = 0xc0000100; /* IA32_FS_BASE may not be loaded this way */
  msr_load(2);
  entry_fails("26.4 MSR-load entry 2 = IA32_FS_BASE -> entry failure 34, qualification 2", 34, 2);
  msr_area[1].index = 0xc0000101;
  msr_load(2);
  entry_fails("26.4 MSR-load entry 2 = IA32_GS_BASE -> entry failure 34, qualification 2", 34, 2);
  msr_area[1].index = 0x808; /* x2APIC TPR: bits 31:8 = 000008H */
  msr_load(2);
  entry_fails("26.4 MSR-load entry 2 = an x2APIC MSR (808H) -> entry failure 34, qualification 2", 34, 2);
  msr_area[1].index = 0xc0000102; msr_area[1].reserved = 1;
  msr_load(2);
  entry_fails("26.4 MSR-load entry 2 with reserved bits 63:32 of its first quadword -> entry failure 34, qualification 2", 34, 2);
  msr_area[1].reserved = 0;
  msr_area[2].index = 0xc0000080; msr_area[2].value = rdmsr(0xc0000080) | (1ull << 2); /* EFER reserved bit */
  msr_load(3);
  entry_fails("26.4 MSR-load entry 3 = IA32_EFER with a reserved bit (WRMSR would #GP) -> entry failure 34, qualification 3", 34, 3);
  msr_area[1].index = 0x9e; /* IA32_SMBASE: only readable in SMM */
  msr_load(2);
  entry_fails("26.4 MSR-load entry 2 = IA32_SMBASE (SMM only) -> entry failure 34, qualification 2", 34, 2);
  msr_area[1].index = 0x9b; /* IA32_SMM_MONITOR_CTL: only writable in SMM */
  msr_load(2);
  entry_fails("26.4 MSR-load entry 2 = IA32_SMM_MONITOR_CTL (SMM only) -> entry failure 34, qualification 2", 34, 2);
  msr_area[1].index = 0xc0000102;
  msr_area[0].index = 0x4fffffff; /* no such MSR: WRMSR would #GP */
  msr_load(1);
  entry_fails("26.4 MSR-load entry 1 = an MSR that does not exist -> entry failure 34, qualification 1", 34, 1);
  msr_area[0].index = 0xc0000102;
  /* §26.4: guest-state checks come first: a bad guest field wins over a bad MSR entry */
  msr_area[1].index = 0xc0000100;
  msr_load(2);
  and_field(GUEST_CR4, ~CR4_VMXE);
  GUEST("26.3/26.4 a guest-state failure is reported before the MSR-load failure");
}

static void test_entry_checks(void) {
  test_baseline_and_launch_state();
  test_control_reserved_bits();
  test_exec_controls();
  test_exit_entry_controls();
  test_host_state();
  test_guest_cr_msr();
  test_guest_segments();
  test_guest_nonregister();
  test_pae_pdptes();
  test_non_ia32e_guests();
  test_msr_load();
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
  test_entry_checks();
  summary_and_exit();
}
