/* The small IPv4 client stack of tcpip.h. */
#include "tcpip.h"

#ifndef POLL_RTO
#define POLL_RTO 300000u   /* polls without progress before a retransmission */
#endif
/* (minivisor's L2 builds this file with a smaller POLL_RTO: each of its polls is a VM exit) */
#define MAX_TRIES 10
#define MSS 1460
#define RCV_WND (6 * MSS)  /* stays well inside the 16 receive buffers of the driver */

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

static struct vnet *nic;
static struct ip_cfg cfg;
static u8 txf[1600], rxf[1600];
static u16 ip_id = 1;

static struct { u32 ip; u8 mac[6]; } arp_cache[4];
static u32 arp_n;
static u32 echo_replies;
static u16 dns_id, dns_port = 40053;
static int dns_done;
static int dns_rcode;
static u32 dns_addr;

/* the one TCP connection */
enum { T_CLOSED, T_SYN_SENT, T_OPEN, T_LISTEN, T_SYN_RCVD };
static struct {
  int state;
  u32 ip;
  u16 lport, rport;
  u32 iss, snd_una, snd_nxt, snd_max, snd_end, rcv_nxt;
  u32 peer_wnd;
  int fin_sent;
  const u8 *data;
  struct tcp_result *r;
} tc;
static u16 next_port = 49152;

static inline void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline void put32(u8 *p, u32 v) { put16(p, (u16)(v >> 16)); put16(p + 2, (u16)v); }
static inline u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 get32(const u8 *p) { return (u32)get16(p) << 16 | get16(p + 2); }
static inline int seq_lt(u32 a, u32 b) { return (int)(a - b) < 0; }
static inline int seq_le(u32 a, u32 b) { return (int)(a - b) <= 0; }

static const u8 BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void print_ip4(u32 ip) { printf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255); }
const u8 *ip_mac(void) { return nic->mac; }

static int on_link(u32 ip) {
  u32 mask = cfg.prefix_len ? ~0u << (32 - cfg.prefix_len) : 0;
  return (ip & mask) == (cfg.ip & mask);
}

static void eth_send(const u8 *dst, u16 type, u32 payload_len) {
  memcpy(txf, dst, 6); memcpy(txf + 6, nic->mac, 6); put16(txf + 12, type);
  vnet_send(nic, txf, 14 + payload_len);
}

static void arp_send(u16 op, const u8 *eth_dst, const u8 *tha, u32 tpa) {
  u8 *a = txf + 14;
  put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, op);
  memcpy(a + 8, nic->mac, 6); put32(a + 14, cfg.ip); memcpy(a + 18, tha, 6); put32(a + 24, tpa);
  eth_send(eth_dst, 0x0806, 28);
}

static int arp_lookup(u32 ip, u8 mac[6]) {
  for (u32 i = 0; i < arp_n; i++) if (arp_cache[i].ip == ip) { memcpy(mac, arp_cache[i].mac, 6); return 0; }
  return -1;
}

static void arp_learn(u32 ip, const u8 *mac) {
  for (u32 i = 0; i < arp_n; i++) if (arp_cache[i].ip == ip) { memcpy(arp_cache[i].mac, mac, 6); return; }
  u32 i = arp_n < 4 ? arp_n++ : 3;
  arp_cache[i].ip = ip; memcpy(arp_cache[i].mac, mac, 6);
}

int arp_resolve(u32 ip, u8 mac[6]) {
  static const u8 zero[6];
  u32 hop = on_link(ip) ? ip : cfg.gw;
  for (int t = 0; t < 5; t++) {
    if (!arp_lookup(hop, mac)) return 0;
    arp_send(1, BCAST, zero, hop);
    for (u32 i = 0; i < POLL_RTO && arp_lookup(hop, mac); i++) ip_poll();
  }
  return arp_lookup(hop, mac);
}

/* IPv4 header + payload already at txf+14+20; sends to ip's next hop. */
static int ip_send(u32 dst, u8 proto, u32 len) {
  u8 mac[6];
  u8 *ip = txf + 14;
  /* the payload is in place: callers resolved the next hop first (an ARP request would reuse txf) */
  if (arp_lookup(on_link(dst) ? dst : cfg.gw, mac)) return -1;
  memset(ip, 0, 20);
  ip[0] = 0x45; put16(ip + 2, (u16)(20 + len)); put16(ip + 4, ip_id++); put16(ip + 6, 0x4000); ip[8] = 64; ip[9] = proto;
  put32(ip + 12, cfg.ip); put32(ip + 16, dst);
  put16(ip + 10, net_checksum(ip, 20, 0));
  eth_send(mac, 0x0800, 20 + len);
  return 0;
}

