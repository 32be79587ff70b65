/**
 * VEX forms of the SSE2/SSSE3/SSE4.1/SSE4.2 packed-integer instructions whose 256-bit form
 * is the 128-bit operation on each lane (SDM Vol. 2 entries of the same names, Vol. 1
 * §14.1 "in-lane" operation): VEX.128 needs AVX, VEX.256 AVX2; all are 66-prefixed
 * (VPSHUFHW F3, VPSHUFLW F2) and take no alignment (Vol. 2 §2.4). The AES-NI and
 * PCLMULQDQ VEX.128 forms are here too (AVX and AES / PCLMULQDQ; no 256-bit form without
 * VAES / VPCLMULQDQ, which no profile advertises: L = 1 is #UD). The kernels are the
 * legacy SSE ones (sse/*.ts), run through `intOp`, a lane driver like common.ts `vexOp`
 * with three extras the integer set needs: a 128-bit shift count shared by both lanes,
 * VMPSADBW's per-lane imm8 field, and a second CPUID feature (AES, PCLMULQDQ).
 * The non-lane-wise instructions (shifts by imm8, VPMOVSX/ZX, VPMOVMSKB, VPTEST, extracts
 * and inserts, VPBLENDVB, non-temporal moves, VMASKMOVDQU, VPCMPxSTRx) are in int2.ts.
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, B, R, has, FE_AES, FE_PCLMUL, type Kernel } from '../sse/common.js';
import {
  psubb, psubw, psubd, psubq, paddsb, paddsw, paddusb, paddusw, psubsb, psubsw, psubusb, psubusw,
  pmullw, pmulhw, pmulhuw, pmuludq, pmaddwd, psadbw, pavgb, pavgw, pminub, pmaxub, pminsw, pmaxsw,
  pcmpgtb, pcmpgtw, pcmpgtd, punpcklbw, punpcklwd, punpckldq, punpcklqdq, punpckhbw, punpckhwd,
  punpckhdq, punpckhqdq, packsswb, packuswb, packssdw, shiftBy,
} from '../sse/integer.js';
import { pshufb, pmaddubsw, pmulhrsw, psignb, psignw, psignd, pabsb, pabsw, pabsd, palignr, hw, hd } from '../sse/ssse3.js';
import {
  pblendw, pmuldq, pmulld, pcmpgtq, packusdw, pminsb, pmaxsb, pminuw, pmaxuw, pminsd, pmaxsd, pminud, pmaxud,
  phminposuw, mpsadbw,
} from '../sse/sse41-int.js';
import { pshufd, pshuflw, pshufhw } from '../sse/move.js';
import { aesimc, keygen, pclmul, round } from '../sse/aes.js';
import { avxCheck, vsrc, getYmm, putYmm, loadRm, S1, S2, D, byPrefix, FE_AVX, FE_AVX2, NO_VVVV, L0_ONLY } from './common.js';

/** intOp flags. */
export const I_UNARY = 1;  // no vvvv operand (must be 1111b)
export const I_128 = 2;    // no 256-bit form: VEX.L = 1 is #UD
export const I_COUNT = 4;  // src2 is xmm3/m128 for both lanes (VPSLLW..VPSRAD ymm, ymm, xmm/m128)
export const I_IMM3 = 8;   // lane 1 uses imm8 >> 3 (VMPSADBW ymm: imm8[5:3], SDM Vol. 2 MPSADBW)

/**
 * Handler of `op dst, src1 (vvvv), src2 (r/m)[, imm8]` from a 128-bit kernel, like
 * common.ts vexOp: decodeModrm, the extra CPUID feature `extra` (sse/common.ts FE_*, −1
 * none), avxCheck (AVX for L = 0, AVX2 for L = 1), imm8, both sources read completely
 * (16 or 32 bytes, or 16 for a shift count), the kernel on each 128-bit lane, the result
 * stored with bits 255:128 zeroed for VEX.128. Built once at install time.
 */
export function intOp(k: Kernel, flags = 0, immBytes = 0, extra = -1): Handler {
  const unary = (flags & I_UNARY) !== 0, count = (flags & I_COUNT) !== 0, imm3 = (flags & I_IMM3) !== 0;
  const rules = (unary ? NO_VVVV : 0) | ((flags & I_128) !== 0 ? L0_ONLY : 0);
  return (cpu) => {
    cpu.decodeModrm(immBytes);
    if (extra >= 0 && has(cpu, extra) === 0) cpu.ud();
    const l = cpu.vexL;
    avxCheck(cpu, l !== 0 ? FE_AVX2 : FE_AVX, rules);
    const imm = immBytes !== 0 ? cpu.fetch8() : 0;
    if (unary) S1.fill(0); else getYmm(cpu, vsrc(cpu), S1);
    loadRm(cpu, l !== 0 && !count ? 32 : 16, false, S2);
    for (let lane = 0; lane <= l; lane++) {
      const o = lane << 2, ob = count ? 0 : o;
      A[0] = S1[o]!; A[1] = S1[o + 1]!; A[2] = S1[o + 2]!; A[3] = S1[o + 3]!;
      B[0] = S2[ob]!; B[1] = S2[ob + 1]!; B[2] = S2[ob + 2]!; B[3] = S2[ob + 3]!;
      k(16, imm3 && lane !== 0 ? imm >> 3 : imm);
      D[o] = R[0]!; D[o + 1] = R[1]!; D[o + 2] = R[2]!; D[o + 3] = R[3]!;
    }
    putYmm(cpu, cpu.reg, D, l);
  };
}

