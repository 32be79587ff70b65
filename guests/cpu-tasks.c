/*
 * cpu-tasks: hardware task switches and the virtual-8086 mode extensions, in the 32-bit
 * protected mode a Multiboot loader starts a kernel in (no paging). Unlike the other
 * kernels this one is built with gcc -m32 and has its own Multiboot entry and serial
 * output: a 64-bit kernel cannot do either thing (IA-32e mode has no task switches and no
 * virtual-8086 mode).
 *  - JMP far to a TSS and back (no nesting, busy bits move; SDM Vol. 3A §7.3);
 *  - CALL far through a task gate, IRET back through the previous-task link (§7.4);
 *  - INT n through a task gate in the IDT (§6.11.1);
 *  - #GP through a task gate with its error code on the handler task's stack;
 *  - a double fault handled by a task (a #GP whose gate is not present: #NP, then #DF,
 *    error code 0; §6.15 "Interrupt 8");
 *  - virtual-8086 mode entered with IRETD at CPL 0 with CR4.VME and IOPL 0: CLI/STI/PUSHF
 *    act on VIF, INT 30h is redirected through the 8086 vector table at linear 0 (its
 *    redirection bit is clear) and its handler's IRET restores VIF, INT 31h (bit set) is
 *    a #GP to the ring-0 monitor with the 9-dword frame (SDM Vol. 3A §20.3-§20.4).
 * QEMU 7.2 TCG (-cpu max) passes the 8 task-switch checks and fails the 5 v86 ones: its
 * TCG accepts CR4.VME but the first CLI in v86 mode at IOPL 0 is still #GP(0) there.
 * Nestvisor passes all 13.
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define COM1 0x3f8
#define NT (1u << 14)
#define IF (1u << 9)
#define IOPL (3u << 12)
#define VM (1u << 17)
#define VIF (1u << 19)

/* GDT selectors */
#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_MAIN 0x18 /* the kernel's own task */
#define SEL_A 0x20    /* a worker task */
#define SEL_DF 0x28   /* the double-fault task */
#define SEL_GP 0x30   /* the #GP task */
#define SEL_GATE_A 0x38 /* task gate -> SEL_A */

struct tss32 {
  u16 link, r0; u32 esp0; u16 ss0, r1; u32 esp1; u16 ss1, r2; u32 esp2; u16 ss2, r3;
  u32 cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
  u16 es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10, t, iomap;
  u8 redir[32]; /* the software interrupt redirection bit map, just below the I/O map */
  u8 iomap_end;
} __attribute__((packed));

static u64 gdt[8] __attribute__((aligned(8)));
static u64 idt[256] __attribute__((aligned(8)));
struct tss32 tss_main, tss_a, tss_df, tss_gp;
static u8 stack_a[1024] __attribute__((aligned(16)));
static u8 stack_df[1024] __attribute__((aligned(16)));
static u8 stack_gp[1024] __attribute__((aligned(16)));
static u8 stack_ring0[1024] __attribute__((aligned(16)));

/* Written by the task code below. */
volatile u32 a_runs, a_flags, a_use_jmp, df_err, df_runs, gp_err, gp_runs;
volatile u16 a_tr;
volatile u32 v86_saved_esp, v86_gp_err, v86_gp_eip, v86_gp_cs, v86_gp_eflags;
extern char task_a_entry[], task_df_entry[], task_gp_entry[], v86_exit[], v86_start[], v86_int30[],
  v86_int31[], v86_end[];
void enter_v86(void);

