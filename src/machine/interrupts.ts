/**
 * The PC's interrupt and timer wiring (issue 3): one virtual clock, the 8259 pair, the
 * 8254, the I/O APIC, the CMOS/RTC, the HPET and one local APIC per vCPU, placed on the
 * port and MMIO buses at the addresses of QEMU's "pc" machine and connected as a PIIX
 * board connects them:
 *
 *   ISA IRQ n ──► 8259 input n ─► INTR ─► BSP LINT0 (ExtINT)
 *            └──► I/O APIC pin n (IRQ 0 on pin 2: the MADT interrupt source override)
 *   PIT OUT0 = IRQ 0, RTC = IRQ 8, COM1 = IRQ 4; HPET timers 0/1 replace IRQ 0/8 in
 *   legacy-replacement mode, else go to the I/O APIC pin their route selects.
 *   Local APICs ◄─► APIC bus ◄── I/O APIC; EOIs of level vectors go back to the I/O APIC.
 *
 * Ports: 0x20/0x21 and 0xA0/0xA1 (8259), 0x4D0/0x4D1 (ELCR), 0x40-0x43 (8254), 0x61
 * (port B), 0x70/0x71 (CMOS). MMIO: 0xFEC00000 (I/O APIC), 0xFED00000 (HPET), and the
 * local APIC page at each APIC's IA32_APIC_BASE (0xFEE00000 by default), which reaches
 * the APIC of the vCPU doing the access.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import type { PortBus, MmioHandler } from '../memory/bus.js';
import type { Cpu } from '../cpu/cpu.js';
import { tscValue, tscOffsetValue } from '../cpu/tsc.js';
import { F1C_X2APIC } from '../cpu/profile.js';
import { VirtualClock } from '../devices/clock.js';
import { ApicBus } from '../devices/apic-bus.js';
import { Lapic } from '../devices/lapic.js';
import { Pic8259 } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { IoApic } from '../devices/ioapic.js';
import { Hpet } from '../devices/hpet.js';
import { Rtc } from '../devices/rtc.js';
import type { IrqLine } from '../devices/lines.js';
import { Vcpus } from './vcpus.js';

export const PIC_MASTER_PORT = 0x20, PIC_SLAVE_PORT = 0xa0, ELCR_PORT = 0x4d0;
export const PIT_PORT = 0x40, PORT_B = 0x61, CMOS_PORT = 0x70;
export const IOAPIC_BASE = 0xfec00000, HPET_BASE = 0xfed00000;

/** An ISA IRQ line fanned out to the 8259 and the I/O APIC, optionally gated (HPET legacy replacement). */
class IsaLine implements IrqLine {
  level = false;
  enabled = true;
  constructor(private readonly irq: number, private readonly pic: Pic8259, private readonly ioapic: IoApic) {}
  set(level: boolean): void {
    this.level = level;
    if (!this.enabled) return;
    this.pic.setIrq(this.irq, level);
    this.ioapic.setIrq(this.irq === 0 ? 2 : this.irq, level);
  }
}

export interface InterruptBoard {
  memory: PhysicalMemory;
  ports: PortBus;
  ramBytes: number;
  /** Wall time at power-on for the RTC, ms since the epoch (default: the host's clock). */
  rtcStartMs?: number;
}

export class PcInterrupts {
  readonly clock = new VirtualClock();
  readonly apicBus = new ApicBus();
  readonly pic: Pic8259;
  readonly pit: Pit8254;
  readonly ioapic: IoApic;
  readonly hpet: Hpet;
  /** MC146818 RTC/CMOS at 0x70/0x71, IRQ 8 (src/devices/rtc.ts). */
  readonly rtc: Rtc;
  readonly lapics: Lapic[] = [];
  vcpus: Vcpus | null = null;
  private readonly isa: IsaLine[] = [];
  private readonly memory: PhysicalMemory;
  /** Where LAPIC pages are registered now. */
  private readonly lapicPages = new Set<number>();

  constructor(board: InterruptBoard) {
    this.memory = board.memory;
    this.pic = new Pic8259({ set: (level) => this.picIntr(level) });
    this.ioapic = new IoApic(this.apicBus);
    for (let i = 0; i < 16; i++) this.isa.push(new IsaLine(i, this.pic, this.ioapic));
    this.pit = new Pit8254(this.clock, this.isa[0]!);
    const ports = board.ports;
    ports.register(PIC_MASTER_PORT, 2, this.pic.masterPorts, '8259 master');
    ports.register(PIC_SLAVE_PORT, 2, this.pic.slavePorts, '8259 slave');
    ports.register(ELCR_PORT, 2, this.pic.elcr, 'ELCR');
    ports.register(PIT_PORT, 4, this.pit, '8254 PIT');
    ports.register(PORT_B, 1, this.pit.portB, 'system control port B');
    this.rtc = new Rtc(this.clock, this.isa[8]!, { ramBelow4g: this.memory.lowSize, ramAbove4g: this.memory.highSize, startMs: board.rtcStartMs });
    ports.register(CMOS_PORT, 2, this.rtc, 'MC146818 RTC/CMOS');
    board.memory.mmio.register(IOAPIC_BASE, 0x1000, this.ioapic, 'I/O APIC');
    this.hpet = new Hpet(this.clock, (n, irq, level) => this.hpetIrq(n, irq, level));
    board.memory.mmio.register(HPET_BASE, 0x400, this.hpet, 'HPET');
  }

