/*
 * cpu-modes: operating-mode transitions and far control transfers.
 *  - long mode -> compatibility mode -> 32-bit protected mode (CR0.PG and EFER.LME off)
 *    -> 16-bit protected mode -> real mode -> protected mode -> long mode again, with
 *    checks made in each mode (SDM Vol. 3A §10.8.5 "Initializing IA-32e Mode" and
 *    §10.9 "Mode Switching");
 *  - far CALL/RET and far JMP between 64-bit and compatibility-mode code segments
 *    (SDM Vol. 3A §5.8.1.1, Vol. 2 CALL/RET/JMP), far CALL/RET in real mode;
 *  - a 64-bit call gate, same privilege (SDM Vol. 3A §5.8.3.1, §5.8.6);
 *  - error codes of #NP, #SS and #GP from segment loads (selector error codes, SDM
 *    Vol. 3A §6.13), #NP from a not-present IDT gate (IDT bit set), and #DF with error
 *    code 0 from a #GP whose own gate is not present (Vol. 3A §6.15 Table 6-5).
 * #TS needs a task switch or a legacy-mode inter-privilege transfer, neither of which a
 * 64-bit kernel does: not covered here.
 * QEMU 7.2 TCG (-cpu max,vendor=GenuineIntel) passes 20 of 21: for the not-present
 * IDT gate in long mode it reports error code vector*16+2 instead of vector*8+2 (SDM
 * Vol. 3A §6.13: the index field holds the vector; a TCG bug, it scales by the 16-byte
 * gate size). Nestvisor passes all 21.
 */
#include "rt.h"

/* GDT (selector: descriptor)
 * 0x08 code64 DPL0  0x10 data DPL0  0x18 code32 DPL0  0x20 code16 DPL0 (base 0, 64K)
 * 0x28 data16 (base 0, 64K)  0x30 data, not present  0x38 code32 execute-only
 * 0x40 read-only data  0x48-0x57 64-bit call gate -> 0x08:gate_target (DPL 0) */
static u64 gdt[12] __attribute__((aligned(16))) = {
  0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00cf9a000000ffffull,
  0x00009a000000ffffull, 0x000092000000ffffull, 0x00cf12000000ffffull, 0x00cf98000000ffffull,
  0x00cf90000000ffffull, 0, 0, 0,
};

#define TRAMP 0x7000u /* real-mode code must sit below 1 MiB: the trampoline is copied here */

/* Results written by the assembly below. */
u64 cm_cs, cm_push, cm_cs_back, jmp_cs, gate_cs, gate_rsp_delta, saved_rsp;
extern char tramp_start[], tramp_end[], t_efer_before[], t_efer_after[], t_rm_cr0[], t_rm_seg[],
  t_rm_push[], t_rm_call[], t_pm_cs[];

