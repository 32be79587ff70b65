/**
 * Instruction forms and operand generators of the x87 differential test (x87-diff.test.ts).
 * Memory forms use ModRM mod 00, rm 010 ([rdx], 16-aligned); register forms name ST(i).
 * Test-only code: it may allocate freely.
 */

// ---- deterministic generator (mulberry32) -------------------------------------------------------
let seed = 0x87878787;
export function r32(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
/** Restarts the sequence from another seed (x87-trans-diff's X87T_SEED: fresh operands). */
export function reseed(s: number): void { seed = s | 0; }
const pick = <T>(a: readonly T[]): T => a[r32() % a.length]!;

/** An 80-bit value: sign/exponent, significand high and low words (unsigned). */
export type V80 = [number, number, number];

export function rnd80(): V80 {
  const s = (r32() & 1) << 15;
  const k = r32() % 32;
  const m = (): number => r32();
  switch (k) {
    case 0: return [s, 0, 0];
    case 1: return [s | 0x7fff, 0x80000000, 0];
    case 2: return [s | 0x7fff, (0xc0000000 | m()) >>> 0, m()];
    case 3: return [s | 0x7fff, (0x80000000 | (m() & 0x3fffffff) | 1) >>> 0, m()];
    case 4: case 5: return [s, m() & 0x7fffffff, m()];
    case 6: return [s, (m() & 0xff) >>> 0, m()]; // deep denormal
    case 7: return [s | (0x7ffe - (m() % 16)), (0x80000000 | m()) >>> 0, m()];
    case 8: return [s | (1 + (m() % 64)), (0x80000000 | m()) >>> 0, m()];
    case 9: { // small integer
      const v = m() % 100000 + 1, z = Math.clz32(v);
      return [s | (0x3fff + 31 - z), (v << z) >>> 0, 0];
    }
    case 10: return [s | (0x3fff + (m() % 40) - 20), (0x80000000 | (m() & 0xffffff00)) >>> 0, 0];
    case 11: return [s | (0x3fff + (m() % 8)), 0xffffffff, (0xffffffff - (m() % 4)) >>> 0];
    case 12: return [s | (0x3fff + (m() % 8)), 0x80000000, m() % 4];
    case 13: return [s | (0x3fff + 63 + (m() % 4)), (0x80000000 | m()) >>> 0, m()]; // around 2^63
    case 14: if (r32() % 4 === 0) return [s | (1 + (m() % 0x7ffe)), m() & 0x7fffffff, m()]; // unnormal / pseudo-denormal
      return [s, (0x80000000 | m()) >>> 0, m()];
    case 15: return [s | (0x3fff - (m() % 4)), (0x80000000 | m()) >>> 0, m()]; // near 1
    case 16: return [s | (m() & 0x7fff), (0x80000000 | m()) >>> 0, m()];
    default: return [s | (0x3fff + (m() % 160) - 80), (0x80000000 | m()) >>> 0, m()];
  }
}

/** A value close to v (for cancellation in subtraction and ties in comparisons). */
function near(v: V80): V80 {
  const k = r32() % 4;
  if (k === 0) return [v[0], v[1], v[2]];
  if (k === 1) return [v[0] ^ 0x8000, v[1], v[2]];
  return [v[0] ^ (r32() & 0x8000), v[1], (v[2] + (r32() % 5) - 2) >>> 0];
}

export interface X87Image { fcw: number; fsw: number; tags: number; st: V80[]; mem: Uint8Array; rax: number; fl: number }

/** Memory operand generators: fill the first bytes of the 128-byte buffer. */
export type MemGen = (mem: Uint8Array) => void;
const F32_EDGES = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x3f800000, 0x7f7fffff, 0x4f000000, 0xcf000000];
export const m32fp: MemGen = (b) => {
  const k = r32() % 4;
  const v = k === 0 ? pick(F32_EDGES) : k === 1 ? (r32() & 0x807fffff) : ((r32() & 0x807fffff) | ((0x70 + (r32() % 32)) << 23)) >>> 0;
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
};
export const m64fp: MemGen = (b) => {
  const dv = new DataView(b.buffer), k = r32() % 5;
  let hi: number, lo = r32();
  if (k === 0) { hi = pick([0, 0x80000000, 0x7ff00000, 0xfff00000, 0x7ff80000, 0x7ff00001, 0x000fffff, 0x80000000 | 0x00100000]); lo = r32() % 3 === 0 ? 0 : lo; }
  else if (k === 1) hi = r32() & 0x800fffff;
  else hi = ((r32() & 0x800fffff) | ((0x3c0 + (r32() % 128)) << 20)) >>> 0;
  dv.setUint32(0, lo >>> 0, true); dv.setUint32(4, hi >>> 0, true);
};
export const mInt: MemGen = (b) => {
  const dv = new DataView(b.buffer), k = r32() % 4;
  const lo = k === 0 ? pick([0, 1, 0xffffffff, 0x80000000, 0x7fffffff, 0x8000, 0x7fff, 0xffff]) : k === 1 ? r32() % 1000 : r32();
  const hi = k === 3 ? r32() : lo > 0x7fffffff && r32() % 2 ? 0xffffffff : 0;
  dv.setUint32(0, lo >>> 0, true); dv.setUint32(4, hi >>> 0, true);
};
export const mBcd: MemGen = (b) => {
  for (let i = 0; i < 9; i++) b[i] = (r32() % 10) | ((r32() % 10) << 4);
  b[9] = r32() & 0x80;
};
export const m80fp: MemGen = (b) => {
  const v = rnd80(), dv = new DataView(b.buffer);
  dv.setUint32(0, v[2] >>> 0, true); dv.setUint32(4, v[1] >>> 0, true); dv.setUint16(8, v[0], true);
};
export const mCw: MemGen = (b) => {
  const v = 0x40 | (r32() & 0x3f) | (pick([0, 2, 3]) << 8) | ((r32() & 3) << 10);
  b[0] = v & 0xff; b[1] = v >> 8;
};
/** A plausible FLDENV/FRSTOR image (32-bit protected layout) with masked exceptions only. */
export const mEnv: MemGen = (b) => {
  const dv = new DataView(b.buffer);
  const fcw = 0x40 | 0x3f | (pick([0, 2, 3]) << 8) | ((r32() & 3) << 10);
  dv.setUint32(0, 0xffff0000 | fcw, true);
  dv.setUint32(4, 0xffff0000 | (r32() & 0x473f), true);
  dv.setUint32(8, 0xffff0000 | (r32() & 0xffff), true);
  for (let i = 0; i < 8; i++) { const v = rnd80(); dv.setUint32(28 + 10 * i, v[2] >>> 0, true); dv.setUint32(32 + 10 * i, v[1] >>> 0, true); dv.setUint16(36 + 10 * i, v[0], true); }
};

