/**
 * MMX/SSE/SSE2 data movement: MOVUPS..MOVDQU, MOVD/MOVQ, MOVSS/MOVSD, MOVLPS/MOVHPS and
 * friends, shuffles and unpacks of PS/PD, PSHUF*, PINSRW/PEXTRW, PMOVMSKB, MOVMSKPS/PD,
 * the non-temporal stores (MOVNTI/MOVNTQ/MOVNTDQ/MOVNTPS/PD, MASKMOVQ/MASKMOVDQU), the
 * bitwise ANDPS..XORPS and EMMS (SDM Vol. 2 entries of the same names).
 * Aligned forms (MOVAPS, MOVDQA, MOVNT*, and every legacy-SSE m128 operand other than the
 * MOVUPS/MOVDQU/LDDQU loads and stores) raise #GP(0) on a misaligned address.
 */
import { isAmd } from '../profile.js';
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import {
  A, B, R, A8, B8, R8, A16, B16, R16, packed, byPrefix, sseCheck, mmxCheck, has, checkAlign16, wr128,
  loadXmmSrc, loadXmmA, storeXmmR, loadMmSrc, storeMmR, FE_MMX, FE_SSE, FE_SSE2, FE_SSE3, type Kernel,
} from './common.js';
import { pand, pandn, por, pxor } from './integer.js';
import { RDI, DS } from '../regs.js';

type Fe = number;

/** op xmm, xmm/m128 → whole register. */
function load128(fe: Fe, aligned: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, fe));
    loadXmmSrc(cpu, 16, aligned);
    const x = cpu.fpu.xmm, o = cpu.reg << 2;
    x[o] = B[0]!; x[o + 1] = B[1]!; x[o + 2] = B[2]!; x[o + 3] = B[3]!;
  };
}
/** op xmm/m128, xmm. */
function store128(fe: Fe, aligned: boolean, memOnly = false): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (memOnly && cpu.mod === 3) cpu.ud();
    sseCheck(cpu, has(cpu, fe));
    const x = cpu.fpu.xmm, s = cpu.reg << 2;
    if (cpu.mod === 3) {
      const d = cpu.rm << 2;
      x[d] = x[s]!; x[d + 1] = x[s + 1]!; x[d + 2] = x[s + 2]!; x[d + 3] = x[s + 3]!;
      return;
    }
    const lin = cpu.eaLin(16, true);
    if (aligned) checkAlign16(cpu, lin);
    wr128(cpu, lin, x, s);
  };
}

/** MOVSS/MOVSD loads: register form merges the low lane; memory form zeroes the rest. */
function movScalarLoad(size: number, fe: Fe): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, fe));
    const x = cpu.fpu.xmm, d = cpu.reg << 2;
    if (cpu.mod === 3) {
      const s = cpu.rm << 2;
      x[d] = x[s]!; if (size === 8) x[d + 1] = x[s + 1]!;
      return;
    }
    loadXmmSrc(cpu, size, false);
    x[d] = B[0]!; x[d + 1] = B[1]!; x[d + 2] = 0; x[d + 3] = 0;
  };
}
function movScalarStore(size: number, fe: Fe): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, fe));
    const x = cpu.fpu.xmm, s = cpu.reg << 2;
    if (cpu.mod === 3) {
      const d = cpu.rm << 2;
      x[d] = x[s]!; if (size === 8) x[d + 1] = x[s + 1]!;
      return;
    }
    const lin = cpu.eaLin(size, true);
    if (size === 8) cpu.wr64(lin, x[s]!, x[s + 1]!); else cpu.wr32(lin, x[s]!);
  };
}

/**
 * 0F 12 / 0F 16 (no prefix, 66): `high` selects the upper quadword of the destination.
 * Register form (no prefix only): MOVHLPS dst.lo ← src.hi, MOVLHPS dst.hi ← src.lo.
 */
