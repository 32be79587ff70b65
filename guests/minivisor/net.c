/*
 * minivisor's networking: L2's paravirtual NIC and the virtual switch behind it, driving L1's
 * own virtio-net NIC (lib/virtio-net.c). docs/minivisor.md has the ABI and the design.
 *
 * L2's NIC is a pair of hypercalls (hypercalls.h HC_NET_*): TX hands minivisor a frame by
 * guest-physical address and length; RX copies the oldest frame waiting for L2 into an L2
 * buffer. Both are checked against L2's RAM (mv_l2_gpa) and a bad one is refused with
 * HC_ERR_INVAL and counted: L2 misbehaving never reaches beyond its own memory.
 *
 * The switch is mv_net.sw_type (netcfg.h), as the seed document's two options set it up:
 *   - MV_SWITCH_EXTERNAL (seed: "usurpation d'adresses MAC"): a bridge. L2's frames leave
 *     through L1's NIC unchanged, with L2's source MAC, so the L0 switch port drops them until
 *     MacAddressSpoofing is On; frames arriving for L2's MAC or a group address go to L2.
 *   - MV_SWITCH_INTERNAL (seed: "Traduction d'adresses réseau (NAT)"): L2 is on an internal
 *     segment whose gateway is L1's "vEthernet" address vif_ip (ARP and ping answered here).
 *     With a NetNat, L2's TCP/UDP/ICMP-echo flows leaving the NAT prefix are translated to
 *     L1's own address and a port of minivisor's choosing (RFC 3022 NAPT) and sent with L1's
 *     MAC, so they pass the L0 port with spoofing Off. DNS sent to the gateway is forwarded to
 *     l1_dns through the same translation.
 *   - none / private: L2's frames go nowhere and are counted as dropped.
 */
#include "net.h"
#include "hypercalls.h"
#include "virtio-net.h"

struct mv_netcfg mv_net;

#define FRAME_MAX 1514
#define L2_RXQ 32          /* frames waiting for L2 */
#define NAT_SLOTS 64
#define NAT_PORT_FIRST 50000
#define NAT_PORT_LAST 59999
#define ARP_SLOTS 8
#define ARP_SPIN 400000    /* polls of L1's NIC per ARP request (no clock: counted, as lib/tcpip.c) */
#define POLL_BURST 8       /* frames taken from L1's NIC per VM exit */

static struct vnet l1nic;
static int l1_up;
static u8 l2_mac[6] = {0x00, 0x15, 0x5d, 0x00, 0x02, 0x02};  /* Hyper-V's OUI, distinct from L1's */
static const u8 vif_mac[6] = {0x00, 0x15, 0x5d, 0x00, 0x02, 0x01}; /* L1's "vEthernet" on the internal segment */
static const u8 BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct { u8 data[FRAME_MAX]; u16 len; } l2q[L2_RXQ];
static u32 l2q_head, l2q_tail; /* head: next for L2; tail: next free (free-running) */

static struct { u64 tx, rx, dropped, nat, refused; } st;

static u8 txframe[FRAME_MAX];  /* L2's frame, copied out of L2 memory before it is looked at */
static u8 rxframe[1600];       /* what L1's NIC received */
static u8 scratch[64];         /* ARP frames minivisor builds */

/* NAPT bindings (RFC 3022 §2.2): internal (ip, port or ICMP id) + remote ↔ external port */
static struct nat {
  u8 used, proto;
  u8 int_mac[6];
  u32 int_ip, rem_ip, orig_dst;  /* orig_dst: the gateway address a forwarded DNS query was sent to */
  u16 int_port, rem_port, ext_port;
  u32 last;
} nat[NAT_SLOTS];
static u32 nat_clock;
static u16 nat_next = NAT_PORT_FIRST;

static struct { u32 ip; u8 mac[6]; } arpc[ARP_SLOTS];
static u32 arp_n;
static u32 seen_generation;

static inline void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline void put32(u8 *p, u32 v) { put16(p, (u16)(v >> 16)); put16(p + 2, (u16)v); }
static inline u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 get32(const u8 *p) { return (u32)get16(p) << 16 | get16(p + 2); }

