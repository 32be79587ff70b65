/**
 * External switches bridge to a host interface through a TAP device. Creating one needs
 * CAP_NET_ADMIN and the TUNSETIFF ioctl on /dev/net/tun, which Node.js cannot issue
 * without a native addon; Nestvisor has none, so an External switch's uplink is refused
 * with the reason, and the switch still connects its VMs (and host vNIC) to each other.
 */
import { existsSync, readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12;

/** Why this process cannot bridge switch `name` to host adapter `adapter`. */
export function uplinkUnavailableReason(name: string, adapter: string | null): string {
  const why: string[] = [];
  if (!existsSync('/dev/net/tun')) why.push('/dev/net/tun does not exist');
  if (!hasCapability(CAP_NET_ADMIN)) why.push('the process lacks CAP_NET_ADMIN');
  why.push('creating a TAP device needs the TUNSETIFF ioctl, which this build of Nestvisor cannot issue from Node.js');
  return `The external virtual switch '${name}' is not bridged to '${adapter ?? 'the host'}': ${why.join('; ')}. ` +
    'Its virtual machines reach each other only; use an Internal switch with New-NetNat to reach the outside.';
}

function hasCapability(bit: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? (BigInt(`0x${m[1]}`) >> BigInt(bit) & 1n) === 1n : false;
  } catch {
    return false;
  }
}
