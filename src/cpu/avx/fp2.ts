/**
 * VEX floating-point instructions that are not one 128-bit operation per lane (SDM Vol. 2
 * entries of the same names): the width-changing conversions VCVTPS2PD/PD2PS, VCVTDQ2PD,
 * VCVT(T)PD2DQ (256 → 128), VCVTSI2SS/SD, VCVT(T)SS2SI/SD2SI; VCOMISS/SD, VUCOMISS/SD;
 * VMOVMSKPS/PD; VMOVHLPS/LHPS, VMOVHPS/PD, VMOVLPS/PD; VMOVDDUP; VINSERTPS, VEXTRACTPS;
 * VMOVNTPS/PD; VBLENDVPS/PD; and the AVX-only VBROADCASTSS/SD/F128, VINSERTF128,
 * VEXTRACTF128, VPERM2F128, VMASKMOVPS/PD, VTESTPS/PD. Also installs the slots they share
 * with fp.ts's lane-wise VCVTSS2SD/SD2SS and VMOVSLDUP/SHDUP.
 *
 * Order: the whole instruction is fetched first (imm8 included: a fetch fault ranks above
 * decode faults, SDM Vol. 3A Table 6-2), then every #UD (the VEX.W = 1 of the AVX-only "W0"
 * forms, register operands of memory-only forms, VEX.L = 0 of 256-bit-only forms, then
 * avxCheck's) before #NM, then the operand faults (SDM Vol. 2 §2.8 exception classes).
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { CF, PF, ZF } from '../regs.js';
import { R } from '../sse/common.js';
import { beginFp, raise, IE, DE } from '../sse/fp-core.js';
import { clsF32, clsF64, VAL, C_QNAN, C_SNAN, C_DEN } from '../sse/fp-lane.js';
import { f2i, i2f, f2f, cvtHi, finishFp } from '../sse/fp.js';
import {
  avxCheck, vsrc, getYmm, putYmm, readMem, writeMem, loadRm, vexOp, byPrefix, S1, S2, D,
  FE_AVX, FE_AVX2, NO_VVVV, L0_ONLY, VX_FP, VX_UNARY, VX_SCALAR4, VX_SCALAR8,
} from './common.js';
import { cvtss2sd, cvtsd2ss, movsldup, movshdup } from './fp.js';

/** Extra #UD rules: VEX.W must be 0; memory operand only; VEX.L must be 1. */
const W0 = 1, MEM = 2, L1 = 4;
/** The #UD checks of `extra` then avxCheck (its #UDs, then #NM); after decodeModrm. */
function pre(cpu: Cpu, fe: number, rules: number, extra: number): void {
  if ((extra & W0) !== 0 && cpu.rexW) cpu.ud();
  if ((extra & MEM) !== 0 && cpu.mod === 3) cpu.ud();
  if ((extra & L1) !== 0 && cpu.vexL === 0) cpu.ud();
  avxCheck(cpu, fe, rules);
}
/** Register-only forms (VMOVMSKPS): a memory operand is #UD. */
function regOnly(cpu: Cpu): void { if (cpu.mod !== 3) cpu.ud(); }

const X = new Int32Array(8);

