/**
 * VEX forms of the SSE..SSE4.1 floating-point instructions whose 256-bit form is the
 * 128-bit operation on each lane (SDM Vol. 2 entries of the same names; Vol. 1 §14.1),
 * built with the lane driver (common.ts vexOp):
 *   VCMPPS/PD/SS/SD with all 32 predicates (imm8[4:0], SDM CMPPS Table 3-1), VHADDPS/PD,
 *   VHSUBPS/PD, VADDSUBPS/PD, VROUNDPS/PD/SS/SD, VBLENDPS/PD, VSHUFPS/PD, VUNPCKL/HPS/PD,
 *   VMOVSLDUP/VMOVSHDUP (installed by fp2.ts), VRCPPS/SS, VRSQRTPS/SS (avx/approx.ts),
 *   VCVTDQ2PS/PS2DQ/TPS2DQ, VCVTSS2SD/SD2SS (installed by fp2.ts) and the AVX-only
 *   VPERMILPS/PD (imm and variable); and, with their own handlers because MXCSR is
 *   committed per stage, VDPPS (128/256) and VDPPD (128).
 * Lane arithmetic, MXCSR rounding, DAZ/FTZ and flags are the legacy SSE code's
 * (sse/fp-lane.ts, fp-core.ts); an unmasked exception in any lane writes nothing.
 * Scalar forms take bits 127:32|64 from src1 (vvvv) and zero bits 255:128 (VEX.LIG).
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, B, R, type Kernel } from '../sse/common.js';
import { raise, beginFp, curMxcsr, IE, DE } from '../sse/fp-core.js';
import { clsF32, clsF64, VAL, C_QNAN, C_SNAN, C_DEN, OP_ADD, OP_SUB, OP_MUL } from '../sse/fp-lane.js';
import { f2i, i2f, f2f, finishFp } from '../sse/fp.js';
import { SA, SB, SR, opF32, opF64, opHi } from '../sse/sse3.js';
import { roundLane } from '../sse/sse41-fp.js';
import { rcp32Host as rcp32, rsqrt32Host as rsqrt32 } from '../sse/approx-host.js';
import {
  vexOp, byPrefix, avxCheck, VX_W0, vsrc, getYmm, putYmm, loadRm, S1, S2, D, FE_AVX, L0_ONLY, VX_FP, VX_UNARY, VX_SCALAR4, VX_SCALAR8,
} from './common.js';

// ---- VCMPxx: 32 predicates ------------------------------------------------------------------
/**
 * Predicates whose 0..15 encoding signals #I on a QNaN operand (LT/LE/NLT/NLE/NGE/NGT/GE/GT
 * "_OS"/"_US"); imm8[4] inverts signalling for every predicate (SDM CMPPS Table 3-1).
 */
const SIGNALLING = 0x6666;

/** Lane i of A against lane i of B under predicate p (0..31); true/false. */
function cmpPred(single: boolean, i: number, p: number): boolean {
  let ca: number, cb: number;
  if (single) { ca = clsF32(A[i]!); } else { ca = clsF64(A[2 * i]!, A[2 * i + 1]!); }
  const a = VAL[0]!;
  if (single) { cb = clsF32(B[i]!); } else { cb = clsF64(B[2 * i]!, B[2 * i + 1]!); }
  const b = VAL[0]!;
  const u = ca >= C_QNAN || cb >= C_QNAN;
  const sig = ((SIGNALLING >> (p & 15)) ^ (p >> 4)) & 1;
  if (ca === C_SNAN || cb === C_SNAN || (u && sig !== 0)) raise(IE);
  else if (!u && (ca === C_DEN || cb === C_DEN)) raise(DE); // no #D beside a NaN
  // NaN operands compare false in every JS relation, which gives the ordered predicates
  switch (p & 15) {
    case 0: return a === b;
    case 1: return a < b;
    case 2: return a <= b;
    case 3: return u;
    case 4: return !(a === b);
    case 5: return !(a < b);
    case 6: return !(a <= b);
    case 7: return !u;
    case 8: return u || a === b;
    case 9: return u || a < b;
    case 10: return u || a <= b;
    case 11: return false;
    case 12: return !u && a !== b;
    case 13: return a >= b;
    case 14: return a > b;
    default: return true;
  }
}
function cmpK(single: boolean, count: number): Kernel {
  return (_n, imm) => {
    R.set(A);
    const p = imm & 31;
    for (let i = 0; i < count; i++) {
      const r = cmpPred(single, i, p) ? -1 : 0;
      if (single) R[i] = r; else { R[2 * i] = r; R[2 * i + 1] = r; }
    }
  };
}