static int in_prefix(u32 ip, u32 net, u32 len) {
  u32 mask = len ? ~0u << (32 - len) : 0;
  return (ip & mask) == (net & mask);
}

static void print_mac(const u8 *m) { printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]); }

/* ---- frames to L2 ---- */

static void to_l2(const u8 *f, u32 len) {
  if (l2q_tail - l2q_head >= L2_RXQ || len > FRAME_MAX) { st.dropped++; return; }
  memcpy(l2q[l2q_tail % L2_RXQ].data, f, len);
  l2q[l2q_tail % L2_RXQ].len = (u16)len;
  l2q_tail++;
  st.rx++;
}

/* ---- checksums, recomputed after a rewrite (RFC 1071; RFC 3022 §4.2 allows either way) ---- */

static u32 pseudo_sum(u32 src, u32 dst, u8 proto, u32 len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static void fix_checksums(u8 *ip, u32 ihl, u32 l4len) {
  u8 *l4 = ip + ihl;
  u32 src = get32(ip + 12), dst = get32(ip + 16);
  if (ip[9] == 1) {
    put16(l4 + 2, 0);
    put16(l4 + 2, net_checksum(l4, l4len, 0));
  } else if (ip[9] == 17) {
    if (get16(l4 + 6)) { /* 0 = no checksum (RFC 768): leave it so */
      put16(l4 + 6, 0);
      u16 c = net_checksum(l4, l4len, pseudo_sum(src, dst, 17, l4len));
      put16(l4 + 6, c ? c : 0xffff);
    }
  } else if (ip[9] == 6) {
    put16(l4 + 16, 0);
    put16(l4 + 16, net_checksum(l4, l4len, pseudo_sum(src, dst, 6, l4len)));
  }
  put16(ip + 10, 0);
  put16(ip + 10, net_checksum(ip, ihl, 0));
}

/* An IPv4 packet in an Ethernet frame: header length and total length, or 0 when malformed. */
static u32 ipv4_lengths(const u8 *f, u32 len, u32 *ihl) {
  if (len < 34 || get16(f + 12) != 0x0800) return 0;
  const u8 *ip = f + 14;
  *ihl = (u32)(ip[0] & 15) * 4;
  u32 tot = get16(ip + 2);
  if ((ip[0] >> 4) != 4 || *ihl < 20 || tot < *ihl || 14 + tot > len) return 0;
  return tot;
}

/* ---- L1's side of the L0 network: ARP (RFC 826) for its own address and its next hops ---- */

static int arp_lookup(u32 ip, u8 mac[6]) {
  for (u32 i = 0; i < arp_n; i++) if (arpc[i].ip == ip) { memcpy(mac, arpc[i].mac, 6); return 0; }
  return -1;
}

static void arp_learn(u32 ip, const u8 *mac) {
  for (u32 i = 0; i < arp_n; i++) if (arpc[i].ip == ip) { memcpy(arpc[i].mac, mac, 6); return; }
  u32 i = arp_n < ARP_SLOTS ? arp_n++ : ARP_SLOTS - 1;
  arpc[i].ip = ip;
  memcpy(arpc[i].mac, mac, 6);
}

/* An ARP frame from `smac`/`spa` into scratch; returns its length. */
static u32 arp_build(u16 op, const u8 *eth_dst, const u8 *smac, u32 spa, const u8 *tha, u32 tpa) {
  u8 *a = scratch + 14;
  memcpy(scratch, eth_dst, 6); memcpy(scratch + 6, smac, 6); put16(scratch + 12, 0x0806);
  put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, op);
  memcpy(a + 8, smac, 6); put32(a + 14, spa); memcpy(a + 18, tha, 6); put32(a + 24, tpa);
  memset(scratch + 42, 0, 18); /* padded to the 60-byte minimum */
  return 60;
}