/** Generator options: `st` rewrites the drawn ST(0)-ST(7) (edge operands for one instruction). */
export interface GenOpts { emptyPct?: number; unmasked?: boolean; st?: (st: V80[]) => void }

export function genImage(memGen: MemGen | null, opts: GenOpts = {}): X87Image {
  const masks = opts.unmasked || r32() % 6 === 0 ? r32() & 0x3f : 0x3f;
  const fcw = 0x40 | masks | (pick([0, 2, 3, 3]) << 8) | ((r32() & 3) << 10);
  const top = r32() & 7;
  const fsw = (top << 11) | (r32() & 0x4700) | (r32() & masks & 0x3f);
  let tags = 0;
  const st: V80[] = [];
  for (let i = 0; i < 8; i++) st.push(i === 1 && r32() % 3 === 0 ? near(st[0]!) : rnd80());
  if (opts.st) opts.st(st);
  for (let i = 0; i < 8; i++) {
    const empty = r32() % 100 < (opts.emptyPct ?? 8);
    const p = (top + i) & 7;
    tags |= (empty ? 3 : 0) << (2 * p);
  }
  const mem = new Uint8Array(128);
  for (let i = 0; i < 128; i++) mem[i] = r32() & 0xff;
  if (memGen) memGen(mem);
  return { fcw, fsw, tags, st, mem, rax: r32(), fl: r32() & 0x8d5 };
}

/**
 * fixed: images run once before the generated ones (regression cases found by longer hunts).
 * No FSW bit is masked: vendor differences are modelled per profile and the test runs the one
 * of this host (nestvisor-amd).
 */
export interface X87Spec { name: string; count: number; code: number[]; mem: MemGen | null; opts?: GenOpts; maskMem?: [number, number]; fixed?: X87Image[] }

