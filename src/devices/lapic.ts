/**
 * The local APIC (SDM Vol. 3A chapter 10, "Advanced Programmable Interrupt Controller"),
 * xAPIC and x2APIC modes, as a pure state machine (STYLE habit 1): `read`/`write` take the
 * offset within the 4 KiB xAPIC page, `readMsr`/`writeMsr` the x2APIC MSRs, IA32_APIC_BASE
 * and IA32_TSC_DEADLINE; everything the APIC does to its core goes through the injected
 * LapicHost, and messages to other APICs through the ApicBus.
 *
 * Interrupt acceptance (§10.8): an accepted fixed interrupt sets its IRR bit (and the TMR
 * bit for level-triggered ones); the core is interrupted when the highest IRR vector's
 * priority class is above the PPR's; acknowledge() moves that vector from IRR to ISR.
 * EOI clears the highest ISR bit and, for a level-triggered vector, broadcasts the EOI to
 * the I/O APICs. A software-disabled APIC (SVR bit 8 clear) keeps accepting into IRR but
 * delivers nothing and forces every LVT mask; a hardware-disabled one (IA32_APIC_BASE.EN
 * clear) takes nothing at all, its MMIO page floats, and the PIC's INTR reaches the core
 * directly as on a processor without an APIC.
 *
 * The timer counts APIC bus clocks of 1 ns (QEMU's choice, a 1 GHz bus) scaled by the
 * divide configuration, against the VM's virtual clock; TSC-deadline mode compares with
 * the TSC the host converts to virtual time.
 */
import type { LapicPort } from '../cpu/platform.js';
import { ApicBus, ApicEndpoint, DM_EXTINT, DM_FIXED, DM_INIT, DM_LOWEST, DM_NMI, DM_SMI, DM_STARTUP } from './apic-bus.js';
import type { Timer, TimeSource, VirtualClock } from './clock.js';

/** What the APIC needs from its core and platform (implemented by src/machine). */
export interface LapicHost {
  /** The core's INTR: true while acknowledge() would return a vector. */
  setInterruptPending(pending: boolean): void;
  nmi(): void;
  /** INIT: the core resets and, if it is an AP, waits for a SIPI. */
  init(): void;
  /** Start-up IPI with its vector (ignored by a core not waiting for one). */
  startup(vector: number): void;
  /** The core's TSC now, and the virtual time at which its TSC reads `tsc`. */
  tscNow(): number;
  tscToNs(tsc: number): number;
  /** The 8259's INTR line and acknowledge cycle, for LINT0 in ExtINT mode. */
  extIntAcknowledge(): number;
  /** Called when IA32_APIC_BASE moves the MMIO page or turns it on or off. */
  mmioChanged(): void;
}

// Register offsets in the xAPIC page (SDM Table 10-1); x2APIC MSR = 0x800 + offset / 16.
export const APIC_ID = 0x20, APIC_VERSION = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xa0;
export const APIC_EOI = 0xb0, APIC_RRD = 0xc0, APIC_LDR = 0xd0, APIC_DFR = 0xe0, APIC_SVR = 0xf0;
export const APIC_ISR = 0x100, APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280, APIC_LVT_CMCI = 0x2f0;
export const APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310, APIC_LVT_TIMER = 0x320, APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340, APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370;
export const APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0, APIC_SELF_IPI = 0x3f0;

/** Version register: version 0x14, max LVT entry 5 (six LVTs, no CMCI), no EOI-broadcast suppression. */
export const APIC_VERSION_VALUE = 0x50014;
export const APIC_DEFAULT_BASE = 0xfee00000;

// IA32_APIC_BASE (SDM §10.4.4, §10.12.1): 8 BSP, 10 EXTD (x2APIC), 11 EN, 12+ base.
const BASE_BSP = 1 << 8, BASE_EXTD = 1 << 10, BASE_EN = 1 << 11;
const MSR_APIC_BASE = 0x1b, MSR_TSC_DEADLINE = 0x6e0;

