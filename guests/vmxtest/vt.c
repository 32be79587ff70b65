/*
 * vt: the VMX test framework (see vt.h). One VMCS, reused by every test: vt_baseline()
 * VMCLEARs it, zeroes it, and fills the baseline, so tests stay independent.
 */
#include "vt.h"

struct vt_regs vt_regs;

static u8 vmxon_region[4096] __attribute__((aligned(4096)));
static u8 vmcs_region[4096] __attribute__((aligned(4096)));
static u8 guest_stack[16384] __attribute__((aligned(16)));
/* The kernel's GDT plus a 64-bit TSS: VM exits load TR from the host-state area, and the
 * host TR selector must not be 0 (SDM Vol. 3C §26.2.3). L2 shares this GDT. */
static u64 gdt[6] __attribute__((aligned(16)));
static u8 tss[104] __attribute__((aligned(16)));
#define TSS_SEL 0x20

static u64 ept_pml4[512] __attribute__((aligned(4096)));
static u64 ept_pdpt[512] __attribute__((aligned(4096)));
static u64 ept_pd[4][512] __attribute__((aligned(4096)));
#define EPT_PT_POOL 16
static u64 ept_pt[EPT_PT_POOL][512] __attribute__((aligned(4096)));
static int ept_pt_used;
static u64 eptp;

static int use_true;
static int vmcs_loaded, launched;
u64 vt_host_rsp;

/*
 * vt_enter(launched): loads vt_regs into the GPRs and executes VMLAUNCH (0) or VMRESUME
 * (1). Returns 0 after a VM exit (through vt_exit_stub, HOST_RIP) or RFLAGS when the
 * instruction fails (VMfailInvalid: CF, VMfailValid: ZF; SDM Vol. 3C §30.2). A VM exit
 * loads RSP from HOST_RSP and RIP from HOST_RIP and nothing else of the GPRs (§28.5), so
 * the stub stores L2's registers, then returns on the stack vt_enter left.
 */
u64 vt_enter(int resume);
__asm__(
  "  .text\n"
  "  .globl vt_enter\n"
  "vt_enter:\n"
  "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
  "  mov %rsp, vt_host_rsp(%rip)\n"
  "  test %edi, %edi\n" /* the MOVs below leave the flags alone */
  "  mov vt_regs+0(%rip), %rax\n"
  "  mov vt_regs+8(%rip), %rbx\n"
  "  mov vt_regs+16(%rip), %rcx\n"
  "  mov vt_regs+24(%rip), %rdx\n"
  "  mov vt_regs+32(%rip), %rsi\n"
  "  mov vt_regs+40(%rip), %rdi\n"
  "  mov vt_regs+48(%rip), %rbp\n"
  "  mov vt_regs+56(%rip), %r8\n"
  "  mov vt_regs+64(%rip), %r9\n"
  "  mov vt_regs+72(%rip), %r10\n"
  "  mov vt_regs+80(%rip), %r11\n"
  "  mov vt_regs+88(%rip), %r12\n"
  "  mov vt_regs+96(%rip), %r13\n"
  "  mov vt_regs+104(%rip), %r14\n"
  "  mov vt_regs+112(%rip), %r15\n"
  "  jnz 1f\n"
  "  vmlaunch\n"
  "  jmp 2f\n"
  "1: vmresume\n"
  "2: pushfq\n"
  "  pop %rax\n"
  "  mov vt_host_rsp(%rip), %rsp\n"
  "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
  "  ret\n"
  "  .globl vt_exit_stub\n"
  "vt_exit_stub:\n"
  "  mov %rax, vt_regs+0(%rip)\n"
  "  mov %rbx, vt_regs+8(%rip)\n"
  "  mov %rcx, vt_regs+16(%rip)\n"
  "  mov %rdx, vt_regs+24(%rip)\n"
  "  mov %rsi, vt_regs+32(%rip)\n"
  "  mov %rdi, vt_regs+40(%rip)\n"
  "  mov %rbp, vt_regs+48(%rip)\n"
  "  mov %r8, vt_regs+56(%rip)\n"
  "  mov %r9, vt_regs+64(%rip)\n"
  "  mov %r10, vt_regs+72(%rip)\n"
  "  mov %r11, vt_regs+80(%rip)\n"
  "  mov %r12, vt_regs+88(%rip)\n"
  "  mov %r13, vt_regs+96(%rip)\n"
  "  mov %r14, vt_regs+104(%rip)\n"
  "  mov %r15, vt_regs+112(%rip)\n"
  "  mov vt_host_rsp(%rip), %rsp\n"
  "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
  "  xor %eax, %eax\n"
  "  ret\n"
  /* A guest function returns here: "done" is a VMCALL; resumed after it, it asks again. */
  "  .globl vt_guest_return\n"
  "vt_guest_return:\n"
  "  vmcall\n"
  "  jmp vt_guest_return\n");
