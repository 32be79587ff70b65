/*
 * Helpers shared by the interrupt-controller test kernels (apic-timer, smp): a mapping
 * of the 3-4 GiB range where the local APIC (0xFEE00000), I/O APIC (0xFEC00000) and HPET
 * live, IDT gates for interrupt vectors, and register accessors. The runtime maps only
 * the first GiB, with 2 MiB pages; we add one page directory with 2 MiB uncached pages
 * (PCD|PWT, SDM Vol. 3A §11.12) rather than a 1 GiB page, which QEMU's default CPU lacks.
 */
#ifndef NV_APIC_H
#define NV_APIC_H
#include "rt.h"

#define APIC_BASE 0xfee00000UL
#define IOAPIC_BASE 0xfec00000UL

static u64 high_pd[512] __attribute__((aligned(4096)));

static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void wrmsr(u32 msr, u64 v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}
static inline void outw_(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* STI's interrupt shadow makes "sti; hlt" wait atomically (SDM Vol. 2B STI). */
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

__attribute__((unused)) static void map_high(void) {
  u64 *pml4 = (u64 *)(read_cr3() & ~0xfffUL);
  u64 *pdpt = (u64 *)(pml4[0] & ~0xfffUL);
  for (int i = 0; i < 512; i++) high_pd[i] = (0xc0000000UL + ((u64)i << 21)) | 0x9b; /* P W PWT PCD PS */
  pdpt[3] = (u64)high_pd | 3;
  write_cr3(read_cr3());
}

static inline u32 apic_read(u32 reg) { return *(volatile u32 *)(APIC_BASE + reg); }
static inline void apic_write(u32 reg, u32 v) { *(volatile u32 *)(APIC_BASE + reg) = v; }
static inline void apic_eoi(void) { apic_write(0xb0, 0); }

static inline u32 ioapic_read(u32 reg) {
  *(volatile u32 *)IOAPIC_BASE = reg;
  return *(volatile u32 *)(IOAPIC_BASE + 0x10);
}
static inline void ioapic_write(u32 reg, u32 v) {
  *(volatile u32 *)IOAPIC_BASE = reg;
  *(volatile u32 *)(IOAPIC_BASE + 0x10) = v;
}

/* Installs a 64-bit interrupt gate for `vector` in the runtime's IDT (found through SIDT). */
__attribute__((unused)) static void set_gate(int vector, void (*handler)(void)) {
  struct { u16 limit; u64 base; } __attribute__((packed)) d;
  __asm__ volatile("sidt %0" : "=m"(d));
  u8 *g = (u8 *)d.base + vector * 16;
  u64 h = (u64)handler;
  *(u16 *)(g + 0) = (u16)h;
  *(u16 *)(g + 2) = 0x08;
  g[4] = 0;
  g[5] = 0x8e;
  *(u16 *)(g + 6) = (u16)(h >> 16);
  *(u32 *)(g + 8) = (u32)(h >> 32);
  *(u32 *)(g + 12) = 0;
}

/*
 * IRQ_STUB(name, vector): an interrupt entry that saves the caller-saved registers, calls
 * irq_handler(vector) and returns with IRETQ. At entry RSP is 16-byte aligned minus the
 * 40-byte frame; nine pushes make the call site aligned again (SysV ABI).
 */
#define IRQ_STUB(name, vector)                                                              \
  void name(void);                                                                          \
  __asm__(".text\n.globl " #name "\n" #name ":\n"                                           \
          "push %rax\npush %rcx\npush %rdx\npush %rsi\npush %rdi\n"                         \
          "push %r8\npush %r9\npush %r10\npush %r11\n"                                      \
          "mov $" #vector ", %edi\ncall irq_handler\n"                                      \
          "pop %r11\npop %r10\npop %r9\npop %r8\n"                                          \
          "pop %rdi\npop %rsi\npop %rdx\npop %rcx\npop %rax\niretq\n")

#endif
