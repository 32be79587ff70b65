/**
 * One SSE floating-point lane: operand classification (with DAZ), NaN propagation, the
 * invalid/zero-divide/denormal pre-computation exceptions and the arithmetic itself
 * (SDM Vol. 1 §4.8.3.5 Table 4-7, §11.5.2). Lanes are read from the scratch A/B vectors and
 * written to R (common.ts); `single` selects 32-bit lanes, else 64-bit lanes.
 */
import { A, B, R } from './common.js';
import {
  raise, rcNearest, daz, roundTo, zeroSign, twoSumErr, twoProdErr, frexp1, splitE, mul2, bitsToF32, bitsToF64, f32ToBits, f64ToBits, f64Hi,
  IE, DE, ZE, PE,
} from './fp-core.js';

export const C_ZERO = 0, C_NORM = 1, C_DEN = 2, C_INF = 3, C_QNAN = 4, C_SNAN = 5;

/**
 * Classifies a lane; the value (DAZ applied) in VAL[0], class returned. A typed-array slot, not a
 * module `let`: V8 (Node 20) boxes every double stored in a module variable as a new heap number,
 * an allocation per classified operand.
 */
export const VAL = new Float64Array(1);
export function clsF32(b: number): number {
  const e = b & 0x7f800000, f = b & 0x7fffff;
  if (e === 0x7f800000) { if (f === 0) { VAL[0] = b < 0 ? -Infinity : Infinity; return C_INF; } VAL[0] = NaN; return (f & 0x400000) !== 0 ? C_QNAN : C_SNAN; }
  if (e === 0) {
    if (f === 0 || daz()) { VAL[0] = b < 0 ? -0 : 0; return C_ZERO; }
    VAL[0] = bitsToF32(b); return C_DEN;
  }
  VAL[0] = bitsToF32(b); return C_NORM;
}
export function clsF64(lo: number, hi: number): number {
  const e = hi & 0x7ff00000, fz = (hi & 0xfffff) === 0 && lo === 0;
  if (e === 0x7ff00000) { if (fz) { VAL[0] = hi < 0 ? -Infinity : Infinity; return C_INF; } VAL[0] = NaN; return (hi & 0x80000) !== 0 ? C_QNAN : C_SNAN; }
  if (e === 0) {
    if (fz || daz()) { VAL[0] = hi < 0 ? -0 : 0; return C_ZERO; }
    VAL[0] = bitsToF64(lo, hi); return C_DEN;
  }
  VAL[0] = bitsToF64(lo, hi); return C_NORM;
}

/** Writes a numeric (non-NaN) result into R lane i. */
export function putNum(single: boolean, i: number, v: number): void {
  if (single) R[i] = f32ToBits(v);
  else { R[2 * i] = f64ToBits(v); R[2 * i + 1] = f64Hi; }
}
/** The QNaN floating-point indefinite (SDM Vol. 1 §4.8.3.7). */
export function putIndefinite(single: boolean, i: number): void {
  if (single) R[i] = 0xffc00000 | 0;
  else { R[2 * i] = 0; R[2 * i + 1] = 0xfff80000 | 0; }
}
/** Copies lane i of `src` quieted into R. */
function putQuiet(single: boolean, i: number, src: Int32Array): void {
  if (single) R[i] = src[i]! | 0x400000;
  else { R[2 * i] = src[2 * i]!; R[2 * i + 1] = src[2 * i + 1]! | 0x80000; }
}

export const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MIN = 4, OP_MAX = 5, OP_SQRT = 6;

