/**
 * MMX/SSE2 packed-integer arithmetic, logic, compares, packs and unpacks, shifts (SDM Vol. 2
 * entries PADDB..PXOR; Vol. 1 §9.4 and §11.4.1). Every kernel computes R from A (the
 * destination's old value) and B (the source) over n = 8 or 16 bytes; the handlers in
 * common.ts fetch the operands and apply the MMX aliasing.
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import {
  A, B, R, A8, B8, R8, A8s, B8s, A16, B16, R16, A16s, B16s, packed, FE_MMX, FE_SSE, FE_SSE2, type Kernel,
  pfxIndex, P_66, P_NONE, sseCheck, mmxCheck, has, loadXmmA, loadMmA, storeXmmR, storeMmR,
} from './common.js';

const R8s = new Int8Array(R.buffer), R16s = new Int16Array(R.buffer);

const sat8s = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const sat8u = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const sat16u = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);

// ---- lane-wise arithmetic -------------------------------------------------------------------
export const paddb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = A8[i]! + B8[i]!; };
export const paddw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = A16[i]! + B16[i]!; };
export const paddd: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = (A[i]! + B[i]!) | 0; };
export const paddq: Kernel = (n) => {
  for (let i = 0; i < n >> 2; i += 2) {
    const lo = (A[i]! >>> 0) + (B[i]! >>> 0);
    R[i] = lo | 0; R[i + 1] = (A[i + 1]! + B[i + 1]! + (lo > 0xffffffff ? 1 : 0)) | 0;
  }
};
export const psubb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = A8[i]! - B8[i]!; };
export const psubw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = A16[i]! - B16[i]!; };
export const psubd: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = (A[i]! - B[i]!) | 0; };
export const psubq: Kernel = (n) => {
  for (let i = 0; i < n >> 2; i += 2) {
    const borrow = (A[i]! >>> 0) < (B[i]! >>> 0) ? 1 : 0;
    R[i] = (A[i]! - B[i]!) | 0; R[i + 1] = (A[i + 1]! - B[i + 1]! - borrow) | 0;
  }
};
export const paddsb: Kernel = (n) => { for (let i = 0; i < n; i++) R8s[i] = sat8s(A8s[i]! + B8s[i]!); };
export const paddsw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16s[i] = sat16s(A16s[i]! + B16s[i]!); };
export const paddusb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = sat8u(A8[i]! + B8[i]!); };
export const paddusw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = sat16u(A16[i]! + B16[i]!); };
export const psubsb: Kernel = (n) => { for (let i = 0; i < n; i++) R8s[i] = sat8s(A8s[i]! - B8s[i]!); };
export const psubsw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16s[i] = sat16s(A16s[i]! - B16s[i]!); };
export const psubusb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = sat8u(A8[i]! - B8[i]!); };
export const psubusw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = sat16u(A16[i]! - B16[i]!); };
export const pmullw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = Math.imul(A16s[i]!, B16s[i]!); };
export const pmulhw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = Math.imul(A16s[i]!, B16s[i]!) >> 16; };
export const pmulhuw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = (A16[i]! * B16[i]!) / 65536; };
/** PMULUDQ: unsigned 32x32 → 64 of the even dwords (exact with 16-bit partial products). */
export const pmuludq: Kernel = (n) => {
  for (let i = 0; i < n >> 2; i += 2) {
    const a = A[i]! >>> 0, b = B[i]! >>> 0;
    const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
    const ll = al * bl, mid = ah * bl + al * bh; // mid < 2^33
    const lo = ll + (mid % 65536) * 65536;
    R[i] = lo | 0;
    R[i + 1] = (ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) | 0;
  }
};
export const pmaddwd: Kernel = (n) => {
  for (let i = 0; i < n >> 2; i++) R[i] = (Math.imul(A16s[2 * i]!, B16s[2 * i]!) + Math.imul(A16s[2 * i + 1]!, B16s[2 * i + 1]!)) | 0;
};
export const psadbw: Kernel = (n) => {
  for (let q = 0; q < n; q += 8) {
    let s = 0;
    for (let i = q; i < q + 8; i++) s += Math.abs(A8[i]! - B8[i]!);
    R[q >> 2] = s; R[(q >> 2) + 1] = 0;
  }
};
export const pavgb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = (A8[i]! + B8[i]! + 1) >> 1; };
export const pavgw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = (A16[i]! + B16[i]! + 1) >> 1; };
export const pminub: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = Math.min(A8[i]!, B8[i]!); };
export const pmaxub: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = Math.max(A8[i]!, B8[i]!); };
export const pminsw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16s[i] = Math.min(A16s[i]!, B16s[i]!); };
export const pmaxsw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16s[i] = Math.max(A16s[i]!, B16s[i]!); };

