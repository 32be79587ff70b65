/**
 * VM-level actions: creation, processor, memory, version, removal. Each function works on a
 * copy of the inventory inside the controller's transaction and throws a ManagementError
 * worded as Hyper-V words it; a throw means nothing is written.
 */
import { findCpuProfile, nestingUnsupportedReason, CPU_PROFILES } from '../hypervisor/cpu-profile.js';
import type { Action, ViewObject } from './actions.js';
import type { Controller } from './controller.js';
import { ManagementError, failedToModify, switchNotFound } from './errors.js';
import { hex2, type InventoryState, type MemoryRecord, type VMState, type VmNicRecord, type VmRecord } from './model.js';
import {
  GB, MB, bufferError, memoryMultipleError, memoryOrderError, memoryRangeError, nameError, priorityError,
} from './rules.js';
import { DEFAULT_VERSION, NESTING_MIN_VERSION, compareVersions, isSupportedVersion } from './versions.js';
import { hostView, memoryView, processorView, vmView } from './views.js';

type A<K extends Action['kind']> = Extract<Action, { kind: K }>;

/** Next address of Hyper-V's pool, which starts 00-15-5D (Microsoft's OUI). */
export function allocateMac(s: InventoryState): string {
  const n = s.host.macCounter;
  if (n > 0xffff) throw new ManagementError('The MAC address pool of this host is exhausted.', 'ResourceUnavailable', 'ObjectNotFound');
  s.host.macCounter = n + 1;
  return `00155D${hex2(s.host.macPrefixByte)}${hex2(n >> 8)}${hex2(n & 0xff)}`;
}

export function wrongState(verb: string, vm: VmRecord, state: VMState): ManagementError {
  return new ManagementError(
    `Unable to ${verb} '${vm.name}': the operation cannot be performed while the virtual machine is in its current state (${state}).`,
    'InvalidOperation', 'InvalidState', vm.name, 'VirtualMachine');
}

export function ownedElsewhere(vm: VmRecord, pid: number): ManagementError {
  return new ManagementError(
    `The virtual machine '${vm.name}' is running in another Nestvisor process (pid ${pid}). Manage it from that process or through 'nestvisor serve'.`,
    'InvalidOperation', 'InvalidState', vm.name, 'VirtualMachine');
}

export function startFailed(vm: VmRecord, cause: string): ManagementError {
  return new ManagementError(`'${vm.name}' failed to start.\n${cause}`, 'NotSpecified', 'Unspecified', '', '');
}

export function newVm(a: A<'NewVM'>, s: InventoryState, c: Controller): ViewObject {
  const bad = nameError('virtual machine', a.name);
  if (bad) throw new ManagementError(bad, 'InvalidArgument', 'InvalidParameter', a.name, 'String');
  if (s.vms.some((v) => v.name.toLowerCase() === a.name.toLowerCase())) {
    throw new ManagementError(`Failed to create a new virtual machine.\nA virtual machine named '${a.name}' already exists. Virtual machine names must be unique on this host.`,
      'ResourceExists', 'ObjectExists', a.name, 'String');
  }
  const version = a.version ?? DEFAULT_VERSION;
  if (!isSupportedVersion(version)) {
    throw new ManagementError(`'${version}' is not a supported virtual machine configuration version. Run Get-VMHostSupportedVersion to see the versions this host supports.`,
      'InvalidArgument', 'InvalidParameter', version, 'String');
  }
  const generation = a.generation ?? 1;
  if (generation !== 1 && generation !== 2) {
    throw new ManagementError(`'${generation}' is not a valid virtual machine generation; use 1 or 2.`, 'InvalidArgument', 'InvalidParameter');
  }
  const startup = a.memoryStartupBytes ?? 1 * GB;
  const memErr = memoryMultipleError('startup memory', startup) ?? memoryRangeError(startup, 'startup memory', s.host.memoryCapacityBytes);
  if (memErr) throw new ManagementError(`Failed to create a new virtual machine.\n${memErr}`, 'InvalidArgument', 'InvalidParameter', a.name, 'String');
  if (a.switchName !== undefined && !s.switches.some((w) => w.name.toLowerCase() === a.switchName!.toLowerCase())) {
    throw switchNotFound(a.switchName);
  }
  const vm: VmRecord = {
    id: c.newId(), name: a.name, generation, version, processorCount: 1, exposeVirtualizationExtensions: false,
    memory: { startupBytes: startup, dynamicMemoryEnabled: false, minimumBytes: Math.min(512 * MB, startup),
      maximumBytes: 1024 * GB, buffer: 20, priority: 50 },
    state: 'Off', bootImage: null, notes: '', creationTime: new Date(c.now()).toISOString(),
  };
  s.vms.push(vm);
  const sw = a.switchName ? s.switches.find((w) => w.name.toLowerCase() === a.switchName!.toLowerCase())!.name : null;
  const nic: VmNicRecord = { id: c.newId(), vmId: vm.id, name: 'Network Adapter', macAddress: allocateMac(s),
    dynamicMacAddress: true, macAddressSpoofing: 'Off', switchName: sw };
  s.vmNics.push(nic);
  return vmView(vm, c.runtimeView(vm), s);
}

