/**
 * SSE4.1 integer and data-movement instructions (SDM Vol. 2 entries of these names):
 * PBLENDVB/BLENDVPS/BLENDVPD (implicit XMM0 mask), PBLENDW/BLENDPS/BLENDPD, PTEST,
 * PMOVSX/PMOVZX (BW BD BQ WD WQ DQ), PMULDQ, PMULLD, PCMPEQQ, PACKUSDW, PMINSB/SD/UW/UD, PMAXSB/SD/UW/UD,
 * PHMINPOSUW, MOVNTDQA, MPSADBW, PEXTRB/W/D/Q, EXTRACTPS, PINSRB/D/Q, INSERTPS; and SSE4.2's
 * PCMPGTQ. All are 66-prefixed XMM forms; m128 operands must be 16-byte aligned (#GP(0)),
 * the narrower memory operands of PMOVSX/ZX, PEXTR*, PINSR* and INSERTPS need not be.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { CF, ZF } from '../regs.js';
import {
  A, B, R, A8, B8, R8, A8s, B8s, A16, B16, R16, A16s, B16s, byPrefix, sseCheck, has, loadXmmSrc, loadXmmA, storeXmmR,
  checkAlign16, rd128, FE_SSE41, FE_SSE42, type Kernel,
} from './common.js';

const R16s = new Int16Array(R.buffer), R8s = new Int8Array(R.buffer);
/** XMM0, the implicit mask of the variable blends. */
const M = new Int32Array(4), M8 = new Uint8Array(M.buffer);

/** `66 0F 38|3A op xmm, xmm/m(msize)[, imm8]`; F2/F3/no prefix are #UD. */
export function x66(k: Kernel, fe: number, immBytes = 0, msize = 16): Handler {
  return byPrefix(null, (cpu) => {
    cpu.decodeModrm(immBytes);
    sseCheck(cpu, has(cpu, fe));
    const imm = immBytes ? cpu.fetch8() : 0;
    loadXmmSrc(cpu, msize, true);
    loadXmmA(cpu, cpu.reg);
    const x = cpu.fpu.xmm;
    M[0] = x[0]!; M[1] = x[1]!; M[2] = x[2]!; M[3] = x[3]!;
    k(16, imm);
    storeXmmR(cpu, cpu.reg);
  }, null, null);
}

// ---- blends ---------------------------------------------------------------------------------
const pblendvb: Kernel = () => { for (let i = 0; i < 16; i++) R8[i] = (M8[i]! & 0x80) !== 0 ? B8[i]! : A8[i]!; };
const blendvps: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = M[i]! < 0 ? B[i]! : A[i]!; };
const blendvpd: Kernel = () => { for (let i = 0; i < 4; i += 2) { const s = M[i + 1]! < 0; R[i] = s ? B[i]! : A[i]!; R[i + 1] = s ? B[i + 1]! : A[i + 1]!; } };
const blendps: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R[i] = (imm >> i) & 1 ? B[i]! : A[i]!; };
const blendpd: Kernel = (_n, imm) => { for (let i = 0; i < 4; i++) R[i] = (imm >> (i >> 1)) & 1 ? B[i]! : A[i]!; };
export const pblendw: Kernel = (_n, imm) => { for (let i = 0; i < 8; i++) R16[i] = (imm >> i) & 1 ? B16[i]! : A16[i]!; };

// ---- widening moves: PMOVSX/PMOVZX (source in the low bytes of B) ----------------------------
function pmov(from: number, to: number, signed: boolean): Kernel {
  return () => {
    const n = 16 / to;
    for (let i = 0; i < n; i++) {
      let v: number;
      if (from === 1) v = signed ? B8s[i]! : B8[i]!;
      else if (from === 2) v = signed ? B16s[i]! : B16[i]!;
      else v = signed ? B[i]! : B[i]! >>> 0;
      if (to === 2) R16[i] = v;
      else if (to === 4) R[i] = v | 0;
      else { R[2 * i] = v | 0; R[2 * i + 1] = v < 0 ? -1 : 0; }
    }
  };
}