function movHalfLoad(high: boolean, fe: Fe, regForm: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (cpu.mod === 3 && !regForm) cpu.ud();
    sseCheck(cpu, has(cpu, fe));
    const x = cpu.fpu.xmm, d = (cpu.reg << 2) + (high ? 2 : 0);
    if (cpu.mod === 3) {
      const s = (cpu.rm << 2) + (high ? 0 : 2);
      x[d] = x[s]!; x[d + 1] = x[s + 1]!;
      return;
    }
    const lo = cpu.rd64(cpu.eaLin(8, false));
    x[d] = lo; x[d + 1] = cpu.hi;
  };
}
function movHalfStore(high: boolean, fe: Fe): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (cpu.mod === 3) cpu.ud();
    sseCheck(cpu, has(cpu, fe));
    const x = cpu.fpu.xmm, s = (cpu.reg << 2) + (high ? 2 : 0);
    cpu.wr64(cpu.eaLin(8, true), x[s]!, x[s + 1]!);
  };
}

/** SSE3 MOVSLDUP/MOVSHDUP (F3 0F 12/16) and MOVDDUP (F2 0F 12, m64). */
function dup(kind: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, FE_SSE3));
    loadXmmSrc(cpu, kind === 2 ? 8 : 16, true);
    const x = cpu.fpu.xmm, d = cpu.reg << 2;
    if (kind === 0) { x[d] = B[0]!; x[d + 1] = B[0]!; x[d + 2] = B[2]!; x[d + 3] = B[2]!; }
    else if (kind === 1) { x[d] = B[1]!; x[d + 1] = B[1]!; x[d + 2] = B[3]!; x[d + 3] = B[3]!; }
    else { x[d] = B[0]!; x[d + 1] = B[1]!; x[d + 2] = B[0]!; x[d + 3] = B[1]!; }
  };
}

/** 0F 6E MOVD/MOVQ mm|xmm, r/m32|64 (REX.W selects 64 bits); the rest is zeroed. */
function movdLoad(cpu: Cpu): void {
  const p66 = cpu.pfx66;
  if (cpu.rep !== 0) cpu.ud();
  cpu.decodeModrm(0);
  if (p66) sseCheck(cpu, has(cpu, FE_SSE2)); else mmxCheck(cpu, has(cpu, FE_MMX));
  const w = cpu.rexW;
  const lo = cpu.readE(w ? 8 : 4), hi = w ? cpu.hi : 0;
  if (p66) { const x = cpu.fpu.xmm, d = cpu.reg << 2; x[d] = lo; x[d + 1] = hi; x[d + 2] = 0; x[d + 3] = 0; }
  else { R[0] = lo; R[1] = hi; storeMmR(cpu, cpu.reg); }
}
/** 0F 7E MOVD/MOVQ r/m32|64, mm|xmm; F3 0F 7E MOVQ xmm, xmm/m64. */
function movdStore(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.rep === 1 /* F3 */) {
    sseCheck(cpu, has(cpu, FE_SSE2));
    loadXmmSrc(cpu, 8, false);
    const x = cpu.fpu.xmm, d = cpu.reg << 2;
    x[d] = B[0]!; x[d + 1] = B[1]!; x[d + 2] = 0; x[d + 3] = 0;
    return;
  }
  if (cpu.rep !== 0) cpu.ud();
  const p66 = cpu.pfx66;
  if (p66) sseCheck(cpu, has(cpu, FE_SSE2)); else mmxCheck(cpu, has(cpu, FE_MMX));
  let lo: number, hi: number;
  if (p66) { const x = cpu.fpu.xmm, s = cpu.reg << 2; lo = x[s]!; hi = x[s + 1]!; }
  else { const m = cpu.fpu.mant, s = (cpu.reg & 7) << 1; lo = m[s]!; hi = m[s + 1]!; }
  cpu.writeE(cpu.rexW ? 8 : 4, lo, hi);
  if (!p66) cpu.fpu.enterMmx();
}

