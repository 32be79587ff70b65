/**
 * Atomic read-modify-write family: CMPXCHG (0F B0/B1), XADD (0F C0/C1) and
 * CMPXCHG8B/CMPXCHG16B (0F C7 /1, reached through system.ts which owns 0F C7).
 * The emulator runs one CPU per thread of execution, so LOCK needs no extra work beyond
 * its #UD rule; each instruction still does every faulting check before committing.
 * SDM Vol. 2A "CMPXCHG", "CMPXCHG8B/CMPXCHG16B", Vol. 2C "XADD".
 */
import type { Cpu, Handler } from '../cpu.js';
import { ZF, RAX, RBX, RCX, RDX } from '../regs.js';
import { F1C_CX16 } from '../profile.js';
import { def } from './table.js';
import { alu } from './alu.js';
import { lockMem } from './alucommon.js';

/**
 * CMPXCHG Eb/Ev,Gb/Gv: compare the accumulator with the destination (flags of CMP
 * acc, dest). Equal: dest = src. Otherwise acc = dest, and the destination is written
 * back with its own value (a locked cycle always writes).
 */
function cmpxchg(cpu: Cpu): void {
  cpu.decodeModrm(0);
  lockMem(cpu);
  const size = cpu.opcode === 0x1b0 ? 1 : cpu.osz;
  const src = cpu.getRegSz(cpu.reg, size), srcHi = cpu.hi;
  let lin = 0, d: number;
  if (cpu.mod === 3) d = cpu.getRegSz(cpu.rm, size);
  else { lin = cpu.eaLin(size, true); d = cpu.rdSz(lin, size); }
  const dHi = cpu.hi;
  const acc = cpu.getRegSz(RAX, size), accHi = cpu.hi;
  const eq = d === acc && (size !== 8 || dHi === accHi);
  const nLo = eq ? src : d, nHi = eq ? srcHi : dHi;
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, nLo, nHi);
  else cpu.wrSz(lin, size, nLo, nHi);
  if (!eq) cpu.setRegSz(RAX, size, d, dHi);
  alu(cpu, 7, size, acc, accHi, d, dHi);
}

/** XADD Eb/Ev,Gb/Gv: TEMP = src + dest; src = dest; dest = TEMP (ADD flags). */
function xadd(cpu: Cpu): void {
  cpu.decodeModrm(0);
  lockMem(cpu);
  const size = cpu.opcode === 0x1c0 ? 1 : cpu.osz;
  const src = cpu.getRegSz(cpu.reg, size), srcHi = cpu.hi;
  let lin = 0, d: number;
  if (cpu.mod === 3) d = cpu.getRegSz(cpu.rm, size);
  else { lin = cpu.eaLin(size, true); d = cpu.rdSz(lin, size); }
  const dHi = cpu.hi;
  const sum = alu(cpu, 0, size, d, dHi, src, srcHi), sumHi = cpu.hi;
  if (cpu.mod === 3) {
    cpu.setRegSz(cpu.reg, size, d, dHi);
    cpu.setRegSz(cpu.rm, size, sum, sumHi);
  } else {
    cpu.wrSz(lin, size, sum, sumHi);
    cpu.setRegSz(cpu.reg, size, d, dHi);
  }
}

/**
 * 0F C7 /1: CMPXCHG8B m64 (EDX:EAX vs m64, ECX:EBX stored on equal) or, with REX.W,
 * CMPXCHG16B m128 (RDX:RAX, RCX:RBX), which needs CPUID.1:ECX.CX16 and a 16-byte aligned
 * operand (#GP(0) otherwise). Only ZF changes. Register operands are #UD. Called after
 * decodeModrm by the 0F C7 dispatcher.
 */
export function grp9Cmpxchg8b16b(cpu: Cpu): void {
  if (cpu.mod === 3) cpu.ud();
  lockMem(cpu);
  const wide = cpu.rexW;
  if (wide && (cpu.profile.leaf1Ecx & F1C_CX16) === 0) cpu.ud();
  const lin = cpu.eaLin(wide ? 16 : 8, true);
  if (wide && lin % 16 !== 0) cpu.gp(0);
  if (!wide) {
    const m0 = cpu.rd64(lin), m1 = cpu.hi;
    const eq = m0 === cpu.getReg32(RAX) && m1 === cpu.getReg32(RDX);
    if (eq) cpu.wr64(lin, cpu.getReg32(RBX), cpu.getReg32(RCX));
    else { cpu.wr64(lin, m0, m1); cpu.setReg32(RAX, m0); cpu.setReg32(RDX, m1); }
    setZf(cpu, eq);
    return;
  }
  const a0 = cpu.rd64(lin), a1 = cpu.hi;
  const b0 = cpu.rd64(lin + 8), b1 = cpu.hi;
  const rax = cpu.getReg64(RAX), raxHi = cpu.hi, rdx = cpu.getReg64(RDX), rdxHi = cpu.hi;
  const eq = a0 === rax && a1 === raxHi && b0 === rdx && b1 === rdxHi;
  // aligned: both quadwords are on one page, so this write check covers the whole store
  cpu.translateData(lin, true);
  if (eq) {
    const rbx = cpu.getReg64(RBX), rbxHi = cpu.hi, rcx = cpu.getReg64(RCX), rcxHi = cpu.hi;
    cpu.wr64(lin, rbx, rbxHi); cpu.wr64(lin + 8, rcx, rcxHi);
  } else {
    cpu.wr64(lin, a0, a1); cpu.wr64(lin + 8, b0, b1);
    cpu.setReg64(RAX, a0, a1); cpu.setReg64(RDX, b0, b1);
  }
  setZf(cpu, eq);
}

function setZf(cpu: Cpu, z: boolean): void {
  cpu.materializeFlags();
  cpu.flags = z ? cpu.flags | ZF : cpu.flags & ~ZF;
}

export function installCmpxchg(t: Handler[]): void {
  def(t, 0x1b0, cmpxchg); def(t, 0x1b1, cmpxchg);
  def(t, 0x1c0, xadd); def(t, 0x1c1, xadd);
}

