/**
 * Shared plumbing of the MMX/SSE families: availability checks in the SDM's priority
 * order, the mandatory-prefix index, operand fetch into scratch vectors and 128-bit
 * memory accesses that either complete or fault before writing anything.
 *
 * Availability (SDM Vol. 3A §13.1 / §2.5, Vol. 2 "SIMD Floating-Point Exceptions" tables):
 *   SSE+:  CR0.EM = 1 or CR4.OSFXSR = 0 → #UD; then CR0.TS = 1 → #NM.
 *   MMX:   CR0.EM = 1 → #UD; CR0.TS = 1 → #NM; pending unmasked x87 exception → #MF.
 * A LOCK prefix is #UD on every one of these instructions.
 */
import { writesXmm } from './xinuse.js';
import { isAmd } from '../profile.js';
import type { Cpu } from '../cpu.js';
import { REP_E, REP_NE } from '../cpu.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR, NM, MF } from '../regs.js';

export const P_NONE = 0, P_66 = 1, P_F3 = 2, P_F2 = 3;

/** Which mandatory prefix selects the instruction: F2/F3 win over 66 (SDM Vol. 2 §2.1.2). */
export function pfxIndex(cpu: Cpu): number {
  if (cpu.rep === REP_NE) return P_F2;
  if (cpu.rep === REP_E) return P_F3;
  return cpu.pfx66 ? P_66 : P_NONE;
}

export function sseCheck(cpu: Cpu, feature: number): void {
  if (cpu.lock || feature === 0) cpu.ud();
  if ((cpu.cr0 & CR0_EM) !== 0 || (cpu.cr4 & CR4_OSFXSR) === 0) cpu.ud();
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM, 0, false);
  // XINUSE[1] tracking (fpu/state.ts sseTouched): PXOR/XORPS/XORPD of a register with itself is
  // a zeroing idiom
  const f = cpu.fpu, op = cpu.opcode, bit = 1 << cpu.reg;
  if (cpu.mod === 3 && cpu.reg === cpu.rm && (op === 0x1ef || op === 0x157)) f.sseTouched &= ~bit;
  else if ((f.sseTouched & bit) !== 0 && (f.xmod & 2) !== 0) return; // already recorded: skip the lookup
  else if (writesXmm(cpu)) f.sseTouched |= bit;
  else return; // no XMM register written: neither in use nor modified (sse/xinuse.ts)
  f.xmod |= 2; // XMODIFIED[1]
}

export function mmxCheck(cpu: Cpu, feature: number): void {
  if (cpu.lock || feature === 0) cpu.ud();
  if ((cpu.cr0 & CR0_EM) !== 0) cpu.ud();
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM, 0, false);
  if ((cpu.fpu.fsw & 0x80) !== 0) cpu.fault(MF, 0, false); // FSW.ES: unmasked x87 exception pending
  cpu.fpu.xmod |= 1; // XMODIFIED[0]: MMX registers are x87 state (fpu/state.ts)
}

// ---- scratch vectors (module-level, reused: no allocation per instruction) ------------------
/** Destination operand A, source operand B and result R, 16 bytes each, with lane views. */
export const A = new Int32Array(4), B = new Int32Array(4), R = new Int32Array(4);
export const A8 = new Uint8Array(A.buffer), B8 = new Uint8Array(B.buffer), R8 = new Uint8Array(R.buffer);
export const A8s = new Int8Array(A.buffer), B8s = new Int8Array(B.buffer);
export const A16 = new Uint16Array(A.buffer), B16 = new Uint16Array(B.buffer), R16 = new Uint16Array(R.buffer);
export const A16s = new Int16Array(A.buffer), B16s = new Int16Array(B.buffer);
export const AF32 = new Float32Array(A.buffer), BF32 = new Float32Array(B.buffer), RF32 = new Float32Array(R.buffer);
export const AF64 = new Float64Array(A.buffer), BF64 = new Float64Array(B.buffer), RF64 = new Float64Array(R.buffer);

