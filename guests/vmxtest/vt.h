/*
 * vt: the framework of the project's own VMX test kernels (issue 5; guests/vmxtest/).
 *
 * The kernel is L1: vt_init() enters VMX operation, vt_baseline() fills a VMCS with a valid
 * setup in which L2 is a plain C function of the same image, running in 64-bit mode at CPL 0
 * on the kernel's own page tables, GDT and IDT, with its own stack (the kvm-unit-tests vmx
 * model). vt_run() enters L2 and returns at the next VM exit with the basic exit reason;
 * the test then reads the exit-information fields, changes L2's registers in vt_regs if it
 * wants, and calls vt_run() again (VMRESUME). A guest function that returns lands on a
 * VMCALL, so "guest done" is always a VMCALL exit (SDM Vol. 3C §25.1.3, Appendix C: 18).
 *
 * Expected values in the tests come from the SDM, never from what Nestvisor happens to do.
 * A feature the capability MSRs report as not allowed is a SKIP, not a failure.
 */
#ifndef VMXTEST_VT_H
#define VMXTEST_VT_H

#include "rt.h"
#include "../minivisor/vmx.h"

/* ---- VMCS fields not in minivisor's vmx.h (SDM Vol. 3C Appendix B) ---- */
#define VT_VPID 0x0000
#define VT_IO_BITMAP_A 0x2000
#define VT_IO_BITMAP_B 0x2002
#define VT_MSR_BITMAP 0x2004
#define VT_EXIT_MSR_STORE_ADDR 0x2006
#define VT_EXIT_MSR_LOAD_ADDR 0x2008
#define VT_ENTRY_MSR_LOAD_ADDR 0x200a
#define VT_TSC_OFFSET 0x2010
#define VT_VIRTUAL_APIC_PAGE 0x2012
#define VT_GUEST_IA32_PAT 0x2804
#define VT_GUEST_IA32_EFER 0x2806
#define VT_HOST_IA32_PAT 0x2c00
#define VT_HOST_IA32_EFER 0x2c02
#define VT_ENTRY_EXCEPTION_ERROR 0x4018
#define VT_ENTRY_INSTRUCTION_LEN 0x401a
#define VT_TPR_THRESHOLD 0x401c
#define VT_EXIT_INTR_ERROR 0x4406
#define VT_IDT_VECTORING_ERROR 0x440a
#define VT_EXIT_INSTRUCTION_INFO 0x440e
#define VT_PREEMPTION_TIMER 0x482e
#define VT_CR3_TARGET0 0x6008 /* targets 1-3 follow at +2 */
#define VT_IO_RCX 0x6402
#define VT_IO_RSI 0x6404
#define VT_IO_RDI 0x6406
#define VT_IO_RIP 0x6408

#define VT_MSR_VMX_MISC 0x485

/* ---- basic exit reasons (SDM Vol. 3C Appendix C, Table C-1) ---- */
enum {
  VT_EXIT_EXCEPTION_NMI = 0, VT_EXIT_EXTINT = 1, VT_EXIT_TRIPLE_FAULT = 2, VT_EXIT_INIT = 3,
  VT_EXIT_INTR_WINDOW = 7, VT_EXIT_NMI_WINDOW = 8, VT_EXIT_CPUID = 10, VT_EXIT_HLT = 12,
  VT_EXIT_INVD = 13, VT_EXIT_INVLPG = 14, VT_EXIT_RDPMC = 15, VT_EXIT_RDTSC = 16, VT_EXIT_VMCALL = 18,
  VT_EXIT_VMCLEAR = 19, VT_EXIT_VMLAUNCH = 20, VT_EXIT_VMPTRLD = 21, VT_EXIT_VMPTRST = 22,
  VT_EXIT_VMREAD = 23, VT_EXIT_VMRESUME = 24, VT_EXIT_VMWRITE = 25, VT_EXIT_VMXOFF = 26,
  VT_EXIT_VMXON = 27, VT_EXIT_CR = 28, VT_EXIT_DR = 29, VT_EXIT_IO = 30, VT_EXIT_RDMSR = 31,
  VT_EXIT_WRMSR = 32, VT_EXIT_INVALID_GUEST = 33, VT_EXIT_MSR_LOADING = 34, VT_EXIT_MWAIT = 36,
  VT_EXIT_MTF = 37, VT_EXIT_MONITOR = 39, VT_EXIT_PAUSE = 40, VT_EXIT_TPR_BELOW = 43,
  VT_EXIT_GDTR_IDTR = 46, VT_EXIT_LDTR_TR = 47, VT_EXIT_EPT_VIOLATION = 48, VT_EXIT_EPT_MISCONFIG = 49,
  VT_EXIT_INVEPT = 50, VT_EXIT_RDTSCP = 51, VT_EXIT_PREEMPT_TIMER = 52, VT_EXIT_INVVPID = 53,
  VT_EXIT_WBINVD = 54, VT_EXIT_XSETBV = 55,
};

