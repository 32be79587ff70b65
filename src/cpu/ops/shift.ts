/**
 * Group 2 shifts and rotates (C0 C1 D0 D1 D2 D3: ROL ROR RCL RCR SHL SHR SAL SAR) and the
 * double shifts SHLD/SHRD (0F A4 A5 AC AD). SDM Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR",
 * "SHLD", "SHRD".
 *
 * Flag rules, as implemented:
 * - The count is masked to 5 bits (6 with a 64-bit operand). A masked count of 0 changes
 *   neither the destination nor any flag.
 * - Shifts set SF/ZF/PF from the result, CF to the last bit shifted out and AF to 0 (AF is
 *   undefined; Bochs and QEMU clear it). Rotates change only CF and OF.
 * - OF is defined for a count of 1; for other counts it follows the count-1 formula applied
 *   to the result, as Intel processors (and Bochs) do: SHL/ROL/RCL: MSB(res) XOR CF;
 *   SHR/ROR/RCR/SHRD: XOR of the two top bits of the result; SAR: 0; SHLD: MSB(res) XOR CF.
 * - RCL/RCR rotate through CF modulo 9 (8-bit) or 17 (16-bit).
 */
import type { Cpu, Handler } from '../cpu.js';
import { CF, OF, RCX } from '../regs.js';
import { def } from './table.js';
import { MASK, szp64, noLock } from './alucommon.js';

/** 64-bit shift scratch: result halves. */
let sLo = 0, sHi = 0;

/** a << c for 0 <= c <= 64 (c = 64 gives 0), result in sLo/sHi. */
function shl64(lo: number, hi: number, c: number): void {
  if (c === 0) { sLo = lo; sHi = hi; }
  else if (c < 32) { sHi = (hi << c) | (lo >>> (32 - c)); sLo = lo << c; }
  else if (c < 64) { sHi = lo << (c - 32); sLo = 0; }
  else { sLo = 0; sHi = 0; }
}
/** a >>> c (logical) for 0 <= c <= 64. */
function shr64(lo: number, hi: number, c: number): void {
  if (c === 0) { sLo = lo; sHi = hi; }
  else if (c < 32) { sLo = (lo >>> c) | (hi << (32 - c)); sHi = hi >>> c; }
  else if (c < 64) { sLo = hi >>> (c - 32); sHi = 0; }
  else { sLo = 0; sHi = 0; }
  sHi |= 0; sLo |= 0;
}
/** Bit n (0..63) of lo/hi. */
function bit64(lo: number, hi: number, n: number): number {
  return n < 32 ? (lo >>> n) & 1 : (hi >>> (n - 32)) & 1;
}

/** Sets CF and OF, leaving SF/ZF/AF/PF (rotates). */
function setCfOf(cpu: Cpu, cf: number, of: number): void {
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~(CF | OF)) | (cf ? CF : 0) | (of ? OF : 0);
}

/**
 * Executes shift/rotate `op` (ModRM.reg) on a value of size 1/2/4 with a masked count
 * 1..31. Returns the result and updates flags.
 */
function shift32(cpu: Cpu, op: number, size: number, a: number, count: number): number {
  const bits = size * 8, m = MASK[size]!, top = bits - 1;
  let r: number, cf: number;
  switch (op) {
    case 0: { // ROL
      const c = count & top;
      r = c === 0 ? a : ((a << c) | ((a & m) >>> (bits - c))) & m;
      cf = r & 1;
      setCfOf(cpu, cf, ((r >>> top) & 1) ^ cf);
      return r;
    }
    case 1: { // ROR
      const c = count & top;
      r = c === 0 ? a : (((a & m) >>> c) | (a << (bits - c))) & m;
      cf = (r >>> top) & 1;
      setCfOf(cpu, cf, cf ^ ((r >>> (top - 1)) & 1));
      return r;
    }
    case 2: case 3: { // RCL / RCR through CF
      const c = size === 1 ? count % 9 : size === 2 ? count % 17 : count;
      if (c === 0) return a;
      const cin = cpu.getCF();
      if (op === 2) {
        if (size === 4) {
          r = (a << c) | (cin << (c - 1)) | (c === 1 ? 0 : a >>> (33 - c));
          cf = (a >>> (32 - c)) & 1;
        } else {
          const v = (cin << bits) | a, w = bits + 1;
          const rv = ((v << c) | (v >>> (w - c))) & ((1 << w) - 1);
          r = rv & m; cf = rv >>> bits;
        }
        setCfOf(cpu, cf, ((r >>> top) & 1) ^ cf);
      } else {
        if (size === 4) {
          r = (a >>> c) | (cin << (32 - c)) | (c === 1 ? 0 : a << (33 - c));
          cf = (a >>> (c - 1)) & 1;
        } else {
          const v = (cin << bits) | a, w = bits + 1;
          const rv = ((v >>> c) | (v << (w - c))) & ((1 << w) - 1);
          r = rv & m; cf = rv >>> bits;
        }
        setCfOf(cpu, cf, ((r >>> top) ^ (r >>> (top - 1))) & 1);
      }
      return r & m;
    }
    case 4: case 6: // SHL / SAL
      r = (a << count) & m;
      cf = ((a << (count - 1)) >>> top) & 1;
      cpu.setArith(cf | cpu.szp(r, size) | ((((r >>> top) & 1) ^ cf) ? OF : 0));
      return r;
    case 5: // SHR
      r = ((a & m) >>> count) & m;
      cf = ((a & m) >>> (count - 1)) & 1;
      cpu.setArith(cf | cpu.szp(r, size) | ((((r >>> top) ^ (r >>> (top - 1))) & 1) ? OF : 0));
      return r;
    default: { // SAR
      const sa = (a << (32 - bits)) >> (32 - bits);
      r = (sa >> count) & m;
      cf = (sa >> (count - 1)) & 1;
      cpu.setArith(cf | cpu.szp(r, size));
      return r;
    }
  }
}

