/**
 * The 8254 programmable interval timer (Intel 8254 datasheet, order 231164) clocked at
 * 1.193182 MHz from the VM's virtual clock, plus the PC's port 0x61 ("system control
 * port B": channel 2 gate, speaker enable, refresh toggle, channel 2 output).
 *
 * Offsets 0-2 are the channel counters, 3 the control word (src/machine puts them at
 * 0x40-0x43); SystemControlB is port 0x61. Counts are derived from virtual time on every
 * read, never ticked. Channel 0's OUT drives IRQ 0 through an injected line: mode 0 raises
 * it at terminal count; modes 2 and 3 (rate generator, square wave) and 4 give one pulse
 * per period, which is what an edge-triggered PIC or I/O APIC input sees. Modes 1 and 5
 * (hardware-triggered) start on the gate's rising edge; channel 0 and 1 gates are tied
 * high. Supported: LSB/MSB/LSB-then-MSB access, counter latch, read-back (count and
 * status). BCD counting is accepted and stored but counts in binary (documented gap).
 */
import type { IrqLine } from './lines.js';
import type { Timer, VirtualClock } from './clock.js';

export const PIT_HZ = 1193182;
const NS_PER_TICK = 1e9 / PIT_HZ;
const RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3;

export interface PitChannelState {
  version: 1;
  mode: number; rw: number; bcd: boolean; count: number; loadNs: number; loaded: boolean; gate: boolean;
  latched: number; latchedBytes: number; status: number; statusLatched: boolean;
  readLow: boolean; writeLow: boolean; writeLatch: number; out: boolean;
}
export interface Pit8254State { version: 1; channels: PitChannelState[]; speaker: number }

class Channel {
  mode = 0;
  rw = RW_WORD;
  bcd = false;
  /** Reload value: 1..65536. */
  count = 0x10000;
  loadNs = 0;
  /** A count has been written since the last control word (else the counter is idle). */
  loaded = false;
  gate: boolean;
  latched = 0;
  /** Bytes of the latched count still to be read (0 = not latched). */
  latchedBytes = 0;
  status = 0;
  statusLatched = false;
  readLow = true;
  writeLow = true;
  writeLatch = 0;
  /** OUT as last driven on the IRQ line (channel 0). */
  out = false;
  timer: Timer | null = null;

  constructor(gate: boolean) { this.gate = gate; }

  ticks(now: number): number { return Math.floor((now - this.loadNs) / NS_PER_TICK); }

  /** The counting element now (datasheet, per-mode counting behaviour). */
  value(now: number): number {
    if (!this.loaded) return this.count & 0xffff;
    const d = this.ticks(now), c = this.count;
    switch (this.mode) {
      case 2: return c - (d % c);
      case 3: return (c - ((2 * d) % c)) & 0xfffe || c & 0xffff;
      default: return (c - d) & 0xffff; // 0, 1, 4, 5 keep wrapping after terminal count
    }
  }

  /** OUT now. */
  output(now: number): boolean {
    if (!this.loaded) return this.mode !== 0;
    const d = this.ticks(now), c = this.count;
    switch (this.mode) {
      case 0: return d >= c;
      case 1: return d >= c;
      case 2: return d % c !== c - 1;
      case 3: return d % c < ((c + 1) >> 1);
      default: return d !== c; // 4, 5: one low tick at terminal count
    }
  }

  /** Virtual ns of the next interrupt-relevant event after `now`, or Infinity. */
  nextEvent(now: number): number {
    if (!this.loaded) return Infinity;
    const d = this.ticks(now), c = this.count;
    let t: number;
    switch (this.mode) {
      case 2: case 3: t = (Math.floor(d / c) + 1) * c; break;
      default: if (d >= c) return Infinity; t = c; break;
    }
    return this.loadNs + Math.ceil(t * NS_PER_TICK);
  }
}

export class Pit8254 {
  private readonly ch: Channel[] = [new Channel(true), new Channel(true), new Channel(false)];
  /** Port 0x61 bits 0 (gate 2) and 1 (speaker data enable). */
  private speaker = 0;

  constructor(private readonly clock: VirtualClock, private readonly irq0: IrqLine) {
    this.ch[0]!.timer = clock.timer('pit channel 0', () => this.channel0Event());
  }

  read(offset: number, _size: number): number {
    if (offset > 2) return 0xff; // the control word is write-only
    const c = this.ch[offset]!;
    if (c.statusLatched) { c.statusLatched = false; return c.status; }
    if (c.latchedBytes > 0) {
      const v = c.latchedBytes === 2 ? c.latched & 0xff : (c.latched >>> 8) & 0xff;
      // a WORD latch is read low then high; LSB/MSB latches return their one byte
      if (c.rw === RW_WORD) c.latchedBytes--; else { c.latchedBytes = 0; return c.rw === RW_MSB ? (c.latched >>> 8) & 0xff : c.latched & 0xff; }
      return v;
    }
    const v = c.value(this.clock.nowNs());
    switch (c.rw) {
      case RW_LSB: return v & 0xff;
      case RW_MSB: return (v >>> 8) & 0xff;
      default: {
        const b = c.readLow ? v & 0xff : (v >>> 8) & 0xff;
        c.readLow = !c.readLow;
        return b;
      }
    }
  }

