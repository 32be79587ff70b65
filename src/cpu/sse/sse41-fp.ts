/**
 * SSE4.1 floating point: ROUNDPS/PD/SS/SD (66 0F 3A 08-0B) and DPPS/DPPD (66 0F 3A 40/41)
 * (SDM Vol. 2 entries of these names).
 *
 * ROUND*: imm8[1:0] is the rounding mode unless imm8[2] selects MXCSR.RC; imm8[3] suppresses
 * the precision exception. Only #I (SNaN) and #P are signalled — no #D — and DAZ applies.
 * DPPS/DPPD follow Intel's defined order of operations exactly: products of the lanes
 * selected by imm8[7:4] (others +0.0), then (t0 + t1) + (t2 + t3) (DPPD: t0 + t1), each
 * step an ordinary rounded SSE operation with its flags; the sum goes to the lanes selected
 * by imm8[3:0], +0.0 elsewhere.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, B, R, byPrefix, sseCheck, has, loadXmmSrc, loadXmmA, storeXmmR, FE_SSE41 } from './common.js';
import { beginFp, raise, f32ToBits, f64ToBits, f64Hi, IE, PE } from './fp-core.js';
import { clsF32, clsF64, VAL, C_QNAN, C_SNAN, C_ZERO, C_INF, OP_ADD, OP_MUL } from './fp-lane.js';
import { finishFp } from './fp.js';
import { SA, SB, SR, opF32, opF64, opHi } from './sse3.js';

/** Rounds a finite double to an integral value by mode (0 nearest-even, 1 down, 2 up, 3 toward zero), keeping the sign of zero. */
function roundInt(v: number, rc: number): number {
  let r: number;
  if (rc === 1) r = Math.floor(v);
  else if (rc === 2) r = Math.ceil(v);
  else if (rc === 3) r = Math.trunc(v);
  else {
    const f = Math.floor(v), d = v - f;
    r = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  }
  return r === 0 ? (v < 0 || Object.is(v, -0) ? -0 : 0) : r;
}

/** One lane of ROUND*: lane i of B into lane i of R. */
export function roundLane(single: boolean, i: number, rc: number, noPe: boolean): void {
  const c = single ? clsF32(B[i]!) : clsF64(B[2 * i]!, B[2 * i + 1]!);
  if (c >= C_QNAN) {
    if (c === C_SNAN) raise(IE);
    if (single) R[i] = B[i]! | 0x400000; else { R[2 * i] = B[2 * i]!; R[2 * i + 1] = B[2 * i + 1]! | 0x80000; }
    return;
  }
  const v = VAL[0]!;
  const r = c === C_ZERO || c === C_INF ? v : roundInt(v, rc);
  if (r !== v && !noPe) raise(PE);
  if (single) R[i] = f32ToBits(r);
  else { R[2 * i] = f64ToBits(r); R[2 * i + 1] = f64Hi; }
}

function round(single: boolean, scalar: boolean): Handler {
  const msize = scalar ? (single ? 4 : 8) : 16, n = scalar ? 1 : single ? 4 : 2;
  return (cpu) => {
    cpu.decodeModrm(1);
    sseCheck(cpu, has(cpu, FE_SSE41));
    const imm = cpu.fetch8();
    loadXmmSrc(cpu, msize, true);
    loadXmmA(cpu, cpu.reg);
    R.set(A);
    const mx = cpu.fpu.mxcsr;
    beginFp(mx);
    const rc = (imm & 4) !== 0 ? (mx >> 13) & 3 : imm & 3;
    for (let i = 0; i < n; i++) roundLane(single, i, rc, (imm & 8) !== 0);
    finishFp(cpu);
    storeXmmR(cpu, cpu.reg);
  };
}

/**
 * End of one stage of DPPS/DPPD (multiply, then the adds): the stage's flags go to MXCSR and
 * an unmasked one faults here, before the next stage runs — so an unmasked pre-computation
 * exception of a later stage does not hide an earlier stage's OE/UE/PE, and a later stage's
 * flags are not raised after an earlier stage's fault (measured on this CPU by sse4-diff.test.ts,
 * which compares MXCSR at #XM; SDM Vol. 2A DPPS describes the same stages in its Operation).
 */
function stageEnd(cpu: Cpu): void {
  finishFp(cpu);
  beginFp(cpu.fpu.mxcsr);
}

/** DPPS xmm, xmm/m128, imm8. */
const dpps: Handler = (cpu) => {
  cpu.decodeModrm(1);
  sseCheck(cpu, has(cpu, FE_SSE41));
  const imm = cpu.fetch8();
  loadXmmSrc(cpu, 16, true);
  loadXmmA(cpu, cpu.reg);
  SA.set(A); SB.set(B);
  beginFp(cpu.fpu.mxcsr);
  for (let i = 0; i < 4; i++) SR[i] = (imm >> (4 + i)) & 1 ? opF32(OP_MUL, SA[i]!, SB[i]!) : 0;
  stageEnd(cpu);
  const t01 = opF32(OP_ADD, SR[0]!, SR[1]!);
  const t23 = opF32(OP_ADD, SR[2]!, SR[3]!);
  stageEnd(cpu);
  const s = opF32(OP_ADD, t01, t23);
  finishFp(cpu);
  for (let i = 0; i < 4; i++) R[i] = (imm >> i) & 1 ? s : 0;
  storeXmmR(cpu, cpu.reg);
};
/** DPPD xmm, xmm/m128, imm8. */
const dppd: Handler = (cpu) => {
  cpu.decodeModrm(1);
  sseCheck(cpu, has(cpu, FE_SSE41));
  const imm = cpu.fetch8();
  loadXmmSrc(cpu, 16, true);
  loadXmmA(cpu, cpu.reg);
  SA.set(A); SB.set(B);
  beginFp(cpu.fpu.mxcsr);
  for (let i = 0; i < 2; i++) {
    if ((imm >> (4 + i)) & 1) { SR[2 * i] = opF64(OP_MUL, SA[2 * i]!, SA[2 * i + 1]!, SB[2 * i]!, SB[2 * i + 1]!); SR[2 * i + 1] = opHi; }
    else { SR[2 * i] = 0; SR[2 * i + 1] = 0; }
  }
  stageEnd(cpu);
  const lo = opF64(OP_ADD, SR[0]!, SR[1]!, SR[2]!, SR[3]!), hi = opHi;
  finishFp(cpu);
  for (let i = 0; i < 2; i++) { const on = (imm >> i) & 1; R[2 * i] = on ? lo : 0; R[2 * i + 1] = on ? hi : 0; }
  storeXmmR(cpu, cpu.reg);
};

export function installSse41Fp(t: Handler[]): void {
  def(t, 0x308, byPrefix(null, round(true, false), null, null));
  def(t, 0x309, byPrefix(null, round(false, false), null, null));
  def(t, 0x30a, byPrefix(null, round(true, true), null, null));
  def(t, 0x30b, byPrefix(null, round(false, true), null, null));
  def(t, 0x340, byPrefix(null, dpps, null, null));
  def(t, 0x341, byPrefix(null, dppd, null, null));
}
