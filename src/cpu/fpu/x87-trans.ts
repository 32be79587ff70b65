/**
 * x87 transcendental instructions (SDM Vol. 2 FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/
 * FYL2XP1; Vol. 1 §8.3.9-8.3.10) and the other D9 F0-FF operations that need only the
 * exact core: FXTRACT, FPREM, FPREM1, FSQRT, FRNDINT, FSCALE, FINCSTP, FDECSTP.
 *
 * Accuracy of the transcendentals: all eight are evaluated exactly on limb arithmetic and
 * rounded once — FSIN/FCOS/FSINCOS/FPTAN with the x87's 66-bit π (trig80.ts), F2XM1/FYL2X/
 * FYL2XP1/FPATAN by series on 144-bit fixed point (trans80.ts). This machine's AMD FPU is
 * not correctly rounded: it rounds intermediate values to 68 bits. Where those steps were
 * pinned (FYL2X/FYL2XP1's log, FPATAN's ratio, tiny F2XM1 and FPTAN) the evaluation models
 * them; the rest is correctly rounded (docs/x87-transcendentals.md). x87-trans-diff.test.ts
 * measures how many random operands are identical; the rest are within 1 ulp. The special
 * cases (zeros, infinities, NaNs, unsupported encodings, out-of-range arguments, stack
 * rules, IE/ZE/DE/PE/UE and C1) follow the SDM's tables and, where the SDM says
 * "undefined", what the host does (noted at each place).
 */
import type { Cpu } from '../cpu.js';
import {
  IE, DE, ZE, PE, IND_SE, IND_HI, IND_LO, rSe, rHi, rLo, xf, setResult, raiseX, classify80,
  C_ZERO, C_NORMAL, C_DENORMAL, C_INF, C_QNAN, C_SNAN, C_UNSUPPORTED, abortFlags, unpack80, uE, uHi, uLo,
} from './xf80.js';
import { setA, setB, aSe, aHi, aLo, bSe, bHi, bLo, propagateNaN, sqrt80, roundToInt, intHi, intLo, intBig, intInexact, intUp, fromInt, pcBits, rcOf } from './xf80-arith.js';
import { sinCos80, tan80 } from './trig80.js';
import { f2xm1Core, fyl2xCore, fyl2xp1Core, fpatanCore, piMultiple } from './trans80.js';
import { prem, remQ, remIncomplete, scale, xtract, xtSe, xtHi, xtLo } from './xf80-conv.js';
import {
  isEmpty, stSe, stHi, stLo, setSt, setStResult, pop, setCc, unmaskedIn, commitFlags, underflow, pushResult,
  C0, C1, C2, C3,
} from './x87.js';

/** ST(0) → A; false (after the underflow response) when ST(0) is empty. */
function needSt0(cpu: Cpu): boolean {
  if (isEmpty(cpu, 0)) {
    if (underflow(cpu)) setSt(cpu, 0, IND_SE, IND_HI, IND_LO);
    commitFlags(cpu, false);
    return false;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0));
  return true;
}
/** ST(0), ST(1) → A, B; on underflow the masked response writes the indefinite into ST(0), or ST(1) for the popping forms. */
function needSt01(cpu: Cpu, popAfter: boolean): boolean {
  if (isEmpty(cpu, 0) || isEmpty(cpu, 1)) {
    const masked = underflow(cpu);
    if (masked) { setSt(cpu, popAfter ? 1 : 0, IND_SE, IND_HI, IND_LO); }
    commitFlags(cpu, false);
    if (masked && popAfter) pop(cpu);
    return false;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0)); setB(stSe(cpu, 1), stHi(cpu, 1), stLo(cpu, 1));
  return true;
}

/** Writes the result into ST(d) unless an unmasked IE/DE/ZE stops it; C1 from rounding. */
function finish(cpu: Cpu, d: number): boolean {
  if (unmaskedIn(cpu, IE | DE | ZE)) { abortFlags(); commitFlags(cpu, true); return false; }
  setStResult(cpu, d);
  commitFlags(cpu, true);
  return true;
}

export function fsqrt(cpu: Cpu): void {
  if (!needSt0(cpu)) return;
  const fcw = cpu.fpu.fcw;
  sqrt80(pcBits(fcw), rcOf(fcw), fcw);
  finish(cpu, 0);
}

