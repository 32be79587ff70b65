/**
 * AES-NI (66 0F 38 DB AESIMC, DC AESENC, DD AESENCLAST, DE AESDEC, DF AESDECLAST; 66 0F 3A DF
 * AESKEYGENASSIST) and PCLMULQDQ (66 0F 3A 44) — SDM Vol. 2 entries of these names, FIPS-197
 * for the round primitives. The AES state is the 16 bytes of the register in column-major
 * order: byte 4c + r is row r of column c. Tables are built once at load time.
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, B, R, A8, B8, R8, FE_AES, FE_PCLMUL, type Kernel } from './common.js';
import { x66 } from './sse41-int.js';

const SBOX = new Uint8Array(256), INV = new Uint8Array(256);
/** Multiplication tables in GF(2^8) mod x^8+x^4+x^3+x+1 for the MixColumns coefficients. */
const M2 = new Uint8Array(256), M3 = new Uint8Array(256), M9 = new Uint8Array(256);
const M11 = new Uint8Array(256), M13 = new Uint8Array(256), M14 = new Uint8Array(256);
{
  const xt = (b: number): number => ((b << 1) ^ ((b & 0x80) !== 0 ? 0x1b : 0)) & 0xff;
  const mul = (a: number, b: number): number => { let r = 0; while (b) { if (b & 1) r ^= a; a = xt(a); b >>= 1; } return r; };
  for (let i = 0; i < 256; i++) {
    M2[i] = mul(i, 2); M3[i] = mul(i, 3); M9[i] = mul(i, 9); M11[i] = mul(i, 11); M13[i] = mul(i, 13); M14[i] = mul(i, 14);
  }
  // S-box: multiplicative inverse (brute force, load time only) then the affine transform
  for (let i = 0; i < 256; i++) {
    let inv = 0;
    if (i !== 0) for (let j = 1; j < 256; j++) if (mul(i, j) === 1) { inv = j; break; }
    let s = inv;
    for (let k = 1; k <= 4; k++) s ^= ((inv << k) | (inv >> (8 - k))) & 0xff;
    SBOX[i] = s ^ 0x63;
  }
  for (let i = 0; i < 256; i++) INV[SBOX[i]!] = i;
}

const T = new Uint8Array(16);
/** T ← SubBytes(ShiftRows(A)) or the inverse pair. */
function rows(inverse: boolean): void {
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      const src = 4 * ((inverse ? c - r + 4 : c + r) & 3) + r;
      T[4 * c + r] = inverse ? INV[A8[src]!]! : SBOX[A8[src]!]!;
    }
  }
}
/** R ← MixColumns(src) or InvMixColumns(src). */
function mix(src: Uint8Array, inverse: boolean): void {
  for (let c = 0; c < 16; c += 4) {
    const s0 = src[c]!, s1 = src[c + 1]!, s2 = src[c + 2]!, s3 = src[c + 3]!;
    if (!inverse) {
      R8[c] = M2[s0]! ^ M3[s1]! ^ s2 ^ s3;
      R8[c + 1] = s0 ^ M2[s1]! ^ M3[s2]! ^ s3;
      R8[c + 2] = s0 ^ s1 ^ M2[s2]! ^ M3[s3]!;
      R8[c + 3] = M3[s0]! ^ s1 ^ s2 ^ M2[s3]!;
    } else {
      R8[c] = M14[s0]! ^ M11[s1]! ^ M13[s2]! ^ M9[s3]!;
      R8[c + 1] = M9[s0]! ^ M14[s1]! ^ M11[s2]! ^ M13[s3]!;
      R8[c + 2] = M13[s0]! ^ M9[s1]! ^ M14[s2]! ^ M11[s3]!;
      R8[c + 3] = M11[s0]! ^ M13[s1]! ^ M9[s2]! ^ M14[s3]!;
    }
  }
}
export function round(inverse: boolean, last: boolean): Kernel {
  return () => {
    rows(inverse);
    if (last) R8.set(T); else mix(T, inverse);
    for (let i = 0; i < 4; i++) R[i] = R[i]! ^ B[i]!; // AddRoundKey: the source is the round key
  };
}
export const aesimc: Kernel = () => mix(B8, true);
/** SubWord of a little-endian dword. */
function subWord(w: number): number {
  return SBOX[w & 0xff]! | (SBOX[(w >>> 8) & 0xff]! << 8) | (SBOX[(w >>> 16) & 0xff]! << 16) | (SBOX[w >>> 24]! << 24);
}
/** AESKEYGENASSIST: SubWord/RotWord of source dwords 1 and 3, RCON = imm8 (SDM Operation). */
export const keygen: Kernel = (_n, imm) => {
  const s1 = subWord(B[1]!), s3 = subWord(B[3]!);
  R[0] = s1; R[1] = ((s1 >>> 8) | (s1 << 24)) ^ imm;
  R[2] = s3; R[3] = ((s3 >>> 8) | (s3 << 24)) ^ imm;
};

// ---- PCLMULQDQ -------------------------------------------------------------------------------
let clHi = 0;
/** Carry-less 32×32 → 64 product: low half returned, high half in clHi. */
function clmul32(a: number, b: number): number {
  let lo = 0, hi = 0;
  for (let i = 0; i < 32; i++) {
    if (((b >>> i) & 1) !== 0) { lo ^= a << i; if (i !== 0) hi ^= a >>> (32 - i); }
  }
  clHi = hi;
  return lo;
}
/** PCLMULQDQ: imm8[0] selects the destination quadword, imm8[4] the source quadword. */
export const pclmul: Kernel = (_n, imm) => {
  const ai = (imm & 1) * 2, bi = ((imm >> 4) & 1) * 2;
  const a0 = A[ai]!, a1 = A[ai + 1]!, b0 = B[bi]!, b1 = B[bi + 1]!;
  const p00 = clmul32(a0, b0), p00h = clHi;
  const p11 = clmul32(a1, b1), p11h = clHi;
  const m1 = clmul32(a0, b1), m1h = clHi;
  const m2 = clmul32(a1, b0), m2h = clHi;
  R[0] = p00; R[1] = p00h ^ m1 ^ m2; R[2] = m1h ^ m2h ^ p11; R[3] = p11h;
};

export function installAes(t: Handler[]): void {
  def(t, 0x2db, x66(aesimc, FE_AES));
  def(t, 0x2dc, x66(round(false, false), FE_AES));
  def(t, 0x2dd, x66(round(false, true), FE_AES));
  def(t, 0x2de, x66(round(true, false), FE_AES));
  def(t, 0x2df, x66(round(true, true), FE_AES));
  def(t, 0x3df, x66(keygen, FE_AES, 1));
  def(t, 0x344, x66(pclmul, FE_PCLMUL, 1));
}
