/*
 * agent-demo: a guest that answers PowerShell Direct (Invoke-Command -VMName) with the agent
 * of lib/agent.c, keeping its own small model of what the seed document configures inside a
 * VM — virtual switches, NATs, network adapters ("Ethernet" and one "vEthernet (NAME)" per
 * Internal switch), IPv4 addresses and DNS servers — with Windows' answers and error records.
 * It has no nested VMs: a request routed to one fails as Invoke-Command does for an unknown VM.
 * Command line: "no-agent" boots without opening the channel (a guest without PowerShell Direct).
 */
#include "rt.h"
#include "agent.h"

#define MAXN 16
struct sw { char name[64]; int internal; };
struct nat { char name[64]; char prefix[32]; u32 net, mask; };
struct ip { char alias[80]; char addr[20]; int plen; };
struct dns { char alias[80]; int n; char servers[4][20]; const char *ptrs[4]; };
static struct sw sws[MAXN]; static int nsw;
static struct nat nats[MAXN]; static int nnat;
static struct ip ips[MAXN]; static int nip;
static struct dns dnss[MAXN]; static int ndns;

static const char *const COMMANDS[] = {
  "New-VMSwitch", "Get-VMSwitch", "New-NetNat", "Get-NetNat", "Get-NetAdapter", "New-NetIPAddress",
  "Get-NetIPAddress", "Get-DnsClientServerAddress", "netsh interface ip add dnsserver", 0,
};

