/*
 * The L2 program: what minivisor runs as its nested guest (docs/minivisor.md). It greets
 * through COM1 ("Hello from L2"; minivisor forwards it with "[L2] "), shows minivisor the
 * CPUID.1:ECX it sees (the VMX bit must be clear) with a plain VMCALL, then, when asked by its
 * command line (minivisor's own, handed over in L2's boot information block):
 *   l2ip=A.B.C.D[/LEN] l2gw=E.F.G.H l2dns=I.J.K.L   a preset IP configuration; without l2ip it
 *                       waits for one from the guest agent (l2agent.c: New-NetIPAddress inside L2)
 *   l2ping=A.B.C.D[,E.F.G.H...]   three echo requests to each: "ping A.B.C.D: N/3 replies"
 *   l2name=HOST         one DNS A query to l2dns: "resolved HOST to A.B.C.D" or "resolving HOST failed (rc)"
 *   l2fetch=http://A.B.C.D[:PORT]/PATH   an HTTP GET: "fetched N bytes, fnv1a XXXXXXXX" and the
 *                       body's first line, or "fetch failed: ..."
 *   l2idle              afterwards keep answering ARP/ping and serving the agent instead of halting
 *   l2bad               first hands minivisor bad NIC descriptors (they must be refused and counted)
 *   l2spin=N            first spins N rounds without a single VM exit (the preemption timer
 *                       must still bring minivisor back: it prints how many exits it caused)
 *   l2vmcallflood=N     first issues N VMCALLs with function numbers nobody knows: each must
 *                       come back with an error ("vmcall flood: N/N refused"), L1 must stay up
 *   l2garbage           last jumps into a page of 0xff bytes (#UD, then no IDT: a triple fault
 *                       that must stay in L2: "minivisor: L2 crashed: triple fault at RIP=...")
 * and halts (an HLT exit). The network is lib/tcpip.c over L2's paravirtual NIC: this file
 * implements virtio-net.h's three driver calls with minivisor's HC_NET_* hypercalls.
 */
#include "tcpip.h"
#include "hypercalls.h"

/* rt.c's cmdline_args() reads these: minivisor writes a Multiboot-style information block
 * (flags bit 2, cmdline pointer at +16) at L2 guest-physical 0x6000 (main.c build_l2). */
u32 mb_magic = 0x2BADB002, mb_info = 0x6000;

/* The guest agent's side in L2 (l2agent.c, SEED-AGENT). Weak defaults: no agent. */
void l2_agent_poll(void);
extern struct ip_cfg l2_ipcfg;
extern volatile int l2_ipcfg_set;
void __attribute__((weak)) l2_agent_poll(void) {}
struct ip_cfg l2_ipcfg __attribute__((weak));
volatile int l2_ipcfg_set __attribute__((weak));

static inline u64 hypercall(u64 fn, u64 *rbx, u64 rcx) {
  __asm__ volatile("vmcall" : "+a"(fn), "+b"(*rbx), "+c"(rcx) : : "memory");
  return fn;
}

/* ---- virtio-net.h's driver calls over the L2 NIC ---- */

int vnet_init(struct vnet *n, int index) {
  u64 mac = 0;
  memset(n, 0, sizeof *n);
  if (index != 0 || hypercall(HC_NET_MAC, &mac, 0) != 0) return -1;
  for (int i = 0; i < 6; i++) n->mac[i] = (u8)(mac >> (8 * i));
  n->link_up = 1;
  return 0;
}

int vnet_send(struct vnet *n, const void *frame, u32 len) {
  (void)n;
  u64 gpa = (u64)frame; /* L2's paging is the identity: linear = guest-physical */
  return hypercall(HC_NET_TX, &gpa, len) == 0 ? 0 : -1;
}

u32 vnet_recv(struct vnet *n, void *buf, u32 cap) {
  (void)n;
  l2_agent_poll(); /* every wait loop of tcpip.c passes here */
  u64 gpa = (u64)buf;
  u64 got = hypercall(HC_NET_RX, &gpa, cap);
  return got > cap ? 0 : (u32)got;
}

