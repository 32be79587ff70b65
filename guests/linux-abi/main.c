/*
 * linux-abi: a small kernel that runs one static, non-PIE x86-64 Linux program (ET_EXEC)
 * in ring 3 and serves the system calls a static glibc 2.36 program makes. The program is
 * the first Multiboot boot module (`nestvisor run --initrd PROGRAM`, QEMU -initrd); the
 * module string is its argv, the kernel command line's words are its environment.
 *
 * What it sets up, as Linux does for a new process (fs/binfmt_elf.c semantics):
 * - CPU: CR0.MP/NE/WP with EM/TS clear, CR4.OSFXSR/OSXMMEXCPT (SDM Vol. 3A §14.1.3), and
 *   with XSAVE CR4.OSXSAVE and XCR0 = every user state component CPUID.(0DH,0):EAX offers
 *   among x87/SSE/AVX/AVX-512 (SDM Vol. 1 §13.3), FNINIT and MXCSR = 0x1F80. glibc's IFUNC
 *   resolvers read CPUID and XGETBV to pick SSE2, AVX2 or EVEX routines from exactly this.
 * - Page tables (SDM Vol. 3A §5.5, 4-level paging): the kernel's own 2 MiB page at 0
 *   (supervisor), all physical memory (up to 1 GiB) mapped at DIRECT for the kernel, and the
 *   process in 4 KiB user pages: the PT_LOAD segments at their addresses with their
 *   permissions (NX from EFER.NXE), brk after them, anonymous mmap from MMAP_BASE, and the
 *   stack below STACK_TOP holding argc, argv, envp and the auxiliary vector.
 * - GDT with user segments and a 64-bit TSS whose RSP0 receives exceptions from ring 3;
 *   SYSCALL/SYSRET with EFER.SCE, STAR, LSTAR and FMASK (SDM Vol. 3A §5.8.8).
 *
 * Output of write/writev on fds 1 and 2 goes to COM1. The kernel's own messages are whole
 * lines starting with "[linux-abi] ", so a reader can separate them from the program's
 * bytes. exit/exit_group(status) ends the machine through isa-debug-exit with that status
 * (process status (status << 1) | 1, so 1 = the program exited with 0). A fault in ring 3
 * is reported by lib/idt.c (vector, error code, RIP) and exits with failure.
 */
#include "rt.h"

#define PAGE 4096ull
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))

/* Page-table entry bits (SDM Vol. 3A Table 5-20). USED is an ignored bit (9) marking a
 * user page that owns a frame even while not present (PROT_NONE). */
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PS 0x80ull
#define PTE_USED 0x200ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

/* The kernel's view of physical memory: PML4 entry 256, 2 MiB pages, the first GiB. */
#define DIRECT 0xffff800000000000ull
#define DIRECT_LIMIT (1ull << 30)
static inline void *phys(u64 p) { return (void *)(DIRECT + p); }

/* The process's address space. */
#define USER_MIN 0x200000ull             /* below: the kernel's 2 MiB page */
#define USER_MAX 0x800000000000ull       /* the canonical lower half */
#define STACK_TOP 0x7ffffffff000ull
#define STACK_SIZE (2ull << 20)
#define MMAP_BASE 0x7f0000000000ull
#define BRK_MAX (1ull << 30)

/* errno values (Linux include/uapi/asm-generic/errno-base.h) */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EFAULT 14
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOTTY 25
#define ENOSYS 38

#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_FMASK 0xc0000084u
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u

static u64 kpml4[512] __attribute__((aligned(4096)));
static u64 kpdpt_low[512] __attribute__((aligned(4096)));
static u64 kpd_low[512] __attribute__((aligned(4096)));
static u64 kpdpt_direct[512] __attribute__((aligned(4096)));
static u64 kpd_direct[512] __attribute__((aligned(4096)));

static u64 nx_bit;                       /* PTE_NX when EFER.NXE is on, else 0 */
static u64 frame_next, frame_end, frame_free_list, frames_used, ram_bytes;
static u64 brk_start, brk_cur, mmap_next;
static char exec_name[128];
static u64 rng_state = 0x853c49e6748fea9bull;

static inline void wrmsr(u32 msr, u64 v) { __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))); }
static inline void invlpg(u64 va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }

static void zero_frame(u64 f) {
  u64 n = PAGE / 8;
  void *d = phys(f);
  __asm__ volatile("rep stosq" : "+D"(d), "+c"(n) : "a"(0ull) : "memory");
}

/* ---- physical frames: a bump allocator over free RAM plus a free list ---- */
static u64 frame_alloc(void) {
  u64 f;
  if (frame_free_list) {
    f = frame_free_list;
    frame_free_list = *(u64 *)phys(f);
  } else {
    if (frame_next + PAGE > frame_end) return 0;
    f = frame_next;
    frame_next += PAGE;
  }
  zero_frame(f);
  frames_used++;
  return f;
}

