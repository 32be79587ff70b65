/**
 * Instruction forms and operand generators of the SSE differential test (sse-diff.test.ts).
 * Register forms use ModRM C1 (reg 0 = xmm0/mm0/rax, rm 1 = xmm1/mm1/rcx), memory forms
 * ModRM 02 ([rdx], 16-aligned) and 42 01 ([rdx+1], misaligned).
 * Test-only code: it may allocate freely.
 */
import type { Image, Spec } from './diff-runner.js';

export type { Spec };

// ---- deterministic generator (mulberry32) -----------------------------------------------
let seed = 0x5eed1234;
export function r32(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
export const pick = <T>(a: readonly T[]): T => a[r32() % a.length]!;
export const h8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

export const INT_EDGES = [0, 0xffffffff, 0x80000000, 0x7fffffff, 0x00ff00ff, 0xff00ff00, 0x7fff8000, 0x80007fff, 0x7f807f80, 0x01010101, 1, 2, 0xfffe, 0x10000, 0x8080, 0x7f7f7f7f];
export function intLane(): number {
  const k = r32() % 8;
  if (k < 3) return pick(INT_EDGES);
  if (k < 4) return r32() & 0x00ff00ff;
  if (k < 5) return r32() % 64;
  return r32();
}
/** A 128-bit value as 32 hex digits from a lane generator (lane 0 least significant). */
export function vec(lane: () => number): string { const l = [lane(), lane(), lane(), lane()]; return h8(l[3]!) + h8(l[2]!) + h8(l[1]!) + h8(l[0]!); }

export function image(lane: () => number, mxcsr = 0x1f80): Image {
  const mem = vec(lane) + vec(lane);
  return {
    x: [vec(lane), vec(lane), vec(lane), vec(lane)],
    mm: [h8(lane()) + h8(lane()), h8(lane()) + h8(lane())],
    mxcsr,
    rax: h8(r32()) + h8(r32()), rcx: r32() % 4 === 0 ? (r32() % 70).toString(16) : h8(r32()) + h8(r32()),
    fl: r32() & 0x8d5,
    mem,
  };
}
export const genInt = (): Image => image(intLane);

export const SPECS: Spec[] = [];
function add(name: string, bytes: number[], gen: () => Image = genInt, count = 60, normalize?: Spec['normalize']): void {
  SPECS.push({ name, count, code: () => bytes, gen, normalize });
}
function addImm(name: string, bytes: number[], imms: () => number, gen: () => Image = genInt, count = 120): void {
  SPECS.push({ name, count, code: () => [...bytes, imms()], gen });
}
const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** Register, aligned-memory and misaligned-memory forms of `pfx 0F op`. */
function forms(pfx: number[], op: number[], which = 'rmu', gen: () => Image = genInt, count = 60, normalize?: Spec['normalize']): void {
  const nm = `${pfx.map(hex2).join('')}0f${op.map(hex2).join('')}`;
  if (which.includes('r')) add(`${nm}/r`, [...pfx, 0x0f, ...op, 0xc1], gen, count, normalize);
  if (which.includes('m')) add(`${nm}/m`, [...pfx, 0x0f, ...op, 0x02], gen, count, normalize);
  if (which.includes('u')) add(`${nm}/u`, [...pfx, 0x0f, ...op, 0x42, 0x01], withMm(gen), 4, normalize);
}
/**
 * Misaligned cases: MXCSR.MM (bit 17, AMD's misaligned-exception mask) set in half of them, so
 * the forms it relaxes run misaligned on this host and on the nestvisor-amd profile (sse/common.ts
 * checkAlign16) and the explicitly aligned moves still #GP.
 */
export function withMm(gen: () => Image): () => Image {
  return () => { const im = gen(); if ((r32() & 1) !== 0) im.mxcsr |= 0x20000; return im; };
}

// ---- packed integer (MMX and 66 XMM forms) ----------------------------------------------------
const INT_OPS = [
  0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x74, 0x75, 0x76,
  0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
  0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
  0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe,
];
for (const op of INT_OPS) { forms([0x66], [op]); forms([], [op], 'rm'); }
forms([0x66], [0x6c]); forms([0x66], [0x6d]);
// shift groups with imm8
const SHIFT_COUNTS = (): number => pick([0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, r32() & 0xff]);
for (const [op, regs] of [[0x71, [2, 4, 6]], [0x72, [2, 4, 6]], [0x73, [2, 6]]] as const) {
  for (const r of regs) { addImm(`660f${hex2(op)}/${r}`, [0x66, 0x0f, op, 0xc0 | (r << 3)], SHIFT_COUNTS); addImm(`0f${hex2(op)}/${r}`, [0x0f, op, 0xc0 | (r << 3)], SHIFT_COUNTS); }
}
for (const r of [3, 7]) addImm(`660f73/${r}`, [0x66, 0x0f, 0x73, 0xc0 | (r << 3)], SHIFT_COUNTS);

// ---- data movement ------------------------------------------------------------------------
for (const p of [[], [0x66], [0xf3], [0xf2]]) { forms(p, [0x10], 'rmu'); forms(p, [0x11], 'rmu'); }
forms([], [0x12], 'rm'); forms([0x66], [0x12], 'm'); forms([0xf3], [0x12]); forms([0xf2], [0x12], 'rmu');
forms([], [0x13], 'm'); forms([0x66], [0x13], 'm');
forms([], [0x16], 'rm'); forms([0x66], [0x16], 'm'); forms([0xf3], [0x16]);
forms([], [0x17], 'm'); forms([0x66], [0x17], 'm');
for (const op of [0x14, 0x15, 0x28, 0x29, 0x54, 0x55, 0x56, 0x57]) { forms([], [op]); forms([0x66], [op]); }
forms([], [0x2b], 'mu'); forms([0x66], [0x2b], 'mu');
forms([], [0x50], 'r'); forms([0x66], [0x50], 'r');
for (const p of [[], [0x66], [0x66, 0x48], [0x48]]) { forms(p, [0x6e], 'rm'); forms(p, [0x7e], 'rm'); }
forms([], [0x6f], 'rm'); forms([0x66], [0x6f]); forms([0xf3], [0x6f], 'rmu');
forms([], [0x7f], 'rm'); forms([0x66], [0x7f]); forms([0xf3], [0x7f], 'rmu'); forms([0xf3], [0x7e], 'rmu');
const anyImm = (): number => r32() & 0xff;
for (const p of [[], [0x66], [0xf3], [0xf2]]) { addImm(`${p.map(hex2).join('')}0f70/r`, [...p, 0x0f, 0x70, 0xc1], anyImm); addImm(`${p.map(hex2).join('')}0f70/m`, [...p, 0x0f, 0x70, 0x02], anyImm, genInt, 30); }
for (const p of [[], [0x66]]) {
  addImm(`${p.map(hex2).join('')}0fc4/r`, [...p, 0x0f, 0xc4, 0xc1], anyImm);
  addImm(`${p.map(hex2).join('')}0fc4/m`, [...p, 0x0f, 0xc4, 0x02], anyImm, genInt, 30);
  addImm(`${p.map(hex2).join('')}0fc5/r`, [...p, 0x0f, 0xc5, 0xc1], anyImm);
  addImm(`${p.map(hex2).join('')}0fc6/r`, [...p, 0x0f, 0xc6, 0xc1], anyImm);
  addImm(`${p.map(hex2).join('')}0fc6/m`, [...p, 0x0f, 0xc6, 0x02], anyImm, genInt, 30);
  forms(p, [0xd7], 'r');
}
forms([], [0xc3], 'm'); forms([0x48], [0xc3], 'm');
forms([0x66], [0xd6], 'rm'); forms([0xf3], [0xd6], 'r'); forms([0xf2], [0xd6], 'r');
forms([], [0xe7], 'm'); forms([0x66], [0xe7], 'mu');
forms([0xf2], [0xf0], 'mu');
add('0f77', [0x0f, 0x77]);

// ---- floating point ---------------------------------------------------------------------------
export const F32_EDGES = [0, 0x80000000, 1, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, 0x00800000, 0x80800000, 0x3f800000, 0xbf800000,
  0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 0xffb00000, 0x7fc12345, 0x3f800001, 0x3fffffff,
  0x4b000000, 0xcf000000, 0x4f000000, 0x5f000000, 0xdf000000, 0x33800000, 0x0c000000, 0x72000000];
export function f32Lane(): number {
  const k = r32() % 10;
  if (k < 4) return pick(F32_EDGES) >>> 0;
  if (k < 6) return ((r32() & 0x807fffff) | ((0x3c + (r32() % 8)) << 23)) >>> 0; // near 1: cancellation and ties
  if (k < 7) return (r32() & 0x80ffffff) >>> 0; // tiny: denormals and small normals
  if (k < 8) return ((r32() & 0x807fffff) | (((r32() % 60) + 100) << 23)) >>> 0; // moderate
  return r32();
}
const F64_EDGES: Array<[number, number]> = [[0, 0], [0, 0x80000000], [1, 0], [0xffffffff, 0x000fffff], [0, 0x00100000], [0, 0x80100000],
  [0, 0x3ff00000], [0, 0xbff00000], [0xffffffff, 0x7fefffff], [0xffffffff, 0xffefffff], [0, 0x7ff00000], [0, 0xfff00000], [0, 0x7ff80000],
  [0, 0xfff80000], [1, 0x7ff00000], [0x1234, 0xfff40000], [1, 0x3ff00000], [0, 0x43e00000], [0, 0xc3e00000], [0, 0x41e00000], [0, 0xc1e00000],
  [0x200000, 0x41dfffff], [0, 0x3ca00000], [0, 0x00000001], [0, 0x7fe00000], [0, 0x01000000], [0xe0000000, 0x47efffff], [0, 0x36a00000]];
let f64Pending = -1;
export function f64Lane(): number {
  // lanes come in pairs (lo then hi) from the vec() order: lane 0 lo, lane 1 hi
  if (f64Pending >= 0) { const v = f64Pending; f64Pending = -1; return v; }
  let lo: number, hi: number;
  const k = r32() % 10;
  if (k < 4) [lo, hi] = pick(F64_EDGES);
  else if (k < 6) { lo = r32(); hi = (r32() & 0x800fffff) | ((0x3fc + (r32() % 8)) << 20); }
  else if (k < 7) { lo = r32(); hi = r32() & 0x801fffff; }
  else if (k < 8) { lo = r32(); hi = (r32() & 0x800fffff) | (((r32() % 200) + 0x380) << 20); }
  else if (k < 9) { lo = r32() & 0xffff0000; hi = (r32() & 0x800fffff) | (((r32() % 64) + 0x41c) << 20); }
  else { lo = r32(); hi = r32(); }
  f64Pending = hi >>> 0;
  return lo >>> 0;
}
export function mxcsr(): number {
  let m = 0x1f80 | ((r32() % 4) << 13);
  if (r32() % 4 === 0) m |= 0x40;      // DAZ
  if (r32() % 4 === 0) m |= 0x8000;    // FTZ
  if (r32() % 6 === 0) m &= ~((r32() & 0x3f) << 7); // some exceptions unmasked
  if (r32() % 8 === 0) m |= r32() & 0x3f; // sticky flags already set
  return m;
}
export const genF32 = (): Image => image(f32Lane, mxcsr());
export const genF64 = (): Image => { f64Pending = -1; return image(f64Lane, mxcsr()); };
const FPN = 250;
for (const op of [0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x51]) {
  forms([], [op], 'rm', genF32, FPN); forms([0xf3], [op], 'rm', genF32, FPN);
  forms([0x66], [op], 'rm', genF64, FPN); forms([0xf2], [op], 'rm', genF64, FPN);
}
const pred = (): number => r32() % 8;
for (const [p, g] of [[[], genF32], [[0xf3], genF32], [[0x66], genF64], [[0xf2], genF64]] as const) {
  addImm(`${p.map(hex2).join('')}0fc2/r`, [...p, 0x0f, 0xc2, 0xc1], pred, g, FPN);
}
forms([], [0x2e], 'rm', genF32, FPN); forms([], [0x2f], 'rm', genF32, FPN);
forms([0x66], [0x2e], 'rm', genF64, FPN); forms([0x66], [0x2f], 'rm', genF64, FPN);
forms([], [0x5a], 'rm', genF32, FPN); forms([0x66], [0x5a], 'rm', genF64, FPN);
forms([0xf3], [0x5a], 'rm', genF32, FPN); forms([0xf2], [0x5a], 'rm', genF64, FPN);
forms([], [0x5b], 'rm', genInt, FPN); forms([0x66], [0x5b], 'rm', genF32, FPN); forms([0xf3], [0x5b], 'rm', genF32, FPN);
forms([0x66], [0xe6], 'rm', genF64, FPN); forms([0xf2], [0xe6], 'rm', genF64, FPN); forms([0xf3], [0xe6], 'rm', genInt, FPN);
for (const w of [[], [0x48]]) {
  forms([0xf3, ...w], [0x2a], 'rm', () => image(intLane, mxcsr()), FPN); forms([0xf2, ...w], [0x2a], 'rm', () => image(intLane, mxcsr()), FPN);
  for (const op of [0x2c, 0x2d]) { forms([0xf3, ...w], [op], 'rm', genF32, FPN); forms([0xf2, ...w], [op], 'rm', genF64, FPN); }
}
forms([], [0x2a], 'rm', () => image(intLane, mxcsr()), FPN); forms([0x66], [0x2a], 'rm', () => image(intLane, mxcsr()), FPN);
for (const op of [0x2c, 0x2d]) { forms([], [op], 'rm', genF32, FPN); forms([0x66], [op], 'rm', genF64, FPN); }

// ---- RCPPS/RCPSS/RSQRTPS/RSQRTSS: bit for bit (the host's tables, sse/approx-host.ts) ---------------
/** Single lanes spread over the whole exponent range, with the specials of F32_EDGES. */
function approxLane(): number {
  const k = r32() % 4;
  if (k === 0) return pick(F32_EDGES) >>> 0;
  return r32() >>> 0;
}
const genApprox = (): Image => image(approxLane, mxcsr());
for (const op of [0x53, 0x52]) {
  forms([], [op], 'rm', genApprox, FPN);
  forms([0xf3], [op], 'rm', genApprox, FPN);
}

// ---- forms the coverage audit (diff-audit.test.ts) found without a spec ---------------------------
// CMPPS/CMPSS/CMPPD/CMPSD with a memory source (the packed forms also misaligned: #GP, SDM Vol. 2A CMPPS)
for (const [p, g] of [[[], genF32], [[0xf3], genF32], [[0x66], genF64], [[0xf2], genF64]] as const) {
  addImm(`${p.map(hex2).join('')}0fc2/m`, [...p, 0x0f, 0xc2, 0x02], pred, g, FPN >> 1);
  if (p.length === 0 || p[0] === 0x66) addImm(`${p.map(hex2).join('')}0fc2/u`, [...p, 0x0f, 0xc2, 0x42, 0x01], pred, withMm(g), 4);
}
// MASKMOVQ / MASKMOVDQU store through [RDI] (SDM Vol. 2B): the harness's RDI is not an operand,
// so RDI is saved, pointed at the buffer (or one byte past it: no alignment rule) and restored
for (const [p, off] of [[[], 0], [[0x66], 0], [[], 1], [[0x66], 1]] as const) {
  const lea = off ? [0x48, 0x8d, 0x7a, 0x01] : [0x48, 0x89, 0xd7]; // lea rdi,[rdx+1] / mov rdi,rdx
  add(`${p.map(hex2).join('')}0ff7/r${off ? '+1' : ''}`, [0x57, ...lea, ...p, 0x0f, 0xf7, 0xc1, 0x5f], genInt, 60);
}
// Group 15 with a memory operand (0F AE /2 LDMXCSR, /3 STMXCSR): LDMXCSR of reserved bits is
// #GP(0) (SDM Vol. 2A LDMXCSR); the low dword of the buffer is a valid MXCSR three times in four.
// Bit 17 is in: this AMD host's MXCSR_MASK is 0x2ffff (bit 17 = AMD's misaligned-exception mask,
// MM), as the nestvisor-amd profile the runner uses (fpu/state.ts); Intel's is 0xffff.
const genLdmxcsr = (): Image => {
  const im = genF32();
  const v = r32() % 4 === 0 ? (r32() & 0xffff) | (r32() % 2 ? 0x10000 << (r32() % 16) : 0) : mxcsr() & ~(r32() % 3 === 0 ? 0 : 0x8000);
  im.mem = im.mem.slice(0, 56) + h8(v);
  return im;
};
add('0fae/2 ldmxcsr', [0x0f, 0xae, 0x12], genLdmxcsr, 200);
add('0fae/3 stmxcsr', [0x0f, 0xae, 0x1a], genF32, 40);
// The same group-15 and group-9 XSAVE-family memory forms with a 66/F3/F2 prefix: hardware raises
// #UD (the decoder fuzzer's "repz ldmxcsr"; SDM Vol. 2 Table A-6 lists them only without a prefix).
// Only forms that #UD natively are run: FXSAVE/XSAVE* would write more than the 32-byte buffer.
for (const pf of [0x66, 0xf3, 0xf2]) {
  for (const r of [0, 1, 2, 3, 4, 5]) add(`${hex2(pf)}0fae/${r} m`, [pf, 0x0f, 0xae, 0x02 | (r << 3)], genInt, 1);
  if (pf !== 0x66) for (const r of [6, 7]) add(`${hex2(pf)}0fae/${r} m`, [pf, 0x0f, 0xae, 0x02 | (r << 3)], genInt, 1);
  add(`${hex2(pf)}480fae/2 m`, [pf, 0x48, 0x0f, 0xae, 0x12], genInt, 1);
  for (const r of [3, 4, 5]) add(`${hex2(pf)}0fc7/${r} m`, [pf, 0x0f, 0xc7, 0x02 | (r << 3)], genInt, 1);
}
// Misaligned memory operands of the alignment-checked forms that had only [rdx] specs (#GP(0),
// SDM Vol. 1 §4.1.1 / each instruction's "Protected Mode Exceptions"; the audit finds them by probing)
for (const [p, op, g] of [
  [[0x66], [0x2c, 0x2d, 0x51, 0x58, 0x59, 0x5a, 0x5c, 0x5d, 0x5e, 0x5f, 0xe6], genF64], [[0x66], [0x5b], genF32],
  [[0xf2], [0xe6], genF64], [[0xf3], [0x5b], genF32], [[], [0x51, 0x52, 0x53, 0x58, 0x59, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f], genF32],
] as const) for (const o of op) forms([...p], [o], 'u', g);
for (const p of [[0x66], [0xf3], [0xf2]]) addImm(`${p.map(hex2).join('')}0f70/u`, [...p, 0x0f, 0x70, 0x42, 0x01], anyImm, withMm(genInt), 4);
for (const p of [[], [0x66]]) addImm(`${p.map(hex2).join('')}0fc6/u`, [...p, 0x0f, 0xc6, 0x42, 0x01], anyImm, withMm(genInt), 4);