// ---- compares and logic ---------------------------------------------------------------------
export const pcmpeqb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = A8[i] === B8[i] ? 0xff : 0; };
export const pcmpeqw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = A16[i] === B16[i] ? 0xffff : 0; };
export const pcmpeqd: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = A[i] === B[i] ? -1 : 0; };
export const pcmpgtb: Kernel = (n) => { for (let i = 0; i < n; i++) R8[i] = A8s[i]! > B8s[i]! ? 0xff : 0; };
export const pcmpgtw: Kernel = (n) => { for (let i = 0; i < n >> 1; i++) R16[i] = A16s[i]! > B16s[i]! ? 0xffff : 0; };
export const pcmpgtd: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = A[i]! > B[i]! ? -1 : 0; };
export const pand: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = A[i]! & B[i]!; };
export const pandn: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = ~A[i]! & B[i]!; };
export const por: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = A[i]! | B[i]!; };
export const pxor: Kernel = (n) => { for (let i = 0; i < n >> 2; i++) R[i] = A[i]! ^ B[i]!; };

// ---- unpacks and packs ----------------------------------------------------------------------
function unpack(n: number, elem: number, high: boolean): void {
  const half = n >> 1, base = high ? half : 0;
  for (let i = 0; i < half; i += elem) {
    for (let k = 0; k < elem; k++) {
      R8[2 * i + k] = A8[base + i + k]!;
      R8[2 * i + elem + k] = B8[base + i + k]!;
    }
  }
}
export const punpcklbw: Kernel = (n) => unpack(n, 1, false);
export const punpcklwd: Kernel = (n) => unpack(n, 2, false);
export const punpckldq: Kernel = (n) => unpack(n, 4, false);
export const punpcklqdq: Kernel = (n) => unpack(n, 8, false);
export const punpckhbw: Kernel = (n) => unpack(n, 1, true);
export const punpckhwd: Kernel = (n) => unpack(n, 2, true);
export const punpckhdq: Kernel = (n) => unpack(n, 4, true);
export const punpckhqdq: Kernel = (n) => unpack(n, 8, true);
export const packsswb: Kernel = (n) => {
  const h = n >> 1;
  for (let i = 0; i < h; i++) { R8s[i] = sat8s(A16s[i]!); R8s[h + i] = sat8s(B16s[i]!); }
};
export const packuswb: Kernel = (n) => {
  const h = n >> 1;
  for (let i = 0; i < h; i++) { R8[i] = sat8u(A16s[i]!); R8[h + i] = sat8u(B16s[i]!); }
};
export const packssdw: Kernel = (n) => {
  const h = n >> 2;
  for (let i = 0; i < h; i++) { R16s[i] = sat16s(A[i]!); R16s[h + i] = sat16s(B[i]!); }
};

// ---- shifts ---------------------------------------------------------------------------------
/** Shift count of the register/memory forms: the whole low quadword of B, unsigned. */
function countB(): number { return B[1] !== 0 || (B[0]! >>> 0) > 255 ? 255 : B[0]! >>> 0; }

export function shift(n: number, elem: number, kind: number, c: number): void {
  // kind 0 logical right, 1 arithmetic right, 2 left
  const bits = elem * 8;
  if (elem === 2) {
    for (let i = 0; i < n >> 1; i++) {
      const v = A16[i]!;
      R16[i] = kind === 2 ? (c >= bits ? 0 : v << c) : kind === 0 ? (c >= bits ? 0 : v >>> c) : (A16s[i]! >> (c >= bits ? 15 : c));
    }
  } else if (elem === 4) {
    for (let i = 0; i < n >> 2; i++) {
      const v = A[i]!;
      R[i] = kind === 2 ? (c >= bits ? 0 : v << c) : kind === 0 ? (c >= bits ? 0 : v >>> c) : v >> (c >= bits ? 31 : c);
    }
  } else {
    for (let i = 0; i < n >> 2; i += 2) {
      const lo = A[i]!, hi = A[i + 1]!;
      if (c >= 64) { R[i] = 0; R[i + 1] = 0; }
      else if (kind === 2) {
        if (c >= 32) { R[i + 1] = lo << (c - 32); R[i] = 0; }
        else if (c === 0) { R[i] = lo; R[i + 1] = hi; }
        else { R[i + 1] = (hi << c) | (lo >>> (32 - c)); R[i] = lo << c; }
      } else {
        if (c >= 32) { R[i] = hi >>> (c - 32); R[i + 1] = 0; }
        else if (c === 0) { R[i] = lo; R[i + 1] = hi; }
        else { R[i] = (lo >>> c) | (hi << (32 - c)); R[i + 1] = hi >>> c; }
      }
    }
  }
}
export const shiftBy = (elem: number, kind: number): Kernel => (n) => shift(n, elem, kind, countB());

