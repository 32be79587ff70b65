/**
 * The PC's two cascaded 8259A programmable interrupt controllers (Intel 8259A datasheet,
 * "Programmable Interrupt Controller", order 231468) plus the PIIX edge/level control
 * registers (ELCR, 82371AB datasheet §4.1.x, ports 0x4D0/0x4D1).
 *
 * Each chip is a state machine with two registers (offset 0: ICW1/OCW2/OCW3 and IRR/ISR/
 * poll reads; offset 1: ICW2-4/OCW1 and IMR); src/machine places the master at 0x20 and
 * the slave at 0xA0. The slave's INTR drives the master's IR2. The master's INTR goes out
 * through an injected IrqLine (to the BSP's LINT0 in ExtINT mode); the processor's
 * interrupt-acknowledge cycle is acknowledge(), which returns the vector.
 *
 * Supported: ICW1-ICW4 (edge mode; LTIM is taken from the ELCR as on the PIIX, which
 * ignores ICW1.LTIM), OCW1 masks, OCW2 non-specific/specific/rotating EOI and set
 * priority, OCW3 read IRR/ISR, poll and special mask mode, auto-EOI with optional
 * rotation, special fully nested mode, spurious IRQ 7/15 when a request vanishes
 * before the acknowledge cycle. Buffered mode and 8080/8085 mode change nothing a PC sees.
 */
import type { IrqLine } from './lines.js';

export interface Pic8259ChipState {
  version: 1;
  irr: number; isr: number; imr: number; lastLevel: number; elcr: number;
  vectorBase: number; priorityAdd: number; initStep: number; init4: boolean; single: boolean;
  readIsr: boolean; poll: boolean; specialMask: boolean; autoEoi: boolean; rotateOnAutoEoi: boolean;
  specialFullyNested: boolean;
}

export interface Pic8259State { version: 1; master: Pic8259ChipState; slave: Pic8259ChipState }

/** One 8259A. */
export class Pic8259Chip {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Input levels last seen, for edge detection. */
  lastLevel = 0;
  /** Edge (0) / level (1) per input, from the ELCR. */
  elcr = 0;
  vectorBase = 0;
  /** Lowest-priority rotation: IR (priorityAdd) has the highest priority. */
  priorityAdd = 0;
  initStep = 0;
  init4 = false;
  single = false;
  readIsr = false;
  poll = false;
  specialMask = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;

  constructor(readonly isMaster: boolean, private readonly changed: () => void, readonly elcrMask: number) {}

  /** Priority number (0 highest) of the best bit in `mask`, 8 when none. */
  private priority(mask: number): number {
    if (mask === 0) return 8;
    let p = 0;
    while ((mask & (1 << ((p + this.priorityAdd) & 7))) === 0) p++;
    return p;
  }

  /** The IR input the chip would request now, or -1 (datasheet: priority resolver). */
  pendingIrq(): number {
    const p = this.priority(this.irr & ~this.imr);
    if (p === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    // special fully nested: the slave's IR2 may interrupt itself on the master
    if (this.specialFullyNested && this.isMaster) inService &= ~(1 << 2);
    const cur = this.priority(inService);
    return p < cur ? (p + this.priorityAdd) & 7 : -1;
  }

  setInput(irq: number, level: boolean): void {
    const bit = 1 << irq;
    if ((this.elcr & bit) !== 0) {
      if (level) { this.irr |= bit; this.lastLevel |= bit; } else { this.irr &= ~bit; this.lastLevel &= ~bit; }
    } else if (level) {
      if ((this.lastLevel & bit) === 0) this.irr |= bit;
      this.lastLevel |= bit;
    } else {
      this.lastLevel &= ~bit;
    }
    this.changed();
  }

  /** INTA for a request the resolver chose. */
  intack(irq: number): void {
    const bit = 1 << irq;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (irq + 1) & 7;
    } else {
      this.isr |= bit;
    }
    // edge-triggered requests are consumed; level ones stay while the line is high
    if ((this.elcr & bit) === 0) this.irr &= ~bit;
  }

