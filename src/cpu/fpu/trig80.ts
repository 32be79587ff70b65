/**
 * FSIN/FCOS/FSINCOS/FPTAN on exact limb arithmetic (SDM Vol. 2 FSIN; Vol. 1 §8.3.10).
 *
 * The x87 reduces the argument modulo π/2 with a 66-bit π (SDM Vol. 1 §8.3.10 "Transcendental
 * Instruction Accuracy": π is 0xC90FDAA2 2168C234 C × 2^-66), so for large arguments its
 * results are those of sin(x − q·P66/2), not of sin(x). Measured on this machine's AMD FPU
 * against a BigInt reference: reducing with P66 exactly (nearest quotient) and rounding the
 * exact function of the reduced argument correctly matches the hardware in about 99.3% of
 * random operands, the rest within 1 ulp (the hardware's own evaluation is not correctly
 * rounded); with the true π no large argument matches. So the evaluation here is:
 *  1. exact reduction: N = m·2^(e+4) (x = m·2^(e−63)), q = round(N / Pint), r = (N − q·Pint)·2^-67,
 *     an integer times a power of two, so tiny reduced arguments keep their relative precision;
 *  2. the host's own evaluation of the reduced argument, measured (docs/x87-transcendentals.md):
 *     its sine and cosine, minimax polynomials evaluated in 68-bit Horner steps (sinHornerPack,
 *     cosHornerPack), and its tangent, tiny-argument FPTAN's 68-bit rounding of x·K (tanTinyPack)
 *     and above that a degree-4 minimax rational in 68-bit steps, a/Q or −Q/a by quadrant
 *     (tanRationalPack), all in 144-bit fixed point (16-bit limbs, products exact in doubles);
 *  3. the exact-enough value is rounded once by roundPack (RC, denormals, UE/PE, C1).
 * No BigInt or allocation: fixed scratch arrays (transcendentals are rare; cost is a few
 * thousand limb operations).
 */
import { WK, setSticky, roundPack, F80, raiseX, PE, UE } from './xf80.js';

export const L = 10;          // fixed-point limbs: value = Σ limb[i]·2^(16i) · 2^-FB
export const FB = 144;        // fractional bits (9 limbs); one integer limb
const BASE = 65536;

const acc = new Float64Array(64);
const T1 = new Int32Array(L), T2 = new Int32Array(L), ZZ = new Int32Array(L);
const CC = new Int32Array(L);
const BIG = new Int32Array(40), BIG2 = new Int32Array(40), QB = new Int32Array(48), REM = new Int32Array(40);
/** The reduced argument |r| = RI·2^rExp (RI up to 5 limbs), its sign and the quadrant q mod 4. */
const RI = new Int32Array(12);
let riN = 0, rExp = 0, rNeg = false, quad = 0;

// P66/2 · 2^67 = 0xC90FDAA22168C234C as 16-bit limbs (little-endian)
const PINT = Int32Array.from([0x234c, 0x168c, 0xaa22, 0x90fd, 0xc]);

export function zero(a: Int32Array): void { a.fill(0); }
export function isZero(a: Int32Array, n: number): boolean { for (let i = 0; i < n; i++) if (a[i] !== 0) return false; return true; }

/**
 * d ← ⌊a·b / 2^FB⌋ (fixed point). `n`: limbs of a narrower format with 16·(n − 1) fractional
 * bits (trans80.ts works with fewer bits than the trigonometric reduction needs).
 */