export const SPECS: X87Spec[] = [];
const add = (name: string, code: number[], mem: MemGen | null, count = 120, opts?: X87Spec['opts'], maskMem?: [number, number]): void => {
  SPECS.push({ name, count, code, mem, opts, maskMem });
};
const MEMF = (r: number): number => 0x02 | (r << 3);
const ARITH = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'];

for (let r = 0; r < 8; r++) {
  const n = r === 2 || r === 3 ? 150 : 300;
  add(`fi${ARITH[r]} m32int`, [0xda, MEMF(r)], mInt, n / 3);
  add(`f${ARITH[r]} m32fp`, [0xd8, MEMF(r)], m32fp, n);
  add(`f${ARITH[r]} m64fp`, [0xdc, MEMF(r)], m64fp, n);
  add(`fi${ARITH[r]} m16int`, [0xde, MEMF(r)], mInt, n / 3);
  for (const i of [0, 1, 3]) add(`f${ARITH[r]} st0,st${i}`, [0xd8, 0xc0 | (r << 3) | i], null, n / 2);
  if (r !== 2 && r !== 3) {
    add(`dc/${r} st1,st0`, [0xdc, 0xc0 | (r << 3) | 1], null, n / 2);
    add(`de/${r} st2,st0 pop`, [0xde, 0xc0 | (r << 3) | 2], null, n / 2);
  }
}
// unmasked exceptions: results wrapped by 24576 or left alone, ES/B set
for (const [nm, c] of [['fadd', 0xc1], ['fmul', 0xc9], ['fdiv', 0xf1], ['fsub', 0xe1]] as const) add(`${nm} st0,st1 unmasked`, [0xd8, c], null, 300, { unmasked: true });
add('fcompp', [0xde, 0xd9], null, 200);
add('fucompp', [0xda, 0xe9], null, 200);
for (let r = 0; r < 4; r++) add(`fcmov/${r}`, [0xda, 0xc0 | (r << 3) | 2], null, 60);
for (let r = 0; r < 4; r++) add(`fcmovn/${r}`, [0xdb, 0xc0 | (r << 3) | 2], null, 60);
// FCOMI family: the SDM says C1 = 0; this AMD host leaves C1 alone, as the nestvisor-amd profile
// the test runs does (fpu/x87-ldst.ts fcomi): C1 is compared
for (const [nm, c] of [['fucomi', [0xdb, 0xe9]], ['fcomi', [0xdb, 0xf1]], ['fucomip', [0xdf, 0xe9]], ['fcomip', [0xdf, 0xf2]]] as const) {
  add(nm, [...c], null, 200);
}
add('fucom', [0xdd, 0xe1], null, 150); add('fucomp', [0xdd, 0xe9], null, 150);
// loads and stores
add('fld m32fp', [0xd9, MEMF(0)], m32fp, 200);
add('fld m64fp', [0xdd, MEMF(0)], m64fp, 200);
add('fld m80fp', [0xdb, MEMF(5)], m80fp, 150);
add('fst m32fp', [0xd9, MEMF(2)], null, 400);
add('fstp m32fp', [0xd9, MEMF(3)], null, 150);
add('fst m64fp', [0xdd, MEMF(2)], null, 400);
add('fstp m64fp', [0xdd, MEMF(3)], null, 150);
add('fst m32fp unmasked', [0xd9, MEMF(2)], null, 150, { unmasked: true });
add('fstp m80fp', [0xdb, MEMF(7)], null, 100);
add('fild m16', [0xdf, MEMF(0)], mInt, 80); add('fild m32', [0xdb, MEMF(0)], mInt, 80); add('fild m64', [0xdf, MEMF(5)], mInt, 80);
add('fist m16', [0xdf, MEMF(2)], null, 200); add('fistp m16', [0xdf, MEMF(3)], null, 100);
add('fist m32', [0xdb, MEMF(2)], null, 200); add('fistp m32', [0xdb, MEMF(3)], null, 100);
add('fistp m64', [0xdf, MEMF(7)], null, 200);
add('fisttp m16', [0xdf, MEMF(1)], null, 100); add('fisttp m32', [0xdb, MEMF(1)], null, 100); add('fisttp m64', [0xdd, MEMF(1)], null, 100);
add('fbld', [0xdf, MEMF(4)], mBcd, 100);
add('fbstp', [0xdf, MEMF(6)], null, 200);
for (const i of [0, 1, 5]) add(`fld st${i}`, [0xd9, 0xc0 | i], null, 60);
add('fxch st1', [0xd9, 0xc9], null, 80); add('fxch st4', [0xd9, 0xcc], null, 40);
add('fst st3', [0xdd, 0xd3], null, 60); add('fstp st1', [0xdd, 0xd9], null, 60); add('fstp st0', [0xdd, 0xd8], null, 30);
add('ffree st2', [0xdd, 0xc2], null, 30); add('fnop', [0xd9, 0xd0], null, 20);
add('fchs', [0xd9, 0xe0], null, 60); add('fabs', [0xd9, 0xe1], null, 60);
add('ftst', [0xd9, 0xe4], null, 150); add('fxam', [0xd9, 0xe5], null, 200);
for (let k = 0; k < 7; k++) add(`fldconst/${k}`, [0xd9, 0xe8 + k], null, 40, { emptyPct: 50 });
add('fxtract', [0xd9, 0xf4], null, 200, { emptyPct: 30 });
add('fprem1', [0xd9, 0xf5], null, 300); add('fprem', [0xd9, 0xf8], null, 300);
add('fdecstp', [0xd9, 0xf6], null, 20); add('fincstp', [0xd9, 0xf7], null, 20);
add('fsqrt', [0xd9, 0xfa], null, 400); add('frndint', [0xd9, 0xfc], null, 300); add('fscale', [0xd9, 0xfd], null, 300);
add('fsqrt unmasked', [0xd9, 0xfa], null, 100, { unmasked: true });
// control
add('fldcw', [0xd9, MEMF(5)], mCw, 60); add('fnstcw', [0xd9, MEMF(7)], null, 20);
add('fnstsw m16', [0xdd, MEMF(7)], null, 20); add('fnstsw ax', [0xdf, 0xe0], null, 20);
add('fnclex', [0xdb, 0xe2], null, 20); add('fninit', [0xdb, 0xe3], null, 20);
add('fnstenv', [0xd9, MEMF(6)], null, 40, undefined, [12, 28]);
add('fldenv', [0xd9, MEMF(4)], mEnv, 40);
add('fnsave', [0xdd, MEMF(6)], null, 40, undefined, [12, 28]);
add('frstor', [0xdd, MEMF(4)], mEnv, 40);
add('fwait', [0x9b], null, 20);
// sequences: precision control with dependent operations
add('fld1 fadd st0,st1 fmul st0,st2 fdiv st0,st3 fsqrt', [0xd9, 0xe8, 0xd8, 0xc1, 0xd8, 0xca, 0xd8, 0xf3, 0xd9, 0xfa], null, 200, { emptyPct: 0 });