  read(offset: number): number {
    if (this.poll) {
      this.poll = false;
      const irq = this.pendingIrq();
      if (irq < 0) return 0;
      this.intack(irq);
      this.changed();
      return 0x80 | irq;
    }
    if ((offset & 1) === 1) return this.imr;
    return this.readIsr ? this.isr : this.irr;
  }

  write(offset: number, value: number): void {
    value &= 0xff;
    if ((offset & 1) === 0) {
      if ((value & 0x10) !== 0) { this.icw1(value); return; }
      if ((value & 0x08) !== 0) { // OCW3
        if ((value & 0x04) !== 0) this.poll = true;
        if ((value & 0x02) !== 0) this.readIsr = (value & 1) !== 0;
        if ((value & 0x40) !== 0) this.specialMask = (value & 0x20) !== 0;
        this.changed();
        return;
      }
      this.ocw2(value);
      return;
    }
    switch (this.initStep) {
      case 0: this.imr = value; this.changed(); return; // OCW1
      case 1: // ICW2: vector base (bits 7:3 in x86 mode)
        this.vectorBase = value & 0xf8;
        this.initStep = this.single ? (this.init4 ? 3 : 0) : 2;
        return;
      case 2: // ICW3: cascade wiring, fixed on a PC
        this.initStep = this.init4 ? 3 : 0;
        return;
      default: // ICW4
        this.specialFullyNested = (value & 0x10) !== 0;
        this.autoEoi = (value & 0x02) !== 0;
        this.initStep = 0;
        this.changed();
        return;
    }
  }

  private icw1(value: number): void {
    // ICW1 clears IMR and ISR, resets priorities, selects IRR reads (datasheet, Initialization)
    this.lastLevel = 0;
    this.irr &= this.elcr;
    this.imr = 0; this.isr = 0; this.priorityAdd = 0; this.readIsr = false; this.poll = false;
    this.specialMask = false; this.autoEoi = false; this.rotateOnAutoEoi = false; this.specialFullyNested = false;
    this.init4 = (value & 1) !== 0;
    this.single = (value & 2) !== 0;
    this.initStep = 1;
    this.changed();
  }

  private ocw2(value: number): void {
    const cmd = value >>> 5;
    switch (cmd) {
      case 0: this.rotateOnAutoEoi = false; break;
      case 4: this.rotateOnAutoEoi = true; break;
      case 1: case 5: { // non-specific EOI (5: and rotate)
        const p = this.priority(this.isr);
        if (p !== 8) {
          const irq = (p + this.priorityAdd) & 7;
          this.isr &= ~(1 << irq);
          if (cmd === 5) this.priorityAdd = (irq + 1) & 7;
        }
        break;
      }
      case 3: this.isr &= ~(1 << (value & 7)); break; // specific EOI
      case 6: this.priorityAdd = ((value & 7) + 1) & 7; break; // set priority
      case 7: this.isr &= ~(1 << (value & 7)); this.priorityAdd = ((value & 7) + 1) & 7; break;
      default: break; // 2: no operation
    }
    this.changed();
  }

  get state(): Pic8259ChipState {
    return {
      version: 1, irr: this.irr, isr: this.isr, imr: this.imr, lastLevel: this.lastLevel, elcr: this.elcr,
      vectorBase: this.vectorBase, priorityAdd: this.priorityAdd, initStep: this.initStep, init4: this.init4,
      single: this.single, readIsr: this.readIsr, poll: this.poll, specialMask: this.specialMask,
      autoEoi: this.autoEoi, rotateOnAutoEoi: this.rotateOnAutoEoi, specialFullyNested: this.specialFullyNested,
    };
  }

