/**
 * Translator emitters for the integer ALU: ADD OR ADC SBB AND SUB XOR CMP in their classic
 * encodings (00-3D) and group 1 (80/81/83), TEST (84/85, A8/A9, F6/F7 /0), INC/DEC (FE/FF
 * /0 /1). Results and lazy flags are computed exactly as ops/alu.ts and ops/group1.ts do
 * (SDM Vol. 2 ADD/ADC/SUB/SBB/CMP/AND/OR/XOR/TEST/INC/DEC); the flags go to the builder's
 * locals instead of the Cpu. A memory destination is written before the flags are recorded,
 * so a faulting write leaves the flags as they were.
 */
import { LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC } from '../cpu.js';
import type { Builder } from './builder.js';
import type { Insn } from './decode.js';

/** An operand value as expressions naming locals (hi = '0' below size 8). */
export interface Val { lo: string; hi: string }

const MASK_SUFFIX = ['', ' & 0xff', ' & 0xffff', '', ' | 0', '', '', '', ''];

/** The E operand (ModRM r/m) read into locals; `lin` is its linear address for memory operands. */
export function readE(b: Builder, ins: Insn, size: number, write: boolean): { v: Val; lin: string } {
  if (ins.mod === 3) {
    const lo = b.t('a');
    if (size === 8) { const hi = b.t('ah'); b.emit(`const ${lo} = ${b.reg(ins.rm, 8, false)}, ${hi} = ${b.regHi(ins.rm)};`); return { v: { lo, hi }, lin: '' }; }
    b.emit(`const ${lo} = ${b.reg(ins.rm, size, ins.legacy8)};`);
    return { v: { lo, hi: '0' }, lin: '' };
  }
  const lin = b.ea(ins, size, write);
  return { v: b.load(lin, size), lin };
}

/** The G operand (ModRM reg) read into locals. */
export function readG(b: Builder, ins: Insn, size: number): Val {
  const lo = b.t('g');
  if (size === 8) { const hi = b.t('gh'); b.emit(`const ${lo} = ${b.reg(ins.reg, 8, false)}, ${hi} = ${b.regHi(ins.reg)};`); return { lo, hi }; }
  b.emit(`const ${lo} = ${b.reg(ins.reg, size, ins.legacy8)};`);
  return { lo, hi: '0' };
}

/** An immediate (sign-extended int32 from the decoder) at the operand size. */
export function immVal(imm: number, size: number): Val {
  switch (size) {
    case 1: return { lo: String(imm & 0xff), hi: '0' };
    case 2: return { lo: String(imm & 0xffff), hi: '0' };
    case 4: return { lo: String(imm | 0), hi: '0' };
    default: return { lo: String(imm | 0), hi: String(imm >> 31) };
  }
}

/**
 * The eight group-1 operations (op = ModRM.reg / opcode bits 5:3) on a and b: emits the
 * result into locals and returns them, recording the flags after `beforeFlags` ran (the
 * caller's write-back), as alu.ts's alu()/alu64() record them.
 */