/* ---- the program ---- */

static struct vnet nic;
static u8 body[16384];
static char request[256];

static int ip_arg(const char *key, u32 *ip, u32 *len) {
  char buf[24];
  if (cmdline_get(key, buf, sizeof buf)) return -1;
  u32 i = 0;
  while (buf[i] && buf[i] != '/') i++;
  if (len && buf[i] == '/') {
    u32 l = 0;
    for (char *s = buf + i + 1; *s >= '0' && *s <= '9'; s++) l = l * 10 + (u32)(*s - '0');
    if (l > 32) return -1;
    *len = l;
  }
  buf[i] = 0;
  return parse_ip(buf, ip);
}

static u32 append(u32 at, const char *s) {
  u32 l = (u32)strlen(s);
  if (at + l < sizeof request) { memcpy(request + at, s, l); at += l; }
  return at;
}

static void fetch(const char *url) {
  u32 ip; u16 port; const char *path; char host[24];
  if (parse_url(url, &ip, &port, &path, host, sizeof host)) { printf("fetch failed: bad url %s\n", url); return; }
  u32 n = append(0, "GET ");
  n = append(n, path);
  n = append(n, " HTTP/1.0\r\nHost: ");
  n = append(n, host);
  n = append(n, "\r\nUser-Agent: nestvisor-l2\r\nConnection: close\r\n\r\n");
  struct tcp_result r = { body, sizeof body, 0, 0, 0, 0, 0, 0, 0 };
  int rc = tcp_exchange(ip, port, (const u8 *)request, n, 0, &r);
  if (rc || r.refused || !r.peer_closed) {
    printf("fetch failed: %s\n", rc == -1 ? "no ARP answer from the next hop" : r.refused ? "connection refused" : "no complete answer");
    return;
  }
  u32 kept = r.len < r.cap ? r.len : r.cap, hdr_end = 0, line = 0;
  for (u32 i = 0; i + 3 < kept; i++) if (!memcmp(body + i, "\r\n\r\n", 4)) { hdr_end = i + 4; break; }
  while (line < kept && body[line] != '\r') line++;
  printf("status: ");
  for (u32 i = 0; i < line && i < 80; i++) putchar(body[i]);
  printf("\n");
  u32 h = 2166136261u; /* FNV-1a of the body */
  for (u32 i = hdr_end; i < kept; i++) h = (h ^ body[i]) * 16777619u;
  printf("fetched %u bytes, fnv1a %08x\n", hdr_end ? kept - hdr_end : 0, h);
  printf("first line: ");
  for (u32 i = hdr_end; i < kept && body[i] != '\n' && i < hdr_end + 100; i++) putchar(body[i] >= 32 && body[i] < 127 ? body[i] : '.');
  printf("\n");
}

/* "l2bad": L2 misbehaving on purpose — descriptors minivisor must refuse (and count) without
 * harm, then one well-formed frame (dropped and counted when L2's NIC has no switch). */
static void bad_descriptors(void) {
  static u8 frame[60];
  u64 gpa;
  gpa = 0x400000;        u64 r1 = hypercall(HC_NET_TX, &gpa, 60);   /* just past L2's 4 MiB */
  gpa = 0x3fffff;        u64 r2 = hypercall(HC_NET_TX, &gpa, 60);   /* straddles the end */
  gpa = (u64)frame;      u64 r3 = hypercall(HC_NET_TX, &gpa, 0);    /* shorter than a header */
  gpa = (u64)frame;      u64 r4 = hypercall(HC_NET_TX, &gpa, 65536); /* longer than a frame */
  gpa = ~0ull - 8;       u64 r5 = hypercall(HC_NET_RX, &gpa, 1600); /* wraps around */
  gpa = 0;               u64 r6 = hypercall(HC_NET_BASE + 0xfff, &gpa, 0); /* no such function */
  printf("bad descriptors: tx %ld %ld %ld %ld rx %ld nofunc %ld\n", (long)r1, (long)r2, (long)r3, (long)r4, (long)r5, (long)r6);
  memset(frame, 0xff, 6);
  gpa = (u64)frame;
  printf("good frame: %ld\n", (long)hypercall(HC_NET_TX, &gpa, 60));
}

