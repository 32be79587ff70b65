/*
 * minivisor: a small VT-x hypervisor (the L1 of Nestvisor's nesting story). Booted as a
 * Multiboot kernel, it checks for VT-x, enters VMX operation, builds a VMCS and an EPT,
 * launches a 64-bit L2 guest (the C program l2net.c; docs/minivisor.md) and serves its VM exits:
 *   - OUT to COM1 (port 0x3f8): forwarded to its own COM1, "[L2] " at each line start;
 *   - CPUID: answered with the host's values, CPUID.1:ECX.VMX cleared;
 *   - VMCALL: 0x4e561xxx the L2 NIC (net.c), 0x4e562xxx the agent mailbox (agent-l1.c),
 *     anything else printed ("minivisor: VMCALL from L2, rax=...");
 *   - VMX-preemption timer: nothing to do but serve the NIC and the agent (every exit does);
 *   - HLT (or L2's exit() through port 0xf4): "minivisor: L2 halted", net statistics, exit
 *     with success (or, with "stay", stay in VMX operation serving the agent);
 *   - anything else: exit reason and qualification printed, exit with failure.
 *
 * L2 runs in 64-bit mode with unrestricted guest OFF, so it needs paging: minivisor builds
 * L2's own page tables inside L2 memory (guest-physical 0x1000..0x3fff, 2 MiB pages mapping
 * guest-linear 0-4 MiB to guest-physical 0-4 MiB). The EPT (4 levels, 4 KiB pages, WB) maps
 * L2 guest-physical 0..4 MiB to a separate 4 MiB host-physical region (l2_mem).
 * L2 memory map (guest-physical): 0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x4000 GDT,
 * 0x5000 TSS, 0x6000 a Multiboot-style information block whose command line is minivisor's
 * (so L2 reads l2ip= etc. with cmdline_get), 0x8000 initial stack top, 1 MiB the program
 * (vmxbench: 0x8000 code, stack below 0xf000).
 *
 * Exit status (isa-debug-exit, process status (v << 1) | 1): 0 → 1 = L2 ran and halted,
 * 1 → 3 = a failure (message says which), 2 → 5 = VT-x not available.
 */
#include "vmx.h"
#include "hypercalls.h"
#include "net.h"
#ifndef VMXBENCH
#include "balloon.h"
#endif

#define EXIT_SUCCESS_L2_HALTED 0
#define EXIT_FAILURE 1
#define EXIT_NO_VTX 2
#define EXIT_L2_CRASHED 3 /* L2 triple-faulted: reported, L1 itself is fine (issue 8) */

#define L2_MEM_SIZE 0x400000
#define L2_PML4 0x1000
#define L2_PDPT 0x2000
#define L2_PD 0x3000
#define L2_GDT 0x4000
#define L2_TSS 0x5000
#define L2_BOOTINFO 0x6000
#define L2_CMDLINE 0x6100
#ifdef VMXBENCH
#define L2_CODE 0x8000
#define L2_STACK_TOP 0xf000
#else
#define L2_CODE 0x100000
#define L2_STACK_TOP 0x8000
#endif
/* VMX-preemption timer reload (timer ticks, SDM Vol. 3C §25.5.1): L2 comes back to L1 at
 * least this often even when it spins without exiting, so the NIC and the agent are served.
 * Nestvisor's rate is TSC/32 (IA32_VMX_MISC[4:0] = 5): 6.4 M TSC ticks, 3.2 ms at 2 GHz. */
#define PREEMPTION_TICKS 200000

#define EPT_RWX 7ull
#define EPT_MT_WB (6ull << 3)

static u8 vmxon_region[4096] __attribute__((aligned(4096)));
static u8 vmcs_region[4096] __attribute__((aligned(4096)));
static u64 ept_pml4[512] __attribute__((aligned(4096)));
static u64 ept_pdpt[512] __attribute__((aligned(4096)));
static u64 ept_pd[512] __attribute__((aligned(4096)));
static u64 ept_pt[L2_MEM_SIZE / 0x200000][512] __attribute__((aligned(4096)));
static u8 l2_mem[L2_MEM_SIZE] __attribute__((aligned(4096)));
/* minivisor's own GDT: the boot GDT's four descriptors plus a TSS (VM exits need a host TR) */
static u64 host_gdt[6] __attribute__((aligned(16)));
static u8 host_tss[104] __attribute__((aligned(16)));

static int use_true_ctls;
static int preemption_timer;
/* VM exits served, and how many of them the preemption timer caused (printed when L2 halts) */
static u64 exits_total, exits_timer;
/* "stay" on the command line: after L2 halts, stay in VMX operation instead of exiting, as a
 * resident hypervisor does (the memory tests need a guest whose VMX stays on). */
static int stay;

#ifdef VMXBENCH
/*
 * vmxbench: the same hypervisor with l2bench.S as L2, for bench/vmx.ts. Command line
 * "MODE COUNT": mode 0 = L2 runs bench_loop(COUNT), 1 = L2 executes COUNT CPUIDs (each a
 * VM exit served by L1), 2 = L1 itself runs bench_loop(COUNT) and exits (no VMX at all).
 */
extern u64 bench_loop(u64 n);
static u64 bench_mode, bench_count;
#endif

