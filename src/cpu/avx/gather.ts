/**
 * AVX2 gathers (SDM Vol. 2 VGATHERDPS/VGATHERDPD/VGATHERQPS/VGATHERQPD, VPGATHERDD/
 * VPGATHERDQ/VPGATHERQD/VPGATHERQQ): VEX.128/256.66.0F38 90-93, `op dst, [base + VSIB index
 * * scale + disp], mask` with dst = ModRM.reg, mask = VEX.vvvv, and a vector index register
 * in SIB.index (§2.3.12). VEX.W selects the data element size (W0 dword, W1 qword), the
 * opcode's bit 0 the index element size (90/92 dword, 91/93 qword); 92/93 (the FP names)
 * behave exactly as 90/91.
 *
 *   elements = max(data, index) register width / the larger element size:
 *   | op / W          | L0: elems, index  | L1: elems, index  | destination/mask width |
 *   | 90,92 W0 (D→D)  | 4, xmm dwords     | 8, ymm dwords     | xmm / ymm              |
 *   | 90,92 W1 (D→Q)  | 2, xmm dwords     | 4, xmm dwords     | xmm / ymm              |
 *   | 91,93 W0 (Q→D)  | 2, xmm qwords     | 4, ymm qwords     | 64 bits / xmm          |
 *   | 91,93 W1 (Q→Q)  | 2, xmm qwords     | 4, ymm qwords     | xmm / ymm              |
 *
 * #UD (exception class 12, SDM Table 2-27): the AVX checks, ModRM.rm ≠ 100b (no VSIB byte;
 * also every 16-bit address size, which has no SIB), a register operand, or any two of
 * destination, index and mask naming the same register. Elements are gathered in order;
 * element j is loaded when its mask element's MSB is set, and its mask element is cleared
 * either way. A fault on element j is delivered with the elements before it done (their
 * destination elements written, their mask elements cleared): the instruction restarts at
 * its first byte and skips them because their mask bits are now clear. At completion the
 * whole mask register is zeroed and the destination's bits above the gathered elements
 * (MAXVL-1:128 for VEX.128, 127:64 and up for VGATHERQPS xmm) are zeroed.
 * On a fault only the completed elements change; the bits above them are left as they were.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { avxCheck, vsrc, byPrefix, getYmm, S1, FE_AVX2 } from './common.js';
import { vsibBase, vsibIndex, elemLin } from './vsib.js';

const M2 = 0x500;

/** Writes dword k (0..7) of YMM register n. */
function putDword(cpu: Cpu, n: number, k: number, v: number): void {
  if (k < 4) cpu.fpu.xmm[(n << 2) + k] = v;
  else cpu.fpu.ymmh[(n << 2) + k - 4] = v;
}

function gather(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3 || cpu.rm !== 4 || cpu.asz === 2) cpu.ud();
  const dst = cpu.reg, mask = vsrc(cpu), index = vsibIndex(cpu);
  if (dst === mask || dst === index || mask === index) cpu.ud();
  avxCheck(cpu, FE_AVX2, 0);
  const l = cpu.vexL, dataQ = cpu.rexW, idxQ = (cpu.opcode & 1) !== 0;
  const n = !dataQ && !idxQ ? 4 << l : 2 << l;
  const size = dataQ ? 8 : 4, scale = cpu.eaScale;
  const bLo = vsibBase(cpu), bHi = cpu.hi;
  getYmm(cpu, index, S1);
  const mx = cpu.fpu.xmm, mh = cpu.fpu.ymmh, mo = mask << 2;
  for (let j = 0; j < n; j++) {
    // the mask element's top dword (dword j, or dword 2j+1 for qword data)
    const top = dataQ ? 2 * j + 1 : j;
    const m = top < 4 ? mx[mo + top]! : mh[mo + top - 4]!;
    if (m < 0) {
      const iLo = idxQ ? S1[2 * j]! : S1[j]!, iHi = idxQ ? S1[2 * j + 1]! : S1[j]! >> 31;
      const lin = elemLin(cpu, bLo, bHi, iLo, iHi, scale, size, false);
      if (dataQ) {
        const lo = cpu.rd64(lin), hi = cpu.hi;
        putDword(cpu, dst, 2 * j, lo); putDword(cpu, dst, 2 * j + 1, hi);
      } else putDword(cpu, dst, j, cpu.rd32(lin));
    }
    putDword(cpu, mask, top, 0);
    if (dataQ) putDword(cpu, mask, top - 1, 0);
  }
  // completion: the mask register is all zero, the destination zeroed above the elements
  for (let k = (n * size) >> 2; k < 8; k++) putDword(cpu, dst, k, 0);
  cpu.fpu.xmm.fill(0, mo, mo + 4);
  cpu.fpu.ymmh.fill(0, mo, mo + 4);
}

export function installAvxGather(t: Handler[]): void {
  for (const op of [0x90, 0x91, 0x92, 0x93]) def(t, M2 | op, byPrefix(null, gather, null, null));
}
