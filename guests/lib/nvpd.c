/*
 * NVPD version 1 (docs/guest-channel.md "The message protocol"), transport-free: the frame
 * header, the REQUEST parser and the RESPONSE builders, plus what every agent's cmdlets share —
 * IPv4 text, the objects Windows returns (MSFT_NetAdapter, MSFT_NetIPAddress, ...) and the error
 * records of the real cmdlets. lib/agent.c carries frames over virtio-vsock (the agent of an L1
 * or a plain guest); minivisor's L2 carries the same frames over VMCALL (minivisor/l2agent.c).
 */
#include "agent.h"

u32 nvpd_put_header(u8 *b, u8 type, u32 id, u32 len) {
  u32 m = NVPD_MAGIC;
  for (int i = 0; i < 4; i++) { b[i] = (u8)(m >> (8 * i)); b[8 + i] = (u8)(id >> (8 * i)); b[12 + i] = (u8)(len >> (8 * i)); }
  b[4] = NVPD_VERSION; b[5] = type; b[6] = 0; b[7] = 0;
  return NVPD_HDR + len;
}

static u32 le32(const u8 *b) { return b[0] | (b[1] << 8) | (b[2] << 16) | ((u32)b[3] << 24); }

int nvpd_get_header(const u8 *b, u32 n, u8 *type, u32 *id, u32 *len) {
  if (n < NVPD_HDR || le32(b) != NVPD_MAGIC || b[4] != NVPD_VERSION || b[6] || b[7]) return 0;
  u32 l = le32(b + 12);
  if (l > AGENT_INBUF - NVPD_HDR || n < NVPD_HDR + l) return 0;
  *type = b[5]; *id = le32(b + 8); *len = l;
  return 1;
}

void agent_reply_begin(struct agent_reply *r) {
  r->n = 2; /* item count, patched by agent_reply_end */
  r->items = 0; r->propcount_at = 0; r->overflow = 0; r->deferred = 0;
}

void agent_reply_end(struct agent_reply *r) {
  if (r->overflow) {
    r->n = 2; r->items = 0; r->overflow = 0;
    reply_error(r, "The agent's reply is larger than one frame.", "LimitsExceeded", "AgentReplyTooLarge", "", "", "InvalidOperationException");
  }
  r->buf[0] = (u8)r->items; r->buf[1] = (u8)(r->items >> 8);
}

static void wbytes(struct agent_reply *r, const void *p, u32 n) {
  if (r->n + n > AGENT_REPLY_MAX) { r->overflow = 1; return; }
  memcpy(r->buf + r->n, p, n);
  r->n += n;
}
void nvpd_wu8(struct agent_reply *r, u8 v) { wbytes(r, &v, 1); }
void nvpd_wstr(struct agent_reply *r, const char *s) {
  u32 n = (u32)strlen(s);
  u8 l[2] = { (u8)n, (u8)(n >> 8) };
  wbytes(r, l, 2);
  wbytes(r, s, n);
}
static void prop(struct agent_reply *r, const char *name, u8 tag) {
  if (r->propcount_at && !r->overflow) r->buf[r->propcount_at]++;
  nvpd_wstr(r, name);
  nvpd_wu8(r, tag);
}
void reply_object(struct agent_reply *r, const char *type_name) {
  r->items++;
  nvpd_wu8(r, 1);
  nvpd_wstr(r, type_name);
  r->propcount_at = r->n;
  nvpd_wu8(r, 0);
}
void reply_str(struct agent_reply *r, const char *name, const char *v) { prop(r, name, AV_STR); nvpd_wstr(r, v); }
void reply_int(struct agent_reply *r, const char *name, long long v) {
  prop(r, name, AV_INT);
  u8 b[8];
  for (int i = 0; i < 8; i++) b[i] = (u8)((unsigned long long)v >> (8 * i));
  wbytes(r, b, 8);
}
void reply_bool(struct agent_reply *r, const char *name, int v) { prop(r, name, AV_BOOL); nvpd_wu8(r, v ? 1 : 0); }
void reply_list(struct agent_reply *r, const char *name, const char *const *v, int n) {
  prop(r, name, AV_LIST);
  nvpd_wu8(r, (u8)n);
  for (int i = 0; i < n; i++) nvpd_wstr(r, v[i]);
}
void reply_error(struct agent_reply *r, const char *message, const char *category, const char *fqid,
                 const char *activity, const char *target, const char *exception) {
  r->items++;
  r->propcount_at = 0;
  nvpd_wu8(r, 2);
  nvpd_wstr(r, message); nvpd_wstr(r, category); nvpd_wstr(r, fqid); nvpd_wstr(r, activity); nvpd_wstr(r, target); nvpd_wstr(r, exception);
}
void reply_relay(struct agent_reply *r, const u8 *payload, u32 len) {
  if (len < 2) return;
  r->items += (u16)(payload[0] | (payload[1] << 8));
  r->propcount_at = 0;
  wbytes(r, payload + 2, len - 2);
}

