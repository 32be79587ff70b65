/**
 * A minimal PC: RAM, N x86-64 CPUs, and the legacy devices a Multiboot test kernel (and
 * kvm-unit-tests) expects — COM1, isa-debug-exit, PCI configuration with a host bridge,
 * fw_cfg, POST and port A — plus the interrupt controllers and timers of
 * src/machine/interrupts.ts (8259, 8254, I/O APIC, local APICs, one virtual clock).
 *
 * The run loop executes the vCPUs in windows of virtual time (src/machine/vcpus.ts) and
 * yields to the event loop between slices, so a signal handler or a management request
 * can call stop(). When every vCPU is halted it sleeps on the host until the next timer
 * deadline; a halt that nothing can end (IF = 0 everywhere) ends the run as 'halt'.
 */
import { PhysicalMemory } from '../memory/physical.js';
import { PortBus } from '../memory/bus.js';
import { Cpu, STOP_BUDGET, STOP_HALT, STOP_REQUESTED, STOP_SHUTDOWN, STOP_TRIPLE_FAULT } from '../cpu/cpu.js';
import { CpuProfile, defaultProfile } from '../cpu/profile.js';
import { Uart16550 } from '../devices/uart16550.js';
import { DebugExit } from '../devices/debug-exit.js';
import { PciHost } from '../devices/pci-host.js';
import { I440fxHostBridge } from '../devices/pci-config.js';
import { FwCfg } from '../devices/fw-cfg.js';
import { PostPort, SystemControlA } from '../devices/system-ports.js';
import { ResetControl } from '../devices/i8042.js';
import { PcInterrupts, wireInterrupts } from './interrupts.js';
import { Vcpus } from './vcpus.js';
import { LoadedKernel, MULTIBOOT_BOOTLOADER_MAGIC, MultibootModule, loadMultiboot } from './multiboot.js';
import { SerialBuffer } from './serial-buffer.js';
import { wirePcPorts, wirePcTestdev } from './pc-ports.js';
import { PcTestdev } from '../devices/pc-testdev.js';
import { BootError } from './errors.js';
import { FLAT_LOAD_ADDRESS, loadFlat } from './flat.js';
import { BoardReset } from './board-reset.js';
import { installFirmwareStub } from './firmware.js';
import { MemoryControl, MemoryResizeError, type MemoryStatus } from './memory-control.js';

export interface PcMachineOptions {
  /** RAM size in bytes: a positive multiple of 4 KiB, at most 4 GiB (above 3 GiB it continues at 4 GiB). */
  memoryBytes: number;
  /** Number of CPUs (1-255; APIC IDs 0..N-1, CPU 0 is the BSP). */
  cpuCount?: number;
  /** Sleep on the host while every vCPU is halted (default true); tests turn it off to jump time at once. */
  realTimeIdle?: boolean;
  /** The CPU model every vCPU reports and implements (default: defaultProfile(), `nestvisor-intel`). */
  cpuProfile?: CpuProfile;
  /** Hyper-V's ExposeVirtualizationExtensions: the CPU reports and implements VMX. */
  exposeVirtualizationExtensions?: boolean;
  /** Receives the bytes COM1 transmits, in batches. */
  serialOut: (bytes: Uint8Array) => void;
  /** The kernel command line loadKernel uses when given none. */
  cmdline?: string;
  /** Instructions per run slice between yields to the event loop (default 1,000,000). */
  sliceInstructions?: number;
  /** Stop (reason 'stopped') once this many instructions have retired: a hang guard for tests. */
  instructionLimit?: number;
  /** How far RAM may grow while the machine runs (hot-add; default memoryBytes): reserved, committed lazily. */
  maxMemoryBytes?: number;
  /** A virtio-balloon and hot-add for runtime memory changes (src/machine/memory-control.ts). */
  balloon?: boolean;
}

export type RunReason = 'debug-exit' | 'halt' | 'triple-fault' | 'stopped';

export interface RunResult {
  reason: RunReason;
  /** With 'debug-exit': (value << 1) | 1, QEMU's process exit status for the value written. */
  exitCode?: number;
  /** With 'halt' and 'triple-fault': what happened, where. */
  report?: string;
}

/** A request the machine cannot meet (bad size, unsupported CPU count). */
export class MachineConfigError extends BootError {}

const DEFAULT_SLICE = 1_000_000;
const EAX = 0, EBX = 3;

