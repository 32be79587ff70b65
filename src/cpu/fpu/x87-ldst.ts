/**
 * x87 data transfer and register-stack instructions (SDM Vol. 1 §8.3.3-8.3.4, Vol. 2):
 * FLD/FST/FSTP (m32fp, m64fp, m80fp, ST(i)), FILD/FIST/FISTP/FISTTP (m16/m32/m64int),
 * FBLD/FBSTP, FXCH, FFREE, FINCSTP/FDECSTP, FCHS/FABS/FTST/FXAM, FLD1/FLDL2T/FLDL2E/
 * FLDPI/FLDLG2/FLDLN2/FLDZ, FCOMI/FUCOMI(P), FUCOM(P).
 */
import type { Cpu } from '../cpu.js';
import { CF, PF, ZF } from '../regs.js';
import { isAmd } from '../profile.js';
import { TAG_EMPTY } from './state.js';
import {
  IE, DE, PE, SF, clearFlags, IND_SE, IND_HI, IND_LO, rSe, rHi, rLo, xf, setResult, raiseX, classify80,
  C_ZERO, C_DENORMAL, C_NORMAL, C_INF, C_QNAN, C_SNAN, C_UNSUPPORTED, WK, wkLoad64, roundPack, F80,
} from './xf80.js';
import {
  setA, setB, cmp80, roundToInt, intHi, intLo, intBig, intInexact, intUp, fromInt64, fromInt, CMP_GT, CMP_LT, CMP_EQ,
} from './xf80-arith.js';
import { load32, load64, store, stLo as cvLo, stHi as cvHi, stOk, loadBcd, storeBcd, BCD_LIMIT_HI, BCD_LIMIT_LO } from './xf80-conv.js';
import {
  recordIp, isEmpty, phys, stSe, stHi, stLo, setSt, setStResult, pop, setCc, unmaskedIn, commitFlags,
  underflow, pushResult, probeWrite, C0, C1, C2, C3,
} from './x87.js';
import { cmpCc } from './x87-arith.js';

// ---- loads ---------------------------------------------------------------------------------
/** Pushes the converted value unless an unmasked IE/DE from the conversion stops it. */
function pushConverted(cpu: Cpu): void {
  // stack overflow takes precedence over the conversion's IE/DE; an unmasked DE still
  // loads the value (host-verified)
  if (!isEmpty(cpu, 7)) { clearFlags(); pushResult(cpu); commitFlags(cpu, false); return; }
  // an unmasked IE (SNaN source) stops the load and clears C1, as an arithmetic abort does (host-verified)
  if (unmaskedIn(cpu, IE)) { cpu.fpu.fsw &= ~C1; commitFlags(cpu, false); return; }
  pushResult(cpu);
  commitFlags(cpu, false);
}

export function fldM32(cpu: Cpu): void { const v = cpu.rd32(cpu.eaLin(4, false)); recordIp(cpu, true); load32(v); pushConverted(cpu); }
export function fldM64(cpu: Cpu): void {
  const lin = cpu.eaLin(8, false); const lo = cpu.rd64(lin), hi = cpu.hi;
  recordIp(cpu, true); load64(lo, hi); pushConverted(cpu);
}
/** FLD m80fp: no conversion, no exceptions besides stack overflow. */
export function fldM80(cpu: Cpu): void {
  const lin = cpu.eaLin(10, false); const lo = cpu.rd64(lin), hi = cpu.hi; const se = cpu.rd16(lin + 8);
  recordIp(cpu, true); setResult(se, hi, lo); pushResult(cpu); commitFlags(cpu, false);
}
/** FILD m16/m32/m64int: exact. */
export function fild(cpu: Cpu, size: number): void {
  const lin = cpu.eaLin(size, false);
  let lo: number, hi: number;
  if (size === 2) { lo = (cpu.rd16(lin) << 16) >> 16; hi = lo >> 31; }
  else if (size === 4) { lo = cpu.rd32(lin); hi = lo >> 31; }
  else { lo = cpu.rd64(lin); hi = cpu.hi; }
  recordIp(cpu, true); fromInt64(lo, hi); pushResult(cpu); commitFlags(cpu, false);
}
/** FBLD m80bcd. */
export function fbld(cpu: Cpu): void {
  const lin = cpu.eaLin(10, false);
  for (let i = 0; i < 10; i++) BCD[i] = cpu.rd8(lin + i);
  recordIp(cpu, true); loadBcd(BCD); pushResult(cpu); commitFlags(cpu, false);
}
const BCD = new Uint8Array(10);

