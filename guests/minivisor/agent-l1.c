/*
 * minivisor's guest agent: PowerShell Direct inside the intermediate VM (docs/guest-channel.md).
 * lib/agent.c carries NVPD frames over L1's virtio-vsock device; this file runs the cmdlets the
 * seed document runs *inside* L1 ("Traduction d'adresses réseau (NAT)": New-VMSwitch, New-NetNat,
 * Get-NetAdapter | New-NetIPAddress) on minivisor's real network state, struct mv_netcfg mv_net
 * (netcfg.h), which net.c's forwarding reads — so the commands change what L2's frames do.
 *
 * A request whose route starts with the L2's name (command line `l2vmname=`, default "L2") is the
 * nested hop `Invoke-Command -VMName L2` run inside L1: it is queued, route stripped of its first
 * name, in the mailbox of mailbox.h; L2's agent (l2agent.c) takes it with HC_AGENT_RECV and
 * answers with HC_AGENT_SEND, and the answer goes to the host under the host's request id. No
 * answer within L2_TIMEOUT_TSC (no agent in L2, L2 halted or stuck) gives the host PowerShell's
 * "remote session might have ended" record for L2, as the host itself does for a silent VM.
 *
 * Differences from Windows, documented: one virtual switch and one NetNat (minivisor runs one
 * L2 on one switch); one IPv4 address per adapter; an External switch gives L1 no
 * "vEthernet (NAME)" (L1 keeps using "Ethernet").
 */
#include "rt.h"
#include "agent.h"
#include "virtio-net.h"
#include "netcfg.h"
#include "mailbox.h"

int mv_agent_init(void);
void mv_agent_no_l2(void);
void mv_agent_poll(void);
int mv_agent_vmcall(u64 *regs);
void *mv_l2_gpa(u64 gpa, u64 len);

/* The saved L2 registers main.c hands over: architectural register numbers (SDM Vol. 2A §2.1.5). */
enum { R_RAX = 0, R_RCX = 1, R_RDX = 2, R_RBX = 3 };

/* An L2 that has not answered after this many TSC ticks is treated as gone: 0.2 s of the VM's
 * virtual time at the 2 GHz TSC of Nestvisor's CPU profile (20 M instructions at its nominal
 * rate) — long for L2's agent, which is polled from every wait loop of the L2 program, and well
 * inside the host's own time-out (30 s of wall time by default), so L1's record, naming L2, is
 * what the user sees. */
#define L2_TIMEOUT_TSC 400000000ull

#define IF_ETHERNET 2   /* L1's NIC, ifIndex 2 as on a fresh Windows VM */
#define IF_VETHERNET 3  /* "vEthernet (NAME)" of an Internal switch */

static const char *const COMMANDS[] = {
  "New-VMSwitch", "Get-VMSwitch", "New-NetNat", "Get-NetNat", "Get-NetAdapter", "New-NetIPAddress",
  "Get-NetIPAddress", "Get-DnsClientServerAddress", "netsh interface ip add dnsserver", "Invoke-Command", 0,
};

static struct agent agent;
static int agent_on;
static char l2_name[32] = "L2";
static int no_l2; /* minivisor runs no L2 (no VT-x): nested requests end at once */
static char l1_mac[18] = "00-00-00-00-00-00";

/* the mailbox: one request for L2 at a time (the host sends one pipeline and waits) */
enum { MB_IDLE, MB_QUEUED, MB_TAKEN };
static int mb_state;
static u8 mb_frame[NVPD_HDR + AGENT_INBUF];
static u32 mb_len, mb_host_id, mb_host_port;
static u64 mb_deadline;
static struct agent_reply mb_reply;
u32 mv_agent_relayed, mv_agent_timeouts, mv_agent_refused;

static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }

