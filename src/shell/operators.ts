/**
 * PowerShell's operators over shell values: comparisons that convert the right side to the
 * left side's type and filter when the left side is an array, -like/-match, arithmetic that
 * concatenates strings and arrays, -f formatting, casts, and a few string methods.
 */
import { wildcardMatch } from '../management/wildcard.js';
import { numberToString, toBool, toNumber, toStr, unroll, type Value } from './values.js';

function compareScalar(op: string, l: Value, r: Value, cs: boolean): boolean {
  if (typeof l === 'number') {
    const rn = toNumber(r);
    if (rn === null) {
      if (op === 'eq') return false;
      if (op === 'ne') return true;
      return compareStrings(op, toStr(l), toStr(r), cs);
    }
    switch (op) {
      case 'eq': return l === rn; case 'ne': return l !== rn;
      case 'gt': return l > rn; case 'ge': return l >= rn; case 'lt': return l < rn; case 'le': return l <= rn;
    }
  }
  if (typeof l === 'boolean') {
    const rb = toBool(r);
    if (op === 'eq') return l === rb;
    if (op === 'ne') return l !== rb;
  }
  if (l === null) {
    if (op === 'eq') return r === null;
    if (op === 'ne') return r !== null;
  }
  return compareStrings(op, toStr(l), toStr(r), cs);
}

function compareStrings(op: string, a: string, b: string, cs: boolean): boolean {
  const x = cs ? a : a.toLowerCase();
  const y = cs ? b : b.toLowerCase();
  switch (op) {
    case 'eq': return x === y; case 'ne': return x !== y;
    case 'gt': return x > y; case 'ge': return x >= y; case 'lt': return x < y; case 'le': return x <= y;
    default: return false;
  }
}

function like(l: Value, r: Value, cs: boolean): boolean {
  const p = toStr(r);
  const t = toStr(l);
  return cs ? new RegExp(wildcardRe(p)).test(t) : wildcardMatch(p, t);
}

function wildcardRe(p: string): string {
  return '^' + p.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|\\/]/g, '\\$&'))).join('') + '$';
}

export function evalBinary(opIn: string, l: Value, r: Value, onMatch?: (m: Map<string, Value>) => void): Value {
  const cs = opIn.length > 1 && opIn.startsWith('c') && opIn !== 'contains';
  const op = cs ? opIn.slice(1) : opIn;
  switch (op) {
    case 'eq': case 'ne': case 'gt': case 'ge': case 'lt': case 'le':
      if (Array.isArray(l)) return l.filter((x) => compareScalar(op, x, r, cs));
      return compareScalar(op, l, r, cs);
    case 'like': case 'notlike': {
      const pos = op === 'like';
      if (Array.isArray(l)) return l.filter((x) => like(x, r, cs) === pos);
      return like(l, r, cs) === pos;
    }
    case 'match': case 'notmatch': {
      const re = new RegExp(toStr(r), cs ? '' : 'i');
      const pos = op === 'match';
      if (Array.isArray(l)) return l.filter((x) => re.test(toStr(x)) === pos);
      const m = re.exec(toStr(l));
      if (m && onMatch) {
        const g = new Map<string, Value>();
        m.forEach((v, i) => g.set(String(i), v ?? null));
        for (const [k, v] of Object.entries(m.groups ?? {})) g.set(k, v ?? null);
        onMatch(g);
      }
      return (m !== null) === pos;
    }
    case 'contains': case 'notcontains':
      return unroll(l).some((x) => compareScalar('eq', x, r, cs)) === (op === 'contains');
    case 'in': case 'notin':
      return unroll(r).some((x) => compareScalar('eq', x, l, cs)) === (op === 'in');
    case 'replace': {
      const [pat, rep] = Array.isArray(r) ? [toStr(r[0]), toStr(r[1] ?? '')] : [toStr(r), ''];
      return toStr(l).replace(new RegExp(pat, cs ? 'g' : 'gi'), rep.replace(/\$(\d)/g, '$$$1'));
    }
    case 'split': return toStr(l).split(new RegExp(toStr(r), cs ? '' : 'i'));
    case 'join': return unroll(l).map(toStr).join(toStr(r));
    case 'f': {
      const args = unroll(r);
      return toStr(l).replace(/\{(\d+)(?:,(-?\d+))?(?::([^}]*))?\}/g, (_, i, w) => {
        const s = toStr(args[Number(i)] ?? null);
        const width = w ? Number(w) : 0;
        return width < 0 ? s.padEnd(-width) : s.padStart(width);
      });
    }
    case 'is': case 'isnot': return op === 'is';
    case '+': {
      if (Array.isArray(l)) return [...l, ...unroll(r)];
      if (typeof l === 'string') return l + toStr(r);
      if (l === null) return r;
      return arith(l, r, (a, b) => a + b);
    }
    case '-': return arith(l, r, (a, b) => a - b);
    case '*':
      if (typeof l === 'string') return l.repeat(Math.max(0, toNumber(r) ?? 0));
      return arith(l, r, (a, b) => a * b);
    case '/': return arith(l, r, (a, b) => a / b);
    case '%': return arith(l, r, (a, b) => a % b);
    default: throw new Error(`The operator '-${op}' is not supported.`);
  }
}

function arith(l: Value, r: Value, f: (a: number, b: number) => number): number {
  const a = toNumber(l);
  const b = toNumber(r);
  if (a === null || b === null) throw new Error(`Cannot convert value "${toStr(a === null ? l : r)}" to type "System.Int32". Error: "Input string was not in a correct format."`);
  return f(a, b);
}

export function evalCast(type: string, v: Value): Value {
  switch (type) {
    case 'int': case 'int32': case 'long': case 'int64': case 'double': {
      const n = toNumber(v);
      if (n === null) throw new Error(`Cannot convert value "${toStr(v)}" to type "System.${type === 'double' ? 'Double' : 'Int32'}". Error: "Input string was not in a correct format."`);
      return type === 'double' ? n : Math.round(n);
    }
    case 'string': return toStr(v);
    case 'bool': case 'boolean': return toBool(v);
    case 'array': case 'object[]': return unroll(v);
    default: return v;
  }
}

export function invokeMethod(target: Value, name: string, args: Value[], fail: (msg: string) => Error): Value {
  const n = name.toLowerCase();
  if (n === 'tostring') return typeof target === 'number' ? numberToString(target) : toStr(target);
  if (typeof target === 'string') {
    const a0 = toStr(args[0] ?? null);
    switch (n) {
      case 'toupper': return target.toUpperCase();
      case 'tolower': return target.toLowerCase();
      case 'trim': return target.trim();
      case 'contains': return target.includes(a0);
      case 'startswith': return target.startsWith(a0);
      case 'endswith': return target.endsWith(a0);
      case 'replace': return target.split(a0).join(toStr(args[1] ?? null));
      case 'split': return target.split(a0);
      case 'substring': return args.length > 1 ? target.substr(toNumber(args[0]) ?? 0, toNumber(args[1]) ?? 0) : target.slice(toNumber(args[0]) ?? 0);
    }
  }
  const tn = typeof target === 'string' ? 'System.String' : Array.isArray(target) ? 'System.Object[]' : typeof target === 'number' ? 'System.Int32' : 'System.Object';
  throw fail(`Method invocation failed because [${tn}] does not contain a method named '${name}'.`);
}