/** FLD ST(i): the value is read before the push (FLD ST(0) duplicates the top). */
export function fldSt(cpu: Cpu, i: number): void {
  setResult(stSe(cpu, i), stHi(cpu, i), stLo(cpu, i));
  if (isEmpty(cpu, i)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    setResult(IND_SE, IND_HI, IND_LO);
    // underflow wins over a simultaneous overflow: C1 stays 0 (host-verified)
    pushResult(cpu); cpu.fpu.fsw &= ~C1;
  } else pushResult(cpu);
  commitFlags(cpu, false);
}

// ---- stores --------------------------------------------------------------------------------
/** FST/FSTP m32fp/m64fp (size 4/8). */
export function fstM(cpu: Cpu, size: number, popAfter: boolean): void {
  const lin = cpu.eaLin(size, true);
  probeWrite(cpu, lin, size);
  recordIp(cpu, true);
  if (isEmpty(cpu, 0)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    if (size === 4) cpu.wr32(lin, 0xffc00000 | 0); else cpu.wr64(lin, 0, 0xfff80000 | 0);
    commitFlags(cpu, false); if (popAfter) pop(cpu); return;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0));
  const fcw = cpu.fpu.fcw;
  store(size === 4, (fcw >> 10) & 3, fcw);
  if (!stOk) { cpu.fpu.fsw &= ~C1; commitFlags(cpu, false); return; }
  if (size === 4) cpu.wr32(lin, cvLo); else cpu.wr64(lin, cvLo, cvHi);
  commitFlags(cpu, true);
  if (popAfter) pop(cpu);
}
/** FSTP m80fp: the register bits as they are. */
export function fstpM80(cpu: Cpu): void {
  const lin = cpu.eaLin(10, true);
  probeWrite(cpu, lin, 10);
  recordIp(cpu, true);
  let se = stSe(cpu, 0), hi = stHi(cpu, 0), lo = stLo(cpu, 0);
  if (isEmpty(cpu, 0)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    se = IND_SE; hi = IND_HI; lo = IND_LO;
  } else cpu.fpu.fsw &= ~C1;
  cpu.wr64(lin, lo, hi); cpu.wr16(lin + 8, se);
  commitFlags(cpu, false);
  pop(cpu);
}
/** FST/FSTP ST(i): copies ST(0) unchanged. */
export function fstSt(cpu: Cpu, i: number, popAfter: boolean): void {
  if (isEmpty(cpu, 0)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    setSt(cpu, i, IND_SE, IND_HI, IND_LO);
  } else { cpu.fpu.fsw &= ~C1; setSt(cpu, i, stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0)); }
  commitFlags(cpu, false);
  if (popAfter) pop(cpu);
}

/**
 * D9 D8+i, an undocumented FSTP ST(i) alias (SDM Vol. 2 Table A-10 leaves the row blank). On
 * this machine's FPU (measured by x87-diff.test.ts) it is FSTP ST(i) except for an empty
 * ST(0): that is no stack underflow (no IE/SF, no indefinite stored) — ST(i) is left as it
 * is, C1 cleared and the stack popped. DF D0+i/D8+i, the other aliases, are plain FSTP ST(i).
 */
