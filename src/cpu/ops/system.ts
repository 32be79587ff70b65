/**
 * System instruction family: the 0F 01 (group 7), 0F AE (group 15) and 0F C7 (group 9)
 * dispatchers, CPUID, RDTSC/RDTSCP, RDMSR/WRMSR, RDPMC, INVD/WBINVD, INVLPG, INVPCID,
 * SWAPGS, RDFSBASE family, fences, CLFLUSH(OPT), RDPID, STAC/CLAC, XGETBV/XSETBV and the
 * undefined-opcode instructions UD0/UD1/UD2. Control/debug registers are in crdr.ts,
 * descriptor tables in descriptor-tables.ts. SDM Vol. 2 for each mnemonic.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { installCrDr, writeCr0 } from './crdr.js';
import { installDescriptorTables, sgdtSidt, lgdtLidt, umipCheck, arpl } from './descriptor-tables.js';
import { grp9Cmpxchg8b16b } from './alu.js';
import { fxsave, fxrstor, ldmxcsr, stmxcsr, xsave, xrstor, xsaveopt, xsavec, xsaves, xrstors, xinuse } from '../fpu/fxsave.js';
import { rdmsr, wrmsr, msrGet64, msrSet64, isCanonical } from '../msr.js';
import { readTsc } from '../tsc.js';
import { monitor, mwait } from '../monitor.js';
import { REP_E, REP_NONE } from '../cpu.js';
import { vmxon, vmxoff, vmclear, vmptrld, vmptrst, vmread, vmwrite, vmcall } from '../vmx/instructions.js';
import { vmlaunch, vmresume } from '../vmx/vmentry.js';
import { invept, invvpid } from '../vmx/invept.js';
import {
  interceptCpuid, interceptRdtsc, interceptRdtscp, interceptMsr, interceptRdpmc, interceptInvd, interceptWbinvd,
  interceptInvlpg, interceptXsetbv, shadowCr0, guestLmsw, interceptInvpcid,
  interceptRdpid,
} from '../vmx/intercepts.js';
import {
  RAX, RCX, RDX, RBX, FS, GS, AC, CR4_TSD, CR4_PCE, CR4_FSGSBASE, CR4_OSXSAVE, CR4_PCIDE,
  MSR_KERNEL_GS_BASE, MSR_TSC_AUX,
} from '../regs.js';
import { FXD_RDTSCP, F7B_SMAP, F7B_INVPCID, F7B_CLFLUSHOPT, F7B_CLWB, F7C_RDPID, F1D_CLFSH, xcr0Supported, XSAVE_SUB1_EAX, XD1_XGETBV1 } from '../profile.js';

export { arpl };

const TWO32 = 4294967296;

/** 0F A2 CPUID: EAX leaf, ECX sub-leaf; results zero-extended into RAX/RBX/RCX/RDX. */
function cpuid(cpu: Cpu): void {
  if (cpu.vmx.nonRoot) interceptCpuid(cpu); // unconditional VM exit (SDM Vol. 3C §25.1.2)
  const out = cpu.cpuid(cpu.r[RAX << 1]!, cpu.r[RCX << 1]!);
  cpu.setReg32(RAX, out[0]!); cpu.setReg32(RBX, out[1]!); cpu.setReg32(RCX, out[2]!); cpu.setReg32(RDX, out[3]!);
}

/** 0F 31 RDTSC: CR4.TSD restricts it to CPL 0 (SDM Vol. 2B RDTSC). */
function rdtsc(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_TSD) !== 0 && cpu.cpl !== 0) cpu.gp(0);
  if (cpu.vmx.nonRoot) interceptRdtsc(cpu);
  const lo = readTsc(cpu);
  cpu.setReg32(RDX, cpu.hi);
  cpu.setReg32(RAX, lo);
}

/** 0F 01 F9 RDTSCP: TSC in EDX:EAX, IA32_TSC_AUX in ECX. */
function rdtscp(cpu: Cpu): void {
  if ((cpu.profile.ext1Edx & FXD_RDTSCP) === 0) cpu.ud();
  if ((cpu.cr4 & CR4_TSD) !== 0 && cpu.cpl !== 0) cpu.gp(0);
  if (cpu.vmx.nonRoot) interceptRdtscp(cpu);
  const aux = msrGet64(cpu, MSR_TSC_AUX, 0, 0);
  const lo = readTsc(cpu);
  cpu.setReg32(RDX, cpu.hi);
  cpu.setReg32(RAX, lo);
  cpu.setReg32(RCX, aux);
}

