/**
 * Control transfer family: JMP/Jcc/CALL/RET near and far, LOOP/JCXZ, INT n/INT3/INTO/IRET,
 * SYSCALL/SYSRET, SYSENTER/SYSEXIT, HLT. Event delivery itself is in ../interrupts.ts.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';

/** HLT (SDM Vol. 2A): CPL 0 only; waits for an interrupt. */
function hlt(cpu: Cpu): void {
  cpu.requireCpl0();
  cpu.halted = true;
}

function jcc8(cpu: Cpu): void {
  const d = cpu.fetchS8();
  if (cpu.cond(cpu.opcode & 0xf)) cpu.jumpNear(cpu.rip + d);
}
function jcc32(cpu: Cpu): void {
  const d = cpu.osz === 2 && !cpu.code64 ? (cpu.fetch16() << 16) >> 16 : cpu.fetch32();
  if (cpu.cond(cpu.opcode & 0xf)) cpu.jumpNear(cpu.rip + d);
}

export function installControl(t: Handler[]): void {
  def(t, 0xf4, hlt);
  for (let cc = 0; cc < 16; cc++) { def(t, 0x70 + cc, jcc8); def(t, 0x180 + cc, jcc32); }
  def(t, 0xeb, (cpu) => { const d = cpu.fetchS8(); cpu.jumpNear(cpu.rip + d); });
  def(t, 0xe9, (cpu) => {
    const d = cpu.osz === 2 && !cpu.code64 ? (cpu.fetch16() << 16) >> 16 : cpu.fetch32();
    cpu.jumpNear(cpu.rip + d);
  });
}