// ---- SSE3 horizontal / alternating arithmetic (SDM HADDPS, HSUBPD, ADDSUBPS…) ------------------
/** Runs `body` on saved copies of the lane (opF32/opF64 use A/B/R themselves). */
function saved(body: () => void): Kernel {
  return () => { SA.set(A); SB.set(B); body(); R.set(SR); };
}
function pd(r: number, op: number, s: Int32Array, i: number, t: Int32Array, j: number): void {
  SR[r] = opF64(op, s[i]!, s[i + 1]!, t[j]!, t[j + 1]!); SR[r + 1] = opHi;
}
const addsubps = saved(() => { for (let i = 0; i < 4; i++) SR[i] = opF32((i & 1) !== 0 ? OP_ADD : OP_SUB, SA[i]!, SB[i]!); });
const addsubpd = saved(() => { pd(0, OP_SUB, SA, 0, SB, 0); pd(2, OP_ADD, SA, 2, SB, 2); });
const hps = (op: number): Kernel => saved(() => {
  SR[0] = opF32(op, SA[0]!, SA[1]!); SR[1] = opF32(op, SA[2]!, SA[3]!);
  SR[2] = opF32(op, SB[0]!, SB[1]!); SR[3] = opF32(op, SB[2]!, SB[3]!);
});
const hpd = (op: number): Kernel => saved(() => { pd(0, op, SA, 0, SA, 2); pd(2, op, SB, 0, SB, 2); });

// ---- SSE4.1 ROUND and DP (SDM ROUNDPS, DPPS, DPPD) ------------------------------------------
/** imm8[1:0] rounding mode unless imm8[2] (MXCSR.RC); imm8[3] suppresses #P. */
function roundK(single: boolean, count: number): Kernel {
  return (_n, imm) => {
    R.set(A);
    const rc = (imm & 4) !== 0 ? (curMxcsr() >> 13) & 3 : imm & 3;
    for (let i = 0; i < count; i++) roundLane(single, i, rc, (imm & 8) !== 0);
  };
}
/**
 * VDPPS (per 128-bit lane) / VDPPD (128 only): products of the imm8[7:4] elements (others
 * +0.0), then (t0 + t1) + (t2 + t3) (VDPPD: t0 + t1), to the imm8[3:0] elements, +0.0
 * elsewhere. As the legacy DPPS/DPPD (sse41-fp.ts), MXCSR flags are committed — and an
 * unmasked exception faults — at the end of each stage (multiply, first adds, last add),
 * for both lanes together: a later stage's unmasked #D never hides an earlier stage's UE/PE
 * (measured: avx-diff.test.ts compares MXCSR at #XM; SDM DPPS "Operation" has the stages).
 */
const P = new Int32Array(8), T = new Int32Array(4);
function stageEnd(cpu: Cpu): void { finishFp(cpu); beginFp(cpu.fpu.mxcsr); }
function vdpps(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8(), l = cpu.vexL; // fetched before the #UD/#NM checks (Vol. 3A Table 6-2)
  avxCheck(cpu, FE_AVX, 0);
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
  beginFp(cpu.fpu.mxcsr);
  for (let i = 0; i < 4 << l; i++) P[i] = (imm >> (4 + (i & 3))) & 1 ? opF32(OP_MUL, S1[i]!, S2[i]!) : 0;
  stageEnd(cpu);
  for (let h = 0; h <= l; h++) {
    const o = 4 * h;
    T[2 * h] = opF32(OP_ADD, P[o]!, P[o + 1]!); T[2 * h + 1] = opF32(OP_ADD, P[o + 2]!, P[o + 3]!);
  }
  stageEnd(cpu);
  for (let h = 0; h <= l; h++) P[h] = opF32(OP_ADD, T[2 * h]!, T[2 * h + 1]!);
  finishFp(cpu);
  D.fill(0);
  for (let i = 0; i < 4 << l; i++) D[i] = (imm >> (i & 3)) & 1 ? P[i >> 2]! : 0;
  putYmm(cpu, cpu.reg, D, l);
}
function vdppd(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8();
  avxCheck(cpu, FE_AVX, L0_ONLY);
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, 16, false, S2);
  beginFp(cpu.fpu.mxcsr);
  for (let i = 0; i < 2; i++) {
    if ((imm >> (4 + i)) & 1) { P[2 * i] = opF64(OP_MUL, S1[2 * i]!, S1[2 * i + 1]!, S2[2 * i]!, S2[2 * i + 1]!); P[2 * i + 1] = opHi; }
    else { P[2 * i] = 0; P[2 * i + 1] = 0; }
  }
  stageEnd(cpu);
  const lo = opF64(OP_ADD, P[0]!, P[1]!, P[2]!, P[3]!), hi = opHi;
  finishFp(cpu);
  D.fill(0);
  for (let i = 0; i < 2; i++) { const on = (imm >> i) & 1; D[2 * i] = on ? lo : 0; D[2 * i + 1] = on ? hi : 0; }
  putYmm(cpu, cpu.reg, D, 0);
}

