/**
 * RCPPS/RCPSS (0F 53, F3 0F 53) and RSQRTPS/RSQRTSS (0F 52, F3 0F 52): the approximate
 * reciprocal and reciprocal square root of single-precision lanes (SDM Vol. 2B entries).
 *
 * Intel documents only the accuracy, |relative error| ≤ 1.5·2^-12, not the bits; the bits are
 * the vendor's. The emulator reproduces this machine's CPU (the differential tests' host)
 * bit for bit with the tables measured on it (approx-host.ts), shared with VRCPPS/VRSQRTPS.
 *
 * Special operands as the SDM lists them: ±0 and denormals (always treated as ±0, DAZ or
 * not) give ±∞; ±∞ gives ±0 (RSQRT: −∞ and any negative value give the QNaN indefinite);
 * NaNs come back quieted. Tiny reciprocals are flushed to ±0. Not affected by MXCSR.RC;
 * no exception is ever signalled and MXCSR is unchanged.
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { B, R, byPrefix, sseCheck, has, loadXmmSrc, loadXmmA, storeXmmR, A, FE_SSE } from './common.js';
import { rcp32Host, rsqrt32Host } from './approx-host.js';

/** Approximate 1/x of a single-precision bit pattern; returns the result's bits. */
export const rcp32 = rcp32Host;
/** Approximate 1/√x of a single-precision bit pattern. */
export const rsqrt32 = rsqrt32Host;

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