export function fxMul(d: Int32Array, a: Int32Array, b: Int32Array, n: number = L): void {
  acc.fill(0, 0, 2 * n + 1);
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    if (ai === 0) continue;
    for (let j = 0; j < n; j++) acc[i + j] += ai * b[j]!;
  }
  let c = 0;
  for (let k = 0; k < 2 * n; k++) { const v = acc[k]! + c; c = Math.floor(v / BASE); acc[k] = v - c * BASE; }
  for (let i = 0; i < n; i++) d[i] = acc[i + n - 1]!;
}
/** d ← ⌊a / q⌋ for a small integer q (< 2^21); n limbs as for fxMul. */
export function fxDivSmall(d: Int32Array, a: Int32Array, q: number, n: number = L): void {
  let rem = 0;
  for (let i = n - 1; i >= 0; i--) { const cur = rem * BASE + a[i]!; const t = Math.floor(cur / q); d[i] = t; rem = cur - t * q; }
}
export function fxAdd(d: Int32Array, a: Int32Array, b: Int32Array, n: number = L): void {
  let c = 0;
  for (let i = 0; i < n; i++) { const v = a[i]! + b[i]! + c; c = v >= BASE ? 1 : 0; d[i] = v - c * BASE; }
}
/** d ← a − b for a ≥ b (n limbs). */
export function sub(d: Int32Array, a: Int32Array, b: Int32Array, n: number): void {
  let br = 0;
  for (let i = 0; i < n; i++) { const v = a[i]! - b[i]! - br; br = v < 0 ? 1 : 0; d[i] = v + br * BASE; }
}
export function cmp(a: Int32Array, b: Int32Array, n: number): number {
  for (let i = n - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i]! > b[i]! ? 1 : -1;
  return 0;
}
export function bitLen(a: Int32Array, n: number): number {
  for (let i = n - 1; i >= 0; i--) if (a[i] !== 0) return 16 * i + 32 - Math.clz32(a[i]!);
  return 0;
}
export function bit(a: Int32Array, k: number): number { return (a[k >>> 4]! >>> (k & 15)) & 1; }

/** d (n limbs) ← a (na limbs) · b (nb limbs); returns n. */
export function bigMul(d: Int32Array, a: Int32Array, na: number, b: Int32Array, nb: number): number {
  const n = na + nb;
  acc.fill(0, 0, n + 1);
  for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) acc[i + j] += a[i]! * b[j]!;
  let c = 0;
  for (let k = 0; k < n; k++) { const v = acc[k]! + c; c = Math.floor(v / BASE); d[k] = v - c * BASE; }
  return n;
}

/** Rounds ±a·2^exp2 (a: n limbs, non-zero) to the 80-bit result (rSe/rHi/rLo, flags) by roundPack. */
export function packBig(a: Int32Array, n: number, exp2: number, neg: boolean, stickyIn: boolean, rc: number, fcw: number): void {
  const h = bitLen(a, n) - 1;
  // WK bit 127 ← bit h of a, ..., WK bit 0 ← bit h−127
  WK.fill(0);
  for (let k = 0; k < 128; k++) {
    const src = h - 127 + k;
    if (src >= 0 && bit(a, src)) WK[k >>> 5] = WK[k >>> 5]! | (1 << (k & 31));
  }
  let st = stickyIn;
  for (let k = 0; k < h - 127 && !st; k++) if (bit(a, k)) st = true;
  setSticky(st ? 1 : 0);
  roundPack(neg, h + exp2 + 16383, 64, F80, rc, fcw);
}

/** ±(num / den)·2^exp2 rounded: the quotient is developed to ≥ 132 bits, the remainder is sticky. */
function divPack(num: Int32Array, nn: number, den: Int32Array, nd: number, exp2: number, neg: boolean, rc: number, fcw: number): void {
  const bn = bitLen(num, nn), bd = bitLen(den, nd);
  const k = Math.max(0, 134 + bd - bn);
  const total = bn + k;
  const rl = nd + 2, ql = (total >>> 4) + 1;
  REM.fill(0, 0, rl); QB.fill(0, 0, ql);
  for (let i = total - 1; i >= 0; i--) {
    // REM ← 2·REM + next dividend bit
    let c = i >= k ? bit(num, i - k) : 0;
    for (let j = 0; j < rl; j++) { const v = REM[j]! * 2 + c; c = v >= BASE ? 1 : 0; REM[j] = v - c * BASE; }
    if (cmpPad(REM, rl, den, nd) >= 0) { subPad(REM, rl, den, nd); QB[i >>> 4] = QB[i >>> 4]! | (1 << (i & 15)); }
  }
  packBig(QB, ql, exp2 - k, neg, !isZero(REM, rl), rc, fcw);
}
export function cmpPad(a: Int32Array, na: number, b: Int32Array, nb: number): number {
  for (let i = na - 1; i >= 0; i--) { const bi = i < nb ? b[i]! : 0; if (a[i] !== bi) return a[i]! > bi ? 1 : -1; }
  return 0;
}
export function subPad(a: Int32Array, na: number, b: Int32Array, nb: number): void {
  let br = 0;
  for (let i = 0; i < na; i++) { const v = a[i]! - (i < nb ? b[i]! : 0) - br; br = v < 0 ? 1 : 0; a[i] = v + br * BASE; }
}