/** 0F 6F MOVQ mm, mm/m64; 0F 7F MOVQ mm/m64, mm. */
function movqMmLoad(cpu: Cpu): void {
  cpu.decodeModrm(0);
  mmxCheck(cpu, has(cpu, FE_MMX));
  loadMmSrc(cpu);
  R[0] = B[0]!; R[1] = B[1]!;
  storeMmR(cpu, cpu.reg);
}
function movqMmStore(cpu: Cpu): void {
  cpu.decodeModrm(0);
  mmxCheck(cpu, has(cpu, FE_MMX));
  const m = cpu.fpu.mant, s = (cpu.reg & 7) << 1;
  if (cpu.mod === 3) { R[0] = m[s]!; R[1] = m[s + 1]!; storeMmR(cpu, cpu.rm); return; }
  cpu.wr64(cpu.eaLin(8, true), m[s]!, m[s + 1]!);
  cpu.fpu.enterMmx();
}

/** 66 0F D6 MOVQ xmm/m64, xmm (register destination: upper quadword zeroed). */
function movqStoreXmm(cpu: Cpu): void {
  cpu.decodeModrm(0);
  sseCheck(cpu, has(cpu, FE_SSE2));
  const x = cpu.fpu.xmm, s = cpu.reg << 2;
  if (cpu.mod === 3) { const d = cpu.rm << 2; x[d] = x[s]!; x[d + 1] = x[s + 1]!; x[d + 2] = 0; x[d + 3] = 0; return; }
  cpu.wr64(cpu.eaLin(8, true), x[s]!, x[s + 1]!);
}
/** F3 0F D6 MOVQ2DQ xmm, mm; F2 0F D6 MOVDQ2Q mm, xmm (register forms only). */
function movq2dq(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) cpu.ud();
  sseCheck(cpu, has(cpu, FE_SSE2));
  mmxCheck(cpu, 1);
  const m = cpu.fpu.mant, s = (cpu.rm & 7) << 1, x = cpu.fpu.xmm, d = cpu.reg << 2;
  x[d] = m[s]!; x[d + 1] = m[s + 1]!; x[d + 2] = 0; x[d + 3] = 0;
  cpu.fpu.enterMmx();
}
function movdq2q(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) cpu.ud();
  sseCheck(cpu, has(cpu, FE_SSE2));
  mmxCheck(cpu, 1);
  const x = cpu.fpu.xmm, s = cpu.rm << 2;
  R[0] = x[s]!; R[1] = x[s + 1]!;
  storeMmR(cpu, cpu.reg);
}

// ---- shuffles ------------------------------------------------------------------------------
export const pshufd: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R[i] = B[(imm >> (2 * i)) & 3]!; };
export const pshuflw: Kernel = (_n, imm) => {
  for (let i = 0; i < 4; i++) R16[i] = B16[(imm >> (2 * i)) & 3]!;
  R[2] = B[2]!; R[3] = B[3]!;
};
export const pshufhw: Kernel = (_n, imm) => {
  R[0] = B[0]!; R[1] = B[1]!;
  for (let i = 0; i < 4; i++) R16[4 + i] = B16[4 + ((imm >> (2 * i)) & 3)]!;
};
const pshufw: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R16[i] = B16[(imm >> (2 * i)) & 3]!; };
const shufps: Kernel = (_n, imm) => {
  R[0] = A[imm & 3]!; R[1] = A[(imm >> 2) & 3]!; R[2] = B[(imm >> 4) & 3]!; R[3] = B[(imm >> 6) & 3]!;
};
const shufpd: Kernel = (_n, imm) => {
  const a = (imm & 1) * 2, b = ((imm >> 1) & 1) * 2;
  R[0] = A[a]!; R[1] = A[a + 1]!; R[2] = B[b]!; R[3] = B[b + 1]!;
};
const unpcklps: Kernel = () => { R[0] = A[0]!; R[1] = B[0]!; R[2] = A[1]!; R[3] = B[1]!; };
const unpckhps: Kernel = () => { R[0] = A[2]!; R[1] = B[2]!; R[2] = A[3]!; R[3] = B[3]!; };
const unpcklpd: Kernel = () => { R[0] = A[0]!; R[1] = A[1]!; R[2] = B[0]!; R[3] = B[1]!; };
const unpckhpd: Kernel = () => { R[0] = A[2]!; R[1] = A[3]!; R[2] = B[2]!; R[3] = B[3]!; };