/** The same on a 64-bit value (count 1..63); result lo returned, hi in cpu.hi. */
function shift64(cpu: Cpu, op: number, lo: number, hi: number, c: number): number {
  let cf: number;
  switch (op) {
    case 0: case 1: { // ROL / ROR (ROR c = ROL 64-c)
      const k = op === 0 ? c : 64 - c;
      shl64(lo, hi, k); const l1 = sLo, h1 = sHi;
      shr64(lo, hi, 64 - k);
      sLo |= l1; sHi |= h1;
      if (op === 0) { cf = sLo & 1; setCfOf(cpu, cf, (sHi >>> 31) ^ cf); }
      else { cf = sHi >>> 31; setCfOf(cpu, cf, cf ^ ((sHi >>> 30) & 1)); }
      break;
    }
    case 2: { // RCL: (a << c) | (CF << (c-1)) | (a >>> (65-c))
      const cin = cpu.getCF();
      cf = bit64(lo, hi, 64 - c);
      shr64(lo, hi, 65 - c); const l1 = sLo, h1 = sHi;
      shl64(lo, hi, c);
      sLo |= l1; sHi |= h1;
      if (cin) { if (c - 1 < 32) sLo |= 1 << (c - 1); else sHi |= 1 << (c - 33); }
      setCfOf(cpu, cf, (sHi >>> 31) ^ cf);
      break;
    }
    case 3: { // RCR: (a >>> c) | (CF << (64-c)) | (a << (65-c))
      const cin = cpu.getCF();
      cf = bit64(lo, hi, c - 1);
      shl64(lo, hi, 65 - c); const l1 = sLo, h1 = sHi;
      shr64(lo, hi, c);
      sLo |= l1; sHi |= h1;
      if (cin) { const n = 64 - c; if (n < 32) sLo |= 1 << n; else sHi |= 1 << (n - 32); }
      setCfOf(cpu, cf, ((sHi >>> 31) ^ (sHi >>> 30)) & 1);
      break;
    }
    case 4: case 6:
      cf = bit64(lo, hi, 64 - c);
      shl64(lo, hi, c);
      cpu.setArith(cf | szp64(sLo, sHi) | (((sHi >>> 31) ^ cf) ? OF : 0));
      break;
    case 5:
      cf = bit64(lo, hi, c - 1);
      shr64(lo, hi, c);
      cpu.setArith(cf | szp64(sLo, sHi) | ((((sHi >>> 31) ^ (sHi >>> 30)) & 1) ? OF : 0));
      break;
    default: {
      cf = bit64(lo, hi, c - 1);
      if (c < 32) { sLo = (lo >>> c) | (hi << (32 - c)); sHi = hi >> c; }
      else { sLo = hi >> (c - 32); sHi = hi >> 31; }
      cpu.setArith(cf | szp64(sLo, sHi));
    }
  }
  cpu.hi = sHi | 0;
  return sLo | 0;
}

