/*
 * The virtio 1.x modern PCI transport shared by the polling guest drivers (virtio-net.c,
 * agent.c, balloon.c). Virtual I/O Device 1.1: §4.1.2 PCI device discovery, §4.1.4 virtio
 * structure PCI capabilities (common configuration §4.1.4.3, notifications §4.1.4.4, ISR
 * §4.1.4.5, device configuration §4.1.4.6), §3.1.1 driver initialization, §2.6 split
 * virtqueues. Configuration mechanism #1 (ports 0xcf8/0xcfc) on bus 0; no interrupts
 * (VIRTQ_AVAIL_F_NO_INTERRUPT), every queue is polled.
 */
#ifndef NV_VIRTIO_PCI_H
#define NV_VIRTIO_PCI_H
#include "rt.h"

struct vpci_vq {
  u16 size, last_used, avail_idx;
  volatile u8 *notify;
  volatile u8 *desc;   /* 16-byte descriptors */
  volatile u16 *avail; /* flags, idx, ring[] */
  volatile u8 *used;   /* flags, idx, ring[] {u32 id, u32 len} */
};

/* The regions of one function's BAR(s), found by vpci_caps. */
struct vpci {
  u8 dev;                  /* PCI device number on bus 0 */
  volatile u8 *common, *notify, *isr, *devcfg;
  u32 notify_mult;         /* notify_off_multiplier */
};

u32 vpci_read(u8 dev, u8 reg);
void vpci_write(u8 dev, u8 reg, u32 v);
/* The device number of the index-th function with vendor/device ID id (0x1af4 | device << 16), or -1. */
int vpci_find(u32 id, int index);
/* Maps 3-4 GiB (where the BARs live; the boot code maps the first GiB only) with 2 MiB
 * uncached pages, unless another helper of this kernel (apic.h) already did. */
void vpci_map_high(void);
/* Walks the vendor capabilities (§4.1.4) of dev into *t; -1 when dev has no capability list.
 * Callers check the regions they need. */
int vpci_caps(struct vpci *t, u8 dev);
/* Turns on memory space and bus mastering in the command register. */
void vpci_enable(const struct vpci *t);
/* §3.1.1 steps 1-6: reset, ACKNOWLEDGE | DRIVER, accept want0 of feature word 0 plus
 * VIRTIO_F_VERSION_1 (bit 32), FEATURES_OK. *got0 (may be NULL) receives the accepted word-0
 * features. 0 on success; -1 no VERSION_1, -2 FEATURES_OK refused (printed as "name: ..."). */
int vpci_negotiate(struct vpci *t, u32 want0, u32 *got0, int need_v1, const char *name);
/* §3.1.1 step 8. */
void vpci_driver_ok(struct vpci *t);
/* Sets up queue index (§4.1.5.1.3) on caller memory: descriptors at mem, the available ring
 * at mem + 16 * qmax, the used ring at mem + used_off; at most qmax entries. The available
 * ring carries VIRTQ_AVAIL_F_NO_INTERRUPT. 0 on success; with a name, failures are printed. */
int vpci_setup_queue(struct vpci *t, struct vpci_vq *q, u16 index, u8 *mem, u16 qmax, u32 used_off, const char *name);
/* Writes descriptor i (§2.6.5). */
void vpci_set_desc(struct vpci_vq *q, u16 i, u64 addr, u32 len, u16 flags, u16 next);
/* Puts head on the available ring and publishes the new index (§2.6.13); no notification. */
void vpci_offer(struct vpci_vq *q, u16 head);
/* Notifies the device about queue index (§4.1.5.2). */
static inline void vpci_notify(struct vpci_vq *q, u16 index) { *(volatile u16 *)q->notify = index; }
#endif