// ---- shuffles and blends (imm8 per lane; VBLENDPS/PD, VSHUFPD, VPERMILPD see imm >> shift) ---
const blendps: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R[i] = (imm >> i) & 1 ? B[i]! : A[i]!; };
const blendpd: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R[i] = (imm >> (i >> 1)) & 1 ? B[i]! : A[i]!; };
const shufps: Kernel = (_n, imm) => {
  const r0 = A[imm & 3]!, r1 = A[(imm >> 2) & 3]!, r2 = B[(imm >> 4) & 3]!, r3 = B[(imm >> 6) & 3]!;
  R[0] = r0; R[1] = r1; R[2] = r2; R[3] = r3;
};
const shufpd: Kernel = (_n, imm) => {
  const a = (imm & 1) << 1, b = imm & 2;
  R[0] = A[a]!; R[1] = A[a + 1]!; R[2] = B[b]!; R[3] = B[b + 1]!;
};
const unpcklps: Kernel = () => { R[0] = A[0]!; R[1] = B[0]!; R[2] = A[1]!; R[3] = B[1]!; };
const unpckhps: Kernel = () => { R[0] = A[2]!; R[1] = B[2]!; R[2] = A[3]!; R[3] = B[3]!; };
const unpcklpd: Kernel = () => { R[0] = A[0]!; R[1] = A[1]!; R[2] = B[0]!; R[3] = B[1]!; };
const unpckhpd: Kernel = () => { R[0] = A[2]!; R[1] = A[3]!; R[2] = B[2]!; R[3] = B[3]!; };
/** VPERMILPS imm (no vvvv: the source is r/m = B). */
const permilpsImm: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R[i] = B[(imm >> (2 * i)) & 3]!; };
const permilpdImm: Kernel = (_n, imm) => {
  const lo = (imm & 1) << 1, hi = imm & 2;
  R[0] = B[lo]!; R[1] = B[lo + 1]!; R[2] = B[hi]!; R[3] = B[hi + 1]!;
};
/** VPERMILPS/PD variable: src1 (A) selected by the control in src2 (B): bits 1:0 / bit 1. */
const permilpsVar: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = A[B[i]! & 3]!; };
const permilpdVar: Kernel = () => {
  const lo = B[0]! & 2, hi = B[2]! & 2;
  R[0] = A[lo]!; R[1] = A[lo + 1]!; R[2] = A[hi]!; R[3] = A[hi + 1]!;
};
export const movsldup: Kernel = () => { R[0] = B[0]!; R[1] = B[0]!; R[2] = B[2]!; R[3] = B[2]!; };
export const movshdup: Kernel = () => { R[0] = B[1]!; R[1] = B[1]!; R[2] = B[3]!; R[3] = B[3]!; };