/** An XMM-only kernel handler (`op xmm, xmm/m128[, imm8]`, aligned) for the given prefix's feature. */
export function xmmOp(k: Kernel, fe: Fe, immBytes = 0): Handler {
  return (cpu) => {
    cpu.decodeModrm(immBytes);
    sseCheck(cpu, has(cpu, fe));
    const imm = immBytes ? cpu.fetch8() : 0;
    loadXmmSrc(cpu, 16, true);
    loadXmmA(cpu, cpu.reg);
    k(16, imm);
    storeXmmR(cpu, cpu.reg);
  };
}

/** 0F C4 PINSRW mm|xmm, r32/m16, imm8. */
function pinsrw(cpu: Cpu): void {
  if (cpu.rep !== 0) cpu.ud();
  const p66 = cpu.pfx66;
  cpu.decodeModrm(1);
  if (p66) sseCheck(cpu, has(cpu, FE_SSE2)); else mmxCheck(cpu, has(cpu, FE_SSE));
  const imm = cpu.fetch8();
  const v = cpu.mod === 3 ? cpu.r[cpu.rm << 1]! & 0xffff : cpu.rd16(cpu.eaLin(2, false));
  if (p66) { cpu.fpu.xmmU16[(cpu.reg << 3) + (imm & 7)] = v; return; }
  const m = cpu.fpu.mant, d = (cpu.reg & 7) << 1;
  R[0] = m[d]!; R[1] = m[d + 1]!;
  R16[imm & 3] = v;
  storeMmR(cpu, cpu.reg);
}
/** 0F C5 PEXTRW r32, mm|xmm, imm8 (register source only). */
function pextrw(cpu: Cpu): void {
  if (cpu.rep !== 0) cpu.ud();
  const p66 = cpu.pfx66;
  cpu.decodeModrm(1);
  if (cpu.mod !== 3) cpu.ud();
  if (p66) sseCheck(cpu, has(cpu, FE_SSE2)); else mmxCheck(cpu, has(cpu, FE_SSE));
  const imm = cpu.fetch8();
  let v: number;
  if (p66) v = cpu.fpu.xmmU16[(cpu.rm << 3) + (imm & 7)]!;
  else { const m = cpu.fpu.mant, s = (cpu.rm & 7) << 1; v = ((imm & 2) ? m[s + 1]! : m[s]!) >>> ((imm & 1) * 16) & 0xffff; cpu.fpu.enterMmx(); }
  cpu.setRegSz(cpu.reg, cpu.code64 && cpu.rexW ? 8 : 4, v, 0);
}
/** 0F D7 PMOVMSKB r32, mm|xmm: byte sign bits. */
function pmovmskb(cpu: Cpu): void {
  if (cpu.rep !== 0) cpu.ud();
  const p66 = cpu.pfx66;
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) cpu.ud();
  let v = 0;
  if (p66) {
    sseCheck(cpu, has(cpu, FE_SSE2));
    const u = cpu.fpu.xmmU8, o = cpu.rm << 4;
    for (let i = 15; i >= 0; i--) v = (v << 1) | (u[o + i]! >> 7);
  } else {
    mmxCheck(cpu, has(cpu, FE_SSE));
    const m = cpu.fpu.mant, s = (cpu.rm & 7) << 1;
    for (let i = 7; i >= 0; i--) v = (v << 1) | ((i >= 4 ? m[s + 1]! >>> (8 * (i - 4) + 7) : m[s]! >>> (8 * i + 7)) & 1);
    cpu.fpu.enterMmx();
  }
  cpu.setRegSz(cpu.reg, cpu.code64 && cpu.rexW ? 8 : 4, v, 0);
}
/** 0F 50 MOVMSKPS / 66 0F 50 MOVMSKPD r32, xmm. */
function movmsk(pd: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (cpu.mod !== 3) cpu.ud();
    sseCheck(cpu, has(cpu, pd ? FE_SSE2 : FE_SSE));
    const x = cpu.fpu.xmm, s = cpu.rm << 2;
    const v = pd ? (x[s + 1]! >>> 31) | ((x[s + 3]! >>> 31) << 1)
      : (x[s]! >>> 31) | ((x[s + 1]! >>> 31) << 1) | ((x[s + 2]! >>> 31) << 2) | ((x[s + 3]! >>> 31) << 3);
    cpu.setRegSz(cpu.reg, cpu.code64 && cpu.rexW ? 8 : 4, v, 0);
  };
}