__asm__(
  /* Multiboot 1 header (§3.1.1): magic, flags (none), checksum */
  ".section .multiboot, \"a\"\n"
  ".align 4\n"
  ".long 0x1BADB002, 0, -0x1BADB002\n"
  ".section .boot, \"ax\"\n"
  ".globl _start\n"
  "_start:\n"
  "  cli\n"
  "  mov $boot_stack_top, %esp\n"
  "  call main\n"
  "1: hlt\n"
  "  jmp 1b\n"
  ".text\n"
  /* task A: counts its runs, records EFLAGS and TR, then leaves by JMP or IRET; the next
     switch to it resumes after that instruction, hence the loop */
  "task_a_entry:\n"
  "  incl a_runs\n"
  "  pushf\n"
  "  popl a_flags\n"
  "  str a_tr\n"
  "  cmpl $0, a_use_jmp\n"
  "  je 2f\n"
  "  ljmp $0x18, $0\n"
  "  jmp task_a_entry\n"
  "2: iret\n"
  "  jmp task_a_entry\n"
  /* the #DF and #GP tasks: the error code is on their stack; the faulting instruction in
     the kernel task (2 bytes: mov %ax,%es) is skipped by moving its saved EIP */
  "task_df_entry:\n"
  "  popl df_err\n"
  "  incl df_runs\n"
  "  addl $2, tss_main+0x20\n"
  "  iret\n"
  "  jmp task_df_entry\n"
  "task_gp_entry:\n"
  "  popl gp_err\n"
  "  incl gp_runs\n"
  "  addl $2, tss_main+0x20\n"
  "  iret\n"
  "  jmp task_gp_entry\n"
  /* into v86 mode with IRETD from CPL 0: EIP, CS, EFLAGS (VM, IOPL 0, IF 0), ESP, SS,
     ES, DS, FS, GS (SDM Vol. 2 IRET "RETURN-TO-VIRTUAL-8086-MODE") */
  ".globl enter_v86\n"
  "enter_v86:\n"
  "  push %ebp\n"
  "  push %ebx\n"
  "  push %esi\n"
  "  push %edi\n"
  "  mov %esp, v86_saved_esp\n"
  "  pushl $0\n"
  "  pushl $0\n"
  "  pushl $0\n"
  "  pushl $0\n"
  "  pushl $0x0800\n"
  "  pushl $0x0ff0\n"
  "  pushl $0x00020002\n"
  "  pushl $0x0700\n"
  "  pushl $0\n"
  "  iret\n"
  /* the ring-0 #GP handler that ends the v86 test: error code, EIP, CS, EFLAGS of the
     9-dword frame, then back to enter_v86's caller */
  "v86_exit:\n"
  "  mov $0x10, %ax\n"      /* the data segment registers are null after leaving v86 mode */
  "  mov %ax, %ds\n"
  "  mov %ax, %es\n"
  "  mov %ax, %fs\n"
  "  mov %ax, %gs\n"
  "  popl v86_gp_err\n"
  "  popl v86_gp_eip\n"
  "  popl v86_gp_cs\n"
  "  popl v86_gp_eflags\n"
  "  mov v86_saved_esp, %esp\n"
  "  pop %edi\n"
  "  pop %esi\n"
  "  pop %ebx\n"
  "  pop %ebp\n"
  "  ret\n"
  /* 8086 code, copied to 0x7000 and run as CS = 0x0700 with DS = 0: results at 0x600 */
  ".code16\n"
  "v86_start:\n"
  "  cli\n"                 /* VIF <- 0 */
  "  pushf\n"
  "  pop %ax\n"
  "  mov %ax, 0x600\n"
  "  sti\n"                 /* VIF <- 1 */
  "  pushf\n"
  "  pop %ax\n"
  "  mov %ax, 0x602\n"
  "  int $0x30\n"           /* redirected to v86_int30 through the vector table */
  "  pushf\n"
  "  pop %ax\n"
  "  mov %ax, 0x606\n"
  "v86_int31:\n"
  "  int $0x31\n"           /* not redirected: #GP(0) to v86_exit */
  "v86_int30:\n"
  "  pushf\n"
  "  pop %ax\n"
  "  mov %ax, 0x604\n"
  "  movw $0x5a5a, 0x608\n"
  "  iret\n"
  "v86_end:\n"
  ".code32\n"
  ".section .bss\n"
  ".align 16\n"
  "  .space 4096\n"
  "boot_stack_top:\n"
  ".text\n");

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static void putc_(char c) {
  while (!(inb(COM1 + 5) & 0x20)) {
  }
  outb(COM1, (u8)c);
}
static void puts_(const char *s) { while (*s) putc_(*s++); }
static void putu(u32 v) {
  char b[12]; int n = 0;
  do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) putc_(b[--n]);
}

