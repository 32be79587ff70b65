/**
 * VEX data movement of the AVX foundation (SDM Vol. 2 entries of the same names):
 * VMOVUPS/VMOVUPD/VMOVAPS/VMOVAPD/VMOVDQU/VMOVDQA (VEX.128/256 loads, stores and register
 * moves), VMOVSS/VMOVSD (memory forms and the three-operand register merge forms),
 * VMOVD/VMOVQ, and VZEROUPPER/VZEROALL. Only VMOVAPS/VMOVAPD/VMOVDQA check alignment (to
 * the operand size, 16 or 32 bytes); every other VEX memory operand may be misaligned
 * (Vol. 2 §2.4). All of them write a VEX.128 destination register with bits 255:128 zeroed.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import {
  avxCheck, vsrc, getYmm, putYmm, readMem, writeMem, loadRm, D, S1, byPrefix, FE_AVX, NO_VVVV, L0_ONLY,
} from './common.js';

/** VMOVUPS/…/VMOVDQA xmm1|ymm1, xmm2|ymm2/m128|m256 (0F 10, 28, 6F). */
function loadVec(aligned: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    avxCheck(cpu, FE_AVX, NO_VVVV);
    const l = cpu.vexL;
    loadRm(cpu, l !== 0 ? 32 : 16, aligned, D);
    putYmm(cpu, cpu.reg, D, l);
  };
}

/** VMOVUPS/…/VMOVDQA xmm2|ymm2/m128|m256, xmm1|ymm1 (0F 11, 29, 7F). */
function storeVec(aligned: boolean): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    avxCheck(cpu, FE_AVX, NO_VVVV);
    const l = cpu.vexL;
    getYmm(cpu, cpu.reg, D);
    if (cpu.mod === 3) putYmm(cpu, cpu.rm, D, l);
    else writeMem(cpu, l !== 0 ? 32 : 16, aligned, D);
  };
}

/**
 * F3/F2 0F 10 VMOVSS/VMOVSD: `xmm1, m32|m64` (vvvv must be 1111b; bits 127:32|64 zeroed)
 * or `xmm1, xmm2, xmm3` (low element from xmm3 = r/m, the rest from xmm2 = vvvv). L is ignored.
 */
function movScalarLoad(dwords: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (cpu.mod !== 3) {
      avxCheck(cpu, FE_AVX, NO_VVVV);
      readMem(cpu, dwords * 4, false, D);
    } else {
      avxCheck(cpu, FE_AVX, 0);
      getYmm(cpu, vsrc(cpu), D);
      getYmm(cpu, cpu.rm, S1);
      D[0] = S1[0]!; if (dwords === 2) D[1] = S1[1]!;
    }
    putYmm(cpu, cpu.reg, D, 0);
  };
}

/**
 * F3/F2 0F 11 VMOVSS/VMOVSD: `m32|m64, xmm1` (vvvv must be 1111b) or `xmm1 (r/m), xmm2
 * (vvvv), xmm3 (reg)`: low element from xmm3, the rest from xmm2.
 */
function movScalarStore(dwords: number): Handler {
  return (cpu) => {
    cpu.decodeModrm(0);
    if (cpu.mod !== 3) {
      avxCheck(cpu, FE_AVX, NO_VVVV);
      const lin = cpu.eaLin(dwords * 4, true);
      const x = cpu.fpu.xmm, s = cpu.reg << 2;
      if (dwords === 2) cpu.wr64(lin, x[s]!, x[s + 1]!); else cpu.wr32(lin, x[s]!);
      return;
    }
    avxCheck(cpu, FE_AVX, 0);
    getYmm(cpu, vsrc(cpu), D);
    getYmm(cpu, cpu.reg, S1);
    D[0] = S1[0]!; if (dwords === 2) D[1] = S1[1]!;
    putYmm(cpu, cpu.rm, D, 0);
  };
}

/** Operand size of VMOVD/VMOVQ's GPR operand: VEX.W1 selects 64 bits in 64-bit mode only. */
function gprSize(cpu: Cpu): number { return cpu.code64 && cpu.rexW ? 8 : 4; }

