/*
 * apic-timer: interrupts from the local APIC timer (one-shot, periodic, TSC-deadline when
 * CPUID offers it), from the 8254 through the 8259 (ExtINT via LINT0) and through the
 * I/O APIC, and an x2APIC self-IPI when CPUID offers x2APIC. Waits with HLT, so it also
 * exercises the wake-up of a halted CPU by each source.
 */
#include "apic.h"

static volatile u32 count[256];

void irq_handler(u64 vector);
void irq_handler(u64 vector) {
  count[vector & 0xff]++;
  if (vector != 0x20) apic_eoi();
  else outb(0x20, 0x20); /* the 8259's EOI */
}

IRQ_STUB(irq_timer, 0x40);
IRQ_STUB(irq_deadline, 0x41);
IRQ_STUB(irq_self, 0x42);
IRQ_STUB(irq_pic0, 0x20);
IRQ_STUB(irq_ioapic2, 0x50);

/* HLT until count[v] reaches n, at most `limit` wake-ups. */
static int wait_for(int v, u32 n, int limit) {
  while (count[v] < n && limit-- > 0) safe_halt();
  cli();
  return count[v] >= n;
}

static void pic_init(void) {
  outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
  outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
  outb(0x21, 0xff); outb(0xa1, 0xff);
}

static void pit_rate(u16 divisor) {
  outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
  outb(0x40, divisor & 0xff);
  outb(0x40, divisor >> 8);
}

int main(void) {
  u32 a, b, c, d;
  map_high();
  set_gate(0x40, irq_timer);
  set_gate(0x41, irq_deadline);
  set_gate(0x42, irq_self);
  set_gate(0x20, irq_pic0);
  set_gate(0x50, irq_ioapic2);
  cpuid(1, 0, &a, &b, &c, &d);

  report("APIC present in CPUID", (d >> 9) & 1);
  report("APIC_BASE: enabled xAPIC at 0xfee00000, BSP", (rdmsr(0x1b) & 0xfffff900UL) == 0xfee00900UL);
  report("APIC version 0x14", (apic_read(0x30) & 0xff) == 0x14);
  apic_write(0xf0, 0x1ff); /* software enable, spurious vector 0xff */
  apic_write(0x80, 0);

  /* one-shot */
  apic_write(0x3e0, 0xb); /* divide by 1 */
  apic_write(0x320, 0x40);
  apic_write(0x380, 200000);
  report("one-shot timer interrupt", wait_for(0x40, 1, 100));
  report("one-shot: current count is 0 after expiry", apic_read(0x390) == 0);
  for (volatile int i = 0; i < 20000; i++) {}
  report("one-shot fires once", count[0x40] == 1);

  /* periodic */
  count[0x40] = 0;
  apic_write(0x320, 0x20040);
  apic_write(0x380, 100000);
  report("periodic timer: 10 interrupts", wait_for(0x40, 10, 1000));
  apic_write(0x320, 0x10040); /* mask */
  apic_write(0x380, 0);

  /* TSC-deadline */
  if ((c >> 24) & 1) {
    apic_write(0x320, 0x40041);
    u64 t;
    __asm__ volatile("rdtsc; shl $32, %%rdx; or %%rdx, %%rax" : "=a"(t) : : "rdx");
    wrmsr(0x6e0, t + 200000);
    report("TSC-deadline interrupt", wait_for(0x41, 1, 100));
    report("TSC-deadline MSR cleared on expiry", rdmsr(0x6e0) == 0);
    apic_write(0x320, 0x10000);
  } else {
    printf("SKIP: TSC-deadline not in CPUID\n");
  }

  /* 8254 → 8259 → LINT0 (ExtINT) */
  pic_init();
  pit_rate(1193); /* ~1 kHz */
  outb(0x21, 0xfe); /* unmask IRQ 0 */
  report("PIT through the 8259: 5 interrupts", wait_for(0x20, 5, 1000));
  outb(0x21, 0xff);

  /* 8254 → I/O APIC pin 2 → local APIC */
  report("I/O APIC version 0x20, 24 entries", ioapic_read(1) == 0x170020);
  ioapic_write(0x10 + 2 * 2 + 1, 0);
  ioapic_write(0x10 + 2 * 2, 0x50); /* edge, fixed, physical, APIC 0, vector 0x50 */
  report("PIT through the I/O APIC: 5 interrupts", wait_for(0x50, 5, 1000));
  ioapic_write(0x10 + 2 * 2, 0x10050);
  outb(0x43, 0x30); /* stop the PIT: mode 0 with no count */

  /* x2APIC self-IPI */
  if ((c >> 21) & 1) {
    wrmsr(0x1b, rdmsr(0x1b) | 0xc00);
    report("x2APIC ID MSR", rdmsr(0x802) == 0);
    wrmsr(0x83f, 0x42);
    sti(); __asm__ volatile("nop"); cli();
    report("x2APIC self-IPI", count[0x42] == 1);
  } else {
    printf("SKIP: x2APIC not in CPUID\n");
  }
  return report_summary() ? 1 : 0;
}
