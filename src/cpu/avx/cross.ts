/**
 * AVX2 cross-lane, masked and per-element-count instructions (SDM Vol. 2 entries of the same
 * names), all VEX.66 with CPUID.(7,0):EBX.AVX2:
 *
 * | opcode            | instruction                 | forms                                  |
 * |-------------------|-----------------------------|----------------------------------------|
 * | 0F38 78/79/58/59  | VPBROADCASTB/W/D/Q          | W0, L0/L1, xmm or m8/16/32/64, no vvvv |
 * | 0F38 5A           | VBROADCASTI128              | W0, L1, m128 only, no vvvv             |
 * | 0F38 36 / 16      | VPERMD / VPERMPS            | W0, L1, ymm (indices = vvvv), ymm/m256 |
 * | 0F3A 00 / 01      | VPERMQ / VPERMPD            | W1, L1, ymm/m256, imm8, no vvvv        |
 * | 0F3A 46           | VPERM2I128                  | W0, L1, ymm, ymm/m256, imm8            |
 * | 0F3A 38 / 39      | VINSERTI128 / VEXTRACTI128  | W0, L1, imm8 bit 0 selects the lane    |
 * | 0F38 8C / 8E      | VPMASKMOVD/Q load / store   | W0 = D, W1 = Q, L0/L1, memory only     |
 * | 0F38 47/45/46     | VPSLLVD/Q, VPSRLVD/Q, VPSRAVD | W0 = D, W1 = Q (46: W0 only), L0/L1  |
 * | 0F3A 02           | VPBLENDD                    | W0, L0/L1, imm8 (one bit per dword)    |
 *
 * VEX.W values the SDM does not list are #UD (objdump: "(bad)"). One vendor difference:
 * VPERMQ/VPERMPD exist only as VEX.W1 in the SDM and binutils, and Intel raises #UD for W0;
 * AMD Zen 4 (this project's host) runs W0 exactly like W1 (measured by avx/x-diff.test.ts's
 * slot test), so the nestvisor-amd profile ignores W there and nestvisor-intel does not.
 * VPMASKMOV touches only the elements whose mask bit (the element's MSB) is set: masked-off
 * elements never fault; a load reads every selected element before writing the register, a
 * store checks every selected element (its translation, for writing) before writing any
 * (SDM Vol. 2 VPMASKMOV "faults will not occur due to referencing any memory location if
 * the corresponding mask bit for that memory location is 0").
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { isAmd } from '../profile.js';
import { A, B, R, type Kernel } from '../sse/common.js';
import {
  avxCheck, vsrc, getYmm, putYmm, readMem, writeMem, loadRm, vexOp, byPrefix, D, S1, S2, FE_AVX2, NO_VVVV,
} from './common.js';
import { elemLin } from './vsib.js';

const M2 = 0x500, M3 = 0x600;

/** #UD unless VEX.W is `w` (the SDM lists only that encoding). */
function needW(cpu: Cpu, w: boolean): void {
  if (cpu.rexW !== w) cpu.ud();
}

/** #UD for VEX.L = 0: the instruction has only a 256-bit form. */
function needL1(cpu: Cpu): void {
  if (cpu.vexL === 0) cpu.ud();
}

/** VPBROADCASTB/W/D/Q xmm1|ymm1, xmm2/m8|m16|m32|m64: the low element of the source in every element. */
function vpbroadcast(size: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    needW(cpu, false);
    avxCheck(cpu, FE_AVX2, NO_VVVV);
    let lo: number, hi = 0;
    if (cpu.mod === 3) { const x = cpu.fpu.xmm, o = cpu.rm << 2; lo = x[o]!; hi = x[o + 1]!; }
    else { lo = cpu.rdSz(cpu.eaLin(size, false), size); if (size === 8) hi = cpu.hi; }
    if (size === 1) lo = Math.imul(lo & 0xff, 0x01010101);
    else if (size === 2) lo = Math.imul(lo & 0xffff, 0x10001);
    if (size !== 8) hi = lo;
    for (let i = 0; i < 8; i += 2) { D[i] = lo; D[i + 1] = hi; }
    putYmm(cpu, cpu.reg, D, cpu.vexL);
  };
}