int main(void) {
  print("Hello from L2\n");
  u32 a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  u64 rbx = 0;
  hypercall(c, &rbx, 0); /* an ordinary VMCALL: minivisor prints what L2 sees of VMX */

  char ping[80], url[160], name[64], spin[16];
  if (!cmdline_get("l2spin", spin, sizeof spin)) {
    u64 n = 0;
    for (char *q = spin; *q >= '0' && *q <= '9'; q++) n = n * 10 + (u64)(*q - '0');
    for (volatile u64 i = 0; i < n; i++) {
    }
    printf("spun %lu rounds\n", n);
  }
  if (!cmdline_get("l2vmcallflood", spin, sizeof spin)) {
    u64 n = 0, refused = 0;
    for (char *q = spin; *q >= '0' && *q <= '9'; q++) n = n * 10 + (u64)(*q - '0');
    for (u64 i = 0; i < n; i++) {
      u64 x = 0;
      if (hypercall(0xbad00000u + (i & 0xfff), &x, 0) == HC_ERR_NOFUNC) refused++;
    }
    printf("vmcall flood: %lu/%lu refused\n", refused, n);
  }
  for (const char *s = cmdline_args(); *s; s++) {
    if (memcmp(s, "l2garbage", 9)) continue;
    /* garbage code: FF /7 is undefined (#UD, SDM Vol. 2 "FF" opcode map); L2's IDT limit is 0,
     * so delivering it faults again (#GP), then #DF, then a triple fault (SDM Vol. 3A §6.15) */
    static u8 garbage[4096] __attribute__((aligned(4096)));
    memset(garbage, 0xff, sizeof garbage);
    printf("jumping into garbage at %#lx\n", (u64)garbage);
    ((void (*)(void))(void *)garbage)();
  }
  int want_ping = !cmdline_get("l2ping", ping, sizeof ping);
  int want_name = !cmdline_get("l2name", name, sizeof name);
  int want_fetch = !cmdline_get("l2fetch", url, sizeof url);
  int idle = 0;
  for (const char *s = cmdline_args(); *s; s++) {
    if (!memcmp(s, "l2idle", 6)) idle = 1;
    if (!memcmp(s, "l2bad", 5)) { bad_descriptors(); break; }
  }
  if (!want_ping && !want_fetch && !want_name && !idle) return 0;

  struct ip_cfg cfg = {0, 24, 0, 0};
  if (ip_arg("l2ip", &cfg.ip, &cfg.prefix_len) == 0) {
    if (ip_arg("l2gw", &cfg.gw, 0)) cfg.gw = 0;
    if (ip_arg("l2dns", &cfg.dns, 0)) cfg.dns = cfg.gw;
  } else {
    printf("waiting for an IP configuration\n");
    while (!l2_ipcfg_set) { l2_agent_poll(); __asm__ volatile("pause"); }
    cfg = l2_ipcfg;
  }
  if (ip_init(&nic, &cfg)) { printf("no NIC\n"); return 1; }
  for (char *p = want_ping ? ping : 0; p && *p;) {
    char *e = p;
    while (*e && *e != ',') e++;
    char more = *e;
    *e = 0;
    u32 ip;
    if (parse_ip(p, &ip)) printf("bad l2ping address %s\n", p);
    else { u32 got = icmp_ping(ip, 3); printf("ping %s: %u/3 replies\n", p, got); }
    p = more ? e + 1 : 0;
  }
  if (want_name) {
    u32 a = 0;
    int rc = dns_query_a(name, &a);
    if (rc == 0) { printf("resolved %s to ", name); print_ip4(a); printf("\n"); }
    else printf("resolving %s failed (%d)\n", name, rc);
  }
  if (want_fetch) fetch(url);
  if (idle) for (;;) ip_poll();
  return 0;
}