static u32 pseudo_sum(u32 src, u32 dst, u8 proto, u32 len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

u32 icmp_ping(u32 dst, u32 count) {
  static const u8 payload[32] = "nestvisor net-http ping 01234567";
  u8 mac[6];
  if (arp_resolve(dst, mac)) return 0;
  u32 before = echo_replies;
  for (u32 s = 1; s <= count; s++) {
    u8 *icmp = txf + 14 + 20;
    icmp[0] = 8; icmp[1] = 0; put16(icmp + 2, 0); put16(icmp + 4, 0x4e48); put16(icmp + 6, (u16)s);
    memcpy(icmp + 8, payload, sizeof payload);
    put16(icmp + 2, net_checksum(icmp, 8 + sizeof payload, 0));
    ip_send(dst, 1, 8 + sizeof payload);
    for (u32 i = 0; i < POLL_RTO && echo_replies - before < s; i++) ip_poll();
  }
  return echo_replies - before;
}

static void udp_send(u32 dst, u16 sport, u16 dport, const u8 *data, u32 len) {
  u8 *u = txf + 14 + 20;
  put16(u, sport); put16(u + 2, dport); put16(u + 4, (u16)(8 + len)); put16(u + 6, 0);
  memcpy(u + 8, data, len);
  u16 c = net_checksum(u, 8 + len, pseudo_sum(cfg.ip, dst, 17, 8 + len));
  put16(u + 6, c ? c : 0xffff);
  ip_send(dst, 17, 8 + len);
}

int dns_query_a(const char *name, u32 *out) {
  static u8 q[300];
  u8 mac[6];
  if (arp_resolve(cfg.dns, mac)) return -1;
  u32 n = 12;
  memset(q, 0, 12);
  dns_id = (u16)(0x4e00 + dns_port);
  put16(q, dns_id); put16(q + 2, 0x0100); put16(q + 4, 1);
  for (const char *s = name; *s;) {
    const char *e = s;
    while (*e && *e != '.') e++;
    u32 l = (u32)(e - s);
    if (l == 0 || l > 63 || n + l + 6 > sizeof q) return -2;
    q[n++] = (u8)l; memcpy(q + n, s, l); n += l;
    s = *e ? e + 1 : e;
  }
  q[n++] = 0; put16(q + n, 1); put16(q + n + 2, 1); n += 4;
  dns_done = 0;
  for (int t = 0; t < 5 && !dns_done; t++) {
    udp_send(cfg.dns, dns_port, 53, q, n);
    for (u32 i = 0; i < 4 * POLL_RTO && !dns_done; i++) ip_poll();
  }
  if (!dns_done) return -1;
  if (dns_rcode == 3) return -3;
  if (dns_rcode != 0 || !dns_addr) return -4;
  *out = dns_addr;
  return 0;
}

static void dns_answer(const u8 *d, u32 len) {
  if (len < 12 || get16(d) != dns_id || !(d[2] & 0x80)) return;
  dns_rcode = d[3] & 15;
  dns_addr = 0;
  u32 qd = get16(d + 4), an = get16(d + 6), o = 12;
  for (u32 i = 0; i < qd; i++) {
    while (o < len && d[o] && !(d[o] & 0xc0)) o += d[o] + 1u;
    o += (o < len && (d[o] & 0xc0)) ? 2 : 1;
    o += 4;
  }
  for (u32 i = 0; i < an && o + 10 <= len; i++) {
    while (o < len && d[o] && !(d[o] & 0xc0)) o += d[o] + 1u;
    o += (o < len && (d[o] & 0xc0)) ? 2 : 1;
    if (o + 10 > len) break;
    u16 type = get16(d + o), rdlen = get16(d + o + 8);
    o += 10;
    if (o + rdlen > len) break;
    if (type == 1 && rdlen == 4) { dns_addr = get32(d + o); break; }
    o += rdlen;
  }
  dns_done = 1;
}

/* ---- TCP ---- */

static void tcp_send(u8 flags, u32 seq, const u8 *data, u32 len, int pattern_off) {
  u8 *t = txf + 14 + 20;
  u32 hl = (flags & F_SYN) ? 24 : 20;
  put16(t, tc.lport); put16(t + 2, tc.rport); put32(t + 4, seq); put32(t + 8, (flags & F_ACK) ? tc.rcv_nxt : 0);
  t[12] = (u8)((hl / 4) << 4); t[13] = flags; put16(t + 14, RCV_WND); put16(t + 16, 0); put16(t + 18, 0);
  if (flags & F_SYN) { t[20] = 2; t[21] = 4; put16(t + 22, MSS); }
  if (len) {
    if (data) memcpy(t + hl, data, len);
    else for (u32 i = 0; i < len; i++) t[hl + i] = (u8)('A' + (u32)(pattern_off + (int)i) % 26);
  }
  put16(t + 16, net_checksum(t, hl + len, pseudo_sum(cfg.ip, tc.ip, 6, hl + len)));
  ip_send(tc.ip, 6, hl + len);
}

static void tcp_ack(void) { tcp_send(F_ACK, tc.snd_nxt, 0, 0, 0); }

/* In flight at most: a peer that ACKs every segment at once (the host's stack) must not
 * overflow our 16 receive buffers with ACKs while we are still sending. */
#define MAX_FLIGHT (8 * MSS)

/* Sends what the peer's window (and MAX_FLIGHT) allows from snd_nxt on. */
static void tcp_push(void) {
  u32 wnd = tc.peer_wnd < MAX_FLIGHT ? tc.peer_wnd : MAX_FLIGHT;
  while (seq_lt(tc.snd_nxt, tc.snd_end) && seq_le(tc.snd_nxt + 1, tc.snd_una + wnd)) {
    u32 off = tc.snd_nxt - (tc.iss + 1);
    u32 len = tc.snd_end - tc.snd_nxt;
    u32 room = tc.snd_una + wnd - tc.snd_nxt;
    if (len > MSS) len = MSS;
    if (len > room) len = room;
    tcp_send(F_ACK | F_PSH, tc.snd_nxt, tc.data ? tc.data + off : 0, len, (int)off);
    tc.snd_nxt += len;
    if (seq_lt(tc.snd_max, tc.snd_nxt)) tc.snd_max = tc.snd_nxt;
  }
}

static void tcp_input(u32 src, const u8 *t, u32 len) {
  if (tc.state == T_LISTEN || tc.state == T_SYN_RCVD) {
    if (get16(t + 2) != tc.lport || len < 20) return;
    u8 f = t[13];
    if ((f & (F_SYN | F_ACK | F_RST)) == F_SYN && (tc.state == T_LISTEN || (src == tc.ip && get16(t) == tc.rport))) {
      /* a SYN (or its retransmission): answer with SYN-ACK */
      tc.ip = src; tc.rport = get16(t); tc.rcv_nxt = get32(t + 4) + 1; tc.peer_wnd = get16(t + 14);
      tc.state = T_SYN_RCVD;
      tcp_send(F_SYN | F_ACK, tc.iss, 0, 0, 0);
      return;
    }
    if (tc.state != T_SYN_RCVD || src != tc.ip || get16(t) != tc.rport || !(f & F_ACK) || get32(t + 8) != tc.iss + 1) return;
    tc.snd_una = tc.snd_nxt = tc.snd_max = tc.snd_end = tc.iss + 1;
    tc.state = T_OPEN; /* the ACK may carry data: go on below */
  }
  if (tc.state == T_CLOSED || src != tc.ip || get16(t) != tc.rport || get16(t + 2) != tc.lport) return;
  u32 hl = (u32)(t[12] >> 4) * 4;
  if (hl < 20 || hl > len) return;
  u8 flags = t[13];
  u32 seq = get32(t + 4), ack = get32(t + 8);
  const u8 *data = t + hl;
  u32 dlen = len - hl;
  struct tcp_result *r = tc.r;
  if (tc.state == T_SYN_SENT) {
    if ((flags & F_ACK) && ack != tc.iss + 1) return;
    if (flags & F_RST) { if (flags & F_ACK) { r->refused = 1; tc.state = T_CLOSED; } return; }
    if ((flags & (F_SYN | F_ACK)) != (F_SYN | F_ACK)) return;
    tc.rcv_nxt = seq + 1;
    tc.snd_una = ack;
    tc.peer_wnd = get16(t + 14);
    tc.state = T_OPEN;
    tcp_ack();
    return;
  }
  if (flags & F_RST) { if (seq == tc.rcv_nxt) { r->reset = 1; tc.state = T_CLOSED; } return; }
  if ((flags & F_ACK) && seq_lt(tc.snd_una, ack) && seq_le(ack, tc.snd_max)) {
    tc.snd_una = ack;
    if (seq_lt(tc.snd_nxt, ack)) tc.snd_nxt = ack; /* after a go-back-N restart */
  }
  if (flags & F_ACK) tc.peer_wnd = get16(t + 14);
  if (tc.fin_sent && tc.snd_una == tc.snd_nxt) r->closed = 1;
  int need_ack = 0;
  if (dlen || (flags & F_FIN)) {
    need_ack = 1;
    if (seq == tc.rcv_nxt && !r->peer_closed) {
      for (u32 i = 0; i < dlen; i++) {
        if (r->len < r->cap) r->buf[r->len] = data[i];
        r->len++;
        r->hash = (r->hash ^ data[i]) * 16777619u;
      }
      tc.rcv_nxt += dlen;
      if (flags & F_FIN) { tc.rcv_nxt++; r->peer_closed = 1; }
    }
  }
  if (need_ack) tcp_ack();
  tcp_push();
}

static int tcp_run(u32 send_len, int close_after_send, struct tcp_result *r);

int tcp_exchange(u32 ip, u16 port, const u8 *data, u32 send_len, int close_after_send, struct tcp_result *r) {
  u8 mac[6];
  r->len = 0; r->hash = 2166136261u; r->refused = r->reset = r->peer_closed = r->closed = 0; r->retransmits = 0;
  if (arp_resolve(ip, mac)) return -1;
  memset(&tc, 0, sizeof tc);
  tc.ip = ip; tc.rport = port; tc.lport = next_port++; tc.r = r; tc.data = data;
  tc.iss = 0x4e560000u + ((u32)tc.lport << 4);
  tc.snd_una = tc.iss; tc.snd_nxt = tc.snd_max = tc.iss + 1;
  tc.state = T_SYN_SENT;
  for (int t = 0; t < MAX_TRIES && tc.state == T_SYN_SENT; t++) {
    if (t) r->retransmits++;
    tcp_send(F_SYN, tc.iss, 0, 0, 0);
    for (u32 i = 0; i < POLL_RTO && tc.state == T_SYN_SENT; i++) ip_poll();
  }
  if (tc.state != T_OPEN) { tc.state = T_CLOSED; return -2; }
  return tcp_run(send_len, close_after_send, r);
}

int tcp_serve(u16 port, struct tcp_result *r) {
  r->len = 0; r->hash = 2166136261u; r->refused = r->reset = r->peer_closed = r->closed = 0; r->retransmits = 0;
  memset(&tc, 0, sizeof tc);
  tc.lport = port; tc.r = r;
  tc.iss = 0x53560000u + ((u32)port << 4);
  tc.state = T_LISTEN;
  while (tc.state != T_OPEN) ip_poll();
  return tcp_run(0, 0, r);
}

/* The connection is open: send send_len bytes, receive, close (see tcp_exchange). */
static int tcp_run(u32 send_len, int close_after_send, struct tcp_result *r) {
  tc.snd_end = tc.snd_nxt + send_len;
  /* send everything (go-back-N on a timeout), receiving meanwhile */
  u32 idle = 0, tries = 0, last_una = tc.snd_una, last_rcv = tc.rcv_nxt;
  for (;;) {
    if (tc.state != T_OPEN) return 0;
    tcp_push();
    int sent_all = tc.snd_una == tc.snd_end;
    if (sent_all && (close_after_send || r->peer_closed)) break;
    ip_poll();
    if (tc.snd_una != last_una || tc.rcv_nxt != last_rcv) { last_una = tc.snd_una; last_rcv = tc.rcv_nxt; idle = 0; tries = 0; continue; }
    if (++idle < POLL_RTO) continue;
    idle = 0;
    if (++tries > MAX_TRIES) return 0;
    if (!sent_all) {
      /* go-back-N from the first unacknowledged byte; the first segment goes out even into a
       * closed window (a window probe, RFC 1122 4.2.2.17), so a lost window update cannot stall us */
      tc.snd_nxt = tc.snd_una;
      r->retransmits++;
      u32 len = tc.snd_end - tc.snd_una;
      if (len > MSS) len = MSS;
      u32 off = tc.snd_una - (tc.iss + 1);
      tcp_send(F_ACK | F_PSH, tc.snd_una, tc.data ? tc.data + off : 0, len, (int)off);
      tc.snd_nxt = tc.snd_una + len;
    }
    else tcp_ack(); /* waiting for the peer's data: repeat our ACK in case it was lost */
  }
  /* FIN, until it is acknowledged (and, when we close first, until the peer's FIN) */
  tc.fin_sent = 1;
  for (int t = 0; t < MAX_TRIES && tc.state == T_OPEN; t++) {
    if (t) r->retransmits++;
    tcp_send(F_FIN | F_ACK, tc.snd_end, 0, 0, 0);
    tc.snd_nxt = tc.snd_max = tc.snd_end + 1;
    for (u32 i = 0; i < POLL_RTO && tc.state == T_OPEN && !(r->closed && r->peer_closed); i++) ip_poll();
    if (r->closed && (r->peer_closed || !close_after_send)) break;
    if (r->closed && close_after_send) { /* our FIN is acked: wait a little for theirs */
      for (u32 i = 0; i < 4 * POLL_RTO && !r->peer_closed && tc.state == T_OPEN; i++) ip_poll();
      break;
    }
  }
  tc.state = T_CLOSED;
  return 0;
}

/* ---- receive ---- */

void ip_poll(void) {
  u32 n = vnet_recv(nic, rxf, sizeof rxf);
  if (n < 14) return;
  if (memcmp(rxf, nic->mac, 6) && memcmp(rxf, BCAST, 6)) return;
  u16 type = get16(rxf + 12);
  const u8 *p = rxf + 14;
  if (type == 0x0806 && n >= 14 + 28) {
    u16 op = get16(p + 6);
    u32 spa = get32(p + 14), tpa = get32(p + 24);
    if (tpa != cfg.ip) return;
    arp_learn(spa, p + 8);
    if (op == 1) { u8 sha[6]; memcpy(sha, p + 8, 6); arp_send(2, sha, sha, spa); }
    return;
  }
  if (type != 0x0800 || n < 14 + 20 || p[0] != 0x45 || get32(p + 16) != cfg.ip) return;
  u32 tot = get16(p + 2);
  if (tot < 20 || tot > n - 14 || net_checksum(p, 20, 0) != 0 || (get16(p + 6) & 0x3fff)) return;
  u32 src = get32(p + 12), len = tot - 20;
  const u8 *d = p + 20;
  if (p[9] == 1 && len >= 8 && net_checksum(d, len, 0) == 0) {
    if (d[0] == 0) echo_replies++;
    else if (d[0] == 8) {
      u8 *icmp = txf + 14 + 20;
      memcpy(icmp, d, len);
      icmp[0] = 0; put16(icmp + 2, 0); put16(icmp + 2, net_checksum(icmp, len, 0));
      ip_send(src, 1, len);
    }
  } else if (p[9] == 17 && len >= 8) {
    if (get16(d + 6) && net_checksum(d, len, pseudo_sum(src, cfg.ip, 17, len)) != 0) return;
    if (get16(d) == 53 && get16(d + 2) == dns_port && get16(d + 4) <= len) dns_answer(d + 8, get16(d + 4) - 8u);
  } else if (p[9] == 6 && len >= 20) {
    if (net_checksum(d, len, pseudo_sum(src, cfg.ip, 6, len)) != 0) return;
    tcp_input(src, d, len);
  }
}

int ip_init(struct vnet *n, const struct ip_cfg *c) {
  nic = n;
  cfg = *c;
  if (vnet_init(nic, 0)) return -1;
  printf("nic: mac %02x:%02x:%02x:%02x:%02x:%02x link %s ip ", nic->mac[0], nic->mac[1], nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5],
    nic->link_up ? "up" : "down");
  print_ip4(cfg.ip); printf("/%u gw ", cfg.prefix_len); print_ip4(cfg.gw); printf(" dns "); print_ip4(cfg.dns); printf("\n");
  return 0;
}
