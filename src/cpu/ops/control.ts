/**
 * Control transfer family, near forms: JMP/Jcc/CALL/RET near, LOOP/LOOPcc/JrCXZ,
 * INT n/INT3/INTO/INT1, HLT, and the FF /2../5 entry points the ALU family's group-5
 * handler calls. Far transfers are in farcall.ts, IRET in iret.ts, SYSCALL/SYSRET and
 * SYSENTER/SYSEXIT in syscall.ts; event delivery itself is in ../interrupts.ts.
 *
 * Operand size of near branches (SDM Vol. 2 CALL/JMP/RET "64-bit mode"): forced to 64
 * bits in 64-bit mode (Intel ignores 66 there); otherwise the operand size, where 16 bits
 * truncates the target to IP. Targets are checked (CS limit, or canonical) before
 * anything is pushed, so a faulting branch leaves RSP untouched.
 */
import type { Cpu, Handler } from '../cpu.js';
import { CS, VM, IOPL, RCX } from '../regs.js';
import { def } from './table.js';
import { installFar, grp5CallFarImpl, grp5JmpFarImpl } from './farcall.js';
import { installIret } from './iret.js';
import { installSyscall } from './syscall.js';
import { interceptHlt } from '../vmx/intercepts.js';
import { privilegedSoftwareException } from '../vmx/events.js';
import { v86IntN } from './vme.js';

const TWO32 = 4294967296;

/** Operand size of a near branch: 8 in 64-bit mode, else the operand size. */
export function nearSize(cpu: Cpu): number { return cpu.code64 ? 8 : cpu.osz; }

/** Validates a near branch target and returns the new RIP: #GP(0) beyond the CS limit or non-canonical. */
export function branchTarget(cpu: Cpu, target: number): number {
  if (cpu.code64) {
    if (target < -0x800000000000 || target >= 0x800000000000) cpu.gp(0);
    return target;
  }
  const t = cpu.osz === 2 ? target & 0xffff : target >>> 0;
  if (t > cpu.segLimit[CS]!) cpu.gp(0);
  return t;
}

/** Pushes the return address (cpu.rip) at the near-branch size. */
function pushReturn(cpu: Cpu, size: number): void {
  const rip = cpu.rip;
  if (size === 8) cpu.push(8, rip | 0, Math.floor(rip / TWO32) | 0);
  else cpu.push(size, rip, 0);
}

/** rel16/rel32 displacement (rel32 in 64-bit mode whatever the operand size). */
function fetchRel(cpu: Cpu): number {
  return cpu.osz === 2 && !cpu.code64 ? (cpu.fetch16() << 16) >> 16 : cpu.fetch32();
}

/** HLT (SDM Vol. 2A): CPL 0 only; waits for an interrupt. */
function hlt(cpu: Cpu): void {
  cpu.requireCpl0();
  if (cpu.vmx.nonRoot) interceptHlt(cpu);
  cpu.halted = true;
}

function jcc8(cpu: Cpu): void {
  const d = cpu.fetchS8();
  if (cpu.cond(cpu.opcode & 0xf)) cpu.rip = branchTarget(cpu, cpu.rip + d);
}
function jcc32(cpu: Cpu): void {
  const d = fetchRel(cpu);
  if (cpu.cond(cpu.opcode & 0xf)) cpu.rip = branchTarget(cpu, cpu.rip + d);
}

/** E8 CALL rel16/rel32. */
function callRel(cpu: Cpu): void {
  const d = fetchRel(cpu);
  const size = nearSize(cpu);
  const target = branchTarget(cpu, cpu.rip + d);
  pushReturn(cpu, size);
  cpu.rip = target;
}

/** C3 RET / C2 RET imm16: pops the return address, then releases imm16 bytes. */
function retNear(cpu: Cpu): void {
  const imm = cpu.opcode === 0xc2 ? cpu.fetch16() : 0;
  const size = nearSize(cpu);
  const lo = cpu.peek(size, 0);
  const t = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  cpu.rip = branchTarget(cpu, t);
  cpu.addSp(size + imm);
}

/**
 * E0 LOOPNE, E1 LOOPE, E2 LOOP, E3 JCXZ/JECXZ/JRCXZ. The address size picks CX, ECX or
 * RCX (SDM Vol. 2 LOOP); the count is committed only after the target is validated.
 */
