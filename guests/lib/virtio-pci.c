/* The virtio 1.x PCI transport of virtio-pci.h. */
#include "virtio-pci.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

u32 vpci_read(u8 dev, u8 reg) {
  outl(PCI_ADDR, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc));
  return inl(PCI_DATA);
}
void vpci_write(u8 dev, u8 reg, u32 v) {
  outl(PCI_ADDR, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc));
  outl(PCI_DATA, v);
}

int vpci_find(u32 id, int index) {
  for (u8 dev = 0; dev < 32; dev++) {
    if (vpci_read(dev, 0) == id && index-- == 0) return dev;
  }
  return -1;
}

static u64 vpci_high_pd[512] __attribute__((aligned(4096)));
void vpci_map_high(void) {
  u64 cr3;
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  u64 *pml4 = (u64 *)(cr3 & ~0xfffUL);
  u64 *pdpt = (u64 *)(pml4[0] & ~0xfffUL);
  if (pdpt[3] & 1) return;
  for (int i = 0; i < 512; i++) vpci_high_pd[i] = (0xc0000000UL + ((u64)i << 21)) | 0x9b; /* P W PWT PCD PS */
  pdpt[3] = (u64)vpci_high_pd | 3;
  __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static inline void w8(volatile u8 *b, u32 o, u8 v) { *(volatile u8 *)(b + o) = v; }
static inline void w16(volatile u8 *b, u32 o, u16 v) { *(volatile u16 *)(b + o) = v; }
static inline void w32(volatile u8 *b, u32 o, u32 v) { *(volatile u32 *)(b + o) = v; }
static inline u8 r8(volatile u8 *b, u32 o) { return *(volatile u8 *)(b + o); }
static inline u16 r16(volatile u8 *b, u32 o) { return *(volatile u16 *)(b + o); }
static inline u32 r32(volatile u8 *b, u32 o) { return *(volatile u32 *)(b + o); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

int vpci_caps(struct vpci *t, u8 dev) {
  memset(t, 0, sizeof *t);
  t->dev = dev;
  if (!(vpci_read(dev, 0x04) & (0x10u << 16))) return -1; /* status: capabilities list */
  for (u8 p = (u8)vpci_read(dev, 0x34) & 0xfc; p; p = (u8)(vpci_read(dev, p) >> 8) & 0xfc) {
    u32 h = vpci_read(dev, p);
    if ((h & 0xff) != 0x09) continue; /* vendor-specific: struct virtio_pci_cap */
    u8 type = (u8)(h >> 24);
    u8 bar = (u8)vpci_read(dev, p + 4);
    u32 off = vpci_read(dev, p + 8);
    u32 lo = vpci_read(dev, 0x10 + 4 * bar);
    u64 base = lo & ~0xfu;
    if ((lo & 6) == 4) base |= (u64)vpci_read(dev, 0x14 + 4 * bar) << 32;
    volatile u8 *at = (volatile u8 *)(base + off);
    if (type == 1) t->common = at;
    else if (type == 2) { t->notify = at; t->notify_mult = vpci_read(dev, p + 16); }
    else if (type == 3) t->isr = at;
    else if (type == 4) t->devcfg = at;
  }
  return 0;
}

void vpci_enable(const struct vpci *t) {
  vpci_write(t->dev, 0x04, (vpci_read(t->dev, 0x04) & 0xffff) | 0x6); /* memory space + bus master */
}

int vpci_negotiate(struct vpci *t, u32 want0, u32 *got0, int need_v1, const char *name) {
  volatile u8 *c = t->common;
  w8(c, 0x14, 0);          /* reset */
  w8(c, 0x14, 1 | 2);      /* ACKNOWLEDGE | DRIVER */
  w32(c, 0x00, 0);
  u32 f0 = r32(c, 0x04) & want0;
  w32(c, 0x00, 1);
  u32 f1 = r32(c, 0x04);
  if (need_v1 && !(f1 & 1)) { if (name) printf("%s: no VERSION_1\n", name); return -1; }
  w32(c, 0x08, 0); w32(c, 0x0c, f0);
  w32(c, 0x08, 1); w32(c, 0x0c, 1); /* VIRTIO_F_VERSION_1 (bit 32) */
  w8(c, 0x14, 1 | 2 | 8);
  if (!(r8(c, 0x14) & 8)) { if (name) printf("%s: FEATURES_OK refused\n", name); return -2; }
  if (got0) *got0 = f0;
  return 0;
}

void vpci_driver_ok(struct vpci *t) { w8(t->common, 0x14, 1 | 2 | 8 | 4); }

int vpci_setup_queue(struct vpci *t, struct vpci_vq *q, u16 index, u8 *mem, u16 qmax, u32 used_off, const char *name) {
  volatile u8 *c = t->common;
  w16(c, 0x16, index);
  u16 max = r16(c, 0x18);
  if (max == 0) { if (name) printf("%s: queue %u does not exist\n", name, index); return -1; }
  q->size = max < qmax ? max : qmax;
  q->desc = mem;
  q->avail = (volatile u16 *)(mem + 16 * qmax);
  q->used = mem + used_off;
  q->last_used = 0;
  q->avail_idx = 0;
  q->avail[0] = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT: we poll */
  w16(c, 0x18, q->size);
  w32(c, 0x20, (u32)(u64)q->desc); w32(c, 0x24, 0);
  w32(c, 0x28, (u32)(u64)q->avail); w32(c, 0x2c, 0);
  w32(c, 0x30, (u32)(u64)q->used); w32(c, 0x34, 0);
  q->notify = t->notify + (u32)r16(c, 0x1e) * t->notify_mult;
  w16(c, 0x1c, 1);
  if (r16(c, 0x1c) != 1) { if (name) printf("%s: queue %u was not enabled\n", name, index); return -1; }
  return 0;
}

void vpci_set_desc(struct vpci_vq *q, u16 i, u64 addr, u32 len, u16 flags, u16 next) {
  volatile u8 *d = q->desc + 16 * i;
  *(volatile u64 *)d = addr;
  *(volatile u32 *)(d + 8) = len;
  *(volatile u16 *)(d + 12) = flags;
  *(volatile u16 *)(d + 14) = next;
}

void vpci_offer(struct vpci_vq *q, u16 head) {
  q->avail[2 + (q->avail_idx % q->size)] = head;
  barrier();
  q->avail_idx++;
  q->avail[1] = q->avail_idx;
  barrier();
}
