/**
 * Shorthands for declaring cmdlet parameters, and the translation of the VM / adapter
 * parameters every Hyper-V cmdlet shares (-VMName / -VM / piped objects) into action targets.
 */
import type { NicTarget, VmTarget } from '../../management/actions.js';
import { T } from '../../management/views.js';
import type { Bound, ParamDef, ParamType } from '../binder.js';
import { toStr } from '../values.js';

export function p(name: string, type: ParamType, extra: Partial<ParamDef> = {}): ParamDef {
  return { name, type, ...extra };
}

/** -VMName (position 0, by property name) and -VM (by value), as on Set-VMProcessor. */
export const VM_PARAMS: ParamDef[] = [
  p('VMName', 'string[]', { position: 0, byPropertyName: true, help: 'Name of the virtual machine(s).' }),
  p('VM', 'object[]', { byValue: [T.VM], help: 'Virtual machine object(s), e.g. from Get-VM.' }),
];

/** -Name (alias VMName) and -VM, as on Get-VM, Start-VM, Stop-VM. */
export const VM_NAME_PARAMS: ParamDef[] = [
  p('Name', 'string[]', { position: 0, aliases: ['VMName'], byPropertyName: true, help: 'Name of the virtual machine(s); wildcards allowed.' }),
  p('VM', 'object[]', { byValue: [T.VM], help: 'Virtual machine object(s), e.g. from Get-VM.' }),
];

export const PASSTHRU = p('Passthru', 'switch', { help: 'Writes the changed object(s) to the pipeline.' });

export function vmTarget(b: Bound, nameParam = 'VMName'): VmTarget | undefined {
  if (b.has('VM')) return { ids: b.objs('VM').map((o) => toStr(o.get('Id') ?? o.get('VMId') ?? null)) };
  for (const piped of ['VMProcessor', 'VMMemory']) {
    if (b.has(piped)) return { ids: b.objs(piped).map((o) => toStr(o.get('VMId') ?? null)) };
  }
  const names = b.strs(nameParam);
  return names ? { names } : undefined;
}

/** What -WhatIf names as the target. */
export function targetText(b: Bound, nameParam = 'VMName'): string {
  if (b.has('VM')) return b.objs('VM').map((o) => toStr(o.get('Name') ?? null)).join(', ');
  return (b.strs(nameParam) ?? []).join(', ');
}

export function nicTarget(b: Bound): NicTarget | undefined {
  if (b.has('VMNetworkAdapter')) return { ids: b.objs('VMNetworkAdapter').map((o) => toStr(o.get('AdapterId') ?? null)) };
  const vm = vmTarget(b);
  return vm ? { vm, name: b.str('Name') } : undefined;
}

/** Hyper-V cmdlets are implemented by Microsoft.HyperV.PowerShell.Commands.<VerbNoun>. */
export function hvType(name: string): string {
  return `Microsoft.HyperV.PowerShell.Commands.${name.replace('-', '')}`;
}
