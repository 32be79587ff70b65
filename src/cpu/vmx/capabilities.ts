/**
 * The VMX capability MSRs (SDM Vol. 3C Appendix A), all built from ONE description of what
 * Nestvisor's VT-x implements: VMX_FEATURES below. Issue 5: "advertise nothing that is not
 * implemented". A control is reported allowed-1 only when its row says `impl: true`; the
 * reserved "default1" controls are reported must-be-1 (Appendix A.2), and in the TRUE_
 * MSRs a default1 control that has a real function (CR3-load/store exiting, save/load debug
 * controls) is reported allowed-0 only once its 0-setting is implemented.
 *
 * What becomes allowed when (the `when` column; flip `impl` in the commit that implements
 * the behaviour, and only then):
 *   - slice 2 "entry/exit core": VMLAUNCH/VMRESUME, guest-state load, host-state load on
 *     exit, basic exit reasons. Then: host address-space size, IA-32e mode guest,
 *     save/load debug controls (and their 0-settings), load/save IA32_EFER and IA32_PAT,
 *     CR3-load/store exiting 0-settings with MISC CR3-target count 4, HLT/CPUID exits,
 *     MISC "store LMA" and activity state HLT.
 *   - slice 3 "exit reasons": external-interrupt/NMI exiting, ack-interrupt-on-exit,
 *     interrupt/NMI-window exiting, virtual NMIs, TSC offsetting, RDTSC/RDPMC/INVLPG/MWAIT/
 *     MONITOR/PAUSE/MOV-DR/CR8 exiting, I/O exiting and bitmaps (with INS/OUTS
 *     instruction information, IA32_VMX_BASIC bit 54), MSR bitmaps, monitor trap flag,
 *     descriptor-table exiting, WBINVD exiting, RDTSCP, INVPCID, XSAVES, the
 *     preemption timer, TPR shadow, event injection incl. zero-length software events.
 *   - slice 4 "EPT/VPID": enable EPT, unrestricted guest, VPID, INVEPT/INVVPID and the
 *     EPT_VPID_CAP bits, EPTP switching (VM functions).
 * Then DESIGN.md's "VMX profile real L1 hypervisors need" is fully offered.
 */
import type { Cpu } from '../cpu.js';
import type { CpuProfile } from '../profile.js';
import { F1D_VME, F1D_DE, F1D_PSE, F1D_PAE, F1D_MCE, F1D_PGE, F1D_FXSR, F1D_SSE, F1C_PCID, F1C_XSAVE,
  F7B_FSGSBASE, F7B_SMEP, F7B_SMAP, F7C_UMIP } from '../profile.js';
import { VMCS_REVISION_ID, VMCS_SIZE, VMCS_MAX_INDEX } from './vmcs-fields.js';
import { vmxState } from './vmx-state.js';

/** Capability MSR indices (SDM Vol. 4 Table 2-2; Vol. 3C Appendix A). */
export const MSR_VMX_BASIC = 0x480, MSR_VMX_PINBASED_CTLS = 0x481, MSR_VMX_PROCBASED_CTLS = 0x482;
export const MSR_VMX_EXIT_CTLS = 0x483, MSR_VMX_ENTRY_CTLS = 0x484, MSR_VMX_MISC = 0x485;
export const MSR_VMX_CR0_FIXED0 = 0x486, MSR_VMX_CR0_FIXED1 = 0x487, MSR_VMX_CR4_FIXED0 = 0x488;
export const MSR_VMX_CR4_FIXED1 = 0x489, MSR_VMX_VMCS_ENUM = 0x48a, MSR_VMX_PROCBASED_CTLS2 = 0x48b;
export const MSR_VMX_EPT_VPID_CAP = 0x48c, MSR_VMX_TRUE_PINBASED_CTLS = 0x48d;
export const MSR_VMX_TRUE_PROCBASED_CTLS = 0x48e, MSR_VMX_TRUE_EXIT_CTLS = 0x48f;
export const MSR_VMX_TRUE_ENTRY_CTLS = 0x490, MSR_VMX_VMFUNC = 0x491;
const FIRST = MSR_VMX_BASIC, LAST = MSR_VMX_VMFUNC;

