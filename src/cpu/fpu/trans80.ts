/**
 * F2XM1, FYL2X, FYL2XP1 and FPATAN on exact limb arithmetic (SDM Vol. 2 F2XM1/FYL2X/FYL2XP1/
 * FPATAN; Vol. 1 §8.3.9 logarithmic, exponential and scale instructions). Only finite
 * non-zero operands in their domains reach these functions: the special-operand tables
 * live in x87-trans.ts.
 *
 * The host (AMD Zen 4) is not correctly rounded for these, and the functions below model its
 * internal steps where they were pinned (docs/x87-transcendentals.md): FYL2X/FYL2XP1 multiply
 * y by a log2 built from 68-bit roundings (logModel), FPATAN takes atan of the ratio rounded
 * to 68 bits and adds a 68-bit π or π/2, F2XM1 evaluates the host's rational tanh-form
 * approximation in 68-bit steps (f2xm1Core).
 *
 * Every result is an exact integer (operand significands) times fixed-point factors of
 * magnitude about 1 with FB = 144 fractional bits (trig80.ts's limb arithmetic), rounded once
 * by roundPack. The fixed-point factors carry errors of a few units of 2^-140 (relative); none
 * of these functions has an exactly representable value for such operands (the exact cases
 * — powers of two for FYL2X, ±1 for F2XM1 — are separated by the callers), so rounding the
 * computed value with the sticky bit set gives the correctly rounded result unless the
 * exact value lies within 2^-130 of a rounding boundary. Tiny results keep their relative
 * precision because the operand that makes them tiny (x for F2XM1/FYL2XP1, y/x for
 * FPATAN, x − 1 for FYL2X near 1) enters as an exact integer factor, never as a fixed-point
 * value. Identities used:
 *  - 2^x − 1 = 2t/(1 − t), t = tanh(x·ln2/2) ≈ x·P(x²)/Q(x²) (the host's rational, f2xm1Core)
 *  - log2(1+u) = 2·artanh(s)·log2(e), s = u/(2+u), = s·C2·(1 + g(s²)), g(z) = Σ z^j/(2j+1);
 *    FYL2X splits x = 2^k·(1+u) with 1+u ∈ [√½, √2)
 *  - atan t = t·P(t²)/Q(t²), the host's degree-(8, 7) minimax rational (fpatanCore)
 * Constants (ln2, π/4) are computed at module load by the same series; C2 = 2·log2(e)
 * and π are the host's 68-bit values.
 * No BigInt, no allocation per call: fixed scratch arrays.
 */
import { PE, UE, raiseX, rSe, rHi, rLo } from './xf80.js';
import { zero, isZero, fxMul, fxDivSmall, fxAdd, sub, cmp, bitLen, bit, bigMul, packBig, subPad } from './trig80.js';

/**
 * Fixed point here: L 16-bit limbs, FB = 16·(L − 1) = 144 fractional bits (as trig80.ts).
 * That leaves about 2^-136 of relative error, 70 bits beyond the 64-bit result; 208 bits
 * gave the same results on every differential and reference case at twice the cost.
 */
const L = 10, FB = 144;
function fmul(d: Int32Array, a: Int32Array, b: Int32Array): void { fxMul(d, a, b, L); }
function fdivs(d: Int32Array, a: Int32Array, q: number): void { fxDivSmall(d, a, q, L); }
function fadd(d: Int32Array, a: Int32Array, b: Int32Array): void { fxAdd(d, a, b, L); }

const BASE = 65536;
const ONE = new Int32Array(L), TWO = new Int32Array(L), LN2 = new Int32Array(L);
/** 2·log2(e) to 68 significant bits, 0xB8AA3B295C17F0BBC·2^-66 (its 66- to 70-bit roundings agree; host-pinned). */
const C2 = new Int32Array(L);
const PI4 = new Int32Array(L), PI2 = new Int32Array(L), PI = new Int32Array(L), PI34 = new Int32Array(L), C04 = new Int32Array(L);
const T1 = new Int32Array(L), T2 = new Int32Array(L), T3 = new Int32Array(L), T4 = new Int32Array(L), T5 = new Int32Array(L);
const POS = new Int32Array(L), NEG = new Int32Array(L), ZZ = new Int32Array(L), SUMF = new Int32Array(L);
const MA = new Int32Array(12), MB = new Int32Array(12), PR1 = new Int32Array(40), PR2 = new Int32Array(40);

/**
 * d ← a / b (b ≥ 1/2, quotient < 2^16) within a few units of 2^-FB: Newton's reciprocal
 * y ← y·(2 − b·y) from a binary64 start (53 → 106 → 212 bits), then a·y. Three fixed-point
 * multiplications per step instead of FB + 16 bit-serial subtraction steps.
 */
function fxDiv(d: Int32Array, a: Int32Array, b: Int32Array): void {
  let bv = 0;
  for (let i = L - 1; i >= L - 5; i--) bv += b[i]! * 2 ** (16 * (i - (L - 1)));
  fxFromDouble(T5, 1 / bv);
  for (let k = 0; k < 3; k++) { // 53 → 106 → 144 bits
    fmul(RA, b, T5);
    sub(RB, TWO, RA, L);
    fmul(RA, T5, RB);
    T5.set(RA);
  }
  fmul(d, a, T5);
}
const RA = new Int32Array(L), RB = new Int32Array(L);