#ifndef VMXBENCH
/*
 * Dynamic memory (lib/balloon.c, docs/minivisor.md): minivisor's free memory is the RAM of
 * the Multiboot map from MV_FREE_FROM up. Everything minivisor uses for itself and for L2
 * (image, stacks, l2_mem, the EPT) is static and lies below it, checked at boot, so L2's memory
 * can never reach the balloon. One bit per page, like balloon.c's allocator; minivisor itself
 * never allocates from it, the balloon alone takes and gives back.
 */
#define MV_FREE_FROM 0x1000000u /* 16 MiB */
struct multiboot_mmap { u32 size; u64 base; u64 len; u32 type; } __attribute__((packed));
extern u32 mb_info;
static u8 mv_free_map[BALLOON_MAX_PFN / 8];
static u32 mv_ram_top, mv_free_count;
static u32 mv_free_below; /* no free page at or above it: take() starts there, not at the top */
static int mv_balloon_on;

static void mv_free_range(u32 from, u32 to) {
  if (from < MV_FREE_FROM / BALLOON_PAGE) from = MV_FREE_FROM / BALLOON_PAGE;
  if (to > BALLOON_MAX_PFN) to = BALLOON_MAX_PFN;
  for (u32 p = from; p < to; p++) {
    if (mv_free_map[p >> 3] & (1u << (p & 7))) continue;
    mv_free_map[p >> 3] |= (u8)(1u << (p & 7));
    mv_free_count++;
  }
  if (to > mv_ram_top) mv_ram_top = to;
  if (to > mv_free_below) mv_free_below = to;
}
static u32 mv_take_page(void) {
  if (!mv_free_count) return 0;
  for (u32 p = mv_free_below; p-- > MV_FREE_FROM / BALLOON_PAGE;) {
    if (!(mv_free_map[p >> 3] & (1u << (p & 7)))) continue;
    mv_free_map[p >> 3] &= (u8)~(1u << (p & 7));
    mv_free_count--;
    mv_free_below = p;
    return p;
  }
  return 0;
}
static void mv_give_page(u32 p) {
  mv_free_map[p >> 3] |= (u8)(1u << (p & 7));
  mv_free_count++;
  if (p >= mv_free_below) mv_free_below = p + 1;
}
static u32 mv_free_pages(void) { return mv_free_count; }
static const struct balloon_source mv_balloon_source = { mv_take_page, mv_give_page, mv_free_range, mv_free_pages };

/* Brings the balloon driver up over the Multiboot map's RAM (flags bit 6: mmap_length at +44,
 * mmap_addr at +48). Without a device minivisor runs on with the memory it booted with. */
static void mv_balloon_setup(void) {
  if ((u64)l2_mem + L2_MEM_SIZE > MV_FREE_FROM || (u64)(mv_free_map + sizeof mv_free_map) > MV_FREE_FROM) {
    printf("minivisor: balloon: minivisor's own memory reaches past %u MiB; no balloon\n", MV_FREE_FROM >> 20);
    return;
  }
  const u32 *info = (const u32 *)(u64)mb_info;
  if (info[0] & (1u << 6)) {
    for (u32 o = 0; o < info[11];) {
      const struct multiboot_mmap *e = (const struct multiboot_mmap *)(u64)(info[12] + o);
      if (e->type == 1 && e->base < (u64)BALLOON_MAX_PFN * BALLOON_PAGE) {
        u64 end = e->base + e->len;
        if (end > (u64)BALLOON_MAX_PFN * BALLOON_PAGE) end = (u64)BALLOON_MAX_PFN * BALLOON_PAGE;
        mv_free_range((u32)(e->base / BALLOON_PAGE), (u32)(end / BALLOON_PAGE));
      }
      o += e->size + 4;
    }
  }
  mv_balloon_on = balloon_init(&mv_balloon_source, "minivisor: balloon", mv_ram_top) == 0;
}
static void mv_balloon_poll(void) { if (mv_balloon_on) balloon_poll(); }

/*
 * The idle loop without VT-x ("stay"): HLT with interrupts on, woken every 10 ms by the local
 * APIC timer (periodic, vector MV_IDLE_VECTOR), so an idle minivisor costs the host nothing
 * (Nestvisor skips ahead to the next timer deadline when every vCPU is halted). Each wake-up
 * serves the agent (PowerShell Direct reaches L1 whatever its hypervisor does, as on Hyper-V;
 * a request waits at most one period), L1's NIC and the balloon; while the balloon is moving
 * pages it polls without halting. The APIC page (0xfee00000, SDM Vol. 3A
 * §11.4.1) lies in the 3-4 GiB window lib/balloon.c mapped uncached. The 8259s are masked (OCW1)
 * so that no legacy interrupt arrives on an exception vector.
 */
#define MV_IDLE_VECTOR 0x40
#define MV_APIC 0xfee00000UL
#define MV_IDLE_PERIOD_NS 10000000u /* the timer counts 1 ns bus clocks with divide-by-1 (docs/devices) */
void mv_idle_irq(void);
void mv_spurious_irq(void);
__asm__(".text\n.globl mv_idle_irq\nmv_idle_irq:\n"
        "push %rax\nmovabs $0xfee000b0, %rax\nmovl $0, (%rax)\npop %rax\niretq\n" /* EOI */
        ".globl mv_spurious_irq\nmv_spurious_irq:\niretq\n");  /* spurious: no EOI (SDM Vol. 3A §11.9) */

