/**
 * x87 basic arithmetic and comparisons: opcodes D8 (m32fp / ST(0),ST(i)), DC (m64fp /
 * ST(i),ST(0)), DA (m32int, FCMOVcc, FUCOMPP) and DE (m16int, pop forms, FCOMPP)
 * (SDM Vol. 2 FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR/FCOM/FIADD.., Vol. 1 §8.3.5-8.3.6).
 * ModRM.reg selects the operation: 0 ADD, 1 MUL, 2 COM, 3 COMP, 4 SUB, 5 SUBR, 6 DIV,
 * 7 DIVR; the register forms of DC/DE store into ST(i), where the SUB/SUBR and DIV/DIVR
 * encodings swap (Vol. 2 Table A-10, "DC E0+i FSUBR ST(i),ST(0)" etc.).
 */
import type { Cpu } from '../cpu.js';
import { IE, DE, ZE, IND_SE, IND_HI, IND_LO, rSe, rHi, rLo, xf, setResult, abortFlags } from './xf80.js';
import { setSrcDenormal, setA, setB, add80, mul80, div80, cmp80, pcBits, rcOf, fromInt64, CMP_GT, CMP_LT, CMP_EQ } from './xf80-arith.js';
import { load32, load64 } from './xf80-conv.js';
import {
  x87Begin, recordIp, isEmpty, stSe, stHi, stLo, setSt, setStResult, pop, setCc, unmaskedIn,
  commitFlags, underflow, C0, C1, C2, C3,
} from './x87.js';

export const OP_ADD = 0, OP_MUL = 1, OP_COM = 2, OP_COMP = 3, OP_SUB = 4, OP_SUBR = 5, OP_DIV = 6, OP_DIVR = 7;

/** Condition codes of a comparison result (SDM Vol. 2 FCOM Table 3-21): >, <, =, unordered. */
export function cmpCc(c: number): number {
  return c === CMP_GT ? 0 : c === CMP_LT ? C0 : c === CMP_EQ ? C3 : C3 | C2 | C0;
}

/** Source operand held while the destination is examined. */
let sSe = 0, sHi = 0, sLo = 0;

/** dest = dest op src for ST(d); src in sSe/sHi/sLo; pops afterwards when `popAfter`. */
function binop(cpu: Cpu, op: number, d: number, popAfter: boolean): void {
  const fcw = cpu.fpu.fcw;
  const dSe = stSe(cpu, d), dHi = stHi(cpu, d), dLo = stLo(cpu, d);
  if (op === OP_COM || op === OP_COMP) {
    setA(dSe, dHi, dLo); setB(sSe, sHi, sLo);
    const c = cmp80(false);
    // the condition codes are written even when the exception is unmasked (host-verified)
    setCc(cpu, C0 | C1 | C2 | C3, cmpCc(c));
    if (unmaskedIn(cpu, IE | DE)) { commitFlags(cpu, false); return; }
    commitFlags(cpu, false);
    if (op === OP_COMP) pop(cpu);
    return;
  }
  if (op === OP_SUBR || op === OP_DIVR) { setA(sSe, sHi, sLo); setB(dSe, dHi, dLo); } else { setA(dSe, dHi, dLo); setB(sSe, sHi, sLo); }
  const p = pcBits(fcw), rc = rcOf(fcw);
  switch (op) {
    case OP_ADD: add80(false, p, rc, fcw); break;
    case OP_SUB: case OP_SUBR: add80(true, p, rc, fcw); break;
    case OP_MUL: mul80(p, rc, fcw); break;
    default: div80(p, rc, fcw); break;
  }
  if (unmaskedIn(cpu, IE | DE | ZE)) { abortFlags(); commitFlags(cpu, true); return; }
  setStResult(cpu, d);
  commitFlags(cpu, true);
  if (popAfter) pop(cpu);
}

/** Empty operand: masked → indefinite into ST(d) (or C3C2C0 = 111 for compares), then the pop. */
function emptyOperand(cpu: Cpu, op: number, d: number, popAfter: boolean): void {
  const masked = underflow(cpu);
  // compares report "unordered" even when the exception is unmasked (host-verified)
  if (op === OP_COM || op === OP_COMP) setCc(cpu, C0 | C2 | C3, C0 | C2 | C3);
  else if (masked) setSt(cpu, d, IND_SE, IND_HI, IND_LO);
  commitFlags(cpu, false);
  if (masked && (popAfter || op === OP_COMP)) pop(cpu);
}

/** Memory forms: ST(0) = ST(0) op m, the source already converted into rSe/rHi/rLo. */
function memForm(cpu: Cpu, op: number): void {
  sSe = rSe; sHi = rHi; sLo = rLo;
  if (isEmpty(cpu, 0)) { setSrcDenormal(false); emptyOperand(cpu, op, 0, false); return; }
  binop(cpu, op, 0, false);
  setSrcDenormal(false);
}

/** D8 /r and D8 C0+i..: m32fp and ST(0),ST(i) forms. */
export function escD8(cpu: Cpu): void {
  cpu.decodeModrm(0);
  x87Begin(cpu, true);
  const op = cpu.reg & 7;
  if (cpu.mod !== 3) {
    const v = cpu.rd32(cpu.eaLin(4, false));
    recordIp(cpu, true);
    load32(v, true);
    memForm(cpu, op);
    return;
  }
  recordIp(cpu, false);
  regForm(cpu, op, 0, cpu.rm & 7, false);
}

