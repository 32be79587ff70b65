/**
 * PowerShell wildcard matching (* ? [a-z]), case-insensitive, as used by Get-VM -Name and
 * the -like operator.
 */
export function hasWildcard(s: string): boolean {
  return /[*?[]/.test(s);
}

export function wildcardToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else { re += '[' + pattern.slice(i + 1, end).replace(/\\/g, '\\\\') + ']'; i = end; }
    } else if (c === '`' && i + 1 < pattern.length) { re += escapeRe(pattern[++i]); }
    else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 'is');
}

export function wildcardMatch(pattern: string, text: string): boolean {
  return wildcardToRegExp(pattern).test(text);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