static void mv_set_gate(int vector, void (*handler)(void)) {
  struct { u16 limit; u64 base; } __attribute__((packed)) d;
  __asm__ volatile("sidt %0" : "=m"(d));
  u8 *g = (u8 *)d.base + vector * 16;
  u64 h = (u64)handler;
  *(u16 *)(g + 0) = (u16)h;
  *(u16 *)(g + 2) = 0x08; /* the boot GDT's 64-bit code */
  g[4] = 0;
  g[5] = 0x8e;            /* present, DPL 0, 64-bit interrupt gate */
  *(u16 *)(g + 6) = (u16)(h >> 16);
  *(u32 *)(g + 8) = (u32)(h >> 32);
  *(u32 *)(g + 12) = 0;
}

void mv_agent_poll(void);
static void __attribute__((noreturn)) mv_idle(void) {
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
  mv_set_gate(MV_IDLE_VECTOR, mv_idle_irq);
  mv_set_gate(0xff, mv_spurious_irq);
  volatile u32 *apic = (volatile u32 *)MV_APIC;
  apic[0xf0 / 4] = 0x1ff;                          /* SVR: software enable, spurious vector 0xff */
  apic[0x3e0 / 4] = 0xb;                           /* divide by 1 */
  apic[0x320 / 4] = 0x20000 | MV_IDLE_VECTOR;      /* LVT timer: periodic */
  apic[0x380 / 4] = MV_IDLE_PERIOD_NS;             /* initial count */
  for (;;) {
    mv_agent_poll();
    mv_net_poll();
    if (mv_balloon_on && balloon_poll()) continue;
    __asm__ volatile("sti; hlt; cli" ::: "memory"); /* STI's shadow: no wake-up lost before HLT */
  }
}
#else
/* vmxbench: no balloon (macros, so that its image stays what it was) */
#define mv_balloon_on 0
#define mv_balloon_setup() ((void)0)
#define mv_balloon_poll() ((void)0)
#endif

/*
 * The guest agent's hooks (agent-l1.c, SEED-AGENT; guests/minivisor/hypercalls.h). These weak
 * defaults keep minivisor linking and working without it: no agent, nothing to poll, and
 * agent-mailbox VMCALLs unhandled (L2 gets HC_ERR_NOFUNC).
 */
int mv_agent_init(void);
void mv_agent_poll(void);
void mv_agent_no_l2(void);
int mv_agent_vmcall(u64 *regs);
int __attribute__((weak)) mv_agent_init(void) { return 0; }
void __attribute__((weak)) mv_agent_no_l2(void) {}
void __attribute__((weak)) mv_agent_poll(void) {}
int __attribute__((weak)) mv_agent_vmcall(u64 *regs) { (void)regs; return 0; }

/* L2 guest-physical [gpa, gpa+len) as a pointer into l2_mem, or 0 when any of it is outside
 * L2's RAM (the EPT maps exactly l2_mem, identity-offset). */
void *mv_l2_gpa(u64 gpa, u64 len) {
  if (gpa >= L2_MEM_SIZE || len > L2_MEM_SIZE - gpa) return 0;
  return l2_mem + gpa;
}

static void __attribute__((noreturn)) die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  exit(EXIT_FAILURE);
}

static const char *vm_instruction_error_name(u32 n) {
  switch (n) {
  case 2: return "VMCLEAR with invalid physical address";
  case 4: return "VMLAUNCH with non-clear VMCS";
  case 5: return "VMRESUME with non-launched VMCS";
  case 7: return "VM entry with invalid control field(s)";
  case 8: return "VM entry with invalid host-state field(s)";
  case 9: return "VMPTRLD with invalid physical address";
  case 11: return "VMPTRLD with incorrect VMCS revision identifier";
  case 12: return "VMREAD/VMWRITE from/to unsupported VMCS component";
  case 13: return "VMWRITE to read-only VMCS component";
  case 26: return "VM entry with events blocked by MOV SS";
  default: return "see SDM Vol. 3C Table 30-1";
  }
}

static void check(const char *what, int outcome) {
  if (outcome == VMX_OK) return;
  if (outcome == VMX_FAIL_INVALID) die("minivisor: %s failed: VMfailInvalid\n", what);
  u32 err = (u32)vmread(VM_INSTRUCTION_ERROR);
  die("minivisor: %s failed: VMfailValid, VM-instruction error %u (%s)\n", what, err, vm_instruction_error_name(err));
}

static void vmw(u64 field, u64 value) {
  if (vmwrite(field, value) != VMX_OK) {
    printf("minivisor: VMWRITE of field %#lx = %#lx: ", field, value);
    check("VMWRITE", vmwrite(field, value));
  }
}

/* ---- VT-x presence (SDM Vol. 3C §23.6, §23.7) ---- */