// LVT fields (SDM Figure 10-8).
const LVT_MASKED = 1 << 16, LVT_LEVEL = 1 << 15, LVT_REMOTE_IRR = 1 << 14;
const TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSCDEADLINE = 2;
/** Writable bits per LVT: timer, thermal, perf, LINT0, LINT1, error (in register order). */
const LVT_OFFSETS = [APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF, APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_ERROR];
const LVT_WRITABLE = [0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff];
const L_TIMER = 0, L_LINT0 = 3, L_LINT1 = 4, L_ERROR = 5;

// SVR: 7:0 spurious vector, 8 APIC software enable, 9 focus processor checking disable.
const SVR_ENABLE = 1 << 8, SVR_WRITABLE = 0x3ff;
// ESR bits (SDM §10.5.3).
const ESR_SEND_ILLEGAL_VECTOR = 1 << 5, ESR_RECV_ILLEGAL_VECTOR = 1 << 6, ESR_ILLEGAL_REGISTER = 1 << 7;
// ICR (SDM Figure 10-12): bits 12 (delivery status) and 13, 16-17 are not stored.
const ICR_LO_XAPIC_MASK = 0x000cefff, ICR_LO_X2APIC_RESERVED = 0xfff33000 | 0;

/** Snapshot (STYLE habit 8). */
export interface LapicState {
  version: 1;
  id: number; base: number; baseFlags: number; tpr: number; ldr: number; dfr: number; svr: number;
  irr: number[]; isr: number[]; tmr: number[]; esr: number; esrPending: number;
  icrLo: number; icrHi: number; lvt: number[]; initialCount: number; divideConfig: number;
  timerStartNs: number; tscDeadline: number; lint0Level: boolean;
  /** The count ran out in one-shot mode and has not been restarted (absent in older snapshots: false). */
  timerDone?: boolean;
}

function highestBit(words: Int32Array): number {
  for (let w = 7; w >= 0; w--) {
    const v = words[w]!;
    if (v !== 0) return w * 32 + 31 - Math.clz32(v);
  }
  return -1;
}

export class Lapic implements LapicPort, ApicEndpoint {
  /** x2APIC ID (the initial APIC ID); in xAPIC mode the ID register is bits 31:24 of xapicId. */
  readonly initialId: number;
  private xapicId: number;
  /** Physical base of the xAPIC page. */
  baseAddress = APIC_DEFAULT_BASE;
  private baseFlags: number;
  private tpr = 0;
  private ldr = 0;
  private dfr = -1;
  private svr = 0xff;
  private readonly irr = new Int32Array(8);
  private readonly isr = new Int32Array(8);
  private readonly tmr = new Int32Array(8);
  private esr = 0;
  private esrPending = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Int32Array(6);
  private initialCount = 0;
  private divideConfig = 0;
  private timerStartNs = 0;
  /**
   * The count reached 0 in one-shot mode: it stays 0, also after a switch to periodic mode,
   * until TMICT is written again (what KVM's TMCCT does; kvm-unit-tests apic "TMCCT should
   * stay at zero").
   */
  private timerDone = false;
  private tscDeadline = 0;
  private lint0Level = false;
  private lint1Level = false;
  private readonly timer: Timer;
  private readonly clock: TimeSource;
  msrLo = 0;
  msrHi = 0;
  /** Whether x2APIC mode may be entered (CPUID.1:ECX.x2APIC). */
  readonly x2apicSupported: boolean;
  private readonly physAddrBits: number;

  constructor(id: number, bsp: boolean, clock: VirtualClock, private readonly bus: ApicBus,
    private readonly host: LapicHost, opts: { x2apic?: boolean; physAddrBits?: number } = {}) {
    this.initialId = id;
    this.xapicId = id & 0xff;
    this.baseFlags = BASE_EN | (bsp ? BASE_BSP : 0);
    this.clock = clock;
    this.x2apicSupported = opts.x2apic ?? true;
    this.physAddrBits = opts.physAddrBits ?? 39;
    this.timer = clock.timer(`lapic${id} timer`, () => this.timerExpired());
    this.resetRegisters();
    // QEMU (and every PC BIOS) leaves the BSP's LINT0 in ExtINT mode so the 8259 gets through
    this.lvt[L_LINT0] = bsp ? DM_EXTINT << 8 : LVT_MASKED;
    bus.attach(this);
  }

  // ---- modes --------------------------------------------------------------------------