  write(offset: number, _size: number, value: number): void {
    value &= 0xff;
    if (offset === 3) { this.control(value); return; }
    if (offset > 2) return;
    const c = this.ch[offset]!;
    switch (c.rw) {
      case RW_LSB: this.load(offset, value); return;
      case RW_MSB: this.load(offset, value << 8); return;
      default:
        if (c.writeLow) { c.writeLatch = value; c.writeLow = false; }
        else { c.writeLow = true; this.load(offset, c.writeLatch | (value << 8)); }
        return;
    }
  }

  private control(value: number): void {
    const sel = value >>> 6;
    if (sel === 3) { // read-back (datasheet, Read-Back Command): bit 5 = !COUNT, bit 4 = !STATUS
      const now = this.clock.nowNs();
      for (let i = 0; i < 3; i++) {
        if ((value & (2 << i)) === 0) continue;
        const c = this.ch[i]!;
        if ((value & 0x20) === 0 && c.latchedBytes === 0) this.latch(c, now);
        if ((value & 0x10) === 0 && !c.statusLatched) {
          c.status = (c.output(now) ? 0x80 : 0) | (c.loaded ? 0 : 0x40) | (c.rw << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
          c.statusLatched = true;
        }
      }
      return;
    }
    const c = this.ch[sel]!;
    const rw = (value >>> 4) & 3;
    if (rw === RW_LATCH) { if (c.latchedBytes === 0) this.latch(c, this.clock.nowNs()); return; }
    c.rw = rw;
    c.mode = (value >>> 1) & 7;
    if (c.mode > 5) c.mode -= 4; // 110b and 111b are modes 2 and 3
    c.bcd = (value & 1) !== 0;
    c.loaded = false;
    c.readLow = true; c.writeLow = true; c.latchedBytes = 0; c.statusLatched = false;
    // a control word sets OUT low in mode 0, high in the others (datasheet, Operation)
    if (sel === 0) { c.timer!.cancel(); this.drive(c.mode !== 0); }
  }

  private latch(c: Channel, now: number): void {
    c.latched = c.value(now);
    c.latchedBytes = c.rw === RW_WORD ? 2 : 1;
  }

  private load(i: number, v: number): void {
    const c = this.ch[i]!;
    c.count = v === 0 ? 0x10000 : v;
    // modes 1 and 5 wait for a gate edge; a counter whose gate is low waits too
    c.loadNs = this.clock.nowNs();
    c.loaded = true;
    if (i === 0) {
      if (c.mode === 0) this.drive(false);
      this.schedule();
    }
  }

  private drive(level: boolean): void {
    const c = this.ch[0]!;
    if (c.out === level) return;
    c.out = level;
    this.irq0.set(level);
  }

  private schedule(): void {
    const c = this.ch[0]!;
    const at = c.nextEvent(this.clock.nowNs());
    if (at === Infinity) c.timer!.cancel(); else c.timer!.armAt(at);
  }

  private channel0Event(): void {
    const c = this.ch[0]!;
    if (c.mode === 0 || c.mode === 1) this.drive(true);
    else { this.drive(false); this.drive(true); } // one low pulse: the edge-triggered input sees a rising edge
    this.schedule();
  }

  /** Port 0x61 (system control port B), as the PIIX implements it. */
  readonly portB = {
    read: (_offset: number, _size: number): number => {
      const now = this.clock.nowNs();
      // bit 4 toggles with every DRAM refresh request (15.085 µs); bit 5 is channel 2's OUT
      const refresh = Math.floor(now / 15085) & 1;
      return this.speaker | (refresh << 4) | (this.ch[2]!.output(now) ? 0x20 : 0);
    },
    write: (_offset: number, _size: number, value: number): void => {
      const c = this.ch[2]!;
      const gate = (value & 1) !== 0;
      if (gate && !c.gate && c.loaded && c.mode !== 0 && c.mode !== 4) c.loadNs = this.clock.nowNs(); // gate edge retriggers
      c.gate = gate;
      this.speaker = value & 3;
    },
  };

  get state(): Pit8254State {
    return {
      version: 1, speaker: this.speaker,
      channels: this.ch.map((c) => ({
        version: 1 as const, mode: c.mode, rw: c.rw, bcd: c.bcd, count: c.count, loadNs: c.loadNs, loaded: c.loaded,
        gate: c.gate, latched: c.latched, latchedBytes: c.latchedBytes, status: c.status, statusLatched: c.statusLatched,
        readLow: c.readLow, writeLow: c.writeLow, writeLatch: c.writeLatch, out: c.out,
      })),
    };
  }

  set state(s: Pit8254State) {
    if (s.version !== 1 || s.channels.length !== 3) throw new Error('unsupported Pit8254 state');
    this.speaker = s.speaker & 3;
    s.channels.forEach((x, i) => {
      const c = this.ch[i]!;
      c.mode = x.mode % 6; c.rw = x.rw & 3; c.bcd = x.bcd; c.count = x.count; c.loadNs = x.loadNs; c.loaded = x.loaded;
      c.gate = x.gate; c.latched = x.latched; c.latchedBytes = x.latchedBytes; c.status = x.status;
      c.statusLatched = x.statusLatched; c.readLow = x.readLow; c.writeLow = x.writeLow; c.writeLatch = x.writeLatch; c.out = x.out;
    });
    this.schedule();
  }
}
