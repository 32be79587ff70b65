/**
 * Shared plumbing of the AVX/AVX2 families (VEX-encoded instructions, issue 4): the
 * availability check in the SDM's order, VEX field helpers, YMM register access, 32-byte
 * memory accesses that either complete or fault before writing, and the lane driver that
 * turns a 128-bit SSE kernel (sse/common.ts `Kernel`: R = f(A, B) on the scratch vectors)
 * into the VEX.128 and VEX.256 forms of an instruction. docs/cpu-design.md "AVX" is the
 * recipe for adding an instruction.
 *
 * Availability (SDM Vol. 2 §2.8 and the exception-class tables 2-15..2-22, e.g. Type 4):
 *   #UD  CR4.OSXSAVE = 0, or XCR0[2:1] ≠ 11b, or the CPUID feature is 0, or LOCK, or a
 *        66/F2/F3/REX prefix before VEX (run-loop.ts decodeVex raises that one), or
 *        VEX.vvvv ≠ 1111b where the instruction has no vvvv operand, or VEX.L = 1 where it
 *        has no 256-bit form;
 *   #NM  CR0.TS = 1 (CR0.EM is not consulted by VEX instructions);
 *   then the operand's own faults (#GP/#SS/#PF, #GP for misaligned VMOVAPS-type operands).
 *
 * Register state: YMMn bits 127:0 are fpu.xmm[4n..4n+3], bits 255:128 fpu.ymmh[4n..4n+3].
 * Every VEX.128 instruction that writes an XMM register zeroes bits 255:128 of it (SDM
 * Vol. 1 §14.1.3, Vol. 2 §2.3.10.1); legacy SSE leaves them alone.
 */
import type { Cpu, Handler } from '../cpu.js';
import { CR0_TS, CR4_OSXSAVE, NM } from '../regs.js';
import { F1C_AVX, F1C_FMA, F1C_F16C, F7B_AVX2 } from '../profile.js';
import { A, B, R, type Kernel } from '../sse/common.js';
import { writesXmm } from '../sse/xinuse.js';
import { beginFp } from '../sse/fp-core.js';
import { finishFp } from '../sse/fp.js';

// ---- features ---------------------------------------------------------------------------------
export const FE_AVX = 0, FE_AVX2 = 1, FE_FMA = 2, FE_F16C = 3;

/** Non-zero when the profile advertises the feature (CPUID.1:ECX, CPUID.(7,0):EBX). */
export function hasAvx(cpu: Cpu, fe: number): number {
  const p = cpu.profile;
  switch (fe) {
    case FE_AVX: return p.leaf1Ecx & F1C_AVX;
    case FE_AVX2: return (p.leaf1Ecx & F1C_AVX) !== 0 ? p.leaf7Ebx & F7B_AVX2 : 0;
    case FE_FMA: return (p.leaf1Ecx & F1C_AVX) !== 0 ? p.leaf1Ecx & F1C_FMA : 0;
    default: return (p.leaf1Ecx & F1C_AVX) !== 0 ? p.leaf1Ecx & F1C_F16C : 0;
  }
}

// ---- the check --------------------------------------------------------------------------------
/** avxCheck rules: VEX.vvvv must be 1111b (no vvvv operand); VEX.L must be 0 (no 256-bit form). */
export const NO_VVVV = 1, L0_ONLY = 2;

/**
 * The AVX availability check, in the SDM's order (see the header): every #UD cause, then
 * #NM. Call it right after decodeModrm (ModRM fetch faults come first, as for SSE) and
 * before any operand access. `rules` = NO_VVVV | L0_ONLY as the instruction needs.
 */
export function avxCheck(cpu: Cpu, fe: number, rules: number): void {
  if ((cpu.cr4 & CR4_OSXSAVE) === 0 || (cpu.xcr0 & 6) !== 6 || hasAvx(cpu, fe) === 0 || cpu.lock) cpu.ud();
  if ((rules & NO_VVVV) !== 0 && cpu.vexV !== 0) cpu.ud();
  if ((rules & L0_ONLY) !== 0 && cpu.vexL !== 0) cpu.ud();
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM, 0, false);
  // XINUSE[1] tracking (fpu/state.ts sseTouched): VPXOR/VXORPS/VXORPD x, x, x is a zeroing idiom
  const f = cpu.fpu, op = cpu.opcode, bit = 1 << cpu.reg;
  if (cpu.mod === 3 && cpu.reg === cpu.rm && cpu.vexV === cpu.reg && (op === 0x4ef || op === 0x457)) f.sseTouched &= ~bit;
  else if ((f.sseTouched & bit) !== 0 && (f.xmod & 6) === 6) return; // already recorded: skip the lookup
  else if (writesXmm(cpu)) f.sseTouched |= bit;
  else return; // no XMM register written (sse/xinuse.ts)
  f.xmod |= 6; // XMODIFIED[1], [2]: VEX.128 forms zero bits 255:128
}

