/**
 * PCI configuration space of one function (PCI Local Bus Specification 3.0, §6.1) and the
 * i440FX host bridge at 00:00.0 that every QEMU "pc" machine has (Intel 82441FX PMC
 * datasheet, §3.2). A function is 256 bytes with a per-byte write mask: bits outside the
 * mask are read-only, so guest writes to them are silently dropped.
 *
 *   0x00 vendor ID      0x02 device ID     0x04 command        0x06 status
 *   0x08 revision       0x09 prog-if       0x0a subclass       0x0b class
 *   0x0c cache line     0x0d latency       0x0e header type    0x0f BIST
 *   0x10..0x27 BARs, 0x2c subsystem IDs, 0x34 capabilities, 0x3c interrupt line/pin
 */

/** What the PCI host sees of a function: byte-addressed config reads and writes. */
export interface PciFunction {
  /** offset is 0..255; size 1, 2 or 4; the access never crosses offset 256. */
  configRead(offset: number, size: number): number;
  configWrite(offset: number, size: number, value: number): void;
}

export interface PciConfigState {
  version: 1;
  /** The 256 bytes as a hex string. */
  bytes: string;
}

/** A plain 256-byte configuration space with a write mask; devices subclass or wrap it. */
export class PciConfigSpace implements PciFunction {
  readonly bytes = new Uint8Array(256);
  readonly writeMask = new Uint8Array(256);

  set8(off: number, v: number): void { this.bytes[off] = v & 0xff; }
  set16(off: number, v: number): void { this.set8(off, v); this.set8(off + 1, v >>> 8); }
  set32(off: number, v: number): void { this.set16(off, v); this.set16(off + 2, v >>> 16); }
  /** Makes [off, off+len) writable by the guest under mask m (per byte). */
  writable(off: number, len: number, m = 0xff): void { this.writeMask.fill(m, off, off + len); }

  configRead(offset: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | this.bytes[(offset + i) & 0xff]!;
    return v >>> 0;
  }

  configWrite(offset: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = (offset + i) & 0xff;
      const m = this.writeMask[o]!;
      this.bytes[o] = (this.bytes[o]! & ~m) | ((value >>> (8 * i)) & m);
    }
  }

  get state(): PciConfigState {
    return { version: 1, bytes: Buffer.from(this.bytes).toString('hex') };
  }

  set state(s: PciConfigState) {
    if (s.version !== 1 || s.bytes.length !== 512) throw new Error('unsupported PCI config state');
    this.bytes.set(Buffer.from(s.bytes, 'hex'));
  }
}

/** Intel 82441FX (i440FX) host bridge, as QEMU's "pc" machine has at 00:00.0. */
export class I440fxHostBridge extends PciConfigSpace {
  constructor() {
    super();
    this.set16(0x00, 0x8086); // VID
    this.set16(0x02, 0x1237); // DID (82441FX datasheet §3.2.1)
    this.set16(0x04, 0x0006); // PCICMD: memory and bus master enabled at reset
    this.set16(0x06, 0x0280); // PCISTS: fast back-to-back capable, DEVSEL medium
    this.set8(0x08, 0x02); //    RID
    this.set8(0x0b, 0x06); //    class 06 (bridge), subclass 00 (host), prog-if 00
    this.set8(0x0e, 0x00); //    header type 0, single function
    // PCICMD: I/O, memory, bus master, parity error response, SERR# enable are writable.
    this.writable(0x04, 1, 0x47);
    this.writable(0x05, 1, 0x01);
    this.writable(0x0d, 1, 0xf8); // MLT: latency timer, low 3 bits fixed
    // 0x50..0x7f: PMCCFG, DRAM control, PAM0-6, DRB0-7, SMRAM... kept as plain storage
    // until shadow RAM and SMRAM are modelled.
    this.writable(0x50, 0x30);
  }
}
