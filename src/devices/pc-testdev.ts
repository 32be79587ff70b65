/**
 * QEMU's pc-testdev (hw/misc/pc-testdev.c), the ISA test device kvm-unit-tests' x86/run
 * always adds (`-device pc-testdev`). Only what those tests use, with QEMU's semantics:
 *
 *   ports 0xE0-0xE3   scratch    a 32-bit data register; an access of N bytes at offset k
 *                                reads/writes bytes k..k+N-1 of it (emulator.c string I/O,
 *                                realmode.c io tests)
 *   port  0xE4        flush      "flush page": KVM drops the host mapping of the page whose
 *                                physical address is written, so the next guest access faults
 *                                in again (eventinj.c). An interpreter has no host mapping to
 *                                drop, so the write has no guest-visible effect; reads give 0.
 *   ports 0xE8-0xEB   scratch    the same register through QEMU's byte-split region
 *   ports 0x2000-0x2017 irq      a byte write of v to 0x2000+n drives ISA IRQ line n to (v != 0)
 *                                (apic.c set_irq_line: ioapic.c; realmode.c sti inhibit); reads 0
 *   MMIO 0xFF000000, 64 KiB      iomem  plain little-endian memory behind an MMIO region, so every
 *                                access to it is an emulated MMIO access (emulator.c)
 *
 * Access widths follow what QEMU does on KVM's I/O-exit path (address_space_rw splits an
 * access into pieces no wider than the region allows and no wider than the address's
 * alignment): an OUTL to 0x200B sets line 11 from its low byte and lines 12-14 from the
 * others. QEMU's TCG path drops such an access instead; we follow the KVM path, which is
 * the one kvm-unit-tests is written against. IRQ lines 16-23 exist as ports but QEMU
 * asserts on them (isa_get_irq takes 0-15); here they are ignored.
 *
 * The device knows offsets, not addresses: PcTestdev has one handler per region and
 * src/machine places them (PC_TESTDEV_* below are the addresses QEMU uses).
 */
import type { IrqLine } from './lines.js';

export const PC_TESTDEV_SCRATCH_PORT = 0xe0;
export const PC_TESTDEV_FLUSH_PORT = 0xe4;
export const PC_TESTDEV_SCRATCH_BYTE_PORT = 0xe8;
export const PC_TESTDEV_IRQ_PORT = 0x2000;
export const PC_TESTDEV_IRQ_PORTS = 24;
export const PC_TESTDEV_IOMEM_BASE = 0xff000000;
export const PC_TESTDEV_IOMEM_LEN = 0x10000;

/** ISA IRQs the irq region can drive (0-15). */
const ISA_IRQS = 16;

export interface PcTestdevState {
  version: 1;
  /** The scratch register as an unsigned 32-bit value. */
  scratch: number;
  /** The iomem contents (PC_TESTDEV_IOMEM_LEN bytes). */
  iomem: Uint8Array;
}

/** Where a handler for one region of the device is placed (port or MMIO bus). */
export interface RegionHandler {
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

export class PcTestdev {
  private scratch = 0;
  private readonly iomem = new Uint8Array(PC_TESTDEV_IOMEM_LEN);
  private readonly iomemView = new DataView(this.iomem.buffer);

  /** `irq(n)` is ISA IRQ line n (0-15) of the board. */
  constructor(private readonly irq: (n: number) => IrqLine) {}

  /** Ports 0xE0-0xE3 (and 0xE8-0xEB): the scratch register, byte k at offset k. */
  readonly scratchPorts: RegionHandler = {
    read: (offset, size) => {
      let v = 0;
      for (let k = 0; k < size; k++) {
        const b = offset + k;
        if (b < 4) v += ((this.scratch >>> (8 * b)) & 0xff) * 2 ** (8 * k);
      }
      return v;
    },
    write: (offset, size, value) => {
      for (let k = 0; k < size; k++) {
        const b = offset + k;
        if (b >= 4) break; // the rest of the access falls on the next region, not this register
        const byte = (value >>> (8 * k)) & 0xff;
        this.scratch = ((this.scratch & ~(0xff << (8 * b))) | (byte << (8 * b))) >>> 0;
      }
    },
  };

  /** Port 0xE4: the flush-page request (4-byte writes only in QEMU; no effect here, see above). */
  readonly flushPort: RegionHandler = {
    read: () => 0,
    write: () => {},
  };

  /** Ports 0x2000-0x2017: one byte per IRQ line. */
  readonly irqPorts: RegionHandler = {
    read: () => 0,
    write: (offset, size, value) => {
      for (let k = 0; k < size; k++) {
        const line = offset + k;
        if (line >= PC_TESTDEV_IRQ_PORTS) break;
        if (line < ISA_IRQS) this.irq(line).set(((value >>> (8 * k)) & 0xff) !== 0);
      }
    },
  };

  /** MMIO 0xFF000000: 64 KiB of little-endian memory; bytes past the end read 0 and drop writes. */
  readonly iomemRegion: RegionHandler = {
    read: (offset, size) => {
      if (offset + size <= PC_TESTDEV_IOMEM_LEN) {
        if (size === 1) return this.iomem[offset]!;
        if (size === 2) return this.iomemView.getUint16(offset, true);
        if (size === 4) return this.iomemView.getUint32(offset, true);
      }
      let v = 0;
      for (let k = 0; k < Math.min(size, 4); k++) {
        const o = offset + k;
        if (o < PC_TESTDEV_IOMEM_LEN) v += this.iomem[o]! * 2 ** (8 * k);
      }
      return v;
    },
    write: (offset, size, value) => {
      for (let k = 0; k < Math.min(size, 4); k++) {
        const o = offset + k;
        if (o < PC_TESTDEV_IOMEM_LEN) this.iomem[o] = (value >>> (8 * k)) & 0xff;
      }
    },
  };

  get state(): PcTestdevState {
    return { version: 1, scratch: this.scratch, iomem: this.iomem.slice() };
  }

  set state(s: PcTestdevState) {
    if (s.version !== 1) throw new Error(`unsupported PcTestdev state version ${String(s.version)}`);
    if (s.iomem.length !== PC_TESTDEV_IOMEM_LEN) throw new Error('PcTestdev state: iomem has the wrong size');
    this.scratch = s.scratch >>> 0;
    this.iomem.set(s.iomem);
  }
}