/** The register VEX.vvvv names: all 4 bits in 64-bit mode, the low 3 elsewhere (SDM Vol. 2 §2.3.6). */
export function vsrc(cpu: Cpu): number {
  return cpu.code64 ? cpu.vexV : cpu.vexV & 7;
}

// ---- YMM registers ----------------------------------------------------------------------------
/** Scratch 256-bit vectors (dword 0..3 = bits 127:0, 4..7 = bits 255:128): sources 1, 2 and the result. */
export const S1 = new Int32Array(8), S2 = new Int32Array(8), D = new Int32Array(8);

/** Copies YMM register n into v[0..7]. */
export function getYmm(cpu: Cpu, n: number, v: Int32Array): void {
  const x = cpu.fpu.xmm, h = cpu.fpu.ymmh, o = n << 2;
  v[0] = x[o]!; v[1] = x[o + 1]!; v[2] = x[o + 2]!; v[3] = x[o + 3]!;
  v[4] = h[o]!; v[5] = h[o + 1]!; v[6] = h[o + 2]!; v[7] = h[o + 3]!;
}

/** Writes v[0..3] into XMMn and, for L = 1, v[4..7] into its upper half; L = 0 zeroes the upper half. */
export function putYmm(cpu: Cpu, n: number, v: Int32Array, l: number): void {
  const x = cpu.fpu.xmm, h = cpu.fpu.ymmh, o = n << 2;
  x[o] = v[0]!; x[o + 1] = v[1]!; x[o + 2] = v[2]!; x[o + 3] = v[3]!;
  if (l !== 0) { h[o] = v[4]!; h[o + 1] = v[5]!; h[o + 2] = v[6]!; h[o + 3] = v[7]!; }
  else { h[o] = 0; h[o + 1] = 0; h[o + 2] = 0; h[o + 3] = 0; }
}

/** Zeroes bits 255:128 of YMMn (a VEX.128 instruction's destination). */
export function zeroUpper(cpu: Cpu, n: number): void {
  const h = cpu.fpu.ymmh, o = n << 2;
  h[o] = 0; h[o + 1] = 0; h[o + 2] = 0; h[o + 3] = 0;
}

// ---- memory -----------------------------------------------------------------------------------
/**
 * Reads `size` bytes (4, 8, 16 or 32) of the r/m memory operand into v (the rest of v
 * zeroed); `aligned`: #GP(0) unless the address is a multiple of `size` (VMOVAPS etc.,
 * SDM Vol. 2 §2.4 "Memory Alignment"). Nothing is written before the read completes.
 */
export function readMem(cpu: Cpu, size: number, aligned: boolean, v: Int32Array): void {
  const lin = cpu.eaLin(size, false);
  if (aligned && lin % size !== 0) cpu.gp(0);
  v.fill(0);
  if (size === 4) { v[0] = cpu.rd32(lin); return; }
  v[0] = cpu.rd64(lin); v[1] = cpu.hi;
  if (size === 8) return;
  v[2] = cpu.rd64(lin + 8); v[3] = cpu.hi;
  if (size === 16) return;
  v[4] = cpu.rd64(lin + 16); v[5] = cpu.hi;
  v[6] = cpu.rd64(lin + 24); v[7] = cpu.hi;
}

/**
 * Writes `size` bytes (16 or 32) of v to the r/m memory operand; both ends are translated
 * for writing first, so a fault writes nothing (the instruction stays atomic).
 */
export function writeMem(cpu: Cpu, size: number, aligned: boolean, v: Int32Array): void {
  const lin = cpu.eaLin(size, true);
  if (aligned && lin % size !== 0) cpu.gp(0);
  if ((lin & 0xfff) > 4096 - size) cpu.probeSplit(lin, size, true);
  for (let k = 0; k < size; k += 8) cpu.wr64(lin + k, v[k >> 2]!, v[(k >> 2) + 1]!);
}