// ---- arithmetic, compares, packs -------------------------------------------------------------
/** PMULDQ: signed 32×32 → 64 of dwords 0 and 2 (unsigned product, then the sign corrections). */
export const pmuldq: Kernel = () => {
  for (let i = 0; i < 4; i += 2) {
    const a = A[i]!, b = B[i]!, au = a >>> 0, bu = b >>> 0;
    const al = au & 0xffff, ah = au >>> 16, bl = bu & 0xffff, bh = bu >>> 16;
    const ll = al * bl, mid = ah * bl + al * bh;
    const lo = ll + (mid % 65536) * 65536;
    let hi = ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296);
    if (a < 0) hi -= bu;
    if (b < 0) hi -= au;
    R[i] = lo | 0; R[i + 1] = hi | 0;
  }
};
export const pmulld: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = Math.imul(A[i]!, B[i]!); };
export const pcmpeqq: Kernel = () => { for (let i = 0; i < 4; i += 2) { const e = A[i] === B[i] && A[i + 1] === B[i + 1] ? -1 : 0; R[i] = e; R[i + 1] = e; } };
/** PCMPGTQ (SSE4.2): signed 64-bit greater-than. */
export const pcmpgtq: Kernel = () => {
  for (let i = 0; i < 4; i += 2) {
    const ah = A[i + 1]!, bh = B[i + 1]!;
    const gt = ah > bh || (ah === bh && (A[i]! >>> 0) > (B[i]! >>> 0)) ? -1 : 0;
    R[i] = gt; R[i + 1] = gt;
  }
};
const usat16 = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);
export const packusdw: Kernel = () => { for (let i = 0; i < 4; i++) { R16[i] = usat16(A[i]!); R16[4 + i] = usat16(B[i]!); } };
export const pminsb: Kernel = () => { for (let i = 0; i < 16; i++) R8s[i] = Math.min(A8s[i]!, B8s[i]!); };
export const pmaxsb: Kernel = () => { for (let i = 0; i < 16; i++) R8s[i] = Math.max(A8s[i]!, B8s[i]!); };
export const pminuw: Kernel = () => { for (let i = 0; i < 8; i++) R16[i] = Math.min(A16[i]!, B16[i]!); };
export const pmaxuw: Kernel = () => { for (let i = 0; i < 8; i++) R16[i] = Math.max(A16[i]!, B16[i]!); };
export const pminsd: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = Math.min(A[i]!, B[i]!); };
export const pmaxsd: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = Math.max(A[i]!, B[i]!); };
export const pminud: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = (A[i]! >>> 0) < (B[i]! >>> 0) ? A[i]! : B[i]!; };
export const pmaxud: Kernel = () => { for (let i = 0; i < 4; i++) R[i] = (A[i]! >>> 0) > (B[i]! >>> 0) ? A[i]! : B[i]!; };
/** PHMINPOSUW: the smallest unsigned word of the source and its (lowest) index; the rest zero. */
export const phminposuw: Kernel = () => {
  let m = B16[0]!, k = 0;
  for (let i = 1; i < 8; i++) if (B16[i]! < m) { m = B16[i]!; k = i; }
  R[0] = m | (k << 16); R[1] = 0; R[2] = 0; R[3] = 0;
};
/** MPSADBW: eight sums of absolute differences of 4-byte groups (offsets from imm8[2] and imm8[1:0]). */
export const mpsadbw: Kernel = (_n, imm) => {
  const ao = (imm & 4) << 0, bo = (imm & 3) * 4;
  for (let i = 0; i < 8; i++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += Math.abs(A8[ao + i + j]! - B8[bo + j]!);
    R16[i] = s;
  }
};

