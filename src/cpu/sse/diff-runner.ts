/**
 * Test support of the MMX/SSE differential tests (sse-diff.test.ts, sse4-diff.test.ts;
 * issue 4): test/native/sse-harness.c is compiled with gcc into a temp dir and runs raw
 * instruction bytes from a register image (xmm0-3, mm0-1, MXCSR, rax, rcx, flags, a 32-byte
 * buffer at [rdx]); the same bytes run in the emulator in 64-bit mode and the resulting
 * images must be identical (registers, MXCSR flags, arithmetic flags, memory, and the fault:
 * SIGSEGV ↔ #GP, SIGFPE ↔ #XM, SIGILL ↔ #UD, each with MXCSR, xmm0, xmm1 and the buffer as the
 * fault left them). Test-only code: it may allocate freely.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCpu, CODE, type TestCpu } from '../testing.js';
import { LF_NONE } from '../cpu.js';
import { CR4_OSFXSR, CR4_OSXMMEXCPT } from '../regs.js';
import { amdProfile,
  F1D_MMX, F1D_SSE, F1D_SSE2, F1C_SSE3, F1C_SSSE3, F1C_SSE41, F1C_SSE42, F1C_AES, F1C_PCLMUL, type CpuProfile,
} from '../profile.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/native/sse-harness.c');
const BUF = 0x100000; // the harness's rdx: 16-aligned; the image's buffer is 32 bytes

export interface Image { x: string[]; mm: string[]; mxcsr: number; rax: string; rcx: string; fl: number; mem: string }

export interface Spec {
  name: string;
  count: number;
  code(): number[];
  gen(): Image;
  /** Rewrites a result line before comparison (to mask what may legitimately differ). */
  normalize?(line: string, im: Image): string;
}

const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');
/** 32 hex digits (byte 15 first) of 4 int32 lanes. */
function lanesHex(a: Int32Array, o: number): string { return hx(a[o + 3]!, 8) + hx(a[o + 2]!, 8) + hx(a[o + 1]!, 8) + hx(a[o]!, 8); }
function setLanes(a: Int32Array, o: number, s: string): void { for (let i = 0; i < 4; i++) a[o + i] = parseInt(s.slice(24 - 8 * i, 32 - 8 * i), 16) | 0; }
function num64(lo: number, hi: number): string { return hi === 0 ? (lo >>> 0).toString(16) : (hi >>> 0).toString(16) + hx(lo, 8); }
function setR(t: TestCpu, n: number, s: string): void {
  const p = s.padStart(16, '0');
  t.cpu.r[2 * n] = parseInt(p.slice(8), 16) | 0; t.cpu.r[2 * n + 1] = parseInt(p.slice(0, 8), 16) | 0;
}

/** The signal the harnesses report for a vector (#XM → SIGFPE, #GP → SIGSEGV, #UD → SIGILL), or -1. */
export function signalOf(v: number): number { return v === 19 ? 8 : v === 13 ? 11 : v === 6 ? 4 : -1; }

/**
 * Runs the bytes loaded at CODE (ending in HLT) for up to `steps` instructions from RIP = CODE
 * with RFLAGS = `flags`, as the harnesses CALL them; returns the vector of the exception they
 * raised, or -1. Shared with avx/native-diff.ts.
 */
export function runFromCode(t: TestCpu, steps: number, flags = 0x202): number {
  t.cpu.lfOp = LF_NONE;
  t.cpu.flags = flags;
  t.cpu.rip = CODE; t.cpu.halted = false;
  const before = t.exceptions.length;
  t.cpu.run(steps);
  return t.exceptions.length !== before ? t.exceptions[t.exceptions.length - 1]![0] : -1;
}