  /** The line of ISA IRQ `n` (0-15) for a device to drive. */
  isaIrq(n: number): IrqLine {
    return this.isa[n]!;
  }

  /**
   * HPET timer n's output. Legacy replacement disconnects the PIT from IRQ 0 and the RTC
   * from IRQ 8 (HPET spec §2.3.9); irq = -1 reports a routing change.
   */
  private hpetIrq(n: number, irq: number, level: boolean): void {
    const legacy = this.hpet.legacyReplacement;
    this.isa[0]!.enabled = !legacy;
    this.isa[8]!.enabled = !legacy;
    if (irq < 0) return;
    if (legacy && n < 2) {
      this.pic.setIrq(irq, level);
      this.ioapic.setIrq(irq === 0 ? 2 : irq, level);
    } else {
      this.ioapic.setIrq(irq, level);
    }
  }

  /** The chipset's NMI output, wired to LINT1 of every local APIC. */
  setNmi(level: boolean): void {
    for (const l of this.lapics) l.setLint1(level);
  }

  private picIntr(level: boolean): void {
    const bsp = this.lapics[0];
    if (bsp !== undefined) bsp.setLint0(level);
  }

  /**
   * Gives every CPU its local APIC, the clock and the interrupt-acknowledge hook, and
   * returns the vCPU set that runs them (APIC ID = index; CPU 0 is the BSP).
   */
  attachCpus(cpus: Cpu[]): Vcpus {
    const vcpus = new Vcpus(cpus, this.clock);
    this.vcpus = vcpus;
    cpus.forEach((cpu, i) => {
      const lapic = new Lapic(i, i === 0, this.clock, this.apicBus, {
        // an interrupt for another vCPU ends the sender's turn early (Vcpus.interruptArrived)
        setInterruptPending: (p) => { if (p && !cpu.irqPending) vcpus.interruptArrived(cpu); cpu.irqPending = p; },
        nmi: () => { cpu.nmiPending = true; vcpus.interruptArrived(cpu); },
        init: () => vcpus.init(i),
        startup: (v) => vcpus.startup(i, v),
        tscNow: () => tscValue(cpu),
        tscToNs: (tsc) => Math.ceil((tsc - tscOffsetValue(cpu)) / (cpu.profile.tscHz / 1e9)),
        extIntAcknowledge: () => this.pic.acknowledge(),
        mmioChanged: () => this.syncLapicPages(),
      }, { physAddrBits: cpu.profile.physAddrBits, x2apic: (cpu.profile.leaf1Ecx & F1C_X2APIC) !== 0 });
      this.lapics.push(lapic);
      cpu.lapic = lapic;
      cpu.hooks.acknowledgeInterrupt = () => lapic.acknowledge();
    });
    vcpus.onInit = (i) => this.lapics[i]!.init();
    this.syncLapicPages();
    return vcpus;
  }

  /** The local APIC of the vCPU running now (the BSP's outside a run). */
  private currentLapic(): Lapic {
    const v = this.vcpus;
    const cur = v !== null ? v.current : null;
    if (cur !== null && cur.lapic !== null) return cur.lapic as Lapic;
    return this.lapics[0]!;
  }

  /** Registers the xAPIC page at every base an enabled xAPIC uses, and drops stale ones. */
  private syncLapicPages(): void {
    const want = new Set<number>();
    for (const l of this.lapics) if (l.mmioEnabled) want.add(l.baseAddress);
    for (const b of [...this.lapicPages]) {
      if (!want.has(b)) { this.memory.mmio.unregister(b); this.lapicPages.delete(b); }
    }
    for (const b of want) {
      if (this.lapicPages.has(b) || this.memory.isRam(b, 4096)) continue; // RAM wins over a relocated page
      const page: MmioHandler = {
        read: (off, size) => {
          const l = this.currentLapic();
          return l.baseAddress === b ? l.read(off, size) : size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
        },
        write: (off, size, value) => {
          const l = this.currentLapic();
          if (l.baseAddress === b) l.write(off, size, value);
        },
      };
      try {
        this.memory.mmio.register(b, 0x1000, page, `local APIC page at 0x${b.toString(16)}`);
        this.lapicPages.add(b);
      } catch {
        // a guest moved its APIC onto another device: that device keeps the addresses
      }
    }
  }
}

/** Instantiates and places the interrupt controllers and timers of a PC board (see PcInterrupts). */
export function wireInterrupts(board: InterruptBoard): PcInterrupts {
  return new PcInterrupts(board);
}
