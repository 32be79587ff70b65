/**
 * Lazy flags (docs/cpu-design.md): arithmetic records its kind, size, operands and result
 * in the Cpu's lf* fields; these functions compute a flag or a condition from the record
 * when it is read (SDM Vol. 1 §3.4.3, App. B), and fold it into EFLAGS before partial
 * updates. The Cpu's getCF()/cond()/... methods call them.
 */
import type { Cpu } from './cpu.js';
import { LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, ult64 } from './cpu.js';
import { CF, PF, AF, ZF, SF, OF, ARITH_FLAGS } from './regs.js';

/** Parity of a byte: 1 when the number of set bits is even (PF semantics). */
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = (n & 1) === 0 ? 1 : 0;
}

export function getCF(cpu: Cpu): number {
  const a = cpu.lfA, b = cpu.lfB, res = cpu.lfRes;
  switch (cpu.lfOp) {
    case LF_NONE: return cpu.flags & CF;
    case LF_LOGIC: return 0;
    case LF_INC: case LF_DEC: return cpu.lfCin;
    case LF_ADD:
      if (cpu.lfSize === 8) return ult64(res, cpu.lfResHi, a, cpu.lfAHi);
      return (res >>> 0) < (a >>> 0) ? 1 : 0;
    case LF_ADC:
      if (cpu.lfSize === 8) return ult64(res, cpu.lfResHi, a, cpu.lfAHi) | (cpu.lfCin & (res === a && cpu.lfResHi === cpu.lfAHi ? 1 : 0));
      return ((res >>> 0) < (a >>> 0) || (cpu.lfCin !== 0 && res === a)) ? 1 : 0;
    case LF_SUB:
      if (cpu.lfSize === 8) return ult64(a, cpu.lfAHi, b, cpu.lfBHi);
      return (a >>> 0) < (b >>> 0) ? 1 : 0;
    case LF_SBB:
      if (cpu.lfSize === 8) return ult64(a, cpu.lfAHi, b, cpu.lfBHi) | (cpu.lfCin & (a === b && cpu.lfAHi === cpu.lfBHi ? 1 : 0));
      return ((a >>> 0) < (b >>> 0) || (cpu.lfCin !== 0 && a === b)) ? 1 : 0;
  }
  return 0;
}

export function getZF(cpu: Cpu): boolean {
  if (cpu.lfOp === LF_NONE) return (cpu.flags & ZF) !== 0;
  if (cpu.lfSize === 8) return cpu.lfRes === 0 && cpu.lfResHi === 0;
  return cpu.lfRes === 0;
}

export function getSF(cpu: Cpu): boolean {
  if (cpu.lfOp === LF_NONE) return (cpu.flags & SF) !== 0;
  switch (cpu.lfSize) {
    case 1: return (cpu.lfRes & 0x80) !== 0;
    case 2: return (cpu.lfRes & 0x8000) !== 0;
    case 4: return cpu.lfRes < 0;
    default: return cpu.lfResHi < 0;
  }
}

export function getOF(cpu: Cpu): boolean {
  const op = cpu.lfOp;
  if (op === LF_NONE) return (cpu.flags & OF) !== 0;
  if (op === LF_LOGIC) return false;
  let a = cpu.lfA, b = cpu.lfB, res = cpu.lfRes;
  if (cpu.lfSize === 8) { a = cpu.lfAHi; b = cpu.lfBHi; res = cpu.lfResHi; }
  const sign = cpu.lfSize === 1 ? 0x80 : cpu.lfSize === 2 ? 0x8000 : 0x80000000;
  if (op === LF_ADD || op === LF_ADC || op === LF_INC) return ((a ^ res) & (b ^ res) & sign) !== 0;
  return ((a ^ b) & (a ^ res) & sign) !== 0;
}

export function getPF(cpu: Cpu): boolean {
  if (cpu.lfOp === LF_NONE) return (cpu.flags & PF) !== 0;
  return PARITY[cpu.lfRes & 0xff] === 1;
}

export function getAF(cpu: Cpu): boolean {
  if (cpu.lfOp === LF_NONE) return (cpu.flags & AF) !== 0;
  if (cpu.lfOp === LF_LOGIC) return false;
  return ((cpu.lfA ^ cpu.lfB ^ cpu.lfRes) & 0x10) !== 0;
}

/** Folds lazy flags into this.flags (before partial updates like CLC, BT, shifts). */
export function materializeFlags(cpu: Cpu): void {
  if (cpu.lfOp === LF_NONE) return;
  let f = cpu.flags & ~ARITH_FLAGS;
  if (getCF(cpu)) f |= CF;
  if (getPF(cpu)) f |= PF;
  if (getAF(cpu)) f |= AF;
  if (getZF(cpu)) f |= ZF;
  if (getSF(cpu)) f |= SF;
  if (getOF(cpu)) f |= OF;
  cpu.flags = f;
  cpu.lfOp = LF_NONE;
}

/** ZF/SF/PF of a result of the given size, for eager flag computations. */
export function szp(cpu: Cpu, res: number, size: number): number {
  let f = PARITY[res & 0xff] === 1 ? PF : 0;
  switch (size) {
    case 1: if ((res & 0xff) === 0) f |= ZF; if (res & 0x80) f |= SF; break;
    case 2: if ((res & 0xffff) === 0) f |= ZF; if (res & 0x8000) f |= SF; break;
    default: if (res === 0) f |= ZF; if (res < 0) f |= SF; break;
  }
  return f;
}

/** Condition code evaluation, cc = low nibble of Jcc/SETcc/CMOVcc (SDM Vol. 1 App. B). */
export function cond(cpu: Cpu, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(cpu); break;
    case 1: r = getCF(cpu) !== 0; break;
    case 2: r = getZF(cpu); break;
    case 3: r = getCF(cpu) !== 0 || getZF(cpu); break;
    case 4: r = getSF(cpu); break;
    case 5: r = getPF(cpu); break;
    case 6: r = getSF(cpu) !== getOF(cpu); break;
    default: r = getZF(cpu) || getSF(cpu) !== getOF(cpu); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}