__asm__(
  ".text\n"
  /* ---- far CALL into compatibility mode, 32-bit far RET back (operand size 32: m16:32) ---- */
  ".globl far_call_compat\n"
  "far_call_compat:\n"
  "  lcall *compat_ptr(%rip)\n"
  "  mov %cs, %eax\n"
  "  mov %rax, cm_cs_back(%rip)\n"
  "  ret\n"
  ".code32\n"
  "compat_fn:\n"
  "  mov %cs, %eax\n"
  "  mov %eax, cm_cs\n"
  "  mov %esp, %edx\n"
  "  push %eax\n"                  /* in a 32-bit code segment PUSH moves ESP by 4 */
  "  sub %esp, %edx\n"
  "  pop %eax\n"
  "  mov %edx, cm_push\n"
  "  lret\n"
  ".code64\n"
  "  .align 8\n"
  "compat_ptr: .long compat_fn\n .word 0x18\n"
  /* ---- far JMP to compatibility mode and a direct far JMP back to 64-bit code ---- */
  ".globl far_jmp_compat\n"
  "far_jmp_compat:\n"
  "  ljmp *jmp_ptr(%rip)\n"
  ".code32\n"
  "compat_jmp:\n"
  "  mov %cs, %eax\n"
  "  mov %eax, jmp_cs\n"
  "  ljmp $0x08, $jmp_back\n"
  ".code64\n"
  "jmp_back:\n"
  "  ret\n"
  "  .align 8\n"
  "jmp_ptr: .long compat_jmp\n .word 0x18\n"
  /* ---- 64-bit call gate: CALL FAR through the gate pushes CS and RIP (16 bytes) ---- */
  ".globl gate_call\n"
  "gate_call:\n"
  "  mov %rsp, saved_rsp(%rip)\n"
  "  lcall *gate_ptr(%rip)\n"
  "  ret\n"
  "gate_target:\n"
  "  mov %cs, %eax\n"
  "  mov %rax, gate_cs(%rip)\n"
  "  mov saved_rsp(%rip), %rax\n"
  "  sub %rsp, %rax\n"
  "  mov %rax, gate_rsp_delta(%rip)\n"
  "  lretq\n"
  "  .align 8\n"
  "gate_ptr: .long 0\n .word 0x48\n"
  ".globl gate_target\n"
  /* ---- the round trip through every mode (code copied to TRAMP) ---- */
  ".globl mode_round_trip\n"
  "mode_round_trip:\n"
  "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
  "  mov %rsp, saved_rsp(%rip)\n"
  "  pushq $0x18\n"
  "  pushq $0x7000\n"               /* TRAMP + (t32 - tramp_start) = TRAMP */
  "  lretq\n"
  "back64:\n"
  "  mov $0x10, %eax\n mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
  "  mov saved_rsp(%rip), %rsp\n"
  "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
  "  ret\n"
  ".globl tramp_start, tramp_end\n"
  "tramp_start:\n"
  ".code32\n"                        /* compatibility mode, CPL 0, at TRAMP */
  "t32:\n"
  "  mov %cr0, %eax\n"
  "  and $0x7fffffff, %eax\n"
  "  mov %eax, %cr0\n"              /* paging off: IA-32e mode is left (LMA = 0) */
  "  mov $0xc0000080, %ecx\n"
  "  rdmsr\n"
  "  mov %eax, 0x7000 + (t_efer_before - tramp_start)\n"
  "  and $~0x100, %eax\n"
  "  wrmsr\n"                        /* EFER.LME = 0 */
  "  rdmsr\n"
  "  mov %eax, 0x7000 + (t_efer_after - tramp_start)\n"
  "  ljmp $0x20, $(0x7000 + (p16 - tramp_start))\n"
  ".code16\n"
  "p16:\n"                           /* 16-bit protected mode */
  "  mov $0x28, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %ss\n"
  "  mov %cr0, %eax\n"
  "  and $~1, %eax\n"
  "  mov %eax, %cr0\n"               /* real mode */
  "  ljmp $0x0700, $(rm - tramp_start)\n"
  "rm:\n"
  "  mov $0x0700, %ax\n mov %ax, %ds\n mov %ax, %ss\n"
  "  mov $0x0ff0, %sp\n"
  "  mov %cr0, %eax\n"
  "  mov %eax, (t_rm_cr0 - tramp_start)\n"
  "  mov $0x0710, %ax\n mov %ax, %es\n"
  "  movw $0xbeef, %es:0\n"          /* 0710:0000 is linear 0x7100 = 0700:0100 */
  "  mov (0x100), %ax\n"
  "  mov %ax, (t_rm_seg - tramp_start)\n"
  "  mov %sp, %bx\n push %ax\n sub %sp, %bx\n pop %ax\n"
  "  mov %bx, (t_rm_push - tramp_start)\n"
  "  lcall $0x0700, $(rm_fn - tramp_start)\n"
  "  mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
  "  ljmpl $0x18, $(0x7000 + (p32 - tramp_start))\n"
  "rm_fn:\n"
  "  mov %cs, %ax\n"
  "  mov %ax, (t_rm_call - tramp_start)\n"
  "  lret\n"
  ".code32\n"
  "p32:\n"                           /* 32-bit protected mode, paging off */
  "  mov $0x10, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %ss\n"
  "  mov %cs, %eax\n"
  "  mov %eax, 0x7000 + (t_pm_cs - tramp_start)\n"
  "  mov $0xc0000080, %ecx\n rdmsr\n or $0x100, %eax\n wrmsr\n"
  "  mov %cr0, %eax\n or $0x80000000, %eax\n mov %eax, %cr0\n" /* CR4.PAE and CR3 kept: IA-32e again */
  "  ljmp $0x08, $back64\n"
  "  .align 4\n"
  "t_efer_before: .long 0\n"
  "t_efer_after: .long 0\n"
  "t_rm_cr0: .long 0\n"
  "t_rm_seg: .word 0\n"
  "t_rm_push: .word 0\n"
  "t_rm_call: .word 0\n"
  "t_pm_cs: .long 0\n"
  "tramp_end:\n"
  ".code64\n");
void far_call_compat(void);
void far_jmp_compat(void);
void gate_call(void);
void mode_round_trip(void);
extern char gate_target[];

