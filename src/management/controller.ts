/**
 * The one place where management actions take effect (STYLE habit 9). Each action is checked
 * against Hyper-V's rules and applied to the inventory in one transaction per object; VM power
 * operations go through the hypervisor layer's PartitionHost. Runtime state (which VMs run,
 * whether their guest has VMX on) is held here, per process.
 */
import { randomUUID } from 'node:crypto';
import { findCpuProfile, nestingUnsupportedReason } from '../hypervisor/cpu-profile.js';
import { MemoryBalancer } from '../hypervisor/dynamic-memory.js';
import { PartitionStartError, type PartitionHandle, type PartitionHost } from '../hypervisor/partition.js';
import type { L0Network, NetworkSnapshot } from '../hypervisor/network.js';
import type { Action, ActionResult, VmTarget, ViewObject } from './actions.js';
import { ManagementError, vmNotFound } from './errors.js';
import type { Inventory } from './inventory.js';
import type { InventoryState, VMState, VmRecord } from './model.js';
import { applyNetAction, isNetAction } from './net-ops.js';
import { applyNetRuntimeAction, isNetRuntimeAction } from './net-runtime.js';
import { readiness } from './readiness.js';
import { memoryView, processorView, vmView, hostView, versionView, type VmRuntimeView } from './views.js';
import { hasWildcard, wildcardMatch } from './wildcard.js';
import { SUPPORTED_VERSIONS } from './versions.js';
import * as vmops from './vm-ops.js';
import { invokeCommand, type InvokeCommandSpec, type InvokeOutput } from './guest-ops.js';

export interface ControllerOptions {
  readonly inventory: Inventory;
  readonly host: PartitionHost;
  /** Clock for uptimes; tests pin it. */
  readonly now?: () => number;
  /** Id generator; tests make it deterministic. */
  readonly newId?: () => string;
  /** Where a running VM's serial output goes. */
  readonly serialOut?: (vmName: string, bytes: Uint8Array) => void;
  /** How often dynamic memory rebalances running VMs (default 500 ms). */
  readonly memoryBalanceIntervalMs?: number;
  /** PowerShell Direct: how long Invoke-Command waits for a guest agent to answer (default 30 s). */
  readonly guestAgentTimeoutMs?: number;
}

interface Runtime {
  state: VMState;
  handle: PartitionHandle | null;
  startedAt: number;
  memoryAssigned: number;
  /** Demand the guest reported itself (reportMemoryDemand), for boards without balloon statistics. */
  reportedDemand: number | null;
}

/** Collects output, warnings and per-object errors of one action. */
export class ResultBuilder {
  readonly output: ViewObject[] = [];
  readonly errors: ManagementError[] = [];
  readonly warnings: string[] = [];
  result(): ActionResult & { warnings: string[] } {
    return { output: this.output, errors: this.errors, warnings: this.warnings };
  }
}

export class Controller {
  private readonly runtime = new Map<string, Runtime>();
  /** Get-VM's Status for VMs this process saw crash (a triple fault turns them Off, as Hyper-V does);
   * cleared by the next Start-VM. Not persisted: it describes this process's last run of the VM. */
  private readonly crashes = new Map<string, string>();
  /** Dynamic memory's balance loop (src/hypervisor/dynamic-memory.ts) over the VMs running here. */
  readonly balancer: MemoryBalancer;
  readonly now: () => number;
  readonly newId: () => string;

  constructor(private readonly opts: ControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
    // the host's memory is the budget VMs share (Get-VMHost's MemoryCapacity)
    this.balancer = new MemoryBalancer({ budgetBytes: () => this.inventory.read().host.memoryCapacityBytes, intervalMs: opts.memoryBalanceIntervalMs });
  }

  get inventory(): Inventory { return this.opts.inventory; }

  /** The L0 network of this process's partition host (switch-port counters, captures), if it has one. */
  get network(): L0Network | undefined { return this.opts.host.network; }

  /** The state a VM is in right now: its runtime state if it runs (here or in another process), else the stored one. */
  stateOf(vm: VmRecord): VMState {
    return this.runtime.get(vm.id)?.state ?? (this.foreignOwner(vm) !== null ? 'Running' : vm.state);
  }

  /** The pid of another live Nestvisor process running this VM, or null. */
  foreignOwner(vm: VmRecord): number | null {
    if (this.runtime.has(vm.id)) return null;
    const r = this.inventory.peek().runtime.find((x) => x.vmId === vm.id);
    if (!r || r.pid === process.pid || !processAlive(r.pid)) return null;
    return r.pid;
  }

