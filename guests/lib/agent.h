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
#include "rt.h"

#define AGENT_PORT 5985
#define AGENT_MAX_ROUTE 4
#define AGENT_MAX_CMDS 4
#define AGENT_MAX_ARGS 12
#define AGENT_MAX_LIST 8
#define AGENT_INBUF 8192
#define AGENT_REPLY_MAX 8192

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
int agent_streq(const char *a, const char *b);   /* case-insensitive equality */

typedef void (*agent_handler)(const struct agent_req *req, struct agent_reply *out, void *ctx);

struct agent_vq {
  u16 size, last_used, avail_idx;
  volatile u8 *notify, *desc, *used;
  volatile u16 *avail;
};

struct agent {
  const char *name;                 /* announced in HELLO_REPLY */
  const char *const *commands;      /* NULL-terminated */
  agent_handler handler;
  void *ctx;
  u8 dev;
  u64 cid;
  volatile u8 *common;
  struct agent_vq rx, tx;
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
/* Polls forever. */
void __attribute__((noreturn)) agent_serve(struct agent *a);
#endif
