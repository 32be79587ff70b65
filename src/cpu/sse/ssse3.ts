/**
 * SSSE3 (SDM Vol. 2 entries PSHUFB, PHADDW/D, PHADDSW, PHSUBW/D, PHSUBSW, PMADDUBSW,
 * PMULHRSW, PSIGNB/W/D, PABSB/W/D, PALIGNR), each with an MMX form (0F 38 xx / 0F 3A 0F,
 * mm, mm/m64) and an XMM form (66 prefix, xmm, xmm/m128 aligned). Kernels compute R from A
 * (destination) and B (source) over n = 8 or 16 bytes (common.ts `packed`).
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, B, R, A8, B8, R8, A8s, B8s, A16, B16, R16, A16s, B16s, packed, FE_SSSE3, type Kernel } from './common.js';

const R16s = new Int16Array(R.buffer), R8s = new Int8Array(R.buffer);
const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/** PSHUFB: each result byte is the destination byte the source byte indexes, or 0 when its bit 7 is set. */
export const pshufb: Kernel = (n) => { for (let i = 0; i < n; i++) { const s = B8[i]!; R8[i] = (s & 0x80) !== 0 ? 0 : A8[s & (n - 1)]!; } };

/** Horizontal word ops: pairs of the destination fill the low half, pairs of the source the high half. */
export function hw(f: (x: number, y: number) => number): Kernel {
  return (n) => {
    const h = n >> 2; // result words per half
    for (let i = 0; i < h; i++) {
      R16s[i] = f(A16s[2 * i]!, A16s[2 * i + 1]!);
      R16s[h + i] = f(B16s[2 * i]!, B16s[2 * i + 1]!);
    }
  };
}
export function hd(sub: boolean): Kernel {
  return (n) => {
    const h = n >> 3; // result dwords per half
    for (let i = 0; i < h; i++) {
      R[i] = sub ? (A[2 * i]! - A[2 * i + 1]!) | 0 : (A[2 * i]! + A[2 * i + 1]!) | 0;
      R[h + i] = sub ? (B[2 * i]! - B[2 * i + 1]!) | 0 : (B[2 * i]! + B[2 * i + 1]!) | 0;
    }
  };
}
/** PMADDUBSW: unsigned destination bytes times signed source bytes, adjacent products summed with saturation. */
export const pmaddubsw: Kernel = (n) => {
  for (let i = 0; i < n >> 1; i++) R16s[i] = sat16s(A8[2 * i]! * B8s[2 * i]! + A8[2 * i + 1]! * B8s[2 * i + 1]!);
};
/** PMULHRSW: (a·b >> 14, +1) >> 1 — the rounded high half of the Q15 product. */
export const pmulhrsw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = ((Math.imul(A16s[i]!, B16s[i]!) >> 14) + 1) >> 1; };
export const psignb: Kernel = (n) => { for (let i = 0; i < n; i++) { const s = B8s[i]!; R8[i] = s < 0 ? -A8[i]! : s === 0 ? 0 : A8[i]!; } };
export const psignw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) { const s = B16s[i]!; R16[i] = s < 0 ? -A16[i]! : s === 0 ? 0 : A16[i]!; } };
export const psignd: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) { const s = B[i]!; R[i] = s < 0 ? -A[i]! | 0 : s === 0 ? 0 : A[i]!; } };
/** PABS*: absolute value of the source; the most negative value stays as its unsigned magnitude. */
export const pabsb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = Math.abs(B8s[i]!); };
export const pabsw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = Math.abs(B16s[i]!); };
export const pabsd: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = Math.abs(B[i]!) | 0; };
/** PALIGNR: the concatenation destination:source shifted right by imm8 bytes (zeros shifted in). */
export const palignr: Kernel = (n, imm) => {
  for (let i = 0; i < n; i++) {
    const j = i + imm;
    R8[i] = j < n ? B8[j]! : j < 2 * n ? A8[j - n]! : 0;
  }
};

export function installSsse3(t: Handler[]): void {
  void R8s; void A8s;
  const ops: Array<[number, Kernel]> = [
    [0x00, pshufb], [0x01, hw((x, y) => x + y)], [0x02, hd(false)], [0x03, hw((x, y) => sat16s(x + y))],
    [0x04, pmaddubsw], [0x05, hw((x, y) => x - y)], [0x06, hd(true)], [0x07, hw((x, y) => sat16s(x - y))],
    [0x08, psignb], [0x09, psignw], [0x0a, psignd], [0x0b, pmulhrsw],
    [0x1c, pabsb], [0x1d, pabsw], [0x1e, pabsd],
  ];
  for (const [op, k] of ops) def(t, 0x200 | op, packed(k, FE_SSSE3, FE_SSSE3));
  def(t, 0x30f, packed(palignr, FE_SSSE3, FE_SSSE3, 1));
}
