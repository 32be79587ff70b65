/**
 * A split virtqueue (Virtual I/O Device 1.1 §2.6) over guest-physical memory.
 *
 *   descriptor (16 B): 0 addr u64 | 8 len u32 | 12 flags u16 (NEXT 1, WRITE 2, INDIRECT 4) | 14 next u16
 *   available ring:    0 flags u16 (NO_INTERRUPT 1) | 2 idx u16 | 4 ring[size] u16 | used_event u16
 *   used ring:         0 flags u16 | 2 idx u16 | 4 ring[size] {id u32, len u32} | avail_event u16
 *
 * Isolation (DESIGN): every structure and buffer must lie wholly inside the VM's RAM; an
 * address beyond it (MMIO, or host memory it could never name anyway) makes the chain
 * bad. Loops (a chain longer than the table), indirect tables inside indirect tables,
 * bogus lengths: the chain is returned to the driver with length 0 and counted, never a
 * host exception. An available index that runs more than `size` ahead is a driver bug:
 * the queue stops (`broken`) and the transport reports DEVICE_NEEDS_RESET.
 */

/** The guest RAM a device may DMA into (PhysicalMemory has this shape). */
export interface DmaMemory {
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly size: number;
  readonly codePages?: Uint8Array;
  onCodeWrite?: ((page: number) => void) | null;
}

export const VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2, VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

/** One buffer of a chain: where it is in RAM and whether the device writes it. */
export interface DescBuffer { addr: number; len: number; write: boolean }

export interface Chain {
  head: number;
  buffers: DescBuffer[];
  readable: number;
  writable: number;
}

export interface QueueCounters { chains: number; badChains: number }

export class Virtqueue {
  size = 0;
  enabled = false;
  descAddr = 0;
  availAddr = 0;
  usedAddr = 0;
  /** Next available-ring index the device will read. */
  private lastAvail = 0;
  private usedIdx = 0;
  broken = false;
  readonly counters: QueueCounters = { chains: 0, badChains: 0 };

  constructor(private readonly mem: DmaMemory, readonly maxSize: number) {}

  reset(): void {
    this.size = 0; this.enabled = false; this.descAddr = 0; this.availAddr = 0; this.usedAddr = 0;
    this.lastAvail = 0; this.usedIdx = 0; this.broken = false;
  }

  /** Validates the rings' placement when the driver enables the queue; false leaves it disabled. */
  enable(): boolean {
    const n = this.size;
    if (n === 0 || n > this.maxSize || (n & (n - 1)) !== 0) return false;
    if (!this.inRam(this.descAddr, 16 * n) || !this.inRam(this.availAddr, 6 + 2 * n) || !this.inRam(this.usedAddr, 6 + 8 * n)) return false;
    if (this.descAddr % 16 || this.availAddr % 2 || this.usedAddr % 4) return false;
    this.enabled = true;
    this.lastAvail = 0;
    this.usedIdx = 0;
    return true;
  }

  get ready(): boolean { return this.enabled && !this.broken; }

  /** True when the driver made chains available that the device has not taken. */
  hasAvailable(): boolean {
    if (!this.ready) return false;
    return this.availIdx() !== this.lastAvail;
  }

