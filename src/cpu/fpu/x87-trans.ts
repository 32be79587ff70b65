/**
 * x87 transcendental instructions (SDM Vol. 2 FSIN/FCOS/FSINCOS/FPTAN/FPATAN/F2XM1/FYL2X/
 * FYL2XP1; Vol. 1 §8.3.9-8.3.10) and the other D9 F0-FF operations that need only the
 * exact core: FXTRACT, FPREM, FPREM1, FSQRT, FRNDINT, FSCALE, FINCSTP, FDECSTP.
 *
 * Accuracy of the transcendentals: FSIN/FCOS/FSINCOS/FPTAN are evaluated exactly on limb
 * arithmetic with the x87's 66-bit π and rounded once (trig80.ts); against this machine's
 * AMD FPU about 99% of random operands are identical and the rest within 1 ulp (FPTAN ~91%
 * identical), measured by x87-trans-diff.test.ts. F2XM1/FYL2X/FYL2XP1/FPATAN are still
 * evaluated in binary64 (Math.*) on the operand rounded to 53 bits and widened exactly:
 * relative error below 2^-52 (about 2^11 ulps of the 64-bit significand). The special cases
 * (zeros, infinities, NaNs, out-of-range arguments with C2 = 1, stack rules, IE/ZE/DE/PE/UE
 * flags) follow the SDM. The main differential test (x87-diff) skips these instructions.
 */
import type { Cpu } from '../cpu.js';
import {
  IE, DE, ZE, PE, IND_SE, IND_HI, IND_LO, rSe, rHi, rLo, xf, setResult, raiseX, classify80,
  C_ZERO, C_DENORMAL, C_INF, C_QNAN, C_SNAN, C_UNSUPPORTED, clearFlags, abortFlags,
} from './xf80.js';
import { setA, setB, aSe, aHi, aLo, sqrt80, roundToInt, intHi, intLo, intBig, intInexact, intUp, fromInt, pcBits, rcOf } from './xf80-arith.js';
import { sinCos80, tan80 } from './trig80.js';
import { prem, remQ, remIncomplete, scale, xtract, xtSe, xtHi, xtLo, load64, store, stLo as cvLo, stHi as cvHi } from './xf80-conv.js';
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
  if (unmaskedIn(cpu, IE | DE)) { abortFlags(); commitFlags(cpu, false); return; }
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
/** A as a binary64 (rounded to nearest; flags of the narrowing discarded). */
function aToDouble(): number {
  const keep = xf;
  store(false, 0, 0x3f);
  clearFlags(); raiseX(keep);
  F64I[0] = cvLo; F64I[1] = cvHi;
  return F64D[0]!;
}
const F64D = new Float64Array(1), F64I = new Int32Array(F64D.buffer);
/** rSe/rHi/rLo ← a binary64 value (exact widening); PE when it is not exact (always assumed for transcendentals). */
function fromDouble(v: number): void {
  F64D[0] = v;
  const keep = xf;
  load64(F64I[0]!, F64I[1]!);
  clearFlags(); raiseX(keep);
}

/** Special operands of one-operand transcendentals; true when the result is decided (in rSe..). */
function special1(c: number): boolean {
  if (c === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); return true; }
  if (c === C_SNAN || c === C_QNAN) { if (c === C_SNAN) raiseX(IE); setResult(aSe, aHi | 0x40000000, aLo); return true; }
  if (c === C_DENORMAL) raiseX(DE);
  return false;
}

/** |x| ≥ 2^63: FSIN/FCOS/FSINCOS/FPTAN leave ST(0) unchanged and set C2 (SDM Vol. 2 FSIN). */
function outOfRange(): boolean { return ((aSe & 0x7fff) - 16383) >= 63; }

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
  const one = (): void => setResult(0x3fff, 0x80000000, 0);
  const szero = (): void => setResult(aSe & 0x8000, 0, 0);
  if (kind === 0) { if (c === C_ZERO) szero(); else sinCos80(0, neg0, aHi, aLo, ex, rc, fcw); }
  else if (kind === 1) { if (c === C_ZERO) one(); else sinCos80(1, neg0, aHi, aLo, ex, rc, fcw); }
  else if (kind === 2) { if (c === C_ZERO) szero(); else tan80(neg0, aHi, aLo, ex, rc, fcw); }
  else if (c === C_ZERO) szero(); else sinCos80(0, neg0, aHi, aLo, ex, rc, fcw);
  if (!finish(cpu, 0)) return;
  // C1 reports the rounding of the first result (tan, sin), not the push (host-verified)
  const c1 = cpu.fpu.fsw & C1;
  if (kind === 2) { one(); pushResult(cpu); commitFlags(cpu, false); cpu.fpu.fsw |= c1; }
  else if (kind === 3) {
    // ST(0) ← cos, ST(1) ← sin
    if (c === C_ZERO) one(); else sinCos80(1, neg0, aHi, aLo, ex, rc, fcw);
    pushResult(cpu); commitFlags(cpu, false); cpu.fpu.fsw |= c1;
  }
}

