/**
 * The INIT signal (INIT IPI, INIT#, a board's soft reset) outside VMX operation: the
 * processor takes the state of SDM Vol. 3A §9.1 Table 9-1's INIT column. Most of it is the
 * power-up/RESET state that Cpu.reset() sets; this module keeps what INIT leaves alone.
 *
 *   state (Table 9-1 row)                      power-up / RESET       INIT
 *   RAX..R15, RIP, RFLAGS, CS..GS, GDTR, IDTR,  the table's values     the same values
 *   LDTR, TR, CR2, CR3, CR4, DR0-DR7, FS/GS base
 *   CR0                                         60000010H              ET = 1, CD and NW unchanged,
 *                                                                      every other bit 0 (note 2)
 *   x87 FPU: FCW FSW FTW FOP FIP FDP, ST0-ST7   FCW 0040H, FTW 5555H   unchanged (§9.1: "the internal
 *   (= MM0-MM7)                                 +0.0                   caches, MSRs, MTRRs, and x87 FPU
 *                                                                      state are left unchanged")
 *   XMM0-XMM15, MXCSR                           0, 1F80H               unchanged (also Vol. 1 §11.6.4)
 *   YMM0-YMM15 bits 255:128                     0                      unchanged
 *   XCR0                                        1                      unchanged
 *   IA32_XSS                                    0                      0
 *   TSC, performance counters, MTRRs, PAT,      0 / disabled /         unchanged ("All other MSRs:
 *   machine-check MSRs, every other MSR         undefined              INIT: Unchanged")
 *   IA32_EFER                                   0                      0
 *
 * IA32_EFER has no row of its own; INIT puts the processor in real-address mode (CR0.PE = PG
 * = 0), where long mode cannot stay active, and it is cleared as on RESET (as KVM and Bochs
 * do on INIT). The local APIC's INIT (Lapic.init) and the wait-for-SIPI parking are the
 * board's (src/machine/vcpus.ts); an INIT in VMX operation never gets here (vmx/init-sipi.ts).
 */
import type { Cpu } from './cpu.js';
import { CR0_CD, CR0_NW } from './regs.js';
import { MSR_IA32_XSS } from './profile.js';
import { MSR_LO_KEY, MSR_HI_KEY } from './msr.js';

/** Applies INIT to `cpu`: Cpu.reset() for the state INIT sets, the rest kept (table above). */
export function initSignal(cpu: Cpu): void {
  // what INIT leaves unchanged, copied out before reset() sets its power-up values. The
  // whole FpuState is x87 + SSE + AVX state, all of it unchanged by INIT: every field is
  // kept, so state added to it later is kept too (init-signal.test.ts checks every field)
  const f = cpu.fpu as unknown as Record<string, unknown>;
  const fpu = new Map<string, unknown>();
  for (const [k, v] of Object.entries(f)) fpu.set(k, ArrayBuffer.isView(v) ? (v as Uint8Array).slice() : v);
  const cacheBits = cpu.cr0 & (CR0_CD | CR0_NW);
  const xcr0 = cpu.xcr0;
  const msrs = new Map(cpu.msrs);

  cpu.reset();

  for (const [k, v] of fpu) {
    const cur = f[k];
    if (ArrayBuffer.isView(cur)) (cur as Uint8Array).set(v as Uint8Array);
    else f[k] = v;
  }
  // Table 9-1 note 2: CD and NW unchanged, ET set, all other bits cleared
  cpu.cr0 = (cpu.cr0 & ~(CR0_CD | CR0_NW)) | cacheBits;
  cpu.xcr0 = xcr0;
  for (const [k, v] of msrs) cpu.msrs.set(k, v);
  // IA32_XSS is 0 after INIT as after RESET (Table 9-1; no supervisor state stays enabled)
  cpu.msrs.delete(MSR_IA32_XSS); cpu.msrs.delete(MSR_IA32_XSS + MSR_LO_KEY); cpu.msrs.delete(MSR_IA32_XSS + MSR_HI_KEY);
}
