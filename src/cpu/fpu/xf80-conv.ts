/**
 * Format conversions and the remaining non-transcendental x87 operations on 80-bit values:
 * m32fp/m64fp loads and stores (SDM Vol. 1 §4.2.2, §8.3.3; Vol. 2 FLD/FST), packed BCD
 * (§4.7, FBLD/FBSTP), FPREM/FPREM1 (partial remainders), FSCALE and FXTRACT.
 * Operands come in A/B of xf80-arith.ts; results in rSe/rHi/rLo of xf80.ts.
 */
import {
  IE, DE, ZE, UE, OE, WK, C_ZERO, C_DENORMAL, C_INF, C_QNAN, C_SNAN, C_UNSUPPORTED,
  IND_SE, IND_HI, IND_LO, classify80, unpack80, uNeg, uE, uHi, uLo, wkLoad64, wkNormalize,
  roundPack, raiseX, setResult, setSticky, rSe, rHi, rLo, xf, F32, F64, F80,
} from './xf80.js';
import { aSe, aHi, aLo, bSe, bHi, bLo, fromInt, setSrcDenormal, propagateNaN } from './xf80-arith.js';

// ---- m32fp / m64fp ---------------------------------------------------------------------------
/**
 * FLD m32fp: exact widening; SNaN → IE and quieted, denormal → DE. For an arithmetic
 * source (`arith`) the SNaN stays signaling and a denormal only sets srcDenormal: the
 * operation itself decides (Table 4-7 NaN rules, DE after the NaN checks).
 */
export function load32(bits: number, arith = false): void {
  const neg = bits < 0, sg = neg ? 0x8000 : 0;
  const e = (bits >>> 23) & 0xff, f = bits & 0x7fffff;
  if (e === 0xff) {
    if (f === 0) { setResult(sg | 0x7fff, 0x80000000, 0); return; }
    if (arith) { setResult(sg | 0x7fff, 0x80000000 | (f << 8), 0); return; }
    if ((f & 0x400000) === 0) raiseX(IE);
    setResult(sg | 0x7fff, 0x80000000 | 0x40000000 | (f << 8), 0); return;
  }
  if (e === 0) {
    if (f === 0) { setResult(sg, 0, 0); return; }
    if (arith) setSrcDenormal(true); else raiseX(DE);
    fromInt(neg, 0, f); setResult(rSe - 149, rHi, rLo); return;
  }
  setResult(sg | (e - 127 + 16383), 0x80000000 | (f << 8), 0);
}

/** FLD m64fp (`arith`: as for load32). */
export function load64(lo: number, hi: number, arith = false): void {
  const neg = hi < 0, sg = neg ? 0x8000 : 0;
  const e = (hi >>> 20) & 0x7ff, fh = hi & 0xfffff;
  if (e === 0x7ff) {
    if ((fh | lo) === 0) { setResult(sg | 0x7fff, 0x80000000, 0); return; }
    if (arith) { setResult(sg | 0x7fff, 0x80000000 | (fh << 11) | (lo >>> 21), lo << 11); return; }
    if ((fh & 0x80000) === 0) raiseX(IE);
    setResult(sg | 0x7fff, 0x80000000 | 0x40000000 | (fh << 11) | (lo >>> 21), lo << 11); return;
  }
  if (e === 0) {
    if ((fh | lo) === 0) { setResult(sg, 0, 0); return; }
    if (arith) setSrcDenormal(true); else raiseX(DE);
    fromInt(neg, fh, lo); setResult(rSe - 1074, rHi, rLo); return;
  }
  setResult(sg | (e - 1023 + 16383), 0x80000000 | (fh << 11) | (lo >>> 21), lo << 11);
}

/** Result of store32/store64: the bits (64-bit: lo in stLo, hi in stHi); `stOk` false when nothing may be stored. */
export let stLo = 0, stHi = 0, stOk = true;

/**
 * FST m32fp / m64fp of A (SDM Vol. 2 FST): rounds to the format under RC (PC does not
 * apply); unmasked OE/UE/IE leave memory unchanged (§4.9.2).
 */
