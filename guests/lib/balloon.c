/*
 * The polling virtio-balloon driver (balloon.h). Register offsets: common configuration
 * (Virtual I/O Device 1.1 §4.1.4.3), device configuration num_pages at 0 and actual at 4
 * (§5.5.4), Nestvisor's ram_pages at 16 (NV_HOT_ADD, docs/management.md). Queues: 0 inflate,
 * 1 deflate, 2 statistics (§5.5.2); each request is one device-readable buffer of page frame
 * numbers (§5.5.6), polled to completion; no interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT).
 */
#include "balloon.h"
#include "virtio-pci.h"

#define BATCH 256
#define QS 16
#define F_STATS_VQ 1
#define F_NV_HOT_ADD 23

#define R16(b, o) (*(volatile u16 *)((b) + (o)))
#define R32(b, o) (*(volatile u32 *)((b) + (o)))

static u8 rings[3][2 * 4096] __attribute__((aligned(4096)));
static u32 pfns[BATCH];
struct stat { u16 tag; u64 val; } __attribute__((packed));
static struct stat stats[3];
static struct vpci t;
static volatile u8 *devcfg;
static struct vpci_vq qs[3];
static int hot_add, have_stats;

static const struct balloon_source *source;
static const char *tag;
static u32 balloon_stack[BALLOON_MAX_PFN]; /* the pages in the balloon, last given on top */
static u32 ram_top, balloon_pages;
static u32 last_target = 0xffffffffu;
static int cannot, reported;

/* Offers one device-readable buffer as descriptor 0 of queue i and kicks it. */
static void offer(u16 i, const void *buf, u32 len) {
  vpci_set_desc(&qs[i], 0, (u64)buf, len, 0, 0);
  vpci_offer(&qs[i], 0);
  vpci_notify(&qs[i], i);
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
  int dev = vpci_find(0x10451af4, 0);
  if (dev < 0) { printf("%s: no virtio-balloon device\n", tag); return -1; }
  vpci_map_high();
  vpci_caps(&t, (u8)dev);
  devcfg = t.devcfg;
  if (!t.common || !t.notify || !devcfg) { printf("%s: missing capabilities\n", tag); return -1; }
  vpci_enable(&t);
  u32 f0;
  if (vpci_negotiate(&t, (1u << F_STATS_VQ) | (1u << F_NV_HOT_ADD), &f0, 0, tag)) return -1;
  /* ring memory: two pages per queue, used ring on the second */
  for (u16 i = 0; i < 3; i++) if (vpci_setup_queue(&t, &qs[i], i, rings[i], QS, 4096, 0)) { printf("%s: queue %u failed\n", tag, i); return -1; }
  vpci_driver_ok(&t);
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