/**
 * Reduces |x| = m·2^(e−63) (m = hi:lo, 64 bits, e unbiased, e ≤ 62) modulo P66/2:
 * sets RI/riN/rExp (|r|), rNeg and quad.
 */
function reduce(hi: number, lo: number, e: number): void {
  RI.fill(0);
  if (e <= -2) {
    // |x| < 0.5 < π/4: r = x, a denormal normalized first as the hardware does (host: FSIN of
    // 2^-16445 with UE unmasked is 2^-16445·2^24576 under RN and one 64-bit ulp below under RZ,
    // so the tiny sine's sticky sits below x's 64th significant bit, not its 64th stored one)
    let h = hi >>> 0, l = lo >>> 0;
    if (h === 0) { h = l; l = 0; e -= 32; }
    const z = Math.clz32(h);
    if (z !== 0) { h = ((h << z) | (l >>> (32 - z))) >>> 0; l = (l << z) >>> 0; e -= z; }
    RI[0] = l & 0xffff; RI[1] = l >>> 16; RI[2] = h & 0xffff; RI[3] = h >>> 16;
    riN = 4; rExp = e - 63; rNeg = false; quad = 0; return;
  }
  RI[0] = lo & 0xffff; RI[1] = lo >>> 16; RI[2] = hi & 0xffff; RI[3] = hi >>> 16;
  // N = m·2^(e+4) in BIG (up to 130 bits); q = round(N / Pint); r = (N − q·Pint)·2^-67
  const sh = e + 4;
  BIG.fill(0, 0, 12);
  for (let k = 0; k < 64; k++) if (bit(RI, k)) { const t = k + sh; BIG[t >>> 4] = BIG[t >>> 4]! | (1 << (t & 15)); }
  const total = bitLen(BIG, 12);
  REM.fill(0, 0, 7);
  let q = 0;
  for (let i = total - 1; i >= 0; i--) {
    let c = bit(BIG, i);
    for (let j = 0; j < 7; j++) { const v = REM[j]! * 2 + c; c = v >= BASE ? 1 : 0; REM[j] = v - c * BASE; }
    q = (q * 2) & 3;
    if (cmpPad(REM, 7, PINT, 5) >= 0) { subPad(REM, 7, PINT, 5); q |= 1; }
  }
  // nearest: if 2·REM > Pint then r = REM − Pint (negative), q + 1
  BIG2.fill(0, 0, 7);
  let c = 0;
  for (let j = 0; j < 7; j++) { const v = REM[j]! * 2 + c; c = v >= BASE ? 1 : 0; BIG2[j] = v - c * BASE; }
  rNeg = false;
  if (cmpPad(BIG2, 7, PINT, 5) > 0) {
    for (let j = 0; j < 7; j++) BIG2[j] = j < 5 ? PINT[j]! : 0;
    subPad(BIG2, 7, REM, 7);
    for (let j = 0; j < 7; j++) REM[j] = BIG2[j]!;
    rNeg = true; q = (q + 1) & 3;
  }
  RI.fill(0);
  for (let j = 0; j < 7; j++) RI[j] = REM[j]!;
  riN = 7; rExp = -67; quad = q;
}

