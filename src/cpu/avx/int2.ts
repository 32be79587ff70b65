/**
 * VEX integer instructions that are not a plain per-lane `op dst, src1, src2` (SDM Vol. 2
 * entries of the same names; AVX for VEX.128, AVX2 for VEX.256 unless said otherwise):
 *  - shifts by imm8, groups 0F 71/72/73: the DESTINATION is VEX.vvvv, the source the r/m
 *    register (VEX.NDD), ModRM.reg the operation; VPSRLDQ/VPSLLDQ shift each 128-bit lane;
 *  - VPMOVSX/VPMOVZX: the 256-bit form widens the low 16/8/4 bytes of its source to the
 *    whole register (not lane-wise); memory operands are the narrow source size;
 *  - VPMOVMSKB (32 mask bits for ymm), VPTEST (AVX at both lengths);
 *  - VPEXTRB/W/D/Q, VPINSRB/W/D/Q (VEX.128 only; VEX.W1 selects the quadword in 64-bit mode);
 *  - VPBLENDVB (the mask register in imm8[7:4]);
 *  - VMOVNTDQ (AVX), VMOVNTDQA (AVX2 for ymm): aligned to the operand size; VLDDQU;
 *  - VMASKMOVDQU (VEX.128 only, implicit DS:rDI);
 *  - VPCMPESTRI/ESTRM/ISTRI/ISTRM (VEX.128 only; VPCMPxSTRM zeroes YMM0 bits 255:128).
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { isAmd } from '../profile.js';
import { CF, ZF, RDI, DS } from '../regs.js';
import { A, B, R } from '../sse/common.js';
import { shift, byteShift } from '../sse/integer.js';
import { pcmpstrRun } from '../sse/sse42.js';
import {
  avxCheck, vsrc, getYmm, putYmm, zeroUpper, readMem, writeMem, loadRm, S1, S2, D, byPrefix, FE_AVX, FE_AVX2,
  NO_VVVV, L0_ONLY,
} from './common.js';

const S2u8 = new Uint8Array(S2.buffer), S2s8 = new Int8Array(S2.buffer);
const S2u16 = new Uint16Array(S2.buffer), S2s16 = new Int16Array(S2.buffer);
const S1u8 = new Uint8Array(S1.buffer), Du8 = new Uint8Array(D.buffer), Du16 = new Uint16Array(D.buffer);
/** A third 256-bit source: VPBLENDVB's mask register. */
const S3 = new Int32Array(8), S3u8 = new Uint8Array(S3.buffer);
const feL = (cpu: Cpu): number => (cpu.vexL !== 0 ? FE_AVX2 : FE_AVX);
const x66 = (h: Handler): Handler => byPrefix(null, h, null, null);

// ---- shifts by imm8 (0F 71/72/73, VEX.NDD) ---------------------------------------------------
/**
 * VEX.NDD.128/256.66.0F 71 /2 /4 /6 (W), 72 /2 /4 /6 (D), 73 /2 /3 /6 /7 (Q, DQ) ib:
 * `op vvvv, r/m register, imm8`. Memory forms and other ModRM.reg values are #UD (VEX has
 * no memory form of these; SDM Vol. 2 PSLLW etc. "VEX.NDD" rows).
 */
function shiftImm(elem: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(1);
    const op = (cpu.modrmByte >> 3) & 7;
    const ok = op === 2 || op === 6 || (op === 4 && elem !== 8) || (elem === 8 && (op === 3 || op === 7));
    if (cpu.mod !== 3 || !ok) cpu.ud();
    avxCheck(cpu, feL(cpu), 0);
    const imm = cpu.fetch8(), l = cpu.vexL;
    getYmm(cpu, cpu.rm, S1);
    for (let lane = 0; lane <= l; lane++) {
      const o = lane << 2;
      A[0] = S1[o]!; A[1] = S1[o + 1]!; A[2] = S1[o + 2]!; A[3] = S1[o + 3]!;
      if (op === 3 || op === 7) byteShift(16, imm, op === 7);
      else shift(16, elem, op === 2 ? 0 : op === 4 ? 1 : 2, imm);
      D[o] = R[0]!; D[o + 1] = R[1]!; D[o + 2] = R[2]!; D[o + 3] = R[3]!;
    }
    putYmm(cpu, vsrc(cpu), D, l);
  };
}

