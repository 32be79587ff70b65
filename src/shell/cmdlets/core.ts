/**
 * The utility cmdlets scripts use to read results as data: Where-Object, ForEach-Object,
 * Select-Object, Sort-Object, Format-Table, Format-List, Out-String, Out-Null, ConvertTo-Json,
 * Write-Output/Host/Warning/Error, Measure-Object.
 */
import { ManagementError } from '../../management/errors.js';
import { p } from './params.js';
import type { CmdletContext, CmdletDef } from '../cmdlet.js';
import { evalBinary } from '../operators.js';
import { formatObjects, formatValues } from '../format.js';
import { FormattedText, PSObject, ScriptBlock, collapse, getMember, toBool, toNumber, toStr, unroll, type Value } from '../values.js';

const util = (name: string, synopsis: string, params: CmdletDef['params'], examples: string[], run: CmdletDef['run'], extra: Partial<CmdletDef> = {}): CmdletDef =>
  ({ name, module: 'Microsoft.PowerShell.Utility', type: `Microsoft.PowerShell.Commands.${name.replace('-', '')}Command`, synopsis, params, examples, run, ...extra });

const INPUT = p('InputObject', 'object', { byValue: [] });
const OPS = ['EQ', 'NE', 'GT', 'GE', 'LT', 'LE', 'Like', 'NotLike', 'Match', 'NotMatch', 'Contains', 'In'];

/** Property names or calculated properties (@{Name=...; Expression={...}}). */
async function project(ctx: CmdletContext, o: Value, props: Value[]): Promise<PSObject> {
  const out: Record<string, Value> = {};
  for (const pr of props) {
    if (pr instanceof Map) {
      const name = toStr(getMember(pr, 'Name') ?? getMember(pr, 'n') ?? getMember(pr, 'Label') ?? getMember(pr, 'l'));
      const ex = getMember(pr, 'Expression') ?? getMember(pr, 'e');
      out[name] = ex instanceof ScriptBlock ? collapse(await ctx.session.invokeBlock(ex, o)) : getMember(o, toStr(ex));
      continue;
    }
    const name = toStr(pr);
    if (name === '*' && o instanceof PSObject) { Object.assign(out, o.props); continue; }
    const real = o instanceof PSObject ? Object.keys(o.props).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name : name;
    out[real] = getMember(o, name);
  }
  return new PSObject(`Selected.${o instanceof PSObject ? o.typeName : 'System.Object'}`, out);
}

function sortKey(v: Value): Value {
  return v;
}

function cmp(a: Value, b: Value): number {
  const an = typeof a === 'number' ? a : null;
  const bn = typeof b === 'number' ? b : null;
  if (an !== null && bn !== null) return an - bn;
  return toStr(a).toLowerCase().localeCompare(toStr(b).toLowerCase());
}

function toJson(v: Value, depth: number): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return depth < 0 ? toStr(v) : v.map((x) => toJson(x, depth - 1));
  if (v instanceof PSObject) {
    if (depth < 0) return toStr(v);
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v.props)) o[k] = toJson(x, depth - 1);
    return o;
  }
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[k] = toJson(x, depth - 1);
    return o;
  }
  return toStr(v);
}

