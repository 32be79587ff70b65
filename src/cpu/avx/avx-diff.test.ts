// Differential test of the VEX forms (issue 4): random instances of every form avx/ installs
// (registers ymm0-3, memory at [rdx+disp8] with any alignment, VEX.128 and VEX.256, W0/W1,
// MXCSR with random rounding, DAZ/FTZ and masks, operands rich in NaNs, infinities,
// denormals, zeros and equal elements) run natively through test/native/avx-harness.c and
// in the emulator in 64-bit mode; the images (ymm0-3, MXCSR, RAX, 64-byte buffer, or the
// fault: SIGSEGV ↔ #GP, SIGFPE ↔ #XM, SIGILL ↔ #UD) must be identical. Skipped where gcc is
// missing or the host has no AVX2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeAvxCpu, avxProfile } from './avx-testing.js';
import { amdProfile, type CpuProfile } from '../profile.js';
import { emulate } from './native-diff.js';
import { INT_FORMS } from './int-diff-forms.js';
import { FP_FORMS } from './fp-diff-specs.js';
import { FMA_FORMS } from './fma-diff-forms.js';
import { MXCSR_FORMS } from './mxcsr-diff-forms.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SOURCE = join(ROOT, 'test/native/avx-harness.c');
const PER_FORM = 40 * Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);

/** xorshift32 with a fixed seed: the cases are the same on every run. */
let s = 0x5eed1234;
function r32(): number { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; }
const pick = <T>(a: readonly T[]): T => a[r32() % a.length]!;
const hx = (v: number, w: number): string => (v >>> 0).toString(16).padStart(w, '0');

