/**
 * RCPPS/RCPSS (0F 53, F3 0F 53) and RSQRTPS/RSQRTSS (0F 52, F3 0F 52): the approximate
 * reciprocal and reciprocal square root of single-precision lanes (SDM Vol. 2B entries).
 *
 * Intel documents only the accuracy, |relative error| ≤ 1.5·2^-12, not the bits; AMD's
 * tables differ from Intel's, so no host can serve as a bit-exact reference. The emulator
 * uses its own deterministic tables, indexed by the top 11 significand bits (and, for the
 * square root, the exponent's parity): each entry is the function at the midpoint of its
 * interval, rounded to single precision, so the error is at most half an interval
 * (2^-12 relative for 1/x, 2^-13 for 1/√x) plus 2^-24 — within the documented bound.
 *
 * Special operands as the SDM lists them: ±0 and denormals (always treated as ±0, DAZ or
 * not) give ±∞; ±∞ gives ±0 (RSQRT: −∞ and any negative value give the QNaN indefinite);
 * NaNs come back quieted. Tiny reciprocals are flushed to ±0. Not affected by MXCSR.RC;
 * no exception is ever signalled and MXCSR is unchanged.
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { B, R, byPrefix, sseCheck, has, loadXmmSrc, loadXmmA, storeXmmR, A, FE_SSE } from './common.js';
import { f32ToBits } from './fp-core.js';

/** 2048 reciprocal entries in [0.5, 1), then 4096 reciprocal square roots (even, odd exponent). */
const RCP = new Float64Array(2048), RSQ = new Float64Array(4096);
for (let i = 0; i < 2048; i++) {
  const mid = 1 + (i + 0.5) / 2048;
  RCP[i] = Math.fround(1 / mid);
  RSQ[i] = Math.fround(1 / Math.sqrt(mid));         // even exponent: m in [1,2)
  RSQ[2048 + i] = Math.fround(1 / Math.sqrt(2 * mid)); // odd exponent: 2m in [2,4)
}
const TWO_M126 = 1.1754943508222875e-38;

/** Approximate 1/x of a single-precision bit pattern; returns the result's bits. */
export function rcp32(b: number): number {
  const sign = b & 0x80000000, e = (b >>> 23) & 0xff, idx = (b >>> 12) & 0x7ff;
  if (e === 0xff) return (b & 0x7fffff) !== 0 ? b | 0x400000 : sign; // NaN quieted; 1/±∞ = ±0
  if (e === 0) return sign | 0x7f800000;                              // ±0 and denormals → ±∞
  // x = m·2^(e−127), 1/x = (1/m)·2^(127−e); exact scaling in double
  const v = RCP[idx]! * Math.pow(2, 127 - e);
  if (v < TWO_M126) return sign;                                       // tiny: flushed to ±0
  return sign | f32ToBits(v);
}

/** Approximate 1/√x of a single-precision bit pattern. */
export function rsqrt32(b: number): number {
  const sign = b & 0x80000000, e = (b >>> 23) & 0xff, idx = (b >>> 12) & 0x7ff;
  if (e === 0xff && (b & 0x7fffff) !== 0) return b | 0x400000;         // NaN quieted
  if (e === 0) return sign | 0x7f800000;                                // ±0 and denormals → ±∞
  if (sign !== 0) return 0xffc00000 | 0;                                // negative (−∞ too): indefinite
  if (e === 0xff) return 0;                                             // 1/√+∞ = +0
  // x = m·2^k with k = e − 127; for odd k use 2m·2^(k−1) so the exponent halves exactly
  const k = e - 127, odd = k & 1;
  return f32ToBits(RSQ[(odd << 11) | idx]! * Math.pow(2, -(k - odd) / 2));
}

function approx(f: (b: number) => number, scalar: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, FE_SSE));
    loadXmmSrc(cpu, scalar ? 4 : 16, !scalar);
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    const n = scalar ? 1 : 4;
    for (let i = 0; i < n; i++) R[i] = f(B[i]!);
    storeXmmR(cpu, cpu.reg);
  };
}

export function installApprox(t: Handler[]): void {
  def(t, 0x152, byPrefix(approx(rsqrt32, false), null, approx(rsqrt32, true), null));
  def(t, 0x153, byPrefix(approx(rcp32, false), null, approx(rcp32, true), null));
}
