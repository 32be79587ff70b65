/* The PowerShell Direct agent of agent.h: virtio-vsock driver and vsock stream; the NVPD codec is lib/nvpd.c. */
#include "agent.h"

#define HDR 44
#define QS 16
#define RXBUF 2048
#define TXBUF (HDR + 4096)
#define FRAME_HDR NVPD_HDR
#define MAGIC NVPD_MAGIC
enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQUEST };

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static u8 ring_mem[2][4096] __attribute__((aligned(4096)));
static u8 rx_bufs[QS][RXBUF] __attribute__((aligned(16)));
static u8 tx_buf[TXBUF] __attribute__((aligned(16)));
static struct agent_req req_scratch;
static struct agent_reply reply_scratch;

int agent_init(struct agent *a) {
  int dev = vpci_find(0x10531af4u, 0);
  if (dev < 0) return -1;
  a->dev = (u8)dev;
  vpci_map_high();
  struct vpci *t = &a->t;
  vpci_caps(t, a->dev);
  if (!t->common || !t->notify) return -2;
  if (t->devcfg) a->cid = *(volatile u32 *)t->devcfg; /* guest_cid, §5.10.4 */
  vpci_enable(t);
  a->common = t->common;
  if (vpci_negotiate(t, 0, 0, 0, 0)) return -3;
  /* ring memory: one page per queue, avail at 256, used at 512 */
  if (vpci_setup_queue(t, &a->rx, 0, ring_mem[0], QS, 512, 0) || vpci_setup_queue(t, &a->tx, 1, ring_mem[1], QS, 512, 0)) return -4;
  for (u16 i = 0; i < a->rx.size; i++) { vpci_set_desc(&a->rx, i, (u64)rx_bufs[i], RXBUF, 2 /* WRITE */, 0); vpci_offer(&a->rx, i); }
  vpci_driver_ok(t);
  vpci_notify(&a->rx, 0);
  a->connected = 0;
  return 0;
}

/* ---- vsock packets ---- */

static void put32(u8 *b, u32 v) { b[0] = (u8)v; b[1] = (u8)(v >> 8); b[2] = (u8)(v >> 16); b[3] = (u8)(v >> 24); }
static u32 get32(const u8 *b) { return b[0] | (b[1] << 8) | (b[2] << 16) | ((u32)b[3] << 24); }
static u16 get16(const u8 *b) { return (u16)(b[0] | (b[1] << 8)); }

static void send_pkt(struct agent *a, u32 dst_port, u16 op, u32 flags, const u8 *data, u32 len) {
  struct vpci_vq *q = &a->tx;
  memset(tx_buf, 0, HDR);
  put32(tx_buf + 0, (u32)a->cid); put32(tx_buf + 8, 2);
  put32(tx_buf + 16, AGENT_PORT); put32(tx_buf + 20, dst_port);
  put32(tx_buf + 24, len);
  tx_buf[28] = 1;                            /* VIRTIO_VSOCK_TYPE_STREAM */
  tx_buf[30] = (u8)op;
  put32(tx_buf + 32, flags);
  put32(tx_buf + 36, AGENT_INBUF);
  put32(tx_buf + 40, a->fwd_cnt);
  if (len) memcpy(tx_buf + HDR, data, len);
  vpci_set_desc(q, 0, (u64)tx_buf, HDR + len, 0, 0);
  vpci_offer(q, 0);
  vpci_notify(q, 1);
  /* the device takes the chain during the notify write; wait in case it did not */
  for (int spin = 0; get16((const u8 *)q->used + 2) != (u16)(q->last_used + 1) && spin < 1000000; spin++) __asm__ volatile("pause");
  q->last_used = get16((const u8 *)q->used + 2);
  if (op == OP_RW) a->tx_cnt += len;
}

static void send_stream(struct agent *a, const u8 *data, u32 len) {
  for (u32 o = 0; o < len;) {
    u32 k = len - o > 4096 ? 4096 : len - o;
    send_pkt(a, a->peer_port, OP_RW, 0, data + o, k);
    o += k;
  }
}

/* ---- frames ---- */

static u8 frame_out[FRAME_HDR + AGENT_REPLY_MAX];

static void send_frame(struct agent *a, u8 type, u32 id, const u8 *payload, u32 len) {
  nvpd_put_header(frame_out, type, id, len);
  memcpy(frame_out + FRAME_HDR, payload, len);
  send_stream(a, frame_out, FRAME_HDR + len);
}

static void fault(struct agent *a, u32 id, const char *msg) {
  struct agent_reply *r = &reply_scratch;
  r->n = 0; r->overflow = 0;
  nvpd_wstr(r, msg);
  send_frame(a, F_FAULT, id, r->buf, r->n);
}

void agent_respond(struct agent *a, u32 id, const u8 *payload, u32 len) {
  if (a->connected && len <= AGENT_REPLY_MAX) send_frame(a, F_RESPONSE, id, payload, len);
}

