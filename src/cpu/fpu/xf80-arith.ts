/**
 * x87 arithmetic on 80-bit values (SDM Vol. 1 §8.3.5-§8.3.7, Vol. 2 FADD/FSUB/FMUL/FDIV/
 * FSQRT/FPREM/FPREM1/FRNDINT/FSCALE/FXTRACT/FCOM): operands in A and B, the result in
 * rSe/rHi/rLo of xf80.ts and the raised exceptions in xf. Special operands follow Table 4-7
 * (NaN propagation), §4.8.3.7 (QNaN indefinite for invalid operations) and §8.2.2
 * (unsupported encodings are invalid operands).
 */
import {
  IE, DE, ZE, WK, C_ZERO, C_NORMAL, C_DENORMAL, C_INF, C_QNAN, C_SNAN, C_UNSUPPORTED,
  IND_SE, IND_HI, IND_LO, classify80, unpack80, uNeg, uE, uHi, uLo, wkLoad64, wkShr, wkShl,
  wkNormalize, wkZero, roundPack, raiseX, setResult, setSticky, sticky, F80,
} from './xf80.js';

/** Operands: sign/exponent word and significand halves. */
export let aSe = 0, aHi = 0, aLo = 0, bSe = 0, bHi = 0, bLo = 0;
export function setA(se: number, hi: number, lo: number): void { aSe = se & 0xffff; aHi = hi | 0; aLo = lo | 0; }
export function setB(se: number, hi: number, lo: number): void { bSe = se & 0xffff; bHi = hi | 0; bLo = lo | 0; }

/** Significand precision selected by FCW.PC (SDM Vol. 1 §8.1.5.2; 01B reserved, taken as 64). */
export function pcBits(fcw: number): number {
  const pc = (fcw >> 8) & 3;
  return pc === 0 ? 24 : pc === 2 ? 53 : 64;
}
export function rcOf(fcw: number): number { return (fcw >> 10) & 3; }

const X = new Uint32Array(4);

function indefinite(): void { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); }

/** Quiets a NaN operand into the result. */
function quiet(se: number, hi: number, lo: number): void { setResult(se, hi | 0x40000000, lo); }

/**
 * Table 4-7 for the x87: an SNaN operand raises IE; one NaN is returned quieted; two NaNs
 * give the QNaN when only one is quiet, else the larger significand (ties: the positive one).
 */
export function propagateNaN(ca: number, cb: number): void {
  if (ca === C_SNAN || cb === C_SNAN) raiseX(IE);
  const an = ca === C_QNAN || ca === C_SNAN, bn = cb === C_QNAN || cb === C_SNAN;
  if (an && !bn) { quiet(aSe, aHi, aLo); return; }
  if (bn && !an) { quiet(bSe, bHi, bLo); return; }
  if (ca === C_QNAN && cb === C_SNAN) { quiet(aSe, aHi, aLo); return; }
  if (cb === C_QNAN && ca === C_SNAN) { quiet(bSe, bHi, bLo); return; }
  const ah = (aHi | 0x40000000) >>> 0, bh = (bHi | 0x40000000) >>> 0;
  if (ah > bh || (ah === bh && (aLo >>> 0) > (bLo >>> 0))) { quiet(aSe, aHi, aLo); return; }
  if (bh > ah || (bh === ah && (bLo >>> 0) > (aLo >>> 0))) { quiet(bSe, bHi, bLo); return; }
  if ((aSe & 0x8000) <= (bSe & 0x8000)) quiet(aSe, aHi, aLo); else quiet(bSe, bHi, bLo);
}

/**
 * Handles unsupported operands and NaNs of a two-operand operation; true when the result
 * is decided. Also raises DE for denormal operands (after the invalid checks).
 */
function specials2(ca: number, cb: number): boolean {
  if (ca === C_UNSUPPORTED || cb === C_UNSUPPORTED) { indefinite(); return true; }
  if (ca >= C_QNAN || cb >= C_QNAN) { propagateNaN(ca, cb); return true; }
  return false;
}
/**
 * Set when operand B came from an m32fp/m64fp denormal: the widened value is normal, but
 * the operation still reports DE — only once it gets past the NaN checks (host-verified).
 */
export let srcDenormal = false;
export function setSrcDenormal(v: boolean): void { srcDenormal = v; }
function denormCheck(ca: number, cb: number): void { if (ca === C_DENORMAL || cb === C_DENORMAL || srcDenormal) raiseX(DE); }