export function fstpAliasD9(cpu: Cpu, i: number): void {
  if (!isEmpty(cpu, 0)) { fstSt(cpu, i, true); return; }
  cpu.fpu.fsw &= ~C1;
  commitFlags(cpu, false);
  pop(cpu);
}

/** Integer indefinite per size and the value limits (SDM Vol. 1 §4.8.3.7 / Table 4-2). */
function intFits(size: number, neg: boolean, hi: number, lo: number): boolean {
  if (size === 8) return hi < 0x80000000 || (neg && hi === 0x80000000 && lo === 0);
  if (hi !== 0) return false;
  const lim = size === 2 ? 0x8000 : 0x80000000;
  return lo < lim || (neg && lo === lim);
}

/** FIST/FISTP/FISTTP (trunc) m16/m32/m64int. */
export function fist(cpu: Cpu, size: number, popAfter: boolean, trunc: boolean): void {
  const lin = cpu.eaLin(size, true);
  probeWrite(cpu, lin, size);
  recordIp(cpu, true);
  let lo = 0, hi = 0, indef = false;
  if (isEmpty(cpu, 0)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    indef = true;
  } else {
    const se = stSe(cpu, 0), c = classify80(se, stHi(cpu, 0), stLo(cpu, 0));
    if (c >= C_INF) { raiseX(IE); indef = true; }
    else {
      // FIST does not report denormal operands (SDM Vol. 2 FIST: no #D)
      setA(se, stHi(cpu, 0), stLo(cpu, 0));
      roundToInt(trunc ? 3 : (cpu.fpu.fcw >> 10) & 3);
      const neg = (se & 0x8000) !== 0;
      if (intBig || !intFits(size, neg, intHi, intLo)) { raiseX(IE); indef = true; }
      else {
        if (intInexact) raiseX(PE);
        lo = intLo; hi = intHi;
        if (neg) { lo = -lo | 0; hi = (~hi + (lo === 0 ? 1 : 0)) | 0; }
      }
    }
    cpu.fpu.fsw = (cpu.fpu.fsw & ~C1) | (!indef && intUp && intInexact ? C1 : 0);
    if (unmaskedIn(cpu, IE | DE)) { commitFlags(cpu, false); return; }
  }
  if (indef) { lo = size === 2 ? 0x8000 : size === 4 ? 0x80000000 | 0 : 0; hi = 0x80000000 | 0; }
  if (size === 2) cpu.wr16(lin, lo & 0xffff); else if (size === 4) cpu.wr32(lin, lo); else cpu.wr64(lin, lo, hi);
  commitFlags(cpu, false);
  if (popAfter) pop(cpu);
}

/** FBSTP m80bcd: round under RC; |value| ≥ 10^18, NaN or ∞ store the BCD indefinite. */
export function fbstp(cpu: Cpu): void {
  const lin = cpu.eaLin(10, true);
  probeWrite(cpu, lin, 10);
  recordIp(cpu, true);
  let indef = false;
  const neg = (stSe(cpu, 0) & 0x8000) !== 0;
  if (isEmpty(cpu, 0)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    indef = true;
  } else {
    const se = stSe(cpu, 0), c = classify80(se, stHi(cpu, 0), stLo(cpu, 0));
    if (c >= C_INF) { raiseX(IE); indef = true; }
    else {
      setA(se, stHi(cpu, 0), stLo(cpu, 0));
      roundToInt((cpu.fpu.fcw >> 10) & 3);
      if (intBig || intHi > BCD_LIMIT_HI || (intHi === BCD_LIMIT_HI && intLo >= BCD_LIMIT_LO)) { raiseX(IE); indef = true; }
      else { if (intInexact) raiseX(PE); storeBcd(neg, intHi, intLo, BCD); }
    }
    cpu.fpu.fsw = (cpu.fpu.fsw & ~C1) | (!indef && intUp && intInexact ? C1 : 0);
    if (unmaskedIn(cpu, IE | DE)) { commitFlags(cpu, false); return; }
  }
  if (indef) { BCD.fill(0); BCD[7] = 0xc0; BCD[8] = 0xff; BCD[9] = 0xff; }
  for (let i = 0; i < 10; i++) cpu.wr8(lin + i, BCD[i]!);
  commitFlags(cpu, false);
  pop(cpu);
}