export function setProcessor(a: A<'SetVMProcessor'>, vm: VmRecord, s: InventoryState, c: Controller): void {
  const state = c.stateOf(vm);
  if (state !== 'Off') {
    // seed "Configurer la virtualisation imbriquée", step 2: only while the VM is Off.
    throw failedToModify('Processor', vm.name,
      `Cannot change the processor settings of a virtual machine now: '${vm.name}' is ${state}. Turn off the virtual machine and try again.`, vm.id);
  }
  if (a.count !== undefined) {
    if (!Number.isInteger(a.count) || a.count < 1 || a.count > s.host.logicalProcessorCount) {
      throw failedToModify('Processor', vm.name,
        `The virtual machine cannot have ${a.count} virtual processors: this host has ${s.host.logicalProcessorCount} logical processors.`, vm.id);
    }
    vm.processorCount = a.count;
  }
  if (a.exposeVirtualizationExtensions === true) {
    if (compareVersions(vm.version, NESTING_MIN_VERSION) < 0) {
      throw failedToModify('Processor', vm.name,
        `Nested virtualization requires virtual machine configuration version ${NESTING_MIN_VERSION} or later; '${vm.name}' is version ${vm.version}. Upgrade it with Update-VMVersion.`, vm.id);
    }
    const profile = findCpuProfile(s.host.cpuProfile);
    const why = profile ? nestingUnsupportedReason(profile) : `Unknown host CPU profile '${s.host.cpuProfile}'.`;
    if (why) throw failedToModify('Processor', vm.name, `This platform does not support nested virtualization. ${why}`, vm.id);
  }
  // seed "Désactiver la virtualisation imbriquée": $false turns it off again.
  if (a.exposeVirtualizationExtensions !== undefined) vm.exposeVirtualizationExtensions = a.exposeVirtualizationExtensions;
}

export interface MemoryChange {
  startupBytes?: number; dynamicMemoryEnabled?: boolean; minimumBytes?: number; maximumBytes?: number; buffer?: number; priority?: number;
}

export function memoryRefused(vm: VmRecord, cause: string): ManagementError {
  return failedToModify('Memory', vm.name, cause, vm.id);
}

/** Set-VM words memory failures as its own. */
export function reframeForSetVm(e: ManagementError): ManagementError {
  return e;
}

/**
 * Validates a memory change and says whether the running partition must be resized.
 * seed "Mémoire dynamique et redimensionnement de la mémoire d'exécution": while a hypervisor
 * runs in the VM (its guest has VMX on), memory cannot change at all.
 */
export function planMemory(vm: VmRecord, ch: MemoryChange, c: Controller): { memory: MemoryRecord; runtimeResize?: number } {
  const cur = vm.memory;
  const next: MemoryRecord = {
    startupBytes: ch.startupBytes ?? cur.startupBytes,
    dynamicMemoryEnabled: ch.dynamicMemoryEnabled ?? cur.dynamicMemoryEnabled,
    minimumBytes: ch.minimumBytes ?? cur.minimumBytes,
    maximumBytes: ch.maximumBytes ?? cur.maximumBytes,
    buffer: ch.buffer ?? cur.buffer,
    priority: ch.priority ?? cur.priority,
  };
  const capacity = c.inventory.read().host.memoryCapacityBytes;
  const err =
    (ch.startupBytes !== undefined ? memoryMultipleError('startup memory', ch.startupBytes) ?? memoryRangeError(ch.startupBytes, 'startup memory', capacity) : null) ??
    (ch.minimumBytes !== undefined ? memoryMultipleError('minimum memory', ch.minimumBytes) ?? memoryRangeError(ch.minimumBytes, 'minimum memory', capacity) : null) ??
    (ch.maximumBytes !== undefined ? memoryMultipleError('maximum memory', ch.maximumBytes) : null) ??
    (ch.buffer !== undefined ? bufferError(ch.buffer) : null) ??
    (ch.priority !== undefined ? priorityError(ch.priority) : null) ??
    (next.dynamicMemoryEnabled ? memoryOrderError(next.minimumBytes, next.startupBytes, next.maximumBytes) : null);
  if (err) throw memoryRefused(vm, err);
  const state = c.stateOf(vm);
  if (state === 'Off') return { memory: next };
  if (state === 'Saved') {
    if (next.startupBytes !== cur.startupBytes || next.dynamicMemoryEnabled !== cur.dynamicMemoryEnabled) {
      throw memoryRefused(vm, `The memory of '${vm.name}' cannot be changed while the virtual machine is saved. Start or turn off the virtual machine first.`);
    }
    return { memory: next };
  }
  if (next.dynamicMemoryEnabled !== cur.dynamicMemoryEnabled) {
    throw memoryRefused(vm, 'Dynamic memory cannot be enabled or disabled while the virtual machine is running.');
  }
  const sizeChanged = next.startupBytes !== cur.startupBytes || next.minimumBytes !== cur.minimumBytes || next.maximumBytes !== cur.maximumBytes;
  if (sizeChanged && c.vmxActive(vm)) {
    throw memoryRefused(vm,
      `The memory of '${vm.name}' cannot be changed while a hypervisor is running inside it (nested virtualization). ` +
      'Turn off the virtual machine to adjust its memory.');
  }
  if (next.dynamicMemoryEnabled) {
    if (next.startupBytes !== cur.startupBytes) throw memoryRefused(vm, 'The startup memory of a running virtual machine with dynamic memory cannot be changed.');
    if (next.minimumBytes > cur.minimumBytes) throw memoryRefused(vm, 'The minimum memory of a running virtual machine can only be decreased.');
    if (next.maximumBytes < cur.maximumBytes) throw memoryRefused(vm, 'The maximum memory of a running virtual machine can only be increased.');
    return { memory: next };
  }
  return { memory: next, runtimeResize: next.startupBytes !== cur.startupBytes ? next.startupBytes : undefined };
}

