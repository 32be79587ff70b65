/**
 * Integer ALU family: ADD OR ADC SBB AND SUB XOR CMP in all encodings, INC/DEC, NEG/NOT,
 * TEST, multiply/divide, shifts/rotates, bit operations, BCD, SETcc/CMOVcc, CMPXCHG/XADD.
 * Flags are lazy (cpu.ts); 64-bit operands are lo/hi int32 halves.
 */
import type { Cpu, Handler } from '../cpu.js';
import { LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC } from '../cpu.js';
import { def } from './table.js';
import { noLock } from './alucommon.js';
import { installGroup1 } from './group1.js';
import { installShift } from './shift.js';
import { installBits } from './bits.js';
import { installBcd } from './bcd.js';
import { installCond } from './cond.js';
import { installCmpxchg } from './cmpxchg.js';

const TWO32 = 4294967296;
const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

/**
 * The eight classic ALU operations, indexed as ModRM.reg / opcode bits 5:3 encode them
 * (SDM Vol. 2 Table A-6 group 1): ADD OR ADC SBB AND SUB XOR CMP.
 * Returns the result (lo; hi in cpu.hi for size 8) and records lazy flags.
 */
export function alu(cpu: Cpu, op: number, size: number, a: number, aHi: number, b: number, bHi: number): number {
  if (size === 8) return alu64(cpu, op, a, aHi, b, bHi);
  const m = MASK[size]!;
  let res: number;
  switch (op) {
    case 0: res = (a + b) & m; cpu.setLazy(LF_ADD, size, res, a, b); return res;
    case 1: res = (a | b) & m; cpu.setLazy(LF_LOGIC, size, res, a, b); return res;
    case 2: { const c = cpu.getCF(); res = (a + b + c) & m; cpu.lfCin = c; cpu.setLazy(LF_ADC, size, res, a, b); return res; }
    case 3: { const c = cpu.getCF(); res = (a - b - c) & m; cpu.lfCin = c; cpu.setLazy(LF_SBB, size, res, a, b); return res; }
    case 4: res = (a & b) & m; cpu.setLazy(LF_LOGIC, size, res, a, b); return res;
    case 5: case 7: res = (a - b) & m; cpu.setLazy(LF_SUB, size, res, a, b); return res;
    default: res = (a ^ b) & m; cpu.setLazy(LF_LOGIC, size, res, a, b); return res;
  }
}

function alu64(cpu: Cpu, op: number, a: number, aHi: number, b: number, bHi: number): number {
  let lo: number, hi: number, kind: number;
  switch (op) {
    case 0: case 2: {
      const c = op === 2 ? cpu.getCF() : 0;
      const s = (a >>> 0) + (b >>> 0) + c;
      lo = s | 0; hi = (aHi + bHi + (s >= TWO32 ? 1 : 0)) | 0;
      cpu.lfCin = c; kind = op === 2 ? LF_ADC : LF_ADD; break;
    }
    case 3: case 5: case 7: {
      const c = op === 3 ? cpu.getCF() : 0;
      const s = (a >>> 0) - (b >>> 0) - c;
      lo = s | 0; hi = (aHi - bHi - (s < 0 ? 1 : 0)) | 0;
      cpu.lfCin = c; kind = op === 3 ? LF_SBB : LF_SUB; break;
    }
    case 1: lo = a | b; hi = aHi | bHi; kind = LF_LOGIC; break;
    case 4: lo = a & b; hi = aHi & bHi; kind = LF_LOGIC; break;
    default: lo = a ^ b; hi = aHi ^ bHi; kind = LF_LOGIC; break;
  }
  cpu.setLazy64(kind, lo, hi, a, aHi, b, bHi);
  cpu.hi = hi;
  return lo;
}

/**
 * op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iz  (opcodes 00-3D, SDM Table A-2).
 * LOCK is allowed only on the memory-destination forms of everything but CMP (SDM LOCK).
 */
function installClassic(t: Handler[]): void {
  for (let op = 0; op < 8; op++) {
    const base = op << 3;
    const isCmp = op === 7;
    // Eb,Gb and Ev,Gv
    def(t, base + 0, (cpu) => {
      cpu.decodeModrm(0);
      if (cpu.lock && (isCmp || cpu.mod === 3)) cpu.ud();
      const b = cpu.getReg8(cpu.reg);
      if (cpu.mod === 3) { const r = alu(cpu, op, 1, cpu.getReg8(cpu.rm), 0, b, 0); if (!isCmp) cpu.setReg8(cpu.rm, r); return; }
      const lin = cpu.eaLin(1, !isCmp);
      const r = alu(cpu, op, 1, cpu.rd8(lin), 0, b, 0);
      if (!isCmp) cpu.wr8(lin, r);
    });
    def(t, base + 1, (cpu) => {
      cpu.decodeModrm(0);
      if (cpu.lock && (isCmp || cpu.mod === 3)) cpu.ud();
      const size = cpu.osz;
      const b = cpu.getRegSz(cpu.reg, size); const bHi = cpu.hi;
      if (cpu.mod === 3) {
        const a = cpu.getRegSz(cpu.rm, size); const r = alu(cpu, op, size, a, cpu.hi, b, bHi);
        if (!isCmp) cpu.setRegSz(cpu.rm, size, r, cpu.hi);
        return;
      }
      const lin = cpu.eaLin(size, !isCmp);
      const a = cpu.rdSz(lin, size);
      const r = alu(cpu, op, size, a, cpu.hi, b, bHi);
      if (!isCmp) cpu.wrSz(lin, size, r, cpu.hi);
    });
    // Gb,Eb and Gv,Ev
    def(t, base + 2, (cpu) => {
      cpu.decodeModrm(0);
      noLock(cpu);
      const b = cpu.readE(1);
      const r = alu(cpu, op, 1, cpu.getReg8(cpu.reg), 0, b, 0);
      if (!isCmp) cpu.setReg8(cpu.reg, r);
    });
    def(t, base + 3, (cpu) => {
      cpu.decodeModrm(0);
      noLock(cpu);
      const size = cpu.osz;
      const b = cpu.readE(size); const bHi = cpu.hi;
      const a = cpu.getRegSz(cpu.reg, size);
      const r = alu(cpu, op, size, a, cpu.hi, b, bHi);
      if (!isCmp) cpu.setRegSz(cpu.reg, size, r, cpu.hi);
    });
    // AL,Ib and eAX,Iz
    def(t, base + 4, (cpu) => {
      noLock(cpu);
      const r = alu(cpu, op, 1, cpu.getReg8(0), 0, cpu.fetch8(), 0);
      if (!isCmp) cpu.setReg8(0, r);
    });
    def(t, base + 5, (cpu) => {
      noLock(cpu);
      const size = cpu.osz;
      const b = cpu.fetchImm(size); const bHi = cpu.hi;
      const a = cpu.getRegSz(0, size);
      const r = alu(cpu, op, size, a, cpu.hi, b, bHi);
      if (!isCmp) cpu.setRegSz(0, size, r, cpu.hi);
    });
  }
}

export function installAlu(t: Handler[]): void {
  installClassic(t);
  installGroup1(t);
  installShift(t);
  installBits(t);
  installBcd(t);
  installCond(t);
  installCmpxchg(t);
}

export { grp9Cmpxchg8b16b } from './cmpxchg.js';
