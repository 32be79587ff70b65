/**
 * Guest-physical memory: one contiguous RAM buffer from physical address 0 plus an MMIO
 * bus for everything else. Every access is bounds-checked against this VM's RAM
 * (DESIGN: isolation); anything past RAM goes to the MMIO bus, which floats unclaimed
 * addresses. Addresses are plain numbers below 2^52 (the architectural MAXPHYADDR limit).
 */
import { MmioBus } from './bus.js';

/** Page-granular dirty log, enabled by live migration/snapshots and by SMC detection. */
export class PhysicalMemory {
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly size: number;
  readonly mmio = new MmioBus();
  /**
   * Pages that hold decoded code (bit per 4K page). Writes to such pages call onCodeWrite
   * so the CPU can drop stale decoded instructions.
   */
  readonly codePages: Uint8Array;
  onCodeWrite: ((page: number) => void) | null = null;

  constructor(sizeBytes: number) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 4096 !== 0) {
      throw new RangeError('RAM size must be a positive multiple of 4 KiB');
    }
    if (sizeBytes > 0xc000_0000) throw new RangeError('RAM above 3 GiB is not supported yet (the PCI hole starts there)');
    this.size = sizeBytes;
    this.ram = new Uint8Array(sizeBytes);
    this.view = new DataView(this.ram.buffer);
    this.codePages = new Uint8Array(sizeBytes >>> 12);
  }

  /** True when [pa, pa+len) lies wholly in RAM. */
  isRam(pa: number, len: number): boolean {
    return pa >= 0 && pa + len <= this.size;
  }

  read8(pa: number): number {
    if (pa < this.size) return this.ram[pa]!;
    return this.mmio.read(pa, 1) & 0xff;
  }
  read16(pa: number): number {
    if (pa + 2 <= this.size) return this.view.getUint16(pa, true);
    if (pa >= this.size) return this.mmio.read(pa, 2) & 0xffff;
    return this.read8(pa) | (this.read8(pa + 1) << 8);
  }
  /** Returns the dword as a signed int32 (the CPU's register representation). */
  read32(pa: number): number {
    if (pa + 4 <= this.size) return this.view.getInt32(pa, true);
    if (pa >= this.size) return this.mmio.read(pa, 4) | 0;
    return (this.read16(pa) | (this.read16(pa + 2) << 16)) | 0;
  }
  write8(pa: number, v: number): void {
    if (pa < this.size) {
      if (this.codePages[pa >>> 12] !== 0) this.codeWrite(pa);
      this.ram[pa] = v;
    } else this.mmio.write(pa, 1, v & 0xff);
  }
  write16(pa: number, v: number): void {
    if (pa + 2 <= this.size) {
      if (this.codePages[pa >>> 12] !== 0 || this.codePages[(pa + 1) >>> 12] !== 0) this.codeWrite(pa);
      this.view.setUint16(pa, v, true);
    } else if (pa >= this.size) this.mmio.write(pa, 2, v & 0xffff);
    else { this.write8(pa, v & 0xff); this.write8(pa + 1, (v >>> 8) & 0xff); }
  }
  write32(pa: number, v: number): void {
    if (pa + 4 <= this.size) {
      if (this.codePages[pa >>> 12] !== 0 || this.codePages[(pa + 3) >>> 12] !== 0) this.codeWrite(pa);
      this.view.setInt32(pa, v, true);
    } else if (pa >= this.size) this.mmio.write(pa, 4, v | 0);
    else { this.write16(pa, v & 0xffff); this.write16(pa + 2, (v >>> 16) & 0xffff); }
  }

  private codeWrite(pa: number): void {
    if (this.onCodeWrite) this.onCodeWrite(pa >>> 12);
  }

  /** Copies host bytes into RAM (loaders). Throws RangeError when they do not fit. */
  load(pa: number, bytes: Uint8Array): void {
    if (!this.isRam(pa, bytes.length)) {
      throw new RangeError(`image of ${bytes.length} bytes at 0x${pa.toString(16)} does not fit in ${this.size} bytes of RAM`);
    }
    this.ram.set(bytes, pa);
  }
}