/** VBROADCASTI128 ymm1, m128: both lanes from memory; a register source is #UD. */
function vbroadcasti128(cpu: Cpu): void {
  cpu.decodeModrm(0);
  needW(cpu, false);
  if (cpu.mod === 3) cpu.ud();
  needL1(cpu);
  avxCheck(cpu, FE_AVX2, NO_VVVV);
  readMem(cpu, 16, false, D);
  D[4] = D[0]!; D[5] = D[1]!; D[6] = D[2]!; D[7] = D[3]!;
  putYmm(cpu, cpu.reg, D, 1);
}

/** VPERMD/VPERMPS ymm1, ymm2, ymm3/m256: dword i = src3[ymm2.dword i & 7] (vvvv holds the indices). */
function vpermd(cpu: Cpu): void {
  cpu.decodeModrm(0);
  needW(cpu, false);
  needL1(cpu);
  avxCheck(cpu, FE_AVX2, 0);
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, 32, false, S2);
  for (let i = 0; i < 8; i++) D[i] = S2[S1[i]! & 7]!;
  putYmm(cpu, cpu.reg, D, 1);
}

/** VPERMQ/VPERMPD ymm1, ymm2/m256, imm8: qword i = src qword imm8[2i+1:2i]. */
function vpermq(cpu: Cpu): void {
  cpu.decodeModrm(1);
  if (!isAmd(cpu.profile)) needW(cpu, true); // Zen 4 ignores VEX.W here (header)
  needL1(cpu);
  avxCheck(cpu, FE_AVX2, NO_VVVV);
  const imm = cpu.fetch8();
  loadRm(cpu, 32, false, S2);
  for (let i = 0; i < 4; i++) {
    const s = ((imm >> (2 * i)) & 3) << 1;
    D[2 * i] = S2[s]!; D[2 * i + 1] = S2[s + 1]!;
  }
  putYmm(cpu, cpu.reg, D, 1);
}

/**
 * VPERM2I128 ymm1, ymm2, ymm3/m256, imm8: each destination lane is one of the four source
 * lanes (imm8 bits 1:0 low lane, 5:4 high lane: 0/1 = src1 low/high, 2/3 = src2 low/high)
 * or zero (bit 3 / bit 7).
 */
function vperm2i128(cpu: Cpu): void {
  cpu.decodeModrm(1);
  needW(cpu, false);
  needL1(cpu);
  avxCheck(cpu, FE_AVX2, 0);
  const imm = cpu.fetch8();
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, 32, false, S2);
  for (let lane = 0; lane < 2; lane++) {
    const sel = imm >> (4 * lane), o = lane << 2;
    const src = (sel & 2) !== 0 ? S2 : S1, so = (sel & 1) << 2;
    for (let k = 0; k < 4; k++) D[o + k] = (sel & 8) !== 0 ? 0 : src[so + k]!;
  }
  putYmm(cpu, cpu.reg, D, 1);
}

/** VINSERTI128 ymm1, ymm2, xmm3/m128, imm8: ymm2 with lane imm8[0] replaced by the 128-bit source. */
function vinserti128(cpu: Cpu): void {
  cpu.decodeModrm(1);
  needW(cpu, false);
  needL1(cpu);
  avxCheck(cpu, FE_AVX2, 0);
  const imm = cpu.fetch8();
  getYmm(cpu, vsrc(cpu), D);
  loadRm(cpu, 16, false, S2);
  const o = (imm & 1) << 2;
  D[o] = S2[0]!; D[o + 1] = S2[1]!; D[o + 2] = S2[2]!; D[o + 3] = S2[3]!;
  putYmm(cpu, cpu.reg, D, 1);
}

