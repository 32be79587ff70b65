/*
 * net-http: a VM behind a NAT (seed: "Traduction d'adresses réseau (NAT)") pings its gateway,
 * resolves a name through the DNS server it was given, and fetches a page over TCP, with the
 * small stack of lib/tcpip.c. Command line:
 *   ip=A.B.C.D [prefix=24] [gw=E.F.G.H] [dns=I.J.K.L] [name=HOST] [url=http://A.B.C.D:PORT/PATH]
 *   [ping=N]       echo requests to the gateway (default 1; 0 = none)
 *   [serve=PORT]   instead: accept one TCP connection, receive until it closes (bench's VM→VM sink)
 *   [sink=BYTES]   instead of a GET, send BYTES to the url's address and port, then close
 *   [stay=1]       after the SUMMARY, keep answering ARP and pings instead of powering off
 *                  (so the VM's switch port and its counters stay until Stop-VM)
 * Prints the HTTP status line, the body between "BODY<<" and ">>BODY" (non-printable bytes as
 * '.'), its length and FNV-1a hash, PASS/FAIL lines and a SUMMARY.
 */
#include "tcpip.h"

static struct vnet nic;
static u8 body[16384];
static u8 request[512];

static u32 num(const char *key, u32 fallback) {
  char buf[16];
  if (cmdline_get(key, buf, sizeof buf)) return fallback;
  u32 v = 0;
  for (char *s = buf; *s >= '0' && *s <= '9'; s++) v = v * 10 + (u32)(*s - '0');
  return v;
}

static int ip_arg(const char *key, u32 *out) {
  char buf[20];
  return cmdline_get(key, buf, sizeof buf) || parse_ip(buf, out);
}

static u32 append(u32 at, const char *s) {
  u32 l = (u32)strlen(s);
  if (at + l < sizeof request) { memcpy(request + at, s, l); at += l; }
  return at;
}

static int up;

static int finish(void) {
  int failures = report_summary();
  if (up && num("stay", 0)) for (;;) ip_poll();
  return failures;
}

int main(void) {
  struct ip_cfg c = {0, 24, 0, 0};
  if (ip_arg("ip", &c.ip)) { printf("need ip=a.b.c.d\n"); report("command line", 0); return finish(); }
  if (ip_arg("gw", &c.gw)) c.gw = 0;
  c.prefix_len = num("prefix", 24);
  if (ip_arg("dns", &c.dns)) c.dns = c.gw;
  if (ip_init(&nic, &c)) { report("virtio-net comes up", 0); return finish(); }
  up = 1;
  report("virtio-net comes up with link up", nic.link_up);

  u32 serve = num("serve", 0);
  if (serve) {
    struct tcp_result r = { body, sizeof body, 0, 0, 0, 0, 0, 0, 0 };
    tcp_serve((u16)serve, &r);
    printf("served port %u: received %u bytes fnv1a %08x, %s\n", serve, r.len, r.hash, r.closed ? "closed" : r.reset ? "reset" : "not closed");
    report("a connection is accepted, received and closed", r.peer_closed && r.closed);
    return finish();
  }

  u8 gwmac[6];
  u32 pings = c.gw ? num("ping", 1) : 0;
  if (c.gw) {
    int arp_ok = arp_resolve(c.gw, gwmac) == 0;
    report("the gateway answers ARP", arp_ok);
    if (!arp_ok) return finish();
    printf("gateway "); print_ip4(c.gw); printf(" is at %02x:%02x:%02x:%02x:%02x:%02x\n", gwmac[0], gwmac[1], gwmac[2], gwmac[3], gwmac[4], gwmac[5]);
  }
  if (pings) {
    u32 got = icmp_ping(c.gw, pings);
    printf("%u/%u echo replies from the gateway\n", got, pings);
    report("the gateway answers echo requests", got == pings);
  }

  char name[64];
  if (!cmdline_get("name", name, sizeof name)) {
    u32 a = 0;
    int rc = dns_query_a(name, &a);
    if (rc == 0) { printf("resolved %s to ", name); print_ip4(a); printf("\n"); }
    else printf("resolving %s failed (%d)\n", name, rc);
    report("the DNS server resolves the name", rc == 0);
  }

  char url[160];
  if (!cmdline_get("url", url, sizeof url)) {
    u32 ip; u16 port; const char *path; char host[40];
    if (parse_url(url, &ip, &port, &path, host, sizeof host)) { printf("bad url=%s\n", url); report("url", 0); return finish(); }
    struct tcp_result r = { body, sizeof body, 0, 0, 0, 0, 0, 0, 0 };
    u32 sink = num("sink", 0);
    if (sink) {
      int rc = tcp_exchange(ip, port, 0, sink, 1, &r);
      printf("sink: connect %s, sent %u bytes, %s, %u retransmissions\n", rc ? "failed" : "ok", sink,
        r.closed ? "closed" : r.reset ? "reset" : "not closed", r.retransmits);
      report("the data reaches the sink and the connection closes", rc == 0 && r.closed && !r.reset);
      return finish();
    }
    u32 n = append(0, "GET ");
    n = append(n, path);
    n = append(n, " HTTP/1.0\r\nHost: ");
    n = append(n, host);
    n = append(n, "\r\nUser-Agent: nestvisor-net-http\r\nConnection: close\r\n\r\n");
    int rc = tcp_exchange(ip, port, request, n, 0, &r);
    if (rc == -2 || r.refused) { printf("connection to %s:%u %s\n", host, port, r.refused ? "refused" : "timed out"); report("HTTP GET", 0); return finish(); }
    u32 kept = r.len < r.cap ? r.len : r.cap;
    u32 hdr_end = 0;
    for (u32 i = 0; i + 3 < kept; i++) if (!memcmp(body + i, "\r\n\r\n", 4)) { hdr_end = i + 4; break; }
    u32 line = 0;
    while (line < kept && body[line] != '\r') line++;
    printf("status: ");
    for (u32 i = 0; i < line; i++) putchar(body[i]);
    printf("\n");
    int ok200 = line >= 12 && !memcmp(body, "HTTP/1.", 7) && !memcmp(body + 9, "200", 3);
    /* the hash covers the body only: recompute it over what was kept */
    u32 h = 2166136261u;
    for (u32 i = hdr_end; i < kept; i++) h = (h ^ body[i]) * 16777619u;
    printf("body %u bytes fnv1a %08x (response %u bytes, %u retransmissions, %s)\n", hdr_end ? kept - hdr_end : 0, h, r.len, r.retransmits,
      r.closed ? "closed" : "not closed");
    printf("BODY<<");
    for (u32 i = hdr_end; i < kept; i++) putchar(body[i] == '\n' || (body[i] >= 32 && body[i] < 127) ? body[i] : '.');
    printf(">>BODY\n");
    report("HTTP GET returns 200 with a body", ok200 && hdr_end && r.peer_closed && r.len <= r.cap);
    report("the connection closes cleanly", r.closed && !r.reset);
  }
  return finish();
}