/**
 * The host's sine and cosine of the reduced argument r (|r| ≤ P66/4) are polynomials in z = r²
 * evaluated by Horner in 68-bit steps (measured, docs/x87-transcendentals.md), RN68 = nearest-even
 * at 68 significant bits:
 *   z = RN68(r²);  q = c_n;  q = RN68(c_k + RN68(q·z)) for k = n−1 … 1;
 *   sin r = r + RN68(RN68(r·z)·q)  (n = 7),   cos r = 1 + RN68(z·q)  (n = 8),
 * the last sum rounded once to the destination (PE always: the host reports it even when the sum
 * fits). The coefficients are the minimax polynomials of sin r/r − 1 and cos r − 1 with the
 * constant 1 fixed, in relative error on z ∈ [0, (π/4)²], rounded to 68 bits (the sine's error
 * is ±2.03·10^-21; the absolute-error minimax's curve, ±1.93·10^-21, is the host's measured mean
 * error curve to 0.001-0.004 ulp; the cosine's, 1.9·10^-23, is below the measurable). Scores
 * against the host (RN/RD/RU all equal, 20,000 operands on [π/8, π/4)): sine 19,999 (the previous
 * model, sin plus a fitted error curve with a 68-bit tail, 19,917; correctly rounded 19,304),
 * cosine 19,873 and 19,966 with its last step truncated (hornerAlt) (1 − RN68(1 − cos r): 19,723;
 * correctly rounded 19,545). Magnitudes in 144-bit fixed point; signs alternate, c1 < 0.
 */
const SIN_C = [fixConst('AAAAAAAAAAAAAA973', -70), fixConst('8888888888885699B', -74),
  fixConst('D00D00D00C53650BF', -80), fixConst('B8EF1D299845BFBC9', -86), fixConst('D7322946BF29B2BE0', -93),
  fixConst('B0904623E145ECC15', -100), fixConst('D551238750BBDC2DA', -108)];
const COS_C = [fixConst('FFFFFFFFFFFFFFFFE', -69), fixConst('AAAAAAAAAAAAAA7BA', -72),
  fixConst('B60B60B60B604ED3B', -77), fixConst('D00D00D00C24E56B9', -83), fixConst('93F27DBAC1016B035', -89),
  fixConst('8F76C618BF42661A4', -96), fixConst('C9C964DC4700BA0D0', -104), fixConst('D54D01C7C75B63FC1', -112)];
const ZF = new Int32Array(L), QH = new Int32Array(L), BIG3 = new Int32Array(40);

/** T1 ← RN68(a·b) for fixed-point a, b (the exact product rounded, then truncated below 2^-FB). */
function mulR68(a: Int32Array, b: Int32Array): void {
  bigMul(BIG3, a, L, b, L);
  round68(BIG3, 2 * L);
  for (let i = 0; i < L; i++) T1[i] = BIG3[i + FB / 16]!;
}

/**
 * BIG ← Z = RN68(RI²) (an integer: z = Z·2^(2·rExp)), ZF ← z in fixed point; returns Z's limbs.
 * Below 2^-76, z loses bits in ZF: the Horner sums then equal their constants (|q·z| is under
 * 2^-8 of a 68-bit step of c_k, which is itself on the grid) and only T's sign reaches the result.
 */
function zSquare(): number {
  const nz = bigMul(BIG, RI, riN, RI, riN);
  round68(BIG, nz);
  zero(ZF);
  const sh = 2 * rExp + FB, nb = bitLen(BIG, nz);
  for (let k = Math.max(0, -sh); k < nb; k++) {
    if (bit(BIG, k)) { const t = k + sh; if (t < 16 * L) ZF[t >>> 4] = ZF[t >>> 4]! | (1 << (t & 15)); }
  }
  return nz;
}

/**
 * QH ← |q|, Horner over the magnitudes c (|c_k| > |q|·z for z ≤ (π/4)², so each sum keeps c_k's
 * sign). `cosC1`: the cosine's last step, |q1| = |c1| − p with p = RN68(q2·z), behaves as an adder
 * that keeps p only to 2^-71 (two bits below |q1|'s last, truncated) and rounds the difference
 * half away from zero (measured: 19,966 and 19,964 of 20,000 cosines on [π/8, π/4) in two
 * operand sets, against 19,873 and 19,864 with RN68; a grid of 2^-70/2^-72 or ties to even score
 * lower). The sine's last step is plain RN68 (2^-72 truncation there: 19,937 against 19,999).
 */
