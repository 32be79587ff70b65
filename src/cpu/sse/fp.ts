/**
 * SSE/SSE2 floating-point instructions: ADD/SUB/MUL/DIV/SQRT/MIN/MAX in PS/PD/SS/SD forms,
 * CMPccPS/PD/SS/SD, (U)COMISS/(U)COMISD and the conversions CVTxx/CVTTxx (SDM Vol. 2 entries
 * of those names). Lane semantics are in fp-lane.ts, rounding and flags in fp-core.ts.
 * An unmasked exception leaves the destination unchanged, sets the MXCSR flags and raises
 * #XM with CR4.OSXMMEXCPT = 1, #UD without (SDM Vol. 1 §11.5.1).
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { CR4_OSXMMEXCPT, XM, CF, PF, ZF } from '../regs.js';
import { A, B, R, byPrefix, sseCheck, mmxCheck, has, loadXmmSrc, loadXmmA, storeXmmR, FE_SSE, FE_SSE2 } from './common.js';
import { beginFp, fpFlags, raise, roundTo, IE, DE, PE } from './fp-core.js';
import { lane, clsF32, clsF64, VAL, putNum, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MIN, OP_MAX, OP_SQRT, C_QNAN, C_SNAN, C_DEN, C_ZERO } from './fp-lane.js';

/** Commits the instruction's flags; faults on an unmasked one before anything is written. */
export function finishFp(cpu: Cpu): void {
  const f = cpu.fpu;
  // An unmasked pre-computation exception (IE, DE, ZE) in any element stops the instruction
  // before its computation step, so no post-computation flag (OE, UE, PE) of any element is
  // set (SDM Vol. 1 §11.5.3: the two steps are sequential)
  const fl = (fpFlags & ~(f.mxcsr >> 7) & 7) !== 0 ? fpFlags & 7 : fpFlags;
  f.mxcsr |= fl;
  if ((fl & ~(f.mxcsr >> 7) & 0x3f) !== 0) {
    if ((cpu.cr4 & CR4_OSXMMEXCPT) !== 0) cpu.fault(XM, 0, false);
    cpu.ud();
  }
}

function arith(op: number, single: boolean, scalar: boolean): Handler {
  const fe = single ? FE_SSE : FE_SSE2, msize = scalar ? (single ? 4 : 8) : 16, n = scalar ? 1 : single ? 4 : 2;
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, fe));
    loadXmmSrc(cpu, msize, true);
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    beginFp(cpu.fpu.mxcsr);
    for (let i = 0; i < n; i++) lane(op, single, i);
    finishFp(cpu);
    storeXmmR(cpu, cpu.reg);
  };
}
const fourForms = (op: number): Handler => byPrefix(arith(op, true, false), arith(op, false, false), arith(op, true, true), arith(op, false, true));

