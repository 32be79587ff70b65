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
 * Driver: finds vendor 0x1af4 device 0x1045 through ports 0xcf8/0xcfc, walks the virtio
 * capabilities to the BAR regions, accepts VERSION_1, STATS_VQ and Nestvisor's NV_HOT_ADD
 * (bit 23: the device reports the RAM it has in config field ram_pages, at offset 16), sets
 * up the inflate (0), deflate (1) and statistics (2) queues and polls; no interrupts.
 *
 * Main loop: RAM hot-added -> pages join the allocator; num_pages above what the balloon
 * holds -> inflate (at most 256 pages per request), below -> deflate; the statistics
 * buffer handed back by the device -> refilled with MEMTOT (pages the guest has) and
 * MEMFREE (pages free in the allocator) and offered again. Workload:
 * allocate and touch `work` MiB, 1 MiB per loop while pages are free, then hold them. Lines printed:
 *   balloon: RAM N MiB, driver ready
 *   balloon: hot-add: RAM now N MiB
 *   balloon: at target: assigned N MiB, balloon N MiB
 *   balloon: cannot give N more pages: none free
 *   balloon: work: holding N MiB
 */
#include "rt.h"

#define PAGE 4096u
#define MAX_PFN 0xc0000u          /* 3 GiB: RAM below the PCI hole */
#define FIRST_PFN (0x800000u / PAGE)
#define MAPPED_PFN (0x40000000u / PAGE) /* the boot code maps the first GiB */
#define BATCH 256
#define QS 16
#define F_STATS_VQ 1
#define F_NV_HOT_ADD 23

struct multiboot_mmap { u32 size; u64 base; u64 len; u32 type; } __attribute__((packed));
extern u32 mb_info;

/* ---- page allocator ---- */
static u8 free_map[MAX_PFN / 8];
static u8 balloon_map[MAX_PFN / 8];
static u32 balloon_stack[MAX_PFN]; /* the pages in the balloon, last given on top */
static u32 ram_top;      /* pages of RAM index space the allocator knows (boot + hot-added) */
static u32 free_pages, balloon_pages;
static u32 low_hint = FIRST_PFN; /* no free page below it */

static int bit(u8 *m, u32 p) { return (m[p >> 3] >> (p & 7)) & 1; }
static void set(u8 *m, u32 p, int v) { if (v) m[p >> 3] |= (u8)(1u << (p & 7)); else m[p >> 3] &= (u8)~(1u << (p & 7)); }

static void add_free(u32 from, u32 to) {
  if (from < FIRST_PFN) from = FIRST_PFN;
  if (to > MAX_PFN) to = MAX_PFN;
  for (u32 p = from; p < to; p++) if (!bit(free_map, p) && !bit(balloon_map, p)) { set(free_map, p, 1); free_pages++; }
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

/* ---- PCI and virtio ---- */
static u32 pci_read(u8 dev, u8 reg) { outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc)); return inl(0xcfc); }
static void pci_write(u8 dev, u8 reg, u32 v) { outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc)); outl(0xcfc, v); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
#define R8(b, o) (*(volatile u8 *)((b) + (o)))
#define R16(b, o) (*(volatile u16 *)((b) + (o)))
#define R32(b, o) (*(volatile u32 *)((b) + (o)))

