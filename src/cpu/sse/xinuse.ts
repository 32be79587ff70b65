/**
 * Which SSE/AVX instructions write an XMM register, for the XSAVE bookkeeping the SSE and AVX
 * entry checks do (fpu/state.ts sseTouched = XINUSE[1] tracking, xmod = XMODIFIED). This host
 * (Zen 4) marks SSE state in use and modified only when an instruction writes an XMM register:
 * not for stores to memory, compares into RFLAGS (COMISS, PTEST, VTESTPS), moves to a general
 * register (MOVD/MOVQ, MOVMSKPS, PMOVMSKB, PEXTR*, EXTRACTPS, CVT(T)SS2SI), PCMPxSTRI or
 * (V)LDMXCSR/(V)STMXCSR (measured by fpu/xsave-diff.test.ts). Keyed on the opcode-table index
 * (0x1xx 0F, 0x2xx 0F38, 0x3xx 0F3A; VEX maps 0x4xx-0x6xx), the prefix (VEX.pp) and ModRM.mod:
 * the store forms whose destination is an XMM register in their register form write one.
 */
import type { Cpu } from '../cpu.js';
import { REP_E, REP_NE } from '../cpu.js';

export function writesXmm(cpu: Cpu): boolean {
  const op = cpu.opcode, lo = op & 0xff, hi = op >> 8;
  const map = hi >= 4 ? hi - 3 : hi, mem = cpu.mod !== 3;
  if (map === 1) {
    switch (lo) {
      // MOVUPS/MOVSS, MOVAPS, MOVDQA/MOVDQU store forms: register form writes r/m
      case 0x11: case 0x29: case 0x7f: return !mem;
      // MOVLPS/MOVHPS/MOVNTPS/MOVNTDQ/MASKMOVDQU stores, CVT(T)SS2SI and CVT(T)PS2PI, (U)COMISS,
      // MOVMSKPS, PEXTRW to a GPR, PMOVMSKB, group 15 (LDMXCSR/STMXCSR)
      case 0x13: case 0x17: case 0x2b: case 0xe7: case 0xf7: case 0x2c: case 0x2d: case 0x2e: case 0x2f:
      case 0x50: case 0xc5: case 0xd7: case 0xae: return false;
      // 66: MOVD/MOVQ r/m, xmm; F3: MOVQ xmm, xmm/m64
      case 0x7e: return cpu.rep === REP_E;
      // 66: MOVQ xmm/m64, xmm (store); F3: MOVQ2DQ xmm, mm; F2: MOVDQ2Q mm, xmm
      case 0xd6: return cpu.rep === REP_E ? true : cpu.rep === REP_NE ? false : !mem;
      default: return true;
    }
  }
  if (map === 2) {
    // PTEST/VPTEST, VTESTPS/PD, VMASKMOVPS/PD and VPMASKMOVD/Q stores
    return !(lo === 0x17 || lo === 0x0e || lo === 0x0f || lo === 0x2e || lo === 0x2f || lo === 0x8e);
  }
  switch (lo) {
    // PEXTRB/W/D/Q, EXTRACTPS, PCMPESTRI/PCMPISTRI
    case 0x14: case 0x15: case 0x16: case 0x17: case 0x61: case 0x63: return false;
    // VEXTRACTF128/I128, VCVTPS2PH: the register form writes an XMM register
    case 0x19: case 0x39: case 0x1d: return !mem;
    default: return true;
  }
}
