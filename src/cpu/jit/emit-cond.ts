/**
 * Translator emitters for the conditional data instructions SETcc Eb (0F 90-9F) and
 * CMOVcc Gv,Ev (0F 40-4F), as ops/cond.ts (SDM Vol. 2A CMOVcc, Vol. 2B SETcc): the
 * condition comes from the builder (a known flag producer in the block is tested directly).
 * CMOVcc reads its source whatever the condition (it may fault), and a 32-bit destination
 * is zero-extended even when the condition is false.
 */
import type { Builder } from './builder.js';
import type { Insn } from './decode.js';
import { readE } from './emit-alu.js';

export function emitCond(b: Builder, ins: Insn): boolean {
  const op = ins.opcode;
  if (ins.lock) return false;
  const mem = ins.mod !== 3;
  if (op >= 0x190 && op < 0x1a0) {
    const c = b.t('cc');
    b.emit(`const ${c} = ${b.cond(op & 0xf)} ? 1 : 0;`);
    if (!mem) { b.emit(b.setReg(ins.rm, 1, ins.legacy8, c)); return true; }
    b.retireBefore();
    const lin = b.ea(ins, 1, true);
    b.store(lin, 1, c);
    b.checkAfter();
    return true;
  }
  if (op >= 0x140 && op < 0x150) {
    const size = ins.osz;
    if (mem) b.retireBefore();
    const e = readE(b, ins, size, false);
    const c = b.t('cc');
    b.emit(`const ${c} = ${b.cond(op & 0xf)};`);
    b.emit(`if (${c}) { ${b.setReg(ins.reg, size, false, e.v.lo, e.v.hi)} }`);
    if (size === 4) b.emit(`else r[${ins.reg * 2 + 1}] = 0;`);
    if (mem) b.checkAfter();
    return true;
  }
  return false;
}