/** The 66-prefixed form only (VEX.pp = 01); other pp values are #UD. */
const x66 = (h: Handler): Handler => byPrefix(null, h, null, null);

const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

const M1 = 0x400, M2 = 0x500, M3 = 0x600;

export function installAvxInt(t: Handler[]): void {
  // map 1 (0F): SSE2 lane-wise arithmetic, compares, packs, unpacks, shifts by xmm/m128
  const m1: Array<[number, Kernel, number?]> = [
    [0x60, punpcklbw], [0x61, punpcklwd], [0x62, punpckldq], [0x63, packsswb], [0x64, pcmpgtb], [0x65, pcmpgtw],
    [0x66, pcmpgtd], [0x67, packuswb], [0x68, punpckhbw], [0x69, punpckhwd], [0x6a, punpckhdq], [0x6b, packssdw],
    [0x6c, punpcklqdq], [0x6d, punpckhqdq],
    [0xd1, shiftBy(2, 0), I_COUNT], [0xd2, shiftBy(4, 0), I_COUNT], [0xd3, shiftBy(8, 0), I_COUNT],
    [0xd5, pmullw], [0xd8, psubusb], [0xd9, psubusw], [0xda, pminub], [0xdc, paddusb], [0xdd, paddusw], [0xde, pmaxub],
    [0xe0, pavgb], [0xe1, shiftBy(2, 1), I_COUNT], [0xe2, shiftBy(4, 1), I_COUNT], [0xe3, pavgw], [0xe4, pmulhuw],
    [0xe5, pmulhw], [0xe8, psubsb], [0xe9, psubsw], [0xea, pminsw], [0xec, paddsb], [0xed, paddsw], [0xee, pmaxsw],
    [0xf1, shiftBy(2, 2), I_COUNT], [0xf2, shiftBy(4, 2), I_COUNT], [0xf3, shiftBy(8, 2), I_COUNT],
    [0xf4, pmuludq], [0xf5, pmaddwd], [0xf6, psadbw], [0xf8, psubb], [0xf9, psubw], [0xfa, psubd], [0xfb, psubq],
  ];
  for (const [op, k, f] of m1) def(t, M1 | op, x66(intOp(k, f ?? 0)));
  // 0F 70: VPSHUFD (66), VPSHUFHW (F3), VPSHUFLW (F2) xmm1, xmm2/m128, imm8 — no vvvv
  def(t, M1 | 0x70, byPrefix(null, intOp(pshufd, I_UNARY, 1), intOp(pshufhw, I_UNARY, 1), intOp(pshuflw, I_UNARY, 1)));

  // map 2 (0F 38): SSSE3 and SSE4.1/4.2 lane-wise operations
  const m2: Array<[number, Kernel, number?]> = [
    [0x00, pshufb], [0x01, hw((x, y) => x + y)], [0x02, hd(false)], [0x03, hw((x, y) => sat16s(x + y))],
    [0x04, pmaddubsw], [0x05, hw((x, y) => x - y)], [0x06, hd(true)], [0x07, hw((x, y) => sat16s(x - y))],
    [0x08, psignb], [0x09, psignw], [0x0a, psignd], [0x0b, pmulhrsw],
    [0x1c, pabsb, I_UNARY], [0x1d, pabsw, I_UNARY], [0x1e, pabsd, I_UNARY],
    [0x28, pmuldq], [0x2b, packusdw], [0x37, pcmpgtq],
    [0x38, pminsb], [0x39, pminsd], [0x3a, pminuw], [0x3b, pminud],
    [0x3c, pmaxsb], [0x3d, pmaxsd], [0x3e, pmaxuw], [0x3f, pmaxud], [0x40, pmulld],
    [0x41, phminposuw, I_UNARY | I_128],
  ];
  for (const [op, k, f] of m2) def(t, M2 | op, x66(intOp(k, f ?? 0)));
  // VAESIMC xmm1, xmm2/m128 (no vvvv); VAESENC/ENCLAST/DEC/DECLAST xmm1, xmm2, xmm3/m128
  def(t, M2 | 0xdb, x66(intOp(aesimc, I_UNARY | I_128, 0, FE_AES)));
  def(t, M2 | 0xdc, x66(intOp(round(false, false), I_128, 0, FE_AES)));
  def(t, M2 | 0xdd, x66(intOp(round(false, true), I_128, 0, FE_AES)));
  def(t, M2 | 0xde, x66(intOp(round(true, false), I_128, 0, FE_AES)));
  def(t, M2 | 0xdf, x66(intOp(round(true, true), I_128, 0, FE_AES)));

  // map 3 (0F 3A): imm8 forms
  def(t, M3 | 0x0e, x66(intOp(pblendw, 0, 1)));
  def(t, M3 | 0x0f, x66(intOp(palignr, 0, 1)));
  def(t, M3 | 0x42, x66(intOp(mpsadbw, I_IMM3, 1)));
  def(t, M3 | 0x44, x66(intOp(pclmul, I_128, 1, FE_PCLMUL)));
  def(t, M3 | 0xdf, x66(intOp(keygen, I_UNARY | I_128, 1, FE_AES)));
}
