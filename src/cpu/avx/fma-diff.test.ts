// Differential test of FMA3 (avx/fma.ts) against this machine's CPU: every form (30 opcodes ×
// W0/W1, VEX.128 and VEX.256 for the packed forms, L = 0/1 for the LIG scalars, register
// and [rdx+disp8] memory operands, any register aliasing) on operands built per element ROLE
// (a·b ± c in the form's multiplication order) from themes that hit the hard cases of a
// single rounding: exact cancellation and near-cancellation (c = −fl(a·b) ± ulps), ties in
// every rounding mode (products of short odd significands), overflow to ∞/MAX, underflow to
// denormals with and without FTZ, and NaN/∞/0/denormal operands; MXCSR with random RC,
// DAZ, FTZ, unmasked exceptions and sticky flags. Bit for bit, faults included (#XM ↔ SIGFPE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, nativeUnavailable, hx, type NativeCase } from './native-diff.js';

const SCALE = Math.max(1, Number(process.env['NV_FUZZ_SCALE'] ?? 1) || 1);

let s = 0x0f3a1234;
function r32(): number { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; }
const rnd = (n: number): number => r32() % n;
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;

interface Form { name: string; op: number; order: number; scalar: boolean; w: number }
const FORMS: Form[] = [];
for (const [col, order] of [[0x90, 132], [0xa0, 213], [0xb0, 231]] as const) {
  const names = ['fmaddsub', 'fmsubadd', 'fmadd', 'fmadd', 'fmsub', 'fmsub', 'fnmadd', 'fnmadd', 'fnmsub', 'fnmsub'];
  for (let k = 0; k < 10; k++) {
    const scalar = k >= 2 && (k & 1) === 1;
    for (const w of [0, 1]) {
      const suf = scalar ? (w ? 'sd' : 'ss') : (w ? 'pd' : 'ps');
      FORMS.push({ name: `v${names[k]}${order}${suf}`, op: col + 6 + k, order, scalar, w });
    }
  }
}

// ---- operand bits ---------------------------------------------------------------------------
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1), u64 = new Uint32Array(f64.buffer);
const bits32 = (x: number): number => { f32[0] = x; return u32[0]!; };
const bits64 = (x: number): [number, number] => { f64[0] = x; return [u64[0]!, u64[1]!]; };

const SP32 = [0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00000,
  0xffbfffff, 0x00000001, 0x807fffff, 0x00400000, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f7fffff, 0x33800000];
const SP64: [number, number][] = [[0, 0], [0, 0x80000000], [0, 0x3ff00000], [0, 0xbff00000], [0, 0x7ff00000], [0, 0xfff00000],
  [0, 0x7ff80000], [1, 0x7ff00000], [0, 0xfff40000], [1, 0], [0xffffffff, 0x800fffff], [0, 0x00080000], [0, 0x00100000],
  [0xffffffff, 0x7fefffff], [0xffffffff, 0xffefffff], [0xffffffff, 0x3fefffff]];

/** A random finite value with the exponent in [lo, hi] and a random significand. */
function randIn(single: boolean, lo: number, hi: number): number {
  const e = lo + rnd(hi - lo + 1);
  const m = 1 + (r32() / 4294967296) + (single ? 0 : r32() / 18446744073709551616);
  const v = m * 2 ** e * (r32() & 1 ? -1 : 1);
  return single ? Math.fround(v) : v;
}
/** An odd integer of up to `bits` bits times 2^e (short significands: products are exact ties often). */
function shortOdd(bits: number, e: number): number {
  return ((r32() % (2 ** Math.min(bits, 31))) | 1) * 2 ** e * (r32() & 1 ? -1 : 1);
}

const THEMES = ['rand', 'tie', 'cancel', 'partial', 'over', 'under', 'special', 'zero'] as const;