/* The MAC of ip's next hop on the L0 network, asking with ARP when it is not known. */
static int arp_resolve_l0(u32 ip, u8 mac[6]) {
  static const u8 zero[6];
  u32 hop = in_prefix(ip, mv_net.l1_ip, mv_net.l1_prefix_len) ? ip : mv_net.l1_gw;
  if (!hop) return -1;
  for (int t = 0; t < 3; t++) {
    if (!arp_lookup(hop, mac)) return 0;
    vnet_send(&l1nic, scratch, arp_build(1, BCAST, l1nic.mac, mv_net.l1_ip, zero, hop));
    for (u32 i = 0; i < ARP_SPIN && arp_lookup(hop, mac); i++) mv_net_poll();
  }
  return arp_lookup(hop, mac);
}

/* ---- NAPT ---- */

static struct nat *nat_find_out(u8 proto, u32 int_ip, u16 int_port, u32 rem_ip, u16 rem_port) {
  for (u32 i = 0; i < NAT_SLOTS; i++) {
    struct nat *e = &nat[i];
    if (e->used && e->proto == proto && e->int_ip == int_ip && e->int_port == int_port && e->rem_ip == rem_ip && e->rem_port == rem_port) return e;
  }
  return 0;
}

static struct nat *nat_find_in(u8 proto, u16 ext_port, u32 rem_ip, u16 rem_port) {
  for (u32 i = 0; i < NAT_SLOTS; i++) {
    struct nat *e = &nat[i];
    if (e->used && e->proto == proto && e->ext_port == ext_port && e->rem_ip == rem_ip && e->rem_port == rem_port) return e;
  }
  return 0;
}

static int ext_port_in_use(u16 port) {
  for (u32 i = 0; i < NAT_SLOTS; i++) if (nat[i].used && nat[i].ext_port == port) return 1;
  return 0;
}

/* A new binding: a free slot, or the least recently used one. */
static struct nat *nat_new(void) {
  struct nat *e = &nat[0];
  for (u32 i = 0; i < NAT_SLOTS; i++) {
    if (!nat[i].used) { e = &nat[i]; break; }
    if (nat[i].last < e->last) e = &nat[i];
  }
  e->used = 0;
  do {
    e->ext_port = nat_next;
    nat_next = nat_next == NAT_PORT_LAST ? NAT_PORT_FIRST : nat_next + 1;
  } while (ext_port_in_use(e->ext_port));
  return e;
}

/* The ports of a packet (TCP/UDP: source, destination; ICMP echo: identifier, 0). 0 if unusable. */
static int l4_ports(const u8 *ip, u32 ihl, u32 tot, int outbound, u16 *sport, u16 *dport) {
  const u8 *l4 = ip + ihl;
  u32 l4len = tot - ihl;
  if (get16(ip + 6) & 0x3fff) return 0; /* fragments are not translated */
  if (ip[9] == 6 || ip[9] == 17) {
    if (l4len < (ip[9] == 6 ? 20u : 8u)) return 0;
    *sport = get16(l4); *dport = get16(l4 + 2);
    return 1;
  }
  if (ip[9] == 1 && l4len >= 8 && l4[0] == (outbound ? 8 : 0)) { /* echo request out, reply in */
    *sport = outbound ? get16(l4 + 4) : 0; *dport = outbound ? 0 : get16(l4 + 4);
    return 1;
  }
  return 0;
}