// ---- forms the coverage audit (sse/diff-audit.test.ts) found without a spec -----------------------
// Undocumented register aliases that hardware executes (SDM Vol. 2 Tables A-8..A-22 leave these
// bytes blank; hardware runs them as: DC D0+i FCOM, DC D8+i FCOMP, DD C8+i FXCH,
// DE D0+i FCOMP, DF C0+i FFREEP, DF C8+i FXCH, DF D0+i/D8+i FSTP; D9 D8+i is FSTP but an empty
// ST(0) is no underflow on this machine: just a pop, see x87-ldst.ts fstpAliasD9)
for (const [nm, b] of [['fstp alias d9', 0xd9], ['fcom alias dc', 0xdc], ['fcomp alias dc', 0xdc], ['fxch alias dd', 0xdd], ['fcomp alias de', 0xde],
  ['ffreep df', 0xdf], ['fxch alias df', 0xdf], ['fstp alias df/2', 0xdf], ['fstp alias df/3', 0xdf]] as const) {
  const row = { 'fstp alias d9': 3, 'fcom alias dc': 2, 'fcomp alias dc': 3, 'fxch alias dd': 1, 'fcomp alias de': 2, 'ffreep df': 0, 'fxch alias df': 1, 'fstp alias df/2': 2, 'fstp alias df/3': 3 }[nm];
  for (const i of [0, 1, 6]) add(`${nm} st${i}`, [b, 0xc0 | (row << 3) | i], null, 60, { emptyPct: 30 });
}
// DB E0 FENI, DB E1 FDISI, DB E4 FSETPM: 8087/80287 instructions that later FPUs execute as FNOP
for (const m of [0xe0, 0xe1, 0xe4]) add(`db ${m.toString(16)}`, [0xdb, m], null, 20);
/** A 16-bit FLDENV/FRSTOR image (SDM Vol. 1 Figure 8-10, 14 bytes then the registers) with masked exceptions. */
export const mEnv16: MemGen = (b) => {
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 0x40 | 0x3f | (pick([0, 2, 3]) << 8) | ((r32() & 3) << 10), true);
  dv.setUint16(2, r32() & 0x473f, true);
  dv.setUint16(4, r32() & 0xffff, true);
  for (let i = 0; i < 8; i++) { const v = rnd80(); dv.setUint32(14 + 10 * i, v[2] >>> 0, true); dv.setUint32(18 + 10 * i, v[1] >>> 0, true); dv.setUint16(22 + 10 * i, v[0], true); }
};
// The 16-bit operand-size images of FNSTENV/FLDENV/FNSAVE/FRSTOR (66 prefix; Vol. 1 §8.1.10):
// bytes 6-13 (FIP, FCS/FOP, FDP, FDS) hold host addresses and are not compared
add('o16 fnstenv', [0x66, 0xd9, MEMF(6)], null, 40, undefined, [6, 14]);
add('o16 fldenv', [0x66, 0xd9, MEMF(4)], mEnv16, 40);
add('o16 fnsave', [0x66, 0xdd, MEMF(6)], null, 40, undefined, [6, 14]);
add('o16 frstor', [0x66, 0xdd, MEMF(4)], mEnv16, 40);
// Stack faults on purpose: pushes onto a full stack (overflow) and operations on empty registers
// (underflow), masked and unmasked (SDM Vol. 1 §8.5.1.1)
add('fld1 full stack', [0xd9, 0xe8], null, 80, { emptyPct: 0 });
add('fld1 full stack unmasked', [0xd9, 0xe8], null, 80, { emptyPct: 0, unmasked: true });
add('fadd st0,st1 empty', [0xd8, 0xc1], null, 120, { emptyPct: 60 });
add('fadd st0,st1 empty unmasked', [0xd8, 0xc1], null, 120, { emptyPct: 60, unmasked: true });
add('fst m64fp empty unmasked', [0xdd, MEMF(2)], null, 80, { emptyPct: 60, unmasked: true });
// an unmasked exception reported by the next waiting instruction (#MF, SDM Vol. 1 §8.6): SIGFPE natively
add('fdiv st0,st1 unmasked; fwait', [0xd8, 0xf1, 0x9b], null, 120, { unmasked: true });
add('fsqrt empty unmasked; fld1', [0xd9, 0xfa, 0xd9, 0xe8], null, 80, { emptyPct: 50, unmasked: true });
// Encodings that name no x87 instruction (SDM Vol. 2 Tables A-7..A-22 blank entries, the
// undocumented aliases above excepted): #UD natively (SIGILL) and emulated
const UD_REG: Array<[number, number[]]> = [
  [0xd9, [0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xe2, 0xe3, 0xe6, 0xe7, 0xef]],
  [0xda, [0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf5, 0xf8, 0xff]],
  [0xdb, [0xe5, 0xe6, 0xe7, 0xf8, 0xfc, 0xff]],
  [0xdd, [0xf0, 0xf4, 0xf8, 0xff]],
  [0xde, [0xd8, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf]],
  [0xdf, [0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xf8, 0xfc, 0xff]],
];
for (const [esc, bs] of UD_REG) for (const m of bs) add(`ud ${esc.toString(16)} ${m.toString(16)}`, [esc, m], null, 1);
for (const [esc, r] of [[0xd9, 1], [0xdb, 4], [0xdb, 6], [0xdd, 5]] as const) add(`ud ${esc.toString(16)} m/${r}`, [esc, MEMF(r)], null, 1);

