/**
 * Model-specific registers: RDMSR/WRMSR semantics (SDM Vol. 4, "Architectural MSRs", and
 * Vol. 3A §2.2.1 for EFER). `rdmsr` returns the low dword and leaves the high dword in
 * cpu.hi; `wrmsr` takes both halves. An MSR the profile does not have, a reserved bit set,
 * or a write to a read-only MSR raises #GP(0), as on hardware.
 *
 * Storage (one representation, used by every family):
 *   cpu.msrs.get(index) is the MSR's value as ONE JS number, `hi * 2^32 + (lo >>> 0)` with
 *   hi taken as a signed int32. That is exactly the representation RIP and segment bases use,
 *   so a canonical address (LSTAR, CSTAR, SYSENTER_EIP/ESP, KERNEL_GS_BASE) reads back as
 *   the same signed number the control family jumps to, and 32-bit MSRs (SYSENTER_CS, FMASK,
 *   TSC_AUX) are plain non-negative numbers. The number is exact whenever |hi| < 2^21.
 *   For MSRs whose high half can be wider (STAR, PAT, MTRRs...), the exact halves are also
 *   kept under the keys index + MSR_LO_KEY / index + MSR_HI_KEY; use msrGet64() (lo; hi in
 *   cpu.hi) to read any MSR exactly. STAR's selectors: msrGet64(cpu, MSR_STAR, 0, 0) then
 *   cpu.hi & 0xffff = SYSCALL CS, cpu.hi >>> 16 = SYSRET CS.
 * Special MSRs live in their architectural home instead: TSC (tscOffset, tsc.ts), EFER
 * (cpu.efer), FS/GS base (cpu.segBase).
 */
import type { Cpu } from './cpu.js';
import { readTsc, writeTsc, addTscOffsetNumber } from './tsc.js';
import { isLapicMsr } from './platform.js';
import { vmxMsrRead } from './vmx/capabilities.js';
import {
  FS, GS, CR0_PG, EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE,
  MSR_TSC, MSR_APIC_BASE, MSR_FEATURE_CONTROL, MSR_TSC_ADJUST, MSR_SYSENTER_CS, MSR_SYSENTER_ESP,
  MSR_SYSENTER_EIP, MSR_PAT, MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK, MSR_FS_BASE,
  MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_TSC_AUX,
} from './regs.js';
import {
  FXD_NX, FXD_RDTSCP, FXD_SYSCALL, F7C_RDPID, F1D_MTRR, F7D_SPEC_CTRL, F7D_STIBP, F7D_ARCH_CAP, F7D_SSBD,
  F7B_TSC_ADJUST, isAmd, F1C_XSAVE, XSAVE_SUB1_EAX, XD1_XSAVES, MSR_IA32_XSS, XSS_SUPPORTED,
} from './profile.js';

const TWO32 = 4294967296;
export const MSR_LO_KEY = 2 ** 33, MSR_HI_KEY = 2 ** 34;

// Further architectural MSR indices (SDM Vol. 4 Table 2-2).
export const MSR_PLATFORM_ID = 0x17, MSR_SPEC_CTRL = 0x48, MSR_PRED_CMD = 0x49;
export const MSR_BIOS_SIGN_ID = 0x8b, MSR_PLATFORM_INFO = 0xce, MSR_MTRRCAP = 0xfe;
export const MSR_ARCH_CAPABILITIES = 0x10a, MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a;
export const MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_PHYS_BASE0 = 0x200, MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_VMX_BASIC = 0x480, MSR_VMX_LAST = 0x491;


// APIC base (SDM Vol. 3A §10.4.4): bit 8 BSP (read-only here), bit 11 global enable.
const APIC_BSP = 1 << 8, APIC_EN = 1 << 11;
/** IA32_FEATURE_CONTROL: bit 0 lock, bit 2 VMX outside SMX (SDM Vol. 3C §23.7). */
const FC_LOCK = 1, FC_VMX_OUTSIDE_SMX = 4;
/**
 * IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2): writable bits 0 fast strings, 3 TCC, 7 perfmon
 * available, 11 BTS unavailable, 12 PEBS unavailable, 16 EIST, 18 MONITOR FSM, 22 limit
 * CPUID maxval, 23 xTPR disable (low dword) and 34 XD disable (bit 2 of the high dword).
 * Bit 22 and 34 are stored only: CPUID is not yet limited by them (documented gap).
 */
