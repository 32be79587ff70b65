/**
 * Exact extended-precision arithmetic on integer limbs for the x87 FPU (SDM Vol. 1 §4.2.2,
 * §4.8, §8.1.5 precision and rounding control). No doubles carry significands here: every
 * significand is an unsigned integer split into 32-bit words, so results are exact and then
 * rounded once, bit for bit as the hardware does.
 *
 * Working form: a value ±W·2^(E−16383−127) where W is a 128-bit integer in WK[3..0]
 * (WK[3] most significant) with bit 127 set, plus a sticky bit for bits below WK[0]. E is
 * the exponent in the 80-bit format's bias, unbounded (it may be < 1 or > 7FFEH before
 * rounding). roundPack() rounds that to p = 24/53/64 significand bits for a target format
 * with its own exponent range (80-bit registers, m64fp, m32fp).
 *
 * An 80-bit register value: sign/exponent word (bit 15 sign, 14:0 biased exponent) and a
 * 64-bit significand (hi, lo halves, bit 63 = explicit integer bit J).
 */

// ---- exception flags as FSW bit positions (SDM Vol. 1 §8.1.3, Figure 8-4) ------------------
export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32, SF = 64;

/** Flags raised by the current operation; C1 "rounded up" indicator of the last rounding. */
export let xf = 0;
export let roundedUp = false;
export function clearFlags(): void { xf = 0; roundedUp = false; }
export function raiseX(f: number): void { xf |= f; }
/** An unmasked IE/DE/ZE stops the operation before it produces a result: later flags vanish. */
export function abortFlags(): void { xf &= IE | DE | ZE | SF; roundedUp = false; }

/** The 128-bit working significand (little-endian words) and its sticky bit. */
export const WK = new Uint32Array(4);
export let sticky = 0;
export function setSticky(v: number): void { sticky = v; }

// ---- operand classes (SDM Vol. 1 §8.2.2, Table 8-3 unsupported encodings) ---------------------
export const C_ZERO = 0, C_NORMAL = 1, C_DENORMAL = 2, C_INF = 3, C_QNAN = 4, C_SNAN = 5, C_UNSUPPORTED = 6;

/** Class of an 80-bit value. Pseudo-denormals (exponent 0, J = 1) count as denormals. */
export function classify80(se: number, hi: number, lo: number): number {
  const e = se & 0x7fff, j = hi < 0;
  if (e === 0) return (hi | lo) === 0 ? C_ZERO : C_DENORMAL;
  if (!j) return C_UNSUPPORTED; // unnormal, pseudo-NaN, pseudo-infinity
  if (e === 0x7fff) {
    if ((hi & 0x7fffffff) === 0 && lo === 0) return C_INF;
    return (hi & 0x40000000) !== 0 ? C_QNAN : C_SNAN;
  }
  return C_NORMAL;
}

/** QNaN floating-point indefinite (SDM Vol. 1 §4.8.3.7): sign 1, exponent all ones, C000...0. */
export const IND_SE = 0xffff, IND_HI = 0xc0000000 | 0, IND_LO = 0;

/** Result registers of the packing functions. */
export let rSe = 0, rHi = 0, rLo = 0;
export function setResult(se: number, hi: number, lo: number): void { rSe = se & 0xffff; rHi = hi | 0; rLo = lo | 0; }

// ---- 32-bit word helpers ------------------------------------------------------------------------
/** Leading zeros of a 64-bit value (hi, lo as int32 bit patterns). */
export function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/** Shifts WK right by n (any n ≥ 0) collecting lost bits into sticky. */
export function wkShr(n: number): void {
  if (n <= 0) return;
  if (n >= 128) {
    if ((WK[0]! | WK[1]! | WK[2]! | WK[3]!) !== 0) sticky = 1;
    WK.fill(0); return;
  }
  const q = n >>> 5, r = n & 31;
  for (let i = 0; i < q; i++) if (WK[i] !== 0) sticky = 1;
  if (r !== 0 && (WK[q]! << (32 - r)) !== 0) sticky = 1;
  for (let i = 0; i < 4; i++) {
    const s = i + q;
    const a = s < 4 ? WK[s]! : 0, b = s + 1 < 4 ? WK[s + 1]! : 0;
    WK[i] = r === 0 ? a : (a >>> r) | (b << (32 - r));
  }
}