/** d ← v (0 ≤ v < 2^16) in fixed point, truncated: exact limb by limb (powers of two only). */
function fxFromDouble(d: Int32Array, v: number): void {
  for (let i = L - 1; i >= 0; i--) {
    const scale = 2 ** (16 * (i - (L - 1)));
    const q = Math.floor(v / scale);
    d[i] = q; v -= q * scale;
  }
}

/** d ← a·2^-n (n ≥ 0), truncated, by whole limbs and a bit shift. */
function fxShr(d: Int32Array, a: Int32Array, n: number): void {
  const q = n >>> 4, r = n & 15;
  for (let i = 0; i < L; i++) {
    const s = i + q;
    const lo = s < L ? a[s]! : 0, hi = s + 1 < L ? a[s + 1]! : 0;
    d[i] = ((lo >>> r) | (hi << (16 - r))) & 0xffff;
  }
}

/** d ← a·2^sh in fixed point, truncated (a: an n-limb integer). */
function fxFromInt(d: Int32Array, a: Int32Array, n: number, sh: number): void {
  zero(d);
  const nb = bitLen(a, n);
  for (let k = 0; k < nb; k++) {
    if (!bit(a, k)) continue;
    const t = k + sh + FB;
    if (t >= 0 && t < 16 * L) d[t >>> 4] = d[t >>> 4]! | (1 << (t & 15));
  }
}

function copyN(d: Int32Array, s: Int32Array, n: number): void { for (let i = 0; i < n; i++) d[i] = s[i]!; }

/** a (4 limbs) ← the unsigned 64-bit value hi:lo. */
function limbs64(a: Int32Array, hi: number, lo: number): void {
  a.fill(0);
  a[0] = lo & 0xffff; a[1] = lo >>> 16; a[2] = hi & 0xffff; a[3] = hi >>> 16;
}

/** d ← atan(1/n) = Σ (−1)^k / ((2k+1)·n^(2k+1)) (constants only). */
function atanInv(d: Int32Array, n: number): void {
  zero(POS); zero(NEG);
  fdivs(T1, ONE, n);
  for (let k = 0; !isZero(T1, L); k++) {
    fdivs(T2, T1, 2 * k + 1);
    if (k & 1) fadd(NEG, NEG, T2); else fadd(POS, POS, T2);
    fdivs(T1, T1, n * n);
  }
  sub(d, POS, NEG, L);
}

// ---- constants ------------------------------------------------------------------------------
ONE[L - 1] = 1; TWO[L - 1] = 2;
{
  // ln 2 = 2·artanh(1/3) = 2·Σ 3^-(2k+1)/(2k+1)
  zero(POS); fdivs(T1, ONE, 3);
  for (let k = 0; !isZero(T1, L); k++) { fdivs(T2, T1, 2 * k + 1); fadd(POS, POS, T2); fdivs(T1, T1, 9); }
  fadd(LN2, POS, POS);
  fxFromInt(C2, Int32Array.from([0x0bbc, 0xc17f, 0xb295, 0x8aa3, 0xb]), 5, -66);
  // Machin: π/4 = 4·atan(1/5) − atan(1/239)
  atanInv(T3, 5); atanInv(T4, 239);
  fadd(T3, T3, T3); fadd(T3, T3, T3);
  sub(PI4, T3, T4, L);
  fadd(PI2, PI4, PI4); fadd(PI, PI2, PI2); fadd(PI34, PI2, PI4);
  fdivs(C04, TWO, 5);
}

/**
 * The host's internal format: the FYL2X/FYL2XP1 results are y·L rounded once with L on a
 * 68-bit significand grid (pinned by intersecting the intervals that random y give for the
 * same x: 520/520 x consistent with 68 bits), and FPATAN's ratio is rounded to the same grid.
 * Rounds the n-limb integer a in place to 68 significant bits, nearest, ties to even.
 */
const SIG_L = 68;
function roundSig(a: Int32Array, n: number): void {
  const bl = bitLen(a, n);
  if (bl <= SIG_L) return;
  const cut = bl - SIG_L;
  const rbit = bit(a, cut - 1);
  let sticky = false;
  for (let k = 0; k < cut - 1 && !sticky; k++) if (bit(a, k)) sticky = true;
  // clear the dropped bits
  const w = cut >>> 4;
  for (let i = 0; i < w; i++) a[i] = 0;
  a[w] = a[w]! & ~((1 << (cut & 15)) - 1) & 0xffff;
  if (rbit && (sticky || bit(a, cut))) {
    let c = 1 << (cut & 15);
    for (let i = w; i < n && c !== 0; i++) { const v = a[i]! + c; c = v >= BASE ? 1 : 0; a[i] = v - c * BASE; }
  }
}