/** X ← significand (hi, lo) << 64, shifted right by n with sticky into the return value. */
function xLoadShr(hi: number, lo: number, n: number): number {
  X[3] = hi; X[2] = lo; X[1] = 0; X[0] = 0;
  if (n <= 0) return 0;
  let st = 0;
  if (n >= 128) { st = (hi | lo) !== 0 ? 1 : 0; X.fill(0); return st; }
  const q = n >>> 5, r = n & 31;
  for (let i = 0; i < q; i++) if (X[i] !== 0) st = 1;
  if (r !== 0 && (X[q]! << (32 - r)) !== 0) st = 1;
  for (let i = 0; i < 4; i++) {
    const s = i + q;
    const a = s < 4 ? X[s]! : 0, b = s + 1 < 4 ? X[s + 1]! : 0;
    X[i] = r === 0 ? a : (a >>> r) | (b << (32 - r));
  }
  return st;
}

/** FADD/FSUB (sub = true: A − B). */
export function add80(sub: boolean, p: number, rc: number, fcw: number): void {
  const ca = classify80(aSe, aHi, aLo), cb = classify80(bSe, bHi, bLo);
  if (specials2(ca, cb)) return;
  const na = (aSe & 0x8000) !== 0, nb = ((bSe & 0x8000) !== 0) !== sub;
  if (ca === C_INF || cb === C_INF) {
    if (ca === C_INF && cb === C_INF && na !== nb) { indefinite(); return; }
    denormCheck(ca, cb);
    if (ca === C_INF) setResult(aSe, aHi, aLo); else setResult(nb ? 0xffff : 0x7fff, 0x80000000, 0);
    return;
  }
  denormCheck(ca, cb);
  if (ca === C_ZERO && cb === C_ZERO) {
    const neg = na === nb ? na : rc === 1;
    setResult(neg ? 0x8000 : 0, 0, 0); return;
  }
  if (cb === C_ZERO) { unpack80(aSe, aHi, aLo); wkLoad64(uHi, uLo); roundPack(na, uE, p, F80, rc, fcw); return; }
  if (ca === C_ZERO) { unpack80(bSe, bHi, bLo); wkLoad64(uHi, uLo); roundPack(nb, uE, p, F80, rc, fcw); return; }
  unpack80(aSe, aHi, aLo);
  let e1 = uE, h1 = uHi, l1 = uLo, n1 = na;
  unpack80(bSe, bHi, bLo);
  let e2 = uE, h2 = uHi, l2 = uLo, n2 = nb;
  if (e2 > e1 || (e2 === e1 && (h2 > h1 || (h2 === h1 && l2 > l1)))) {
    let t = e1; e1 = e2; e2 = t; t = h1; h1 = h2; h2 = t; t = l1; l1 = l2; l2 = t;
    const tn = n1; n1 = n2; n2 = tn;
  }
  wkLoad64(h1, l1);
  const st = xLoadShr(h2, l2, e1 - e2);
  if (n1 === n2) {
    let c = 0;
    for (let i = 0; i < 4; i++) { const s = WK[i]! + X[i]! + c; WK[i] = s; c = s > 0xffffffff ? 1 : 0; }
    setSticky(st);
    if (c) { wkShr(1); WK[3] = WK[3]! | 0x80000000; e1++; }
    roundPack(n1, e1, p, F80, rc, fcw); return;
  }
  if (st) X[0] = X[0]! | 1; // jam: the lost bits only matter as "something below"
  let b = 0;
  for (let i = 0; i < 4; i++) { const s = WK[i]! - X[i]! - b; WK[i] = s; b = s < 0 ? 1 : 0; }
  setSticky(0);
  if (wkZero()) { setResult(rc === 1 ? 0x8000 : 0, 0, 0); return; }
  const z = wkNormalize();
  roundPack(n1, e1 - z, p, F80, rc, fcw);
}