// ---- VPMOVSX / VPMOVZX (0F 38 20-25, 30-35) -----------------------------------------------------
/**
 * `vpmov{sx,zx}{from→to} xmm1|ymm1, xmm2/m`: elements of `from` bytes from the low end of
 * the source, sign- or zero-extended to `to` bytes, filling 16 or 32 bytes. The memory
 * operand is exactly the bytes used (m16..m128), with no alignment requirement.
 */
function pmov(from: number, to: number, signed: boolean): Handler {
  return x66((cpu) => {
    cpu.decodeModrm(0);
    avxCheck(cpu, feL(cpu), NO_VVVV);
    const l = cpu.vexL, n = (16 << l) / to, bytes = n * from;
    if (cpu.mod === 3) getYmm(cpu, cpu.rm, S2);
    else if (bytes === 2) { S2.fill(0); S2[0] = cpu.rd16(cpu.eaLin(2, false)); }
    else readMem(cpu, bytes, false, S2);
    for (let i = 0; i < n; i++) {
      let v: number;
      if (from === 1) v = signed ? S2s8[i]! : S2u8[i]!;
      else if (from === 2) v = signed ? S2s16[i]! : S2u16[i]!;
      else v = signed ? S2[i]! : S2[i]! >>> 0;
      if (to === 2) Du16[i] = v;
      else if (to === 4) D[i] = v | 0;
      else { D[2 * i] = v | 0; D[2 * i + 1] = v < 0 ? -1 : 0; }
    }
    putYmm(cpu, cpu.reg, D, l);
  });
}

// ---- masks and tests ---------------------------------------------------------------------------
/** 66 0F D7 VPMOVMSKB r32|r64, xmm1|ymm1: the byte sign bits, zero-extended (register forms only). */
function vpmovmskb(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) cpu.ud();
  avxCheck(cpu, feL(cpu), NO_VVVV);
  getYmm(cpu, cpu.rm, S1);
  let v = 0;
  for (let i = (16 << cpu.vexL) - 1; i >= 0; i--) v = (v << 1) | (S1u8[i]! >> 7);
  cpu.setRegSz(cpu.reg, 4, v, 0);
}