// ---- compares -------------------------------------------------------------------------------
/** Lane i compare with predicate 0..7; returns the boolean result. */
function cmpLane(single: boolean, i: number, pred: number, signalingAll: boolean): number {
  let ca: number, cb: number, a: number, b: number;
  if (single) { ca = clsF32(A[i]!); a = VAL[0]!; cb = clsF32(B[i]!); b = VAL[0]!; }
  else { ca = clsF64(A[2 * i]!, A[2 * i + 1]!); a = VAL[0]!; cb = clsF64(B[2 * i]!, B[2 * i + 1]!); b = VAL[0]!; }
  const unord = ca >= C_QNAN || cb >= C_QNAN;
  if (ca === C_SNAN || cb === C_SNAN || (unord && (signalingAll || pred === 1 || pred === 2 || pred === 5 || pred === 6))) raise(IE);
  else if (!unord && (ca === C_DEN || cb === C_DEN)) raise(DE); // no #D beside a NaN
  switch (pred) {
    case 0: return !unord && a === b ? 1 : 0;
    case 1: return !unord && a < b ? 1 : 0;
    case 2: return !unord && a <= b ? 1 : 0;
    case 3: return unord ? 1 : 0;
    case 4: return unord || a !== b ? 1 : 0;
    case 5: return unord || !(a < b) ? 1 : 0;
    case 6: return unord || !(a <= b) ? 1 : 0;
    default: return unord ? 0 : 1;
  }
}
/** COMIS/UCOMIS result: 0 greater, 1 less, 2 equal, 3 unordered (as the cmp ladder needs). */
function cmp(single: boolean, scalar: boolean): Handler {
  const fe = single ? FE_SSE : FE_SSE2, msize = scalar ? (single ? 4 : 8) : 16, n = scalar ? 1 : single ? 4 : 2;
  return (cpu) => {
    cpu.decodeModrm(1);
    sseCheck(cpu, has(cpu, fe));
    const pred = cpu.fetch8() & 7;
    loadXmmSrc(cpu, msize, true);
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    beginFp(cpu.fpu.mxcsr);
    for (let i = 0; i < n; i++) {
      const r = cmpLane(single, i, pred, false) ? -1 : 0;
      if (single) R[i] = r; else { R[2 * i] = r; R[2 * i + 1] = r; }
    }
    finishFp(cpu);
    storeXmmR(cpu, cpu.reg);
  };
}
function comis(single: boolean, ordered: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, single ? FE_SSE : FE_SSE2));
    loadXmmSrc(cpu, single ? 4 : 8, false);
    loadXmmA(cpu, cpu.reg);
    beginFp(cpu.fpu.mxcsr);
    // COMIS signals on any NaN, UCOMIS only on SNaN; the ordered probes raise nothing new
    const unord = cmpLane(single, 0, 3, ordered) !== 0;
    const lt = !unord && cmpLane(single, 0, 1, false) !== 0, eq = !unord && cmpLane(single, 0, 0, false) !== 0;
    finishFp(cpu);
    cpu.setArith(unord ? ZF | PF | CF : lt ? CF : eq ? ZF : 0);
  };
}

// ---- conversions ----------------------------------------------------------------------------
/** Rounds a finite double to an integer by MXCSR.RC (or truncation). */
export function rint(v: number, trunc: boolean, rc: number): number {
  if (trunc || rc === 3) return Math.trunc(v);
  if (rc === 1) return Math.floor(v);
  if (rc === 2) return Math.ceil(v);
  const f = Math.floor(v), d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
export let cvtHi = 0;
/** Float lane → int32/int64: NaN or out of range gives the integer indefinite with IE. */
export function f2i(single: boolean, lo: number, hi: number, size: number, trunc: boolean, mx: number): number {
  const c = single ? clsF32(lo) : clsF64(lo, hi);
  const v = VAL[0]!; // conversions to integer raise no denormal exception (SDM CVTPS2DQ: #I, #P)
  cvtHi = 0;
  if (c >= C_QNAN || !Number.isFinite(v)) { raise(IE); return indefinite(size); }
  const r = rint(v, trunc, (mx >> 13) & 3);
  const lim = size === 8 ? 9223372036854775808 : 2147483648;
  if (r >= lim || r < -lim) { raise(IE); return indefinite(size); }
  if (r !== v) raise(PE);
  if (size === 4) return r | 0;
  const h = Math.floor(r / 4294967296);
  cvtHi = h | 0;
  return (r - h * 4294967296) | 0;
}
function indefinite(size: number): number { if (size === 8) { cvtHi = 0x80000000 | 0; return 0; } return 0x80000000 | 0; }

/** Integer (lo, hi as int64 when `wide`) → float lane i of R. */
export function i2f(single: boolean, i: number, lo: number, hi: number, wide: boolean): void {
  let q: number, sgn = 0;
  if (!wide) q = lo;
  else {
    q = hi * 4294967296 + (lo >>> 0);
    sgn = Math.sign((hi * 4294967296 - q) + (lo >>> 0));
  }
  if (q === 0) { putNum(single, i, 0); return; }
  const neg = q < 0;
  putNum(single, i, (!single && !wide) ? q : roundTo(neg, Math.abs(q), neg ? -sgn : sgn, 0, single));
}

/** Float → float lane conversion (widen exact, narrow rounded); NaNs keep sign and top payload. */
export function f2f(toSingle: boolean, lo: number, hi: number, i: number): void {
  if (toSingle) {
    const c = clsF64(lo, hi);
    if (c >= C_QNAN) { if (c === C_SNAN) raise(IE); R[i] = (hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29); return; }
    if (c === C_DEN) raise(DE);
    const v = VAL[0]!;
    if (c === C_ZERO || !Number.isFinite(v)) { putNum(true, i, v); return; }
    putNum(true, i, roundTo(v < 0, Math.abs(v), 0, 0, true));
    return;
  }
  const c = clsF32(lo);
  if (c >= C_QNAN) { if (c === C_SNAN) raise(IE); R[2 * i] = (lo & 7) << 29; R[2 * i + 1] = (lo & 0x80000000) | 0x7ff80000 | ((lo & 0x3fffff) >>> 3); return; }
  if (c === C_DEN) raise(DE);
  putNum(false, i, VAL[0]!);
}

type Conv = (cpu: Cpu) => void;
/** Generic conversion handler: loads the source (`msize` bytes), runs `body`, commits flags. */
function conv(fe: number, msize: number, body: (cpu: Cpu) => void, toXmm = true): Conv {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, fe));
    loadXmmSrc(cpu, msize, msize === 16);
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    beginFp(cpu.fpu.mxcsr);
    body(cpu);
    finishFp(cpu);
    if (toXmm) storeXmmR(cpu, cpu.reg);
  };
}
const mxOf = (cpu: Cpu): number => cpu.fpu.mxcsr;