/* ---- control bits (SDM Vol. 3C Tables 24-5, 24-6, 24-7, 24-13, 24-15) ---- */
#define VT_PIN_EXTINT (1u << 0)
#define VT_PIN_NMI (1u << 3)
#define VT_PIN_VIRTUAL_NMIS (1u << 5)
#define VT_PIN_PREEMPT (1u << 6)
#define VT_PROC_INTR_WINDOW (1u << 2)
#define VT_PROC_TSC_OFFSET (1u << 3)
#define VT_PROC_HLT (1u << 7)
#define VT_PROC_INVLPG (1u << 9)
#define VT_PROC_MWAIT (1u << 10)
#define VT_PROC_RDPMC (1u << 11)
#define VT_PROC_RDTSC (1u << 12)
#define VT_PROC_CR3_LOAD (1u << 15)
#define VT_PROC_CR3_STORE (1u << 16)
#define VT_PROC_CR8_LOAD (1u << 19)
#define VT_PROC_CR8_STORE (1u << 20)
#define VT_PROC_TPR_SHADOW (1u << 21)
#define VT_PROC_NMI_WINDOW (1u << 22)
#define VT_PROC_MOV_DR (1u << 23)
#define VT_PROC_UNCOND_IO (1u << 24)
#define VT_PROC_IO_BITMAPS (1u << 25)
#define VT_PROC_MTF (1u << 27)
#define VT_PROC_MSR_BITMAPS (1u << 28)
#define VT_PROC_MONITOR (1u << 29)
#define VT_PROC_PAUSE (1u << 30)
#define VT_PROC_SECONDARY (1u << 31)
#define VT_PROC2_EPT (1u << 1)
#define VT_PROC2_DESC_TABLE (1u << 2)
#define VT_PROC2_RDTSCP (1u << 3)
#define VT_PROC2_VPID (1u << 5)
#define VT_PROC2_WBINVD (1u << 6)
#define VT_PROC2_UNRESTRICTED (1u << 7)
#define VT_EXIT_CTL_HOST64 (1u << 9)
#define VT_EXIT_CTL_ACK_INTR (1u << 15)
#define VT_EXIT_CTL_SAVE_PREEMPT (1u << 22)
#define VT_ENTRY_CTL_IA32E (1u << 9)

/* Interruption-information format (SDM Vol. 3C §24.9.2, Table 24-19 / §24.8.3) */
#define VT_INTR_VALID (1u << 31)
#define VT_INTR_ERROR_VALID (1u << 11)
#define VT_INTR_TYPE(info) (((info) >> 8) & 7)
enum { VT_INTR_EXT = 0, VT_INTR_NMI = 2, VT_INTR_HW_EXC = 3, VT_INTR_SW_INT = 4, VT_INTR_PRIV_SW_EXC = 5, VT_INTR_SW_EXC = 6 };

/* ---- framework ---- */
#define VT_FAIL_INVALID (-1)
#define VT_FAIL_VALID (-2)
enum { VT_PIN, VT_PROC, VT_PROC2, VT_EXIT, VT_ENTRY };

/* L2's general registers: loaded at every entry, stored at every exit (RSP is in the VMCS) */
struct vt_regs {
  u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};
extern struct vt_regs vt_regs;

/* CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, CR0/CR4 fixed bits, a GDT with a TSS, VMXON; 0 = ok */
int vt_init(void);
/* VMCLEAR + VMPTRLD a fresh VMCS and fill the valid baseline described above */
void vt_baseline(void (*guest)(void));
/* VMLAUNCH or VMRESUME: the basic exit reason | bit 31 for an entry failure, or VT_FAIL_* */
int vt_run(void);
/* guest RIP += VM-exit instruction length (SDM Vol. 3C §27.2.5) */
void vt_skip(void);

/* The capability MSR of a control word (TRUE_ variant when IA32_VMX_BASIC[55]) */
u64 vt_cap(int word);
/* Sets `bits` in a control word when all are allowed-1 (turning on "activate secondary
 * controls" for VT_PROC2); returns 0 and changes nothing otherwise. */
int vt_ctl_on(int word, u32 bits);
/* Clears `bits` in a control word (bits that must be 1 stay 1) */
void vt_ctl_off(int word, u32 bits);
/* VMWRITE that reports a failure (a broken framework is a FAIL, never silence) */
void vt_write(u64 field, u64 value);

/* 4-level identity EPT over the first 4 GiB (2 MiB pages, WB, RWX); 0 = EPT not available */
int vt_ept_identity(int enable);
/* Pointer to the 4 KiB EPT entry for gpa (splitting its 2 MiB page the first time) */
u64 *vt_ept_pte(u64 gpa);
/* The PD entry (2 MiB level) for gpa */
u64 *vt_ept_pde(u64 gpa);
/* INVEPT all-context when supported, else single-context of the current EPTP */
void vt_invept(void);

/* "SKIP: name (not supported)": not counted as a test */
void report_skip(const char *name);
/* report() with the observed and expected values printed on failure */
void report_eq(const char *name, u64 got, u64 want);
/* "SUMMARY: N tests, F failures", then isa-debug-exit 0 if F == 0 else 1 */
void summary_and_exit(void) __attribute__((noreturn));

static inline void vt_vmcall(void) { __asm__ volatile("vmcall" ::: "memory"); }

#endif