/** 0F 32 RDMSR / 0F 30 WRMSR: CPL 0, index in ECX, value in EDX:EAX. */
function rdmsrOp(cpu: Cpu): void {
  cpu.requireCpl0();
  if (cpu.vmx.nonRoot) interceptMsr(cpu, cpu.r[RCX << 1]!, false);
  const lo = rdmsr(cpu, cpu.r[RCX << 1]!);
  cpu.setReg32(RDX, cpu.hi);
  cpu.setReg32(RAX, lo);
}
function wrmsrOp(cpu: Cpu): void {
  cpu.requireCpl0();
  if (cpu.vmx.nonRoot) interceptMsr(cpu, cpu.r[RCX << 1]!, true);
  wrmsr(cpu, cpu.r[RCX << 1]!, cpu.r[RAX << 1]!, cpu.r[RDX << 1]!);
}

/**
 * 0F 33 RDPMC: CPL 0 or CR4.PCE, and ECX must name a counter. The profile advertises no
 * performance-monitoring counters (no CPUID leaf 0AH), so every index is invalid: #GP(0).
 */
function rdpmc(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_PCE) === 0 && cpu.cpl !== 0) cpu.gp(0);
  if (cpu.vmx.nonRoot) interceptRdpmc(cpu);
  cpu.gp(0);
}

/** INVD / WBINVD: CPL 0; there are no caches to write back. */
function invdWbinvd(cpu: Cpu): void {
  cpu.requireCpl0();
  // VMX non-root: INVD always exits, WBINVD with "WBINVD exiting" (SDM Vol. 3C §25.1)
  if (cpu.vmx.nonRoot) { if (cpu.opcode === 0x108) interceptInvd(cpu); else interceptWbinvd(cpu); }
}

/** 0F 01 /7 INVLPG m: CPL 0; a non-canonical address is a no-op (SDM Vol. 2A INVLPG). */
function invlpg(cpu: Cpu): void {
  cpu.requireCpl0();
  let lin: number;
  if (cpu.code64) {
    lin = cpu.eaHi * TWO32 + (cpu.eaLo >>> 0);
    if (cpu.eaSeg >= FS) lin += cpu.segBase[cpu.eaSeg]!;
    if (cpu.vmx.nonRoot) interceptInvlpg(cpu, lin);
    if (lin < -0x800000000000 || lin >= 0x800000000000) return;
  } else {
    lin = (cpu.segBase[cpu.eaSeg]! + (cpu.eaLo >>> 0)) >>> 0;
  }
  if (cpu.vmx.nonRoot) interceptInvlpg(cpu, lin);
  cpu.invalidatePage(lin);
}

/** 0F 01 F8 SWAPGS: 64-bit mode only, CPL 0; exchanges GS.base and IA32_KERNEL_GS_BASE. */
function swapgs(cpu: Cpu): void {
  if (!cpu.code64) cpu.ud();
  cpu.requireCpl0();
  const kLo = msrGet64(cpu, MSR_KERNEL_GS_BASE, 0, 0), kHi = cpu.hi;
  const g = cpu.segBase[GS]!;
  const h = Math.floor(g / TWO32);
  msrSet64(cpu, MSR_KERNEL_GS_BASE, (g - h * TWO32) | 0, h | 0);
  cpu.segBase[GS] = kHi * TWO32 + (kLo >>> 0);
}

/** 0F 01 CA CLAC / CB STAC: need SMAP; #UD at CPL > 0. */
function clacStac(cpu: Cpu, set: boolean): void {
  if ((cpu.profile.leaf7Ebx & F7B_SMAP) === 0 || cpu.cpl > 0) cpu.ud();
  cpu.flags = set ? cpu.flags | AC : cpu.flags & ~AC;
}