export type FeatureKind = 'pin' | 'proc' | 'proc2' | 'exit' | 'entry' | 'misc' | 'ept' | 'vmfunc' | 'basic';

export interface VmxFeature {
  readonly kind: FeatureKind;
  /** Bit in its control word / capability MSR (0..63). */
  readonly bit: number;
  readonly name: string;
  /** Reserved-as-1 control of the original VMX (SDM Vol. 3C Appendix A.2-A.5). */
  readonly default1?: boolean;
  /** A default1 bit with no function at all (never allowed-0, even in the TRUE_ MSRs). */
  readonly reserved?: boolean;
  /** Implemented now: only then is it advertised. */
  readonly impl: boolean;
  /** Where it gets implemented (see the file comment). */
  readonly when: string;
}

const S2 = 'slice 2 entry/exit core', S3 = 'slice 3 exit reasons', S4 = 'slice 4 EPT/VPID', NEVER = 'not planned';
function c(kind: FeatureKind, bit: number, name: string, impl: boolean, when: string, default1 = false): VmxFeature {
  return { kind, bit, name, impl, when, default1 };
}
/** Reserved default1 bits: no function, always must-be-1 (the 'when' is irrelevant). */
function d1(kind: FeatureKind, bits: number[]): VmxFeature[] {
  return bits.map((b) => ({ ...c(kind, b, `reserved default1 bit ${b}`, false, 'reserved', true), reserved: true }));
}