/* L2's packet in txframe leaves through L1's NIC as L1's (new_dst: a forwarded DNS query's server). */
static void nat_out(u32 len, u32 ihl, u32 tot, u32 new_dst) {
  u8 *f = txframe, *ip = f + 14, *l4 = ip + ihl;
  u16 sport, dport;
  u8 mac[6];
  /* L1 routes between the segments: TTL decremented, expired packets dropped (RFC 1812 §5.3.1;
   * no ICMP time-exceeded is sent) */
  if (!l1_up || !mv_net.l1_ip || ip[8] <= 1 || !l4_ports(ip, ihl, tot, 1, &sport, &dport)) { st.dropped++; return; }
  ip[8]--;
  (void)len;
  u32 src = get32(ip + 12), dst = get32(ip + 16), rem = new_dst ? new_dst : dst;
  struct nat *e = nat_find_out(ip[9], src, sport, rem, dport);
  if (!e) {
    e = nat_new();
    e->proto = ip[9]; e->int_ip = src; e->int_port = sport; e->rem_ip = rem; e->rem_port = dport;
    e->orig_dst = new_dst ? dst : 0;
    e->used = 1;
  }
  memcpy(e->int_mac, f + 6, 6);
  e->last = ++nat_clock;
  put32(ip + 12, mv_net.l1_ip);
  put32(ip + 16, rem);
  if (ip[9] == 1) put16(l4 + 4, e->ext_port); else put16(l4, e->ext_port);
  fix_checksums(ip, ihl, tot - ihl);
  /* the ARP exchange below reuses L1's NIC but never txframe */
  if (arp_resolve_l0(rem, mac)) { st.dropped++; return; }
  memcpy(f, mac, 6);
  memcpy(f + 6, l1nic.mac, 6);
  vnet_send(&l1nic, f, 14 + tot);
  st.tx++;
  st.nat++;
}

/* A packet for L1's address: the answer to a translated flow goes back to L2. */
static void nat_in(u8 *f, u32 len) {
  u32 ihl, tot = ipv4_lengths(f, len, &ihl);
  u8 *ip = f + 14, *l4 = ip + ihl;
  u16 sport, dport;
  if (!tot || get32(ip + 16) != mv_net.l1_ip || !l4_ports(ip, ihl, tot, 0, &sport, &dport)) return;
  struct nat *e = nat_find_in(ip[9], dport, get32(ip + 12), sport);
  if (!e) return; /* not a translated flow: L1's own traffic, which minivisor does not have */
  if (ip[8] <= 1) { st.dropped++; return; }
  ip[8]--;
  e->last = ++nat_clock;
  put32(ip + 16, e->int_ip);
  if (e->orig_dst) put32(ip + 12, e->orig_dst);
  if (ip[9] == 1) put16(l4 + 4, e->int_port); else put16(l4 + 2, e->int_port);
  fix_checksums(ip, ihl, tot - ihl);
  memcpy(f, e->int_mac, 6);
  memcpy(f + 6, vif_mac, 6);
  st.nat++;
  to_l2(f, 14 + tot);
}

/* ---- the internal segment: L2's frames seen by L1's "vEthernet" adapter ---- */

static void internal_from_l2(u32 len) {
  u8 *f = txframe;
  u32 vif = mv_net.vif_ip;
  if (get16(f + 12) == 0x0806 && len >= 42) {
    const u8 *a = f + 14;
    if (vif && get16(a + 6) == 1 && get32(a + 24) == vif) { /* who has the gateway? */
      u8 smac[6];
      memcpy(smac, a + 8, 6);
      u32 spa = get32(a + 14);
      u32 n = arp_build(2, smac, vif_mac, vif, smac, spa);
      to_l2(scratch, n);
      return;
    }
    st.dropped++;
    return;
  }
  u32 ihl, tot = ipv4_lengths(f, len, &ihl);
  if (!tot) { st.dropped++; return; }
  u8 *ip = f + 14, *l4 = ip + ihl;
  u32 src = get32(ip + 12), dst = get32(ip + 16);
  if (vif && dst == vif) {
    if (ip[9] == 1 && tot - ihl >= 8 && l4[0] == 8) { /* ping the gateway: echo reply (RFC 792) */
      l4[0] = 0;
      put32(ip + 12, vif); put32(ip + 16, src);
      ip[8] = 64;
      fix_checksums(ip, ihl, tot - ihl);
      memcpy(f, f + 6, 6);
      memcpy(f + 6, vif_mac, 6);
      to_l2(f, 14 + tot);
      return;
    }
    if (ip[9] == 17 && tot - ihl >= 8 && get16(l4 + 2) == 53 && mv_net.nat_present && mv_net.l1_dns) {
      nat_out(len, ihl, tot, mv_net.l1_dns); /* the gateway as DNS server: forwarded to L1's */
      return;
    }
    st.dropped++;
    return;
  }
  if (!mv_net.nat_present || !in_prefix(src, mv_net.nat_prefix, mv_net.nat_prefix_len) ||
      in_prefix(dst, mv_net.nat_prefix, mv_net.nat_prefix_len)) {
    st.dropped++;
    return;
  }
  nat_out(len, ihl, tot, 0);
}

