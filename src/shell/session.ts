/**
 * The interpreter of the PowerShell subset: runs statements and pipelines, binds commands,
 * evaluates expressions, and writes output (Out-Default), warnings and error records to a host.
 * Statement-terminating errors (binding, unknown command) stop one statement; script-terminating
 * ones (throw, -ErrorAction Stop) stop the script — PowerShell's two kinds.
 */
import type { Action, ActionResult } from '../management/actions.js';
import type { Controller } from '../management/controller.js';
import { ManagementError } from '../management/errors.js';
import type { CommandArg, Expr, Pipeline, PipelineElement, Span, Statement } from './ast.js';
import {
  BindingError, COMMON_PARAMS, SHOULD_PROCESS_PARAMS, bindArguments, bindPipelineObject, checkMandatory, inputNotBound,
  type ArgValue, type Bound, type ParamDef,
} from './binder.js';
import type { CmdletContext, CmdletDef, Registry } from './cmdlet.js';
import { evalBinary, evalCast, invokeMethod } from './operators.js';
import { splitExpandable } from './expand.js';
import { formatValues } from './format.js';
import { parseScript } from './parser.js';
import { ExitSignal, ScriptError, StatementError, formatErrorRecord, type ErrorRecord, type SourceInfo } from './records.js';
import { ParseError } from './tokenizer.js';
import { PSObject, ScriptBlock, collapse, fromView, getMember, toBool, toNumber, toStr, unroll, type Value } from './values.js';

export type Stream = 'output' | 'error' | 'warning';

export interface ShellHost {
  write(text: string, stream: Stream): void;
  /** Interactive confirmation; absent when non-interactive. */
  confirm?(question: string): Promise<boolean>;
}

export interface RunResult {
  /** The script was stopped by a script-terminating error or a parse error. */
  readonly terminated: boolean;
  /** Set by `exit N`. */
  readonly exitCode?: number;
}

/** Runs an external-style command (netsh) given its argument strings. */
export type NativeCommand = (session: Session, args: string[]) => Promise<number>;

export class Session {
  private readonly vars = new Map<string, Value>();
  lastSuccess = true;
  readonly errorLog: ErrorRecord[] = [];
  source: SourceInfo = { text: '', path: null };

  constructor(
    readonly controller: Controller,
    readonly host: ShellHost,
    readonly registry: Registry,
    readonly natives: ReadonlyMap<string, NativeCommand> = new Map(),
  ) {
    this.vars.set('erroractionpreference', 'Continue');
    this.vars.set('lastexitcode', 0);
  }

  getVar(name: string): Value {
    const n = name.toLowerCase();
    if (n === '?') return this.lastSuccess;
    if (n === 'error') return this.errorLog.slice().reverse().map(errorObject);
    if (n.startsWith('env:')) return process.env[name.slice(4)] ?? null;
    if (n === 'psitem') return this.vars.get('_') ?? null;
    return this.vars.get(n) ?? null;
  }

  setVar(name: string, v: Value): void {
    const n = name.toLowerCase();
    if (n.startsWith('env:')) { process.env[name.slice(4)] = toStr(v); return; }
    this.vars.set(n === 'psitem' ? '_' : n, v);
  }

  writeRecord(r: ErrorRecord): void {
    this.host.write(formatErrorRecord(r, this.source), 'error');
  }

  /** Runs a script (REPL line, -Command text or -File contents). */
  async run(text: string, path: string | null = null): Promise<RunResult> {
    this.source = { text, path };
    let statements: Statement[];
    try {
      statements = parseScript(text);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      const rec: ErrorRecord = { message: e.message, category: 'ParserError', fullyQualifiedErrorId: e.errorId, activity: '',
        targetName: '', targetType: '', exceptionType: 'ParentContainsErrorRecordException', span: { start: e.pos, end: e.end }, parseError: true };
      this.errorLog.push(rec);
      this.writeRecord(rec);
      this.lastSuccess = false;
      return { terminated: true };
    }
    for (const st of statements) {
      try {
        const out = await this.statement(st);
        const text = formatValues(out);
        if (text) this.host.write(text, 'output');
      } catch (e) {
        if (e instanceof StatementError) { this.fail(e.record); continue; }
        if (e instanceof ScriptError) { if (!e.alreadyShown) this.fail(e.record); this.lastSuccess = false; return { terminated: true }; }
        if (e instanceof ExitSignal) return { terminated: false, exitCode: e.code };
        throw e;
      }
    }
    return { terminated: false };
  }