/** ±a (n limbs)·2^exp2 rounded once: y·L68 may be exact (L68 has only 68 bits); PE either way. */
function packProduct(a: Int32Array, n: number, exp2: number, neg: boolean, rc: number, fcw: number): void {
  packBig(a, n, exp2, neg, false, rc, fcw);
  flagInexact(fcw);
}

/**
 * PE for a result the hardware reports inexact even where it is exact (y·L68, y·k for x a
 * power of two); a denormal one is then tiny and inexact, so masked UE is set with it
 * (SDM Vol. 1 §8.5.5.2; host: FYL2X 2^1000, 2^-16445 → 1000·2^-16445 with FSW UE|PE|DE).
 * roundPack has already raised UE for an inexact or an unmasked tiny result.
 */
function flagInexact(fcw: number): void {
  raiseX(PE);
  if ((fcw & UE) !== 0 && (rSe & 0x7fff) === 0 && (rHi | rLo) !== 0) raiseX(UE);
}

/** Rounds ±PR (n limbs)·2^exp2, inexact, into rSe/rHi/rLo. */
function packInexact(a: Int32Array, n: number, exp2: number, neg: boolean, rc: number, fcw: number): void {
  packBig(a, n, exp2, neg, true, rc, fcw);
}

// ---- F2XM1 ----------------------------------------------------------------------------------
/**
 * F2XM1 as the host computes it for 0 < |x| ≤ 1 (docs/x87-transcendentals.md): a rational
 * approximation in the tanh form 2^x − 1 = 2t/(1 − t), t = tanh(x·ln2/2) = x·P(x²)/Q(x²), with
 * 68-bit steps:
 *   z = RN68(x²), P and Q by Horner with every product and sum rounded to 68 bits (RN68),
 *   a = RN68(x·P), den = RN68(Q − a), result = 2a/den rounded once.
 * P0 = 0x3AFB641FF2EE16E76·2^-65 and Q0 = 0xAA2FA223AD82D2D2D·2^-65 were pinned on tiny x (below
 * 2^-67 the result is 2·RN68(x·P0)/Q0: the earlier "RN68(x·K)·C" with C = 2/Q0). P1..3, Q1..3
 * are the host's own: for 19 narrow runs of |x| (0.07 … 0.97, 600-800 operands each, both
 * signs, so one P(z) and one Q(z) per run) a scan of offsets added to P and Q before their last
 * rounding matched 99-100% of each run at one point, and cubics in z through those 19 points
 * (residuals ≤ 0.05 ulp68) give these coefficients. Starting values were the degree-(3,3)
 * minimax of t in z ∈ [0, 1]; the host's P and Q lie up to 6,700 ulp68 from it near z = 1
 * along the direction that scales P and Q together; a search in steps of 1/128 ulp68 of P(1),
 * Q(1) then moved P2, P3, Q2, Q3 slightly. Q3 is 2^-19·(1 − 7·10^-15). Host agreement (all of
 * RN/RD/RU), fresh operands not used in any fit: 9,981 and 9,990 of 10,000 at exponents
 * −5 … −1 (correctly rounded: 9,386 and 9,361), 2,997 of 3,000 just inside ±1 (2,753); every
 * stored operand at −67 … −3 (34,703).
 */
/** Coefficients as integers and their power of two (value = M·2^k), 16-bit limbs, lowest first. */
const F2P: Int32Array[] = [], F2Q: Int32Array[] = [];
{
  const defs: [number[], number][] = [
    [[0xb73b, 0x9770, 0x20ff, 0xd7db, 0x0001], -64], [[0xfc49, 0x86f5, 0xd7b4, 0xd0fa, 0x0001], -70],
    [[0xa633, 0xa553, 0x0d47, 0x9be6, 0x0000], -77], [[0x4d01, 0xc1d7, 0x1a0e, 0xca97, 0x0000], -89],
    [[0x2d2d, 0xd82d, 0x223a, 0xa2fa, 0x000a], -65], [[0x406b, 0x77de, 0x25f7, 0x5bcb, 0x0002], -67],
    [[0x649d, 0x3c9b, 0x005e, 0xa5c0, 0x000e], -77], [[0xf1fd, 0xffdf, 0xffff, 0xffff, 0x000f], -87],
  ];
  for (let i = 0; i < 8; i++) {
    const d = new Int32Array(L);
    fxFromInt(d, Int32Array.from(defs[i]![0]), 5, defs[i]![1]);
    (i < 4 ? F2P : F2Q).push(d);
  }
}
const ZF = new Int32Array(L), PV = new Int32Array(L), QV = new Int32Array(L), HT = new Int32Array(L);

/** d ← c0 + z·(c1 + z·(c2 + z·c3)) with every product and sum rounded to 68 bits (fixed point). */
function horner68(d: Int32Array, c: Int32Array[], z: Int32Array): void {
  d.set(c[3]!);
  for (let i = 2; i >= 0; i--) {
    fmul(HT, d, z); roundSig(HT, L);
    fadd(d, HT, c[i]!); roundSig(d, L);
  }
}

