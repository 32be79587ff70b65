/**
 * The HPET (IA-PC HPET specification 1.0a, §2.3): capabilities, configuration (enable,
 * legacy replacement), interrupt status, a 64-bit main counter at 100 MHz (10 ns per tick,
 * QEMU's period) derived from the VM's virtual clock, and 3 comparators with one-shot and
 * periodic modes. src/machine places the 1 KiB block at 0xFED00000 and routes timer n to
 * `route(n, irq, level)`: with legacy replacement timer 0 → IRQ 0 and timer 1 → IRQ 8,
 * otherwise the I/O APIC pin in Tn_INT_ROUTE_CNF. 32-bit accesses only (two for a 64-bit
 * register), as Linux and kvm-unit-tests use it. FSB (MSI) delivery is not offered.
 */
import type { Timer, VirtualClock } from './clock.js';

const NS_PER_TICK = 10;
const TIMERS = 3;
/** Capabilities: rev 1, 3 timers, 64-bit counter, legacy replacement capable, vendor 0x8086; period 10^7 fs. */
const CAP_LO = 0x8086a201 | 0, CAP_HI = 10_000_000;
// Tn_CONFIG bits: 1 level, 2 enable, 3 periodic, 4 periodic capable, 5 64-bit capable, 6 value set, 8 32-bit mode, 13:9 route.
const TN_LEVEL = 1 << 1, TN_ENABLE = 1 << 2, TN_PERIODIC = 1 << 3, TN_PER_CAP = 1 << 4, TN_SIZE_CAP = 1 << 5;
const TN_VAL_SET = 1 << 6, TN_32BIT = 1 << 8, TN_WRITABLE = TN_LEVEL | TN_ENABLE | TN_PERIODIC | TN_VAL_SET | TN_32BIT | (0x1f << 9);
/** Tn_INT_ROUTE_CAP: I/O APIC pins 2, 8 and 16-23 (QEMU's pc default). */
const ROUTE_CAP = 0x00ff0104;

export interface HpetState {
  version: 1;
  config: number; isr: number; counterAtStart: number; startNs: number;
  tconf: number[]; cmpLo: number[]; cmpHi: number[]; period: number[];
}

export class Hpet {
  private config = 0;
  private isr = 0;
  /** Main counter value when last enabled (or its frozen value while disabled). */
  private counterAtStart = 0;
  private startNs = 0;
  private readonly tconf = [TN_PER_CAP | TN_SIZE_CAP, TN_PER_CAP | TN_SIZE_CAP, TN_PER_CAP | TN_SIZE_CAP];
  /** Comparators as unsigned 32-bit halves (all ones at reset: 2^64 - 1 is not a double). */
  private readonly cmpLo = [0xffffffff, 0xffffffff, 0xffffffff];
  private readonly cmpHi = [0xffffffff, 0xffffffff, 0xffffffff];
  private readonly period = [0, 0, 0];
  private readonly timers: Timer[];

  constructor(private readonly clock: VirtualClock, private readonly route: (timer: number, irq: number, level: boolean) => void) {
    this.timers = [0, 1, 2].map((i) => clock.timer(`hpet timer ${i}`, () => this.fire(i)));
  }

  get enabled(): boolean { return (this.config & 1) !== 0; }
  get legacyReplacement(): boolean { return (this.config & 2) !== 0; }

  private counter(): number {
    if (!this.enabled) return this.counterAtStart;
    return this.counterAtStart + Math.floor((this.clock.nowNs() - this.startNs) / NS_PER_TICK);
  }

  read(offset: number, _size: number): number {
    const hi = (offset & 4) !== 0;
    const reg = offset & ~7;
    let lo: number, h: number;
    switch (reg) {
      case 0x00: lo = CAP_LO; h = CAP_HI; break;
      case 0x10: lo = this.config; h = 0; break;
      case 0x20: lo = this.isr; h = 0; break;
      case 0xf0: { const c = this.counter(); lo = c % 4294967296; h = Math.floor(c / 4294967296); break; }
      default: {
        const n = (reg - 0x100) >> 5, r = (reg - 0x100) & 0x1f;
        if (reg < 0x100 || n >= TIMERS) return 0;
        if (r === 0) { lo = this.tconf[n]!; h = ROUTE_CAP; } else if (r === 8) { lo = this.cmpLo[n]!; h = this.cmpHi[n]!; } else return 0;
      }
    }
    return (hi ? h : lo) >>> 0;
  }