/** R[i] = A[i] op B[i] (SQRT: sqrt(B[i])). */
export function lane(op: number, single: boolean, i: number): void {
  let ca: number, cb: number, a: number, b: number;
  if (single) { ca = clsF32(A[i]!); a = VAL[0]!; cb = clsF32(B[i]!); b = VAL[0]!; }
  else { ca = clsF64(A[2 * i]!, A[2 * i + 1]!); a = VAL[0]!; cb = clsF64(B[2 * i]!, B[2 * i + 1]!); b = VAL[0]!; }
  if (op === OP_SQRT) { ca = cb; a = b; }
  const aNan = ca >= C_QNAN, bNan = cb >= C_QNAN;
  if (op === OP_MIN || op === OP_MAX) {
    // any NaN (QNaN included) is invalid and yields the second operand (SDM MINPS/MAXPS)
    if (aNan || bNan) { raise(IE); if (cb === C_ZERO) putNum(single, i, b); else copyB(single, i); return; }
    if (ca === C_DEN || cb === C_DEN) raise(DE);
    const pickA = op === OP_MIN ? a < b : a > b;
    putNum(single, i, pickA ? a : b); // DAZ: a flushed denormal comes back as zero
    return;
  }
  if (op === OP_SQRT) {
    if (aNan) { if (ca === C_SNAN) raise(IE); putQuiet(single, i, B); return; }
    if (a < 0 && ca !== C_ZERO) { raise(IE); putIndefinite(single, i); return; }
    if (ca === C_DEN) raise(DE);
    if (ca === C_ZERO || ca === C_INF) { putNum(single, i, a); return; }
    putNum(single, i, sqrt(a, single));
    return;
  }
  if (aNan || bNan) {
    if (ca === C_SNAN || cb === C_SNAN) raise(IE);
    putQuiet(single, i, aNan ? A : B);
    return;
  }
  // invalid operations (before the denormal check: SDM §11.5.2.1 precedence)
  const aInf = ca === C_INF, bInf = cb === C_INF, aZ = ca === C_ZERO, bZ = cb === C_ZERO;
  if ((op === OP_ADD && aInf && bInf && a !== b) || (op === OP_SUB && aInf && bInf && a === b) ||
      (op === OP_MUL && ((aInf && bZ) || (aZ && bInf))) || (op === OP_DIV && ((aZ && bZ) || (aInf && bInf)))) {
    raise(IE); putIndefinite(single, i); return;
  }
  if (op === OP_DIV && bZ && !aInf) {
    // divide-by-zero takes precedence over the denormal-operand exception
    if (!aZ) raise(ZE);
    putNum(single, i, (a < 0) !== (Object.is(b, -0)) ? -Infinity : Infinity);
    return;
  }
  if (ca === C_DEN || cb === C_DEN) raise(DE);
  if (aInf || bInf || aZ || bZ) {
    // exact results: infinities and zeros follow IEEE sign rules; x + (−x) = ±0 by mode
    let r: number;
    switch (op) {
      case OP_ADD: r = a + b; break;
      case OP_SUB: r = a - b; break;
      case OP_MUL: r = a * b; break;
      default: r = a / b; break;
    }
    // (±0) + (±0): equal signs keep that sign, opposite signs give −0 only when rounding down
    if (aZ && bZ && (op === OP_ADD || op === OP_SUB) && Object.is(a, -0) !== Object.is(op === OP_ADD ? b : -b, -0)) r = zeroSign();
    if (r === 0 || !Number.isFinite(r)) { putNum(single, i, r); return; }
    // one zero and one finite operand of add/sub: the other operand, rounded (FTZ may apply)
    if (aZ) { a = op === OP_SUB ? -b : b; b = 0; } else b = 0;
    putNum(single, i, single ? arith32(OP_ADD, a, b) : arith64(OP_ADD, a, b));
    return;
  }
  putNum(single, i, single ? arith32(op, a, b) : arith64(op, a, b));
}

function copyB(single: boolean, i: number): void {
  if (single) R[i] = B[i]!;
  else { R[2 * i] = B[2 * i]!; R[2 * i + 1] = B[2 * i + 1]!; }
}