function hornerAlt(c: Int32Array[], cosC1: boolean): void {
  for (let i = 0; i < L; i++) QH[i] = c[c.length - 1]![i]!;
  for (let k = c.length - 2; k >= 0; k--) {
    mulR68(QH, ZF);
    const away = cosC1 && k === 0;
    if (away) { // T1 ← p truncated to a multiple of 2^-71 (fixed-point bits 0 … FB − 72 cleared)
      const cut = FB - 71;
      for (let i = 0; i < cut >>> 4; i++) T1[i] = 0;
      T1[cut >>> 4] = T1[cut >>> 4]! & ~((1 << (cut & 15)) - 1) & 0xffff;
    }
    sub(QH, c[k]!, T1, L);
    round68(QH, L, away);
  }
}

/** Packs ±sin r = ±(|r| − RN68(RN68(|r|·z)·|q|)). */
function sinHornerPack(neg: boolean, rc: number, fcw: number): void {
  const rb = bitLen(RI, riN);
  if (rb + rExp < -40) {
    // |r| < 2^-40: T < 2^-82·|r|, so only its sign shows — |r| minus a sticky below its last bit
    BIG2.fill(0, 0, riN + 2);
    for (let j = 0; j < riN; j++) BIG2[j + 1] = RI[j]!;
    let k = 0; while (BIG2[k] === 0) { BIG2[k] = 0xffff; k++; } BIG2[k] = BIG2[k]! - 1;
    packBig(BIG2, riN + 2, rExp - 16, neg, true, rc, fcw);
    raiseX(PE);
    return;
  }
  const nz = zSquare();
  hornerAlt(SIN_C, false);
  // R3 = RN68(|r|·z) = BIG2·2^(3·rExp); T = RN68(R3·|q|) = BIG3·2^(3·rExp − FB)
  const n3 = bigMul(BIG2, RI, riN, BIG, nz);
  round68(BIG2, n3);
  const nt = bigMul(BIG3, BIG2, n3, QH, L);
  round68(BIG3, nt);
  // |r| at the same scale: RI·2^(FB − 2·rExp), then minus T (T < |r|/6)
  const sh = FB - 2 * rExp, n2 = ((rb + sh) >>> 4) + 1;
  BIG2.fill(0, 0, n2);
  for (let k = 0; k < rb; k++) if (bit(RI, k)) { const t = k + sh; BIG2[t >>> 4] = BIG2[t >>> 4]! | (1 << (t & 15)); }
  subPad(BIG2, n2, BIG3, Math.min(nt, n2));
  packBig(BIG2, n2, 3 * rExp - FB, neg, false, rc, fcw);
  raiseX(PE);
}

/** Packs ±cos r = ±(1 − RN68(z·|q|)). */
function cosHornerPack(neg: boolean, rc: number, fcw: number): void {
  zSquare();
  hornerAlt(COS_C, true);
  mulR68(ZF, QH);
  if (isZero(T1, L)) T1[0] = 1; // r < 2^-72: T under 2^-144, its sign still decides directed rounding
  zero(T2); T2[L - 1] = 1;
  sub(CC, T2, T1, L);
  packBig(CC, L, -FB, neg, false, rc, fcw);
  raiseX(PE);
}

/** sin (kind 0) or cos (kind 1) of ±m·2^(e−63) into rSe/rHi/rLo (flags by roundPack). */
export function sinCos80(kind: number, neg: boolean, hi: number, lo: number, e: number, rc: number, fcw: number): void {
  reduce(hi, lo, e);
  // q: 0 sin r, 1 cos r, 2 −sin r, 3 −cos r (sin); cos x = sin(x + π/2): q + 1
  const qq = (quad + kind) & 3;
  const rneg = (qq >= 2) !== (kind === 0 && neg);
  if ((qq & 1) === 0) sinHornerPack(rneg !== rNeg, rc, fcw);
  else cosHornerPack(rneg, rc, fcw);
}

