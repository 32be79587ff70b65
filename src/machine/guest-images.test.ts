/**
 * DESIGN "Two commands": the guest images are committed so that a machine without gcc
 * can boot them, and this test proves a fresh build from guests/ reproduces them byte
 * for byte. It builds into a temporary directory (never touching guests/images), and is
 * skipped, saying why, when make/gcc/ld/objcopy are missing or differ from the versions
 * recorded in guests/images/toolchain.txt (another compiler emits other, equally valid, code).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const guests = fileURLToPath(new URL('../../../guests/', import.meta.url));
const images = join(guests, 'images');

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]! : null;
}

function skipReason(): string | null {
  for (const tool of ['make', 'gcc', 'ld', 'objcopy']) {
    if (firstLine(tool, ['--version']) === null) return `${tool} is not installed (apt-get install gcc binutils make)`;
  }
  const want = readFileSync(join(images, 'toolchain.txt'), 'utf8').trim();
  const have = `${firstLine('gcc', ['--version'])}\n${firstLine('ld', ['--version'])}`;
  if (want !== have) return `the local toolchain differs from the one the images were built with:\n${have}\nvs.\n${want}`;
  return null;
}

const why = skipReason();

test('a fresh build of guests/ reproduces guests/images byte for byte', { skip: why ?? false }, () => {
  const out = mkdtempSync(join(tmpdir(), 'nestvisor-guests-'));
  try {
    const r = spawnSync('make', ['-s', '-C', guests, `OUT=${out}`, `OBJ=${join(out, 'obj')}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
    const committed = readdirSync(images).filter((f) => f.endsWith('.elf')).sort();
    const built = readdirSync(out).filter((f) => f.endsWith('.elf')).sort();
    assert.deepEqual(built, committed, 'the same set of kernels');
    for (const f of committed) {
      const a = readFileSync(join(images, f)), b = readFileSync(join(out, f));
      assert.ok(a.equals(b), `${f} differs from a fresh build: run \`make -C guests\` and commit guests/images`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
