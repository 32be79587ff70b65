/**
 * Guest-requested resets of the PC board, as a PIIX-based PC (and QEMU) provides them:
 *
 *  - port 0x92 bit 0 (fast reset), the 8042's command 0xFE or an output-port write with
 *    bit 0 clear, and 0xCF9 with RST_CPU and SYS_RST = 0 are *soft* resets: INIT# to every
 *    processor (82371AB datasheet: "Fast INIT", RCIN#, soft reset). Every vCPU takes its
 *    INIT state (SDM Vol. 3A §9.1, Table 9-1: x87/SSE/AVX state, XCR0 and MSRs kept; a hard
 *    reset clears them), the APs wait for a SIPI, the BSP starts at the
 *    reset vector; the local APICs take INIT; RAM and the other devices keep their state,
 *    and port 0x92 keeps bit 0 set, so software can tell this from a hard reset.
 *  - 0xCF9 with RST_CPU and SYS_RST = 1 is a *hard* reset: the same, plus every device back
 *    to its power-on state (port 0x92 bit 0 cleared, the local APICs' IA32_APIC_BASE
 *    too). RAM and the CMOS memory are kept, as on QEMU.
 *
 * Either way the BSP runs the firmware stub at the reset vector (src/machine/firmware.ts),
 * which resumes through 40:67 when the CMOS shutdown status asks for it, or rings the boot
 * doorbell: then devices go to their power-on state (the BIOS POST) and the board loads the
 * kernel again (QEMU's -kernel option ROM). A triple fault is not a reset here: `nestvisor
 * run` stops and reports it, as QEMU does with --no-reboot.
 *
 * Requests arrive in the middle of an instruction (an OUT); they are applied between
 * windows, after that instruction retired.
 */
import type { PortBus } from '../memory/bus.js';
import { I8042, ResetControl } from '../devices/i8042.js';
import type { SystemControlA } from '../devices/system-ports.js';
import type { Pic8259State } from '../devices/pic8259.js';
import type { Pit8254State } from '../devices/pit8254.js';
import type { IoApicState } from '../devices/ioapic.js';
import type { HpetState } from '../devices/hpet.js';
import type { PcInterrupts } from './interrupts.js';
import type { Vcpus } from './vcpus.js';
import { FIRMWARE_BOOT_PORT } from './firmware.js';

export type ResetKind = 'soft' | 'hard' | 'boot';
const RANK: Record<ResetKind, number> = { soft: 1, hard: 2, boot: 3 };

export const KBC_DATA_PORT = 0x60, KBC_COMMAND_PORT = 0x64;

interface PowerOnState { pic: Pic8259State; pit: Pit8254State; ioapic: IoApicState; hpet: HpetState }

export class BoardReset {
  readonly kbc = new I8042(() => this.request('soft'));
  /** The reset to apply after the current instruction, if any. */
  pending: ResetKind | null = null;
  /** Resets applied so far (for tests and reports). */
  count = 0;
  private readonly powerOn: PowerOnState;

  constructor(private readonly irq: PcInterrupts, private readonly vcpus: Vcpus, private readonly port92: SystemControlA,
    private readonly resetControl: ResetControl) {
    this.powerOn = { pic: irq.pic.state, pit: irq.pit.state, ioapic: irq.ioapic.state, hpet: irq.hpet.state };
  }

  /** Places the 8042 (0x60, 0x64) and the firmware boot doorbell (0x4FE) on the bus. */
  wire(ports: PortBus): void {
    const kbc = this.kbc;
    ports.register(KBC_DATA_PORT, 1, { read: (_o, s) => kbc.read(0, s), write: (_o, s, v) => kbc.write(0, s, v) }, '8042 data');
    ports.register(KBC_COMMAND_PORT, 1, { read: (_o, s) => kbc.read(4, s), write: (_o, s, v) => kbc.write(4, s, v) }, '8042 command/status');
    ports.register(FIRMWARE_BOOT_PORT, 1, { read: () => 0xff, write: () => this.request('boot') }, 'firmware boot doorbell');
  }

  request(kind: ResetKind): void {
    if (this.pending === null || RANK[kind] > RANK[this.pending]) this.pending = kind;
    this.vcpus.requestStop();
  }

  /** Applies the pending request; returns true when the kernel must be loaded again ('boot'). */
  apply(): boolean {
    const kind = this.pending;
    this.pending = null;
    if (kind === null) return false;
    this.count++;
    for (let i = 0; i < this.vcpus.cpus.length; i++) this.vcpus.resetCpu(i, kind === 'soft');
    if (kind === 'soft') {
      for (const l of this.irq.lapics) l.init();
      return false;
    }
    for (const l of this.irq.lapics) l.powerOnReset();
    this.devicesPowerOn();
    if (kind === 'hard') { this.port92.hardReset(); this.resetControl.clear(); }
    return kind === 'boot';
  }

  /** The interrupt controllers and timers back to their power-on state; the RTC keeps its time and CMOS. */
  private devicesPowerOn(): void {
    const irq = this.irq;
    irq.pic.state = this.powerOn.pic;
    irq.pit.state = this.powerOn.pit;
    irq.ioapic.state = this.powerOn.ioapic;
    irq.hpet.state = this.powerOn.hpet;
    irq.rtc.reset();
  }
}