  private claim(vm: VmRecord, startedAt: number): void {
    this.inventory.transact((s) => {
      s.runtime = s.runtime.filter((r) => r.vmId !== vm.id && processAlive(r.pid));
      s.runtime.push({ vmId: vm.id, pid: process.pid, startedAt });
    });
  }

  private release(vmId: string): void {
    try {
      this.inventory.transact((s) => { s.runtime = s.runtime.filter((r) => !(r.vmId === vmId && r.pid === process.pid)); });
    } catch { /* the inventory may already be closed at shutdown; the row is then stale and ignored */ }
  }

  /** The running partition of a VM started by this process, or null. */
  partitionOf(vm: VmRecord): PartitionHandle | null {
    return this.runtime.get(vm.id)?.handle ?? null;
  }

  /** Invoke-Command -VMName: output objects and errors in the order they happened (guest-ops.ts). */
  invokeCommand(spec: InvokeCommandSpec): Promise<InvokeOutput[]> {
    return invokeCommand(this, spec, this.opts.guestAgentTimeoutMs ?? 30_000);
  }

  vmxActive(vm: VmRecord): boolean {
    const h = this.runtime.get(vm.id)?.handle;
    return h ? h.vmxActive() : false;
  }

  /** Live: what the board says the VM has (balloon and hot-add), else the last size set. */
  private assignedOf(rt: Runtime): number {
    return rt.handle?.memoryStatus?.()?.assignedBytes ?? rt.memoryAssigned;
  }

  /** Live: what the guest's balloon driver reports using, else what it reported itself. */
  private demandOf(rt: Runtime): number | null {
    return rt.handle?.memoryStatus?.()?.demandBytes ?? rt.reportedDemand;
  }

  /**
   * Puts a running VM under dynamic memory's balance loop. Its settings are read at every tick
   * (Set-VMMemory -MaximumBytes applies at once); the loop leaves static VMs and VMs whose
   * guest has VMX on where they are (seed: "la quantité de mémoire ne varie pas").
   */
  private balanceMemory(vmId: string, rt: Runtime): void {
    const h = rt.handle;
    if (!h) return;
    this.balancer.add({
      id: vmId,
      policy: () => {
        const m = this.inventory.read().vms.find((v) => v.id === vmId)?.memory;
        if (!m) return { dynamic: false, minimumBytes: 0, maximumBytes: 0, buffer: 20, priority: 50 };
        const ceiling = h.memoryStatus?.()?.ceilingBytes ?? Infinity;
        return { dynamic: m.dynamicMemoryEnabled, minimumBytes: m.minimumBytes, maximumBytes: Math.min(m.maximumBytes, ceiling), buffer: m.buffer, priority: m.priority };
      },
      assignedBytes: () => this.assignedOf(rt),
      demandBytes: () => this.demandOf(rt),
      vmxActive: () => h.vmxActive(),
      resize: async (bytes) => { await h.resizeMemory(bytes); rt.memoryAssigned = bytes; },
    });
  }

  runtimeView(vm: VmRecord): VmRuntimeView {
    const rt = this.runtime.get(vm.id);
    const running = rt?.state === 'Running';
    return {
      state: this.stateOf(vm),
      uptimeMs: running ? Math.max(0, this.now() - rt.startedAt) : 0,
      memoryAssigned: running ? this.assignedOf(rt) : 0,
      memoryDemand: running ? this.demandOf(rt) ?? undefined : undefined,
      vmxActive: this.vmxActive(vm),
      status: (rt ? undefined : this.crashes.get(vm.id)) ?? 'Operating normally',
    };
  }

  /** VMs named by a target; a name without wildcards that matches nothing is an error. */
  resolveVms(s: InventoryState, target: VmTarget | undefined, r: ResultBuilder): VmRecord[] {
    if (!target) return [...s.vms];
    const out: VmRecord[] = [];
    const add = (vm: VmRecord) => { if (!out.includes(vm)) out.push(vm); };
    if ('ids' in target) {
      for (const id of target.ids) {
        const vm = s.vms.find((v) => v.id === id);
        if (vm) add(vm); else r.errors.push(vmNotFound(id));
      }
      return out;
    }
    for (const name of target.names) {
      const hits = s.vms.filter((v) => (hasWildcard(name) ? wildcardMatch(name, v.name) : v.name.toLowerCase() === name.toLowerCase()));
      if (hits.length === 0 && !hasWildcard(name)) r.errors.push(vmNotFound(name));
      hits.forEach(add);
    }
    return out;
  }

