/*
 * The VMCALL interface minivisor offers its L2 guest (documented in docs/minivisor.md). RAX = function
 * number on VMCALL; other registers as each function says; the result comes back in RAX.
 * 0x0000-0x00ff: legacy (any other number is printed, as before);
 * 0x4e56_1xxx: the L2 paravirtual NIC (net.c);
 * 0x4e56_2xxx: the guest-channel mailbox for the nested PowerShell Direct hop (agent-l1.c / l2agent.c).
 */
#ifndef MINIVISOR_HYPERCALLS_H
#define MINIVISOR_HYPERCALLS_H
#define HC_NET_BASE 0x4e561000u
#define HC_AGENT_BASE 0x4e562000u
#define HC_CLASS_MASK 0xfffff000u

/* The L2 NIC (net.c; ABI in docs/minivisor.md "The L2 NIC"). Arguments in RBX, RCX; result in RAX. */
#define HC_NET_MAC (HC_NET_BASE + 0)   /* -> RAX 0, RBX = L2's MAC (byte 0 in bits 7:0) */
#define HC_NET_TX (HC_NET_BASE + 1)    /* RBX = guest-physical frame, RCX = length (14..1514) -> RAX 0 / HC_ERR_* */
#define HC_NET_RX (HC_NET_BASE + 2)    /* RBX = guest-physical buffer, RCX = capacity -> RAX = frame length, 0 = none */
#define HC_NET_STATS (HC_NET_BASE + 3) /* prints "minivisor: net: ..." on L1's console -> RAX 0 */
#define HC_ERR_INVAL ((u64)-1)         /* a descriptor outside L2 RAM or a bad length: refused and counted */
#define HC_ERR_NOFUNC ((u64)-2)        /* an unknown function number in a known range */
#endif