/** CVT(T)SS2SI / CVT(T)SD2SI r32/r64, xmm/m. */
function f2gpr(single: boolean, trunc: boolean): Conv {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, single ? FE_SSE : FE_SSE2));
    loadXmmSrc(cpu, single ? 4 : 8, false);
    beginFp(cpu.fpu.mxcsr);
    const size = cpu.rexW ? 8 : 4;
    const lo = f2i(single, B[0]!, B[1]!, size, trunc, mxOf(cpu));
    finishFp(cpu);
    cpu.setRegSz(cpu.reg, size, lo, cvtHi);
  };
}
/** CVTSI2SS / CVTSI2SD xmm, r/m32|64. */
function gpr2f(single: boolean): Conv {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, single ? FE_SSE : FE_SSE2));
    const wide = cpu.rexW;
    const lo = cpu.readE(wide ? 8 : 4), hi = wide ? cpu.hi : 0;
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    beginFp(cpu.fpu.mxcsr);
    i2f(single, 0, lo, hi, wide);
    finishFp(cpu);
    storeXmmR(cpu, cpu.reg);
  };
}
/** MMX conversions: CVTPI2PS/PD (mm/m64 source) and CVT(T)PS2PI/PD2PI (mm destination). */
function pi2p(single: boolean): Conv {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, single ? FE_SSE : FE_SSE2));
    const fromMm = cpu.mod === 3;
    if (fromMm) { mmxCheck(cpu, 1); const m = cpu.fpu.mant, s = (cpu.rm & 7) << 1; B[0] = m[s]!; B[1] = m[s + 1]!; }
    else { B[0] = cpu.rd64(cpu.eaLin(8, false)); B[1] = cpu.hi; }
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    beginFp(cpu.fpu.mxcsr);
    i2f(single, 0, B[0]!, 0, false); i2f(single, 1, B[1]!, 0, false);
    finishFp(cpu);
    if (fromMm) cpu.fpu.enterMmx();
    storeXmmR(cpu, cpu.reg);
  };
}
function p2pi(single: boolean, trunc: boolean): Conv {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, single ? FE_SSE : FE_SSE2));
    mmxCheck(cpu, 1);
    loadXmmSrc(cpu, single ? 8 : 16, !single);
    beginFp(cpu.fpu.mxcsr);
    const mx = mxOf(cpu);
    const r0 = single ? f2i(true, B[0]!, 0, 4, trunc, mx) : f2i(false, B[0]!, B[1]!, 4, trunc, mx);
    const r1 = single ? f2i(true, B[1]!, 0, 4, trunc, mx) : f2i(false, B[2]!, B[3]!, 4, trunc, mx);
    finishFp(cpu);
    cpu.fpu.setMm(cpu.reg & 7, r0, r1);
    cpu.fpu.enterMmx();
  };
}