/** 66 0F 38 17 VPTEST xmm1|ymm1, xmm2|ymm2/m: ZF = (src1 AND src2) = 0, CF = (NOT src1 AND src2) = 0, AF OF PF SF = 0 (AVX at both lengths). */
function vptest(cpu: Cpu): void {
  cpu.decodeModrm(0);
  avxCheck(cpu, FE_AVX, NO_VVVV);
  const l = cpu.vexL;
  getYmm(cpu, cpu.reg, S1);
  loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
  let and = 0, andn = 0;
  for (let i = 0; i < 4 << l; i++) { and |= S1[i]! & S2[i]!; andn |= ~S1[i]! & S2[i]!; }
  cpu.setArith((and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
}

// ---- element extract and insert (VEX.128 only) ----------------------------------------------
/** Element size of VPEXTRD/Q and VPINSRD/Q: VEX.W1 selects the quadword in 64-bit mode only. */
const dq = (cpu: Cpu): number => (cpu.code64 && cpu.rexW ? 8 : 4);
/**
 * VPEXTRQ/VPINSRQ (VEX.W1) outside 64-bit mode: the SDM lists them for 64-bit mode only ("N.E."
 * in the compatibility/legacy column) and the nestvisor-intel profile runs them as the D forms
 * (W ignored; Intel's behaviour is not measured here); AMD Zen 4 raises #UD (measured in
 * compatibility mode by avx/avx32-diff.test.ts), as nestvisor-amd does.
 */
function noQOutside64(cpu: Cpu): void {
  if (cpu.rexW && !cpu.code64 && isAmd(cpu.profile)) cpu.ud();
}

/**
 * 66 0F 3A 14 VPEXTRB, 15 VPEXTRW, 16 VPEXTRD/Q `r/m, xmm1, imm8` and 66 0F C5 VPEXTRW
 * `r32, xmm1, imm8` (register source only, `c5` = true): a register destination gets the
 * element zero-extended (to 64 bits in 64-bit mode).
 */
function vpextr(size: number, c5: boolean): Handler {
  return x66((cpu) => {
    cpu.decodeModrm(1);
    if (c5 && cpu.mod !== 3) cpu.ud();
    if (size === 4) noQOutside64(cpu);
    avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
    const imm = cpu.fetch8();
    const sz = size === 4 ? dq(cpu) : size;
    const f = cpu.fpu, s = c5 ? cpu.rm : cpu.reg;
    let lo: number, hi = 0;
    if (sz === 1) lo = f.xmmU8[(s << 4) + (imm & 15)]!;
    else if (sz === 2) lo = f.xmmU16[(s << 3) + (imm & 7)]!;
    else if (sz === 4) lo = f.xmm[(s << 2) + (imm & 3)]!;
    else { const o = (s << 2) + (imm & 1) * 2; lo = f.xmm[o]!; hi = f.xmm[o + 1]!; }
    if (c5) cpu.setRegSz(cpu.reg, 4, lo, 0);
    else if (cpu.mod === 3) cpu.setRegSz(cpu.rm, sz === 8 ? 8 : 4, lo, hi);
    else cpu.wrSz(cpu.eaLin(sz, true), sz, lo, hi);
  });
}

/**
 * 66 0F 3A 20 VPINSRB `xmm1, xmm2, r32/m8, imm8`, 66 0F C4 VPINSRW (r32/m16), 66 0F 3A 22
 * VPINSRD/Q (r/m32|64): xmm1 = xmm2 (vvvv) with one element replaced; bits 255:128 zeroed.
 */
function vpinsr(size: number): Handler {
  return x66((cpu) => {
    cpu.decodeModrm(1);
    if (size === 4) noQOutside64(cpu);
    avxCheck(cpu, FE_AVX, L0_ONLY);
    const imm = cpu.fetch8();
    const sz = size === 4 ? dq(cpu) : size;
    let lo: number, hi = 0;
    if (cpu.mod === 3) { lo = cpu.r[cpu.rm << 1]!; hi = cpu.r[(cpu.rm << 1) + 1]!; }
    else { lo = cpu.rdSz(cpu.eaLin(sz, false), sz); hi = sz === 8 ? cpu.hi : 0; }
    getYmm(cpu, vsrc(cpu), D);
    if (sz === 1) Du8[imm & 15] = lo;
    else if (sz === 2) Du16[imm & 7] = lo;
    else if (sz === 4) D[imm & 3] = lo;
    else { D[(imm & 1) * 2] = lo; D[(imm & 1) * 2 + 1] = hi; }
    putYmm(cpu, cpu.reg, D, 0);
  });
}

// ---- VPBLENDVB (66 0F 3A 4C /is4) ----------------------------------------------------------
/**
 * VPBLENDVB xmm1|ymm1, xmm2 (vvvv), xmm3/m, xmm4 (imm8[7:4]; imm8[7] ignored outside 64-bit
 * mode): each byte from src2 where the mask byte's bit 7 is set, else from src1. VEX.W1 is #UD.
 */
function vpblendvb(cpu: Cpu): void {
  cpu.decodeModrm(1);
  if (cpu.rexW) cpu.ud(); // VEX.W0 only (SDM Vol. 2 PBLENDVB, "#UD If VEX.W = 1")
  avxCheck(cpu, feL(cpu), 0);
  const imm = cpu.fetch8(), l = cpu.vexL;
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
  getYmm(cpu, cpu.code64 ? imm >> 4 : (imm >> 4) & 7, S3);
  for (let i = 0; i < 16 << l; i++) Du8[i] = (S3u8[i]! & 0x80) !== 0 ? S2u8[i]! : S1u8[i]!;
  putYmm(cpu, cpu.reg, D, l);
}

// ---- non-temporal moves, VLDDQU, VMASKMOVDQU -------------------------------------------------
/** 66 0F E7 VMOVNTDQ m128|m256, xmm1|ymm1 (AVX; aligned to the operand size; memory only). */
function vmovntdq(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  avxCheck(cpu, FE_AVX, NO_VVVV);
  getYmm(cpu, cpu.reg, D);
  writeMem(cpu, 16 << cpu.vexL, true, D);
}
/**
 * 66 0F 38 2A VMOVNTDQA xmm1|ymm1, m128|m256 (aligned; AVX2 for ymm) and F2 0F F0 VLDDQU
 * (unaligned; AVX at both lengths): memory-only loads.
 */
function loadOnly(aligned: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (cpu.mod === 3) cpu.ud();
    avxCheck(cpu, aligned ? feL(cpu) : FE_AVX, NO_VVVV);
    const l = cpu.vexL;
    readMem(cpu, 16 << l, aligned, D);
    putYmm(cpu, cpu.reg, D, l);
  };
}

/**
 * 66 0F F7 VMASKMOVDQU xmm1, xmm2 (VEX.128 only, register operands): the bytes of xmm1
 * whose xmm2 byte has bit 7 set are stored at DS:rDI (segment override allowed); every
 * selected byte is checked for writing before any is written.
 */
function vmaskmovdqu(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) cpu.ud();
  avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
  getYmm(cpu, cpu.reg, S1);
  getYmm(cpu, cpu.rm, S2);
  let any = false;
  for (let i = 0; i < 16; i++) if ((S2u8[i]! & 0x80) !== 0) any = true;
  if (!any) return;
  const seg = cpu.segOvr >= 0 ? cpu.segOvr : DS;
  const lo = cpu.asz === 2 ? cpu.r[RDI << 1]! & 0xffff : cpu.r[RDI << 1]!;
  const hi = cpu.asz === 8 ? cpu.r[(RDI << 1) + 1]! : 0;
  const lin = cpu.linear(seg, lo, hi, 16, true);
  for (let i = 0; i < 16; i++) if ((S2u8[i]! & 0x80) !== 0) cpu.translateData(lin + i, true);
  for (let i = 0; i < 16; i++) if ((S2u8[i]! & 0x80) !== 0) cpu.wr8(lin + i, S1u8[i]!);
}