// ---- conversions --------------------------------------------------------------------------------
/** VCVTPS2PD (0F 5A) / VCVTDQ2PD (F3 0F E6): m64|xmm → xmm, m128|xmm → ymm. */
function widen(fromInt: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, NO_VVVV, 0);
    const l = cpu.vexL;
    loadRm(cpu, l !== 0 ? 16 : 8, false, S2);
    beginFp(cpu.fpu.mxcsr);
    for (let h = 0; h <= l; h++) {
      for (let i = 0; i < 2; i++) {
        const s = S2[2 * h + i]!;
        if (fromInt) i2f(false, i, s, 0, false); else f2f(false, s, 0, i);
      }
      D[4 * h] = R[0]!; D[4 * h + 1] = R[1]!; D[4 * h + 2] = R[2]!; D[4 * h + 3] = R[3]!;
    }
    finishFp(cpu);
    putYmm(cpu, cpu.reg, D, l);
  };
}
/** VCVTPD2PS (66 0F 5A), VCVTPD2DQ (F2 0F E6), VCVTTPD2DQ (66 0F E6): m128|m256 → xmm. */
function narrow(toInt: boolean, trunc: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, NO_VVVV, 0);
    const l = cpu.vexL, n = l !== 0 ? 4 : 2;
    loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
    const mx = cpu.fpu.mxcsr;
    beginFp(mx);
    R.fill(0);
    for (let i = 0; i < n; i++) {
      if (toInt) R[i] = f2i(false, S2[2 * i]!, S2[2 * i + 1]!, 4, trunc, mx);
      else f2f(true, S2[2 * i]!, S2[2 * i + 1]!, i);
    }
    finishFp(cpu);
    D.fill(0); D[0] = R[0]!; D[1] = R[1]!; D[2] = R[2]!; D[3] = R[3]!;
    putYmm(cpu, cpu.reg, D, 0);
  };
}
/** VCVTSI2SS/SD xmm1, xmm2, r/m32|r/m64 (VEX.W1 = 64-bit source in 64-bit mode only). */
function cvtsi2f(single: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, 0, 0);
    const wide = cpu.code64 && cpu.rexW;
    const lo = cpu.readE(wide ? 8 : 4), hi = wide ? cpu.hi : 0;
    getYmm(cpu, vsrc(cpu), D);
    R[0] = D[0]!; R[1] = D[1]!; R[2] = D[2]!; R[3] = D[3]!;
    beginFp(cpu.fpu.mxcsr);
    i2f(single, 0, lo, hi, wide);
    finishFp(cpu);
    D[0] = R[0]!; D[1] = R[1]!;
    putYmm(cpu, cpu.reg, D, 0);
  };
}
/** VCVT(T)SS2SI / VCVT(T)SD2SI r32|r64, xmm1/m32|m64. */
function cvtf2si(single: boolean, trunc: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, NO_VVVV, 0);
    loadRm(cpu, single ? 4 : 8, false, S2);
    const mx = cpu.fpu.mxcsr;
    beginFp(mx);
    const size = cpu.code64 && cpu.rexW ? 8 : 4;
    const lo = f2i(single, S2[0]!, S2[1]!, size, trunc, mx);
    finishFp(cpu);
    cpu.setRegSz(cpu.reg, size, lo, cvtHi);
  };
}

// ---- compares to EFLAGS ---------------------------------------------------------------------------
/** VCOMISS/SD (signal #I on any NaN) and VUCOMISS/SD (SNaN only): ZF/PF/CF, the rest cleared. */
function comis(single: boolean, signalQ: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, NO_VVVV, 0);
    loadRm(cpu, single ? 4 : 8, false, S2);
    getYmm(cpu, cpu.reg, S1);
    beginFp(cpu.fpu.mxcsr);
    const ca = single ? clsF32(S1[0]!) : clsF64(S1[0]!, S1[1]!), a = VAL[0]!;
    const cb = single ? clsF32(S2[0]!) : clsF64(S2[0]!, S2[1]!), b = VAL[0]!;
    const u = ca >= C_QNAN || cb >= C_QNAN;
    if (ca === C_SNAN || cb === C_SNAN || (u && signalQ)) raise(IE);
    else if (!u && (ca === C_DEN || cb === C_DEN)) raise(DE);
    finishFp(cpu);
    cpu.setArith(u ? ZF | PF | CF : a < b ? CF : a === b ? ZF : 0);
  };
}
/** VTESTPS/PD: ZF = no sign bit of src1 AND src2 set, CF = none of NOT src1 AND src2 (SDM VTESTPS). */
function vtest(pd: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, NO_VVVV, W0);
    const l = cpu.vexL;
    getYmm(cpu, cpu.reg, S1);
    loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
    let z = 0, c = 0;
    for (let i = pd ? 1 : 0; i < (l !== 0 ? 8 : 4); i += pd ? 2 : 1) { z |= S1[i]! & S2[i]!; c |= ~S1[i]! & S2[i]!; }
    cpu.setArith((z < 0 ? 0 : ZF) | (c < 0 ? 0 : CF));
  };
}
/** VMOVMSKPS/PD r32|r64, xmm2|ymm2: the sign bits, zero-extended. */
function movmsk(pd: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    regOnly(cpu);
    pre(cpu, FE_AVX, NO_VVVV, 0);
    getYmm(cpu, cpu.rm, S2);
    const n = cpu.vexL !== 0 ? 8 : 4;
    let m = 0;
    for (let i = pd ? 1 : 0, b = 0; i < n; i += pd ? 2 : 1, b++) m |= (S2[i]! >>> 31) << b;
    cpu.setRegSz(cpu.reg, 4, m, 0);
  };
}

