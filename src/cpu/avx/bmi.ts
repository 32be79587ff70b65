/**
 * BMI1 and BMI2: VEX-encoded general-purpose instructions (SDM Vol. 2 ANDN, BEXTR, BLSI,
 * BLSMSK, BLSR, BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX). TZCNT (BMI1's legacy-encoded
 * member) lives in ops/bits.ts.
 *
 * | VEX map.pp opcode  | instruction          | operands (reg, vvvv, r/m)          | CPUID  |
 * |--------------------|----------------------|------------------------------------|--------|
 * | 0F38.NP F2         | ANDN                 | dest, src1, src2                   | BMI1   |
 * | 0F38.NP F3 /1 /2 /3| BLSR / BLSMSK / BLSI | — , dest, src                      | BMI1   |
 * | 0F38.NP F7         | BEXTR                | dest, control, src                 | BMI1   |
 * | 0F38.NP F5         | BZHI                 | dest, index, src                   | BMI2   |
 * | 0F38.F2 F5 / F3 F5 | PDEP / PEXT          | dest, src, mask                    | BMI2   |
 * | 0F38.F2 F6         | MULX                 | dest hi, dest lo, src (× EDX/RDX)  | BMI2   |
 * | 0F3A.F2 F0 ib      | RORX                 | dest, —, src                       | BMI2   |
 * | 0F38.F3/66/F2 F7   | SARX / SHLX / SHRX   | dest, count, src                   | BMI2   |
 *
 * Availability (SDM Vol. 2 §2.5.1, "Exception Conditions for VEX-Encoded GPR Instructions",
 * Table 2-29): #UD when the CPUID bit (CPUID.(7,0):EBX bit 3 BMI1, bit 8 BMI2) is 0, VEX.L = 1,
 * or LOCK (a 66/F2/F3/REX prefix before VEX is #UD in the decoder). Unlike vector VEX
 * instructions they do not consult CR4.OSXSAVE, XCR0 or CR0.TS. Operand size: 64 bits with
 * VEX.W1 in 64-bit mode, else 32 (W is ignored outside 64-bit mode); a 32-bit result
 * zero-extends. vvvv names a general register (its bit 3 ignored outside 64-bit mode).
 *
 * Flags: the SDM's defined flags; for the ones it calls undefined this CPU's behaviour (the
 * differential test's host, Zen 4, found deterministic): ANDN, BLSI, BLSMSK, BLSR, BZHI
 * AF = 0, PF = parity of the result's low byte; BEXTR AF = 1, PF = parity, SF = 0.
 * PDEP, PEXT, MULX, RORX, SARX, SHLX, SHRX leave the flags alone.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { F7B_BMI1, F7B_BMI2 } from '../profile.js';
import { CF, PF, AF, ZF, SF } from '../regs.js';
import { umul32, umul64, P } from '../ops/muldiv.js';
import { byPrefix } from './common.js';

const M2 = 0x500, M3 = 0x600;

/** The VEX-GPR check (Table 2-29): feature bit, VEX.L = 0, no LOCK. */
function bmiCheck(cpu: Cpu, feature: number): void {
  if ((cpu.profile.leaf7Ebx & feature) === 0 || cpu.vexL !== 0 || cpu.lock) cpu.ud();
}

/** Operand size: VEX.W1 in 64-bit mode → 8, else 4. */
function osize(cpu: Cpu): number { return cpu.code64 && cpu.rexW ? 8 : 4; }

/** The general register VEX.vvvv names. */
function vreg(cpu: Cpu): number { return cpu.code64 ? cpu.vexV : cpu.vexV & 7; }

/** Parity flag of a result's low byte (SDM Vol. 1 §3.4.3.1). */
function parity(v: number): number {
  let b = v & 0xff;
  b ^= b >> 4; b ^= b >> 2; b ^= b >> 1;
  return (b & 1) === 0 ? PF : 0;
}