// ---- FRNDINT / FSCALE regressions (issue 4; NV_FUZZ_SCALE=10 found 21 + 26 mismatches) -----------
/** A fixed image: FCW, FSW, ST(0), ST(1) as 20 hex digits (sign/exponent first); ST(2..7) = 1.0, all valid. */
function fixedImage(fcw: number, fsw: number, st0: string, st1: string, mem = '', tags = 0): X87Image {
  const v = (h: string): V80 => [parseInt(h.slice(0, 4), 16), parseInt(h.slice(4, 12), 16), parseInt(h.slice(12, 20), 16)];
  const st = [v(st0), v(st1)];
  for (let i = 2; i < 8; i++) st.push([0x3fff, 0x80000000, 0]);
  const m = new Uint8Array(128);
  for (let i = 0; i < mem.length / 2; i++) m[i] = parseInt(mem.slice(2 * i, 2 * i + 2), 16);
  return { fcw, fsw, tags, st, mem: m, rax: 0, fl: 0 };
}
// D9 FC frndint: an unmasked IE/DE stops it and clears C1 (the input FSW has C1 set)
SPECS.push({ name: 'frndint regressions', count: 0, code: [0xd9, 0xfc], mem: null, fixed: [
  fixedImage(0x0f71, 0x2f30, '80003951d5a115e188b9', '80003951d5a115e188b9'), // denormal, DE unmasked (found at scale 10)
  fixedImage(0x0261, 0x6600, '0000000000064fd008d7', '7fff8000000000000000'), // denormal, all but IE/PE unmasked (found)
  fixedImage(0x037d, 0x0200, '0000c000000000000000', '3fff8000000000000000'), // pseudo-denormal, DE unmasked
  fixedImage(0x037e, 0x0200, '7fff8000000000000001', '3fff8000000000000000'), // SNaN, IE unmasked
  fixedImage(0x037e, 0x0200, '40000000000000000001', '3fff8000000000000000'), // unnormal (unsupported), IE unmasked
  fixedImage(0x0b7f, 0x0000, '00003951d5a115e188b9', '3fff8000000000000000'), // masked: denormal rounds up to 1, C1 = 1
] });
// D9 FD fscale: with OE/UE unmasked, a result beyond the 24576 wrap is ∞ (C1 = 1) or 0 (C1 = 0) in every RC
SPECS.push({ name: 'fscale regressions', count: 0, code: [0xd9, 0xfd], mem: null, fixed: [
  fixedImage(0x0e73, 0x3311, '3fe5a7105365c2a0a416', '7ff8dea793e37f12d0f4'), // huge ST(1), truncate → +∞ (found)
  fixedImage(0x0c44, 0x7100, 'c01efcdf0cc60d84b730', '4026e5ca5168240285cc'), // → −∞ (found)
  fixedImage(0x044e, 0x7c0a, 'c038c4f7f4fc1f76ec2f', 'c049ffb1c8455756a2e4'), // round down, negative → −0 (found)
  fixedImage(0x0a6a, 0x6308, '3fbe89ee7819766bbdd5', 'c040aaff0c44ac9073c3'), // round up → +0 (found)
  fixedImage(0x0f77, 0x0000, '3fff8000000000000000', '400e9fff000000000000'), // 2^40959: wrapped to 7FFE
  fixedImage(0x0f77, 0x0000, '3fff8000000000000000', '400ea000000000000000'), // 2^40960: ∞ under truncation
  fixedImage(0x036f, 0x0000, '3fff8000000000000000', 'c00e9ffe000000000000'), // 2^-40958: wrapped to exponent 1
  fixedImage(0x036f, 0x0000, '3fff8000000000000000', 'c00e9fff000000000000'), // 2^-40959: zero, not a denormal
  fixedImage(0x0b6f, 0x0200, '3ffeffffffffffffffff', 'c00e9ffe000000000000'), // wrapped exponent 0, RC up: still zero
  fixedImage(0x0b77, 0x0200, 'bffeffffffffffffffff', '400ea001000000000000'), // RC up, negative: −∞
] });
// Edge generators so the default scale meets these classes: FRNDINT with unmasked exceptions
// (denormal/SNaN/unsupported operands with C1 set in FSW), FSCALE with unmasked OE/UE and
// ST(1) integers around the overflow/underflow and wrap limits (±16384, ±40960) or huge
/** ST(1) for FSCALE: an integer near a limit (sometimes with a fraction), or a huge or tiny magnitude. */
const scaleSt1 = (): V80 => {
  const s = (r32() & 1) << 15;
  if (r32() % 4 === 0) return [s | (0x3fff + 16 + (r32() % 100)), (0x80000000 | r32()) >>> 0, r32()];
  const n = pick([16382, 16383, 16384, 16446, 16447, 24575, 24576, 40958, 40959, 40960, 40961, 41021, 41022, 65536]) + (r32() % 3) - 1;
  const z = Math.clz32(n);
  return [s | (0x3fff + 31 - z), (n << z) >>> 0, r32() % 3 === 0 ? r32() : 0];
};
add('frndint unmasked', [0xd9, 0xfc], null, 200, { unmasked: true });
const scaleOps = (st: V80[]): void => { st[1] = scaleSt1(); };
add('fscale unmasked limits', [0xd9, 0xfd], null, 300, { unmasked: true, st: scaleOps });
add('fscale limits', [0xd9, 0xfd], null, 150, { st: scaleOps });