/**
 * Tiny-argument FPTAN as this machine's FPU computes it (measured, docs/x87-transcendentals.md):
 * below |x| = XT the cubic term of tan x = x + x³/3 + … is dropped, and what remains of the
 * hardware's evaluation is one rounding — the scaled argument y = x·K is rounded to 68
 * significant bits, nearest-even, with the 66-bit constant K = 0x2E7C9697BBDF1E68B·2^-65
 * (≈ 1.45270852695), and the result is y/K. So the internal value is x·(1 + ρ), |ρ| ≤ 2^-68:
 * below x when the 68-bit rounding of m·K went down, above when it went up, x itself when m·K
 * fits in 68 bits — and the instruction reports PE even then. Under RN that is always x; under
 * directed rounding it decides between x and its neighbour. XT = 0x9ACE08D63DCFDACB·2^-97
 * (≈ 1.2094·2^-34, where x²/3 ≈ 0.975·2^-69) is the measured end of this regime.
 */
const KT = Int32Array.from([0xe68b, 0xbdf1, 0x697b, 0xe7c9, 0x2]);
const XT_HI = 0x9ace08d6 | 0, XT_LO = 0x3dcfdacb | 0, XT_E = -34;
const MN = new Int32Array(4), TA = new Int32Array(5);

/** Whether |x| = m·2^(e−63) (m = hi:lo as stored, e unbiased) is in the tiny-FPTAN regime. */
function tanTiny(hi: number, lo: number, e: number): boolean {
  if (e !== XT_E) return e < XT_E;
  return (hi >>> 0) < (XT_HI >>> 0) || ((hi >>> 0) === (XT_HI >>> 0) && (lo >>> 0) < (XT_LO >>> 0));
}

function tanTinyPack(neg: boolean, hi: number, lo: number, e: number, rc: number, fcw: number): void {
  MN[0] = lo & 0xffff; MN[1] = lo >>> 16; MN[2] = hi & 0xffff; MN[3] = hi >>> 16;
  // the normalized significand (denormals: the hardware normalizes before scaling)
  const nb = bitLen(MN, 4);
  zero(TA);
  for (let k = 0; k < nb; k++) if (bit(MN, k)) { const t = k + 64 - nb; TA[t >>> 4] = TA[t >>> 4]! | (1 << (t & 15)); }
  // Q = mn·K·2^65 < 2^130; y = Q·2^-65 keeps 68 bits: its last kept bit is 2^(61+r) of Q,
  // r = 1 when y ≥ 2^64 (the product carried into a new binade)
  bigMul(BIG, TA, 4, KT, 5);
  const cut = 61 + bit(BIG, 129);
  const half = bit(BIG, cut - 1);
  let below = false;
  for (let k = 0; k < cut - 1 && !below; k++) if (bit(BIG, k)) below = true;
  const exact = half === 0 && !below;
  const down = half === 0 || (!below && bit(BIG, cut) === 0);
  // ±x·(1 + ρ): m·2^16 − 1 (down) or m·2^16 (up) plus a sticky bit, 16 bits below the last bit
  // of x's normalized significand (TA still holds it: a denormal x with UE unmasked keeps 64
  // bits, host: tan of 0x7ff7·2^-16445 under RU is 0x7ff7·2^-16445·2^24576, no 2^-16 dent)
  TA[4] = TA[3]!; TA[3] = TA[2]!; TA[2] = TA[1]!; TA[1] = TA[0]!; TA[0] = 0;
  if (!exact && down) { let k = 0; while (TA[k] === 0) { TA[k] = 0xffff; k++; } TA[k] = TA[k]! - 1; }
  packBig(TA, 5, e - 63 - 16 - (64 - nb), neg, !exact, rc, fcw);
  if (exact) {
    // inexact all the same (host-verified: tan 2^-40 = 2^-40 with PE; a denormal one with UE too)
    raiseX(PE);
    if (e === -16382 && (MN[3]! & 0x8000) === 0 && (fcw & UE) !== 0) raiseX(UE);
  }
}