/*
 * Without VT-x: exit with status EXIT_NO_VTX, or with "stay" stay Running as a Hyper-V VM whose
 * guest OS lacks the extensions does (the demo then shows Set-VMProcessor refused while Running,
 * in the seed's order). The agent and L1's NIC come up as with VT-x, so PowerShell Direct still
 * reaches L1 (there is no L2: a nested request gets the "remote session might have ended" record
 * for it at once); with an agent or a balloon the idle loop serves them, with neither minivisor
 * halts with interrupts off.
 */
static void __attribute__((noreturn)) no_vtx(void) {
  if (stay) {
#ifndef VMXBENCH
    mv_net_setup();
    int agent = mv_agent_init();
    mv_agent_no_l2();
    mv_balloon_setup();
    if (agent || mv_balloon_on) {
      /* the agent's own line (agent-l1.c) says it is up; this one names the balloon first */
      printf("minivisor: staying up without VT-x (serving the %s)\n", mv_balloon_on ? "balloon" : "agent");
      mv_idle();
    }
#endif
    printf("minivisor: staying up without VT-x (halted)\n");
    for (;;) __asm__ volatile("cli; hlt");
  }
  exit(EXIT_NO_VTX);
}

static void require_vtx(void) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (!(c & (1u << 5))) {
    printf("minivisor: VT-x not available (CPUID.1:ECX.VMX = 0)\n");
    no_vtx();
  }
  u64 fc = rdmsr(MSR_FEATURE_CONTROL);
  if (fc & FC_LOCKED) {
    if (!(fc & FC_VMX_OUTSIDE_SMX)) {
      printf("minivisor: VT-x disabled by firmware (IA32_FEATURE_CONTROL = %#lx: locked, VMX outside SMX off)\n", fc);
      no_vtx();
    }
  } else {
    /* unlocked (no firmware did it): enable VMX outside SMX and lock, as a BIOS would */
    wrmsr(MSR_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMX_OUTSIDE_SMX);
  }
}

/*
 * A control word from its capability MSR (SDM Vol. 3C Appendix A.3-A.5): bits 31:0 are the
 * allowed-0 settings (1 = must be 1), bits 63:32 the allowed-1 settings. With
 * IA32_VMX_BASIC[55] the TRUE_ MSRs are authoritative for the default1 controls (A.2).
 */
struct ctl { u32 bit; const char *name; };

static u32 adjust_controls(const char *word, u32 msr, u32 true_msr, u32 desired, const struct ctl *required, int nreq) {
  u64 cap = rdmsr(use_true_ctls && true_msr ? true_msr : msr);
  u32 allowed0 = (u32)cap, allowed1 = (u32)(cap >> 32);
  u32 v = (desired | allowed0) & allowed1;
  for (int i = 0; i < nreq; i++) {
    if (!(v & required[i].bit)) {
      die("minivisor: required %s control \"%s\" (bit %u) is not allowed (capability MSR %#x: allowed-1 = %#x)\n",
          word, required[i].name, (u32)__builtin_ctz(required[i].bit), use_true_ctls && true_msr ? true_msr : msr, allowed1);
    }
  }
  return v;
}

static void setup_host_gdt(void) {
  u64 base = (u64)host_tss;
  host_gdt[0] = 0;
  host_gdt[1] = 0x00af9a000000ffffull; /* 0x08 64-bit code */
  host_gdt[2] = 0x00cf92000000ffffull; /* 0x10 data */
  host_gdt[3] = 0x00cf9a000000ffffull; /* 0x18 32-bit code */
  /* 0x20: 64-bit TSS (available, type 9), limit 0x67 (SDM Vol. 3A §8.2.3) */
  host_gdt[4] = 0x67 | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((base >> 24) & 0xff) << 56);
  host_gdt[5] = base >> 32;
  struct { u16 limit; u64 base; } __attribute__((packed)) desc = { sizeof(host_gdt) - 1, (u64)host_gdt };
  __asm__ volatile("lgdt %0; ltr %w1" : : "m"(desc), "r"(0x20) : "memory");
}

/* ---- EPT: L2 guest-physical 0..4 MiB → l2_mem (SDM Vol. 3C §29.3.2) ---- */
static u64 build_ept(u64 eptcap) {
  ept_pml4[0] = (u64)ept_pdpt | EPT_RWX;
  ept_pdpt[0] = (u64)ept_pd | EPT_RWX;
  for (u64 t = 0; t < L2_MEM_SIZE / 0x200000; t++) {
    ept_pd[t] = (u64)ept_pt[t] | EPT_RWX;
    for (u64 i = 0; i < 512; i++) ept_pt[t][i] = ((u64)l2_mem + t * 0x200000 + i * 4096) | EPT_RWX | EPT_MT_WB;
  }
  if (!(eptcap & EPTCAP_WALK4)) die("minivisor: EPT page-walk length 4 not supported (IA32_VMX_EPT_VPID_CAP = %#lx)\n", eptcap);
  u64 type;
  if (eptcap & EPTCAP_WB) type = 6;
  else if (eptcap & EPTCAP_UC) type = 0;
  else die("minivisor: neither WB nor UC EPT paging-structure memory type supported (IA32_VMX_EPT_VPID_CAP = %#lx)\n", eptcap);
  return (u64)ept_pml4 | (3 << 3) | type; /* walk length 4 - 1 in bits 5:3, A/D off */
}