static void frame_free(u64 f) {
  *(u64 *)phys(f) = frame_free_list;
  frame_free_list = f;
  frames_used--;
}

/* ---- page tables ---- */
/* The level-1 entry for va, creating the tables above it when `create`; 0 when va lies
 * in a kernel large page or a table cannot be allocated. */
static u64 *walk(u64 va, int create) {
  u64 *t = phys((u64)kpml4);
  for (int level = 3; level >= 1; level--) {
    u64 *e = &t[(va >> (12 + 9 * level)) & 511];
    if (!(*e & PTE_P)) {
      if (!create) return 0;
      u64 f = frame_alloc();
      if (!f) return 0;
      *e = f | PTE_P | PTE_W | PTE_U;
    } else if (*e & PTE_PS) {
      return 0;
    }
    t = phys(*e & PTE_ADDR);
  }
  return &t[(va >> 12) & 511];
}

#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
static u64 prot_bits(int prot) {
  u64 b = PTE_USED | PTE_U;
  if (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) b |= PTE_P;
  if (prot & PROT_WRITE) b |= PTE_W;
  if (!(prot & PROT_EXEC)) b |= nx_bit;
  return b;
}

/* Maps one user page with `bits`; a page already mapped keeps its frame and gains the new
 * permissions (two PT_LOAD segments may share a page). Returns the frame, or 0. */
static u64 map_page(u64 va, u64 bits) {
  u64 *pte = walk(va, 1);
  if (!pte) return 0;
  if (*pte & PTE_USED) {
    u64 e = *pte | (bits & (PTE_W | PTE_P));
    if (!(bits & PTE_NX)) e &= ~PTE_NX;
    *pte = e;
    invlpg(va);
    return e & PTE_ADDR;
  }
  u64 f = frame_alloc();
  if (!f) return 0;
  *pte = f | bits;
  invlpg(va);
  return f;
}

static void unmap_page(u64 va) {
  u64 *pte = walk(va, 0);
  if (!pte || !(*pte & PTE_USED)) return;
  frame_free(*pte & PTE_ADDR);
  *pte = 0;
  invlpg(va);
}

/* Whether [va, va+n) is mapped user memory (writable when `write`): system calls check
 * the pointers they are given so that a bad one is -EFAULT, never a kernel fault. */
static int user_ok(u64 va, u64 n, int write) {
  if (n == 0) return 1;
  if (va < USER_MIN || va >= USER_MAX || n > USER_MAX - va) return 0;
  for (u64 p = PAGE_DOWN(va); p < va + n; p += PAGE) {
    u64 *pte = walk(p, 0);
    if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (write && !(*pte & PTE_W))) return 0;
  }
  return 1;
}

static int user_str_ok(u64 va) {
  for (;; va++) {
    if (!user_ok(va, 1, 0)) return 0;
    if (*(const char *)va == 0) return 1;
  }
}

/* Copies n bytes to user address va through the frames' direct mapping (for pages the
 * process may not write, such as its text). */
static void copy_to_frames(u64 va, const u8 *src, u64 n) {
  while (n) {
    u64 *pte = walk(va, 0);
    u64 chunk = PAGE - (va & (PAGE - 1));
    if (chunk > n) chunk = n;
    void *d = phys((*pte & PTE_ADDR) + (va & (PAGE - 1)));
    const u8 *from = src;
    u64 k = chunk;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(from), "+c"(k) : : "memory"); /* lib's memcpy is a byte loop */
    va += chunk;
    src += chunk;
    n -= chunk;
  }
}

/* ---- GDT, TSS ---- */
struct tss64 {
  u32 reserved0;
  u64 rsp[3];
  u64 reserved1;
  u64 ist[7];
  u64 reserved2;
  u16 reserved3, iomap_base;
} __attribute__((packed));

static struct tss64 tss;
/* 0x08 kernel code, 0x10 kernel data, 0x18 user 32-bit code, 0x20 user data, 0x28 user
 * 64-bit code, 0x30 the TSS (16 bytes). SYSRET to 64-bit mode loads CS = STAR[63:48] + 16
 * and SS = STAR[63:48] + 8 (with RPL 3), hence user data right before user code, as Linux. */
static u64 gdt[8] __attribute__((aligned(16))) = {
  0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00cffa000000ffffull,
  0x00cff2000000ffffull, 0x00affa000000ffffull, 0, 0,
};
extern char syscall_stack_top[];
extern void syscall_entry(void);
void enter_user(u64 rip, u64 rsp) __attribute__((noreturn));