/**
 * 0F 01 D0 XGETBV / D1 XSETBV: #UD unless CR4.OSXSAVE. XCR0 holds the x87 (bit 0) and SSE
 * (bit 1) state components the profile supports; ECX = 1 reads XCR0 & XINUSE when CPUID
 * (0DH,1):EAX[2] says so (SDM Vol. 1 §13.3, §13.6).
 */
function xgetbv(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_OSXSAVE) === 0) cpu.ud();
  const ecx = cpu.r[RCX << 1]!;
  if (ecx === 1 && (XSAVE_SUB1_EAX & XD1_XGETBV1) !== 0) {
    cpu.setReg32(RAX, cpu.xcr0 & xinuse(cpu));
  } else {
    if (ecx !== 0) cpu.gp(0);
    cpu.setReg32(RAX, cpu.xcr0);
  }
  cpu.setReg32(RDX, 0);
}
function xsetbv(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_OSXSAVE) === 0) cpu.ud();
  if (cpu.vmx.nonRoot) interceptXsetbv(cpu); // unconditional (SDM Vol. 3C §25.1.2)
  cpu.requireCpl0();
  const lo = cpu.r[RAX << 1]!, hi = cpu.r[RDX << 1]!;
  // x87 must stay enabled; unsupported bits are reserved (AVX, bit 2, only with a profile
  // that has AVX); AVX state needs SSE state: bit 2 without bit 1 is #GP (SDM Vol. 2 XSETBV)
  if (cpu.r[RCX << 1]! !== 0 || hi !== 0 || (lo & 1) === 0 || (lo & ~xcr0Supported(cpu.profile)) !== 0 || (lo & 6) === 4) cpu.gp(0);
  cpu.xcr0 = lo;
}

/** 0F 01 /4 SMSW: register operands take the operand size; memory is always 16 bits. */
function smsw(cpu: Cpu): void {
  umipCheck(cpu);
  const cr0 = cpu.vmx.nonRoot ? shadowCr0(cpu) : cpu.cr0; // the CR0 read shadow in VMX non-root
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, cpu.osz, cpu.osz === 2 ? cr0 & 0xffff : cr0, 0);
  else cpu.wr16(cpu.eaLin(2, true), cr0 & 0xffff);
}

/** 0F 01 /6 LMSW: loads CR0[3:0]; PE can be set but not cleared (SDM Vol. 2A LMSW). */
function lmsw(cpu: Cpu): void {
  cpu.requireCpl0();
  const lin = cpu.mod === 3 ? 0 : cpu.eaLin(2, false);
  const src = cpu.mod === 3 ? cpu.r[cpu.rm << 1]! & 0xffff : cpu.rd16(lin);
  const low = cpu.vmx.nonRoot ? guestLmsw(cpu, src, cpu.mod !== 3, lin) : src & 0xf;
  writeCr0(cpu, (cpu.cr0 & ~0xe) | low, 0);
}

/** 0F 01: group 7 (SDM Vol. 2 Table A-6), dispatched on ModRM as the encoding is. */
function group7(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.mod !== 3) {
    switch (cpu.reg & 7) {
      case 0: sgdtSidt(cpu, false); return;
      case 1: sgdtSidt(cpu, true); return;
      case 2: lgdtLidt(cpu, false); return;
      case 3: lgdtLidt(cpu, true); return;
      case 4: smsw(cpu); return;
      case 6: lmsw(cpu); return;
      case 7: invlpg(cpu); return;
      default: cpu.ud();
    }
  }
  switch (cpu.modrmByte) {
    // VMX (src/cpu/vmx): C1 VMCALL, C2 VMLAUNCH, C3 VMRESUME, C4 VMXOFF; D4 VMFUNC is not offered
    case 0xc1: vmcall(cpu); return;
    case 0xc2: vmlaunch(cpu); return;
    case 0xc3: vmresume(cpu); return;
    case 0xc4: vmxoff(cpu); return;
    case 0xd4: cpu.ud();
    // C8 MONITOR, C9 MWAIT (src/cpu/monitor.ts, with their VM exits)
    case 0xc8: monitor(cpu); return;
    case 0xc9: mwait(cpu); return;
    case 0xca: clacStac(cpu, false); return;
    case 0xcb: clacStac(cpu, true); return;
    case 0xd0: xgetbv(cpu); return;
    case 0xd1: xsetbv(cpu); return;
    case 0xf8: swapgs(cpu); return;
    case 0xf9: rdtscp(cpu); return;
    default:
      if ((cpu.reg & 7) === 4) { smsw(cpu); return; }
      if ((cpu.reg & 7) === 6) { lmsw(cpu); return; }
      cpu.ud();
  }
}

