/*
 * minivisor's networking (net.c): L2's paravirtual NIC (the HC_NET_* VMCALLs of hypercalls.h),
 * L1's own virtio-net NIC (lib/virtio-net.c), and between them the virtual switch of mv_net
 * (netcfg.h): a bridge (External), or an internal segment with L1 as gateway and NAT.
 * docs/minivisor.md describes the ABI and the forwarding.
 */
#ifndef MINIVISOR_NET_H
#define MINIVISOR_NET_H
#include "vmx.h"
#include "netcfg.h"

/* Fills mv_net from the command line (net= ip= gw= dns= vif= l2mac=) and brings up L1's
 * virtio-net NIC when the board has one. Called once, before L2 is launched. */
void mv_net_setup(void);
/* An HC_NET_* VMCALL from L2 (RAX in the NIC range): the result goes to r->rax. */
void mv_net_vmcall(struct guest_regs *r);
/* Takes in what arrived on L1's NIC (a bounded number of frames). Called on every VM exit. */
void mv_net_poll(void);
/* "minivisor: net: tx N rx N dropped N nat N refused N" */
void mv_net_print_stats(void);
/* main.c: L2 guest-physical [gpa, gpa+len) in L1's memory, or 0 when outside L2's RAM. */
void *mv_l2_gpa(u64 gpa, u64 len);
#endif