/** Shifts WK left by n (0 ≤ n < 128); bits shifted out are lost (callers shift out zeros). */
export function wkShl(n: number): void {
  if (n <= 0) return;
  const q = n >>> 5, r = n & 31;
  for (let i = 3; i >= 0; i--) {
    const s = i - q;
    const a = s >= 0 ? WK[s]! : 0, b = s - 1 >= 0 ? WK[s - 1]! : 0;
    WK[i] = r === 0 ? a : (a << r) | (b >>> (32 - r));
  }
}

/** Leading zeros of WK (128 when zero). */
export function wkClz(): number {
  for (let i = 3; i >= 0; i--) if (WK[i] !== 0) return (3 - i) * 32 + Math.clz32(WK[i]!);
  return 128;
}
export function wkZero(): boolean { return (WK[0]! | WK[1]! | WK[2]! | WK[3]!) === 0; }

/** Bit k of WK. */
function wkBit(k: number): number { return (WK[k >>> 5]! >>> (k & 31)) & 1; }
/** Whether any bit below k (exclusive) is set. */
function wkAnyBelow(k: number): boolean {
  const q = k >>> 5, r = k & 31;
  for (let i = 0; i < q; i++) if (WK[i] !== 0) return true;
  return r !== 0 && (WK[q]! << (32 - r)) !== 0;
}
/** Clears bits below k (k < 128) and adds 2^k if `inc`; returns the carry out of bit 127. */
function wkTruncInc(k: number, inc: boolean): number {
  const q = k >>> 5, r = k & 31;
  for (let i = 0; i < q; i++) WK[i] = 0;
  if (r !== 0) WK[q] = (WK[q]! >>> r) << r;
  if (!inc) return 0;
  let c = r === 0 ? 1 : 2 ** r;
  for (let i = q; c !== 0 && i < 4; i++) { const s = WK[i]! + c; WK[i] = s; c = s > 0xffffffff ? 1 : 0; }
  return c;
}

// ---- rounding (SDM Vol. 1 §4.8.4, §8.1.5.1-2) -------------------------------------------------
/** Formats: significand bits of the format's own, bias, exponent of infinities/NaNs. */
export const F80 = 0, F64 = 1, F32 = 2;
const FMT_BIAS = [16383, 1023, 127], FMT_EMAX = [0x7fff, 0x7ff, 0xff];

/**
 * False: this machine's x87 detects tininess after rounding (SDM Vol. 1 §4.9.1.5: the result
 * rounded to p bits with an unbounded exponent is below 2^emin). A value just below the
 * smallest normal that rounds up to it is no underflow: no UE masked, no wrap or #MF unmasked,
 * in registers and in FST m32fp/m64fp (host-verified: 23 of 60,000 arithmetic and 385 of 30,000
 * store cases at the limits differed while this was true; the differential specs hold them).
 */
export const TINY_BEFORE_ROUNDING = false;

/** Whether rounding should increment, given sign, lsb, round bit and rest. rc: 0 nearest, 1 down, 2 up, 3 chop. */
function incFor(rc: number, neg: boolean, lsb: number, rb: number, rest: boolean): boolean {
  switch (rc) {
    case 0: return rb !== 0 && (rest || lsb !== 0);
    case 1: return neg && (rb !== 0 || rest);
    case 2: return !neg && (rb !== 0 || rest);
    default: return false;
  }
}

/**
 * Rounds ±WK·2^(E−16383−127) (WK normalized, sticky) to `p` bits in format `fmt` under
 * rounding control `rc`; `fcw` supplies the UE/OE masks. Result in rSe/rHi/rLo with the
 * significand in the 80-bit layout (J at bit 63, the top p bits significant) and the
 * exponent biased for `fmt`. For F80 register results with unmasked OE/UE the exponent is
 * wrapped by 24576 (SDM Vol. 1 §8.5.4/§8.5.5); for memory formats the caller does not store.
 */
