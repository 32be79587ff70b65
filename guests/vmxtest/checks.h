/*
 * vmx-checks (issue 5): what its three files share. checks.c holds the VMX instructions'
 * success and error paths (SDM Vol. 3C §30.2-30.4) and main(); checks-entry.c the VM-entry
 * harness, the launch-state checks and the checks on controls and host state (§26.2, VMfailValid
 * 7/8); checks-guest.c the guest-state checks (§26.3, entry failure 33) and the MSR-load area
 * (§26.4, entry failure 34).
 */
#ifndef VMXTEST_CHECKS_H
#define VMXTEST_CHECKS_H

#include "vt.h"

/* ---- what the checks need beyond vmx.h (SDM Vol. 3C Appendix A, B) ---- */
#ifndef MSR_VMX_MISC
#define MSR_VMX_MISC 0x485
#endif
#define MSR_VMX_VMCS_ENUM 0x48a
#define CR4_VMXE (1ull << 13)
#define CR0_NE (1ull << 5)
#define CK_GUEST_PDPTE0 0x280a /* PDPTE1-3 follow at +2 */

/* RFLAGS arithmetic flags (SDM Vol. 1 §3.4.3.1) */
#define FL_CF 0x001ull
#define FL_PF 0x004ull
#define FL_AF 0x010ull
#define FL_ZF 0x040ull
#define FL_SF 0x080ull
#define FL_OF 0x800ull
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* The three outcomes of §30.2. */
enum { OK = 0, FAIL_INVALID = 1, FAIL_VALID = 2 };
enum { I_VMLAUNCH, I_VMRESUME, I_VMCALL, I_VMXOFF };

/* what main() read from CPUID and the capability MSRs */
extern u32 revision_id, maxphyaddr;
extern u64 misc_cap, ept_vpid_cap, proc2_allowed1;

/* "SKIP: name (not supported)"; sup() prints it when !ok and returns ok */
void skip(const char *name);
int sup(int ok, const char *name);
/* CHECK(supported, "name") { ... }: runs the block (which uses `n` as the check's name) when
 * the capability MSRs offer what it needs, else prints one SKIP line for it, so that the
 * number of PASS plus SKIP lines does not depend on what the processor supports */
#define CHECK(ok, nm) for (const char *n = (nm), *once_ = sup(!!(ok), n) ? n : 0; once_; once_ = 0)

/* instruction wrappers (checks.c): RFLAGS preset to `pre`, the instruction, RFLAGS after it */
extern u64 mem_op; /* VMPTRST's destination */
u64 do_vmclear(u64 pa, u64 pre);
u64 do_vmptrld(u64 pa, u64 pre);
u64 do_vmptrst(u64 pre);
u64 do_simple(int which, u64 pre);
/* the preset that makes every flag the SDM sets or clears for outcome `want` show */
u64 pre_for(int want);
/* reports whether RFLAGS `fl` is outcome `want` (and VM-instruction error `err`) */
int expect(const char *name, u64 fl, int want, u32 err);

/* ---- VM-entry harness (checks-entry.c) ---- */
extern char ck_vmcall_loop[];       /* VMCALL; JMP back: the same bytes in 16/32/64-bit code */
void base(void);                     /* vt_baseline + every exception exits */
void entry_vmfail(const char *name, u32 err);
void entry_fails(const char *name, u32 reason, u64 qual);
void entry_ok(const char *name);
void CTL(const char *name);          /* expects VMfailValid(7) */
void HOST(const char *name);         /* expects VMfailValid(8) */
void GUEST(const char *name);        /* expects entry failure 33, qualification 0 */
int allowed1(int word, u32 bits);
void set_field(u32 field, u64 v);
void or_field(u32 field, u64 v);
void and_field(u32 field, u64 v);
extern u8 page_c[4096];

void test_entry_controls_host(void); /* checks-entry.c */
void test_entry_guest(void);         /* checks-guest.c */

#endif
