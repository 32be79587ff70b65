/**
 * Guest-physical memory: RAM in one host buffer, laid out like a PC's — the first
 * `lowSize` bytes (at most 3 GiB) at physical 0, the rest above 4 GiB, leaving the 3-4 GiB
 * hole to MMIO (APIC, I/O APIC, HPET, PCI BARs) — plus an MMIO bus for everything that is
 * not RAM. Every access is bounds-checked against this VM's RAM (DESIGN: isolation);
 * unclaimed addresses float. Addresses are plain numbers below 2^52 (MAXPHYADDR).
 *
 * A "RAM index" is the offset of a guest-physical address in `ram`: equal to the address
 * below 3 GiB, address - 1 GiB above 4 GiB. Code that touches `ram` directly (the CPU's
 * TLB, DMA) converts with `ramIndex`.
 */
import { MmioBus } from './bus.js';

/** Where RAM stops below 4 GiB: the PCI/MMIO hole of a PC starts here (as QEMU's "pc"). */
export const LOW_RAM_LIMIT = 0xc000_0000;
/** RAM above the hole starts at 4 GiB. */
export const HIGH_RAM_BASE = 0x1_0000_0000;
/** A JS ArrayBuffer holds at most 4 GiB on Node 20, so that is the largest VM for now. */
export const MAX_RAM_BYTES = 0x1_0000_0000;

export class PhysicalMemory {
  readonly ram: Uint8Array;
  readonly view: DataView;
  /** Total RAM in bytes (grows only through hotAdd). */
  size: number;
  /** RAM below the hole: physical [0, lowSize). */
  lowSize: number;
  /** RAM above the hole: physical [4 GiB, 4 GiB + highSize). */
  highSize: number;
  /** Bytes the host buffer holds: how far hotAdd can grow `size` (src/machine/memory-control.ts). */
  readonly reserveBytes: number;
  readonly mmio = new MmioBus();
  /**
   * Pages that hold decoded code (one byte per 4K page, by RAM index). Writes to such pages
   * call onCodeWrite so the CPU can drop stale decoded instructions.
   */
  readonly codePages: Uint8Array;
  onCodeWrite: ((page: number) => void) | null = null;