export function roundPack(neg: boolean, E: number, p: number, fmt: number, rc: number, fcw: number): void {
  const bias = FMT_BIAS[fmt]!, emax = FMT_EMAX[fmt]!;
  let e = E - 16383 + bias;
  const s = 128 - p;
  const sgn = neg ? 0x8000 : 0;
  // tininess: before rounding, the unbounded exponent is below the normal range
  let tiny = e < 1;
  if (tiny && !TINY_BEFORE_ROUNDING && e === 0) {
    // after rounding: only an all-ones significand at exponent 0 can round up to 2^emin
    // (a loop, not a closure: this is the per-instruction path)
    let allOnes = true;
    for (let k = s; k < 128 && allOnes; k++) if (wkBit(k) === 0) allOnes = false;
    if (allOnes && incFor(rc, neg, 1, wkBit(s - 1), sticky !== 0 || wkAnyBelow(s - 1))) tiny = false;
  }
  const umask = (fcw & UE) !== 0, omask = (fcw & OE) !== 0;
  if (tiny && !umask) {
    xf |= UE;
    if (fmt === F80) e += 24576; else { rSe = 0; return; }
  }
  let denorm = false;
  if (e < 1) { const st0 = sticky; sticky = 0; wkShr(1 - e); sticky |= st0; denorm = true; e = 0; }
  const lsb = wkBit(s), rb = wkBit(s - 1), rest = sticky !== 0 || wkAnyBelow(s - 1);
  const inexact = rb !== 0 || rest;
  const inc = incFor(rc, neg, lsb, rb, rest);
  const carry = wkTruncInc(s, inc);
  roundedUp = inc;
  if (denorm) {
    if (WK[3]! >>> 31) e = 1; // rounded up into the normal range
  } else if (carry) { WK[3] = 0x80000000; e++; }
  if (inexact) {
    xf |= PE;
    if (tiny && umask) xf |= UE;
  }
  if (e >= emax) {
    xf |= OE;
    // unmasked: the exponent wraps by 24576. Only FSCALE can stay out of range after that, and
    // scale() (xf80-conv.ts) stores the host's ∞ itself; the masked response here is a guard
    if (!omask && (fmt !== F80 || e - 24576 < emax)) {
      if (fmt === F80) { e -= 24576; rSe = sgn | e; rHi = WK[3]! | 0; rLo = WK[2]! | 0; return; }
      xf &= ~PE; // nothing is stored, so nothing is inexact (host-verified)
      rSe = 0; return;
    }
    xf |= PE;
    // masked overflow: ∞ or the largest finite value by rounding direction (§4.8.4.1 Table 4-8)
    const toInf = rc === 0 || (rc === 1 && neg) || (rc === 2 && !neg);
    roundedUp = toInf;
    if (toInf) { rSe = sgn | emax; rHi = fmt === F80 ? 0x80000000 | 0 : 0x80000000 | 0; rLo = 0; return; }
    WK.fill(0);
    // top p bits all ones
    for (let k = 127; k >= s; k--) WK[k >>> 5] = WK[k >>> 5]! | (1 << (k & 31));
    rSe = sgn | (emax - 1); rHi = WK[3]! | 0; rLo = WK[2]! | 0; return;
  }
  rSe = sgn | e; rHi = WK[3]! | 0; rLo = WK[2]! | 0;
}

// ---- unpacking ------------------------------------------------------------------------------
/** Unpacked finite non-zero operand: sign, exponent (80-bit bias, unbounded), normalized 64-bit significand. */
export let uNeg = false, uE = 0, uHi = 0, uLo = 0;
/** Normalizes a finite non-zero 80-bit value (denormals and pseudo-denormals take exponent 1). */
export function unpack80(se: number, hi: number, lo: number): void {
  uNeg = (se & 0x8000) !== 0;
  let e = se & 0x7fff;
  if (e === 0) e = 1;
  const z = clz64(hi, lo);
  if (z !== 0) {
    if (z >= 32) { hi = lo << (z - 32); lo = 0; }
    else { hi = (hi << z) | (lo >>> (32 - z)); lo = lo << z; }
  }
  uE = e - z; uHi = hi >>> 0; uLo = lo >>> 0;
}

/** Loads WK with the 64-bit significand on top. */
export function wkLoad64(hi: number, lo: number): void { WK[3] = hi; WK[2] = lo; WK[1] = 0; WK[0] = 0; sticky = 0; }

/** Normalizes WK so bit 127 is set; returns the shift applied (the exponent decreases by it). */
export function wkNormalize(): number { const z = wkClz(); if (z > 0 && z < 128) wkShl(z); return z; }
