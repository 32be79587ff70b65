/**
 * Immediate group 1 (80/81/82/83), TEST (84/85/A8/A9), unary group 3 (F6/F7: TEST NOT NEG
 * MUL IMUL DIV IDIV), IMUL Gv,Ev[,imm] (0F AF, 69, 6B), INC/DEC (40-4F outside 64-bit
 * mode, FE, FF /0 /1) and the FF group 5 dispatch (SDM Vol. 2 Table A-6).
 */
import type { Cpu, Handler } from '../cpu.js';
import { LF_LOGIC, LF_SUB, LF_INC, LF_DEC } from '../cpu.js';
import { RAX, RDX, CF, OF } from '../regs.js';
import { def } from './table.js';
import { alu } from './alu.js';
import { MASK, lockMem, noLock, ripRelFixup, szp64 } from './alucommon.js';
import { P, Q, umul32, smul32, umul64, smul64, udiv128, sdiv128, mulFlags, divideError } from './muldiv.js';
import { grp5CallNear, grp5CallFar, grp5JmpNear, grp5JmpFar } from './control.js';
import { grp5Push } from './data.js';

/** 80 /r ib, 82 /r ib (alias, invalid in 64-bit mode), 81 /r iz, 83 /r ib (sign-extended). */
function grp1(cpu: Cpu): void {
  const opc = cpu.opcode;
  if (opc === 0x82 && cpu.code64) cpu.ud();
  const size = (opc & 1) === 0 ? 1 : cpu.osz;
  const immBytes = opc === 0x81 ? (size === 2 ? 2 : 4) : 1;
  cpu.decodeModrm(immBytes);
  const op = cpu.reg & 7;
  if (cpu.lock && (op === 7 || cpu.mod === 3)) cpu.ud();
  let b: number, bHi: number;
  if (opc === 0x81) { b = cpu.fetchImm(size); bHi = size === 8 ? cpu.hi : 0; }
  else { const s = cpu.fetchS8(); b = s & MASK[size]!; bHi = s >> 31; }
  if (cpu.mod === 3) {
    const a = cpu.getRegSz(cpu.rm, size);
    const r = alu(cpu, op, size, a, cpu.hi, b, bHi);
    if (op !== 7) cpu.setRegSz(cpu.rm, size, r, cpu.hi);
    return;
  }
  const lin = cpu.eaLin(size, op !== 7);
  const a = cpu.rdSz(lin, size);
  const r = alu(cpu, op, size, a, cpu.hi, b, bHi);
  if (op !== 7) cpu.wrSz(lin, size, r, cpu.hi);
}

/** Records TEST/AND-style logic flags of a & b. */
function testFlags(cpu: Cpu, size: number, a: number, aHi: number, b: number, bHi: number): void {
  if (size === 8) cpu.setLazy64(LF_LOGIC, a & b, aHi & bHi, a, aHi, b, bHi);
  else cpu.setLazy(LF_LOGIC, size, a & b, a, b);
}

/** 84 TEST Eb,Gb / 85 TEST Ev,Gv. */
function testEG(cpu: Cpu): void {
  cpu.decodeModrm(0);
  noLock(cpu);
  const size = cpu.opcode === 0x84 ? 1 : cpu.osz;
  const b = cpu.getRegSz(cpu.reg, size), bHi = cpu.hi;
  const a = cpu.readE(size);
  testFlags(cpu, size, a, cpu.hi, b, bHi);
}

/** A8 TEST AL,Ib / A9 TEST eAX,Iz. */
function testAI(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.opcode === 0xa8 ? 1 : cpu.osz;
  const b = cpu.fetchImm(size), bHi = cpu.hi;
  const a = cpu.getRegSz(RAX, size);
  testFlags(cpu, size, a, cpu.hi, b, size === 8 ? bHi : 0);
}