/** ST(d) = ST(d) op ST(s) (register forms). */
function regForm(cpu: Cpu, op: number, d: number, s: number, popAfter: boolean): void {
  if (isEmpty(cpu, d) || isEmpty(cpu, s)) { emptyOperand(cpu, op, d, popAfter); return; }
  sSe = stSe(cpu, s); sHi = stHi(cpu, s); sLo = stLo(cpu, s);
  binop(cpu, op, d, popAfter);
}

/** DC /r: m64fp forms; DC C0+i..: ST(i) = ST(i) op ST(0) (SUB/SUBR and DIV/DIVR swapped). */
export function escDC(cpu: Cpu): void {
  cpu.decodeModrm(0);
  x87Begin(cpu, true);
  const op = cpu.reg & 7;
  if (cpu.mod !== 3) {
    const lin = cpu.eaLin(8, false);
    const lo = cpu.rd64(lin), hi = cpu.hi;
    recordIp(cpu, true);
    load64(lo, hi, true);
    memForm(cpu, op);
    return;
  }
  recordIp(cpu, false);
  const i = cpu.rm & 7;
  // DC D0+i / D8+i are undocumented aliases of FCOM/FCOMP ST(i)
  if (op === OP_COM || op === OP_COMP) regForm(cpu, op, 0, i, false);
  else regForm(cpu, op >= 4 ? op ^ 1 : op, i, 0, false);
}

/** DE /r: m16int forms; DE C0+i..: pop forms; DE D9 FCOMPP. */
export function escDE(cpu: Cpu): void {
  cpu.decodeModrm(0);
  x87Begin(cpu, true);
  const op = cpu.reg & 7;
  if (cpu.mod !== 3) {
    const v = cpu.rd16(cpu.eaLin(2, false));
    recordIp(cpu, true);
    fromInt64((v << 16) >> 16, ((v << 16) >> 16) < 0 ? -1 : 0);
    memForm(cpu, op);
    return;
  }
  const i = cpu.rm & 7;
  if (op === OP_COMP) {
    if (i !== 1) cpu.ud();
    recordIp(cpu, false);
    fcompp(cpu, false);
    return;
  }
  recordIp(cpu, false);
  // DE D0+i: undocumented alias of FCOMP ST(i)
  if (op === OP_COM) regForm(cpu, OP_COMP, 0, i, false);
  else regForm(cpu, op >= 4 ? op ^ 1 : op, i, 0, true);
}

/** FCOMPP (DE D9) and FUCOMPP (DA E9): compare ST(0) with ST(1), pop twice. */
function fcompp(cpu: Cpu, unordered: boolean): void {
  if (isEmpty(cpu, 0) || isEmpty(cpu, 1)) {
    const masked = underflow(cpu);
    setCc(cpu, C0 | C2 | C3, C0 | C2 | C3);
    commitFlags(cpu, false);
    if (masked) { pop(cpu); pop(cpu); }
    return;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0)); setB(stSe(cpu, 1), stHi(cpu, 1), stLo(cpu, 1));
  const c = cmp80(unordered);
  setCc(cpu, C0 | C1 | C2 | C3, cmpCc(c));
  if (unmaskedIn(cpu, IE | DE)) { commitFlags(cpu, false); return; }
  commitFlags(cpu, false);
  pop(cpu); pop(cpu);
}

/** FCMOVcc condition codes (cpu.cond numbering): B, E, BE, U and their negations. */
const FCMOV_CC = [2, 4, 6, 10];

/** DA /r: m32int forms; DA C0+i..: FCMOVB/E/BE/U; DA E9 FUCOMPP. */
export function escDA(cpu: Cpu): void {
  cpu.decodeModrm(0);
  x87Begin(cpu, true);
  const op = cpu.reg & 7;
  if (cpu.mod !== 3) {
    const v = cpu.rd32(cpu.eaLin(4, false));
    recordIp(cpu, true);
    fromInt64(v, v >> 31);
    memForm(cpu, op);
    return;
  }
  if (op < 4) { recordIp(cpu, false); fcmov(cpu, FCMOV_CC[op]!, cpu.rm & 7); return; }
  if (op === 5 && (cpu.rm & 7) === 1) { recordIp(cpu, false); fcompp(cpu, true); return; }
  cpu.ud();
}

/** FCMOVcc ST(0), ST(i) (SDM Vol. 2 FCMOVcc): C1 cleared; an empty operand is a stack underflow. */
export function fcmov(cpu: Cpu, cc: number, i: number): void {
  if (isEmpty(cpu, 0) || isEmpty(cpu, i)) {
    if (underflow(cpu)) setSt(cpu, 0, IND_SE, IND_HI, IND_LO);
    commitFlags(cpu, false);
    return;
  }
  // C1 changes only on stack underflow (SDM Vol. 2 FCMOVcc; host-verified)
  if (cpu.cond(cc)) { setResult(stSe(cpu, i), stHi(cpu, i), stLo(cpu, i)); setStResult(cpu, 0); }
  commitFlags(cpu, false);
}

export { xf };
