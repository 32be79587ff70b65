/**
 * Conditional data instructions: CMOVcc Gv,Ev (0F 40-4F) and SETcc Eb (0F 90-9F).
 * SDM Vol. 2A "CMOVcc", Vol. 2B "SETcc"; conditions as in Jcc (cpu.cond).
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { noLock } from './alucommon.js';

/**
 * CMOVcc: the source is read (and may fault) whatever the condition. A 32-bit
 * destination in 64-bit mode is zero-extended even when the condition is false, because
 * the instruction always writes its destination (SDM Vol. 2A CMOVcc, "Operation").
 */
function cmov(cpu: Cpu): void {
  cpu.decodeModrm(0);
  noLock(cpu);
  const size = cpu.osz;
  const v = cpu.readE(size), vHi = cpu.hi;
  if (cpu.cond(cpu.opcode & 0xf)) cpu.setRegSz(cpu.reg, size, v, vHi);
  else if (size === 4) cpu.setReg32(cpu.reg, cpu.getReg32(cpu.reg));
}

/** SETcc Eb: 1 or 0 (ModRM.reg is ignored). */
function setcc(cpu: Cpu): void {
  cpu.decodeModrm(0);
  noLock(cpu);
  cpu.writeE(1, cpu.cond(cpu.opcode & 0xf) ? 1 : 0, 0);
}

export function installCond(t: Handler[]): void {
  for (let cc = 0; cc < 16; cc++) { def(t, 0x140 + cc, cmov); def(t, 0x190 + cc, setcc); }
}
