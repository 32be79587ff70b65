/**
 * The PowerShell subset's tokenizer. Hand-written rather than tree-sitter-powershell because
 * the seed's commands must work pasted from the web page: PowerShell itself treats – — ― as
 * dashes and “ ” ‘ ’ as quotes, and a grammar that does not would reject
 * `New-NetNat –Name LocalNAT –InternalIPInterfaceAddressPrefix “192.168.100.0/24”`; it also
 * needs command-mode words (`address=10.0.0.1`, `192.168.100.1`) and error positions in
 * PowerShell's own form, which are simpler to own than to recover from a foreign parse tree.
 */

export type TokenType = 'word' | 'param' | 'var' | 'string' | 'op' | 'newline' | 'eof' | 'member';

export interface Token {
  type: TokenType;
  /** word/member: the text; param: the name without dash; var: the name; string: the value (raw for expandable); op: the operator. */
  value: string;
  start: number;
  end: number;
  /** Whitespace (or start of input) precedes the token: `$a .b` is not member access. */
  spaceBefore: boolean;
  /** param only: written `-Name:value`. */
  colon?: boolean;
  /** string only: double-quoted (variables expand). */
  expandable?: boolean;
}

export class ParseError extends Error {
  constructor(message: string, readonly pos: number, readonly end: number, readonly errorId: string) {
    super(message);
    this.name = 'ParseError';
  }
}

export const DASHES = '-\u2013\u2014\u2015';
const DQUOTES = '"\u201c\u201d\u201e';
const SQUOTES = '\'\u2018\u2019\u201a\u201b';
/** Characters that end a bareword in command mode. */
const WORD_BREAK = new Set([...' \t\r\n;|(){},', '\u00a0']);