static void setup_segments(void) {
  u64 base = (u64)&tss, limit = sizeof tss - 1;
  tss.rsp[0] = (u64)syscall_stack_top;
  tss.iomap_base = sizeof tss; /* no I/O bitmap: IN/OUT at CPL 3 fault (IOPL 0) */
  /* 64-bit available TSS descriptor, type 9, present (SDM Vol. 3A §8.2.3) */
  gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
           (((base >> 24) & 0xff) << 56);
  gdt[7] = base >> 32;
  struct { u16 limit; u64 base; } __attribute__((packed)) d = { sizeof gdt - 1, (u64)gdt };
  __asm__ volatile("lgdt %0" : : "m"(d));
  __asm__ volatile("mov %0, %%ss; mov %0, %%ds; mov %0, %%es" : : "r"(0x10) : "memory");
  __asm__ volatile("ltr %w0" : : "r"(0x30));
  /* SYSCALL: CS = 0x08, SS = 0x10; SYSRET: CS = 0x2b, SS = 0x23 */
  wrmsr(MSR_STAR, (0x18ull << 48) | (0x08ull << 32));
  wrmsr(MSR_LSTAR, (u64)syscall_entry);
  /* what Linux masks on entry: TF, IF, DF, IOPL, NT, AC */
  wrmsr(MSR_FMASK, 0x47700);
}

/* ---- CPU state for SSE/AVX code ---- */
static u32 cpu_leaf1_edx;
static int setup_fpu(void) {
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  cpu_leaf1_edx = d;
  if ((d & (3u << 25)) != (3u << 25) || !(d & (1u << 24))) {
    printf("[linux-abi] the CPU lacks SSE/SSE2/FXSR (CPUID.1:EDX %#x): no x86-64 userland runs\n", d);
    return 0;
  }
  u64 cr0, cr4;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = (cr0 & ~((1ull << 2) | (1ull << 3))) | (1ull << 1) | (1ull << 5) | (1ull << 16); /* -EM -TS +MP +NE +WP */
  __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= (1ull << 9) | (1ull << 10);
  if (c & (1u << 26)) cr4 |= 1ull << 18; /* OSXSAVE */
  __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
  if (c & (1u << 26)) {
    u32 xa, xb, xc, xd;
    cpuid(0xd, 0, &xa, &xb, &xc, &xd);
    u32 xcr0 = xa & 0xe7; /* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM: the user components */
    __asm__ volatile("xsetbv" : : "c"(0), "a"(xcr0), "d"(0));
  }
  u32 mxcsr = 0x1f80;
  __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
  return 1;
}