extern char vt_exit_stub[], vt_guest_return[];
static u8 exit_stack[4096] __attribute__((aligned(16)));

void report_skip(const char *name) { printf("SKIP: %s (not supported)\n", name); }

void report_eq(const char *name, u64 got, u64 want) {
  if (got != want) printf("  %s: got %#lx, want %#lx\n", name, got, want);
  report(name, got == want);
}

void summary_and_exit(void) { exit(report_summary() ? 1 : 0); }

void vt_write(u64 field, u64 value) {
  int r = vmwrite(field, value);
  if (r != VMX_OK) {
    printf("  vt: VMWRITE %#lx = %#lx failed (%s, error %lu)\n", field, value,
           r == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid", r == VMX_FAIL_VALID ? vmread(VM_INSTRUCTION_ERROR) : 0);
    report("vt: VMWRITE", 0);
  }
}

/* ---- controls: Appendix A.3-A.5 (bits 31:0 allowed-0, 63:32 allowed-1); A.2 for TRUE_ ---- */
static const u32 ctl_field[] = { PIN_BASED_CONTROLS, PROC_BASED_CONTROLS, SECONDARY_CONTROLS, EXIT_CONTROLS, ENTRY_CONTROLS };

u64 vt_cap(int word) {
  switch (word) {
  case VT_PIN: return rdmsr(use_true ? MSR_VMX_TRUE_PINBASED_CTLS : MSR_VMX_PINBASED_CTLS);
  case VT_PROC: return rdmsr(use_true ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS);
  case VT_PROC2: {
    /* IA32_VMX_PROCBASED_CTLS2 exists only with allowed-1 "activate secondary controls" (A.3.3) */
    u64 p = rdmsr(use_true ? MSR_VMX_TRUE_PROCBASED_CTLS : MSR_VMX_PROCBASED_CTLS);
    return (p >> 32) & VT_PROC_SECONDARY ? rdmsr(MSR_VMX_PROCBASED_CTLS2) : 0;
  }
  case VT_EXIT: return rdmsr(use_true ? MSR_VMX_TRUE_EXIT_CTLS : MSR_VMX_EXIT_CTLS);
  default: return rdmsr(use_true ? MSR_VMX_TRUE_ENTRY_CTLS : MSR_VMX_ENTRY_CTLS);
  }
}

static u32 adjust(int word, u32 want) {
  u64 cap = vt_cap(word);
  return (want | (u32)cap) & (u32)(cap >> 32);
}

int vt_ctl_on(int word, u32 bits) {
  u32 allowed1 = (u32)(vt_cap(word) >> 32);
  if ((allowed1 & bits) != bits) return 0;
  if (word == VT_PROC2 && !vt_ctl_on(VT_PROC, VT_PROC_SECONDARY)) return 0;
  vt_write(ctl_field[word], vmread(ctl_field[word]) | bits);
  return 1;
}

void vt_ctl_off(int word, u32 bits) {
  u32 allowed0 = (u32)vt_cap(word);
  vt_write(ctl_field[word], vmread(ctl_field[word]) & ~(bits & ~allowed0));
}

/* ---- VMX operation (SDM Vol. 3C §23.6-23.8) ---- */
int vt_init(void) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (!(c & (1u << 5))) { printf("vt: CPUID.1:ECX.VMX = 0\n"); return -1; }
  u64 fc = rdmsr(MSR_FEATURE_CONTROL);
  if (!(fc & FC_LOCKED)) wrmsr(MSR_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMX_OUTSIDE_SMX);
  else if (!(fc & FC_VMX_OUTSIDE_SMX)) { printf("vt: VMX disabled in IA32_FEATURE_CONTROL\n"); return -1; }
  u64 basic = rdmsr(MSR_VMX_BASIC);
  use_true = (basic >> 55) & 1;
  if (((basic >> 32) & 0x1fff) > 4096) { printf("vt: VMCS region larger than 4 KiB\n"); return -1; }

  /* GDT = boot GDT + TSS (SDM Vol. 3A §8.2.3: 64-bit TSS descriptor, 16 bytes) */
  struct { u16 limit; u64 base; } __attribute__((packed)) desc;
  __asm__ volatile("sgdt %0" : "=m"(desc));
  memcpy(gdt, (void *)desc.base, 4 * 8);
  u64 base = (u64)tss;
  gdt[4] = 0x67 | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
  gdt[5] = base >> 32;
  desc.limit = sizeof gdt - 1;
  desc.base = (u64)gdt;
  __asm__ volatile("lgdt %0; ltr %w1" : : "m"(desc), "r"(TSS_SEL) : "memory");

  write_cr4(read_cr4() | (1u << 13));
  write_cr0((read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1));
  write_cr4((read_cr4() | rdmsr(MSR_VMX_CR4_FIXED0)) & rdmsr(MSR_VMX_CR4_FIXED1));
  *(u32 *)vmxon_region = (u32)basic & 0x7fffffff;
  u64 pa = (u64)vmxon_region;
  if (vmxon(&pa) != VMX_OK) { printf("vt: VMXON failed\n"); return -1; }
  return 0;
}