static unsigned tests, failures;
static void report(const char *name, int ok) {
  tests++;
  if (!ok) failures++;
  puts_(ok ? "PASS: " : "FAIL: ");
  puts_(name);
  putc_('\n');
}

/* A segment descriptor: access byte (P DPL S type) and flags nibble (G D/B L AVL). */
static u64 desc(u32 base, u32 limit, u32 access, u32 flags) {
  u32 lo = (limit & 0xffff) | (base << 16);
  u32 hi = ((base >> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000);
  return ((u64)hi << 32) | lo;
}
/* A task gate (type 5) naming a TSS selector; `dpl` decides who may use it by INT n / CALL. */
static u64 task_gate(u16 tss_sel, u32 dpl) { return ((u64)(0x8500 | (dpl << 13)) << 32) | ((u32)tss_sel << 16); }
/* A 32-bit interrupt gate. */
static u64 int_gate(u16 sel, u32 off) {
  return ((u64)((off & 0xffff0000) | 0x8e00) << 32) | (((u32)sel << 16) | (off & 0xffff));
}

static void task_init(struct tss32 *t, void *entry, u8 *stack, u32 size) {
  u8 *p = (u8 *)t;
  for (u32 i = 0; i < sizeof *t; i++) p[i] = 0;
  t->eip = (u32)entry;
  t->esp = (u32)(stack + size);
  t->eflags = 2;
  t->cs = SEL_CODE;
  t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA;
  t->iomap = 0x88;
}

static int busy(u16 sel) { return (int)((gdt[sel >> 3] >> 40) & 2) != 0; }

struct dtr { u16 limit; u32 base; } __attribute__((packed));

/* A pointer to low physical memory (GCC would otherwise warn about constant addresses < 4 KiB). */
static void *phys(u32 a) { void *p; __asm__("" : "=r"(p) : "0"(a)); return p; }

int main(void);
int main(void) {
  /* serial 115200 8N1 (16550) */
  outb(COM1 + 1, 0); outb(COM1 + 3, 0x80); outb(COM1, 1); outb(COM1 + 1, 0); outb(COM1 + 3, 3);
  outb(COM1 + 2, 0xc7); outb(COM1 + 4, 0x0b);

  task_init(&tss_main, 0, stack_ring0, sizeof stack_ring0);
  tss_main.esp0 = (u32)(stack_ring0 + sizeof stack_ring0);
  tss_main.ss0 = SEL_DATA;
  tss_main.redir[0x31 >> 3] = 1 << (0x31 & 7); /* INT 31h is not redirected */
  task_init(&tss_a, task_a_entry, stack_a, sizeof stack_a);
  task_init(&tss_df, task_df_entry, stack_df, sizeof stack_df);
  task_init(&tss_gp, task_gp_entry, stack_gp, sizeof stack_gp);
  gdt[1] = desc(0, 0xfffff, 0x9a, 0xc);
  gdt[2] = desc(0, 0xfffff, 0x92, 0xc);
  gdt[3] = desc((u32)&tss_main, sizeof tss_main - 1, 0x89, 0);
  gdt[4] = desc((u32)&tss_a, 0x67, 0x89, 0);
  gdt[5] = desc((u32)&tss_df, 0x67, 0x89, 0);
  gdt[6] = desc((u32)&tss_gp, 0x67, 0x89, 0);
  gdt[7] = task_gate(SEL_A, 0);
  idt[0x50] = task_gate(SEL_A, 0);
  idt[13] = task_gate(SEL_GP, 0);
  struct dtr g = { sizeof gdt - 1, (u32)gdt }, i = { sizeof idt - 1, (u32)idt };
  __asm__ volatile("lgdt %0\n lidt %1\n ljmp $0x08, $1f\n 1:\n"
                   " mov $0x10, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n mov %%ax, %%ss\n mov %%ax, %%fs\n mov %%ax, %%gs\n"
                   " mov $0x18, %%ax\n ltr %%ax" : : "m"(g), "m"(i) : "eax", "memory");

  /* JMP to a TSS: no nesting; the kernel task is left (not busy) and resumed by A's JMP back */
  a_use_jmp = 1;
  __asm__ volatile("ljmp $0x20, $0" : : : "memory");
  report("JMP far to a TSS runs the task with TR = its selector and NT = 0", a_runs == 1 && a_tr == SEL_A && !(a_flags & NT));
  report("JMP back: the kernel TSS is busy again, task A's is not", busy(SEL_MAIN) && !busy(SEL_A) && tss_a.link == 0);

  /* CALL through a task gate nests: link = the kernel's TSS, NT = 1; IRET returns */
  a_use_jmp = 0;
  __asm__ volatile("lcall $0x38, $0" : : : "memory");
  report("CALL through a task gate: NT = 1 and the previous-task link in the new TSS", a_runs == 2 && (a_flags & NT) && tss_a.link == SEL_MAIN);
  u32 fl;
  __asm__ volatile("pushf; pop %0" : "=r"(fl));
  report("IRET with NT = 1 returns to the caller; the called task is no longer busy", !busy(SEL_A) && busy(SEL_MAIN) && !(fl & NT));

  /* INT n through a task gate in the IDT */
  __asm__ volatile("int $0x50" : : : "memory");
  report("INT 50h through an IDT task gate runs the task, nested", a_runs == 3 && (a_flags & NT) && tss_a.link == SEL_MAIN);

  /* #GP through a task gate: the error code goes on the #GP task's stack */
  __asm__ volatile("mov $0x1234, %%eax\n mov %%ax, %%es" : : : "eax", "memory");
  report("#GP(1234h) through a task gate: error code on the handler task's stack", gp_runs == 1 && gp_err == 0x1234);

  /* a double fault handled by a task: #GP's gate is not present, so #NP, then #DF */
  idt[13] = 0;
  idt[8] = task_gate(SEL_DF, 0);
  __asm__ volatile("mov $0x1234, %%eax\n mov %%ax, %%es" : : : "eax", "memory");
  report("#DF task: a #GP with a not-present gate ends in the double-fault task, error code 0", df_runs == 1 && df_err == 0);
  report("after the #DF task's IRET the kernel task runs on, its TSS busy, the #DF TSS free", busy(SEL_MAIN) && !busy(SEL_DF));

  /* virtual-8086 mode with CR4.VME at IOPL 0 */
  u8 *low = phys(0x7000);
  volatile u16 *ivt = phys(0), *res = phys(0x600);
  for (char *p = v86_start; p < v86_end; p++) *low++ = (u8)*p;
  ivt[0x30 * 2] = (u16)(v86_int30 - v86_start);
  ivt[0x30 * 2 + 1] = 0x0700;
  for (int k = 0; k < 5; k++) res[k] = 0xffff; /* "not written" */
  idt[13] = int_gate(SEL_CODE, (u32)v86_exit);
  u32 cr4;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | 1));
  enter_v86();
  report("VME: CLI at IOPL 0 clears VIF; PUSHF shows it as IF with IOPL 3", (res[0] & (IF | IOPL)) == IOPL);
  report("VME: STI at IOPL 0 sets VIF; PUSHF shows IF = 1", res[1] != 0xffff && (res[1] & (IF | IOPL)) == (IF | IOPL));
  report("VME: INT 30h redirected to the 8086 vector table, VIF cleared in its handler", res[4] == 0x5a5a && (res[2] & IF) == 0);
  report("VME: the handler's IRET restores VIF from the FLAGS image", res[3] != 0xffff && (res[3] & IF) == IF);
  report("VME: INT 31h (redirection bit set) is #GP(0) to the ring-0 monitor with VM and VIF in the frame",
         v86_gp_err == 0 && v86_gp_cs == 0x0700 && v86_gp_eip == (u32)(v86_int31 - v86_start) &&
         (v86_gp_eflags & (VM | VIF | IF)) == (VM | VIF));

  puts_("SUMMARY: ");
  putu(tests);
  puts_(" tests, ");
  putu(failures);
  puts_(" failures\n");
  outl(0xf4, failures ? 1 : 0);
  for (;;) __asm__ volatile("cli; hlt");
}