  get hwEnabled(): boolean { return (this.baseFlags & BASE_EN) !== 0; }
  get x2apic(): boolean { return (this.baseFlags & BASE_EXTD) !== 0; }
  get swEnabled(): boolean { return (this.svr & SVR_ENABLE) !== 0; }
  get isBsp(): boolean { return (this.baseFlags & BASE_BSP) !== 0; }
  /** The xAPIC page is decoded only in xAPIC mode. */
  get mmioEnabled(): boolean { return this.hwEnabled && !this.x2apic; }
  get apicId(): number { return this.x2apic ? this.initialId : this.xapicId; }

  /** Power-up/INIT register state (SDM §10.4.7.1): IDs and IA32_APIC_BASE are kept. */
  private resetRegisters(): void {
    this.tpr = 0; this.ldr = 0; this.dfr = -1; this.svr = 0xff;
    this.irr.fill(0); this.isr.fill(0); this.tmr.fill(0);
    this.esr = 0; this.esrPending = 0; this.icrLo = 0; this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.initialCount = 0; this.divideConfig = 0; this.tscDeadline = 0; this.timerDone = false;
    this.timer.cancel();
  }

  /** INIT (SDM §10.4.7.3): like power-up, but the APIC ID and IA32_APIC_BASE survive. */
  init(): void {
    this.resetRegisters();
    this.xapicId = this.initialId & 0xff;
    if (this.x2apic) this.ldr = this.x2apicLdr();
    this.updateIntr();
  }

  /**
   * A board reset (not INIT): the power-up state including IA32_APIC_BASE (enabled, xAPIC,
   * default base), with the BSP's LINT0 in ExtINT as QEMU's reset leaves it for the 8259.
   */
  powerOnReset(): void {
    this.baseAddress = APIC_DEFAULT_BASE;
    this.baseFlags = BASE_EN | (this.baseFlags & BASE_BSP);
    this.resetRegisters();
    this.xapicId = this.initialId & 0xff;
    if (this.isBsp) this.lvt[L_LINT0] = DM_EXTINT << 8;
    this.updateIntr();
    this.host.mmioChanged();
  }

  private x2apicLdr(): number {
    return ((this.initialId >>> 4) << 16) | (1 << (this.initialId & 0xf));
  }

  // ---- priorities (SDM §10.8.3.1) ----------------------------------------------------

  private ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  arbitrationPriority(): number {
    const irrv = highestBit(this.irr), isrv = highestBit(this.isr);
    const irrc = irrv < 0 ? 0 : irrv & 0xf0, isrc = isrv < 0 ? 0 : isrv & 0xf0;
    if ((this.tpr & 0xf0) >= irrc && (this.tpr & 0xf0) > isrc) return this.tpr & 0xff;
    return Math.max(this.tpr & 0xf0, irrc, isrc);
  }