/* ---- frames arriving on L1's NIC ---- */

static void l1_local(u8 *f, u32 len) {
  if (get16(f + 12) == 0x0806 && len >= 42) {
    const u8 *a = f + 14;
    if (get16(a) != 1 || get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4) return;
    u32 spa = get32(a + 14), tpa = get32(a + 24);
    u16 op = get16(a + 6);
    if (!mv_net.l1_ip) return;
    if (spa && (tpa == mv_net.l1_ip || op == 2)) arp_learn(spa, a + 8);
    if (op == 1 && tpa == mv_net.l1_ip) {
      u8 smac[6];
      memcpy(smac, a + 8, 6);
      vnet_send(&l1nic, scratch, arp_build(2, smac, l1nic.mac, mv_net.l1_ip, smac, spa));
    }
    return;
  }
  if (mv_net.sw_type == MV_SWITCH_INTERNAL && mv_net.nat_present) nat_in(f, len);
}

static void l1_input(u8 *f, u32 len) {
  if (len < 14) return;
  int group = f[0] & 1;
  if (mv_net.sw_type == MV_SWITCH_EXTERNAL && (group || !memcmp(f, l2_mac, 6))) to_l2(f, len);
  if (group || !memcmp(f, l1nic.mac, 6)) l1_local(f, len);
}

void mv_net_poll(void) {
  if (!l1_up) return;
  if (mv_net.generation != seen_generation) { /* reconfigured (agent-l1.c): forget bindings */
    seen_generation = mv_net.generation;
    memset(nat, 0, sizeof nat);
    arp_n = 0;
  }
  for (int i = 0; i < POLL_BURST; i++) {
    u32 n = vnet_recv(&l1nic, rxframe, sizeof rxframe);
    if (!n) break;
    l1_input(rxframe, n);
  }
}

/* ---- L2's NIC (hypercalls.h) ---- */

static u64 l2_tx(u64 gpa, u64 len) {
  const u8 *src = len >= 14 && len <= FRAME_MAX ? mv_l2_gpa(gpa, len) : 0;
  if (!src) { st.refused++; return HC_ERR_INVAL; }
  memcpy(txframe, src, len);
  switch (mv_net.sw_type) {
  case MV_SWITCH_EXTERNAL:
    if (!l1_up) { st.dropped++; break; }
    vnet_send(&l1nic, txframe, (u32)len); /* unchanged: L2's own source MAC */
    st.tx++;
    break;
  case MV_SWITCH_INTERNAL:
    internal_from_l2((u32)len);
    break;
  default:
    st.dropped++;
    break;
  }
  return 0;
}

static u64 l2_rx(u64 gpa, u64 cap) {
  u8 *dst = cap ? mv_l2_gpa(gpa, cap) : 0;
  if (!dst) { st.refused++; return HC_ERR_INVAL; } /* checked even when nothing waits */
  if (l2q_head == l2q_tail) return 0;
  u32 n = l2q[l2q_head % L2_RXQ].len;
  if (n > cap) n = (u32)cap; /* truncated to the buffer; the rest of the frame is lost */
  memcpy(dst, l2q[l2q_head % L2_RXQ].data, n);
  l2q_head++;
  return n;
}

void mv_net_vmcall(struct guest_regs *r) {
  switch ((u32)r->rax) {
  case HC_NET_MAC: {
    u64 m = 0;
    for (int i = 5; i >= 0; i--) m = m << 8 | l2_mac[i];
    r->rbx = m;
    r->rax = 0;
    return;
  }
  case HC_NET_TX: r->rax = l2_tx(r->rbx, r->rcx); return;
  case HC_NET_RX: r->rax = l2_rx(r->rbx, r->rcx); return;
  case HC_NET_STATS: mv_net_print_stats(); r->rax = 0; return;
  default: r->rax = HC_ERR_NOFUNC; return;
  }
}