/** 0F C3 MOVNTI m32/m64, r32/r64 (SSE2; memory form only). */
function movnti(cpu: Cpu): void {
  if (cpu.rep !== 0 || cpu.pfx66) cpu.ud();
  cpu.decodeModrm(0);
  if (cpu.mod === 3 || cpu.lock || has(cpu, FE_SSE2) === 0) cpu.ud();
  const size = cpu.rexW ? 8 : 4;
  cpu.wrSz(cpu.eaLin(size, true), size, cpu.r[cpu.reg << 1]!, cpu.r[(cpu.reg << 1) + 1]!);
}
/** 0F E7 MOVNTQ m64, mm (SSE). */
function movntq(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  mmxCheck(cpu, has(cpu, FE_SSE));
  const m = cpu.fpu.mant, s = (cpu.reg & 7) << 1;
  cpu.wr64(cpu.eaLin(8, true), m[s]!, m[s + 1]!);
  cpu.fpu.enterMmx();
}

/**
 * 0F F7 MASKMOVQ mm, mm / 66 0F F7 MASKMOVDQU xmm, xmm: stores the bytes of the first
 * operand whose mask byte has bit 7 set, at DS:rDI (segment override allowed). Every
 * selected byte is checked for writability before any is written.
 */
function maskmov(cpu: Cpu): void {
  if (cpu.rep !== 0) cpu.ud();
  const p66 = cpu.pfx66;
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) cpu.ud();
  const n = p66 ? 16 : 8;
  if (p66) { sseCheck(cpu, has(cpu, FE_SSE2)); loadXmmA(cpu, cpu.reg); loadXmmSrc(cpu, 16, false); }
  else {
    mmxCheck(cpu, has(cpu, FE_SSE));
    const m = cpu.fpu.mant, d = (cpu.reg & 7) << 1, s = (cpu.rm & 7) << 1;
    A[0] = m[d]!; A[1] = m[d + 1]!; B[0] = m[s]!; B[1] = m[s + 1]!;
  }
  const seg = cpu.segOvr >= 0 ? cpu.segOvr : DS;
  const lo = cpu.asz === 2 ? cpu.r[RDI << 1]! & 0xffff : cpu.r[RDI << 1]!;
  const hi = cpu.asz === 8 ? cpu.r[(RDI << 1) + 1]! : 0;
  let any = false;
  for (let i = 0; i < n; i++) if ((B8[i]! & 0x80) !== 0) any = true;
  if (any) {
    const lin = cpu.linear(seg, lo, hi, n, true);
    for (let i = 0; i < n; i++) if ((B8[i]! & 0x80) !== 0) cpu.translateData(lin + i, true);
    for (let i = 0; i < n; i++) if ((B8[i]! & 0x80) !== 0) cpu.wr8(lin + i, A8[i]!);
  }
  if (!p66) cpu.fpu.enterMmx();
}

/**
 * 0F 77 EMMS: marks every x87 register empty (SDM Vol. 2A EMMS). AMD processors also set TOP
 * to 0 (measured on this Zen 4: FSW.TOP = 4 before, 0 after; fpu/xsave-diff.test.ts), so the
 * nestvisor-amd profile does; Intel's EMMS leaves TOP as it is.
 */
function emms(cpu: Cpu): void {
  if (cpu.rep !== 0 || cpu.pfx66) cpu.ud();
  mmxCheck(cpu, has(cpu, FE_MMX));
  cpu.fpu.tag.fill(3);
  if (isAmd(cpu.profile)) cpu.fpu.top = 0;
}

