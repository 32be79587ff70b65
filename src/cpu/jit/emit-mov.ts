/**
 * Translator emitters for data movement: MOV (88-8B, B0-BF, C6/C7 /0), LEA (8D), MOVZX/
 * MOVSX (0F B6/B7/BE/BF), MOVSXD (63 in 64-bit mode) and the NOPs (90, 0F 1F). Semantics as
 * ops/mov.ts (SDM Vol. 2 MOV, LEA, MOVZX, MOVSX/MOVSXD, NOP): 32-bit register writes zero
 * the upper half, 8/16-bit writes keep the rest, flags are untouched.
 */
import type { Builder } from './builder.js';
import type { Insn } from './decode.js';
import { readE, readG, immVal } from './emit-alu.js';

export function emitMov(b: Builder, ins: Insn): boolean {
  const op = ins.opcode;
  if (ins.lock) return false;
  const mem = ins.hasModrm && ins.mod !== 3;
  switch (op) {
    case 0x88: case 0x89: {
      // MOV Eb,Gb / Ev,Gv
      const size = op === 0x88 ? 1 : ins.osz;
      const g = readG(b, ins, size);
      if (!mem) { b.emit(b.setReg(ins.rm, size, ins.legacy8, g.lo, g.hi)); return true; }
      b.retireBefore();
      const lin = b.ea(ins, size, true);
      b.store(lin, size, g.lo, g.hi);
      b.checkAfter();
      return true;
    }
    case 0x8a: case 0x8b: {
      // MOV Gb,Eb / Gv,Ev
      const size = op === 0x8a ? 1 : ins.osz;
      if (mem) b.retireBefore();
      const e = readE(b, ins, size, false);
      b.emit(b.setReg(ins.reg, size, ins.legacy8, e.v.lo, e.v.hi));
      if (mem) b.checkAfter();
      return true;
    }
    case 0xc6: case 0xc7: {
      // MOV Eb,Ib / Ev,Iz (imm32 sign-extended for 64-bit operands)
      const size = op === 0xc6 ? 1 : ins.osz;
      const v = immVal(ins.imm, size);
      if (!mem) { b.emit(b.setReg(ins.rm, size, ins.legacy8, v.lo, v.hi)); return true; }
      b.retireBefore();
      const lin = b.ea(ins, size, true);
      b.store(lin, size, v.lo, v.hi);
      b.checkAfter();
      return true;
    }
    case 0x8d: {
      // LEA: the address at the address size, truncated/zero-extended to the operand size
      if (!mem) return false; // #UD: the interpreter raises it
      const { lo, hi } = b.eaHalves(ins, 0);
      const size = ins.osz;
      if (size === 8) b.emit(b.setReg(ins.reg, 8, false, lo, hi));
      else b.emit(b.setReg(ins.reg, size, false, size === 2 ? `(${lo} & 0xffff)` : lo));
      return true;
    }
    case 0x1b6: case 0x1b7: case 0x1be: case 0x1bf: {
      const byte = (op & 1) === 0, signed = op >= 0x1be;
      if (mem) b.retireBefore();
      const e = readE(b, ins, byte ? 1 : 2, false);
      const size = ins.osz;
      if (!signed) b.emit(b.setReg(ins.reg, size, false, e.v.lo, '0'));
      else {
        const v = b.t('sx');
        b.emit(`const ${v} = ${byte ? `(${e.v.lo} << 24) >> 24` : `(${e.v.lo} << 16) >> 16`};`);
        b.emit(b.setReg(ins.reg, size, false, size === 2 ? `(${v} & 0xffff)` : v, `(${v} >> 31)`));
      }
      if (mem) b.checkAfter();
      return true;
    }
    case 0x63: {
      if (!b.code64) return false;
      const size = ins.osz;
      if (mem) b.retireBefore();
      if (size === 8) {
        const e = readE(b, ins, 4, false);
        b.emit(b.setReg(ins.reg, 8, false, e.v.lo, `(${e.v.lo} >> 31)`));
      } else {
        const e = readE(b, ins, size, false);
        b.emit(b.setReg(ins.reg, size, false, e.v.lo, '0'));
      }
      if (mem) b.checkAfter();
      return true;
    }
    case 0x90:
      // NOP; with REX.B it is XCHG r8, rAX (interpreter)
      return (ins.rex & 1) === 0;
    case 0x11f:
      // multi-byte NOP: the operand is decoded but never accessed (SDM NOP)
      return true;
    default:
      if (op >= 0xb0 && op < 0xc0) {
        const n = (op & 7) | ((ins.rex & 1) << 3);
        if (op < 0xb8) { b.emit(b.setReg(n, 1, ins.legacy8, String(ins.imm & 0xff))); return true; }
        const size = ins.osz;
        if (size === 8) b.emit(b.setReg(n, 8, false, String(ins.imm | 0), String(ins.immHi | 0)));
        else b.emit(b.setReg(n, size, false, String(size === 2 ? ins.imm & 0xffff : ins.imm | 0)));
        return true;
      }
      return false;
  }
}