/** 2^x − 1 for x = ±m·2^(e−63), 0 < |x| ≤ 1 (m normalized, e unbiased). */
export function f2xm1Core(neg: boolean, hi: number, lo: number, e: number, rc: number, fcw: number): void {
  limbs64(MA, hi, lo);
  // z = RN68(x²) in fixed point (x² is exact down to 2^-144; below that it no longer moves P or Q)
  const nz = bigMul(PR1, MA, 4, MA, 4);
  fxFromInt(ZF, PR1, nz, 2 * e - 126);
  roundSig(ZF, L);
  horner68(PV, F2P, ZF);
  horner68(QV, F2Q, ZF);
  const na = bigMul(PR2, MA, 4, PV, L);            // |x|·P = PR2·2^(e−63−FB)
  roundSig(PR2, na);                                 // a = RN68(x·P)
  fxFromInt(T3, PR2, na, e - 63 - FB);               // |a| < 2 in fixed point (exact down to 2^-144)
  if (neg) fadd(T4, QV, T3); else sub(T4, QV, T3, L);
  roundSig(T4, L);                                   // den = RN68(Q − a) ∈ (3.7, 7.5)
  const bl = bitLen(PR2, na);
  fxFromInt(T3, PR2, na, -bl);                       // |a|·2^-(bl+e−63−FB) ∈ [1/2, 1)
  fxDiv(SUMF, T3, T4);
  // result = 2·|a|/den = 2·SUMF·2^-FB·2^(bl+e−63−FB), rounded once with the sticky bit set
  packInexact(SUMF, L, 1 - FB + bl + e - 63 - FB, neg, rc, fcw);
}

// ---- logarithms -----------------------------------------------------------------------------
/**
 * The host's logarithm, as pinned by interval intersection (docs/x87-transcendentals.md):
 * with u = x − 1 after x = 2^k·(1+u), 1+u ∈ [√½, √2) (FYL2XP1 below 1/2: u = x),
 *   d = RN68(2 + u), s = RN68(u / d), P = RN68(s·C2) with C2 = 2·log2(e) to 68 bits,
 *   L = RN68(RN68(k + P) + s·C2·g(s²)),  g(z) = Σ_{j≥1} z^j/(2j+1)  (so L ≈ 2·artanh(s)·log2 e),
 * and the instruction's result is y·L rounded once. RN68: nearest with ties to even at 68
 * significant bits. That reproduced the host's internal L for 264/280 FYL2XP1 operands
 * (40/40 at each of |x| ≈ 2^-100, 2^-40, 2^-20, 2^-10) and 233/240 FYL2X ones; the misses are
 * within 0.7 ulp68 of a rounding boundary, where the host's evaluation of the g term differs.
 *
 * logModel: for u = ±U·2^uSh (U: an n-limb integer, |u| < 1/2 + ε) sets s = ±Q·2^lE with Q
 * (fixed, 68 significant bits) in [1/4, 1), WR ← RN68(Q·C2) and CORR ← Q·C2·g(s²), both
 * fixed and scaled by 2^lE.
 */
let lE = 0;
/**
 * The host's g(z), z = s², as c_1·z + … + c_10·z^10 (68-bit coefficients, lowest first, value =
 * M·2^k). The series Σ z^j/(2j+1) missed the host's L on 107 of 1,199 fresh FYL2XP1 operands at
 * x ≈ 2^-7 … 2^-2 (the misses' mean offset oscillates ±0.2 ulp68 along s: a fitted polynomial's
 * error curve). These are a least-squares fit of degree 10 to 3,517 host-pinned L
 * (docs/x87-transcendentals.md); degree 9 leaves an rms of 0.31 ulp68 against 0.288 (the
 * L-rounding noise) for 10 and 11. Fresh operands: FYL2XP1 at 2^-7 … 2^-2 1,189/1,199,
 * FYL2X on [√½, √2) 493/498 (the first fit, to 1,798: 1,185 and 491).
 */
