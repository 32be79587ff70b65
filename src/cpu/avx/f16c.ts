/**
 * F16C (CPUID.1:ECX.F16C[29]), SDM Vol. 2 VCVTPH2PS and VCVTPS2PH — binary16 ↔ binary32:
 *   VEX.128/256.66.0F38.W0 13 /r     VCVTPH2PS xmm1, xmm2/m64 | ymm1, xmm2/m128
 *   VEX.128/256.66.0F3A.W0 1D /r ib  VCVTPS2PH xmm1/m64, xmm2, imm8 | xmm1/m128, ymm2, imm8
 * Both have no vvvv (1111b or #UD) and VEX.W1 is #UD (checked on this CPU). A register
 * destination of VCVTPS2PH is r/m; its bits above the result (127:64 for VEX.128, and
 * 255:128) are zeroed.
 *
 * Rules as this CPU applies them (probed, pinned by f16c-diff.test.ts):
 *  - VCVTPH2PS is exact: half denormals become normal singles, MXCSR.DAZ is not applied and
 *    DE never raised; an SNaN is quieted with IE; NaN payloads move to the top of the fraction.
 *  - VCVTPS2PH rounds by imm8[1:0] (RN, RD, RU, RZ), or by MXCSR.RC when imm8[2] = 1 (bits
 *    7:3 ignored); DAZ applies to the single inputs (DE without it), FTZ does not apply to
 *    the half results; flags IE (SNaN), DE, OE, UE (tininess after rounding; with UE
 *    unmasked even an exact tiny result), PE (with OE/UE unmasked only when the 11-bit result
 *    with an unbounded exponent is inexact); overflow gives ∞ or ±65504 by the direction;
 *    NaNs keep the top 10 fraction bits, quieted.
 * Exceptions are committed (or #XM/#UD raised) before anything is written; a memory
 * destination is translated for writing first, so a #PF leaves MXCSR unchanged.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { beginFp, raise, frexp1, splitE, f32ToBits, IE, DE, OE, UE, PE } from '../sse/fp-core.js';
import { finishFp } from '../sse/fp.js';
import { clsF32, VAL, C_ZERO, C_DEN, C_INF, C_QNAN, C_SNAN } from '../sse/fp-lane.js';
import { avxCheck, getYmm, putYmm, loadRm, D, S1, byPrefix, FE_F16C, NO_VVVV } from './common.js';

/** 2^-24, the binary16 subnormal quantum. */
const Q24 = 5.960464477539063e-8;

/** binary16 bits → binary32 bits (exact; SNaN quieted with IE). */
export function halfToSingle(h: number): number {
  const s = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0x1f) {
    if (f === 0) return s | 0x7f800000;
    if ((f & 0x200) === 0) raise(IE);
    return s | 0x7fc00000 | (f << 13);
  }
  if (e === 0) return f === 0 ? s : s | f32ToBits(f * Q24); // subnormal: exactly f·2^-24
  return s | ((e + 112) << 23) | (f << 13);
}

/** Rounds n ≥ 0 to an integer: dir 0 nearest-even, 1 up (away from zero), 2 down (toward zero). */
function roundInt(n: number, dir: number): number {
  const fl = Math.floor(n), fr = n - fl;
  if (dir === 0) return fr > 0.5 || (fr === 0.5 && fl % 2 === 1) ? fl + 1 : fl;
  return dir === 1 && fr !== 0 ? fl + 1 : fl;
}

/**
 * binary32 bits → binary16 bits, rounding control rc (0 RN, 1 RD, 2 RU, 3 RZ), under the
 * MXCSR masks `mx`. Unmasked overflow/underflow deliver no result (the caller faults) and set
 * PE only when the result rounded to 11 bits with an unbounded exponent is inexact; an
 * unmasked underflow is signalled for exact tiny results too (SDM Vol. 1 §4.9.1.4-§4.9.1.5,
 * the same responses as sse/fp-core.ts roundTo; checked on this CPU at #XM).
 */