/** FRNDINT: round to an integer under RC (PC does not apply). */
export function frndint(cpu: Cpu): void {
  if (!needSt0(cpu)) return;
  const c = classify80(aSe, aHi, aLo);
  if (c === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); }
  else if (c === C_SNAN || c === C_QNAN) { if (c === C_SNAN) raiseX(IE); setResult(aSe, aHi | 0x40000000, aLo); }
  else if (c === C_ZERO || c === C_INF) setResult(aSe, aHi, aLo);
  else {
    if (c === C_DENORMAL) raiseX(DE);
    roundToInt(rcOf(cpu.fpu.fcw));
    if (intBig) setResult(aSe, aHi, aLo);
    else {
      if (intInexact) raiseX(PE);
      fromInt((aSe & 0x8000) !== 0, intHi, intLo);
    }
  }
  // an unmasked IE/DE stops FRNDINT and clears C1, as every arithmetic instruction's abort
  // does (host-verified: SNaN, unsupported, denormal and pseudo-denormal operands)
  if (unmaskedIn(cpu, IE | DE)) { abortFlags(); commitFlags(cpu, false); cpu.fpu.fsw &= ~C1; return; }
  setStResult(cpu, 0);
  commitFlags(cpu, false);
  cpu.fpu.fsw = (cpu.fpu.fsw & ~C1) | (intUp && intInexact && c !== C_ZERO && c < C_INF ? C1 : 0);
}

export function fscale(cpu: Cpu): void {
  if (!needSt01(cpu, false)) return;
  const fcw = cpu.fpu.fcw;
  scale(64, rcOf(fcw), fcw);
  finish(cpu, 0);
}

/** FPREM (D9 F8) / FPREM1 (D9 F5): C2 = incomplete, C0/C3/C1 = Q2/Q1/Q0. */
export function fprem(cpu: Cpu, nearest: boolean): void {
  if (isEmpty(cpu, 0) || isEmpty(cpu, 1)) cpu.fpu.fsw &= ~C2;
  if (!needSt01(cpu, false)) return;
  const nan = classify80(aSe, aHi, aLo) >= C_QNAN || classify80(stSe(cpu, 1), stHi(cpu, 1), stLo(cpu, 1)) >= C_QNAN;
  prem(nearest, cpu.fpu.fcw);
  const q = remQ;
  // C0 = Q2, C3 = Q1, C1 = Q0 (SDM Vol. 2 FPREM); without a remainder (NaN, invalid, unmasked
  // DE) only C1 and C2 are cleared (host-verified)
  if ((xf & IE) !== 0 || nan || unmaskedIn(cpu, DE)) setCc(cpu, C1 | C2, 0);
  else setCc(cpu, C0 | C1 | C2 | C3, (remIncomplete ? C2 : 0) | ((q & 4) !== 0 ? C0 : 0) | ((q & 2) !== 0 ? C3 : 0) | ((q & 1) !== 0 ? C1 : 0));
  if (unmaskedIn(cpu, IE | DE)) { abortFlags(); commitFlags(cpu, false); return; }
  setStResult(cpu, 0);
  commitFlags(cpu, false);
}

/** FXTRACT: ST(0) ← exponent, then push the significand. */
export function fxtract(cpu: Cpu): void {
  if (isEmpty(cpu, 0)) {
    const masked = underflow(cpu);
    if (masked) { setSt(cpu, 0, IND_SE, IND_HI, IND_LO); setResult(IND_SE, IND_HI, IND_LO); pushResult(cpu); cpu.fpu.fsw &= ~C1; }
    commitFlags(cpu, false); return;
  }
  if (!isEmpty(cpu, 7)) {
    // stack overflow: masked → both become indefinite (ST(0) replaced, indefinite pushed)
    setResult(IND_SE, IND_HI, IND_LO);
    const pushed = pushResult(cpu);
    if (pushed) setSt(cpu, 1, IND_SE, IND_HI, IND_LO);
    commitFlags(cpu, false); return;
  }
  setA(stSe(cpu, 0), stHi(cpu, 0), stLo(cpu, 0));
  xtract(cpu.fpu.fcw);
  if (unmaskedIn(cpu, IE | DE | ZE)) { abortFlags(); commitFlags(cpu, true); return; }
  setStResult(cpu, 0);
  setResult(xtSe, xtHi, xtLo);
  pushResult(cpu);
  commitFlags(cpu, false);
}