/** F6 (byte) / F7 (word/dword/qword) group 3. */
function grp3(cpu: Cpu): void {
  const size = cpu.opcode === 0xf6 ? 1 : cpu.osz;
  cpu.decodeModrm(0);
  const op = cpu.reg & 7;
  if (op >= 2 && op <= 3) lockMem(cpu); else noLock(cpu);
  switch (op) {
    case 0: case 1: { // TEST Ev,Iz (/1 is an undocumented alias that real CPUs execute as TEST)
      const immBytes = size === 1 ? 1 : size === 2 ? 2 : 4;
      ripRelFixup(cpu, immBytes);
      const a = cpu.readE(size), aHi = cpu.hi;
      const b = cpu.fetchImm(size), bHi = size === 8 ? cpu.hi : 0;
      testFlags(cpu, size, a, aHi, b, bHi);
      return;
    }
    case 2: case 3: {
      // NOT (no flags) / NEG (flags of 0 - a; CF = a != 0)
      let lin = 0, a: number;
      if (cpu.mod === 3) a = cpu.getRegSz(cpu.rm, size);
      else { lin = cpu.eaLin(size, true); a = cpu.rdSz(lin, size); }
      const aHi = cpu.hi;
      let r: number, rHi = 0;
      if (op === 2) { r = ~a & MASK[size]!; rHi = ~aHi; }
      else if (size === 8) {
        r = -a | 0; rHi = (~aHi + (a === 0 ? 1 : 0)) | 0;
        cpu.setLazy64(LF_SUB, r, rHi, 0, 0, a, aHi);
      } else { r = (-a) & MASK[size]!; cpu.setLazy(LF_SUB, size, r, 0, a); }
      if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, r, rHi);
      else cpu.wrSz(lin, size, r, rHi);
      return;
    }
    case 4: case 5: mulAcc(cpu, size, op === 5); return;
    default: divAcc(cpu, size, op === 7); return;
  }
}

/** MUL/IMUL r/m: AX = AL*r/m8, DX:AX, EDX:EAX, RDX:RAX (SDM Vol. 2A MUL, IMUL form 1). */
function mulAcc(cpu: Cpu, size: number, signed: boolean): void {
  const b = cpu.readE(size), bHi = cpu.hi;
  switch (size) {
    case 1: {
      const a = cpu.getReg8(RAX);
      const p = signed ? ((a << 24) >> 24) * ((b << 24) >> 24) : a * b;
      const r = p & 0xffff;
      cpu.setReg16(RAX, r);
      const ov = signed ? ((r << 24) >> 24) !== p : (r >> 8) !== 0;
      mulFlags(cpu, ov, r & 0xff, 1);
      return;
    }
    case 2: {
      const a = cpu.getReg16(RAX);
      const p = signed ? ((a << 16) >> 16) * ((b << 16) >> 16) : a * b;
      cpu.setReg16(RAX, p & 0xffff);
      cpu.setReg16(RDX, (p >> 16) & 0xffff);
      const ov = signed ? ((p << 16) >> 16) !== p : (p >>> 16) !== 0;
      mulFlags(cpu, ov, p & 0xffff, 2);
      return;
    }
    case 4: {
      const a = cpu.getReg32(RAX);
      if (signed) smul32(a, b); else umul32(a, b);
      const lo = P[0]!, hi = P[1]!;
      cpu.setReg32(RAX, lo);
      cpu.setReg32(RDX, hi);
      mulFlags(cpu, signed ? hi !== (lo >> 31) : hi !== 0, lo, 4);
      return;
    }
    default: {
      const a = cpu.getReg64(RAX), aHi = cpu.hi;
      if (signed) smul64(a, aHi, b, bHi); else umul64(a, aHi, b, bHi);
      cpu.setReg64(RAX, P[0]!, P[1]!);
      cpu.setReg64(RDX, P[2]!, P[3]!);
      const ext = signed ? P[1]! >> 31 : 0;
      mulFlags64(cpu, P[2] !== ext || P[3] !== ext);
    }
  }
}

function mulFlags64(cpu: Cpu, ov: boolean): void {
  // SF/ZF/PF from the low 64 bits of the product (undefined in the SDM; Bochs/QEMU choice)
  cpu.setArith((ov ? CF | OF : 0) | szp64(P[0]!, P[1]!));
}