static void handle_frame(struct agent *a, u8 type, u32 id, const u8 *p, u32 n) {
  struct agent_reply *r = &reply_scratch;
  r->n = 0; r->items = 0; r->propcount_at = 0; r->overflow = 0;
  if (type == F_HELLO) {
    nvpd_wstr(r, a->name);
    int k = 0;
    while (a->commands[k]) k++;
    nvpd_wu8(r, (u8)k);
    for (int i = 0; i < k; i++) nvpd_wstr(r, a->commands[i]);
    send_frame(a, F_HELLO_REPLY, id, r->buf, r->n);
    return;
  }
  if (type != F_REQUEST) { a->bad_frames++; fault(a, id, "unexpected frame type"); return; }
  struct agent_req *req = &req_scratch;
  req->id = id;
  if (!agent_parse_request(p, n, req)) { a->bad_frames++; fault(a, id, "unreadable request"); return; }
  a->requests++;
  agent_reply_begin(r);
  a->handler(req, r, a->ctx);
  if (r->deferred) return; /* the handler answers later with agent_respond (a relayed request) */
  agent_reply_end(r);
  send_frame(a, F_RESPONSE, id, r->buf, r->n);
}

/* Consumes whole frames from the connection's input; returns -1 when the stream lost sync. */
static int consume(struct agent *a) {
  u32 o = 0;
  int rc = 0;
  while (a->inlen - o >= FRAME_HDR) {
    const u8 *f = a->inbuf + o;
    u32 len = get32(f + 12);
    if (get32(f) != MAGIC || f[4] != 1 || f[6] || f[7] || len > AGENT_INBUF - FRAME_HDR) { rc = -1; o = a->inlen; break; }
    if (a->inlen - o < FRAME_HDR + len) break;
    handle_frame(a, f[5], get32(f + 8), f + FRAME_HDR, len);
    o += FRAME_HDR + len;
  }
  if (o) {
    for (u32 i = 0; i < a->inlen - o; i++) a->inbuf[i] = a->inbuf[o + i];  /* overlapping move down */
    a->inlen -= o;
    a->fwd_cnt += o;
    if (a->connected) send_pkt(a, a->peer_port, OP_CREDIT_UPDATE, 0, 0, 0);
  }
  return rc;
}

static void packet(struct agent *a, const u8 *p, u32 n) {
  if (n < HDR || get32(p + 24) != n - HDR || get32(p + 20) != AGENT_PORT || get16(p + 28) != 1) { a->bad_packets++; return; }
  a->packets++;
  u32 src_port = get32(p + 16);
  u16 op = get16(p + 30);
  if (op == OP_REQUEST) {
    /* one session at a time: a new host connection replaces the old one */
    a->connected = 1; a->peer_port = src_port; a->inlen = 0; a->tx_cnt = 0; a->fwd_cnt = 0;
    a->peer_buf_alloc = get32(p + 36); a->peer_fwd_cnt = get32(p + 40);
    send_pkt(a, src_port, OP_RESPONSE, 0, 0, 0);
    return;
  }
  if (!a->connected || src_port != a->peer_port) {
    if (op != OP_RST) send_pkt(a, src_port, OP_RST, 0, 0, 0);
    return;
  }
  a->peer_buf_alloc = get32(p + 36); a->peer_fwd_cnt = get32(p + 40);
  switch (op) {
    case OP_RW: {
      u32 len = n - HDR;
      if (a->inlen + len > AGENT_INBUF) { a->bad_packets++; send_pkt(a, src_port, OP_RST, 0, 0, 0); a->connected = 0; return; }
      memcpy(a->inbuf + a->inlen, p + HDR, len);
      a->inlen += len;
      if (consume(a) < 0) { a->bad_frames++; send_pkt(a, src_port, OP_RST, 0, 0, 0); a->connected = 0; }
      return;
    }
    case OP_SHUTDOWN: send_pkt(a, src_port, OP_RST, 0, 0, 0); a->connected = 0; return;
    case OP_RST: a->connected = 0; return;
    case OP_CREDIT_REQUEST: send_pkt(a, src_port, OP_CREDIT_UPDATE, 0, 0, 0); return;
    default: return;
  }
}

int agent_poll(struct agent *a) {
  struct vpci_vq *q = &a->rx;
  int k = 0;
  while (q->last_used != get16((const u8 *)q->used + 2)) {
    barrier();
    const u8 *e = (const u8 *)q->used + 4 + 8 * (q->last_used % q->size);
    u32 id = get32(e), len = get32(e + 4);
    q->last_used++;
    if (id < q->size && len <= RXBUF) packet(a, rx_bufs[id], len); else a->bad_packets++;
    if (id < q->size) { vpci_set_desc(q, (u16)id, (u64)rx_bufs[id], RXBUF, 2, 0); vpci_offer(q, (u16)id); }
    k++;
  }
  if (k) vpci_notify(q, 0);
  return k;
}

void agent_serve(struct agent *a) {
  for (;;) if (!agent_poll(a)) __asm__ volatile("pause");
}
