/*
 * What the two files of kernel vmx-exits (exits.c: instruction exits and main; exits-events.c:
 * events) share: the assembly-guest macro, L2's result words, the local APIC, and the tests
 * exits-events.c provides.
 */
#ifndef VMXTEST_EXITS_H
#define VMXTEST_EXITS_H

#include "vt.h"

/*
 * A guest written in assembly, so the test knows each instruction's address and length:
 * GUEST(name, "instructions") defines name() (ending in RET, i.e. the "done" VMCALL);
 * a "name_label:" inside is a global symbol the test declares with LABEL(name_label).
 */
#define GUEST(name, body) \
  void name(void); \
  __asm__(".text\n.globl " #name "\n" #name ":\n" body "\nret\n")
#define LABEL(l) extern char l[]

/* L2 reports what it saw through memory (it shares the kernel's address space) */
extern volatile u64 out[4];
void clear_out(void);
/* an L2 that only returns (its "done" VMCALL) */
void g_vmcall(void);

/* ---- the local APIC (xAPIC MMIO, SDM Vol. 3A §10.4.1), mapped uncached at 3-4 GiB ---- */
#define APIC 0xfee00000ul
static inline u32 apic_read(u32 reg) { return *(volatile u32 *)(APIC + reg); }
static inline void apic_write(u32 reg, u32 v) { *(volatile u32 *)(APIC + reg) = v; }
static inline u32 apic_id(void) { return apic_read(0x20) >> 24; }
/* bit v of the IRR (base 0x200) or ISR (base 0x100) */
static inline int apic_bit(u32 base, int v) { return (apic_read(base + (u32)(v / 32) * 0x10) >> (v % 32)) & 1; }
/* the vector the tests use; L1's IDT gate counts it in irq_count and EOIs */
#define TEST_VECTOR 0x50
extern volatile u32 irq_count;
extern volatile u32 l2_apic_id;

/* exits-events.c */
void test_exceptions(void);
void test_db(void);
void test_pf(void);
void test_nmi(void);
void test_extint(void);
void test_hlt_activity(void);
void test_mwait_activity(void);
void test_init(void);
void test_triple_fault(void);
void test_interrupt_window(void);
void test_nmi_window(void);
void test_mtf(void);
void test_preemption_timer(void);
void test_vectoring(void);

#endif