const isDash = (c: string | undefined) => c !== undefined && DASHES.includes(c);
const isIdentStart = (c: string | undefined) => c !== undefined && /[A-Za-z_?]/.test(c);
const isIdent = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let space = true;
  /** Inside `[...]` (an index or a type), `]` ends a word: `$list[-1]`. */
  let brackets = 0;
  const push = (t: Omit<Token, 'spaceBefore'>) => { out.push({ ...t, spaceBefore: space }); space = false; };
  const prev = () => out[out.length - 1];
  /** Member access follows a value with no space between: `$vm.State`, `(...).Count`, `$a[0].Name`. */
  const afterValue = () => {
    const p = prev();
    return !space && p !== undefined && (p.type === 'var' || p.type === 'member' || (p.type === 'op' && (p.value === ')' || p.value === ']')));
  };

  while (i < src.length) {
    const c = src[i];
    // backtick line continuation
    if (c === '`' && (src[i + 1] === '\n' || (src[i + 1] === '\r' && src[i + 2] === '\n'))) {
      i += src[i + 1] === '\r' ? 3 : 2; space = true; continue;
    }
    if (c === ' ' || c === '\t' || c === '\u00a0' || c === '\r' || c === '\ufeff') { i++; space = true; continue; }
    if (c === '\n') { push({ type: 'newline', value: '\n', start: i, end: i + 1 }); i++; space = true; continue; }
    if (c === '#') { while (i < src.length && src[i] !== '\n') i++; space = true; continue; }
    if (c === '<' && src[i + 1] === '#') {
      const e = src.indexOf('#>', i + 2);
      if (e < 0) throw new ParseError('The string is missing the terminator: #>.', i, src.length, 'TerminatorExpectedAtEndOfString');
      i = e + 2; space = true; continue;
    }
    const start = i;
    if (c === '.' && afterValue() && isIdentStart(src[i + 1])) {
      push({ type: 'op', value: '.', start, end: i + 1 }); i++;
      const s = i; while (isIdent(src[i])) i++;
      out.push({ type: 'member', value: src.slice(s, i), start: s, end: i, spaceBefore: false });
      continue;
    }
    if (c === '[' && afterValue()) { push({ type: 'op', value: '[', start, end: i + 1 }); i++; brackets++; continue; }
    if (c === '@' && (DQUOTES.includes(src[i + 1]) || SQUOTES.includes(src[i + 1])) && /^[ \t]*\r?\n/.test(src.slice(i + 2))) {
      i = hereString(src, i, push); continue;
    }
    if (DQUOTES.includes(c) || SQUOTES.includes(c)) { i = quoted(src, i, push); continue; }
    if (c === '$') {
      const n = src[i + 1];
      if (n === '(') { push({ type: 'op', value: '$(', start, end: i + 2 }); i += 2; continue; }
      if (n === '{') {
        const e = src.indexOf('}', i + 2);
        if (e < 0) throw new ParseError('Missing closing \'}\' in variable name.', i, src.length, 'MissingEndCurlyBrace');
        push({ type: 'var', value: src.slice(i + 2, e), start, end: e + 1 }); i = e + 1; continue;
      }
      if (n === '?' || n === '_' || n === '$' || n === '^') {
        if (n === '_' && isIdent(src[i + 2])) { /* $_foo is a name */ } else {
          push({ type: 'var', value: n, start, end: i + 2 }); i += 2; continue;
        }
      }
      if (isIdent(n)) {
        let e = i + 1; while (isIdent(src[e])) e++;
        if (src[e] === ':' && isIdent(src[e + 1]) && /^(env|global|script|local|variable)$/i.test(src.slice(i + 1, e))) {
          e++; while (isIdent(src[e])) e++;
        }
        push({ type: 'var', value: src.slice(i + 1, e), start, end: e }); i = e; continue;
      }
    }
    if (c === '@' && (src[i + 1] === '(' || src[i + 1] === '{')) { push({ type: 'op', value: '@' + src[i + 1], start, end: i + 2 }); i += 2; continue; }
    if ('(){};|,'.includes(c) || c === ']' || (c === '[' && space)) {
      if (c === '[') brackets++;
      if (c === ']' && brackets > 0) brackets--;
      push({ type: 'op', value: c, start, end: i + 1 }); i++; continue;
    }
    if (isDash(c)) {
      const n = src[i + 1];
      if (isIdentStart(n)) {
        let e = i + 1; while (e < src.length && !WORD_BREAK.has(src[e]) && src[e] !== ':' && !DQUOTES.includes(src[e]) && !SQUOTES.includes(src[e]) && src[e] !== '.' ) e++;
        const colon = src[e] === ':';
        push({ type: 'param', value: src.slice(i + 1, e), start, end: colon ? e + 1 : e, colon });
        i = colon ? e + 1 : e; continue;
      }
      if (n === '=' ) { push({ type: 'op', value: '-=', start, end: i + 2 }); i += 2; continue; }
      if (!/[0-9.]/.test(n ?? '')) { push({ type: 'op', value: '-', start, end: i + 1 }); i++; continue; }
    }
    // `*` and `/` are operators only when they stand alone (`3 * 4`); `*NetNat*` and `/tmp/k` are words.
    const standsAlone = (k: number) => k >= src.length || /[\s$(0-9]/.test(src[k]);
    if (c === '=' || c === '!' || ((c === '*' || c === '/') && (standsAlone(i + 1) || src[i + 1] === '=')) || c === '%' || (c === '+' && !/[0-9]/.test(src[i + 1] ?? ''))) {
      if (src[i + 1] === '=' && c !== '!') { push({ type: 'op', value: c + '=', start, end: i + 2 }); i += 2; continue; }
      if (c === '%' || c === '*' || c === '/' ) {
        // `%` and `?` are also aliases (ForEach-Object, Where-Object) when they start a command.
        if (c === '%' && (WORD_BREAK.has(src[i + 1] ?? ' '))) { push({ type: 'word', value: '%', start, end: i + 1 }); i++; continue; }
      }
      push({ type: 'op', value: c, start, end: i + 1 }); i++; continue;
    }
    if (c === '&' ) { push({ type: 'op', value: '&', start, end: i + 1 }); i++; continue; }
    if (c === '>' || (c === '2' && src[i + 1] === '>')) {
      let e = i; while ('>&12*'.includes(src[e] ?? '') && e < i + 4) e++;
      push({ type: 'op', value: src.slice(i, e), start, end: e }); i = e; continue;
    }
    // a bareword: command name, argument, number
    let e = i;
    while (e < src.length && !WORD_BREAK.has(src[e]) && !(e > i && DQUOTES.includes(src[e])) && !(e > i && SQUOTES.includes(src[e]))) {
      if (src[e] === '`' && e + 1 < src.length) { e += 2; continue; }
      if (src[e] === '.' && e > i && src[e + 1] === '.' ) break;
      if (src[e] === '=' && e > i && src[e - 1] === ' ') break;
      if (src[e] === '[' && e > i && /^[0-9]+\]/.test(src.slice(e + 1))) break;
      if (src[e] === ']' && brackets > 0) break;
      e++;
    }
    if (e === i) e = i + 1;
    push({ type: 'word', value: src.slice(i, e).replace(/`(.)/g, '$1'), start, end: e });
    i = e;
  }
  out.push({ type: 'eof', value: '', start: src.length, end: src.length, spaceBefore: true });
  return out;
}

function quoted(src: string, i: number, push: (t: Omit<Token, 'spaceBefore'>) => void): number {
  const dq = DQUOTES.includes(src[i]);
  const set = dq ? DQUOTES : SQUOTES;
  let j = i + 1;
  let raw = '';
  for (;;) {
    if (j >= src.length) throw new ParseError(`The string is missing the terminator: ${dq ? '"' : "'"}.`, i, src.length, 'TerminatorExpectedAtEndOfString');
    const c = src[j];
    if (dq && c === '`' && j + 1 < src.length) { raw += c + src[j + 1]; j += 2; continue; }
    if (dq && c === '$' && src[j + 1] === '(') {
      // keep a subexpression whole, quotes inside it included
      let depth = 0; const s = j;
      for (j += 1; j < src.length; j++) {
        if (src[j] === '(') depth++;
        else if (src[j] === ')' && --depth === 0) { j++; break; }
      }
      raw += src.slice(s, j); continue;
    }
    if (set.includes(c)) {
      if (j + 1 < src.length && set.includes(src[j + 1])) { raw += dq ? '`"' : "'"; j += 2; continue; }
      break;
    }
    raw += c; j++;
  }
  push({ type: 'string', value: raw, start: i, end: j + 1, expandable: dq });
  return j + 1;
}

function hereString(src: string, i: number, push: (t: Omit<Token, 'spaceBefore'>) => void): number {
  const dq = DQUOTES.includes(src[i + 1]);
  const bodyStart = src.indexOf('\n', i) + 1;
  const re = dq ? /\r?\n["\u201c\u201d\u201e]@/g : /\r?\n['\u2018\u2019\u201a\u201b]@/g;
  re.lastIndex = bodyStart - 1;
  const m = re.exec(src);
  if (!m) throw new ParseError(`The string is missing the terminator: ${dq ? '"@' : "'@"}.`, i, src.length, 'TerminatorExpectedAtEndOfString');
  const body = m.index < bodyStart ? '' : src.slice(bodyStart, m.index);
  push({ type: 'string', value: dq ? body.replace(/"/g, '`"') : body, start: i, end: m.index + m[0].length, expandable: dq });
  return m.index + m[0].length;
}
