/**
 * The real PartitionHost: a partition is a machine built by a pluggable factory (the PC board
 * of src/machine, wired by the CLI) running a boot image. It is honest about what it cannot
 * do: no boot image, no factory, or a host CPU that cannot expose VT-x+EPT each refuse to
 * start with a clear reason — a VM is never reported Running unless a machine runs it.
 */
import { readFile } from 'node:fs/promises';
import { nestingUnsupportedReason } from './cpu-profile.js';
import type { GuestAgentOptions, GuestAgentSession } from './guest-agent.js';
import { openGuestSession } from './guest-channel.js';
import type { VsockHost } from './vsock-host.js';
import {
  PartitionStartError,
  type PartitionConfig, type PartitionEvents, type PartitionHandle, type PartitionHost, type PartitionMemoryStatus, type PartitionState,
} from './partition.js';
import type { L0Network, NetworkSnapshot, NicEndpoint } from './network.js';

/** What the host needs from a machine (src/machine/pc.ts's PcMachine has this shape). */
export interface MachineLike {
  /** Loads the boot image; what it returns (e.g. the loaded layout) is the board's business. */
  loadKernel(bytes: Uint8Array, cmdline: string): unknown;
  run(): Promise<{ exitCode?: number; reason: string; report?: string }>;
  stop(): void;
  /** True once the guest executed VMXON; machines that cannot tell report false. */
  vmxActive?(): boolean;
  /** Runtime memory resize; machines without it refuse runtime resizes. */
  resizeMemory?(bytes: number): void | Promise<void>;
  /** The host end of the board's guest channel (virtio-vsock), when it has one (guest-channel.ts). */
  guestChannel?(): VsockHost;
  /** Live memory numbers (PcMachine with a balloon); null or absent when the board cannot tell. */
  memoryStatus?(): PartitionMemoryStatus | null;
  /** The network adapters built from MachineOptions.networkAdapters, in the same order. */
  readonly nics?: readonly NicEndpoint[];
}

export interface MachineOptions {
  /** The VM's name (for logs); boards may ignore it. */
  readonly vmName: string;
  readonly memoryBytes: number;
  readonly cpuCount: number;
  readonly exposeVirtualizationExtensions: boolean;
  readonly serialOut: (bytes: Uint8Array) => void;
  /** How far memory may grow while the VM runs (PartitionConfig.memoryCeilingBytes). */
  readonly maxMemoryBytes?: number;
  /** virtio-net adapters to build, by MAC (twelve hex digits). */
  readonly networkAdapters?: ReadonlyArray<{ readonly macAddress: string }>;
}

export type MachineFactory = (options: MachineOptions) => MachineLike;

export interface MachinePartitionHostOptions {
  /** Builds the board; null until src/machine is wired in (see machine-factory.ts). */
  readonly factory: MachineFactory | null;
  /** Where running VMs' adapters are plugged in; without one, adapters stay unplugged. */
  readonly network?: L0Network;
}

export class MachinePartitionHost implements PartitionHost {
  constructor(private readonly options: MachinePartitionHostOptions) {}

  get network(): L0Network | undefined { return this.options.network; }

  updateNetwork(n: NetworkSnapshot): void {
    this.options.network?.sync(n);
  }