/* ---- the ELF program ---- */
struct ehdr {
  u8 ident[16];
  u16 type, machine;
  u32 version;
  u64 entry, phoff, shoff;
  u32 flags;
  u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
  u32 type, flags;
  u64 offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define PF_R 4

struct program { u64 entry, phdr, phnum, end; };

static int load_elf(const u8 *img, u64 size, struct program *pr) {
  const struct ehdr *eh = (const struct ehdr *)img;
  if (size < sizeof *eh || img[0] != 0x7f || img[1] != 'E' || img[2] != 'L' || img[3] != 'F' || img[4] != 2 ||
      eh->machine != 62) {
    printf("[linux-abi] the module is not an x86-64 ELF64 file\n");
    return 0;
  }
  if (eh->type != 2) {
    printf("[linux-abi] the module is not a static non-PIE executable (e_type %u; link with -static -no-pie)\n", eh->type);
    return 0;
  }
  if (eh->phentsize != sizeof(struct phdr) || eh->phoff + (u64)eh->phnum * sizeof(struct phdr) > size) {
    printf("[linux-abi] bad program headers\n");
    return 0;
  }
  const struct phdr *ph = (const struct phdr *)(img + eh->phoff);
  pr->entry = eh->entry;
  pr->phnum = eh->phnum;
  pr->phdr = 0;
  pr->end = 0;
  for (u16 i = 0; i < eh->phnum; i++) {
    if (ph[i].type == 3) {
      printf("[linux-abi] the program wants an interpreter (PT_INTERP): link it with -static\n");
      return 0;
    }
    if (ph[i].type != PT_LOAD || ph[i].memsz == 0) continue;
    u64 va = ph[i].vaddr, end = va + ph[i].memsz;
    if (va < USER_MIN || end > MMAP_BASE || end < va || ph[i].filesz > ph[i].memsz || ph[i].offset + ph[i].filesz > size) {
      printf("[linux-abi] PT_LOAD at %#lx..%#lx is outside the user range or the file\n", va, end);
      return 0;
    }
    int prot = (ph[i].flags & PF_R ? PROT_READ : 0) | (ph[i].flags & PF_W ? PROT_WRITE : 0) | (ph[i].flags & PF_X ? PROT_EXEC : 0);
    for (u64 p = PAGE_DOWN(va); p < end; p += PAGE) {
      if (!map_page(p, prot_bits(prot))) {
        printf("[linux-abi] out of memory loading the program\n");
        return 0;
      }
    }
    copy_to_frames(va, img + ph[i].offset, ph[i].filesz);
    /* AT_PHDR: where the program headers are in memory, inside the segment mapping them */
    if (eh->phoff >= ph[i].offset && eh->phoff < ph[i].offset + ph[i].filesz) pr->phdr = va + (eh->phoff - ph[i].offset);
    if (end > pr->end) pr->end = end;
  }
  if (!pr->end) {
    printf("[linux-abi] the program has no PT_LOAD segment\n");
    return 0;
  }
  return 1;
}

/* auxiliary vector types (Linux include/uapi/linux/auxvec.h) */
#define AT_NULL 0
#define AT_PHDR 3
#define AT_PHENT 4
#define AT_PHNUM 5
#define AT_PAGESZ 6
#define AT_BASE 7
#define AT_FLAGS 8
#define AT_ENTRY 9
#define AT_UID 11
#define AT_EUID 12
#define AT_GID 13
#define AT_EGID 14
#define AT_PLATFORM 15
#define AT_HWCAP 16
#define AT_CLKTCK 17
#define AT_SECURE 23
#define AT_RANDOM 25
#define AT_HWCAP2 26
#define AT_EXECFN 31

#define MAX_ARGS 32
static const char *argv_k[MAX_ARGS], *envp_k[MAX_ARGS];
static int argc_k, envc_k;
static char arg_store[1024];

/* Splits s into words appended to list (copied into arg_store). */
static void split_words(const char *s, const char **list, int *count, u64 *used, int env) {
  while (*s) {
    while (*s == ' ') s++;
    if (!*s) break;
    const char *w = s;
    while (*s && *s != ' ') s++;
    u64 n = (u64)(s - w);
    int has_eq = 0;
    for (u64 i = 0; i < n; i++) if (w[i] == '=') has_eq = 1;
    if (env && !has_eq) continue;
    if (*count >= MAX_ARGS - 1 || *used + n + 1 > sizeof arg_store) break;
    memcpy(arg_store + *used, w, n);
    arg_store[*used + n] = 0;
    list[(*count)++] = arg_store + *used;
    *used += n + 1;
  }
}

/* Builds the initial stack (System V x86-64 psABI §3.4.1, Figure 3.9): argc at RSP, then
 * argv, NULL, envp, NULL, the auxiliary vector and AT_NULL; strings and AT_RANDOM's 16
 * bytes above them. RSP is 16-byte aligned. */
static u64 build_stack(const struct program *pr) {
  for (u64 p = STACK_TOP - STACK_SIZE; p < STACK_TOP; p += PAGE)
    if (!map_page(p, prot_bits(PROT_READ | PROT_WRITE))) return 0;
  u64 sp = STACK_TOP;
  u64 argv_u[MAX_ARGS], envp_u[MAX_ARGS];
  for (int i = envc_k - 1; i >= 0; i--) { u64 n = strlen(envp_k[i]) + 1; sp -= n; memcpy((void *)sp, envp_k[i], n); envp_u[i] = sp; }
  for (int i = argc_k - 1; i >= 0; i--) { u64 n = strlen(argv_k[i]) + 1; sp -= n; memcpy((void *)sp, argv_k[i], n); argv_u[i] = sp; }
  u64 execfn = argv_u[0];
  sp -= 7;
  memcpy((void *)sp, "x86_64", 7);
  u64 platform = sp;
  sp &= ~15ull;
  sp -= 16;
  u64 random = sp;
  for (int i = 0; i < 16; i++) ((u8 *)random)[i] = (u8)(0xa5 ^ (i * 29));
  u64 auxv[] = {
    AT_PHDR, pr->phdr, AT_PHENT, sizeof(struct phdr), AT_PHNUM, pr->phnum, AT_PAGESZ, PAGE, AT_BASE, 0, AT_FLAGS, 0,
    AT_ENTRY, pr->entry, AT_UID, 0, AT_EUID, 0, AT_GID, 0, AT_EGID, 0, AT_PLATFORM, platform,
    /* x86-64 Linux: AT_HWCAP is CPUID.1:EDX; AT_HWCAP2 bit 1 (FSGSBASE) stays clear as
     * CR4.FSGSBASE is off */
    AT_HWCAP, cpu_leaf1_edx, AT_HWCAP2, 0, AT_CLKTCK, 100, AT_SECURE, 0, AT_RANDOM, random, AT_EXECFN, execfn,
    AT_NULL, 0,
  };
  u64 words = 1 + (u64)argc_k + 1 + (u64)envc_k + 1 + sizeof auxv / 8;
  sp -= words * 8;
  sp &= ~15ull;
  u64 *w = (u64 *)sp;
  *w++ = (u64)argc_k;
  for (int i = 0; i < argc_k; i++) *w++ = argv_u[i];
  *w++ = 0;
  for (int i = 0; i < envc_k; i++) *w++ = envp_u[i];
  *w++ = 0;
  for (u64 i = 0; i < sizeof auxv / 8; i++) *w++ = auxv[i];
  return sp;
}

/* ---- system calls ---- */
struct sysregs { u64 nr, rdi, rsi, rdx, r10, r8, r9, rcx, r11, rsp; };

static long sys_write(u64 fd, u64 buf, u64 n) {
  if (fd != 1 && fd != 2) return -EBADF;
  if (!user_ok(buf, n, 0)) return -EFAULT;
  const char *p = (const char *)buf;
  for (u64 i = 0; i < n; i++) putchar(p[i]);
  return (long)n;
}

static long sys_writev(u64 fd, u64 iov, u64 cnt) {
  if (cnt > 1024 || !user_ok(iov, cnt * 16, 0)) return -EFAULT;
  const u64 *v = (const u64 *)iov;
  for (u64 i = 0; i < cnt; i++) if (!user_ok(v[2 * i], v[2 * i + 1], 0)) return -EFAULT;
  long total = 0;
  for (u64 i = 0; i < cnt; i++) {
    long r = sys_write(fd, v[2 * i], v[2 * i + 1]);
    if (r < 0) return r;
    total += r;
  }
  return total;
}

static long sys_brk(u64 want) {
  if (want < brk_start || want > brk_start + BRK_MAX) return (long)brk_cur;
  u64 have = PAGE_UP(brk_cur), need = PAGE_UP(want);
  for (u64 p = have; p < need; p += PAGE) {
    if (!map_page(p, prot_bits(PROT_READ | PROT_WRITE))) {
      for (u64 q = have; q < p; q += PAGE) unmap_page(q);
      return (long)brk_cur;
    }
  }
  for (u64 p = need; p < have; p += PAGE) unmap_page(p);
  brk_cur = want;
  return (long)brk_cur;
}

#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
static long sys_mmap(u64 addr, u64 len, u64 prot, u64 flags, u64 fd, u64 off) {
  (void)fd; (void)off;
  if (!(flags & MAP_ANONYMOUS)) {
    printf("[linux-abi] mmap of a file (fd %ld) is not supported: -ENODEV\n", (long)fd);
    return -ENODEV;
  }
  if (len == 0 || len > (1ull << 36)) return -EINVAL;
  len = PAGE_UP(len);
  u64 va;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (addr & (PAGE - 1) || addr < USER_MIN || addr + len > USER_MAX) return -EINVAL;
    va = addr;
    for (u64 p = va; p < va + len; p += PAGE) {
      u64 *pte = walk(p, 0);
      if ((flags & MAP_FIXED_NOREPLACE) && pte && (*pte & PTE_USED)) return -EEXIST;
    }
    for (u64 p = va; p < va + len; p += PAGE) unmap_page(p);
  } else {
    va = mmap_next;
    if (va + len > STACK_TOP - STACK_SIZE - PAGE) return -ENOMEM;
    mmap_next += len + PAGE; /* a guard page between mappings */
  }
  for (u64 p = va; p < va + len; p += PAGE) {
    if (!map_page(p, prot_bits((int)prot))) {
      for (u64 q = va; q < p; q += PAGE) unmap_page(q);
      return -ENOMEM;
    }
  }
  return (long)va;
}