int agent_streq(const char *a, const char *b) {
  for (;; a++, b++) {
    char x = *a, y = *b;
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return 0;
    if (!x) return 1;
  }
}

const struct agent_arg *agent_arg(const struct agent_cmd *c, const char *name) {
  for (int i = 0; i < c->nargs; i++) if (agent_streq(c->args[i].name, name)) return &c->args[i];
  return 0;
}

/* A cursor over a received payload; strings are copied NUL-terminated into the request's pool. */
struct cur { const u8 *p; u32 n, o; int ok; struct agent_req *req; };
static u8 cu8(struct cur *c) { if (c->o + 1 > c->n) { c->ok = 0; return 0; } return c->p[c->o++]; }
static const char *cstr(struct cur *c) {
  u32 len = cu8(c); len |= (u32)cu8(c) << 8;
  if (!c->ok || c->o + len > c->n || c->req->used + len + 1 > sizeof c->req->pool) { c->ok = 0; return ""; }
  char *s = c->req->pool + c->req->used;
  memcpy(s, c->p + c->o, len);
  s[len] = 0;
  c->o += len;
  c->req->used += len + 1;
  return s;
}
int agent_parse_request(const u8 *p, u32 n, struct agent_req *req) {
  struct cur c = { p, n, 0, 1, req };
  req->used = 0;
  req->raw = p; req->raw_len = n;
  req->nroute = cu8(&c);
  if (req->nroute > AGENT_MAX_ROUTE) return 0;
  for (int i = 0; i < req->nroute; i++) req->route[i] = cstr(&c);
  req->ncmds = cu8(&c);
  if (req->ncmds > AGENT_MAX_CMDS) return 0;
  for (int i = 0; i < req->ncmds && c.ok; i++) {
    struct agent_cmd *cmd = &req->cmds[i];
    cmd->name = cstr(&c);
    cmd->nargs = cu8(&c);
    if (cmd->nargs > AGENT_MAX_ARGS) return 0;
    for (int j = 0; j < cmd->nargs && c.ok; j++) {
      struct agent_arg *a = &cmd->args[j];
      a->name = cstr(&c);
      a->tag = cu8(&c);
      a->str = ""; a->num = 0; a->nlist = 0;
      switch (a->tag) {
        case AV_NULL: break;
        case AV_STR: a->str = cstr(&c); break;
        case AV_INT: { unsigned long long v = 0; for (int k = 0; k < 8; k++) v |= (unsigned long long)cu8(&c) << (8 * k); a->num = (long long)v; break; }
        case AV_BOOL: a->num = cu8(&c); break;
        case AV_LIST:
          a->nlist = cu8(&c);
          if (a->nlist > AGENT_MAX_LIST) return 0;
          for (int k = 0; k < a->nlist; k++) a->list[k] = cstr(&c);
          break;
        default: return 0;
      }
    }
  }
  return c.ok && c.o == n;
}


const char *agent_str(const struct agent_cmd *c, const char *name) {
  const struct agent_arg *a = agent_arg(c, name);
  return a && a->tag == AV_STR ? a->str : 0;
}
long long agent_num(const struct agent_cmd *c, const char *name, long long dflt) {
  const struct agent_arg *a = agent_arg(c, name);
  return a && (a->tag == AV_INT || a->tag == AV_BOOL) ? a->num : dflt;
}

/* A RESPONSE payload's shape (u16 items; objects and error records as the host decodes them):
 * what a relaying agent checks before passing a nested VM's answer on. */