  write(offset: number, _size: number, value: number): void {
    const hi = (offset & 4) !== 0, v = value >>> 0, reg = offset & ~7;
    switch (reg) {
      case 0x10: {
        if (hi) return;
        const c = this.counter();
        const wasLegacy = this.legacyReplacement;
        this.config = v & 3;
        this.counterAtStart = c; this.startNs = this.clock.nowNs();
        if (wasLegacy !== this.legacyReplacement) { this.route(0, -1, false); this.route(1, -1, false); }
        for (let i = 0; i < TIMERS; i++) this.schedule(i);
        return;
      }
      case 0x20: if (!hi) this.isr &= ~v; return; // write 1 to clear (level mode)
      case 0xf0: {
        if (this.enabled) return; // writable only while halted (spec §2.3.4)
        const c = this.counterAtStart;
        this.counterAtStart = hi ? (c % 4294967296) + v * 4294967296 : Math.floor(c / 4294967296) * 4294967296 + v;
        return;
      }
      default: {
        const n = (reg - 0x100) >> 5, r = (reg - 0x100) & 0x1f;
        if (reg < 0x100 || n >= TIMERS) return;
        if (r === 0) {
          if (hi) return;
          this.tconf[n] = (this.tconf[n]! & ~TN_WRITABLE) | (v & TN_WRITABLE & ~TN_VAL_SET) | (v & TN_VAL_SET);
          if ((this.tconf[n]! & TN_PERIODIC) !== 0 && (v & TN_VAL_SET) === 0) this.tconf[n]! &= ~TN_VAL_SET;
        } else if (r === 8) {
          const periodic = (this.tconf[n]! & TN_PERIODIC) !== 0;
          if (periodic && (this.tconf[n]! & TN_VAL_SET) === 0) {
            this.period[n] = hi ? (this.period[n]! % 4294967296) + v * 4294967296 : v; // writes set the period
          } else {
            if (hi) this.cmpHi[n] = v; else this.cmpLo[n] = v;
            if (periodic) this.period[n] = hi ? (this.period[n]! % 4294967296) + v * 4294967296 : v;
            this.tconf[n]! &= ~TN_VAL_SET;
          }
        }
        this.schedule(n);
      }
    }
  }

  private schedule(n: number): void {
    const t = this.timers[n]!;
    if (!this.enabled || (this.tconf[n]! & TN_ENABLE) === 0) { t.cancel(); return; }
    const c = this.counter();
    const mask = (this.tconf[n]! & TN_32BIT) !== 0 ? 4294967296 : 2 ** 64;
    let delta = (this.cmpHi[n]! * 4294967296 + this.cmpLo[n]! - c) % mask;
    if (delta < 0) delta += mask;
    if (delta === 0 || delta > 2 ** 52) { t.cancel(); return; } // matched already, or centuries away
    t.armAt(this.clock.nowNs() + delta * NS_PER_TICK);
  }

  private fire(n: number): void {
    const conf = this.tconf[n]!;
    const irq = this.legacyReplacement && n < 2 ? (n === 0 ? 0 : 8) : (conf >> 9) & 0x1f;
    if ((conf & TN_LEVEL) !== 0) { this.isr |= 1 << n; this.route(n, irq, true); } else { this.route(n, irq, true); this.route(n, irq, false); }
    if ((conf & TN_PERIODIC) !== 0 && this.period[n]! > 0) {
      const c = this.counter();
      const p = this.period[n]!;
      const cur = this.cmpHi[n]! * 4294967296 + this.cmpLo[n]!;
      const next = cur + Math.max(1, Math.ceil((c + 1 - cur) / p)) * p;
      this.cmpLo[n] = next % 4294967296; this.cmpHi[n] = Math.floor(next / 4294967296) % 4294967296;
    }
    this.schedule(n);
  }

  get state(): HpetState {
    return {
      version: 1, config: this.config, isr: this.isr, counterAtStart: this.counterAtStart, startNs: this.startNs,
      tconf: [...this.tconf], cmpLo: [...this.cmpLo], cmpHi: [...this.cmpHi], period: [...this.period],
    };
  }
  set state(s: HpetState) {
    if (s.version !== 1) throw new Error(`unsupported Hpet state version ${String(s.version)}`);
    this.config = s.config & 3; this.isr = s.isr & 7; this.counterAtStart = s.counterAtStart; this.startNs = s.startNs;
    for (let i = 0; i < TIMERS; i++) { this.tconf[i] = s.tconf[i]!; this.cmpLo[i] = s.cmpLo[i]! >>> 0; this.cmpHi[i] = s.cmpHi[i]! >>> 0; this.period[i] = s.period[i]!; this.schedule(i); }
  }
}
