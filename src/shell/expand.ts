/**
 * Variable expansion in double-quoted strings: `$name`, `${name}`, `$(subexpression)` and the
 * backtick escapes. "$vm.Name" expands $vm only, as in PowerShell.
 */
export type ExpandPart = { kind: 'text'; text: string } | { kind: 'var'; name: string } | { kind: 'sub'; source: string; offset: number };

const ESC: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', a: '\x07', b: '\b', e: '\x1b', f: '\f', v: '\v' };

export function splitExpandable(raw: string): ExpandPart[] {
  const parts: ExpandPart[] = [];
  let text = '';
  const flush = () => { if (text) { parts.push({ kind: 'text', text }); text = ''; } };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '`' && i + 1 < raw.length) { const n = raw[++i]; text += ESC[n] ?? n; continue; }
    if (c === '$') {
      const n = raw[i + 1];
      if (n === '(') {
        let depth = 0; let j = i + 1;
        for (; j < raw.length; j++) {
          if (raw[j] === '(') depth++;
          else if (raw[j] === ')' && --depth === 0) break;
        }
        flush();
        parts.push({ kind: 'sub', source: raw.slice(i + 2, j), offset: i + 2 });
        i = j; continue;
      }
      if (n === '{') {
        const e = raw.indexOf('}', i);
        if (e > 0) { flush(); parts.push({ kind: 'var', name: raw.slice(i + 2, e) }); i = e; continue; }
      }
      const m = /^(?:env:)?[A-Za-z0-9_]+|^[?_$^]/.exec(raw.slice(i + 1));
      if (m) { flush(); parts.push({ kind: 'var', name: m[0] }); i += m[0].length; continue; }
    }
    text += c;
  }
  flush();
  return parts;
}
