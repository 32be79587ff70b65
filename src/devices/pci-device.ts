/**
 * A PCI function with memory BARs and a capability list (PCI Local Bus Specification 3.0
 * §6.2.5 base address registers, §6.7 capabilities list). BAR sizing works the way the
 * spec describes because the address bits below the BAR's size are read-only zero in the
 * write mask: writing all ones and reading back yields ~(size - 1) | type bits.
 *
 *   memory BAR  31..4 base address | 3 prefetchable | 2..1 type (00 32-bit, 10 64-bit) | 0 = 0
 *
 * A BAR decodes only while COMMAND.memory (bit 1) is set and its base is non-zero; every
 * change of what decodes is reported to `onMapChange`, which the board's adapter
 * (src/machine/pci-mmio.ts) turns into MMIO bus registrations. The device itself never
 * learns its address: region handlers see offsets.
 */
import type { MmioHandler } from '../memory/bus.js';
import { PciConfigSpace } from './pci-config.js';

export const PCI_COMMAND = 0x04, PCI_STATUS = 0x06, PCI_CAP_PTR = 0x34, PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d;
export const CMD_IO = 0x1, CMD_MEMORY = 0x2, CMD_BUS_MASTER = 0x4, CMD_INTX_DISABLE = 0x400;
export const STATUS_INTERRUPT = 0x08, STATUS_CAP_LIST = 0x10;

export interface PciIds {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** class << 16 | subclass << 8 | prog-if */
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  /** 1 = INTA#, 0 = none. */
  interruptPin: number;
}

export interface PciBar {
  readonly index: number;
  readonly size: number;
  readonly is64: boolean;
  readonly handler: MmioHandler;
  /** The address it decodes at now, or null. */
  mapped: number | null;
}

export class PciDevice extends PciConfigSpace {
  readonly bars: PciBar[] = [];
  private capTail = PCI_CAP_PTR;
  private nextCap = 0x40;
  /** Called when a BAR starts or stops decoding, or moves (old/new null = not decoding). */
  onMapChange: ((bar: PciBar, oldBase: number | null, newBase: number | null) => void) | null = null;

  constructor(ids: PciIds) {
    super();
    this.set16(0x00, ids.vendorId);
    this.set16(0x02, ids.deviceId);
    this.set8(0x08, ids.revision);
    this.set8(0x09, ids.classCode & 0xff);
    this.set8(0x0a, (ids.classCode >>> 8) & 0xff);
    this.set8(0x0b, (ids.classCode >>> 16) & 0xff);
    this.set8(0x0e, 0x00);
    this.set16(0x2c, ids.subsystemVendorId);
    this.set16(0x2e, ids.subsystemId);
    this.set8(PCI_INTERRUPT_PIN, ids.interruptPin);
    // COMMAND: I/O, memory, bus master, INTx disable (bit 10) writable; STATUS read-only here
    this.writable(PCI_COMMAND, 1, CMD_IO | CMD_MEMORY | CMD_BUS_MASTER);
    this.writable(PCI_COMMAND + 1, 1, CMD_INTX_DISABLE >>> 8);
    this.writable(PCI_INTERRUPT_LINE, 1);
    this.writable(0x0c, 1); // cache line size
  }

  /** A memory BAR of `size` bytes (a power of two, at least 16) at BAR `index` (64-bit BARs take two). */
  addMemoryBar(index: number, size: number, is64: boolean, handler: MmioHandler): PciBar {
    if (size < 16 || (size & (size - 1)) !== 0) throw new Error(`BAR size ${size} is not a power of two >= 16`);
    const off = 0x10 + index * 4;
    this.set32(off, is64 ? 0x4 : 0x0);
    const mask = (~(size - 1) & 0xfffffff0) >>> 0;
    for (let i = 0; i < 4; i++) this.writable(off + i, 1, (mask >>> (8 * i)) & 0xff);
    if (is64) this.writable(off + 4, 4);
    const bar: PciBar = { index, size, is64, handler, mapped: null };
    this.bars.push(bar);
    return bar;
  }

  /** Appends a capability (its ID and body after the ID/next bytes); returns its config offset. */
  addCapability(id: number, body: Uint8Array): number {
    const off = this.nextCap;
    if (off + 2 + body.length > 256) throw new Error('PCI capability list overflow');
    this.set8(off, id);
    this.set8(off + 1, 0);
    this.bytes.set(body, off + 2);
    this.set8(this.capTail === PCI_CAP_PTR ? PCI_CAP_PTR : this.capTail + 1, off);
    this.capTail = off;
    this.nextCap = (off + 2 + body.length + 3) & ~3;
    this.set16(PCI_STATUS, this.configRead(PCI_STATUS, 2) | STATUS_CAP_LIST);
    return off;
  }

  /** What BAR `bar` decodes at given the current registers, or null. */
  barBase(bar: PciBar): number | null {
    if (!(this.configRead(PCI_COMMAND, 2) & CMD_MEMORY)) return null;
    const off = 0x10 + bar.index * 4;
    const lo = this.configRead(off, 4) & 0xfffffff0;
    const hi = bar.is64 ? this.configRead(off + 4, 4) : 0;
    const base = hi * 2 ** 32 + (lo >>> 0);
    if (base === 0 || base + bar.size > 2 ** 52) return null;
    return base;
  }

  /** Firmware's job on a real PC (no BIOS here): place BAR `bar` at `base` and enable decoding. */
  assignBar(bar: PciBar, base: number): void {
    const off = 0x10 + bar.index * 4;
    this.set32(off, ((base >>> 0) & 0xfffffff0) | (bar.is64 ? 0x4 : 0));
    if (bar.is64) this.set32(off + 4, Math.floor(base / 2 ** 32));
    this.set16(PCI_COMMAND, this.configRead(PCI_COMMAND, 2) | CMD_MEMORY | CMD_BUS_MASTER);
    this.remap();
  }

  get busMaster(): boolean { return (this.configRead(PCI_COMMAND, 2) & CMD_BUS_MASTER) !== 0; }
  get intxDisabled(): boolean { return (this.configRead(PCI_COMMAND, 2) & CMD_INTX_DISABLE) !== 0; }

  /** Reflects the INTx level in STATUS.interrupt (bit 3), as PCI 2.3 requires. */
  protected setInterruptStatus(on: boolean): void {
    const s = this.configRead(PCI_STATUS, 2);
    this.set16(PCI_STATUS, on ? s | STATUS_INTERRUPT : s & ~STATUS_INTERRUPT);
  }

  override configWrite(offset: number, size: number, value: number): void {
    super.configWrite(offset, size, value);
    if (offset < 0x28 && offset + size > PCI_COMMAND) this.remap();
  }

  private remap(): void {
    for (const bar of this.bars) {
      const now = this.barBase(bar);
      if (now === bar.mapped) continue;
      const old = bar.mapped;
      bar.mapped = now;
      this.onMapChange?.(bar, old, now);
    }
  }
}
