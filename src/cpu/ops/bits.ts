/**
 * Bit instructions: BT/BTS/BTR/BTC (0F A3 AB B3 BB, group 8 0F BA), BSF/BSR (0F BC BD),
 * TZCNT/LZCNT (F3 0F BC/BD), POPCNT (F3 0F B8), BSWAP (0F C8+r), MOVBE (0F 38 F0/F1).
 * SDM Vol. 2A "BT", "BTC", "BTR", "BTS", "BSF", "BSR", Vol. 2B "LZCNT", "POPCNT", "TZCNT".
 */
import type { Cpu, Handler } from '../cpu.js';
import { CF, ZF, OF, REP_E, REP_NE } from '../cpu.js';
import { FXC_ABM, F7B_BMI1, isAmd } from '../profile.js';
import { def } from './table.js';
import { TWO32, MASK, lockMem, noLock, szpSz } from './alucommon.js';
import { crc32 } from '../sse/sse42.js';

/** Bit operation on a value: 0 BT, 1 BTS, 2 BTR, 3 BTC; sets CF; returns the new value (lo). */
function bitOp(cpu: Cpu, kind: number, lo: number, hi: number, n: number): number {
  const inHi = n >= 32;
  const w = inHi ? hi : lo, m = 1 << (n & 31);
  // CF = the selected bit; ZF unaffected; OF SF AF PF undefined (left unchanged, as Bochs does)
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~CF) | ((w & m) !== 0 ? CF : 0);
  let nw: number;
  switch (kind) {
    case 1: nw = w | m; break;
    case 2: nw = w & ~m; break;
    case 3: nw = w ^ m; break;
    default: nw = w;
  }
  if (inHi) { cpu.hi = nw; return lo; }
  cpu.hi = hi;
  return nw;
}

/** Common body once the bit number within the (possibly displaced) operand is known. */
function bitE(cpu: Cpu, kind: number, size: number, n: number): void {
  if (cpu.mod === 3) {
    const a = cpu.getRegSz(cpu.rm, size), aHi = cpu.hi;
    const r = bitOp(cpu, kind, a, aHi, n);
    if (kind !== 0) cpu.setRegSz(cpu.rm, size, r & MASK[size]!, cpu.hi);
    return;
  }
  const lin = cpu.eaLin(size, kind !== 0);
  const a = cpu.rdSz(lin, size), aHi = cpu.hi;
  const r = bitOp(cpu, kind, a, aHi, n);
  if (kind !== 0) cpu.wrSz(lin, size, r & MASK[size]!, cpu.hi);
}

/**
 * 0F A3/AB/B3/BB Ev,Gv. With a memory operand the register is a signed bit offset that
 * may address beyond the operand: the operand moves by (offset >> log2(bits)) operands
 * (SDM Vol. 2A BT, "Bit(BitBase, BitOffset)"). The effective address wraps at the
 * address size.
 */
function btEvGv(cpu: Cpu): void {
  const kind = ((cpu.opcode & 0xff) - 0xa3) >> 3; // A3 BT, AB BTS, B3 BTR, BB BTC
  cpu.decodeModrm(0);
  if (kind === 0) noLock(cpu); else lockMem(cpu);
  const size = cpu.osz, bits = size * 8;
  let off = cpu.getRegSz(cpu.reg, size);
  const offHi = cpu.hi;
  if (cpu.mod === 3) { bitE(cpu, kind, size, off & (bits - 1)); return; }
  // byte displacement = (signed offset >> log2(bits)) * size, computed on halves
  let dLo: number, dHi: number;
  if (size === 8) {
    // (off >> 6) << 3  ==  (off >> 3) with the low 3 bits cleared
    dLo = ((off >>> 3) | (offHi << 29)) & ~7;
    dHi = offHi >> 3;
  } else {
    if (size === 2) off = (off << 16) >> 16;
    const d = (off >> (size === 2 ? 4 : 5)) * size; // |d| < 2^30: exact
    dLo = d | 0; dHi = d < 0 ? -1 : 0;
  }
  const n = size === 8 ? off & 63 : off & (bits - 1);
  if (cpu.asz === 8) {
    const s = (cpu.eaLo >>> 0) + (dLo >>> 0);
    cpu.eaLo = s | 0;
    cpu.eaHi = (cpu.eaHi + dHi + (s >= TWO32 ? 1 : 0)) | 0;
  } else if (cpu.asz === 4) cpu.eaLo = (cpu.eaLo + dLo) | 0;
  else cpu.eaLo = (cpu.eaLo + dLo) & 0xffff;
  bitE(cpu, kind, size, n);
}

/** 0F BA group 8: /4 BT /5 BTS /6 BTR /7 BTC Ev,Ib (offset masked to the operand size). */
function grp8(cpu: Cpu): void {
  cpu.decodeModrm(1);
  const op = cpu.reg & 7;
  if (op < 4) cpu.ud();
  if (op === 4) noLock(cpu); else lockMem(cpu);
  const size = cpu.osz;
  const n = cpu.fetch8() & (size * 8 - 1);
  bitE(cpu, op - 4, size, n);
}

/** Index of the lowest set bit of lo/hi (64-bit), or -1. */
function lowest(lo: number, hi: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  if (hi !== 0) return 63 - Math.clz32(hi & -hi);
  return -1;
}
/** Index of the highest set bit, or -1. */
function highest(lo: number, hi: number): number {
  if (hi !== 0) return 63 - Math.clz32(hi);
  if (lo !== 0) return 31 - Math.clz32(lo);
  return -1;
}

/**
 * 0F BC BSF / 0F BD BSR, and with F3 TZCNT / LZCNT when the profile has them (BMI1 / ABM;
 * without them the F3 prefix is ignored, as on older processors).
 */