/** THE description. Bit numbers: SDM Vol. 3C Tables 24-5, 24-6, 24-7, 24-13, 24-15, A.6, A.10. */
export const VMX_FEATURES: readonly VmxFeature[] = [
  // Pin-based VM-execution controls (Table 24-5); default1: 1, 2, 4
  ...d1('pin', [1, 2, 4]),
  c('pin', 0, 'external-interrupt exiting', true, S3),
  c('pin', 3, 'NMI exiting', true, S3),
  c('pin', 5, 'virtual NMIs', true, S3),
  c('pin', 6, 'activate VMX-preemption timer', true, S3),
  c('pin', 7, 'process posted interrupts', false, NEVER),
  // Primary processor-based controls (Table 24-6); default1: 1, 4-6, 8, 13-16, 26
  ...d1('proc', [1, 4, 5, 6, 8, 13, 14, 26]),
  c('proc', 15, 'CR3-load exiting', true, S2, true),
  c('proc', 16, 'CR3-store exiting', true, S2, true),
  c('proc', 2, 'interrupt-window exiting', true, S3),
  c('proc', 3, 'use TSC offsetting', true, S3),
  c('proc', 7, 'HLT exiting', true, S2),
  c('proc', 9, 'INVLPG exiting', true, S3),
  c('proc', 10, 'MWAIT exiting', true, S3),
  c('proc', 11, 'RDPMC exiting', true, S3),
  c('proc', 12, 'RDTSC exiting', true, S3),
  c('proc', 17, 'activate tertiary controls', false, NEVER),
  c('proc', 19, 'CR8-load exiting', true, S3),
  c('proc', 20, 'CR8-store exiting', true, S3),
  c('proc', 21, 'use TPR shadow', true, S3),
  c('proc', 22, 'NMI-window exiting', true, S3),
  c('proc', 23, 'MOV-DR exiting', true, S3),
  c('proc', 24, 'unconditional I/O exiting', true, S3),
  c('proc', 25, 'use I/O bitmaps', true, S3),
  c('proc', 27, 'monitor trap flag', true, S3),
  c('proc', 28, 'use MSR bitmaps', true, S3),
  c('proc', 29, 'MONITOR exiting', true, S3),
  c('proc', 30, 'PAUSE exiting', true, S3),
  // bit 31 "activate secondary controls" is derived: allowed-1 iff any proc2 row is impl.
  // Secondary processor-based controls (Table 24-7)
  c('proc2', 0, 'virtualize APIC accesses', false, NEVER),
  c('proc2', 1, 'enable EPT', true, S4),
  c('proc2', 2, 'descriptor-table exiting', true, S3),
  c('proc2', 3, 'enable RDTSCP', true, S3),
  c('proc2', 4, 'virtualize x2APIC mode', false, NEVER),
  c('proc2', 5, 'enable VPID', true, S4),
  c('proc2', 6, 'WBINVD exiting', true, S3),
  c('proc2', 7, 'unrestricted guest', true, S4),
  c('proc2', 8, 'APIC-register virtualization', false, NEVER),
  c('proc2', 9, 'virtual-interrupt delivery', false, NEVER),
  c('proc2', 10, 'PAUSE-loop exiting', false, NEVER),
  c('proc2', 11, 'RDRAND exiting', false, NEVER),
  c('proc2', 12, 'enable INVPCID', true, S3),
  c('proc2', 13, 'enable VM functions', false, S4),
  c('proc2', 14, 'VMCS shadowing', false, NEVER),
  c('proc2', 16, 'RDSEED exiting', false, NEVER),
  c('proc2', 17, 'enable PML', false, NEVER),
  c('proc2', 18, 'EPT-violation #VE', false, NEVER),
  c('proc2', 20, 'enable XSAVES/XRSTORS', true, S3), // intercepts.ts interceptXsaves
  c('proc2', 25, 'use TSC scaling', false, NEVER),
  // Primary VM-exit controls (Table 24-13); default1: 0-8, 10, 11, 13, 14, 16, 17
  ...d1('exit', [0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 16, 17]),
  c('exit', 2, 'save debug controls', true, S2, true),
  c('exit', 9, 'host address-space size', true, S2),
  c('exit', 12, 'load IA32_PERF_GLOBAL_CTRL', false, NEVER),
  c('exit', 15, 'acknowledge interrupt on exit', true, S3),
  c('exit', 18, 'save IA32_PAT', true, S2),
  c('exit', 19, 'load IA32_PAT', true, S2),
  c('exit', 20, 'save IA32_EFER', true, S2),
  c('exit', 21, 'load IA32_EFER', true, S2),
  c('exit', 22, 'save VMX-preemption timer value', true, S3),
  // VM-entry controls (Table 24-15); default1: 0-8, 12
  ...d1('entry', [0, 1, 3, 4, 5, 6, 7, 8, 12]),
  c('entry', 2, 'load debug controls', true, S2, true),
  c('entry', 9, 'IA-32e mode guest', true, S2),
  c('entry', 10, 'entry to SMM', false, NEVER),
  c('entry', 11, 'deactivate dual-monitor treatment', false, NEVER),
  c('entry', 13, 'load IA32_PERF_GLOBAL_CTRL', false, NEVER),
  c('entry', 14, 'load IA32_PAT', true, S2),
  c('entry', 15, 'load IA32_EFER', true, S2),
  // IA32_VMX_MISC (Appendix A.6)
  c('misc', 5, 'VM exit stores EFER.LMA into IA-32e mode guest', true, S2),
  c('misc', 6, 'activity state HLT', true, S2),
  c('misc', 7, 'activity state shutdown', false, S3),
  c('misc', 8, 'activity state wait-for-SIPI', true, S3),
  c('misc', 29, 'VMWRITE to any field incl. VM-exit information', true, 'slice 1 (VMWRITE)'),
  c('misc', 30, 'injection of software events with instruction length 0', true, S3),
  // IA32_VMX_BASIC bit 54 (reported only with I/O exits, which must then fill the info)
  c('basic', 54, 'VM-exit instruction information for INS/OUTS', true, S3),
  // IA32_VMX_EPT_VPID_CAP (Appendix A.10): bits 0-31 EPT, 32-63 VPID
  c('ept', 0, 'EPT execute-only translations', true, S4),
  c('ept', 6, 'EPT page-walk length 4', true, S4),
  c('ept', 8, 'EPT paging structures UC', true, S4),
  c('ept', 14, 'EPT paging structures WB', true, S4),
  c('ept', 16, 'EPT 2-MByte pages', true, S4),
  c('ept', 17, 'EPT 1-GByte pages', true, S4),
  c('ept', 20, 'INVEPT', true, S4),
  c('ept', 21, 'EPT accessed and dirty flags', true, S4),
  c('ept', 25, 'INVEPT single-context', true, S4),
  c('ept', 26, 'INVEPT all-context', true, S4),
  c('ept', 32, 'INVVPID', true, S4),
  c('ept', 40, 'INVVPID individual-address', true, S4),
  c('ept', 41, 'INVVPID single-context', true, S4),
  c('ept', 42, 'INVVPID all-context', true, S4),
  c('ept', 43, 'INVVPID single-context-retaining-globals', true, S4),
  // IA32_VMX_VMFUNC (Appendix A.11)
  c('vmfunc', 0, 'EPTP switching', false, S4),
];

