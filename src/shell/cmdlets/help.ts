/**
 * Get-Command and Get-Help for every cmdlet: synopsis, syntax, parameters and an example,
 * generated from the same declarations the binder uses, so help never drifts from behaviour.
 */
import { ManagementError } from '../../management/errors.js';
import type { ParamDef } from '../binder.js';
import type { CmdletDef, Registry } from '../cmdlet.js';
import { PSObject } from '../values.js';
import { wildcardMatch } from '../../management/wildcard.js';
import { p } from './params.js';

const TYPE_TEXT: Record<ParamDef['type'], string> = {
  'string': 'string', 'string[]': 'string[]', 'int': 'int', 'long': 'long', 'bool': 'bool', 'switch': '', 'object': 'Object',
  'object[]': 'Object[]', 'scriptblock': 'scriptblock',
};

function paramType(pd: ParamDef): string {
  if (pd.set) return `{${pd.set.join(' | ')}}`;
  return `<${TYPE_TEXT[pd.type]}>`;
}

export function syntax(def: CmdletDef): string {
  const parts = def.params.map((pd) => {
    const name = pd.position !== undefined ? `[-${pd.name}]` : `-${pd.name}`;
    const body = pd.type === 'switch' ? `-${pd.name}` : `${name} ${paramType(pd)}`;
    return pd.mandatory ? body : `[${body}]`;
  });
  if (def.shouldProcess) parts.push('[-WhatIf]', '[-Confirm]');
  parts.push('[<CommonParameters>]');
  return `${def.name} ${parts.join(' ')}`;
}

function helpText(def: CmdletDef): string {
  const lines = ['', 'NAME', `    ${def.name}`, '', 'SYNOPSIS', `    ${def.synopsis}`, '', 'SYNTAX', `    ${syntax(def)}`, '', 'PARAMETERS'];
  for (const pd of def.params) {
    lines.push(`    -${pd.name}${pd.type === 'switch' ? '' : ' ' + paramType(pd)}`);
    if (pd.help) lines.push(`        ${pd.help}`);
    const attrs = [
      `Required? ${pd.mandatory ? 'true' : 'false'}`,
      `Position? ${pd.position !== undefined ? pd.position : 'named'}`,
      `Accept pipeline input? ${pd.byValue ? 'true (ByValue)' : pd.byPropertyName ? 'true (ByPropertyName)' : 'false'}`,
    ];
    if (pd.aliases?.length) attrs.push(`Aliases: ${pd.aliases.join(', ')}`);
    if (pd.range) attrs.push(`Range: ${pd.range[0]}-${pd.range[1]}`);
    lines.push(`        ${attrs.join('; ')}`, '');
  }
  if (def.shouldProcess) lines.push('    -WhatIf', '        Shows what would happen without doing it.', '', '    -Confirm', '        Asks for confirmation first.', '');
  lines.push('EXAMPLES');
  for (const ex of def.examples) lines.push(`    PS C:\\> ${ex}`, '');
  return lines.join('\n') + '\n';
}

export function helpCmdlets(registry: Registry): CmdletDef[] {
  const util = (name: string, synopsis: string, params: CmdletDef['params'], examples: string[], run: CmdletDef['run']): CmdletDef =>
    ({ name, module: 'Microsoft.PowerShell.Core', type: `Microsoft.PowerShell.Commands.${name.replace('-', '')}Command`, synopsis, params, examples, run });
  return [
    util('Get-Command', 'Lists the commands of this shell.', [p('Name', 'string[]', { position: 0 }), p('Module', 'string'), p('Noun', 'string'), p('Verb', 'string')],
      ['Get-Command -Module Hyper-V', 'Get-Command *NetNat*'], async (ctx) => {
        const b = ctx.bound;
        const names = b.strs('Name');
        const list = registry.all().filter((d) => (!names || names.some((n) => wildcardMatch(n, d.name)))
          && (!b.str('Module') || wildcardMatch(b.str('Module')!, d.module))
          && (!b.str('Noun') || wildcardMatch(b.str('Noun')!, d.name.split('-')[1] ?? ''))
          && (!b.str('Verb') || wildcardMatch(b.str('Verb')!, d.name.split('-')[0])));
        if (names && list.length === 0 && !names.some((n) => /[*?]/.test(n))) {
          ctx.error(new ManagementError(`The term '${names[0]}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
            'ObjectNotFound', 'CommandNotFoundException', names[0], 'String', 'CommandNotFoundException'));
        }
        for (const d of list) ctx.write(new PSObject('System.Management.Automation.CmdletInfo', { CommandType: 'Cmdlet', Name: d.name, Version: '2.0.0.0', Source: d.module }));
      }),
    util('Get-Help', 'Shows help for a cmdlet: synopsis, syntax, parameters, examples.', [p('Name', 'string', { position: 0 }), p('Full', 'switch'), p('Examples', 'switch')],
      ['Get-Help Set-VMProcessor'], async (ctx) => {
        const name = ctx.bound.str('Name');
        if (!name) {
          ctx.write('Nestvisor shell: a subset of PowerShell with the Hyper-V cmdlets.\nGet-Command lists the commands; Get-Help <command> describes one.\n');
          return;
        }
        const def = registry.find(name);
        if (!def) {
          ctx.error(new ManagementError(`Get-Help could not find ${name} in a help file in this session.`, 'ResourceUnavailable', 'HelpNotFound', '', '', 'HelpNotFoundException'));
          return;
        }
        if (ctx.bound.sw('Examples')) { ctx.write(['', 'NAME', `    ${def.name}`, '', 'EXAMPLES', ...def.examples.map((e) => `    PS C:\\> ${e}`), ''].join('\n')); return; }
        ctx.write(helpText(def).replace(/\n$/, ''));
      }),
  ];
}
