/**
 * The I/O APIC (Intel 82093AA datasheet, order 290566; version 0x20 as in the ICH/PIIX4
 * era parts QEMU models, which adds the EOI register at offset 0x40). Offsets: 0x00
 * IOREGSEL, 0x10 IOWIN, 0x40 EOI; src/machine places the page at 0xFEC00000.
 *
 * Indirect registers: 0x00 ID (bits 27:24 writable), 0x01 version (0x00170020: 24
 * redirection entries), 0x02 arbitration ID (follows the ID, read-only), 0x10 + 2n / +1
 * redirection entry n low/high.
 *
 * Redirection entry (datasheet §3.2.4):
 *   63:56 destination | 16 mask | 15 trigger (1 level) | 14 remote IRR (RO) | 13 polarity
 *   12 delivery status (RO) | 11 destination mode (1 logical) | 10:8 delivery mode | 7:0 vector
 *
 * Pins are driven by level through setIrq(). An edge-triggered pin delivers a rising edge
 * seen while unmasked (edges on a masked pin are lost); a level-triggered pin delivers while its line is high
 * and its remote IRR clear, sets remote IRR, and waits for the local APIC's EOI broadcast
 * (or a write to the EOI register) for that vector to clear it and, if the line is still
 * high, deliver again. Input polarity is recorded but not applied: the board drives
 * every pin active-high (QEMU does the same).
 */
import { ApicBus, DM_LOWEST, SH_NONE } from './apic-bus.js';

export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x20 | ((IOAPIC_PINS - 1) << 16);
const RTE_MASK = 1 << 16, RTE_LEVEL = 1 << 15, RTE_REMOTE_IRR = 1 << 14, RTE_LOGICAL = 1 << 11;
const RTE_LO_WRITABLE = 0x1afff; // all but delivery status and remote IRR

export interface IoApicState {
  version: 1;
  id: number; select: number; irr: number; level: number; lo: number[]; hi: number[];
}

export class IoApic {
  private id = 0;
  private select = 0;
  /** Pending requests (edge: latched rising edges; level: line high). */
  private irr = 0;
  /** Current input levels. */
  private level = 0;
  private readonly lo = new Int32Array(IOAPIC_PINS).fill(RTE_MASK);
  private readonly hi = new Int32Array(IOAPIC_PINS);

  constructor(private readonly bus: ApicBus) {
    bus.onEoi((v) => this.eoi(v));
  }

  setIrq(pin: number, level: boolean): void {
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    const bit = 1 << pin;
    const was = (this.level & bit) !== 0;
    if (level) this.level |= bit; else this.level &= ~bit;
    if ((this.lo[pin]! & RTE_LEVEL) !== 0) {
      if (level) this.irr |= bit; else this.irr &= ~bit;
    } else if (level && !was && (this.lo[pin]! & RTE_MASK) === 0) {
      // "edge requests are ignored while the input is masked" (82093AA §3.2.4; QEMU agrees)
      this.irr |= bit;
    }
    this.service();
  }

  /** Delivers every pending, unmasked request (datasheet §2.4). */
  private service(): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const bit = 1 << pin;
      if ((this.irr & bit) === 0) continue;
      const lo = this.lo[pin]!;
      if ((lo & RTE_MASK) !== 0) continue;
      const levelTrig = (lo & RTE_LEVEL) !== 0;
      if (levelTrig) {
        if ((lo & RTE_REMOTE_IRR) !== 0) continue;
        this.lo[pin] = lo | RTE_REMOTE_IRR;
      } else {
        this.irr &= ~bit;
      }
      const mode = (lo >>> 8) & 7;
      this.bus.deliver(null, SH_NONE, (lo & RTE_LOGICAL) !== 0, (this.hi[pin]! >>> 24) & 0xff, false,
        mode === DM_LOWEST ? DM_LOWEST : mode, lo & 0xff, levelTrig, true);
    }
  }

  /** EOI for `vector`, from a local APIC's broadcast or the EOI register. */
  eoi(vector: number): void {
    let hit = false;
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.lo[pin]!;
      if ((lo & 0xff) === vector && (lo & RTE_REMOTE_IRR) !== 0) { this.lo[pin] = lo & ~RTE_REMOTE_IRR; hit = true; }
    }
    if (hit) this.service();
  }

  read(offset: number, _size: number): number {
    if (offset === 0x00) return this.select;
    if (offset !== 0x10) return 0;
    const r = this.select;
    switch (r) {
      case 0x00: return this.id << 24;
      case 0x01: return IOAPIC_VERSION;
      case 0x02: return this.id << 24; // arbitration ID: loaded from the ID
      default: {
        if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS) return 0xffffffff;
        const pin = (r - 0x10) >> 1;
        if ((r & 1) === 1) return this.hi[pin]! >>> 0;
        // delivery status (bit 12) reads 0: delivery is immediate
        return this.lo[pin]! >>> 0;
      }
    }
  }

  write(offset: number, _size: number, value: number): void {
    if (offset === 0x00) { this.select = value & 0xff; return; }
    if (offset === 0x40) { this.eoi(value & 0xff); return; }
    if (offset !== 0x10) return;
    const r = this.select;
    if (r === 0x00) { this.id = (value >>> 24) & 0xf; return; }
    if (r < 0x10 || r >= 0x10 + 2 * IOAPIC_PINS) return; // version, arbitration, reserved: read-only
    const pin = (r - 0x10) >> 1;
    if ((r & 1) === 1) { this.hi[pin] = value & 0xff000000; return; }
    let lo = (value & RTE_LO_WRITABLE) | (this.lo[pin]! & RTE_REMOTE_IRR);
    // an edge-triggered entry has no remote IRR (QEMU clears it on the switch too)
    if ((lo & RTE_LEVEL) === 0) lo &= ~RTE_REMOTE_IRR;
    this.lo[pin] = lo;
    // the line's state is re-evaluated under the new trigger mode
    const bit = 1 << pin;
    if ((lo & RTE_LEVEL) !== 0) { if ((this.level & bit) !== 0) this.irr |= bit; else this.irr &= ~bit; }
    this.service();
  }

  get state(): IoApicState {
    return { version: 1, id: this.id, select: this.select, irr: this.irr, level: this.level, lo: [...this.lo], hi: [...this.hi] };
  }
  set state(s: IoApicState) {
    if (s.version !== 1) throw new Error(`unsupported IoApic state version ${String(s.version)}`);
    this.id = s.id & 0xf; this.select = s.select & 0xff; this.irr = s.irr | 0; this.level = s.level | 0;
    this.lo.set(s.lo.slice(0, IOAPIC_PINS)); this.hi.set(s.hi.slice(0, IOAPIC_PINS));
  }
}