const LOGC: Int32Array[] = [];
{
  const defs: [number[], number][] = [
    [[0xa74b, 0xaaaa, 0xaaaa, 0xaaaa, 0x000a], -69], [[0xd97a, 0xccd9, 0xcccc, 0xcccc, 0x000c], -70],
    [[0xe018, 0x8967, 0x4924, 0x2492, 0x0009], -70], [[0x5387, 0x72ff, 0x8e3f, 0x38e3, 0x000e], -71],
    [[0xf8a6, 0x6818, 0xb86d, 0xa2e8, 0x000b], -71], [[0x5d4f, 0x6bc1, 0xeed8, 0xd89d, 0x0009], -71],
    [[0xe530, 0x819f, 0xcf88, 0x8876, 0x0008], -71], [[0x978c, 0x6f9d, 0x053b, 0x1346, 0x000f], -72],
    [[0xf55d, 0x7208, 0x0f15, 0x2b41, 0x000d], -72], [[0x6d27, 0xfe5e, 0xccfd, 0x3213, 0x000f], -72],
  ];
  for (const [m, k] of defs) {
    const d = new Int32Array(L);
    fxFromInt(d, Int32Array.from(m), 5, k);
    LOGC.push(d);
  }
}
const WR = new Int32Array(L), CORR = new Int32Array(L), QS = new Int32Array(L);
function logModel(U: Int32Array, n: number, uSh: number, uNeg: boolean): void {
  const bu = bitLen(U, n);
  fxFromInt(T3, U, n, uSh);                          // |u| (absolute precision suffices for d)
  if (uNeg) sub(T1, TWO, T3, L); else fadd(T1, TWO, T3);
  roundSig(T1, L);                                   // d = RN68(2 + u)
  fxFromInt(T3, U, n, -bu);                          // |u|·2^-(bu+uSh) ∈ [1/2, 1)
  fxDiv(QS, T3, T1);
  roundSig(QS, L);                                   // s = RN68(u/d), scaled
  lE = bu + uSh;
  fmul(T2, QS, C2);                                  // Q·C2: 136 significant bits, exact here
  WR.set(T2); roundSig(WR, L);                       // P = RN68(s·C2), scaled
  // g(s²) ≈ Σ_{j=1..10} c_j·z^j (LOGC: the host's polynomial, not the series): it only corrects
  // P by |s²|/3 < 2^-4 of it, so absolute precision is enough; evaluated exactly (Horner)
  if (lE > -FB) fxShr(T3, QS, -lE); else zero(T3);
  fmul(ZZ, T3, T3);
  POS.set(LOGC[9]!);
  for (let j = 8; j >= 0; j--) { fmul(T4, POS, ZZ); fadd(POS, T4, LOGC[j]!); }
  fmul(T4, POS, ZZ); POS.set(T4);
  fmul(CORR, T2, POS);
}

/**
 * ±Y·2^(ey−63)·log2(X·2^xs) for an integer X (n limbs, ≠ a power of two) and a 64-bit y
 * significand Y: x = 2^k·(1+u) with 1+u ∈ [√½, √2), then y·(k + u·F(u)).
 */
export function ylog2Core(yNeg: boolean, yHi: number, yLo: number, ey: number, X: Int32Array, n: number, xs: number, rc: number, fcw: number): void {
  const bl = bitLen(X, n);
  // 1+u = X / 2^(bl−1) ∈ [1, 2); above √2 take X / 2^bl ∈ [√½, 1) instead
  // √2·2^63 = B504F333F9DE6484.5…: compare the top 64 bits of X against it
  let above = false;
  {
    let t = 0;
    for (let k = 0; k < 64; k++) {
      const src = bl - 1 - k;
      const b = src >= 0 ? bit(X, src) : 0;
      const s = SQRT2_BITS[k]!;
      if (b !== s) { t = b > s ? 1 : -1; break; }
    }
    above = t >= 0 && (t > 0 || bl > 64);
  }
  const k = above ? bl + xs : bl - 1 + xs;
  // |u|·2^(bl−1 or bl) = |X − 2^(bl−1)| or 2^bl − X, an integer in MB
  MB.fill(0);
  for (let i = 0; i < n; i++) MB[i] = X[i]!;
  let uNeg = false;
  if (above) {
    // 2^bl − X
    const top = bl >>> 4;
    PR1.fill(0, 0, 12); PR1[top] = 1 << (bl & 15);
    subPad(PR1, 12, MB, 12); copyN(MB, PR1, 12);
    uNeg = true;
  } else MB[(bl - 1) >>> 4] = MB[(bl - 1) >>> 4]! & ~(1 << ((bl - 1) & 15));
  const uSh = above ? -bl : -(bl - 1);
  limbs64(MA, yHi, yLo);
  if (isZero(MB, 12)) {
    // x a power of two: y·k is exact, yet the hardware flags it inexact (host-verified)
    zero(T2); T2[0] = Math.abs(k);
    const n1 = bigMul(PR1, MA, 4, T2, 1);
    packBig(PR1, n1, ey - 63, yNeg !== (k < 0), false, rc, fcw);
    flagInexact(fcw);
    return;
  }
  logModel(MB, 12, uSh, uNeg);
  if (k === 0) {
    // L = RN68(P + corr), scaled by 2^lE: a tiny log keeps its relative precision
    fadd(T3, WR, CORR); roundSig(T3, L);
    const n1 = bigMul(PR1, MA, 4, T3, L);
    packProduct(PR1, n1, ey - 63 + lE - FB, yNeg !== uNeg, rc, fcw);
    return;
  }
  // L = RN68(RN68(|k| ± |P|) ± |corr|) (|P| < 1/2 ≤ |k|, so L has the sign of k)
  const same = (k < 0) === uNeg;
  if (lE > -FB) fxShr(T1, WR, -lE); else zero(T1);
  zero(T2); T2[L - 1] = Math.abs(k);
  if (same) fadd(T3, T2, T1); else sub(T3, T2, T1, L);
  roundSig(T3, L);
  if (lE > -FB) fxShr(T1, CORR, -lE); else zero(T1);
  if (same) fadd(T3, T3, T1); else sub(T3, T3, T1, L);
  roundSig(T3, L);
  const n1 = bigMul(PR1, MA, 4, T3, L);
  packProduct(PR1, n1, ey - 63 - FB, yNeg !== (k < 0), rc, fcw);
}
// √2 as 64 bits: B504F333F9DE6484 (the comparison only needs to separate 64-bit significands;
// √2 is irrational, so no significand equals it)
const SQRT2_BITS = new Uint8Array(64);
{
  const w = [0xb504f333, 0xf9de6484];
  for (let k = 0; k < 64; k++) SQRT2_BITS[k] = (w[k >>> 5]! >>> (31 - (k & 31))) & 1;
}