export function fincstp(cpu: Cpu): void { cpu.fpu.top = (cpu.fpu.top + 1) & 7; cpu.fpu.fsw &= ~C1; }
export function fdecstp(cpu: Cpu): void { cpu.fpu.top = (cpu.fpu.top - 1) & 7; cpu.fpu.fsw &= ~C1; }

// ---- transcendentals ----------------------------------------------------------------------
/** Special operands of one-operand transcendentals; true when the result is decided (in rSe..). */
function special1(c: number): boolean {
  if (c === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); return true; }
  if (c === C_SNAN || c === C_QNAN) { if (c === C_SNAN) raiseX(IE); setResult(aSe, aHi | 0x40000000, aLo); return true; }
  if (c === C_DENORMAL) raiseX(DE);
  return false;
}

/** |x| ≥ 2^63: FSIN/FCOS/FSINCOS/FPTAN leave ST(0) unchanged and set C2 (SDM Vol. 2 FSIN). */
function outOfRange(): boolean { return ((aSe & 0x7fff) - 16383) >= 63; }

/** Results of zero operands: cos 0 and FPTAN's pushed 1.0; sin/tan keep the zero's sign (no closures per instruction). */
function plusOne(): void { setResult(0x3fff, 0x80000000, 0); }
function sameSignZero(): void { setResult(aSe & 0x8000, 0, 0); }

/** FSIN (kind 0), FCOS (1), FPTAN (2), FSINCOS (3). */
export function ftrig(cpu: Cpu, kind: number): void {
  if (!needSt0(cpu)) { cpu.fpu.fsw &= ~C2; return; }
  const c = classify80(aSe, aHi, aLo);
  const pushes = kind >= 2;
  if (pushes && !isEmpty(cpu, 7)) {
    setResult(IND_SE, IND_HI, IND_LO);
    if (pushResult(cpu)) setSt(cpu, 1, IND_SE, IND_HI, IND_LO);
    commitFlags(cpu, false); return;
  }
  cpu.fpu.fsw &= ~C2;
  if (c === C_INF) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); if (finish(cpu, 0) && pushes) { pushResult(cpu); commitFlags(cpu, false); } return; }
  if (special1(c)) { if (finish(cpu, 0) && pushes) { pushResult(cpu); commitFlags(cpu, false); } return; }
  if (c !== C_ZERO && outOfRange()) { cpu.fpu.fsw |= C2; commitFlags(cpu, false); return; }
  const neg0 = (aSe & 0x8000) !== 0;
  const fcw = cpu.fpu.fcw, rc = rcOf(fcw);
  const ex = (aSe & 0x7fff) === 0 ? -16382 : (aSe & 0x7fff) - 16383;
  // exact evaluation with the x87's 66-bit π (trig80.ts); zeros: sin/tan keep the sign, cos = 1
  if (kind === 0) { if (c === C_ZERO) sameSignZero(); else sinCos80(0, neg0, aHi, aLo, ex, rc, fcw); }
  else if (kind === 1) { if (c === C_ZERO) plusOne(); else sinCos80(1, neg0, aHi, aLo, ex, rc, fcw); }
  else if (kind === 2) { if (c === C_ZERO) sameSignZero(); else tan80(neg0, aHi, aLo, ex, rc, fcw); }
  else if (c === C_ZERO) sameSignZero(); else sinCos80(0, neg0, aHi, aLo, ex, rc, fcw);
  if (!finish(cpu, 0)) return;
  // C1 reports the rounding of the first result (tan, sin), not the push (host-verified)
  const c1 = cpu.fpu.fsw & C1;
  if (kind === 2) { plusOne(); pushResult(cpu); commitFlags(cpu, false); cpu.fpu.fsw |= c1; }
  else if (kind === 3) {
    // ST(0) ← cos, ST(1) ← sin
    if (c === C_ZERO) plusOne(); else sinCos80(1, neg0, aHi, aLo, ex, rc, fcw);
    pushResult(cpu); commitFlags(cpu, false); cpu.fpu.fsw |= c1;
  }
}