/* ---- L2's memory: its page tables, GDT and code (guest-physical addresses) ---- */
static void build_l2(void) {
  u64 *pml4 = (u64 *)(l2_mem + L2_PML4), *pdpt = (u64 *)(l2_mem + L2_PDPT), *pd = (u64 *)(l2_mem + L2_PD);
  pml4[0] = L2_PDPT | 3;
  pdpt[0] = L2_PD | 3;
  for (u64 i = 0; i < L2_MEM_SIZE / 0x200000; i++) pd[i] = (i << 21) | 0x83; /* 2 MiB pages, present, writable */
  u64 *gdt = (u64 *)(l2_mem + L2_GDT);
  gdt[0] = 0;
  gdt[1] = 0x00af9b000000ffffull; /* 0x08 64-bit code, accessed */
  gdt[2] = 0x00cf93000000ffffull; /* 0x10 data, accessed */
  gdt[3] = 0x67 | ((u64)L2_TSS << 16) | (0x8bull << 40); /* 0x18 busy 64-bit TSS */
  gdt[4] = 0;
  u64 len = (u64)(l2_payload_end - l2_payload_start);
  if (len > L2_MEM_SIZE - L2_CODE) die("minivisor: the L2 program (%lu bytes) does not fit in L2 memory\n", len);
  memcpy(l2_mem + L2_CODE, l2_payload_start, len);
  /* L2's boot information: Multiboot 1 §3.3's flags (bit 2 = command line) and cmdline
   * pointer, so L2's cmdline_args() reads "l2 <minivisor's arguments>" like any kernel's. */
  u32 *info = (u32 *)(l2_mem + L2_BOOTINFO);
  info[0] = 4;
  info[4] = L2_CMDLINE;
  char *cl = (char *)(l2_mem + L2_CMDLINE);
  const char *a = cmdline_args();
  u32 n = 0;
  memcpy(cl, "l2 ", 3);
  while (a[n] && n + 4 < 0x1000 - 0x100) { cl[3 + n] = a[n]; n++; }
  cl[3 + n] = 0;
#ifdef VMXBENCH
  /* vmxbench (l2bench.S): mode and count for L2 at guest-physical 0x7000 */
  ((u64 *)(l2_mem + 0x7000))[0] = bench_mode;
  ((u64 *)(l2_mem + 0x7000))[1] = bench_count;
#endif
}

