/*
 * smp: starts the application processors with INIT and SIPI (SDM Vol. 3A §8.4.4.1) into a
 * real-mode trampoline at 0x70000 that records its APIC ID (CPUID.1:EBX[31:24]) and
 * counts itself in, then halts. Checks that a second SIPI to a running AP is ignored and
 * that INIT parks it again so that a new SIPI restarts it. The CPU count comes from
 * fw_cfg (QEMU's FW_CFG_NB_CPUS), as kvm-unit-tests reads it.
 */
#include "apic.h"

#define TRAMPOLINE 0x70000UL
#define SEEN ((volatile u8 *)0x7f00UL)
#define ARRIVED ((volatile u32 *)0x7ff0UL)

extern const u8 ap_start[], ap_end[];
__asm__(".section .rodata\n.code16\n.globl ap_start\nap_start:\n"
        "cli\n"
        "xor %ax, %ax\n"
        "mov %ax, %ds\n"
        "mov $1, %eax\n"
        "cpuid\n"
        "shr $24, %ebx\n"
        "movb $1, 0x7f00(%bx)\n"
        "lock incl 0x7ff0\n"
        "1: hlt\n"
        "jmp 1b\n"
        ".globl ap_end\nap_end:\n.code64\n.text\n");

static u32 nb_cpus(void) {
  outw_(0x510, 0x05);
  return inb(0x511) | ((u32)inb(0x511) << 8);
}

static void ipi_all_but_self(u32 lo) {
  apic_write(0x310, 0);
  apic_write(0x300, 0xc0000 | lo);
}

static int wait_arrived(u32 n) {
  for (long i = 0; i < 20000000 && *ARRIVED < n; i++) __asm__ volatile("pause");
  return *ARRIVED == n;
}

int main(void) {
  u32 n = nb_cpus();
  printf("CPUs: %u\n", n);
  map_high();
  memcpy((void *)TRAMPOLINE, ap_start, ap_end - ap_start);
  *ARRIVED = 0;
  memset((void *)SEEN, 0, 64);
  apic_write(0xf0, 0x1ff);
  ipi_all_but_self(0x4500); /* INIT, assert */
  ipi_all_but_self(0x4600 | (TRAMPOLINE >> 12)); /* SIPI */
  report("every AP arrived after INIT/SIPI", wait_arrived(n - 1));
  int ids = 1;
  for (u32 i = 1; i < n; i++) ids &= SEEN[i] == 1;
  report("each AP reports its own APIC ID", ids && SEEN[0] == 0);
  ipi_all_but_self(0x4600 | (TRAMPOLINE >> 12));
  for (volatile int i = 0; i < 200000; i++) {}
  report("a SIPI to a running AP is ignored", *ARRIVED == n - 1);
  ipi_all_but_self(0x4500);
  ipi_all_but_self(0x4600 | (TRAMPOLINE >> 12));
  report("INIT then SIPI restarts the APs", wait_arrived(2 * (n - 1)));
  report("more than one CPU", n > 1);
  return report_summary() ? 1 : 0;
}
