/*
 * The guest agent inside minivisor's L2 program (docs/guest-channel.md "The nested hop"): the end
 * of `Invoke-Command -VMName L1 { Invoke-Command -VMName L2 { ... } }`. minivisor's agent
 * (agent-l1.c) queues the request in its mailbox; l2_agent_poll, called from the L2 program's wait
 * loops, takes it with HC_AGENT_RECV, runs it and hands the RESPONSE frame back with HC_AGENT_SEND
 * (mailbox.h). Frames are parsed and built by lib/nvpd.c, the same code as every other agent.
 *
 * It runs the commands the seed document runs inside the nested VM ("Traduction d'adresses réseau
 * (NAT)": Get-NetAdapter "Ethernet" | New-NetIPAddress ... -DefaultGateway ..., and netsh interface
 * ip add dnsserver) on l2_ipcfg, the configuration L2's TCP/IP stack (lib/tcpip.c) uses; each change
 * bumps l2_ipcfg_set, which the L2 program waits for. L2 has one adapter, "Ethernet" (its
 * paravirtual NIC), one IPv4 address and one DNS server. It runs no VMs of its own, so a request
 * routed further fails as Invoke-Command does for an unknown VM name.
 */
#include "rt.h"
#include "agent.h"
#include "tcpip.h"
#include "mailbox.h"

struct ip_cfg l2_ipcfg;
volatile int l2_ipcfg_set;
void l2_agent_poll(void);

#define IF_ETHERNET 2

static u8 frame[NVPD_HDR + AGENT_INBUF];
static u8 out[NVPD_HDR + AGENT_REPLY_MAX];
static struct agent_req req;
static struct agent_reply reply;
static char mac_text[18];

static inline u64 hypercall(u64 fn, u64 *rbx, u64 rcx) {
  __asm__ volatile("vmcall" : "+a"(fn), "+b"(*rbx), "+c"(rcx) : : "memory");
  return fn;
}

static const char *mac(void) {
  static const char hex[] = "0123456789ABCDEF";
  if (!mac_text[0]) {
    u64 m = 0;
    if (hypercall(HC_NET_MAC, &m, 0) != 0) m = 0;
    for (int i = 0; i < 6; i++) { u8 b = (u8)(m >> (8 * i)); mac_text[3 * i] = hex[b >> 4]; mac_text[3 * i + 1] = hex[b & 15]; mac_text[3 * i + 2] = i < 5 ? '-' : 0; }
  }
  return mac_text;
}

static int is_ethernet(const char *alias) { return alias && agent_streq(alias, "Ethernet"); }

static void adapter_object(struct agent_reply *r) { nv_adapter_object(r, "Ethernet", "Microsoft Hyper-V Network Adapter", IF_ETHERNET, mac()); }

static void ip_object(struct agent_reply *r) {
  char a[16];
  nv_fmt_ipv4(a, l2_ipcfg.ip);
  nv_ip_object(r, a, IF_ETHERNET, "Ethernet", (int)l2_ipcfg.prefix_len);
}

static void get_netadapter(const struct agent_cmd *c, struct agent_reply *r, int *piped) {
  const struct agent_arg *names = agent_arg(c, "Name");
  if (!names || names->nlist == 0) { if (piped) *piped = 1; else adapter_object(r); return; }
  for (int j = 0; j < names->nlist; j++) {
    if (!is_ethernet(names->list[j])) { nv_cim_not_found(r, "MSFT_NetAdapter", "Name", names->list[j], "Get-NetAdapter"); continue; }
    if (piped) *piped = 1; else adapter_object(r);
  }
}

