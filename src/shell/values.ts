/**
 * Runtime values of the shell: JS primitives, arrays, PSObjects (a type name + properties,
 * made from management's ViewObjects), script blocks, hashtables and pre-formatted text.
 * Conversions follow PowerShell's loose rules where scripts rely on them.
 */
import type { ViewObject } from '../management/actions.js';
import type { Statement } from './ast.js';

export class PSObject {
  constructor(readonly typeName: string, readonly props: Record<string, Value>) {}
  get(name: string): Value | undefined {
    if (name in this.props) return this.props[name];
    const k = Object.keys(this.props).find((p) => p.toLowerCase() === name.toLowerCase());
    return k === undefined ? undefined : this.props[k];
  }
  has(name: string): boolean {
    return Object.keys(this.props).some((p) => p.toLowerCase() === name.toLowerCase());
  }
}

export class ScriptBlock {
  constructor(readonly body: Statement[], readonly text: string) {}
}

/** Output of Format-Table/Format-List: printed verbatim by Out-Default. */
export class FormattedText {
  constructor(readonly text: string) {}
}

export type Value = null | string | number | boolean | Value[] | PSObject | ScriptBlock | Map<string, Value> | FormattedText;

export function fromView(v: ViewObject): PSObject {
  const props: Record<string, Value> = {};
  for (const [k, x] of Object.entries(v.props)) props[k] = fromAny(x);
  return new PSObject(v.typeName, props);
}

function fromAny(x: unknown): Value {
  if (x === undefined || x === null) return null;
  if (Array.isArray(x)) return x.map(fromAny);
  if (typeof x === 'object' && 'typeName' in (x as object) && 'props' in (x as object)) return fromView(x as ViewObject);
  if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return x;
  return String(x);
}

export function typeNameOf(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'System.String';
  if (typeof v === 'number') return Number.isInteger(v) ? (Math.abs(v) > 2147483647 ? 'System.Int64' : 'System.Int32') : 'System.Double';
  if (typeof v === 'boolean') return 'System.Boolean';
  if (Array.isArray(v)) return 'System.Object[]';
  if (v instanceof PSObject) return v.typeName;
  if (v instanceof ScriptBlock) return 'System.Management.Automation.ScriptBlock';
  if (v instanceof Map) return 'System.Collections.Hashtable';
  return 'Microsoft.PowerShell.Commands.Internal.Format.FormatEntryData';
}

export function toBool(v: Value): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length === 0 ? false : v.length === 1 ? toBool(v[0]) : true;
  return true;
}

/** PowerShell's string form of a value ("True", "1.5", "a b" for arrays). */
export function toStr(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return numberToString(v);
  if (Array.isArray(v)) return v.map(toStr).join(' ');
  if (v instanceof ScriptBlock) return v.text;
  if (v instanceof FormattedText) return v.text;
  if (v instanceof Map) return 'System.Collections.Hashtable';
  return v.typeName;
}

export function numberToString(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(15)));
}

/** Parses text the way PowerShell converts a string to a number (also 4GB); null if not one. */
export function toNumber(v: Value): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null) return 0;
  if (typeof v === 'string') {
    const t = v.trim();
    const m = /^([-+]?)(0x[0-9a-f]+|\d+(\.\d+)?(e[+-]?\d+)?|\.\d+)(kb|mb|gb|tb|pb)?$/i.exec(t);
    if (!m) return null;
    const mult = m[5] ? 1024 ** (['kb', 'mb', 'gb', 'tb', 'pb'].indexOf(m[5].toLowerCase()) + 1) : 1;
    const n = m[2].toLowerCase().startsWith('0x') ? parseInt(m[2], 16) : Number(m[2]);
    return (m[1] === '-' ? -1 : 1) * n * mult;
  }
  return null;
}

/** Pipelines unroll arrays one level. */
export function unroll(v: Value): Value[] {
  if (v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** A pipeline's result as one value: nothing → $null, one → it, more → array. */
export function collapse(vs: Value[]): Value {
  return vs.length === 0 ? null : vs.length === 1 ? vs[0] : vs;
}

/** Property access with member enumeration: (Get-VM).Name lists every VM's name. */
export function getMember(v: Value, name: string): Value {
  const lower = name.toLowerCase();
  if (Array.isArray(v)) {
    if (lower === 'count' || lower === 'length') return v.length;
    const out: Value[] = [];
    for (const x of v) {
      const m = getMember(x, name);
      if (m !== null) out.push(...(Array.isArray(m) ? m : [m]));
    }
    return collapse(out);
  }
  if (v instanceof PSObject) {
    const m = v.get(name);
    if (m !== undefined) return m;
    return lower === 'count' ? 1 : null;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) if (k.toLowerCase() === lower) return x;
    if (lower === 'count') return v.size;
    if (lower === 'keys') return [...v.keys()];
    if (lower === 'values') return [...v.values()];
    return null;
  }
  if (typeof v === 'string' && lower === 'length') return v.length;
  if (lower === 'count') return v === null ? 0 : 1;
  return null;
}