  /** The driver asked not to be interrupted (VIRTQ_AVAIL_F_NO_INTERRUPT). */
  interruptSuppressed(): boolean {
    return (this.mem.view.getUint16(this.availAddr, true) & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0;
  }

  /**
   * Takes the next available chain. Returns null when there is none; a chain whose
   * descriptors are bad is completed with length 0, counted, and the next one is tried.
   */
  pop(): Chain | null {
    while (this.ready) {
      const avail = this.availIdx();
      if (avail === this.lastAvail) return null;
      if (((avail - this.lastAvail) & 0xffff) > this.size) { this.broken = true; return null; }
      const head = this.mem.view.getUint16(this.availAddr + 4 + 2 * (this.lastAvail % this.size), true);
      this.lastAvail = (this.lastAvail + 1) & 0xffff;
      const chain = this.walk(head);
      if (chain) { this.counters.chains++; return chain; }
      this.counters.badChains++;
      this.push(head < this.size ? head : 0, 0);
    }
    return null;
  }

  /** Returns a chain to the driver with `len` bytes written. */
  push(head: number, len: number): void {
    if (!this.ready) return;
    const slot = this.usedAddr + 4 + 8 * (this.usedIdx % this.size);
    this.mem.view.setUint32(slot, head, true);
    this.mem.view.setUint32(slot + 4, len, true);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    this.mem.view.setUint16(this.usedAddr + 2, this.usedIdx, true);
    this.touch(slot, 8);
    this.touch(this.usedAddr + 2, 2);
  }

  /** Gathers the readable bytes of a chain (the device reads what the driver wrote). */
  read(c: Chain, max = Infinity): Uint8Array {
    const n = Math.min(c.readable, max);
    const out = new Uint8Array(n);
    let o = 0;
    for (const b of c.buffers) {
      if (b.write || o >= n) continue;
      const k = Math.min(b.len, n - o);
      out.set(this.mem.ram.subarray(b.addr, b.addr + k), o);
      o += k;
    }
    return out;
  }

  /** Scatters `data` into the writable buffers of a chain; returns the bytes written. */
  write(c: Chain, data: Uint8Array): number {
    let o = 0;
    for (const b of c.buffers) {
      if (!b.write || o >= data.length) continue;
      const k = Math.min(b.len, data.length - o);
      this.mem.ram.set(data.subarray(o, o + k), b.addr);
      this.touch(b.addr, k);
      o += k;
    }
    return o;
  }

  private availIdx(): number {
    return this.mem.view.getUint16(this.availAddr + 2, true);
  }

  private inRam(addr: number, len: number): boolean {
    return Number.isFinite(addr) && addr >= 0 && len >= 0 && addr + len <= this.mem.size;
  }

  /** Follows a chain (and at most one level of indirection); null when anything is out of bounds. */
  private walk(head: number): Chain | null {
    if (head >= this.size) return null;
    const c: Chain = { head, buffers: [], readable: 0, writable: 0 };
    const v = this.mem.view;
    let table = this.descAddr, tableSize = this.size, i = head, indirect = false;
    let seenWrite = false;
    for (let steps = 0; ; steps++) {
      if (steps >= tableSize || i >= tableSize) return null; // a loop or a bad index
      const d = table + 16 * i;
      const lo = v.getUint32(d, true), hi = v.getUint32(d + 4, true);
      const len = v.getUint32(d + 8, true), flags = v.getUint16(d + 12, true), next = v.getUint16(d + 14, true);
      const addr = hi * 2 ** 32 + lo;
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        // §2.6.5.3.1: not with NEXT, not inside an indirect table, a whole number of descriptors
        if (indirect || (flags & VIRTQ_DESC_F_NEXT) || len === 0 || len % 16 || len / 16 > 65536 || !this.inRam(addr, len) || addr % 16) return null;
        table = addr; tableSize = len / 16; i = 0; indirect = true; steps = -1;
        continue;
      }
      if (!this.inRam(addr, len)) return null;
      const write = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!write && seenWrite) return null; // readable after writable (§2.6.4.2)
      seenWrite ||= write;
      c.buffers.push({ addr, len, write });
      if (write) c.writable += len; else c.readable += len;
      if (!(flags & VIRTQ_DESC_F_NEXT)) return c;
      i = next;
    }
  }

  /** DMA into RAM that holds decoded code must invalidate it (self-modifying code rules). */
  private touch(addr: number, len: number): void {
    const pages = this.mem.codePages;
    if (!pages || !this.mem.onCodeWrite || len === 0) return;
    for (let p = addr >>> 12; p <= (addr + len - 1) >>> 12; p++) if (pages[p]) this.mem.onCodeWrite(p);
  }
}
