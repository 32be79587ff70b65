/**
 * Fast system calls: 0F 05 SYSCALL, 0F 07 SYSRET, 0F 34 SYSENTER, 0F 35 SYSEXIT
 * (SDM Vol. 2). They load fixed flat segment caches instead of reading descriptors.
 * Where AMD differs (AMD APM Vol. 3 and Vol. 2 §6.1), the behaviour is keyed on the CPU
 * profile's vendor (isAmd).
 *
 * MSR values come from cpu.msrs through msr.ts's msrGet64 (the system family owns
 * RDMSR/WRMSR and the representation); a never-written MSR reads as 0.
 */
import type { Cpu, Handler } from '../cpu.js';
import {
  CS, SS, RCX, RDX, R11, RF, VM, IF, EFER_SCE, EFER_LMA, CR0_PE,
  MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
} from '../regs.js';
import { def } from './table.js';
import { msrGet64 } from '../msr.js';
import { isAmd } from '../profile.js';

const TWO32 = 4294967296;

/** Flat segment access rights (VMCS layout): 64-bit code, 32-bit code, data; DPL in 6:5. */
const AR_CODE64 = 0xa09b, AR_CODE32 = 0xc09b, AR_DATA = 0xc093, AR_DPL3 = 3 << 5;

/** Low dword of an MSR (int32); the high dword is left in cpu.hi. Never-written MSRs read 0. */
export function msrHalves(cpu: Cpu, index: number): number {
  return msrGet64(cpu, index, 0, 0);
}

/** An MSR holding an address, as a canonical signed number. */
function msrAddress(cpu: Cpu, index: number): number {
  const lo = msrHalves(cpu, index);
  return cpu.hi * TWO32 + (lo >>> 0);
}

function flat(cpu: Cpu, seg: number, sel: number, ar: number): void {
  cpu.setSegCache(seg, sel, 0, 0xffffffff, ar);
}

/**
 * SYSCALL. Intel: 64-bit mode only (SDM Vol. 2B SYSCALL: #UD unless CS.L, EFER.LMA and
 * EFER.SCE). AMD also allows it in compatibility mode (target CSTAR) and in legacy mode
 * (target STAR[31:0], 32-bit flat CS/SS), AMD APM Vol. 3 "SYSCALL" and Vol. 2 §6.1.1.
 */
function syscall(cpu: Cpu): void {
  if ((cpu.efer & EFER_SCE) === 0) cpu.ud();
  if (!cpu.code64) {
    if (!isAmd(cpu.profile)) cpu.ud();
    if ((cpu.efer & EFER_LMA) === 0) { syscallLegacyAmd(cpu); return; }
  }
  msrHalves(cpu, MSR_STAR);
  const sel = (cpu.hi & 0xffff) & 0xfffc;
  // AMD APM SYSCALL_LONG_MODE: 64-bit callers go to LSTAR, compatibility-mode ones to CSTAR
  const target = msrAddress(cpu, cpu.code64 ? MSR_LSTAR : MSR_CSTAR);
  const fmask = msrHalves(cpu, MSR_FMASK);
  const rip = cpu.rip;
  cpu.r[RCX << 1] = rip | 0; cpu.r[(RCX << 1) + 1] = Math.floor(rip / TWO32) | 0;
  const fl = cpu.getFlags();
  // AMD saves RFLAGS with RF cleared (APM Vol. 3 SYSCALL: "R11.q = RFLAGS // with rf cleared")
  cpu.r[R11 << 1] = isAmd(cpu.profile) ? fl & ~RF : fl; cpu.r[(R11 << 1) + 1] = 0;
  cpu.flags = (fl & ~fmask & ~RF) | 2;
  flat(cpu, CS, sel, AR_CODE64);
  flat(cpu, SS, sel + 8, AR_DATA);
  cpu.rip = target;
}

/**
 * AMD legacy-mode SYSCALL (AMD APM Vol. 3 SYSCALL, SYSCALL_LEGACY_MODE): ECX = next EIP,
 * EIP = STAR[31:0], CS = STAR[47:32] & FFFCh and SS = CS + 8 as flat 32-bit segments at
 * CPL 0; only VM, IF and RF are cleared (FMASK is a long-mode register).
 */
function syscallLegacyAmd(cpu: Cpu): void {
  const eip = msrHalves(cpu, MSR_STAR) >>> 0;
  const sel = (cpu.hi & 0xffff) & 0xfffc;
  cpu.r[RCX << 1] = cpu.rip | 0; // RCX.d: the upper half is untouched outside long mode
  cpu.materializeFlags();
  cpu.flags = (cpu.flags & ~(VM | IF | RF)) | 2;
  flat(cpu, CS, sel, AR_CODE32);
  flat(cpu, SS, sel + 8, AR_DATA);
  cpu.rip = eip;
  cpu.updateMode();
}

/**
 * SYSRET: back to CPL 3; REX.W returns to 64-bit code, else to 32-bit code.
 * Intel (SDM Vol. 2B SYSRET): 64-bit mode only, #GP(0) at CPL 0 for a non-canonical RCX,
 * SS gets a flat DPL-3 data descriptor.
 * AMD (APM Vol. 3 SYSRET): also legal in compatibility and legacy mode (#GP(0) in real or
 * virtual-8086 mode or above CPL 0); no canonical check on RCX: the #GP for a
 * non-canonical RIP comes from the first fetch, at CPL 3; only SS's selector changes,
 * its base, limit and attributes stay as they were; in legacy mode EFLAGS only gains IF.
 */
