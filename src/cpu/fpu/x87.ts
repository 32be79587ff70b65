/**
 * x87 execution plumbing shared by the D8-DF handlers (SDM Vol. 1 chapter 8):
 * availability (#NM from CR0.EM/TS, §8.1 and Vol. 3A §2.5), pending-exception checks of
 * waiting instructions (#MF with CR0.NE = 1, §8.7; with NE = 0 the FERR#/IRQ13 path is a
 * documented no-op: the instruction proceeds), the register stack with its overflow and
 * underflow rules (§8.5.1.1), the status-word bookkeeping (flags, C0-C3, ES/B, §8.1.3) and
 * the last-instruction pointers FOP/FIP/FCS/FDP/FDS (§8.1.8-8.1.9).
 */
import type { Cpu } from '../cpu.js';
import { CR0_EM, CR0_TS, CR0_NE, CS, NM, MF } from '../regs.js';
import { TAG_EMPTY } from './state.js';
import { IE, SF, IND_SE, IND_HI, IND_LO, xf, roundedUp, rSe, rHi, rLo, clearFlags, raiseX } from './xf80.js';

export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;
/** FSW bits that instructions report through (condition codes). */
export const CC_MASK = C0 | C1 | C2 | C3;

/**
 * Start of every ESC instruction (after ModRM decode): #NM when CR0.EM or CR0.TS is set,
 * then for waiting instructions a pending unmasked exception (FSW.ES) → #MF.
 */
export function x87Begin(cpu: Cpu, waiting: boolean): void {
  if ((cpu.cr0 & (CR0_EM | CR0_TS)) !== 0) cpu.fault(NM, 0, false);
  if (waiting) checkPending(cpu);
  cpu.fpu.xmod |= 1; // XMODIFIED[0] (fpu/state.ts)
  clearFlags();
}

/** FWAIT/waiting-instruction check (SDM Vol. 1 §8.6, §8.7). */
export function checkPending(cpu: Cpu): void {
  if ((cpu.fpu.fsw & 0x80) === 0) return;
  // CR0.NE = 0 selects the external FERR#/IRQ13 report, which this CPU does not model
  if ((cpu.cr0 & CR0_NE) !== 0) cpu.fault(MF, 0, false);
}

/** Records FOP/FIP/FCS (and FDP/FDS for memory operands) of a non-control instruction. */
export function recordIp(cpu: Cpu, mem: boolean): void {
  const f = cpu.fpu;
  f.fop = ((cpu.opcode & 7) << 8) | cpu.modrmByte;
  const ip = cpu.startRip;
  f.fipLo = ip | 0; f.fipHi = cpu.code64 ? Math.floor(ip / 4294967296) | 0 : 0; f.fcs = cpu.segSel[CS]!;
  if (mem) { f.fdpLo = cpu.eaLo; f.fdpHi = cpu.eaHi; f.fds = cpu.segSel[cpu.eaSeg]!; }
}

/** Physical register of ST(i). */
export function phys(cpu: Cpu, i: number): number { return (cpu.fpu.top + i) & 7; }
export function isEmpty(cpu: Cpu, i: number): boolean { return cpu.fpu.tag[(cpu.fpu.top + i) & 7] === TAG_EMPTY; }

/** Writes an 80-bit value into physical register p and tags it. */
export function setPhys(cpu: Cpu, p: number, se: number, hi: number, lo: number): void {
  const f = cpu.fpu;
  f.se[p] = se; f.mant[2 * p + 1] = hi; f.mant[2 * p] = lo;
  f.tag[p] = f.classify(p);
}
export function setSt(cpu: Cpu, i: number, se: number, hi: number, lo: number): void { setPhys(cpu, phys(cpu, i), se, hi, lo); }
/** Writes the last result (rSe/rHi/rLo) into ST(i). */
export function setStResult(cpu: Cpu, i: number): void { setPhys(cpu, phys(cpu, i), rSe, rHi, rLo); }

export function stSe(cpu: Cpu, i: number): number { return cpu.fpu.se[phys(cpu, i)]!; }
export function stHi(cpu: Cpu, i: number): number { return cpu.fpu.mant[2 * phys(cpu, i) + 1]!; }
export function stLo(cpu: Cpu, i: number): number { return cpu.fpu.mant[2 * phys(cpu, i)]!; }

export function pop(cpu: Cpu): void {
  const f = cpu.fpu;
  f.tag[f.top] = TAG_EMPTY;
  f.top = (f.top + 1) & 7;
}

/** Sets condition codes: `bits` within `mask` (others unchanged). */
export function setCc(cpu: Cpu, mask: number, bits: number): void {
  cpu.fpu.fsw = (cpu.fpu.fsw & ~mask) | (bits & mask);
}

/** True when an exception among `which` was raised and is unmasked (the destination is then left alone). */
export function unmaskedIn(cpu: Cpu, which: number): boolean { return (xf & which & ~cpu.fpu.fcw) !== 0; }

/**
 * Merges the instruction's exceptions into FSW and recomputes ES/B (ES = any unmasked flag,
 * SDM Vol. 1 §8.1.3.2; B mirrors ES). C1 gets the rounded-up indicator when `c1` is true.
 */
export function commitFlags(cpu: Cpu, c1FromRounding: boolean): void {
  const f = cpu.fpu;
  let w = f.fsw | (xf & 0x7f);
  if (c1FromRounding) w = (w & ~C1) | (roundedUp && (xf & SF) === 0 ? C1 : 0);
  f.fsw = w;
  updateEs(cpu);
}
export function updateEs(cpu: Cpu): void {
  const f = cpu.fpu;
  if ((f.fsw & 0x3f & ~f.fcw) !== 0) f.fsw |= 0x8080; else f.fsw &= ~0x8080;
}

/**
 * Stack underflow (SDM Vol. 1 §8.5.1.1): IE and SF with C1 = 0. Returns true when the
 * exception is masked (the caller then stores the indefinite result).
 */
export function underflow(cpu: Cpu): boolean {
  raiseX(IE | SF);
  cpu.fpu.fsw &= ~C1;
  return (cpu.fpu.fcw & IE) !== 0;
}

/**
 * Pushes rSe/rHi/rLo. Stack overflow when the new ST(0) is not empty: IE, SF, C1 = 1, and
 * when masked the indefinite value is pushed instead; unmasked leaves the stack alone.
 * C1 = 0 otherwise. Returns false when nothing was pushed.
 */
export function pushResult(cpu: Cpu): boolean {
  const f = cpu.fpu;
  const p = (f.top - 1) & 7;
  if (f.tag[p] !== TAG_EMPTY) {
    raiseX(IE | SF);
    f.fsw |= C1;
    if ((f.fcw & IE) === 0) return false;
    f.top = p;
    setPhys(cpu, p, IND_SE, IND_HI, IND_LO);
    return true;
  }
  f.fsw &= ~C1;
  f.top = p;
  setPhys(cpu, p, rSe, rHi, rLo);
  return true;
}

/** Probes a memory write of `size` bytes so later writes cannot fault halfway. */
export function probeWrite(cpu: Cpu, lin: number, size: number): void {
  cpu.probeSplit(lin, size, true);
}