// ---- tininess after rounding (SDM Vol. 1 §4.9.1.5; xf80.ts TINY_BEFORE_ROUNDING) --------------------
// A result just below the smallest normal whose rounding to p bits reaches it is no underflow
// on this machine. Found with operands at the limits: 23 of 60,000 arithmetic and 385 of 30,000
// FST cases differed while tininess was detected before rounding.
SPECS.push({ name: 'tininess regressions fmul', count: 0, code: [0xd8, 0xc9], mem: null, fixed: [
  fixedImage(0x0450, 0x4400, 'b9c1fffffffffffffffc', '063e8000000000000000'), // RC down, unmasked UE: −2^-16382, no UE
  fixedImage(0x0259, 0x0209, '156f8000000000000001', 'aa90fffffffffffffffc'), // PC 53, UE masked: PE only
] });
SPECS.push({ name: 'tininess regressions fdivr', count: 0, code: [0xd8, 0xf9], mem: null, fixed: [
  fixedImage(0x007f, 0x010f, 'f46f8000000000000002', 'b4718000000000000000'), // PC 24: rounds up to 2^-16382
  fixedImage(0x0647, 0x4304, 'dca3fffffffffffffffd', '1ca5fffffffffffffffc'),
] });
SPECS.push({ name: 'tininess regressions fst m32fp', count: 0, code: [0xd9, MEMF(2)], mem: null, fixed: [
  fixedImage(0x036b, 0x462b, '3f80ffffffac9b481517', '3fff8000000000000000'), // unmasked UE: stores 00800000, no #MF
  fixedImage(0x007f, 0x072d, '3f80ffffffffffffffff', '3fff8000000000000000'),
] });
SPECS.push({ name: 'tininess regressions fst m64fp', count: 0, code: [0xdd, MEMF(2)], mem: null, fixed: [
  fixedImage(0x0a65, 0x0705, '3c00fffffffffffffffc', '3fff8000000000000000'), // RC up, unmasked UE
  fixedImage(0x0363, 0x4221, 'bc00fffffffffffffffe', '3fff8000000000000000'),
] });
/** A significand whose top 24, 53 or 64 bits are (nearly) all ones, so rounding may carry into J. */
const nearOnes = (): [number, number] => {
  const k = r32() % 3;
  if (k === 0) return [(0xffffff00 | (r32() & 0xff)) >>> 0, r32()];
  if (k === 1) return [0xffffffff, (0xfffff800 | (r32() & 0x7ff)) >>> 0];
  return [0xffffffff, (0xffffffff - (r32() % 8)) >>> 0];
};
/**
 * ST(0)·ST(1) or ST(1)/ST(0) just below a power of two at the bottom of the normal range: ST(1)
 * a power of two, ST(0) near all ones (product) or just above 1.0 (quotient 2^k/(1 + δ)).
 */