  /** The vector the core would take now, or -1. */
  private deliverable(): number {
    if (!this.hwEnabled || !this.swEnabled) return -1;
    const v = highestBit(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  private extIntAccepted(): boolean {
    if (!this.lint0Level) return false;
    if (!this.hwEnabled) return true; // no APIC: INTR is the 8259's output
    const l = this.lvt[L_LINT0]!;
    return (l & LVT_MASKED) === 0 && ((l >> 8) & 7) === DM_EXTINT;
  }

  private updateIntr(): void {
    this.host.setInterruptPending(this.deliverable() >= 0 || this.extIntAccepted());
  }

  /** Whether INTR is asserted now (what setInterruptPending last said), without acknowledging. */
  get interruptPending(): boolean { return this.deliverable() >= 0 || this.extIntAccepted(); }

  /** The core's interrupt-acknowledge cycle: the vector to take, or -1 (SDM §10.8.4). */
  acknowledge(): number {
    const v = this.deliverable();
    if (v >= 0) {
      this.irr[v >>> 5]! &= ~(1 << (v & 31));
      this.isr[v >>> 5]! |= 1 << (v & 31);
      this.updateIntr();
      return v;
    }
    if (this.extIntAccepted()) {
      const pv = this.host.extIntAcknowledge();
      this.updateIntr();
      return pv;
    }
    this.updateIntr();
    return -1;
  }

  // ---- incoming messages ---------------------------------------------------------------

  matches(logical: boolean, dest: number, wide: boolean): boolean {
    if (!logical) {
      if (wide ? dest === -1 || dest === 0xffffffff : (dest & 0xff) === 0xff) return true;
      return this.x2apic ? (dest >>> 0) === this.initialId : (dest & 0xff) === this.xapicId;
    }
    if (this.x2apic) {
      if (!wide) return ((dest & 0xff) & (this.ldr & 0xff)) !== 0;
      if ((dest >>> 0) === 0xffffffff) return true;
      return (dest >>> 16) === (this.ldr >>> 16) && (dest & this.ldr & 0xffff) !== 0;
    }
    const d = dest & 0xff, ldr = (this.ldr >>> 24) & 0xff;
    if (d === 0xff) return true;
    if (((this.dfr >>> 28) & 0xf) === 0xf) return (d & ldr) !== 0; // flat model
    return (d >>> 4) === (ldr >>> 4) && (d & ldr & 0xf) !== 0; // cluster model
  }

  accept(mode: number, vector: number, level: boolean, assert: boolean): void {
    if (!this.hwEnabled) return;
    switch (mode) {
      case DM_FIXED: case DM_LOWEST:
        this.setIrr(vector & 0xff, level);
        return;
      case DM_NMI: this.host.nmi(); return;
      case DM_INIT:
        // INIT level de-assert only synchronises arbitration IDs (SDM §10.6.1)
        if (level && !assert) return;
        this.host.init();
        return;
      case DM_STARTUP: this.host.startup(vector & 0xff); return;
      case DM_EXTINT: this.updateIntr(); return;
      default: return; // SMI: no SMM
    }
  }

  /** An accepted fixed interrupt (SDM §10.8.3): vectors 0-15 are illegal. */
  setIrr(vector: number, level: boolean): void {
    if (vector < 16) { this.error(ESR_RECV_ILLEGAL_VECTOR); return; }
    this.irr[vector >>> 5]! |= 1 << (vector & 31);
    if (level) this.tmr[vector >>> 5]! |= 1 << (vector & 31);
    else this.tmr[vector >>> 5]! &= ~(1 << (vector & 31));
    this.updateIntr();
  }

  /** The 8259's INTR, wired to LINT0. */
  setLint0(level: boolean): void {
    if (level === this.lint0Level) return;
    this.lint0Level = level;
    const l = this.lvt[L_LINT0]!;
    if (level && this.hwEnabled && (l & LVT_MASKED) === 0 && ((l >> 8) & 7) !== DM_EXTINT) this.localInterrupt(L_LINT0);
    this.updateIntr();
  }

  /**
   * The LINT1 pin (on a PC every processor's LINT1 is wired to the chipset's NMI output).
   * A rising edge delivers through LVT LINT1: NMI mode raises the core's NMI, fixed mode a
   * vector, INIT an INIT (SDM §10.5.1); masked, nothing. With the APIC hardware-disabled
   * the pin is the processor's NMI input itself (SDM §10.4.3).
   */
  setLint1(level: boolean): void {
    if (level === this.lint1Level) return;
    this.lint1Level = level;
    if (!level) return;
    if (!this.hwEnabled) { this.host.nmi(); return; }
    this.localInterrupt(L_LINT1);
  }

  /** Sets ESR bits and raises the error interrupt for new ones (SDM §10.5.3). */
  private error(bits: number): void {
    const fresh = bits & ~this.esrPending;
    this.esrPending |= bits;
    if (fresh !== 0) this.localInterrupt(L_ERROR);
  }

  /** Delivers a local interrupt through its LVT entry (SDM §10.5.1). */
  private localInterrupt(which: number): void {
    const l = this.lvt[which]!;
    if ((l & LVT_MASKED) !== 0 || !this.hwEnabled) return;
    const mode = which === L_TIMER || which === L_ERROR ? DM_FIXED : (l >> 8) & 7;
    switch (mode) {
      case DM_FIXED:
        if ((which === L_LINT0 || which === L_LINT1) && (l & LVT_LEVEL) !== 0) this.lvt[which] = l | LVT_REMOTE_IRR;
        this.setIrr(l & 0xff, false);
        return;
      case DM_NMI: this.host.nmi(); return;
      case DM_INIT: this.host.init(); return;
      default: return;
    }
  }

  // ---- timer (SDM §10.5.4) ------------------------------------------------------------

  private timerMode(): number { return (this.lvt[L_TIMER]! >>> 17) & 3; }

  private tickNs(): number {
    const d = (this.divideConfig & 3) | ((this.divideConfig & 8) >> 1);
    return d === 7 ? 1 : 2 << d;
  }

  private startTimer(): void {
    this.timerStartNs = this.clock.nowNs();
    this.timerDone = false;
    if (this.initialCount === 0 || this.timerMode() === TIMER_TSCDEADLINE) { this.timer.cancel(); return; }
    this.timer.armAt(this.timerStartNs + this.initialCount * this.tickNs());
  }

  private currentCount(): number {
    if (this.initialCount === 0 || this.timerMode() === TIMER_TSCDEADLINE || this.timerDone) return 0;
    const ticks = Math.floor((this.clock.nowNs() - this.timerStartNs) / this.tickNs());
    if (this.timerMode() === TIMER_PERIODIC) return this.initialCount - (ticks % this.initialCount);
    return ticks >= this.initialCount ? 0 : this.initialCount - ticks;
  }

  private timerExpired(): void {
    const mode = this.timerMode();
    if (mode === TIMER_TSCDEADLINE) {
      this.tscDeadline = 0;
    } else if (mode !== TIMER_PERIODIC) {
      this.timerDone = true;
    } else if (this.initialCount !== 0 && !this.timerDone) {
      // next period boundary after now; missed periods coalesce
      const period = this.initialCount * this.tickNs();
      const now = this.clock.nowNs();
      const k = Math.floor((now - this.timerStartNs) / period) + 1;
      this.timer.armAt(this.timerStartNs + k * period);
    }
    this.localInterrupt(L_TIMER);
  }

  private armTscDeadline(): void {
    if (this.tscDeadline === 0 || this.timerMode() !== TIMER_TSCDEADLINE) { this.timer.cancel(); return; }
    const at = this.host.tscToNs(this.tscDeadline);
    const now = this.clock.nowNs();
    if (at <= now) { this.timer.cancel(); this.timerExpired(); return; }
    this.timer.armAt(at);
  }

  // ---- register file -------------------------------------------------------------------

  /** Reads a 32-bit register at `off` (16-byte aligned). Returns null for reserved offsets. */
  private readReg(off: number): number | null {
    switch (off) {
      case APIC_ID: return this.x2apic ? this.initialId : this.xapicId << 24;
      case APIC_VERSION: return APIC_VERSION_VALUE;
      case APIC_TPR: return this.tpr;
      case APIC_APR: return this.x2apic ? null : this.arbitrationPriority();
      case APIC_PPR: return this.ppr();
      case APIC_LDR: return this.ldr;
      case APIC_DFR: return this.x2apic ? null : this.dfr;
      case APIC_SVR: return this.svr;
      case APIC_ESR: return this.esr;
      case APIC_ICR_LO: return this.icrLo;
      case APIC_ICR_HI: return this.x2apic ? null : this.icrHi;
      case APIC_TMICT: return this.initialCount;
      case APIC_TMCCT: return this.currentCount();
      case APIC_TDCR: return this.divideConfig;
      default:
        if (off >= APIC_ISR && off < APIC_ISR + 0x80) return this.isr[(off - APIC_ISR) >> 4]!;
        if (off >= APIC_TMR && off < APIC_TMR + 0x80) return this.tmr[(off - APIC_TMR) >> 4]!;
        if (off >= APIC_IRR && off < APIC_IRR + 0x80) return this.irr[(off - APIC_IRR) >> 4]!;
        {
          const i = LVT_OFFSETS.indexOf(off);
          if (i >= 0) return this.lvt[i]!;
        }
        return null;
    }
  }

  /** Writes a register; returns false for a read-only or reserved one. */
  private writeReg(off: number, v: number): boolean {
    switch (off) {
      case APIC_ID:
        if (this.x2apic) return false;
        this.xapicId = (v >>> 24) & 0xff; // QEMU and most parts keep the written ID
        return true;
      case APIC_TPR: this.tpr = v & 0xff; this.updateIntr(); return true;
      case APIC_EOI: this.eoi(); return true;
      case APIC_LDR: if (this.x2apic) return false; this.ldr = v & 0xff000000; return true;
      case APIC_DFR: if (this.x2apic) return false; this.dfr = v | 0x0fffffff; return true;
      case APIC_SVR:
        this.svr = v & SVR_WRITABLE;
        // software disable masks every LVT (SDM §10.4.7.2)
        if (!this.swEnabled) for (let i = 0; i < 6; i++) this.lvt[i] = this.lvt[i]! | LVT_MASKED;
        this.updateIntr();
        return true;
      case APIC_ESR:
        // write-before-read: a write latches the errors seen since the last write (SDM §10.5.3)
        this.esr = this.esrPending; this.esrPending = 0;
        return true;
      case APIC_ICR_LO:
        this.icrLo = v & ICR_LO_XAPIC_MASK;
        this.sendIpi(v, this.x2apic ? this.icrHi : (this.icrHi >>> 24) & 0xff);
        return true;
      case APIC_ICR_HI: if (this.x2apic) return false; this.icrHi = v & 0xff000000; return true;
      case APIC_TMICT:
        if (this.timerMode() === TIMER_TSCDEADLINE) return true; // ignored in TSC-deadline mode
        this.initialCount = v >>> 0;
        this.startTimer();
        return true;
      case APIC_TDCR: {
        const count = this.currentCount();
        this.divideConfig = v & 0xb;
        // keep counting from the current count at the new rate
        if (this.initialCount !== 0 && count !== 0 && this.timer.armed) {
          const now = this.clock.nowNs();
          this.timerStartNs = now - (this.initialCount - count) * this.tickNs();
          this.timer.armAt(now + count * this.tickNs());
        }
        return true;
      }
      case APIC_SELF_IPI:
        if (!this.x2apic) return false;
        this.setIrr(v & 0xff, false);
        return true;
      default: {
        const i = LVT_OFFSETS.indexOf(off);
        if (i < 0) return false;
        this.writeLvt(i, v);
        return true;
      }
    }
  }

  private writeLvt(i: number, v: number): void {
    let nv = (v & LVT_WRITABLE[i]!) | (this.lvt[i]! & LVT_REMOTE_IRR);
    if (i === L_TIMER && ((nv >>> 17) & 3) === 3) nv &= ~(3 << 17); // mode 11b is reserved
    if (!this.swEnabled) nv |= LVT_MASKED;
    const old = this.lvt[i]!;
    this.lvt[i] = nv;
    if (i === L_TIMER) {
      const om = (old >>> 17) & 3, nm = (nv >>> 17) & 3;
      if (om !== nm) {
        // switching to or from TSC-deadline mode disarms the timer (SDM §10.5.4.1)
        if (om === TIMER_TSCDEADLINE || nm === TIMER_TSCDEADLINE) {
          this.timer.cancel(); this.initialCount = 0; this.tscDeadline = 0;
        } else if (this.initialCount !== 0) {
          // one-shot ⇄ periodic keeps counting from the current count; a one-shot count
          // that already ran out stays 0 (a timer still due fires once, without re-arming)
          const count = this.currentCount();
          if (count !== 0) this.startTimerFrom(count);
          else this.timerDone = true;
        }
      }
    }
    if (i === L_LINT0) this.updateIntr();
  }

  private startTimerFrom(count: number): void {
    const now = this.clock.nowNs();
    this.timerStartNs = now - (this.initialCount - count) * this.tickNs();
    this.timerDone = false;
    this.timer.armAt(now + count * this.tickNs());
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    this.isr[v >>> 5]! &= ~(1 << (v & 31));
    if ((this.tmr[v >>> 5]! & (1 << (v & 31))) !== 0) this.bus.broadcastEoi(v);
    this.updateIntr();
  }

  /** Sends the IPI described by ICR low `lo` to `dest` (SDM §10.6.1). */
  private sendIpi(lo: number, dest: number): void {
    const vector = lo & 0xff, mode = (lo >>> 8) & 7, logical = (lo & (1 << 11)) !== 0;
    const assert = (lo & (1 << 14)) !== 0, level = (lo & (1 << 15)) !== 0, sh = (lo >>> 18) & 3;
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) { this.error(ESR_SEND_ILLEGAL_VECTOR); return; }
    if (mode === DM_SMI || mode === 3 || mode === DM_EXTINT) return; // no SMM; 011 and ExtINT are reserved
    this.bus.deliver(this, sh, logical, dest, this.x2apic, mode, vector, level, assert);
  }

  // ---- xAPIC MMIO (the adapter in src/machine puts this page at baseAddress) ------------

  read(offset: number, size: number): number {
    if (!this.mmioEnabled) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    const reg = offset & 0xff0;
    let v = this.readReg(reg);
    if (v === null) { this.error(ESR_ILLEGAL_REGISTER); v = 0; }
    const sh = (offset & 3) * 8;
    v = v >>> sh;
    return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v >>> 0;
  }

  write(offset: number, _size: number, value: number): void {
    if (!this.mmioEnabled) return;
    if ((offset & 0xf) !== 0) return; // only the aligned dword of a register is wired
    if (!this.writeReg(offset & 0xff0, value | 0)) {
      // read-only registers ignore writes; reserved ones also flag an illegal address
      if (this.readReg(offset & 0xff0) === null) this.error(ESR_ILLEGAL_REGISTER);
    }
  }

  // ---- MSRs (LapicPort) ---------------------------------------------------------------

  readMsr(index: number): boolean {
    this.msrHi = 0;
    if (index === MSR_APIC_BASE) {
      this.msrLo = (this.baseAddress % 4294967296 & 0xfffff000) | this.baseFlags;
      this.msrHi = Math.floor(this.baseAddress / 4294967296);
      return true;
    }
    if (index === MSR_TSC_DEADLINE) {
      this.msrLo = this.tscDeadline % 4294967296 | 0;
      this.msrHi = Math.floor(this.tscDeadline / 4294967296) | 0;
      return true;
    }
    // x2APIC MSRs #GP outside x2APIC mode and for write-only/reserved ones (SDM §10.12.1.2)
    if (!this.x2apic) return false;
    const off = (index - 0x800) << 4;
    if (off === APIC_EOI || off === APIC_SELF_IPI) return false;
    if (off === APIC_ICR_LO) { this.msrLo = this.icrLo; this.msrHi = this.icrHi; return true; }
    const v = this.readReg(off);
    if (v === null) return false;
    this.msrLo = v | 0;
    return true;
  }

  writeMsr(index: number, lo: number, hi: number): boolean {
    if (index === MSR_APIC_BASE) return this.writeApicBase(lo, hi);
    if (index === MSR_TSC_DEADLINE) {
      if (this.timerMode() !== TIMER_TSCDEADLINE) return true; // ignored outside TSC-deadline mode
      this.tscDeadline = (hi >>> 0) * 4294967296 + (lo >>> 0);
      this.armTscDeadline();
      return true;
    }
    if (!this.x2apic) return false;
    const off = (index - 0x800) << 4;
    switch (off) {
      case APIC_ICR_LO:
        if ((lo & ICR_LO_X2APIC_RESERVED) !== 0) return false;
        this.icrLo = lo & ICR_LO_XAPIC_MASK; this.icrHi = hi;
        this.sendIpi(lo, hi);
        return true;
      case APIC_TPR: case APIC_SELF_IPI: if ((lo & ~0xff) !== 0 || hi !== 0) return false; break;
      case APIC_EOI: case APIC_ESR: if (lo !== 0 || hi !== 0) return false; break;
      case APIC_SVR: if ((lo & ~SVR_WRITABLE) !== 0 || hi !== 0) return false; break;
      case APIC_TDCR: if ((lo & ~0xb) !== 0 || hi !== 0) return false; break;
      case APIC_TMICT: if (hi !== 0) return false; break;
      case APIC_ID: case APIC_VERSION: case APIC_PPR: case APIC_LDR: case APIC_TMCCT: return false;
      default: {
        const i = LVT_OFFSETS.indexOf(off);
        if (i < 0) return false; // reserved, ISR/TMR/IRR (read-only), DFR/APR/ICR2 (absent in x2APIC)
        if ((lo & ~LVT_WRITABLE[i]!) !== 0 || hi !== 0) return false;
        if (i === L_TIMER && ((lo >>> 17) & 3) === 3) return false;
      }
    }
    return this.writeReg(off, lo);
  }

  /** IA32_APIC_BASE writes (SDM §10.12.5, Figure 10-27's state machine). */
  private writeApicBase(lo: number, hi: number): boolean {
    const reserved = 0x2ff | (this.x2apicSupported ? 0 : BASE_EXTD);
    if ((lo & reserved) !== 0 || (hi >>> 0) >= 2 ** (this.physAddrBits - 32)) return false;
    const en = (lo & BASE_EN) !== 0, extd = (lo & BASE_EXTD) !== 0;
    const wasEn = this.hwEnabled, wasX2 = this.x2apic;
    if (!en && extd) return false; // invalid state
    if (wasX2 && en && !extd) return false; // x2APIC → xAPIC needs a trip through disabled
    if (!wasEn && en && extd) return false; // disabled → x2APIC needs xAPIC first
    this.baseAddress = (hi >>> 0) * 4294967296 + ((lo & 0xfffff000) >>> 0);
    this.baseFlags = (lo & (BASE_EN | BASE_EXTD)) | (this.baseFlags & BASE_BSP);
    if (wasEn && !en) {
      // hardware disable returns the APIC to its power-up state (SDM §10.4.3)
      this.resetRegisters();
      this.xapicId = this.initialId & 0xff;
    }
    if (!wasX2 && extd) {
      // entering x2APIC mode: ID from the initial APIC ID, LDR derived from it (SDM §10.12.10.2)
      this.ldr = this.x2apicLdr();
    }
    this.updateIntr();
    this.host.mmioChanged();
    return true;
  }

  readCr8(): number { return (this.tpr >>> 4) & 0xf; }
  writeCr8(value: number): void { this.tpr = (value & 0xf) << 4; this.updateIntr(); }

  // ---- snapshot -----------------------------------------------------------------------

  get state(): LapicState {
    return {
      version: 1, id: this.xapicId, base: this.baseAddress, baseFlags: this.baseFlags, tpr: this.tpr,
      ldr: this.ldr, dfr: this.dfr, svr: this.svr, irr: [...this.irr], isr: [...this.isr], tmr: [...this.tmr],
      esr: this.esr, esrPending: this.esrPending, icrLo: this.icrLo, icrHi: this.icrHi, lvt: [...this.lvt],
      initialCount: this.initialCount, divideConfig: this.divideConfig, timerStartNs: this.timerStartNs,
      tscDeadline: this.tscDeadline, lint0Level: this.lint0Level, timerDone: this.timerDone,
    };
  }

  set state(s: LapicState) {
    if (s.version !== 1) throw new Error(`unsupported Lapic state version ${String(s.version)}`);
    this.xapicId = s.id & 0xff; this.baseAddress = s.base; this.baseFlags = s.baseFlags & (BASE_BSP | BASE_EN | BASE_EXTD);
    this.tpr = s.tpr & 0xff; this.ldr = s.ldr | 0; this.dfr = s.dfr | 0; this.svr = s.svr & SVR_WRITABLE;
    this.irr.set(s.irr.slice(0, 8)); this.isr.set(s.isr.slice(0, 8)); this.tmr.set(s.tmr.slice(0, 8));
    this.esr = s.esr; this.esrPending = s.esrPending; this.icrLo = s.icrLo; this.icrHi = s.icrHi;
    this.lvt.set(s.lvt.slice(0, 6)); this.initialCount = s.initialCount >>> 0; this.divideConfig = s.divideConfig & 0xb;
    this.timerStartNs = s.timerStartNs; this.tscDeadline = s.tscDeadline; this.lint0Level = s.lint0Level;
    this.timerDone = s.timerDone ?? false;
    this.timer.cancel();
    if (this.timerMode() === TIMER_TSCDEADLINE) this.armTscDeadline();
    else if (this.initialCount !== 0 && !this.timerDone) {
      const period = this.initialCount * this.tickNs(), now = this.clock.nowNs();
      let at = this.timerStartNs + period;
      if (this.timerMode() === TIMER_PERIODIC && at <= now) at = this.timerStartNs + (Math.floor((now - this.timerStartNs) / period) + 1) * period;
      if (at > now) this.timer.armAt(at);
    }
    this.updateIntr();
    this.host.mmioChanged();
  }
}

