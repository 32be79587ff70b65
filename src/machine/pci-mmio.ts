/**
 * Places PCI functions' memory BARs on the board's MMIO bus (STYLE habit 1: the device
 * knows offsets, this adapter knows addresses), and plays firmware for boards without a
 * BIOS: BARs get addresses in a window below the I/O APIC, memory decoding and bus
 * mastering are enabled, and INTA# is routed to an ISA IRQ written to the interrupt line
 * register, as SeaBIOS does through the PIIX PIRQ router.
 *
 * A guest that moves a BAR onto another device's range, or onto RAM, loses that BAR's
 * decoding (counted in `conflicts`) rather than stealing the addresses.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import type { PciBar, PciDevice } from '../devices/pci-device.js';
import { PCI_INTERRUPT_LINE } from '../devices/pci-device.js';
import type { PciHost } from '../devices/pci-host.js';

/** 0xFE000000..0xFEBFFFFF: free on QEMU's "pc" map below the I/O APIC (0xFEC00000). */
export const PCI_MMIO_WINDOW_BASE = 0xfe000000;
export const PCI_MMIO_WINDOW_END = 0xfec00000;

export class PciMmio {
  conflicts = 0;
  private next = PCI_MMIO_WINDOW_BASE;

  constructor(private readonly memory: PhysicalMemory, private readonly host: PciHost) {}

  /** Attaches `dev` at 00:slot.0, maps its BARs as the guest programs them, and assigns them now. */
  attach(slot: number, dev: PciDevice, irqLine: number): void {
    this.host.attach(slot, 0, dev);
    dev.onMapChange = (bar, oldBase, newBase) => this.move(bar, oldBase, newBase, slot);
    dev.configWrite(PCI_INTERRUPT_LINE, 1, irqLine);
    for (const bar of dev.bars) {
      const base = Math.ceil(this.next / bar.size) * bar.size;
      if (base + bar.size > PCI_MMIO_WINDOW_END) throw new Error('the PCI MMIO window is full');
      this.next = base + bar.size;
      dev.assignBar(bar, base);
    }
  }

  private move(bar: PciBar, oldBase: number | null, newBase: number | null, slot: number): void {
    if (oldBase !== null) this.memory.mmio.unregister(oldBase);
    if (newBase === null) return;
    if (newBase < this.memory.size) { this.conflicts++; bar.mapped = null; return; }
    try {
      this.memory.mmio.register(newBase, bar.size, bar.handler, `PCI 00:${slot.toString(16).padStart(2, '0')}.0 BAR${bar.index}`);
    } catch {
      this.conflicts++;
      bar.mapped = null;
    }
  }
}