const tinyProduct = (div: boolean) => (st: V80[]): void => {
  const [h, l] = div ? [0x80000000, 1 + (r32() % (r32() % 2 ? 8 : 0x100000))] : nearOnes();
  const e0 = div ? 0x4000 + (r32() % 0x3ff0) : 2 + (r32() % 0x3ff0), d = pick([0, 0, -1, 1]);
  st[0] = [((r32() & 1) << 15) | e0, h, l];
  // biased exponent of the product e0 + e1 − 3FFF, of the quotient e1 − e0 + 3FFF − 1: d, about 0
  const e1 = div ? e0 - 0x3fff + 1 + d : 0x3fff - e0 + d;
  st[1] = [((r32() & 1) << 15) | e1, 0x80000000, 0];
};
/** ST(0) just below the smallest normal of m32fp (bias 127) or m64fp (bias 1023). */
const tinyStore = (bias: number) => (st: V80[]): void => {
  const [h, l] = nearOnes();
  st[0] = [((r32() & 1) << 15) | (0x3fff - bias + (r32() % 3)), h, l];
};
add('fmul tiny after rounding', [0xd8, 0xc9], null, 200, { st: tinyProduct(false) });
add('fdivr tiny after rounding', [0xd8, 0xf9], null, 150, { st: tinyProduct(true) });
add('fst m32fp tiny after rounding', [0xd9, MEMF(2)], null, 150, { st: tinyStore(127) });
add('fst m64fp tiny after rounding', [0xdd, MEMF(2)], null, 150, { st: tinyStore(1023) });