static void new_netipaddress(const struct agent_cmd *c, struct agent_reply *r, int piped) {
  const char *alias = agent_str(c, "InterfaceAlias"), *addr = agent_str(c, "IPAddress"), *gw = agent_str(c, "DefaultGateway");
  long long index = agent_num(c, "InterfaceIndex", -1);
  char why[160], d[200];
  if (!piped) {
    if (alias && !is_ethernet(alias)) { nv_cim_not_found(r, "MSFT_NetAdapter", "InterfaceAlias", alias, "New-NetIPAddress"); return; }
    if (!alias && index >= 0 && index != IF_ETHERNET) { char v[16]; nv_fmt_ipv4(v, (u32)index); nv_cim_not_found(r, "MSFT_NetAdapter", "InterfaceIndex", v + 6, "New-NetIPAddress"); return; }
    if (!alias && index < 0) {
      reply_error(r, "Specify the interface with -InterfaceAlias or -InterfaceIndex.", "InvalidArgument", "MissingMandatoryParameter,New-NetIPAddress", "New-NetIPAddress", "", "CimException");
      return;
    }
  }
  u32 a = 0, g = 0;
  int a_ok = addr && nv_parse_ipv4(addr, &a);
  int plen = (int)agent_num(c, "PrefixLength", !a_ok ? 24 : (a >> 30) == 2 ? 16 : (a >> 31) == 0 ? 8 : 24);
  if (nv_host_address_error(addr ? addr : "", plen, why, sizeof why)) { nv_bad_param(r, why, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  if (l2_ipcfg.ip == a) { nv_exists(r, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  if (l2_ipcfg.ip) {
    char o[16]; nv_fmt_ipv4(o, l2_ipcfg.ip);
    nv_copy(d, "L2 keeps one IPv4 address, and 'Ethernet' has ", 200); nv_cat(d, o, 200); nv_cat(d, ".", 200);
    nv_bad_param(r, d, "MSFT_NetIPAddress", "New-NetIPAddress");
    return;
  }
  if (gw && nv_gateway_error(gw, addr, a, plen, &g, d, sizeof d)) { nv_bad_param(r, d, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  l2_ipcfg.ip = a;
  l2_ipcfg.prefix_len = (u32)plen;
  if (gw) l2_ipcfg.gw = g;
  l2_ipcfg_set++;
  ip_object(r);
}

static void get_netipaddress(const struct agent_cmd *c, struct agent_reply *r) {
  const char *alias = agent_str(c, "InterfaceAlias"), *addr = agent_str(c, "IPAddress");
  char a[16];
  nv_fmt_ipv4(a, l2_ipcfg.ip);
  int hit = l2_ipcfg.ip && (!alias || is_ethernet(alias)) && (!addr || agent_streq(addr, a));
  if (hit) ip_object(r);
  else if (alias || addr) nv_cim_not_found(r, "MSFT_NetIPAddress", addr ? "IPAddress" : "InterfaceAlias", addr ? addr : alias, "Get-NetIPAddress");
}

static void get_dns(const struct agent_cmd *c, struct agent_reply *r) {
  const char *alias = agent_str(c, "InterfaceAlias");
  char a[16];
  const char *list[1] = { a };
  if (alias && !is_ethernet(alias)) { nv_cim_not_found(r, "MSFT_DNSClientServerAddress", "InterfaceAlias", alias, "Get-DnsClientServerAddress"); return; }
  nv_fmt_ipv4(a, l2_ipcfg.dns);
  nv_dns_object(r, "Ethernet", IF_ETHERNET, list, l2_ipcfg.dns ? 1 : 0);
}

static void netsh_dns(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *addr = agent_str(c, "Address");
  char msg[160];
  u32 a;
  if (!is_ethernet(name)) {
    nv_copy(msg, "The interface \"", 160); nv_cat(msg, name ? name : "", 160); nv_cat(msg, "\" was not found. Run \"Get-NetAdapter\" to list the interfaces.", 160);
    nv_netsh(r, msg, "ObjectNotFound"); return;
  }
  if (!addr || !nv_parse_ipv4(addr, &a) || addr[strlen(addr) - 1] == '/') {
    nv_copy(msg, addr ? addr : "", 160); nv_cat(msg, " is not an acceptable value for address.", 160); nv_netsh(r, msg, "InvalidArgument"); return;
  }
  if (l2_ipcfg.dns == a) { nv_netsh(r, "The object is already in the list.", "ResourceExists"); return; }
  l2_ipcfg.dns = a;
  l2_ipcfg_set++;
}

static void run(const struct agent_cmd *c, struct agent_reply *r) {
  if (agent_streq(c->name, "Get-NetAdapter")) get_netadapter(c, r, 0);
  else if (agent_streq(c->name, "New-NetIPAddress")) new_netipaddress(c, r, 0);
  else if (agent_streq(c->name, "Get-NetIPAddress")) get_netipaddress(c, r);
  else if (agent_streq(c->name, "Get-DnsClientServerAddress")) get_dns(c, r);
  else if (agent_streq(c->name, "netsh interface ip add dnsserver")) netsh_dns(c, r);
  else nv_not_recognized(r, c->name);
}

static void handle(const struct agent_req *q, struct agent_reply *r) {
  if (q->nroute > 0) { nv_vmname_not_single(r, q->route[0]); return; }
  if (q->ncmds == 1) { run(&q->cmds[0], r); return; }
  if (q->ncmds == 2 && agent_streq(q->cmds[0].name, "Get-NetAdapter") && agent_streq(q->cmds[1].name, "New-NetIPAddress")) {
    int piped = 0;
    get_netadapter(&q->cmds[0], r, &piped);
    if (piped) new_netipaddress(&q->cmds[1], r, 1);
    return;
  }
  nv_not_bound(r, q->ncmds ? q->cmds[q->ncmds - 1].name : "");
}

/*
 * "l2agentcheck" on the command line: L2 misbehaves on purpose around each request to show that
 * minivisor's mailbox refuses what it must (mailbox.h) and stays usable: RECV into a buffer outside
 * L2's RAM and into one too small, SEND from outside L2's RAM, with a broken header, with another
 * request's id, an unknown function; every second request it answers with a RESPONSE whose item
 * count lies, which minivisor must turn into the host's "remote session might have ended" record.
 */
static int check_mode = -1;
static u32 check_requests, check_refused, check_calls;
static u64 mailbox_call(u64 fn, u64 gpa, u64 len) {
  check_calls++;
  u64 r = hypercall(fn, &gpa, len);
  if (r == HC_ERR_INVAL || r == HC_ERR_NOFUNC) check_refused++;
  return r;
}
static int misbehave_before_recv(void) {
  u64 outside = 0x40000000000ull; /* 4 TiB: no L2 has RAM there */
  if (mailbox_call(HC_AGENT_RECV, outside, sizeof frame) == 0) { check_calls--; return 0; } /* nothing queued: no buffer to check */
  mailbox_call(HC_AGENT_RECV, (u64)frame, NVPD_HDR);                     /* too small for any request */
  mailbox_call(HC_AGENT_BASE + 0x777, 0, 0);                             /* no such function */
  return 1;
}
static void misbehave_before_send(u32 id, u32 total) {
  mailbox_call(HC_AGENT_SEND, 0x40000000000ull, total);
  out[0] ^= 0xff;                                  /* bad magic */
  mailbox_call(HC_AGENT_SEND, (u64)out, total);
  out[0] ^= 0xff;
  nvpd_put_header(out, F_RESPONSE, id + 1, total - NVPD_HDR);  /* not the pending request's id */
  mailbox_call(HC_AGENT_SEND, (u64)out, total);
  nvpd_put_header(out, F_RESPONSE, id, total - NVPD_HDR);
}

static void send_reply(u32 id) {
  u32 total = nvpd_put_header(out, F_RESPONSE, id, reply.n);
  memcpy(out + NVPD_HDR, reply.buf, reply.n);
  if (check_mode > 0) {
    misbehave_before_send(id, total);
    if (++check_requests % 2 == 0) {
      out[NVPD_HDR] = 5; out[NVPD_HDR + 1] = 0;   /* claims 5 items; the bytes hold fewer */
      u64 r = mailbox_call(HC_AGENT_SEND, (u64)out, total);
      printf("agent check: request %u: %u bad mailbox calls of %u refused; a malformed RESPONSE %s\n", check_requests,
             check_refused, check_calls, r == HC_ERR_INVAL ? "refused" : "ACCEPTED");
      check_refused = check_calls = 0;
      return;
    }
    u64 r = mailbox_call(HC_AGENT_SEND, (u64)out, total);
    printf("agent check: request %u: %u bad mailbox calls of %u refused; the RESPONSE %s\n", check_requests,
           check_refused, check_calls - 1, r == 0 ? "relayed" : "REFUSED");
    check_refused = check_calls = 0;
    return;
  }
  u64 gpa = (u64)out;
  hypercall(HC_AGENT_SEND, &gpa, total);
}

void l2_agent_poll(void) {
  /* The L2 program calls this on every receive poll of its TCP/IP stack; a VMCALL is a VM exit
   * (tens of microseconds under nested emulation), so only every 8th call asks minivisor. */
  static u32 calls;
  if (calls++ & 7) return;
  if (check_mode < 0) {
    check_mode = 0;
    for (const char *s = cmdline_args(); *s; s++) if (!memcmp(s, "l2agentcheck", 12)) check_mode = 1;
  }
  if (check_mode > 0 && !misbehave_before_recv()) return;
  u64 gpa = (u64)frame; /* L2's paging is the identity: linear = guest-physical */
  u64 n = hypercall(HC_AGENT_RECV, &gpa, sizeof frame);
  u8 type;
  u32 id, len;
  if (n == 0 || n > sizeof frame || !nvpd_get_header(frame, (u32)n, &type, &id, &len)) return;
  if (type != F_REQUEST || !agent_parse_request(frame + NVPD_HDR, len, &req)) {
    agent_reply_begin(&reply);
    reply.n = 0;
    nvpd_wstr(&reply, "unreadable request");
    u32 total = nvpd_put_header(out, F_FAULT, id, reply.n);
    memcpy(out + NVPD_HDR, reply.buf, reply.n);
    gpa = (u64)out;
    hypercall(HC_AGENT_SEND, &gpa, total);
    return;
  }
  req.id = id;
  agent_reply_begin(&reply);
  handle(&req, &reply);
  agent_reply_end(&reply);
  send_reply(id);
}