/** VEXTRACTI128 xmm1/m128, ymm2, imm8: lane imm8[0] of ymm2 (a register destination's bits 255:128 zeroed). */
function vextracti128(cpu: Cpu): void {
  cpu.decodeModrm(1);
  needW(cpu, false);
  needL1(cpu);
  avxCheck(cpu, FE_AVX2, NO_VVVV);
  const imm = cpu.fetch8();
  getYmm(cpu, cpu.reg, S1);
  const o = (imm & 1) << 2;
  D[0] = S1[o]!; D[1] = S1[o + 1]!; D[2] = S1[o + 2]!; D[3] = S1[o + 3]!;
  if (cpu.mod === 3) putYmm(cpu, cpu.rm, D, 0);
  else writeMem(cpu, 16, false, D);
}

/**
 * VPMASKMOVD/Q xmm1|ymm1, xmm2|ymm2 (mask), m128|m256 (0F38 8C): selected elements loaded,
 * the others zeroed. Every selected element is read before the register is written.
 */
function vpmaskmovLoad(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  avxCheck(cpu, FE_AVX2, 0);
  const l = cpu.vexL, q = cpu.rexW, size = q ? 8 : 4, n = (16 << l) / size;
  getYmm(cpu, vsrc(cpu), S1);
  D.fill(0);
  const bLo = cpu.eaLo, bHi = cpu.eaHi;
  for (let i = 0; i < n; i++) {
    const top = q ? 2 * i + 1 : i;
    if (S1[top]! >= 0) continue; // mask bit = the element's MSB
    const lin = elemLin(cpu, bLo, bHi, i * size, 0, 0, size, false);
    if (q) { D[2 * i] = cpu.rd64(lin); D[2 * i + 1] = cpu.hi; } else D[i] = cpu.rd32(lin);
  }
  putYmm(cpu, cpu.reg, D, l);
}

/**
 * VPMASKMOVD/Q m128|m256, xmm1|ymm1 (mask), xmm2|ymm2 (0F38 8E): selected elements stored.
 * First every selected element is translated for writing (segment, canonical, paging
 * faults), then they are written, so a fault leaves memory untouched.
 */
function vpmaskmovStore(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  avxCheck(cpu, FE_AVX2, 0);
  const l = cpu.vexL, q = cpu.rexW, size = q ? 8 : 4, n = (16 << l) / size;
  getYmm(cpu, vsrc(cpu), S1);
  getYmm(cpu, cpu.reg, S2);
  const bLo = cpu.eaLo, bHi = cpu.eaHi;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < n; i++) {
      const top = q ? 2 * i + 1 : i;
      if (S1[top]! >= 0) continue;
      const lin = elemLin(cpu, bLo, bHi, i * size, 0, 0, size, true);
      if (pass === 0) cpu.probeSplit(lin, size, true);
      else if (q) cpu.wr64(lin, S2[2 * i]!, S2[2 * i + 1]!);
      else cpu.wr32(lin, S2[i]!);
    }
  }
}

// ---- per-element shift counts (kernels for the lane driver: R = f(A = data, B = counts)) ----
/** VPSLLVD: count ≥ 32 gives 0. */
const psllvd: Kernel = () => { for (let i = 0; i < 4; i++) { const c = B[i]! >>> 0; R[i] = c > 31 ? 0 : A[i]! << c; } };
/** VPSRLVD: count ≥ 32 gives 0. */
const psrlvd: Kernel = () => { for (let i = 0; i < 4; i++) { const c = B[i]! >>> 0; R[i] = c > 31 ? 0 : A[i]! >>> c; } };
/** VPSRAVD: count ≥ 32 fills with the sign bit. */
const psravd: Kernel = () => { for (let i = 0; i < 4; i++) { const c = B[i]! >>> 0; R[i] = A[i]! >> (c > 31 ? 31 : c); } };
/** VPSLLVQ: the count is the whole qword; ≥ 64 gives 0. */
const psllvq: Kernel = () => {
  for (let i = 0; i < 4; i += 2) {
    const c = B[i + 1] !== 0 ? 64 : B[i]! >>> 0, lo = A[i]!, hi = A[i + 1]!;
    if (c > 63) { R[i] = 0; R[i + 1] = 0; }
    else if (c >= 32) { R[i] = 0; R[i + 1] = lo << (c - 32); }
    else if (c === 0) { R[i] = lo; R[i + 1] = hi; }
    else { R[i] = lo << c; R[i + 1] = (hi << c) | (lo >>> (32 - c)); }
  }
};
/** VPSRLVQ: the count is the whole qword; ≥ 64 gives 0. */
const psrlvq: Kernel = () => {
  for (let i = 0; i < 4; i += 2) {
    const c = B[i + 1] !== 0 ? 64 : B[i]! >>> 0, lo = A[i]!, hi = A[i + 1]!;
    if (c > 63) { R[i] = 0; R[i + 1] = 0; }
    else if (c >= 32) { R[i] = hi >>> (c - 32); R[i + 1] = 0; }
    else if (c === 0) { R[i] = lo; R[i + 1] = hi; }
    else { R[i] = (lo >>> c) | (hi << (32 - c)); R[i + 1] = hi >>> c; }
  }
};