export function singleToHalf(b: number, rc: number, mx: number): number {
  const cls = clsF32(b), neg = b < 0, s = neg ? 0x8000 : 0;
  if (cls >= C_QNAN) {
    if (cls === C_SNAN) raise(IE);
    return s | 0x7e00 | ((b & 0x7fffff) >>> 13);
  }
  if (cls === C_INF) return s | 0x7c00;
  if (cls === C_ZERO) return s;
  if (cls === C_DEN) raise(DE);
  const a = Math.abs(VAL[0]!);
  const dir = rc === 0 ? 0 : rc === 3 ? 2 : (rc === 2) !== neg ? 1 : 2;
  frexp1(a);
  const e = splitE;
  // rounded with an unbounded exponent (11 significant bits): decides overflow and tininess
  const mu = roundInt(a / 2 ** (e - 10), dir);
  const unboundedExact = mu * 2 ** (e - 10) === a;
  if (mu * 2 ** (e - 10) >= 65536) {
    if ((mx & (1 << 10)) === 0) { raise(unboundedExact ? OE : OE | PE); return 0; }
    raise(OE | PE);
    return s | (dir === 2 ? 0x7bff : 0x7c00);
  }
  const tiny = mu * 2 ** (e - 10) < 6.103515625e-5; // 2^-14
  if (tiny && (mx & (1 << 11)) === 0) { raise(unboundedExact ? UE : UE | PE); return 0; }
  let bits: number, exact: boolean;
  if (e < -14) { const m = roundInt(a / Q24, dir); bits = m; exact = m * Q24 === a; }
  else { bits = ((e + 15) << 10) + mu - 1024; exact = unboundedExact; }
  if (!exact) raise(PE);
  if (tiny && !exact) raise(UE);
  return s | bits;
}

/** 66 0F38 13 VCVTPH2PS xmm1, xmm2/m64 | ymm1, xmm2/m128. */
function vcvtph2ps(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.rexW) cpu.ud();
  avxCheck(cpu, FE_F16C, NO_VVVV);
  const l = cpu.vexL, n = 4 << l;
  loadRm(cpu, 8 << l, false, S1);
  beginFp(cpu.fpu.mxcsr);
  for (let i = 0; i < n; i++) {
    const w = S1[i >> 1]!;
    D[i] = halfToSingle((i & 1) !== 0 ? w >>> 16 : w & 0xffff);
  }
  finishFp(cpu);
  putYmm(cpu, cpu.reg, D, l);
}

/** 66 0F3A 1D VCVTPS2PH xmm1/m64, xmm2, imm8 | xmm1/m128, ymm2, imm8. */
function vcvtps2ph(cpu: Cpu): void {
  cpu.decodeModrm(1);
  if (cpu.rexW) cpu.ud();
  avxCheck(cpu, FE_F16C, NO_VVVV);
  const imm = cpu.fetch8();
  const l = cpu.vexL, n = 4 << l, size = 8 << l;
  let lin = 0;
  if (cpu.mod !== 3) {
    lin = cpu.eaLin(size, true);
    cpu.probeSplit(lin, size, true);
  }
  getYmm(cpu, cpu.reg, S1);
  const mx = cpu.fpu.mxcsr;
  const rc = (imm & 4) !== 0 ? (mx >> 13) & 3 : imm & 3;
  beginFp(mx);
  D.fill(0);
  for (let i = 0; i < n; i++) {
    const h = singleToHalf(S1[i]!, rc, mx);
    D[i >> 1] = (i & 1) !== 0 ? D[i >> 1]! | (h << 16) : h;
  }
  finishFp(cpu);
  if (cpu.mod === 3) { putYmm(cpu, cpu.rm, D, 0); return; }
  for (let k = 0; k < size; k += 8) cpu.wr64(lin + k, D[k >> 2]!, D[(k >> 2) + 1]!);
}

export function installAvxF16c(t: Handler[]): void {
  def(t, 0x500 | 0x13, byPrefix(null, vcvtph2ps, null, null));
  def(t, 0x600 | 0x1d, byPrefix(null, vcvtps2ph, null, null));
}