export class PcMachine {
  readonly memory: PhysicalMemory;
  readonly ports = new PortBus();
  /** The bootstrap processor (vcpus.cpus[0]). */
  readonly cpu: Cpu;
  readonly vcpus: Vcpus;
  readonly interrupts: PcInterrupts;
  readonly uart: Uart16550;
  readonly debugExit: DebugExit;
  readonly pciHost = new PciHost();
  readonly fwCfg: FwCfg;
  readonly post = new PostPort();
  /** QEMU's pc-testdev, which kvm-unit-tests expects (src/devices/pc-testdev.ts). */
  readonly testdev: PcTestdev;
  readonly systemControlA = new SystemControlA(() => this.boardReset.request('soft'));
  /** Guest-requested resets: port 0x92, the 8042, 0xCF9 (src/machine/board-reset.ts). */
  readonly boardReset: BoardReset;
  /** PIIX reset control at 0xCF9, inside the PCI configuration ports. */
  readonly resetControl = new ResetControl((hard) => this.boardReset.request(hard ? 'hard' : 'soft'));
  /** Loads the kernel again after a reset that boots (the firmware's boot path). */
  private reboot: (() => void) | null = null;
  private readonly serial: SerialBuffer;
  private readonly slice: number;
  private readonly limit: number;
  private readonly defaultCmdline: string;
  private exitCode: number | null = null;
  private stopWanted = false;
  private running = false;
  private kernel: LoadedKernel | null = null;
  private readonly realTimeIdle: boolean;
  /** Resolves the idle sleep early (stop()). */
  private wakeIdle: (() => void) | null = null;