void mv_net_print_stats(void) {
  printf("minivisor: net: tx %lu rx %lu dropped %lu nat %lu refused %lu\n", st.tx, st.rx, st.dropped, st.nat, st.refused);
}

/* ---- set-up from the command line ---- */

static int ip_prefix_arg(const char *key, u32 *ip, u32 *len) {
  char buf[24];
  if (cmdline_get(key, buf, sizeof buf)) return -1;
  u32 i = 0, l = 24;
  while (buf[i] && buf[i] != '/') i++;
  if (buf[i] == '/') {
    buf[i] = 0;
    l = 0;
    for (char *s = buf + i + 1; *s >= '0' && *s <= '9'; s++) l = l * 10 + (u32)(*s - '0');
    if (l > 32) return -1;
  }
  if (parse_ip(buf, ip)) return -1;
  if (len) *len = l;
  return 0;
}

static void copy_name(char *d, const char *s) {
  u32 i = 0;
  for (; s[i] && i + 1 < 32; i++) d[i] = s[i];
  d[i] = 0;
}

/* Is there a virtio-net function on bus 0 (PCI configuration mechanism #1)? Asked first so that
 * a board without one stays quiet (vnet_init prints when it finds none). */
static int virtio_net_present(void) {
  for (u32 dev = 0; dev < 32; dev++) {
    outl(0xcf8, 0x80000000u | dev << 11);
    if (inl(0xcfc) == 0x10411af4) return 1;
  }
  return 0;
}

void mv_net_setup(void) {
  char buf[24];
  u32 dummy;
  if (!cmdline_get("net", buf, sizeof buf)) {
    if (!strcmp(buf, "bridge") || !strcmp(buf, "external")) {
      mv_net.sw_type = MV_SWITCH_EXTERNAL;
      copy_name(mv_net.sw_name, "External");
    } else if (!strcmp(buf, "nat") || !strcmp(buf, "internal")) {
      mv_net.sw_type = MV_SWITCH_INTERNAL;
      copy_name(mv_net.sw_name, "VmNAT");
      mv_net.vif_ip = 0xc0a86401; /* the seed's 192.168.100.1/24 */
      mv_net.vif_prefix_len = 24;
      ip_prefix_arg("vif", &mv_net.vif_ip, &mv_net.vif_prefix_len);
      if (!strcmp(buf, "nat")) {
        mv_net.nat_present = 1;
        copy_name(mv_net.nat_name, "LocalNAT");
        mv_net.nat_prefix_len = mv_net.vif_prefix_len;
        mv_net.nat_prefix = mv_net.vif_ip & (mv_net.vif_prefix_len ? ~0u << (32 - mv_net.vif_prefix_len) : 0);
      }
    } else if (!strcmp(buf, "private")) {
      mv_net.sw_type = MV_SWITCH_PRIVATE;
      copy_name(mv_net.sw_name, "Private");
    }
  }
  ip_prefix_arg("ip", &mv_net.l1_ip, &mv_net.l1_prefix_len);
  if (ip_prefix_arg("gw", &mv_net.l1_gw, &dummy)) mv_net.l1_gw = 0;
  if (ip_prefix_arg("dns", &mv_net.l1_dns, &dummy)) mv_net.l1_dns = mv_net.l1_gw;
  if (!cmdline_get("l2mac", buf, sizeof buf) && parse_mac(buf, l2_mac)) printf("minivisor: net: bad l2mac=%s, keeping the default\n", buf);
  mv_net.generation++;
  seen_generation = mv_net.generation;
  if (virtio_net_present() && !vnet_init(&l1nic, 0)) l1_up = 1;
  if (!l1_up && !mv_net.sw_type) return;
  static const char *const types[] = { "none", "External (bridge)", "Internal", "Private" };
  printf("minivisor: net: L1 NIC ");
  if (l1_up) print_mac(l1nic.mac); else print("absent");
  printf(", switch %s%s, L2 NIC ", types[mv_net.sw_type & 3], mv_net.nat_present ? " + NAT" : "");
  print_mac(l2_mac);
  printf("\n");
}