const MISC_LO_MASK = 0x00c51889, MISC_HI_MASK = 0x4;
/** Reset value: fast strings, BTS/PEBS unavailable, and bit 18 (MONITOR/MWAIT enabled, src/cpu/monitor.ts). */
export const MISC_ENABLE_DEFAULT = 1 | (1 << 11) | (1 << 12) | (1 << 18);
const MISC_DEFAULT = MISC_ENABLE_DEFAULT;
/** PAT at reset: WB WT UC- UC WB WT UC- UC (SDM Vol. 3A §11.12.4). */
const PAT_DEFAULT_LO = 0x00070406, PAT_DEFAULT_HI = 0x00070406;
/** MTRRcap: 8 variable ranges, fixed ranges, write-combining (SDM Vol. 3A §11.11.1). */
const MTRR_VCNT = 8, MTRRCAP = MTRR_VCNT | (1 << 8) | (1 << 10);
/** IA32_ARCH_CAPABILITIES: RDCL_NO, IBRS_ALL, SKIP_L1DFL_VMENTRY, MDS_NO, PSCHANGE_MC_NO, TAA_NO. */
const ARCH_CAP = 1 | 2 | 8 | 32 | 64 | 256;
/** Microcode revision reported in IA32_BIOS_SIGN_ID[63:32]. */
const MICROCODE_REV = 0x1;

// =======================================================================================
// Storage helpers
// =======================================================================================

/** Stores a 64-bit MSR value (see the file comment for the representation). */
export function msrSet64(cpu: Cpu, index: number, lo: number, hi: number): void {
  cpu.msrs.set(index, (hi | 0) * TWO32 + (lo >>> 0));
  cpu.msrs.set(index + MSR_LO_KEY, lo | 0);
  cpu.msrs.set(index + MSR_HI_KEY, hi | 0);
}

/** Reads a stored MSR exactly: returns lo, hi in cpu.hi; the defaults when never written. */
export function msrGet64(cpu: Cpu, index: number, defLo: number, defHi: number): number {
  const v = cpu.msrs.get(index);
  if (v === undefined) { cpu.hi = defHi | 0; return defLo | 0; }
  const lo = cpu.msrs.get(index + MSR_LO_KEY), hi = cpu.msrs.get(index + MSR_HI_KEY);
  // the exact halves are trusted only if nobody stored a plain number since
  if (lo !== undefined && hi !== undefined && hi * TWO32 + (lo >>> 0) === v) { cpu.hi = hi; return lo; }
  const h = Math.floor(v / TWO32);
  cpu.hi = h | 0;
  return (v - h * TWO32) | 0;
}

/** Splits a signed number into lo (returned) and hi (cpu.hi). */
function split(cpu: Cpu, v: number): number {
  const h = Math.floor(v / TWO32);
  cpu.hi = h | 0;
  return (v - h * TWO32) | 0;
}

/** Canonical for the profile's linear-address width (SDM Vol. 1 §3.3.7.1). */
export function isCanonical(cpu: Cpu, hi: number): boolean {
  const s = hi >> (cpu.profile.linearAddrBits - 33);
  return s === 0 || s === -1;
}

/** Memory types valid in PAT and MTRRs: UC WC WT WP WB (0 1 4 5 6); PAT also UC- (7). */
function validType(t: number, pat: boolean): boolean {
  return t === 0 || t === 1 || t === 4 || t === 5 || t === 6 || (pat && t === 7);
}
function validTypes8(lo: number, hi: number, pat: boolean): boolean {
  for (let k = 0; k < 4; k++) {
    if (!validType((lo >>> (8 * k)) & 0xff, pat) || !validType((hi >>> (8 * k)) & 0xff, pat)) return false;
  }
  return true;
}

