/*
 * The little network stack the net-* test kernels share: Ethernet, ARP (RFC 826) and ICMP
 * echo (RFC 792) over IPv4 (RFC 791), on the polling virtio-net driver. `k->src` is the
 * source MAC frames carry: the NIC's own, or (net-bridge) another guest's, as an L1
 * hypervisor bridging its L2 guests would send them.
 */
#ifndef NV_NET_COMMON_H
#define NV_NET_COMMON_H
#include "rt.h"
#include "virtio-net.h"

#define POLLS 400000u

struct netk {
  struct vnet nic;
  u8 src[6];
  u32 ip;
  u32 target;
  u8 peer[6];
  int peer_known;
  u32 echo_served, echo_replies, arp_replies;
};

static const u8 BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static u8 frame[1600];

static inline void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline void put32(u8 *p, u32 v) { put16(p, (u16)(v >> 16)); put16(p + 2, (u16)v); }
static inline u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 get32(const u8 *p) { return (u32)get16(p) << 16 | get16(p + 2); }

static void print_ip(u32 ip) { printf("%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255); }
static void print_mac(const u8 *m) { printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]); }

static void send_arp(struct netk *k, u16 op, const u8 *eth_dst, const u8 *tha, u32 tpa) {
  memcpy(frame, eth_dst, 6); memcpy(frame + 6, k->src, 6); put16(frame + 12, 0x0806);
  u8 *a = frame + 14;
  put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, op);
  memcpy(a + 8, k->src, 6); put32(a + 14, k->ip); memcpy(a + 18, tha, 6); put32(a + 24, tpa);
  vnet_send(&k->nic, frame, 14 + 28);
}

static void send_echo(struct netk *k, const u8 *dst_mac, u32 dst_ip, u8 type, u16 id, u16 seq, const u8 *data, u32 len) {
  memcpy(frame, dst_mac, 6); memcpy(frame + 6, k->src, 6); put16(frame + 12, 0x0800);
  u8 *ip = frame + 14, *icmp = ip + 20;
  memset(ip, 0, 20);
  ip[0] = 0x45; put16(ip + 2, (u16)(20 + 8 + len)); put16(ip + 6, 0x4000); ip[8] = 64; ip[9] = 1;
  put32(ip + 12, k->ip); put32(ip + 16, dst_ip);
  put16(ip + 10, net_checksum(ip, 20, 0));
  icmp[0] = type; icmp[1] = 0; put16(icmp + 2, 0); put16(icmp + 4, id); put16(icmp + 6, seq);
  memcpy(icmp + 8, data, len);
  put16(icmp + 2, net_checksum(icmp, 8 + len, 0));
  vnet_send(&k->nic, frame, 14 + 20 + 8 + len);
}

static u8 rxf[1600];

/* Handles one received frame, if any: answers ARP and echo requests, notes replies. */
static int poll_once(struct netk *k) {
  u32 n = vnet_recv(&k->nic, rxf, sizeof rxf);
  if (n < 14) return 0;
  if (memcmp(rxf, k->src, 6) && memcmp(rxf, BCAST, 6)) return 1;
  u16 type = get16(rxf + 12);
  const u8 *p = rxf + 14;
  if (type == 0x0806 && n >= 14 + 28 && get16(p + 6) >= 1 && get16(p + 6) <= 2) {
    u32 spa = get32(p + 14), tpa = get32(p + 24);
    if (tpa != k->ip) return 1;
    if (get16(p + 6) == 1) send_arp(k, 2, p + 8, p + 8, spa);
    if (get16(p + 6) == 2 && spa == k->target) { memcpy(k->peer, p + 8, 6); k->peer_known = 1; k->arp_replies++; }
    if (spa == k->target && !k->peer_known) { memcpy(k->peer, p + 8, 6); k->peer_known = 1; }
    return 1;
  }
  if (type == 0x0800 && n >= 14 + 20 + 8 && p[0] == 0x45 && p[9] == 1 && get32(p + 16) == k->ip) {
    u32 tot = get16(p + 2);
    if (tot < 28 || tot > n - 14 || net_checksum(p, 20, 0) != 0) return 1;
    const u8 *icmp = p + 20;
    u32 ilen = tot - 20;
    if (net_checksum(icmp, ilen, 0) != 0) return 1;
    if (icmp[0] == 8) {
      send_echo(k, rxf + 6, get32(p + 12), 0, get16(icmp + 4), get16(icmp + 6), icmp + 8, ilen - 8);
      k->echo_served++;
    } else if (icmp[0] == 0 && get32(p + 12) == k->target) {
      k->echo_replies++;
    }
  }
  return 1;
}

/* Polls until *counter passes `want` or `polls` polls went by; returns whether it did. */
static int wait_for(struct netk *k, volatile u32 *counter, u32 want, u32 polls) {
  for (u32 i = 0; i < polls; i++) {
    poll_once(k);
    if (*counter >= want) return 1;
  }
  return 0;
}

/* Reads ip=, target= and the source MAC; brings the NIC up. 0 on success. */
static int netk_init(struct netk *k, int foreign_mac) {
  char buf[40];
  memset(k, 0, sizeof *k);
  if (vnet_init(&k->nic, 0)) return -1;
  memcpy(k->src, k->nic.mac, 6);
  if (foreign_mac && (cmdline_get("mac", buf, sizeof buf) || parse_mac(buf, k->src))) { printf("need mac=aa:bb:cc:dd:ee:ff\n"); return -1; }
  if (cmdline_get("ip", buf, sizeof buf) || parse_ip(buf, &k->ip)) { printf("need ip=a.b.c.d\n"); return -1; }
  if (!cmdline_get("target", buf, sizeof buf) && parse_ip(buf, &k->target)) { printf("bad target=\n"); return -1; }
  printf("nic: mac "); print_mac(k->nic.mac); printf(" link %s; sending as ", k->nic.link_up ? "up" : "down");
  print_mac(k->src); printf(" ip "); print_ip(k->ip); printf("\n");
  return 0;
}

/* ARP for the target, up to `tries` requests; returns whether it answered. */
static int resolve_target(struct netk *k, int tries) {
  static const u8 zero[6];
  for (int i = 0; i < tries && !k->peer_known; i++) {
    send_arp(k, 1, BCAST, zero, k->target);
    wait_for(k, &k->arp_replies, 1, POLLS);
  }
  return k->peer_known;
}

/* `count` echo requests to the target; returns the replies received. */
static u32 ping_target(struct netk *k, u32 count) {
  static const u8 payload[32] = "nestvisor net test payload 0123";
  for (u32 s = 1; s <= count; s++) {
    u32 before = k->echo_replies;
    send_echo(k, k->peer, k->target, 8, 0x4e56, (u16)s, payload, sizeof payload);
    wait_for(k, &k->echo_replies, before + 1, POLLS);
  }
  return k->echo_replies;
}
#endif
