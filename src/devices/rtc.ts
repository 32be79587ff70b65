/**
 * The MC146818 real-time clock and its CMOS memory (Motorola MC146818A datasheet; the PC's
 * "RTC/CMOS" at ports 0x70/0x71), as a pure state machine (STYLE habit 1): offset 0 is the
 * index port (bit 7 = NMI mask, bits 6:0 = register), offset 1 the data port; the interrupt
 * goes out through an injected line (src/machine: ISA IRQ 8 = 8259 slave IR0 and I/O APIC
 * pin 8).
 *
 * Time comes from the VM's virtual clock: the RTC reads the host's wall time (UTC, QEMU's
 * default `-rtc base=utc`) once at power-on and then counts virtual seconds, so the guest
 * sees time pass exactly as its own timers do. The time is kept as seconds since the epoch
 * (`baseSec` at virtual time `baseNs`; updates happen at baseNs + k·1 s) and the time
 * registers are computed from it on read, in the current format (register B DM: binary or
 * BCD; 24/12: 24-hour or 12-hour with bit 7 = PM). While SET is 1 or the divider is held in
 * reset, the registers are plain bytes the guest can write; when the clock runs again they
 * are converted back to seconds (values out of range are normalised, not rejected).
 *
 *   Register A  7 UIP (read-only) | 6:4 DV divider | 3:0 RS periodic rate
 *   Register B  7 SET | 6 PIE | 5 AIE | 4 UIE | 3 SQWE | 2 DM (1 = binary) | 1 24/12 | 0 DSE
 *   Register C  7 IRQF | 6 PF | 5 AF | 4 UF   (read-only, cleared by reading)
 *   Register D  7 VRT (valid RAM and time: always 1)
 *
 * UIP reads 1 during the 244 µs before each update. Flags are computed from virtual time
 * when read or when a timer fires (a timer is armed only for an enabled interrupt), so the
 * default 1024 Hz rate costs nothing while PIE is clear. The alarm compares hours, minutes
 * and seconds; an alarm byte with bits 7:6 = 11 is a don't-care. Daylight saving (DSE) and
 * the square-wave output are accepted and ignored. The IRQ line follows IRQF: it rises
 * when an enabled flag is set and falls when register C is read.
 */
import type { Timer, VirtualClock } from './clock.js';
import type { IrqLine } from './lines.js';

// Register indexes (MC146818A, "Address map").
export const RTC_SECONDS = 0, RTC_SECONDS_ALARM = 1, RTC_MINUTES = 2, RTC_MINUTES_ALARM = 3;
export const RTC_HOURS = 4, RTC_HOURS_ALARM = 5, RTC_DAY_OF_WEEK = 6, RTC_DAY_OF_MONTH = 7;
export const RTC_MONTH = 8, RTC_YEAR = 9, RTC_REG_A = 0xa, RTC_REG_B = 0xb, RTC_REG_C = 0xc, RTC_REG_D = 0xd;
/** CMOS bytes the PC BIOS convention defines (QEMU pc_cmos_init / SeaBIOS). */
export const CMOS_SHUTDOWN_STATUS = 0x0f, CMOS_EQUIPMENT = 0x14, CMOS_CENTURY = 0x32;

export const REG_A_UIP = 0x80;
export const REG_B_SET = 0x80, REG_B_PIE = 0x40, REG_B_AIE = 0x20, REG_B_UIE = 0x10, REG_B_DM = 0x04, REG_B_24H = 0x02;
export const REG_C_IRQF = 0x80, REG_C_PF = 0x40, REG_C_AF = 0x20, REG_C_UF = 0x10;
export const REG_D_VRT = 0x80;

const NS_PER_SEC = 1e9;
/** UIP is set this long before an update (datasheet: tBUC = 244 µs). */
export const UIP_NS = 244_000;
const SECONDS_PER_DAY = 86400;

/** What the board tells the CMOS about itself at power-on (QEMU pc_cmos_init). */
export interface RtcOptions {
  /** RAM below 4 GiB and above 4 GiB, in bytes. */
  ramBelow4g: number;
  ramAbove4g?: number;
  /** Wall time at power-on in ms since the epoch (default: the host's Date.now()). */
  startMs?: number;
}