/**
 * FPTAN for XT ≤ |x| < P66/4 (no reduction) as this machine's FPU computes it (measured,
 * docs/x87-transcendentals.md): a rational tan x = x·P(z)/Q(z), z = x², of degree 4 in z, in 68-bit
 * steps — P = RN68(P0 + RN68(RN68(P1 + RN68(RN68(P2 + RN68(RN68(P3 + RN68(P4·z))·z))·z))·z)), Q
 * likewise, a = RN68(|x|·P), result a/Q rounded once. The coefficients are a (4,4) minimax of
 * tan x/x in relative error on z ∈ [0, Z], Z = 0.6168500093 ≈ (π/4)² (the whole first octant),
 * scaled by K (P0 = Q0 = K, the tiny regime's constant: below XT this is RN68(x·K)/K again; Q4
 * then comes out ≈ 2^-19) and rounded to 68 bits. Z is pinned by q1 = Q1/K (the tiny regime's end
 * XT is where |Q1|·x² reaches 2^-68, half a 68-bit step of K); that minimax matches the host to
 * 2^-5 and gives q2 = 0.0274666945 (scanned from host data: 0.027466694). Above 2^-5 the host's
 * set sits a little off it along the directions that keep the function (minimax error 5.446·10^-24
 * either way) but move P and Q together: the minimax with q1 and q2 held at q1 + 1.356·10^-19 and
 * q2 − 8.0705·10^-17 (two parameters scanned on 4,800 host operands at 2^-4 … π/4, a peak of
 * 4756; Q1 stays inside the XT window), and Q2 then 13 ulps lower (scanned alone on 4,400
 * operands at −2/−1: 4354 → 4386; Q1, P1, P2, Q3 at their values score best). Host operands not
 * used for fitting, RN/RD/RU all equal: 998, 997, 996 of 1000 at −3, −2, −1 (x < π/4; correctly
 * rounded 946, 953, 946; without the Q2 step 998, 997, 984); 1000/1000 at −4 (942); 47,799 of
 * the 47,800 operands at −34 … −4 of earlier sessions. Reduced arguments: tanRationalPack.
 * RN68: nearest, ties to even, at 68 significant bits. The constants are 68-bit magnitudes in
 * 144-bit fixed point, signs alternating (P1, P3, Q1, Q3 negative):
 * K = 0xB9F25A5EEF7C79A2C·2^-67, P1 0xCC3A370AA4A789272·2^-70, P2 0xBAE23C0C0DF90B52A·2^-75,
 * P3 0xAFA1F16E6FB4FDB79·2^-82, P4 0xB6A503B056EA2779A·2^-92, Q1 0xAF0574AC9E2788B64·2^-68,
 * Q2 0xA36F5651E07EE266D·2^-72, Q3 0x9978EFFE48A95A9BE·2^-78, Q4 0xFFFFFFFFFFFFD6439·2^-87.
 */
function fixConst(hex: string, e2: number): Int32Array {
  const a = new Int32Array(L);
  const sh = FB + e2; // bit k of the integer lands at bit k + sh
  const nbits = hex.length * 4;
  for (let k = 0; k < nbits; k++) {
    const d = parseInt(hex[hex.length - 1 - (k >>> 2)]!, 16);
    if ((d >>> (k & 3)) & 1) { const t = k + sh; a[t >>> 4] = a[t >>> 4]! | (1 << (t & 15)); }
  }
  return a;
}
const TK = fixConst('B9F25A5EEF7C79A2C', -67);
const TAN_P = [fixConst('CC3A370AA4A789272', -70), fixConst('BAE23C0C0DF90B52A', -75),
  fixConst('AFA1F16E6FB4FDB79', -82), fixConst('B6A503B056EA2779A', -92)];
const TAN_Q = [fixConst('AF0574AC9E2788B64', -68), fixConst('A36F5651E07EE266D', -72),
  fixConst('9978EFFE48A95A9BE', -78), fixConst('FFFFFFFFFFFFD6439', -87)];
const TPV = new Int32Array(L), TQV = new Int32Array(L), TXF = new Int32Array(L);