export function store(single: boolean, rc: number, fcw: number): void {
  const c = classify80(aSe, aHi, aLo), neg = (aSe & 0x8000) !== 0;
  stOk = true;
  if (c === C_UNSUPPORTED || c === C_SNAN || c === C_QNAN) {
    if (c !== C_QNAN) raiseX(IE);
    if ((xf & IE) !== 0 && (fcw & IE) === 0) { stOk = false; return; }
    if (c === C_UNSUPPORTED) { stHi = single ? 0 : 0xfff80000 | 0; stLo = single ? 0xffc00000 | 0 : 0; return; }
    const hi = aHi | 0x40000000;
    if (single) stLo = (neg ? 0x80000000 : 0) | 0x7f800000 | ((hi >>> 8) & 0x7fffff);
    else { stHi = (neg ? 0x80000000 : 0) | 0x7ff00000 | ((hi >>> 11) & 0xfffff); stLo = (hi << 21) | (aLo >>> 11); }
    return;
  }
  let se: number, h: number, l: number;
  if (c === C_ZERO) { se = neg ? 0x8000 : 0; h = 0; l = 0; }
  else if (c === C_INF) { se = (neg ? 0x8000 : 0) | (single ? 0xff : 0x7ff); h = 0x80000000; l = 0; }
  else {
    unpack80(aSe, aHi, aLo);
    wkLoad64(uHi, uLo);
    roundPack(uNeg, uE, single ? 24 : 53, single ? F32 : F64, rc, fcw);
    if ((xf & (OE | UE) & ~fcw) !== 0) { stOk = false; return; }
    se = rSe; h = rHi; l = rLo;
  }
  const sg = (se & 0x8000) !== 0 ? 0x80000000 : 0, e = se & 0x7fff;
  if (single) stLo = sg | (e << 23) | ((h >>> 8) & 0x7fffff);
  else { stHi = sg | (e << 20) | ((h >>> 11) & 0xfffff); stLo = (h << 21) | (l >>> 11); }
}

// ---- packed BCD (SDM Vol. 1 §4.7, Figure 4-9) ---------------------------------------------------
/** FBLD: 18 digits in bytes 0..8 (byte 0 the two lowest digits), sign in bit 7 of byte 9. Invalid digits are undefined; they are taken at face value. */
export function loadBcd(b: Uint8Array): void {
  let hi = 0, lo = 0;
  for (let i = 8; i >= 0; i--) {
    for (const d of [b[i]! >> 4, b[i]! & 15]) {
      const l = lo * 10 + d;
      lo = l % 4294967296;
      hi = hi * 10 + Math.floor(l / 4294967296);
    }
  }
  fromInt((b[9]! & 0x80) !== 0, hi, lo);
}

/** FBSTP digits of an integer magnitude below 10^18 into out[0..9] with the sign. */
export function storeBcd(neg: boolean, hi: number, lo: number, out: Uint8Array): void {
  for (let i = 0; i < 9; i++) {
    let d2 = 0;
    for (let k = 0; k < 2; k++) {
      const h = Math.floor(hi / 10), rh = hi - h * 10;
      const t = rh * 4294967296 + lo;
      const l = Math.floor(t / 10);
      const d = t - l * 10;
      hi = h; lo = l;
      d2 |= d << (4 * k);
    }
    out[i] = d2;
  }
  out[9] = neg ? 0x80 : 0;
}
/** 10^18 as (hi, lo). */
export const BCD_LIMIT_HI = 0x0de0b6b3, BCD_LIMIT_LO = 0xa7640000;

// ---- FPREM / FPREM1 --------------------------------------------------------------------------
/** Quotient bits Q2 Q1 Q0 and C2 (incomplete) of the last remainder. */
export let remQ = 0, remIncomplete = false;
/**
 * A partial remainder (exponent difference D ≥ 64) reduces the exponent by N, an
 * implementation-dependent number between 32 and 63 (SDM Vol. 2 FPREM); this host uses
 * N = 32 + D mod 32.
 */