static int skip_str(const u8 *p, u32 n, u32 *o) {
  if (*o + 2 > n) return 0;
  u32 l = p[*o] | (p[*o + 1] << 8);
  if (*o + 2 + l > n) return 0;
  *o += 2 + l;
  return 1;
}
int nvpd_valid_response(const u8 *p, u32 n) {
  if (n < 2) return 0;
  u32 items = p[0] | (p[1] << 8), o = 2;
  for (u32 i = 0; i < items; i++) {
    if (o >= n) return 0;
    u8 kind = p[o++];
    if (kind == 2) { for (int k = 0; k < 6; k++) if (!skip_str(p, n, &o)) return 0; continue; }
    if (kind != 1 || !skip_str(p, n, &o) || o >= n) return 0;
    u8 props = p[o++];
    for (u32 k = 0; k < props; k++) {
      if (!skip_str(p, n, &o) || o >= n) return 0;
      u8 tag = p[o++];
      if (tag == AV_STR) { if (!skip_str(p, n, &o)) return 0; }
      else if (tag == AV_INT) { if (o + 8 > n) return 0; o += 8; }
      else if (tag == AV_BOOL) { if (o + 1 > n) return 0; o += 1; }
      else if (tag == AV_LIST) { if (o >= n) return 0; u8 c = p[o++]; for (u32 j = 0; j < c; j++) if (!skip_str(p, n, &o)) return 0; }
      else if (tag != AV_NULL) return 0;
    }
  }
  return o == n;
}

/* ---- text ---- */

void nv_copy(char *d, const char *s, int cap) { int i = 0; for (; s[i] && i < cap - 1; i++) d[i] = s[i]; d[i] = 0; }
void nv_cat(char *d, const char *s, int cap) { int n = (int)strlen(d); nv_copy(d + n, s, cap - n); }