let loaded = '';
function emulate(t: TestCpu, code: number[], im: Image): string {
  const key = code.join(',');
  if (key !== loaded) { t.mem.load(CODE, Uint8Array.from([...code, 0xf4])); loaded = key; }
  const f = t.cpu.fpu;
  for (let k = 0; k < 4; k++) setLanes(f.xmm, 4 * k, im.x[k]!);
  for (let k = 0; k < 2; k++) { f.setMm(k, parseInt(im.mm[k]!.slice(8), 16) | 0, parseInt(im.mm[k]!.slice(0, 8), 16) | 0); }
  f.enterMmx(); f.fsw = 0;
  f.mxcsr = im.mxcsr;
  setR(t, 0, im.rax); setR(t, 1, im.rcx); t.cpu.r[4] = BUF; t.cpu.r[5] = 0;
  for (let i = 0; i < 32; i++) t.mem.ram[BUF + i] = parseInt(im.mem.slice(62 - 2 * i, 64 - 2 * i), 16);
  const v = runFromCode(t, 8, 0x202 | im.fl);
  let mem = '';
  for (let i = 31; i >= 0; i--) mem += hx(t.mem.ram[BUF + i]!, 2);
  if (v >= 0) {
    // as the harness reports a fault: MXCSR, xmm0, xmm1 and the buffer as the fault left them
    const sig = signalOf(v);
    if (sig < 0) return `exception ${v}`;
    return `SIG ${sig} ${f.mxcsr.toString(16)} ${lanesHex(f.xmm, 0)} ${lanesHex(f.xmm, 4)} ${mem}`;
  }
  if (t.cpu.rip !== CODE + code.length + 1) return `stopped at ${t.cpu.rip.toString(16)}`;
  const mmHex = (k: number): string => hx(f.mant[2 * k + 1]!, 8) + hx(f.mant[2 * k]!, 8);
  return `${lanesHex(f.xmm, 0)} ${lanesHex(f.xmm, 4)} ${mmHex(0)} ${mmHex(1)} ${f.mxcsr.toString(16)} ` +
    `${num64(t.cpu.r[0]!, t.cpu.r[1]!)} ${num64(t.cpu.r[2]!, t.cpu.r[3]!)} ${(t.cpu.getFlags() & 0x8d5).toString(16)} ${mem}`;
}

/**
 * Runs every spec's cases natively and emulated and asserts identical (normalized) results.
 * Returns how many native runs ended in each signal (SIG 8 = #XM, SIG 11 = #GP, SIG 4 = #UD),
 * so a test can check its generators reach the faults; null when gcc is missing.
 */
export function runDifferential(t: TestContext, specs: Spec[]): Map<string, number> | null {
  const gcc = spawnSync('gcc', ['--version']);
  if (gcc.error || gcc.status !== 0) { t.skip('gcc not found: differential SSE test skipped (CI installs gcc)'); return null; }
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-sse-'));
  try {
    const exe = join(dir, 'sse-harness');
    const cc = spawnSync('gcc', ['-O1', '-mno-red-zone', '-o', exe, SOURCE], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `gcc failed: ${cc.stderr}`);
    const cases: Array<{ spec: Spec; code: number[]; im: Image }> = [];
    // NV_FUZZ_SCALE=n runs n times the cases (the generators go on past the CI set), for longer hunts
    const scale = Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);
    for (const spec of specs) for (let i = 0; i < spec.count * scale; i++) { const code = spec.code(); cases.push({ spec, code, im: spec.gen() }); }
    const line = (c: { code: number[]; im: Image }): string =>
      `${c.code.map((b) => hx(b, 2)).join('')} ${c.im.x.join(' ')} ${c.im.mm.join(' ')} ${c.im.mxcsr.toString(16)} ${c.im.rax} ${c.im.rcx} ${c.im.fl.toString(16)} ${c.im.mem}`;
    const run = spawnSync(exe, [], { input: cases.map(line).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, `harness failed (signal ${run.signal}): ${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, cases.length);

    const tc = makeCpu('long64');
    // the nestvisor-amd profile, as this AMD host (LDMXCSR of MXCSR bit 17, fpu/state.ts)
    const p = amdProfile();
    (tc.cpu as { profile: CpuProfile }).profile = {
      ...p, leaf1Edx: p.leaf1Edx | F1D_MMX | F1D_SSE | F1D_SSE2,
      leaf1Ecx: p.leaf1Ecx | F1C_SSE3 | F1C_SSSE3 | F1C_SSE41 | F1C_SSE42 | F1C_AES | F1C_PCLMUL,
    };
    tc.cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
    const fails = new Map<string, number>();
    const shown: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const got = emulate(tc, c.code, c.im);
      const want = c.spec.normalize ? c.spec.normalize(lines[i]!, c.im) : lines[i]!;
      const mine = c.spec.normalize ? c.spec.normalize(got, c.im) : got;
      if (want !== mine) {
        const n = (fails.get(c.spec.name) ?? 0) + 1;
        fails.set(c.spec.name, n);
        if (n <= 2 && shown.length < 30) shown.push(`${c.spec.name} [${c.code.map((b) => hx(b, 2)).join(' ')}]\n   in     ${line(c)}\n   native ${want}\n   emul   ${mine}`);
      }
    }
    const signals = new Map<string, number>();
    for (const l of lines) if (l.startsWith('SIG')) { const k = l.slice(0, 6).trim(); signals.set(k, (signals.get(k) ?? 0) + 1); }
    t.diagnostic(`compared ${cases.length} cases over ${specs.length} instruction forms; native faults: ${[...signals].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
    return signals;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
