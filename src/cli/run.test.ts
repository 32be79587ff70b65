import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInitrd, parseSize } from './run.js';

const bin = fileURLToPath(new URL('../../../bin/nestvisor.js', import.meta.url));
const hello = fileURLToPath(new URL('../../../guests/images/hello.elf', import.meta.url));

function run(...args: string[]) {
  return spawnSync(process.execPath, [bin, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('memory sizes: suffixes are binary units, plain numbers are bytes', () => {
  assert.equal(parseSize('256M'), 256 * 2 ** 20);
  assert.equal(parseSize('1G'), 2 ** 30);
  assert.equal(parseSize('512K'), 512 * 1024);
  assert.equal(parseSize('64MiB'), 64 * 2 ** 20);
  assert.equal(parseSize('1048576'), 2 ** 20);
  assert.throws(() => parseSize('12Q'), /bad memory size/);
  assert.throws(() => parseSize('-1M'), /bad memory size/);
  assert.throws(() => parseSize('5000'), /multiple of 4 KiB/);
});

const badInputs: [string, string[], RegExp][] = [
  ['no --kernel', [], /--kernel FILE is required/],
  ['a missing file', ['--kernel', '/nonexistent/k.elf'], /does not exist/],
  ['a file that is not Multiboot', ['--kernel', bin], /not a Multiboot kernel/],
  ['too little memory', ['--kernel', hello, '--memory', '512K'], /needs memory up to .* but the machine has/],
  ['an unknown option', ['--kernel', hello, '--frobnicate'], /unknown option '--frobnicate'/],
  ['a bad size', ['--kernel', hello, '--memory', 'lots'], /bad memory size 'lots'/],
  ['an unsupported CPU count', ['--kernel', hello, '--smp', '256'], /1 to 255 are supported/],
  ['an unknown CPU profile', ['--kernel', hello, '--cpu', 'qemu64'], /unknown CPU profile 'qemu64'/],
  ['a missing --initrd file', ['--kernel', hello, '--initrd', '/nonexistent/env'], /initrd file '\/nonexistent\/env' does not exist/],
  ['an empty --initrd entry', ['--kernel', hello, '--initrd', 'a,'], /empty file name in --initrd/],
  ['VT-x on a CPU without it', ['--kernel', hello, '--cpu', 'nestvisor-amd', '--expose-virtualization-extensions'],
    /'nestvisor-amd' has no VT-x to expose/],
];

test('--cpu nestvisor-amd boots a kernel', () => {
  const r = run('--kernel', hello, '--cpu', 'nestvisor-amd');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /Hello from a Nestvisor guest kernel!/);
});

for (const [what, args, message] of badInputs) {
  test(`bad input, ${what}: one line on stderr, status 2, no stack trace`, () => {
    const r = run(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^nestvisor run: /);
    assert.match(lines[0]!, message);
  });
}

test('--initrd lists split like QEMU -initrd: commas, ",," for a comma, arguments after the name', () => {
  assert.deepEqual(parseInitrd('env'), [{ path: 'env', string: 'env' }]);
  assert.deepEqual(parseInitrd('a,b x=1'), [{ path: 'a', string: 'a' }, { path: 'b', string: 'b x=1' }]);
  assert.deepEqual(parseInitrd('odd,,name'), [{ path: 'odd,name', string: 'odd,name' }]);
});

test('--initrd too big for RAM: one line naming the module, status 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nv-initrd-'));
  const big = join(dir, 'big.img');
  writeFileSync(big, new Uint8Array(2 * 2 ** 20));
  const r = run('--kernel', hello, '--memory', '2M', '--initrd', big);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^nestvisor run: the module '.*big\.img' \(2\.0 MiB\) does not fit in RAM after the kernel/);
});

test('--initrd with a kernel that ignores modules still boots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nv-initrd-'));
  const env = join(dir, 'env');
  writeFileSync(env, 'TEST_DEVICE=0\n');
  const r = run('--kernel', hello, '--initrd', env);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /Hello from a Nestvisor guest kernel!/);
});

test('--help prints the usage and the exit statuses on stdout, status 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: nestvisor run --kernel FILE/);
  assert.match(r.stdout, /--expose-virtualization-extensions/);
  assert.match(r.stdout, /4 triple fault/);
  assert.equal(r.stderr, '');
});

test('--append takes a value that starts with a dash, as QEMU -append does', () => {
  const r = run('--kernel', hello, '--append', '-x -y*');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /command line: "-x -y\*"/);
});