/**
 * DIV/IDIV r/m: divide AX, DX:AX, EDX:EAX or RDX:RAX; #DE on a zero divisor or when the
 * quotient does not fit the destination. All flags are undefined; they are left unchanged.
 */
function divAcc(cpu: Cpu, size: number, signed: boolean): void {
  const d = cpu.readE(size), dHi = cpu.hi;
  switch (size) {
    case 1: case 2: {
      const bits = size * 8;
      let n: number, dv: number;
      if (size === 1) n = cpu.getReg16(RAX);
      else n = (cpu.getReg16(RDX) * 65536) + cpu.getReg16(RAX);
      if (signed) { n = size === 1 ? (n << 16) >> 16 : n | 0; dv = (d << (32 - bits)) >> (32 - bits); }
      else dv = d;
      if (dv === 0) divideError(cpu);
      const q = Math.trunc(n / dv), r = n - q * dv;
      if (signed ? (q < -(1 << (bits - 1)) || q >= (1 << (bits - 1))) : q >= (1 << bits)) divideError(cpu);
      if (size === 1) cpu.setReg16(RAX, (q & 0xff) | ((r & 0xff) << 8));
      else { cpu.setReg16(RAX, q); cpu.setReg16(RDX, r); }
      return;
    }
    case 4: {
      const lo = cpu.getReg32(RAX), hi = cpu.getReg32(RDX);
      let ok: boolean;
      if (signed) {
        // sign-extend EDX:EAX and the divisor to 128/64 bits, then check the 32-bit range
        const s = hi >> 31;
        ok = sdiv128(s, s, hi, lo, d, d >> 31) && Q[1] === (Q[0]! >> 31);
      } else ok = udiv128(0, 0, hi, lo, d, 0) && Q[1] === 0;
      if (!ok) divideError(cpu);
      cpu.setReg32(RAX, Q[0]!);
      cpu.setReg32(RDX, Q[2]!);
      return;
    }
    default: {
      const lo = cpu.getReg64(RAX), loHi = cpu.hi;
      const hi = cpu.getReg64(RDX), hiHi = cpu.hi;
      const ok = signed ? sdiv128(hiHi, hi, loHi, lo, d, dHi) : udiv128(hiHi, hi, loHi, lo, d, dHi);
      if (!ok) divideError(cpu);
      cpu.setReg64(RAX, Q[0]!, Q[1]!);
      cpu.setReg64(RDX, Q[2]!, Q[3]!);
    }
  }
}

/** Signed multiply truncated to `size`, result in the register `dst` (0F AF, 69, 6B). */
function imulTrunc(cpu: Cpu, size: number, dst: number, a: number, aHi: number, b: number, bHi: number): void {
  if (size === 8) {
    smul64(a, aHi, b, bHi);
    cpu.setReg64(dst, P[0]!, P[1]!);
    const ext = P[1]! >> 31;
    mulFlags64(cpu, P[2] !== ext || P[3] !== ext);
    return;
  }
  if (size === 4) {
    smul32(a, b);
    cpu.setReg32(dst, P[0]!);
    mulFlags(cpu, P[1] !== (P[0]! >> 31), P[0]!, 4);
    return;
  }
  const p = ((a << 16) >> 16) * ((b << 16) >> 16);
  cpu.setReg16(dst, p & 0xffff);
  mulFlags(cpu, ((p << 16) >> 16) !== p, p & 0xffff, 2);
}

/** 0F AF IMUL Gv,Ev. */
function imulGvEv(cpu: Cpu): void {
  cpu.decodeModrm(0);
  noLock(cpu);
  const size = cpu.osz;
  const b = cpu.readE(size), bHi = cpu.hi;
  const a = cpu.getRegSz(cpu.reg, size);
  imulTrunc(cpu, size, cpu.reg, a, cpu.hi, b, bHi);
}

