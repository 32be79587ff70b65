/**
 * Issue 4, last done-when: the same C code (guests/numeric/numeric.c: loops gcc -O2
 * vectorizes for SSE4.2, soft string routines, SSE4.2 string/CRC32 intrinsics, x87 long
 * double series, a printf-style %f/%e/%g/%a formatter) prints the same bytes run natively
 * on this machine and as the guest kernel guests/images/numeric.elf under PcMachine.
 * The native program is built here into a temporary directory from the same source with
 * the kernel's code-generation flags (skipped without gcc, or on a host CPU without SSE4.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcMachine } from './pc.js';
import { defaultProfile, withoutAvx, type CpuProfile } from '../cpu/profile.js';

const guests = fileURLToPath(new URL('../../../guests/', import.meta.url));

function skipReason(): string | null {
  if (spawnSync('gcc', ['--version']).status !== 0) return 'gcc is not installed';
  if (process.arch !== 'x64') return 'the host is not x86-64';
  const cpuinfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();
  if (!/\bsse4_2\b/.test(cpuinfo)) return 'the host CPU has no SSE4.2';
  return null;
}

/** Builds and runs numeric.c natively with the given instruction-set flags; returns its stdout. */
function runNative(isa: string[] = ['-msse4.2']): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-numeric-'));
  try {
    // the numeric.o flags of guests/Makefile that matter for the code (NUMERIC_CFLAGS)
    const cc = spawnSync('gcc', ['-O2', ...isa, '-ffreestanding', '-fno-math-errno', '-fno-tree-loop-distribute-patterns',
      '-c', join(guests, 'numeric/numeric.c'), '-o', join(dir, 'numeric.o')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const ld = spawnSync('gcc', ['-O2', join(guests, 'numeric/native-main.c'), join(dir, 'numeric.o'), '-o', join(dir, 'numeric')], { encoding: 'utf8' });
    assert.equal(ld.status, 0, ld.stderr);
    const r = spawnSync(join(dir, 'numeric'), [], { maxBuffer: 1 << 24 });
    assert.equal(r.status, 0, 'the native program failed');
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runGuest(image = 'numeric.elf', cpuProfile?: CpuProfile): Promise<{ out: Buffer; exitCode: number | undefined; reason: string }> {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({ memoryBytes: 64 << 20, serialOut: (b) => chunks.push(b), instructionLimit: 500_000_000, cpuProfile });
  m.loadKernel(new Uint8Array(readFileSync(join(guests, 'images', image))), '', image);
  const r = await m.run();
  return { out: Buffer.concat(chunks), exitCode: r.exitCode, reason: r.reason };
}

const why = skipReason();

test('numeric.c prints the same bytes natively and as a guest kernel', { skip: why ?? false }, async () => {
  const native = runNative();
  const guest = await runGuest();
  assert.equal(guest.reason, 'debug-exit', guest.out.toString('latin1').slice(-1000));
  assert.equal(guest.exitCode, 1);
  const a = native.toString('latin1'), b = guest.out.toString('latin1');
  assert.ok(a.startsWith('numeric: begin\n') && a.endsWith('numeric: end\n'), 'the native output is complete');
  assert.ok(a.split('\n').length > 60, 'many lines');
  if (a !== b) {
    const la = a.split('\n'), lb = b.split('\n');
    const i = la.findIndex((l, k) => l !== lb[k]);
    assert.fail(`first difference at line ${i + 1}:\nnative: ${la[i]}\nguest:  ${lb[i]}`);
  }
});

// The AVX2 build (issue 4's end-to-end check for AVX2): numeric.c with -mavx2 -mfma (AVX2
// vectorization, FMA contraction) as guests/images/numeric-avx2.elf on the shipped profile
// (it advertises AVX/AVX2/FMA/F16C), against a native build with the same flags.
const cpuinfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();
const whyAvx2 = why ?? (!/\bavx2\b/.test(cpuinfo) || !/\bfma\b/.test(cpuinfo) ? 'the host CPU has no AVX2/FMA' : null);

test('numeric.c built with -mavx2 -mfma prints the same bytes natively and as a guest kernel', { skip: whyAvx2 ?? false }, async () => {
  const native = runNative(['-mavx2', '-mfma']);
  const guest = await runGuest('numeric-avx2.elf');
  assert.equal(guest.reason, 'debug-exit', guest.out.toString('latin1').slice(-1000));
  assert.equal(guest.exitCode, 1);
  const a = native.toString('latin1'), b = guest.out.toString('latin1');
  assert.ok(a.startsWith('numeric: begin\n') && a.endsWith('numeric: end\n'), 'the native output is complete');
  if (a !== b) {
    const la = a.split('\n'), lb = b.split('\n');
    const i = la.findIndex((l, k) => l !== lb[k]);
    assert.fail(`first difference at line ${i + 1}:\nnative: ${la[i]}\nguest:  ${lb[i]}`);
  }
});

test('numeric-avx2.elf on a profile without AVX stops with its CPUID message, not a crash', { skip: why ?? false }, async () => {
  const guest = await runGuest('numeric-avx2.elf', withoutAvx(defaultProfile()));
  assert.match(guest.out.toString('latin1'), /does not advertise AVX, AVX2 and FMA/);
});
