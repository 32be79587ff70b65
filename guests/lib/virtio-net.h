/*
 * A polling virtio-net driver for test kernels (Virtual I/O Device 1.1: §4.1 modern PCI
 * transport, §2.6 split virtqueues, §5.1 network device). Finds the device through PCI
 * configuration mechanism #1 (ports 0xcf8/0xcfc), walks the vendor capabilities to the
 * common/notify/ISR/device regions of its BAR, negotiates VERSION_1 + MAC + STATUS, sets up
 * one receive and one transmit queue and never uses interrupts.
 */
#ifndef NV_VIRTIO_NET_H
#define NV_VIRTIO_NET_H
#include "virtio-pci.h"

#define VNET_QSIZE 16
#define VNET_HDR 12
#define VNET_BUF 1536

struct vnet {
  u8 dev;             /* PCI device number on bus 0 */
  u8 mac[6];
  int link_up;
  volatile u8 *common, *isr, *devcfg;
  struct vpci_vq rx, tx;
  struct vpci t;      /* the transport (lib/virtio-pci.c) */
};

/* Finds the n-th virtio-net function and brings it up; 0 on success, <0 on error (printed). */
int vnet_init(struct vnet *n, int index);
/* Sends one frame (no FCS); waits until the device took the previous one. 0 on success. */
int vnet_send(struct vnet *n, const void *frame, u32 len);
/* Copies the next received frame into buf; returns its length, or 0 when none is waiting. */
u32 vnet_recv(struct vnet *n, void *buf, u32 cap);

/* Helpers for the test kernels' tiny network code. */
u16 net_checksum(const void *data, u32 len, u32 initial);
/* Parses "a.b.c.d"; returns 0 and sets *out (host order) on success. */
int parse_ip(const char *s, u32 *out);
/* Parses "http://A.B.C.D[:PORT][/PATH]": host text into host (hostcap bytes), *path into u; 0 on success. */
int parse_url(const char *u, u32 *ip, u16 *port, const char **path, char *host, u32 hostcap);
/* Parses "aa:bb:cc:dd:ee:ff". */
int parse_mac(const char *s, u8 mac[6]);
/* The value of "key=" in the command line, up to the next space, copied into buf. */
int cmdline_get(const char *key, char *buf, u32 cap);
#endif