export interface RtcState {
  version: 1;
  index: number; nmiMasked: boolean; cmos: number[]; baseSec: number; baseNs: number;
  flagsSyncedNs: number; regC: number; irqLevel: boolean;
}

/** Periodic interrupt period for RS (1-15) with the 32.768 kHz time base, in ns; 0 = off. */
export function periodicNs(rs: number): number {
  rs &= 0xf;
  if (rs === 0) return 0;
  const cycles = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1); // RS 1, 2 give 256 and 128 Hz
  return (cycles * NS_PER_SEC) / 32768;
}

function toBcd(v: number): number { return ((Math.floor(v / 10) % 10) << 4) | (v % 10); }
function fromBcd(v: number): number { return (v >> 4) * 10 + (v & 0xf); }

export class Rtc {
  private index = 0;
  /** Port 0x70 bit 7: NMIs masked (the board may consult it; the RTC only remembers it). */
  nmiMasked = false;
  /** The 128 bytes; the time bytes (0-9) are only meaningful while the clock is stopped. */
  private readonly cmos = new Uint8Array(128);
  /** RTC time, in seconds since 1970 read as UTC, at virtual time baseNs; updates at baseNs + k s. */
  private baseSec = 0;
  private baseNs = 0;
  /** Virtual time up to which PF/UF/AF have been accounted. */
  private flagsSyncedNs = 0;
  private regC = 0;
  private irqLevel = false;
  private readonly timer: Timer;