  constructor(opts: PcMachineOptions) {
    const cpus = opts.cpuCount ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) throw new MachineConfigError(`${cpus} CPUs requested, but 1 to 255 are supported`);
    try {
      this.memory = new PhysicalMemory(opts.memoryBytes, opts.maxMemoryBytes);
    } catch (e) {
      throw new MachineConfigError(e instanceof Error ? e.message : String(e));
    }
    this.slice = opts.sliceInstructions ?? DEFAULT_SLICE;
    this.limit = opts.instructionLimit ?? Infinity;
    this.defaultCmdline = opts.cmdline ?? '';
    this.realTimeIdle = opts.realTimeIdle ?? true;
    this.serial = new SerialBuffer(opts.serialOut);
    this.interrupts = wireInterrupts({ memory: this.memory, ports: this.ports, ramBytes: opts.memoryBytes });
    this.uart = new Uart16550(this.interrupts.isaIrq(4), this.serial);
    this.debugExit = new DebugExit({ exit: (code) => this.onDebugExit(code) });
    this.pciHost.attach(0, 0, new I440fxHostBridge());
    this.fwCfg = new FwCfg({ ramBytes: opts.memoryBytes, cpuCount: cpus, cmdline: this.defaultCmdline });
    wirePcPorts(this.ports, {
      com1: this.uart, post: this.post, systemControlA: this.systemControlA,
      debugExit: this.debugExit, pciHost: this.resetControl.wrap(this.pciHost), fwCfg: this.fwCfg,
    });
    this.testdev = new PcTestdev((n) => this.interrupts.isaIrq(n));
    wirePcTestdev(this.ports, this.memory.mmio, this.testdev);
    const all: Cpu[] = [];
    for (let i = 0; i < cpus; i++) {
      const c = new Cpu(this.memory, this.ports, opts.cpuProfile ?? defaultProfile());
      c.exposeVmx = opts.exposeVirtualizationExtensions ?? false;
      c.reset();
      all.push(c);
    }
    this.cpu = all[0]!;
    this.vcpus = this.interrupts.attachCpus(all);
    this.boardReset = new BoardReset(this.interrupts, this.vcpus, this.systemControlA, this.resetControl);
    this.boardReset.wire(this.ports);
    installFirmwareStub(this.memory);
    this.memoryControl = opts.balloon ? new MemoryControl(this) : null;
  }

  /** The balloon and hot-add, when the board has them (options.balloon). */
  readonly memoryControl: MemoryControl | null;

  /**
   * True while any vCPU is in VMX operation (executed VMXON and not VMXOFF): a hypervisor
   * runs in the guest. Asked live of the vCPUs (src/cpu/vmx/vmx-state.ts), never stored.
   */
  vmxActive(): boolean {
    return this.vcpus.cpus.some((c) => c.vmx.inVmx);
  }

  /**
   * Runtime memory resize and dynamic memory: assigns `bytes` to the guest through the balloon
   * and hot-add. Throws MemoryResizeError (with the reason for the user) when it cannot:
   * a hypervisor runs in the guest, no balloon driver, beyond the reserved ceiling.
   */
  resizeMemory(bytes: number): void {
    if (!this.memoryControl) throw new MemoryResizeError('this machine has no balloon device, so its memory cannot change while it runs', 'NoBalloonDriver');
    this.memoryControl.resize(bytes);
  }

  /** The memory assigned now, the guest's demand and the target; null without a balloon. */
  memoryStatus(): MemoryStatus | null {
    return this.memoryControl?.status() ?? null;
  }

  /**
   * Loads a Multiboot kernel and puts the CPU in the Multiboot entry state. The kernel
   * sees "NAME CMDLINE" as its command line, as under QEMU -kernel (which passes the
   * file name first; kvm-unit-tests takes it as argv[0]); fw_cfg gets CMDLINE alone.
   * `modules` become Multiboot boot modules after the kernel (QEMU's -initrd).
   * Throws BootError subclasses for images that cannot boot.
   */
  loadKernel(bytes: Uint8Array, cmdline: string = this.defaultCmdline, name = 'kernel', modules: readonly MultibootModule[] = []): LoadedKernel {
    const k = loadMultiboot(this.memory, bytes, `${name} ${cmdline}`, modules);
    this.fwCfg.setCmdline(cmdline);
    this.cpu.reset();
    this.cpu.tripleFaultReport = '';
    this.cpu.setupFlat32(k.entry);
    this.cpu.setReg32(EAX, MULTIBOOT_BOOTLOADER_MAGIC);
    this.cpu.setReg32(EBX, k.infoAddr);
    this.kernel = k;
    this.exitCode = null;
    this.reboot = () => { this.loadKernel(bytes, cmdline, name, modules); };
    return k;
  }

  /**
   * Loads raw code at `at` (default 1 MiB) and enters it in the same 32-bit flat state,
   * without Multiboot information (EAX = EBX = 0).
   */
  loadFlatImage(bytes: Uint8Array, at = FLAT_LOAD_ADDRESS): void {
    const { entry, imageEnd } = loadFlat(this.memory, bytes, at);
    this.cpu.reset();
    this.cpu.tripleFaultReport = '';
    this.cpu.setupFlat32(entry);
    this.kernel = { format: 'flat', entry, infoAddr: 0, imageStart: at, imageEnd, modules: [] };
    this.exitCode = null;
    this.reboot = () => { this.loadFlatImage(bytes, at); };
  }

  get loadedKernel(): LoadedKernel | null {
    return this.kernel;
  }

  /** Instructions all vCPUs have retired since power-on. */
  get instructionsRetired(): number {
    return this.vcpus.instructionsRetired;
  }

  /** Runs until the guest exits, halts for good, triple-faults, or stop() is called. */
  async run(): Promise<RunResult> {
    if (this.running) throw new Error('PcMachine.run() is already in progress');
    this.running = true;
    this.stopWanted = false;
    let sinceYield = this.vcpus.instructionsRetired;
    try {
      for (;;) {
        if (this.stopWanted) return { reason: 'stopped' };
        const retired = this.vcpus.instructionsRetired;
        if (retired >= this.limit) {
          return { reason: 'stopped', report: `instruction limit of ${this.limit} reached at RIP=0x${this.ripHex()}` };
        }
        // with several vCPUs the limit is approximate: each runs up to the remaining budget
        const w = this.vcpus.runWindow(Math.min(this.slice, this.limit - retired));
        this.serial.flush();
        if (this.exitCode !== null) return { reason: 'debug-exit', exitCode: this.exitCode };
        if (this.boardReset.pending !== null) {
          if (this.boardReset.apply() && this.reboot !== null) this.reboot();
          continue;
        }
        if (w.stop === STOP_TRIPLE_FAULT || w.stop === STOP_SHUTDOWN) {
          const c = w.cpu ?? this.cpu;
          return { reason: 'triple-fault', report: c.tripleFaultReport || `shutdown at RIP=0x${this.ripHex()}` };
        }
        if (w.idle) {
          if (this.stopWanted) return { reason: 'stopped' };
          if (!this.vcpus.canWake()) {
            return { reason: 'halt', report: `the CPU halted with nothing to wake it (HLT at RIP=0x${this.ripHex()})` };
          }
          await this.idleSleep();
          this.vcpus.advanceIdle();
          continue;
        }
        if (this.vcpus.instructionsRetired - sinceYield >= this.slice) {
          sinceYield = this.vcpus.instructionsRetired;
          await yieldToEventLoop();
        }
      }
    } finally {
      this.serial.flush();
      this.running = false;
    }
  }

  /** Ends run() at the end of the current slice with reason 'stopped'. */
  stop(): void {
    this.stopWanted = true;
    this.vcpus.requestStop();
    if (this.wakeIdle) this.wakeIdle();
  }

  /**
   * Every vCPU is halted: sleep on the host until the next timer deadline (virtual time
   * then jumps there), or until stop() when no timer is armed. No spinning.
   */
  private idleSleep(): Promise<void> {
    const d = this.interrupts.clock.nextDeadline();
    const ms = d === Infinity ? Infinity : (d - this.interrupts.clock.nowNs()) / 1e6;
    if (!this.realTimeIdle && ms !== Infinity) return Promise.resolve();
    return new Promise((resolve) => {
      // with no deadline, a long timer only keeps Node's event loop alive until stop()
      const timer = setTimeout(ms === Infinity ? () => {} : done, ms === Infinity ? 2 ** 31 - 1 : Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      function done(this: void): void { clearTimeout(timer); resolve(); }
      this.wakeIdle = () => { this.wakeIdle = null; done(); };
    });
  }

  private onDebugExit(code: number): void {
    this.exitCode = code;
    this.vcpus.requestStop();
  }

  private ripHex(): string {
    const rip = this.cpu.rip;
    return (rip < 0 ? rip + 2 ** 64 : rip).toString(16);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
