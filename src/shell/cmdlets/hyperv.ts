/**
 * The Hyper-V module's cmdlets (and Nestvisor's own VM cmdlets). Each one only binds its
 * parameters into one management Action; the controller does the work and the rules.
 */
import type { Action, VmTarget } from '../../management/actions.js';
import { T } from '../../management/views.js';
import { BindingError } from '../binder.js';
import type { CmdletContext, CmdletDef } from '../cmdlet.js';
import { PASSTHRU, VM_NAME_PARAMS, VM_PARAMS, hvType, nicTarget, p, targetText, vmTarget } from './params.js';

function missing(name: string): BindingError {
  return new BindingError({ message: `Cannot process command because of one or more missing mandatory parameters: ${name}.`, errorId: 'MissingMandatoryParameter',
    category: 'InvalidArgument', targetName: '', targetType: '', exceptionType: 'ParameterBindingException' });
}

function need<T>(v: T | undefined, name: string): T {
  if (v === undefined) throw missing(name);
  return v;
}

/** A Set-/Start-style cmdlet: -WhatIf check, the action, then -Passthru writes the fresh object. */
async function change(ctx: CmdletContext, target: string, action: Action, passKind?: 'GetVM' | 'GetVMProcessor' | 'GetVMMemory', vm?: VmTarget): Promise<void> {
  if (!(await ctx.shouldProcess(target))) return;
  const r = await ctx.apply(action, false);
  if (ctx.bound.sw('Passthru') && passKind && vm && r.errors.length === 0) await ctx.apply({ kind: passKind, vm } as Action);
}

const hv = (name: string, synopsis: string, params: CmdletDef['params'], examples: string[], run: CmdletDef['run'], extra: Partial<CmdletDef> = {}): CmdletDef =>
  ({ name, module: 'Hyper-V', type: hvType(name), synopsis, params, examples, run, ...extra });