/** (a, b, c) for one element in a theme, as element bits (dword, or [lo, hi]). */
function triple(single: boolean, theme: typeof THEMES[number]): number[][] {
  const p = single ? 24 : 53, emax = single ? 127 : 1023, emin = single ? -126 : -1022;
  const fl = (x: number): number => single ? Math.fround(x) : x;
  let a: number, b: number, c: number;
  switch (theme) {
    case 'tie': {
      if (rnd(2) === 0) {
        // a·b exact on the p-bit grid, c a power of two near its half ulp: x is (or is next to) a midpoint
        const ka = 2 + rnd((p >> 1) - 2), kb = 1 + rnd(p - 1 - ka);
        a = shortOdd(ka, rnd(9) - 4); b = shortOdd(kb, rnd(9) - 4);
        const pe = Math.floor(Math.log2(Math.abs(a * b)));
        c = (r32() & 1 ? -1 : 1) * 2 ** (pe - p + rnd(3) - 1) * (rnd(4) === 0 ? 3 : 1);
      } else {
        // c on the p-bit grid, a·b = ±(1 or 3)·half its ulp (a power of two times a small odd)
        c = randIn(single, -10, 10);
        const ec = Math.floor(Math.log2(Math.abs(c)));
        const i = rnd(7) - 3;
        a = (r32() & 1 ? -1 : 1) * 2 ** i;
        b = (r32() & 1 ? -1 : 1) * pick([1, 3, 1.5, 0.75]) * 2 ** (ec - p - i - rnd(2));
      }
      break;
    }
    case 'cancel': {
      a = randIn(single, -20, 20); b = randIn(single, -20, 20);
      const q = fl(a * b);
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(q))) - (p - 1));
      c = -q + (rnd(3) - 1) * ulp * rnd(3);
      if (rnd(4) === 0) c = -fl(-c);
      break;
    }
    case 'partial': {
      // c cancels the top k bits of fl(a·b): the product's low part lands anywhere on q's grid
      a = randIn(single, -20, 20); b = randIn(single, -20, 20);
      const k = 1 + rnd(single ? 30 : 60);
      c = fl(-fl(a * b) * (1 - 2 ** -k) + (rnd(2) ? 0 : fl(a * b) * 2 ** -(k + 1 + rnd(60))));
      break;
    }
    case 'over':
      a = randIn(single, emax / 2 - 4, emax); b = randIn(single, emax / 2 - 4, emax / 2 + 4);
      c = rnd(2) ? randIn(single, emax - 3, emax) : randIn(single, -4, 4);
      break;
    case 'under': {
      const k = emin / 2;
      a = randIn(single, k - 3 - rnd(p), k + 2); b = randIn(single, k - 3, k + 2);
      c = rnd(3) === 0 ? -fl(a * b) + (rnd(2) ? 0 : fl(a * b * 2 ** -(rnd(p) + 1))) : randIn(single, emin - p + 1 + rnd(4), emin + 2);
      break;
    }
    case 'zero':
      a = pick([0, -0, randIn(single, -3, 3)]); b = pick([0, -0, randIn(single, -3, 3)]); c = pick([0, -0, randIn(single, -3, 3)]);
      break;
    default:
      a = randIn(single, -30, 30); b = randIn(single, -30, 30); c = randIn(single, -60, 60);
      break;
  }
  const vals = [a, b, c].map((x) => single ? [bits32(fl(x))] : bits64(x));
  // specials sprinkled in: NaNs (either kind, any position), infinities, denormals, extremes
  const sp = theme === 'special' ? 0.6 : 0.05;
  for (let k = 0; k < 3; k++) if (r32() / 4294967296 < sp) vals[k] = single ? [pick(SP32)] : [...pick(SP64)];
  return vals;
}

function mxcsr(): number {
  let m = 0x1f80 | (rnd(4) << 13);
  if (rnd(6) === 0) m |= 0x40;
  if (rnd(4) === 0) m |= 0x8000;
  if (rnd(8) === 0) m &= ~(1 << (7 + pick([0, 1, 3, 4, 5])));
  if (rnd(4) === 0) m |= r32() & 0x3f;
  return m;
}