/** Shared body of the group 2 forms once the count source is known. */
function group2(cpu: Cpu, size: number, count: number): void {
  const op = cpu.reg & 7;
  count &= size === 8 ? 0x3f : 0x1f;
  if (cpu.mod === 3) {
    const a = cpu.getRegSz(cpu.rm, size), aHi = cpu.hi;
    if (count === 0) { cpu.setRegSz(cpu.rm, size, a, aHi); return; } // 32-bit still zero-extends
    const r = size === 8 ? shift64(cpu, op, a, aHi, count) : shift32(cpu, op, size, a, count);
    cpu.setRegSz(cpu.rm, size, r, cpu.hi);
    return;
  }
  const lin = cpu.eaLin(size, true);
  const a = cpu.rdSz(lin, size), aHi = cpu.hi;
  if (count === 0) return;
  const r = size === 8 ? shift64(cpu, op, a, aHi, count) : shift32(cpu, op, size, a, count);
  cpu.wrSz(lin, size, r, cpu.hi);
}

/** C0/C1 Eb/Ev,Ib; D0/D1 by 1; D2/D3 by CL. */
function grp2(cpu: Cpu): void {
  const opc = cpu.opcode;
  const size = (opc & 1) === 0 ? 1 : cpu.osz;
  const imm = opc <= 0xc1;
  cpu.decodeModrm(imm ? 1 : 0);
  noLock(cpu);
  const count = imm ? cpu.fetch8() : opc <= 0xd1 ? 1 : cpu.getReg8(RCX) & 0xff;
  group2(cpu, size, count);
}

/**
 * SHLD/SHRD Ev,Gv,Ib|CL. For a 16-bit operand with a count above 16 the result is
 * undefined; this follows what Intel processors produce (the operand pattern repeats:
 * dest:src:dest), as Bochs models it.
 */
function shxd(cpu: Cpu): void {
  const opc = cpu.opcode & 0xff;
  const imm = (opc & 1) === 0;
  const right = opc >= 0xac;
  const size = cpu.osz;
  cpu.decodeModrm(imm ? 1 : 0);
  noLock(cpu);
  const b = cpu.getRegSz(cpu.reg, size), bHi = cpu.hi;
  let count = imm ? cpu.fetch8() : cpu.getReg8(RCX);
  count &= size === 8 ? 0x3f : 0x1f;
  let lin = 0, a: number;
  if (cpu.mod === 3) a = cpu.getRegSz(cpu.rm, size);
  else { lin = cpu.eaLin(size, true); a = cpu.rdSz(lin, size); }
  const aHi = cpu.hi;
  if (count === 0) { if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, a, aHi); return; }
  let r: number, rHi = 0, cf: number, of: number, flags: number;
  if (size === 8) {
    if (right) {
      cf = bit64(a, aHi, count - 1);
      shl64(b, bHi, 64 - count); const l1 = sLo, h1 = sHi;
      shr64(a, aHi, count);
      r = sLo | l1; rHi = sHi | h1;
      of = ((rHi >>> 31) ^ (rHi >>> 30)) & 1;
    } else {
      cf = bit64(a, aHi, 64 - count);
      shr64(b, bHi, 64 - count); const l1 = sLo, h1 = sHi;
      shl64(a, aHi, count);
      r = sLo | l1; rHi = sHi | h1;
      of = (rHi >>> 31) ^ cf;
    }
    flags = szp64(r, rHi);
  } else if (size === 4) {
    if (right) {
      r = (a >>> count) | (b << (32 - count));
      cf = (a >>> (count - 1)) & 1;
      of = ((r >>> 31) ^ (r >>> 30)) & 1;
    } else {
      r = (a << count) | (b >>> (32 - count));
      cf = (a >>> (32 - count)) & 1;
      of = (r >>> 31) ^ cf;
    }
    r |= 0;
    flags = cpu.szp(r, 4);
  } else {
    if (right) {
      let t = ((b << 16) | a) >>> count;
      if (count > 16) t |= a << (32 - count);
      r = t & 0xffff;
      cf = (a >>> (count - 1)) & 1;
      of = ((r >>> 15) ^ (r >>> 14)) & 1;
    } else {
      const t0 = (a << 16) | b;
      let t = t0 << count;
      if (count > 16) t |= a << (count - 16);
      r = (t >>> 16) & 0xffff;
      cf = (t0 >>> (32 - count)) & 1;
      of = (r >>> 15) ^ cf;
    }
    flags = cpu.szp(r, 2);
  }
  cpu.setArith(flags | cf | (of ? OF : 0));
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, r, rHi);
  else cpu.wrSz(lin, size, r, rHi);
}

export function installShift(t: Handler[]): void {
  for (const op of [0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3]) def(t, op, grp2);
  for (const op of [0x1a4, 0x1a5, 0x1ac, 0x1ad]) def(t, op, shxd);
}
