import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, ParseError } from './tokenizer.js';
import { parseScript, parseNumber } from './parser.js';

test('the seed\'s en dashes and curly quotes are PowerShell dashes and quotes', () => {
  const t = tokenize('New-NetNat \u2013Name LocalNAT \u2013InternalIPInterfaceAddressPrefix \u201c192.168.100.0/24\u201d');
  assert.deepEqual(t.map((x) => [x.type, x.value]), [
    ['word', 'New-NetNat'], ['param', 'Name'], ['word', 'LocalNAT'], ['param', 'InternalIPInterfaceAddressPrefix'],
    ['string', '192.168.100.0/24'], ['eof', ''],
  ]);
  const q = tokenize('\u2018a\u2019 \u2014x \u2015y');
  assert.deepEqual(q.map((x) => [x.type, x.value]).slice(0, 3), [['string', 'a'], ['param', 'x'], ['param', 'y']]);
});

test('command-mode words: netsh arguments, addresses, paths, wildcards', () => {
  const words = tokenize('netsh interface ip add dnsserver "Ethernet" address=10.0.0.1 /tmp/k.elf *Nat* C:\\x\\y').filter((x) => x.type === 'word').map((x) => x.value);
  assert.deepEqual(words, ['netsh', 'interface', 'ip', 'add', 'dnsserver', 'address=10.0.0.1', '/tmp/k.elf', '*Nat*', 'C:\\x\\y']);
});

test('numbers with multipliers', () => {
  assert.equal(parseNumber('4GB'), 4 * 1024 ** 3);
  assert.equal(parseNumber('512mb'), 512 * 1024 ** 2);
  assert.equal(parseNumber('0x10'), 16);
  assert.equal(parseNumber('1.5KB'), 1536);
  assert.equal(parseNumber('\u20135'), -5);
  assert.equal(parseNumber('192.168.1.1'), null);
});

test('member access needs no space; backtick continues a line; ; separates', () => {
  const t = tokenize('$vm.State $vm .State');
  assert.deepEqual(t.map((x) => x.type), ['var', 'op', 'member', 'var', 'word', 'eof']);
  const s = parseScript('Get-VM `\n  -Name x; Get-VM');
  assert.equal(s.length, 2);
});

test('parse errors carry PowerShell error ids and positions', () => {
  assert.throws(() => parseScript('Get-VM "abc'), (e: unknown) => e instanceof ParseError && e.errorId === 'TerminatorExpectedAtEndOfString' && e.pos === 7);
  assert.throws(() => parseScript('Get-VM |'), (e: unknown) => e instanceof ParseError && e.errorId === 'EmptyPipeElement');
  assert.throws(() => parseScript('if ($true) { x'), (e: unknown) => e instanceof ParseError && e.errorId === 'MissingEndCurlyBrace');
});