// ---- half moves, duplicates, inserts ------------------------------------------------------------
/**
 * 0F 12 VMOVHLPS xmm1, xmm2, xmm3 (register) / VMOVLPS xmm1, xmm2, m64, and 66 0F 12 VMOVLPD
 * (memory only): low qword from xmm3's high qword or m64, high qword from xmm2.
 * 0F 16 VMOVLHPS / VMOVHPS, 66 0F 16 VMOVHPD: low qword from xmm2, high from xmm3 low or m64.
 */
function movHalf(high: boolean, memOnly: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, L0_ONLY, memOnly ? MEM : 0);
    getYmm(cpu, vsrc(cpu), D);
    const o = high ? 2 : 0;
    if (cpu.mod === 3) {
      getYmm(cpu, cpu.rm, S2);
      const s = high ? 0 : 2;
      D[o] = S2[s]!; D[o + 1] = S2[s + 1]!;
    } else {
      readMem(cpu, 8, false, S2);
      D[o] = S2[0]!; D[o + 1] = S2[1]!;
    }
    putYmm(cpu, cpu.reg, D, 0);
  };
}
/** 0F 13/17 VMOVLPS/VMOVHPS, 66 0F 13/17 VMOVLPD/VMOVHPD m64, xmm1 (memory only). */
function movHalfStore(high: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, NO_VVVV | L0_ONLY, MEM);
    const x = cpu.fpu.xmm, s = (cpu.reg << 2) + (high ? 2 : 0);
    cpu.wr64(cpu.eaLin(8, true), x[s]!, x[s + 1]!);
  };
}
/** F2 0F 12 VMOVDDUP xmm1, xmm2/m64 | ymm1, ymm2/m256: the even qwords duplicated. */
function movddup(cpu: Cpu): void {
  cpu.decodeModrm(0);
  pre(cpu, FE_AVX, NO_VVVV, 0);
  const l = cpu.vexL;
  loadRm(cpu, l !== 0 ? 32 : 8, false, S2);
  D[0] = S2[0]!; D[1] = S2[1]!; D[2] = S2[0]!; D[3] = S2[1]!;
  D[4] = S2[4]!; D[5] = S2[5]!; D[6] = S2[4]!; D[7] = S2[5]!;
  putYmm(cpu, cpu.reg, D, l);
}
/** 66 0F3A 21 VINSERTPS xmm1, xmm2, xmm3/m32, imm8: element imm[7:6] (register) to imm[5:4], imm[3:0] zeroed. */
function insertps(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8();
  pre(cpu, FE_AVX, L0_ONLY, 0);
  getYmm(cpu, vsrc(cpu), D);
  let v: number;
  if (cpu.mod === 3) { getYmm(cpu, cpu.rm, S2); v = S2[(imm >> 6) & 3]!; }
  else { readMem(cpu, 4, false, S2); v = S2[0]!; }
  D[(imm >> 4) & 3] = v;
  for (let i = 0; i < 4; i++) if ((imm >> i) & 1) D[i] = 0;
  putYmm(cpu, cpu.reg, D, 0);
}
/** 66 0F3A 17 VEXTRACTPS r/m32, xmm1, imm8 (a register destination is zero-extended). */
function extractps(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8();
  pre(cpu, FE_AVX, NO_VVVV | L0_ONLY, 0);
  const v = cpu.fpu.xmm[(cpu.reg << 2) + (imm & 3)]!;
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, 4, v, 0);
  else cpu.wr32(cpu.eaLin(4, true), v);
}
/** VMOVNTPS/PD m128|m256, xmm1|ymm1: memory only, aligned to the operand size. */
function movnt(cpu: Cpu): void {
  cpu.decodeModrm(0);
  pre(cpu, FE_AVX, NO_VVVV, MEM);
  getYmm(cpu, cpu.reg, D);
  writeMem(cpu, cpu.vexL !== 0 ? 32 : 16, true, D);
}
/** VBLENDVPS/PD xmm1, xmm2, xmm3/m, xmm4: the mask register in imm8[7:4] (imm8[7] ignored outside 64-bit mode). */
function blendv(pd: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(1);
    const imm = cpu.fetch8(), l = cpu.vexL;
    pre(cpu, FE_AVX, 0, W0);
    getYmm(cpu, vsrc(cpu), S1);
    loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
    getYmm(cpu, cpu.code64 ? imm >> 4 : (imm >> 4) & 7, X);
    for (let i = 0; i < 8; i++) D[i] = X[pd ? i | 1 : i]! < 0 ? S2[i]! : S1[i]!;
    putYmm(cpu, cpu.reg, D, l);
  };
}

