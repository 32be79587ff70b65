/**
 * Test support (test-only, may allocate): runs VEX instruction cases on this machine's CPU
 * through test/native/avx-harness.c and in the emulator, and returns both images in the
 * harness's text format (ymm0-3, MXCSR, RAX, the 64-byte buffer at RDX, or `SIG n MXCSR
 * Y0-Y3 MEM` for a fault: SIGSEGV ↔ #GP, SIGFPE ↔ #XM, SIGILL ↔ #UD; an older harness that
 * prints `SIG n` alone is compared on the signal). Used by the FMA and F16C differential
 * tests, whose generators build operands per element role.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE, type TestCpu } from '../testing.js';
import { makeAvxCpu, setYmm, ymmHex } from './avx-testing.js';
import { runFromCode, signalOf } from '../sse/diff-runner.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/native/avx-harness.c');
/** RDX in the emulator: 32-byte aligned like the harness's buffer. */
export const BUF = 0x100020;

/** One case: instruction bytes, ymm0-3 as 64 hex digits, MXCSR, RAX (16 hex digits), buffer (128 hex digits). */
export interface NativeCase { code: number[]; y: string[]; mxcsr: number; rax: string; mem: string }

export const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');

/** Why the native side cannot run here, or null. */
export function nativeUnavailable(feature: string): string | null {
  const gcc = spawnSync('gcc', ['--version']);
  if (gcc.error || gcc.status !== 0) return 'gcc not found';
  let info = '';
  try { info = readFileSync('/proc/cpuinfo', 'utf8'); } catch { return 'no /proc/cpuinfo'; }
  return new RegExp(`\\b${feature}\\b`).test(info) ? null : `host CPU without ${feature}`;
}

export function caseLine(c: NativeCase): string {
  return `${c.code.map((b) => hx(b, 2)).join('')} ${c.y.join(' ')} ${c.mxcsr.toString(16)} ${c.rax} ${c.mem}`;
}

/** Builds the harness and runs the cases natively; one normalized output line per case. */
export function runNative(cases: NativeCase[]): string[] {
  const lines = runHarnessLines(SOURCE, cases.map(caseLine));
  // RAX without leading zeros, as emulate() prints it
  return lines.map((l) => l.startsWith('SIG') ? l : l.replace(/^(\S+ \S+ \S+ \S+ \S+) (\S+)/, (_m, a: string, r: string) => `${a} ${BigInt('0x' + r).toString(16)}`));
}

/**
 * Builds a test/native harness (one case per input line, one output line per case) in a
 * temporary directory, runs it once over `input` and returns its lines; throws on a gcc or
 * harness failure or a missing line.
 */
export function runHarnessLines(source: string, input: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-harness-'));
  try {
    const exe = join(dir, 'harness');
    const cc = spawnSync('gcc', ['-O1', '-mno-red-zone', '-o', exe, source], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
    const run = spawnSync(exe, [], { input: input.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    if (run.status !== 0) throw new Error(`harness failed (signal ${run.signal}): ${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    if (lines.length !== input.length) throw new Error(`harness printed ${lines.length} lines for ${input.length} cases`);
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a YMM case loads besides its GPRs: the bytes, ymm0-3, MXCSR and the 64-byte buffer (hex, byte 63 first). */
export interface YmmCase { code: number[]; y: string[]; mxcsr: number; mem: string }

/**
 * Runs one case in the emulator from the state the harnesses set up — the bytes then HLT at
 * CODE, ymm0-3, MXCSR, the buffer at BUF, RFLAGS = 0x202 — after `setGprs` has put the test's
 * GPRs (the accumulator and the buffer pointer, whose width depends on the mode), for up to
 * `steps` instructions, and prints the image like the harness: `SIG n MXCSR Y0-Y3 MEM` for a
 * fault (the state it left, as the harness reads it from the signal frame), `stopped at` when
 * the HLT is not reached, else `Y0-Y3 MXCSR ACC MEM` with ACC from `acc`.
 */
export function emulateYmm(t: TestCpu, c: YmmCase, steps: number, setGprs: (t: TestCpu) => void, acc: (t: TestCpu) => string): string {
  t.mem.load(CODE, Uint8Array.from([...c.code, 0xf4]));
  for (let k = 0; k < 4; k++) setYmm(t, k, c.y[k]!);
  t.cpu.fpu.mxcsr = c.mxcsr;
  setGprs(t);
  for (let i = 0; i < 64; i++) t.mem.ram[BUF + i] = parseInt(c.mem.slice(126 - 2 * i, 128 - 2 * i), 16);
  const v = runFromCode(t, steps);
  let mem = '';
  for (let i = 63; i >= 0; i--) mem += hx(t.mem.ram[BUF + i]!, 2);
  const ys = [0, 1, 2, 3].map((k) => ymmHex(t, k)).join(' ');
  if (v >= 0) {
    const sig = signalOf(v) >= 0 ? `SIG ${signalOf(v)}` : `exception ${v}`;
    return `${sig} ${t.cpu.fpu.mxcsr.toString(16)} ${ys} ${mem}`;
  }
  if (t.cpu.rip !== CODE + c.code.length + 1) return `stopped at ${t.cpu.rip.toString(16)}`;
  return `${ys} ${t.cpu.fpu.mxcsr.toString(16)} ${acc(t)} ${mem}`;
}

/**
 * Runs one case in the emulator (64-bit mode: RAX from the case, RDX = BUF) and prints the
 * image like avx-harness.c, RAX without leading zeros. `steps` bounds the run: a case may
 * put a few instructions around the VEX one before the HLT.
 */
export function emulate(t: TestCpu, c: NativeCase, steps = 4): string {
  return emulateYmm(t, c, steps, (u) => {
    const rax = c.rax.padStart(16, '0');
    u.cpu.r[0] = parseInt(rax.slice(8), 16) | 0; u.cpu.r[1] = parseInt(rax.slice(0, 8), 16) | 0;
    u.cpu.r[4] = BUF; u.cpu.r[5] = 0;
  }, (u) => u.cpu.r[1] === 0 ? hx(u.cpu.r[0]!, 1) : (u.cpu.r[1]! >>> 0).toString(16) + hx(u.cpu.r[0]!, 8));
}

/** Runs every case both ways; returns the mismatches (at most `show` described in full) and fault counts. */
export function compare(cases: NativeCase[], name: (c: NativeCase) => string, show = 20):
  { fails: Map<string, number>; shown: string[]; faults: Map<string, number> } {
  const want = runNative(cases);
  const t = makeAvxCpu('long64', { avx2: true, fma: true, f16c: true });
  const fails = new Map<string, number>(), faults = new Map<string, number>();
  const shown: string[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!, w = want[i]!;
    let got = emulate(t, c);
    // a harness that prints only `SIG n` for a fault is compared on the signal alone
    if (/^SIG \d+$/.test(w)) got = got.replace(/^(SIG \d+) .*$/, '$1');
    const sig = /^SIG \d+/.exec(w);
    if (sig !== null) faults.set(sig[0], (faults.get(sig[0]) ?? 0) + 1);
    if (w !== got) {
      const n = name(c), k = (fails.get(n) ?? 0) + 1;
      fails.set(n, k);
      if (k <= 2 && shown.length < show) shown.push(`${n} [${c.code.map((b) => hx(b, 2)).join(' ')}]\n   in     ${caseLine(c)}\n   native ${w}\n   emul   ${got}`);
    }
  }
  return { fails, shown, faults };
}
