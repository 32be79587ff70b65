/**
 * Multiply and divide (SDM Vol. 2A MUL, IMUL, DIV, IDIV) on int32 halves, without BigInt.
 *
 * - Products of 32-bit operands are built from 16-bit pieces so every partial product is
 *   exact in a double; 64x64 products use four 16-bit limbs per operand (schoolbook).
 * - Division of a 128-bit dividend by a 64-bit divisor is a restoring long division on
 *   32-bit halves (one quotient bit per step) when the divisor needs more than 32 bits,
 *   and a 16-bit-limb long division (exact in doubles: every partial remainder < 2^48)
 *   when it fits in 32 bits.
 * Results go to module scratch arrays; nothing is allocated per instruction.
 */
import type { Cpu } from '../cpu.js';
import { OF, CF, DE } from '../regs.js';

const TWO32 = 4294967296;

/** Product words, least significant first: P[0..3] (int32). */
export const P = new Int32Array(4);
/** Quotient lo/hi and remainder lo/hi of the last division. */
export const Q = new Int32Array(4);

const A16 = new Float64Array(4);
const B16 = new Float64Array(4);
const COL = new Float64Array(8);

/** Unsigned 32x32 -> 64: P[0] low, P[1] high. */
export function umul32(a: number, b: number): void {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, mid = al * bh + ah * bl, hh = ah * bh; // mid < 2^33: exact
  const low = ll + (mid % 65536) * 65536;                  // < 2^49
  P[0] = low % TWO32 | 0;
  P[1] = (hh + Math.floor(mid / 65536) + Math.floor(low / TWO32)) | 0;
}

/** Signed 32x32 -> 64: P[0] low, P[1] high. */
export function smul32(a: number, b: number): void {
  umul32(a, b);
  // two's complement correction of the high half: hi -= (a<0 ? b : 0) + (b<0 ? a : 0)
  let hi = P[1]!;
  if (a < 0) hi = (hi - b) | 0;
  if (b < 0) hi = (hi - a) | 0;
  P[1] = hi;
}

/** Unsigned 64x64 -> 128 into P[0..3]. */
export function umul64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  A16[0] = aLo & 0xffff; A16[1] = aLo >>> 16; A16[2] = aHi & 0xffff; A16[3] = aHi >>> 16;
  B16[0] = bLo & 0xffff; B16[1] = bLo >>> 16; B16[2] = bHi & 0xffff; B16[3] = bHi >>> 16;
  COL.fill(0);
  for (let i = 0; i < 4; i++) {
    const ai = A16[i]!;
    if (ai === 0) continue;
    for (let j = 0; j < 4; j++) COL[i + j] += ai * B16[j]!; // each column < 2^34
  }
  let carry = 0;
  for (let k = 0; k < 8; k += 2) {
    const c0 = COL[k]! + carry;
    const l0 = c0 % 65536;
    const c1 = COL[k + 1]! + Math.floor(c0 / 65536);
    const l1 = c1 % 65536;
    carry = Math.floor(c1 / 65536);
    P[k >> 1] = (l0 + l1 * 65536) | 0;
  }
}

/** Signed 64x64 -> 128 into P[0..3]. */
export function smul64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  umul64(aLo, aHi, bLo, bHi);
  // high 64 bits -= (a<0 ? b : 0) + (b<0 ? a : 0)
  if (aHi < 0) sub64hi(bLo, bHi);
  if (bHi < 0) sub64hi(aLo, aHi);
}

function sub64hi(lo: number, hi: number): void {
  const s = (P[2]! >>> 0) - (lo >>> 0);
  P[2] = s | 0;
  P[3] = (P[3]! - hi - (s < 0 ? 1 : 0)) | 0;
}

/**
 * Unsigned division of the 128-bit n3:n2:n1:n0 by dHi:dLo. Returns false when the divisor
 * is zero or the quotient does not fit in 64 bits (both #DE); otherwise Q holds the
 * quotient and remainder.
 */
