/**
 * Parameter binding as PowerShell does it: named parameters by full name, alias or
 * unambiguous prefix; switches; then positional arguments; then, per pipeline object, by value
 * (matching type) or by property name; then mandatory checks. Failures are
 * ParameterBindingException records naming the parameter.
 */
import type { Span } from './ast.js';
import type { ErrorRecord } from './records.js';
import { PSObject, ScriptBlock, toNumber, toStr, typeNameOf, type Value } from './values.js';

export type ParamType = 'string' | 'string[]' | 'int' | 'long' | 'bool' | 'switch' | 'object' | 'object[]' | 'scriptblock';

export interface ParamDef {
  readonly name: string;
  readonly type: ParamType;
  readonly aliases?: readonly string[];
  readonly mandatory?: boolean;
  readonly position?: number;
  /** Binds pipeline objects of these type names by value (any value when empty). */
  readonly byValue?: readonly string[];
  readonly byPropertyName?: boolean;
  /** Enum-like set of accepted strings (canonical spelling). */
  readonly set?: readonly string[];
  /** The .NET enum type named when a value is outside `set` (ValidateSet otherwise). */
  readonly enumType?: string;
  readonly range?: readonly [number, number];
  readonly help?: string;
}

export interface ArgValue {
  readonly kind: 'param' | 'value';
  readonly name?: string;
  readonly value?: Value;
  readonly hasValue: boolean;
  readonly span: Span;
}

/** The parameters of one invocation, by canonical name. */
export class Bound {
  readonly values = new Map<string, Value>();
  has(n: string): boolean { return this.values.has(n); }
  get(n: string): Value | undefined { return this.values.get(n); }
  str(n: string): string | undefined { const v = this.values.get(n); return v === undefined || v === null ? undefined : toStr(v); }
  strs(n: string): string[] | undefined {
    const v = this.values.get(n);
    if (v === undefined || v === null) return undefined;
    return (Array.isArray(v) ? v : [v]).map(toStr);
  }
  num(n: string): number | undefined { const v = this.values.get(n); return v === undefined || v === null ? undefined : (toNumber(v) ?? undefined); }
  bool(n: string): boolean | undefined { const v = this.values.get(n); return v === undefined ? undefined : v === true; }
  sw(n: string): boolean { return this.values.get(n) === true; }
  objs(n: string): PSObject[] {
    const v = this.values.get(n);
    if (v === undefined || v === null) return [];
    return (Array.isArray(v) ? v : [v]).filter((x): x is PSObject => x instanceof PSObject);
  }
}

export const COMMON_PARAMS: ParamDef[] = [
  { name: 'ErrorAction', type: 'string', aliases: ['ea'], set: ['Continue', 'SilentlyContinue', 'Stop', 'Ignore', 'Inquire'], enumType: 'System.Management.Automation.ActionPreference' },
  { name: 'WarningAction', type: 'string', aliases: ['wa'], set: ['Continue', 'SilentlyContinue', 'Stop', 'Ignore', 'Inquire'], enumType: 'System.Management.Automation.ActionPreference' },
  { name: 'Verbose', type: 'switch', aliases: ['vb'] },
  { name: 'Debug', type: 'switch', aliases: ['db'] },
];
export const SHOULD_PROCESS_PARAMS: ParamDef[] = [
  { name: 'WhatIf', type: 'switch', aliases: ['wi'] },
  { name: 'Confirm', type: 'switch', aliases: ['cf'] },
];

const NET_TYPE: Record<ParamType, string> = {
  'string': 'System.String', 'string[]': 'System.String[]', 'int': 'System.Int32', 'long': 'System.Int64', 'bool': 'System.Boolean',
  'switch': 'System.Management.Automation.SwitchParameter', 'object': 'System.Object', 'object[]': 'System.Object[]',
  'scriptblock': 'System.Management.Automation.ScriptBlock',
};

export class BindingError extends Error {
  constructor(readonly record: Omit<ErrorRecord, 'activity' | 'fullyQualifiedErrorId'> & { errorId: string }) { super(record.message); }
}