  /** Runs `change` on each VM of the target, one transaction per VM; failures become errors. */
  eachVm(target: VmTarget | undefined, r: ResultBuilder,
    change: (vm: VmRecord, s: InventoryState) => ViewObject | ViewObject[] | void): void {
    for (const vm of this.resolveVms(this.inventory.read(), target, r)) {
      this.attempt(r, () => this.inventory.transact((s) => {
        const cur = s.vms.find((v) => v.id === vm.id);
        if (!cur) throw vmNotFound(vm.name);
        return change(cur, s);
      }));
    }
  }

  /** Runs one step; a ManagementError becomes a non-terminating error, its output is kept. */
  attempt(r: ResultBuilder, step: () => ViewObject | ViewObject[] | void): void {
    try {
      const out = step();
      if (Array.isArray(out)) r.output.push(...out); else if (out) r.output.push(out);
    } catch (e) {
      if (e instanceof ManagementError) r.errors.push(e); else throw e;
    }
  }

  async apply(a: Action): Promise<ActionResult & { warnings: string[] }> {
    const r = new ResultBuilder();
    if (isNetAction(a)) {
      this.attempt(r, () => this.inventory.transact((s) => applyNetAction(a, s, this, r)));
      // the L0 network follows the inventory at once (seed: MacAddressSpoofing on a running VM)
      this.opts.host.updateNetwork?.(networkSnapshot(this.inventory.read()));
      return r.result();
    }
    if (isNetRuntimeAction(a)) { applyNetRuntimeAction(a, this, r); return r.result(); }
    switch (a.kind) {
      case 'NewVM': this.attempt(r, () => this.inventory.transact((s) => vmops.newVm(a, s, this))); break;
      case 'GetVM': {
        const s = this.inventory.read();
        for (const vm of this.resolveVms(s, a.vm, r)) r.output.push(vmView(vm, this.runtimeView(vm), s));
        break;
      }
      case 'GetVMProcessor': {
        const s = this.inventory.read();
        for (const vm of this.resolveVms(s, a.vm, r)) r.output.push(processorView(vm));
        break;
      }
      case 'GetVMMemory': {
        const s = this.inventory.read();
        for (const vm of this.resolveVms(s, a.vm, r)) r.output.push(memoryView(vm));
        break;
      }
      case 'SetVMProcessor': this.eachVm(a.vm, r, (vm, s) => vmops.setProcessor(a, vm, s, this)); break;
      case 'SetVMMemory':
        await this.setMemory(a.vm, r, { startupBytes: a.startupBytes, dynamicMemoryEnabled: a.dynamicMemoryEnabled,
          minimumBytes: a.minimumBytes, maximumBytes: a.maximumBytes, buffer: a.buffer, priority: a.priority }, 'memory');
        break;
      case 'SetVM': {
        const dm = a.dynamicMemory ? true : a.staticMemory ? false : undefined;
        if (a.memoryStartupBytes !== undefined || dm !== undefined || a.memoryMinimumBytes !== undefined || a.memoryMaximumBytes !== undefined) {
          await this.setMemory(a.vm, r, { startupBytes: a.memoryStartupBytes, dynamicMemoryEnabled: dm,
            minimumBytes: a.memoryMinimumBytes, maximumBytes: a.memoryMaximumBytes }, 'vm');
          if (r.errors.length) break;
        }
        this.eachVm(a.vm, r, (vm, s) => vmops.setVm(a, vm, s, this));
        break;
      }
      case 'UpdateVMVersion': this.eachVm(a.vm, r, (vm) => vmops.updateVersion(vm, this)); break;
      case 'SetBootImage': this.eachVm(a.vm, r, (vm) => vmops.setBootImage(a, vm)); break;
      case 'RemoveVM': this.eachVm(a.vm, r, (vm, s) => vmops.removeVm(vm, s, this)); break;
      case 'GetVMHost': r.output.push(hostView(this.inventory.read())); break;
      case 'GetVMHostSupportedVersion':
        for (const v of SUPPORTED_VERSIONS) if (!a.default || v.isDefault) r.output.push(versionView(v));
        break;
      case 'SetHostCpuProfile': this.attempt(r, () => this.inventory.transact((s) => vmops.setCpuProfile(a.profile, s, this))); break;
      case 'GetNestedVirtStatus': {
        const s = this.inventory.read();
        r.output.push(...readiness(s, this.resolveVms(s, a.vm, r), this));
        break;
      }
      case 'StartVM':
        for (const vm of this.resolveVms(this.inventory.read(), a.vm, r)) await this.startOne(vm, r);
        break;
      case 'StopVM':
        for (const vm of this.resolveVms(this.inventory.read(), a.vm, r)) await this.stopOne(vm, a.force || a.turnOff, a.save, r);
        break;
      case 'InvokeCommand':
        for (const x of await this.invokeCommand(a)) { if (x instanceof ManagementError) r.errors.push(x); else r.output.push(x); }
        break;
      case 'RestartVM':
        for (const vm of this.resolveVms(this.inventory.read(), a.vm, r)) {
          if (this.stateOf(vm) !== 'Running') {
            r.errors.push(vmops.wrongState('restart', vm, this.stateOf(vm)));
            continue;
          }
          await this.stopOne(vm, a.force, false, r);
          await this.startOne(vm, r);
        }
        break;
      default: {
        const never: never = a as never;
        throw new Error(`unhandled action ${(never as Action).kind}`);
      }
    }
    return r.result();
  }