// ---- AVX-only data movement ----------------------------------------------------------------------
/**
 * 66 0F38 18/19/1A VBROADCASTSS (m32 | xmm with AVX2), VBROADCASTSD (ymm only; m64 | xmm with
 * AVX2), VBROADCASTF128 (ymm only, m128 only). `size` = element bytes.
 */
function broadcast(size: number): Handler {
  const extra = W0 | (size === 16 ? MEM | L1 : size === 8 ? L1 : 0);
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, cpu.mod === 3 ? FE_AVX2 : FE_AVX, NO_VVVV, extra);
    const l = cpu.vexL, n = size >> 2;
    loadRm(cpu, size, false, S2);
    for (let i = 0; i < 8; i++) D[i] = S2[i % n]!;
    putYmm(cpu, cpu.reg, D, l);
  };
}
/** 66 0F3A 18 VINSERTF128 ymm1, ymm2, xmm3/m128, imm8[0] selects the half replaced. */
function insertf128(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8();
  pre(cpu, FE_AVX, 0, W0 | L1);
  getYmm(cpu, vsrc(cpu), D);
  loadRm(cpu, 16, false, S2);
  const o = (imm & 1) << 2;
  D[o] = S2[0]!; D[o + 1] = S2[1]!; D[o + 2] = S2[2]!; D[o + 3] = S2[3]!;
  putYmm(cpu, cpu.reg, D, 1);
}
/** 66 0F3A 19 VEXTRACTF128 xmm1/m128, ymm2, imm8[0] (a register destination's bits 255:128 zeroed). */
function extractf128(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8();
  pre(cpu, FE_AVX, NO_VVVV, W0 | L1);
  getYmm(cpu, cpu.reg, S1);
  const o = (imm & 1) << 2;
  D.fill(0);
  D[0] = S1[o]!; D[1] = S1[o + 1]!; D[2] = S1[o + 2]!; D[3] = S1[o + 3]!;
  if (cpu.mod === 3) putYmm(cpu, cpu.rm, D, 0);
  else writeMem(cpu, 16, false, D);
}
/** 66 0F3A 06 VPERM2F128 ymm1, ymm2, ymm3/m256, imm8: each half picks a half of either source or zero (imm[3], imm[7]). */
function perm2f128(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const imm = cpu.fetch8();
  pre(cpu, FE_AVX, 0, W0 | L1);
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, 32, false, S2);
  for (let h = 0; h < 2; h++) {
    const c = imm >> (4 * h), d = 4 * h;
    const src = (c & 2) !== 0 ? S2 : S1, o = (c & 1) << 2;
    for (let k = 0; k < 4; k++) D[d + k] = (c & 8) !== 0 ? 0 : src[o + k]!;
  }
  putYmm(cpu, cpu.reg, D, 1);
}

/** Linear address of byte `off` of the memory operand, checked for an access of `size` bytes. */
function elemLin(cpu: Cpu, off: number, size: number, write: boolean): number {
  const s = (cpu.eaLo >>> 0) + off;
  const hi = cpu.asz === 8 && s > 0xffffffff ? cpu.eaHi + 1 : cpu.eaHi;
  return cpu.linear(cpu.eaSeg, s | 0, hi, size, write);
}
const LIN = new Float64Array(8);
/**
 * 66 0F38 2C/2D VMASKMOVPS/PD xmm1|ymm1, xmm2|ymm2 (mask), m: elements whose mask sign bit
 * is 0 are zeroed and never accessed, so they cannot fault (SDM VMASKMOV "Operation").
 */