/** 66 0F 6E VMOVD xmm1, r/m32 / VMOVQ xmm1, r/m64 (W1): zero-extended to 256 bits. */
function vmovdLoad(cpu: Cpu): void {
  cpu.decodeModrm(0);
  avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
  const size = gprSize(cpu);
  const lo = cpu.readE(size), hi = size === 8 ? cpu.hi : 0;
  D.fill(0); D[0] = lo; D[1] = hi;
  putYmm(cpu, cpu.reg, D, 0);
}

/** 66 0F 7E VMOVD r/m32, xmm1 / VMOVQ r/m64, xmm1 (W1). */
function vmovdStore(cpu: Cpu): void {
  cpu.decodeModrm(0);
  avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
  const x = cpu.fpu.xmm, s = cpu.reg << 2;
  cpu.writeE(gprSize(cpu), x[s]!, x[s + 1]!);
}

/** F3 0F 7E VMOVQ xmm1, xmm2/m64: bits 255:64 zeroed. */
function vmovqLoad(cpu: Cpu): void {
  cpu.decodeModrm(0);
  avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
  loadRm(cpu, 8, false, D);
  D[2] = 0; D[3] = 0;
  putYmm(cpu, cpu.reg, D, 0);
}

/** 66 0F D6 VMOVQ xmm1/m64, xmm2 (register destination: bits 255:64 zeroed). */
function vmovqStore(cpu: Cpu): void {
  cpu.decodeModrm(0);
  avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
  const x = cpu.fpu.xmm, s = cpu.reg << 2;
  if (cpu.mod !== 3) { cpu.wr64(cpu.eaLin(8, true), x[s]!, x[s + 1]!); return; }
  D.fill(0); D[0] = x[s]!; D[1] = x[s + 1]!;
  putYmm(cpu, cpu.rm, D, 0);
}

/**
 * 0F 77 VZEROUPPER (L = 0: bits 255:128 of every YMM register) and VZEROALL (L = 1: whole
 * registers). Outside 64-bit mode only YMM0-7 are touched (SDM Vol. 2 VZEROUPPER/VZEROALL).
 */
function vzero(cpu: Cpu): void {
  const touched = cpu.fpu.sseTouched;
  avxCheck(cpu, FE_AVX, NO_VVVV);
  const n = cpu.code64 ? 64 : 32;
  cpu.fpu.ymmh.fill(0, 0, n);
  // XINUSE[1] tracking (fpu/state.ts): VZEROUPPER writes no XMM bits, VZEROALL zeroes them
  cpu.fpu.sseTouched = cpu.vexL !== 0 ? touched & ~(cpu.code64 ? 0xffff : 0xff) : touched;
  if (cpu.vexL !== 0) cpu.fpu.xmm.fill(0, 0, n);
}

/** VEX map 1 (0F) table base: entry 0x400 | opcode (run-loop.ts decodeVex). */
const M1 = 0x400;

export function installAvxMove(t: Handler[]): void {
  def(t, M1 | 0x10, byPrefix(loadVec(false), loadVec(false), movScalarLoad(1), movScalarLoad(2)));
  def(t, M1 | 0x11, byPrefix(storeVec(false), storeVec(false), movScalarStore(1), movScalarStore(2)));
  def(t, M1 | 0x28, byPrefix(loadVec(true), loadVec(true), null, null));
  def(t, M1 | 0x29, byPrefix(storeVec(true), storeVec(true), null, null));
  def(t, M1 | 0x6e, byPrefix(null, vmovdLoad, null, null));
  def(t, M1 | 0x6f, byPrefix(null, loadVec(true), loadVec(false), null));
  def(t, M1 | 0x77, byPrefix(vzero, null, null, null));
  def(t, M1 | 0x7e, byPrefix(null, vmovdStore, vmovqLoad, null));
  def(t, M1 | 0x7f, byPrefix(null, storeVec(true), storeVec(false), null));
  def(t, M1 | 0xd6, byPrefix(null, vmovqStore, null, null));
}