/**
 * #GP(0) unless a 16-byte operand is 16-byte aligned (SDM Vol. 1 §4.1.1, MOVAPS etc.). AMD's
 * misaligned SSE mode (nestvisor-amd with MXCSR.MM, bit 17; AMD APM Vol. 1 "Misaligned Exception
 * Mask"): the operand may be misaligned, except for the explicitly aligned moves MOVAPS/MOVAPD
 * (0F 28/29), MOVNTPS/PD (0F 2B), MOVDQA (66 0F 6F/7F), MOVNTDQ (66 0F E7) and MOVNTDQA
 * (66 0F 38 2A) — measured on this Zen 4 for every alignment-checked form of the SSE
 * differential specs (sse/sse-diff-specs.ts, sse4-diff-specs.ts run misaligned cases with MM).
 */
export function checkAlign16(cpu: Cpu, lin: number): void {
  if (lin % 16 === 0) return;
  if ((cpu.fpu.mxcsr & MX_MM) !== 0 && isAmd(cpu.profile)) {
    const op = cpu.opcode;
    const strict = op === 0x128 || op === 0x129 || op === 0x12b || op === 0x16f || op === 0x17f || op === 0x1e7 || op === 0x22a;
    if (!strict) return;
  }
  cpu.gp(0);
}
/** MXCSR bit 17: AMD's misaligned-exception mask (MM). */
const MX_MM = 1 << 17;

/** Reads 16 bytes at a linear address into v[0..3]. */
export function rd128(cpu: Cpu, lin: number, v: Int32Array): void {
  const a = cpu.rd64(lin); const b = cpu.hi;
  const c = cpu.rd64(lin + 8); const d = cpu.hi;
  v[0] = a; v[1] = b; v[2] = c; v[3] = d;
}

/** Writes 16 bytes; both ends are translated for writing first, so a fault writes nothing. */
export function wr128(cpu: Cpu, lin: number, v: Int32Array, off: number): void {
  if ((lin & 0xfff) > 4080) cpu.probeSplit(lin, 16, true);
  cpu.wr64(lin, v[off]!, v[off + 1]!);
  cpu.wr64(lin + 8, v[off + 2]!, v[off + 3]!);
}

/**
 * Loads the ModRM r/m source of an XMM instruction into B: 16 bytes (aligned when asked),
 * or for the scalar forms `size` = 4 or 8 bytes into the low lanes (the rest zero).
 */
export function loadXmmSrc(cpu: Cpu, size: number, aligned: boolean): void {
  if (cpu.mod === 3) {
    const x = cpu.fpu.xmm, o = cpu.rm << 2;
    B[0] = x[o]!; B[1] = x[o + 1]!; B[2] = x[o + 2]!; B[3] = x[o + 3]!;
    return;
  }
  const lin = cpu.eaLin(size, false);
  if (size === 16) {
    if (aligned) checkAlign16(cpu, lin);
    rd128(cpu, lin, B);
  } else if (size === 8) {
    B[0] = cpu.rd64(lin); B[1] = cpu.hi; B[2] = 0; B[3] = 0;
  } else if (size === 4) {
    B[0] = cpu.rd32(lin); B[1] = 0; B[2] = 0; B[3] = 0;
  } else if (size === 2) {
    B[0] = cpu.rd16(lin); B[1] = 0; B[2] = 0; B[3] = 0;
  }
}

/** Copies XMM register n into A. */
export function loadXmmA(cpu: Cpu, n: number): void {
  const x = cpu.fpu.xmm, o = n << 2;
  A[0] = x[o]!; A[1] = x[o + 1]!; A[2] = x[o + 2]!; A[3] = x[o + 3]!;
}

/** Writes R into XMM register n. */
export function storeXmmR(cpu: Cpu, n: number): void {
  const x = cpu.fpu.xmm, o = n << 2;
  x[o] = R[0]!; x[o + 1] = R[1]!; x[o + 2] = R[2]!; x[o + 3] = R[3]!;
}