  private async setMemory(target: VmTarget, r: ResultBuilder, change: vmops.MemoryChange, framing: 'memory' | 'vm'): Promise<void> {
    for (const vm of this.resolveVms(this.inventory.read(), target, r)) {
      try {
        const plan = vmops.planMemory(vm, change, this);
        const rt = this.runtime.get(vm.id);
        if (plan.runtimeResize !== undefined && rt?.handle) {
          try {
            await rt.handle.resizeMemory(plan.runtimeResize);
          } catch (e) {
            throw vmops.memoryRefused(vm, `The memory of the running virtual machine could not be resized: ${(e as Error).message}`);
          }
          rt.memoryAssigned = plan.runtimeResize;
        }
        this.inventory.transact((s) => {
          const cur = s.vms.find((v) => v.id === vm.id);
          if (!cur) throw vmNotFound(vm.name);
          cur.memory = vmops.planMemory(cur, change, this).memory;
        });
      } catch (e) {
        if (!(e instanceof ManagementError)) throw e;
        r.errors.push(framing === 'vm' ? vmops.reframeForSetVm(e) : e);
      }
    }
  }

  private async startOne(vm: VmRecord, r: ResultBuilder): Promise<void> {
    const owner = this.foreignOwner(vm);
    if (owner !== null) { r.errors.push(vmops.ownedElsewhere(vm, owner)); return; }
    const state = this.stateOf(vm);
    if (state === 'Running') { r.warnings.push(`The virtual machine '${vm.name}' is already in the specified state.`); return; }
    if (state !== 'Off' && state !== 'Saved') { r.errors.push(vmops.wrongState('start', vm, state)); return; }
    const s = this.inventory.read();
    const profile = findCpuProfile(s.host.cpuProfile);
    // seed "Conditions préalables": the extensions can be exposed only on Intel VT-x + EPT.
    if (vm.exposeVirtualizationExtensions && (!profile || nestingUnsupportedReason(profile))) {
      r.errors.push(vmops.startFailed(vm,
        'The virtual machine could not be started because this platform does not support nested virtualization. ' +
        'Consider not exposing virtualization extensions to the virtual machine.'));
      return;
    }
    const rt: Runtime = { state: 'Starting', handle: null, startedAt: this.now(), memoryAssigned: vm.memory.startupBytes, reportedDemand: null };
    this.crashes.delete(vm.id);
    this.runtime.set(vm.id, rt);
    try {
      rt.handle = await this.opts.host.start({
        id: vm.id, name: vm.name, processorCount: vm.processorCount, memoryBytes: vm.memory.startupBytes,
        exposeVirtualizationExtensions: vm.exposeVirtualizationExtensions, bootImage: vm.bootImage,
        hostCpu: profile!,
        memoryCeilingBytes: vm.memory.dynamicMemoryEnabled ? vm.memory.maximumBytes : s.host.memoryCapacityBytes,
        networkAdapters: s.vmNics.filter((n) => n.vmId === vm.id)
          .map((n) => ({ id: n.id, name: n.name, macAddress: n.macAddress, switchName: n.switchName, macAddressSpoofing: n.macAddressSpoofing })),
        network: networkSnapshot(s),
      }, {
        onExit: (exit) => {
          if (this.runtime.get(vm.id) !== rt) return;
          // A guest that triple-faults (shutdown, SDM Vol. 3A §6.15 "Double Fault Exception") cannot go
          // on: the VM is turned Off and Get-VM says why (issue 8). Inventory is untouched.
          if (exit.reason === 'triple-fault') {
            this.crashes.set(vm.id, `The virtual machine was turned off because it crashed: ${exit.report ?? 'triple fault'}.`);
          }
          this.runtime.delete(vm.id); this.release(vm.id); this.balancer.remove(vm.id);
        },
        serialOut: (b) => this.opts.serialOut?.(vm.name, b),
      });
      if (this.runtime.get(vm.id) === rt) {
        rt.state = 'Running';
        rt.startedAt = this.now();
        this.claim(vm, rt.startedAt);
        this.balanceMemory(vm.id, rt);
      }
      if (vm.state === 'Saved') this.inventory.transact((st) => { const v = st.vms.find((x) => x.id === vm.id); if (v) v.state = 'Off'; });
    } catch (e) {
      this.runtime.delete(vm.id);
      if (e instanceof PartitionStartError) { r.errors.push(vmops.startFailed(vm, e.message)); return; }
      throw e;
    }
  }