/** Control bits used by the VMX code, by name (SDM Vol. 3C Chapter 24 tables). */
export const PIN_EXT_INTR = 1 << 0, PIN_NMI = 1 << 3, PIN_VIRTUAL_NMIS = 1 << 5, PIN_PREEMPT_TIMER = 1 << 6, PIN_POSTED_INTR = 1 << 7;
export const PROC_INTR_WINDOW = 1 << 2, PROC_TSC_OFFSET = 1 << 3, PROC_HLT = 1 << 7, PROC_CR3_LOAD = 1 << 15, PROC_CR3_STORE = 1 << 16;
export const PROC_TERTIARY = 1 << 17, PROC_CR8_LOAD = 1 << 19, PROC_CR8_STORE = 1 << 20, PROC_TPR_SHADOW = 1 << 21;
export const PROC_NMI_WINDOW = 1 << 22, PROC_MOV_DR = 1 << 23, PROC_UNCOND_IO = 1 << 24, PROC_IO_BITMAPS = 1 << 25;
export const PROC_MTF = 1 << 27, PROC_MSR_BITMAPS = 1 << 28, PROC_SECONDARY = 1 << 31;
export const PROC2_VIRT_APIC = 1 << 0, PROC2_EPT = 1 << 1, PROC2_VIRT_X2APIC = 1 << 4, PROC2_VPID = 1 << 5;
export const PROC2_UNRESTRICTED = 1 << 7, PROC2_APIC_REG_VIRT = 1 << 8, PROC2_VID = 1 << 9, PROC2_VMFUNC = 1 << 13;
export const PROC2_SHADOW_VMCS = 1 << 14, PROC2_PML = 1 << 17, PROC2_EPT_VE = 1 << 18, PROC2_SPP = 1 << 23;
export const EXIT_SAVE_DEBUG = 1 << 2, EXIT_HOST_ADDR64 = 1 << 9, EXIT_LOAD_PERF = 1 << 12, EXIT_ACK_INTR = 1 << 15;
export const EXIT_SAVE_PAT = 1 << 18, EXIT_LOAD_PAT = 1 << 19, EXIT_SAVE_EFER = 1 << 20, EXIT_LOAD_EFER = 1 << 21;
export const EXIT_SAVE_PREEMPT = 1 << 22;
export const ENTRY_LOAD_DEBUG = 1 << 2, ENTRY_IA32E = 1 << 9, ENTRY_SMM = 1 << 10, ENTRY_DEACT_DUAL = 1 << 11;
export const ENTRY_LOAD_PERF = 1 << 13, ENTRY_LOAD_PAT = 1 << 14, ENTRY_LOAD_EFER = 1 << 15;
/** IA32_VMX_MISC / EPT_VPID_CAP bits used by the checks. */
export const MISC_ACT_HLT = 1 << 6, MISC_ACT_SHUTDOWN = 1 << 7, MISC_ACT_SIPI = 1 << 8;
export const MISC_VMWRITE_ANY = 1 << 29, MISC_ZERO_LEN_INJ = 1 << 30;
export const EPTCAP_WALK4 = 1 << 6, EPTCAP_UC = 1 << 8, EPTCAP_WB = 1 << 14, EPTCAP_AD = 1 << 21;
/** CR0 bits fixed to 1 in VMX operation: PE, NE, PG (SDM Vol. 3C Appendix A.7). */
export const CR0_FIXED0 = 0x80000021 | 0;
/** CR4.VMXE must stay 1 in VMX operation (Appendix A.8). */
export const CR4_FIXED0 = 0x2000;