/* Adapters: index 2 is "Ethernet", then one per Internal switch, in creation order. */
static int adapter_count(void) { int n = 1; for (int i = 0; i < nsw; i++) n += sws[i].internal; return n; }
static void adapter_name(int k, char *out) {
  if (k == 0) { nv_copy(out, "Ethernet", 80); return; }
  for (int i = 0, seen = 0; i < nsw; i++) if (sws[i].internal && ++seen == k) { nv_copy(out, "vEthernet (", 80); nv_cat(out, sws[i].name, 80); nv_cat(out, ")", 80); return; }
  out[0] = 0;
}
static int find_adapter(const char *alias, char *canonical) {
  char nm[80];
  for (int k = 0; k < adapter_count(); k++) { adapter_name(k, nm); if (agent_streq(nm, alias)) { if (canonical) nv_copy(canonical, nm, 80); return k; } }
  return -1;
}
static void adapter_object(struct agent_reply *r, int k) {
  char nm[80], mac[20] = "00-15-5D-00-07-0";
  adapter_name(k, nm);
  mac[16] = (char)('0' + k); mac[17] = 0;
  nv_adapter_object(r, nm, k == 0 ? "Microsoft Hyper-V Network Adapter" : "Hyper-V Virtual Ethernet Adapter", 2 + k, mac);
}
static void switch_object(struct agent_reply *r, const struct sw *s) { nv_switch_object(r, s->name, s->internal ? "Internal" : "Private", ""); }
static void nat_object(struct agent_reply *r, const struct nat *n) { nv_nat_object(r, n->name, n->prefix); }
static void ip_object(struct agent_reply *r, const struct ip *i) { nv_ip_object(r, i->addr, 2 + find_adapter(i->alias, 0), i->alias, i->plen); }
static void new_vmswitch(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *type = agent_str(c, "SwitchType");
  const char *fq = "Microsoft.HyperV.PowerShell.Commands.NewVMSwitch";
  if (!type) {
    char f[96] = "AmbiguousParameterSet,"; nv_cat(f, fq, 96);
    reply_error(r, "Parameter set cannot be resolved using the specified named parameters.", "InvalidArgument", f, "New-VMSwitch", "", "ParameterBindingException");
    return;
  }
  for (int i = 0; i < nsw; i++) if (agent_streq(sws[i].name, name)) { nv_switch_exists(r, name); return; }
  if (nsw == MAXN) { reply_error(r, "Too many virtual switches.", "LimitsExceeded", "LimitsExceeded", "New-VMSwitch", name, "VirtualizationException"); return; }
  nv_copy(sws[nsw].name, name, 64);
  sws[nsw].internal = agent_streq(type, "Internal");
  switch_object(r, &sws[nsw++]);
}
static void get_vmswitch(const struct agent_cmd *c, struct agent_reply *r) {
  const struct agent_arg *names = agent_arg(c, "Name");
  if (!names || names->nlist == 0) { for (int i = 0; i < nsw; i++) switch_object(r, &sws[i]); return; }
  for (int k = 0; k < names->nlist; k++) {
    int hit = 0;
    for (int i = 0; i < nsw; i++) if (agent_streq(sws[i].name, names->list[k])) { switch_object(r, &sws[i]); hit = 1; }
    if (!hit) nv_switch_not_found(r, names->list[k]);
  }
}
static void new_netnat(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *prefix = agent_str(c, "InternalIPInterfaceAddressPrefix");
  u32 addr; const char *slash = prefix; while (*slash && *slash != '/') slash++;
  int plen = -1;
  if (*slash == '/' && slash[1]) { plen = 0; for (const char *p = slash + 1; *p; p++) { if (*p < '0' || *p > '9') { plen = -1; break; } plen = plen * 10 + (*p - '0'); if (plen > 32) break; } }
  if (!nv_parse_ipv4(prefix, &addr) || plen < 0 || plen > 32) {
    char d[128] = "'"; nv_cat(d, prefix, 128); nv_cat(d, "' is not an IPv4 prefix such as 192.168.100.0/24.", 128);
    nv_bad_param(r, d, "MSFT_NetNat", "New-NetNat");
    return;
  }
  u32 mask = plen ? 0xffffffffu << (32 - plen) : 0;
  for (int i = 0; i < nnat; i++) {
    if (agent_streq(nats[i].name, name)) { nv_exists(r, "MSFT_NetNat", "New-NetNat"); return; }
    u32 m = mask & nats[i].mask;
    if ((addr & m) == (nats[i].net & m)) {
      char d[160] = "The internal prefix "; nv_cat(d, prefix, 160); nv_cat(d, " overlaps ", 160); nv_cat(d, nats[i].prefix, 160);
      nv_cat(d, " of NAT '", 160); nv_cat(d, nats[i].name, 160); nv_cat(d, "'; NAT prefixes may not overlap.", 160);
      nv_bad_param(r, d, "MSFT_NetNat", "New-NetNat");
      return;
    }
  }
  if (nnat == MAXN) return;
  struct nat *n = &nats[nnat++];
  nv_copy(n->name, name, 64); n->net = addr & mask; n->mask = mask;
  nv_fmt_ipv4(n->prefix, n->net); nv_cat(n->prefix, slash, 32);
  nat_object(r, n);
}
static void get_netnat(const struct agent_cmd *c, struct agent_reply *r) {
  const struct agent_arg *names = agent_arg(c, "Name");
  for (int i = 0; i < nnat; i++) {
    int want = !names || names->nlist == 0;
    for (int k = 0; names && k < names->nlist; k++) want |= agent_streq(nats[i].name, names->list[k]);
    if (want) nat_object(r, &nats[i]);
  }
  for (int k = 0; names && k < names->nlist; k++) {
    int hit = 0;
    for (int i = 0; i < nnat; i++) hit |= agent_streq(nats[i].name, names->list[k]);
    if (!hit) nv_cim_not_found(r, "MSFT_NetNat", "Name", names->list[k], "Get-NetNat");
  }
}
/* Get-NetAdapter; `piped` collects the adapters' indexes for the next command of the pipeline. */
static void get_netadapter(const struct agent_cmd *c, struct agent_reply *r, int *piped, int *npiped) {
  const struct agent_arg *names = agent_arg(c, "Name");
  if (!names || names->nlist == 0) {
    for (int k = 0; k < adapter_count(); k++) { if (piped) piped[(*npiped)++] = k; else adapter_object(r, k); }
    return;
  }
  for (int j = 0; j < names->nlist; j++) {
    int k = find_adapter(names->list[j], 0);
    if (k < 0) { nv_cim_not_found(r, "MSFT_NetAdapter", "Name", names->list[j], "Get-NetAdapter"); continue; }
    if (piped) piped[(*npiped)++] = k; else adapter_object(r, k);
  }
}
static void new_netipaddress(const struct agent_cmd *c, struct agent_reply *r, const char *piped_alias) {
  const char *alias = piped_alias ? piped_alias : agent_str(c, "InterfaceAlias"), *addr = agent_str(c, "IPAddress"), *gw = agent_str(c, "DefaultGateway");
  long long index = agent_num(c, "InterfaceIndex", -1);
  char canonical[80];
  int k = -1;
  if (alias) { k = find_adapter(alias, canonical); if (k < 0) { nv_cim_not_found(r, "MSFT_NetAdapter", "InterfaceAlias", alias, "New-NetIPAddress"); return; } }
  else if (index >= 2 && index < 2 + adapter_count()) { k = (int)index - 2; adapter_name(k, canonical); }
  else if (index >= 0) { char v[24]; nv_fmt_ipv4(v, (u32)index); nv_cim_not_found(r, "MSFT_NetAdapter", "InterfaceIndex", v + 6, "New-NetIPAddress"); return; }
  else { reply_error(r, "Specify the interface with -InterfaceAlias or -InterfaceIndex.", "InvalidArgument", "MissingMandatoryParameter,New-NetIPAddress", "New-NetIPAddress", "", "CimException"); return; }
  u32 a, g;
  if (!addr || !nv_parse_ipv4(addr, &a)) { char d[96] = "'"; nv_cat(d, addr ? addr : "", 96); nv_cat(d, "' is not an IPv4 address.", 96); nv_bad_param(r, d, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  int plen = (int)agent_num(c, "PrefixLength", (a >> 30) == 2 ? 16 : (a >> 31) == 0 ? 8 : 24);
  if (plen < 1 || plen > 32) { nv_bad_param(r, "The prefix length must be 1 to 32.", "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  for (int i = 0; i < nip; i++) if (agent_streq(ips[i].addr, addr)) { nv_exists(r, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  char why[200];
  if (gw && nv_gateway_error(gw, addr, a, plen, &g, why, sizeof why)) { nv_bad_param(r, why, "MSFT_NetIPAddress", "New-NetIPAddress"); return; }
  if (nip == MAXN) return;
  struct ip *n = &ips[nip++];
  nv_copy(n->alias, canonical, 80); nv_copy(n->addr, addr, 20); n->plen = plen;
  ip_object(r, n);
}
static void get_netipaddress(const struct agent_cmd *c, struct agent_reply *r) {
  const char *alias = agent_str(c, "InterfaceAlias"), *addr = agent_str(c, "IPAddress");
  int any = 0;
  for (int i = 0; i < nip; i++) {
    if (alias && !agent_streq(ips[i].alias, alias)) continue;
    if (addr && !agent_streq(ips[i].addr, addr)) continue;
    ip_object(r, &ips[i]); any = 1;
  }
  if (!any && (alias || addr)) nv_cim_not_found(r, "MSFT_NetIPAddress", addr ? "IPAddress" : "InterfaceAlias", addr ? addr : alias, "Get-NetIPAddress");
}
static struct dns *dns_of(const char *alias, int create) {
  for (int i = 0; i < ndns; i++) if (agent_streq(dnss[i].alias, alias)) return &dnss[i];
  if (!create || ndns == MAXN) return 0;
  nv_copy(dnss[ndns].alias, alias, 80); dnss[ndns].n = 0;
  return &dnss[ndns++];
}
static void dns_object(struct agent_reply *r, int k) {
  char nm[80]; adapter_name(k, nm);
  struct dns *d = dns_of(nm, 0);
  reply_object(r, "Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/MSFT_DNSClientServerAddress");
  reply_str(r, "InterfaceAlias", nm); reply_int(r, "InterfaceIndex", 2 + k); reply_str(r, "AddressFamily", "IPv4");
  if (d) { for (int i = 0; i < d->n; i++) d->ptrs[i] = d->servers[i]; reply_list(r, "ServerAddresses", d->ptrs, d->n); }
  else reply_list(r, "ServerAddresses", 0, 0);
}
static void get_dns(const struct agent_cmd *c, struct agent_reply *r) {
  const char *alias = agent_str(c, "InterfaceAlias");
  if (!alias) { for (int k = 0; k < adapter_count(); k++) dns_object(r, k); return; }
  int k = find_adapter(alias, 0);
  if (k < 0) nv_cim_not_found(r, "MSFT_DNSClientServerAddress", "InterfaceAlias", alias, "Get-DnsClientServerAddress"); else dns_object(r, k);
}
/* netsh's complaints are text: the host prints errors whose FullyQualifiedErrorId is "netsh" as lines. */
static void netsh_dns(const struct agent_cmd *c, struct agent_reply *r) {
  const char *name = agent_str(c, "Name"), *addr = agent_str(c, "Address");
  char canonical[80], msg[160];
  u32 a;
  if (!name || find_adapter(name, canonical) < 0) {
    nv_copy(msg, "The interface \"", 160); nv_cat(msg, name ? name : "", 160); nv_cat(msg, "\" was not found. Run \"Get-NetAdapter\" to list the interfaces.", 160);
    nv_netsh(r, msg, "ObjectNotFound"); return;
  }
  if (!addr || !nv_parse_ipv4(addr, &a)) { nv_copy(msg, addr ? addr : "", 160); nv_cat(msg, " is not an acceptable value for address.", 160); nv_netsh(r, msg, "InvalidArgument"); return; }
  struct dns *d = dns_of(canonical, 1);
  for (int i = 0; d && i < d->n; i++) if (agent_streq(d->servers[i], addr)) { nv_netsh(r, "The object is already in the list.", "ResourceExists"); return; }
  if (d && d->n < 4) nv_copy(d->servers[d->n++], addr, 20);
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
  else {
    nv_not_recognized(r, c->name);
  }
}

static void handle(const struct agent_req *q, struct agent_reply *r, void *ctx) {
  (void)ctx;
  if (q->nroute > 0) {
    nv_vmname_not_single(r, q->route[0]);
    return;
  }
  if (q->ncmds == 1) { run(&q->cmds[0], r); return; }
  /* the seed's one pipeline: Get-NetAdapter NAME | New-NetIPAddress ... (InterfaceAlias by property name) */
  if (q->ncmds == 2 && agent_streq(q->cmds[0].name, "Get-NetAdapter") && agent_streq(q->cmds[1].name, "New-NetIPAddress")) {
    int piped[MAXN + 1], n = 0;
    get_netadapter(&q->cmds[0], r, piped, &n);
    for (int i = 0; i < n; i++) { char nm[80]; adapter_name(piped[i], nm); new_netipaddress(&q->cmds[1], r, nm); }
    return;
  }
  nv_not_bound(r, q->ncmds ? q->cmds[q->ncmds - 1].name : "");
}

static struct agent agent;

int main(void) {
  if (agent_streq(cmdline_args(), "no-agent")) {
    printf("agent-demo: running without the PowerShell Direct agent\n");
    for (;;) __asm__ volatile("pause");
  }
  agent.name = "agent-demo";
  agent.commands = COMMANDS;
  agent.handler = handle;
  int rc = agent_init(&agent);
  if (rc < 0) { printf("agent-demo: no virtio-vsock device (%d)\n", rc); return 1; }
  printf("agent-demo: PowerShell Direct agent on vsock port %u (guest CID %u)\n", AGENT_PORT, (u32)agent.cid);
  agent_serve(&agent);
}
