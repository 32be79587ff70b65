/**
 * Recursive-descent parser for the PowerShell subset: statements, pipelines, commands in
 * command mode (barewords are strings, `-Name` is a parameter) and expressions in expression
 * mode (`-eq` is an operator), following PowerShell's two parsing modes.
 */
import type { CommandArg, Expr, Pipeline, PipelineElement, Redirection, Span, Statement } from './ast.js';
import { ParseError, tokenize, type Token } from './tokenizer.js';

const NUMBER = /^[-\u2013\u2014\u2015]?(0x[0-9a-f]+|\d+(\.\d+)?(e[+-]?\d+)?|\.\d+)(kb|mb|gb|tb|pb)?$/i;
const MULT: Record<string, number> = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };
export const COMPARISON = new Set([
  'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'like', 'notlike', 'match', 'notmatch', 'contains', 'notcontains', 'in', 'notin', 'f',
  'replace', 'split', 'join', 'is', 'isnot',
]);
const LOGICAL = new Set(['and', 'or', 'xor']);

export function parseNumber(text: string): number | null {
  if (!NUMBER.test(text)) return null;
  const m = /^([-\u2013\u2014\u2015]?)(.*?)(kb|mb|gb|tb|pb)?$/i.exec(text)!;
  const n = m[2].toLowerCase().startsWith('0x') ? parseInt(m[2], 16) : Number(m[2]);
  return (m[1] ? -1 : 1) * n * (m[3] ? MULT[m[3].toLowerCase()] : 1);
}

/** Strips PowerShell's case prefix: -ieq, -ceq -> eq (case-sensitivity flag returned). */
export function comparisonOp(name: string): { op: string; caseSensitive: boolean } | null {
  const n = name.toLowerCase();
  if (COMPARISON.has(n) || LOGICAL.has(n)) return { op: n, caseSensitive: false };
  if ((n[0] === 'i' || n[0] === 'c') && COMPARISON.has(n.slice(1))) return { op: n.slice(1), caseSensitive: n[0] === 'c' };
  return null;
}

export function parseScript(src: string): Statement[] {
  const p = new Parser(src, tokenize(src));
  const body = p.statements(new Set(['eof']));
  p.expectEof();
  return body;
}

class Parser {
  private i = 0;
  constructor(private readonly src: string, private readonly t: Token[]) {}

  private cur(): Token { return this.t[this.i]; }
  private peek(n = 1): Token { return this.t[Math.min(this.i + n, this.t.length - 1)]; }
  private next(): Token { return this.t[this.i++]; }
  private isOp(v: string, tok: Token = this.cur()): boolean { return tok.type === 'op' && tok.value === v; }
  private skipNewlines(): void { while (this.cur().type === 'newline') this.i++; }
  private span(start: number): Span { return { start, end: this.t[Math.max(0, this.i - 1)].end }; }

  private error(msg: string, id: string, tok: Token = this.cur()): never {
    throw new ParseError(msg, tok.start, Math.max(tok.end, tok.start + 1), id);
  }

  private expectOp(v: string, msg: string, id: string): Token {
    if (!this.isOp(v)) this.error(msg, id);
    return this.next();
  }

  expectEof(): void {
    if (this.cur().type !== 'eof') this.error(`Unexpected token '${this.cur().value}' in expression or statement.`, 'UnexpectedToken');
  }