/** y·log2(x) for x = m·2^(e−63) (not a power of two), y = ±Y·2^(ey−63). */
export function fyl2xCore(yNeg: boolean, yHi: number, yLo: number, ey: number, hi: number, lo: number, e: number, rc: number, fcw: number): void {
  limbs64(MA, hi, lo);
  const X = XL; X.fill(0); copyN(X, MA, 4);
  ylog2Core(yNeg, yHi, yLo, ey, X, 4, e - 63, rc, fcw);
}
const XL = new Int32Array(12);

/** Whether the 64-bit significand hi:lo exceeds th:tl (unsigned). */
function above64(hi: number, lo: number, th: number, tl: number): boolean {
  return (hi >>> 0) > (th >>> 0) || ((hi >>> 0) === (th >>> 0) && (lo >>> 0) > (tl >>> 0));
}
/**
 * FYL2XP1 below x = −1/3 (m > 2^65/3 at e = −2) takes 1 + x through the FYL2X path: the
 * correction polynomial (LOGC) is fitted for u ≥ √½ − 1 ≈ −0.293 and beyond −0.34 its error
 * reached 2^-45 relative (host: x = −0.4969, y = −1.39·2^16353, 0x…c13254b, the series
 * 0x…c054040). Measured, RN, 3,000 x uniform in ±[0.29, 0.5) with y near 1 or near 2^16349:
 * the series for all, 1,136 and 1,102 differ (below −0.35 beyond 1 ulp); 3,000 x in ±[0.25, 0.5),
 * y near 1, two draws: the switch at 1 − √2/2 58 and 41 differ, at 1/3 40 and 20, all within
 * 1 ulp (0.25 … 0.344 scanned, 0.344 brings misses beyond 1 ulp back). −1/3 and the upper
 * end 1/2 are where z = x/(2 + x) (log(1+x) = 2·artanh z) reaches ∓1/5: the series covers
 * |z| ≤ 1/5. 1 + x (65 bits) through the FYL2X path still misses 1-5% by 1 ulp at
 * x ∈ [−0.40, −0.34] and [0.5, 0.7) (rounding 1 + x to 64 bits first: 764 of 1,521 identical,
 * 1,489 as is).
 */
const LP1_NEG_HI = 0xaaaaaaaa | 0, LP1_NEG_LO = 0xaaaaaaaa | 0;

/**
 * y·log2(1+x) for x = ±m·2^(e−63), −1 < x, |x| < 2^150: for −1/3 ≤ x < 1/2 directly y·x·F(x)
 * (x exact, so tiny x keeps its precision); otherwise 1+x is formed exactly as an integer
 * and goes through ylog2Core. Beyond 2^150 log2(1+x) = log2 x + O(2^-150), below the
 * precision kept here: the caller uses y·log2(x).
 */
export function fyl2xp1Core(yNeg: boolean, yHi: number, yLo: number, ey: number, neg: boolean, hi: number, lo: number, e: number, rc: number, fcw: number): void {
  limbs64(MA, hi, lo);
  if (e <= -3 || (e === -2 && !(neg && above64(hi, lo, LP1_NEG_HI, LP1_NEG_LO)))) {
    XL.fill(0); copyN(XL, MA, 4);
    logModel(XL, 12, e - 63, neg);
    limbs64(MA, yHi, yLo);
    fadd(T3, WR, CORR); roundSig(T3, L);
    const n1 = bigMul(PR1, MA, 4, T3, L);
    packProduct(PR1, n1, ey - 63 + lE - FB, yNeg !== neg, rc, fcw);
    return;
  }
  // 1 + x = (2^(63−e) ± m)·2^(e−63) for e ≤ 63, (m·2^(e−63) + 1) above
  XL.fill(0);
  let xs: number;
  if (e <= 63) {
    const sh = 63 - e;
    copyN(XL, MA, 4);
    PR1.fill(0, 0, 12); PR1[sh >>> 4] = 1 << (sh & 15);
    if (neg) { subPad(PR1, 12, XL, 12); copyN(XL, PR1, 12); }
    else {
      let c = 0;
      for (let i = 0; i < 12; i++) { const v = XL[i]! + PR1[i]! + c; c = v >= BASE ? 1 : 0; XL[i] = v - c * BASE; }
    }
    xs = e - 63;
  } else {
    const sh = e - 63;
    for (let k = 0; k < 64; k++) if (bit(MA, k)) { const t = k + sh; XL[t >>> 4] = XL[t >>> 4]! | (1 << (t & 15)); }
    XL[0] = XL[0]! | 1;
    xs = 0;
  }
  ylog2Core(yNeg, yHi, yLo, ey, XL, 12, xs, rc, fcw);
}