/** 64×64 → 128-bit product of two significands into WK (16-bit limbs keep every partial exact). */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, a2 = ah & 0xffff, a3 = ah >>> 16;
  const b0 = bl & 0xffff, b1 = bl >>> 16, b2 = bh & 0xffff, b3 = bh >>> 16;
  const p = MUL_PART;
  p[0] = a0 * b0; p[1] = a0 * b1 + a1 * b0; p[2] = a0 * b2 + a1 * b1 + a2 * b0;
  p[3] = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0; p[4] = a1 * b3 + a2 * b2 + a3 * b1;
  p[5] = a2 * b3 + a3 * b2; p[6] = a3 * b3; p[7] = 0;
  let c = 0;
  const limb = MUL_LIMBS;
  for (let k = 0; k < 8; k++) { const s = p[k]! + c; limb[k] = s % 65536; c = Math.floor(s / 65536); }
  for (let i = 0; i < 4; i++) WK[i] = limb[2 * i]! | (limb[2 * i + 1]! << 16);
}
const MUL_LIMBS = new Float64Array(8), MUL_PART = new Float64Array(8);

/** FMUL. */
export function mul80(p: number, rc: number, fcw: number): void {
  const ca = classify80(aSe, aHi, aLo), cb = classify80(bSe, bHi, bLo);
  if (specials2(ca, cb)) return;
  const neg = ((aSe ^ bSe) & 0x8000) !== 0;
  if (ca === C_INF || cb === C_INF) {
    if (ca === C_ZERO || cb === C_ZERO) { indefinite(); return; }
    denormCheck(ca, cb);
    setResult(neg ? 0xffff : 0x7fff, 0x80000000, 0); return;
  }
  denormCheck(ca, cb);
  if (ca === C_ZERO || cb === C_ZERO) { setResult(neg ? 0x8000 : 0, 0, 0); return; }
  unpack80(aSe, aHi, aLo);
  const e1 = uE, h1 = uHi, l1 = uLo;
  unpack80(bSe, bHi, bLo);
  mul64(h1, l1, uHi, uLo);
  setSticky(0);
  let e = e1 + uE - 16383 + 1;
  e -= wkNormalize();
  roundPack(neg, e, p, F80, rc, fcw);
}

/** Restoring division of two normalized significands: WK ← 128 quotient bits of n/d (leading bit at 127), sticky ← remainder ≠ 0. Returns 1 when n ≥ d. */
function div64(nh: number, nl: number, dh: number, dl: number): number {
  // remainder r = rh·2^32 + rl with rh < 2^33
  let rh = nh, rl = nl;
  const ge = rh > dh || (rh === dh && rl >= dl) ? 1 : 0;
  if (!ge) { rh = rh * 2 + (rl >>> 31); rl = (rl << 1) >>> 0; }
  WK.fill(0);
  for (let k = 127; k >= 0; k--) {
    if (rh > dh || (rh === dh && rl >= dl)) {
      WK[k >>> 5] = WK[k >>> 5]! | (1 << (k & 31));
      let l = rl - dl, h = rh - dh;
      if (l < 0) { l += 4294967296; h--; }
      rh = h; rl = l;
    }
    rh = rh * 2 + (rl >>> 31); rl = (rl << 1) >>> 0;
    if (k <= 60) break; // 68 quotient bits: p ≤ 64 plus guard, round and sticky
  }
  setSticky(rh !== 0 || rl !== 0 ? 1 : 0);
  return ge;
}

/** FDIV: A / B. */
export function div80(p: number, rc: number, fcw: number): void {
  const ca = classify80(aSe, aHi, aLo), cb = classify80(bSe, bHi, bLo);
  if (specials2(ca, cb)) return;
  const neg = ((aSe ^ bSe) & 0x8000) !== 0;
  if (ca === C_INF && cb === C_INF) { indefinite(); return; }
  if (ca === C_ZERO && cb === C_ZERO) { indefinite(); return; }
  // a zero divisor reports ZE alone, without DE for a denormal dividend (host-verified)
  if (cb === C_ZERO && ca !== C_INF) { raiseX(ZE); setResult(neg ? 0xffff : 0x7fff, 0x80000000, 0); return; }
  denormCheck(ca, cb);
  if (ca === C_INF) { setResult(neg ? 0xffff : 0x7fff, 0x80000000, 0); return; }
  if (cb === C_INF) { setResult(neg ? 0x8000 : 0, 0, 0); return; }
  if (ca === C_ZERO) { setResult(neg ? 0x8000 : 0, 0, 0); return; }
  unpack80(aSe, aHi, aLo);
  const e1 = uE, h1 = uHi, l1 = uLo;
  unpack80(bSe, bHi, bLo);
  const ge = div64(h1, l1, uHi, uLo);
  roundPack(neg, e1 - uE + 16383 - (ge ? 0 : 1), p, F80, rc, fcw);
}

