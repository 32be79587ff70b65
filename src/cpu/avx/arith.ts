/**
 * VEX forms of SSE arithmetic built with the lane driver (common.ts vexOp) from the SSE
 * kernels: VADD/VSUB/VMUL/VDIV/VMIN/VMAX/VSQRT in PS/PD/SS/SD forms (AVX; lanes from
 * sse/fp-lane.ts, MXCSR as legacy SSE), VANDPS..VXORPD (AVX), and the integer
 * VPAND/VPANDN/VPOR/VPXOR, VPADDB/W/D/Q and VPCMPEQB/W/D/Q (AVX for VEX.128, AVX2 for
 * VEX.256), SDM Vol. 2 entries of those names. Each is `op dst, src1 (vvvv), src2 (r/m)`,
 * the 256-bit form being the 128-bit operation on each lane (Vol. 1 §14.1).
 */
import type { Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { A, R, type Kernel } from '../sse/common.js';
import { lane, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MIN, OP_MAX, OP_SQRT } from '../sse/fp-lane.js';
import { pand, pandn, por, pxor, paddb, paddw, paddd, paddq, pcmpeqb, pcmpeqw, pcmpeqd } from '../sse/integer.js';
import { pcmpeqq } from '../sse/sse41-int.js';
import { vexOp, byPrefix, FE_AVX, FE_AVX2, VX_FP, VX_UNARY, VX_SCALAR4, VX_SCALAR8 } from './common.js';

/** A 128-bit floating-point kernel: elements 0..count-1 computed, the rest copied from A (scalar forms). */
function fpKernel(op: number, single: boolean, count: number): Kernel {
  return () => {
    R.set(A);
    for (let i = 0; i < count; i++) lane(op, single, i);
  };
}

/** PS / PD / SS / SD forms of one operation (none / 66 / F3 / F2); SQRT's packed forms have no vvvv. */
function fourForms(op: number): Handler {
  const u = op === OP_SQRT ? VX_UNARY : 0;
  return byPrefix(
    vexOp(fpKernel(op, true, 4), FE_AVX, FE_AVX, VX_FP | u),
    vexOp(fpKernel(op, false, 2), FE_AVX, FE_AVX, VX_FP | u),
    vexOp(fpKernel(op, true, 1), FE_AVX, FE_AVX, VX_FP | VX_SCALAR4),
    vexOp(fpKernel(op, false, 1), FE_AVX, FE_AVX, VX_FP | VX_SCALAR8),
  );
}

/** PS and PD forms of a bitwise operation (AVX for both lengths). */
function logic(k: Kernel): Handler {
  return byPrefix(vexOp(k, FE_AVX, FE_AVX), vexOp(k, FE_AVX, FE_AVX), null, null);
}

/** 66-prefixed packed-integer operation: AVX at 128 bits, AVX2 at 256. */
function int66(k: Kernel): Handler {
  return byPrefix(null, vexOp(k, FE_AVX, FE_AVX2), null, null);
}

const M1 = 0x400, M2 = 0x500;

export function installAvxArith(t: Handler[]): void {
  def(t, M1 | 0x51, fourForms(OP_SQRT));
  def(t, M1 | 0x58, fourForms(OP_ADD));
  def(t, M1 | 0x59, fourForms(OP_MUL));
  def(t, M1 | 0x5c, fourForms(OP_SUB));
  def(t, M1 | 0x5d, fourForms(OP_MIN));
  def(t, M1 | 0x5e, fourForms(OP_DIV));
  def(t, M1 | 0x5f, fourForms(OP_MAX));
  def(t, M1 | 0x54, logic(pand));
  def(t, M1 | 0x55, logic(pandn));
  def(t, M1 | 0x56, logic(por));
  def(t, M1 | 0x57, logic(pxor));
  def(t, M1 | 0xdb, int66(pand));
  def(t, M1 | 0xdf, int66(pandn));
  def(t, M1 | 0xeb, int66(por));
  def(t, M1 | 0xef, int66(pxor));
  def(t, M1 | 0xfc, int66(paddb));
  def(t, M1 | 0xfd, int66(paddw));
  def(t, M1 | 0xfe, int66(paddd));
  def(t, M1 | 0xd4, int66(paddq));
  def(t, M1 | 0x74, int66(pcmpeqb));
  def(t, M1 | 0x75, int66(pcmpeqw));
  def(t, M1 | 0x76, int66(pcmpeqd));
  def(t, M2 | 0x29, int66(pcmpeqq));
}