static u64 high_pd[512] __attribute__((aligned(4096)));
static void map_high(void) {
  u64 cr3;
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  u64 *pdpt = (u64 *)(((u64 *)(cr3 & ~0xfffUL))[0] & ~0xfffUL);
  if (pdpt[3] & 1) return;
  for (int i = 0; i < 512; i++) high_pd[i] = (0xc0000000UL + ((u64)i << 21)) | 0x9b; /* P W PWT PCD PS */
  pdpt[3] = (u64)high_pd | 3;
  __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

struct vq { u16 size, avail_idx, last_used; volatile u8 *desc, *used; volatile u16 *avail; volatile u8 *notify; };
static u8 rings[3][2 * 4096] __attribute__((aligned(4096)));
static u32 pfns[BATCH];
struct stat { u16 tag; u64 val; } __attribute__((packed));
static struct stat stats[3];
static volatile u8 *common, *devcfg;
static struct vq qs[3];
static int hot_add;

static int setup_queue(u16 i, volatile u8 *notify_base, u32 mult) {
  struct vq *q = &qs[i];
  R16(common, 0x16) = i;
  u16 max = R16(common, 0x18);
  if (max == 0) return -1;
  q->size = max < QS ? max : QS;
  q->desc = rings[i];
  q->avail = (volatile u16 *)(rings[i] + 16 * QS);
  q->used = rings[i] + 4096;
  q->avail[0] = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT: we poll */
  R16(common, 0x18) = q->size;
  R32(common, 0x20) = (u32)(u64)q->desc; R32(common, 0x24) = 0;
  R32(common, 0x28) = (u32)(u64)q->avail; R32(common, 0x2c) = 0;
  R32(common, 0x30) = (u32)(u64)q->used; R32(common, 0x34) = 0;
  q->notify = notify_base + (u32)R16(common, 0x1e) * mult;
  R16(common, 0x1c) = 1;
  return R16(common, 0x1c) == 1 ? 0 : -1;
}

/* Offers one device-readable buffer as descriptor 0 of queue i and kicks it. */
static void offer(u16 i, const void *buf, u32 len) {
  struct vq *q = &qs[i];
  volatile u8 *d = q->desc;
  *(volatile u64 *)d = (u64)buf;
  *(volatile u32 *)(d + 8) = len;
  *(volatile u16 *)(d + 12) = 0;
  q->avail[2 + q->avail_idx % q->size] = 0;
  barrier();
  q->avail[1] = ++q->avail_idx;
  barrier();
  R16(q->notify, 0) = i;
}
static int used_more(u16 i) { return R16(qs[i].used, 2) != qs[i].last_used; }
static void wait_used(u16 i) {
  while (!used_more(i)) __asm__ volatile("pause");
  qs[i].last_used = R16(qs[i].used, 2);
}

static int balloon_init(void) {
  int dev = -1;
  for (int d = 0; d < 32; d++) if (pci_read((u8)d, 0) == 0x10451af4) { dev = d; break; }
  if (dev < 0) { printf("balloon: no virtio-balloon device\n"); return -1; }
  map_high();
  volatile u8 *notify_base = 0;
  u32 mult = 0;
  for (u8 p = (u8)pci_read((u8)dev, 0x34); p; p = (u8)(pci_read((u8)dev, p) >> 8)) {
    u32 h = pci_read((u8)dev, p);
    if ((h & 0xff) != 0x09) continue;
    u8 type = (u8)(h >> 24), bar = (u8)pci_read((u8)dev, p + 4);
    u32 lo = pci_read((u8)dev, 0x10 + 4 * bar);
    u64 base = lo & ~0xfu;
    if ((lo & 6) == 4) base |= (u64)pci_read((u8)dev, 0x14 + 4 * bar) << 32;
    volatile u8 *at = (volatile u8 *)(base + pci_read((u8)dev, p + 8));
    if (type == 1) common = at;
    else if (type == 2) { notify_base = at; mult = pci_read((u8)dev, p + 16); }
    else if (type == 4) devcfg = at;
  }
  if (!common || !notify_base || !devcfg) { printf("balloon: missing capabilities\n"); return -1; }
  pci_write((u8)dev, 0x04, (pci_read((u8)dev, 0x04) & 0xffff) | 0x6);
  R8(common, 0x14) = 0;
  R8(common, 0x14) = 1 | 2;
  R32(common, 0x00) = 0;
  u32 f0 = R32(common, 0x04) & ((1u << F_STATS_VQ) | (1u << F_NV_HOT_ADD));
  R32(common, 0x08) = 0; R32(common, 0x0c) = f0;
  R32(common, 0x08) = 1; R32(common, 0x0c) = 1; /* VERSION_1 */
  R8(common, 0x14) = 1 | 2 | 8;
  if (!(R8(common, 0x14) & 8)) { printf("balloon: FEATURES_OK refused\n"); return -1; }
  for (u16 i = 0; i < 3; i++) if (setup_queue(i, notify_base, mult)) { printf("balloon: queue %u failed\n", i); return -1; }
  R8(common, 0x14) = 1 | 2 | 8 | 4;
  hot_add = (f0 >> F_NV_HOT_ADD) & 1;
  return (f0 >> F_STATS_VQ) & 1;
}

static u32 ram_pages_now(void) { return hot_add ? R32(devcfg, 16) : ram_top; }

static void fill_stats(void) {
  stats[0].tag = 5; stats[0].val = (u64)(ram_pages_now() - balloon_pages) * PAGE; /* MEMTOT */
  stats[1].tag = 4; stats[1].val = (u64)free_pages * PAGE;                        /* MEMFREE */
  stats[2].tag = 6; stats[2].val = (u64)free_pages * PAGE;                        /* AVAIL */
}

static u32 mib(u32 pages) { return pages / 256; }

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
  int have_stats = balloon_init();
  if (have_stats < 0) exit(1);
  printf("balloon: RAM %u MiB, driver ready\n", mib(ram_pages_now()));
  if (have_stats) { fill_stats(); offer(2, stats, sizeof stats); }

  u32 last_target = 0xffffffffu, work_pages = 0, cannot = 0;
  int reported = 0, holding = 0;
  for (;;) {
    /* hot-added RAM: the device's ram_pages grew past what the allocator covers */
    if (hot_add) {
      u32 now = R32(devcfg, 16);
      if (now > ram_top && now <= MAX_PFN) {
        add_free(ram_top, now);
        ram_top = now;
        reported = 0;
        printf("balloon: hot-add: RAM now %u MiB\n", mib(now));
      }
    }
    u32 target = R32(devcfg, 0);
    if (target != last_target) { last_target = target; cannot = 0; reported = 0; }
    if (target > balloon_pages && !cannot) {
      u32 n = 0;
      while (n < BATCH && balloon_pages + n < target) {
        u32 p = alloc_high();
        if (!p) break;
        pfns[n++] = p;
      }
      if (n) {
        offer(0, pfns, 4 * n); wait_used(0);
        for (u32 i = 0; i < n; i++) { set(balloon_map, pfns[i], 1); balloon_stack[balloon_pages + i] = pfns[i]; }
        balloon_pages += n;
        R32(devcfg, 4) = balloon_pages;
      } else {
        cannot = 1;
        printf("balloon: cannot give %u more pages: none free\n", target - balloon_pages);
      }
    } else if (target < balloon_pages) {
      u32 n = 0;
      while (n < BATCH && balloon_pages - n > target) { pfns[n] = balloon_stack[balloon_pages - 1 - n]; n++; }
      offer(1, pfns, 4 * n); wait_used(1);
      for (u32 i = 0; i < n; i++) { set(balloon_map, pfns[i], 0); free_page(pfns[i]); }
      balloon_pages -= n;
      R32(devcfg, 4) = balloon_pages;
    }
    if (target == balloon_pages && !reported) {
      printf("balloon: at target: assigned %u MiB, balloon %u MiB\n", mib(ram_pages_now() - balloon_pages), mib(balloon_pages));
      reported = 1;
    }
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
    if (have_stats && used_more(2)) {
      qs[2].last_used = R16(qs[2].used, 2);
      fill_stats();
      offer(2, stats, sizeof stats);
    }
    for (int i = 0; i < 2000; i++) __asm__ volatile("pause");
  }
}
