/**
 * Test helpers: a switch with host stacks standing in for guests ("pure-TS guests"), and a
 * port wrapper that loses frames on purpose. Used by the net tests and the NAT tests.
 */
import type { NetTimers } from './clock.js';
import { HostStack } from './host-stack.js';
import { parseIp } from './mac.js';
import { VirtualSwitch, type PortKind, type SwitchPort } from './switch.js';

export const ip = (s: string): number => {
  const v = parseIp(s);
  if (v === null) throw new Error(`bad IPv4 address ${s}`);
  return v;
};

export interface StackOnSwitch { stack: HostStack; port: SwitchPort }

/**
 * A host stack connected to `sw` as `kind` with address `addr/len`; `lose(frame, n)` (n =
 * frames this stack sent so far) returning true drops that outgoing frame before the switch.
 */
export function stackOn(sw: VirtualSwitch, timers: NetTimers, name: string, mac: number, addr: string, len: number,
  kind: PortKind = 'vm', lose?: (frame: Uint8Array, n: number) => boolean, isn?: () => number): StackOnSwitch {
  let n = 0;
  let port: SwitchPort | null = null;
  const stack = new HostStack({
    mac, timers, isn,
    output: (f) => { n++; if (lose && lose(f, n)) return; port!.send(f); },
  });
  port = sw.connect({ name, kind, mac, deliver: (f) => stack.receive(f) });
  stack.addAddress(ip(addr), len);
  return { stack, port };
}
