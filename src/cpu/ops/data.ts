/**
 * Data movement family: MOV in all forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, PUSH/POP and
 * friends, ENTER/LEAVE, string instructions with REP, IN/OUT/INS/OUTS, XLAT, flag moves.
 * The basic MOVs live here; the rest is split by group into mov.ts, stack.ts, eflags.ts,
 * string.ts and io.ts, all installed from installData.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { installMov, movsxd } from './mov.js';
import { installStack } from './stack.js';
import { installEflags } from './eflags.js';
import { installString } from './string.js';
import { installIo } from './io.js';
import { arpl } from './system.js';

export { grp5Push } from './stack.js';
export { ioPermitted } from './io.js';

/** MOV Ev,Gv (89) */
function movEvGv(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  cpu.decodeModrm(0);
  const size = cpu.osz;
  const v = cpu.getRegSz(cpu.reg, size);
  cpu.writeE(size, v, cpu.hi);
}
/** MOV Gv,Ev (8B) */
function movGvEv(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  cpu.decodeModrm(0);
  const size = cpu.osz;
  const v = cpu.readE(size);
  cpu.setRegSz(cpu.reg, size, v, cpu.hi);
}
/** MOV r, imm (B8+r): the only instruction with a full 64-bit immediate (REX.W). */
function movRegImm(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  const n = (cpu.opcode & 7) | cpu.rexB;
  if (cpu.osz === 8) { const lo = cpu.fetch32(); const hi = cpu.fetch32(); cpu.setReg64(n, lo, hi); return; }
  cpu.setRegSz(n, cpu.osz, cpu.fetchImm(cpu.osz), 0);
}

/** 63: MOVSXD in 64-bit mode; ARPL (system family) elsewhere. Neither takes LOCK. */
function op63(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  cpu.decodeModrm(0);
  if (cpu.code64) movsxd(cpu);
  else arpl(cpu);
}

export function installData(t: Handler[]): void {
  def(t, 0x89, movEvGv);
  def(t, 0x8b, movGvEv);
  for (let r = 0; r < 8; r++) def(t, 0xb8 + r, movRegImm);
  def(t, 0x63, op63);
  installMov(t);
  installStack(t);
  installEflags(t);
  installString(t);
  installIo(t);
}
