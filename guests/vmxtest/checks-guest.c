/*
 * vmx-checks, VM-entry part 2 (see checks.h): the checks on the guest-state area (SDM Vol.
 * 3C §26.3.1, a VM-entry failure with exit reason 33 and the qualification of §26.8), the
 * PDPTEs of a PAE guest (§26.3.1.6), guests outside IA-32e mode incl. virtual-8086 mode, and
 * the VM-entry MSR-load area (§26.4, exit reason 34, qualification = the entry's index).
 */
#include "checks.h"

static struct msr_entry { u32 index, reserved; u64 value; } msr_area[4] __attribute__((aligned(16)));
static u64 pae_pdpt[4] __attribute__((aligned(32)));

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
  /* with IA32_DEBUGCTL.BTF = 1 (loaded by "load debug controls") single-stepping is on branches
   * only, and BS must be 0 even with TF = 1 */
  base();
  CHECK(vt_ctl_on(VT_ENTRY, 1u << 2), "26.3.1.5 blocking by STI, RFLAGS.TF = 1, BTF = 1, pending BS = 1") {
    set_field(GUEST_IA32_DEBUGCTL, 2); set_field(GUEST_RFLAGS, 0x302); set_field(GUEST_INTERRUPTIBILITY, 1);
    set_field(GUEST_PENDING_DBG, 1u << 14);
    GUEST(n);
  }
  base();
  CHECK(vt_ctl_on(VT_ENTRY, 1u << 2), "26.3.1.5 blocking by STI, RFLAGS.TF = 1, BTF = 1, pending BS = 0: entry succeeds") {
    set_field(GUEST_IA32_DEBUGCTL, 2); set_field(GUEST_RFLAGS, 0x302); set_field(GUEST_INTERRUPTIBILITY, 1);
    /* the guest's RET is a branch: its single-step #DB exits through the exception bitmap */
    int r = vt_run();
    int ok = r >= 0 && !((u32)r & EXIT_REASON_ENTRY_FAILURE);
    if (!ok) printf("  %s: got %#x\n", n, (u32)r);
    report(n, ok);
  }
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

static u32 nonpae_pd[1024] __attribute__((aligned(4096)));

/* real mode under "unrestricted guest" (§26.3.1.1: CR0.PE and PG may be 0; §26.3.1.2 with
 * CR0.PE = 0: SS.DPL 0); the identity EPT backs guest-physical memory; it runs the VMCALL
 * loop copied to 7000H as CS:IP = 0700H:0000H */
static void real_mode_guest(void) {
  memcpy((void *)V86_CODE, ck_vmcall_loop, 5);
  base();
  vt_ept_identity(1); vt_ctl_on(VT_PROC2, VT_PROC2_UNRESTRICTED);
  and_field(ENTRY_CONTROLS, ~(u64)VT_ENTRY_CTL_IA32E);
  and_field(GUEST_CR0, ~0x80000001ull);
  and_field(GUEST_CR4, ~(1ull << 5));
  for (u32 i = 0; i < 6; i++) {
    vt_write(GUEST_ES_SELECTOR + i * 2, V86_CODE >> 4);
    vt_write(GUEST_ES_BASE + i * 2, V86_CODE);
    vt_write(GUEST_ES_LIMIT + i * 2, 0xffff);
    vt_write(GUEST_ES_AR + i * 2, i == 1 ? 0x9b : 0x93);
  }
  vt_write(GUEST_RIP, 0);
  vt_write(GUEST_RSP, 0xff0);
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
  /* 32-bit paging without PAE (CR4.PAE = 0, CR4.PSE = 1, a 4 MiB page at 0) is a valid guest */
  nonpae_pd[0] = 0x83; /* P, R/W, PS */
  pae_guest(0);
  and_field(GUEST_CR4, ~(1ull << 5)); or_field(GUEST_CR4, 1ull << 4);
  set_field(GUEST_CR3, (u64)nonpae_pd);
  entry_ok("26.3.1.1 32-bit guest with non-PAE paging (CR4.PSE, 4 MiB page): entry succeeds");
  /* an unrestricted guest in real mode (CR0.PE = PG = 0) with real-mode segments */
  int ug = allowed1(VT_PROC2, VT_PROC2_UNRESTRICTED) && allowed1(VT_PROC2, VT_PROC2_EPT);
  CHECK(ug, "26.3.1 unrestricted guest in real mode: entry succeeds") { real_mode_guest(); entry_ok(n); }
  CHECK(ug, "26.3.1.2 unrestricted real-mode guest: SS DPL 3 with CR0.PE = 0") {
    real_mode_guest(); set_field(GUEST_SS_AR, 0xf3);
    GUEST(n);
  }
  CHECK(ug, "26.3.1.2 unrestricted real-mode guest: DS not accessed (type 2)") {
    real_mode_guest(); set_field(GUEST_DS_AR, 0x92);
    GUEST(n);
  }
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
  pae_guest(pd | 1 | (1ull << 63));
  entry_fails("26.3.1.6 PAE PDPTE 0 present with bit 63 (no XD in a PDPTE, Vol. 3A 4.4.1) -> entry failure 33, qualification 2", 33, 2);
  pae_guest(pd | 1 | (7ull << 9));
  entry_ok("26.3.1.6 PAE PDPTE 0 with the ignored bits 11:9 set: entry succeeds");
  pae_guest(0);
  set_field(GUEST_CR3, (u64)pae_pdpt | 0x18); /* bits 4:0 of a PAE CR3 are ignored (Vol. 3A 4.4.1) */
  entry_ok("26.3.1.6 PAE guest CR3 with ignored bits 4:3 set: entry succeeds");
  pae_guest(0);
  pae_pdpt[1] = 2; /* not present: not checked */
  entry_ok("26.3.1.6 a PDPTE that is not present is not checked: entry succeeds");
  /* with EPT the PDPTEs come from the guest-state fields, not from memory (§26.3.1.6) */
  int ept = allowed1(VT_PROC2, VT_PROC2_EPT);
  CHECK(ept, "26.3.1.6 EPT, PAE guest with valid PDPTE fields: entry succeeds") {
    pae_guest(0); vt_ept_identity(1);
    for (int i = 0; i < 4; i++) set_field(CK_GUEST_PDPTE0 + 2 * i, pae_pdpt[i]);
    entry_ok(n);
  }
  CHECK(ept, "26.3.1.6 EPT, PDPTE field 0 with reserved bit 1 -> entry failure 33, qualification 2") {
    pae_guest(0); vt_ept_identity(1);
    for (int i = 0; i < 4; i++) set_field(CK_GUEST_PDPTE0 + 2 * i, pae_pdpt[i]);
    set_field(CK_GUEST_PDPTE0, pae_pdpt[0] | 2);
    entry_fails(n, 33, 2);
  }
  CHECK(ept, "26.3.1.6 EPT, PDPTEs in memory are not checked (CR3 page with reserved bits): entry succeeds") {
    pae_guest(0); vt_ept_identity(1);
    for (int i = 0; i < 4; i++) set_field(CK_GUEST_PDPTE0 + 2 * i, pae_pdpt[i]);
    pae_pdpt[0] |= 2;
    entry_ok(n);
    pae_pdpt[0] &= ~2ull;
  }
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

void test_entry_guest(void) {
  test_guest_cr_msr();
  test_guest_segments();
  test_guest_nonregister();
  test_pae_pdptes();
  test_non_ia32e_guests();
  test_msr_load();
}
