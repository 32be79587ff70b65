/*
 * A polling virtio-balloon driver for test kernels and minivisor (Virtual I/O Device 1.1
 * §5.5, modern PCI transport §4.1). It follows the host's target (num_pages) by taking pages
 * from, and giving them back to, a free-page source the kernel supplies, and reports its
 * statistics (MEMTOT, MEMFREE, AVAIL) on the statistics queue.
 *
 * Nestvisor's NV_HOT_ADD feature (bit 23; config field ram_pages at offset 16): the device says
 * how much RAM the guest has; when that grows, the new pages are handed to the source.
 *
 * Lines printed, each after the caller's prefix ("balloon", "minivisor: balloon"):
 *   PREFIX: RAM N MiB, driver ready
 *   PREFIX: hot-add: RAM now N MiB
 *   PREFIX: at target: assigned N MiB, balloon N MiB
 *   PREFIX: cannot give N more pages: none free
 * A target that never moves (the host holds the size while a hypervisor runs in the guest)
 * leaves the driver idle at its last "at target" line.
 */
#ifndef NV_BALLOON_H
#define NV_BALLOON_H
#include "rt.h"

#define BALLOON_PAGE 4096u
#define BALLOON_MAX_PFN 0xc0000u /* 3 GiB: RAM below the PCI hole */

/* Where the balloon's pages come from: the kernel's own free memory. */
struct balloon_source {
  /* A free page (frame number) the balloon may take, removed from the free memory; 0 = none. */
  u32 (*take)(void);
  /* A page the balloon gives back: free again. */
  void (*give)(u32 pfn);
  /* RAM pages [from, to) hot-added by the host: new free memory. */
  void (*grow)(u32 from, u32 to);
  /* Free pages now (the MEMFREE and AVAIL statistics). */
  u32 (*free_pages)(void);
};

/*
 * Finds the device, negotiates, sets up the inflate, deflate and statistics queues and prints
 * "PREFIX: RAM N MiB, driver ready". ram_top: the RAM frames the source knows at boot (page
 * index space, as the Multiboot map gives it). Returns 0, or <0 after printing why.
 */
int balloon_init(const struct balloon_source *src, const char *prefix, u32 ram_top);
/* One step: hot-added RAM, one inflate/deflate request toward the target (at most 256
 * pages), "at target" once per target, statistics refilled when the device handed them back.
 * Returns 1 when it moved pages (call again soon), 0 when the balloon is where the device
 * wants it or cannot get there (a caller may sleep until its next look). */
int balloon_poll(void);
/* Pages held by the balloon now. */
u32 balloon_held(void);
#endif