static void setup_vmcs(u32 pin, u32 proc, u32 proc2, u32 exitc, u32 entry, u64 eptp) {
  u64 fixed0, fixed1;
  /* controls */
  vmw(PIN_BASED_CONTROLS, pin);
  vmw(PROC_BASED_CONTROLS, proc);
  vmw(SECONDARY_CONTROLS, proc2);
  vmw(EXIT_CONTROLS, exitc);
  vmw(ENTRY_CONTROLS, entry);
  vmw(EXCEPTION_BITMAP, 0);
  vmw(PF_ERROR_CODE_MASK, 0);
  vmw(PF_ERROR_CODE_MATCH, 0);
  vmw(CR3_TARGET_COUNT, 0);
  vmw(EXIT_MSR_STORE_COUNT, 0);
  vmw(EXIT_MSR_LOAD_COUNT, 0);
  vmw(ENTRY_MSR_LOAD_COUNT, 0);
  vmw(ENTRY_INTR_INFO, 0);
  vmw(CR0_GUEST_HOST_MASK, 0);
  vmw(CR4_GUEST_HOST_MASK, 0);
  vmw(CR0_READ_SHADOW, 0);
  vmw(CR4_READ_SHADOW, 0);
  vmw(EPT_POINTER, eptp);
  if (preemption_timer) vmw(PREEMPTION_TIMER_VALUE, PREEMPTION_TICKS);

  /* host state (SDM Vol. 3C §24.5): what a VM exit loads */
  struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
  __asm__ volatile("sidt %0" : "=m"(idtr));
  vmw(HOST_CR0, read_cr0());
  vmw(HOST_CR3, read_cr3());
  vmw(HOST_CR4, read_cr4());
  vmw(HOST_CS_SELECTOR, 0x08);
  vmw(HOST_SS_SELECTOR, 0x10);
  vmw(HOST_DS_SELECTOR, 0x10);
  vmw(HOST_ES_SELECTOR, 0x10);
  vmw(HOST_FS_SELECTOR, 0x10);
  vmw(HOST_GS_SELECTOR, 0x10);
  vmw(HOST_TR_SELECTOR, 0x20);
  vmw(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
  vmw(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
  vmw(HOST_TR_BASE, (u64)host_tss);
  vmw(HOST_GDTR_BASE, (u64)host_gdt);
  vmw(HOST_IDTR_BASE, idtr.base);
  vmw(HOST_SYSENTER_CS, 0);
  vmw(HOST_SYSENTER_ESP, 0);
  vmw(HOST_SYSENTER_EIP, 0);
  vmw(HOST_RSP, (u64)vmexit_stack_top);
  vmw(HOST_RIP, (u64)vmexit_entry);

  /* guest state (SDM Vol. 3C §24.4): 64-bit mode, paging on, CPL 0 */
  fixed0 = rdmsr(MSR_VMX_CR0_FIXED0); fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
  vmw(GUEST_CR0, (0x80000031ull | fixed0) & fixed1); /* PG NE ET PE */
  vmw(GUEST_CR3, L2_PML4);
  fixed0 = rdmsr(MSR_VMX_CR4_FIXED0); fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
  vmw(GUEST_CR4, (0x20ull | fixed0) & fixed1); /* PAE (+ VMXE, fixed to 1 in VMX operation) */
  vmw(GUEST_DR7, 0x400);
  vmw(GUEST_RSP, L2_STACK_TOP);
  vmw(GUEST_RIP, L2_CODE);
  vmw(GUEST_RFLAGS, 0x2);
  static const u32 data_sel[] = { GUEST_ES_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR };
  for (int i = 0; i < 5; i++) {
    u32 s = data_sel[i];
    u32 idx = (s - GUEST_ES_SELECTOR) / 2;
    vmw(s, 0x10);
    vmw(GUEST_ES_BASE + idx * 2, 0);
    vmw(GUEST_ES_LIMIT + idx * 2, 0xffffffff);
    vmw(GUEST_ES_AR + idx * 2, 0xc093);
  }
  vmw(GUEST_CS_SELECTOR, 0x08);
  vmw(GUEST_CS_BASE, 0);
  vmw(GUEST_CS_LIMIT, 0xffffffff);
  vmw(GUEST_CS_AR, 0xa09b); /* L=1, P, S, execute/read accessed, G */
  vmw(GUEST_LDTR_SELECTOR, 0);
  vmw(GUEST_LDTR_BASE, 0);
  vmw(GUEST_LDTR_LIMIT, 0);
  vmw(GUEST_LDTR_AR, 0x10000); /* unusable */
  vmw(GUEST_TR_SELECTOR, 0x18);
  vmw(GUEST_TR_BASE, L2_TSS);
  vmw(GUEST_TR_LIMIT, 0x67);
  vmw(GUEST_TR_AR, 0x8b); /* busy 64-bit TSS, present */
  vmw(GUEST_GDTR_BASE, L2_GDT);
  vmw(GUEST_GDTR_LIMIT, 0x27);
  vmw(GUEST_IDTR_BASE, 0);
  vmw(GUEST_IDTR_LIMIT, 0);
  vmw(GUEST_IA32_DEBUGCTL, 0);
  vmw(GUEST_SYSENTER_CS, 0);
  vmw(GUEST_SYSENTER_ESP, 0);
  vmw(GUEST_SYSENTER_EIP, 0);
  vmw(VMCS_LINK_POINTER, ~0ull);
  vmw(GUEST_INTERRUPTIBILITY, 0);
  vmw(GUEST_ACTIVITY_STATE, 0);
  vmw(GUEST_PENDING_DBG, 0);
}

int main(void) {
  printf("minivisor: starting\n");
#ifdef VMXBENCH
  bench_mode = arg_u64(0, 0);
  bench_count = arg_u64(1, 0);
  if (bench_mode == 2) {
    printf("vmxbench: L1 loop result %#lx\n", bench_loop(bench_count));
    exit(EXIT_SUCCESS_L2_HALTED);
  }
#endif
  for (const char *a = cmdline_args(); *a; a++) if (a[0] == 's' && a[1] == 't' && a[2] == 'a' && a[3] == 'y') stay = 1;
  require_vtx();

  u64 basic = rdmsr(MSR_VMX_BASIC);
  u32 revision = (u32)basic & 0x7fffffff;
  u32 region_size = (u32)(basic >> 32) & 0x1fff;
  use_true_ctls = (basic >> 55) & 1;
  if (region_size > 4096) die("minivisor: VMCS region size %u exceeds 4096 (IA32_VMX_BASIC = %#lx)\n", region_size, basic);

  /* CR0/CR4 as VMX operation requires (SDM Vol. 3C §23.8, Appendix A.7/A.8) */
  write_cr4(read_cr4() | (1u << 13));
  write_cr0((read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1));
  write_cr4((read_cr4() | rdmsr(MSR_VMX_CR4_FIXED0)) & rdmsr(MSR_VMX_CR4_FIXED1));

  *(u32 *)vmxon_region = revision;
  u64 vmxon_pa = (u64)vmxon_region;
  check("VMXON", vmxon(&vmxon_pa));
  printf("minivisor: VMXON ok (VMCS revision %#x%s)\n", revision, use_true_ctls ? ", TRUE_ controls" : "");

  *(u32 *)vmcs_region = revision;
  u64 vmcs_pa = (u64)vmcs_region;
  check("VMCLEAR", vmclear(&vmcs_pa));
  check("VMPTRLD", vmptrld(&vmcs_pa));

  static const struct ctl proc_req[] = {
    { PROC_HLT_EXITING, "HLT exiting" },
    { PROC_UNCOND_IO_EXITING, "unconditional I/O exiting" },
    { PROC_SECONDARY, "activate secondary controls" },
  };
  static const struct ctl proc2_req[] = { { PROC2_EPT, "enable EPT" } };
  static const struct ctl exit_req[] = { { EXIT_HOST_ADDR_SPACE_SIZE, "host address-space size" } };
  static const struct ctl entry_req[] = { { ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest" } };
  /* the preemption timer is wanted, not required: without it L2 still exits on every NIC
   * poll and port write, only a spinning L2 would starve the agent */
#ifdef VMXBENCH
  u32 pin = adjust_controls("pin-based", MSR_VMX_PINBASED_CTLS, MSR_VMX_TRUE_PINBASED_CTLS, 0, 0, 0); /* exits counted exactly */
#else
  u32 pin = adjust_controls("pin-based", MSR_VMX_PINBASED_CTLS, MSR_VMX_TRUE_PINBASED_CTLS, PIN_PREEMPTION_TIMER, 0, 0);
#endif
  preemption_timer = (pin & PIN_PREEMPTION_TIMER) != 0;
  u32 proc = adjust_controls("primary processor-based", MSR_VMX_PROCBASED_CTLS, MSR_VMX_TRUE_PROCBASED_CTLS,
                             PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_SECONDARY, proc_req, 3);
  u32 proc2 = adjust_controls("secondary processor-based", MSR_VMX_PROCBASED_CTLS2, 0, PROC2_EPT, proc2_req, 1);
  u32 exitc = adjust_controls("VM-exit", MSR_VMX_EXIT_CTLS, MSR_VMX_TRUE_EXIT_CTLS, EXIT_HOST_ADDR_SPACE_SIZE, exit_req, 1);
  u32 entry = adjust_controls("VM-entry", MSR_VMX_ENTRY_CTLS, MSR_VMX_TRUE_ENTRY_CTLS, ENTRY_IA32E_MODE_GUEST, entry_req, 1);

  u64 eptp = build_ept(rdmsr(MSR_VMX_EPT_VPID_CAP));
  build_l2();
  mv_net_setup();
  (void)mv_agent_init();
  mv_balloon_setup();
  setup_host_gdt();
  setup_vmcs(pin, proc, proc2, exitc, entry, eptp);
  printf("minivisor: EPT maps L2 guest-physical 0-%u MiB to host-physical %#lx (EPTP %#lx)\n", L2_MEM_SIZE >> 20, (u64)l2_mem, eptp);
  printf("minivisor: launching L2 (64-bit mode, unrestricted guest off)\n");

  u64 fl = vmx_launch();
  check("VMLAUNCH", vmx_outcome(fl));
  die("minivisor: VMLAUNCH returned without failing\n");
}

/* ---- VM exits ---- */
static int l2_line_start = 1;

static void l2_putc(char c) {
  if (l2_line_start) print("[L2] ");
  putchar(c);
  l2_line_start = c == '\n';
}

static void skip_instruction(void) {
  vmw(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_INSTRUCTION_LEN));
}

static const char *exit_reason_name(u32 basic) {
  switch (basic) {
  case EXIT_REASON_EXCEPTION_NMI: return "exception or NMI";
  case EXIT_REASON_TRIPLE_FAULT: return "triple fault";
  case EXIT_REASON_CPUID: return "CPUID";
  case EXIT_REASON_HLT: return "HLT";
  case EXIT_REASON_VMCALL: return "VMCALL";
  case EXIT_REASON_IO: return "I/O instruction";
  case EXIT_REASON_INVALID_GUEST_STATE: return "VM-entry failure due to invalid guest state";
  case EXIT_REASON_MSR_LOADING: return "VM-entry failure due to MSR loading";
  case EXIT_REASON_EPT_VIOLATION: return "EPT violation";
  case EXIT_REASON_EPT_MISCONFIG: return "EPT misconfiguration";
  case EXIT_REASON_PREEMPTION_TIMER: return "VMX-preemption timer expired";
  default: return "see SDM Vol. 3C Appendix C";
  }
}

/*
 * I/O exit qualification (SDM Vol. 3C Table 27-5): bits 2:0 size - 1, bit 3 direction
 * (1 = IN), bit 4 string, bit 5 REP, bits 31:16 port.
 */
static int handle_io(struct guest_regs *r, u64 q) {
  u32 port = (u32)(q >> 16) & 0xffff, size = (u32)(q & 7) + 1;
  int in = (q >> 3) & 1, string = (q >> 4) & 1;
  if (port == 0xf4 && !in && !string) return 2; /* L2's exit(): isa-debug-exit, treated as its halt */
  if (string || port < 0x3f8 || port > 0x3ff) return 0;
  if (!in) {
    if (port == 0x3f8) l2_putc((char)(r->rax & 0xff));
    return 1; /* other UART registers: configuration, ignored */
  }
  /* IN: a minimal UART — line status says "transmitter empty", everything else reads 0 */
  u64 v = port == 0x3fd ? 0x60 : 0;
  u64 mask = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffull;
  r->rax = size == 4 ? v : (r->rax & ~mask) | v; /* a 32-bit IN zero-extends into RAX */
  return 1;
}

static u64 vmcalls_unknown; /* plain VMCALLs outside the HC_* ranges (the first is L2's CPUID report) */
#define VMCALLS_SHOWN 4        /* a flood of them prints this many lines, then a count at L2's end */

/* L2 is over (halted, or crashed: crashed != 0): report, then serve L1's NIC and agent forever
 * with "stay", else exit with the matching status. */
static void __attribute__((noreturn)) l2_over(int crashed) {
  if (!l2_line_start) l2_putc('\n');
  if (!crashed) printf("minivisor: L2 halted\n");
  if (vmcalls_unknown > 1) /* besides the CPUID report */
    printf("minivisor: %lu unknown VMCALLs from L2 answered with an error (%lu shown)\n", vmcalls_unknown - 1,
           vmcalls_unknown - 1 < VMCALLS_SHOWN - 1 ? vmcalls_unknown - 1 : (u64)(VMCALLS_SHOWN - 1));
  mv_net_print_stats();
  printf("minivisor: %lu VM exits, %lu of them the preemption timer's\n", exits_total, exits_timer);
  if (stay) {
    printf("minivisor: staying in VMX operation\n");
    for (;;) {
      mv_agent_poll();
      mv_net_poll();
      mv_balloon_poll();
      __asm__ volatile("pause");
    }
  }
  exit(crashed ? EXIT_L2_CRASHED : EXIT_SUCCESS_L2_HALTED);
}

static void __attribute__((noreturn)) l2_halted(void) { l2_over(0); }

static void vmcall(struct guest_regs *r) {
  u32 fn = (u32)r->rax;
  if (r->rax >> 32 == 0 && (fn & HC_CLASS_MASK) == HC_NET_BASE) {
    mv_net_vmcall(r);
    return;
  }
  if (r->rax >> 32 == 0 && (fn & HC_CLASS_MASK) == HC_AGENT_BASE) {
    if (!mv_agent_vmcall((u64 *)r)) r->rax = HC_ERR_NOFUNC;
    return;
  }
  if (!l2_line_start) l2_putc('\n');
  u64 n = vmcalls_unknown++;
  if (n == 0) {
    printf("minivisor: VMCALL from L2, rax=%#lx\n", r->rax);
    printf("minivisor: L2 sees CPUID.1:ECX.VMX = %lu\n", (r->rax >> 5) & 1);
  } else if (n < VMCALLS_SHOWN) {
    printf("minivisor: unknown VMCALL from L2, rax=%#lx: answered HC_ERR_NOFUNC\n", r->rax);
  } else if (n == VMCALLS_SHOWN) {
    printf("minivisor: further unknown VMCALLs from L2 not shown\n");
  }
  /* a flood stays L2's problem: each call costs one exit and one error, L1's console a bounded
   * number of lines (issue 8) */
  r->rax = HC_ERR_NOFUNC;
}

void vmexit_handler(struct guest_regs *r) {
  u32 reason = (u32)vmread(EXIT_REASON);
  exits_total++;
  /* every exit serves L1's NIC and the agent: cheap when idle (a look at two used rings) */
  mv_net_poll();
  mv_agent_poll();
  mv_balloon_poll(); /* the host holds the target while VMX is on: a look at two registers */
  u64 q = vmread(EXIT_QUALIFICATION);
  if (reason & EXIT_REASON_ENTRY_FAILURE) {
    die("minivisor: VM entry failed: exit reason %#x (bit 31 set; basic reason %u, %s), qualification %#lx\n",
        reason, reason & 0xffff, exit_reason_name(reason & 0xffff), q);
  }
  switch (reason & 0xffff) {
  case EXIT_REASON_CPUID: {
    u32 a, b, c, d;
    cpuid((u32)r->rax, (u32)r->rcx, &a, &b, &c, &d);
    if ((u32)r->rax == 1) c &= ~(1u << 5); /* no nested VT-x for L2 */
    r->rax = a; r->rbx = b; r->rcx = c; r->rdx = d;
    skip_instruction();
    return;
  }
  case EXIT_REASON_IO: {
    int h = handle_io(r, q);
    if (!h) break;
    if (h == 2) l2_halted();
    skip_instruction();
    return;
  }
  case EXIT_REASON_VMCALL:
    vmcall(r);
    skip_instruction();
    return;
  case EXIT_REASON_PREEMPTION_TIMER:
    exits_timer++;
    /* the timer restarts from PREEMPTION_TIMER_VALUE at the next VM entry (SDM Vol. 3C §26.7.4) */
    return;
  case EXIT_REASON_HLT:
    l2_halted();
  case EXIT_REASON_TRIPLE_FAULT:
    /* L2 shut itself down (SDM Vol. 3C §25.2: a triple fault in VMX non-root operation is a VM
     * exit, never a shutdown of L1): its crash is reported and stays L2's (issue 8) */
    if (!l2_line_start) l2_putc('\n');
    printf("minivisor: L2 crashed: triple fault at RIP=%#lx\n", vmread(GUEST_RIP));
    l2_over(1);
  default:
    break;
  }
  die("minivisor: unexpected VM exit: reason %u (%s), qualification %#lx, guest RIP %#lx, guest-physical %#lx, "
      "guest-linear %#lx, interruption info %#lx, IDT-vectoring info %#lx\n",
      reason, exit_reason_name(reason & 0xffff), q, vmread(GUEST_RIP), vmread(GUEST_PHYSICAL_ADDRESS),
      vmread(GUEST_LINEAR_ADDRESS), vmread(EXIT_INTR_INFO), vmread(IDT_VECTORING_INFO));
}

void vmresume_failed(u64 rflags) {
  check("VMRESUME", vmx_outcome(rflags));
  die("minivisor: VMRESUME returned without failing\n");
}
