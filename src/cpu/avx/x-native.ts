/**
 * Test support (test-only, may allocate): runs instruction cases through
 * test/native/avx-x-harness.c (ymm0-3, MXCSR, RAX/RBX/RCX, the arithmetic flags and a 256-byte
 * buffer around RDX that ends where an inaccessible page begins) and through the emulator set
 * up the same way (linear 0-2M in 4K pages, the page after the buffer not present), and
 * prints both images in the harness's line format. Used by avx/x-diff.test.ts and
 * avx/guard-diff.test.ts.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CODE, PT_BASE, type TestCpu } from '../testing.js';
import { LF_NONE } from '../cpu.js';
import { amdProfile, type CpuProfile } from '../profile.js';
import { makeAvxCpu, avxProfile, setYmm, ymmHex } from './avx-testing.js';
import { runHarnessLines } from './native-diff.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/native/avx-x-harness.c');
/** The 256-byte buffer; RDX = X_BUF + 128; the page after it is not present. */
export const X_BUF = 0x100f00;
const GUARD_PT = 0x3fe000; // a 4K page table for linear 0-2M (the test CPU maps 2M pages)

/** One case: bytes, ymm0-3 as 8 dwords each, MXCSR, RAX/RBX/RCX (hex), flags (0x8d5 bits), the buffer as 64 dwords. */
export interface XCase { name: string; code: number[]; y: number[][]; mxcsr: number; g: [string, string, string]; flags: number; mem: number[] }

const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');
const ystr = (d: number[]): string => d.slice().reverse().map((x) => hx(x, 8)).join('');
export const xLine = (c: XCase): string =>
  `${c.code.map((b) => hx(b, 2)).join('')} ${c.y.map(ystr).join(' ')} ${c.mxcsr.toString(16)} ${c.g.join(' ')} ${c.flags.toString(16)} ${ystr(c.mem)}`;

/** Builds the harness in a temporary directory and runs the cases natively: one line per case. */
export function runXNative(cases: XCase[]): string[] { return runHarnessLines(SOURCE, cases.map(xLine)); }

/**
 * 8 dwords of operand material from `r32`: random bits, float32 specials and ordinary floats,
 * float64-shaped pairs, small integers (with `allOnes`, a third of them 0xffffffff instead).
 * Shared by guard-diff and avx32-diff; each keeps its own generator and so its own cases.
 */
export function operandDwords(r32: () => number, allOnes = false): number[] {
  const F32 = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0x7fc00000, 0x7fa00000, 0x00000001, 0x807fffff, 0x7f7fffff];
  const d: number[] = [];
  const kind = r32() % 4;
  for (let i = 0; i < 8; i++) {
    switch (kind) {
      case 0: d.push(r32()); break;
      case 1: d.push(r32() & 1 ? F32[r32() % F32.length]! : (r32() & 0x807fffff) | ((120 + (r32() % 16)) << 23)); break;
      case 2: d.push((i & 1) ? (r32() & 0x800fffff) | ((1015 + (r32() % 16)) << 20) : r32()); break;
      default: d.push(allOnes && r32() % 3 === 0 ? 0xffffffff : r32() % 5); break;
    }
  }
  return d.map((x) => x >>> 0);
}

/** The emulator for these cases: nestvisor-amd (this host's vendor) with AVX2, FMA, F16C, BMI; the guard page mapped out. */
export function makeXCpu(): TestCpu {
  const t = makeAvxCpu('long64', { avx2: true, fma: true, f16c: true, bmi: true });
  (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(amdProfile(), { avx2: true, fma: true, f16c: true, bmi: true });
  for (let i = 0; i < 512; i++) t.mem.write32(GUARD_PT + 8 * i, i * 0x1000 === X_BUF + 256 ? 0 : (i * 0x1000) | 7);
  t.mem.write32(PT_BASE + 0x2000, GUARD_PT | 7);
  t.cpu.flushTlb();
  return t;
}

function setGpr(t: TestCpu, n: number, v: string): void {
  const p = v.padStart(16, '0');
  t.cpu.r[n << 1] = parseInt(p.slice(8), 16) | 0; t.cpu.r[(n << 1) + 1] = parseInt(p.slice(0, 8), 16) | 0;
}
function gprStr(t: TestCpu, n: number): string {
  const lo = t.cpu.r[n << 1]!, hi = t.cpu.r[(n << 1) + 1]!;
  return hi === 0 ? (lo >>> 0).toString(16) : (hi >>> 0).toString(16) + hx(lo, 8);
}

/** Runs one case in the emulator and prints it as the harness does (`SIG n …` with the state a fault left). */
export function xEmulate(t: TestCpu, c: XCase, steps = 24): string {
  t.mem.load(CODE, Uint8Array.from([...c.code, 0xf4]));
  for (let k = 0; k < 4; k++) setYmm(t, k, ystr(c.y[k]!));
  t.cpu.fpu.mxcsr = c.mxcsr;
  setGpr(t, 0, c.g[0]); setGpr(t, 3, c.g[1]); setGpr(t, 1, c.g[2]);
  t.cpu.r[4] = X_BUF + 128; t.cpu.r[5] = 0;
  for (let i = 0; i < 64; i++) { const v = c.mem[i]!; for (let k = 0; k < 4; k++) t.mem.ram[X_BUF + 4 * i + k] = (v >>> (8 * k)) & 0xff; }
  t.cpu.lfOp = LF_NONE; t.cpu.flags = 0x202 | c.flags;
  t.cpu.rip = CODE; t.cpu.halted = false;
  const before = t.exceptions.length;
  t.cpu.run(steps);
  let sig = '';
  if (t.exceptions.length !== before) {
    const v = t.exceptions[t.exceptions.length - 1]![0];
    sig = v === 13 || v === 14 ? 'SIG 11 ' : v === 19 ? 'SIG 8 ' : v === 6 ? 'SIG 4 ' : `exception ${v} `;
  } else if (t.cpu.rip !== CODE + c.code.length + 1) return `stopped at ${t.cpu.rip.toString(16)}`;
  let mem = '';
  for (let i = 255; i >= 0; i--) mem += hx(t.mem.ram[X_BUF + i]!, 2);
  return `${sig}${[0, 1, 2, 3].map((k) => ymmHex(t, k)).join(' ')} ${t.cpu.fpu.mxcsr.toString(16)} ${gprStr(t, 0)} ${gprStr(t, 3)} ${gprStr(t, 1)} ${(t.cpu.getFlags() & 0x8d5).toString(16)} ${mem}`;
}