/**
 * The capability values of one CPU: each MSR as lo/hi halves, plus the control words the
 * VM-entry checks use (from the TRUE_ MSRs, which IA32_VMX_BASIC bit 55 makes
 * authoritative: SDM Vol. 3C Appendix A.2).
 */
export interface VmxCaps {
  readonly lo: Int32Array; // indexed by msr - 0x480
  readonly hi: Int32Array;
  /** Whether an index exists at all (PROCBASED2, EPT_VPID_CAP, VMFUNC are conditional). */
  readonly exists: Uint8Array;
  /** Must-be-1 (allowed-0 = 0 means "must be 1") and may-be-1 masks per control word. */
  readonly pin0: number; readonly pin1: number;
  readonly proc0: number; readonly proc1: number;
  readonly proc20: number; readonly proc21: number;
  readonly exit0: number; readonly exit1: number;
  readonly entry0: number; readonly entry1: number;
  readonly misc: number;
  readonly cr3Targets: number;
  readonly cr0Fixed0: number; readonly cr0Fixed1: number;
  readonly cr4Fixed0: number; readonly cr4Fixed1: number;
  /** IA32_VMX_EPT_VPID_CAP halves. */
  readonly eptCap: number; readonly vpidCap: number;
  readonly vmfunc: number;
  readonly physAddrBits: number;
  readonly linearAddrBits: number;
}

/** CR4 bits this CPU supports (IA32_VMX_CR4_FIXED1): the profile's features, plus VMXE. */
export function cr4SupportedBits(p: CpuProfile): number {
  // Also the MOV-to-CR4 reserved-bit mask: ops/crdr.ts cr4ValidMask is this minus VMXE when VMX is hidden.
  let m = (1 << 2) | (1 << 8) | (1 << 13); // TSD, PCE, VMXE
  if (p.leaf1Edx & F1D_VME) m |= (1 << 0) | (1 << 1);
  if (p.leaf1Edx & F1D_DE) m |= 1 << 3;
  if (p.leaf1Edx & F1D_PSE) m |= 1 << 4;
  if (p.leaf1Edx & F1D_PAE) m |= 1 << 5;
  if (p.leaf1Edx & F1D_MCE) m |= 1 << 6;
  if (p.leaf1Edx & F1D_PGE) m |= 1 << 7;
  if (p.leaf1Edx & F1D_FXSR) m |= 1 << 9;
  if (p.leaf1Edx & F1D_SSE) m |= 1 << 10;
  if (p.leaf7Ecx & F7C_UMIP) m |= 1 << 11;
  if (p.leaf7Ebx & F7B_FSGSBASE) m |= 1 << 16;
  if (p.leaf1Ecx & F1C_PCID) m |= 1 << 17;
  if (p.leaf1Ecx & F1C_XSAVE) m |= 1 << 18;
  if (p.leaf7Ebx & F7B_SMEP) m |= 1 << 20;
  if (p.leaf7Ebx & F7B_SMAP) m |= 1 << 21;
  return m;
}

/**
 * Builds the capability MSRs from the description. `implemented` decides which rows count
 * as implemented (default: the `impl` column); tests pass `() => true` to check entry
 * logic against a full-featured profile.
 */