/** ZF, SF, PF of a result (lo, hi) of `size` bytes. */
function zsp(lo: number, hi: number, size: number): number {
  const top = size === 8 ? hi : lo;
  return ((size === 8 ? (lo | hi) : lo) === 0 ? ZF : 0) | (top < 0 ? SF : 0) | parity(lo);
}

/** Reads the r/m source (register or memory) at `size`: lo returned, hi in cpu.hi (0 for size 4). */
function src(cpu: Cpu, size: number): number {
  const lo = cpu.readE(size);
  if (size !== 8) cpu.hi = 0;
  return lo;
}

/** Reads the vvvv register at `size`: lo returned, hi in cpu.hi. */
function vsrcGpr(cpu: Cpu, size: number): number {
  const n = vreg(cpu), r = cpu.r;
  cpu.hi = size === 8 ? r[(n << 1) + 1]! : 0;
  return r[n << 1]!;
}

// ---- 64-bit shifts on halves, count 0..63; results: lo returned, hi in SH -------------------
let SH = 0;
function shr64(lo: number, hi: number, c: number): number {
  if (c === 0) { SH = hi; return lo; }
  if (c >= 32) { SH = 0; return hi >>> (c - 32); }
  SH = hi >>> c; return (lo >>> c) | (hi << (32 - c));
}
function shl64(lo: number, hi: number, c: number): number {
  if (c === 0) { SH = hi; return lo; }
  if (c >= 32) { SH = lo << (c - 32); return 0; }
  SH = (hi << c) | (lo >>> (32 - c)); return lo << c;
}
function sar64(lo: number, hi: number, c: number): number {
  if (c === 0) { SH = hi; return lo; }
  if (c >= 32) { SH = hi >> 31; return hi >> (c - 32); }
  SH = hi >> c; return (lo >>> c) | (hi << (32 - c));
}
/** (lo, hi) with bits n and above cleared (n ≥ 64: unchanged). */
function lowBits(lo: number, hi: number, n: number): number {
  if (n >= 64) { SH = hi; return lo; }
  if (n >= 32) { SH = n === 32 ? 0 : hi & (-1 >>> (64 - n)); return lo; }
  SH = 0; return n === 0 ? 0 : lo & (-1 >>> (32 - n));
}

/** ANDN r, vvvv, r/m: dest = ~src1 & src2; SF ZF by result, CF = OF = 0 (Zen 4: AF = 0, PF parity). */
function andn(cpu: Cpu): void {
  cpu.decodeModrm(0);
  bmiCheck(cpu, F7B_BMI1);
  const size = osize(cpu);
  const a = vsrcGpr(cpu, size), aH = cpu.hi;
  const b = src(cpu, size), bH = cpu.hi;
  const lo = ~a & b, hi = size === 8 ? ~aH & bH : 0;
  cpu.setRegSz(cpu.reg, size, lo, hi);
  cpu.setArith(zsp(lo, hi, size));
}

/**
 * F3 /1 BLSR, /2 BLSMSK, /3 BLSI vvvv, r/m (SDM: BLSR dest = src & (src - 1), CF = (src = 0),
 * ZF/SF by result; BLSMSK dest = src ^ (src - 1), CF = (src = 0), ZF = 0; BLSI dest = src & -src,
 * CF = (src ≠ 0), ZF/SF by result; OF = 0; AF and PF undefined (Zen 4: 0 and parity).
 */