/** The r/m source as a vector: YMM register (all 8 dwords) or `size` bytes of memory. */
export function loadRm(cpu: Cpu, size: number, aligned: boolean, v: Int32Array): void {
  if (cpu.mod === 3) getYmm(cpu, cpu.rm, v);
  else readMem(cpu, size, aligned, v);
}

// ---- the lane driver --------------------------------------------------------------------------
/** vexOp flags. */
export const VX_FP = 1;        // SSE floating point: MXCSR rounding, flags, #XM/#UD on unmasked exceptions
export const VX_UNARY = 2;     // no vvvv operand (must be 1111b): src1 is not read
export const VX_128 = 4;       // no 256-bit form: L = 1 is #UD
export const VX_SCALAR4 = 8;   // scalar single: memory operand is m32, L ignored (LIG), bits 127:32 from src1
export const VX_SCALAR8 = 16;  // scalar double: m64, likewise
export const VX_ALIGNED = 32;  // memory operand must be aligned to its size (#GP(0))
export const VX_W0 = 64;       // VEX.W1 is #UD (the AVX-only "W0" forms: VPERMILPS/PD…)

/**
 * Handler of a VEX instruction `op xmm1/ymm1, xmm2/ymm2 (vvvv), xmm3/ymm3/m (r/m)[, imm8]`
 * built from a 128-bit kernel: check (feature fe for L = 0, fe256 for L = 1), decodeModrm,
 * imm8, both sources read completely (src2 = 16/32 bytes or the scalar size, unaligned
 * unless VX_ALIGNED), the kernel once per 128-bit lane with A = src1 lane, B = src2 lane,
 * n = 16, then the result stored with bits 255:128 zeroed for VEX.128. With VX_FP the
 * MXCSR flags of all lanes are committed (or the exception raised) before the store.
 * Handlers are built once, at install time (no closure per instruction). `immShift`: the
 * upper lane sees imm8 >> immShift (VBLENDPS/PD, VSHUFPD, VPERMILPD imm: one control
 * field per element across both lanes).
 */
export function vexOp(k: Kernel, fe: number, fe256: number, flags = 0, immBytes = 0, immShift = 0): Handler {
  const scalar = (flags & (VX_SCALAR4 | VX_SCALAR8)) !== 0;
  const msize = (flags & VX_SCALAR4) !== 0 ? 4 : (flags & VX_SCALAR8) !== 0 ? 8 : 16;
  const rules = ((flags & VX_UNARY) !== 0 ? NO_VVVV : 0) | ((flags & VX_128) !== 0 ? L0_ONLY : 0);
  const aligned = (flags & VX_ALIGNED) !== 0, fp = (flags & VX_FP) !== 0, unary = (flags & VX_UNARY) !== 0, w0 = (flags & VX_W0) !== 0;
  return (cpu) => {
    cpu.decodeModrm(immBytes);
    const l = scalar ? 0 : cpu.vexL;
    // the whole instruction, imm8 included, is fetched before its #UD/#NM: a fetch fault
    // ranks above decode faults (SDM Vol. 3A Table 6-2, priorities 7 and 8)
    const imm = immBytes !== 0 ? cpu.fetch8() : 0;
    if (w0 && cpu.rexW) cpu.ud();
    avxCheck(cpu, l !== 0 ? fe256 : fe, rules);
    if (unary) S1.fill(0); else getYmm(cpu, vsrc(cpu), S1);
    loadRm(cpu, l !== 0 ? 32 : msize, aligned, S2);
    if (fp) beginFp(cpu.fpu.mxcsr);
    for (let lane = 0; lane <= l; lane++) {
      const o = lane << 2;
      A[0] = S1[o]!; A[1] = S1[o + 1]!; A[2] = S1[o + 2]!; A[3] = S1[o + 3]!;
      B[0] = S2[o]!; B[1] = S2[o + 1]!; B[2] = S2[o + 2]!; B[3] = S2[o + 3]!;
      k(16, lane !== 0 ? imm >> immShift : imm);
      D[o] = R[0]!; D[o + 1] = R[1]!; D[o + 2] = R[2]!; D[o + 3] = R[3]!;
    }
    if (fp) finishFp(cpu);
    putYmm(cpu, cpu.reg, D, l);
  };
}

/** Handler that dispatches on VEX.pp (none, 66, F3, F2 as sse/common.ts pfxIndex); null entries are #UD. */
export { byPrefix } from '../sse/common.js';