static long sys_munmap(u64 addr, u64 len) {
  if (addr & (PAGE - 1) || len == 0 || addr < USER_MIN || addr + len > USER_MAX) return -EINVAL;
  for (u64 p = addr; p < addr + PAGE_UP(len); p += PAGE) unmap_page(p);
  return 0;
}

static long sys_mprotect(u64 addr, u64 len, u64 prot) {
  if (addr & (PAGE - 1) || addr < USER_MIN || addr + len > USER_MAX) return -EINVAL;
  for (u64 p = addr; p < addr + PAGE_UP(len); p += PAGE) {
    u64 *pte = walk(p, 0);
    if (!pte || !(*pte & PTE_USED)) return -ENOMEM;
  }
  for (u64 p = addr; p < addr + PAGE_UP(len); p += PAGE) {
    u64 *pte = walk(p, 0);
    *pte = (*pte & PTE_ADDR) | prot_bits((int)prot);
    invlpg(p);
  }
  return 0;
}

/* struct stat for x86-64 (Linux arch/x86/include/uapi/asm/stat.h): 144 bytes. fds 0-2 are
 * the serial line: a character device (ttyS0, 4:64), which TCGETS then says is no tty, so
 * glibc buffers stdout fully, as for a pipe. */
static long stat_fd(u64 fd, u64 buf) {
  if (fd > 2) return -EBADF;
  if (!user_ok(buf, 144, 1)) return -EFAULT;
  u8 *s = (u8 *)buf;
  for (int i = 0; i < 144; i++) s[i] = 0;
  *(u64 *)(s + 8) = 3 + fd;                 /* st_ino */
  *(u64 *)(s + 16) = 1;                     /* st_nlink */
  *(u32 *)(s + 24) = 0020620;               /* st_mode: S_IFCHR | 0620 */
  *(u64 *)(s + 40) = (4 << 8) | 64;         /* st_rdev */
  *(u64 *)(s + 56) = 4096;                  /* st_blksize */
  return 0;
}