int nv_parse_ipv4(const char *s, u32 *out) {
  u32 v = 0;
  for (int part = 0; part < 4; part++) {
    if (*s < '0' || *s > '9') return 0;
    u32 x = 0; int digits = 0;
    while (*s >= '0' && *s <= '9') { x = x * 10 + (u32)(*s++ - '0'); if (++digits > 3 || x > 255) return 0; }
    v = (v << 8) | x;
    if (part < 3 && *s++ != '.') return 0;
  }
  if (*s && *s != '/') return 0;
  *out = v;
  return 1;
}
void nv_fmt_ipv4(char *b, u32 v) {
  int k = 0;
  for (int i = 3; i >= 0; i--) {
    u32 x = (v >> (8 * i)) & 255;
    if (x >= 100) b[k++] = (char)('0' + x / 100);
    if (x >= 10) b[k++] = (char)('0' + x / 10 % 10);
    b[k++] = (char)('0' + x % 10);
    if (i) b[k++] = '.';
  }
  b[k] = 0;
}
int nv_parse_prefix(const char *s, u32 *addr, int *plen) {
  const char *slash = s;
  while (*slash && *slash != '/') slash++;
  if (*slash != '/' || !slash[1] || !nv_parse_ipv4(s, addr)) return 0;
  int v = 0;
  for (const char *p = slash + 1; *p; p++) { if (*p < '0' || *p > '9') return 0; v = v * 10 + (*p - '0'); if (v > 32) return 0; }
  *plen = v;
  return 1;
}
u32 nv_mask(int plen) { return plen <= 0 ? 0 : plen >= 32 ? 0xffffffffu : 0xffffffffu << (32 - plen); }
void nv_fmt_uint(char *b, u32 v) {
  char r[10];
  int m = 0, k = 0;
  do { r[m++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (m) b[k++] = r[--m];
  b[k] = 0;
}

/* Why gw cannot be the default gateway of addr/plen (the host's wording), or NULL; *g gets it. */
const char *nv_gateway_error(const char *gw, const char *addr, u32 a, int plen, u32 *g, char *buf, int cap) {
  u32 m = nv_mask(plen);
  char net[16], n[12];
  if (nv_parse_ipv4(gw, g) && gw[strlen(gw) - 1] != '/' && *g != a && (*g & m) == (a & m)) return 0;
  nv_fmt_ipv4(net, a & m);
  nv_fmt_uint(n, (u32)plen);
  nv_copy(buf, "The default gateway '", cap); nv_cat(buf, gw, cap); nv_cat(buf, "' is not a valid address on ", cap); nv_cat(buf, net, cap);
  nv_cat(buf, "/", cap); nv_cat(buf, n, cap); nv_cat(buf, " other than '", cap); nv_cat(buf, addr, cap); nv_cat(buf, "'.", cap);
  return buf;
}

/* Why an address cannot be given to an interface, as Nestvisor's host says it (management/rules.ts
 * hostAddressError); 0 when it can. */
const char *nv_host_address_error(const char *ip, int plen, char *buf, int cap) {
  u32 a;
  char n[12];
  buf[0] = 0;
  if (!nv_parse_ipv4(ip, &a) || ip[strlen(ip) - 1] == '/') { nv_cat(buf, "'", cap); nv_cat(buf, ip, cap); nv_cat(buf, "' is not a valid IPv4 address.", cap); return buf; }
  if (plen < 0 || plen > 32) {
    n[0] = '-';
    nv_fmt_uint(n + 1, (u32)(plen < 0 ? -plen : plen));
    nv_cat(buf, "The prefix length ", cap); nv_cat(buf, plen < 0 ? n : n + 1, cap); nv_cat(buf, " is not valid for IPv4 (0-32).", cap); return buf;
  }
  if (a == 0 || (a >> 28) == 14 || (a >> 28) == 15) { nv_cat(buf, "'", cap); nv_cat(buf, ip, cap); nv_cat(buf, "' is not a valid unicast address.", cap); return buf; }
  if (plen <= 30) {
    u32 host = a & ~nv_mask(plen), all = ~nv_mask(plen);
    nv_fmt_uint(n, (u32)plen);
    if (host == 0 || host == all) {
      nv_cat(buf, "'", cap); nv_cat(buf, ip, cap); nv_cat(buf, host == 0 ? "' is the network address of its /" : "' is the broadcast address of its /", cap);
      nv_cat(buf, n, cap); nv_cat(buf, " prefix and cannot be assigned to an interface.", cap);
      return buf;
    }
  }
  return 0;
}

/* ---- the objects Windows returns (the same properties as the host's views) ---- */

#define CIM "Microsoft.Management.Infrastructure.CimInstance#ROOT/StandardCimv2/"
void nv_adapter_object(struct agent_reply *r, const char *name, const char *desc, int ifindex, const char *mac) {
  reply_object(r, CIM "MSFT_NetAdapter");
  reply_str(r, "Name", name);
  reply_str(r, "InterfaceDescription", desc);
  reply_int(r, "ifIndex", ifindex);
  reply_str(r, "Status", "Up");
  reply_str(r, "MacAddress", mac);
  reply_str(r, "LinkSpeed", "10 Gbps");
  reply_str(r, "InterfaceAlias", name);
  reply_int(r, "InterfaceIndex", ifindex);
}
void nv_switch_object(struct agent_reply *r, const char *name, const char *type, const char *adapter_desc) {
  reply_object(r, "Microsoft.HyperV.PowerShell.VMSwitch");
  reply_str(r, "Name", name);
  reply_str(r, "SwitchType", type);
  reply_str(r, "NetAdapterInterfaceDescription", adapter_desc);
}
void nv_nat_object(struct agent_reply *r, const char *name, const char *prefix) {
  reply_object(r, CIM "MSFT_NetNat");
  reply_str(r, "Name", name); reply_str(r, "ExternalIPInterfaceAddressPrefix", "");
  reply_str(r, "InternalIPInterfaceAddressPrefix", prefix); reply_int(r, "IcmpQueryTimeout", 30);
  reply_int(r, "TcpEstablishedConnectionTimeout", 1800); reply_int(r, "TcpTransientConnectionTimeout", 120);
  reply_str(r, "TcpFilteringBehavior", "AddressDependentFiltering"); reply_str(r, "UdpFilteringBehavior", "AddressDependentFiltering");
  reply_int(r, "UdpIdleSessionTimeout", 120); reply_bool(r, "UdpInboundRefresh", 0); reply_str(r, "Store", "Local"); reply_bool(r, "Active", 1);
}
void nv_ip_object(struct agent_reply *r, const char *addr, int ifindex, const char *alias, int plen) {
  reply_object(r, CIM "MSFT_NetIPAddress");
  reply_str(r, "IPAddress", addr); reply_int(r, "InterfaceIndex", ifindex);
  reply_str(r, "InterfaceAlias", alias); reply_str(r, "AddressFamily", "IPv4"); reply_str(r, "Type", "Unicast");
  reply_int(r, "PrefixLength", plen); reply_str(r, "PrefixOrigin", "Manual"); reply_str(r, "SuffixOrigin", "Manual");
  reply_str(r, "AddressState", "Preferred"); reply_str(r, "ValidLifetime", "Infinite ([TimeSpan]::MaxValue)");
  reply_str(r, "PreferredLifetime", "Infinite ([TimeSpan]::MaxValue)"); reply_bool(r, "SkipAsSource", 0); reply_str(r, "PolicyStore", "ActiveStore");
}
void nv_dns_object(struct agent_reply *r, const char *alias, int ifindex, const char *const *servers, int n) {
  reply_object(r, CIM "MSFT_DNSClientServerAddress");
  reply_str(r, "InterfaceAlias", alias); reply_int(r, "InterfaceIndex", ifindex); reply_str(r, "AddressFamily", "IPv4");
  reply_list(r, "ServerAddresses", servers, n);
}

/* ---- the error records of the real cmdlets (as the host's own cmdlets produce them) ---- */

void nv_cim_not_found(struct agent_reply *r, const char *cls, const char *prop, const char *value, const char *cmdlet) {
  char msg[256] = "No ", fq[96] = "CmdletizationQuery_NotFound_";
  nv_cat(msg, cls, 256); nv_cat(msg, " objects found with property '", 256); nv_cat(msg, prop, 256); nv_cat(msg, "' equal to '", 256);
  nv_cat(msg, value, 256); nv_cat(msg, "'.  Verify the value of the property and retry.", 256);
  nv_cat(fq, prop, 96); nv_cat(fq, ",", 96); nv_cat(fq, cmdlet, 96);
  reply_error(r, msg, "ObjectNotFound", fq, cmdlet, value, "CimJobException");
}
void nv_bad_param(struct agent_reply *r, const char *detail, const char *cls, const char *cmdlet) {
  char msg[256] = "The parameter is incorrect. ", fq[96] = "Windows System Error 87,";
  nv_cat(msg, detail, 256); nv_cat(fq, cmdlet, 96);
  reply_error(r, msg, "InvalidArgument", fq, cmdlet, cls, "CimException");
}
void nv_exists(struct agent_reply *r, const char *cls, const char *cmdlet) {
  char msg[96] = "Instance ", fq[96] = "Windows System Error 5010,";
  nv_cat(msg, cls, 96); nv_cat(msg, " already exists", 96); nv_cat(fq, cmdlet, 96);
  reply_error(r, msg, "ResourceExists", fq, cmdlet, cls, "CimException");
}
void nv_switch_exists(struct agent_reply *r, const char *name) {
  char msg[160] = "Failed while adding virtual Ethernet switch.\nA virtual switch named '";
  nv_cat(msg, name, 160); nv_cat(msg, "' already exists.", 160);
  reply_error(r, msg, "ResourceExists", "ObjectExists,Microsoft.HyperV.PowerShell.Commands.NewVMSwitch", "New-VMSwitch", name, "VirtualizationException");
}
void nv_switch_not_found(struct agent_reply *r, const char *name) {
  char msg[160] = "Hyper-V was unable to find a virtual switch with name \"";
  nv_cat(msg, name, 160); nv_cat(msg, "\".", 160);
  reply_error(r, msg, "InvalidArgument", "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVMSwitch", "Get-VMSwitch", name, "VirtualizationException");
}
void nv_not_recognized(struct agent_reply *r, const char *name) {
  char msg[256] = "The term '"; nv_cat(msg, name, 256);
  nv_cat(msg, "' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", 256);
  reply_error(r, msg, "ObjectNotFound", "CommandNotFoundException", "", name, "CommandNotFoundException");
}
void nv_not_bound(struct agent_reply *r, const char *cmdlet) {
  reply_error(r, "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.",
              "InvalidArgument", "InputObjectNotBound", cmdlet, "", "ParameterBindingException");
}
void nv_vmname_not_single(struct agent_reply *r, const char *name) {
  char msg[160] = "The input VMName "; nv_cat(msg, name, 160); nv_cat(msg, " does not resolve to a single virtual machine.", 160);
  reply_error(r, msg, "InvalidArgument", "InvalidVMNameNotSingle,Microsoft.PowerShell.Commands.InvokeCommandCommand", "Invoke-Command", "", "ArgumentException");
}
void nv_session_ended(struct agent_reply *r) {
  reply_error(r, "An error has occurred which Windows PowerShell cannot handle. A remote session might have ended.", "InvalidOperation",
              "CreateRemoteRunspaceForVMFailed,Microsoft.PowerShell.Commands.InvokeCommandCommand", "Invoke-Command", "", "PSRemotingDataStructureException");
}
/* netsh's complaints are text: the host prints errors whose FullyQualifiedErrorId is "netsh" as lines. */
void nv_netsh(struct agent_reply *r, const char *msg, const char *category) {
  reply_error(r, msg, category, "netsh", "netsh", "", "NativeCommandError");
}