// ---- approximations and same-width conversions -------------------------------------------------
/** VRCPPS/VRSQRTPS: the host CPU's tables (avx/approx.ts); no MXCSR involvement. */
const approxPs = (f: (b: number) => number): Kernel => () => { for (let i = 0; i < 4; i++) R[i] = f(B[i]!); };
const approxSs = (f: (b: number) => number): Kernel => () => { R.set(A); R[0] = f(B[0]!); };
const cvtdq2ps: Kernel = () => { for (let i = 0; i < 4; i++) i2f(true, i, B[i]!, 0, false); };
const cvtps2dq = (trunc: boolean): Kernel => () => {
  const mx = curMxcsr();
  for (let i = 0; i < 4; i++) R[i] = f2i(true, B[i]!, 0, 4, trunc, mx);
};
/** VCVTSS2SD / VCVTSD2SS (installed by fp2.ts, whose slots they share): low element converted from src2, the rest of bits 127:0 from src1. */
export const cvtss2sd: Kernel = () => { R.set(A); f2f(false, B[0]!, 0, 0); };
export const cvtsd2ss: Kernel = () => { R.set(A); f2f(true, B[0]!, B[1]!, 0); };

const M1 = 0x400, M2 = 0x500, M3 = 0x600;
const fp = (k: Kernel, flags = 0, imm = 0, shift = 0): Handler => vexOp(k, FE_AVX, FE_AVX, flags | VX_FP, imm, shift);
const mv = (k: Kernel, flags = 0, imm = 0, shift = 0): Handler => vexOp(k, FE_AVX, FE_AVX, flags, imm, shift);
/** Map 3 instructions exist only with the 66 prefix. */
const only66 = (h: Handler): Handler => byPrefix(null, h, null, null);

export function installAvxFp(t: Handler[]): void {
  def(t, M1 | 0xc2, byPrefix(fp(cmpK(true, 4), 0, 1), fp(cmpK(false, 2), 0, 1),
    fp(cmpK(true, 1), VX_SCALAR4, 1), fp(cmpK(false, 1), VX_SCALAR8, 1)));
  def(t, M1 | 0xd0, byPrefix(null, fp(addsubpd), null, fp(addsubps)));
  def(t, M1 | 0x7c, byPrefix(null, fp(hpd(OP_ADD)), null, fp(hps(OP_ADD))));
  def(t, M1 | 0x7d, byPrefix(null, fp(hpd(OP_SUB)), null, fp(hps(OP_SUB))));
  def(t, M1 | 0x14, byPrefix(mv(unpcklps), mv(unpcklpd), null, null));
  def(t, M1 | 0x15, byPrefix(mv(unpckhps), mv(unpckhpd), null, null));
  def(t, M1 | 0xc6, byPrefix(mv(shufps, 0, 1), mv(shufpd, 0, 1, 2), null, null));
  def(t, M1 | 0x52, byPrefix(mv(approxPs(rsqrt32), VX_UNARY), null, mv(approxSs(rsqrt32), VX_SCALAR4), null));
  def(t, M1 | 0x53, byPrefix(mv(approxPs(rcp32), VX_UNARY), null, mv(approxSs(rcp32), VX_SCALAR4), null));
  def(t, M1 | 0x5b, byPrefix(fp(cvtdq2ps, VX_UNARY), fp(cvtps2dq(false), VX_UNARY), fp(cvtps2dq(true), VX_UNARY), null));
  // the AVX-only VPERMILPS/PD are VEX.W0: W1 is #UD (SDM VPERMILPS "Other Exceptions")
  def(t, M3 | 0x04, only66(mv(permilpsImm, VX_UNARY | VX_W0, 1)));
  def(t, M3 | 0x05, only66(mv(permilpdImm, VX_UNARY | VX_W0, 1, 2)));
  def(t, M2 | 0x0c, only66(mv(permilpsVar, VX_W0)));
  def(t, M2 | 0x0d, only66(mv(permilpdVar, VX_W0)));
  def(t, M3 | 0x08, only66(fp(roundK(true, 4), VX_UNARY, 1)));
  def(t, M3 | 0x09, only66(fp(roundK(false, 2), VX_UNARY, 1)));
  def(t, M3 | 0x0a, only66(fp(roundK(true, 1), VX_SCALAR4, 1)));
  def(t, M3 | 0x0b, only66(fp(roundK(false, 1), VX_SCALAR8, 1)));
  def(t, M3 | 0x0c, only66(mv(blendps, 0, 1, 4)));
  def(t, M3 | 0x0d, only66(mv(blendpd, 0, 1, 2)));
  def(t, M3 | 0x40, only66(vdpps));
  def(t, M3 | 0x41, only66(vdppd));
}