  /** Statements until one of the closers (eof, `}` or `)`), separated by newlines and `;`. */
  statements(closers: Set<string>): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      while (this.cur().type === 'newline' || this.isOp(';')) this.i++;
      if (this.cur().type === 'eof' || (this.cur().type === 'op' && closers.has(this.cur().value))) return out;
      out.push(this.statement());
      if (!(this.cur().type === 'newline' || this.isOp(';') || this.cur().type === 'eof' || (this.cur().type === 'op' && closers.has(this.cur().value)))) {
        this.error(`Unexpected token '${this.cur().value}' in expression or statement.`, 'UnexpectedToken');
      }
    }
  }

  private statement(): Statement {
    const start = this.cur().start;
    if (this.cur().type === 'word') {
      const kw = this.cur().value.toLowerCase();
      if (kw === 'if') return this.ifStatement();
      if (kw === 'try' && this.isOp('{', this.peek())) return this.tryStatement();
      if (kw === 'foreach' && (this.isOp('(', this.peek()))) return this.foreachStatement();
      if (kw === 'exit' || kw === 'throw' || kw === 'return') {
        this.next();
        const value = this.atStatementEnd() ? undefined : this.pipeline();
        return { kind: kw === 'throw' ? 'throw' : 'exit', value, span: this.span(start) };
      }
    }
    if (this.cur().type === 'var') {
      const save = this.i;
      const target = this.postfix(this.primary());
      if (this.cur().type === 'op' && ['=', '+=', '-='].includes(this.cur().value)) {
        const op = this.next().value;
        this.skipNewlines();
        const value = this.pipeline();
        return { kind: 'assign', target, op, value, span: this.span(start) };
      }
      this.i = save;
    }
    return this.pipeline();
  }

  private atStatementEnd(): boolean {
    const k = this.cur();
    return k.type === 'eof' || k.type === 'newline' || (k.type === 'op' && [';', '}', ')'].includes(k.value));
  }

  private block(): Statement[] {
    this.skipNewlines();
    this.expectOp('{', "Missing statement block.", 'MissingStatementBlock');
    const body = this.statements(new Set(['}']));
    this.expectOp('}', "Missing closing '}' in statement block or type definition.", 'MissingEndCurlyBrace');
    return body;
  }

  private condition(): Pipeline {
    this.skipNewlines();
    this.expectOp('(', "Missing '(' after 'if' in if statement.", 'MissingOpenParenthesisInIfStatement');
    this.skipNewlines();
    const cond = this.pipeline();
    this.skipNewlines();
    this.expectOp(')', "Missing closing ')' after expression in 'if' statement.", 'MissingEndParenthesisAfterStatement');
    return cond;
  }

  private ifStatement(): Statement {
    const start = this.next().start;
    const clauses = [{ cond: this.condition(), body: this.block() }];
    let elseBody: Statement[] | undefined;
    for (;;) {
      const save = this.i;
      this.skipNewlines();
      const w = this.cur().type === 'word' ? this.cur().value.toLowerCase() : '';
      if (w === 'elseif') { this.next(); clauses.push({ cond: this.condition(), body: this.block() }); continue; }
      if (w === 'else') { this.next(); elseBody = this.block(); break; }
      this.i = save; break;
    }
    return { kind: 'if', clauses, elseBody, span: this.span(start) };
  }

  private tryStatement(): Statement {
    const start = this.next().start;
    const body = this.block();
    let catchBody: Statement[] | undefined;
    let finallyBody: Statement[] | undefined;
    const keyword = (w: string) => {
      const save = this.i;
      this.skipNewlines();
      if (this.cur().type === 'word' && this.cur().value.toLowerCase() === w) { this.next(); return true; }
      this.i = save;
      return false;
    };
    if (keyword('catch')) {
      // Exception type filters (`catch [System.Exception]`) are accepted and catch everything.
      while (this.isOp('[')) { while (!this.isOp(']') && this.cur().type !== 'eof') this.next(); this.next(); if (this.isOp(',')) this.next(); }
      catchBody = this.block();
    }
    if (keyword('finally')) finallyBody = this.block();
    if (!catchBody && !finallyBody) this.error('The Try statement is missing its Catch or Finally block.', 'MissingCatchOrFinally');
    return { kind: 'try', body, catchBody, finallyBody, span: this.span(start) };
  }

  private foreachStatement(): Statement {
    const start = this.next().start;
    this.expectOp('(', "Missing opening '(' after keyword 'foreach'.", 'MissingOpenParenthesisAfterKeyword');
    if (this.cur().type !== 'var') this.error('Missing variable name after foreach.', 'MissingVariableNameAfterForeach');
    const variable = this.next().value;
    if (!(this.cur().type === 'word' && this.cur().value.toLowerCase() === 'in')) this.error("Missing 'in' after variable in foreach loop.", 'MissingInInForeach');
    this.next();
    const collection = this.pipeline();
    this.expectOp(')', "Missing closing ')' after expression in 'foreach' statement.", 'MissingEndParenthesisAfterForeach');
    return { kind: 'foreach', variable, collection, body: this.block(), span: this.span(start) };
  }

  pipeline(): Pipeline {
    const start = this.cur().start;
    const elements: PipelineElement[] = [this.element()];
    while (this.isOp('|')) {
      this.next();
      this.skipNewlines();
      if (this.atStatementEnd()) this.error('An empty pipe element is not allowed.', 'EmptyPipeElement');
      elements.push(this.element());
    }
    return { kind: 'pipeline', elements, span: this.span(start) };
  }

  private element(): PipelineElement {
    const k = this.cur();
    const start = k.start;
    if (k.type === 'op' && k.value === '&') {
      this.next();
      const nameTok = this.next();
      return this.command(nameTok.value, { start: nameTok.start, end: nameTok.end }, start);
    }
    if (k.type === 'word' && parseNumber(k.value) === null) {
      this.next();
      return this.command(k.value, { start: k.start, end: k.end }, start);
    }
    if (this.atStatementEnd()) this.error('An expression was expected after \'|\' or at the start of the statement.', 'ExpectedExpression');
    const expr = this.expression();
    return { kind: 'expr', expr, span: this.span(start) };
  }

  private command(name: string, nameSpan: Span, start: number): PipelineElement {
    const args: CommandArg[] = [];
    const redirections: Redirection[] = [];
    for (;;) {
      const k = this.cur();
      if (k.type === 'eof' || k.type === 'newline' || (k.type === 'op' && ['|', ';', ')', '}'].includes(k.value))) break;
      if (k.type === 'param') {
        this.next();
        if (k.colon) {
          const value = this.commandArgument();
          args.push({ kind: 'param', name: k.value, value, span: { start: k.start, end: value.span.end } });
        } else args.push({ kind: 'param', name: k.value, span: { start: k.start, end: k.end } });
        continue;
      }
      if (k.type === 'op' && /^[12*]?>/.test(k.value)) {
        redirections.push(this.redirection());
        continue;
      }
      const expr = this.commandArgument();
      args.push({ kind: 'value', expr, span: expr.span });
    }
    return { kind: 'command', name, nameSpan, args, redirections, span: this.span(start) };
  }

  private redirection(): Redirection {
    const k = this.next();
    const stream = k.value.startsWith('2') ? 'error' : k.value.startsWith('*') ? 'all' : 'output';
    if (k.value.endsWith('&1')) return { stream, target: 'output', span: { start: k.start, end: k.end } };
    const target = this.cur();
    if (target.type === 'var' && target.value.toLowerCase() === 'null') {
      this.next();
      return { stream, target: 'null', span: { start: k.start, end: target.end } };
    }
    this.error('Redirection to files is not supported by Nestvisor; use Out-Null or $null.', 'RedirectionNotSupported');
  }

  /** One command-mode argument: a word, string, variable, (…), $(…), @(…), {…}, joined by commas. */
  private commandArgument(): Expr {
    const start = this.cur().start;
    const items = [this.commandPrimary()];
    while (this.isOp(',')) {
      this.next();
      this.skipNewlines();
      items.push(this.commandPrimary());
    }
    return items.length === 1 ? items[0] : { kind: 'array', items, span: this.span(start) };
  }

  private commandPrimary(): Expr {
    const k = this.cur();
    if (k.type === 'word') {
      this.next();
      // A command-mode word with a decimal point and no KB/MB/GB suffix keeps its text: it is
      // far more often a version (`-Version 8.0`) than a fraction, and binding converts it anyway.
      const n = /\.\d/.test(k.value) && !/[kmgtp]b$/i.test(k.value) ? null : parseNumber(k.value);
      return { kind: 'literal', value: n ?? k.value, span: { start: k.start, end: k.end } };
    }
    if (k.type === 'op' && ['*', '/', '+', '-', '!', '=', '%'].includes(k.value)) {
      // In command mode a lone operator character is an argument (`Format-List *`).
      this.next();
      return { kind: 'literal', value: k.value, span: { start: k.start, end: k.end } };
    }
    if (k.type === 'param') {
      // e.g. a negative-looking bareword after a comma: treat as text.
      this.next();
      return { kind: 'literal', value: '-' + k.value, span: { start: k.start, end: k.end } };
    }
    return this.postfix(this.primary());
  }

  // ---- expression mode ----

  expression(): Expr { return this.logical(); }

  private binaryLoop(operand: () => Expr, isOp: (t: Token) => string | null): Expr {
    let left = operand();
    for (;;) {
      const op = isOp(this.cur());
      if (!op) return left;
      this.next();
      this.skipNewlines();
      const right = operand();
      left = { kind: 'binary', op, left, right, span: { start: left.span.start, end: right.span.end } };
    }
  }

  private logical(): Expr {
    return this.binaryLoop(() => this.comparison(), (t) => (t.type === 'param' && LOGICAL.has(t.value.toLowerCase()) ? t.value.toLowerCase() : null));
  }

  private comparison(): Expr {
    return this.binaryLoop(() => this.additive(), (t) => {
      if (t.type !== 'param') return null;
      const c = comparisonOp(t.value);
      return c && !LOGICAL.has(c.op) ? (c.caseSensitive ? 'c' : '') + c.op : null;
    });
  }

  private additive(): Expr {
    return this.binaryLoop(() => this.multiplicative(), (t) => (t.type === 'op' && (t.value === '+' || t.value === '-') ? t.value : null));
  }

  private multiplicative(): Expr {
    return this.binaryLoop(() => this.commaList(), (t) => (t.type === 'op' && ['*', '/', '%'].includes(t.value) ? t.value : null));
  }

  private commaList(): Expr {
    const first = this.unary();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) { this.next(); this.skipNewlines(); items.push(this.unary()); }
    return { kind: 'array', items, span: { start: first.span.start, end: items[items.length - 1].span.end } };
  }

  private unary(): Expr {
    const k = this.cur();
    if ((k.type === 'param' && k.value.toLowerCase() === 'not') || (k.type === 'op' && (k.value === '!' || k.value === '-'))) {
      this.next();
      const operand = this.unary();
      return { kind: 'unary', op: k.value === '-' ? '-' : 'not', operand, span: { start: k.start, end: operand.span.end } };
    }
    if (k.type === 'op' && k.value === '[' ) {
      this.next();
      const type = this.cur().value;
      this.next();
      this.expectOp(']', "Missing ']' after type name.", 'EndSquareBracketExpectedAtEndOfType');
      const operand = this.unary();
      return { kind: 'cast', type: type.toLowerCase(), operand, span: { start: k.start, end: operand.span.end } };
    }
    return this.postfix(this.primary());
  }

  private primary(): Expr {
    const k = this.cur();
    const sp = { start: k.start, end: k.end };
    switch (k.type) {
      case 'word': {
        const n = parseNumber(k.value);
        if (n === null) this.error(`Unexpected token '${k.value}' in expression or statement.`, 'UnexpectedToken');
        this.next();
        return { kind: 'literal', value: n, span: sp };
      }
      case 'string':
        this.next();
        return k.expandable ? { kind: 'expandable', raw: k.value, span: sp } : { kind: 'literal', value: k.value, span: sp };
      case 'var': {
        this.next();
        const lower = k.value.toLowerCase();
        if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true', span: sp };
        if (lower === 'null') return { kind: 'literal', value: null, span: sp };
        return { kind: 'var', name: k.value, span: sp };
      }
      case 'op':
        if (k.value === '(') {
          this.next(); this.skipNewlines();
          const pipeline = this.isOp(')') ? this.error('An expression was expected after \'(\'.', 'ExpectedExpression') : this.pipeline();
          this.skipNewlines();
          this.expectOp(')', "Missing closing ')' in expression.", 'MissingEndParenthesisInExpression');
          return { kind: 'paren', pipeline, span: this.span(k.start) };
        }
        if (k.value === '$(' || k.value === '@(') {
          this.next();
          const body = this.statements(new Set([')']));
          this.expectOp(')', "Missing closing ')' in subexpression.", 'MissingEndParenthesisInSubexpression');
          return { kind: 'sub', body, array: k.value === '@(', span: this.span(k.start) };
        }
        if (k.value === '{') {
          this.next();
          const body = this.statements(new Set(['}']));
          const close = this.expectOp('}', "Missing closing '}' in statement block or type definition.", 'MissingEndCurlyBrace');
          return { kind: 'scriptblock', body, text: this.src.slice(k.end, close.start), span: this.span(k.start) };
        }
        if (k.value === '@{') return this.hashtable();
        break;
      default: break;
    }
    if (k.type === 'eof' || k.type === 'newline') this.error('You must provide a value expression following the operator.', 'ExpectedValueExpression');
    this.error(`Unexpected token '${k.value}' in expression or statement.`, 'UnexpectedToken');
  }

  private hashtable(): Expr {
    const start = this.next().start;
    const entries: Array<{ key: string; value: Expr }> = [];
    for (;;) {
      while (this.cur().type === 'newline' || this.isOp(';')) this.i++;
      if (this.isOp('}')) break;
      const key = this.cur();
      if (key.type !== 'word' && key.type !== 'string') this.error('Missing key before \'=\' in hash literal.', 'MissingEqualsInHashLiteral');
      this.next();
      // `@{Name="x"}` tokenizes as the word `Name=` (command-mode words keep `=`, for netsh's `address=`).
      const eq = key.type === 'word' ? key.value.indexOf('=') : -1;
      if (eq > 0) {
        const keyName = key.value.slice(0, eq);
        const rest = key.value.slice(eq + 1);
        if (rest !== '') {
          entries.push({ key: keyName, value: { kind: 'literal', value: parseNumber(rest) ?? rest, span: { start: key.start + eq + 1, end: key.end } } });
          continue;
        }
        this.skipNewlines();
        entries.push({ key: keyName, value: this.hashValue() });
        continue;
      }
      this.expectOp('=', "Missing '=' operator after key in hash literal.", 'MissingEqualsInHashLiteral');
      this.skipNewlines();
      entries.push({ key: key.value, value: this.hashValue() });
    }
    this.next();
    return { kind: 'hashtable', entries, span: this.span(start) };
  }

  private hashValue(): Expr {
    return this.cur().type === 'word' && parseNumber(this.cur().value) === null ? this.commandPrimary() : this.expression();
  }


  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.isOp('.') && this.peek().type === 'member') {
        this.next();
        const m = this.next();
        if (this.isOp('(') && !this.cur().spaceBefore) {
          this.next();
          const args: Expr[] = [];
          this.skipNewlines();
          while (!this.isOp(')')) {
            args.push(this.unary());
            this.skipNewlines();
            if (this.isOp(',')) { this.next(); this.skipNewlines(); }
            else if (!this.isOp(')')) this.error("Missing ')' in method call.", 'MissingEndParenthesisInMethodCall');
          }
          this.next();
          e = { kind: 'invoke', target: e, name: m.value, args, span: { start: e.span.start, end: this.t[this.i - 1].end } };
        } else e = { kind: 'member', target: e, name: m.value, span: { start: e.span.start, end: m.end } };
        continue;
      }
      if (this.isOp('[') && !this.cur().spaceBefore) {
        this.next();
        const index = this.expression();
        this.expectOp(']', "Array index expression is missing or not valid.", 'MissingArrayIndexExpression');
        e = { kind: 'index', target: e, index, span: { start: e.span.start, end: this.t[this.i - 1].end } };
        continue;
      }
      return e;
    }
  }
}