function bsfBsr(cpu: Cpu): void {
  cpu.decodeModrm(0);
  noLock(cpu);
  const size = cpu.osz, bits = size * 8;
  const reverse = cpu.opcode === 0x1bd;
  const src = cpu.readE(size);
  const srcHi = size === 8 ? cpu.hi : 0;
  const lo = src & MASK[size]!;
  const p = cpu.profile;
  const counting = cpu.rep === REP_E && (reverse ? (p.ext1Ecx & FXC_ABM) !== 0 : (p.leaf7Ebx & F7B_BMI1) !== 0);
  if (counting) {
    // TZCNT/LZCNT: CF = (source == 0), ZF = (result == 0); OF SF AF PF are undefined (SDM
    // Vol. 2B TZCNT/LZCNT). nestvisor-amd does what this host (Zen 4) does, measured with
    // ops/alu-diff.test.ts: OF unchanged, SF AF PF cleared. Intel's choice is not known here
    // (no Intel host to measure): nestvisor-intel keeps OF SF AF cleared and PF from the result.
    let n: number;
    if (reverse) { const h = highest(lo, srcHi); n = h < 0 ? bits : bits - 1 - h; }
    else { const l = lowest(lo, srcHi); n = l < 0 ? bits : l; }
    let undef: number;
    if (isAmd(p)) { cpu.materializeFlags(); undef = cpu.flags & OF; } else undef = cpu.szp(n, 4) & 0x04;
    cpu.setArith((lo === 0 && srcHi === 0 ? CF : 0) | (n === 0 ? ZF : 0) | undef);
    cpu.setRegSz(cpu.reg, size, n, 0);
    return;
  }
  const idx = reverse ? highest(lo, srcHi) : lowest(lo, srcHi);
  if (idx < 0) {
    // Source 0: ZF = 1 and the destination keeps its value; Intel processors still write
    // a 32-bit destination, so its upper half is cleared (the SDM calls it undefined).
    cpu.materializeFlags();
    cpu.flags |= ZF;
    if (size === 4) cpu.setReg32(cpu.reg, cpu.getReg32(cpu.reg));
    return;
  }
  // ZF = 0; CF OF SF AF PF undefined: Bochs-like logic flags of the result
  cpu.setArith(szpSz(cpu, idx, 0, 4) & ~ZF);
  cpu.setRegSz(cpu.reg, size, idx, 0);
}

/** Set-bit count of a 32-bit value. */
function pop32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** F3 0F B8 POPCNT Gv,Ev: flags all cleared except ZF = (source == 0). Without F3: #UD (JMPE). */
function popcnt(cpu: Cpu): void {
  if (cpu.rep !== REP_E) cpu.ud();
  cpu.decodeModrm(0);
  noLock(cpu);
  const size = cpu.osz;
  const lo = cpu.readE(size) & MASK[size]!;
  const hi = size === 8 ? cpu.hi : 0;
  const n = pop32(lo) + pop32(hi);
  cpu.setArith(n === 0 ? ZF : 0);
  cpu.setRegSz(cpu.reg, size, n, 0);
}

/** Byte-reverses a 32-bit value. */
function bswap32(v: number): number {
  return ((v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) | 0;
}

/** 0F C8+r BSWAP r32/r64. With a 16-bit operand the result is undefined; Intel processors give 0. */
function bswap(cpu: Cpu): void {
  noLock(cpu);
  const n = (cpu.opcode & 7) | cpu.rexB;
  if (cpu.osz === 8) { const lo = cpu.getReg64(n), hi = cpu.hi; cpu.setReg64(n, bswap32(hi), bswap32(lo)); }
  else if (cpu.osz === 4) cpu.setReg32(n, bswap32(cpu.getReg32(n)));
  else cpu.setReg16(n, 0);
}

/**
 * 0F 38 F0 MOVBE Gv,Mv / 0F 38 F1 MOVBE Mv,Gv: a load or store with the bytes reversed.
 * Register operands are #UD; the F2 forms are CRC32 (SSE4.2, sse/sse42.ts).
 */
function movbe(cpu: Cpu): void {
  if (cpu.rep === REP_NE) { crc32(cpu); return; } // F2: SSE4.2 CRC32 (sse/sse42.ts)
  cpu.decodeModrm(0);
  noLock(cpu);
  if (cpu.mod === 3) cpu.ud();
  const size = cpu.osz;
  const store = cpu.opcode === 0x2f1;
  if (store) {
    const v = cpu.getRegSz(cpu.reg, size), vHi = cpu.hi;
    const lin = cpu.eaLin(size, true);
    if (size === 2) cpu.wr16(lin, ((v & 0xff) << 8) | ((v >>> 8) & 0xff));
    else if (size === 4) cpu.wr32(lin, bswap32(v));
    else cpu.wr64(lin, bswap32(vHi), bswap32(v));
    return;
  }
  const lin = cpu.eaLin(size, false);
  const v = cpu.rdSz(lin, size), vHi = cpu.hi;
  if (size === 2) cpu.setReg16(cpu.reg, ((v & 0xff) << 8) | ((v >>> 8) & 0xff));
  else if (size === 4) cpu.setReg32(cpu.reg, bswap32(v));
  else cpu.setReg64(cpu.reg, bswap32(vHi), bswap32(v));
}

export function installBits(t: Handler[]): void {
  for (const op of [0x1a3, 0x1ab, 0x1b3, 0x1bb]) def(t, op, btEvGv);
  def(t, 0x1ba, grp8);
  def(t, 0x1bc, bsfBsr); def(t, 0x1bd, bsfBsr);
  def(t, 0x1b8, popcnt);
  for (let r = 0; r < 8; r++) def(t, 0x1c8 + r, bswap);
  def(t, 0x2f0, movbe); def(t, 0x2f1, movbe);
}