/** F2XM1: 2^x − 1 for −1 ≤ x ≤ 1 (outside: undefined; computed the same way). */
export function f2xm1(cpu: Cpu): void {
  if (!needSt0(cpu)) return;
  const c = classify80(aSe, aHi, aLo);
  if (special1(c)) { finish(cpu, 0); return; }
  if (c === C_ZERO) { setResult(aSe, 0, 0); finish(cpu, 0); return; }
  if (c === C_INF) { if ((aSe & 0x8000) !== 0) setResult(0xbfff, 0x80000000, 0); else setResult(aSe, aHi, aLo); finish(cpu, 0); return; }
  const x = aToDouble();
  raiseX(PE);
  fromDouble(Math.expm1(x * Math.LN2));
  finish(cpu, 0);
}

/** FYL2X (p1 = false) / FYL2XP1: ST(1) ← ST(1)·log2(ST(0) [+1]), pop. */
export function fyl2x(cpu: Cpu, p1: boolean): void {
  if (!needSt01(cpu, true)) return;
  const ca = classify80(aSe, aHi, aLo), cb = classify80(stSe(cpu, 1), stHi(cpu, 1), stLo(cpu, 1));
  const bSe0 = stSe(cpu, 1), bHi0 = stHi(cpu, 1), bLo0 = stLo(cpu, 1);
  if (ca === C_UNSUPPORTED || cb === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); }
  else if (ca >= C_QNAN || cb >= C_QNAN) {
    if (ca === C_SNAN || cb === C_SNAN) raiseX(IE);
    if (ca >= C_QNAN) setResult(aSe, aHi | 0x40000000, aLo); else setResult(bSe0, bHi0 | 0x40000000, bLo0);
  } else {
    if (ca === C_DENORMAL || cb === C_DENORMAL) raiseX(DE);
    const x = ca === C_ZERO ? ((aSe & 0x8000) !== 0 ? -0 : 0) : ca === C_INF ? ((aSe & 0x8000) !== 0 ? -Infinity : Infinity) : aToDouble();
    setA(bSe0, bHi0, bLo0);
    const y = cb === C_ZERO ? ((bSe0 & 0x8000) !== 0 ? -0 : 0) : cb === C_INF ? ((bSe0 & 0x8000) !== 0 ? -Infinity : Infinity) : aToDouble();
    const l = p1 ? Math.log1p(x) / Math.LN2 : Math.log2(x);
    let r = y * l;
    if (!p1 && x === 0 && y !== 0 && Number.isFinite(y)) raiseX(ZE);
    if (Number.isNaN(r) || (!p1 && x < 0) || (p1 && x < -1)) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); }
    else {
      if (r === 0 && Object.is(r, -0) === false && y < 0 && l > 0) r = -0;
      if (Number.isFinite(r) && r !== 0) raiseX(PE);
      fromDouble(r);
    }
  }
  if (unmaskedIn(cpu, IE | DE | ZE)) { abortFlags(); commitFlags(cpu, true); return; }
  setStResult(cpu, 1);
  commitFlags(cpu, true);
  pop(cpu);
}

/** FPATAN: ST(1) ← arctan(ST(1)/ST(0)), pop. */
export function fpatan(cpu: Cpu): void {
  if (!needSt01(cpu, true)) return;
  const ca = classify80(aSe, aHi, aLo);
  const bSe0 = stSe(cpu, 1), bHi0 = stHi(cpu, 1), bLo0 = stLo(cpu, 1), cb = classify80(bSe0, bHi0, bLo0);
  if (ca === C_UNSUPPORTED || cb === C_UNSUPPORTED) { raiseX(IE); setResult(IND_SE, IND_HI, IND_LO); }
  else if (ca >= C_QNAN || cb >= C_QNAN) {
    if (ca === C_SNAN || cb === C_SNAN) raiseX(IE);
    if (ca >= C_QNAN) setResult(aSe, aHi | 0x40000000, aLo); else setResult(bSe0, bHi0 | 0x40000000, bLo0);
  } else {
    if (ca === C_DENORMAL || cb === C_DENORMAL) raiseX(DE);
    const x = ca === C_ZERO ? ((aSe & 0x8000) !== 0 ? -0 : 0) : ca === C_INF ? ((aSe & 0x8000) !== 0 ? -Infinity : Infinity) : aToDouble();
    setA(bSe0, bHi0, bLo0);
    const y = cb === C_ZERO ? ((bSe0 & 0x8000) !== 0 ? -0 : 0) : cb === C_INF ? ((bSe0 & 0x8000) !== 0 ? -Infinity : Infinity) : aToDouble();
    const r = Math.atan2(y, x);
    if (r !== 0) raiseX(PE);
    fromDouble(r);
  }
  if (unmaskedIn(cpu, IE | DE)) { commitFlags(cpu, false); return; }
  setStResult(cpu, 1);
  commitFlags(cpu, true);
  pop(cpu);
}

export { rSe, rHi, rLo };
