/**
 * IEEE-754 arithmetic for SSE lanes, bit-exact with MXCSR (SDM Vol. 1 §4.8, §10.2.3, §11.5):
 * the four rounding modes, DAZ/FTZ, the six exception flags, x86 NaN rules (first-operand
 * NaN propagation, QNaN indefinite) and tininess detected after rounding.
 *
 * Method: JS doubles are binary64 with round-to-nearest-even. Each operation is computed as
 * a correctly rounded double q plus the sign of the exact error (exact − q), obtained with
 * error-free transformations (TwoSum; Dekker's TwoProduct without FMA) on operands scaled
 * by powers of two so no intermediate over- or underflows. Knowing q on the 53-bit grid and
 * the error sign is enough to round the exact value to any coarser grid (24-bit singles,
 * subnormals) in any mode: coarse grid points and midpoints are all fine grid points, so
 * only the case "q lies exactly on one of them" needs the error sign. roundTo() does that.
 */

/** Flags accumulated by the current instruction (MXCSR bits 0..5). */
export let fpFlags = 0;
/** MXCSR of the current instruction (set by beginFp). */
let mx = 0;
export function beginFp(mxcsr: number): void { fpFlags = 0; mx = mxcsr; }
/** MXCSR of the current instruction (for kernels that round by MXCSR.RC outside roundTo). */
export function curMxcsr(): number { return mx; }
export function raise(f: number): void { fpFlags |= f; }
/** MXCSR.RC is round to nearest (the fast paths of fp-lane.ts arith64). */
export function rcNearest(): boolean { return (mx & 0x6000) === 0; }

export const IE = 1, DE = 2, ZE = 4, OE = 8, UE = 16, PE = 32;
export const daz = (): boolean => (mx & 0x40) !== 0;

// ---- bit helpers ------------------------------------------------------------------------------
const F64 = new Float64Array(1), I32 = new Int32Array(F64.buffer), F32 = new Float32Array(1), I32s = new Int32Array(F32.buffer);
export function bitsToF32(b: number): number { I32s[0] = b; return F32[0]!; }
export function f32ToBits(v: number): number { F32[0] = v; return I32s[0]!; }
export function bitsToF64(lo: number, hi: number): number { I32[0] = lo; I32[1] = hi; return F64[0]!; }
/** Bits of a double: low word returned, high word in f64Hi. */
export let f64Hi = 0;
export function f64ToBits(v: number): number { F64[0] = v; f64Hi = I32[1]!; return I32[0]!; }

/** Exact powers of two 2^-1074 .. 2^1023. */
const P2 = new Float64Array(2098);
{ let v = 1; for (let k = 0; k <= 1023; k++) { P2[1074 + k] = v; v *= 2; } v = 1; for (let k = 0; k >= -1074; k--) { P2[1074 + k] = v; v /= 2; } }
/** x·2^k, exact whenever the result is representable (split to keep the factor in range). */
export function mul2(x: number, k: number): number {
  while (k > 1000) { x *= P2[1074 + 1000]!; k -= 1000; }
  while (k < -1000) { x *= P2[1074 - 1000]!; k += 1000; }
  return x * P2[1074 + k]!;
}
/** Unbiased exponent of a positive normal double. */
function expOf(x: number): number { F64[0] = x; return ((I32[1]! >>> 20) & 0x7ff) - 1023; }
function isPow2(x: number): boolean { F64[0] = x; return I32[0] === 0 && (I32[1]! & 0xfffff) === 0; }

/** Splits |x| (finite, non-zero) into m·2^e with m in [1,2): m returned, e in splitE. */
export let splitE = 0;
export function frexp1(x: number): number {
  let e = 0;
  if (x < 2.2250738585072014e-308) { x *= 18446744073709551616; e = -64; } // subnormal: scale by 2^64
  const k = expOf(x);
  splitE = e + k;
  return mul2(x, -k);
}