export function aluOp(b: Builder, op: number, size: number, a: Val, v: Val, writeBack: (res: Val) => void): void {
  const res = b.t('res');
  if (size === 8) {
    const resHi = b.t('rh');
    let kind: number, cin = '';
    switch (op) {
      case 0: case 2: {
        const c = op === 2 ? b.t('c') : '0';
        if (op === 2) b.emit(`const ${c} = ${b.cf()};`);
        const s = b.t('s');
        b.emit(`const ${s} = (${a.lo} >>> 0) + (${v.lo} >>> 0)${op === 2 ? ` + ${c}` : ''};`);
        b.emit(`const ${res} = ${s} | 0, ${resHi} = (${a.hi} + ${v.hi} + (${s} >= 4294967296 ? 1 : 0)) | 0;`);
        kind = op === 2 ? LF_ADC : LF_ADD; cin = c;
        break;
      }
      case 3: case 5: case 7: {
        const c = op === 3 ? b.t('c') : '0';
        if (op === 3) b.emit(`const ${c} = ${b.cf()};`);
        const s = b.t('s');
        b.emit(`const ${s} = (${a.lo} >>> 0) - (${v.lo} >>> 0)${op === 3 ? ` - ${c}` : ''};`);
        b.emit(`const ${res} = ${s} | 0, ${resHi} = (${a.hi} - ${v.hi} - (${s} < 0 ? 1 : 0)) | 0;`);
        kind = op === 3 ? LF_SBB : LF_SUB; cin = c;
        break;
      }
      default: {
        const o = op === 1 ? '|' : op === 4 ? '&' : '^';
        b.emit(`const ${res} = ${a.lo} ${o} ${v.lo}, ${resHi} = ${a.hi} ${o} ${v.hi};`);
        kind = LF_LOGIC;
      }
    }
    if (op !== 7) writeBack({ lo: res, hi: resHi });
    b.setFlags(kind, 8, res, a.lo, v.lo, resHi, a.hi, v.hi, cin);
    return;
  }
  const m = MASK_SUFFIX[size]!;
  let kind: number, cin = '';
  switch (op) {
    case 0: b.emit(`const ${res} = (${a.lo} + ${v.lo})${m};`); kind = LF_ADD; break;
    case 1: b.emit(`const ${res} = (${a.lo} | ${v.lo})${m};`); kind = LF_LOGIC; break;
    case 2: { const c = b.t('c'); b.emit(`const ${c} = ${b.cf()};`); b.emit(`const ${res} = (${a.lo} + ${v.lo} + ${c})${m};`); kind = LF_ADC; cin = c; break; }
    case 3: { const c = b.t('c'); b.emit(`const ${c} = ${b.cf()};`); b.emit(`const ${res} = (${a.lo} - ${v.lo} - ${c})${m};`); kind = LF_SBB; cin = c; break; }
    case 4: b.emit(`const ${res} = (${a.lo} & ${v.lo})${m};`); kind = LF_LOGIC; break;
    case 6: b.emit(`const ${res} = (${a.lo} ^ ${v.lo})${m};`); kind = LF_LOGIC; break;
    default: b.emit(`const ${res} = (${a.lo} - ${v.lo})${m};`); kind = LF_SUB; break;
  }
  if (op !== 7) writeBack({ lo: res, hi: '0' });
  b.setFlags(kind, size, res, a.lo, v.lo, '0', '0', '0', cin);
}

/** Writes a result back to the E operand (register, or the memory operand at `lin`). */
function writeE(b: Builder, ins: Insn, size: number, lin: string, res: Val): void {
  if (ins.mod === 3) b.emit(b.setReg(ins.rm, size, ins.legacy8, res.lo, res.hi));
  else b.store(lin, size, res.lo, res.hi);
}

/** Operand size of the instruction: byte forms have even opcodes in these families. */
function sizeOf(ins: Insn, byteForm: boolean): number { return byteForm ? 1 : ins.osz; }

/**
 * Tries to emit an ALU-family instruction natively. Returns false for forms left to the
 * interpreter (LOCK prefix: its #UD rules and locked semantics stay in one place).
 */
