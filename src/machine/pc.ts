/**
 * A minimal PC: RAM, one x86-64 CPU, and the legacy devices a Multiboot test kernel (and
 * kvm-unit-tests) expects — COM1, isa-debug-exit, PCI configuration with a host bridge,
 * fw_cfg, POST and port A. Interrupt controllers come later, so nothing can wake a CPU
 * from HLT yet: a HLT ends the run with reason 'halt' (where QEMU would wait forever).
 *
 * The run loop executes the CPU in slices and yields to the event loop between them, so
 * a signal handler or a management request can call stop().
 */
import { PhysicalMemory } from '../memory/physical.js';
import { PortBus } from '../memory/bus.js';
import { Cpu, STOP_BUDGET, STOP_HALT, STOP_REQUESTED, STOP_SHUTDOWN, STOP_TRIPLE_FAULT } from '../cpu/cpu.js';
import { defaultProfile } from '../cpu/profile.js';
import { Uart16550 } from '../devices/uart16550.js';
import { DebugExit } from '../devices/debug-exit.js';
import { PciHost } from '../devices/pci-host.js';
import { I440fxHostBridge } from '../devices/pci-config.js';
import { FwCfg } from '../devices/fw-cfg.js';
import { PostPort, SystemControlA } from '../devices/system-ports.js';
import { NO_IRQ } from '../devices/lines.js';
import { LoadedKernel, MULTIBOOT_BOOTLOADER_MAGIC, loadMultiboot } from './multiboot.js';
import { SerialBuffer } from './serial-buffer.js';
import { wirePcPorts } from './pc-ports.js';
import { BootError } from './errors.js';
import { FLAT_LOAD_ADDRESS, loadFlat } from './flat.js';

export interface PcMachineOptions {
  /** RAM size in bytes: a positive multiple of 4 KiB, at most 3 GiB. */
  memoryBytes: number;
  /** Number of CPUs. Only 1 is supported until the APIC lands. */
  cpuCount?: number;
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
  readonly cpu: Cpu;
  readonly uart: Uart16550;
  readonly debugExit: DebugExit;
  readonly pciHost = new PciHost();
  readonly fwCfg: FwCfg;
  readonly post = new PostPort();
  readonly systemControlA = new SystemControlA();
  private readonly serial: SerialBuffer;
  private readonly slice: number;
  private readonly limit: number;
  private readonly defaultCmdline: string;
  private exitCode: number | null = null;
  private stopWanted = false;
  private running = false;
  private kernel: LoadedKernel | null = null;

  constructor(opts: PcMachineOptions) {
    const cpus = opts.cpuCount ?? 1;
    if (cpus !== 1) throw new MachineConfigError(`${cpus} CPUs requested, but only 1 is supported for now`);
    try {
      this.memory = new PhysicalMemory(opts.memoryBytes);
    } catch (e) {
      throw new MachineConfigError(e instanceof Error ? e.message : String(e));
    }
    this.slice = opts.sliceInstructions ?? DEFAULT_SLICE;
    this.limit = opts.instructionLimit ?? Infinity;
    this.defaultCmdline = opts.cmdline ?? '';
    this.serial = new SerialBuffer(opts.serialOut);
    // COM1's IRQ 4 waits for the 8259/IOAPIC; until then the line goes nowhere.
    this.uart = new Uart16550(NO_IRQ, this.serial);
    this.debugExit = new DebugExit({ exit: (code) => this.onDebugExit(code) });
    this.pciHost.attach(0, 0, new I440fxHostBridge());
    this.fwCfg = new FwCfg({ ramBytes: opts.memoryBytes, cpuCount: cpus, cmdline: this.defaultCmdline });
    wirePcPorts(this.ports, {
      com1: this.uart, post: this.post, systemControlA: this.systemControlA,
      debugExit: this.debugExit, pciHost: this.pciHost, fwCfg: this.fwCfg,
    });
    this.cpu = new Cpu(this.memory, this.ports, defaultProfile());
    this.cpu.exposeVmx = opts.exposeVirtualizationExtensions ?? false;
    this.cpu.reset();
  }

  /**
   * Loads a Multiboot kernel and puts the CPU in the Multiboot entry state. The kernel
   * sees "NAME CMDLINE" as its command line, as under QEMU -kernel (which passes the
   * file name first; kvm-unit-tests takes it as argv[0]); fw_cfg gets CMDLINE alone.
   * Throws BootError subclasses for images that cannot boot.
   */
  loadKernel(bytes: Uint8Array, cmdline: string = this.defaultCmdline, name = 'kernel'): LoadedKernel {
    const k = loadMultiboot(this.memory, bytes, `${name} ${cmdline}`);
    this.fwCfg.setCmdline(cmdline);
    this.cpu.reset();
    this.cpu.tripleFaultReport = '';
    this.cpu.setupFlat32(k.entry);
    this.cpu.setReg32(EAX, MULTIBOOT_BOOTLOADER_MAGIC);
    this.cpu.setReg32(EBX, k.infoAddr);
    this.kernel = k;
    this.exitCode = null;
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
    this.kernel = { format: 'flat', entry, infoAddr: 0, imageStart: at, imageEnd };
    this.exitCode = null;
  }

  get loadedKernel(): LoadedKernel | null {
    return this.kernel;
  }

  /** Instructions the CPU has retired since power-on. */
  get instructionsRetired(): number {
    return this.cpu.instructionCount;
  }

  /** Runs until the guest exits, halts for good, triple-faults, or stop() is called. */
  async run(): Promise<RunResult> {
    if (this.running) throw new Error('PcMachine.run() is already in progress');
    this.running = true;
    this.stopWanted = false;
    try {
      for (;;) {
        if (this.stopWanted) return { reason: 'stopped' };
        if (this.cpu.instructionCount >= this.limit) {
          return { reason: 'stopped', report: `instruction limit of ${this.limit} reached at RIP=0x${this.ripHex()}` };
        }
        let why: number;
        try {
          why = this.cpu.run(Math.min(this.slice, this.limit - this.cpu.instructionCount));
        } catch (e) {
          // Belt and braces: a triple fault raised while delivering a fault can escape
          // Cpu.run() as its internal stop signal; the report tells us what it was.
          if (!this.cpu.tripleFaultReport) throw e;
          why = STOP_TRIPLE_FAULT;
        }
        this.serial.flush();
        if (this.exitCode !== null) return { reason: 'debug-exit', exitCode: this.exitCode };
        if (why === STOP_HALT) {
          return { reason: 'halt', report: `the CPU halted with nothing to wake it (HLT at RIP=0x${this.ripHex()})` };
        }
        if (why === STOP_TRIPLE_FAULT || why === STOP_SHUTDOWN) {
          return { reason: 'triple-fault', report: this.cpu.tripleFaultReport || `shutdown at RIP=0x${this.ripHex()}` };
        }
        if (why !== STOP_BUDGET && why !== STOP_REQUESTED) throw new Error(`unknown CPU stop reason ${why}`);
        await yieldToEventLoop();
      }
    } finally {
      this.serial.flush();
      this.running = false;
    }
  }

  /** Ends run() at the end of the current slice with reason 'stopped'. */
  stop(): void {
    this.stopWanted = true;
    this.cpu.requestStop();
  }

  private onDebugExit(code: number): void {
    this.exitCode = code;
    this.cpu.requestStop();
  }

  private ripHex(): string {
    const rip = this.cpu.rip;
    return (rip < 0 ? rip + 2 ** 64 : rip).toString(16);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
