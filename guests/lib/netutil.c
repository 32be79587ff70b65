/*
 * The small helpers of virtio-net.h that do not touch the device (Internet checksum, address
 * URL and command-line parsing), in their own file so that a kernel with another NIC — minivisor's
 * L2 program over its paravirtual NIC (minivisor/l2net.c) — can use them with lib/tcpip.c.
 */
#include "virtio-net.h"

u16 net_checksum(const void *data, u32 len, u32 sum) {
  const u8 *p = data;
  for (; len > 1; len -= 2, p += 2) sum += (u32)(p[0] << 8 | p[1]);
  if (len) sum += (u32)p[0] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (u16)~sum;
}

int parse_ip(const char *s, u32 *out) {
  u32 v = 0;
  for (int part = 0; part < 4; part++) {
    if (*s < '0' || *s > '9') return -1;
    u32 o = 0;
    while (*s >= '0' && *s <= '9') o = o * 10 + (u32)(*s++ - '0');
    if (o > 255) return -1;
    v = v << 8 | o;
    if (part < 3 && *s++ != '.') return -1;
  }
  *out = v;
  return 0;
}

/* "http://A.B.C.D[:PORT][/PATH]" (numeric host only): the host copied into host, port 80 by default, path "/" by default; 0 on success. */
int parse_url(const char *u, u32 *ip, u16 *port, const char **path, char *host, u32 hostcap) {
  if (memcmp(u, "http://", 7)) return -1;
  u += 7;
  u32 i = 0;
  while (u[i] && u[i] != ':' && u[i] != '/' && i + 1 < hostcap) { host[i] = u[i]; i++; }
  host[i] = 0;
  if (parse_ip(host, ip)) return -1;
  u += i;
  *port = 80;
  if (*u == ':') {
    u32 p = 0;
    for (u++; *u >= '0' && *u <= '9'; u++) p = p * 10 + (u32)(*u - '0');
    if (p == 0 || p > 65535) return -1;
    *port = (u16)p;
  }
  *path = *u ? u : "/";
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int parse_mac(const char *s, u8 mac[6]) {
  for (int i = 0; i < 6; i++) {
    int h = hexval(s[0]), l = hexval(s[1]);
    if (h < 0 || l < 0) return -1;
    mac[i] = (u8)(h << 4 | l);
    s += 2;
    if (i < 5 && *s != ':' && *s != '-') return -1;
    if (i < 5) s++;
  }
  return 0;
}

int cmdline_get(const char *key, char *buf, u32 cap) {
  const char *s = cmdline_args();
  u32 kl = (u32)strlen(key);
  while (*s) {
    while (*s == ' ') s++;
    if (!memcmp(s, key, kl) && s[kl] == '=') {
      s += kl + 1;
      u32 i = 0;
      while (*s && *s != ' ' && i + 1 < cap) buf[i++] = *s++;
      buf[i] = 0;
      return 0;
    }
    while (*s && *s != ' ') s++;
  }
  return -1;
}