/** Exact a·b − p for p = fl(a·b) (Dekker/Veltkamp; operands well inside the normal range). */
export function twoProdErr(a: number, b: number, p: number): number {
  let c = 134217729 * a;
  const ah = c - (c - a), al = a - ah;
  c = 134217729 * b;
  const bh = c - (c - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}
/** Exact (a + b) − s for s = fl(a + b) (Knuth's TwoSum). */
export function twoSumErr(a: number, b: number, s: number): number {
  const bb = s - a;
  return (a - (s - bb)) + (b - bb);
}

/** Rounds n (≥ 0, a count of quanta) given the sign of (exact − n): mode 0 nearest, 1 up, 2 down (magnitudes). */
function roundInt(n: number, sgn: number, dir: number): number {
  const fl = Math.floor(n), frac = n - fl;
  if (dir === 0) return frac > 0.5 || (frac === 0.5 && (sgn > 0 || (sgn === 0 && fl % 2 === 1))) ? fl + 1 : fl;
  if (dir === 1) return frac > 0 || sgn > 0 ? fl + 1 : fl;
  return frac === 0 && sgn < 0 ? fl - 1 : fl;
}

/**
 * Rounds the exact value ±(q + ε)·2^E2 — q > 0 a double, ε of sign `sgn` and smaller than
 * half an ulp of q — to single (`single`) or double precision under MXCSR.RC, raising
 * PE/UE/OE as the SDM says (tininess after rounding; FTZ flushes tiny results to zero when
 * underflow is masked). Returns the signed result as a double (±Infinity on overflow).
 */
export function roundTo(neg: boolean, q: number, sgn: number, E2: number, single: boolean): number {
  const p = single ? 24 : 53, emin = single ? -126 : -1022, emax = single ? 127 : 1023;
  if (q < 1e-290) { q = mul2(q, 200); E2 -= 200; }
  const rc = (mx >> 13) & 3;
  const dir = rc === 0 ? 0 : rc === 3 ? 2 : (rc === 1) === neg ? 1 : 2;
  let E = expOf(q) + E2;
  if (sgn < 0 && isPow2(q)) E--; // the exact value lies just below a power of two
  const inexactBase = sgn !== 0;
  // rounding with unbounded exponent: decides tininess and overflow
  let Qe = E - (p - 1);
  let m = roundInt(E - Qe > 1100 ? 0 : mul2(q, E2 - Qe), sgn, dir);
  const unbounded = m; const uQe = Qe;
  const tiny = E < emin && !(E === emin - 1 && m >= P2[1074 + p]!);
  if (E < emin) {
    Qe = emin - (p - 1);
    const k = E2 - Qe;
    // far below the smallest subnormal: less than a quarter quantum
    m = expOf(q) + k < -3 ? roundInt(0.125, 1, dir) : roundInt(mul2(q, k), sgn, dir);
  }
  const exact = !inexactBase && mul2(m, Qe - E2) === q;
  // With overflow or underflow unmasked no result is delivered, and PE says whether the result
  // rounded to p bits with an unbounded exponent is inexact (SDM Vol. 1 §4.9.1.4-§4.9.1.5, the
  // unmasked responses; measured on this CPU by sse-diff.test.ts, which compares MXCSR at #XM)
  const unboundedExact = !inexactBase && mul2(unbounded, uQe - E2) === q;
  // overflow: the unbounded result reaches 2^(emax+1)
  if (!tiny && mul2(unbounded, uQe - emax) >= 2) {
    if ((mx & (1 << 10)) === 0) { fpFlags |= unboundedExact ? OE : OE | PE; return 0; } // unmasked: the caller faults
    fpFlags |= OE | PE;
    const big = dir === 2 ? (single ? 3.4028234663852886e38 : 1.7976931348623157e308) : Infinity;
    return neg ? -big : big;
  }
  const um = (mx & (1 << 11)) !== 0;
  if (tiny && !um) fpFlags |= unboundedExact ? UE : UE | PE; // unmasked: the caller faults
  else if (!exact) fpFlags |= PE;
  if (tiny && um) {
    // masked: FTZ flushes to zero; otherwise UE only when the denormal result is inexact
    if ((mx & 0x8000) !== 0) { fpFlags |= UE | PE; return neg ? -0 : 0; }
    if (!exact) fpFlags |= UE;
  }
  const v = mul2(m, Qe);
  return neg ? -v : v;
}

/** Sign of a zero result of x − x style cancellation: −0 only when rounding down. */
export function zeroSign(): number { return ((mx >> 13) & 3) === 1 ? -0 : 0; }
