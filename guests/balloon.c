/*
 * balloon: a test kernel with a virtio-balloon driver (Virtual I/O Device 1.1 §5.5, modern
 * PCI transport §4.1) that follows the host's target and says what it did on COM1.
 *
 *   balloon [work=MB]
 *
 * Memory: a page allocator (one bit per 4 KiB page) over the Multiboot memory map's RAM
 * from 8 MiB up (below lies the kernel, its stacks and the boot information), below 3 GiB.
 * The balloon takes pages from the top, the workload from the bottom.
 *
 * Driver: lib/balloon.c (VERSION_1, STATS_VQ and Nestvisor's NV_HOT_ADD; polled, no
 * interrupts), fed by this allocator: it takes pages from the top, hot-added RAM joins it.
 *
 * Main loop: one driver step (hot-add, inflate or deflate toward the target, statistics
 * refilled), then the workload: allocate and touch `work` MiB, 1 MiB per loop while pages
 * are free, then hold them. Lines printed (the driver's first four):
 *   balloon: RAM N MiB, driver ready
 *   balloon: hot-add: RAM now N MiB
 *   balloon: at target: assigned N MiB, balloon N MiB
 *   balloon: cannot give N more pages: none free
 *   balloon: work: holding N MiB
 */
#include "balloon.h"

#define PAGE BALLOON_PAGE
#define MAX_PFN BALLOON_MAX_PFN
#define FIRST_PFN (0x800000u / PAGE)
#define MAPPED_PFN (0x40000000u / PAGE) /* the boot code maps the first GiB */

struct multiboot_mmap { u32 size; u64 base; u64 len; u32 type; } __attribute__((packed));
extern u32 mb_info;

/* ---- page allocator ---- */
static u8 free_map[MAX_PFN / 8];
static u32 ram_top;      /* pages of RAM index space the allocator knows (boot + hot-added) */
static u32 free_pages;
static u32 low_hint = FIRST_PFN; /* no free page below it */

static int bit(u8 *m, u32 p) { return (m[p >> 3] >> (p & 7)) & 1; }
static void set(u8 *m, u32 p, int v) { if (v) m[p >> 3] |= (u8)(1u << (p & 7)); else m[p >> 3] &= (u8)~(1u << (p & 7)); }

static void add_free(u32 from, u32 to) {
  if (from < FIRST_PFN) from = FIRST_PFN;
  if (to > MAX_PFN) to = MAX_PFN;
  for (u32 p = from; p < to; p++) if (!bit(free_map, p)) { set(free_map, p, 1); free_pages++; }
  if (from < low_hint) low_hint = from;
}
static void free_page(u32 p) {
  set(free_map, p, 1);
  free_pages++;
  if (p < low_hint) low_hint = p;
}
static u32 alloc_low(void) {
  for (u32 p = low_hint; p < ram_top && p < MAPPED_PFN; p++) if (bit(free_map, p)) { set(free_map, p, 0); free_pages--; low_hint = p + 1; return p; }
  return 0;
}
static u32 alloc_high(void) {
  if (!free_pages) return 0;
  for (u32 p = ram_top; p-- > FIRST_PFN;) {
    if ((p & 7) == 7 && free_map[p >> 3] == 0) { p -= 7; continue; } /* eight used pages: skip the byte */
    if (bit(free_map, p)) { set(free_map, p, 0); free_pages--; return p; }
  }
  return 0;
}

/* ---- the driver's free-page source (lib/balloon.h) ---- */
static void grow(u32 from, u32 to) {
  add_free(from, to);
  ram_top = to;
}
static u32 count_free(void) { return free_pages; }
static const struct balloon_source source = { alloc_high, free_page, grow, count_free };

int main(void) {
  serial_init();
  u32 work_mib = 0;
  const char *a = cmdline_args();
  for (const char *s = a; *s; s++) if (s[0] == 'w' && s[1] == 'o' && s[2] == 'r' && s[3] == 'k' && s[4] == '=') {
    work_mib = 0;
    for (s += 5; *s >= '0' && *s <= '9'; s++) work_mib = work_mib * 10 + (u32)(*s - '0');
    break;
  }
  /* RAM from the Multiboot memory map (flags bit 6: mmap_length at +44, mmap_addr at +48) */
  const u32 *info = (const u32 *)(u64)mb_info;
  if (info[0] & (1u << 6)) {
    for (u32 o = 0; o < info[11];) {
      const struct multiboot_mmap *e = (const struct multiboot_mmap *)(u64)(info[12] + o);
      if (e->type == 1 && e->base < (u64)MAX_PFN * PAGE) {
        u64 end = e->base + e->len;
        if (end > (u64)MAX_PFN * PAGE) end = (u64)MAX_PFN * PAGE;
        add_free((u32)(e->base / PAGE), (u32)(end / PAGE));
        if (end / PAGE > ram_top) ram_top = (u32)(end / PAGE);
      }
      o += e->size + 4;
    }
  }
  if (balloon_init(&source, "balloon", ram_top) < 0) exit(1);

  u32 work_pages = 0;
  int holding = 0;
  for (;;) {
    balloon_poll();
    /* the workload: 1 MiB a loop while pages are free */
    if (work_pages < work_mib * 256) {
      for (u32 i = 0; i < 256 && work_pages < work_mib * 256; i++) {
        u32 p = alloc_low();
        if (!p) break;
        memset((void *)((u64)p * PAGE), 0x5a, PAGE);
        work_pages++;
      }
    } else if (work_mib && !holding) {
      holding = 1;
      printf("balloon: work: holding %u MiB\n", work_mib);
    }
    for (int i = 0; i < 2000; i++) __asm__ volatile("pause");
  }
}