function premN(D: number): number { return 32 + (D % 32); }

/** FPREM (nearest = false) / FPREM1 (nearest = true): A rem B. */
export function prem(nearest: boolean, fcw: number): void {
  remQ = 0; remIncomplete = false;
  const ca = classify80(aSe, aHi, aLo), cb = classify80(bSe, bHi, bLo);
  if (ca === C_UNSUPPORTED || cb === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); return; }
  if (ca >= C_QNAN || cb >= C_QNAN) {
    propagateNaN(ca, cb);
    return;
  }
  if (ca === C_INF || cb === C_ZERO) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); return; }
  if (ca === C_DENORMAL || cb === C_DENORMAL) raiseX(DE);
  if (ca === C_ZERO || cb === C_INF) { keepA(fcw); return; }
  unpack80(aSe, aHi, aLo);
  const ea = uE, ma = uHi, mal = uLo, neg = uNeg;
  unpack80(bSe, bHi, bLo);
  const eb = uE, mb = uHi, mbl = uLo;
  const D = ea - eb;
  if (D < 0) {
    // |A| < |B|: quotient 0, except FPREM1 rounding |A/B| > 1/2 up to 1
    if (nearest && D === -1 && (ma > mb || (ma === mb && mal > mbl))) {
      // remainder A − B·sgn: magnitude 2·mb − ma at A's scale, sign flipped
      let l = mbl * 2, h = mb * 2;
      if (l >= 4294967296) { l -= 4294967296; h += 1; }
      l -= mal; h -= ma;
      if (l < 0) { l += 4294967296; h--; }
      remQ = 1;
      packRem(!neg, h, l, ea, fcw);
      return;
    }
    keepA(fcw); return;
  }
  let shift = D;
  if (D >= 64) { remIncomplete = true; shift = premN(D); }
  // long division of ma·2^shift by mb: r < 2·mb fits rh < 2^33
  let rh = ma, rl = mal, q = 0;
  for (let i = 0; i <= shift; i++) {
    q = (q << 1) & 7;
    if (rh > mb || (rh === mb && rl >= mbl)) {
      let l = rl - mbl, h = rh - mb;
      if (l < 0) { l += 4294967296; h--; }
      rh = h; rl = l; q |= 1;
    }
    if (i < shift) { rh = rh * 2 + (rl >>> 31); rl = (rl << 1) >>> 0; }
  }
  let rneg = neg;
  if (nearest && !remIncomplete) {
    // compare 2r with mb
    const th = rh * 2 + (rl >>> 31), tl = (rl << 1) >>> 0;
    const c = th > mb || (th === mb && tl > mbl) ? 1 : th === mb && tl === mbl ? 0 : -1;
    if (c > 0 || (c === 0 && (q & 1) !== 0)) {
      let l = mbl - rl, h = mb - rh;
      if (l < 0) { l += 4294967296; h--; }
      rh = h; rl = l; q = (q + 1) & 7; rneg = !neg;
    }
  }
  remQ = remIncomplete ? 0 : q;
  // r is at B's scale (full) or A's scale − shift (partial)
  const e = remIncomplete ? ea - shift : eb;
  packRem(rneg, rh, rl, e, fcw);
}

function keepA(fcw: number): void {
  const c = classify80(aSe, aHi, aLo);
  if (c === C_DENORMAL) { unpack80(aSe, aHi, aLo); wkLoad64(uHi, uLo); roundPack(uNeg, uE, 64, F80, 0, fcw); return; }
  setResult(aSe, aHi, aLo);
}

/** Packs ±r·2^(e−16383−63) exactly (denormalized when tiny); a zero keeps the dividend's sign. */
function packRem(neg: boolean, h: number, l: number, e: number, fcw: number): void {
  if (h === 0 && l === 0) { setResult(aSe & 0x8000, 0, 0); return; }
  wkLoad64(h >>> 0, l >>> 0);
  setSticky(0);
  const z = wkNormalize();
  roundPack(neg, e - z, 64, F80, 0, fcw);
}