/** Physical-address bits above MAXPHYADDR in an MSR's high dword (MTRR/APIC base). */
function hiPhysReserved(cpu: Cpu): number {
  return ~((1 << (cpu.profile.physAddrBits - 32)) - 1);
}

function isFixedMtrr(i: number): boolean {
  return i === 0x250 || i === 0x258 || i === 0x259 || (i >= 0x268 && i <= 0x26f);
}
function isVarMtrr(i: number): boolean {
  return i >= MSR_MTRR_PHYS_BASE0 && i < MSR_MTRR_PHYS_BASE0 + 2 * MTRR_VCNT;
}

function hasMtrr(cpu: Cpu): boolean { return (cpu.profile.leaf1Edx & F1D_MTRR) !== 0; }
/** IA32_XSS exists when CPUID (0DH,1):EAX[3] reports XSAVES/XRSTORS (SDM Vol. 4 Table 2-2). */
function hasXss(cpu: Cpu): boolean { return (cpu.profile.leaf1Ecx & F1C_XSAVE) !== 0 && (XSAVE_SUB1_EAX & XD1_XSAVES) !== 0; }
function hasTscAux(cpu: Cpu): boolean {
  return (cpu.profile.ext1Edx & FXD_RDTSCP) !== 0 || (cpu.profile.leaf7Ecx & F7C_RDPID) !== 0;
}

/**
 * MSRs an AMD CPU does not have (AMD APM Vol. 2 Appendix A lists its MSRs; these are
 * Intel's): IA32_PLATFORM_ID, IA32_FEATURE_CONTROL, MSR_PLATFORM_INFO, IA32_MISC_ENABLE,
 * and IA32_TSC_ADJUST unless CPUID.7:EBX advertises it. They #GP like any absent MSR.
 */
function intelOnlyMsr(cpu: Cpu, index: number): boolean {
  if (index === MSR_TSC_ADJUST) return (cpu.profile.leaf7Ebx & F7B_TSC_ADJUST) === 0;
  if (!isAmd(cpu.profile)) return false;
  return index === MSR_PLATFORM_ID || index === MSR_FEATURE_CONTROL || index === MSR_PLATFORM_INFO ||
    index === MSR_MISC_ENABLE;
}

/**
 * AMD's four legacy performance counters, PerfEvtSel0-3 (C001_0000h-C001_0003h) and
 * PerfCtr0-3 (C001_0004h-C001_0007h), present on every AMD64 CPU whatever CPUID says
 * (AMD APM Vol. 2 §13.2.1). They hold what is written; no event is counted yet (gap).
 */
export const MSR_K7_EVNTSEL0 = 0xc0010000, MSR_K7_PERFCTR0 = 0xc0010004;
function isAmdLegacyPmc(cpu: Cpu, index: number): boolean {
  return index >= MSR_K7_EVNTSEL0 && index < MSR_K7_PERFCTR0 + 4 && isAmd(cpu.profile);
}

/** IA32_APIC_BASE reset value: 0xFEE00000, enabled, BSP on APIC 0. */
function apicBaseDefault(cpu: Cpu): number {
  return (0xfee00000 | APIC_EN | (cpu.apicId === 0 ? APIC_BSP : 0)) | 0;
}

// =======================================================================================
// RDMSR
// =======================================================================================