/** Loads the MMX r/m source (MMi or m64) into B[0..1]. */
export function loadMmSrc(cpu: Cpu): void {
  if (cpu.mod === 3) {
    const m = cpu.fpu.mant, i = (cpu.rm & 7) << 1;
    B[0] = m[i]!; B[1] = m[i + 1]!;
  } else {
    B[0] = cpu.rd64(cpu.eaLin(8, false)); B[1] = cpu.hi;
  }
  B[2] = 0; B[3] = 0;
}
export function loadMmA(cpu: Cpu, n: number): void {
  const m = cpu.fpu.mant, i = (n & 7) << 1;
  A[0] = m[i]!; A[1] = m[i + 1]!; A[2] = 0; A[3] = 0;
}
/** Writes R[0..1] into MMn and applies the x87 aliasing (TOS 0, tags valid, exponent ones). */
export function storeMmR(cpu: Cpu, n: number): void {
  cpu.fpu.setMm(n & 7, R[0]!, R[1]!);
  cpu.fpu.enterMmx();
}

// ---- feature gates -------------------------------------------------------------------------
export const FE_MMX = 0, FE_SSE = 1, FE_SSE2 = 2, FE_SSE3 = 3, FE_SSSE3 = 4, FE_SSE41 = 5, FE_SSE42 = 6;
export const FE_AES = 7, FE_PCLMUL = 8;
/** Non-zero when the profile advertises the feature (CPUID.1:EDX/ECX, SDM Vol. 2A Table 3-10/3-11). */
export function has(cpu: Cpu, fe: number): number {
  const d = cpu.profile.leaf1Edx, c = cpu.profile.leaf1Ecx;
  switch (fe) {
    case FE_MMX: return d & (1 << 23);
    case FE_SSE: return d & (1 << 25);
    case FE_SSE2: return d & (1 << 26);
    case FE_SSE3: return c & (1 << 0);
    case FE_SSSE3: return c & (1 << 9);
    case FE_SSE41: return c & (1 << 19);
    case FE_SSE42: return c & (1 << 20);
    case FE_AES: return c & (1 << 25);
    default: return c & (1 << 1);
  }
}

/** Kernel over the scratch vectors: R = f(A, B) for n = 8 (MMX) or 16 (XMM) bytes; imm for imm8 forms. */
export type Kernel = (n: number, imm: number) => void;

/**
 * Handler of a packed-integer instruction with an MMX form (no prefix, feature `mmxFe`) and
 * an XMM form (66, feature `xmmFe`): `op mm, mm/m64` / `op xmm, xmm/m128` (aligned).
 * `immBytes` = 1 for the imm8 forms. `mmxFe` < 0: no MMX form. `mmxMem`: bytes the MMX
 * memory operand reads (PUNPCKLxx read only m32).
 */
export function packed(k: Kernel, xmmFe: number, mmxFe: number, immBytes = 0, mmxMem = 8, xmmMem = 16): (cpu: Cpu) => void {
  return (cpu: Cpu) => {
    const p = pfxIndex(cpu);
    if (p === P_66) {
      cpu.decodeModrm(immBytes);
      sseCheck(cpu, has(cpu, xmmFe));
      const imm = immBytes ? cpu.fetch8() : 0;
      loadXmmSrc(cpu, xmmMem, true);
      loadXmmA(cpu, cpu.reg);
      k(16, imm);
      storeXmmR(cpu, cpu.reg);
    } else if (p === P_NONE && mmxFe >= 0) {
      cpu.decodeModrm(immBytes);
      mmxCheck(cpu, has(cpu, mmxFe));
      const imm = immBytes ? cpu.fetch8() : 0;
      if (cpu.mod === 3 || mmxMem === 8) loadMmSrc(cpu);
      else { B[0] = cpu.rd32(cpu.eaLin(4, false)); B[1] = 0; }
      loadMmA(cpu, cpu.reg);
      k(8, imm);
      storeMmR(cpu, cpu.reg);
    } else cpu.ud();
  };
}

/** Handler that dispatches on the mandatory prefix (none, 66, F3, F2); null entries are #UD. */
export function byPrefix(h0: ((cpu: Cpu) => void) | null, h66: ((cpu: Cpu) => void) | null, hF3: ((cpu: Cpu) => void) | null, hF2: ((cpu: Cpu) => void) | null): (cpu: Cpu) => void {
  const hs = [h0, h66, hF3, hF2];
  return (cpu: Cpu) => {
    const h = hs[pfxIndex(cpu)];
    if (h === null || h === undefined) cpu.ud();
    h(cpu);
  };
}