/** FSQRT of A. */
export function sqrt80(p: number, rc: number, fcw: number): void {
  const ca = classify80(aSe, aHi, aLo);
  if (ca === C_UNSUPPORTED) { indefinite(); return; }
  if (ca === C_SNAN || ca === C_QNAN) { if (ca === C_SNAN) raiseX(IE); quiet(aSe, aHi, aLo); return; }
  const neg = (aSe & 0x8000) !== 0;
  if (ca === C_ZERO) { setResult(aSe, 0, 0); return; }
  if (neg) { indefinite(); return; }
  if (ca === C_INF) { setResult(aSe, aHi, aLo); return; }
  if (ca === C_DENORMAL) raiseX(DE);
  unpack80(aSe, aHi, aLo);
  // value = m·2^(uE−16383−63); make the exponent e = uE−16383−63 even
  let e = uE - 16383 - 63;
  // radicand R = m·2^(2k) (shifted left one more when e is odd) with 2k = 68 extra bits:
  // the root then has 66 or 67 bits
  const odd = (e & 1) !== 0;
  if (odd) e -= 1;
  // radicand as 160-bit number in R5 (little-endian words)
  const R = R5; R.fill(0);
  // m << (68 + odd) : place m at bit offset 68+odd
  const sh = 68 + (odd ? 1 : 0);
  const q = sh >>> 5, r = sh & 31;
  R[q] = (uLo << r) >>> 0;
  R[q + 1] = r === 0 ? uHi : ((uHi << r) | (uLo >>> (32 - r))) >>> 0;
  R[q + 2] = r === 0 ? 0 : uHi >>> (32 - r);
  // digit-by-digit square root: root in RT (3 words), remainder in RM (3 words + top)
  RT.fill(0); RM.fill(0);
  for (let i = 159; i >= 1; i -= 2) {
    // RM = RM·4 + next two radicand bits
    const two = ((R[i >>> 5]! >>> (i & 31)) & 1) * 2 + ((R[(i - 1) >>> 5]! >>> ((i - 1) & 31)) & 1);
    shlSmall(RM, 2); RM[0] = RM[0]! | two;
    // T = RT·4 + 1
    TT[0] = RT[0]!; TT[1] = RT[1]!; TT[2] = RT[2]!; TT[3] = RT[3]!;
    shlSmall(TT, 2); TT[0] = TT[0]! | 1;
    shlSmall(RT, 1);
    if (cmpSmall(RM, TT) >= 0) { subSmall(RM, TT); RT[0] = RT[0]! | 1; }
  }
  // root = sqrt(m·2^sh) ∈ [2^65.5, 2^67): normalize into WK
  WK[0] = 0; WK[1] = RT[0]!; WK[2] = RT[1]!; WK[3] = RT[2]!;
  setSticky(RM[0]! | RM[1]! | RM[2]! | RM[3]! ? 1 : 0);
  const z = wkNormalize();
  // value = root·2^(e/2 − sh/2 + (odd?... )) : sqrt(m·2^e) = sqrt(m·2^sh)·2^((e − sh)/2)... with e' = e − (odd ? 1 : 0) handled above
  // value = m·2^eo (eo = e + odd), R = m·2^sh with eo − sh even: sqrt(value) = RT·2^((eo − sh)/2);
  // WK holds RT·2^(32+z), and value = WK·2^(E−16383−127) gives E below
  const half = (e + (odd ? 1 : 0) - sh) / 2;
  roundPack(false, 16383 + 127 - 32 - z + half, p, F80, rc, fcw);
}
const R5 = new Uint32Array(5), RT = new Uint32Array(4), RM = new Uint32Array(4), TT = new Uint32Array(4);

function shlSmall(a: Uint32Array, n: number): void {
  for (let i = a.length - 1; i > 0; i--) a[i] = (a[i]! << n) | (a[i - 1]! >>> (32 - n));
  a[0] = a[0]! << n;
}
function cmpSmall(a: Uint32Array, b: Uint32Array): number {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i]! > b[i]! ? 1 : -1;
  return 0;
}
function subSmall(a: Uint32Array, b: Uint32Array): void {
  let br = 0;
  for (let i = 0; i < a.length; i++) { const s = a[i]! - b[i]! - br; a[i] = s; br = s < 0 ? 1 : 0; }
}

// ---- comparisons (FCOM/FUCOM/FCOMI/FTST, SDM Vol. 2 FCOM Table 3-21) -------------------------
export const CMP_GT = 0, CMP_LT = 1, CMP_EQ = 2, CMP_UN = 3;
/**
 * Compares A with B. `quietNaN`: FUCOM-style (QNaN operands do not raise IE). Unsupported
 * operands always raise IE.
 */