function bindErr(message: string, errorId: string, span?: Span, category = 'InvalidArgument', targetName = '', targetType = ''): BindingError {
  return new BindingError({ message, errorId, category, targetName, targetType, exceptionType: 'ParameterBindingException', span });
}

/** Resolves `-Name` against the parameter list: exact name or alias, else unique prefix. */
export function resolveParam(params: readonly ParamDef[], written: string, span?: Span): ParamDef {
  const w = written.toLowerCase();
  const exact = params.find((p) => p.name.toLowerCase() === w || p.aliases?.some((a) => a.toLowerCase() === w));
  if (exact) return exact;
  const hits = params.filter((p) => p.name.toLowerCase().startsWith(w));
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) {
    throw bindErr(`Parameter cannot be processed because the parameter name '${written}' is ambiguous. Possible matches include: ${hits.map((h) => `-${h.name}`).join(' ')}.`,
      'AmbiguousParameter', span);
  }
  throw bindErr(`A parameter cannot be found that matches parameter name '${written}'.`, 'NamedParameterNotFound', span);
}

/** Converts a value to a parameter's type, or throws PowerShell's binding error. */
export function convert(p: ParamDef, v: Value, span?: Span): Value {
  const cannot = (why: string) => bindErr(
    `Cannot bind parameter '${p.name}'. Cannot convert value "${Array.isArray(v) ? 'System.Object[]' : toStr(v)}" to type "${NET_TYPE[p.type]}". Error: "${why}"`,
    'CannotConvertArgumentNoMessage', span);
  const checkRange = (n: number) => {
    if (!p.range) return n;
    const [lo, hi] = p.range;
    if (n < lo) throw bindErr(`Cannot validate argument on parameter '${p.name}'. The ${n} argument is less than the minimum allowed range of ${lo}. Supply an argument that is greater than or equal to ${lo} and then try the command again.`, 'ParameterArgumentValidationError', span);
    if (n > hi) throw bindErr(`Cannot validate argument on parameter '${p.name}'. The ${n} argument is greater than the maximum allowed range of ${hi}. Supply an argument that is less than or equal to ${hi} and then try the command again.`, 'ParameterArgumentValidationError', span);
    return n;
  };
  const one = (x: Value): Value => {
    switch (p.type) {
      case 'string': case 'string[]': {
        if (x instanceof PSObject || x instanceof ScriptBlock) return toStr(x);
        const s = toStr(x);
        if (p.set) {
          const hit = p.set.find((e) => e.toLowerCase() === s.toLowerCase());
          if (hit) return hit;
          if (p.enumType) {
            throw bindErr(`Cannot bind parameter '${p.name}'. Cannot convert value "${s}" to type "${p.enumType}". Error: "Unable to match the identifier name ${s} to a valid enumerator name. Specify one of the following enumerator names and try again:\n${p.set.join(', ')}"`,
              'CannotConvertArgumentNoMessage', span);
          }
          throw bindErr(`Cannot validate argument on parameter '${p.name}'. The argument "${s}" does not belong to the set "${p.set.join(',')}" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`,
            'ParameterArgumentValidationError', span);
        }
        return s;
      }
      case 'int': case 'long': {
        const n = toNumber(x);
        if (n === null || typeof x === 'boolean' || x instanceof PSObject) throw cannot('Input string was not in a correct format.');
        if (!Number.isFinite(n)) throw cannot('Value was either too large or too small.');
        return checkRange(Math.round(n));
      }
      case 'bool': {
        if (typeof x === 'boolean') return x;
        if (typeof x === 'number') return x !== 0;
        throw bindErr(`Cannot process argument transformation on parameter '${p.name}'. Cannot convert value "${typeNameOf(x)}" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.`,
          'ParameterArgumentTransformationError', span);
      }
      case 'scriptblock':
        if (x instanceof ScriptBlock) return x;
        throw bindErr(`Cannot bind parameter '${p.name}'. Cannot convert the "${toStr(x)}" value of type "${typeNameOf(x)}" to type "System.Management.Automation.ScriptBlock".`, 'CannotConvertArgument', span);
      default: return x;
    }
  };
  if (p.type === 'string[]' || p.type === 'object[]') return (Array.isArray(v) ? v : [v]).map(one);
  if (Array.isArray(v) && p.type !== 'object') {
    if (v.length === 1) return one(v[0]);
    throw bindErr(`Cannot convert 'System.Object[]' to the type '${NET_TYPE[p.type]}' required by parameter '${p.name}'. Specified method is not supported.`,
      'CannotConvertArgument', span);
  }
  return one(v);
}

