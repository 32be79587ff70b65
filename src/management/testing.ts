/**
 * Test doubles for the hypervisor boundary, shared by management and shell tests: a
 * PartitionHost whose partitions "run" with no CPU, and whose guest's VMX state the test
 * sets, so the seed's memory rules can be exercised. Never used outside tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MachineFactory, MachineLike, MachineOptions } from '../hypervisor/machine-host.js';
import type { NicEndpoint } from '../hypervisor/network.js';
import type { PartitionConfig, PartitionEvents, PartitionHandle, PartitionHost, PartitionState } from '../hypervisor/partition.js';
import { openService, type Service } from './service.js';

export class FakePartition implements PartitionHandle {
  state: PartitionState = 'Running';
  vmx = false;
  memoryBytes: number;
  constructor(readonly config: PartitionConfig, private readonly events: PartitionEvents) {
    this.memoryBytes = config.memoryBytes;
  }
  vmxActive(): boolean { return this.vmx; }
  async stop(): Promise<void> { this.state = 'Off'; this.events.onExit({ reason: 'stopped' }); }
  async resizeMemory(bytes: number): Promise<void> { this.memoryBytes = bytes; }
  /** The guest powers itself off. */
  exit(): void { this.state = 'Off'; this.events.onExit({ reason: 'guest shutdown', exitCode: 0 }); }
}

export class FakePartitionHost implements PartitionHost {
  readonly partitions = new Map<string, FakePartition>();
  async start(config: PartitionConfig, events: PartitionEvents): Promise<PartitionHandle> {
    const p = new FakePartition(config, events);
    this.partitions.set(config.name, p);
    return p;
  }
  /** Pretend the guest of `vmName` executed VMXON (a hypervisor runs in it) or VMXOFF. */
  setVmx(vmName: string, on: boolean): void {
    const p = this.partitions.get(vmName);
    if (!p) throw new Error(`no partition ${vmName}`);
    p.vmx = on;
  }
}

/** A service on a fresh temp home with deterministic ids and clock. */
export function testService(host: PartitionHost = new FakePartitionHost()): Service & { home: string; dispose(): Promise<void> } {
  const home = mkdtempSync(join(tmpdir(), 'nestvisor-test-'));
  let n = 0;
  const svc = openService({
    home, host, now: () => Date.UTC(2024, 0, 1), macPrefixByte: 0x0a,
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  });
  return {
    ...svc, home,
    async dispose() { await svc.close(); rmSync(home, { recursive: true, force: true }); },
  };
}

/** A NIC whose "guest" is the test: frames it receives are kept, `send` puts one on the switch. */
export class FakeNic implements NicEndpoint {
  readonly received: Uint8Array[] = [];
  sink: (frame: Uint8Array) => void = () => {};
  receive(frame: Uint8Array): void { this.received.push(frame); }
  send(frame: Uint8Array): void { this.sink(frame); }
}

/** A board that "runs" until stopped; its guest's VMX state is set by the test. */
export class FakeMachine implements MachineLike {
  vmx = false;
  readonly nics: FakeNic[];
  kernel: Uint8Array | null = null;
  cmdline = '';
  memoryBytes: number;
  private finish: (r: { exitCode?: number; reason: string }) => void = () => undefined;
  constructor(readonly options: MachineOptions) {
    this.memoryBytes = options.memoryBytes;
    this.nics = (options.networkAdapters ?? []).map(() => new FakeNic());
  }
  loadKernel(bytes: Uint8Array, cmdline: string): void { this.kernel = bytes; this.cmdline = cmdline; }
  run(): Promise<{ exitCode?: number; reason: string }> { return new Promise((r) => { this.finish = r; }); }
  stop(): void { this.vmx = false; this.finish({ reason: 'stopped' }); }
  vmxActive(): boolean { return this.vmx; }
  resizeMemory(bytes: number): void { this.memoryBytes = bytes; }
  /** The guest powers itself off. */
  powerOff(exitCode = 0): void { this.vmx = false; this.finish({ exitCode, reason: 'guest power-off' }); }
}

/** A machine factory for MachinePartitionHost that builds FakeMachines, by VM name. */
export class FakeMachines {
  readonly byName = new Map<string, FakeMachine>();
  readonly factory: MachineFactory = (o) => {
    const m = new FakeMachine(o);
    this.byName.set(o.vmName.toLowerCase(), m);
    return m;
  };
  get(vmName: string): FakeMachine | undefined { return this.byName.get(vmName.toLowerCase()); }
}
