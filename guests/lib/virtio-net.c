/* The polling virtio-net driver of virtio-net.h. */
#include "virtio-net.h"

static inline u8 r8(volatile u8 *b, u32 o) { return *(volatile u8 *)(b + o); }
static inline u16 r16(volatile u8 *b, u32 o) { return *(volatile u16 *)(b + o); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

/* Ring memory: two queues of VNET_QSIZE, per-buffer storage for receive and transmit. */
static u8 ring_mem[2][4096 * 2] __attribute__((aligned(4096)));
static u8 rx_bufs[VNET_QSIZE][VNET_BUF] __attribute__((aligned(16)));
static u8 tx_buf[VNET_BUF] __attribute__((aligned(16)));

int vnet_init(struct vnet *n, int index) {
  memset(n, 0, sizeof *n);
  int found = vpci_find(0x10411af4, index);
  if (found < 0) { printf("virtio-net: no device\n"); return -1; }
  n->dev = (u8)found;
  vpci_map_high();
  struct vpci *t = &n->t;
  if (vpci_caps(t, n->dev)) { printf("virtio-net: no capability list\n"); return -2; }
  n->common = t->common; n->isr = t->isr; n->devcfg = t->devcfg;
  if (!n->common || !t->notify || !n->devcfg) { printf("virtio-net: missing capabilities\n"); return -3; }
  vpci_enable(t);
  u32 f0;
  int rc = vpci_negotiate(t, (1u << 5) | (1u << 16), &f0, 1, "virtio-net"); /* MAC, STATUS */
  if (rc) return rc == -1 ? -4 : -5;
  if (vpci_setup_queue(t, &n->rx, 0, ring_mem[0], VNET_QSIZE, 4096, "virtio-net") ||
      vpci_setup_queue(t, &n->tx, 1, ring_mem[1], VNET_QSIZE, 4096, "virtio-net")) return -6;
  for (u16 i = 0; i < n->rx.size; i++) {
    vpci_set_desc(&n->rx, i, (u64)rx_bufs[i], VNET_BUF, 2 /* WRITE */, 0);
    vpci_offer(&n->rx, i);
  }
  vpci_driver_ok(t);
  vpci_notify(&n->rx, 0);
  for (int i = 0; i < 6; i++) n->mac[i] = r8(n->devcfg, (u32)i);
  n->link_up = (f0 & (1u << 16)) ? (r16(n->devcfg, 6) & 1) : 1;
  return 0;
}

int vnet_send(struct vnet *n, const void *frame, u32 len) {
  struct vpci_vq *q = &n->tx;
  if (len + VNET_HDR > VNET_BUF) return -1;
  /* one transmit buffer: wait for the device to hand back the previous frame */
  for (u32 spin = 0; *(volatile u16 *)(q->used + 2) != q->avail_idx; spin++) {
    if (spin > 10000000) return -2;
  }
  memset(tx_buf, 0, VNET_HDR);
  memcpy(tx_buf + VNET_HDR, frame, len);
  vpci_set_desc(q, 0, (u64)tx_buf, VNET_HDR + len, 0, 0);
  vpci_offer(q, 0);
  vpci_notify(q, 1);
  return 0;
}

u32 vnet_recv(struct vnet *n, void *buf, u32 cap) {
  struct vpci_vq *q = &n->rx;
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
  if (id < q->size) { vpci_offer(q, (u16)id); vpci_notify(q, 0); }
  return got;
}
