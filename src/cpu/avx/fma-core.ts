/**
 * Fused multiply-add arithmetic for the FMA3 family (SDM Vol. 2 VFMADD132PS etc.; Vol. 1
 * §14.5): ±(a·b) ± c computed exactly and rounded ONCE under MXCSR (RC, DAZ, FTZ, the flags
 * IE/DE/OE/UE/PE through sse/fp-core.ts), with this CPU's special-case rules, probed on the
 * host (Zen 4) and pinned by avx/fma-diff.test.ts:
 *  - NaN: any SNaN operand raises IE; the result is the first NaN in multiplication order
 *    a, b, c (not in encoding order), quieted, never negated by VFNMADD/VFNMSUB/VFMSUB;
 *  - ∞·0 (+ any non-NaN c) and ∞ + (−∞) after the product are invalid: IE and the QNaN
 *    indefinite; ∞·0 + QNaN gives the QNaN without IE (a NaN addend wins silently);
 *  - DE when an operand is denormal (DAZ = 0), only after the NaN and invalid checks;
 *  - exact zero results: +0 except −0 when RC = down; (±0) + (±0) keeps a common sign;
 *  - tininess after rounding, FTZ flushes tiny results (even exact ones) with UE|PE.
 *
 * Exactness. binary32: a·b of two 24-bit significands is exact in a double and TwoSum gives
 * the exact error of fl(a·b + c) (all values are multiples of 2^-298 and below 2^257, so no
 * double over- or underflow), i.e. q = RN53(x) and the sign of x − q. binary64: the 106-bit
 * product and the aligned addend are summed in integer limbs of 24 bits held in doubles
 * (every limb operation stays below 2^53, so it is exact), and q = RN53(x) and sign(x − q)
 * are read off the exact sum. In both cases fp-core.ts roundTo finishes the rounding: the
 * target grid's points and midpoints (24 or 53 bits, subnormals) are all points of the
 * 53-bit grid or its midpoints, so RN53 plus the sign of the remainder decides every mode.
 * Module-level scratch only: nothing is allocated per instruction.
 */
import { raise, roundTo, zeroSign, twoSumErr, twoProdErr, frexp1, splitE, f32ToBits, f64ToBits, f64Hi, IE, DE } from '../sse/fp-core.js';
import { clsF32, clsF64, VAL, C_ZERO, C_DEN, C_INF, C_QNAN, C_SNAN } from '../sse/fp-lane.js';

const TWO24 = 16777216;
/** A double and its two 32-bit halves (the fast path reads q's exponent). */
const QB = new Float64Array(1), QI = new Int32Array(QB.buffer);
/** 2^k for k = 0..24. */
const POW = new Float64Array(25);
for (let k = 0, v = 1; k <= 24; k++, v *= 2) POW[k] = v;

// ---- 192-bit integers as 8 limbs of 24 bits (limb values are exact integers in doubles) -------
const NL = 8;
const U = new Float64Array(NL), V = new Float64Array(NL);
const MA = new Float64Array(3), MB = new Float64Array(3), MC = new Float64Array(3), MP = new Float64Array(6);

/** Splits an integer 0 ≤ m < 2^53 into 24-bit limbs l[0..2]. */
function split(m: number, l: Float64Array): void {
  const l0 = m % TWO24, t = (m - l0) / TWO24, l1 = t % TWO24;
  l[0] = l0; l[1] = l1; l[2] = (t - l1) / TWO24;
}

/** MP = MA·MB (53 × 53 → 106 bits): column sums stay below 3·2^48. */
function mul(): void {
  const a0 = MA[0]!, a1 = MA[1]!, a2 = MA[2]!, b0 = MB[0]!, b1 = MB[1]!, b2 = MB[2]!;
  MP[0] = a0 * b0; MP[1] = a0 * b1 + a1 * b0; MP[2] = a0 * b2 + a1 * b1 + a2 * b0;
  MP[3] = a1 * b2 + a2 * b1; MP[4] = a2 * b2; MP[5] = 0;
  for (let k = 0; k < 5; k++) {
    const lo = MP[k]! % TWO24;
    MP[k + 1] = MP[k + 1]! + (MP[k]! - lo) / TWO24;
    MP[k] = lo;
  }
}

