/**
 * The syntax tree of the PowerShell subset. Positions are offsets into the source so that
 * error records can print `At line:N char:M` and underline the culprit, as PowerShell does.
 */
export interface Span { start: number; end: number }

export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null; span: Span }
  | { kind: 'expandable'; raw: string; span: Span }
  | { kind: 'var'; name: string; span: Span }
  | { kind: 'member'; target: Expr; name: string; span: Span }
  | { kind: 'invoke'; target: Expr; name: string; args: Expr[]; span: Span }
  | { kind: 'index'; target: Expr; index: Expr; span: Span }
  | { kind: 'array'; items: Expr[]; span: Span }
  | { kind: 'sub'; body: Statement[]; array: boolean; span: Span }
  | { kind: 'paren'; pipeline: Pipeline; span: Span }
  | { kind: 'scriptblock'; body: Statement[]; text: string; span: Span }
  | { kind: 'hashtable'; entries: Array<{ key: string; value: Expr }>; span: Span }
  | { kind: 'unary'; op: string; operand: Expr; span: Span }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; span: Span }
  | { kind: 'cast'; type: string; operand: Expr; span: Span };

export type CommandArg =
  | { kind: 'param'; name: string; value?: Expr; span: Span }
  | { kind: 'value'; expr: Expr; span: Span };

export interface Redirection { stream: 'error' | 'output' | 'all'; target: 'null' | 'output'; span: Span }

export type PipelineElement =
  | { kind: 'command'; name: string; nameSpan: Span; args: CommandArg[]; redirections: Redirection[]; span: Span }
  | { kind: 'expr'; expr: Expr; span: Span };

export interface Pipeline { kind: 'pipeline'; elements: PipelineElement[]; span: Span }

export type Statement =
  | Pipeline
  | { kind: 'assign'; target: Expr; op: string; value: Pipeline; span: Span }
  | { kind: 'if'; clauses: Array<{ cond: Pipeline; body: Statement[] }>; elseBody?: Statement[]; span: Span }
  | { kind: 'foreach'; variable: string; collection: Pipeline; body: Statement[]; span: Span }
  | { kind: 'try'; body: Statement[]; catchBody?: Statement[]; finallyBody?: Statement[]; span: Span }
  | { kind: 'exit'; value?: Pipeline; span: Span }
  | { kind: 'throw'; value?: Pipeline; span: Span };