  async start(config: PartitionConfig, events: PartitionEvents): Promise<PartitionHandle> {
    if (config.exposeVirtualizationExtensions) {
      const why = nestingUnsupportedReason(config.hostCpu);
      if (why) {
        throw new PartitionStartError(
          'The virtual machine could not be started because this platform does not support nested virtualization. ' +
          `Consider not exposing virtualization extensions to the virtual machine. (${why})`, 'NestingUnsupported');
      }
    }
    if (!config.bootImage) {
      throw new PartitionStartError(
        `The virtual machine '${config.name}' has no boot image. Set one with Set-NestvisorVMBootImage -VMName '${config.name}' -Path <kernel>.`,
        'NoBootImage');
    }
    const factory = this.options.factory;
    if (!factory) {
      throw new PartitionStartError(
        'No machine emulator is available in this build of Nestvisor, so the virtual machine cannot run.', 'NoMachine');
    }
    let kernel: Uint8Array;
    try {
      kernel = await readFile(config.bootImage.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new PartitionStartError(`The boot image '${config.bootImage.path}' cannot be read (${code}).`, 'BootImageUnreadable');
    }
    let machine: MachineLike;
    let plugged: string[] = [];
    try {
      machine = factory({
        vmName: config.name,
        memoryBytes: config.memoryBytes,
        cpuCount: config.processorCount,
        maxMemoryBytes: config.memoryCeilingBytes,
        exposeVirtualizationExtensions: config.exposeVirtualizationExtensions,
        serialOut: (b) => events.serialOut?.(b),
        networkAdapters: config.networkAdapters,
      });
      await machine.loadKernel(kernel, config.bootImage.commandLine);
      plugged = plugAdapters(this.options.network, config, machine);
    } catch (e) {
      throw new PartitionStartError(`The machine could not load the boot image: ${(e as Error).message}`, 'MachineFailed');
    }
    const network = this.options.network;
    return new MachineHandle(machine, events, () => { for (const id of plugged) network?.detach(id); });
  }
}

/** Plugs each adapter's virtio-net device into its switch; returns the adapter ids plugged. */
function plugAdapters(network: L0Network | undefined, config: PartitionConfig, machine: MachineLike): string[] {
  const adapters = config.networkAdapters ?? [];
  if (!network || adapters.length === 0) return [];
  if (config.network) network.sync(config.network);
  const nics = machine.nics ?? [];
  if (nics.length < adapters.length) throw new Error('this machine cannot have network adapters');
  const ids: string[] = [];
  adapters.forEach((a, i) => { network.attach(config.name, a, nics[i]!); ids.push(a.id); });
  return ids;
}

class MachineHandle implements PartitionHandle {
  state: PartitionState = 'Running';
  private readonly done: Promise<void>;
  /** Set while the guest sits in a halt nothing can end: Stop-VM releases it. */
  private releaseHalt: (() => void) | null = null;

  constructor(private readonly machine: MachineLike, events: PartitionEvents, unplug: () => void = () => {}) {
    this.done = machine.run().then(
      async (r) => {
        // A guest that halts with nothing to wake it (CLI; HLT — e.g. minivisor reporting that VT-x
        // is missing) is, on Hyper-V, a Running VM whose processor waits forever: it powers off
        // only when turned off (Stop-VM), not by itself.
        if (r.reason === 'halt' && this.state === 'Running') await new Promise<void>((resolve) => { this.releaseHalt = resolve; });
        this.state = 'Off'; unplug(); events.onExit(r);
      },
      (e: unknown) => { this.state = 'Off'; unplug(); events.onExit({ reason: `machine error: ${(e as Error).message}` }); },
    );
  }

  vmxActive(): boolean {
    return this.state === 'Running' && (this.machine.vmxActive?.() ?? false);
  }

  async stop(_force: boolean): Promise<void> {
    // No ACPI shutdown request exists yet, so a graceful stop is also a power-off.
    if (this.state === 'Off') return;
    this.state = 'Stopping';
    if (this.releaseHalt) this.releaseHalt(); else this.machine.stop();
    await this.done;
  }

  openGuestSession(options: GuestAgentOptions): Promise<GuestAgentSession> {
    return openGuestSession(this.machine, options);
  }

  async resizeMemory(bytes: number): Promise<void> {
    if (!this.machine.resizeMemory) throw new Error('this machine does not support changing its memory while it runs');
    await this.machine.resizeMemory(bytes);
  }

  memoryStatus(): PartitionMemoryStatus | null {
    return this.state === 'Running' ? this.machine.memoryStatus?.() ?? null : null;
  }
}