// ---- register stack ------------------------------------------------------------------------
/** FXCH ST(i): empty operands are underflows; masked, they become indefinite first. */
export function fxch(cpu: Cpu, i: number): void {
  if (isEmpty(cpu, 0) || isEmpty(cpu, i)) {
    if (!underflow(cpu)) { commitFlags(cpu, false); return; }
    if (isEmpty(cpu, 0)) setSt(cpu, 0, IND_SE, IND_HI, IND_LO);
    if (isEmpty(cpu, i)) setSt(cpu, i, IND_SE, IND_HI, IND_LO);
  } else cpu.fpu.fsw &= ~C1;
  const a = phys(cpu, 0), b = phys(cpu, i), f = cpu.fpu;
  const se = f.se[a]!, hi = f.mant[2 * a + 1]!, lo = f.mant[2 * a]!, tg = f.tag[a]!;
  f.se[a] = f.se[b]!; f.mant[2 * a + 1] = f.mant[2 * b + 1]!; f.mant[2 * a] = f.mant[2 * b]!; f.tag[a] = f.tag[b]!;
  f.se[b] = se; f.mant[2 * b + 1] = hi; f.mant[2 * b] = lo; f.tag[b] = tg;
  commitFlags(cpu, false);
}

/** FFREE / FFREEP: C1 is cleared (SDM: undefined; host-verified). */
export function ffree(cpu: Cpu, i: number, popAfter: boolean): void {
  cpu.fpu.tag[phys(cpu, i)] = TAG_EMPTY;
  cpu.fpu.fsw &= ~C1;
  if (popAfter) pop(cpu);
}

/** FCHS (neg) / FABS. */
export function fsign(cpu: Cpu, abs: boolean): void {
  if (isEmpty(cpu, 0)) {
    if (underflow(cpu)) setSt(cpu, 0, IND_SE, IND_HI, IND_LO);
    commitFlags(cpu, false); return;
  }
  cpu.fpu.fsw &= ~C1;
  const p = phys(cpu, 0);
  cpu.fpu.se[p] = abs ? cpu.fpu.se[p]! & 0x7fff : cpu.fpu.se[p]! ^ 0x8000;
  commitFlags(cpu, false);
}

/** FTST: compare ST(0) with +0.0. */
export function ftst(cpu: Cpu): void {
  if (isEmpty(cpu, 0)) {
    underflow(cpu); setCc(cpu, C0 | C2 | C3, C0 | C2 | C3);
    commitFlags(cpu, false); return;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0)); setB(0, 0, 0);
  const c = cmp80(false);
  setCc(cpu, C0 | C1 | C2 | C3, cmpCc(c));
  commitFlags(cpu, false);
}

/** FXAM (SDM Vol. 2 FXAM Table 3-52): class in C3 C2 C0, sign in C1. */
export function fxam(cpu: Cpu): void {
  const p = phys(cpu, 0), f = cpu.fpu;
  const se = f.se[p]!, sign = (se & 0x8000) !== 0 ? C1 : 0;
  let cc: number;
  if (f.tag[p] === TAG_EMPTY) cc = C3 | C0;
  else {
    switch (classify80(se, f.mant[2 * p + 1]!, f.mant[2 * p]!)) {
      case C_UNSUPPORTED: cc = 0; break;
      case C_QNAN: case C_SNAN: cc = C0; break;
      case C_NORMAL: cc = C2; break;
      case C_INF: cc = C2 | C0; break;
      case C_ZERO: cc = C3; break;
      default: cc = C3 | C2; break;
    }
  }
  setCc(cpu, C0 | C1 | C2 | C3, cc | sign);
}

