/**
 * What a cmdlet is to the shell: its name, parameters (for binding, Get-Help and tab
 * completion), the .NET type that implements it in Windows (for FullyQualifiedErrorId), and a
 * `run` that binds into a management Action or works on pipeline values. The shell stays thin:
 * Hyper-V cmdlets only translate parameters into actions (STYLE habit 9).
 */
import type { Action, ActionResult } from '../management/actions.js';
import type { ManagementError } from '../management/errors.js';
import type { Bound, ParamDef } from './binder.js';
import type { Session } from './session.js';
import type { Value } from './values.js';

export interface CmdletContext {
  readonly session: Session;
  readonly def: CmdletDef;
  readonly bound: Bound;
  /** Aggregate cmdlets: all pipeline input; others: the current object (or nothing). */
  readonly input: Value[];
  /** True when the cmdlet is not first in its pipeline. */
  readonly fromPipeline: boolean;
  write(v: Value): void;
  error(e: ManagementError): void;
  /** Writes an error record made elsewhere (a guest's, for Invoke-Command), honouring -ErrorAction. */
  record(rec: import('./records.js').ErrorRecord): void;
  warn(message: string): void;
  /** -WhatIf / -Confirm: false when the operation must not happen. */
  shouldProcess(target: string, operation?: string): Promise<boolean>;
  /** Sends an action to the controller and writes its output, warnings and errors. */
  apply(action: Action, passThru?: boolean): Promise<ActionResult>;
}

export interface CmdletDef {
  readonly name: string;
  readonly module: string;
  /** e.g. Microsoft.HyperV.PowerShell.Commands.SetVMProcessor; FQIDs end with it. */
  readonly type: string;
  readonly synopsis: string;
  readonly params: readonly ParamDef[];
  readonly examples: readonly string[];
  /** Has -WhatIf and -Confirm. */
  readonly shouldProcess?: boolean;
  /** 'High': an interactive user is asked before the operation unless -Force (Remove-VM). */
  readonly confirmImpact?: 'High';
  /** Receives the whole pipeline input in one call (Sort-Object, Format-Table...). */
  readonly aggregate?: boolean;
  readonly aliases?: readonly string[];
  run(ctx: CmdletContext): Promise<void>;
}

export class Registry {
  private readonly byName = new Map<string, CmdletDef>();
  private readonly aliases = new Map<string, CmdletDef>();

  add(...defs: CmdletDef[]): this {
    for (const d of defs) {
      this.byName.set(d.name.toLowerCase(), d);
      for (const a of d.aliases ?? []) this.aliases.set(a.toLowerCase(), d);
    }
    return this;
  }

  find(name: string): CmdletDef | undefined {
    const n = name.toLowerCase();
    return this.byName.get(n) ?? this.aliases.get(n);
  }

  all(): CmdletDef[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