/** F3 0F AE /0-/3 (register): RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE. */
function fsgsbase(cpu: Cpu): void {
  if (!cpu.code64 || (cpu.cr4 & CR4_FSGSBASE) === 0) cpu.ud();
  const op = cpu.reg & 7;
  const seg = (op & 1) === 0 ? FS : GS;
  if (op < 2) {
    const b = cpu.segBase[seg]!;
    const h = Math.floor(b / TWO32);
    cpu.setRegSz(cpu.rm, cpu.osz === 8 ? 8 : 4, (b - h * TWO32) | 0, h | 0);
    return;
  }
  const lo = cpu.r[cpu.rm << 1]!;
  const hi = cpu.osz === 8 ? cpu.r[(cpu.rm << 1) + 1]! : 0;
  if (!isCanonical(cpu, hi)) cpu.gp(0);
  cpu.segBase[seg] = hi * TWO32 + (lo >>> 0);
}

/**
 * 0F AE: group 15. Register forms: LFENCE/MFENCE/SFENCE and (F3) the FSGSBASE family.
 * Memory forms: CLFLUSH (/7), CLFLUSHOPT (66 /7), CLWB (66 /6); without a prefix /0 FXSAVE, /1 FXRSTOR,
 * /2 LDMXCSR, /3 STMXCSR, /4 XSAVE, /5 XRSTOR, /6 XSAVEOPT (fpu/fxsave.ts).
 */
function group15(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const op = cpu.reg & 7;
  if (cpu.mod === 3) {
    if (cpu.rep === REP_E && op < 4) { fsgsbase(cpu); return; }
    if (cpu.rep === 0 && !cpu.pfx66 && op >= 5) return; // fences: the emulator is sequentially consistent
    cpu.ud();
  }
  // /7 CLFLUSH, 66 /7 CLFLUSHOPT, 66 /6 CLWB (SDM Vol. 2A CLWB: #UD without CPUID.(7,0):EBX[24])
  if ((op === 7 || (op === 6 && cpu.pfx66)) && cpu.rep === 0) {
    const need = op === 6 ? (cpu.profile.leaf7Ebx & F7B_CLWB)
      : cpu.pfx66 ? (cpu.profile.leaf7Ebx & F7B_CLFLUSHOPT) : (cpu.profile.leaf1Edx & F1D_CLFSH);
    if (need === 0) cpu.ud();
    // permission checks as a byte load; there is no cache to flush
    cpu.translateData(cpu.eaLin(1, false), false);
    return;
  }
  if (cpu.rep === 0 && !cpu.pfx66) {
    switch (op) {
      case 0: fxsave(cpu); return;
      case 1: fxrstor(cpu); return;
      case 2: ldmxcsr(cpu); return;
      case 3: stmxcsr(cpu); return;
      case 4: xsave(cpu); return;
      case 5: xrstor(cpu); return;
      case 6: xsaveopt(cpu); return;
    }
  }
  cpu.ud();
}

/**
 * 0F C7: group 9. Memory /1 CMPXCHG8B/16B (ALU family). Register F3 /7 RDPID. The VMX
 * forms (src/cpu/vmx): memory /6 VMPTRLD (66: VMCLEAR, F3: VMXON), NP /7 VMPTRST.
 * RDRAND/RDSEED are not advertised.
 */