export function buildVmxCaps(p: CpuProfile, implemented: (f: VmxFeature) => boolean = (f) => f.impl): VmxCaps {
  const must = { pin: 0, proc: 0, proc2: 0, exit: 0, entry: 0 } as Record<string, number>;
  const may = { pin: 0, proc: 0, proc2: 0, exit: 0, entry: 0 } as Record<string, number>;
  const trueMust = { pin: 0, proc: 0, proc2: 0, exit: 0, entry: 0 } as Record<string, number>;
  let misc = 0, basicHi = 0, eptLo = 0, eptHi = 0, vmfunc = 0;
  for (const f of VMX_FEATURES) {
    const on = implemented(f);
    const b = f.bit;
    switch (f.kind) {
      case 'pin': case 'proc': case 'proc2': case 'exit': case 'entry':
        if (f.default1) {
          must[f.kind]! |= 1 << b;
          may[f.kind]! |= 1 << b;
          // the TRUE MSR lets a functional default1 control be 0 once that setting works
          if (f.reserved === true || !on) trueMust[f.kind]! |= 1 << b;
        } else if (on) may[f.kind]! |= 1 << b;
        break;
      case 'misc': if (on) misc |= 1 << b; break;
      case 'basic': if (on) basicHi |= 1 << (b - 32); break;
      case 'ept': if (on) { if (b < 32) eptLo |= 1 << b; else eptHi |= 1 << (b - 32); } break;
      case 'vmfunc': if (on) vmfunc |= 1 << b; break;
    }
  }
  if (may.proc2 !== 0) may.proc! |= PROC_SECONDARY;
  const cr3Targets = implemented(VMX_FEATURES.find((f) => f.kind === 'proc' && f.bit === 15)!) ? 4 : 0;
  misc |= cr3Targets << 16;
  // preemption-timer rate: the timer counts down when TSC bit 5 changes (reported when offered)
  if ((may.pin! & PIN_PREEMPT_TIMER) !== 0) misc |= 5;

  const lo = new Int32Array(LAST - FIRST + 1), hi = new Int32Array(LAST - FIRST + 1);
  const exists = new Uint8Array(LAST - FIRST + 1);
  const put = (msr: number, l: number, h: number): void => { lo[msr - FIRST] = l | 0; hi[msr - FIRST] = h | 0; exists[msr - FIRST] = 1; };
  // IA32_VMX_BASIC (A.1): revision, region size 4096 (bits 44:32), WB (6) in bits 53:50,
  // bit 55: TRUE_ controls MSRs exist. Bit 48 stays 0: addresses are not limited to 32 bits.
  put(MSR_VMX_BASIC, VMCS_REVISION_ID, VMCS_SIZE | (6 << 18) | basicHi | (1 << 23));
  put(MSR_VMX_PINBASED_CTLS, must.pin!, may.pin!);
  put(MSR_VMX_PROCBASED_CTLS, must.proc!, may.proc!);
  put(MSR_VMX_EXIT_CTLS, must.exit!, may.exit!);
  put(MSR_VMX_ENTRY_CTLS, must.entry!, may.entry!);
  put(MSR_VMX_MISC, misc, 0);
  put(MSR_VMX_CR0_FIXED0, CR0_FIXED0, 0);
  put(MSR_VMX_CR0_FIXED1, -1, 0); // every low CR0 bit may be 1 (reserved ones are ignored on write)
  put(MSR_VMX_CR4_FIXED0, CR4_FIXED0, 0);
  put(MSR_VMX_CR4_FIXED1, cr4SupportedBits(p), 0);
  put(MSR_VMX_VMCS_ENUM, VMCS_MAX_INDEX << 1, 0);
  // A.3.3: PROCBASED_CTLS2 exists only with the 1-setting of "activate secondary controls"
  if ((may.proc! & PROC_SECONDARY) !== 0) put(MSR_VMX_PROCBASED_CTLS2, 0, may.proc2!);
  // A.10: EPT_VPID_CAP exists only if EPT or VPID may be enabled
  if ((may.proc2! & (PROC2_EPT | PROC2_VPID)) !== 0) put(MSR_VMX_EPT_VPID_CAP, eptLo, eptHi);
  put(MSR_VMX_TRUE_PINBASED_CTLS, trueMust.pin!, may.pin!);
  put(MSR_VMX_TRUE_PROCBASED_CTLS, trueMust.proc!, may.proc!);
  put(MSR_VMX_TRUE_EXIT_CTLS, trueMust.exit!, may.exit!);
  put(MSR_VMX_TRUE_ENTRY_CTLS, trueMust.entry!, may.entry!);
  // A.11: VMFUNC exists only with the 1-setting of "enable VM functions"
  if ((may.proc2! & PROC2_VMFUNC) !== 0) put(MSR_VMX_VMFUNC, vmfunc, 0);
  return {
    lo, hi, exists,
    pin0: trueMust.pin!, pin1: may.pin!, proc0: trueMust.proc!, proc1: may.proc!,
    proc20: 0, proc21: may.proc2!, exit0: trueMust.exit!, exit1: may.exit!,
    entry0: trueMust.entry!, entry1: may.entry!, misc, cr3Targets,
    cr0Fixed0: CR0_FIXED0, cr0Fixed1: -1, cr4Fixed0: CR4_FIXED0, cr4Fixed1: cr4SupportedBits(p),
    eptCap: eptLo, vpidCap: eptHi, vmfunc,
    physAddrBits: p.physAddrBits, linearAddrBits: p.linearAddrBits,
  };
}