/** One random instance of a form with role-aware operands. */
function makeCase(f: Form): NativeCase {
  const single = f.w === 0;
  const l = f.scalar ? rnd(2) : rnd(2);
  const reg = rnd(4), v = rnd(4), mem = rnd(3) === 0, rm = rnd(4), disp = f.scalar || rnd(2) ? rnd(33) : 0;
  const code = [0xc4, 0xe2, (f.w << 7) | ((~v & 15) << 3) | (l << 2) | 1, f.op];
  if (mem) code.push(0x42 | (reg << 3), disp); else code.push(0xc0 | (reg << 3) | rm);
  // dword images of ymm0-3 and the 64-byte buffer, filled with background material first
  const y = [0, 1, 2, 3].map(() => Array.from({ length: 8 }, () => single ? bits32(randIn(true, -8, 8)) : r32()));
  const buf = Array.from({ length: 16 }, () => r32());
  const theme = pick(THEMES);
  // the role of each source: 'd' = ModRM.reg, 'v' = vvvv, 'm' = r/m (register or memory)
  const roles = f.order === 132 ? ['d', 'm', 'v'] : f.order === 213 ? ['v', 'd', 'm'] : ['v', 'm', 'd'];
  const n = f.scalar ? 1 : (single ? 4 : 2) << l;
  const tmpBuf = new Uint8Array(64);
  new Uint32Array(tmpBuf.buffer).set(buf);
  for (let i = 0; i < n; i++) {
    const t = triple(single, rnd(3) === 0 ? pick(THEMES) : theme);
    for (let k = 0; k < 3; k++) {
      const role = roles[k]!, val = t[k]!;
      if (role === 'm' && mem) {
        const dv = new DataView(tmpBuf.buffer);
        const off = disp + (single ? 4 : 8) * i;
        if (off + (single ? 4 : 8) > 64) continue;
        dv.setUint32(off, val[0]!, true); if (!single) dv.setUint32(off + 4, val[1]!, true);
      } else {
        const r = role === 'd' ? reg : role === 'v' ? v : rm;
        if (single) y[r]![i] = val[0]!; else { y[r]![2 * i] = val[0]!; y[r]![2 * i + 1] = val[1]!; }
      }
    }
  }
  const bw = new Uint32Array(tmpBuf.buffer);
  return {
    code, y: y.map((d) => d.slice().reverse().map((x) => hx(x, 8)).join('')), mxcsr: mxcsr(),
    rax: hx(r32(), 8) + hx(r32(), 8), mem: Array.from(bw).reverse().map((x) => hx(x, 8)).join(''),
  };
}

test('FMA3: every form matches the host CPU bit for bit (edge operands, all MXCSR modes, faults)', (t) => {
  const why = nativeUnavailable('fma');
  if (why !== null) { t.skip(`${why}: differential FMA test skipped`); return; }
  const cases: NativeCase[] = [];
  for (const f of FORMS) {
    for (let i = 0; i < 80 * SCALE; i++) cases.push(makeCase(f));
  }
  const names = cases.map((_c, i) => FORMS[Math.floor(i / (80 * SCALE))]!.name);
  const idx = new Map(cases.map((c, i) => [c, i]));
  const { fails, shown, faults } = compare(cases, (c) => names[idx.get(c)!]!);
  t.diagnostic(`compared ${cases.length} cases over ${FORMS.length} forms; native faults: ${[...faults].map(([k, v]) => `${k}×${v}`).join(', ')}`);
  assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
  // the generator reaches what it is for: #XM faults, and results of every class
  assert.ok((faults.get('SIG 8') ?? 0) > 0, 'no unmasked exception was reached');
});