/* ---- L1's NIC's MAC, read from its virtio-net device configuration (Virtual I/O Device 1.1 §5.1.4) ---- */
static u32 pci_read(u8 dev, u8 reg) {
  outl(0xcf8, 0x80000000u | ((u32)dev << 11) | (reg & 0xfc));
  return inl(0xcfc);
}
static u8 pci_read8(u8 dev, u8 reg) { return (u8)(pci_read(dev, reg) >> (8 * (reg & 3))); }
static void read_l1_mac(void) {
  static const char hex[] = "0123456789ABCDEF";
  for (u8 d = 0; d < 32; d++) {
    if (pci_read(d, 0) != 0x10411af4u || !(pci_read(d, 4) & 2)) continue;  /* virtio-net, memory space on */
    for (u8 p = pci_read8(d, 0x34) & 0xfc; p; p = pci_read8(d, p + 1) & 0xfc) {
      if (pci_read8(d, p) != 0x09 || pci_read8(d, p + 3) != 4) continue;  /* VIRTIO_PCI_CAP_DEVICE_CFG */
      u8 bar = pci_read8(d, p + 4);
      u32 lo = pci_read(d, 0x10 + 4 * bar);
      u64 base = lo & ~0xfu;
      if ((lo & 6) == 4) base |= (u64)pci_read(d, 0x14 + 4 * bar) << 32;
      volatile u8 *cfg = (volatile u8 *)(base + pci_read(d, p + 8));
      for (int i = 0; i < 6; i++) { u8 b = cfg[i]; l1_mac[3 * i] = hex[b >> 4]; l1_mac[3 * i + 1] = hex[b & 15]; }
      return;
    }
  }
}

/* ---- adapters: "Ethernet" (L1's NIC) and, with an Internal switch, "vEthernet (NAME)" ---- */
static int has_vethernet(void) { return mv_net.sw_type == MV_SWITCH_INTERNAL; }
static void vethernet_name(char *out) { nv_copy(out, "vEthernet (", 80); nv_cat(out, mv_net.sw_name, 80); nv_cat(out, ")", 80); }
/* ifIndex of the adapter named alias (case-insensitive), canonical name in out; 0 when none. */
static int find_adapter(const char *alias, char *out) {
  char v[80];
  if (agent_streq(alias, "Ethernet")) { nv_copy(out, "Ethernet", 80); return IF_ETHERNET; }
  if (has_vethernet()) { vethernet_name(v); if (agent_streq(alias, v)) { nv_copy(out, v, 80); return IF_VETHERNET; } }
  return 0;
}
static int adapter_by_index(long long index, char *out) {
  if (index == IF_ETHERNET) { nv_copy(out, "Ethernet", 80); return IF_ETHERNET; }
  if (index == IF_VETHERNET && has_vethernet()) { vethernet_name(out); return IF_VETHERNET; }
  return 0;
}
static void adapter_object(struct agent_reply *r, int ifindex) {
  char nm[80];
  if (ifindex == IF_ETHERNET) { nv_adapter_object(r, "Ethernet", "Microsoft Hyper-V Network Adapter", IF_ETHERNET, l1_mac); return; }
  vethernet_name(nm);
  nv_adapter_object(r, nm, "Hyper-V Virtual Ethernet Adapter", IF_VETHERNET, "00-15-5D-00-07-03");
}
static const char *switch_type_name(int t) {
  return t == MV_SWITCH_EXTERNAL ? "External" : t == MV_SWITCH_INTERNAL ? "Internal" : "Private";
}
static void changed(void) { mv_net.generation++; }

/* ---- the cmdlets ---- */