/** One installed form: map (1-3), pp, opcode, the L values it has, and its operand shape. */
interface Form {
  name: string; map: number; pp: number; op: number; ls: number[]; shape: 'rvm' | 'rm' | 'mr' | 'gpr' | 'none'; w?: boolean;
  /** A family's own encoder (its spec file): the instance's bytes from the shared random source. */
  enc?: (r: () => number) => number[];
}
const FORMS: Form[] = [];
const PS_PD = (name: string, op: number, unary = false): void => {
  FORMS.push({ name: `v${name}ps`, map: 1, pp: 0, op, ls: [0, 1], shape: unary ? 'rm' : 'rvm' });
  FORMS.push({ name: `v${name}pd`, map: 1, pp: 1, op, ls: [0, 1], shape: unary ? 'rm' : 'rvm' });
};
for (const [n, op] of [['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f], ['sqrt', 0x51]] as const) {
  PS_PD(n, op, n === 'sqrt');
  FORMS.push({ name: `v${n}ss`, map: 1, pp: 2, op, ls: [0, 1], shape: 'rvm' });
  FORMS.push({ name: `v${n}sd`, map: 1, pp: 3, op, ls: [0, 1], shape: 'rvm' });
}
for (const [n, op] of [['and', 0x54], ['andn', 0x55], ['or', 0x56], ['xor', 0x57]] as const) PS_PD(n, op);
for (const [n, op] of [['vpand', 0xdb], ['vpandn', 0xdf], ['vpor', 0xeb], ['vpxor', 0xef], ['vpaddb', 0xfc], ['vpaddw', 0xfd],
  ['vpaddd', 0xfe], ['vpaddq', 0xd4], ['vpcmpeqb', 0x74], ['vpcmpeqw', 0x75], ['vpcmpeqd', 0x76]] as const) {
  FORMS.push({ name: n, map: 1, pp: 1, op, ls: [0, 1], shape: 'rvm' });
}
FORMS.push({ name: 'vpcmpeqq', map: 2, pp: 1, op: 0x29, ls: [0, 1], shape: 'rvm' });
for (const [n, pp, ld, st] of [['vmovups', 0, 0x10, 0x11], ['vmovupd', 1, 0x10, 0x11], ['vmovaps', 0, 0x28, 0x29], ['vmovapd', 1, 0x28, 0x29],
  ['vmovdqa', 1, 0x6f, 0x7f], ['vmovdqu', 2, 0x6f, 0x7f]] as const) {
  FORMS.push({ name: `${n} load`, map: 1, pp, op: ld, ls: [0, 1], shape: 'rm' });
  FORMS.push({ name: `${n} store`, map: 1, pp, op: st, ls: [0, 1], shape: 'mr' });
}
for (const [n, pp] of [['vmovss', 2], ['vmovsd', 3]] as const) {
  FORMS.push({ name: `${n} load`, map: 1, pp, op: 0x10, ls: [0, 1], shape: 'rvm' });
  FORMS.push({ name: `${n} store`, map: 1, pp, op: 0x11, ls: [0, 1], shape: 'mr' });
}
FORMS.push({ name: 'vmovd/q xmm,r/m', map: 1, pp: 1, op: 0x6e, ls: [0], shape: 'gpr', w: true });
FORMS.push({ name: 'vmovd/q r/m,xmm', map: 1, pp: 1, op: 0x7e, ls: [0], shape: 'gpr', w: true });
FORMS.push({ name: 'vmovq xmm,xmm/m64', map: 1, pp: 2, op: 0x7e, ls: [0], shape: 'rm' });
FORMS.push({ name: 'vmovq xmm/m64,xmm', map: 1, pp: 1, op: 0xd6, ls: [0], shape: 'mr' });
FORMS.push({ name: 'vzeroupper/vzeroall', map: 1, pp: 0, op: 0x77, ls: [0, 1], shape: 'none' });
FORMS.push(...INT_FORMS); // AV-INT: avx/int-diff-forms.ts
FORMS.push(...FP_FORMS); // AV-FP: avx/fp-diff-specs.ts
FORMS.push(...FMA_FORMS); // AV-FMA: avx/fma-diff-forms.ts
FORMS.push(...MXCSR_FORMS); // VLDMXCSR/VSTMXCSR: avx/mxcsr-diff-forms.ts

/** The bytes of one random instance of a form. */
function encode(f: Form): number[] {
  if (f.enc) return f.enc(r32);
  const l = pick(f.ls), w = f.w ? r32() & 1 : 0;
  // vvvv: a register for the three-operand shapes, 1111b (register 0) otherwise
  const v = f.shape === 'rvm' ? r32() & 3 : 0;
  const reg = r32() & 3;
  const mem = f.shape !== 'none' && (r32() & 1) === 0;
  const b2 = (w << 7) | ((~v & 15) << 3) | (l << 2) | f.pp;
  const out = f.map === 1 && w === 0 ? [0xc5, 0x80 | b2 & 0x7f] : [0xc4, 0xe0 | f.map, b2];
  out.push(f.op);
  if (f.shape === 'none') return out;
  // GPR operands: only rax (rm = 0), other GPRs belong to the harness
  if (mem) out.push(0x42 | (reg << 3), r32() % 33);
  else out.push(0xc0 | (reg << 3) | (f.shape === 'gpr' ? 0 : r32() & 3));
  return out;
}

const F32 = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00000,
  0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f7fffff, 0x4b800000, 0x33800000];
const F64 = [[0, 0], [0, 0x80000000], [0, 0x3ff00000], [0, 0xbff00000], [0, 0x7ff00000], [0, 0xfff00000], [0, 0x7ff80000],
  [1, 0x7ff00000], [0, 0x7ff40000], [1, 0], [0xffffffff, 0x800fffff], [0, 0x00100000], [0xffffffff, 0x7fefffff], [0xffffffff, 0x3fefffff]];

/** 8 dwords of operand material: random bits, float32/float64 specials, small integers. */
function dwords(prev: number[] | null): number[] {
  const d = new Array<number>(8).fill(0);
  const kind = r32() % 5;
  for (let i = 0; i < 8; i++) {
    switch (kind) {
      case 0: d[i] = r32(); break;
      case 1: d[i] = (r32() & 1) ? pick(F32) : (r32() & 0x807fffff) | ((120 + (r32() % 16)) << 23); break;
      case 2: if ((i & 1) === 0) { const p = (r32() & 1) ? pick(F64) : [r32(), (r32() & 0x800fffff) | ((1015 + (r32() % 16)) << 20)]; d[i] = p[0]!; d[i + 1] = p[1]!; } break;
      case 3: d[i] = r32() % 4 === 0 ? 0xffffffff : r32() % 3; break;
      default: d[i] = r32() & 0x8000ffff; break;
    }
  }
  // equal elements (qword pairs) for compares and NaN-against-NaN cases
  if (prev !== null) for (let i = 0; i < 8; i += 2) if ((r32() & 3) === 0) { d[i] = prev[i]!; d[i + 1] = prev[i + 1]!; }
  return d.map((x) => x >>> 0);
}
const ymmStr = (d: number[]): string => d.slice().reverse().map((x) => hx(x, 8)).join('');

interface Case { form: Form; code: number[]; y: string[]; mxcsr: number; rax: string; mem: string }

function mxcsr(): number {
  let m = 0x1f80 | ((r32() & 3) << 13);
  if ((r32() & 7) === 0) m |= 0x40; // DAZ
  if ((r32() & 7) === 0) m |= 0x8000; // FTZ
  if ((r32() & 7) === 0) m &= ~(1 << (7 + (r32() % 6))); // one exception unmasked
  if ((r32() & 3) === 0) m |= r32() & 0x3f; // sticky flags already set
  return m;
}

function hostHasAvx2(): boolean {
  try { return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')); } catch { return false; }
}

test('VEX forms match the host CPU bit for bit (registers, MXCSR, memory, faults)', (t) => {
  const gcc = spawnSync('gcc', ['--version']);
  if (gcc.error || gcc.status !== 0) { t.skip('gcc not found: differential AVX test skipped'); return; }
  if (!hostHasAvx2()) { t.skip('host CPU without AVX2: differential AVX test skipped'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'nestvisor-avx-'));
  try {
    const exe = join(dir, 'avx-harness');
    const cc = spawnSync('gcc', ['-O1', '-mno-red-zone', '-o', exe, SOURCE], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `gcc failed: ${cc.stderr}`);
    const cases: Case[] = [];
    for (const form of FORMS) {
      for (let i = 0; i < PER_FORM; i++) {
        const y0 = dwords(null), y1 = dwords(y0), y2 = dwords(y1), y3 = dwords(y0);
        const m = dwords(y1).concat(dwords(y2));
        cases.push({
          form, code: encode(form), y: [y0, y1, y2, y3].map(ymmStr), mxcsr: mxcsr(),
          rax: hx(r32(), 8) + hx(r32(), 8), mem: m.slice().reverse().map((x) => hx(x, 8)).join(''),
        });
      }
    }
    const line = (c: Case): string => `${c.code.map((b) => hx(b, 2)).join('')} ${c.y.join(' ')} ${c.mxcsr.toString(16)} ${c.rax} ${c.mem}`;
    const run = spawnSync(exe, [], { input: cases.map(line).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, `harness failed (signal ${run.signal}): ${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, cases.length);
    const tc = makeAvxCpu('long64', { avx2: true, fma: true, f16c: true });
    // the nestvisor-amd profile, as this AMD host: VLDMXCSR takes MXCSR bit 17 (fpu/state.ts)
    (tc.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(amdProfile(), { avx2: true, fma: true, f16c: true });
    const fails = new Map<string, number>();
    const shown: string[] = [];
    const faults = new Map<string, number>();
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const want = lines[i]!.startsWith('SIG') ? lines[i]! : lines[i]!.replace(/^(\S+ \S+ \S+ \S+ \S+) (\S+)/, (_m, a: string, r: string) => `${a} ${BigInt('0x' + r).toString(16)}`);
      const got = emulate(tc, c, 32); // up to the HLT: spec files may add a few instructions around the VEX one
      if (want.startsWith('SIG')) { const k = want.slice(0, 6).trim(); faults.set(k, (faults.get(k) ?? 0) + 1); }
      if (want !== got) {
        const n = (fails.get(c.form.name) ?? 0) + 1;
        fails.set(c.form.name, n);
        if (n <= 2 && shown.length < 20) shown.push(`${c.form.name} [${c.code.map((b) => hx(b, 2)).join(' ')}]\n   in     ${line(c)}\n   native ${want}\n   emul   ${got}`);
      }
    }
    t.diagnostic(`compared ${cases.length} cases over ${FORMS.length} forms; native faults: ${[...faults].map(([k, v]) => `${k}×${v}`).join(', ')}`);
    assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