/**
 * F2XM1: ST(0) ← 2^x − 1 (SDM Vol. 2 F2XM1, Table 3-17). Outside −1..+1 the SDM leaves the
 * result undefined; this machine's FPU returns x unchanged with PE, −∞ gives −1 and +∞
 * stays +∞ without flags (host-verified), and so does this.
 */
export function f2xm1(cpu: Cpu): void {
  if (!needSt0(cpu)) return;
  const c = classify80(aSe, aHi, aLo);
  if (special1(c)) { finish(cpu, 0); return; }
  const neg = (aSe & 0x8000) !== 0;
  if (c === C_ZERO) setResult(aSe, 0, 0);
  else if (c === C_INF) { if (neg) setResult(0xbfff, 0x80000000, 0); else setResult(aSe, aHi, aLo); }
  else {
    unpack80(aSe, aHi, aLo);
    const e = uE - 16383;
    if (e > 0 || (e === 0 && (uHi !== 0x80000000 || uLo !== 0))) { raiseX(PE); setResult(aSe, aHi, aLo); }
    // 2^−1 − 1 = −0.5 exactly, which the hardware flags inexact without rounding up in every
    // RC, while for +1 its internal value sits just below 1 as this evaluation's does (host-verified)
    else if (e === 0 && neg) { raiseX(PE); setResult(0xbffe, 0x80000000, 0); }
    else f2xm1Core(neg, uHi, uLo, e, rcOf(cpu.fpu.fcw), cpu.fpu.fcw);
  }
  finish(cpu, 0);
}

/** ST(1) ← result, pop, unless an unmasked IE/DE/ZE stops the instruction (nothing stored or popped). */
function finishPop(cpu: Cpu): void {
  if (unmaskedIn(cpu, IE | DE | ZE)) { abortFlags(); commitFlags(cpu, true); return; }
  setStResult(cpu, 1);
  commitFlags(cpu, true);
  pop(cpu);
}

/** Invalid operation: IE with the QNaN indefinite. */
function invalid(): void { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); }
function signedInf(neg: boolean): void { setResult(neg ? 0xffff : 0x7fff, 0x80000000, 0); }
function signedZero(neg: boolean): void { setResult(neg ? 0x8000 : 0, 0, 0); }

/**
 * FYL2X (p1 = false): ST(1) ← ST(1)·log2 ST(0); FYL2XP1: ST(1) ← ST(1)·log2(ST(0) + 1); pop
 * (SDM Vol. 2 FYL2X Table 3-52, FYL2XP1 Table 3-53). x = ST(0), y = ST(1).
 */
