/*
 * minivisor's network configuration: the state the seed document's commands set *inside* the
 * intermediate VM (New-VMSwitch, New-NetNat, Get-NetAdapter | New-NetIPAddress — applied by the
 * guest agent, agent-l1.c) and that the L2 NIC's forwarding reads (net.c). One L2, one virtual
 * switch, as in the seed document. Command-line options (main.c) may preset it for tests.
 */
#ifndef MINIVISOR_NETCFG_H
#define MINIVISOR_NETCFG_H
#include "rt.h"

#define MV_SWITCH_NONE 0      /* L2's NIC is connected to nothing: its frames are dropped */
#define MV_SWITCH_EXTERNAL 1  /* bridge: L2's frames leave through L1's NIC unchanged (seed: MAC spoofing) */
#define MV_SWITCH_INTERNAL 2  /* an internal segment; L2 reaches out only through L1's NetNat (seed: NAT) */
#define MV_SWITCH_PRIVATE 3   /* L2 only (no vEthernet adapter in L1) */

struct mv_netcfg {
  /* New-VMSwitch -Name NAME -SwitchType Internal|Private, or -NetAdapterName (External) */
  int sw_type;
  char sw_name[32];
  /* New-NetIPAddress on "vEthernet (NAME)": L1's address on the internal segment (the gateway L2 uses) */
  u32 vif_ip, vif_prefix_len;
  /* New-NetNat -Name N -InternalIPInterfaceAddressPrefix A.B.C.D/len */
  int nat_present;
  char nat_name[32];
  u32 nat_prefix, nat_prefix_len;
  /* L1's own NIC ("Ethernet") on the L0 network: address, gateway, DNS (command line ip= gw= dns=) */
  u32 l1_ip, l1_prefix_len, l1_gw, l1_dns;
  /* bumped on every change, so net.c can notice a reconfiguration */
  u32 generation;
};

extern struct mv_netcfg mv_net;
#endif
