/**
 * FMA3 (CPUID.1:ECX.FMA[12]), VEX.66.0F38 map 2, SDM Vol. 2 VFMADD132PS.. VFNMSUB231SD,
 * VFMADDSUB132PS.. and VFMSUBADD132PS..: W0 = single, W1 = double; packed forms at L = 0
 * and 1, scalar forms VEX.LIG. Every form has three sources — the destination register
 * (ModRM.reg), VEX.vvvv and ModRM.r/m — combined by the opcode's column:
 *   132: dst = dst·r/m ± vvvv      213: dst = vvvv·dst ± r/m      231: dst = vvvv·r/m ± dst
 *
 *   opcode (+0x10 for 213, +0x20 for 231)   op                 elements
 *   96  VFMADDSUB   a·b − c even, a·b + c odd        PS/PD
 *   97  VFMSUBADD   a·b + c even, a·b − c odd        PS/PD
 *   98/99  VFMADD   a·b + c                          PS/PD, SS/SD
 *   9A/9B  VFMSUB   a·b − c                          PS/PD, SS/SD
 *   9C/9D  VFNMADD  −(a·b) + c                       PS/PD, SS/SD
 *   9E/9F  VFNMSUB  −(a·b) − c                       PS/PD, SS/SD
 * Scalar forms compute element 0 and keep bits 127:32|64 of the destination (not of vvvv:
 * SDM "DEST[127:32] := DEST[127:32]"), zeroing bits 255:128; the memory operand is
 * m32/m64. Packed memory operands need no alignment (Vol. 2 §2.4). Exceptions: Type 2
 * (packed) / Type 3 (scalar) — MXCSR flags of all elements are committed, or #XM/#UD raised
 * with nothing written, before the destination is stored (sse/fp.ts finishFp).
 * The arithmetic (one rounding, NaN order, flags) is in fma-core.ts.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { beginFp } from '../sse/fp-core.js';
import { finishFp } from '../sse/fp.js';
import { fmaElem } from './fma-core.js';
import { avxCheck, vsrc, getYmm, putYmm, loadRm, readMem, S1, S2, D, byPrefix, FE_FMA } from './common.js';

/** The destination register's old value (the third source). */
const X = new Int32Array(8);

export const K_ADDSUB = 0, K_SUBADD = 1, K_ADD = 2, K_SUB = 3, K_NADD = 4, K_NSUB = 5;

/**
 * Handler of one opcode: `order` 132/213/231, `kind` K_*, `scalar` for the SS/SD column.
 * Operand roles are picked at install time; per instruction only the arrays are chosen.
 */
function fmaOp(order: number, kind: number, scalar: boolean): Handler {
  const negP = kind === K_NADD || kind === K_NSUB;
  const negC = kind === K_SUB || kind === K_NSUB;
  return (cpu: Cpu) => {
    cpu.decodeModrm(0);
    avxCheck(cpu, FE_FMA, 0);
    const single = !cpu.rexW;
    const l = scalar ? 0 : cpu.vexL;
    getYmm(cpu, cpu.reg, X);
    getYmm(cpu, vsrc(cpu), S1);
    if (scalar && cpu.mod !== 3) readMem(cpu, single ? 4 : 8, false, S2);
    else loadRm(cpu, l !== 0 ? 32 : 16, false, S2);
    // multiplication order a·b ± c by column (also the NaN priority, fma-core.ts)
    const a = order === 132 ? X : S1;
    const b = order === 213 ? X : S2;
    const c = order === 132 ? S1 : order === 213 ? S2 : X;
    beginFp(cpu.fpu.mxcsr);
    if (scalar) {
      D.set(X);
      fmaElem(single, 0, negP, negC, a, b, c, D);
    } else {
      const n = (single ? 4 : 2) << l;
      for (let i = 0; i < n; i++) {
        // VFMADDSUB subtracts in even elements, VFMSUBADD in odd ones
        const sub = kind === K_ADDSUB ? (i & 1) === 0 : kind === K_SUBADD ? (i & 1) === 1 : negC;
        fmaElem(single, i, negP, sub, a, b, c, D);
      }
    }
    finishFp(cpu);
    putYmm(cpu, cpu.reg, D, l);
  };
}

const M2 = 0x500;

export function installAvxFma(t: Handler[]): void {
  for (const [col, order] of [[0x90, 132], [0xa0, 213], [0xb0, 231]] as const) {
    def(t, M2 | (col + 6), byPrefix(null, fmaOp(order, K_ADDSUB, false), null, null));
    def(t, M2 | (col + 7), byPrefix(null, fmaOp(order, K_SUBADD, false), null, null));
    const kinds = [K_ADD, K_SUB, K_NADD, K_NSUB];
    for (let k = 0; k < 4; k++) {
      def(t, M2 | (col + 8 + 2 * k), byPrefix(null, fmaOp(order, kinds[k]!, false), null, null));
      def(t, M2 | (col + 9 + 2 * k), byPrefix(null, fmaOp(order, kinds[k]!, true), null, null));
    }
  }
}