  constructor(private readonly clock: VirtualClock, private readonly irq: IrqLine, opts: RtcOptions) {
    this.timer = clock.timer('rtc', () => this.onTimer());
    const now = clock.nowNs();
    this.baseSec = Math.floor((opts.startMs ?? Date.now()) / 1000);
    this.baseNs = now;
    this.flagsSyncedNs = now;
    this.cmos[RTC_REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    this.cmos[RTC_REG_B] = REG_B_24H; // BCD, 24-hour (QEMU's power-on value)
    this.cmos[RTC_REG_D] = REG_D_VRT;
    this.setMemorySizes(opts.ramBelow4g, opts.ramAbove4g ?? 0);
    this.cmos[CMOS_EQUIPMENT] = 0x02 | 0x04; // FPU present, PS/2 mouse (QEMU)
    this.cmos[CMOS_CENTURY] = this.encode(Math.floor(this.utc().getUTCFullYear() / 100));
  }

  /**
   * Memory sizes as QEMU's pc_cmos_init and SeaBIOS read them: 0x15/0x16 base memory in
   * KiB (640), 0x17/0x18 and 0x30/0x31 extended memory above 1 MiB in KiB (max 65535),
   * 0x34/0x35 memory between 16 MiB and 4 GiB in 64 KiB units, 0x5b-0x5d above 4 GiB in
   * 64 KiB units.
   */
  private setMemorySizes(below: number, above: number): void {
    const KiB = 1024, MiB = 1024 * KiB;
    const set16 = (at: number, v: number): void => { this.cmos[at] = v & 0xff; this.cmos[at + 1] = (v >> 8) & 0xff; };
    set16(0x15, Math.min(Math.floor(below / KiB), 640));
    const ext = Math.min(below > MiB ? Math.floor((below - MiB) / KiB) : 0, 65535);
    set16(0x17, ext);
    set16(0x30, ext);
    set16(0x34, Math.min(below > 16 * MiB ? Math.floor((below - 16 * MiB) / (64 * KiB)) : 0, 65535));
    const hi = Math.floor(above / (64 * KiB));
    this.cmos[0x5b] = hi & 0xff; this.cmos[0x5c] = (hi >> 8) & 0xff; this.cmos[0x5d] = (hi >> 16) & 0xff;
  }

  // ---- time --------------------------------------------------------------------------

  /** The divider chain runs (DV = 000-010) and SET is clear. */
  private get running(): boolean {
    return (this.cmos[RTC_REG_B]! & REG_B_SET) === 0 && (this.cmos[RTC_REG_A]! & 0x70) <= 0x20;
  }

  private get dividerRunning(): boolean { return (this.cmos[RTC_REG_A]! & 0x70) <= 0x20; }

  /** Whole seconds elapsed since baseNs at `now`. */
  private elapsed(now: number): number { return Math.floor((now - this.baseNs) / NS_PER_SEC); }

  private seconds(now: number): number { return this.baseSec + this.elapsed(now); }

  private utc(now = this.clock.nowNs()): Date { return new Date(this.seconds(now) * 1000); }

  private get binary(): boolean { return (this.cmos[RTC_REG_B]! & REG_B_DM) !== 0; }
  private get h24(): boolean { return (this.cmos[RTC_REG_B]! & REG_B_24H) !== 0; }

  private encode(v: number): number { return this.binary ? v & 0xff : toBcd(v); }
  private decode(v: number): number { return this.binary ? v : fromBcd(v); }

  private encodeHour(h: number): number {
    if (this.h24) return this.encode(h);
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.encode(h12) | (h >= 12 ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.h24) return this.decode(v);
    return (this.decode(v & 0x7f) % 12) + ((v & 0x80) !== 0 ? 12 : 0);
  }

  /** Writes the current time into cmos[0..9] in the current format. */
  private latchTime(now: number): void {
    const d = this.utc(now);
    this.cmos[RTC_SECONDS] = this.encode(d.getUTCSeconds());
    this.cmos[RTC_MINUTES] = this.encode(d.getUTCMinutes());
    this.cmos[RTC_HOURS] = this.encodeHour(d.getUTCHours());
    this.cmos[RTC_DAY_OF_WEEK] = this.encode(d.getUTCDay() + 1); // 1 = Sunday
    this.cmos[RTC_DAY_OF_MONTH] = this.encode(d.getUTCDate());
    this.cmos[RTC_MONTH] = this.encode(d.getUTCMonth() + 1);
    this.cmos[RTC_YEAR] = this.encode(d.getUTCFullYear() % 100);
    this.cmos[CMOS_CENTURY] = this.encode(Math.floor(d.getUTCFullYear() / 100));
  }

  /** Seconds since the epoch from the time bytes (century from CMOS 0x32). */
  private timeFromRegisters(): number {
    const c = this.cmos;
    const year = this.decode(c[CMOS_CENTURY]!) * 100 + this.decode(c[RTC_YEAR]!);
    const ms = Date.UTC(year, this.decode(c[RTC_MONTH]!) - 1, this.decode(c[RTC_DAY_OF_MONTH]!),
      this.decodeHour(c[RTC_HOURS]!), this.decode(c[RTC_MINUTES]!), this.decode(c[RTC_SECONDS]!));
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : this.baseSec;
  }

  /** The time bytes changed while running: continue from them, keeping the update phase. */
  private rebase(now: number): void {
    this.baseSec = this.timeFromRegisters() - this.elapsed(now);
  }

  // ---- flags and the interrupt ----------------------------------------------------

  /** Accounts PF, UF and AF for the virtual time (flagsSyncedNs, now]. */
  private sync(now: number): void {
    const from = this.flagsSyncedNs;
    if (now <= from) return;
    this.flagsSyncedNs = now;
    if (!this.running) {
      // a held divider stops every flag; SET stops only the update (PF keeps its rate)
      if (!this.dividerRunning) return;
      const p = periodicNs(this.cmos[RTC_REG_A]!);
      if (p !== 0 && this.boundaries(from, now, p) > 0) this.regC |= REG_C_PF;
      this.updateIrq();
      return;
    }
    const p = periodicNs(this.cmos[RTC_REG_A]!);
    if (p !== 0 && this.boundaries(from, now, p) > 0) this.regC |= REG_C_PF;
    if (this.boundaries(from, now, NS_PER_SEC) > 0) {
      this.regC |= REG_C_UF;
      if (this.alarmBetween(from, now)) this.regC |= REG_C_AF;
    }
    this.updateIrq();
  }

  /** Number of period boundaries baseNs + k·period in (from, to]. */
  private boundaries(from: number, to: number, period: number): number {
    return Math.floor((to - this.baseNs) / period) - Math.floor((from - this.baseNs) / period);
  }

  /** Whether an update in (from, to] produced a time matching the alarm. */
  private alarmBetween(from: number, to: number): boolean {
    const first = this.seconds(from) + 1, last = this.seconds(to);
    const next = this.nextAlarm(first - 1);
    return next !== -1 && next <= last;
  }

  private alarmMatches(alarm: number, value: number): boolean {
    return (alarm & 0xc0) === 0xc0 || alarm === value;
  }

  /** The first epoch second after `sec` whose time matches the alarm, or -1 (none within a day). */
  private nextAlarm(sec: number): number {
    const c = this.cmos;
    const ah = c[RTC_HOURS_ALARM]!, am = c[RTC_MINUTES_ALARM]!, as = c[RTC_SECONDS_ALARM]!;
    const day0 = Math.floor((sec + 1) / SECONDS_PER_DAY) * SECONDS_PER_DAY;
    for (let d = 0; d < 2; d++) {
      for (let h = 0; h < 24; h++) {
        if (!this.alarmMatches(ah, this.encodeHour(h))) continue;
        const hs = day0 + d * SECONDS_PER_DAY + h * 3600;
        if (hs + 3599 <= sec) continue;
        for (let m = 0; m < 60; m++) {
          if (!this.alarmMatches(am, this.encode(m))) continue;
          const ms = hs + m * 60;
          if (ms + 59 <= sec) continue;
          for (let s = 0; s < 60; s++) {
            if (ms + s > sec && this.alarmMatches(as, this.encode(s))) return ms + s;
          }
        }
      }
    }
    return -1;
  }

  private updateIrq(): void {
    const b = this.cmos[RTC_REG_B]!;
    const pending = (this.regC & REG_C_PF && b & REG_B_PIE) || (this.regC & REG_C_AF && b & REG_B_AIE) ||
      (this.regC & REG_C_UF && b & REG_B_UIE);
    if (pending) this.regC |= REG_C_IRQF;
    const level = (this.regC & REG_C_IRQF) !== 0;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq.set(level); }
  }

