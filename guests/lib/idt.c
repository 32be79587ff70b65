/*
 * The IDT: 32 exception gates (SDM Vol. 3A §6.14.1, 64-bit interrupt gate: type 0xE,
 * present, DPL 0, selector 0x08) and the C half of exception handling. An exception with
 * a recovery point armed by fault_try() is recorded and resumed there; any other one is
 * reported with its vector, error code and RIP, and the kernel exits with failure.
 */
#include "rt.h"

struct gate {
  u16 offset_lo, selector;
  u8 ist, type_attr;
  u16 offset_mid;
  u32 offset_hi, reserved;
} __attribute__((packed));

static struct gate idt[256] __attribute__((aligned(16)));
extern const u64 exception_stubs[32];

/* Shared with entry.S. */
volatile u64 fault_recover_rip, fault_recover_rsp, fault_vector;
volatile u64 fault_error, fault_rip, fault_cr2;

static const char *const names[32] = {
  "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "15",
  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "22", "23", "24", "25", "26", "27", "#HV", "#VC", "#SX", "31",
};

void idt_init(void) {
  for (int v = 0; v < 32; v++) {
    u64 h = exception_stubs[v];
    idt[v].offset_lo = (u16)h;
    idt[v].selector = 0x08;
    idt[v].ist = 0;
    idt[v].type_attr = 0x8e;
    idt[v].offset_mid = (u16)(h >> 16);
    idt[v].offset_hi = (u32)(h >> 32);
    idt[v].reserved = 0;
  }
  struct { u16 limit; u64 base; } __attribute__((packed)) d = { sizeof idt - 1, (u64)idt };
  __asm__ volatile("lidt %0" : : "m"(d));
}

void exception_handler(struct frame *f);
void exception_handler(struct frame *f) {
  if (fault_recover_rip) {
    fault_vector = f->vector;
    fault_error = f->error;
    fault_rip = f->rip;
    fault_cr2 = f->vector == 14 ? read_cr2() : 0;
    f->rip = fault_recover_rip;
    f->rsp = fault_recover_rsp;
    fault_recover_rip = 0;
    return;
  }
  printf("unexpected exception %s (vector %lu), error code %#lx, at rip %#lx, rsp %#lx\n",
         names[f->vector & 31], f->vector, f->error, f->rip, f->rsp);
  if (f->vector == 14) printf("cr2 %#lx\n", read_cr2());
  report("no unexpected exceptions", 0);
  report_summary();
  exit(1);
}

void expect_fault(const char *name, void (*fn)(void *), void *arg, int vector) {
  int got = fault_try(fn, arg);
  if (got != vector) {
    if (got < 0) printf("  %s: expected vector %d, no exception\n", name, vector);
    else printf("  %s: expected vector %d, got %d (error %#lx, rip %#lx)\n", name, vector, got, fault_error, fault_rip);
  }
  report(name, got == vector);
}
