/**
 * The boundary between management (the Hyper-V object model) and the place where a VM
 * actually runs. Management never touches a CPU or a board: it hands a PartitionConfig to a
 * PartitionHost and gets back a PartitionHandle it can stop and ask questions of.
 * DESIGN.md: "src/hypervisor — partitions (VMs) and their lifecycle; the exposure policy for
 * virtualization extensions". Nothing here knows PowerShell syntax.
 */
import type { CpuProfile } from './cpu-profile.js';
import type { GuestAgentOptions, GuestAgentSession } from './guest-agent.js';
import type { AdapterConfig, L0Network, NetworkSnapshot } from './network.js';

/** What a VM is made of when it starts: a snapshot of its configuration. */
export interface PartitionConfig {
  readonly id: string;
  readonly name: string;
  readonly processorCount: number;
  readonly memoryBytes: number;
  /** seed: "Set-VMProcessor -ExposeVirtualizationExtensions $true" */
  readonly exposeVirtualizationExtensions: boolean;
  readonly bootImage: { readonly path: string; readonly commandLine: string } | null;
  readonly hostCpu: CpuProfile;
  /**
   * How far the VM's memory may grow while it runs (dynamic memory's Maximum, else the host's
   * limit): the board reserves it at power-on and hot-adds from it (src/machine/memory-control.ts).
   */
  readonly memoryCeilingBytes?: number;
  /** The VM's network adapters (plugged into the L0 network's switches when it runs). */
  readonly networkAdapters?: readonly AdapterConfig[];
  /** The inventory's switches, vNIC addresses and NATs, so the L0 network matches them. */
  readonly network?: NetworkSnapshot;
}

export interface PartitionExit {
  readonly reason: string;
  readonly exitCode?: number;
  /** With 'triple-fault' (and 'halt'): the board's account of what happened, where (PcMachine's RunResult.report). */
  readonly report?: string;
}

/** What the running partition tells its owner. */
export interface PartitionEvents {
  /** The guest stopped by itself (shutdown, triple fault, debug-exit) or was stopped. */
  onExit(exit: PartitionExit): void;
  /** Bytes the guest wrote to its first serial port. */
  serialOut?(bytes: Uint8Array): void;
}

export type PartitionState = 'Running' | 'Stopping' | 'Off';

export interface PartitionHandle {
  readonly state: PartitionState;
  /**
   * True while the guest has executed VMXON (a hypervisor runs inside it). seed: "Mémoire
   * dynamique et redimensionnement de la mémoire d'exécution" — memory may not change then.
   */
  vmxActive(): boolean;
  /** Stop the partition; `force` pulls the plug instead of asking the guest. */
  stop(force: boolean): Promise<void>;
  /** Change the guest-physical memory of a running partition (runtime resize / balloon). */
  resizeMemory(bytes: number): Promise<void>;
  /**
   * PowerShell Direct: a session with the guest's agent over the VM's guest channel
   * (docs/guest-channel.md). Rejects with GuestAgentError('no-agent') when nobody answers.
   */
  openGuestSession?(options: GuestAgentOptions): Promise<GuestAgentSession>;
  /** The memory the partition has now and what its guest says it uses; null when the board cannot tell. */
  memoryStatus?(): PartitionMemoryStatus | null;
}

/** Live memory numbers of a running partition, in bytes. */
export interface PartitionMemoryStatus {
  readonly assignedBytes: number;
  /** What the guest reported using (its balloon driver's statistics), or null before any report. */
  readonly demandBytes: number | null;
  /** How far it can grow while it runs. */
  readonly ceilingBytes: number;
}

/** Refusal to start, worded for the user (management prefixes the Hyper-V framing). */
export class PartitionStartError extends Error {
  constructor(message: string, readonly reasonId: 'NoBootImage' | 'NoMachine' | 'NestingUnsupported' | 'BootImageUnreadable' | 'MachineFailed') {
    super(message);
    this.name = 'PartitionStartError';
  }
}

export interface PartitionHost {
  start(config: PartitionConfig, events: PartitionEvents): Promise<PartitionHandle>;
  /** The inventory's network objects changed (a switch, an address, MacAddressSpoofing...). */
  updateNetwork?(network: NetworkSnapshot): void;
  /** The L0 network, when this host has one (statistics, captures). */
  readonly network?: L0Network;
}
