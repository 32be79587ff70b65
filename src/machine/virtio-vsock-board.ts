/**
 * Puts the guest channel (virtio-vsock, docs/guest-channel.md) on a PC board: PCI 00:10.0
 * (clear of the NICs, which take slots from 3 up), its BAR from the board's shared PCI MMIO
 * allocator, INTA# on ISA IRQ 11 marked level-triggered as for the NICs, DMA limited to the
 * board's RAM. The guest's CID is the caller's (Nestvisor gives every VM CID 3: each VM has its
 * own device, so CIDs never meet).
 */
import { VirtioVsock } from '../devices/virtio-vsock.js';
import type { PcMachine } from './pc.js';
import { boardPciMmio } from './virtio-net-board.js';

export const VSOCK_SLOT = 0x10;
export const VSOCK_IRQ = 11;
export const DEFAULT_GUEST_CID = 3;
const vsocks = new WeakMap<PcMachine, VirtioVsock>();

export function addVirtioVsock(pc: PcMachine, guestCid = DEFAULT_GUEST_CID): VirtioVsock {
  const existing = vsocks.get(pc);
  if (existing) return existing;
  const dev = new VirtioVsock(guestCid, pc.memory, pc.interrupts.isaIrq(VSOCK_IRQ));
  boardPciMmio(pc).attach(VSOCK_SLOT, dev.transport, VSOCK_IRQ);
  const elcr = pc.interrupts.pic.elcr;
  elcr.write(1, 1, elcr.read(1, 1) | (1 << (VSOCK_IRQ & 7)));
  vsocks.set(pc, dev);
  return dev;
}

export function virtioVsock(pc: PcMachine): VirtioVsock | undefined {
  return vsocks.get(pc);
}