  /** Arms the timer for the next event whose interrupt is enabled and whose flag is clear. */
  private arm(now: number): void {
    const b = this.cmos[RTC_REG_B]!;
    let at = Infinity;
    if (this.dividerRunning && (b & REG_B_PIE) !== 0) {
      const p = periodicNs(this.cmos[RTC_REG_A]!);
      // once PF is set, IRQF stays up until register C is read: no need to wake up for more
      if (p !== 0 && (this.regC & REG_C_PF) === 0) at = Math.min(at, this.baseNs + (Math.floor((now - this.baseNs) / p) + 1) * p);
    }
    if (this.running) {
      const nextUpdate = this.baseNs + (this.elapsed(now) + 1) * NS_PER_SEC;
      if ((b & REG_B_UIE) !== 0 && (this.regC & REG_C_UF) === 0) at = Math.min(at, nextUpdate);
      if ((b & REG_B_AIE) !== 0 && (this.regC & REG_C_AF) === 0) {
        // the update that shows time `a` happens at baseNs + (a - baseSec) s
        const a = this.nextAlarm(this.seconds(now));
        if (a !== -1) at = Math.min(at, this.baseNs + (a - this.baseSec) * NS_PER_SEC);
      }
    }
    if (at === Infinity) this.timer.cancel(); else this.timer.armAt(at);
  }

  private onTimer(): void {
    const now = this.clock.nowNs();
    this.sync(now);
    this.arm(now);
  }

  // ---- ports -------------------------------------------------------------------------

  read(offset: number, _size: number): number {
    if ((offset & 1) === 0) return 0xff; // the index port is write-only (QEMU reads 0xff)
    return this.readRegister(this.index);
  }

  write(offset: number, _size: number, value: number): void {
    value &= 0xff;
    if ((offset & 1) === 0) {
      this.index = value & 0x7f;
      this.nmiMasked = (value & 0x80) !== 0;
      return;
    }
    this.writeRegister(this.index, value);
  }

