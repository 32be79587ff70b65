/**
 * Translator emitter for the shifts SHL/SAL, SHR and SAR of a register by an immediate or
 * by 1 (C0/C1 /4 /5 /6 /7 Ib, D0/D1 /4 /5 /6 /7), the forms compilers emit for index
 * scaling, hashing and bit fields. Results and flags are exactly those of ops/shift.ts
 * (SDM Vol. 2B "SAL/SAR/SHL/SHR"; that file's header gives the rules for the undefined
 * flags: AF = 0, OF by the count-1 formula): the count is known at compile time, so the
 * shift amounts and the bit that goes to CF are constants in the generated code, and the
 * flags are set eagerly with cpu.setArith as the handler sets them.
 *
 * Left to the handler: rotates (they keep SF/ZF/PF, and RCL/RCR read CF), a masked count of
 * 0 (no flag changes, but a 32-bit destination is still zero-extended), shifts by CL (the
 * count is known only at run time), memory destinations (the handler sets the flags before
 * its write, which can fault) and LOCK (#UD).
 */
import type { Builder } from './builder.js';
import type { Insn } from './decode.js';
import { szp64 } from '../ops/alucommon.js';

/** EFLAGS.OF (regs.ts). */
const OF = 0x800;

/** Bit n (0..63) of a 64-bit value given as lo/hi expressions. */
function bit64(lo: string, hi: string, n: number): string {
  return n < 32 ? `((${lo} >>> ${n}) & 1)` : `((${hi} >>> ${n - 32}) & 1)`;
}

export function emitShift(b: Builder, ins: Insn): boolean {
  const op = ins.opcode;
  if (op !== 0xc0 && op !== 0xc1 && op !== 0xd0 && op !== 0xd1) return false;
  const kind = ins.reg & 7;
  if (ins.lock || ins.mod !== 3 || kind < 4) return false;
  const size = (op & 1) === 0 ? 1 : ins.osz;
  const c = (op <= 0xc1 ? ins.imm : 1) & (size === 8 ? 0x3f : 0x1f);
  if (c === 0) return false;
  // setArith replaces all six arithmetic flags: the lazy locals are dead from here on
  b.flagsToCpu();
  const r = b.t('sr'), cf = b.t('scf');
  if (size === 8) {
    const lo = b.t('a'), hi = b.t('ah'), rh = b.t('srh');
    b.emit(`const ${lo} = ${b.reg(ins.rm, 8, false)}, ${hi} = ${b.regHi(ins.rm)};`);
    let of = '';
    if (kind === 5 || kind === 7) {
      b.emit(`const ${cf} = ${bit64(lo, hi, c - 1)};`);
      if (c < 32) b.emit(`const ${r} = (${lo} >>> ${c}) | (${hi} << ${32 - c}), ${rh} = ${hi} ${kind === 5 ? '>>>' : '>>'} ${c};`);
      else if (kind === 5) b.emit(`const ${r} = ${hi} >>> ${c - 32}, ${rh} = 0;`);
      else b.emit(`const ${r} = ${hi} >> ${c - 32}, ${rh} = ${hi} >> 31;`);
      if (kind === 5) of = `(((${rh} >>> 31) ^ (${rh} >>> 30)) & 1)`;
    } else {
      b.emit(`const ${cf} = ${bit64(lo, hi, 64 - c)};`);
      if (c < 32) b.emit(`const ${r} = ${lo} << ${c}, ${rh} = (${hi} << ${c}) | (${lo} >>> ${32 - c});`);
      else b.emit(`const ${r} = 0, ${rh} = ${lo} << ${c - 32};`);
      of = `((${rh} >>> 31) ^ ${cf})`;
    }
    b.emit(b.setReg(ins.rm, 8, false, `(${r} | 0)`, `(${rh} | 0)`));
    const szp = b.constant('szp64', szp64);
    b.emit(`cpu.setArith(${cf} | ${szp}(${r} | 0, ${rh} | 0)${of !== '' ? ` | (${of} !== 0 ? ${OF} : 0)` : ''});`);
  } else {
    const bits = size * 8, top = bits - 1, m = size === 4 ? '-1' : size === 2 ? '0xffff' : '0xff';
    const a = b.t('a');
    b.emit(`const ${a} = ${b.reg(ins.rm, size, ins.legacy8)};`);
    let of = '';
    if (kind === 5) {
      b.emit(`const ${r} = ((${a} & ${m}) >>> ${c}) & ${m}, ${cf} = ((${a} & ${m}) >>> ${c - 1}) & 1;`);
      of = `(((${r} >>> ${top}) ^ (${r} >>> ${top - 1})) & 1)`;
    } else if (kind === 7) {
      const sa = size === 4 ? a : `((${a} << ${32 - bits}) >> ${32 - bits})`;
      b.emit(`const ${r} = (${sa} >> ${c}) & ${m}, ${cf} = (${sa} >> ${c - 1}) & 1;`);
    } else {
      b.emit(`const ${r} = (${a} << ${c}) & ${m}, ${cf} = ((${a} << ${c - 1}) >>> ${top}) & 1;`);
      of = `(((${r} >>> ${top}) & 1) ^ ${cf})`;
    }
    b.emit(b.setReg(ins.rm, size, ins.legacy8, r));
    b.emit(`cpu.setArith(${cf} | cpu.szp(${r}, ${size})${of !== '' ? ` | (${of} !== 0 ? ${OF} : 0)` : ''});`);
  }
  b.flagsClobbered();
  return true;
}