export function setVm(a: A<'SetVM'>, vm: VmRecord, s: InventoryState, c: Controller): void {
  if (a.newName !== undefined && a.newName !== vm.name) {
    const bad = nameError('virtual machine', a.newName);
    if (bad) throw new ManagementError(bad, 'InvalidArgument', 'InvalidParameter', a.newName, 'String');
    if (s.vms.some((v) => v.id !== vm.id && v.name.toLowerCase() === a.newName!.toLowerCase())) {
      throw new ManagementError(`A virtual machine named '${a.newName}' already exists. Virtual machine names must be unique on this host.`,
        'ResourceExists', 'ObjectExists', a.newName, 'String');
    }
    vm.name = a.newName;
  }
  if (a.processorCount !== undefined) setProcessor({ kind: 'SetVMProcessor', vm: { ids: [vm.id] }, count: a.processorCount }, vm, s, c);
  if (a.notes !== undefined) vm.notes = a.notes;
}

export function updateVersion(vm: VmRecord, c: Controller): void {
  const state = c.stateOf(vm);
  if (state !== 'Off') throw wrongState('update the configuration version of', vm, state);
  if (compareVersions(vm.version, DEFAULT_VERSION) < 0) vm.version = DEFAULT_VERSION;
}

export function setBootImage(a: A<'SetBootImage'>, vm: VmRecord): void {
  if (a.path.trim() === '') throw new ManagementError('The boot image path cannot be empty.', 'InvalidArgument', 'InvalidParameter');
  vm.bootImage = { path: a.path, commandLine: a.commandLine ?? vm.bootImage?.commandLine ?? '' };
}

export function removeVm(vm: VmRecord, s: InventoryState, c: Controller): void {
  const state = c.stateOf(vm);
  if (state !== 'Off' && state !== 'Saved') {
    throw new ManagementError(`Failed to delete virtual machine '${vm.name}'.\nThe virtual machine must be turned off before it can be removed (it is ${state}).`,
      'InvalidOperation', 'InvalidState', vm.name, 'VirtualMachine');
  }
  s.vms = s.vms.filter((v) => v.id !== vm.id);
  s.runtime = s.runtime.filter((r) => r.vmId !== vm.id);
  s.vmNics = s.vmNics.filter((n) => n.vmId !== vm.id);
}

export function setCpuProfile(name: string, s: InventoryState, c: Controller): ViewObject {
  const p = findCpuProfile(name);
  if (!p) {
    throw new ManagementError(`'${name}' is not a CPU profile of this host. Valid profiles: ${CPU_PROFILES.map((x) => x.name).join(', ')}.`,
      'InvalidArgument', 'InvalidParameter', name, 'String');
  }
  const running = s.vms.filter((v) => c.stateOf(v) !== 'Off' && c.stateOf(v) !== 'Saved');
  if (running.length) {
    throw new ManagementError(`The host CPU profile cannot change while virtual machines run: ${running.map((v) => v.name).join(', ')}.`,
      'InvalidOperation', 'InvalidState');
  }
  s.host.cpuProfile = p.name;
  return hostView(s);
}

export { memoryView, processorView };