export function installFp(t: Handler[]): void {
  def(t, 0x158, fourForms(OP_ADD));
  def(t, 0x159, fourForms(OP_MUL));
  def(t, 0x15c, fourForms(OP_SUB));
  def(t, 0x15d, fourForms(OP_MIN));
  def(t, 0x15e, fourForms(OP_DIV));
  def(t, 0x15f, fourForms(OP_MAX));
  def(t, 0x151, fourForms(OP_SQRT));
  def(t, 0x1c2, byPrefix(cmp(true, false), cmp(false, false), cmp(true, true), cmp(false, true)));
  def(t, 0x12e, byPrefix(comis(true, false), comis(false, false), null, null));
  def(t, 0x12f, byPrefix(comis(true, true), comis(false, true), null, null));
  def(t, 0x15a, byPrefix(
    conv(FE_SSE2, 8, () => { const b0 = B[0]!, b1 = B[1]!; f2f(false, b0, 0, 0); f2f(false, b1, 0, 1); }),
    conv(FE_SSE2, 16, () => { f2f(true, B[0]!, B[1]!, 0); f2f(true, B[2]!, B[3]!, 1); R[2] = 0; R[3] = 0; }),
    conv(FE_SSE2, 4, () => f2f(false, B[0]!, 0, 0)),
    conv(FE_SSE2, 8, () => f2f(true, B[0]!, B[1]!, 0)),
  ));
  def(t, 0x15b, byPrefix(
    conv(FE_SSE2, 16, () => { for (let i = 0; i < 4; i++) i2f(true, i, B[i]!, 0, false); }),
    conv(FE_SSE2, 16, (c) => { const mx = mxOf(c); for (let i = 0; i < 4; i++) R[i] = f2i(true, B[i]!, 0, 4, false, mx); }),
    conv(FE_SSE2, 16, (c) => { const mx = mxOf(c); for (let i = 0; i < 4; i++) R[i] = f2i(true, B[i]!, 0, 4, true, mx); }),
    null,
  ));
  def(t, 0x1e6, byPrefix(
    null,
    conv(FE_SSE2, 16, (c) => { const mx = mxOf(c); R[0] = f2i(false, B[0]!, B[1]!, 4, true, mx); R[1] = f2i(false, B[2]!, B[3]!, 4, true, mx); R[2] = 0; R[3] = 0; }),
    conv(FE_SSE2, 8, () => { const b0 = B[0]!, b1 = B[1]!; i2f(false, 0, b0, 0, false); i2f(false, 1, b1, 0, false); }),
    conv(FE_SSE2, 16, (c) => { const mx = mxOf(c); R[0] = f2i(false, B[0]!, B[1]!, 4, false, mx); R[1] = f2i(false, B[2]!, B[3]!, 4, false, mx); R[2] = 0; R[3] = 0; }),
  ));
  def(t, 0x12a, byPrefix(pi2p(true), pi2p(false), gpr2f(true), gpr2f(false)));
  def(t, 0x12c, byPrefix(p2pi(true, true), p2pi(false, true), f2gpr(true, true), f2gpr(false, true)));
  def(t, 0x12d, byPrefix(p2pi(true, false), p2pi(false, false), f2gpr(true, false), f2gpr(false, false)));
}
