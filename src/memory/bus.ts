/**
 * Port-I/O and MMIO buses. A device is a pure state machine (STYLE habit 1); these buses
 * place it at an address range. Ranges never overlap: registering an overlapping range
 * throws at wiring time (a Nestvisor bug, never a guest action).
 */

/** A port-I/O handler sees the offset within its range, not the absolute port. */
export interface PortHandler {
  /** size is 1, 2 or 4; returns the value zero-extended. */
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

/** An MMIO handler sees the offset within its range. size is 1, 2, 4 or 8 (8: two dwords). */
export interface MmioHandler {
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

interface PortRange { start: number; end: number; handler: PortHandler; name: string }

/** 64K I/O ports. Lookup is one array index: the hot path of every IN/OUT. */
export class PortBus {
  private readonly map: (PortRange | undefined)[] = new Array(0x10000).fill(undefined);
  private readonly ranges: PortRange[] = [];
  /** Reads of unclaimed ports float high, as on a PC's ISA bus. */
  unclaimedReads = 0;

  register(start: number, length: number, handler: PortHandler, name: string): void {
    if (start < 0 || length <= 0 || start + length > 0x10000) throw new RangeError(`port range ${name} out of bounds`);
    for (let p = start; p < start + length; p++) {
      const other = this.map[p];
      if (other) throw new Error(`port range ${name} overlaps ${other.name} at 0x${p.toString(16)}`);
    }
    const r: PortRange = { start, end: start + length, handler, name };
    this.ranges.push(r);
    for (let p = start; p < start + length; p++) this.map[p] = r;
  }

  read(port: number, size: number): number {
    const r = this.map[port & 0xffff];
    if (r === undefined) { this.unclaimedReads++; return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff; }
    return r.handler.read(port - r.start, size);
  }

  write(port: number, size: number, value: number): void {
    const r = this.map[port & 0xffff];
    if (r !== undefined) r.handler.write(port - r.start, size, value);
  }
}

interface MmioRange { start: number; end: number; handler: MmioHandler; name: string }

/** MMIO ranges live above RAM (or in holes); a handful of them, searched linearly. */
export class MmioBus {
  private ranges: MmioRange[] = [];

  register(start: number, length: number, handler: MmioHandler, name: string): void {
    const end = start + length;
    for (const r of this.ranges) {
      if (start < r.end && r.start < end) throw new Error(`MMIO range ${name} overlaps ${r.name}`);
    }
    this.ranges.push({ start, end, handler, name });
    this.ranges.sort((a, b) => a.start - b.start);
  }

  unregister(start: number): void {
    this.ranges = this.ranges.filter((r) => r.start !== start);
  }

  find(addr: number): MmioRange | undefined {
    for (const r of this.ranges) if (addr >= r.start && addr < r.end) return r;
    return undefined;
  }

  /** Unclaimed physical addresses read as all ones and ignore writes (PC open bus). */
  read(addr: number, size: number): number {
    const r = this.find(addr);
    if (!r) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    return r.handler.read(addr - r.start, size);
  }

  write(addr: number, size: number, value: number): void {
    const r = this.find(addr);
    if (r) r.handler.write(addr - r.start, size, value);
  }
}