/** F2 0F F0 LDDQU xmm, m128 (SSE3; unaligned, memory only). */
function lddqu(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  sseCheck(cpu, has(cpu, FE_SSE3));
  loadXmmSrc(cpu, 16, false);
  const x = cpu.fpu.xmm, o = cpu.reg << 2;
  x[o] = B[0]!; x[o + 1] = B[1]!; x[o + 2] = B[2]!; x[o + 3] = B[3]!;
}

export function installMove(t: Handler[]): void {
  void R8; void A16;
  def(t, 0x110, byPrefix(load128(FE_SSE, false), load128(FE_SSE2, false), movScalarLoad(4, FE_SSE), movScalarLoad(8, FE_SSE2)));
  def(t, 0x111, byPrefix(store128(FE_SSE, false), store128(FE_SSE2, false), movScalarStore(4, FE_SSE), movScalarStore(8, FE_SSE2)));
  def(t, 0x112, byPrefix(movHalfLoad(false, FE_SSE, true), movHalfLoad(false, FE_SSE2, false), dup(0), dup(2)));
  def(t, 0x113, byPrefix(movHalfStore(false, FE_SSE), movHalfStore(false, FE_SSE2), null, null));
  def(t, 0x114, byPrefix(xmmOp(unpcklps, FE_SSE), xmmOp(unpcklpd, FE_SSE2), null, null));
  def(t, 0x115, byPrefix(xmmOp(unpckhps, FE_SSE), xmmOp(unpckhpd, FE_SSE2), null, null));
  def(t, 0x116, byPrefix(movHalfLoad(true, FE_SSE, true), movHalfLoad(true, FE_SSE2, false), dup(1), null));
  def(t, 0x117, byPrefix(movHalfStore(true, FE_SSE), movHalfStore(true, FE_SSE2), null, null));
  def(t, 0x128, byPrefix(load128(FE_SSE, true), load128(FE_SSE2, true), null, null));
  def(t, 0x129, byPrefix(store128(FE_SSE, true), store128(FE_SSE2, true), null, null));
  def(t, 0x12b, byPrefix(store128(FE_SSE, true, true), store128(FE_SSE2, true, true), null, null));
  def(t, 0x150, byPrefix(movmsk(false), movmsk(true), null, null));
  def(t, 0x154, byPrefix(xmmOp(pand, FE_SSE), xmmOp(pand, FE_SSE2), null, null));
  def(t, 0x155, byPrefix(xmmOp(pandn, FE_SSE), xmmOp(pandn, FE_SSE2), null, null));
  def(t, 0x156, byPrefix(xmmOp(por, FE_SSE), xmmOp(por, FE_SSE2), null, null));
  def(t, 0x157, byPrefix(xmmOp(pxor, FE_SSE), xmmOp(pxor, FE_SSE2), null, null));
  def(t, 0x16e, movdLoad);
  def(t, 0x16f, byPrefix(movqMmLoad, load128(FE_SSE2, true), load128(FE_SSE2, false), null));
  def(t, 0x170, byPrefix(packed(pshufw, FE_SSE2, FE_SSE, 1), packed(pshufd, FE_SSE2, -1, 1), xmmOp(pshufhw, FE_SSE2, 1), xmmOp(pshuflw, FE_SSE2, 1)));
  def(t, 0x177, emms);
  def(t, 0x17e, movdStore);
  def(t, 0x17f, byPrefix(movqMmStore, store128(FE_SSE2, true), store128(FE_SSE2, false), null));
  def(t, 0x1c3, movnti);
  def(t, 0x1c4, pinsrw);
  def(t, 0x1c5, pextrw);
  def(t, 0x1c6, byPrefix(xmmOp(shufps, FE_SSE, 1), xmmOp(shufpd, FE_SSE2, 1), null, null));
  def(t, 0x1d6, byPrefix(null, movqStoreXmm, movq2dq, movdq2q));
  def(t, 0x1d7, pmovmskb);
  def(t, 0x1e7, byPrefix(movntq, store128(FE_SSE2, true, true), null, null));
  def(t, 0x1f0, byPrefix(null, null, null, lddqu));
  def(t, 0x1f7, maskmov);
}
