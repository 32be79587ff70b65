/**
 * Puts virtio-net adapters on a PC board: PCI slots from 3 up (00:03.0 is where QEMU puts
 * the first NIC), the BAR in the PCI MMIO window, INTA# on ISA IRQ 11 then 10 alternately
 * (level-triggered lines QEMU's PIRQ routing also uses), and the device's DMA limited to the
 * board's RAM. The frame sink is the caller's (the hypervisor connects it to a switch port).
 */
import { VirtioNet } from '../devices/virtio-net.js';
import type { PcMachine } from './pc.js';
import { PciMmio } from './pci-mmio.js';

const FIRST_SLOT = 3;
const IRQS = [11, 10];
const boards = new WeakMap<PcMachine, { mmio: PciMmio; nics: VirtioNet[] }>();

function board(pc: PcMachine): { mmio: PciMmio; nics: VirtioNet[] } {
  let b = boards.get(pc);
  if (!b) { b = { mmio: new PciMmio(pc.memory, pc.pciHost), nics: [] }; boards.set(pc, b); }
  return b;
}

/** The board's one PCI MMIO allocator: every PCI adapter (virtio-vsock-board.ts too) takes BARs from it. */
export function boardPciMmio(pc: PcMachine): PciMmio {
  return board(pc).mmio;
}

export function addVirtioNet(pc: PcMachine, mac: number, sink: (frame: Uint8Array) => void = () => {}): VirtioNet {
  const b = board(pc);
  const n = b.nics.length;
  const irq = IRQS[n % IRQS.length]!;
  const nic = new VirtioNet(mac, pc.memory, pc.interrupts.isaIrq(irq), sink);
  b.mmio.attach(FIRST_SLOT + n, nic.transport, irq);
  // PCI INTx is level-triggered: mark the line level in the ELCR so the 8259 sees it as such
  pc.interrupts.pic.elcr.write(irq >= 8 ? 1 : 0, 1, pc.interrupts.pic.elcr.read(irq >= 8 ? 1 : 0, 1) | (1 << (irq & 7)));
  b.nics.push(nic);
  return nic;
}

export function virtioNics(pc: PcMachine): readonly VirtioNet[] {
  return boards.get(pc)?.nics ?? [];
}