/** RDMSR: returns EAX, leaves EDX in cpu.hi; #GP(0) for an MSR this CPU does not have. */
export function rdmsr(cpu: Cpu, index: number): number {
  index >>>= 0;
  const p = cpu.profile;
  const lapic = cpu.lapic;
  if (lapic !== null && isLapicMsr(index)) {
    // IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC MSRs belong to the local APIC
    if (!lapic.readMsr(index)) return cpu.gp(0);
    cpu.hi = lapic.msrHi | 0;
    return lapic.msrLo | 0;
  }
  if (intelOnlyMsr(cpu, index)) return cpu.gp(0);
  switch (index) {
    case MSR_TSC: return readTsc(cpu); // exact 64-bit value (tsc.ts)
    case MSR_TSC_ADJUST: return split(cpu, cpu.msrs.get(MSR_TSC_ADJUST) ?? 0);
    case MSR_PLATFORM_ID: cpu.hi = 0; return 0;
    case MSR_APIC_BASE: return msrGet64(cpu, index, apicBaseDefault(cpu), 0);
    case MSR_FEATURE_CONTROL: cpu.hi = 0; return FC_LOCK | (cpu.exposeVmx ? FC_VMX_OUTSIDE_SMX : 0);
    case MSR_BIOS_SIGN_ID: cpu.hi = MICROCODE_REV; return 0;
    case MSR_PLATFORM_INFO: cpu.hi = 0; return (Math.round(p.tscHz / 100_000_000) & 0xff) << 8;
    case MSR_MISC_ENABLE: return msrGet64(cpu, index, MISC_DEFAULT, 0);
    case MSR_MCG_CAP: cpu.hi = 0; return 0; // no banks: nothing to report
    case MSR_MCG_STATUS: return msrGet64(cpu, index, 0, 0);
    case MSR_SYSENTER_CS: return msrGet64(cpu, index, 0, 0);
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP: return msrGet64(cpu, index, 0, 0);
    case MSR_PAT: return msrGet64(cpu, index, PAT_DEFAULT_LO, PAT_DEFAULT_HI);
    case MSR_EFER: cpu.hi = 0; return cpu.efer;
    case MSR_SPEC_CTRL:
      if ((p.leaf7Edx & (F7D_SPEC_CTRL | F7D_STIBP | F7D_SSBD)) === 0) break;
      return msrGet64(cpu, index, 0, 0);
    case MSR_ARCH_CAPABILITIES:
      if ((p.leaf7Edx & F7D_ARCH_CAP) === 0) break;
      cpu.hi = 0; return ARCH_CAP;
    case MSR_MTRRCAP: if (!hasMtrr(cpu)) break; cpu.hi = 0; return MTRRCAP;
    case MSR_MTRR_DEF_TYPE: if (!hasMtrr(cpu)) break; return msrGet64(cpu, index, 0, 0);
    case MSR_STAR: case MSR_LSTAR: case MSR_CSTAR: case MSR_FMASK: case MSR_KERNEL_GS_BASE:
      if ((p.ext1Edx & FXD_SYSCALL) === 0 && index !== MSR_KERNEL_GS_BASE) break;
      return msrGet64(cpu, index, 0, 0);
    case MSR_FS_BASE: return split(cpu, cpu.segBase[FS]!);
    case MSR_GS_BASE: return split(cpu, cpu.segBase[GS]!);
    case MSR_TSC_AUX: if (!hasTscAux(cpu)) break; return msrGet64(cpu, index, 0, 0);
    case MSR_IA32_XSS: if (!hasXss(cpu)) break; return msrGet64(cpu, index, 0, 0);
    case MSR_IA32_DEBUGCTL: return msrGet64(cpu, index, 0, 0);
    default:
      if (isFixedMtrr(index) || isVarMtrr(index)) { if (!hasMtrr(cpu)) break; return msrGet64(cpu, index, 0, 0); }
      if (isAmdLegacyPmc(cpu, index)) return msrGet64(cpu, index, 0, 0);
      if (index >= MSR_VMX_BASIC && index <= MSR_VMX_LAST) {
        // the capability MSRs (vmx/capabilities.ts); #GP when VMX is not exposed or the MSR is absent
        const v = vmxMsrRead(cpu, index);
        if (v !== null) return v;
      }
      break;
  }
  return cpu.gp(0);
}

// =======================================================================================
// WRMSR
// =======================================================================================

/** WRMSR: EDX:EAX → MSR[index]; #GP(0) on unknown MSRs, reserved bits, read-only MSRs. */
/** IA32_DEBUGCTL (SDM Vol. 4 Table 2-2). */
const MSR_IA32_DEBUGCTL = 0x1d9;