/** acc = src (n limbs) shifted left by s bits; the result must fit in 192 bits. */
function setShifted(acc: Float64Array, src: Float64Array, n: number, s: number): void {
  acc.fill(0);
  const q = (s / 24) | 0, r = s % 24;
  for (let j = 0; j < n; j++) {
    const x = src[j]! * POW[r]!; // < 2^48
    const lo = x % TWO24;
    acc[q + j] = acc[q + j]! + lo;
    if (x !== lo) acc[q + j + 1] = acc[q + j + 1]! + (x - lo) / TWO24;
  }
}

/** U += V, carries propagated (both normalized on entry). */
function addUV(): void {
  let c = 0;
  for (let k = 0; k < NL; k++) {
    const x = U[k]! + V[k]! + c;
    c = x >= TWO24 ? 1 : 0;
    U[k] = x - c * TWO24;
  }
}

/** Sign of U − V. */
function cmpUV(): number {
  for (let k = NL - 1; k >= 0; k--) if (U[k] !== V[k]) return U[k]! > V[k]! ? 1 : -1;
  return 0;
}

/** acc = big − small (big ≥ small), borrows propagated. */
function subInto(acc: Float64Array, big: Float64Array, small: Float64Array): void {
  let b = 0;
  for (let k = 0; k < NL; k++) {
    let x = big[k]! - small[k]! - b;
    b = x < 0 ? 1 : 0;
    x += b * TWO24;
    acc[k] = x;
  }
}

/** Bits [lo, lo+w) of U, w ≤ 24. */
function field(lo: number, w: number): number {
  const q = (lo / 24) | 0, r = lo % 24;
  const x = Math.floor(U[q]! / POW[r]!) + (q + 1 < NL ? U[q + 1]! * POW[24 - r]! : 0);
  return x % POW[w]!;
}

/** True when any of bits [0, n) of U is set. */
function anyBelow(n: number): boolean {
  const q = (n / 24) | 0, r = n % 24;
  for (let k = 0; k < q; k++) if (U[k] !== 0) return true;
  return r !== 0 && U[q]! % POW[r]! !== 0;
}

/** Significand of |x| (finite, non-zero) as an integer in [2^52, 2^53); its lsb exponent in lsbE. */
let lsbE = 0;
function sig53(x: number): number {
  const m = frexp1(Math.abs(x));
  lsbE = splitE - 52;
  return m * 4503599627370496;
}

/**
 * ±a·b ± c for finite binary64 values, a·b ≠ 0 (c may be zero): the exact sum in U, then
 * RN53 and the remainder's sign handed to roundTo. Thresholds (significands normalized, so
 * P = MP·2^ep with MP in [2^104, 2^106) and C = MC·2^ec with MC in [2^52, 2^53)): when one
 * term is below 2^-3 of the other's lsb it is replaced by one unit at that position (lsb − 3):
 * every 53-bit grid point and midpoint near the larger term is a multiple of 2^(lsb−2), so x
 * stays in the same open interval between them and RN53/sign are unchanged.
 */