static long sys_newfstatat(u64 dirfd, u64 path, u64 buf, u64 flags) {
  if (!user_str_ok(path)) return -EFAULT;
  if (*(const char *)path == 0 && (flags & 0x1000)) return stat_fd(dirfd, buf); /* AT_EMPTY_PATH */
  return -ENOENT;
}

static long sys_readlink(u64 path, u64 buf, u64 size) {
  if (!user_str_ok(path)) return -EFAULT;
  if (strcmp((const char *)path, "/proc/self/exe") != 0) return -ENOENT;
  u64 n = strlen(exec_name);
  if (n > size) n = size;
  if (!user_ok(buf, n, 1)) return -EFAULT;
  memcpy((void *)buf, exec_name, n);
  return (long)n;
}

static long sys_uname(u64 buf) {
  static const char *const fields[6] = { "Linux", "nestvisor", "6.1.0-linux-abi", "#1 SMP", "x86_64", "(none)" };
  if (!user_ok(buf, 6 * 65, 1)) return -EFAULT;
  char *u = (char *)buf;
  for (int f = 0; f < 6; f++) {
    for (int i = 0; i < 65; i++) u[f * 65 + i] = 0;
    memcpy(u + f * 65, fields[f], strlen(fields[f]));
  }
  return 0;
}

static long sys_prlimit64(u64 pid, u64 resource, u64 newp, u64 oldp) {
  (void)pid; (void)newp;
  if (oldp) {
    if (!user_ok(oldp, 16, 1)) return -EFAULT;
    u64 *o = (u64 *)oldp;
    if (resource == 3) { o[0] = 8ull << 20; o[1] = ~0ull; }          /* RLIMIT_STACK */
    else if (resource == 7) { o[0] = 1024; o[1] = 4096; }            /* RLIMIT_NOFILE */
    else { o[0] = ~0ull; o[1] = ~0ull; }
  }
  return 0;
}

static long sys_getrandom(u64 buf, u64 n) {
  if (!user_ok(buf, n, 1)) return -EFAULT;
  for (u64 i = 0; i < n; i++) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    ((u8 *)buf)[i] = (u8)rng_state;
  }
  return (long)n;
}

/* Time from the TSC at a nominal 2 GHz (the default profile's TSC rate); the realtime
 * clock starts at 2026-01-01 00:00:00 UTC. Nothing here needs more. */
#define EPOCH_2026 1767225600ull
static void now(u64 clk, u64 *sec, u64 *nsec) {
  u64 ns = rdtsc() / 2;
  *sec = ns / 1000000000ull + (clk == 0 ? EPOCH_2026 : 0);
  *nsec = ns % 1000000000ull;
}

static long sys_clock_gettime(u64 clk, u64 ts) {
  if (!user_ok(ts, 16, 1)) return -EFAULT;
  u64 *t = (u64 *)ts;
  now(clk, &t[0], &t[1]);
  return 0;
}

static long sys_sysinfo(u64 buf) {
  if (!user_ok(buf, 112, 1)) return -EFAULT;
  u8 *s = (u8 *)buf;
  for (int i = 0; i < 112; i++) s[i] = 0;
  u64 sec, ns;
  now(1, &sec, &ns);
  *(u64 *)(s + 0) = sec;                                           /* uptime */
  *(u64 *)(s + 32) = ram_bytes;                                    /* totalram */
  *(u64 *)(s + 40) = frame_end - frame_next;                       /* freeram (never-used frames) */
  *(u16 *)(s + 80) = 1;                                            /* procs */
  *(u32 *)(s + 104) = 1;                                           /* mem_unit */
  return 0;
}

/* futex for the one thread there is (Linux futex(2)): a wake finds no waiter; a wait whose
 * word changed returns -EAGAIN, and one that would sleep can never be woken, so the
 * machine stops with the reason instead of hanging. */
static long sys_futex(u64 uaddr, u64 op, u64 val) {
  u64 cmd = op & 0x7f; /* without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
  if (cmd == 1 || cmd == 10) return 0; /* FUTEX_WAKE, FUTEX_WAKE_BITSET */
  if (cmd == 0 || cmd == 9) {          /* FUTEX_WAIT, FUTEX_WAIT_BITSET */
    if (!user_ok(uaddr, 4, 0)) return -EFAULT;
    if (*(volatile u32 *)uaddr != (u32)val) return -EAGAIN;
    printf("[linux-abi] futex wait on %#lx with no other thread to wake it: stopping\n", uaddr);
    exit(1);
  }
  printf("[linux-abi] futex op %lu not implemented: -ENOSYS\n", op);
  return -ENOSYS;
}