function group9(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const op = cpu.reg & 7;
  if (cpu.mod !== 3) {
    if (op === 1) { grp9Cmpxchg8b16b(cpu); return; }
    if (op === 4 && cpu.rep === 0 && !cpu.pfx66) { xsavec(cpu); return; }
    if (op === 5 && cpu.rep === 0 && !cpu.pfx66) { xsaves(cpu); return; }
    if (op === 3 && cpu.rep === 0 && !cpu.pfx66) { xrstors(cpu); return; }
    if (op === 6) {
      if (cpu.rep === REP_E) { vmxon(cpu); return; }
      if (cpu.rep === REP_NONE) { if (cpu.pfx66) vmclear(cpu); else vmptrld(cpu); return; }
    }
    if (op === 7 && cpu.rep === REP_NONE && !cpu.pfx66) { vmptrst(cpu); return; }
    cpu.ud();
  }
  if (op === 7 && cpu.rep === REP_E) {
    if ((cpu.profile.leaf7Ecx & F7C_RDPID) === 0) cpu.ud();
    if (cpu.vmx.nonRoot) interceptRdpid(cpu); // #UD without "enable RDTSCP" (SDM Vol. 3C §25.3)
    const aux = msrGet64(cpu, MSR_TSC_AUX, 0, 0);
    cpu.setRegSz(cpu.rm, cpu.code64 ? 8 : 4, aux, 0);
    return;
  }
  cpu.ud();
}

/**
 * 66 0F 38 82 INVPCID r, m128 (SDM Vol. 2A INVPCID): CPL 0; type 0 individual address,
 * 1 single context, 2 all incl. globals, 3 all but globals. The TLB is untagged and only
 * holds the current context, so type 0 drops one page and the others flush it all.
 */
function invpcid(cpu: Cpu): void {
  if (!cpu.pfx66 || (cpu.profile.leaf7Ebx & F7B_INVPCID) === 0 || cpu.v86) cpu.ud();
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  cpu.requireCpl0();
  if (cpu.vmx.nonRoot) interceptInvpcid(cpu); // #UD or VM exit (SDM Vol. 3C §25.3)
  const typeLo = cpu.r[cpu.reg << 1]!;
  const typeHi = cpu.code64 ? cpu.r[(cpu.reg << 1) + 1]! : 0;
  const lin = cpu.eaLin(16, false);
  const d0 = cpu.rd32(lin), d1 = cpu.rd32(lin + 4);
  const aLo = cpu.rd32(lin + 8), aHi = cpu.rd32(lin + 12);
  if (typeHi !== 0 || typeLo < 0 || typeLo > 3) cpu.gp(0);
  if ((d0 & ~0xfff) !== 0 || d1 !== 0) cpu.gp(0); // descriptor bits 63:12 reserved
  const pcid = d0 & 0xfff;
  if (typeLo <= 1 && pcid !== 0 && (cpu.cr4 & CR4_PCIDE) === 0) cpu.gp(0);
  if (typeLo === 0) {
    if (!isCanonical(cpu, aHi)) cpu.gp(0);
    cpu.invalidatePage(aHi * TWO32 + (aLo >>> 0));
    return;
  }
  cpu.flushTlb();
}

/** UD0 (0F FF /r) and UD1 (0F B9 /r) consume their ModRM before raising #UD. */
function udModrm(cpu: Cpu): void {
  cpu.decodeModrm(0);
  cpu.ud();
}

export function installSystem(t: Handler[]): void {
  installCrDr(t);
  installDescriptorTables(t);
  def(t, 0x101, group7);
  def(t, 0x108, invdWbinvd);
  def(t, 0x109, invdWbinvd);
  def(t, 0x10b, (cpu) => cpu.ud()); // UD2
  def(t, 0x1b9, udModrm);           // UD1
  def(t, 0x1ff, udModrm);           // UD0
  def(t, 0x130, wrmsrOp);
  def(t, 0x131, rdtsc);
  def(t, 0x132, rdmsrOp);
  def(t, 0x133, rdpmc);
  def(t, 0x1a2, cpuid);
  def(t, 0x1ae, group15);
  def(t, 0x1c7, group9);
  def(t, 0x282, invpcid);
  // VMX: NP 0F 78 VMREAD, NP 0F 79 VMWRITE, 66 0F 38 80 INVEPT, 66 0F 38 81 INVVPID
  def(t, 0x178, (cpu) => { cpu.decodeModrm(0); vmread(cpu); });
  def(t, 0x179, (cpu) => { cpu.decodeModrm(0); vmwrite(cpu); });
  def(t, 0x280, (cpu) => { cpu.decodeModrm(0); invept(cpu); });
  def(t, 0x281, (cpu) => { cpu.decodeModrm(0); invvpid(cpu); });
}
