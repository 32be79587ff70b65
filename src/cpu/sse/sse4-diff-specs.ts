/**
 * Instruction forms of the differential test of SSE3, SSSE3, SSE4.1, SSE4.2, AES-NI and
 * PCLMULQDQ (sse4-diff.test.ts), with the operand generators of sse-diff-specs.ts.
 * Register forms use ModRM C1 (xmm0/mm0/rax ← xmm1/mm1/rcx), memory forms 02 ([rdx],
 * 16-aligned) and 42 01 ([rdx+1], misaligned). Test-only code: it may allocate freely.
 */
import type { Image, Spec } from './diff-runner.js';
import { r32, pick, image, intLane, genInt, genF32, genF64, withMm } from './sse-diff-specs.js';

export const SPECS4: Spec[] = [];
const hex2 = (b: number): string => b.toString(16).padStart(2, '0');
const nm = (b: number[]): string => b.map(hex2).join('');

function add(name: string, code: () => number[], gen: () => Image, count: number): void {
  SPECS4.push({ name, count, code, gen });
}
/** Register, aligned-memory and misaligned-memory forms of `pfx 0F map op [imm8]`. */
export function forms(pfx: number[], op: number[], which: string, gen: () => Image, count: number, imm?: () => number): void {
  const base = [...pfx, 0x0f, ...op];
  const tail = (): number[] => (imm ? [imm()] : []);
  if (which.includes('r')) add(`${nm(base)}/r`, () => [...base, 0xc1, ...tail()], gen, count);
  if (which.includes('m')) add(`${nm(base)}/m`, () => [...base, 0x02, ...tail()], gen, Math.max(4, count >> 2));
  if (which.includes('u')) add(`${nm(base)}/u`, () => [...base, 0x42, 0x01, ...tail()], withMm(gen), 4);
}
const anyImm = (): number => r32() & 0xff;

// ---- SSE3 floating point --------------------------------------------------------------------
const FPN = 300;
for (const op of [0xd0, 0x7c, 0x7d]) { forms([0xf2], [op], 'rmu', genF32, FPN); forms([0x66], [op], 'rmu', genF64, FPN); }

// ---- SSSE3 (MMX and XMM forms) ------------------------------------------------------------------
/** Integer lanes with many small, extreme and sign-boundary values (saturation, PSIGN zeros). */
function ssLane(): number {
  const k = r32() % 6;
  if (k === 0) return pick([0, 0xffffffff, 0x80008000, 0x7fff7fff, 0x80808080, 0x7f7f7f7f, 0x00010001, 0x4000c000]);
  if (k === 1) return r32() & 0x8f8f8f8f;
  if (k === 2) return r32() & 0x0000ffff;
  return r32();
}
const genSs = (): Image => image(ssLane);
for (const op of [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x1c, 0x1d, 0x1e]) {
  forms([0x66], [0x38, op], 'rmu', genSs, 80);
  forms([], [0x38, op], 'rm', genSs, 60);
}
const alignImm = (): number => pick([0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 255, r32() & 0x1f, r32() & 0xff]);
forms([0x66], [0x3a, 0x0f], 'rmu', genInt, 150, alignImm);
forms([], [0x3a, 0x0f], 'rm', genInt, 150, alignImm);
void anyImm; void intLane; void genF64;

// ---- SSE4.1 ----------------------------------------------------------------------------------
/** Mask-heavy lanes for the variable blends (xmm0 is the mask). */
for (const op of [0x10, 0x14, 0x15, 0x17, 0x28, 0x29, 0x2b, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41]) forms([0x66], [0x38, op], 'rmu', genSs, 80);
for (const op of [0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35]) forms([0x66], [0x38, op], 'rmu', genSs, 40);
forms([0x66], [0x38, 0x2a], 'mu', genInt, 20);
add('660f382a/r', () => [0x66, 0x0f, 0x38, 0x2a, 0xc1], genInt, 2);
/** PTEST: operands that often give ZF or CF (subsets, disjoint, equal). */
const genPtest = (): Image => {
  const im = genSs();
  const k = r32() % 4;
  if (k === 0) im.x[1] = im.x[0]!;
  else if (k === 1) im.x[1] = '00000000000000000000000000000000';
  else if (k === 2) im.x[1] = im.x[0]!.replace(/[0-9a-f]/g, (c) => (parseInt(c, 16) & (r32() & 15)).toString(16));
  return im;
};
forms([0x66], [0x38, 0x17], 'r', genPtest, 100);
for (const op of [0x0c, 0x0d, 0x0e, 0x42]) forms([0x66], [0x3a, op], 'rmu', genSs, 100, anyImm);
for (const w of [[], [0x48]]) {
  for (const op of [0x14, 0x15, 0x16, 0x17]) { forms([0x66, ...w], [0x3a, op], 'rm', genSs, 60, anyImm); }
  for (const op of [0x20, 0x21, 0x22]) { forms([0x66, ...w], [0x3a, op], 'rm', genSs, 60, anyImm); }
}
forms([0x66], [0x3a, 0x21], 'u', genSs, 4, anyImm);
/** ROUND*: the imm8 values that matter (modes 0-3, MXCSR.RC, precision suppression) and any. */
const roundImm = (): number => (r32() % 4 === 0 ? r32() & 0xff : r32() & 0xf);
/** Half the cases get a source of values near integers and halves (ties, just above/below), signed. */
function nearInt32(): number {
  if (r32() % 4 !== 0) return r32();
  return ((((r32() % 30) + 120) << 23) | (r32() & 0x7ff000) | ((r32() & 1) << 31)) >>> 0;
}
const genRound32 = (): Image => {
  const im = genF32();
  if (r32() % 2) im.x[1] = [0, 1, 2, 3].map(() => nearInt32().toString(16).padStart(8, '0')).join('');
  return im;
};
forms([0x66], [0x3a, 0x08], 'rmu', genRound32, 250, roundImm);
forms([0x66], [0x3a, 0x0a], 'rmu', genRound32, 250, roundImm);
forms([0x66], [0x3a, 0x09], 'rmu', genF64, 250, roundImm);
forms([0x66], [0x3a, 0x0b], 'rmu', genF64, 250, roundImm);
forms([0x66], [0x3a, 0x40], 'rmu', genF32, 400, anyImm);
forms([0x66], [0x3a, 0x41], 'rmu', genF64, 400, anyImm);