/** 69 IMUL Gv,Ev,Iz / 6B IMUL Gv,Ev,Ib (sign-extended). */
function imulGvEvI(cpu: Cpu): void {
  const size = cpu.osz;
  const wide = cpu.opcode === 0x69;
  cpu.decodeModrm(wide ? (size === 2 ? 2 : 4) : 1);
  noLock(cpu);
  const a = cpu.readE(size), aHi = cpu.hi;
  let b: number, bHi: number;
  if (wide) { b = cpu.fetchImm(size); bHi = size === 8 ? cpu.hi : 0; }
  else { b = cpu.fetchS8(); bHi = b >> 31; b &= MASK[size]!; }
  imulTrunc(cpu, size, cpu.reg, a, aHi, b, bHi);
}

/** INC/DEC of a value: CF is preserved (kept in lfCin for the lazy evaluator). */
export function incDec(cpu: Cpu, size: number, dec: boolean, a: number, aHi: number): number {
  cpu.lfCin = cpu.getCF();
  if (size === 8) {
    let lo: number, hi: number;
    if (dec) { lo = (a - 1) | 0; hi = a === 0 ? (aHi - 1) | 0 : aHi; }
    else { lo = (a + 1) | 0; hi = lo === 0 ? (aHi + 1) | 0 : aHi; }
    cpu.setLazy64(dec ? LF_DEC : LF_INC, lo, hi, a, aHi, 1, 0);
    cpu.hi = hi;
    return lo;
  }
  const r = (dec ? a - 1 : a + 1) & MASK[size]!;
  cpu.setLazy(dec ? LF_DEC : LF_INC, size, r, a, 1);
  return r;
}

/** INC/DEC on the r/m operand (FE /0 /1, FF /0 /1). */
function incDecE(cpu: Cpu, size: number, dec: boolean): void {
  lockMem(cpu);
  if (cpu.mod === 3) {
    const a = cpu.getRegSz(cpu.rm, size);
    const r = incDec(cpu, size, dec, a, cpu.hi);
    cpu.setRegSz(cpu.rm, size, r, cpu.hi);
    return;
  }
  const lin = cpu.eaLin(size, true);
  const a = cpu.rdSz(lin, size);
  const r = incDec(cpu, size, dec, a, cpu.hi);
  cpu.wrSz(lin, size, r, cpu.hi);
}

/** 40-47 INC r16/32, 48-4F DEC r16/32 (REX prefixes in 64-bit mode, where the decoder takes them). */
function incDecReg(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
  noLock(cpu);
  const n = cpu.opcode & 7, size = cpu.osz;
  const r = incDec(cpu, size, (cpu.opcode & 8) !== 0, cpu.getRegSz(n, size), 0);
  cpu.setRegSz(n, size, r, 0);
}

/** FE group 4: INC/DEC Eb; /2../7 undefined. */
function grp4(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const op = cpu.reg & 7;
  if (op > 1) cpu.ud();
  incDecE(cpu, 1, op === 1);
}

/** FF group 5: INC DEC CALL CALLF JMP JMPF PUSH, /7 undefined. */
function grp5(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const op = cpu.reg & 7;
  if (op > 1) noLock(cpu);
  switch (op) {
    case 0: case 1: incDecE(cpu, cpu.osz, op === 1); return;
    case 2: grp5CallNear(cpu); return;
    case 3: grp5CallFar(cpu); return;
    case 4: grp5JmpNear(cpu); return;
    case 5: grp5JmpFar(cpu); return;
    case 6: grp5Push(cpu); return;
    default: cpu.ud();
  }
}

export function installGroup1(t: Handler[]): void {
  for (const op of [0x80, 0x81, 0x82, 0x83]) def(t, op, grp1);
  def(t, 0x84, testEG); def(t, 0x85, testEG);
  def(t, 0xa8, testAI); def(t, 0xa9, testAI);
  def(t, 0xf6, grp3); def(t, 0xf7, grp3);
  def(t, 0x1af, imulGvEv);
  def(t, 0x69, imulGvEvI); def(t, 0x6b, imulGvEvI);
  for (let i = 0; i < 16; i++) def(t, 0x40 + i, incDecReg);
  def(t, 0xfe, grp4); def(t, 0xff, grp5);
}