static void new_vmswitch(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *type = agent_str(c, "SwitchType"), *nic = agent_str(c, "NetAdapterName");
  if (!name) name = "";
  if (type && nic) {
    reply_error(r, "Parameter set cannot be resolved using the specified named parameters.", "InvalidArgument",
                "AmbiguousParameterSet,Microsoft.HyperV.PowerShell.Commands.NewVMSwitch", "New-VMSwitch", "", "ParameterBindingException");
    return;
  }
  if (!type && !nic) {
    reply_error(r, "Cannot process command because of one or more missing mandatory parameters: NetAdapterName.", "InvalidArgument",
                "MissingMandatoryParameter,Microsoft.HyperV.PowerShell.Commands.NewVMSwitch", "New-VMSwitch", "", "ParameterBindingException");
    return;
  }
  if (mv_net.sw_type != MV_SWITCH_NONE && agent_streq(mv_net.sw_name, name)) { nv_switch_exists(r, name); return; }
  if (mv_net.sw_type != MV_SWITCH_NONE) {
    char msg[200] = "Failed while adding virtual Ethernet switch.\nminivisor runs one virtual switch, and '";
    nv_cat(msg, mv_net.sw_name, 200); nv_cat(msg, "' exists.", 200);
    reply_error(r, msg, "LimitsExceeded", "LimitsExceeded,Microsoft.HyperV.PowerShell.Commands.NewVMSwitch", "New-VMSwitch", name, "VirtualizationException");
    return;
  }
  if (nic) {
    char canon[80];
    if (find_adapter(nic, canon) != IF_ETHERNET) { nv_cim_not_found(r, "MSFT_NetAdapter", "Name", nic, "New-VMSwitch"); return; }
    mv_net.sw_type = MV_SWITCH_EXTERNAL;
  } else {
    mv_net.sw_type = agent_streq(type, "Internal") ? MV_SWITCH_INTERNAL : MV_SWITCH_PRIVATE;
  }
  nv_copy(mv_net.sw_name, name, sizeof mv_net.sw_name);
  mv_net.vif_ip = 0; mv_net.vif_prefix_len = 0;
  changed();
  nv_switch_object(r, mv_net.sw_name, switch_type_name(mv_net.sw_type), nic ? "Microsoft Hyper-V Network Adapter" : "");
}

static void get_vmswitch(const struct agent_cmd *c, struct agent_reply *r) {
  const struct agent_arg *names = agent_arg(c, "Name");
  const char *want = agent_str(c, "SwitchType");
  int have = mv_net.sw_type != MV_SWITCH_NONE && (!want || agent_streq(want, switch_type_name(mv_net.sw_type)));
  const char *desc = mv_net.sw_type == MV_SWITCH_EXTERNAL ? "Microsoft Hyper-V Network Adapter" : "";
  if (!names || names->nlist == 0) { if (have) nv_switch_object(r, mv_net.sw_name, switch_type_name(mv_net.sw_type), desc); return; }
  for (int k = 0; k < names->nlist; k++) {
    if (have && agent_streq(mv_net.sw_name, names->list[k])) nv_switch_object(r, mv_net.sw_name, switch_type_name(mv_net.sw_type), desc);
    else nv_switch_not_found(r, names->list[k]);
  }
}

static void nat_prefix_text(char *b) {
  char n[12];
  nv_fmt_ipv4(b, mv_net.nat_prefix);
  nv_fmt_uint(n, mv_net.nat_prefix_len);
  nv_cat(b, "/", 24); nv_cat(b, n, 24);
}

static void new_netnat(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *prefix = agent_str(c, "InternalIPInterfaceAddressPrefix");
  u32 addr;
  int plen;
  char d[160], canon[24];
  if (!name) name = "";
  if (!prefix || !nv_parse_prefix(prefix, &addr, &plen)) {
    nv_copy(d, "'", 160); nv_cat(d, prefix ? prefix : "", 160); nv_cat(d, "' is not an IPv4 prefix such as 192.168.100.0/24.", 160);
    nv_bad_param(r, d, "MSFT_NetNat", "New-NetNat");
    return;
  }
  if (addr & ~nv_mask(plen)) {
    u32 keep_p = mv_net.nat_prefix, keep_l = mv_net.nat_prefix_len;
    mv_net.nat_prefix = addr & nv_mask(plen); mv_net.nat_prefix_len = (u32)plen;
    nat_prefix_text(canon);
    mv_net.nat_prefix = keep_p; mv_net.nat_prefix_len = keep_l;
    nv_copy(d, "'", 160); nv_cat(d, prefix, 160); nv_cat(d, "' has host bits set; did you mean ", 160); nv_cat(d, canon, 160); nv_cat(d, "?", 160);
    nv_bad_param(r, d, "MSFT_NetNat", "New-NetNat");
    return;
  }
  if (mv_net.nat_present && agent_streq(mv_net.nat_name, name)) { nv_exists(r, "MSFT_NetNat", "New-NetNat"); return; }
  if (mv_net.nat_present) {
    /* WinNAT, too, runs one NAT network per host: a second New-NetNat fails with error 87 */
    nat_prefix_text(canon);
    nv_copy(d, "minivisor runs one NetNat, and '", 160); nv_cat(d, mv_net.nat_name, 160); nv_cat(d, "' (", 160); nv_cat(d, canon, 160); nv_cat(d, ") exists.", 160);
    nv_bad_param(r, d, "MSFT_NetNat", "New-NetNat");
    return;
  }
  mv_net.nat_present = 1;
  nv_copy(mv_net.nat_name, name, sizeof mv_net.nat_name);
  mv_net.nat_prefix = addr; mv_net.nat_prefix_len = (u32)plen;
  changed();
  nat_prefix_text(canon);
  nv_nat_object(r, mv_net.nat_name, canon);
}