function maskLoad(pd: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, 0, W0 | MEM);
    const l = cpu.vexL, es = pd ? 8 : 4, n = (l !== 0 ? 32 : 16) / es;
    getYmm(cpu, vsrc(cpu), X);
    D.fill(0);
    for (let i = 0; i < n; i++) {
      if (X[pd ? 2 * i + 1 : i]! >= 0) continue;
      const lin = elemLin(cpu, i * es, es, false);
      if (pd) { D[2 * i] = cpu.rd64(lin); D[2 * i + 1] = cpu.hi; } else D[i] = cpu.rd32(lin);
    }
    putYmm(cpu, cpu.reg, D, l);
  };
}
/**
 * 66 0F38 2E/2F VMASKMOVPS/PD m, xmm1|ymm1 (mask, vvvv), xmm2|ymm2: every selected element
 * is checked for writing before any is written (the store is all-or-nothing); unselected
 * elements are never accessed.
 */
function maskStore(pd: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    pre(cpu, FE_AVX, 0, W0 | MEM);
    const l = cpu.vexL, es = pd ? 8 : 4, n = (l !== 0 ? 32 : 16) / es;
    getYmm(cpu, vsrc(cpu), X);
    getYmm(cpu, cpu.reg, D);
    for (let i = 0; i < n; i++) {
      if (X[pd ? 2 * i + 1 : i]! >= 0) { LIN[i] = -1; continue; }
      const lin = elemLin(cpu, i * es, es, true);
      cpu.probeSplit(lin, es, true);
      LIN[i] = lin;
    }
    for (let i = 0; i < n; i++) {
      const lin = LIN[i]!;
      if (lin < 0) continue;
      if (pd) cpu.wr64(lin, D[2 * i]!, D[2 * i + 1]!); else cpu.wr32(lin, D[i]!);
    }
  };
}

const M1 = 0x400, M2 = 0x500, M3 = 0x600;
const only66 = (h: Handler): Handler => byPrefix(null, h, null, null);

export function installAvxFp2(t: Handler[]): void {
  def(t, M1 | 0x12, byPrefix(movHalf(false, false), movHalf(false, true), vexOp(movsldup, FE_AVX, FE_AVX, VX_UNARY), movddup));
  def(t, M1 | 0x13, byPrefix(movHalfStore(false), movHalfStore(false), null, null));
  def(t, M1 | 0x16, byPrefix(movHalf(true, false), movHalf(true, true), vexOp(movshdup, FE_AVX, FE_AVX, VX_UNARY), null));
  def(t, M1 | 0x17, byPrefix(movHalfStore(true), movHalfStore(true), null, null));
  def(t, M1 | 0x2a, byPrefix(null, null, cvtsi2f(true), cvtsi2f(false)));
  def(t, M1 | 0x2b, byPrefix(movnt, movnt, null, null));
  def(t, M1 | 0x2c, byPrefix(null, null, cvtf2si(true, true), cvtf2si(false, true)));
  def(t, M1 | 0x2d, byPrefix(null, null, cvtf2si(true, false), cvtf2si(false, false)));
  def(t, M1 | 0x2e, byPrefix(comis(true, false), comis(false, false), null, null));
  def(t, M1 | 0x2f, byPrefix(comis(true, true), comis(false, true), null, null));
  def(t, M1 | 0x50, byPrefix(movmsk(false), movmsk(true), null, null));
  def(t, M1 | 0x5a, byPrefix(widen(false), narrow(false, false),
    vexOp(cvtss2sd, FE_AVX, FE_AVX, VX_FP | VX_SCALAR4), vexOp(cvtsd2ss, FE_AVX, FE_AVX, VX_FP | VX_SCALAR8)));
  def(t, M1 | 0xe6, byPrefix(null, narrow(true, true), widen(true), narrow(true, false)));
  def(t, M2 | 0x0e, only66(vtest(false)));
  def(t, M2 | 0x0f, only66(vtest(true)));
  def(t, M2 | 0x18, only66(broadcast(4)));
  def(t, M2 | 0x19, only66(broadcast(8)));
  def(t, M2 | 0x1a, only66(broadcast(16)));
  def(t, M2 | 0x2c, only66(maskLoad(false)));
  def(t, M2 | 0x2d, only66(maskLoad(true)));
  def(t, M2 | 0x2e, only66(maskStore(false)));
  def(t, M2 | 0x2f, only66(maskStore(true)));
  def(t, M3 | 0x06, only66(perm2f128));
  def(t, M3 | 0x17, only66(extractps));
  def(t, M3 | 0x18, only66(insertf128));
  def(t, M3 | 0x19, only66(extractf128));
  def(t, M3 | 0x21, only66(insertps));
  def(t, M3 | 0x4a, only66(blendv(false)));
  def(t, M3 | 0x4b, only66(blendv(true)));
}
