/*
 * minivisor's view of VT-x: the VMX instructions as C functions that report the SDM's
 * outcome (SDM Vol. 3C §30.2: VMsucceed, VMfailInvalid = CF, VMfailValid = ZF with an
 * error number in the VMCS), the VMCS field encodings it uses (SDM Vol. 3C Appendix B),
 * the capability MSRs (Appendix A) and the exit reasons (Appendix C).
 */
#ifndef MINIVISOR_VMX_H
#define MINIVISOR_VMX_H

#include "rt.h"

/* ---- MSRs (SDM Vol. 4; Vol. 3C Appendix A) ---- */
#define MSR_FEATURE_CONTROL 0x03a
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED_CTLS 0x481
#define MSR_VMX_PROCBASED_CTLS 0x482
#define MSR_VMX_EXIT_CTLS 0x483
#define MSR_VMX_ENTRY_CTLS 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED_CTLS2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101

#define FC_LOCKED (1u << 0)
#define FC_VMX_OUTSIDE_SMX (1u << 2)

/* ---- controls (SDM Vol. 3C §24.6-24.8) ---- */
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_UNCOND_IO_EXITING (1u << 24)
#define PROC_SECONDARY (1u << 31)
#define PROC2_EPT (1u << 1)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)

/* ---- IA32_VMX_EPT_VPID_CAP (Appendix A.10) ---- */
#define EPTCAP_WALK4 (1ull << 6)
#define EPTCAP_UC (1ull << 8)
#define EPTCAP_WB (1ull << 14)

/* ---- VMCS field encodings (Appendix B) ---- */
enum {
  GUEST_ES_SELECTOR = 0x0800, GUEST_CS_SELECTOR = 0x0802, GUEST_SS_SELECTOR = 0x0804,
  GUEST_DS_SELECTOR = 0x0806, GUEST_FS_SELECTOR = 0x0808, GUEST_GS_SELECTOR = 0x080a,
  GUEST_LDTR_SELECTOR = 0x080c, GUEST_TR_SELECTOR = 0x080e,
  HOST_ES_SELECTOR = 0x0c00, HOST_CS_SELECTOR = 0x0c02, HOST_SS_SELECTOR = 0x0c04,
  HOST_DS_SELECTOR = 0x0c06, HOST_FS_SELECTOR = 0x0c08, HOST_GS_SELECTOR = 0x0c0a,
  HOST_TR_SELECTOR = 0x0c0c,
  EPT_POINTER = 0x201a,
  GUEST_PHYSICAL_ADDRESS = 0x2400,
  VMCS_LINK_POINTER = 0x2800, GUEST_IA32_DEBUGCTL = 0x2802,
  PIN_BASED_CONTROLS = 0x4000, PROC_BASED_CONTROLS = 0x4002, EXCEPTION_BITMAP = 0x4004,
  PF_ERROR_CODE_MASK = 0x4006, PF_ERROR_CODE_MATCH = 0x4008, CR3_TARGET_COUNT = 0x400a,
  EXIT_CONTROLS = 0x400c, EXIT_MSR_STORE_COUNT = 0x400e, EXIT_MSR_LOAD_COUNT = 0x4010,
  ENTRY_CONTROLS = 0x4012, ENTRY_MSR_LOAD_COUNT = 0x4014, ENTRY_INTR_INFO = 0x4016,
  SECONDARY_CONTROLS = 0x401e,
  VM_INSTRUCTION_ERROR = 0x4400, EXIT_REASON = 0x4402, EXIT_INTR_INFO = 0x4404,
  IDT_VECTORING_INFO = 0x4408, EXIT_INSTRUCTION_LEN = 0x440c,
  GUEST_ES_LIMIT = 0x4800, GUEST_CS_LIMIT = 0x4802, GUEST_SS_LIMIT = 0x4804,
  GUEST_DS_LIMIT = 0x4806, GUEST_FS_LIMIT = 0x4808, GUEST_GS_LIMIT = 0x480a,
  GUEST_LDTR_LIMIT = 0x480c, GUEST_TR_LIMIT = 0x480e, GUEST_GDTR_LIMIT = 0x4810,
  GUEST_IDTR_LIMIT = 0x4812,
  GUEST_ES_AR = 0x4814, GUEST_CS_AR = 0x4816, GUEST_SS_AR = 0x4818, GUEST_DS_AR = 0x481a,
  GUEST_FS_AR = 0x481c, GUEST_GS_AR = 0x481e, GUEST_LDTR_AR = 0x4820, GUEST_TR_AR = 0x4822,
  GUEST_INTERRUPTIBILITY = 0x4824, GUEST_ACTIVITY_STATE = 0x4826, GUEST_SYSENTER_CS = 0x482a,
  PREEMPTION_TIMER_VALUE = 0x482e,
  HOST_SYSENTER_CS = 0x4c00,
  CR0_GUEST_HOST_MASK = 0x6000, CR4_GUEST_HOST_MASK = 0x6002,
  CR0_READ_SHADOW = 0x6004, CR4_READ_SHADOW = 0x6006,
  EXIT_QUALIFICATION = 0x6400, GUEST_LINEAR_ADDRESS = 0x640a,
  GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
  GUEST_ES_BASE = 0x6806, GUEST_CS_BASE = 0x6808, GUEST_SS_BASE = 0x680a, GUEST_DS_BASE = 0x680c,
  GUEST_FS_BASE = 0x680e, GUEST_GS_BASE = 0x6810, GUEST_LDTR_BASE = 0x6812, GUEST_TR_BASE = 0x6814,
  GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_BASE = 0x6818, GUEST_DR7 = 0x681a, GUEST_RSP = 0x681c,
  GUEST_RIP = 0x681e, GUEST_RFLAGS = 0x6820, GUEST_PENDING_DBG = 0x6822,
  GUEST_SYSENTER_ESP = 0x6824, GUEST_SYSENTER_EIP = 0x6826,
  HOST_CR0 = 0x6c00, HOST_CR3 = 0x6c02, HOST_CR4 = 0x6c04, HOST_FS_BASE = 0x6c06,
  HOST_GS_BASE = 0x6c08, HOST_TR_BASE = 0x6c0a, HOST_GDTR_BASE = 0x6c0c, HOST_IDTR_BASE = 0x6c0e,
  HOST_SYSENTER_ESP = 0x6c10, HOST_SYSENTER_EIP = 0x6c12, HOST_RSP = 0x6c14, HOST_RIP = 0x6c16,
};