function blsGroup(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const op = (cpu.modrmByte >> 3) & 7;
  if (op < 1 || op > 3) cpu.ud();
  bmiCheck(cpu, F7B_BMI1);
  const size = osize(cpu);
  const s = src(cpu, size), sH = cpu.hi;
  const zero = s === 0 && sH === 0;
  // src - 1 and -src on halves
  const mLo = (s - 1) | 0, mHi = size === 8 ? (s === 0 ? (sH - 1) | 0 : sH) : 0;
  let lo: number, hi: number, f: number;
  if (op === 1) { lo = s & mLo; hi = sH & mHi; f = zero ? CF : 0; }
  else if (op === 2) { lo = s ^ mLo; hi = sH ^ mHi; f = zero ? CF : 0; }
  else {
    const nLo = -s | 0, nHi = size === 8 ? (~sH + (s === 0 ? 1 : 0)) | 0 : 0;
    lo = s & nLo; hi = sH & nHi; f = zero ? 0 : CF;
  }
  const z = zsp(lo, hi, size);
  cpu.setRegSz(vreg(cpu), size, lo, hi);
  cpu.setArith(f | (op === 2 ? z & ~ZF : z));
}

/**
 * BEXTR r, r/m, vvvv: bits start = vvvv[7:0] .. start + len - 1 (len = vvvv[15:8]) of the
 * source, zero-extended; bits past the operand read as 0. ZF by result, CF = OF = 0; AF SF PF
 * undefined (Zen 4: AF = 1, SF = 0, PF parity).
 */
function bextr(cpu: Cpu): void {
  cpu.decodeModrm(0);
  bmiCheck(cpu, F7B_BMI1);
  const size = osize(cpu), bits = size * 8;
  const ctl = vsrcGpr(cpu, size);
  const s = src(cpu, size), sH = cpu.hi;
  const start = ctl & 0xff, len = (ctl >>> 8) & 0xff;
  let lo = 0, hi = 0;
  if (start < bits) {
    lo = shr64(s, sH, start); hi = SH;
    lo = lowBits(lo, hi, len); hi = SH;
  }
  cpu.setRegSz(cpu.reg, size, lo, hi);
  cpu.setArith(((lo | hi) === 0 ? ZF : 0) | AF | parity(lo));
}

/**
 * BZHI r, r/m, vvvv: the source with bits n = vvvv[7:0] and up cleared (n ≥ operand size:
 * unchanged, CF = 1); ZF SF by result, OF = 0; AF PF undefined (Zen 4: 0 and parity).
 */
function bzhi(cpu: Cpu): void {
  cpu.decodeModrm(0);
  bmiCheck(cpu, F7B_BMI2);
  const size = osize(cpu), bits = size * 8;
  const n = vsrcGpr(cpu, size) & 0xff;
  const s = src(cpu, size), sH = cpu.hi;
  const lo = lowBits(s, sH, n), hi = SH;
  cpu.setRegSz(cpu.reg, size, lo, hi);
  cpu.setArith(zsp(lo, hi, size) | (n > bits - 1 ? CF : 0));
}

/** PDEP r, vvvv, r/m: the source's low bits deposited, in order, at the mask's set bits. */
function pdep(cpu: Cpu): void {
  cpu.decodeModrm(0);
  bmiCheck(cpu, F7B_BMI2);
  const size = osize(cpu);
  let s = vsrcGpr(cpu, size), sH = cpu.hi;
  const m = src(cpu, size), mH = cpu.hi;
  let lo = 0, hi = 0;
  for (let half = 0; half < 2; half++) {
    const mk = half === 0 ? m : mH;
    let r = 0;
    for (let b = 0; b < 32; b++) {
      if (((mk >>> b) & 1) === 0) continue;
      if ((s & 1) !== 0) r |= 1 << b;
      s = (s >>> 1) | (sH << 31); sH >>>= 1; // next source bit
    }
    if (half === 0) lo = r; else hi = r;
  }
  cpu.setRegSz(cpu.reg, size, lo, size === 8 ? hi : 0);
}

