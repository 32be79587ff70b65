/**
 * SSE3 floating point: ADDSUBPS (F2 0F D0), ADDSUBPD (66 0F D0), HADDPS (F2 0F 7C),
 * HADDPD (66 0F 7C), HSUBPS (F2 0F 7D), HSUBPD (66 0F 7D) (SDM Vol. 2 entries of those
 * names). Each lane is one ordinary SSE add or subtract (fp-lane.ts) with MXCSR rounding,
 * DAZ/FTZ and flags; an unmasked exception leaves the destination unchanged.
 * The rest of SSE3 lives elsewhere: MOVSLDUP/MOVSHDUP/MOVDDUP and LDDQU in move.ts, FISTTP
 * with the x87; MONITOR/MWAIT (also SSE3-era) are in src/cpu/monitor.ts.
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, B, R, byPrefix, sseCheck, has, loadXmmSrc, loadXmmA, storeXmmR, FE_SSE3 } from './common.js';
import { beginFp } from './fp-core.js';
import { lane, OP_ADD, OP_SUB } from './fp-lane.js';
import { finishFp } from './fp.js';

// ---- one lane on operands taken from anywhere (saved copies of A and B) ----------------------
/** Saved operands and result of an instruction whose lanes combine elements across positions. */
export const SA = new Int32Array(4), SB = new Int32Array(4), SR = new Int32Array(4);
/** Single-precision a op b on bit patterns, with MXCSR (flags accumulate); returns the bits. */
export function opF32(op: number, a: number, b: number): number {
  A[0] = a; B[0] = b; lane(op, true, 0); return R[0]!;
}
/** Double-precision op on lo/hi bit pairs; returns lo, the high half in opHi. */
export let opHi = 0;
export function opF64(op: number, alo: number, ahi: number, blo: number, bhi: number): number {
  A[0] = alo; A[1] = ahi; B[0] = blo; B[1] = bhi; lane(op, false, 0); opHi = R[1]!; return R[0]!;
}

type Body = () => void;
/** op xmm, xmm/m128 (aligned) with SSE3's feature check; `body` maps SA/SB to SR. */
function fpOp(body: Body): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    sseCheck(cpu, has(cpu, FE_SSE3));
    loadXmmSrc(cpu, 16, true);
    loadXmmA(cpu, cpu.reg);
    SA.set(A); SB.set(B);
    beginFp(cpu.fpu.mxcsr);
    body();
    finishFp(cpu);
    R.set(SR);
    storeXmmR(cpu, cpu.reg);
  };
}
function pd(r: number, op: number, s: Int32Array, i: number, t: Int32Array, j: number): void {
  SR[r] = opF64(op, s[i]!, s[i + 1]!, t[j]!, t[j + 1]!); SR[r + 1] = opHi;
}

const addsubps: Body = () => { for (let i = 0; i < 4; i++) SR[i] = opF32((i & 1) !== 0 ? OP_ADD : OP_SUB, SA[i]!, SB[i]!); };
const addsubpd: Body = () => { pd(0, OP_SUB, SA, 0, SB, 0); pd(2, OP_ADD, SA, 2, SB, 2); };
/** HADDPS/HSUBPS: adjacent pairs of the destination, then of the source (SDM HADDPS Operation). */
const hps = (op: number): Body => () => {
  SR[0] = opF32(op, SA[0]!, SA[1]!); SR[1] = opF32(op, SA[2]!, SA[3]!);
  SR[2] = opF32(op, SB[0]!, SB[1]!); SR[3] = opF32(op, SB[2]!, SB[3]!);
};
const hpd = (op: number): Body => () => { pd(0, op, SA, 0, SA, 2); pd(2, op, SB, 0, SB, 2); };

export function installSse3(t: Handler[]): void {
  def(t, 0x1d0, byPrefix(null, fpOp(addsubpd), null, fpOp(addsubps)));
  def(t, 0x17c, byPrefix(null, fpOp(hpd(OP_ADD)), null, fpOp(hps(OP_ADD))));
  def(t, 0x17d, byPrefix(null, fpOp(hpd(OP_SUB)), null, fpOp(hps(OP_SUB))));
}
