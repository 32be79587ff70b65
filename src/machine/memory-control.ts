/**
 * A board's memory that can change while it runs: a virtio-balloon at PCI 00:11.0 (INTA# on
 * ISA IRQ 5, level-triggered, a line of its own) plus memory hot-add.
 *
 * How the memory a VM is assigned moves (docs/management.md, "Mémoire dynamique"):
 * - The host buffer is reserved once, at power-on, up to the VM's ceiling (PcMachine's
 *   `maxMemoryBytes`: MaximumBytes with dynamic memory, else the host's per-VM limit); Linux
 *   commits its pages only when the guest touches them. The guest's memory map shows only
 *   the boot size, so a guest without a balloon driver uses exactly that.
 * - Assigned = RAM the guest has (boot size + hot-added) − pages in the balloon.
 * - Shrinking raises the balloon's target: the driver gives pages, each zeroed and subtracted.
 * - Growing first lowers the target (the driver takes ballooned pages back), then hot-adds
 *   RAM in place (PhysicalMemory.hotAdd) and tells the driver through the balloon's
 *   ram_pages (NV_HOT_ADD) — hv_balloon's hot-add, on a virtio device.
 * - Nothing changes while a vCPU is in VMX operation (seed: "Mémoire dynamique et
 *   redimensionnement de la mémoire d'exécution"): a hypervisor inside the VM owns its
 *   memory layout (its EPT maps guest-physical pages), so the target is held and a resize
 *   fails. The check is live: it asks the vCPUs, not a flag.
 */
import { BALLOON_PAGE, VirtioBalloon } from '../devices/virtio-balloon.js';
import type { PcMachine } from './pc.js';
import { boardPciMmio } from './virtio-net-board.js';

export const BALLOON_SLOT = 0x11;
export const BALLOON_IRQ = 5;

/** What the VM's memory is now, in bytes. */
export interface MemoryStatus {
  /** RAM the guest has minus what it gave to the balloon. */
  readonly assignedBytes: number;
  /** What the guest reported using (balloon statistics: total − free), or null before any report. */
  readonly demandBytes: number | null;
  /** The assignment asked for last (the guest may not have reached it yet). */
  readonly targetBytes: number;
  /** How far the VM can grow while it runs. */
  readonly ceilingBytes: number;
  readonly balloonPages: number;
  /** A balloon driver runs in the guest (it accepted the device). */
  readonly driverReady: boolean;
}

/** A resize the board cannot do; the message is for the user. */
export class MemoryResizeError extends Error {
  constructor(message: string, readonly reason: 'NestedHypervisor' | 'NoBalloonDriver' | 'NoHotAdd' | 'AboveCeiling' | 'BadSize') {
    super(message);
    this.name = 'MemoryResizeError';
  }
}

const MIB = 1024 * 1024;

export class MemoryControl {
  readonly balloon: VirtioBalloon;
  private target: number;

  constructor(private readonly pc: PcMachine) {
    const clock = pc.interrupts.clock;
    this.balloon = new VirtioBalloon(pc.memory, pc.interrupts.isaIrq(BALLOON_IRQ), () => clock.nowNs());
    boardPciMmio(pc).attach(BALLOON_SLOT, this.balloon.transport, BALLOON_IRQ);
    const elcr = pc.interrupts.pic.elcr;
    elcr.write(0, 1, elcr.read(0, 1) | (1 << BALLOON_IRQ)); // PCI INTx is level-triggered
    this.target = pc.memory.size;
  }

  get assignedBytes(): number {
    return this.pc.memory.size - this.balloon.pages * BALLOON_PAGE;
  }

  get ceilingBytes(): number {
    return this.pc.memory.reserveBytes;
  }

  /**
   * Moves the VM's assigned memory to `bytes` (a multiple of 4 KiB): the balloon target
   * changes at once, hot-added RAM appears at once; the guest's driver follows at its pace.
   */
  resize(bytes: number): void {
    const m = this.pc.memory;
    if (this.pc.vmxActive()) {
      throw new MemoryResizeError('a hypervisor is running inside the virtual machine (its processor is in VMX operation), ' +
        'so its memory cannot change; turn off the virtual machine to adjust its memory', 'NestedHypervisor');
    }
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes % BALLOON_PAGE !== 0) {
      throw new MemoryResizeError(`${bytes} bytes is not a whole number of 4 KiB pages`, 'BadSize');
    }
    if (bytes > m.reserveBytes) {
      throw new MemoryResizeError(`the virtual machine can grow to at most ${m.reserveBytes / MIB} MB while it runs ` +
        '(the memory reserved when it started); turn it off to give it more', 'AboveCeiling');
    }
    if (bytes === this.target) return;
    if (!this.balloon.driverReady) {
      throw new MemoryResizeError('the guest runs no balloon driver, so it can neither give memory back nor take more', 'NoBalloonDriver');
    }
    if (bytes > m.size) {
      if (!this.balloon.hotAddAccepted) {
        throw new MemoryResizeError(`the guest's balloon driver cannot take memory beyond the ${m.size / MIB} MB it has`, 'NoHotAdd');
      }
      m.hotAdd(bytes);
      for (const c of this.pc.vcpus.cpus) c.flushTlb();
      this.balloon.ramChanged();
    }
    this.target = bytes;
    this.balloon.setTarget((m.size - bytes) / BALLOON_PAGE);
  }

  /** The live numbers; also asks the driver for fresh statistics for next time. */
  status(): MemoryStatus {
    const s = this.balloon.stats;
    this.balloon.requestStats();
    const demand = s.memTotal !== undefined && s.memFree !== undefined ? Math.max(0, s.memTotal - s.memFree) : null;
    return {
      assignedBytes: this.assignedBytes, demandBytes: demand, targetBytes: this.target, ceilingBytes: this.ceilingBytes,
      balloonPages: this.balloon.pages, driverReady: this.balloon.driverReady,
    };
  }
}