static void get_netnat(const struct agent_cmd *c, struct agent_reply *r) {
  const struct agent_arg *names = agent_arg(c, "Name");
  char canon[24];
  if (!names || names->nlist == 0) { if (mv_net.nat_present) { nat_prefix_text(canon); nv_nat_object(r, mv_net.nat_name, canon); } return; }
  for (int k = 0; k < names->nlist; k++) {
    if (mv_net.nat_present && agent_streq(mv_net.nat_name, names->list[k])) { nat_prefix_text(canon); nv_nat_object(r, mv_net.nat_name, canon); }
    else nv_cim_not_found(r, "MSFT_NetNat", "Name", names->list[k], "Get-NetNat");
  }
}

/* Get-NetAdapter; with `piped`, collects the adapters (ifIndex) for the next command of the pipeline. */
static void get_netadapter(const struct agent_cmd *c, struct agent_reply *r, int *piped, int *npiped) {
  const struct agent_arg *names = agent_arg(c, "Name");
  char canon[80];
  if (!names || names->nlist == 0) {
    for (int i = IF_ETHERNET; i <= (has_vethernet() ? IF_VETHERNET : IF_ETHERNET); i++) { if (piped) piped[(*npiped)++] = i; else adapter_object(r, i); }
    return;
  }
  for (int j = 0; j < names->nlist && j < 4; j++) {
    int k = find_adapter(names->list[j], canon);
    if (!k) { nv_cim_not_found(r, "MSFT_NetAdapter", "Name", names->list[j], "Get-NetAdapter"); continue; }
    if (piped) piped[(*npiped)++] = k; else adapter_object(r, k);
  }
}

/* The address of adapter ifindex, if it has one. */
static int adapter_ip(int ifindex, u32 *ip, u32 *plen) {
  if (ifindex == IF_ETHERNET && mv_net.l1_ip) { *ip = mv_net.l1_ip; *plen = mv_net.l1_prefix_len; return 1; }
  if (ifindex == IF_VETHERNET && has_vethernet() && mv_net.vif_ip) { *ip = mv_net.vif_ip; *plen = mv_net.vif_prefix_len; return 1; }
  return 0;
}
static void ip_object(struct agent_reply *r, int ifindex) {
  u32 ip, plen;
  char a[16], nm[80];
  if (!adapter_ip(ifindex, &ip, &plen)) return;
  nv_fmt_ipv4(a, ip);
  if (ifindex == IF_ETHERNET) nv_copy(nm, "Ethernet", 80); else vethernet_name(nm);
  nv_ip_object(r, a, ifindex, nm, (int)plen);
}

