// avx/approx.ts against this CPU: every one of the 4096 table intervals of VRCPPS and of
// both VRSQRTPS parities (a random significand inside each, exponents 127 and 128), the
// interval ends, and a sweep of every exponent with special significands and signs (±0,
// denormals, tiny results, ∞, NaNs) — each result bit for bit as test/native/rcp-probe.c
// computes it on the host. Skipped where gcc is missing or the host has no AVX.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rcp32Host, rsqrt32Host } from '../sse/approx-host.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/native/rcp-probe.c');

let s = 0x13572468;
function r32(): number { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; }

test('VRCPPS/VRSQRTPS tables reproduce the host CPU bit for bit', (t) => {
  if (spawnSync('gcc', ['--version']).status !== 0) { t.skip('gcc not found'); return; }
  if (!/\bavx\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) { t.skip('host CPU without AVX'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-rcp-'));
  try {
    const exe = join(dir, 'rcp-probe');
    const cc = spawnSync('gcc', ['-O1', '-mavx', '-o', exe, SOURCE], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `gcc failed: ${cc.stderr}`);
    const xs: number[] = [];
    for (const e of [127, 128]) {
      for (let i = 0; i < 4096; i++) {
        xs.push((e << 23) | (i << 11) | (r32() & 0x7ff));
        if ((i & 63) === 0) xs.push((e << 23) | (i << 11), (e << 23) | (i << 11) | 0x7ff);
      }
    }
    const sig = [0, 1, 0x7ff, 0x800, 0x400000, 0x7fffff, 0x123456];
    for (let e = 0; e < 256; e++) for (const m of sig) for (const sign of [0, 0x80000000]) xs.push((sign | (e << 23) | m) >>> 0);
    const run = spawnSync(exe, [], { input: xs.map((x) => (x >>> 0).toString(16)).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, xs.length);
    const bad: string[] = [];
    for (const l of lines) {
      const [x, r, q] = l.split(' ').map((h) => parseInt(h, 16));
      const er = rcp32Host(x! | 0) >>> 0, eq = rsqrt32Host(x! | 0) >>> 0;
      if (er !== r || eq !== q) bad.push(`${l} emulated ${er.toString(16)} ${eq.toString(16)}`);
    }
    t.diagnostic(`compared ${lines.length} inputs (rcp and rsqrt each)`);
    assert.deepEqual(bad.slice(0, 10), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