// ---- FPATAN ---------------------------------------------------------------------------------
/** A fixed-point constant from the hex digits of value·2^FB (at most 16·L bits). */
function fxHex(hex: string): Int32Array {
  const d = new Int32Array(L);
  for (let i = 0, e = hex.length; e > 0; i++, e -= 4) d[i] = parseInt(hex.slice(Math.max(0, e - 4), e), 16);
  return d;
}
/**
 * The host's arctangent of t ∈ [0, 1] is t·P(z)/Q(z), z = t², P of degree 8 and Q of degree 7:
 * the minimax rational of atan t/t in relative error on z ∈ [0, 1] with P0 = Q0 = 1 fixed (error
 * 0 at t = 0, ±5.52·10^-22 ≈ 2^-70.6 elsewhere, as the sine's and cosine's constants are fixed
 * at 1). Its error curve is the host's measured one below t ≈ 0.6 (sign changes near t = 0.125,
 * 0.21, 0.29, 0.37, 0.45, 0.53; docs/x87-transcendentals.md). Against host operands with t
 * uniform in [0, 1) (RN/RD/RU all equal, two sets of 40,000): atan(RN68(t)) 39,306 and 39,291;
 * this 39,447 and 39,424; the (7, 8) form 39,440 and 39,416; without P0 = Q0 = 1 39,424 and
 * 39,382 (and it then misses tiny t, where the host has no error); degrees (7, 7) and (8, 8)
 * (errors 1.1·10^-20, 2.1·10^-23) no better than atan itself. The evaluation is kept exact
 * (144-bit fixed point): rounding P, Q or t·P to 68 bits scores 37,000-38,500, so the host's
 * steps are finer than that and not modelled. P1 … P5 are the minimax's plus −1/2, −1/4, +3/4,
 * +5/8, +1/8 units of 2^-68 (dP(z) = Σ c_k·z^k, k = 1 … 5): the host's P lies that far from the
 * minimax (coordinate search on 160,000 stored host operands, t ∈ [0, 1) and [0.5, 1)). Unseen host
 * operands, before → after: t uniform in [0, 1) 19,708 → 19,741 of 20,000, t ∈ [0.8, 1) 19,362 →
 * 19,367. Runs of t within 2^-30 do not pin the host's P and Q as F2XM1's did: the host's tail
 * scatters by about ±2 units of its 68th bit inside one run (docs/x87-transcendentals.md).
 * Coefficients: |value|·2^144, P8 negative, the rest positive.
 */
const ATP = ['1000000000000000000000000000000000000', '32A7C2D359B20D5E3CED4CB76230A7F7A5D47',
  '3E928369BE2370F3D09A7F7E767358B2B8035', '261F2D8B4BB791D2FA0AA9B6143538CB6837A', 'BEA47D567CE5682569CEEC17ABC5120CBDFD',
  '1CBDB60DF5BC0AAB33665807A53E75DCBA4D', '1B6BEE98539C82A33374AF60A42A1960431', '54FCF408C42DAEEE06321165294B8274F',
  '6E71A83C65CFB69EACF974D24F16E66'].map(fxHex);
const ATQ = ['1000000000000000000000000000000000000', '37FD1828AF0762B34706E12F24C8E36634FCD',
  '4E0902EEC548097C85A4EB331B6AAC58C063F', '3738B4A94D36E8F654B7949DDA51F0CEEC892', '14EF965C2D3407D8FF0B5B914CB1ABB689190',
  '41CB38808EA2F0C40E680C991BFEF30A67FC', '5E329ADE28D1329E1D96E9455EF025116A0', '2B6CF7A6319E12A64BFE53B00577DF544E'].map(fxHex);

/** d ← Σ c_k·z^k by Horner (fixed point, c_k ≥ 0 except a negative top one when `negTop`: |c_n|·z < c_{n−1}). */
function hornerPos(d: Int32Array, c: Int32Array[], z: Int32Array, negTop: boolean): void {
  let k = c.length - 2;
  if (negTop) { fmul(T5, c[k + 1]!, z); sub(d, c[k]!, T5, L); k--; } else d.set(c[k + 1]!);
  for (; k >= 0; k--) { fmul(T5, d, z); fadd(d, T5, c[k]!); }
}
const UNIT = new Int32Array(L), UT = new Int32Array(L);
UNIT[0] = 1;
/**
 * T2 ← P(t²)/Q(t²) ≈ atan t / t for fixed 0 ≤ t ≤ 1, kept strictly below 1 (atan t < t: where
 * t² vanishes in the fixed point the quotient would be 1, and a 68-bit t on a 64-bit tie must
 * still round down; host: 5000/5000 at t ≈ 2^-100).
 */
function atanRational(t: Int32Array): void {
  fmul(ZZ, t, t);
  hornerPos(T1, ATP, ZZ, true);
  hornerPos(POS, ATQ, ZZ, false);
  fxDiv(T2, T1, POS);
  if (cmp(T2, ONE, L) >= 0) sub(T2, ONE, UNIT, L);
}