static void new_netipaddress(const struct agent_cmd *c, struct agent_reply *r, int piped_if) {
  const char *alias = agent_str(c, "InterfaceAlias"), *addr = agent_str(c, "IPAddress"), *gw = agent_str(c, "DefaultGateway");
  const char *family = agent_str(c, "AddressFamily");
  long long index = agent_num(c, "InterfaceIndex", -1);
  char canon[80], d[200], why[160];
  int ifx = piped_if;
  if (family && agent_streq(family, "IPv6")) {
    reply_error(r, "IPv6 addresses are not supported by Nestvisor yet.", "NotSpecified", "Windows System Error 87,New-NetIPAddress", "New-NetIPAddress", "MSFT_NetIPAddress", "CimException");
    return;
  }
  if (!ifx && alias) { ifx = find_adapter(alias, canon); if (!ifx) { nv_cim_not_found(r, "MSFT_NetAdapter", "InterfaceAlias", alias, "New-NetIPAddress"); return; } }
  if (!ifx && index >= 0) {
    ifx = adapter_by_index(index, canon);
    if (!ifx) { char v[16]; nv_fmt_ipv4(v, (u32)index); nv_cim_not_found(r, "MSFT_NetAdapter", "InterfaceIndex", v + 6, "New-NetIPAddress"); return; }
  }
  if (!ifx) {
    reply_error(r, "Specify the interface with -InterfaceAlias or -InterfaceIndex.", "InvalidArgument", "MissingMandatoryParameter,New-NetIPAddress", "New-NetIPAddress", "", "CimException");
    return;
  }
  u32 a = 0, g = 0, old, oldp;
  int a_ok = addr && nv_parse_ipv4(addr, &a);
  int plen = (int)agent_num(c, "PrefixLength", !a_ok ? 24 : (a >> 30) == 2 ? 16 : (a >> 31) == 0 ? 8 : 24);
  if (nv_host_address_error(addr ? addr : "", plen, why, sizeof why)) { nv_bad_param(r, why, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  /* Windows refuses an address the host already has, whichever interface holds it */
  if ((mv_net.l1_ip && mv_net.l1_ip == a) || (has_vethernet() && mv_net.vif_ip == a)) { nv_exists(r, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  if (adapter_ip(ifx, &old, &oldp)) {
    char o[16]; nv_fmt_ipv4(o, old);
    nv_copy(d, "minivisor keeps one IPv4 address per adapter, and '", 200); nv_cat(d, ifx == IF_ETHERNET ? "Ethernet" : "vEthernet", 200);
    nv_cat(d, "' has ", 200); nv_cat(d, o, 200); nv_cat(d, ".", 200);
    nv_bad_param(r, d, "MSFT_NetIPAddress", "New-NetIPAddress");
    return;
  }
  if (gw && nv_gateway_error(gw, addr, a, plen, &g, d, sizeof d)) { nv_bad_param(r, d, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  if (ifx == IF_ETHERNET) { mv_net.l1_ip = a; mv_net.l1_prefix_len = (u32)plen; if (gw) mv_net.l1_gw = g; }
  else { mv_net.vif_ip = a; mv_net.vif_prefix_len = (u32)plen; }
  changed();
  ip_object(r, ifx);
}

static void get_netipaddress(const struct agent_cmd *c, struct agent_reply *r) {
  const char *alias = agent_str(c, "InterfaceAlias"), *addr = agent_str(c, "IPAddress");
  long long index = agent_num(c, "InterfaceIndex", -1);
  char canon[80], a[16];
  int any = 0;
  for (int i = IF_ETHERNET; i <= IF_VETHERNET; i++) {
    u32 ip, plen;
    if (!adapter_ip(i, &ip, &plen)) continue;
    if (alias && find_adapter(alias, canon) != i) continue;
    if (index >= 0 && index != i) continue;
    nv_fmt_ipv4(a, ip);
    if (addr && !agent_streq(addr, a)) continue;
    ip_object(r, i);
    any = 1;
  }
  if (!any && (alias || addr)) nv_cim_not_found(r, "MSFT_NetIPAddress", addr ? "IPAddress" : "InterfaceAlias", addr ? addr : alias, "Get-NetIPAddress");
}

static void dns_object(struct agent_reply *r, int ifx) {
  char a[16], nm[80];
  const char *list[1] = { a };
  if (ifx == IF_ETHERNET) { nv_fmt_ipv4(a, mv_net.l1_dns); nv_dns_object(r, "Ethernet", IF_ETHERNET, list, mv_net.l1_dns ? 1 : 0); return; }
  vethernet_name(nm);
  nv_dns_object(r, nm, IF_VETHERNET, list, 0);
}
static void get_dns(const struct agent_cmd *c, struct agent_reply *r) {
  const char *alias = agent_str(c, "InterfaceAlias");
  char canon[80];
  if (!alias) { dns_object(r, IF_ETHERNET); if (has_vethernet()) dns_object(r, IF_VETHERNET); return; }
  int k = find_adapter(alias, canon);
  if (!k) nv_cim_not_found(r, "MSFT_DNSClientServerAddress", "InterfaceAlias", alias, "Get-DnsClientServerAddress"); else dns_object(r, k);
}
/* netsh interface ip add dnsserver: L1 keeps one DNS server, on "Ethernet" (the one NAT forwards to). */
static void netsh_dns(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *addr = agent_str(c, "Address");
  char canon[80], msg[160];
  u32 a;
  int k = name ? find_adapter(name, canon) : 0;
  if (!k) {
    nv_copy(msg, "The interface \"", 160); nv_cat(msg, name ? name : "", 160); nv_cat(msg, "\" was not found. Run \"Get-NetAdapter\" to list the interfaces.", 160);
    nv_netsh(r, msg, "ObjectNotFound"); return;
  }
  if (!addr || !nv_parse_ipv4(addr, &a) || addr[strlen(addr) - 1] == '/') {
    nv_copy(msg, addr ? addr : "", 160); nv_cat(msg, " is not an acceptable value for address.", 160); nv_netsh(r, msg, "InvalidArgument"); return;
  }
  if (k != IF_ETHERNET) { nv_netsh(r, "minivisor keeps DNS servers for \"Ethernet\" only.", "InvalidArgument"); return; }
  if (mv_net.l1_dns == a) { nv_netsh(r, "The object is already in the list.", "ResourceExists"); return; }
  mv_net.l1_dns = a;
  changed();
}

static void run(const struct agent_cmd *c, struct agent_reply *r) {
  if (agent_streq(c->name, "New-VMSwitch")) new_vmswitch(c, r);
  else if (agent_streq(c->name, "Get-VMSwitch")) get_vmswitch(c, r);
  else if (agent_streq(c->name, "New-NetNat")) new_netnat(c, r);
  else if (agent_streq(c->name, "Get-NetNat")) get_netnat(c, r);
  else if (agent_streq(c->name, "Get-NetAdapter")) get_netadapter(c, r, 0, 0);
  else if (agent_streq(c->name, "New-NetIPAddress")) new_netipaddress(c, r, 0);
  else if (agent_streq(c->name, "Get-NetIPAddress")) get_netipaddress(c, r);
  else if (agent_streq(c->name, "Get-DnsClientServerAddress")) get_dns(c, r);
  else if (agent_streq(c->name, "netsh interface ip add dnsserver")) netsh_dns(c, r);
  else nv_not_recognized(r, c->name);
}

/* ---- the nested hop: queue the request for L2's agent ---- */

static void relay_to_l2(const struct agent_req *q, struct agent_reply *r) {
  /* the route section of the payload: u8 count, then the names as u16-length strings */
  u32 skip = 1;
  for (int i = 0; i < q->nroute; i++) skip += 2 + (u32)strlen(q->route[i]);
  if (skip > q->raw_len) { nv_session_ended(r); return; }
  u32 plen = 1;
  u8 *p = mb_frame + NVPD_HDR;
  p[0] = (u8)(q->nroute - 1);               /* the route minus its first name, L2's */
  for (int i = 1; i < q->nroute; i++) {
    u32 n = (u32)strlen(q->route[i]);
    p[plen] = (u8)n; p[plen + 1] = (u8)(n >> 8);
    memcpy(p + plen + 2, q->route[i], n);
    plen += 2 + n;
  }
  if (plen + (q->raw_len - skip) > AGENT_INBUF) { nv_session_ended(r); return; }
  memcpy(p + plen, q->raw + skip, q->raw_len - skip);
  plen += q->raw_len - skip;
  mb_len = nvpd_put_header(mb_frame, F_REQUEST, q->id, plen);
  mb_host_id = q->id;
  mb_host_port = agent.peer_port;
  mb_deadline = rdtsc() + L2_TIMEOUT_TSC;
  mb_state = MB_QUEUED;
  r->deferred = 1;
}

static void answer_l2_gone(void) {
  agent_reply_begin(&mb_reply);
  nv_session_ended(&mb_reply);
  agent_reply_end(&mb_reply);
  if (agent.connected && agent.peer_port == mb_host_port) agent_respond(&agent, mb_host_id, mb_reply.buf, mb_reply.n);
  mb_state = MB_IDLE;
}

static void handle(const struct agent_req *q, struct agent_reply *r, void *ctx) {
  (void)ctx;
  if (q->nroute > 0) {
    if (!agent_streq(q->route[0], l2_name)) { nv_vmname_not_single(r, q->route[0]); return; }
    if (no_l2) { nv_session_ended(r); return; } /* as for an L2 that never answers, without the wait */
    if (mb_state != MB_IDLE) mv_agent_timeouts++;  /* a new request replaces one the host gave up on */
    relay_to_l2(q, r);
    return;
  }
  if (q->ncmds == 1) { run(&q->cmds[0], r); return; }
  /* the seed's pipeline: Get-NetAdapter NAME | New-NetIPAddress ... (InterfaceAlias by property name) */
  if (q->ncmds == 2 && agent_streq(q->cmds[0].name, "Get-NetAdapter") && agent_streq(q->cmds[1].name, "New-NetIPAddress")) {
    int piped[4], n = 0;
    get_netadapter(&q->cmds[0], r, piped, &n);
    for (int i = 0; i < n; i++) new_netipaddress(&q->cmds[1], r, piped[i]);
    return;
  }
  nv_not_bound(r, q->ncmds ? q->cmds[q->ncmds - 1].name : "");
}

/* ---- the hooks main.c calls ---- */

int mv_agent_init(void) {
  char v[32];
  if (cmdline_get("l2vmname", v, sizeof v) == 0 && v[0]) nv_copy(l2_name, v, sizeof l2_name);
  agent.name = "minivisor";
  agent.commands = COMMANDS;
  agent.handler = handle;
  if (agent_init(&agent) < 0) return 0;  /* no virtio-vsock device: no PowerShell Direct, quietly */
  read_l1_mac();
  agent_on = 1;
  printf("minivisor: PowerShell Direct agent on vsock port %u; nested requests for %s go through the VMCALL mailbox\n", AGENT_PORT, l2_name);
  return 1;
}

void mv_agent_no_l2(void) { no_l2 = 1; }

void mv_agent_poll(void) {
  if (!agent_on) return;
  agent_poll(&agent);
  if (mb_state != MB_IDLE && (long long)(rdtsc() - mb_deadline) > 0) { mv_agent_timeouts++; answer_l2_gone(); }
}

int mv_agent_vmcall(u64 *regs) {
  u64 fn = regs[R_RAX], gpa = regs[R_RBX], len = regs[R_RCX];
  if (fn == HC_AGENT_RECV) {
    if (mb_state != MB_QUEUED) { regs[R_RAX] = 0; return 1; }
    u8 *dst = len >= mb_len ? mv_l2_gpa(gpa, mb_len) : 0;
    if (!dst) { mv_agent_refused++; regs[R_RAX] = HC_ERR_INVAL; return 1; }
    memcpy(dst, mb_frame, mb_len);
    mb_state = MB_TAKEN;
    regs[R_RAX] = mb_len;
    return 1;
  }
  if (fn == HC_AGENT_SEND) {
    const u8 *src = len >= NVPD_HDR && len <= NVPD_HDR + AGENT_REPLY_MAX ? mv_l2_gpa(gpa, len) : 0;
    u8 type;
    u32 id, plen;
    if (!src || mb_state != MB_TAKEN || !nvpd_get_header(src, (u32)len, &type, &id, &plen) || id != mb_host_id) {
      mv_agent_refused++; regs[R_RAX] = HC_ERR_INVAL; return 1;
    }
    if (type != F_RESPONSE || !nvpd_valid_response(src + NVPD_HDR, plen)) {
      /* a FAULT or an unreadable answer from L2 ends L2's session, not the host's session with L1 */
      mv_agent_refused++; answer_l2_gone(); regs[R_RAX] = HC_ERR_INVAL; return 1;
    }
    if (agent.connected && agent.peer_port == mb_host_port) agent_respond(&agent, mb_host_id, src + NVPD_HDR, plen);
    mv_agent_relayed++;
    mb_state = MB_IDLE;
    regs[R_RAX] = 0;
    return 1;
  }
  regs[R_RAX] = HC_ERR_NOFUNC;
  return 1;
}

/* Until main.c/net.c define them (SEED-NET's side), these keep minivisor linking. */
__attribute__((weak)) struct mv_netcfg mv_net;
__attribute__((weak)) void *mv_l2_gpa(u64 gpa, u64 len) { (void)gpa; (void)len; return 0; }