// ---- FLD m32fp/m64fp of an SNaN with IE unmasked: nothing is pushed and C1 is cleared ----------------
// (found by a probe of memory operands: 22 of 40,000; the default specs rarely had ST(7) empty,
// an SNaN source, IE unmasked and C1 set at once). Tags C000: ST(7) empty with TOP = 0 (FSW 0200).
SPECS.push({ name: 'fld m32fp snan unmasked regressions', count: 0, code: [0xd9, MEMF(0)], mem: null, fixed: [
  fixedImage(0x037e, 0x0200, '3fff8000000000000000', '3fff8000000000000000', '0100807f', 0xc000),
  fixedImage(0x037e, 0x0200, '3fff8000000000000000', '3fff8000000000000000', '010080ff', 0xc000),
] });
SPECS.push({ name: 'fld m64fp snan unmasked regressions', count: 0, code: [0xdd, MEMF(0)], mem: null, fixed: [
  fixedImage(0x0462, 0x0222, '3fff8000000000000000', '3fff8000000000000000', '010000000000f07f', 0xc000),
] });
/** An m32fp or m64fp SNaN (random payload, either sign) in the first bytes. */
const snan = (wide: boolean): MemGen => (b) => {
  const dv = new DataView(b.buffer), sg = r32() & 0x80000000;
  if (wide) { dv.setUint32(0, r32() | 1, true); dv.setUint32(4, (sg | 0x7ff00000 | (r32() & 0x7ffff)) >>> 0, true); }
  else dv.setUint32(0, (sg | 0x7f800000 | (r32() & 0x3fffff) | 1) >>> 0, true);
};
add('fld m32fp snan unmasked', [0xd9, MEMF(0)], snan(false), 100, { unmasked: true, emptyPct: 60 });
add('fld m64fp snan unmasked', [0xdd, MEMF(0)], snan(true), 100, { unmasked: true, emptyPct: 60 });

// ---- FLDENV/FRSTOR recompute ES and B from the loaded flags and masks ---------------------------------
// (a probe of environment images with unmasked flags found 12,548 of 20,000 differing; mEnv above
// only writes masked control words). The waiting instruction after the load reports #MF.
/** An FLDENV/FRSTOR image (32-bit layout) with random masks and flags, ES/B set or clear at random. */
export const mEnvPending: MemGen = (b) => {
  mEnv(b);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0xffff0000 | 0x40 | (r32() & 0x3f) | (pick([0, 2, 3]) << 8) | ((r32() & 3) << 10), true);
  dv.setUint32(4, 0xffff0000 | (r32() & 0xc7ff), true);
};
SPECS.push({ name: 'fldenv es regressions', count: 0, code: [0xd9, MEMF(4), 0xdf, 0xe0], mem: null, fixed: [
  fixedImage(0x037f, 0x0000, '3fff8000000000000000', '3fff8000000000000000', '7f03ffff8100ffffffffffff'), // ES set, all masked: cleared
  fixedImage(0x037f, 0x0000, '3fff8000000000000000', '3fff8000000000000000', '7e03ffff0100ffffffffffff'), // IE unmasked, ES clear: set
] });
add('fldenv pending; fnstsw ax', [0xd9, MEMF(4), 0xdf, 0xe0], mEnvPending, 60);
add('fldenv pending; fwait', [0xd9, MEMF(4), 0x9b], mEnvPending, 60);
add('frstor pending; fabs', [0xdd, MEMF(4), 0xd9, 0xe1], mEnvPending, 60);