/* ---- the baseline VMCS ---- */
void vt_baseline(void (*guest)(void)) {
  u64 pa = (u64)vmcs_region;
  /* VMCLEAR writes back any cached VMCS data before the region is reused (§24.11.1) */
  if (vmcs_loaded) vmclear(&pa);
  memset(vmcs_region, 0, sizeof vmcs_region);
  *(u32 *)vmcs_region = (u32)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
  if (vmclear(&pa) != VMX_OK || vmptrld(&pa) != VMX_OK) report("vt: VMCLEAR/VMPTRLD of the test VMCS", 0);
  vmcs_loaded = 1;
  launched = 0;
  memset(&vt_regs, 0, sizeof vt_regs);

  /* controls: every optional exit off (§24.6-24.8) */
  vt_write(PIN_BASED_CONTROLS, adjust(VT_PIN, 0));
  u32 proc = adjust(VT_PROC, VT_PROC_SECONDARY);
  vt_write(PROC_BASED_CONTROLS, proc);
  if (proc & VT_PROC_SECONDARY) vt_write(SECONDARY_CONTROLS, adjust(VT_PROC2, 0));
  vt_write(EXIT_CONTROLS, adjust(VT_EXIT, VT_EXIT_CTL_HOST64));
  vt_write(ENTRY_CONTROLS, adjust(VT_ENTRY, VT_ENTRY_CTL_IA32E));
  vt_write(EXCEPTION_BITMAP, 0);
  vt_write(PF_ERROR_CODE_MASK, 0);
  vt_write(PF_ERROR_CODE_MATCH, 0);
  vt_write(CR3_TARGET_COUNT, 0);
  vt_write(EXIT_MSR_STORE_COUNT, 0);
  vt_write(EXIT_MSR_LOAD_COUNT, 0);
  vt_write(ENTRY_MSR_LOAD_COUNT, 0);
  vt_write(ENTRY_INTR_INFO, 0);
  vt_write(CR0_GUEST_HOST_MASK, 0);
  vt_write(CR4_GUEST_HOST_MASK, 0);
  vt_write(CR0_READ_SHADOW, 0);
  vt_write(CR4_READ_SHADOW, 0);
  vt_write(VMCS_LINK_POINTER, ~0ull);

  /* host state (§24.5): the kernel as it is now; exits land in vt_exit_stub */
  struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
  __asm__ volatile("sidt %0" : "=m"(idtr));
  vt_write(HOST_CR0, read_cr0());
  vt_write(HOST_CR3, read_cr3());
  vt_write(HOST_CR4, read_cr4());
  vt_write(HOST_CS_SELECTOR, 0x08);
  vt_write(HOST_SS_SELECTOR, 0x10);
  vt_write(HOST_DS_SELECTOR, 0x10);
  vt_write(HOST_ES_SELECTOR, 0x10);
  vt_write(HOST_FS_SELECTOR, 0x10);
  vt_write(HOST_GS_SELECTOR, 0x10);
  vt_write(HOST_TR_SELECTOR, TSS_SEL);
  vt_write(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
  vt_write(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
  vt_write(HOST_TR_BASE, (u64)tss);
  vt_write(HOST_GDTR_BASE, (u64)gdt);
  vt_write(HOST_IDTR_BASE, idtr.base);
  vt_write(HOST_SYSENTER_CS, 0);
  vt_write(HOST_SYSENTER_ESP, 0);
  vt_write(HOST_SYSENTER_EIP, 0);
  vt_write(HOST_RSP, (u64)(exit_stack + sizeof exit_stack));
  vt_write(HOST_RIP, (u64)vt_exit_stub);

  /* guest state (§24.4): the same address space, 64-bit code at CPL 0 */
  vt_write(GUEST_CR0, read_cr0());
  vt_write(GUEST_CR3, read_cr3());
  vt_write(GUEST_CR4, read_cr4());
  vt_write(GUEST_DR7, 0x400);
  /* RSP as after a CALL (SysV: RSP+8 16-byte aligned at function entry), returning to VMCALL */
  u64 *top = (u64 *)(guest_stack + sizeof guest_stack) - 2;
  top[0] = (u64)vt_guest_return;
  vt_write(GUEST_RSP, (u64)top);
  vt_write(GUEST_RIP, (u64)guest);
  vt_write(GUEST_RFLAGS, 0x2);
  for (u32 i = 0; i < 6; i++) {
    if (i == 1) continue; /* CS */
    vt_write(GUEST_ES_SELECTOR + i * 2, 0x10);
    vt_write(GUEST_ES_BASE + i * 2, 0);
    vt_write(GUEST_ES_LIMIT + i * 2, 0xffffffff);
    vt_write(GUEST_ES_AR + i * 2, 0xc093); /* data RW accessed, P, D/B, G */
  }
  vt_write(GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
  vt_write(GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
  vt_write(GUEST_CS_SELECTOR, 0x08);
  vt_write(GUEST_CS_BASE, 0);
  vt_write(GUEST_CS_LIMIT, 0xffffffff);
  vt_write(GUEST_CS_AR, 0xa09b); /* code XR accessed, P, L, G */
  vt_write(GUEST_LDTR_SELECTOR, 0);
  vt_write(GUEST_LDTR_BASE, 0);
  vt_write(GUEST_LDTR_LIMIT, 0);
  vt_write(GUEST_LDTR_AR, 0x10000); /* unusable */
  vt_write(GUEST_TR_SELECTOR, TSS_SEL);
  vt_write(GUEST_TR_BASE, (u64)tss);
  vt_write(GUEST_TR_LIMIT, 0x67);
  vt_write(GUEST_TR_AR, 0x8b); /* busy 64-bit TSS, P (§26.3.1.2) */
  vt_write(GUEST_GDTR_BASE, (u64)gdt);
  vt_write(GUEST_GDTR_LIMIT, sizeof gdt - 1);
  vt_write(GUEST_IDTR_BASE, idtr.base);
  vt_write(GUEST_IDTR_LIMIT, idtr.limit);
  vt_write(GUEST_IA32_DEBUGCTL, 0);
  vt_write(GUEST_SYSENTER_CS, 0);
  vt_write(GUEST_SYSENTER_ESP, 0);
  vt_write(GUEST_SYSENTER_EIP, 0);
  vt_write(GUEST_INTERRUPTIBILITY, 0);
  vt_write(GUEST_ACTIVITY_STATE, 0);
  vt_write(GUEST_PENDING_DBG, 0);
}

int vt_run(void) {
  u64 fl = vt_enter(launched);
  if (fl) return vmx_outcome(fl) == VMX_FAIL_INVALID ? VT_FAIL_INVALID : VT_FAIL_VALID;
  u32 r = (u32)vmread(EXIT_REASON);
  /* a VM-entry failure leaves the launch state unchanged (SDM Vol. 3C §26.7, VMLAUNCH) */
  if (!(r & EXIT_REASON_ENTRY_FAILURE)) launched = 1;
  return (int)(r & (0xffff | EXIT_REASON_ENTRY_FAILURE));
}

void vt_skip(void) { vt_write(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_INSTRUCTION_LEN)); }

/* ---- EPT (SDM Vol. 3C §29.3.2, Tables 29-1..29-6; EPTP §24.6.11) ---- */
#define EPT_RWX 7ull
#define EPT_WB (6ull << 3)
#define EPT_PS (1ull << 7)

void vt_invept(void) {
  u64 cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
  if (!(cap & (1ull << 20))) return;
  struct { u64 eptp, zero; } desc = { eptp, 0 };
  u64 type = cap & (1ull << 26) ? 2 : 1;
  if (!(cap & (3ull << 25))) return;
  __asm__ volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

int vt_ept_identity(int enable) {
  if (!enable) { vt_ctl_off(VT_PROC2, VT_PROC2_EPT); return 1; }
  if (!((u32)(vt_cap(VT_PROC2) >> 32) & VT_PROC2_EPT)) return 0;
  u64 cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
  if (!(cap & EPTCAP_WALK4) || !(cap & EPTCAP_WB)) return 0;
  memset(ept_pml4, 0, sizeof ept_pml4);
  memset(ept_pdpt, 0, sizeof ept_pdpt);
  ept_pml4[0] = (u64)ept_pdpt | EPT_RWX;
  for (u64 g = 0; g < 4; g++) {
    ept_pdpt[g] = (u64)ept_pd[g] | EPT_RWX;
    for (u64 i = 0; i < 512; i++) ept_pd[g][i] = ((g << 30) | (i << 21)) | EPT_RWX | EPT_WB | EPT_PS;
  }
  ept_pt_used = 0;
  eptp = (u64)ept_pml4 | (3 << 3) | 6; /* walk length 4 - 1, WB paging structures */
  vt_write(EPT_POINTER, eptp);
  vt_invept();
  return vt_ctl_on(VT_PROC2, VT_PROC2_EPT);
}

u64 *vt_ept_pde(u64 gpa) { return &ept_pd[(gpa >> 30) & 3][(gpa >> 21) & 511]; }

u64 *vt_ept_pte(u64 gpa) {
  u64 *pde = vt_ept_pde(gpa);
  if (*pde & EPT_PS) {
    if (ept_pt_used == EPT_PT_POOL) { report("vt: EPT page-table pool", 0); summary_and_exit(); }
    u64 *pt = ept_pt[ept_pt_used++];
    u64 base = *pde & ~0x1fffffull & 0xffffffffffull;
    for (u64 i = 0; i < 512; i++) pt[i] = (base + (i << 12)) | (*pde & EPT_RWX) | EPT_WB;
    *pde = (u64)pt | EPT_RWX;
    vt_invept();
  }
  u64 *pt = (u64 *)(*pde & ~0xfffull & 0xffffffffffull);
  return &pt[(gpa >> 12) & 511];
}