/** Binds the command line (not the pipeline). Returns the bound values and the parameter list used. */
export function bindArguments(params: readonly ParamDef[], args: readonly ArgValue[]): Bound {
  const bound = new Bound();
  const positional: ArgValue[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.kind === 'value') { positional.push(a); continue; }
    const p = resolveParam(params, a.name!, a.span);
    if (bound.has(p.name)) {
      throw bindErr(`Cannot bind parameter because parameter '${p.name}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".`,
        'ParameterAlreadyBound', a.span);
    }
    if (p.type === 'switch') {
      bound.values.set(p.name, a.hasValue ? a.value === true || (typeof a.value === 'number' && a.value !== 0) : true);
      continue;
    }
    let v: Value | undefined;
    let span = a.span;
    if (a.hasValue) v = a.value!;
    else if (i + 1 < args.length && args[i + 1].kind === 'value') { v = args[i + 1].value!; span = args[i + 1].span; i++; }
    else throw bindErr(`Missing an argument for parameter '${p.name}'. Specify a parameter of type '${NET_TYPE[p.type]}' and try again.`, 'MissingArgument', a.span);
    bound.values.set(p.name, convert(p, v, span));
  }
  // Parameters sharing a position belong to different parameter sets (Where-Object's
  // -FilterScript and -Property): the first whose type accepts the argument wins.
  const positions = [...new Set(params.filter((p) => p.position !== undefined).map((p) => p.position!))].sort((x, y) => x - y);
  for (const a of positional) {
    const pos = positions.find((n) => !params.some((p) => p.position === n && bound.has(p.name)));
    if (pos === undefined) {
      throw bindErr(`A positional parameter cannot be found that accepts argument '${toStr(a.value ?? null)}'.`, 'PositionalParameterNotFound', a.span);
    }
    const candidates = params.filter((p) => p.position === pos);
    let firstErr: unknown;
    let done = false;
    for (const p of candidates) {
      try { bound.values.set(p.name, convert(p, a.value!, a.span)); done = true; break; } catch (e) { firstErr ??= e; }
    }
    if (!done) throw firstErr;
  }
  return bound;
}

/** Binds one pipeline object: by value first, else by property name. Returns false if nothing bound. */
export function bindPipelineObject(params: readonly ParamDef[], bound: Bound, input: Value): boolean {
  for (const p of params) {
    if (!p.byValue || bound.has(p.name)) continue;
    const t = typeNameOf(input);
    if (p.byValue.length === 0 || p.byValue.includes(t)) {
      bound.values.set(p.name, convert(p, input));
      return true;
    }
  }
  if (!(input instanceof PSObject)) return false;
  let any = false;
  for (const p of params) {
    if (!p.byPropertyName || bound.has(p.name)) continue;
    for (const n of [p.name, ...(p.aliases ?? [])]) {
      const v = input.get(n);
      if (v !== undefined && v !== null) { bound.values.set(p.name, convert(p, v)); any = true; break; }
    }
  }
  return any;
}

export function checkMandatory(params: readonly ParamDef[], bound: Bound, span?: Span): void {
  const missing = params.filter((p) => p.mandatory && !bound.has(p.name)).map((p) => p.name);
  if (missing.length) {
    throw bindErr(`Cannot process command because of one or more missing mandatory parameters: ${missing.join(' ')}.`, 'MissingMandatoryParameter', span);
  }
}

export function inputNotBound(span?: Span): BindingError {
  return bindErr('The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.',
    'InputObjectNotBound', span);
}
