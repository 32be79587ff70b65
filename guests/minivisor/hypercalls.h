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
#endif