export function emitAlu(b: Builder, ins: Insn): boolean {
  const op = ins.opcode;
  if (ins.lock) return false;
  const mem = ins.hasModrm && ins.mod !== 3;
  if (op < 0x40 && (op & 7) < 6) {
    const aluOp_ = op >> 3, form = op & 7;
    const size = sizeOf(ins, (form & 1) === 0);
    if (mem || form >= 4) b.retireBefore();
    if (form === 0 || form === 1) {
      // op Eb,Gb / Ev,Gv
      const g = readG(b, ins, size);
      const e = readE(b, ins, size, aluOp_ !== 7);
      aluOp(b, aluOp_, size, e.v, g, (res) => writeE(b, ins, size, e.lin, res));
    } else if (form === 2 || form === 3) {
      // op Gb,Eb / Gv,Ev
      const e = readE(b, ins, size, false);
      const g = readG(b, ins, size);
      aluOp(b, aluOp_, size, g, e.v, (res) => b.emit(b.setReg(ins.reg, size, ins.legacy8, res.lo, res.hi)));
    } else {
      // op AL,Ib / eAX,Iz
      const a = { lo: b.t('a'), hi: size === 8 ? b.t('ah') : '0' };
      b.emit(`const ${a.lo} = ${b.reg(0, size, false)};` + (size === 8 ? ` const ${a.hi} = ${b.regHi(0)};` : ''));
      aluOp(b, aluOp_, size, a, immVal(ins.imm, size), (res) => b.emit(b.setReg(0, size, false, res.lo, res.hi)));
    }
    if (mem) b.checkAfter();
    return true;
  }
  if (op === 0x80 || op === 0x81 || op === 0x83) {
    const size = sizeOf(ins, op === 0x80);
    const aluOp_ = ins.reg & 7;
    if (mem) b.retireBefore();
    const e = readE(b, ins, size, aluOp_ !== 7);
    aluOp(b, aluOp_, size, e.v, immVal(ins.imm, size), (res) => writeE(b, ins, size, e.lin, res));
    if (mem) b.checkAfter();
    return true;
  }
  if (op === 0x84 || op === 0x85 || op === 0xa8 || op === 0xa9 || ((op === 0xf6 || op === 0xf7) && (ins.reg & 7) < 2)) {
    // TEST: AND without the write-back
    const size = sizeOf(ins, (op & 1) === 0);
    if (mem) b.retireBefore();
    const e = op === 0xa8 || op === 0xa9 ? { v: readReg0(b, size), lin: '' } : readE(b, ins, size, false);
    const v = op === 0x84 || op === 0x85 ? readG(b, ins, size) : immVal(ins.imm, size);
    testOp(b, size, e.v, v);
    if (mem) b.checkAfter();
    return true;
  }
  if ((op === 0xfe || op === 0xff) && (ins.reg & 7) < 2) {
    const size = sizeOf(ins, op === 0xfe);
    const dec = (ins.reg & 7) === 1;
    if (mem) b.retireBefore();
    const e = readE(b, ins, size, true);
    // CF is preserved: kept as the carry-in of the lazy record (group1.ts incDec)
    const c = b.t('c');
    b.emit(`const ${c} = ${b.cf()};`);
    const res = b.t('res');
    if (size === 8) {
      const rh = b.t('rh');
      if (dec) b.emit(`const ${res} = (${e.v.lo} - 1) | 0, ${rh} = ${e.v.lo} === 0 ? (${e.v.hi} - 1) | 0 : ${e.v.hi};`);
      else b.emit(`const ${res} = (${e.v.lo} + 1) | 0, ${rh} = ${res} === 0 ? (${e.v.hi} + 1) | 0 : ${e.v.hi};`);
      writeE(b, ins, 8, e.lin, { lo: res, hi: rh });
      b.setFlags(dec ? LF_DEC : LF_INC, 8, res, e.v.lo, '1', rh, e.v.hi, '0', c);
    } else {
      b.emit(`const ${res} = (${e.v.lo} ${dec ? '-' : '+'} 1)${MASK_SUFFIX[size]!};`);
      writeE(b, ins, size, e.lin, { lo: res, hi: '0' });
      b.setFlags(dec ? LF_DEC : LF_INC, size, res, e.v.lo, '1', '0', '0', '0', c);
    }
    if (mem) b.checkAfter();
    return true;
  }
  return false;
}

function readReg0(b: Builder, size: number): Val {
  const lo = b.t('a');
  if (size === 8) { const hi = b.t('ah'); b.emit(`const ${lo} = r[0], ${hi} = r[1];`); return { lo, hi }; }
  b.emit(`const ${lo} = ${b.reg(0, size, false)};`);
  return { lo, hi: '0' };
}

function testOp(b: Builder, size: number, a: Val, v: Val): void {
  const res = b.t('res');
  if (size === 8) {
    const rh = b.t('rh');
    b.emit(`const ${res} = ${a.lo} & ${v.lo}, ${rh} = ${a.hi} & ${v.hi};`);
    b.setFlags(LF_LOGIC, 8, res, a.lo, v.lo, rh, a.hi, v.hi);
    return;
  }
  b.emit(`const ${res} = (${a.lo} & ${v.lo})${MASK_SUFFIX[size]!};`);
  b.setFlags(LF_LOGIC, size, res, a.lo, v.lo);
}