export function fyl2x(cpu: Cpu, p1: boolean): void {
  if (!needSt01(cpu, true)) return;
  const fcw = cpu.fpu.fcw, rc = rcOf(fcw);
  const xSe = aSe, xHi = aHi, xLo = aLo, ySe = bSe, yHi = bHi, yLo = bLo;
  const cx = classify80(xSe, xHi, xLo), cy = classify80(ySe, yHi, yLo);
  const xNeg = (xSe & 0x8000) !== 0, yNeg = (ySe & 0x8000) !== 0;
  if (cx === C_UNSUPPORTED || cy === C_UNSUPPORTED) { invalid(); finishPop(cpu); return; }
  if (cx >= C_QNAN || cy >= C_QNAN) { propagateNaN(cx, cy); finishPop(cpu); return; }
  const yFin = cy === C_NORMAL || cy === C_DENORMAL;
  // the log of a negative number is invalid before a denormal operand is reported, and so is
  // FYL2XP1 of −∞ (host-verified: y denormal gives IE alone)
  if ((!p1 && xNeg && cx !== C_ZERO) || (p1 && xNeg && cx === C_INF)) { invalid(); finishPop(cpu); return; }
  // FYL2X of ±0: the zero divide comes before a denormal y is reported (host: x = ±0, y denormal
  // or pseudo-denormal gives ZE alone, also with DE unmasked)
  if (!p1 && cx === C_ZERO) {
    if (cy === C_ZERO) invalid(); else { if (yFin) raiseX(ZE); signedInf(!yNeg); }
    finishPop(cpu); return;
  }
  if (cx === C_DENORMAL || cy === C_DENORMAL) raiseX(DE);
  if (!p1) {
    if (cx === C_INF) { if (cy === C_ZERO) invalid(); else signedInf(yNeg); }
    else {
      unpack80(xSe, xHi, xLo);
      const ex = uE - 16383, xh = uHi, xl = uLo;
      const one = ex === 0 && xh === 0x80000000 && xl === 0;
      if (one) { if (cy === C_INF) invalid(); else signedZero(yNeg); }
      else if (cy === C_INF) signedInf(yNeg !== (ex < 0));                  // log2 x < 0 below 1
      else if (cy === C_ZERO) signedZero(yNeg !== (ex < 0));
      else { unpack80(ySe, yHi, yLo); fyl2xCore(yNeg, uHi, uLo, uE - 16383, xh, xl, ex, rc, fcw); }
    }
    finishPop(cpu); return;
  }
  // FYL2XP1: the SDM defines |x| < 1 − √2/2; this machine's FPU computes y·log2(1 + x) for any
  // x > −1 and returns x itself (with PE) for x ≤ −1 (host-verified)
  if (cx === C_ZERO) { if (cy === C_INF) invalid(); else signedZero(yNeg !== xNeg); }
  else if (cx === C_INF) {
    if (xNeg || cy === C_ZERO) invalid(); else signedInf(yNeg);
  } else {
    unpack80(xSe, xHi, xLo);
    const ex = uE - 16383, xh = uHi, xl = uLo;
    if (cy === C_INF) signedInf(yNeg !== xNeg);
    else if (cy === C_ZERO) signedZero(yNeg !== xNeg);
    else if (xNeg && ex >= 0) { raiseX(PE); setResult(xSe, xHi, xLo); }
    else {
      unpack80(ySe, yHi, yLo);
      if (ex > 150) fyl2xCore(yNeg, uHi, uLo, uE - 16383, xh, xl, ex, rc, fcw);
      else fyl2xp1Core(yNeg, uHi, uLo, uE - 16383, xNeg, xh, xl, ex, rc, fcw);
    }
  }
  finishPop(cpu);
}

/** FPATAN: ST(1) ← arctan(ST(1)/ST(0)) in the quadrant of (x, y), pop (SDM Vol. 2 FPATAN Table 3-29). */
export function fpatan(cpu: Cpu): void {
  if (!needSt01(cpu, true)) return;
  const fcw = cpu.fpu.fcw, rc = rcOf(fcw);
  const xSe = aSe, xHi = aHi, xLo = aLo, ySe = bSe, yHi = bHi, yLo = bLo;
  const cx = classify80(xSe, xHi, xLo), cy = classify80(ySe, yHi, yLo);
  const xNeg = (xSe & 0x8000) !== 0, yNeg = (ySe & 0x8000) !== 0;
  if (cx === C_UNSUPPORTED || cy === C_UNSUPPORTED) { invalid(); finishPop(cpu); return; }
  if (cx >= C_QNAN || cy >= C_QNAN) { propagateNaN(cx, cy); finishPop(cpu); return; }
  if (cx === C_DENORMAL || cy === C_DENORMAL) raiseX(DE);
  if (cy === C_ZERO) { if (xNeg) piMultiple(4, yNeg, rc, fcw); else signedZero(yNeg); }
  else if (cy === C_INF) piMultiple(cx === C_INF ? (xNeg ? 3 : 1) : 2, yNeg, rc, fcw);
  else if (cx === C_ZERO) piMultiple(2, yNeg, rc, fcw);
  else if (cx === C_INF) { if (xNeg) piMultiple(4, yNeg, rc, fcw); else signedZero(yNeg); }
  else {
    unpack80(xSe, xHi, xLo);
    const ex = uE - 16383, xh = uHi, xl = uLo;
    unpack80(ySe, yHi, yLo);
    fpatanCore(yNeg, uHi, uLo, uE - 16383, xNeg, xh, xl, ex, rc, fcw);
  }
  finishPop(cpu);
}

export { rSe, rHi, rLo };