export function wrmsr(cpu: Cpu, index: number, lo: number, hi: number): void {
  index >>>= 0; lo |= 0; hi |= 0;
  const p = cpu.profile;
  const lapic = cpu.lapic;
  if (lapic !== null && isLapicMsr(index)) {
    if (!lapic.writeMsr(index, lo, hi)) cpu.gp(0);
    return;
  }
  if (intelOnlyMsr(cpu, index)) cpu.gp(0);
  switch (index) {
    case MSR_TSC: {
      // SDM Vol. 3B §18.17.3: a TSC write moves IA32_TSC_ADJUST by the same amount
      const delta = writeTsc(cpu, lo, hi);
      cpu.msrs.set(MSR_TSC_ADJUST, (cpu.msrs.get(MSR_TSC_ADJUST) ?? 0) + delta);
      return;
    }
    case MSR_TSC_ADJUST: {
      const v = hi * TWO32 + (lo >>> 0);
      const old = cpu.msrs.get(MSR_TSC_ADJUST) ?? 0;
      addTscOffsetNumber(cpu, v - old);
      cpu.msrs.set(MSR_TSC_ADJUST, v);
      return;
    }
    case MSR_APIC_BASE: {
      // bits 7:0, 9, 10 (x2APIC not offered) and above MAXPHYADDR are reserved
      if ((lo & 0x6ff) !== 0 || (hi & hiPhysReserved(cpu)) !== 0) break;
      const bsp = apicBaseDefault(cpu) & APIC_BSP; // BSP is fixed by the platform
      msrSet64(cpu, index, (lo & ~APIC_BSP) | bsp, hi);
      return;
    }
    case MSR_FEATURE_CONTROL: break; // locked by the "BIOS": every write #GPs (SDM Vol. 3C §23.7)
    case MSR_BIOS_SIGN_ID: return; // writing triggers a microcode-revision update; nothing to do
    case MSR_MISC_ENABLE:
      if ((lo & ~MISC_LO_MASK) !== 0 || (hi & ~MISC_HI_MASK) !== 0) break;
      msrSet64(cpu, index, lo, hi);
      return;
    case MSR_MCG_STATUS:
      if ((lo & ~7) !== 0 || hi !== 0) break; // RIPV, EIPV, MCIP
      msrSet64(cpu, index, lo, 0);
      return;
    case MSR_SYSENTER_CS: msrSet64(cpu, index, lo, 0); return; // 32-bit MSR: EDX ignored
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP: case MSR_LSTAR: case MSR_CSTAR: case MSR_KERNEL_GS_BASE:
      if (index !== MSR_SYSENTER_ESP && index !== MSR_SYSENTER_EIP && index !== MSR_KERNEL_GS_BASE && (p.ext1Edx & FXD_SYSCALL) === 0) break;
      if (!isCanonical(cpu, hi)) break;
      msrSet64(cpu, index, lo, hi);
      return;
    case MSR_STAR:
      if ((p.ext1Edx & FXD_SYSCALL) === 0) break;
      msrSet64(cpu, index, lo, hi);
      return;
    case MSR_FMASK:
      if ((p.ext1Edx & FXD_SYSCALL) === 0) break;
      msrSet64(cpu, index, lo, 0); // bits 63:32 reserved and ignored
      return;
    case MSR_FS_BASE: case MSR_GS_BASE:
      if (!isCanonical(cpu, hi)) break;
      cpu.segBase[index === MSR_FS_BASE ? FS : GS] = hi * TWO32 + (lo >>> 0);
      return;
    case MSR_IA32_XSS:
      // only the supervisor components implemented may be enabled (SDM Vol. 1 §13.3)
      if (!hasXss(cpu) || (lo & ~XSS_SUPPORTED) !== 0 || hi !== 0) break;
      msrSet64(cpu, index, lo, 0);
      return;
    case MSR_TSC_AUX:
      if (!hasTscAux(cpu) || hi !== 0) break;
      msrSet64(cpu, index, lo, 0);
      return;
    case MSR_PAT:
      if (!validTypes8(lo, hi, true)) break;
      msrSet64(cpu, index, lo, hi);
      return;
    case MSR_EFER: writeEfer(cpu, lo, hi); return;
    case MSR_IA32_DEBUGCTL:
      // IA32_DEBUGCTL (SDM Vol. 3B §17.4.1): LBR (0) and BTF (1) are kept (VMX saves and
      // loads them, vmx/guest-state.ts) but have no effect: no branch records, TF steps
      // instructions; every other bit #GPs
      if ((lo & ~3) !== 0 || hi !== 0) break;
      msrSet64(cpu, index, lo, 0);
      return;
    case MSR_SPEC_CTRL: {
      if ((p.leaf7Edx & (F7D_SPEC_CTRL | F7D_STIBP | F7D_SSBD)) === 0) break;
      const ok = ((p.leaf7Edx & F7D_SPEC_CTRL) !== 0 ? 1 : 0) | ((p.leaf7Edx & F7D_STIBP) !== 0 ? 2 : 0) |
        ((p.leaf7Edx & F7D_SSBD) !== 0 ? 4 : 0);
      if ((lo & ~ok) !== 0 || hi !== 0) break;
      msrSet64(cpu, index, lo, 0);
      return;
    }
    case MSR_PRED_CMD: // write-only IBPB: a barrier with nothing to flush in an emulator
      if ((p.leaf7Edx & F7D_SPEC_CTRL) === 0 || (lo & ~1) !== 0 || hi !== 0) break;
      return;
    case MSR_MTRR_DEF_TYPE:
      // bits 7:0 default type, 10 FE, 11 E; the rest reserved (SDM Vol. 3A §11.11.2.1)
      if (!hasMtrr(cpu) || (lo & ~0xcff) !== 0 || hi !== 0 || !validType(lo & 0xff, false)) break;
      msrSet64(cpu, index, lo, 0);
      return;
    default:
      if (isFixedMtrr(index)) {
        if (!hasMtrr(cpu) || !validTypes8(lo, hi, false)) break;
        msrSet64(cpu, index, lo, hi);
        return;
      }
      if (isVarMtrr(index)) {
        if (!hasMtrr(cpu) || (hi & hiPhysReserved(cpu)) !== 0) break;
        if ((index & 1) === 0) { if ((lo & 0xf00) !== 0 || !validType(lo & 0xff, false)) break; } // PHYSBASE
        else if ((lo & 0x7ff) !== 0) break; // PHYSMASK: bit 11 valid, 10:0 reserved
        msrSet64(cpu, index, lo, hi);
        return;
      }
      if (isAmdLegacyPmc(cpu, index)) {
        if (index < MSR_K7_PERFCTR0) { if ((hi & ~0x3ff) !== 0) break; msrSet64(cpu, index, lo, hi); } // EVNTSEL: 63:42 reserved
        else msrSet64(cpu, index, lo, hi & 0xffff); // 48-bit counter
        return;
      }
      if (index >= MSR_VMX_BASIC && index <= MSR_VMX_LAST) break; // read-only capability MSRs
      break;
  }
  cpu.gp(0);
}

/**
 * IA32_EFER (SDM Vol. 3A §2.2.1, §9.8.5): SCE, LME, NXE writable (NXE only with NX in
 * CPUID); LMA is read-only and keeps its value; reserved bits and changing LME while
 * paging is enabled #GP. NXE changes what the TLB may cache, so the TLB is flushed.
 */
export function writeEfer(cpu: Cpu, lo: number, hi: number): void {
  const p = cpu.profile;
  let ok = EFER_LMA;
  if ((p.ext1Edx & FXD_SYSCALL) !== 0) ok |= EFER_SCE;
  if ((p.ext1Edx & (1 << 29)) !== 0) ok |= EFER_LME;
  if ((p.ext1Edx & FXD_NX) !== 0) ok |= EFER_NXE;
  if ((lo & ~ok) !== 0 || hi !== 0) cpu.gp(0);
  if ((cpu.cr0 & CR0_PG) !== 0 && ((lo ^ cpu.efer) & EFER_LME) !== 0) cpu.gp(0);
  const nv = (lo & ~EFER_LMA) | (cpu.efer & EFER_LMA);
  const changed = nv ^ cpu.efer;
  cpu.efer = nv;
  if ((changed & EFER_NXE) !== 0) cpu.flushTlb();
}