// ---- PTEST and MOVNTDQA -------------------------------------------------------------------
/** 66 0F 38 17 PTEST: ZF = (dst AND src) = 0, CF = (NOT dst AND src) = 0; AF OF PF SF cleared. */
function ptest(cpu: Cpu): void {
  cpu.decodeModrm(0);
  sseCheck(cpu, has(cpu, FE_SSE41));
  loadXmmSrc(cpu, 16, true);
  loadXmmA(cpu, cpu.reg);
  let and = 0, andn = 0;
  for (let i = 0; i < 4; i++) { and |= A[i]! & B[i]!; andn |= ~A[i]! & B[i]!; }
  cpu.setArith((and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
}
/** 66 0F 38 2A MOVNTDQA xmm, m128: an aligned load (the streaming hint has no effect here). */
function movntdqa(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  sseCheck(cpu, has(cpu, FE_SSE41));
  const lin = cpu.eaLin(16, false);
  checkAlign16(cpu, lin);
  rd128(cpu, lin, B);
  const x = cpu.fpu.xmm, o = cpu.reg << 2;
  x[o] = B[0]!; x[o + 1] = B[1]!; x[o + 2] = B[2]!; x[o + 3] = B[3]!;
}

// ---- element extract and insert -----------------------------------------------------------
/**
 * PEXTRB (14), PEXTRW (15), PEXTRD/PEXTRQ (16, REX.W), EXTRACTPS (17): `op r/m, xmm, imm8`.
 * A register destination gets the element zero-extended to 32 bits (64 for PEXTRQ).
 */
function extract(size: number): Handler {
  return byPrefix(null, (cpu) => {
    cpu.decodeModrm(1);
    sseCheck(cpu, has(cpu, FE_SSE41));
    const imm = cpu.fetch8();
    const sz = size === 4 && cpu.rexW && cpu.code64 && cpu.opcode === 0x316 ? 8 : size;
    const f = cpu.fpu, s = cpu.reg;
    let lo: number, hi = 0;
    if (sz === 1) lo = f.xmmU8[(s << 4) + (imm & 15)]!;
    else if (sz === 2) lo = f.xmmU16[(s << 3) + (imm & 7)]!;
    else if (sz === 4) lo = f.xmm[(s << 2) + (imm & 3)]!;
    else { const o = (s << 2) + (imm & 1) * 2; lo = f.xmm[o]!; hi = f.xmm[o + 1]!; }
    if (cpu.mod === 3) cpu.setRegSz(cpu.rm, sz === 8 ? 8 : 4, lo, hi);
    else cpu.wrSz(cpu.eaLin(sz, true), sz, lo, hi);
  }, null, null);
}
/** PINSRB (20) xmm, r32/m8; PINSRD/PINSRQ (22, REX.W) xmm, r/m32|64; INSERTPS (21) xmm, xmm/m32. */
function insert(kind: number): Handler {
  return byPrefix(null, (cpu) => {
    cpu.decodeModrm(1);
    sseCheck(cpu, has(cpu, FE_SSE41));
    const imm = cpu.fetch8();
    const f = cpu.fpu, d = cpu.reg;
    if (kind === 1) {
      const v = cpu.mod === 3 ? cpu.r[cpu.rm << 1]! & 0xff : cpu.rd8(cpu.eaLin(1, false));
      f.xmmU8[(d << 4) + (imm & 15)] = v;
    } else if (kind === 4) {
      if (cpu.rexW && cpu.code64) {
        const lo = cpu.readE(8), hi = cpu.hi, o = (d << 2) + (imm & 1) * 2;
        f.xmm[o] = lo; f.xmm[o + 1] = hi;
      } else f.xmm[(d << 2) + (imm & 3)] = cpu.readE(4);
    } else {
      // INSERTPS: source lane imm8[7:6] (register form), destination lane imm8[5:4], zero mask imm8[3:0]
      const v = cpu.mod === 3 ? f.xmm[(cpu.rm << 2) + (imm >> 6)]! : cpu.rd32(cpu.eaLin(4, false));
      const o = d << 2;
      f.xmm[o + ((imm >> 4) & 3)] = v;
      for (let i = 0; i < 4; i++) if ((imm >> i) & 1) f.xmm[o + i] = 0;
    }
  }, null, null);
}

export function installSse41Int(t: Handler[]): void {
  void A16s; void B8s; void R16s;
  const k38: Array<[number, Kernel, number?]> = [
    [0x10, pblendvb], [0x14, blendvps], [0x15, blendvpd],
    [0x20, pmov(1, 2, true), 8], [0x21, pmov(1, 4, true), 4], [0x22, pmov(1, 8, true), 2],
    [0x23, pmov(2, 4, true), 8], [0x24, pmov(2, 8, true), 4], [0x25, pmov(4, 8, true), 8],
    [0x30, pmov(1, 2, false), 8], [0x31, pmov(1, 4, false), 4], [0x32, pmov(1, 8, false), 2],
    [0x33, pmov(2, 4, false), 8], [0x34, pmov(2, 8, false), 4], [0x35, pmov(4, 8, false), 8],
    [0x28, pmuldq], [0x29, pcmpeqq], [0x2b, packusdw],
    [0x38, pminsb], [0x39, pminsd], [0x3a, pminuw], [0x3b, pminud],
    [0x3c, pmaxsb], [0x3d, pmaxsd], [0x3e, pmaxuw], [0x3f, pmaxud], [0x40, pmulld], [0x41, phminposuw],
  ];
  for (const [op, k, ms] of k38) def(t, 0x200 | op, x66(k, FE_SSE41, 0, ms ?? 16));
  def(t, 0x237, x66(pcmpgtq, FE_SSE42));
  def(t, 0x217, byPrefix(null, ptest, null, null));
  def(t, 0x22a, byPrefix(null, movntdqa, null, null));
  def(t, 0x30c, x66(blendps, FE_SSE41, 1));
  def(t, 0x30d, x66(blendpd, FE_SSE41, 1));
  def(t, 0x30e, x66(pblendw, FE_SSE41, 1));
  def(t, 0x342, x66(mpsadbw, FE_SSE41, 1));
  def(t, 0x314, extract(1)); def(t, 0x315, extract(2)); def(t, 0x316, extract(4)); def(t, 0x317, extract(4));
  def(t, 0x320, insert(1)); def(t, 0x321, insert(0)); def(t, 0x322, insert(4));
}