/** a (n limbs, an integer or fixed-point value) ← RN68(a), ties to even (or away from zero: `tiesAway`). */
function round68(a: Int32Array, n: number, tiesAway = false): void {
  const nb = bitLen(a, n);
  if (nb <= 68) return;
  const cut = nb - 68;
  const half = bit(a, cut - 1);
  let below = false;
  for (let k = 0; k < cut - 1 && !below; k++) if (bit(a, k)) below = true;
  const up = half === 1 && (tiesAway || below || bit(a, cut) === 1);
  const ck = cut >>> 4;
  for (let i = 0; i < ck; i++) a[i] = 0;
  a[ck] = a[ck]! & ~((1 << (cut & 15)) - 1) & 0xffff;
  if (up) {
    let c = 1 << (cut & 15);
    for (let i = ck; i < n && c !== 0; i++) { const v = a[i]! + c; c = v >= BASE ? 1 : 0; a[i] = v - c * BASE; }
  }
}

/**
 * d ← RN68(K + RN68(RN68(c1 + …)·z)) by Horner in 68-bit steps (fixed point). The signs alternate
 * (c1 < 0 < c2, …) and every partial sum keeps the sign of its constant (|c_k| > |v|·z for z ≤ (π/4)²),
 * so it runs on magnitudes: v ← c4; v ← RN68(c_k − RN68(v·z)) for k = 3, 2, 1; d ← RN68(K − RN68(v·z)).
 */
function tanHorner(d: Int32Array, c: Int32Array[], z: Int32Array): void {
  for (let i = 0; i < L; i++) T2[i] = c[3]![i]!;
  for (let k = 2; k >= -1; k--) {
    fxMul(T1, T2, z);
    round68(T1, L);
    sub(k >= 0 ? T2 : d, k >= 0 ? c[k]! : TK, T1, L);
    round68(k >= 0 ? T2 : d, L);
  }
}

function tanRationalPack(neg: boolean, rc: number, fcw: number): void {
  // after reduce(): |r| = RI·2^rExp, exact — x itself below P66/4, else x − q·P66/2 with its last
  // bit at 2^-67 (≤ 67 significant bits) — placed in fixed point (its last bit is ≥ 2^-98 for
  // |x| ≥ XT); z = RN68(r²) (measured: the host rounds z; fresh operands at −2/−1 995/988 of
  // 1000 against 992/986 with z exact, reduced arguments 5947 against 5929 of 6000)
  zero(TXF);
  const sh = rExp + FB, nb = bitLen(RI, riN);
  for (let k = 0; k < nb; k++) if (bit(RI, k)) { const t = k + sh; if (t >= 0) TXF[t >>> 4] = TXF[t >>> 4]! | (1 << (t & 15)); }
  fxMul(ZZ, TXF, TXF);
  round68(ZZ, L);
  tanHorner(TPV, TAN_P, ZZ);
  tanHorner(TQV, TAN_Q, ZZ);
  // a = RN68(|r|·P) = BIG·2^(rExp−FB)
  const n = bigMul(BIG, RI, riN, TPV, L);
  BIG[n] = 0;
  round68(BIG, n + 1);
  // even quadrants tan r = a/Q = (BIG/TQV)·2^rExp; odd ones −cot r = −Q/a, the same two
  // 68-bit values divided the other way (measured on reduced arguments, three fresh sets: 5978
  // of 6000 operands at 2^-1 … 2^30, 5384 of 5400 at 2^-1 … 2^62 and 5983 of 6000 at 2^-1 …
  // 2^50, RN/RD/RU all equal; 5680 and 5106 of the first two for tan r or −cot r correctly
  // rounded, the previous evaluation)
  if ((quad & 1) === 0) divPack(BIG, n + 1, TQV, L, rExp, neg !== rNeg, rc, fcw);
  else divPack(TQV, L, BIG, n + 1, -rExp, neg === rNeg, rc, fcw);
  // −Q/a can be exact (x = −0xC90FDAA22168C235·2^-63: r = −2^-65, a = K·2^-65, tan x = 2^65);
  // the host reports PE all the same (host-verified under RN, RD, RU, C1 clear)
  raiseX(PE);
}

/** tan of ±m·2^(e−63) into rSe/rHi/rLo. */
export function tan80(neg: boolean, hi: number, lo: number, e: number, rc: number, fcw: number): void {
  if (tanTiny(hi, lo, e)) { tanTinyPack(neg, hi, lo, e, rc, fcw); return; }
  reduce(hi, lo, e);
  tanRationalPack(neg, rc, fcw);
}