export function cmp80(quietNaN: boolean): number {
  const ca = classify80(aSe, aHi, aLo), cb = classify80(bSe, bHi, bLo);
  if (ca === C_UNSUPPORTED || cb === C_UNSUPPORTED) { raiseX(IE); return CMP_UN; }
  if (ca >= C_QNAN || cb >= C_QNAN) {
    if (!quietNaN || ca === C_SNAN || cb === C_SNAN) raiseX(IE);
    return CMP_UN;
  }
  denormCheck(ca, cb);
  const na = (aSe & 0x8000) !== 0, nb = (bSe & 0x8000) !== 0;
  if (ca === C_ZERO && cb === C_ZERO) return CMP_EQ;
  if (ca === C_ZERO) return nb ? CMP_GT : CMP_LT;
  if (cb === C_ZERO) return na ? CMP_LT : CMP_GT;
  if (na !== nb) return na ? CMP_LT : CMP_GT;
  // same sign: compare magnitudes (infinity has the largest exponent)
  let m: number;
  if (ca === C_INF || cb === C_INF) m = ca === cb ? 0 : ca === C_INF ? 1 : -1;
  else {
    unpack80(aSe, aHi, aLo); const e1 = uE, h1 = uHi, l1 = uLo;
    unpack80(bSe, bHi, bLo);
    m = e1 !== uE ? (e1 > uE ? 1 : -1) : h1 !== uHi ? (h1 > uHi ? 1 : -1) : l1 !== uLo ? (l1 > uLo ? 1 : -1) : 0;
  }
  if (m === 0) return CMP_EQ;
  return (m > 0) !== na ? CMP_GT : CMP_LT;
}

// ---- rounding to an integer (FRNDINT, FIST, FBSTP) ---------------------------------------
/** Integer magnitude of the last roundToInt (hi, lo unsigned halves); `intBig` when ≥ 2^64. */
export let intHi = 0, intLo = 0, intBig = false, intInexact = false, intUp = false;
/** Rounds finite A to an integer under rc (magnitude in intHi/intLo, sign from aSe). */
export function roundToInt(rc: number): void {
  const c = classify80(aSe, aHi, aLo);
  intBig = false; intInexact = false; intUp = false;
  if (c === C_ZERO) { intHi = intLo = 0; return; }
  unpack80(aSe, aHi, aLo);
  const neg = uNeg;
  const sh = 16383 + 63 - uE;
  if (sh < 0) { intBig = true; intHi = uHi; intLo = uLo; return; }
  wkLoad64(uHi, uLo);
  wkShr(sh);
  const lsb = WK[2]! & 1, rb = WK[1]! >>> 31, rest = (WK[1]! & 0x7fffffff) !== 0 || WK[0] !== 0 || sticky !== 0;
  intInexact = rb !== 0 || rest;
  let inc = false;
  if (rc === 0) inc = rb !== 0 && (rest || lsb !== 0);
  else if (rc === 1) inc = neg && intInexact;
  else if (rc === 2) inc = !neg && intInexact;
  let lo = WK[2]!, hi = WK[3]!;
  if (inc) { lo = lo + 1; if (lo > 0xffffffff) { lo = 0; hi = hi + 1; if (hi > 0xffffffff) { hi = 0; intBig = true; } } }
  intUp = inc;
  intHi = hi >>> 0; intLo = lo >>> 0;
}

/** Packs an unsigned 64-bit magnitude with a sign into the 80-bit result (exact). */
export function fromInt(neg: boolean, hi: number, lo: number): void {
  if ((hi | lo) === 0) { setResult(neg ? 0x8000 : 0, 0, 0); return; }
  wkLoad64(hi >>> 0, lo >>> 0);
  const z = wkNormalize();
  setResult((neg ? 0x8000 : 0) | (16383 + 63 - z), WK[3]!, WK[2]!);
}

/** Signed-integer load helper: FILD m16/m32/m64 (value as int64 halves). */
export function fromInt64(lo: number, hi: number): void {
  const neg = hi < 0;
  if (neg) { lo = -lo | 0; hi = (~hi + (lo === 0 ? 1 : 0)) | 0; }
  fromInt(neg, hi, lo);
}

// exported for other x87 modules
export { wkShl };
