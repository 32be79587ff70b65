/*
 * The guest side of PowerShell Direct (docs/guest-channel.md): a polling virtio-vsock driver
 * (Virtual I/O Device 1.2 §5.10 on the §4.1 modern PCI transport) that listens on vsock port
 * AGENT_PORT, and the NVPD frame protocol of src/hypervisor/agent-protocol.ts. The host
 * parses and binds PowerShell; the agent receives structured requests (a pipeline of
 * commands with typed arguments) and answers with objects and error records built with the
 * reply_* helpers. One connection at a time; no interrupts; no allocator.
 */
#ifndef NV_AGENT_H
#define NV_AGENT_H
#include "virtio-pci.h"

#define AGENT_PORT 5985
#define AGENT_MAX_ROUTE 4
#define AGENT_MAX_CMDS 4
#define AGENT_MAX_ARGS 12
#define AGENT_MAX_LIST 8
#define AGENT_INBUF 8192
#define AGENT_REPLY_MAX 8192

/* NVPD frames (docs/guest-channel.md): 16-byte header, then the payload. */
#define NVPD_MAGIC 0x4450564eu   /* "NVPD" */
#define NVPD_VERSION 1
#define NVPD_HDR 16
enum { F_HELLO = 1, F_HELLO_REPLY, F_REQUEST, F_RESPONSE, F_FAULT };

enum { AV_NULL = 0, AV_STR = 1, AV_INT = 2, AV_BOOL = 3, AV_LIST = 4 };

struct agent_arg {
  const char *name;
  u8 tag;
  long long num;          /* AV_INT, AV_BOOL */
  const char *str;        /* AV_STR */
  u8 nlist;               /* AV_LIST */
  const char *list[AGENT_MAX_LIST];
};
struct agent_cmd { const char *name; u8 nargs; struct agent_arg args[AGENT_MAX_ARGS]; };
struct agent_req {
  u32 id;
  u8 nroute;
  const char *route[AGENT_MAX_ROUTE];  /* VM names below this guest, outermost first */
  u8 ncmds;
  struct agent_cmd cmds[AGENT_MAX_CMDS];
  const u8 *raw;                       /* the REQUEST payload as received (for forwarding) */
  u32 raw_len;
  char pool[AGENT_INBUF];
  u32 used;
};

struct agent_reply {
  u8 buf[AGENT_REPLY_MAX];
  u32 n;
  u16 items;
  u32 propcount_at;   /* offset of the open object's property count, or 0 */
  int overflow;
  int deferred;       /* set by a handler that answers later (agent_respond): a relayed request */
};

/* Reply builders: objects (a type name, then properties) and PowerShell error records. */
void reply_object(struct agent_reply *r, const char *type_name);
void reply_str(struct agent_reply *r, const char *name, const char *v);
void reply_int(struct agent_reply *r, const char *name, long long v);
void reply_bool(struct agent_reply *r, const char *name, int v);
void reply_list(struct agent_reply *r, const char *name, const char *const *v, int n);
void reply_error(struct agent_reply *r, const char *message, const char *category, const char *fqid,
                 const char *activity, const char *target, const char *exception);
/* Appends the items of another RESPONSE payload (a nested VM's answer, relayed). */
void reply_relay(struct agent_reply *r, const u8 *payload, u32 len);

/* Arguments by name (case-insensitive); NULL when absent. */
const struct agent_arg *agent_arg(const struct agent_cmd *c, const char *name);
const char *agent_str(const struct agent_cmd *c, const char *name);              /* a string argument or NULL */
long long agent_num(const struct agent_cmd *c, const char *name, long long dflt); /* an int/bool argument */
int agent_streq(const char *a, const char *b);   /* case-insensitive equality */