/* ---- basic exit reasons (Appendix C) ---- */
#define EXIT_REASON_EXCEPTION_NMI 0
#define EXIT_REASON_TRIPLE_FAULT 2
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_HLT 12
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_IO 30
#define EXIT_REASON_INVALID_GUEST_STATE 33
#define EXIT_REASON_MSR_LOADING 34
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_EPT_MISCONFIG 49
#define EXIT_REASON_PREEMPTION_TIMER 52
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* ---- the instructions; each returns VMX_OK, VMX_FAIL_INVALID or VMX_FAIL_VALID ---- */
enum { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

static inline int vmx_outcome(u64 rflags) {
  if (rflags & 1) return VMX_FAIL_INVALID;  /* CF */
  if (rflags & 0x40) return VMX_FAIL_VALID; /* ZF */
  return VMX_OK;
}
static inline int vmxon(u64 *region_pa) {
  u64 fl;
  __asm__ volatile("vmxon %1; pushfq; popq %0" : "=r"(fl) : "m"(*region_pa) : "cc", "memory");
  return vmx_outcome(fl);
}
static inline int vmclear(u64 *vmcs_pa) {
  u64 fl;
  __asm__ volatile("vmclear %1; pushfq; popq %0" : "=r"(fl) : "m"(*vmcs_pa) : "cc", "memory");
  return vmx_outcome(fl);
}
static inline int vmptrld(u64 *vmcs_pa) {
  u64 fl;
  __asm__ volatile("vmptrld %1; pushfq; popq %0" : "=r"(fl) : "m"(*vmcs_pa) : "cc", "memory");
  return vmx_outcome(fl);
}
/* AT&T operand order: vmwrite value, field / vmread field, destination */
static inline int vmwrite(u64 field, u64 value) {
  u64 fl;
  __asm__ volatile("vmwrite %2, %1; pushfq; popq %0" : "=r"(fl) : "r"(field), "rm"(value) : "cc", "memory");
  return vmx_outcome(fl);
}
static inline u64 vmread(u64 field) {
  u64 v = 0;
  __asm__ volatile("vmread %1, %0" : "+rm"(v) : "r"(field) : "cc", "memory");
  return v;
}
static inline void wrmsr(u32 msr, u64 v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline u64 read_cr0(void) { u64 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u64 read_cr4(void) { u64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* The L2 general registers, saved by the exit stub (entry.S) in this order on its stack: the
 * architectural register numbers, so (u64 *)regs indexes them (rsp is a placeholder). */
struct guest_regs {
  u64 rax, rcx, rdx, rbx, rsp_unused, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};

/* entry.S */
extern char vmexit_entry[];
extern char vmexit_stack_top[];
/* Loads zeroed L2 registers and executes VMLAUNCH; returns RFLAGS only if it fails. */
u64 vmx_launch(void);
/* Called by the exit stub with the saved L2 registers; returning resumes L2. */
void vmexit_handler(struct guest_regs *regs);
/* Called by the exit stub when VMRESUME fails (RFLAGS after the attempt). */
void vmresume_failed(u64 rflags) __attribute__((noreturn));

/* l2.S: the L2 payload, position-independent 64-bit code copied into L2 memory */
extern const char l2_payload_start[], l2_payload_end[];

#endif