  /**
   * `reserveBytes` (default: the RAM size) sizes the host buffer up front so that RAM can be
   * hot-added later without moving it; the host's pages are only committed when touched.
   */
  constructor(sizeBytes: number, reserveBytes = sizeBytes) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 4096 !== 0) {
      throw new RangeError('RAM size must be a positive multiple of 4 KiB');
    }
    if (sizeBytes > MAX_RAM_BYTES) throw new RangeError('RAM above 4 GiB is not supported yet (one host buffer holds at most 4 GiB)');
    reserveBytes = Math.min(MAX_RAM_BYTES, Math.max(sizeBytes, Math.floor(reserveBytes / 4096) * 4096));
    this.size = sizeBytes;
    this.lowSize = Math.min(sizeBytes, LOW_RAM_LIMIT);
    this.highSize = sizeBytes - this.lowSize;
    this.reserveBytes = reserveBytes;
    this.ram = new Uint8Array(reserveBytes);
    this.view = new DataView(this.ram.buffer);
    this.codePages = new Uint8Array(Math.ceil(reserveBytes / 4096));
  }

  /**
   * Memory hot-add: RAM grows to `newSize` bytes (a multiple of 4 KiB, within reserveBytes),
   * appended in RAM-index order (below 3 GiB first, then above 4 GiB) so nothing moves.
   * The new bytes are zero: RAM never shrinks, so nothing has written past `size`.
   * Callers flush the CPUs' TLBs, which may cache "not RAM".
   */
  hotAdd(newSize: number): void {
    if (!Number.isInteger(newSize) || newSize % 4096 !== 0 || newSize < this.size || newSize > this.reserveBytes) {
      throw new RangeError(`RAM cannot grow from ${this.size} to ${newSize} bytes (reserved: ${this.reserveBytes})`);
    }
    this.size = newSize;
    this.lowSize = Math.min(newSize, LOW_RAM_LIMIT);
    this.highSize = newSize - this.lowSize;
  }

  /** RAM index of [pa, pa+len) when it lies wholly in one RAM region, else -1. */
  ramIndex(pa: number, len: number): number {
    if (pa >= 0 && pa + len <= this.lowSize) return pa;
    if (pa >= HIGH_RAM_BASE && pa + len <= HIGH_RAM_BASE + this.highSize) return pa - HIGH_RAM_BASE + this.lowSize;
    return -1;
  }

  /** True when [pa, pa+len) lies wholly in RAM. */
  isRam(pa: number, len: number): boolean {
    return this.ramIndex(pa, len) >= 0;
  }

  /** The RAM regions as [base, length] pairs (for memory maps given to guests). */
  regions(): Array<[number, number]> {
    const r: Array<[number, number]> = [[0, this.lowSize]];
    if (this.highSize > 0) r.push([HIGH_RAM_BASE, this.highSize]);
    return r;
  }

  read8(pa: number): number {
    if (pa < this.lowSize) return this.ram[pa]!;
    const i = this.ramIndex(pa, 1);
    if (i >= 0) return this.ram[i]!;
    return this.mmio.read(pa, 1) & 0xff;
  }
  read16(pa: number): number {
    if (pa + 2 <= this.lowSize) return this.view.getUint16(pa, true);
    const i = this.ramIndex(pa, 2);
    if (i >= 0) return this.view.getUint16(i, true);
    if (!this.isRam(pa, 1) && !this.isRam(pa + 1, 1)) return this.mmio.read(pa, 2) & 0xffff;
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }
  /** Returns the dword as a signed int32 (the CPU's register representation). */
  read32(pa: number): number {
    if (pa + 4 <= this.lowSize) return this.view.getInt32(pa, true);
    const i = this.ramIndex(pa, 4);
    if (i >= 0) return this.view.getInt32(i, true);
    if (!this.isRam(pa, 1) && !this.isRam(pa + 3, 1)) return this.mmio.read(pa, 4) | 0;
    return (this.read16(pa) | (this.read16(pa + 2) << 16)) | 0;
  }
  write8(pa: number, v: number): void {
    const i = pa < this.lowSize ? pa : this.ramIndex(pa, 1);
    if (i >= 0) {
      if (this.codePages[i >>> 12] !== 0) this.codeWrite(i);
      this.ram[i] = v;
    } else this.mmio.write(pa, 1, v & 0xff);
  }
  write16(pa: number, v: number): void {
    const i = pa + 2 <= this.lowSize ? pa : this.ramIndex(pa, 2);
    if (i >= 0) {
      if (this.codePages[i >>> 12] !== 0 || this.codePages[(i + 1) >>> 12] !== 0) this.codeWrite(i);
      this.view.setUint16(i, v, true);
    } else if (!this.isRam(pa, 1) && !this.isRam(pa + 1, 1)) this.mmio.write(pa, 2, v & 0xffff);
    else { this.write8(pa, v & 0xff); this.write8(pa + 1, (v >>> 8) & 0xff); }
  }
  write32(pa: number, v: number): void {
    const i = pa + 4 <= this.lowSize ? pa : this.ramIndex(pa, 4);
    if (i >= 0) {
      if (this.codePages[i >>> 12] !== 0 || this.codePages[(i + 3) >>> 12] !== 0) this.codeWrite(i);
      this.view.setInt32(i, v, true);
    } else if (!this.isRam(pa, 1) && !this.isRam(pa + 3, 1)) this.mmio.write(pa, 4, v | 0);
    else { this.write16(pa, v & 0xffff); this.write16(pa + 2, (v >>> 16) & 0xffff); }
  }

  private codeWrite(index: number): void {
    if (this.onCodeWrite) this.onCodeWrite(index >>> 12);
  }

  /** Copies host bytes into RAM (loaders). Throws RangeError when they do not fit. */
  load(pa: number, bytes: Uint8Array): void {
    const i = this.ramIndex(pa, bytes.length);
    if (i < 0) {
      throw new RangeError(`image of ${bytes.length} bytes at 0x${pa.toString(16)} does not fit in ${this.size} bytes of RAM`);
    }
    this.ram.set(bytes, i);
    // a DMA-like copy over code must drop decoded instructions too
    if (bytes.length > 0) for (let p = i >>> 12; p <= (i + bytes.length - 1) >>> 12; p++) if (this.codePages[p] !== 0) this.codeWrite(p << 12);
  }
}