// ---- constants (SDM Vol. 1 §8.3.8: 66-bit internal constants rounded per RC) ----------------
/** exponent word, 64 significand bits (hi, lo) and the next 32 bits of each constant. */
const CONSTS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0x3fff, 0x80000000, 0, 0],                              // 1
  [0x4000, 0xd49a784b, 0xcd1b8afe, 0x492bf6ff],            // log2(10)
  [0x3fff, 0xb8aa3b29, 0x5c17f0bb, 0xbe87fed0],            // log2(e)
  [0x4000, 0xc90fdaa2, 0x2168c234, 0xc4c6628b],            // pi
  [0x3ffd, 0x9a209a84, 0xfbcff798, 0x8f8959ac],            // log10(2)
  [0x3ffe, 0xb17217f7, 0xd1cf79ab, 0xc9e3b398],            // ln(2)
];
/** D9 E8+k: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ. */
export function fldConst(cpu: Cpu, k: number): void {
  if (k === 6) setResult(0, 0, 0);
  else {
    const c = CONSTS[k]!;
    wkLoad64(c[1], c[2]); WK[1] = c[3];
    roundPack(false, c[0], 64, F80, (cpu.fpu.fcw >> 10) & 3, 0x3f);
  }
  clearFlags(); // rounding a constant signals nothing: no PE, C1 comes from the push
  pushResult(cpu);
  commitFlags(cpu, false);
}

// ---- FCOMI / FUCOMI / FUCOM -----------------------------------------------------------------
/**
 * FCOMI/FCOMIP/FUCOMI/FUCOMIP ST(0), ST(i): ZF/PF/CF, OF/SF/AF cleared (SDM Vol. 2 FCOMI).
 * C1: the SDM says "set to 0" (cleared, nestvisor-intel); AMD Zen 4 leaves C1 as it was
 * when both operands are valid (measured: fpu/x87-diff.test.ts runs the nestvisor-amd profile
 * against this host with C1 compared). A stack underflow clears C1 on both (underflow()).
 */
export function fcomi(cpu: Cpu, i: number, unordered: boolean, popAfter: boolean): void {
  let bits: number;
  if (isEmpty(cpu, 0) || isEmpty(cpu, i)) {
    underflow(cpu);
    bits = ZF | PF | CF;
  } else {
    setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0)); setB(stSe(cpu, i), stHi(cpu, i), stLo(cpu, i));
    const c = cmp80(unordered);
    bits = c === CMP_GT ? 0 : c === CMP_LT ? CF : c === CMP_EQ ? ZF : ZF | PF | CF;
    // an unmasked IE reports "unordered" in EFLAGS; an unmasked DE the real order (host-verified)
    if (unmaskedIn(cpu, IE)) bits = ZF | PF | CF;
    if (!isAmd(cpu.profile)) cpu.fpu.fsw &= ~C1;
  }
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~0x8d5) | bits;
  commitFlags(cpu, false);
  if (popAfter && !unmaskedIn(cpu, IE | DE)) pop(cpu);
}

/** FUCOM/FUCOMP ST(i) (DD E0+i / E8+i): like FCOM but QNaNs do not raise IE. */
export function fucom(cpu: Cpu, i: number, pops: number): void {
  if (isEmpty(cpu, 0) || isEmpty(cpu, i)) {
    const masked = underflow(cpu);
    setCc(cpu, C0 | C2 | C3, C0 | C2 | C3);
    commitFlags(cpu, false);
    if (masked) for (let k = 0; k < pops; k++) pop(cpu);
    return;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0)); setB(stSe(cpu, i), stHi(cpu, i), stLo(cpu, i));
  const c = cmp80(true);
  setCc(cpu, C0 | C1 | C2 | C3, cmpCc(c));
  if (unmaskedIn(cpu, IE | DE)) { commitFlags(cpu, false); return; }
  commitFlags(cpu, false);
  for (let k = 0; k < pops; k++) pop(cpu);
}

