/**
 * Gives every VM the guest channel of PowerShell Direct (docs/guest-channel.md): a virtio-vsock
 * device on its PC board and the host endpoint behind it, the role VMBus and hv_sock play in
 * Hyper-V. Management reaches a running VM's agent through PartitionHandle.openGuestSession.
 */
import { PcMachine } from '../machine/pc.js';
import { addVirtioVsock } from '../machine/virtio-vsock-board.js';
import { GuestAgentError, GuestAgentSession, type GuestAgentOptions } from './guest-agent.js';
import type { MachineFactory, MachineLike } from './machine-host.js';
import { VsockHost } from './vsock-host.js';

/** Wraps a factory so that each PcMachine it builds carries a virtio-vsock device and its host end. */
export function withGuestChannel(factory: MachineFactory | null): MachineFactory | null {
  if (!factory) return null;
  return (o) => {
    const m = factory(o);
    if (!(m instanceof PcMachine) || m.guestChannel) return m;
    const host = new VsockHost(addVirtioVsock(m));
    return Object.assign(m, { guestChannel: () => host });
  };
}

/** Opens a session with the machine's agent; a machine without a channel has no agent. */
export function openGuestSession(machine: MachineLike, opts: GuestAgentOptions): Promise<GuestAgentSession> {
  const host = machine.guestChannel?.();
  if (!host) return Promise.reject(new GuestAgentError('no-agent', 'this virtual machine has no guest channel'));
  return GuestAgentSession.open(host, opts);
}

declare module '../machine/pc.js' {
  interface PcMachine {
    /** Set by withGuestChannel: the host end of the board's virtio-vsock device. */
    guestChannel?: () => VsockHost;
  }
}