/** This CPU's capabilities (built once per CPU from its profile). */
export function vmxCaps(cpu: Cpu): VmxCaps {
  const st = vmxState(cpu);
  if (st.caps === null) st.caps = buildVmxCaps(cpu.profile);
  return st.caps;
}

/**
 * RDMSR of the IA32_VMX_* range, for the system family's rdmsr (msr.ts) to call first:
 * returns null when `index` is not a VMX capability MSR; otherwise returns the low dword
 * with the high dword in cpu.hi, or raises #GP(0) when VMX is not exposed to this VM or the
 * MSR does not exist on this configuration (issue 5; SDM Vol. 3C Appendix A).
 */
export function vmxMsrRead(cpu: Cpu, index: number): number | null {
  index >>>= 0;
  if (index < FIRST || index > LAST) return null;
  if (!cpu.exposeVmx) return cpu.gp(0);
  const caps = vmxCaps(cpu);
  const i = index - FIRST;
  if (caps.exists[i] === 0) return cpu.gp(0);
  cpu.hi = caps.hi[i]!;
  return caps.lo[i]!;
}

/**
 * CR0/CR4 values allowed in VMX operation (SDM Vol. 3C §23.8: the FIXED0/FIXED1 MSRs).
 * For MOV to CR0/CR4 (ops/crdr.ts) to call while in VMX operation: false → #GP(0).
 */
export function vmxCr0Allowed(cpu: Cpu, cr0: number): boolean {
  const caps = vmxCaps(cpu);
  // §25.3 / §26.3.1.1: an unrestricted guest may clear CR0.PE and CR0.PG
  const fixed0 = cpu.vmx.nonRoot && (cpu.vmx.proc2 & PROC2_UNRESTRICTED) !== 0 ? caps.cr0Fixed0 & ~0x80000001 : caps.cr0Fixed0;
  return (cr0 & fixed0) === fixed0 && (cr0 & ~caps.cr0Fixed1) === 0;
}
export function vmxCr4Allowed(cpu: Cpu, cr4: number): boolean {
  const caps = vmxCaps(cpu);
  return (cr4 & caps.cr4Fixed0) === caps.cr4Fixed0 && (cr4 & ~caps.cr4Fixed1) === 0;
}