export function udiv128(n3: number, n2: number, n1: number, n0: number, dLo: number, dHi: number): boolean {
  if (dLo === 0 && dHi === 0) return false;
  // quotient < 2^64  <=>  n3:n2 < d
  if (!ult(n2, n3, dLo, dHi)) return false;
  if (dHi === 0) {
    // n3:n2 < d < 2^32, so n3 = 0 and the running remainder starts at n2 (< d).
    const d = dLo >>> 0;
    let r = n2 >>> 0;
    let q3 = 0, q2 = 0, q1 = 0, q0 = 0;
    // four 16-bit steps; r * 65536 + limb < 2^48, so quotient digits and remainders are exact
    let x = r * 65536 + (n1 >>> 16); q3 = Math.floor(x / d); r = x - q3 * d;
    x = r * 65536 + (n1 & 0xffff); q2 = Math.floor(x / d); r = x - q2 * d;
    x = r * 65536 + (n0 >>> 16); q1 = Math.floor(x / d); r = x - q1 * d;
    x = r * 65536 + (n0 & 0xffff); q0 = Math.floor(x / d); r = x - q0 * d;
    Q[0] = (q1 * 65536 + q0) | 0; Q[1] = (q3 * 65536 + q2) | 0; Q[2] = r | 0; Q[3] = 0;
    return true;
  }
  // Restoring division, one bit per step: R (r1:r0) < d holds before each step.
  let r0 = n2, r1 = n3, qLo = 0, qHi = 0, lo = n0, hi = n1;
  for (let i = 0; i < 64; i++) {
    const top = r1 >>> 31;
    r1 = (r1 << 1) | (r0 >>> 31);
    r0 = (r0 << 1) | (hi >>> 31);
    hi = (hi << 1) | (lo >>> 31);
    lo <<= 1;
    qHi = (qHi << 1) | (qLo >>> 31);
    qLo <<= 1;
    if (top !== 0 || !ult(r0, r1, dLo, dHi)) {
      const s = (r0 >>> 0) - (dLo >>> 0);
      r0 = s | 0;
      r1 = (r1 - dHi - (s < 0 ? 1 : 0)) | 0;
      qLo |= 1;
    }
  }
  Q[0] = qLo; Q[1] = qHi; Q[2] = r0; Q[3] = r1;
  return true;
}

/** Unsigned 64-bit lo/hi compare a < b. */
function ult(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  if (aHi !== bHi) return (aHi >>> 0) < (bHi >>> 0);
  return (aLo >>> 0) < (bLo >>> 0);
}

/** Signed 128/64 division (IDIV r/m64): false on zero divisor or quotient overflow. */
export function sdiv128(n3: number, n2: number, n1: number, n0: number, dLo: number, dHi: number): boolean {
  const nNeg = n3 < 0, dNeg = dHi < 0;
  if (nNeg) {
    // 128-bit two's complement negation
    n0 = ~n0; n1 = ~n1; n2 = ~n2; n3 = ~n3;
    let s = (n0 >>> 0) + 1; n0 = s | 0;
    if (s >= TWO32) { s = (n1 >>> 0) + 1; n1 = s | 0; if (s >= TWO32) { s = (n2 >>> 0) + 1; n2 = s | 0; if (s >= TWO32) n3 = (n3 + 1) | 0; } }
  }
  if (dNeg) { dLo = ~dLo; dHi = ~dHi; const s = (dLo >>> 0) + 1; dLo = s | 0; if (s >= TWO32) dHi = (dHi + 1) | 0; }
  if (!udiv128(n3, n2, n1, n0, dLo, dHi)) return false;
  // the magnitude must fit: 2^63 for a negative quotient, 2^63-1 for a positive one
  const qNeg = nNeg !== dNeg;
  if (Q[1]! < 0 && !(qNeg && Q[1] === (0x80000000 | 0) && Q[0] === 0)) return false;
  if (qNeg) neg(0);
  if (nNeg) neg(2);
  return true;
}

function neg(i: number): void {
  const lo = ~Q[i]!, hi = ~Q[i + 1]!;
  const s = (lo >>> 0) + 1;
  Q[i] = s | 0;
  Q[i + 1] = (hi + (s >= TWO32 ? 1 : 0)) | 0;
}

/** Multiply flags: CF = OF = `overflow`; SF/ZF/PF from the low result, AF = 0 (Bochs/QEMU; SDM: undefined). */
export function mulFlags(cpu: Cpu, overflow: boolean, lowRes: number, size: number): void {
  cpu.setArith((overflow ? CF | OF : 0) | cpu.szp(lowRes, size));
}

/** #DE for a zero divisor or a quotient that does not fit (SDM Vol. 2A DIV/IDIV). */
export function divideError(cpu: Cpu): never {
  return cpu.fault(DE, 0, false);
}