  /** CMOS byte `i` as the guest reads it through port 0x71. */
  readRegister(i: number): number {
    const now = this.clock.nowNs();
    switch (i) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR:
        if (this.running) this.latchTime(now);
        return this.cmos[i]!;
      case CMOS_CENTURY:
        if (this.running) this.latchTime(now);
        return this.cmos[i]!;
      case RTC_REG_A: {
        const intoSecond = (now - this.baseNs) - this.elapsed(now) * NS_PER_SEC;
        const uip = this.running && intoSecond >= NS_PER_SEC - UIP_NS;
        return (this.cmos[RTC_REG_A]! & 0x7f) | (uip ? REG_A_UIP : 0);
      }
      case RTC_REG_C: {
        this.sync(now);
        const v = this.regC;
        this.regC = 0;
        this.updateIrq();
        this.arm(now);
        return v;
      }
      case RTC_REG_D: return REG_D_VRT;
      default: return this.cmos[i & 0x7f]!;
    }
  }

  /** CMOS byte `i` as the guest writes it through port 0x71. */
  writeRegister(i: number, v: number): void {
    const now = this.clock.nowNs();
    switch (i) {
      case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
      case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case CMOS_CENTURY:
        if (this.running) {
          this.latchTime(now);
          this.cmos[i] = v;
          this.rebase(now);
        } else {
          this.cmos[i] = v;
        }
        this.arm(now);
        return;
      case RTC_REG_A: {
        this.sync(now);
        const wasDivider = this.dividerRunning, wasRunning = this.running;
        if (wasRunning) this.latchTime(now);
        this.cmos[RTC_REG_A] = v & 0x7f;
        if (wasDivider && !this.dividerRunning) {
          // divider reset: the time holds still
        } else if (!wasDivider && this.dividerRunning) {
          // leaving divider reset: the first update comes 500 ms later (datasheet, DV bits)
          this.baseNs = now - NS_PER_SEC / 2;
          this.baseSec = this.timeFromRegisters();
          this.flagsSyncedNs = now;
        }
        this.updateIrq();
        this.arm(now);
        return;
      }
      case RTC_REG_B: {
        this.sync(now);
        const wasRunning = this.running;
        if (wasRunning) this.latchTime(now); // in the old format
        // SET also clears UIE (datasheet, register B bit 7)
        if ((v & REG_B_SET) !== 0) v &= ~REG_B_UIE;
        const formatChanged = ((this.cmos[RTC_REG_B]! ^ v) & (REG_B_DM | REG_B_24H)) !== 0;
        this.cmos[RTC_REG_B] = v;
        if (wasRunning && !this.running) {
          if (formatChanged) this.latchTime(now);
        } else if (!wasRunning && this.running) {
          // SET cleared: continue from the registers the guest wrote, on the old update phase
          this.rebase(now);
          this.flagsSyncedNs = now;
        } else if (!this.running && formatChanged) {
          // the chip does not convert stored bytes; neither do we while stopped
        }
        this.updateIrq();
        this.arm(now);
        return;
      }
      case RTC_REG_C: case RTC_REG_D: return; // read-only
      default:
        if (i === RTC_SECONDS_ALARM || i === RTC_MINUTES_ALARM || i === RTC_HOURS_ALARM) {
          this.sync(now);
          this.cmos[i] = v;
          this.arm(now);
          return;
        }
        this.cmos[i & 0x7f] = v;
    }
  }

  /** A board reset (QEMU rtc_reset): interrupts disabled, flags cleared; time and CMOS RAM kept. */
  reset(): void {
    const now = this.clock.nowNs();
    this.sync(now);
    this.cmos[RTC_REG_B] = this.cmos[RTC_REG_B]! & ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | 0x08);
    this.regC = 0;
    this.updateIrq();
    this.arm(now);
  }

  // ---- snapshot ------------------------------------------------------------------------

  get state(): RtcState {
    return {
      version: 1, index: this.index, nmiMasked: this.nmiMasked, cmos: [...this.cmos], baseSec: this.baseSec,
      baseNs: this.baseNs, flagsSyncedNs: this.flagsSyncedNs, regC: this.regC, irqLevel: this.irqLevel,
    };
  }

  set state(s: RtcState) {
    if (s.version !== 1) throw new Error(`unsupported Rtc state version ${String(s.version)}`);
    this.index = s.index & 0x7f; this.nmiMasked = s.nmiMasked; this.cmos.set(s.cmos.slice(0, 128));
    this.baseSec = s.baseSec; this.baseNs = s.baseNs; this.flagsSyncedNs = s.flagsSyncedNs; this.regC = s.regC & 0xf0;
    this.irqLevel = s.irqLevel;
    this.arm(this.clock.nowNs());
  }
}