/** VEX.W0 → the dword form, W1 → the qword form (null: #UD). */
function byW(h0: Handler, h1: Handler | null): Handler {
  return (cpu) => {
    if (!cpu.rexW) h0(cpu);
    else if (h1 !== null) h1(cpu);
    else { cpu.decodeModrm(0); cpu.ud(); }
  };
}

/** VPBLENDD xmm1|ymm1, xmm2|ymm2, xmm3|ymm3/m, imm8: dword i from src2 when imm8 bit i is set, else from src1. */
function vpblendd(cpu: Cpu): void {
  cpu.decodeModrm(1);
  needW(cpu, false);
  avxCheck(cpu, FE_AVX2, 0);
  const imm = cpu.fetch8(), l = cpu.vexL;
  getYmm(cpu, vsrc(cpu), S1);
  loadRm(cpu, 16 << l, false, S2);
  for (let i = 0; i < 8; i++) D[i] = ((imm >> i) & 1) !== 0 ? S2[i]! : S1[i]!;
  putYmm(cpu, cpu.reg, D, l);
}

export function installAvxCross(t: Handler[]): void {
  def(t, M2 | 0x78, byPrefix(null, vpbroadcast(1), null, null));
  def(t, M2 | 0x79, byPrefix(null, vpbroadcast(2), null, null));
  def(t, M2 | 0x58, byPrefix(null, vpbroadcast(4), null, null));
  def(t, M2 | 0x59, byPrefix(null, vpbroadcast(8), null, null));
  def(t, M2 | 0x5a, byPrefix(null, vbroadcasti128, null, null));
  def(t, M2 | 0x36, byPrefix(null, vpermd, null, null));
  def(t, M2 | 0x16, byPrefix(null, vpermd, null, null));
  def(t, M3 | 0x00, byPrefix(null, vpermq, null, null));
  def(t, M3 | 0x01, byPrefix(null, vpermq, null, null));
  def(t, M3 | 0x46, byPrefix(null, vperm2i128, null, null));
  def(t, M3 | 0x38, byPrefix(null, vinserti128, null, null));
  def(t, M3 | 0x39, byPrefix(null, vextracti128, null, null));
  def(t, M2 | 0x8c, byPrefix(null, vpmaskmovLoad, null, null));
  def(t, M2 | 0x8e, byPrefix(null, vpmaskmovStore, null, null));
  def(t, M2 | 0x47, byPrefix(null, byW(vexOp(psllvd, FE_AVX2, FE_AVX2), vexOp(psllvq, FE_AVX2, FE_AVX2)), null, null));
  def(t, M2 | 0x45, byPrefix(null, byW(vexOp(psrlvd, FE_AVX2, FE_AVX2), vexOp(psrlvq, FE_AVX2, FE_AVX2)), null, null));
  def(t, M2 | 0x46, byPrefix(null, byW(vexOp(psravd, FE_AVX2, FE_AVX2), null), null, null));
  def(t, M3 | 0x02, byPrefix(null, vpblendd, null, null));
}