// ---- VPCMPxSTRx (66 0F 3A 60-63, VEX.128 only) -------------------------------------------------
/**
 * VPCMPESTRM/ESTRI/ISTRM/ISTRI xmm1, xmm2/m128, imm8: the SSE4.2 operation (sse42.ts), no
 * alignment; VEX.W1 takes the explicit lengths from RAX/RDX in 64-bit mode; the mask forms
 * write XMM0 and zero YMM0 bits 255:128 (a VEX.128 destination).
 */
function vpcmpstr(explicit: boolean, index: boolean): Handler {
  return x66((cpu) => {
    cpu.decodeModrm(1);
    avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
    const imm = cpu.fetch8();
    loadRm(cpu, 16, false, S2);
    const x = cpu.fpu.xmm, o = cpu.reg << 2;
    A[0] = x[o]!; A[1] = x[o + 1]!; A[2] = x[o + 2]!; A[3] = x[o + 3]!;
    B[0] = S2[0]!; B[1] = S2[1]!; B[2] = S2[2]!; B[3] = S2[3]!;
    pcmpstrRun(cpu, explicit, index, imm, cpu.code64 && cpu.rexW);
    if (!index) zeroUpper(cpu, 0);
  });
}

const M1 = 0x400, M2 = 0x500, M3 = 0x600;

export function installAvxInt2(t: Handler[]): void {
  def(t, M1 | 0x71, x66(shiftImm(2)));
  def(t, M1 | 0x72, x66(shiftImm(4)));
  def(t, M1 | 0x73, x66(shiftImm(8)));
  for (let k = 0; k < 2; k++) {
    const base = M2 | (k === 0 ? 0x20 : 0x30), s = k === 0;
    def(t, base | 0, pmov(1, 2, s)); def(t, base | 1, pmov(1, 4, s)); def(t, base | 2, pmov(1, 8, s));
    def(t, base | 3, pmov(2, 4, s)); def(t, base | 4, pmov(2, 8, s)); def(t, base | 5, pmov(4, 8, s));
  }
  def(t, M1 | 0xd7, x66(vpmovmskb));
  def(t, M2 | 0x17, x66(vptest));
  def(t, M1 | 0xc4, vpinsr(2));
  def(t, M1 | 0xc5, vpextr(2, true));
  def(t, M3 | 0x14, vpextr(1, false));
  def(t, M3 | 0x15, vpextr(2, false));
  def(t, M3 | 0x16, vpextr(4, false));
  def(t, M3 | 0x20, vpinsr(1));
  def(t, M3 | 0x22, vpinsr(4));
  def(t, M3 | 0x4c, x66(vpblendvb));
  def(t, M1 | 0xe7, x66(vmovntdq));
  def(t, M2 | 0x2a, x66(loadOnly(true)));
  def(t, M1 | 0xf0, byPrefix(null, null, null, loadOnly(false)));
  def(t, M1 | 0xf7, x66(vmaskmovdqu));
  def(t, M3 | 0x60, vpcmpstr(true, false));
  def(t, M3 | 0x61, vpcmpstr(true, true));
  def(t, M3 | 0x62, vpcmpstr(false, false));
  def(t, M3 | 0x63, vpcmpstr(false, true));
}