  private fail(r: ErrorRecord): void {
    this.errorLog.push(r);
    this.writeRecord(r);
    this.lastSuccess = false;
  }

  async statements(body: Statement[]): Promise<Value[]> {
    const out: Value[] = [];
    for (const st of body) out.push(...(await this.statement(st)));
    return out;
  }

  private async statement(st: Statement): Promise<Value[]> {
    switch (st.kind) {
      case 'pipeline': return this.pipeline(st);
      case 'assign': {
        const v = collapse(await this.pipeline(st.value));
        if (st.target.kind !== 'var') throw this.statementError('Assignment to this kind of expression is not supported.', 'InvalidLeftHandSide', st.target.span);
        const cur = this.getVar(st.target.name);
        const next = st.op === '=' ? v : evalBinary(st.op === '+=' ? '+' : '-', cur, v);
        this.setVar(st.target.name, next);
        this.lastSuccess = true;
        return [];
      }
      case 'if':
        for (const c of st.clauses) {
          if (toBool(collapse(await this.pipeline(c.cond)))) return this.statements(c.body);
        }
        return st.elseBody ? this.statements(st.elseBody) : [];
      case 'foreach': {
        const out: Value[] = [];
        for (const item of unroll(collapse(await this.pipeline(st.collection)))) {
          this.setVar(st.variable, item);
          out.push(...(await this.statements(st.body)));
        }
        return out;
      }
      case 'exit': {
        const v = st.value ? collapse(await this.pipeline(st.value)) : 0;
        throw new ExitSignal(Math.trunc(toNumber(v) ?? 0));
      }
      case 'try': {
        const out: Value[] = [];
        try {
          out.push(...(await this.statements(st.body)));
        } catch (e) {
          const rec = e instanceof StatementError || e instanceof ScriptError ? e.record : null;
          if (!rec || !st.catchBody) throw e;
          this.errorLog.push(rec);
          const saved = this.vars.get('_');
          this.vars.set('_', errorObject(rec));
          try { out.push(...(await this.statements(st.catchBody))); } finally {
            if (saved === undefined) this.vars.delete('_'); else this.vars.set('_', saved);
          }
        } finally {
          if (st.finallyBody) out.push(...(await this.statements(st.finallyBody)));
        }
        return out;
      }
      case 'throw': {
        const v = st.value ? collapse(await this.pipeline(st.value)) : 'ScriptHalted';
        const msg = toStr(v);
        throw new ScriptError({ message: msg, category: 'OperationStopped', fullyQualifiedErrorId: msg, activity: '',
          targetName: msg, targetType: 'String', exceptionType: 'RuntimeException', span: st.span });
      }
    }
  }

  statementError(message: string, errorId: string, span: Span, category = 'InvalidOperation', activity = ''): StatementError {
    return new StatementError({ message, category, fullyQualifiedErrorId: errorId, activity, targetName: '', targetType: '',
      exceptionType: 'RuntimeException', span });
  }

  async pipeline(p: Pipeline, firstInput: Value[] | null = null): Promise<Value[]> {
    let input: Value[] | null = firstInput;
    for (let i = 0; i < p.elements.length; i++) {
      const el = p.elements[i];
      if (el.kind === 'expr') {
        if (i > 0) throw this.statementError('Expressions are only allowed as the first element of a pipeline.', 'ExpressionsMustBeFirstInPipeline', el.span, 'ParserError');
        input = unroll(await this.eval(el.expr));
        this.lastSuccess = true;
      } else {
        input = await this.command(el, i === 0 ? null : input ?? []);
      }
    }
    return input ?? [];
  }

  private async argValues(args: CommandArg[]): Promise<ArgValue[]> {
    const out: ArgValue[] = [];
    for (const a of args) {
      if (a.kind === 'param') {
        out.push({ kind: 'param', name: a.name, hasValue: a.value !== undefined, value: a.value ? await this.eval(a.value) : undefined, span: a.span });
      } else {
        out.push({ kind: 'value', hasValue: true, value: await this.eval(a.expr), span: a.span });
      }
    }
    return out;
  }