// ---- SSE4.2 string instructions ----------------------------------------------------------------
/** Text-like vectors: a small alphabet so matches and ranges hit, embedded zeros, sign edges. */
function strVec(words: boolean): string {
  let s = '';
  for (let i = 0; i < (words ? 8 : 16); i++) {
    if (words) s = pick([0, 0, 0x41, 0x42, 0x43, 0x61, 0x7fff, 0x8000, 0xffff, 0x4142, r32() & 0xffff, (r32() % 5) + 0x40]).toString(16).padStart(4, '0') + s;
    else s = pick([0, 0x41, 0x42, 0x43, 0x44, 0x61, 0x7a, 0x7f, 0x80, 0xff, 0x30, r32() & 0xff, (r32() % 5) + 0x40, (r32() % 5) + 0x40]).toString(16).padStart(2, '0') + s;
  }
  // sometimes no zero at all (full-length implicit strings)
  return r32() % 3 === 0 ? s.replace(/(00)/g, () => '4' + ((r32() % 5) + 1).toString(16)) : s;
}
const len64 = (): string => {
  const k = r32() % 8;
  const v = k < 6 ? BigInt((r32() % 41) - 20) : k === 6 ? BigInt(r32() | 0) : (BigInt(r32()) << 32n) | BigInt(r32());
  return BigInt.asUintN(64, v).toString(16);
};
const genStr = (): Image => {
  const words = r32() % 2 === 0;
  const im = image(intLane);
  im.x = [strVec(words), strVec(words), strVec(words), strVec(words)];
  im.mem = strVec(words) + strVec(words);
  im.rax = len64(); im.rcx = len64();
  return im;
};
let strImm = 0;
const nextImm = (): number => (strImm++ & 0xff);
// explicit forms read EDX: copy rcx there first (the harness's rdx points at the buffer, saved in r8)
const PUSH_R8 = [0x41, 0x50], MOV_R8_RDX = [0x49, 0x89, 0xd0], MOV_RDX_RCX = [0x48, 0x89, 0xca], POP_R8 = [0x41, 0x58];
for (const op of [0x60, 0x61]) {
  for (const w of [0, 8]) {
    add(`66${w ? '48' : ''}0f3a${hex2(op)}/r`, () => [...MOV_RDX_RCX, 0x66, ...(w ? [0x48] : []), 0x0f, 0x3a, op, 0xc1, nextImm()], genStr, w ? 256 : 512);
    add(`66${w ? '49' : '41'}0f3a${hex2(op)}/m`, () => [...PUSH_R8, ...MOV_R8_RDX, ...MOV_RDX_RCX, 0x66, 0x41 | w, 0x0f, 0x3a, op, 0x00, nextImm(), ...POP_R8], genStr, 256);
  }
}
for (const op of [0x62, 0x63]) {
  add(`660f3a${hex2(op)}/r`, () => [0x66, 0x0f, 0x3a, op, 0xc1, nextImm()], genStr, 768);
  add(`660f3a${hex2(op)}/m`, () => [0x66, 0x0f, 0x3a, op, 0x02, nextImm()], genStr, 256);
  add(`660f3a${hex2(op)}/u`, () => [0x66, 0x0f, 0x3a, op, 0x42, 0x01, nextImm()], genStr, 64);
}
// ---- CRC32 ------------------------------------------------------------------------------------
for (const [pfx, op] of [[[0xf2], 0xf0], [[0xf2], 0xf1], [[0x66, 0xf2], 0xf1], [[0xf2, 0x48], 0xf1], [[0xf2, 0x48], 0xf0], [[0xf2, 0x40], 0xf0]] as const) {
  forms([...pfx], [0x38, op], 'rm', genInt, 60);
}
add('f20f38f0/ch', () => [0xf2, 0x0f, 0x38, 0xf0, 0xc5], genInt, 30); // crc32 eax,ch
add('f20f38f1/u', () => [0xf2, 0x0f, 0x38, 0xf1, 0x42, 0x01], genInt, 20);

// ---- AES-NI and PCLMULQDQ -------------------------------------------------------------------
for (const op of [0xdb, 0xdc, 0xdd, 0xde, 0xdf]) forms([0x66], [0x38, op], 'rmu', genInt, 100);
forms([0x66], [0x3a, 0xdf], 'rmu', genInt, 100, anyImm);
forms([0x66], [0x3a, 0x44], 'rmu', genInt, 200, () => pick([0x00, 0x01, 0x10, 0x11, r32() & 0xff]));
