/*
 * The polling virtio-balloon driver (balloon.h). Register offsets: common configuration
 * (Virtual I/O Device 1.1 §4.1.4.3), device configuration num_pages at 0 and actual at 4
 * (§5.5.4), Nestvisor's ram_pages at 16 (NV_HOT_ADD, docs/management.md). Queues: 0 inflate,
 * 1 deflate, 2 statistics (§5.5.2); each request is one device-readable buffer of page frame
 * numbers (§5.5.6), polled to completion; no interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT).
 */
#include "balloon.h"

#define BATCH 256
#define QS 16
#define F_STATS_VQ 1
#define F_NV_HOT_ADD 23

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
#define R8(b, o) (*(volatile u8 *)((b) + (o)))
#define R16(b, o) (*(volatile u16 *)((b) + (o)))
#define R32(b, o) (*(volatile u32 *)((b) + (o)))

static u32 pci_read(u8 dev, u8 reg) { outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc)); return inl(0xcfc); }
static void pci_write(u8 dev, u8 reg, u32 v) { outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc)); outl(0xcfc, v); }

/* The device's BAR sits above 3 GiB: map 3-4 GiB with 2 MiB uncached pages (PWT PCD) unless
 * another driver of this kernel already did. */
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
static int hot_add, have_stats;

static const struct balloon_source *source;
static const char *tag;
static u32 balloon_stack[BALLOON_MAX_PFN]; /* the pages in the balloon, last given on top */
static u32 ram_top, balloon_pages;
static u32 last_target = 0xffffffffu;
static int cannot, reported;

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

static u32 ram_pages_now(void) { return hot_add ? R32(devcfg, 16) : ram_top; }
static u32 mib(u32 pages) { return pages / 256; }

static void fill_stats(void) {
  u32 free = source->free_pages();
  stats[0].tag = 5; stats[0].val = (u64)(ram_pages_now() - balloon_pages) * BALLOON_PAGE; /* MEMTOT */
  stats[1].tag = 4; stats[1].val = (u64)free * BALLOON_PAGE;                              /* MEMFREE */
  stats[2].tag = 6; stats[2].val = (u64)free * BALLOON_PAGE;                              /* AVAIL */
}

/* Device initialization, §3.1.1: reset, ACKNOWLEDGE | DRIVER, features, FEATURES_OK, queues,
 * DRIVER_OK. Returns 1 with the statistics queue, 0 without, <0 on failure (printed). */
static int bring_up(void) {
  int dev = -1;
  for (int d = 0; d < 32; d++) if (pci_read((u8)d, 0) == 0x10451af4) { dev = d; break; }
  if (dev < 0) { printf("%s: no virtio-balloon device\n", tag); return -1; }
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
  if (!common || !notify_base || !devcfg) { printf("%s: missing capabilities\n", tag); return -1; }
  pci_write((u8)dev, 0x04, (pci_read((u8)dev, 0x04) & 0xffff) | 0x6);
  R8(common, 0x14) = 0;
  R8(common, 0x14) = 1 | 2;
  R32(common, 0x00) = 0;
  u32 f0 = R32(common, 0x04) & ((1u << F_STATS_VQ) | (1u << F_NV_HOT_ADD));
  R32(common, 0x08) = 0; R32(common, 0x0c) = f0;
  R32(common, 0x08) = 1; R32(common, 0x0c) = 1; /* VERSION_1 */
  R8(common, 0x14) = 1 | 2 | 8;
  if (!(R8(common, 0x14) & 8)) { printf("%s: FEATURES_OK refused\n", tag); return -1; }
  for (u16 i = 0; i < 3; i++) if (setup_queue(i, notify_base, mult)) { printf("%s: queue %u failed\n", tag, i); return -1; }
  R8(common, 0x14) = 1 | 2 | 8 | 4;
  hot_add = (f0 >> F_NV_HOT_ADD) & 1;
  return (f0 >> F_STATS_VQ) & 1;
}

int balloon_init(const struct balloon_source *src, const char *prefix, u32 boot_ram_top) {
  source = src;
  tag = prefix;
  ram_top = boot_ram_top;
  int s = bring_up();
  if (s < 0) return s;
  have_stats = s;
  printf("%s: RAM %u MiB, driver ready\n", tag, mib(ram_pages_now()));
  if (have_stats) { fill_stats(); offer(2, stats, sizeof stats); }
  return 0;
}

u32 balloon_held(void) { return balloon_pages; }

int balloon_poll(void) {
  int moved = 0;
  /* hot-added RAM: the device's ram_pages grew past what the source covers */
  if (hot_add) {
    u32 now = R32(devcfg, 16);
    if (now > ram_top && now <= BALLOON_MAX_PFN) {
      source->grow(ram_top, now);
      ram_top = now;
      reported = 0;
      printf("%s: hot-add: RAM now %u MiB\n", tag, mib(now));
    }
  }
  u32 target = R32(devcfg, 0);
  if (target != last_target) { last_target = target; cannot = 0; reported = 0; }
  if (target > balloon_pages && !cannot) {
    u32 n = 0;
    while (n < BATCH && balloon_pages + n < target) {
      u32 p = source->take();
      if (!p) break;
      pfns[n++] = p;
    }
    if (n) {
      offer(0, pfns, 4 * n); wait_used(0);
      for (u32 i = 0; i < n; i++) balloon_stack[balloon_pages + i] = pfns[i];
      balloon_pages += n;
      R32(devcfg, 4) = balloon_pages;
      moved = 1;
    } else {
      cannot = 1;
      printf("%s: cannot give %u more pages: none free\n", tag, target - balloon_pages);
    }
  } else if (target < balloon_pages) {
    u32 n = 0;
    while (n < BATCH && balloon_pages - n > target) { pfns[n] = balloon_stack[balloon_pages - 1 - n]; n++; }
    offer(1, pfns, 4 * n); wait_used(1);
    for (u32 i = 0; i < n; i++) source->give(pfns[i]);
    balloon_pages -= n;
    R32(devcfg, 4) = balloon_pages;
    moved = 1;
  }
  if (target == balloon_pages && !reported) {
    printf("%s: at target: assigned %u MiB, balloon %u MiB\n", tag, mib(ram_pages_now() - balloon_pages), mib(balloon_pages));
    reported = 1;
  }
  if (have_stats && used_more(2)) {
    qs[2].last_used = R16(qs[2].used, 2);
    fill_stats();
    offer(2, stats, sizeof stats);
  }
  return moved;
}