/**
 * π and π/2 as FPATAN's quadrant corrections use them: 0xC90FDAA22168C234C·2^-66, π to 68
 * significant bits (truncated and nearest agree; the SDM's 66-fractional-bit π). Host-checked:
 * with the 68-bit quotient below, π/2 − atan t, π/2 + atan t and π − atan t rounded once
 * match 3000/3000, 3000/3000 and 2999/3000 operands at |t| ≈ 2^-10 (docs/x87-transcendentals.md).
 */
const PI68 = new Int32Array(L), PI2_68 = new Int32Array(L);
{
  const p = Int32Array.from([0x234c, 0x168c, 0xaa22, 0x90fd, 0xc]);
  fxFromInt(PI68, p, 5, -66); fxFromInt(PI2_68, p, 5, -67);
}
const C16 = new Int32Array(L);
fdivs(C16, ONE, 16);

/**
 * atan2(y, x) for finite non-zero y = ±my·2^(ey−63), x = ±mx·2^(ex−63) (significands
 * normalized). Quadrant: with t = min/max of |y|, |x| ≤ 1, the result is atan t, π − atan t,
 * π/2 ∓ atan t, with the sign of y; atan t = t·P(t²)/Q(t²) (atanRational).
 */
export function fpatanCore(yNeg: boolean, yHi: number, yLo: number, ey: number, xNeg: boolean, xHi: number, xLo: number, ex: number, rc: number, fcw: number): void {
  const yHiU = yHi >>> 0, yLoU = yLo >>> 0, xHiU = xHi >>> 0, xLoU = xLo >>> 0;
  const swap = ey > ex || (ey === ex && (yHiU > xHiU || (yHiU === xHiU && yLoU > xLoU)));
  // t = Q·2^d, Q = num/den significands ∈ (1/2, 2)
  if (swap) { limbs64(MA, xHi, xLo); limbs64(MB, yHi, yLo); } else { limbs64(MA, yHi, yLo); limbs64(MB, xHi, xLo); }
  const d = swap ? ex - ey : ey - ex;
  fxFromInt(T3, MA, 4, -63); fxFromInt(T4, MB, 4, -63);
  fxDiv(SUMF, T3, T4);                                     // Q
  // The host forms the ratio as a 68-bit floating value (nearest) and evaluates atan of that:
  // round(atan(RN68(t))) matched 3000/3000 operands at each of t ≈ 2^-100, 2^-30, 2^-10
  // (correctly rounded: 2845, 2915, 2904), 2956-2965 of 3000 for t in [1/16, 1).
  roundSig(SUMF, L);
  // T ← t in fixed point
  if (d > -FB - 2) fxShr(T3, SUMF, -d); else zero(T3);
  atanRational(T3);
  // atan t = t − T with the tail T = t·(1 − P/Q) = t·z·(Q − P)/(z·Q) rounded to 68 significant
  // bits (P0 = Q0 = 1, so Q − P is z times a polynomial: the host evaluates the tail). Host, t
  // uniform in [0, 1), three sets of 40,000: 39,471, 39,459, 39,452 with T rounded to 68 bits,
  // 39,447, 39,424, 39,396 with t·P/Q rounded once (69 bits: 39,484, 39,462, 39,435; 67: 39,368
  // on the third set).
  sub(UT, ONE, T2, L);                                     // 1 − P/Q ≥ one unit
  if (!swap && !xNeg) {
    // the result is atan t itself: t − RN68(Q·(1 − P/Q))·2^d keeps the relative precision of a tiny t
    const n1 = bigMul(PR1, SUMF, L, UT, L);
    PR1[n1] = 0;
    roundSig(PR1, n1 + 1);
    PR2.fill(0, 0, n1 + 1);
    for (let i = 0; i < L; i++) PR2[i + FB / 16] = SUMF[i]!;
    subPad(PR2, n1 + 1, PR1, n1 + 1);
    packProduct(PR2, n1 + 1, d - 2 * FB, yNeg, rc, fcw);
    return;
  }
  fmul(T1, T3, UT);                                        // T4 ← atan t (fixed)
  roundSig(T1, L);
  sub(T4, T3, T1, L);
  if (!swap) { if (xNeg) sub(T4, PI68, T4, L); }
  else if (xNeg) fadd(T4, PI2_68, T4);
  else sub(T4, PI2_68, T4, L);
  packInexact(T4, L, -FB, yNeg, rc, fcw);
}

/** ±π/4 (k = 1), ±π/2 (2), ±3π/4 (3), ±π (4), rounded: the FPATAN results of special operands. */
export function piMultiple(k: number, neg: boolean, rc: number, fcw: number): void {
  const c = k === 1 ? PI4 : k === 2 ? PI2 : k === 3 ? PI34 : PI;
  packInexact(c, L, -FB, neg, rc, fcw);
}

/** Raises PE for an exact result the hardware reports as inexact (host-verified). */
export function markInexact(): void { raiseX(PE); }