  private async command(el: Extract<PipelineElement, { kind: 'command' }>, input: Value[] | null): Promise<Value[]> {
    const native = this.natives.get(el.name.toLowerCase().replace(/\.exe$/, ''));
    if (native) {
      const args = await this.argValues(el.args);
      const words = args.flatMap((a) => (a.kind === 'param' ? [`-${a.name}`, ...(a.hasValue ? [toStr(a.value!)] : [])] : unroll(a.value!).map(toStr)));
      const code = await native(this, words);
      this.setVar('LASTEXITCODE', code);
      this.lastSuccess = code === 0;
      return [];
    }
    const def = this.registry.find(el.name);
    if (!def) {
      throw new StatementError({
        message: `The term '${el.name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
        category: 'ObjectNotFound', fullyQualifiedErrorId: 'CommandNotFoundException', activity: el.name, categoryActivity: '',
        targetName: el.name, targetType: 'String', exceptionType: 'CommandNotFoundException', span: el.nameSpan,
      });
    }
    const params: ParamDef[] = [...def.params, ...COMMON_PARAMS, ...(def.shouldProcess ? SHOULD_PROCESS_PARAMS : [])];
    const bindFail = (e: BindingError) => new StatementError({
      message: e.record.message, category: e.record.category, fullyQualifiedErrorId: `${e.record.errorId},${def.type}`,
      activity: def.name, targetName: e.record.targetName, targetType: e.record.targetType, exceptionType: e.record.exceptionType,
      span: e.record.span ?? el.span,
    });
    let bound: Bound;
    try {
      bound = bindArguments(params, await this.argValues(el.args));
    } catch (e) {
      if (e instanceof BindingError) throw bindFail(e);
      throw e;
    }
    const pref = bound.str('ErrorAction') ?? toStr(this.getVar('ErrorActionPreference'));
    const silenced = el.redirections.some((r) => r.target === 'null' && (r.stream === 'error' || r.stream === 'all'));
    const out: Value[] = [];
    let hadError = false;
    const mkCtx = (b: Bound, inp: Value[]): CmdletContext => {
      const ctx: CmdletContext = {
        session: this, def, bound: b, input: inp, fromPipeline: input !== null,
        write: (v) => { out.push(v); },
        error: (e: ManagementError) => {
          hadError = true;
          const rec: ErrorRecord = {
            message: e.message, category: e.category, fullyQualifiedErrorId: `${e.errorId},${def.type}`, activity: def.name,
            targetName: e.targetName, targetType: e.targetType, exceptionType: e.exceptionType, span: el.span,
          };
          if (pref === 'Ignore') return;
          this.errorLog.push(rec);
          if (pref === 'Stop') throw new ScriptError(rec);
          if (pref !== 'SilentlyContinue' && !silenced) this.writeRecord(rec);
        },
        record: (rec: ErrorRecord) => {
          hadError = true;
          if (pref === 'Ignore') return;
          this.errorLog.push(rec);
          if (pref === 'Stop') throw new ScriptError(rec);
          if (pref !== 'SilentlyContinue' && !silenced) this.writeRecord(rec);
        },
        warn: (m) => {
          const wpref = b.str('WarningAction') ?? 'Continue';
          if (wpref !== 'SilentlyContinue' && wpref !== 'Ignore') this.host.write(`WARNING: ${m}\n`, 'warning');
        },
        shouldProcess: async (target, operation = def.name) => {
          if (b.sw('WhatIf')) { this.host.write(`What if: Performing the operation "${operation}" on target "${target}".\n`, 'output'); return false; }
          // ConfirmImpact High (Remove-VM): an interactive user is asked unless -Force or -Confirm:$false.
          const highImpact = def.confirmImpact === 'High' && !b.sw('Force') && !(b.has('Confirm') && !b.sw('Confirm')) && this.host.confirm !== undefined;
          if (b.sw('Confirm') || highImpact) {
            const q = `Confirm\nAre you sure you want to perform this action?\nPerforming the operation "${operation}" on target "${target}".`;
            if (!this.host.confirm) throw this.statementError('PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.', `NonInteractive,${def.type}`, el.span, 'InvalidOperation', def.name);
            return this.host.confirm(q);
          }
          return true;
        },
        apply: async (action: Action, passThru = true): Promise<ActionResult> => {
          const r = await this.controller.apply(action);
          for (const w of r.warnings) ctx.warn(w);
          if (passThru) for (const o of r.output) out.push(fromView(o));
          for (const e of r.errors) ctx.error(e);
          return r;
        },
      };
      return ctx;
    };
    const wrap = async (f: () => Promise<void>) => {
      try { await f(); } catch (e) {
        if (e instanceof BindingError) throw bindFail(e);
        if (e instanceof ManagementError) { mkCtx(bound, []).error(e); return; }
        throw e;
      }
    };
    if (input === null || def.aggregate) {
      await wrap(async () => {
        checkMandatory(params, bound, el.span);
        await def.run(mkCtx(bound, input ?? []));
      });
    } else {
      for (const item of input) {
        const b = cloneBound(bound);
        await wrap(async () => {
          if (!bindPipelineObject(params, b, item)) throw inputNotBound(el.span);
          checkMandatory(params, b, el.span);
          await def.run(mkCtx(b, [item]));
        });
      }
    }
    this.lastSuccess = !hadError;
    return out;
  }

  /** Invokes a script block with $_ set (Where-Object, ForEach-Object). */
  async invokeBlock(sb: ScriptBlock, item: Value): Promise<Value[]> {
    const saved = this.vars.get('_');
    this.vars.set('_', item);
    try { return await this.statements(sb.body); } finally {
      if (saved === undefined) this.vars.delete('_'); else this.vars.set('_', saved);
    }
  }

  async eval(e: Expr): Promise<Value> {
    switch (e.kind) {
      case 'literal': return e.value;
      case 'expandable': return this.expand(e.raw);
      case 'var': return this.getVar(e.name);
      case 'member': return getMember(await this.eval(e.target), e.name);
      case 'invoke': {
        const target = await this.eval(e.target);
        const args: Value[] = [];
        for (const a of e.args) args.push(await this.eval(a));
        if (target instanceof ScriptBlock && e.name.toLowerCase() === 'invoke') return collapse(await this.invokeBlock(target, args[0] ?? null));
        return invokeMethod(target, e.name, args, (m) => this.statementError(m, 'MethodNotFound', e.span));
      }
      case 'index': {
        const t = await this.eval(e.target);
        const i = await this.eval(e.index);
        if (t instanceof Map) return getMember(t, toStr(i));
        const arr = typeof t === 'string' ? [...t] : unroll(t);
        const pick = (n: number) => arr[n < 0 ? arr.length + n : n] ?? null;
        return Array.isArray(i) ? i.map((x) => pick(toNumber(x) ?? 0)) : pick(toNumber(i) ?? 0);
      }
      case 'array': {
        const out: Value[] = [];
        for (const x of e.items) out.push(await this.eval(x));
        return out;
      }
      case 'sub': {
        const out = await this.statements(e.body);
        return e.array ? out : collapse(out);
      }
      case 'paren': return collapse(await this.pipeline(e.pipeline));
      case 'scriptblock': return new ScriptBlock(e.body, e.text);
      case 'hashtable': {
        const m = new Map<string, Value>();
        for (const en of e.entries) m.set(en.key, await this.eval(en.value));
        return m;
      }
      case 'unary': {
        const v = await this.eval(e.operand);
        if (e.op === 'not') return !toBool(v);
        const n = toNumber(v);
        if (n === null) throw this.statementError(`Cannot convert value "${toStr(v)}" to type "System.Int32".`, 'InvalidCastFromStringToInteger', e.span);
        return -n;
      }
      case 'binary': {
        const l = await this.eval(e.left);
        if (e.op === 'and') return toBool(l) && toBool(await this.eval(e.right));
        if (e.op === 'or') return toBool(l) || toBool(await this.eval(e.right));
        const r = await this.eval(e.right);
        if (e.op === 'match' || e.op === 'cmatch') {
          const m = evalBinary(e.op, l, r, (groups) => this.setVar('Matches', groups));
          return m;
        }
        try { return evalBinary(e.op, l, r); } catch (err) {
          throw this.statementError((err as Error).message, 'RuntimeException', e.span);
        }
      }
      case 'cast': {
        const v = await this.eval(e.operand);
        try { return evalCast(e.type, v); } catch (err) { throw this.statementError((err as Error).message, 'InvalidCast', e.span); }
      }
    }
  }

  private async expand(raw: string): Promise<string> {
    let s = '';
    for (const part of splitExpandable(raw)) {
      if (part.kind === 'text') s += part.text;
      else if (part.kind === 'var') s += toStr(this.getVar(part.name));
      else {
        const saved = this.source;
        try { s += toStr(collapse(await this.statements(parseScript(part.source)))); } finally { this.source = saved; }
      }
    }
    return s;
  }
}

function cloneBound(b: Bound): Bound {
  const c = new (b.constructor as new () => Bound)();
  for (const [k, v] of b.values) c.values.set(k, v);
  return c;
}

function errorObject(r: ErrorRecord): PSObject {
  return new PSObject('System.Management.Automation.ErrorRecord', {
    Exception: r.message, CategoryInfo: `${r.category}: (${r.targetName}:${r.targetType}) [${r.activity}], ${r.exceptionType}`,
    FullyQualifiedErrorId: r.fullyQualifiedErrorId, TargetObject: r.targetName || null,
  });
}
