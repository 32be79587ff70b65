/* The polling virtio-net driver of virtio-net.h. */
#include "virtio-net.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

static u32 pci_read(u8 dev, u8 reg) {
  outl(PCI_ADDR, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc));
  return inl(PCI_DATA);
}
static void pci_write(u8 dev, u8 reg, u32 v) {
  outl(PCI_ADDR, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc));
  outl(PCI_DATA, v);
}

/* The boot code maps the first GiB; BARs live at 3-4 GiB. Map that range with 2 MiB
 * uncached pages unless another helper (apic.h) already did. */
static u64 vnet_high_pd[512] __attribute__((aligned(4096)));
static void map_high_once(void) {
  u64 cr3;
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  u64 *pml4 = (u64 *)(cr3 & ~0xfffUL);
  u64 *pdpt = (u64 *)(pml4[0] & ~0xfffUL);
  if (pdpt[3] & 1) return;
  for (int i = 0; i < 512; i++) vnet_high_pd[i] = (0xc0000000UL + ((u64)i << 21)) | 0x9b;
  pdpt[3] = (u64)vnet_high_pd | 3;
  __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

static inline void w8(volatile u8 *b, u32 o, u8 v) { *(volatile u8 *)(b + o) = v; }
static inline void w16(volatile u8 *b, u32 o, u16 v) { *(volatile u16 *)(b + o) = v; }
static inline void w32(volatile u8 *b, u32 o, u32 v) { *(volatile u32 *)(b + o) = v; }
static inline u8 r8(volatile u8 *b, u32 o) { return *(volatile u8 *)(b + o); }
static inline u16 r16(volatile u8 *b, u32 o) { return *(volatile u16 *)(b + o); }
static inline u32 r32(volatile u8 *b, u32 o) { return *(volatile u32 *)(b + o); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* Ring memory: two queues of VNET_QSIZE, per-buffer storage for receive and transmit. */
static u8 ring_mem[2][4096 * 2] __attribute__((aligned(4096)));
static u8 rx_bufs[VNET_QSIZE][VNET_BUF] __attribute__((aligned(16)));
static u8 tx_buf[VNET_BUF] __attribute__((aligned(16)));

static void set_desc(struct vnet_vq *q, u16 i, u64 addr, u32 len, u16 flags, u16 next) {
  volatile u8 *d = q->desc + 16 * i;
  *(volatile u64 *)d = addr;
  *(volatile u32 *)(d + 8) = len;
  *(volatile u16 *)(d + 12) = flags;
  *(volatile u16 *)(d + 14) = next;
}

static void offer(struct vnet_vq *q, u16 head) {
  q->avail[2 + (q->avail_idx % q->size)] = head;
  barrier();
  q->avail_idx++;
  q->avail[1] = q->avail_idx;
  barrier();
}

static int setup_queue(struct vnet *n, struct vnet_vq *q, u16 index, u8 *mem, volatile u8 *notify_base, u32 mult) {
  volatile u8 *c = n->common;
  w16(c, 0x16, index);
  u16 max = r16(c, 0x18);
  if (max == 0) { printf("virtio-net: queue %u does not exist\n", index); return -1; }
  q->size = max < VNET_QSIZE ? max : VNET_QSIZE;
  q->desc = mem;
  q->avail = (volatile u16 *)(mem + 16 * VNET_QSIZE);
  q->used = mem + 4096;
  q->last_used = 0;
  q->avail_idx = 0;
  q->avail[0] = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT: we poll */
  w16(c, 0x18, q->size);
  w32(c, 0x20, (u32)(u64)q->desc); w32(c, 0x24, 0);
  w32(c, 0x28, (u32)(u64)q->avail); w32(c, 0x2c, 0);
  w32(c, 0x30, (u32)(u64)q->used); w32(c, 0x34, 0);
  q->notify = notify_base + (u32)r16(c, 0x1e) * mult;
  w16(c, 0x1c, 1);
  if (r16(c, 0x1c) != 1) { printf("virtio-net: queue %u was not enabled\n", index); return -1; }
  return 0;
}

int vnet_init(struct vnet *n, int index) {
  memset(n, 0, sizeof *n);
  int found = -1;
  for (u8 dev = 0; dev < 32; dev++) {
    if (pci_read(dev, 0) == 0x10411af4 && index-- == 0) { found = dev; break; }
  }
  if (found < 0) { printf("virtio-net: no device\n"); return -1; }
  n->dev = (u8)found;
  map_high_once();
  volatile u8 *notify_base = 0;
  u32 mult = 0;
  if (!(pci_read(n->dev, 0x04) & (0x10u << 16))) { printf("virtio-net: no capability list\n"); return -2; }
  for (u8 p = (u8)pci_read(n->dev, 0x34); p; p = (u8)(pci_read(n->dev, p) >> 8)) {
    u32 h = pci_read(n->dev, p);
    if ((h & 0xff) != 0x09) continue;
    u8 type = (u8)(h >> 24);
    u8 bar = (u8)pci_read(n->dev, p + 4);
    u32 off = pci_read(n->dev, p + 8);
    u32 lo = pci_read(n->dev, 0x10 + 4 * bar);
    u64 base = lo & ~0xfu;
    if ((lo & 6) == 4) base |= (u64)pci_read(n->dev, 0x14 + 4 * bar) << 32;
    volatile u8 *at = (volatile u8 *)(base + off);
    if (type == 1) n->common = at;
    else if (type == 2) { notify_base = at; mult = pci_read(n->dev, p + 16); }
    else if (type == 3) n->isr = at;
    else if (type == 4) n->devcfg = at;
  }
  if (!n->common || !notify_base || !n->devcfg) { printf("virtio-net: missing capabilities\n"); return -3; }
  pci_write(n->dev, 0x04, (pci_read(n->dev, 0x04) & 0xffff) | 0x6); /* memory space + bus master */
  volatile u8 *c = n->common;
  w8(c, 0x14, 0);          /* reset */
  w8(c, 0x14, 1 | 2);      /* ACKNOWLEDGE | DRIVER */
  w32(c, 0x00, 0);
  u32 f0 = r32(c, 0x04);
  w32(c, 0x00, 1);
  u32 f1 = r32(c, 0x04);
  if (!(f1 & 1)) { printf("virtio-net: no VERSION_1\n"); return -4; }
  w32(c, 0x08, 0); w32(c, 0x0c, f0 & ((1u << 5) | (1u << 16))); /* MAC, STATUS */
  w32(c, 0x08, 1); w32(c, 0x0c, 1);                              /* VERSION_1 */
  w8(c, 0x14, 1 | 2 | 8);
  if (!(r8(c, 0x14) & 8)) { printf("virtio-net: FEATURES_OK refused\n"); return -5; }
  if (setup_queue(n, &n->rx, 0, ring_mem[0], notify_base, mult) || setup_queue(n, &n->tx, 1, ring_mem[1], notify_base, mult)) return -6;
  for (u16 i = 0; i < n->rx.size; i++) {
    set_desc(&n->rx, i, (u64)rx_bufs[i], VNET_BUF, 2 /* WRITE */, 0);
    offer(&n->rx, i);
  }
  w8(c, 0x14, 1 | 2 | 8 | 4); /* DRIVER_OK */
  w16(n->rx.notify, 0, 0);
  for (int i = 0; i < 6; i++) n->mac[i] = r8(n->devcfg, (u32)i);
  n->link_up = (f0 & (1u << 16)) ? (r16(n->devcfg, 6) & 1) : 1;
  return 0;
}

int vnet_send(struct vnet *n, const void *frame, u32 len) {
  struct vnet_vq *q = &n->tx;
  if (len + VNET_HDR > VNET_BUF) return -1;
  /* one transmit buffer: wait for the device to hand back the previous frame */
  for (u32 spin = 0; *(volatile u16 *)(q->used + 2) != q->avail_idx; spin++) {
    if (spin > 10000000) return -2;
  }
  memset(tx_buf, 0, VNET_HDR);
  memcpy(tx_buf + VNET_HDR, frame, len);
  set_desc(q, 0, (u64)tx_buf, VNET_HDR + len, 0, 0);
  offer(q, 0);
  w16(q->notify, 0, 1);
  return 0;
}

u32 vnet_recv(struct vnet *n, void *buf, u32 cap) {
  struct vnet_vq *q = &n->rx;
  u16 used = *(volatile u16 *)(q->used + 2);
  if (used == q->last_used) return 0;
  barrier();
  volatile u8 *e = q->used + 4 + 8 * (q->last_used % q->size);
  u32 id = *(volatile u32 *)e, len = *(volatile u32 *)(e + 4);
  q->last_used++;
  u32 got = 0;
  if (id < q->size && len > VNET_HDR) {
    got = len - VNET_HDR;
    if (got > cap) got = cap;
    memcpy(buf, rx_bufs[id] + VNET_HDR, got);
  }
  if (id < q->size) { offer(q, (u16)id); w16(q->notify, 0, 0); }
  return got;
}
