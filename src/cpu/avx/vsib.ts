/**
 * Per-element addresses for the AVX2 instructions that touch memory element by element:
 * VPMASKMOVD/Q (base + k * size) and the gathers' VSIB operands (SDM Vol. 2 §2.3.12
 * "Vector SIB (VSIB) Memory Addressing": base + sign-extended index element * scale + disp).
 *
 * decodeModrm decodes a VSIB byte as an ordinary SIB, so eaLo/eaHi hold base + disp +
 * GPR[index] * scale (no index term when SIB.index = 100b without VEX.X). It records the
 * index register and scale (cpu.eaIdx/eaScale), and `vsibBase` subtracts that general
 * register's term again, leaving base + disp; `elemLin` then adds an element's offset at
 * the address size (wrapping at 2^32 with a 32-bit address size, 2^16 with a 16-bit one)
 * and goes through cpu.linear, so every element gets its own segment limit, canonical and
 * alignment-check tests, exactly like a scalar access of that size.
 */
import type { Cpu } from '../cpu.js';

const TWO32 = 4294967296;
/** decode-cache.ts DC_NO_REG: no index register. */
const NO_REG = 16;

/** base + disp of the decoded VSIB operand: lo returned, hi in cpu.hi (0 unless the address size is 64). */
export function vsibBase(cpu: Cpu): number {
  let lo = cpu.eaLo, hi = cpu.eaHi;
  const ix = cpu.eaIdx;
  if (ix !== NO_REG) {
    const s = cpu.eaScale, r = cpu.r;
    const l = r[ix << 1]!, h = r[(ix << 1) + 1]!;
    const tl = l << s, th = s === 0 ? h : (h << s) | (l >>> (32 - s));
    // (hi:lo) - (th:tl), exact on halves
    const d = (lo >>> 0) - (tl >>> 0);
    lo = d | 0;
    hi = cpu.asz === 8 ? (hi - th - (d < 0 ? 1 : 0)) | 0 : 0;
  }
  cpu.hi = hi;
  return lo;
}

/**
 * The VSIB index register number: SIB.index | VEX.X (decodeModrm reports index 100b
 * without X as "no index", which in a VSIB byte is XMM4/YMM4).
 */
export function vsibIndex(cpu: Cpu): number {
  return cpu.eaIdx === NO_REG ? 4 : cpu.eaIdx;
}

/**
 * Linear address of an element at (baseLo, baseHi) + (offLo, offHi) << scale for an access
 * of `size` bytes, with the offset a signed 64-bit value; the sum wraps at the address size.
 */
export function elemLin(cpu: Cpu, baseLo: number, baseHi: number, offLo: number, offHi: number, scale: number, size: number, write: boolean): number {
  const tl = offLo << scale, th = scale === 0 ? offHi : (offHi << scale) | (offLo >>> (32 - scale));
  const sum = (baseLo >>> 0) + (tl >>> 0);
  let lo = sum | 0, hi = 0;
  if (cpu.asz === 8) hi = (baseHi + th + (sum >= TWO32 ? 1 : 0)) | 0;
  else if (cpu.asz === 2) lo &= 0xffff;
  return cpu.linear(cpu.eaSeg, lo, hi, size, write);
}
