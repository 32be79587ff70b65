/**
 * PowerShell error records as Windows PowerShell prints them (its "NormalView"):
 *
 *   Set-VMProcessor : Failed to modify device 'Processor'.
 *   At line:1 char:1
 *   + Set-VMProcessor -VMName L1 -ExposeVirtualizationExtensions $true
 *   + ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
 *       + CategoryInfo          : InvalidOperation: (:) [Set-VMProcessor], VirtualizationException
 *       + FullyQualifiedErrorId : InvalidOperation,Microsoft.HyperV.PowerShell.Commands.SetVMProcessor
 *
 * The position lines come from the script source, never a stack trace.
 */
import type { Span } from './ast.js';

export interface ErrorRecord {
  readonly message: string;
  readonly category: string;
  /** The full FullyQualifiedErrorId, e.g. `InvalidOperation,Microsoft.HyperV.PowerShell.Commands.SetVMProcessor`. */
  readonly fullyQualifiedErrorId: string;
  /** The cmdlet name shown before the message and in CategoryInfo's brackets ('' for none). */
  readonly activity: string;
  readonly targetName: string;
  readonly targetType: string;
  readonly exceptionType: string;
  readonly span?: Span;
  /** What CategoryInfo shows in brackets when it differs from the activity (e.g. [] for command-not-found). */
  readonly categoryActivity?: string;
  /** Parse errors print the position before the message. */
  readonly parseError?: boolean;
  /** Set on records that come back from a VM (Invoke-Command -VMName): shown as remoting shows them. */
  readonly computerName?: string;
}

export interface SourceInfo {
  readonly text: string;
  /** null for interactive input and -Command ("At line:1 char:5"); the script path for -File. */
  readonly path: string | null;
}

/** Terminates the current statement (binding errors, command not found): the script goes on. */
export class StatementError extends Error {
  constructor(readonly record: ErrorRecord) { super(record.message); }
}

/** Terminates the whole script (throw, -ErrorAction Stop). */
export class ScriptError extends Error {
  constructor(readonly record: ErrorRecord, readonly alreadyShown = false) { super(record.message); }
}

export class ExitSignal extends Error {
  constructor(readonly code: number) { super(`exit ${code}`); }
}

function position(src: SourceInfo, span: Span): string[] {
  const before = src.text.slice(0, span.start);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  let lineEnd = src.text.indexOf('\n', span.start);
  if (lineEnd < 0) lineEnd = src.text.length;
  const lineText = src.text.slice(lineStart, lineEnd).replace(/\r$/, '');
  const col = span.start - lineStart;
  const width = Math.max(1, Math.min(span.end, lineEnd) - span.start);
  const where = src.path ? `At ${src.path}:${line} char:${col + 1}` : `At line:${line} char:${col + 1}`;
  return [where, `+ ${lineText}`, `+ ${' '.repeat(col)}${'~'.repeat(width)}`];
}

export function formatErrorRecord(r: ErrorRecord, src?: SourceInfo): string {
  const lines: string[] = [];
  const pos = r.span && src ? position(src, r.span) : [];
  const target = r.targetName || r.targetType ? `${r.targetName}:${r.targetType}` : ':';
  const info = [
    `    + CategoryInfo          : ${r.category}: (${target}) [${r.categoryActivity ?? r.activity}], ${r.exceptionType}`,
    `    + FullyQualifiedErrorId : ${r.fullyQualifiedErrorId}`,
  ];
  if (r.computerName !== undefined) {
    // a remote error: no local position, no "Cmdlet :" prefix, and the computer it came from
    lines.push(r.message, ...info, `    + PSComputerName        : ${r.computerName}`);
  } else if (r.parseError) {
    lines.push(...pos, r.message, ...info);
  } else {
    lines.push(r.activity ? `${r.activity} : ${r.message}` : r.message, ...pos, ...info);
  }
  return lines.join('\n') + '\n';
}