/* Signals are never delivered: handlers and masks are accepted and forgotten (the old
 * ones read as default/empty); a signal the program sends itself (abort's SIGABRT) ends
 * it, with status 128 + the signal number as a shell reports it. */
static long sys_rt_sigaction(u64 old, u64 setsize) {
  if (setsize != 8) return -EINVAL;
  if (old) {
    if (!user_ok(old, 32, 1)) return -EFAULT;
    for (int i = 0; i < 4; i++) ((u64 *)old)[i] = 0;
  }
  return 0;
}

static long sys_rt_sigprocmask(u64 old, u64 setsize) {
  if (setsize != 8) return -EINVAL;
  if (old) {
    if (!user_ok(old, 8, 1)) return -EFAULT;
    *(u64 *)old = 0;
  }
  return 0;
}

static long sys_kill_self(u64 sig) {
  if (sig == 0) return 0;
  if (sig > 64) return -EINVAL;
  printf("[linux-abi] the program sent itself signal %lu: terminated (status %lu)\n", sig, 128 + sig);
  exit((int)(128 + sig));
}

static void __attribute__((noreturn)) sys_exit(u64 status) {
  printf("[linux-abi] exit status %lu, %lu KiB of frames in use\n", status & 0xff, frames_used * 4);
  exit((int)(status & 0xff));
}

long syscall_dispatch(struct sysregs *r);
long syscall_dispatch(struct sysregs *r) {
  u64 a = r->rdi, b = r->rsi, c = r->rdx, d = r->r10, e = r->r8, f = r->r9;
  switch (r->nr) {
    case 0: return a == 0 ? 0 : -EBADF;                      /* read: stdin is at end of file */
    case 1: return sys_write(a, b, c);
    case 3: return a <= 2 ? 0 : -EBADF;                      /* close */
    case 5: return stat_fd(a, b);                            /* fstat */
    case 9: return sys_mmap(a, b, c, d, e, f);
    case 10: return sys_mprotect(a, b, c);
    case 11: return sys_munmap(a, b);
    case 12: return sys_brk(a);
    case 13: return sys_rt_sigaction(c, d);                  /* rt_sigaction(sig, act, oldact, setsize) */
    case 14: return sys_rt_sigprocmask(c, d);                /* rt_sigprocmask(how, set, oldset, setsize) */
    case 16: return a > 2 ? -EBADF : -ENOTTY;                /* ioctl: TCGETS and the rest */
    case 20: return sys_writev(a, b, c);
    case 24: return 0;                                       /* sched_yield */
    case 28: return 0;                                       /* madvise: advice only */
    case 39: case 186: return 1;                             /* getpid, gettid */
    case 62: return a == 1 || a == 0 ? sys_kill_self(b) : -ESRCH; /* kill(pid, sig) */
    case 110: return 0;                                      /* getppid */
    case 200: return a == 1 ? sys_kill_self(b) : -ESRCH;     /* tkill(tid, sig) */
    case 202: return sys_futex(a, b, c);
    case 234: return a == 1 && b == 1 ? sys_kill_self(c) : -ESRCH; /* tgkill(tgid, tid, sig) */
    case 60: case 231: sys_exit(a);                          /* exit, exit_group */
    case 63: return sys_uname(a);
    case 89: return sys_readlink(a, b, c);
    case 96: {                                               /* gettimeofday */
      if (a) {
        if (!user_ok(a, 16, 1)) return -EFAULT;
        u64 s, ns;
        now(0, &s, &ns);
        ((u64 *)a)[0] = s;
        ((u64 *)a)[1] = ns / 1000;
      }
      return 0;
    }
    case 99: return sys_sysinfo(a);
    case 102: case 104: case 107: case 108: return 0;        /* getuid, getgid, geteuid, getegid */
    case 158:                                                /* arch_prctl */
      if (a == 0x1002) { if (b >= USER_MAX) return -EPERM; wrmsr(MSR_FS_BASE, b); return 0; }  /* ARCH_SET_FS */
      if (a == 0x1001) { if (b >= USER_MAX) return -EPERM; wrmsr(MSR_GS_BASE, b); return 0; }  /* ARCH_SET_GS */
      if (a == 0x1003 || a == 0x1004) {                      /* ARCH_GET_FS / ARCH_GET_GS */
        if (!user_ok(b, 8, 1)) return -EFAULT;
        *(u64 *)b = rdmsr(a == 0x1003 ? MSR_FS_BASE : MSR_GS_BASE);
        return 0;
      }
      return -EINVAL;
    case 201: {                                              /* time */
      u64 s, ns;
      now(0, &s, &ns);
      if (a) { if (!user_ok(a, 8, 1)) return -EFAULT; *(u64 *)a = s; }
      return (long)s;
    }
    case 218: return 1;                                      /* set_tid_address: the tid */
    case 228: return sys_clock_gettime(a, b);
    case 262: return sys_newfstatat(a, b, c, d);
    case 267: return sys_readlink(b, c, d);                  /* readlinkat (dirfd ignored: absolute paths) */
    case 273: return 0;                                      /* set_robust_list */
    case 302: return sys_prlimit64(a, b, c, d);
    case 318: return sys_getrandom(a, b);
    case 334: return -ENOSYS;                                /* rseq: glibc runs without it */
    default:
      printf("[linux-abi] system call %lu not implemented: -ENOSYS\n", r->nr);
      return -ENOSYS;
  }
}