// ---- FSCALE / FXTRACT --------------------------------------------------------------------------
/** FSCALE: A·2^trunc(B). */
export function scale(p: number, rc: number, fcw: number): void {
  const ca = classify80(aSe, aHi, aLo), cb = classify80(bSe, bHi, bLo);
  if (ca === C_UNSUPPORTED || cb === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); return; }
  if (ca >= C_QNAN || cb >= C_QNAN) {
    propagateNaN(ca, cb);
    return;
  }
  const bneg = (bSe & 0x8000) !== 0;
  if (cb === C_INF) {
    if (ca === C_DENORMAL) raiseX(DE);
    if ((ca === C_ZERO && !bneg) || (ca === C_INF && bneg)) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); return; }
    if (ca === C_ZERO || ca === C_INF) { setResult(aSe, aHi, aLo); return; }
    if (bneg) setResult(aSe & 0x8000, 0, 0); else setResult((aSe & 0x8000) | 0x7fff, 0x80000000, 0);
    return;
  }
  if (ca === C_DENORMAL || cb === C_DENORMAL) raiseX(DE);
  if (ca === C_ZERO || ca === C_INF) { setResult(aSe, aHi, aLo); return; }
  // n = trunc(B), clamped: anything beyond ±2^17 over/underflows the same way
  let n = 0;
  if (cb !== C_ZERO) {
    unpack80(bSe, bHi, bLo);
    const ex = uE - 16383;
    if (ex >= 17) n = 1 << 17;
    else if (ex >= 0) n = uHi >>> (31 - ex);
    n = bneg ? -n : n;
  }
  unpack80(aSe, aHi, aLo);
  wkLoad64(uHi, uLo);
  void p;
  // Unmasked OE/UE store the result with its exponent wrapped by 24576 (SDM Vol. 1 §8.5.4,
  // §8.5.5); only FSCALE can land beyond that. This CPU then stores ∞ with OE, PE, C1 = 1, or
  // a zero with UE, PE, C1 = 0, whatever RC says (host-verified: 2^40960 and 2^-40959 are the
  // first; a wrapped exponent of 0 gives zero, not a denormal). Those are the masked responses
  // of round-to-nearest and of round-toward-zero, so roundPack produces them.
  const e = uE + n;
  if ((fcw & OE) === 0 && e - 24576 >= 0x7fff) { roundPack(uNeg, e, 64, F80, 0, fcw | OE); return; }
  if ((fcw & UE) === 0 && e + 24576 < 1) { roundPack(uNeg, e, 64, F80, 3, fcw | UE); return; }
  roundPack(uNeg, e, 64, F80, rc, fcw);
}

/** FXTRACT of A: exponent in xtE (80-bit value in rSe/rHi/rLo after the call), significand in xtSe/xtHi/xtLo. */
export let xtSe = 0, xtHi = 0, xtLo = 0;
export function xtract(fcw: number): void {
  const c = classify80(aSe, aHi, aLo);
  if (c === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); xtSe = IND_SE; xtHi = IND_HI; xtLo = IND_LO; return; }
  if (c === C_SNAN || c === C_QNAN) {
    if (c === C_SNAN) raiseX(IE);
    setResult(aSe, aHi | 0x40000000, aLo); xtSe = rSe; xtHi = rHi; xtLo = rLo; return;
  }
  if (c === C_ZERO) { raiseX(ZE); xtSe = aSe; xtHi = 0; xtLo = 0; setResult(0xffff, 0x80000000, 0); return; }
  if (c === C_INF) { xtSe = aSe; xtHi = aHi; xtLo = aLo; setResult(0x7fff, 0x80000000, 0); return; }
  if (c === C_DENORMAL) raiseX(DE);
  unpack80(aSe, aHi, aLo);
  xtSe = (uNeg ? 0x8000 : 0) | 16383; xtHi = uHi; xtLo = uLo;
  const ex = uE - 16383;
  fromInt(ex < 0, 0, Math.abs(ex));
  void fcw;
}

export { WK };
