/*
 * A small IPv4 client stack for test kernels, over the polling virtio-net driver: ARP
 * (RFC 826) with a few cache entries, ICMP echo (RFC 792) both ways, UDP (RFC 768) for one
 * DNS A query (RFC 1035 §4.1), and one TCP connection at a time as a client or a one-shot server (RFC 793):
 * SYN with MSS, in-order receive with an ACK for every segment, go-back-N send bounded by
 * the peer's window, retransmission on a poll-count timeout, FIN both ways, RST seen as
 * refusal. No interrupts and no clock: timeouts count polls of the receive ring.
 */
#ifndef NV_TCPIP_H
#define NV_TCPIP_H
#include "rt.h"
#include "virtio-net.h"

struct ip_cfg {
  u32 ip, prefix_len, gw, dns;
};

/* What one TCP connection received and how it ended. */
struct tcp_result {
  u8 *buf;          /* first `cap` bytes received are kept here */
  u32 cap;
  u32 len;          /* bytes received in all */
  u32 hash;         /* FNV-1a of all bytes received */
  int refused;      /* the peer answered the SYN with RST */
  int reset;        /* RST after the connection was up */
  int peer_closed;  /* the peer's FIN arrived in order */
  int closed;       /* our FIN was acknowledged */
  u32 retransmits;
};

/* Brings the NIC up with cfg; prints the NIC. 0 on success. */
int ip_init(struct vnet *nic, const struct ip_cfg *cfg);
/* The NIC's MAC, as frames carry it. */
const u8 *ip_mac(void);
/* Resolves ip's next hop (the gateway for off-link addresses); 0 when answered. */
int arp_resolve(u32 ip, u8 mac[6]);
/* Sends `count` echo requests to ip; returns the replies received. */
u32 icmp_ping(u32 ip, u32 count);
/* One DNS A query for name to cfg->dns; 0 and *out on an answer, <0 otherwise (-3 = NXDOMAIN). */
int dns_query_a(const char *name, u32 *out);
/*
 * Connects to ip:port, sends `send_len` bytes (from `data`, or a pattern 'A'+(i%26) when data
 * is 0), then either closes at once (close_after_send) or receives until the peer closes,
 * then closes. Returns 0 when the connection came up.
 */
int tcp_exchange(u32 ip, u16 port, const u8 *data, u32 send_len, int close_after_send, struct tcp_result *r);
/* Waits for one connection on `port`, receives until the peer closes, then closes. */
int tcp_serve(u16 port, struct tcp_result *r);
/* Polls the NIC once, handling whatever arrived (ARP/ICMP answers included). */
void ip_poll(void);

void print_ip4(u32 ip);
#endif
