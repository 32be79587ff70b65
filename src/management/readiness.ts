/**
 * Nested-virtualization readiness, item by item — the role of Microsoft's Get-NestedVirtStatus
 * script, with its messages. Checks the seed's prerequisites ("Conditions préalables") for the
 * host and for each VM, and the memory and networking notes of the later sections.
 */
import type { ViewObject } from './actions.js';
import type { Controller } from './controller.js';
import type { InventoryState, VmRecord } from './model.js';
import { findCpuProfile } from '../hypervisor/cpu-profile.js';
import { GB, MB } from './rules.js';
import { NESTING_MIN_VERSION, compareVersions } from './versions.js';
import { readinessItem as item } from './views.js';

export function readiness(s: InventoryState, vms: VmRecord[], c: Controller): ViewObject[] {
  const out: ViewObject[] = [];
  const p = findCpuProfile(s.host.cpuProfile);
  const intel = p?.vendor === 'GenuineIntel';
  out.push(item('Host', 'Processor vendor', intel ? 'OK' : 'Failed',
    intel ? `${p!.vendor} (${p!.model}).` : `The host processor is ${p?.vendor ?? 'unknown'}; nested virtualization is currently Intel-only.`));
  out.push(item('Host', 'Intel VT-x', p?.vtx ? 'OK' : 'Failed', p?.vtx ? 'VT-x is available.' : 'The host processor does not offer Intel VT-x.'));
  out.push(item('Host', 'EPT', p?.ept ? 'OK' : 'Failed', p?.ept ? 'Extended Page Tables are available.' : 'The host processor does not offer EPT.'));
  for (const vm of vms) {
    const okVersion = compareVersions(vm.version, NESTING_MIN_VERSION) >= 0;
    out.push(item(vm.name, 'Configuration version', okVersion ? 'OK' : 'Failed', okVersion
      ? `Version ${vm.version} supports nested virtualization.`
      : `The VM configuration version is ${vm.version}; nested virtualization requires version ${NESTING_MIN_VERSION} or later (Update-VMVersion).`));
    out.push(item(vm.name, 'Virtualization extensions', vm.exposeVirtualizationExtensions ? 'OK' : 'Failed', vm.exposeVirtualizationExtensions
      ? 'The VM is configured to expose virtualization extensions.' : 'This VM is not configured to expose virtualization extensions.'));
    out.push(item(vm.name, 'Dynamic memory', vm.memory.dynamicMemoryEnabled ? 'Warning' : 'OK', vm.memory.dynamicMemoryEnabled
      ? 'The VM has Dynamic Memory enabled.' : 'Dynamic Memory is disabled.'));
    const saved = c.stateOf(vm) === 'Saved';
    out.push(item(vm.name, 'Saved state', saved ? 'Failed' : 'OK', saved ? 'This VM has been saved.' : 'The VM has no saved state.'));
    const small = vm.memory.startupBytes < 4 * GB;
    out.push(item(vm.name, 'Memory', small ? 'Warning' : 'OK', small
      ? `The VM has ${vm.memory.startupBytes / MB} MB of memory; a VM running nested VMs should have at least 4 GB.`
      : `The VM has ${vm.memory.startupBytes / MB} MB of memory.`));
    const nics = s.vmNics.filter((n) => n.vmId === vm.id);
    const off = nics.filter((n) => n.macAddressSpoofing === 'Off');
    out.push(item(vm.name, 'MAC address spoofing', off.length ? 'Warning' : 'OK', off.length
      ? `MAC address spoofing is off on ${off.map((n) => `'${n.name}'`).join(', ')}; nested VMs need it, or NAT networking.`
      : 'MAC address spoofing is on for every network adapter, or the VM has none.'));
  }
  return out;
}
