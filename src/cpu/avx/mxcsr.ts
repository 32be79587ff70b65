/**
 * VLDMXCSR / VSTMXCSR (SDM Vol. 2B LDMXCSR, STMXCSR: VEX.LZ.0F.WIG AE /2 and /3): the VEX
 * forms of LDMXCSR/STMXCSR, which no other AVX family installed (found by the VEX
 * completeness audit, avx/isa-audit.test.ts).
 *
 * Same effect as the legacy forms (fpu/fxsave.ts ldmxcsr/stmxcsr): a 32-bit load of MXCSR
 * with #GP(0) when a bit outside the profile's MXCSR_MASK (fpu/fxsave.ts mxcsrMask) is set, a 32-bit store of it. The availability
 * check is the VEX one instead (SDM Vol. 2 §2.8, Table 2-22 exception type 5, plus the
 * instruction's own "#UD if VEX.L = 1, if VEX.vvvv ≠ 1111B"): #UD without CR4.OSXSAVE,
 * XCR0[2:1] = 11b or CPUID.AVX, with LOCK, vvvv ≠ 1111b, L = 1, a register operand or any
 * VEX.pp other than 00 (the host, Zen 4, raises #UD for pp = 01/10/11: objdump decodes them);
 * then #NM with CR0.TS. CR0.EM and CR4.OSFXSR are not consulted (VEX instructions). VEX.W is
 * ignored (WIG).
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from '../ops/table.js';
import { byPrefix } from '../sse/common.js';
import { mxcsrMask } from '../fpu/fxsave.js';
import { avxCheck, FE_AVX, NO_VVVV, L0_ONLY } from './common.js';

function vexGroup15(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod === 3 || (cpu.reg !== 2 && cpu.reg !== 3)) cpu.ud();
  avxCheck(cpu, FE_AVX, NO_VVVV | L0_ONLY);
  if (cpu.reg === 2) {
    // VLDMXCSR m32: read and check before anything changes
    const v = cpu.rd32(cpu.eaLin(4, false));
    if ((v & ~mxcsrMask(cpu)) !== 0) cpu.gp(0);
    cpu.fpu.mxcsr = v;
  } else {
    cpu.wr32(cpu.eaLin(4, true), cpu.fpu.mxcsr);
  }
}

export function installAvxMxcsr(t: Handler[]): void {
  // VEX map 1 (0F) entry 0x400 | AE: only the no-prefix form exists
  def(t, 0x400 | 0xae, byPrefix(vexGroup15, null, null, null));
}