function loop(cpu: Cpu): void {
  const d = cpu.fetchS8();
  const op = cpu.opcode;
  const asz = cpu.asz;
  const lo = cpu.r[RCX << 1]!, hi = cpu.r[(RCX << 1) + 1]!;
  if (op === 0xe3) {
    const zero = asz === 2 ? (lo & 0xffff) === 0 : asz === 4 ? lo === 0 : (lo | hi) === 0;
    if (zero) cpu.rip = branchTarget(cpu, cpu.rip + d);
    return;
  }
  let nlo: number, nhi = hi, nz: boolean;
  if (asz === 2) { nlo = (lo & ~0xffff) | ((lo - 1) & 0xffff); nz = (nlo & 0xffff) !== 0; }
  else if (asz === 4) { nlo = (lo - 1) | 0; nhi = cpu.code64 ? 0 : hi; nz = nlo !== 0; }
  else { nlo = (lo - 1) | 0; if (lo === 0) nhi = (hi - 1) | 0; nz = (nlo | nhi) !== 0; }
  const take = op === 0xe2 ? nz : op === 0xe1 ? nz && cpu.getZF() : nz && !cpu.getZF();
  if (take) cpu.rip = branchTarget(cpu, cpu.rip + d);
  cpu.r[RCX << 1] = nlo; cpu.r[(RCX << 1) + 1] = nhi;
}

/**
 * CD ib INT n: IOPL-sensitive in virtual-8086 mode (SDM Vol. 3A §20.2.7), where CR4.VME
 * adds the redirection bit map (vme.ts v86IntN).
 */
function intN(cpu: Cpu): void {
  const n = cpu.fetch8();
  if ((cpu.flags & VM) !== 0) { v86IntN(cpu, n); return; }
  cpu.softwareInterrupt(n);
}

/** CE INTO: #OF if OF=1; invalid in 64-bit mode. */
function into(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
  if (cpu.getOF()) cpu.softwareInterrupt(4);
}

/**
 * 62 /r BOUND r16, m16&16 / r32, m32&32: #BR (vector 5, a fault: RIP stays on BOUND) when
 * the signed index is below the first bound or above the second (SDM Vol. 2A "BOUND").
 * #UD for a register operand and in 64-bit mode, where 62 is the EVEX escape and the
 * profile offers no AVX-512. Found missing by decoder fuzzing (62 07 was #UD in 32-bit mode).
 */
function bound(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  const size = cpu.osz;
  const lin = cpu.eaLin(size * 2, false); // both bounds within the segment
  let lower = cpu.rdSz(lin, size), upper = cpu.rdSz((lin + size) % TWO32, size);
  let idx = size === 2 ? cpu.getReg16(cpu.reg) : cpu.getReg32(cpu.reg);
  if (size === 2) { lower = (lower << 16) >> 16; upper = (upper << 16) >> 16; idx = (idx << 16) >> 16; }
  if (idx < lower || idx > upper) cpu.fault(5, 0, false);
}

/**
 * F1 INT1/ICEBP: a #DB delivered like a hardware exception (no gate DPL check, EXT set
 * in nested error codes), returning past the instruction.
 */
function int1(cpu: Cpu): void {
  // VMX non-root: type 5 for the exception bitmap, not a hardware #DB (SDM Vol. 3C §27.2.2)
  if (cpu.vmx.nonRoot) privilegedSoftwareException(cpu);
  cpu.raiseException(1, 0, false);
}

// ---- group 5 (FF /2../5), called by the ALU family after decodeModrm -------------------------

/** FF /2 CALL near r/m. */
export function grp5CallNear(cpu: Cpu): void {
  const size = nearSize(cpu);
  const lo = cpu.readE(size);
  const t = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  const target = branchTarget(cpu, t);
  pushReturn(cpu, size);
  cpu.rip = target;
}

/** FF /4 JMP near r/m. */
export function grp5JmpNear(cpu: Cpu): void {
  const size = nearSize(cpu);
  const lo = cpu.readE(size);
  const t = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  cpu.rip = branchTarget(cpu, t);
}

/** FF /3 CALL far m16:16/32/64. */
export function grp5CallFar(cpu: Cpu): void { grp5CallFarImpl(cpu); }
/** FF /5 JMP far m16:16/32/64. */
export function grp5JmpFar(cpu: Cpu): void { grp5JmpFarImpl(cpu); }

export function installControl(t: Handler[]): void {
  def(t, 0xf4, hlt);
  for (let cc = 0; cc < 16; cc++) { def(t, 0x70 + cc, jcc8); def(t, 0x180 + cc, jcc32); }
  def(t, 0xeb, (cpu) => { const d = cpu.fetchS8(); cpu.rip = branchTarget(cpu, cpu.rip + d); });
  def(t, 0xe9, (cpu) => { const d = fetchRel(cpu); cpu.rip = branchTarget(cpu, cpu.rip + d); });
  def(t, 0xe8, callRel);
  def(t, 0xc3, retNear);
  def(t, 0xc2, retNear);
  for (let op = 0xe0; op <= 0xe3; op++) def(t, op, loop);
  def(t, 0xcc, (cpu) => cpu.softwareInterrupt(3));
  def(t, 0xcd, intN);
  def(t, 0xce, into);
  def(t, 0x62, bound);
  def(t, 0xf1, int1);
  installFar(t);
  installIret(t);
  installSyscall(t);
}