function sysret(cpu: Cpu): void {
  const amd = isAmd(cpu.profile);
  if ((cpu.efer & EFER_SCE) === 0) cpu.ud();
  if (!cpu.code64) {
    if (!amd) cpu.ud();
    if ((cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) cpu.gp(0);
  }
  if (cpu.cpl !== 0) cpu.gp(0);
  msrHalves(cpu, MSR_STAR);
  const base = (cpu.hi >>> 16) & 0xffff;
  if (amd && (cpu.efer & EFER_LMA) === 0) { sysretLegacyAmd(cpu, base); return; }
  let target: number;
  if (cpu.rexW) {
    target = cpu.getRegNum(RCX) // signed: canonical high addresses are negative;
    // Intel raises #GP(0) at CPL 0 for a non-canonical RCX (SDM Vol. 2 SYSRET)
    if (!amd && (target < -0x800000000000 || target >= 0x800000000000)) cpu.gp(0);
  } else target = cpu.r[RCX << 1]! >>> 0;
  const fl = cpu.r[R11 << 1]!;
  cpu.materializeFlags();
  cpu.flags = (fl & 0x3c7fd7 & ~(RF | VM)) | 2;
  if (cpu.rexW) flat(cpu, CS, ((base + 16) & 0xfffc) | 3, AR_CODE64 | AR_DPL3);
  else flat(cpu, CS, (base & 0xfffc) | 3, AR_CODE32 | AR_DPL3);
  if (amd) cpu.segSel[SS] = (base + 8) & 0xffff;
  else flat(cpu, SS, ((base + 8) & 0xfffc) | 3, AR_DATA | AR_DPL3);
  cpu.rip = target;
  cpu.updateMode();
}

/** AMD legacy-mode SYSRET (APM Vol. 3 SYSRET_NON_LONG_MODE): EIP = ECX, IF set, SS selector only. */
function sysretLegacyAmd(cpu: Cpu, base: number): void {
  cpu.materializeFlags();
  cpu.flags |= IF;
  flat(cpu, CS, (base & 0xfffc) | 3, AR_CODE32 | AR_DPL3);
  cpu.segSel[SS] = (base + 8) & 0xffff;
  cpu.rip = cpu.r[RCX << 1]! >>> 0;
  cpu.updateMode();
}

/** SYSENTER: to CPL 0 from SYSENTER_CS/ESP/EIP; #GP(0) in real mode or with a null SYSENTER_CS. */
function sysenter(cpu: Cpu): void {
  // AMD APM Vol. 3 SYSENTER/SYSEXIT: #UD in long mode (64-bit and compatibility)
  if ((cpu.efer & EFER_LMA) !== 0 && isAmd(cpu.profile)) cpu.ud();
  if ((cpu.cr0 & CR0_PE) === 0) cpu.gp(0);
  const cs = msrHalves(cpu, MSR_SYSENTER_CS) & 0xffff;
  if ((cs & 0xfffc) === 0) cpu.gp(0);
  const long = (cpu.efer & EFER_LMA) !== 0;
  const eip = msrAddress(cpu, MSR_SYSENTER_EIP);
  const espLo = msrHalves(cpu, MSR_SYSENTER_ESP), espHi = cpu.hi;
  cpu.materializeFlags();
  cpu.flags &= ~(VM | IF | RF);
  flat(cpu, CS, cs & 0xfffc, long ? AR_CODE64 : AR_CODE32);
  flat(cpu, SS, (cs + 8) & 0xfffc, AR_DATA);
  if (long) { cpu.r[8] = espLo; cpu.r[9] = espHi; cpu.rip = eip; }
  else { cpu.r[8] = espLo; cpu.r[9] = 0; cpu.rip = eip >>> 0; }
  cpu.updateMode();
}

/** SYSEXIT: to CPL 3; REX.W returns to 64-bit code at RDX with RSP = RCX. */
function sysexit(cpu: Cpu): void {
  if ((cpu.efer & EFER_LMA) !== 0 && isAmd(cpu.profile)) cpu.ud();
  if ((cpu.cr0 & CR0_PE) === 0 || cpu.cpl !== 0) cpu.gp(0);
  const cs = msrHalves(cpu, MSR_SYSENTER_CS) & 0xffff;
  if ((cs & 0xfffc) === 0) cpu.gp(0);
  if (cpu.rexW) {
    const target = cpu.getRegNum(RDX);
    if (target < -0x800000000000 || target >= 0x800000000000) cpu.gp(0);
    flat(cpu, CS, ((cs + 32) & 0xfffc) | 3, AR_CODE64 | AR_DPL3);
    flat(cpu, SS, ((cs + 40) & 0xfffc) | 3, AR_DATA | AR_DPL3);
    cpu.r[8] = cpu.r[RCX << 1]!; cpu.r[9] = cpu.r[(RCX << 1) + 1]!;
    cpu.rip = target;
  } else {
    flat(cpu, CS, ((cs + 16) & 0xfffc) | 3, AR_CODE32 | AR_DPL3);
    flat(cpu, SS, ((cs + 24) & 0xfffc) | 3, AR_DATA | AR_DPL3);
    cpu.r[8] = cpu.r[RCX << 1]!; cpu.r[9] = 0;
    cpu.rip = cpu.r[RDX << 1]! >>> 0;
  }
  cpu.updateMode();
}

export function installSyscall(t: Handler[]): void {
  def(t, 0x105, syscall);
  def(t, 0x107, sysret);
  def(t, 0x134, sysenter);
  def(t, 0x135, sysexit);
}