  private async stopOne(vm: VmRecord, force: boolean, save: boolean, r: ResultBuilder): Promise<void> {
    const rt = this.runtime.get(vm.id);
    const owner = this.foreignOwner(vm);
    if (owner !== null) { r.errors.push(vmops.ownedElsewhere(vm, owner)); return; }
    if (save) {
      r.errors.push(new ManagementError(`'${vm.name}' could not be saved: saving a virtual machine's state is not supported by this version of Nestvisor.`,
        'NotSpecified', 'Unspecified', vm.name, 'VirtualMachine'));
      return;
    }
    if (!rt) {
      if (vm.state === 'Saved') {
        // Turning off a saved VM discards its saved state, as in Hyper-V.
        this.inventory.transact((st) => { const v = st.vms.find((x) => x.id === vm.id); if (v) v.state = 'Off'; });
        return;
      }
      r.warnings.push(`The virtual machine '${vm.name}' is already in the specified state.`);
      return;
    }
    rt.state = 'Stopping';
    try {
      await rt.handle?.stop(force);
    } finally {
      if (this.runtime.get(vm.id) === rt) { this.runtime.delete(vm.id); this.release(vm.id); this.balancer.remove(vm.id); }
    }
  }

  /**
   * Dynamic memory: the guest reports how much memory it needs; the VM gets that plus its
   * buffer, within [minimum, maximum]. seed "Mémoire dynamique et redimensionnement de la
   * mémoire d'exécution": while a hypervisor runs in the VM, the amount does not vary.
   * Returns the memory assigned afterwards. For guests that report their demand themselves;
   * a balloon driver's statistics feed the same balance loop (src/hypervisor/dynamic-memory.ts).
   */
  async reportMemoryDemand(vmName: string, demandBytes: number): Promise<number> {
    const vm = this.inventory.read().vms.find((v) => v.name.toLowerCase() === vmName.toLowerCase());
    if (!vm) throw vmNotFound(vmName);
    const rt = this.runtime.get(vm.id);
    if (!rt || rt.state !== 'Running' || !rt.handle) return 0;
    rt.reportedDemand = demandBytes;
    await this.balancer.tick();
    return this.assignedOf(rt);
  }

  /** Stops every running VM (process exit, service shutdown). */
  async shutdown(): Promise<void> {
    for (const [id, rt] of [...this.runtime]) {
      try { await rt.handle?.stop(true); } finally { this.runtime.delete(id); this.release(id); this.balancer.remove(id); }
    }
    this.balancer.stop();
  }
}

/** What the L0 network needs of the inventory (src/hypervisor/network.ts). */
export function networkSnapshot(s: InventoryState): NetworkSnapshot {
  return {
    switches: s.switches.map((w) => ({ name: w.name, switchType: w.switchType, netAdapterName: w.netAdapterName, allowManagementOS: w.allowManagementOS })),
    hostAdapters: s.hostAdapters.map((h) => ({ name: h.name, macAddress: h.macAddress, switchName: h.switchName })),
    ipAddresses: s.ipAddresses.map((i) => ({ ipAddress: i.ipAddress, interfaceAlias: i.interfaceAlias, prefixLength: i.prefixLength, addressFamily: i.addressFamily })),
    nats: s.nats.map((n) => ({ name: n.name, internalIPInterfaceAddressPrefix: n.internalIPInterfaceAddressPrefix,
      staticMappings: (n.staticMappings ?? []).map((m) => ({ id: m.staticMappingID, externalPort: m.externalPort, internalIPAddress: m.internalIPAddress, internalPort: m.internalPort })) })),
    adapters: s.vmNics.map((n) => ({ id: n.id, macAddressSpoofing: n.macAddressSpoofing })),
  };
}

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