/* ---- the transport-free codec (lib/nvpd.c), shared by the vsock agent and minivisor's L2 ---- */
u32 nvpd_put_header(u8 *b, u8 type, u32 id, u32 len);                      /* returns NVPD_HDR + len */
/* 1 when b[0..n) starts with a valid header whose payload is complete. */
int nvpd_get_header(const u8 *b, u32 n, u8 *type, u32 *id, u32 *len);
/* Parses a REQUEST payload into req (strings copied into req->pool); 1 on success. */
int agent_parse_request(const u8 *p, u32 n, struct agent_req *req);
/* 1 when p[0..n) is a well-formed RESPONSE payload (checked before relaying a nested VM's answer). */
int nvpd_valid_response(const u8 *p, u32 n);
void agent_reply_begin(struct agent_reply *r);  /* empty RESPONSE payload (item count patched by _end) */
void agent_reply_end(struct agent_reply *r);    /* patches the item count; an overflow becomes one error record */
void nvpd_wu8(struct agent_reply *r, u8 v);
void nvpd_wstr(struct agent_reply *r, const char *s);

/* ---- what the agents' cmdlets share (lib/nvpd.c) ---- */
void nv_copy(char *d, const char *s, int cap);
void nv_cat(char *d, const char *s, int cap);
int nv_parse_ipv4(const char *s, u32 *out);       /* "a.b.c.d" (a '/' may follow); 1 on success */
void nv_fmt_ipv4(char *b, u32 v);                  /* b: 16 bytes */
int nv_parse_prefix(const char *s, u32 *addr, int *plen);  /* "a.b.c.d/n" */
u32 nv_mask(int plen);
void nv_fmt_uint(char *b, u32 v);                  /* decimal; b: 11 bytes */
/* Why gw cannot be the default gateway of addr (a) / plen (the host's wording), or NULL; *g gets gw. */
const char *nv_gateway_error(const char *gw, const char *addr, u32 a, int plen, u32 *g, char *buf, int cap);
/* Why ip/plen cannot be an interface address (the host's wording), or NULL. */
const char *nv_host_address_error(const char *ip, int plen, char *buf, int cap);
void nv_adapter_object(struct agent_reply *r, const char *name, const char *desc, int ifindex, const char *mac);
void nv_switch_object(struct agent_reply *r, const char *name, const char *type, const char *adapter_desc);
void nv_nat_object(struct agent_reply *r, const char *name, const char *prefix);
void nv_ip_object(struct agent_reply *r, const char *addr, int ifindex, const char *alias, int plen);
void nv_dns_object(struct agent_reply *r, const char *alias, int ifindex, const char *const *servers, int n);
void nv_cim_not_found(struct agent_reply *r, const char *cls, const char *prop, const char *value, const char *cmdlet);
void nv_bad_param(struct agent_reply *r, const char *detail, const char *cls, const char *cmdlet);
void nv_exists(struct agent_reply *r, const char *cls, const char *cmdlet);
void nv_switch_exists(struct agent_reply *r, const char *name);
void nv_switch_not_found(struct agent_reply *r, const char *name);
void nv_not_recognized(struct agent_reply *r, const char *name);
void nv_not_bound(struct agent_reply *r, const char *cmdlet);
void nv_vmname_not_single(struct agent_reply *r, const char *name);
void nv_session_ended(struct agent_reply *r);
void nv_netsh(struct agent_reply *r, const char *msg, const char *category);

typedef void (*agent_handler)(const struct agent_req *req, struct agent_reply *out, void *ctx);

struct agent {
  const char *name;                 /* announced in HELLO_REPLY */
  const char *const *commands;      /* NULL-terminated */
  agent_handler handler;
  void *ctx;
  u8 dev;
  u64 cid;
  volatile u8 *common;
  struct vpci_vq rx, tx;
  struct vpci t;                    /* the transport (lib/virtio-pci.c) */
  /* the one connection */
  int connected;
  u32 peer_port, peer_buf_alloc, peer_fwd_cnt, tx_cnt, fwd_cnt;
  u8 inbuf[AGENT_INBUF];
  u32 inlen;
  /* counters */
  u32 packets, bad_packets, bad_frames, requests;
};

/* Finds the virtio-vsock function and brings it up; 0 on success, <0 when there is none. */
int agent_init(struct agent *a);
/* Handles every packet waiting; returns how many there were. */
int agent_poll(struct agent *a);
/* Sends a RESPONSE payload for request `id` later (after a handler set out->deferred); dropped when
 * the host has closed the connection meanwhile. */
void agent_respond(struct agent *a, u32 id, const u8 *payload, u32 len);
/* Polls forever. */
void __attribute__((noreturn)) agent_serve(struct agent *a);
#endif