export const CORE_CMDLETS: CmdletDef[] = [
  util('Where-Object', 'Selects objects from the pipeline by a condition.', [
    p('FilterScript', 'scriptblock', { position: 0 }), p('Property', 'string', { position: 0 }), p('Value', 'object', { position: 1 }),
    ...OPS.map((o) => p(o, 'switch')), p('Not', 'switch'), INPUT,
  ], ['Get-VM | Where-Object { $_.State -eq "Running" }', 'Get-VM | Where-Object State -eq Off'], async (ctx) => {
    const b = ctx.bound;
    const item = ctx.input[0] ?? null;
    // `Where-Object {…}` binds the block to -FilterScript; `Where-Object Name -eq X` to -Property.
    const fs = b.get('FilterScript') ?? (b.get('Property') instanceof ScriptBlock ? b.get('Property') : undefined);
    let keep: boolean;
    if (fs instanceof ScriptBlock) keep = toBool(collapse(await ctx.session.invokeBlock(fs, item)));
    else {
      const prop = b.str('Property');
      if (!prop) throw new ManagementError('Cannot process command because of one or more missing mandatory parameters: FilterScript.', 'InvalidArgument', 'MissingMandatoryParameter', '', '', 'ParameterBindingException');
      const v = getMember(item, prop);
      const op = OPS.find((o) => b.sw(o));
      keep = op ? toBool(evalBinary(op.toLowerCase(), v, b.get('Value') ?? null)) : b.sw('Not') ? !toBool(v) : toBool(v);
    }
    if (keep) ctx.write(item);
  }, { aliases: ['where', '?'] }),

  util('ForEach-Object', 'Runs a script block for each object, or gets one property of each.', [
    p('Process', 'scriptblock', { position: 0 }), p('MemberName', 'string', { position: 0 }), INPUT,
  ], ['Get-VM | ForEach-Object { $_.Name }', 'Get-VM | ForEach-Object Name'], async (ctx) => {
    const item = ctx.input[0] ?? null;
    const sb = ctx.bound.get('Process') ?? ctx.bound.get('MemberName');
    if (sb instanceof ScriptBlock) for (const v of await ctx.session.invokeBlock(sb, item)) ctx.write(v);
    else if (sb !== undefined) { const v = getMember(item, toStr(sb)); for (const x of unroll(v)) ctx.write(x); }
  }, { aliases: ['foreach', '%'] }),

  util('Select-Object', 'Selects properties of objects, or the first/last objects.', [
    p('Property', 'object[]', { position: 0 }), p('ExpandProperty', 'string'), p('First', 'int'), p('Last', 'int'), p('Skip', 'int'), p('Unique', 'switch'), INPUT,
  ], ['Get-VM | Select-Object Name, State', 'Get-VMProcessor -VMName L1 | Select-Object -ExpandProperty ExposeVirtualizationExtensions'], async (ctx) => {
    const b = ctx.bound;
    let items = ctx.input.slice(b.num('Skip') ?? 0);
    if (b.has('First')) items = items.slice(0, b.num('First'));
    if (b.has('Last')) items = items.slice(Math.max(0, items.length - (b.num('Last') ?? 0)));
    const seen = new Set<string>();
    for (const it of items) {
      let v: Value = it;
      if (b.has('ExpandProperty')) { for (const x of unroll(getMember(it, b.str('ExpandProperty')!))) ctx.write(x); continue; }
      if (b.has('Property')) v = await project(ctx, it, b.get('Property') as Value[]);
      if (b.sw('Unique')) { const k = JSON.stringify(toJson(v, 3)); if (seen.has(k)) continue; seen.add(k); }
      ctx.write(v);
    }
  }, { aggregate: true, aliases: ['select'] }),

  util('Sort-Object', 'Sorts objects by property values.', [p('Property', 'object[]', { position: 0 }), p('Descending', 'switch'), p('Unique', 'switch'), INPUT],
    ['Get-VM | Sort-Object Name -Descending'], async (ctx) => {
      const props = (ctx.bound.get('Property') as Value[] | undefined) ?? [];
      const key = async (v: Value): Promise<Value[]> => {
        if (props.length === 0) return [v];
        const out: Value[] = [];
        for (const pr of props) out.push(pr instanceof ScriptBlock ? collapse(await ctx.session.invokeBlock(pr, v)) : sortKey(getMember(v, toStr(pr))));
        return out;
      };
      const keyed = await Promise.all(ctx.input.map(async (v) => ({ v, k: await key(v) })));
      keyed.sort((a, b) => { for (let i = 0; i < a.k.length; i++) { const c = cmp(a.k[i], b.k[i]); if (c) return c; } return 0; });
      if (ctx.bound.sw('Descending')) keyed.reverse();
      let last: string | undefined;
      for (const { v, k } of keyed) {
        const s = JSON.stringify(toJson(k, 2));
        if (ctx.bound.sw('Unique') && s === last) continue;
        last = s;
        ctx.write(v);
      }
    }, { aggregate: true, aliases: ['sort'] }),

  util('Format-Table', 'Formats objects as a table.', [p('Property', 'object[]', { position: 0 }), p('AutoSize', 'switch'), p('Wrap', 'switch'), INPUT],
    ['Get-VM | Format-Table Name, State, Version'], async (ctx) => ctx.write(new FormattedText(await format(ctx, 'table'))), { aggregate: true, aliases: ['ft'], module: 'Microsoft.PowerShell.Utility' }),
  util('Format-List', 'Formats objects as a list of properties.', [p('Property', 'object[]', { position: 0 }), INPUT],
    ['Get-VMHost | Format-List *'], async (ctx) => ctx.write(new FormattedText(await format(ctx, 'list'))), { aggregate: true, aliases: ['fl'] }),
  util('Out-String', 'Converts objects to the text Out-Default would print.', [p('Stream', 'switch'), p('Width', 'int'), INPUT],
    ['Get-VM | Out-String'], async (ctx) => {
      const text = formatValues(ctx.input);
      if (ctx.bound.sw('Stream')) for (const l of text.split('\n').slice(0, -1)) ctx.write(l);
      else ctx.write(text);
    }, { aggregate: true }),
  util('Out-Null', 'Discards its input.', [INPUT], ['New-VM -Name X | Out-Null'], async () => undefined, { aggregate: true, module: 'Microsoft.PowerShell.Core' }),
  util('ConvertTo-Json', 'Converts objects to JSON.', [p('Depth', 'int', { range: [0, 100] }), p('Compress', 'switch'), INPUT],
    ['Get-VM | ConvertTo-Json'], async (ctx) => {
      const depth = ctx.bound.num('Depth') ?? 2;
      const v = ctx.input.length === 1 ? toJson(ctx.input[0], depth) : ctx.input.map((x) => toJson(x, depth - 1));
      ctx.write(JSON.stringify(v, null, ctx.bound.sw('Compress') ? undefined : 2));
    }, { aggregate: true }),
  util('Measure-Object', 'Counts objects (and sums a numeric property).', [p('Property', 'string', { position: 0 }), p('Sum', 'switch'), INPUT],
    ['Get-VM | Measure-Object'], async (ctx) => {
      const prop = ctx.bound.str('Property');
      const nums = prop ? ctx.input.map((v) => toNumber(getMember(v, prop)) ?? 0) : [];
      ctx.write(new PSObject('Microsoft.PowerShell.Commands.GenericMeasureInfo', {
        Count: ctx.input.length, Average: null, Sum: ctx.bound.sw('Sum') ? nums.reduce((a, b) => a + b, 0) : null, Maximum: null, Minimum: null, Property: prop ?? null,
      }));
    }, { aggregate: true, aliases: ['measure'] }),
  util('Write-Output', 'Writes objects to the pipeline.', [p('InputObject', 'object', { position: 0, byValue: [] })], ['Write-Output "done"'],
    async (ctx) => { for (const v of unroll(ctx.bound.get('InputObject') ?? null)) ctx.write(v); }, { aliases: ['echo', 'write'] }),
  util('Write-Host', 'Writes text to the console.', [p('Object', 'object', { position: 0, byValue: [] }), p('NoNewline', 'switch')], ['Write-Host "hello"'],
    async (ctx) => { ctx.session.host.write(unroll(ctx.bound.get('Object') ?? null).map(toStr).join(' ') + (ctx.bound.sw('NoNewline') ? '' : '\n'), 'output'); }),
  util('Write-Warning', 'Writes a warning.', [p('Message', 'string', { position: 0, mandatory: true, byValue: [] })], ['Write-Warning "careful"'],
    async (ctx) => ctx.warn(ctx.bound.str('Message')!)),
  util('Write-Error', 'Writes a non-terminating error.', [p('Message', 'string', { position: 0, mandatory: true, byValue: [] })], ['Write-Error "failed"'],
    async (ctx) => ctx.error(new ManagementError(ctx.bound.str('Message')!, 'NotSpecified', 'Microsoft.PowerShell.Commands.WriteErrorException', '', '', 'WriteErrorException'))),
];

async function format(ctx: CmdletContext, kind: 'table' | 'list'): Promise<string> {
  const props = ctx.bound.get('Property') as Value[] | undefined;
  const names = props?.map(toStr);
  let text = '';
  let group: PSObject[] = [];
  const flush = () => { if (group.length) text += formatObjects(group, kind, names); group = []; };
  for (const v of ctx.input.flatMap((x) => unroll(x))) {
    if (v instanceof PSObject) {
      if (group.length && group[0].typeName !== v.typeName) flush();
      group.push(v);
    } else { flush(); text += formatValues([v]); }
  }
  flush();
  return text;
}