static void load_ds(void *sel) { __asm__ volatile("mov %0, %%ds" : : "r"((u16)(u64)sel)); }
static void load_ss(void *sel) {
  /* the 64-bit kernel data selector goes back before returning if the load worked */
  __asm__ volatile("mov %0, %%ss\n mov %1, %%ss" : : "r"((u16)(u64)sel), "r"((u16)0x10));
}
static void int41(void *a) { (void)a; __asm__ volatile("int $0x41"); }

static void expect_error(const char *name, void (*fn)(void *), void *arg, int vector, u64 error) {
  int got = fault_try(fn, arg);
  if (got != vector || fault_error != error)
    printf("  %s: got vector %d error %#lx, want %d error %#lx\n", name, got, fault_error, vector, error);
  report(name, got == vector && fault_error == error);
  __asm__ volatile("mov %0, %%ds" : : "r"((u16)0x10));
}

struct gate { u16 off_lo, sel; u8 ist, attr; u16 off_mid; u32 off_hi, rsvd; } __attribute__((packed));

static struct gate *idt_base(void) {
  struct { u16 limit; u64 base; } __attribute__((packed)) d;
  __asm__ volatile("sidt %0" : "=m"(d));
  return (struct gate *)d.base;
}

int main(void) {
  u64 g = (u64)gate_target;
  gdt[9] = (g & 0xffff) | (0x08ull << 16) | (0x8cull << 40) | (((g >> 16) & 0xffff) << 48);
  gdt[10] = g >> 32;
  struct { u16 limit; u64 base; } __attribute__((packed)) d = { sizeof gdt - 1, (u64)gdt };
  __asm__ volatile("lgdt %0" : : "m"(d));

  far_call_compat();
  report("far call into a 32-bit code segment runs in compatibility mode (CS 0x18)", cm_cs == 0x18);
  report("compatibility mode pushes 4 bytes", cm_push == 4);
  report("32-bit far return comes back to 64-bit CS 0x08", cm_cs_back == 0x08);
  far_jmp_compat();
  report("far jmp to compatibility mode and ljmp back", jmp_cs == 0x18);
  gate_call();
  report("call through a 64-bit call gate lands at the gate's target in CS 0x08", gate_cs == 0x08);
  report("a same-privilege call gate pushes CS and RIP as 8-byte slots", gate_rsp_delta == 16);

  memcpy((void *)(u64)TRAMP, tramp_start, (size_t)(tramp_end - tramp_start));
  mode_round_trip();
  u8 *t = (u8 *)(u64)TRAMP;
#define TV(type, sym) (*(type *)(t + (sym - tramp_start)))
  report("EFER.LMA was 0 after CR0.PG = 0 in compatibility mode", (TV(u32, t_efer_before) & 0x400) == 0 &&
         (TV(u32, t_efer_before) & 0x100) != 0);
  report("EFER.LME cleared in 32-bit protected mode", (TV(u32, t_efer_after) & 0x500) == 0);
  report("real mode: CR0.PE = 0", (TV(u32, t_rm_cr0) & 1) == 0);
  report("real mode: segment base = selector * 16", TV(u16, t_rm_seg) == 0xbeef);
  report("real mode: PUSH moves SP by 2", TV(u16, t_rm_push) == 2);
  report("real mode: far call with CS = 0x0700", TV(u16, t_rm_call) == 0x0700);
  report("back in 32-bit protected mode with CS 0x18", TV(u32, t_pm_cs) == 0x18);
  u32 a, b, c, dd; cpuid(0, 0, &a, &b, &c, &dd);
  report("long mode again: EFER.LMA = 1", (rdmsr(0xc0000080) & 0x400) != 0);

  expect_error("mov ds, not-present segment: #NP(selector)", load_ds, (void *)0x30, 11, 0x30);
  expect_error("mov ds, execute-only code: #GP(selector)", load_ds, (void *)0x38, 13, 0x38);
  expect_error("mov ss, not-present segment: #SS(selector)", load_ss, (void *)0x30, 12, 0x30);
  expect_error("mov ss, read-only data: #GP(selector)", load_ss, (void *)0x40, 13, 0x40);
  expect_error("mov ds, selector beyond the GDT limit: #GP(selector)", load_ds, (void *)0x60, 13, 0x60);
  struct gate *idt = idt_base();
  idt[0x41] = idt[13];
  idt[0x41].attr &= 0x7f;
  expect_error("int 0x41 to a not-present gate: #NP(0x41*8+2)", int41, 0, 11, 0x41 * 8 + 2);
  u8 gp_attr = idt[13].attr;
  idt[13].attr &= 0x7f;
  expect_error("#GP through a not-present gate: #DF(0)", load_ds, (void *)0x38, 8, 0);
  idt[13].attr = gp_attr;
  return report_summary() ? 1 : 0;
}
