// Differential test of F16C (avx/f16c.ts) against this machine's CPU: VCVTPH2PS and
// VCVTPS2PH, VEX.128 and VEX.256, register and [rdx+disp8] memory operands (a memory
// destination for VCVTPS2PH), imm8 with every rounding control, imm8[2] (MXCSR.RC) and
// junk in bits 7:3, MXCSR with random RC/DAZ/FTZ/unmasked exceptions; operands: halves of
// every class (denormals, NaNs of both kinds, ∞), singles around the half range — ties at
// 11 bits, the overflow boundary 65504..65536, the subnormal range and below it, single
// denormals, NaNs — and some VEX.W1 / vvvv ≠ 1111b encodings (#UD). Bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, nativeUnavailable, hx, type NativeCase } from './native-diff.js';

const SCALE = Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);
let s = 0x16c0ffee;
function r32(): number { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; }
const rnd = (n: number): number => r32() % n;
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const bits32 = (x: number): number => { f32[0] = x; return u32[0]!; };

const H_SPECIAL = [0, 0x8000, 0x0001, 0x83ff, 0x0200, 0x0400, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7c01, 0xfdff, 0x7e00, 0xfe01, 0x3c00, 0x3555];
function half(): number {
  return rnd(3) === 0 ? pick(H_SPECIAL) : rnd(2) === 0 ? r32() & 0xffff : (r32() & 0x83ff) | ((rnd(31)) << 10);
}
const S_SPECIAL = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7f800001, 0xffbfffff, 0x7fc00000, 0xffc12345, 0x00000001, 0x807fffff,
  0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001, 0x47800000, 0x387fc000, 0x33800000, 0x33000000, 0x33000001, 0x38800000, 0x7f7fffff];
function single(): number {
  switch (rnd(5)) {
    case 0: return pick(S_SPECIAL);
    case 1: { // a tie or near-tie at 11 significant bits
      const m = (r32() & 0x7ff) | 0x800; // 12 bits, top set
      const v = (m + pick([0, 0, 2 ** -6, -(2 ** -6)])) * 2 ** (rnd(46) - 40);
      return bits32(v) ^ (r32() & 0x80000000);
    }
    case 2: return bits32(65504 + (rnd(64) - 16) * (r32() & 1 ? 1 : 0.25)) ^ (r32() & 0x80000000);
    case 3: return (r32() & 0x807fffff) | ((100 + rnd(45)) << 23); // around and below the half subnormals
    default: return (r32() & 0x807fffff) | ((112 + rnd(32)) << 23);
  }
}
function mxcsr(): number {
  let m = 0x1f80 | (rnd(4) << 13);
  if (rnd(5) === 0) m |= 0x40;
  if (rnd(4) === 0) m |= 0x8000;
  if (rnd(6) === 0) m &= ~(1 << (7 + pick([0, 1, 3, 4, 5])));
  if (rnd(4) === 0) m |= r32() & 0x3f;
  return m;
}

interface Kind { name: string; ph2ps: boolean }
function makeCase(k: Kind): NativeCase {
  const l = rnd(2), w = rnd(12) === 0 ? 1 : 0, v = rnd(12) === 0 ? 1 + rnd(15) : 0;
  const reg = rnd(4), rm = rnd(4), mem = rnd(3) === 0, disp = rnd(33);
  const code = k.ph2ps ? [0xc4, 0xe2, (w << 7) | ((~v & 15) << 3) | (l << 2) | 1, 0x13] : [0xc4, 0xe3, (w << 7) | ((~v & 15) << 3) | (l << 2) | 1, 0x1d];
  if (mem) code.push(0x42 | (reg << 3), disp); else code.push(0xc0 | (reg << 3) | rm);
  if (!k.ph2ps) code.push(rnd(3) === 0 ? r32() & 0xff : rnd(8));
  const y = [0, 1, 2, 3].map(() => Array.from({ length: 8 }, () => k.ph2ps ? (half() | (half() << 16)) >>> 0 : single()));
  const buf = Array.from({ length: 16 }, () => k.ph2ps ? (half() | (half() << 16)) >>> 0 : r32());
  return {
    code, y: y.map((d) => d.slice().reverse().map((x) => hx(x, 8)).join('')), mxcsr: mxcsr(),
    rax: hx(r32(), 8) + hx(r32(), 8), mem: buf.slice().reverse().map((x) => hx(x, 8)).join(''),
  };
}

test('F16C: VCVTPH2PS and VCVTPS2PH match the host CPU bit for bit', (t) => {
  const why = nativeUnavailable('f16c');
  if (why !== null) { t.skip(`${why}: differential F16C test skipped`); return; }
  const cases: NativeCase[] = [], names: string[] = [];
  for (const k of [{ name: 'vcvtph2ps', ph2ps: true }, { name: 'vcvtps2ph', ph2ps: false }]) {
    for (let i = 0; i < 3000 * SCALE; i++) {
      const c = makeCase(k);
      cases.push(c);
      names.push(`${k.name} L${(c.code[2]! >> 2) & 1} ${(c.code[4]! >> 6) === 3 ? 'reg' : 'mem'}`);
    }
  }
  const idx = new Map(cases.map((c, i) => [c, i]));
  const { fails, shown, faults } = compare(cases, (c) => names[idx.get(c)!]!);
  t.diagnostic(`compared ${cases.length} cases; native faults: ${[...faults].map(([k, v]) => `${k}×${v}`).join(', ')}`);
  assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
  assert.ok((faults.get('SIG 8') ?? 0) > 0 && (faults.get('SIG 4') ?? 0) > 0, 'the generator reaches #XM and #UD');
});
