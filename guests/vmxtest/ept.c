/*
 * vmx-ept: EPT permissions and faults (SDM Vol. 3C §29.3). L2 runs on vt's identity EPT over
 * the first 4 GiB; each test changes the EPT entries of one page and checks what L2's read,
 * write or instruction fetch does: no exit when the permissions allow it, else an EPT
 * violation (exit reason 48) with the qualification of Table 27-7 (bit 0 read, 1 write,
 * 2 fetch, 3-5 the R/W/X the translation allowed, 7 guest-linear address valid, 8 the access
 * was the final translation, not a guest paging-structure access) and the guest-physical
 * and guest-linear addresses; a bad entry is an EPT misconfiguration (reason 49, §29.3.3.1).
 * After each fault the entry is repaired and L2 must finish (the access is re-executed).
 */
#include "vt.h"

#define GUEST(name, body) \
  void name(void); \
  __asm__(".text\n.globl " #name "\n" #name ":\n" body "\nret\n")

static volatile u64 out[4] __attribute__((used));
static u8 ept_page[4096] __attribute__((aligned(4096), used));
/* a 2 MiB-aligned region for the 2 MiB-page tests */
static u8 big[2 << 20] __attribute__((aligned(2 << 20), used));
void ept_code(void);
__asm__(".text\n.balign 4096\n.globl ept_code\nept_code:\n mov $0x77, %eax\n ret\n.balign 4096\n");

GUEST(g_read, "lea ept_page(%rip), %rax\n mov 0x10(%rax), %rbx");
GUEST(g_write, "lea ept_page(%rip), %rax\n movq $0x55, 0x18(%rax)");
GUEST(g_fetch, "call ept_code\n mov %rax, out(%rip)");
GUEST(g_big_write, "lea big(%rip), %rax\n movq $0x66, 0x1234(%rax)");
GUEST(g_big_read, "lea big(%rip), %rax\n mov 0x1238(%rax), %rbx");
GUEST(g_alias_write, "movabs $0x8000000008, %rax\n movq $0x99, (%rax)");
GUEST(g_alias_read, "movabs $0x8000000008, %rax\n mov (%rax), %rbx");

static u64 cap; /* IA32_VMX_EPT_VPID_CAP (Appendix A.10) */

/* The EPT that vt_ept_identity() built, found from the EPTP (identity-mapped memory) */
static u64 eptp(void) { return vmread(EPT_POINTER); }
static u64 *ept_pml4e(void) { return (u64 *)(eptp() & 0xffffffffff000ull); }
static u64 *ept_pdpte(u64 gpa) { return (u64 *)(*ept_pml4e() & 0xffffffffff000ull) + ((gpa >> 30) & 511); }

/* Starts `g` afresh after a previous run: RIP = g, RSP = the baseline's (its return slot
 * still holds vt's "done" VMCALL stub, which L2's RET only read) */
static u64 rsp0;
static void restart(void (*g)(void)) {
  vt_write(GUEST_RIP, (u64)g);
  vt_write(GUEST_RSP, rsp0);
}
#define QMASK 0x1bfull /* bits 0-5, 7, 8 (bit 6 depends on mode-based execute control) */
#define Q_LINEAR 0x180ull

static char nm[128];
static const char *name(const char *a, const char *b) {
  unsigned n = 0;
  for (const char *p = a; *p && n < sizeof nm - 1; p++) nm[n++] = *p;
  for (const char *p = b; *p && n < sizeof nm - 1; p++) nm[n++] = *p;
  nm[n] = 0;
  return nm;
}

/* a fresh baseline with the identity EPT; 0 when EPT is not available */
static int setup(void (*g)(void)) {
  vt_baseline(g);
  rsp0 = vmread(GUEST_RSP);
  return vt_ept_identity(1);
}

/* ---- permissions of a 4 KiB page: each of R/W/X alone and combined (Table 29-6) ---- */
struct access { const char *name; void (*g)(void); u32 bit; u64 page, off; };
static const char *const perm_names[8] = { "---", "R--", "-W-", "RW-", "--X", "R-X", "-WX", "RWX" };

static void test_permissions(void) {
  const struct access acc[3] = {
    { " read", g_read, 1, (u64)ept_page, 0x10 },
    { " write", g_write, 2, (u64)ept_page, 0x18 },
    { " fetch", g_fetch, 4, (u64)ept_code, 0 },
  };
  static const u32 perms[] = { 0, 1, 3, 5, 7, 4 };
  for (unsigned i = 0; i < sizeof perms / sizeof perms[0]; i++) {
    u32 p = perms[i];
    /* execute-only needs IA32_VMX_EPT_VPID_CAP bit 0, else it is a misconfiguration */
    if (p == 4 && !(cap & 1)) { report_skip("EPT execute-only translations"); continue; }
    for (int a = 0; a < 3; a++) {
      printf("  (page %s,%s)\n", perm_names[p], acc[a].name);
      out[0] = 0;
      if (!setup(acc[a].g)) { report_skip("enable EPT"); return; }
      u64 *pte = vt_ept_pte(acc[a].page);
      *pte = (*pte & ~7ull) | p;
      vt_invept();
      int r = vt_run();
      if (p & acc[a].bit) {
        report_eq(name("allowed: no exit,", acc[a].name), r, VT_EXIT_VMCALL);
        continue;
      }
      report_eq(name("EPT violation: exit reason 48,", acc[a].name), r, VT_EXIT_EPT_VIOLATION);
      report_eq(name("qualification: access and permissions,", acc[a].name), vmread(EXIT_QUALIFICATION) & QMASK,
                acc[a].bit | (p << 3) | Q_LINEAR);
      report_eq(name("guest-physical address,", acc[a].name), vmread(GUEST_PHYSICAL_ADDRESS), acc[a].page + acc[a].off);
      report_eq(name("guest-linear address,", acc[a].name), vmread(GUEST_LINEAR_ADDRESS), acc[a].page + acc[a].off);
      *pte |= 7;
      vt_invept();
      report_eq(name("repaired: L2 re-executes and finishes,", acc[a].name), vt_run(), VT_EXIT_VMCALL);
    }
  }
  report_eq("fetch: the code on the page ran", out[0] & 0xffffffff, 0x77);
  report_eq("write: the data landed", *(volatile u64 *)(ept_page + 0x18), 0x55);
}

/*
 * Guest-linear vs guest-physical: L2 reaches ept_page through an alias at linear
 * 0x8000000000 (PML4 entry 1, its own PDPT/PD/PT, accessed/dirty preset so the walk only
 * reads). A violation on the page reports both addresses; a violation while reading the
 * guest's own page table reports bit 8 = 0 and the entry's guest-physical address.
 */
static u64 alias_pdpt[512] __attribute__((aligned(4096)));
static u64 alias_pd[512] __attribute__((aligned(4096)));
static u64 alias_pt[512] __attribute__((aligned(4096)));

static void test_linear(void) {
  u64 *pml4 = (u64 *)(read_cr3() & ~0xfffull);
  pml4[1] = (u64)alias_pdpt | 0x23; /* P W A */
  alias_pdpt[0] = (u64)alias_pd | 0x23;
  alias_pd[0] = (u64)alias_pt | 0x23;
  alias_pt[0] = (u64)ept_page | 0x63; /* P W A D */
  __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");

  if (!setup(g_alias_write)) { report_skip("enable EPT"); return; }
  u64 *pte = vt_ept_pte((u64)ept_page);
  *pte = (*pte & ~7ull) | 1;
  vt_invept();
  report_eq("alias write to an R-- page: exit reason 48", vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq("alias: qualification write, R--, linear valid, final translation (0x18a)", vmread(EXIT_QUALIFICATION) & QMASK, 0x18a);
  report_eq("alias: guest-physical address = the page", vmread(GUEST_PHYSICAL_ADDRESS), (u64)ept_page + 8);
  report_eq("alias: guest-linear address = the alias", vmread(GUEST_LINEAR_ADDRESS), 0x8000000008ull);
  *pte |= 7;
  vt_invept();
  report_eq("alias: repaired, L2 finishes", vt_run(), VT_EXIT_VMCALL);
  report_eq("alias: the write reached the page", *(volatile u64 *)(ept_page + 8), 0x99);

  setup(g_alias_read);
  u64 *ptpte = vt_ept_pte((u64)alias_pt);
  *ptpte &= ~7ull; /* the guest's page table is not present in the EPT */
  vt_invept();
  report_eq("guest page-table read not present in EPT: exit reason 48", vt_run(), VT_EXIT_EPT_VIOLATION);
  u64 q = vmread(EXIT_QUALIFICATION);
  report_eq("paging-structure access: qualification read, ---, linear valid, bit 8 = 0 (0x81)", q & QMASK, 0x81);
  report_eq("paging-structure access: guest-physical address of the PTE", vmread(GUEST_PHYSICAL_ADDRESS), (u64)&alias_pt[0]);
  report_eq("paging-structure access: guest-linear address being translated", vmread(GUEST_LINEAR_ADDRESS), 0x8000000008ull);
  *ptpte |= 7;
  vt_invept();
  report_eq("paging-structure access: repaired, L2 finishes", vt_run(), VT_EXIT_VMCALL);
  pml4[1] = 0;
  __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
}

/* ---- 2 MiB and 1 GiB pages (Tables 29-4, 29-2; capability bits 16, 17) ---- */
static void test_large_pages(void) {
  if (!(cap & (1ull << 16))) report_skip("EPT 2-MByte pages");
  else {
    setup(g_big_write);
    u64 *pde = vt_ept_pde((u64)big);
    report("2 MiB page: the PDE maps a page (bit 7)", (*pde >> 7) & 1);
    *pde = (*pde & ~7ull) | 1;
    vt_invept();
    report_eq("2 MiB page R--: write exits 48", vt_run(), VT_EXIT_EPT_VIOLATION);
    report_eq("2 MiB page: qualification write, R-- (0x18a)", vmread(EXIT_QUALIFICATION) & QMASK, 0x18a);
    report_eq("2 MiB page: guest-physical address", vmread(GUEST_PHYSICAL_ADDRESS), (u64)big + 0x1234);
    *pde |= 7;
    vt_invept();
    report_eq("2 MiB page: repaired, L2 finishes", vt_run(), VT_EXIT_VMCALL);
    report_eq("2 MiB page: the write landed", *(volatile u64 *)(big + 0x1234), 0x66);

    setup(g_big_read);
    pde = vt_ept_pde((u64)big);
    *pde &= ~7ull;
    vt_invept();
    report_eq("2 MiB page ---: read exits 48", vt_run(), VT_EXIT_EPT_VIOLATION);
    report_eq("2 MiB page: qualification read, --- (0x181)", vmread(EXIT_QUALIFICATION) & QMASK, 0x181);
    report_eq("2 MiB page: guest-physical address", vmread(GUEST_PHYSICAL_ADDRESS), (u64)big + 0x1238);
  }

  if (!(cap & (1ull << 17))) { report_skip("EPT 1-GByte pages"); return; }
  setup(g_read);
  u64 *pdpte = ept_pdpte(0);
  *pdpte = 0 | 7 | (6ull << 3) | (1ull << 7); /* GiB 0: RWX, WB, page */
  vt_invept();
  report_eq("1 GiB page RWX: L2 runs and reads", vt_run(), VT_EXIT_VMCALL);
  restart(g_write);
  *pdpte = (*pdpte & ~7ull) | 5;
  vt_invept();
  report_eq("1 GiB page R-X: write exits 48", vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq("1 GiB page: qualification write, R-X (0x1aa)", vmread(EXIT_QUALIFICATION) & QMASK, 0x1aa);
  report_eq("1 GiB page: guest-physical address", vmread(GUEST_PHYSICAL_ADDRESS), (u64)ept_page + 0x18);
  *pdpte |= 7;
  vt_invept();
  report_eq("1 GiB page: repaired, L2 finishes", vt_run(), VT_EXIT_VMCALL);
}

/* ---- misconfigurations (§29.3.3.1): reason 49 with the guest-physical address ---- */
static void misconfig(const char *what, u64 *entry, u64 bad, u64 gpa) {
  u64 good = *entry;
  *entry = bad;
  vt_invept();
  printf("  (%s)\n", what);
  report_eq(name("misconfiguration: exit reason 49, ", what), vt_run(), VT_EXIT_EPT_MISCONFIG);
  report_eq(name("misconfiguration: guest-physical address, ", what), vmread(GUEST_PHYSICAL_ADDRESS), gpa);
  *entry = good;
  vt_invept();
  report_eq(name("misconfiguration repaired: L2 finishes, ", what), vt_run(), VT_EXIT_VMCALL);
}

static void test_misconfig(void) {
  u64 gpa = (u64)ept_page + 0x10, *e;
  setup(g_read); e = vt_ept_pte((u64)ept_page);
  misconfig("PTE write-only (-W-)", e, (*e & ~7ull) | 2, gpa);
  setup(g_read); e = vt_ept_pte((u64)ept_page);
  misconfig("PTE write+execute (-WX)", e, (*e & ~7ull) | 6, gpa);
  if (!(cap & 1)) {
    setup(g_read); e = vt_ept_pte((u64)ept_page);
    misconfig("PTE execute-only without the capability", e, (*e & ~7ull) | 4, gpa);
  }
  static const u64 bad_types[] = { 2, 3, 7 };
  static const char *const type_names[] = { "PTE memory type 2 (reserved)", "PTE memory type 3 (reserved)", "PTE memory type 7 (reserved)" };
  for (int i = 0; i < 3; i++) {
    setup(g_read); e = vt_ept_pte((u64)ept_page);
    misconfig(type_names[i], e, (*e & ~0x38ull) | (bad_types[i] << 3), gpa);
  }
  setup(g_read); vt_ept_pte((u64)ept_page); e = vt_ept_pde((u64)ept_page);
  misconfig("non-leaf PDE with reserved bit 3", e, *e | 8, gpa);
  setup(g_read); e = vt_ept_pde((u64)ept_page);
  misconfig("2 MiB PDE with reserved bit 12", e, *e | (1ull << 12), gpa);
  u32 a, b, c, d;
  cpuid(0x80000000, 0, &a, &b, &c, &d);
  u32 maxphy = 36;
  if (a >= 0x80000008) { cpuid(0x80000008, 0, &a, &b, &c, &d); maxphy = a & 0xff; }
  if (maxphy < 52) {
    setup(g_read); e = vt_ept_pte((u64)ept_page);
    misconfig("PTE address bit at MAXPHYADDR (reserved)", e, *e | (1ull << maxphy), gpa);
  }
  /* PML4E bits 7:3 reserved: L2's first access through the EPT already fails, and that is
   * the read of its own PML4 entry while translating RIP (guest paging structures are
   * guest-physical, §29.3.2; VPID off: VM entry keeps no cached combined mappings, §28.3.3.3) */
  u64 first = (read_cr3() & ~0xfffull) + 8 * (((u64)g_read >> 39) & 511);
  setup(g_read); e = ept_pml4e();
  misconfig("PML4E with reserved bit 7", e, *e | (1ull << 7), first);
  if (cap & (1ull << 17)) {
    setup(g_read); e = ept_pdpte(0);
    *e = 0 | 7 | (6ull << 3) | (1ull << 7);
    vt_invept();
    misconfig("1 GiB PDPTE with reserved bit 12", e, *e | (1ull << 12), first);
  }
}

/* ---- accessed and dirty flags (§29.3.5; EPTP bit 6, capability bit 21) ---- */
static void test_accessed_dirty(void) {
  if (!(cap & (1ull << 21))) { report_skip("EPT accessed and dirty flags"); return; }
  setup(g_read);
  vt_write(EPT_POINTER, eptp() | (1ull << 6));
  u64 *pte = vt_ept_pte((u64)ept_page), *pde = vt_ept_pde((u64)ept_page);
  *pte &= ~0x300ull;
  *pde &= ~0x300ull;
  vt_invept();
  report_eq("A/D: L2 reads the page", vt_run(), VT_EXIT_VMCALL);
  report_eq("A/D: a read sets the accessed flag (bit 8) of the PTE", (*pte >> 8) & 1, 1);
  report_eq("A/D: a read leaves the dirty flag (bit 9) clear", (*pte >> 9) & 1, 0);
  report_eq("A/D: the PDE referencing the page table is accessed", (*pde >> 8) & 1, 1);
  restart(g_write);
  report_eq("A/D: L2 writes the page", vt_run(), VT_EXIT_VMCALL);
  report_eq("A/D: a write sets the dirty flag (bit 9)", (*pte >> 9) & 1, 1);

  setup(g_write);
  pte = vt_ept_pte((u64)ept_page);
  *pte &= ~0x300ull;
  vt_invept();
  report_eq("A/D disabled in the EPTP: L2 writes", vt_run(), VT_EXIT_VMCALL);
  report_eq("A/D disabled: flags untouched", *pte & 0x300, 0);
}

/* ---- INVEPT single-context and all-context (§30.3 INVEPT; capability bits 20, 25, 26) ---- */
static int invept(u64 type, u64 eptp) {
  struct { u64 eptp, zero; } desc = { eptp, 0 };
  u64 fl;
  __asm__ volatile("invept %1, %2; pushfq; popq %0" : "=r"(fl) : "m"(desc), "r"(type) : "cc", "memory");
  return vmx_outcome(fl);
}

static void test_invept(void) {
  if (!(cap & (1ull << 20))) { report_skip("INVEPT"); return; }
  static const char *const tn[3] = { 0, "INVEPT single-context", "INVEPT all-context" };
  for (u64 type = 1; type <= 2; type++) {
    if (!(cap & (1ull << (24 + type)))) { report_skip(tn[type]); continue; }
    setup(g_read);
    report_eq(name(tn[type], ": L2 reads the page (translation used)"), vt_run(), VT_EXIT_VMCALL);
    u64 *pte = vt_ept_pte((u64)ept_page);
    *pte &= ~7ull;
    report_eq(name(tn[type], ": VMsucceed"), invept(type, eptp()), VMX_OK);
    restart(g_read);
    report_eq(name(tn[type], ": the new permissions apply (exit 48)"), vt_run(), VT_EXIT_EPT_VIOLATION);
    *pte |= 7;
    invept(type, eptp());
    report_eq(name(tn[type], ": repaired, L2 finishes"), vt_run(), VT_EXIT_VMCALL);
  }
}

/*
 * An EPT violation during event delivery (§27.2.4): L2 gets its own copy of the IDT on a page
 * the EPT does not map, then raises #UD / #GP. Reading the gate exits with reason 48 and the
 * IDT-vectoring information describes the event being delivered (Table 24-20: vector,
 * type 3 = hardware exception, error-code valid, valid); L1 repairs the EPT and re-injects
 * the event through the VM-entry interruption-information field (§26.6), as a hypervisor
 * must, and L2's own handler then catches it (fault_try runs in L2).
 */
static u8 l2_idt[4096] __attribute__((aligned(4096)));
static void do_ud(void *p) { (void)p; __asm__ volatile("ud2"); }
static void do_gp(void *p) { (void)p; (void)*(volatile u64 *)0x8000000000000000ull; }
static void g_catch_ud(void) { out[0] = (u64)fault_try(do_ud, 0); }
static void g_catch_gp(void) { out[0] = (u64)fault_try(do_gp, 0); out[1] = fault_error; }

static void vectoring_case(const char *what, void (*g)(void), u32 vector, u32 info, int has_err) {
  struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
  __asm__ volatile("sidt %0" : "=m"(idtr));
  memcpy(l2_idt, (void *)idtr.base, sizeof l2_idt);
  out[0] = out[1] = 0;
  setup(g);
  vt_write(GUEST_IDTR_BASE, (u64)l2_idt);
  vt_write(GUEST_IDTR_LIMIT, sizeof l2_idt - 1);
  u64 *pte = vt_ept_pte((u64)l2_idt);
  *pte &= ~7ull;
  vt_invept();
  printf("  (%s)\n", what);
  report_eq(name(what, ": gate read exits 48"), vt_run(), VT_EXIT_EPT_VIOLATION);
  report_eq(name(what, ": guest-physical address of the gate"), vmread(GUEST_PHYSICAL_ADDRESS), (u64)l2_idt + vector * 16);
  report_eq(name(what, ": qualification: a read of a not-present page"), vmread(EXIT_QUALIFICATION) & 0x3f, 1);
  u64 v = vmread(IDT_VECTORING_INFO);
  report_eq(name(what, ": IDT-vectoring information"), v & ~(1ull << 12), info);
  if (has_err) report_eq(name(what, ": IDT-vectoring error code 0"), vmread(VT_IDT_VECTORING_ERROR), 0);
  *pte |= 7;
  vt_invept();
  vt_write(ENTRY_INTR_INFO, v & ~(1ull << 12));
  if (has_err) vt_write(VT_ENTRY_EXCEPTION_ERROR, vmread(VT_IDT_VECTORING_ERROR));
  report_eq(name(what, ": re-injected, L2 finishes"), vt_run(), VT_EXIT_VMCALL);
  report_eq(name(what, ": L2's handler caught the vector"), out[0], vector);
}

/*
 * Software events (§27.2.4-27.2.5): INT3 (type 6) and INT n (type 4) whose delivery exits
 * save the instruction length and leave RIP at the instruction; L1 re-injects them with
 * that length in the VM-entry instruction-length field (§26.6.1.3), so the return address
 * L2's handler sees is the next instruction.
 */
void sw_int3(void *p);
void sw_int_n(void *p);
__asm__(".text\n.globl sw_int3\nsw_int3:\n int3\n ret\n"
        ".globl sw_int_n\nsw_int_n:\n .byte 0xcd, 0x03\n ret\n"); /* INT 3 (CD 03): gas would emit CC */
static void g_catch_int3(void) { out[0] = (u64)fault_try(sw_int3, 0); out[1] = fault_rip; }
static void g_catch_int_n(void) { out[0] = (u64)fault_try(sw_int_n, 0); out[1] = fault_rip; }

static void software_case(const char *what, void (*g)(void), u64 at, u32 info, u64 len) {
  struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
  __asm__ volatile("sidt %0" : "=m"(idtr));
  memcpy(l2_idt, (void *)idtr.base, sizeof l2_idt);
  out[0] = out[1] = 0;
  setup(g);
  vt_write(GUEST_IDTR_BASE, (u64)l2_idt);
  vt_write(GUEST_IDTR_LIMIT, sizeof l2_idt - 1);
  u64 *pte = vt_ept_pte((u64)l2_idt);
  *pte &= ~7ull;
  vt_invept();
  printf("  (%s)\n", what);
  report_eq(name(what, ": gate read exits 48"), vt_run(), VT_EXIT_EPT_VIOLATION);
  u64 v = vmread(IDT_VECTORING_INFO);
  report_eq(name(what, ": IDT-vectoring information"), v & ~(1ull << 12), info);
  report_eq(name(what, ": instruction length saved"), vmread(EXIT_INSTRUCTION_LEN), len);
  report_eq(name(what, ": guest RIP at the instruction"), vmread(GUEST_RIP), at);
  *pte |= 7;
  vt_invept();
  vt_write(ENTRY_INTR_INFO, v & ~(1ull << 12));
  vt_write(VT_ENTRY_INSTRUCTION_LEN, vmread(EXIT_INSTRUCTION_LEN));
  report_eq(name(what, ": re-injected, L2 finishes"), vt_run(), VT_EXIT_VMCALL);
  report_eq(name(what, ": L2's handler caught vector 3"), out[0], 3);
  report_eq(name(what, ": the return address is the next instruction"), out[1], at + len);
}

static void test_vectoring(void) {
  vectoring_case("#UD delivery", g_catch_ud, 6, 0x80000306, 0);
  vectoring_case("#GP delivery", g_catch_gp, 13, 0x80000b0d, 1);
  software_case("INT3 delivery", g_catch_int3, (u64)sw_int3, 0x80000603, 1);
  software_case("INT 3 delivery", g_catch_int_n, (u64)sw_int_n, 0x80000403, 2);
}

/*
 * VPID (§28.3.3.3, §30.3 INVVPID): with "enable VPID" L2's linear translations may stay
 * cached across VM entries and exits, tagged with the VPID; after L1 changes an L2 paging
 * entry it must invalidate. What the SDM guarantees, and is checked: after INVVPID of each
 * supported type covering the address, L2 sees the new translation. (Whether a stale one
 * is used before is implementation-specific and not checked.)
 */
static u8 page_b[4096] __attribute__((aligned(4096)));
GUEST(g_alias_load, "movabs $0x8000000000, %rax\n mov (%rax), %rbx\n mov %rbx, out(%rip)");
static int invvpid(u64 type, u16 vpid, u64 lin) {
  struct { u64 vpid, lin; } desc = { vpid, lin };
  u64 fl;
  __asm__ volatile("invvpid %1, %2; pushfq; popq %0" : "=r"(fl) : "m"(desc), "r"(type) : "cc", "memory");
  return vmx_outcome(fl);
}

static void test_vpid(void) {
  u64 vcap = cap >> 32;
  if (!((u32)(vt_cap(VT_PROC2) >> 32) & VT_PROC2_VPID) || !(vcap & 1)) { report_skip("enable VPID with INVVPID"); return; }
  static const char *const tn[4] = { "INVVPID individual-address", "INVVPID single-context", "INVVPID all-context",
                                     "INVVPID single-context-retaining-globals" };
  u64 *pml4 = (u64 *)(read_cr3() & ~0xfffull);
  pml4[1] = (u64)alias_pdpt | 0x23;
  alias_pdpt[0] = (u64)alias_pd | 0x23;
  alias_pd[0] = (u64)alias_pt | 0x23;
  *(volatile u64 *)ept_page = 0xaaaa;
  *(volatile u64 *)page_b = 0xbbbb;
  for (u64 type = 0; type < 4; type++) {
    if (!(vcap & (1ull << (8 + type)))) { report_skip(tn[type]); continue; }
    alias_pt[0] = (u64)ept_page | 0x63;
    __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
    setup(g_alias_load);
    vt_ctl_on(VT_PROC2, VT_PROC2_VPID);
    vt_write(VT_VPID, 1);
    out[0] = 0;
    report_eq(name(tn[type], ": L2 reads through its translation"), vt_run(), VT_EXIT_VMCALL);
    report_eq(name(tn[type], ": first page"), out[0], 0xaaaa);
    alias_pt[0] = (u64)page_b | 0x63;
    report_eq(name(tn[type], ": VMsucceed"), invvpid(type, 1, 0x8000000000ull), VMX_OK);
    restart(g_alias_load);
    report_eq(name(tn[type], ": L2 runs again"), vt_run(), VT_EXIT_VMCALL);
    report_eq(name(tn[type], ": L2 sees the new translation"), out[0], 0xbbbb);
  }
  pml4[1] = 0;
  __asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
}

int main(void) {
  printf("vmx-ept: EPT permissions, violations and misconfigurations (SDM Vol. 3C §29.3)\n");
  if (vt_init() != 0) { report("VMX operation (vt_init)", 0); summary_and_exit(); }
  vt_baseline(g_read);
  if (!vt_ept_identity(1)) { report_skip("enable EPT"); summary_and_exit(); }
  cap = rdmsr(MSR_VMX_EPT_VPID_CAP);
  test_permissions();
  test_linear();
  test_large_pages();
  test_misconfig();
  test_accessed_dirty();
  test_invept();
  test_vectoring();
  test_vpid();
  summary_and_exit();
}