test('FMA3 core: 20000 scalar single/double triples per theme against the host', (t) => {
  const why = nativeUnavailable('fma');
  if (why !== null) { t.skip(`${why}: differential FMA test skipped`); return; }
  const cases: NativeCase[] = [];
  const names: string[] = [];
  const n = 20000 * SCALE;
  for (let i = 0; i < n; i++) {
    const single = (i & 1) === 0;
    const theme = THEMES[(i >> 1) % THEMES.length]!;
    const [a, b, c] = triple(single, theme);
    // vfmadd231ss/sd xmm0, xmm1, xmm2: xmm0 = xmm1·xmm2 + xmm0 (variants by i: fmsub/fnmadd/fnmsub)
    const op = 0xb9 + 2 * ((i >> 4) & 3);
    const code = [0xc4, 0xe2, ((single ? 0 : 1) << 7) | (14 << 3) | 1, op, 0xc2];
    const y = [c!, a!, b!, [0]].map((d) => d.length === 1 ? hx(d[0]!, 64) : hx(d[1]!, 56) + hx(d[0]!, 8));
    cases.push({ code, y, mxcsr: mxcsr(), rax: '0', mem: '0'.repeat(128) });
    names.push(`${theme} ${single ? 'ss' : 'sd'} op ${op.toString(16)}`);
  }
  const idx = new Map(cases.map((c, i) => [c, i]));
  const { fails, shown } = compare(cases, (c) => names[idx.get(c)!]!);
  t.diagnostic(`compared ${cases.length} scalar cases`);
  assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
});

test('FMA3/F16C slots: every encoding (pp × L × W × register/memory, F16C also vvvv) behaves as on the host', (t) => {
  const why = nativeUnavailable('fma') ?? nativeUnavailable('f16c');
  if (why !== null) { t.skip(`${why}: differential FMA test skipped`); return; }
  const slots: [number, number, boolean][] = [[2, 0x13, false], [3, 0x1d, true]];
  for (const col of [0x90, 0xa0, 0xb0]) for (let k = 6; k <= 15; k++) slots.push([2, col + k, false]);
  const cases: NativeCase[] = [], names: string[] = [];
  for (const [map, op, imm] of slots) {
    for (let pp = 0; pp < 4; pp++) for (let l = 0; l < 2; l++) for (let w = 0; w < 2; w++) for (const mem of [false, true]) {
      for (const v of op === 0x13 || op === 0x1d ? [0, 5] : [1]) {
        const code = [0xc4, 0xe0 | map, (w << 7) | ((~v & 15) << 3) | (l << 2) | pp, op, mem ? 0x42 | (2 << 3) : 0xc0 | (2 << 3) | 3, ...(mem ? [rnd(33)] : [])];
        if (imm) code.push(r32() & 0xff);
        const y = [0, 1, 2, 3].map(() => Array.from({ length: 8 }, () => bits32(randIn(true, -8, 8))));
        cases.push({
          code, y: y.map((d) => d.slice().reverse().map((x) => hx(x, 8)).join('')), mxcsr: 0x1f80 | (rnd(4) << 13),
          rax: '0', mem: Array.from({ length: 16 }, () => hx(bits32(randIn(true, -8, 8)), 8)).join(''),
        });
        names.push(`map${map} ${op.toString(16)} pp${pp} L${l} W${w} ${mem ? 'mem' : 'reg'} vvvv=${v}`);
      }
    }
  }
  const idx = new Map(cases.map((c, i) => [c, i]));
  const { fails, shown, faults } = compare(cases, (c) => names[idx.get(c)!]!);
  t.diagnostic(`compared ${cases.length} encodings; native faults: ${[...faults].map(([k, v]) => `${k}×${v}`).join(', ')}`);
  assert.equal(fails.size, 0, `mismatches: ${[...fails].map(([k, v]) => `${k}:${v}`).join(' ')}\n${shown.join('\n')}`);
});