export const HYPERV_CMDLETS: CmdletDef[] = [
  hv('New-VM', 'Creates a new virtual machine.', [
    p('Name', 'string', { position: 0, aliases: ['VMName'], help: 'Name of the new virtual machine.' }),
    p('MemoryStartupBytes', 'long', { position: 1, help: 'Startup memory, e.g. 4GB (a multiple of 2 MB).' }),
    p('Generation', 'int', { range: [1, 2], help: 'Virtual machine generation, 1 or 2.' }),
    p('Version', 'string', { help: 'Configuration version (Get-VMHostSupportedVersion); nesting needs 8.0 or later.' }),
    p('SwitchName', 'string', { help: 'Virtual switch to connect the network adapter to.' }),
    p('NoVHD', 'switch', { help: 'Accepted for compatibility; Nestvisor VMs boot a kernel image, not a VHD.' }),
  ], ['New-VM -Name L1 -MemoryStartupBytes 4GB -Generation 2'], async (ctx) => {
    const b = ctx.bound;
    const name = b.str('Name') ?? 'New Virtual Machine';
    if (!(await ctx.shouldProcess(name))) return;
    await ctx.apply({ kind: 'NewVM', name, memoryStartupBytes: b.num('MemoryStartupBytes'), generation: b.num('Generation'),
      version: b.str('Version')?.replace(/^(\d+)$/, '$1.0'), switchName: b.str('SwitchName') });
  }, { shouldProcess: true }),

  hv('Get-VM', 'Gets the virtual machines of this host.', VM_NAME_PARAMS.slice(0, 1), ['Get-VM', 'Get-VM -Name L1 | Format-List *'],
    async (ctx) => { await ctx.apply({ kind: 'GetVM', vm: vmTarget(ctx.bound, 'Name') }); }),

  hv('Start-VM', 'Starts a virtual machine.', [...VM_NAME_PARAMS, PASSTHRU], ['Start-VM -Name L1'], async (ctx) => {
    const vm = need(vmTarget(ctx.bound, 'Name'), 'Name');
    await change(ctx, targetText(ctx.bound, 'Name'), { kind: 'StartVM', vm }, 'GetVM', vm);
  }, { shouldProcess: true }),

  hv('Stop-VM', 'Shuts down, turns off or saves a virtual machine.', [...VM_NAME_PARAMS,
    p('Force', 'switch', { help: 'Shuts down without asking the guest.' }), p('TurnOff', 'switch', { help: 'Turns the virtual machine off (like pulling the plug).' }),
    p('Save', 'switch', { help: 'Saves the virtual machine (not supported by Nestvisor yet).' }), PASSTHRU,
  ], ['Stop-VM -Name L1 -TurnOff'], async (ctx) => {
    const b = ctx.bound;
    const vm = need(vmTarget(b, 'Name'), 'Name');
    await change(ctx, targetText(b, 'Name'), { kind: 'StopVM', vm, force: b.sw('Force'), turnOff: b.sw('TurnOff'), save: b.sw('Save') }, 'GetVM', vm);
  }, { shouldProcess: true }),

  hv('Restart-VM', 'Restarts a virtual machine.', [...VM_NAME_PARAMS, p('Force', 'switch'), PASSTHRU], ['Restart-VM -Name L1 -Force'], async (ctx) => {
    const vm = need(vmTarget(ctx.bound, 'Name'), 'Name');
    await change(ctx, targetText(ctx.bound, 'Name'), { kind: 'RestartVM', vm, force: ctx.bound.sw('Force') }, 'GetVM', vm);
  }, { shouldProcess: true }),

  hv('Remove-VM', 'Deletes a virtual machine.', [...VM_NAME_PARAMS, p('Force', 'switch')], ['Remove-VM -Name L1 -Force'], async (ctx) => {
    const vm = need(vmTarget(ctx.bound, 'Name'), 'Name');
    await change(ctx, targetText(ctx.bound, 'Name'), { kind: 'RemoveVM', vm });
  }, { shouldProcess: true, confirmImpact: 'High' }),

  hv('Set-VM', 'Configures a virtual machine.', [...VM_NAME_PARAMS,
    p('NewVMName', 'string'), p('ProcessorCount', 'long'), p('MemoryStartupBytes', 'long'), p('DynamicMemory', 'switch'), p('StaticMemory', 'switch'),
    p('MemoryMinimumBytes', 'long'), p('MemoryMaximumBytes', 'long'), p('Notes', 'string'), PASSTHRU,
  ], ['Set-VM -Name L1 -ProcessorCount 2 -StaticMemory'], async (ctx) => {
    const b = ctx.bound;
    const vm = need(vmTarget(b, 'Name'), 'Name');
    await change(ctx, targetText(b, 'Name'), { kind: 'SetVM', vm, newName: b.str('NewVMName'), processorCount: b.num('ProcessorCount'),
      memoryStartupBytes: b.num('MemoryStartupBytes'), dynamicMemory: b.sw('DynamicMemory'), staticMemory: b.sw('StaticMemory'),
      memoryMinimumBytes: b.num('MemoryMinimumBytes'), memoryMaximumBytes: b.num('MemoryMaximumBytes'), notes: b.str('Notes') },
    'GetVM', b.str('NewVMName') ? { names: [b.str('NewVMName')!] } : vm);
  }, { shouldProcess: true }),

  hv('Get-VMProcessor', 'Gets the processor of a virtual machine.', VM_PARAMS, ['(Get-VMProcessor -VMName L1).ExposeVirtualizationExtensions'],
    async (ctx) => { await ctx.apply({ kind: 'GetVMProcessor', vm: need(vmTarget(ctx.bound), 'VMName') }); }),

  hv('Set-VMProcessor', 'Configures the processor of a virtual machine (count, nested virtualization).', [...VM_PARAMS,
    p('VMProcessor', 'object[]', { byValue: [T.Processor] }),
    p('Count', 'long', { help: 'Number of virtual processors.' }),
    p('ExposeVirtualizationExtensions', 'bool', { help: 'Exposes Intel VT-x (with EPT) to the guest: nested virtualization. Only while the VM is Off.' }),
    PASSTHRU,
  ], ['Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true', 'Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $false'], async (ctx) => {
    const b = ctx.bound;
    const vm = need(vmTarget(b), 'VMName');
    await change(ctx, targetText(b), { kind: 'SetVMProcessor', vm, count: b.num('Count'),
      exposeVirtualizationExtensions: b.has('ExposeVirtualizationExtensions') ? b.bool('ExposeVirtualizationExtensions') : undefined }, 'GetVMProcessor', vm);
  }, { shouldProcess: true }),

  hv('Get-VMMemory', 'Gets the memory settings of a virtual machine.', VM_PARAMS, ['Get-VMMemory -VMName L1'],
    async (ctx) => { await ctx.apply({ kind: 'GetVMMemory', vm: need(vmTarget(ctx.bound), 'VMName') }); }),

  hv('Set-VMMemory', 'Configures the memory of a virtual machine.', [...VM_PARAMS,
    p('VMMemory', 'object[]', { byValue: [T.Memory] }),
    p('StartupBytes', 'long'), p('DynamicMemoryEnabled', 'bool'), p('MinimumBytes', 'long'), p('MaximumBytes', 'long'),
    p('Buffer', 'int', { range: [5, 2000] }), p('Priority', 'int', { range: [0, 100] }), PASSTHRU,
  ], ['Set-VMMemory -VMName L1 -DynamicMemoryEnabled $false -StartupBytes 4GB'], async (ctx) => {
    const b = ctx.bound;
    const vm = need(vmTarget(b), 'VMName');
    await change(ctx, targetText(b), { kind: 'SetVMMemory', vm, startupBytes: b.num('StartupBytes'),
      dynamicMemoryEnabled: b.has('DynamicMemoryEnabled') ? b.bool('DynamicMemoryEnabled') : undefined,
      minimumBytes: b.num('MinimumBytes'), maximumBytes: b.num('MaximumBytes'), buffer: b.num('Buffer'), priority: b.num('Priority') }, 'GetVMMemory', vm);
  }, { shouldProcess: true }),

  hv('Get-VMHost', 'Gets the Hyper-V host (with Nestvisor\'s emulated CPU profile).', [], ['Get-VMHost | Format-List *'],
    async (ctx) => { await ctx.apply({ kind: 'GetVMHost' }); }),

  hv('Get-VMHostSupportedVersion', 'Lists the virtual machine configuration versions this host supports.', [p('Default', 'switch')],
    ['Get-VMHostSupportedVersion'], async (ctx) => { await ctx.apply({ kind: 'GetVMHostSupportedVersion', default: ctx.bound.sw('Default') }); }),

  hv('Update-VMVersion', 'Upgrades the configuration version of a virtual machine to the host\'s default.', [...VM_NAME_PARAMS, p('Force', 'switch'), PASSTHRU],
    ['Update-VMVersion -Name L1 -Force'], async (ctx) => {
      const vm = need(vmTarget(ctx.bound, 'Name'), 'Name');
      await change(ctx, targetText(ctx.bound, 'Name'), { kind: 'UpdateVMVersion', vm }, 'GetVM', vm);
    }, { shouldProcess: true }),

  hv('Set-NestvisorVMBootImage', 'Sets the kernel image a Nestvisor virtual machine boots, and its command line.', [...VM_PARAMS,
    p('Path', 'string', { position: 1, mandatory: true, help: 'Kernel image (ELF/Multiboot or Linux bzImage).' }),
    p('CommandLine', 'string', { help: 'Kernel command line.' }),
  ], ['Set-NestvisorVMBootImage -VMName L1 -Path ./guests/images/minivisor.elf -CommandLine "console=ttyS0"'], async (ctx) => {
    const b = ctx.bound;
    const vm = need(vmTarget(b), 'VMName');
    await change(ctx, targetText(b), { kind: 'SetBootImage', vm, path: b.str('Path')!, commandLine: b.str('CommandLine') });
  }, { module: 'Nestvisor', type: 'Nestvisor.Commands.SetNestvisorVMBootImage', shouldProcess: true }),

  hv('Get-NestvisorNestedVirtStatus', 'Reports, item by item, whether the host and a VM are ready for nested virtualization.', VM_PARAMS,
    ['Get-NestvisorNestedVirtStatus -VMName L1'], async (ctx) => {
      await ctx.apply({ kind: 'GetNestedVirtStatus', vm: vmTarget(ctx.bound) });
    }, { module: 'Nestvisor', type: 'Nestvisor.Commands.GetNestvisorNestedVirtStatus', aliases: ['Get-NestedVirtStatus'] }),

  hv('Set-NestvisorHost', 'Chooses the CPU the host emulates (IntelVtxEpt, IntelVtxNoEpt, IntelNoVtx, AmdSvm).', [
    p('CpuProfile', 'string', { mandatory: true, position: 0, set: ['IntelVtxEpt', 'IntelVtxNoEpt', 'IntelNoVtx', 'AmdSvm'] }), PASSTHRU,
  ], ['Set-NestvisorHost -CpuProfile AmdSvm'], async (ctx) => {
    if (!(await ctx.shouldProcess(ctx.bound.str('CpuProfile')!))) return;
    await ctx.apply({ kind: 'SetHostCpuProfile', profile: ctx.bound.str('CpuProfile')! }, ctx.bound.sw('Passthru'));
  }, { module: 'Nestvisor', type: 'Nestvisor.Commands.SetNestvisorHost', shouldProcess: true }),
];

export { nicTarget };
