/**
 * Fast system calls: 0F 05 SYSCALL, 0F 07 SYSRET, 0F 34 SYSENTER, 0F 35 SYSEXIT
 * (SDM Vol. 2). They load fixed flat segment caches instead of reading descriptors.
 *
 * MSR values come from cpu.msrs through msr.ts's msrGet64 (the system family owns
 * RDMSR/WRMSR and the representation); a never-written MSR reads as 0.
 */
import type { Cpu, Handler } from '../cpu.js';
import {
  CS, SS, RCX, RDX, R11, RF, VM, IF, EFER_SCE, EFER_LMA, CR0_PE,
  MSR_STAR, MSR_LSTAR, MSR_FMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
} from '../regs.js';
import { def } from './table.js';
import { msrGet64 } from '../msr.js';

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

/** SYSCALL: 64-bit mode only on Intel; RCX = next RIP, R11 = RFLAGS, CPL 0 from STAR[47:32]. */
function syscall(cpu: Cpu): void {
  if (!cpu.code64 || (cpu.efer & EFER_SCE) === 0) cpu.ud();
  msrHalves(cpu, MSR_STAR);
  const sel = (cpu.hi & 0xffff) & 0xfffc;
  const target = msrAddress(cpu, MSR_LSTAR);
  const fmask = msrHalves(cpu, MSR_FMASK);
  const rip = cpu.rip;
  cpu.r[RCX << 1] = rip | 0; cpu.r[(RCX << 1) + 1] = Math.floor(rip / TWO32) | 0;
  const fl = cpu.getFlags();
  cpu.r[R11 << 1] = fl; cpu.r[(R11 << 1) + 1] = 0;
  cpu.flags = (fl & ~fmask & ~RF) | 2;
  flat(cpu, CS, sel, AR_CODE64);
  flat(cpu, SS, sel + 8, AR_DATA);
  cpu.rip = target;
}

/** SYSRET: back to CPL 3; REX.W returns to 64-bit code (RCX must be canonical), else to 32-bit code. */
function sysret(cpu: Cpu): void {
  if (!cpu.code64 || (cpu.efer & EFER_SCE) === 0) cpu.ud();
  if (cpu.cpl !== 0) cpu.gp(0);
  msrHalves(cpu, MSR_STAR);
  const base = (cpu.hi >>> 16) & 0xffff;
  let target: number;
  if (cpu.rexW) {
    target = cpu.getRegNum(RCX) // signed: canonical high addresses are negative;
    // Intel raises #GP(0) at CPL 0 for a non-canonical RCX (SDM Vol. 2 SYSRET)
    if (target < -0x800000000000 || target >= 0x800000000000) cpu.gp(0);
  } else target = cpu.r[RCX << 1]! >>> 0;
  const fl = cpu.r[R11 << 1]!;
  cpu.materializeFlags();
  cpu.flags = (fl & 0x3c7fd7 & ~(RF | VM)) | 2;
  if (cpu.rexW) flat(cpu, CS, ((base + 16) & 0xfffc) | 3, AR_CODE64 | AR_DPL3);
  else flat(cpu, CS, (base & 0xfffc) | 3, AR_CODE32 | AR_DPL3);
  flat(cpu, SS, ((base + 8) & 0xfffc) | 3, AR_DATA | AR_DPL3);
  cpu.rip = target;
  cpu.updateMode();
}

/** SYSENTER: to CPL 0 from SYSENTER_CS/ESP/EIP; #GP(0) in real mode or with a null SYSENTER_CS. */
function sysenter(cpu: Cpu): void {
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