/** PEXT r, vvvv, r/m: the source's bits at the mask's set bits, packed into the low bits. */
function pext(cpu: Cpu): void {
  cpu.decodeModrm(0);
  bmiCheck(cpu, F7B_BMI2);
  const size = osize(cpu);
  const s = vsrcGpr(cpu, size), sH = cpu.hi;
  const m = src(cpu, size), mH = cpu.hi;
  let lo = 0, hi = 0, k = 0;
  for (let half = 0; half < 2; half++) {
    const mk = half === 0 ? m : mH, sv = half === 0 ? s : sH;
    for (let b = 0; b < 32; b++) {
      if (((mk >>> b) & 1) === 0) continue;
      if (((sv >>> b) & 1) !== 0) { if (k < 32) lo |= 1 << k; else hi |= 1 << (k - 32); }
      k++;
    }
  }
  cpu.setRegSz(cpu.reg, size, lo, size === 8 ? hi : 0);
}

/**
 * MULX r (high), vvvv (low), r/m: unsigned EDX/RDX × source, no flags. The low half is
 * written first, so when both destinations are one register it holds the high half (SDM).
 */
function mulx(cpu: Cpu): void {
  cpu.decodeModrm(0);
  bmiCheck(cpu, F7B_BMI2);
  const size = osize(cpu);
  const s = src(cpu, size), sH = cpu.hi;
  const r = cpu.r;
  if (size === 8) {
    umul64(r[4]!, r[5]!, s, sH);
    const l0 = P[0]!, l1 = P[1]!, h0 = P[2]!, h1 = P[3]!;
    cpu.setRegSz(vreg(cpu), 8, l0, l1);
    cpu.setRegSz(cpu.reg, 8, h0, h1);
  } else {
    umul32(r[4]!, s);
    const l0 = P[0]!, h0 = P[1]!;
    cpu.setRegSz(vreg(cpu), 4, l0, 0);
    cpu.setRegSz(cpu.reg, 4, h0, 0);
  }
}

/** RORX r, r/m, imm8: rotate right by imm8 mod the operand size, no flags; vvvv must be 1111b. */
function rorx(cpu: Cpu): void {
  cpu.decodeModrm(1);
  bmiCheck(cpu, F7B_BMI2);
  if (cpu.vexV !== 0) cpu.ud();
  const size = osize(cpu);
  const imm = cpu.fetch8();
  const s = src(cpu, size), sH = cpu.hi;
  if (size === 8) {
    const c = imm & 63;
    let lo = shr64(s, sH, c), hi = SH;
    if (c !== 0) { lo |= shl64(s, sH, 64 - c); hi |= SH; }
    cpu.setRegSz(cpu.reg, 8, lo, hi);
  } else {
    const c = imm & 31;
    cpu.setRegSz(cpu.reg, 4, c === 0 ? s : (s >>> c) | (s << (32 - c)), 0);
  }
}

/** SARX/SHLX/SHRX r, r/m, vvvv: shift by vvvv mod the operand size, no flags. */
function shiftx(kind: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    bmiCheck(cpu, F7B_BMI2);
    const size = osize(cpu);
    const c = vsrcGpr(cpu, size) & (size * 8 - 1);
    const s = src(cpu, size), sH = cpu.hi;
    let lo: number, hi = 0;
    if (size === 8) {
      lo = kind === 0 ? sar64(s, sH, c) : kind === 1 ? shl64(s, sH, c) : shr64(s, sH, c);
      hi = SH;
    } else lo = kind === 0 ? s >> c : kind === 1 ? s << c : s >>> c;
    cpu.setRegSz(cpu.reg, size, lo, hi);
  };
}

export function installBmi(t: Handler[]): void {
  def(t, M2 | 0xf2, byPrefix(andn, null, null, null));
  def(t, M2 | 0xf3, byPrefix(blsGroup, null, null, null));
  def(t, M2 | 0xf5, byPrefix(bzhi, null, pext, pdep));
  def(t, M2 | 0xf6, byPrefix(null, null, null, mulx));
  def(t, M2 | 0xf7, byPrefix(bextr, shiftx(1), shiftx(0), shiftx(2)));
  def(t, M3 | 0xf0, byPrefix(null, null, null, rorx));
}
