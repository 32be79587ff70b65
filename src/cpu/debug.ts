/**
 * Debug registers and debug traps (SDM Vol. 3B chapter 17): breakpoint state from DR0-3
 * and DR7, instruction-breakpoint faults, data-breakpoint hits, and the traps taken after
 * an instruction (single-step, data breakpoints, the MOV SS hold). Split out of cpu.ts;
 * the run loop calls these only when a breakpoint, TF/RF or a shadow is active.
 */
import type { Cpu } from './cpu.js';
import { CS, RF, TF } from './regs.js';
import { mtfBeforeDebugTrap, debugTrapExits } from './vmx/events.js';

/** DR7 LEN field → breakpoint length in bytes (SDM §17.2.5). */
const BP_LEN = [1, 2, 8, 4];

/**
 * Recomputes the breakpoint state from DR0-3 and DR7 (call after writing them).
 * Instruction breakpoints: R/W = 00 (SDM Vol. 3B §17.2.4). Data breakpoints: R/W = 01
 * (writes) or 11 (reads and writes); their pages are kept out of the TLB so that every
 * access to them reaches translate(), which records hits. I/O breakpoints (10) are not
 * implemented.
 */
export function debugRegsChanged(cpu: Cpu): void {
  const dr7 = cpu.dr[7]!;
  cpu.codeBreakpoints = 0;
  cpu.dataBreakpoints = false;
  for (let i = 0; i < 4; i++) {
    cpu.dataBpPage[i] = NaN;
    const a = cpu.dr[i]!;
    cpu.bpLin[i] = a >= 2 ** 63 ? a - 2 ** 64 : a;
    if (((dr7 >>> (2 * i)) & 3) === 0) continue;
    const rw = (dr7 >>> (16 + 4 * i)) & 3;
    if (rw === 0) cpu.codeBreakpoints |= 1 << i;
    else if (rw !== 2) { cpu.dataBpPage[i] = Math.floor(cpu.bpLin[i]! / 4096); cpu.dataBreakpoints = true; }
  }
  cpu.flushTlb();
}

/** Instruction-breakpoint fault before the instruction at RIP (RF = 0). */
export function checkCodeBreakpoints(cpu: Cpu): void {
  const lin = cpu.code64 ? cpu.rip : cpu.segBase[CS]! + cpu.rip;
  let hits = 0;
  for (let i = 0; i < 4; i++) if ((cpu.codeBreakpoints & (1 << i)) !== 0 && cpu.bpLin[i] === lin) hits |= 1 << i;
  if (hits === 0) return;
  cpu.dr[6] = ((cpu.dr[6]! & ~0xf) | hits) >>> 0;
  cpu.fault(1, 0, false);
}

/** Records data-breakpoint hits of an access at `lin` (access 0 read, 1 write). */
export function checkDataBreakpoints(cpu: Cpu, lin: number, access: number): void {
  const dr7 = cpu.dr[7]!;
  for (let i = 0; i < 4; i++) {
    if (cpu.dataBpPage[i] !== Math.floor(lin / 4096)) continue;
    const rw = (dr7 >>> (16 + 4 * i)) & 3;
    if (rw === 1 && access !== 1) continue;
    const len = BP_LEN[(dr7 >>> (18 + 4 * i)) & 3]!;
    // the breakpoint covers the naturally aligned LEN bytes at DRi (SDM §17.2.5); the
    // access is known by its first byte here
    const a = cpu.bpLin[i]!;
    const base = a - (((a % len) + len) % len);
    if (lin >= base - 7 && lin < base + len) cpu.dbDataHits |= 1 << i;
  }
}

/**
 * Debug traps after an instruction (SDM Vol. 3B §17.3.1): single-step when TF was set
 * at its start (not after the POPF/IRET that sets it; SYSCALL and SYSRET look at TF
 * after themselves, so FMASK can mask it and SYSRET can arm it), data breakpoints, and
 * RF, cleared after every instruction but IRET, which loads it. An event delivered by
 * the instruction itself (INT n, INT3, INT1, a fault) replaces its single-step trap.
 * MOV SS/POP SS hold every debug trap until after the next instruction (SDM Vol. 3A
 * §6.8.3); when that one is ICEBP the held trap merges into its #DB.
 */
export function afterDebug(cpu: Cpu, f0: number, shadow: boolean): void {
  const op = cpu.opcode;
  // this instruction is MOV SS or POP SS: it set the shadow, STI (FB) aside
  const ssBlocking = cpu.inhibitIrq && !shadow && op !== 0xfb;
  // the shadow covers one instruction (SDM Vol. 3A §6.8.3); a HLT in it keeps it until
  // the wake-up (wakeFromHalt)
  if (shadow && !cpu.halted) cpu.inhibitIrq = false;
  if ((f0 & RF) !== 0 && op !== 0xcf) cpu.flags &= ~RF;
  const delivered = cpu.lastEventAt === cpu.instructionCount - 1;
  let ss = (op === 0x105 || op === 0x107) ? (cpu.flags & TF) !== 0 : (f0 & TF) !== 0;
  if (delivered) ss = false;
  let bits = cpu.dbDataHits | cpu.dbHeld;
  cpu.dbDataHits = 0;
  if (ss) bits |= 0x4000;
  cpu.dbHeld = 0;
  if (bits === 0) return;
  if (ssBlocking) { cpu.dbHeld = bits; return; }
  if (delivered && op === 0xf1) { cpu.dr[6] = (cpu.dr[6]! | (bits & 0xf)) >>> 0; return; }
  // an armed monitor trap flag exits first and keeps the trap pending (vmx/events.ts)
  if (cpu.vmx.nonRoot) { mtfBeforeDebugTrap(cpu, bits); debugTrapExits(cpu, bits); }
  // B0-B3 report this #DB's matches; BS is set, never cleared, by the CPU (SDM §17.2.3)
  cpu.dr[6] = ((cpu.dr[6]! & ~0xf) | bits) >>> 0;
  // a trap after HLT is taken now: the handler returns past the HLT
  cpu.halted = false;
  cpu.raiseException(1, 0, false);
  cpu.lastEventAt = -1; // delivered between instructions, not by the next one
}