/* ---- boot ---- */
extern u32 mb_info;

int main(void) {
  const u32 *info = (const u32 *)(u64)mb_info;
  if (!info || !(info[0] & (1u << 3)) || info[5] == 0) {
    printf("[linux-abi] no program: pass a static x86-64 Linux executable as a boot module (--initrd FILE)\n");
    return 1;
  }
  const u32 *mod = (const u32 *)(u64)info[6];
  u64 mod_start = mod[0], mod_end = mod[1];
  const char *mod_string = mod[2] ? (const char *)(u64)mod[2] : "program";
  u64 used = 0;
  split_words(mod_string, argv_k, &argc_k, &used, 0);
  if (argc_k == 0) argv_k[argc_k++] = "program";
  split_words(cmdline_args(), envp_k, &envc_k, &used, 1);
  /* readlink("/proc/self/exe"): argv[0], made absolute */
  u64 en = 0;
  if (argv_k[0][0] != '/') exec_name[en++] = '/';
  for (const char *q = argv_k[0]; *q && en < sizeof exec_name - 1; q++) exec_name[en++] = *q;

  /* RAM: mem_upper KiB from 1 MiB (Multiboot 1 §3.3); frames come from above the
   * kernel's 2 MiB page (this image, about 200 KiB at 1 MiB, lies inside it) and every
   * module, up to the direct map's limit. */
  ram_bytes = (1ull << 20) + (u64)info[2] * 1024;
  u64 top = ram_bytes < DIRECT_LIMIT ? ram_bytes : DIRECT_LIMIT;
  u64 low = 0x200000;
  const u32 *m = mod;
  for (u32 i = 0; i < info[5]; i++, m += 4) if (m[1] > low) low = m[1];
  frame_next = PAGE_UP(low);
  frame_end = PAGE_DOWN(top);

  if (!setup_fpu()) return 1;
  u32 a, b, c, d;
  cpuid(0x80000001, 0, &a, &b, &c, &d);
  if (!(d & (1u << 11))) {
    printf("[linux-abi] the CPU has no SYSCALL/SYSRET in long mode (CPUID.80000001H:EDX %#x)\n", d);
    return 1;
  }
  u64 efer = rdmsr(MSR_EFER) | 1; /* SCE */
  if (d & (1u << 20)) { efer |= 1ull << 11; nx_bit = PTE_NX; } /* NXE */
  wrmsr(MSR_EFER, efer);

  /* The kernel's tables: 0-2 MiB identity (supervisor, where this image runs) and the
   * direct map; user tables are created under kpml4[0] on demand. */
  kpml4[0] = (u64)kpdpt_low | PTE_P | PTE_W | PTE_U;
  kpdpt_low[0] = (u64)kpd_low | PTE_P | PTE_W | PTE_U;
  kpd_low[0] = 0 | PTE_P | PTE_W | PTE_PS;
  kpml4[256] = (u64)kpdpt_direct | PTE_P | PTE_W;
  kpdpt_direct[0] = (u64)kpd_direct | PTE_P | PTE_W;
  for (u64 i = 0; i < 512; i++) kpd_direct[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
  __asm__ volatile("mov %0, %%cr3" : : "r"((u64)kpml4) : "memory");
  setup_segments();
  outb(0x21, 0xff); /* mask both 8259s: the process runs with IF = 1 and nothing to interrupt it */
  outb(0xa1, 0xff);

  struct program pr;
  if (!load_elf(phys(mod_start), mod_end - mod_start, &pr)) return 1;
  brk_start = brk_cur = PAGE_UP(pr.end);
  mmap_next = MMAP_BASE;
  u64 sp = build_stack(&pr);
  if (!sp) {
    printf("[linux-abi] out of memory for the stack\n");
    return 1;
  }
  printf("[linux-abi] %s: entry %#lx, %lu program headers, brk %#lx, %lu MiB RAM\n", exec_name, pr.entry, pr.phnum,
         brk_start, ram_bytes >> 20);
  enter_user(pr.entry, sp);
}