/** PSRLDQ/PSLLDQ: whole-register byte shifts (66 0F 73 /3, /7). */
export function byteShift(n: number, c: number, left: boolean): void {
  if (c > 16) c = 16;
  for (let i = 0; i < n; i++) {
    const j = left ? i - c : i + c;
    R8[i] = j >= 0 && j < n ? A8[j]! : 0;
  }
}

/**
 * 0F 71/72/73: shift groups with imm8 on the r/m register (/2 PSRL, /4 PSRA, /6 PSLL; 66 0F 73
 * /3 PSRLDQ and /7 PSLLDQ). Memory forms and other /reg values are #UD.
 */
function group(elem: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(1);
    const op = (cpu.modrmByte >> 3) & 7, p = pfxIndex(cpu);
    const ok = op === 2 || op === 6 || (op === 4 && elem !== 8) || (elem === 8 && (op === 3 || op === 7) && p === P_66);
    if (cpu.mod !== 3 || !ok) cpu.ud();
    let n = 16;
    if (p === P_66) { sseCheck(cpu, has(cpu, FE_SSE2)); loadXmmA(cpu, cpu.rm); }
    else if (p === P_NONE) { mmxCheck(cpu, has(cpu, FE_MMX)); loadMmA(cpu, cpu.rm); n = 8; }
    else cpu.ud();
    const imm = cpu.fetch8();
    if (op === 3 || op === 7) byteShift(n, imm, op === 7);
    else shift(n, elem, op === 2 ? 0 : op === 4 ? 1 : 2, imm);
    if (n === 16) storeXmmR(cpu, cpu.rm); else storeMmR(cpu, cpu.rm);
  };
}

export function installInteger(t: Handler[]): void {
  const ops: Array<[number, Kernel, number, number?]> = [
    [0x60, punpcklbw, FE_MMX, 4], [0x61, punpcklwd, FE_MMX, 4], [0x62, punpckldq, FE_MMX, 4],
    [0x63, packsswb, FE_MMX], [0x64, pcmpgtb, FE_MMX], [0x65, pcmpgtw, FE_MMX], [0x66, pcmpgtd, FE_MMX],
    [0x67, packuswb, FE_MMX], [0x68, punpckhbw, FE_MMX], [0x69, punpckhwd, FE_MMX], [0x6a, punpckhdq, FE_MMX],
    [0x6b, packssdw, FE_MMX], [0x6c, punpcklqdq, -1], [0x6d, punpckhqdq, -1],
    [0x74, pcmpeqb, FE_MMX], [0x75, pcmpeqw, FE_MMX], [0x76, pcmpeqd, FE_MMX],
    [0xd1, shiftBy(2, 0), FE_MMX], [0xd2, shiftBy(4, 0), FE_MMX], [0xd3, shiftBy(8, 0), FE_MMX],
    [0xd4, paddq, FE_SSE2], [0xd5, pmullw, FE_MMX], [0xd8, psubusb, FE_MMX], [0xd9, psubusw, FE_MMX],
    [0xda, pminub, FE_SSE], [0xdb, pand, FE_MMX], [0xdc, paddusb, FE_MMX], [0xdd, paddusw, FE_MMX],
    [0xde, pmaxub, FE_SSE], [0xdf, pandn, FE_MMX],
    [0xe0, pavgb, FE_SSE], [0xe1, shiftBy(2, 1), FE_MMX], [0xe2, shiftBy(4, 1), FE_MMX], [0xe3, pavgw, FE_SSE],
    [0xe4, pmulhuw, FE_SSE], [0xe5, pmulhw, FE_MMX], [0xe8, psubsb, FE_MMX], [0xe9, psubsw, FE_MMX],
    [0xea, pminsw, FE_SSE], [0xeb, por, FE_MMX], [0xec, paddsb, FE_MMX], [0xed, paddsw, FE_MMX],
    [0xee, pmaxsw, FE_SSE], [0xef, pxor, FE_MMX],
    [0xf1, shiftBy(2, 2), FE_MMX], [0xf2, shiftBy(4, 2), FE_MMX], [0xf3, shiftBy(8, 2), FE_MMX],
    [0xf4, pmuludq, FE_SSE2], [0xf5, pmaddwd, FE_MMX], [0xf6, psadbw, FE_SSE],
    [0xf8, psubb, FE_MMX], [0xf9, psubw, FE_MMX], [0xfa, psubd, FE_MMX], [0xfb, psubq, FE_SSE2],
    [0xfc, paddb, FE_MMX], [0xfd, paddw, FE_MMX], [0xfe, paddd, FE_MMX],
  ];
  for (const [op, k, mmxFe, mmxMem] of ops) def(t, 0x100 | op, packed(k, FE_SSE2, mmxFe, 0, mmxMem ?? 8));
  def(t, 0x171, group(2));
  def(t, 0x172, group(4));
  def(t, 0x173, group(8));
}
