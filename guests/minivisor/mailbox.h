/*
 * The agent mailbox between minivisor and its L2 (docs/guest-channel.md "The nested hop"): how a
 * PowerShell Direct request routed to L2 reaches the agent inside L2 and how its answer comes
 * back. VMCALL with RAX = function; arguments in RBX, RCX; the result in RAX. The bytes moved are
 * whole NVPD frames (16-byte header + payload), the same frames the vsock channel carries.
 *
 *   HC_AGENT_RECV  RBX = guest-physical buffer, RCX = its size.
 *                  -> RAX = length of the REQUEST frame copied there (minivisor's request id in
 *                     the header), 0 when no request waits, HC_ERR_INVAL when the buffer is
 *                     outside L2's RAM or too small (nothing copied; the request stays queued).
 *                  Each call also tells minivisor that an agent runs in L2.
 *   HC_AGENT_SEND  RBX = guest-physical frame, RCX = its length: the RESPONSE (or FAULT) frame for
 *                  the request last received, carrying its id.
 *                  -> RAX 0 when relayed; HC_ERR_INVAL for a frame outside L2's RAM, a bad header,
 *                     an id that is not the pending request's, or a payload that is not a
 *                     well-formed RESPONSE (then the host gets the "remote session might have
 *                     ended" record for L2 instead). Nothing L2 writes can harm L1 or the host.
 *   other numbers in the range -> HC_ERR_NOFUNC.
 */
#ifndef MINIVISOR_MAILBOX_H
#define MINIVISOR_MAILBOX_H
#include "hypercalls.h"
#define HC_AGENT_RECV (HC_AGENT_BASE + 0)
#define HC_AGENT_SEND (HC_AGENT_BASE + 1)
#ifndef HC_ERR_INVAL
#define HC_ERR_INVAL ((u64)-1)
#define HC_ERR_NOFUNC ((u64)-2)
#endif
#endif