function fma64(a: number, b: number, c: number, negP: boolean, negC: boolean): number {
  const sp = (a < 0) !== (b < 0) !== negP;
  split(sig53(a), MA); const ea = lsbE;
  split(sig53(b), MB); const ep = ea + lsbE;
  mul();
  let lsb: number, neg: boolean;
  if (c === 0) {
    setShifted(U, MP, 5, 0); lsb = ep; neg = sp;
  } else {
    const sc = (c < 0) !== negC;
    split(sig53(c), MC); const ec = lsbE;
    if (ec - ep >= 109) { setShifted(U, MC, 3, 3); V.fill(0); V[0] = 1; lsb = ec - 3; }
    else if (ep - ec >= 56) { setShifted(U, MP, 5, 3); V.fill(0); V[0] = 1; lsb = ep - 3; }
    else { lsb = Math.min(ep, ec); setShifted(U, MP, 5, ep - lsb); setShifted(V, MC, 3, ec - lsb); }
    // U holds the term that was shifted as the product when ec − ep < 109; swap roles by sign
    const uIsP = ec - ep < 109;
    const su = uIsP ? sp : sc, sv = uIsP ? sc : sp;
    if (su === sv) { addUV(); neg = su; }
    else {
      const d = cmpUV();
      if (d === 0) return zeroSign(); // exact cancellation (IEEE 754 §6.3)
      if (d > 0) { subInto(U, U, V); neg = su; } else { subInto(U, V, U); neg = sv; }
    }
  }
  let k = NL - 1;
  while (U[k] === 0) k--;
  const t = 24 * k + 31 - Math.clz32(U[k]!); // top bit of the exact sum
  if (t <= 52) {
    const exact = U[0]! + U[1]! * TWO24 + U[2]! * 281474976710656;
    return roundTo(neg, exact, 0, lsb, false);
  }
  const sh = t - 52;
  let q = field(sh, 24) + field(sh + 24, 24) * TWO24 + field(sh + 48, 5) * 281474976710656;
  const half = field(sh - 1, 1) !== 0, sticky = anyBelow(sh - 1);
  let sgn: number;
  if (half && (sticky || q % 2 === 1)) { q += 1; sgn = -1; } // RN53 rounded up: x < q
  else sgn = half || sticky ? 1 : 0;
  return roundTo(neg, q, sgn, lsb + sh, false);
}

/**
 * The common binary64 case without limbs: Dekker's product ph + pl (exact: 2^-1000 ≤ |a|, |b|
 * < 2^995, so Veltkamp's splitting neither overflows nor sees a subnormal, and |ph| > 2^-900
 * keeps every partial product's last bit above 2^-1074), then three
 * TwoSums give x = q + w + v exactly with q = fl(s + u). When fl(|w| + |v|) < h, half the
 * spacing of the 53-bit grid from q toward x (ulp(q)/2, or ulp(q)/4 below a power of two),
 * then |x − q| < h too (rounding is monotone and h is a double), so q = RN53(x), not a tie,
 * and sign(x − q) = sign(fl(w + v)) (rounding keeps a sum's sign). Otherwise — at or near a
 * midpoint, cancellation to zero or tiny values, extreme exponents — NaN: the caller takes
 * the exact limb path.
 */
function fma64fast(a: number, b: number, c: number): number {
  const aa = Math.abs(a), ab = Math.abs(b);
  if (aa >= 2 ** 995 || ab >= 2 ** 995 || aa < 2 ** -1000 || ab < 2 ** -1000 || Math.abs(c) >= 2 ** 1000) return NaN;
  const ph = a * b, aph = Math.abs(ph);
  if (aph <= 2 ** -900 || aph >= 2 ** 1000) return NaN;
  const pl = twoProdErr(a, b, ph);
  const s = ph + c, t = twoSumErr(ph, c, s);
  const u = t + pl, v = twoSumErr(t, pl, u);
  const q = s + u, w = twoSumErr(s, u, q);
  const aq = Math.abs(q);
  if (aq <= 2 ** -900 || aq >= 2 ** 1000) return NaN;
  const e = w + v, neg = q < 0;
  QB[0] = aq;
  const pow2 = QI[0] === 0 && (QI[1]! & 0xfffff) === 0;
  QI[1] = (((QI[1]! >>> 20) - 53) << 20); QI[0] = 0; // ulp(q)/2: aq's exponent − 53
  let h = QB[0]!;
  if (pow2 && (e < 0) !== neg && e !== 0) h *= 0.5; // x below a power of two: the finer spacing
  if (!(Math.abs(w) + Math.abs(v) < h)) return NaN;
  return roundTo(neg, aq, neg ? -Math.sign(e) : Math.sign(e), 0, false);
}