/** Finite non-zero single operands: computed in double, then rounded once to single. */
function arith32(op: number, a: number, b: number): number {
  let q: number, sgn = 0;
  switch (op) {
    case OP_ADD: case OP_SUB: {
      const bb = op === OP_SUB ? -b : b;
      q = a + bb;
      if (q === 0) return zeroSign();
      sgn = Math.sign(twoSumErr(a, bb, q));
      break;
    }
    case OP_MUL: q = a * b; break; // 24x24 bits: exact in double
    default: {
      q = a / b;
      sgn = Math.sign(-twoProdErr(q, b, q * b) - (q * b - a)) * Math.sign(b);
      break;
    }
  }
  const neg = q < 0;
  return roundTo(neg, Math.abs(q), neg ? -sgn : sgn, 0, true);
}

/** Finite non-zero double operands, scaled to [1,2) so the error terms are exact. */
/** 2^-1022 (the least normal double), and the bounds of fp-lane's exact-product fast path. */
const MIN_NORMAL = 2.2250738585072014e-308, SPLIT_MAX = 2 ** 996, PROD_MIN = 2 ** -969;

function arith64(op: number, a: number, b: number): number {
  if (op === OP_ADD || op === OP_SUB) {
    const bb = op === OP_SUB ? -b : b;
    let q = a + bb, E2 = 0, sgn: number;
    if (q === 0) return zeroSign();
    // Fast path, round to nearest with a normal result: the host's IEEE sum is the SSE result
    // and only PE can arise (a finite nearest sum did not overflow; a sum of doubles below
    // 2^-1022 is a multiple of 2^-1074, exact, so a normal q was never tiny: SDM Vol. 1 §4.9.1.5)
    if (rcNearest() && Math.abs(q) >= MIN_NORMAL && Number.isFinite(q)) { if (twoSumErr(a, bb, q) !== 0) raise(PE); return q; }
    if (Number.isFinite(q)) sgn = Math.sign(twoSumErr(a, bb, q));
    else { const ha = a * 0.5, hb = bb * 0.5; q = ha + hb; sgn = Math.sign(twoSumErr(ha, hb, q)); E2 = 1; }
    const neg = q < 0;
    return roundTo(neg, Math.abs(q), neg ? -sgn : sgn, E2, false);
  }
  if (op === OP_MUL && rcNearest()) {
    // the same for a product well inside the normal range: Dekker's error term is exact when
    // neither factor's split overflows (|x| < 2^996) and the product is above 2^-969
    const p = a * b, ap = Math.abs(p);
    if (ap > PROD_MIN && ap !== Infinity && Math.abs(a) < SPLIT_MAX && Math.abs(b) < SPLIT_MAX) { if (twoProdErr(a, b, p) !== 0) raise(PE); return p; }
  }
  const neg = (a < 0) !== (b < 0);
  const ma = frexp1(Math.abs(a)), ea = splitE;
  const mb = frexp1(Math.abs(b)), eb = splitE;
  if (op === OP_MUL) {
    const q = ma * mb;
    return roundTo(neg, q, Math.sign(twoProdErr(ma, mb, q)), ea + eb, false);
  }
  const q = ma / mb;
  const p = q * mb;
  const r = (ma - p) - twoProdErr(q, mb, p); // exact remainder ma − q·mb
  return roundTo(neg, q, Math.sign(r), ea - eb, false);
}

/** Square root of a finite positive value. */
function sqrt(a: number, single: boolean): number {
  if (single) {
    const q = Math.sqrt(a);
    const p = q * q;
    const r = (a - p) - twoProdErr(q, q, p);
    return roundTo(false, q, Math.sign(r), 0, true);
  }
  let m = frexp1(a), e = splitE;
  if ((e & 1) !== 0) { m *= 2; e -= 1; }
  const q = Math.sqrt(m);
  const p = q * q;
  const r = (m - p) - twoProdErr(q, q, p);
  return roundTo(false, q, Math.sign(r), e / 2, false);
}

export { mul2 };