  set state(s: Pic8259ChipState) {
    if (s.version !== 1) throw new Error(`unsupported Pic8259Chip state version ${String(s.version)}`);
    this.irr = s.irr & 0xff; this.isr = s.isr & 0xff; this.imr = s.imr & 0xff; this.lastLevel = s.lastLevel & 0xff;
    this.elcr = s.elcr & this.elcrMask; this.vectorBase = s.vectorBase & 0xf8; this.priorityAdd = s.priorityAdd & 7;
    this.initStep = s.initStep & 3; this.init4 = s.init4; this.single = s.single; this.readIsr = s.readIsr;
    this.poll = s.poll; this.specialMask = s.specialMask; this.autoEoi = s.autoEoi;
    this.rotateOnAutoEoi = s.rotateOnAutoEoi; this.specialFullyNested = s.specialFullyNested;
  }
}

/** The master/slave pair with the ELCR; IRQ n < 8 on the master, 8..15 on the slave. */
export class Pic8259 {
  readonly master: Pic8259Chip;
  readonly slave: Pic8259Chip;
  private intr = false;

  constructor(private readonly out: IrqLine) {
    // PIIX ELCR: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge (82371AB §4.1.12)
    this.master = new Pic8259Chip(true, () => this.update(), 0xf8);
    this.slave = new Pic8259Chip(false, () => this.update(), 0xde);
  }

  /** Drives IRQ line `irq` (0-15) to `level`. */
  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setInput(irq, level);
    else if (irq < 16) this.slave.setInput(irq - 8, level);
  }

  /** The master's INTR output. */
  get intrLevel(): boolean { return this.intr; }

  private update(): void {
    // cascade: the slave's INTR is the master's IR2 input (a level)
    const slaveIrq = this.slave.pendingIrq();
    const bit2 = 1 << 2;
    if (slaveIrq >= 0) this.master.irr |= bit2; else this.master.irr &= ~bit2;
    const level = this.master.pendingIrq() >= 0;
    if (level !== this.intr) { this.intr = level; this.out.set(level); }
  }

  /**
   * The interrupt-acknowledge cycle: returns the vector and marks the IR in service. A
   * request that vanished before INTA gets the spurious IR7 vector of the chip concerned,
   * with no ISR bit set (datasheet, "Interrupt sequence").
   */
  acknowledge(): number {
    const irq = this.master.pendingIrq();
    let vector: number;
    if (irq < 0) {
      vector = this.master.vectorBase + 7;
    } else {
      this.master.intack(irq);
      if (irq === 2) {
        const s = this.slave.pendingIrq();
        if (s >= 0) { this.slave.intack(s); vector = this.slave.vectorBase + s; }
        else vector = this.slave.vectorBase + 7;
      } else {
        vector = this.master.vectorBase + irq;
      }
    }
    this.update();
    return vector;
  }

  /** ELCR at 0x4D0 (offset 0, master) and 0x4D1 (offset 1, slave). */
  readonly elcr = {
    read: (offset: number, _size: number): number => (offset & 1) === 0 ? this.master.elcr : this.slave.elcr,
    write: (offset: number, _size: number, value: number): void => {
      const c = (offset & 1) === 0 ? this.master : this.slave;
      c.elcr = value & c.elcrMask;
      this.update();
    },
  };

  /** Port handlers for the chips (offset 0/1 of 0x20 and 0xA0). */
  readonly masterPorts = {
    read: (offset: number, _size: number): number => this.master.read(offset),
    write: (offset: number, _size: number, value: number): void => this.master.write(offset, value),
  };
  readonly slavePorts = {
    read: (offset: number, _size: number): number => this.slave.read(offset),
    write: (offset: number, _size: number, value: number): void => this.slave.write(offset, value),
  };

  get state(): Pic8259State { return { version: 1, master: this.master.state, slave: this.slave.state }; }
  set state(s: Pic8259State) {
    if (s.version !== 1) throw new Error(`unsupported Pic8259 state version ${String(s.version)}`);
    this.master.state = s.master; this.slave.state = s.slave; this.update();
  }
}