/** ±a·b ± c for finite binary32 values (as doubles), a·b ≠ 0. */
function fma32(a: number, b: number, c: number, negP: boolean, negC: boolean): number {
  const p = negP ? -(a * b) : a * b; // exact: 48 significant bits
  const cc = negC ? -c : c;
  const q = p + cc;
  if (q === 0) return zeroSign();
  const e = twoSumErr(p, cc, q);
  const neg = q < 0;
  return roundTo(neg, Math.abs(q), neg ? -Math.sign(e) : Math.sign(e), 0, true);
}

/**
 * Element i of out = ±(a·b) ± c, fused: single (dword elements) or double (qword elements)
 * of the dword arrays a, b, c. `negP` negates the product (VFNMADD/VFNMSUB), `negC` the
 * addend (VFMSUB/VFNMSUB, the subtracting elements of VFMADDSUB/VFMSUBADD).
 */
export function fmaElem(single: boolean, i: number, negP: boolean, negC: boolean,
  a: Int32Array, b: Int32Array, c: Int32Array, out: Int32Array): void {
  let ca: number, cb: number, cc: number, va: number, vb: number, vc: number;
  if (single) { ca = clsF32(a[i]!); va = VAL[0]!; cb = clsF32(b[i]!); vb = VAL[0]!; cc = clsF32(c[i]!); vc = VAL[0]!; }
  else {
    const j = 2 * i;
    ca = clsF64(a[j]!, a[j + 1]!); va = VAL[0]!; cb = clsF64(b[j]!, b[j + 1]!); vb = VAL[0]!; cc = clsF64(c[j]!, c[j + 1]!); vc = VAL[0]!;
  }
  if (ca >= C_QNAN || cb >= C_QNAN || cc >= C_QNAN) {
    if (ca === C_SNAN || cb === C_SNAN || cc === C_SNAN) raise(IE);
    putQuiet(single, i, ca >= C_QNAN ? a : cb >= C_QNAN ? b : c, out);
    return;
  }
  const pInf = ca === C_INF || cb === C_INF, pZero = ca === C_ZERO || cb === C_ZERO;
  const sp = (va < 0 || Object.is(va, -0)) !== (vb < 0 || Object.is(vb, -0)) !== negP;
  const sc = (vc < 0 || Object.is(vc, -0)) !== negC;
  if ((pInf && pZero) || (pInf && cc === C_INF && sp !== sc)) {
    raise(IE);
    if (single) out[i] = 0xffc00000 | 0; else { out[2 * i] = 0; out[2 * i + 1] = 0xfff80000 | 0; }
    return;
  }
  if (ca === C_DEN || cb === C_DEN || cc === C_DEN) raise(DE);
  let r: number;
  if (pInf) r = sp ? -Infinity : Infinity;
  else if (cc === C_INF) r = sc ? -Infinity : Infinity;
  else if (pZero) {
    if (cc === C_ZERO) r = sp === sc ? (sp ? -0 : 0) : zeroSign();
    else r = roundTo(sc, Math.abs(vc), 0, 0, single); // exact, but FTZ may flush a denormal c
  } else if (single) r = fma32(va, vb, vc, negP, negC);
  else {
    r = fma64fast(negP ? -va : va, vb, negC ? -vc : vc);
    if (r !== r) r = fma64(va, vb, vc, negP, negC); // NaN: undecided, take the exact limb path
  }
  if (single) out[i] = f32ToBits(r);
  else { out[2 * i] = f64ToBits(r); out[2 * i + 1] = f64Hi; }
}

function putQuiet(single: boolean, i: number, src: Int32Array, out: Int32Array): void {
  if (single) out[i] = src[i]! | 0x400000;
  else { out[2 * i] = src[2 * i]!; out[2 * i + 1] = src[2 * i + 1]! | 0x80000; }
}
