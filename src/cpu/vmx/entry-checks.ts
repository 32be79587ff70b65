/**
 * VM-entry checks (SDM Vol. 3C Chapter 26) as pure functions over a decoded VMCS, in the
 * SDM's three steps (STYLE habit 3):
 *   checkVmControls  §26.2.1  (VM-execution, VM-exit, VM-entry control fields) → VMfailValid(7)
 *   checkHostState   §26.2.2-26.2.4 (host registers, MSRs, segments, address-space size) → VMfailValid(8)
 *   checkGuestState  §26.3.1  (guest registers, segments, RIP/RFLAGS, non-register state)
 *                    → VM-entry failure, exit reason 33 with an exit qualification
 * Each check returns null when it passes or the id of the failing check: the SDM section
 * and a short name of its bullet (the tests assert on these ids). checkVmEntry() runs the
 * three steps in order and fills an EntryCheckResult.
 *
 * decodeVmcs() turns the raw fields (vmcs-fields.ts) into the typed DecodedVmcs once; the
 * caller owns and reuses the object (no allocation per VM entry). Checks that need
 * guest memory get it from the caller (VTPR in the virtual-APIC page, §26.2.1.1, as
 * EntryEnv.vtpr) or run in vmentry.ts/guest-state.ts, which have the memory at hand
 * (PDPTEs of a PAE guest without EPT, §26.3.1.6, qualification 2; the MSR-load area,
 * §26.4, qualification = entry number).
 */
import {
  F, vmcsLo, vmcsHi,
} from './vmcs-fields.js';
import {
  type VmxCaps,
  PIN_EXT_INTR, PIN_NMI, PIN_VIRTUAL_NMIS, PIN_PREEMPT_TIMER, PIN_POSTED_INTR,
  PROC_TPR_SHADOW, PROC_NMI_WINDOW, PROC_IO_BITMAPS, PROC_MTF, PROC_MSR_BITMAPS, PROC_SECONDARY,
  PROC2_VIRT_APIC, PROC2_EPT, PROC2_VIRT_X2APIC, PROC2_VPID, PROC2_UNRESTRICTED, PROC2_APIC_REG_VIRT, PROC2_VID,
  PROC2_VMFUNC, PROC2_SHADOW_VMCS, PROC2_PML, PROC2_EPT_VE,
  EXIT_HOST_ADDR64, EXIT_ACK_INTR, EXIT_LOAD_PAT, EXIT_LOAD_EFER, EXIT_SAVE_PREEMPT, EXIT_LOAD_PERF,
  ENTRY_LOAD_DEBUG, ENTRY_IA32E, ENTRY_SMM, ENTRY_DEACT_DUAL, ENTRY_LOAD_PAT, ENTRY_LOAD_EFER, ENTRY_LOAD_PERF,
  MISC_ACT_HLT, MISC_ACT_SHUTDOWN, MISC_ACT_SIPI, MISC_ZERO_LEN_INJ, EPTCAP_WALK4, EPTCAP_UC, EPTCAP_WB, EPTCAP_AD,
} from './capabilities.js';


/** Basic exit reason of a VM-entry failure due to invalid guest state (SDM Appendix C). */
export const EXIT_REASON_INVALID_GUEST_STATE = 33;
/** Exit qualifications of that failure (SDM §26.8). */
export const QUAL_NONE = 0, QUAL_PDPTE = 2, QUAL_NMI_BLOCKED = 3, QUAL_LINK_POINTER = 4;

export const ENTRY_OK = 0, ENTRY_VMFAIL = 1, ENTRY_FAIL_EXIT = 2;

/** Outcome of checkVmEntry (reused object). */
export class EntryCheckResult {
  kind = ENTRY_OK;
  /** VM-instruction error number for ENTRY_VMFAIL (7 or 8). */
  error = 0;
  /** Basic exit reason for ENTRY_FAIL_EXIT (33); the exit code sets bit 31 (entry failure). */
  exitReason = 0;
  qualification = 0;
  /** Id of the failing check (diagnostics and tests), '' on success. */
  check = '';
}

/** A 64-bit field as int32 halves. */
export class U64 { lo = 0; hi = 0; }

export class Seg {
  sel = 0; limit = 0; ar = 0;
  readonly base = new U64();
}

/** The VMCS decoded into typed groups; fill it with decodeVmcs(). */
export class DecodedVmcs {
  // VM-execution controls
  pin = 0; proc = 0; proc2 = 0; exceptionBitmap = 0; cr3TargetCount = 0; tprThreshold = 0;
  vpid = 0; postedIntrVector = 0;
  readonly ioBitmapA = new U64(); readonly ioBitmapB = new U64(); readonly msrBitmap = new U64();
  readonly virtualApic = new U64(); readonly apicAccess = new U64(); readonly postedIntrDesc = new U64();
  readonly vmfuncControls = new U64(); readonly eptp = new U64(); readonly eptpList = new U64();
  readonly pmlAddress = new U64(); readonly vmreadBitmap = new U64(); readonly vmwriteBitmap = new U64();
  readonly veInfo = new U64();
  // VM-exit controls
  exit = 0; exitMsrStoreCount = 0; exitMsrLoadCount = 0;
  readonly exitMsrStore = new U64(); readonly exitMsrLoad = new U64();
  // VM-entry controls
  entry = 0; entryMsrLoadCount = 0; entryIntrInfo = 0; entryErrorCode = 0; entryInstrLen = 0;
  readonly entryMsrLoad = new U64();
  // host state
  readonly hostCr0 = new U64(); readonly hostCr3 = new U64(); readonly hostCr4 = new U64();
  readonly hostSel = new Int32Array(8); // ES CS SS DS FS GS - TR (index 6 unused)
  readonly hostFsBase = new U64(); readonly hostGsBase = new U64(); readonly hostTrBase = new U64();
  readonly hostGdtrBase = new U64(); readonly hostIdtrBase = new U64();
  readonly hostSysenterEsp = new U64(); readonly hostSysenterEip = new U64();
  readonly hostRip = new U64(); readonly hostPat = new U64(); readonly hostEfer = new U64();
  // guest state
  readonly guestCr0 = new U64(); readonly guestCr3 = new U64(); readonly guestCr4 = new U64();
  readonly guestDr7 = new U64(); readonly guestRip = new U64(); readonly guestRflags = new U64();
  readonly guestDebugctl = new U64(); readonly guestPat = new U64(); readonly guestEfer = new U64();
  readonly guestSysenterEsp = new U64(); readonly guestSysenterEip = new U64();
  readonly guestPendingDbg = new U64(); readonly linkPointer = new U64();
  /** ES CS SS DS FS GS LDTR TR, the CPU's segment numbering. */
  readonly seg: Seg[] = [new Seg(), new Seg(), new Seg(), new Seg(), new Seg(), new Seg(), new Seg(), new Seg()];
  readonly gdtrBase = new U64(); readonly idtrBase = new U64();
  gdtrLimit = 0; idtrLimit = 0;
  interruptibility = 0; activity = 0;
  readonly pdpte: U64[] = [new U64(), new U64(), new U64(), new U64()];
}

function ld(v: Int32Array, enc: number, out: U64): void { out.lo = vmcsLo(v, enc); out.hi = vmcsHi(v, enc); }

/** Decodes the raw VMCS image `v` (the cached current VMCS) into `d`. */
export function decodeVmcs(v: Int32Array, d: DecodedVmcs): DecodedVmcs {
  d.pin = vmcsLo(v, F.PIN_BASED_VM_EXEC_CONTROL);
  d.proc = vmcsLo(v, F.CPU_BASED_VM_EXEC_CONTROL);
  d.proc2 = vmcsLo(v, F.SECONDARY_VM_EXEC_CONTROL);
  d.exceptionBitmap = vmcsLo(v, F.EXCEPTION_BITMAP);
  d.cr3TargetCount = vmcsLo(v, F.CR3_TARGET_COUNT);
  d.tprThreshold = vmcsLo(v, F.TPR_THRESHOLD);
  d.vpid = vmcsLo(v, F.VIRTUAL_PROCESSOR_ID);
  d.postedIntrVector = vmcsLo(v, F.POSTED_INTR_NOTIFICATION_VECTOR);
  ld(v, F.IO_BITMAP_A, d.ioBitmapA); ld(v, F.IO_BITMAP_B, d.ioBitmapB); ld(v, F.MSR_BITMAP, d.msrBitmap);
  ld(v, F.VIRTUAL_APIC_PAGE_ADDR, d.virtualApic); ld(v, F.APIC_ACCESS_ADDR, d.apicAccess);
  ld(v, F.POSTED_INTR_DESC_ADDR, d.postedIntrDesc); ld(v, F.VM_FUNCTION_CONTROLS, d.vmfuncControls);
  ld(v, F.EPT_POINTER, d.eptp); ld(v, F.EPTP_LIST_ADDRESS, d.eptpList); ld(v, F.PML_ADDRESS, d.pmlAddress);
  ld(v, F.VMREAD_BITMAP, d.vmreadBitmap); ld(v, F.VMWRITE_BITMAP, d.vmwriteBitmap);
  ld(v, F.VE_INFORMATION_ADDRESS, d.veInfo);
  d.exit = vmcsLo(v, F.VM_EXIT_CONTROLS);
  d.exitMsrStoreCount = vmcsLo(v, F.VM_EXIT_MSR_STORE_COUNT);
  d.exitMsrLoadCount = vmcsLo(v, F.VM_EXIT_MSR_LOAD_COUNT);
  ld(v, F.VM_EXIT_MSR_STORE_ADDR, d.exitMsrStore); ld(v, F.VM_EXIT_MSR_LOAD_ADDR, d.exitMsrLoad);
  d.entry = vmcsLo(v, F.VM_ENTRY_CONTROLS);
  d.entryMsrLoadCount = vmcsLo(v, F.VM_ENTRY_MSR_LOAD_COUNT);
  d.entryIntrInfo = vmcsLo(v, F.VM_ENTRY_INTR_INFO);
  d.entryErrorCode = vmcsLo(v, F.VM_ENTRY_EXCEPTION_ERROR_CODE);
  d.entryInstrLen = vmcsLo(v, F.VM_ENTRY_INSTRUCTION_LEN);
  ld(v, F.VM_ENTRY_MSR_LOAD_ADDR, d.entryMsrLoad);
  ld(v, F.HOST_CR0, d.hostCr0); ld(v, F.HOST_CR3, d.hostCr3); ld(v, F.HOST_CR4, d.hostCr4);
  const hs = [F.HOST_ES_SELECTOR, F.HOST_CS_SELECTOR, F.HOST_SS_SELECTOR, F.HOST_DS_SELECTOR,
    F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR, -1, F.HOST_TR_SELECTOR];
  for (let i = 0; i < 8; i++) d.hostSel[i] = hs[i]! < 0 ? 0 : vmcsLo(v, hs[i]!);
  ld(v, F.HOST_FS_BASE, d.hostFsBase); ld(v, F.HOST_GS_BASE, d.hostGsBase); ld(v, F.HOST_TR_BASE, d.hostTrBase);
  ld(v, F.HOST_GDTR_BASE, d.hostGdtrBase); ld(v, F.HOST_IDTR_BASE, d.hostIdtrBase);
  ld(v, F.HOST_IA32_SYSENTER_ESP, d.hostSysenterEsp); ld(v, F.HOST_IA32_SYSENTER_EIP, d.hostSysenterEip);
  ld(v, F.HOST_RIP, d.hostRip); ld(v, F.HOST_IA32_PAT, d.hostPat); ld(v, F.HOST_IA32_EFER, d.hostEfer);
  ld(v, F.GUEST_CR0, d.guestCr0); ld(v, F.GUEST_CR3, d.guestCr3); ld(v, F.GUEST_CR4, d.guestCr4);
  ld(v, F.GUEST_DR7, d.guestDr7); ld(v, F.GUEST_RIP, d.guestRip); ld(v, F.GUEST_RFLAGS, d.guestRflags);
  ld(v, F.GUEST_IA32_DEBUGCTL, d.guestDebugctl); ld(v, F.GUEST_IA32_PAT, d.guestPat); ld(v, F.GUEST_IA32_EFER, d.guestEfer);
  ld(v, F.GUEST_SYSENTER_ESP, d.guestSysenterEsp); ld(v, F.GUEST_SYSENTER_EIP, d.guestSysenterEip);
  ld(v, F.GUEST_PENDING_DBG_EXCEPTIONS, d.guestPendingDbg); ld(v, F.VMCS_LINK_POINTER, d.linkPointer);
  for (let i = 0; i < 8; i++) {
    const s = d.seg[i]!;
    s.sel = vmcsLo(v, F.GUEST_ES_SELECTOR + 2 * i);
    s.limit = vmcsLo(v, F.GUEST_ES_LIMIT + 2 * i);
    s.ar = vmcsLo(v, F.GUEST_ES_AR_BYTES + 2 * i);
    ld(v, F.GUEST_ES_BASE + 2 * i, s.base);
  }
  ld(v, F.GUEST_GDTR_BASE, d.gdtrBase); ld(v, F.GUEST_IDTR_BASE, d.idtrBase);
  d.gdtrLimit = vmcsLo(v, F.GUEST_GDTR_LIMIT); d.idtrLimit = vmcsLo(v, F.GUEST_IDTR_LIMIT);
  d.interruptibility = vmcsLo(v, F.GUEST_INTERRUPTIBILITY_INFO);
  d.activity = vmcsLo(v, F.GUEST_ACTIVITY_STATE);
  for (let i = 0; i < 4; i++) ld(v, F.GUEST_PDPTE0 + 2 * i, d.pdpte[i]!);
  return d;
}

// =======================================================================================
// Helpers
// =======================================================================================

/** Control word against its capability: must-be-1 bits set, nothing outside may-be-1. */
function ctlOk(v: number, must: number, may: number): boolean { return (v & must) === must && (v & ~may) === 0; }
/** Canonical for `bits` linear-address bits (SDM Vol. 1 §3.3.7.1): bits 63:bits-1 equal. */
export function canonical(u: U64, bits: number): boolean { const s = u.hi >> (bits - 33); return s === 0 || s === -1; }
/** No bit at or beyond MAXPHYADDR. */
function inPhys(u: U64, bits: number): boolean { return (u.hi >>> 0) < 2 ** (bits - 32); }
/** A 4-KByte-aligned physical address within MAXPHYADDR. */
function page(u: U64, bits: number): boolean { return (u.lo & 0xfff) === 0 && inPhys(u, bits); }
/** An MSR area: 16-byte aligned and its last byte within MAXPHYADDR (§26.2.1.2/3). */
function msrArea(u: U64, count: number, bits: number): boolean {
  if (count === 0) return true;
  if ((u.lo & 0xf) !== 0) return false;
  const last = (u.hi >>> 0) * 4294967296 + (u.lo >>> 0) + (count >>> 0) * 16 - 1;
  return last < 2 ** bits;
}
/** Each byte of a PAT value is a valid memory type: 0, 1, 4, 5, 6, 7 (SDM Vol. 3A §11.12.2). */
function patOk(u: U64): boolean {
  for (let i = 0; i < 8; i++) {
    const t = ((i < 4 ? u.lo : u.hi) >>> ((i & 3) * 8)) & 0xff;
    if (t === 2 || t === 3 || t > 7) return false;
  }
  return true;
}
/** EFER bits a VMCS may set: SCE, LME, LMA, NXE. */
const EFER_VALID = 0x1 | 0x100 | 0x400 | 0x800;
const EFER_LME = 0x100, EFER_LMA = 0x400;
/** IA32_DEBUGCTL bits our CPU implements (LBR, BTF); the rest are reserved. */
const DEBUGCTL_VALID = 0x3;

function secondary(d: DecodedVmcs): number { return (d.proc & PROC_SECONDARY) !== 0 ? d.proc2 : 0; }

// =======================================================================================
// §26.2.1 Checks on VMX controls
// =======================================================================================

/**
 * `vtpr`: the VTPR byte of the virtual-APIC page (offset 80H) when "use TPR shadow" is set
 * and the page address is valid, -1 otherwise (the caller reads guest memory; §26.2.1.1).
 */
export function checkVmControls(d: DecodedVmcs, caps: VmxCaps, vtpr = -1): string | null {
  const pb = caps.physAddrBits;
  const p2 = secondary(d);
  // §26.2.1.1 VM-execution control fields
  if (!ctlOk(d.pin, caps.pin0, caps.pin1)) return '26.2.1.1 pin-based reserved bits';
  if (!ctlOk(d.proc, caps.proc0, caps.proc1)) return '26.2.1.1 processor-based reserved bits';
  if ((d.proc & PROC_SECONDARY) !== 0 && !ctlOk(d.proc2, caps.proc20, caps.proc21)) return '26.2.1.1 secondary reserved bits';
  if ((d.cr3TargetCount >>> 0) > caps.cr3Targets) return '26.2.1.1 CR3-target count';
  if ((d.proc & PROC_IO_BITMAPS) !== 0 && (!page(d.ioBitmapA, pb) || !page(d.ioBitmapB, pb))) return '26.2.1.1 I/O bitmap addresses';
  if ((d.proc & PROC_MSR_BITMAPS) !== 0 && !page(d.msrBitmap, pb)) return '26.2.1.1 MSR bitmap address';
  if ((d.proc & PROC_TPR_SHADOW) !== 0) {
    if (!page(d.virtualApic, pb)) return '26.2.1.1 virtual-APIC address';
    if ((p2 & PROC2_VID) === 0 && (d.tprThreshold & ~0xf) !== 0) return '26.2.1.1 TPR threshold bits 31:4';
    // without virtual-interrupt delivery and APIC-access virtualization the threshold may not
    // exceed the virtual task-priority class: TPR threshold[3:0] ≤ VTPR[7:4]
    if ((p2 & (PROC2_VID | PROC2_VIRT_APIC)) === 0 && vtpr >= 0 && (d.tprThreshold & 0xf) > ((vtpr >>> 4) & 0xf)) {
      return '26.2.1.1 TPR threshold above VTPR';
    }
  } else if ((p2 & (PROC2_VIRT_X2APIC | PROC2_APIC_REG_VIRT | PROC2_VID)) !== 0) {
    return '26.2.1.1 x2APIC/APIC-register virtualization/VID need TPR shadow';
  }
  if ((d.pin & PIN_NMI) === 0 && (d.pin & PIN_VIRTUAL_NMIS) !== 0) return '26.2.1.1 virtual NMIs need NMI exiting';
  if ((d.pin & PIN_VIRTUAL_NMIS) === 0 && (d.proc & PROC_NMI_WINDOW) !== 0) return '26.2.1.1 NMI-window exiting needs virtual NMIs';
  if ((p2 & PROC2_VIRT_APIC) !== 0 && !page(d.apicAccess, pb)) return '26.2.1.1 APIC-access address';
  if ((p2 & PROC2_VIRT_X2APIC) !== 0 && (p2 & PROC2_VIRT_APIC) !== 0) return '26.2.1.1 x2APIC mode excludes APIC-access virtualization';
  if ((p2 & PROC2_VID) !== 0 && (d.pin & PIN_EXT_INTR) === 0) return '26.2.1.1 VID needs external-interrupt exiting';
  if ((d.pin & PIN_POSTED_INTR) !== 0) {
    if ((p2 & PROC2_VID) === 0 || (d.exit & EXIT_ACK_INTR) === 0 || (d.postedIntrVector & 0xff00) !== 0 ||
      (d.postedIntrDesc.lo & 0x3f) !== 0 || !inPhys(d.postedIntrDesc, pb)) return '26.2.1.1 posted interrupts';
  }
  if ((p2 & PROC2_VPID) !== 0 && d.vpid === 0) return '26.2.1.1 VPID is not 0';
  if ((p2 & PROC2_EPT) !== 0 && !eptpOk(d.eptp, caps)) return '26.2.1.1 EPTP';
  if ((p2 & PROC2_PML) !== 0 && ((p2 & PROC2_EPT) === 0 || !page(d.pmlAddress, pb))) return '26.2.1.1 PML';
  if ((p2 & PROC2_UNRESTRICTED) !== 0 && (p2 & PROC2_EPT) === 0) return '26.2.1.1 unrestricted guest needs EPT';
  if ((p2 & PROC2_VMFUNC) !== 0) {
    if (d.vmfuncControls.hi !== 0 || (d.vmfuncControls.lo & ~caps.vmfunc) !== 0) return '26.2.1.1 VM-function controls reserved bits';
    if ((d.vmfuncControls.lo & 1) !== 0 && ((p2 & PROC2_EPT) === 0 || !page(d.eptpList, pb))) return '26.2.1.1 EPTP switching';
  }
  if ((p2 & PROC2_SHADOW_VMCS) !== 0 && (!page(d.vmreadBitmap, pb) || !page(d.vmwriteBitmap, pb))) return '26.2.1.1 VMREAD/VMWRITE bitmaps';
  if ((p2 & PROC2_EPT_VE) !== 0 && !page(d.veInfo, pb)) return '26.2.1.1 virtualization-exception information address';
  // §26.2.1.2 VM-exit control fields
  if (!ctlOk(d.exit, caps.exit0, caps.exit1)) return '26.2.1.2 VM-exit reserved bits';
  if ((d.pin & PIN_PREEMPT_TIMER) === 0 && (d.exit & EXIT_SAVE_PREEMPT) !== 0) return '26.2.1.2 save preemption timer needs the timer';
  if (!msrArea(d.exitMsrStore, d.exitMsrStoreCount, pb)) return '26.2.1.2 VM-exit MSR-store area';
  if (!msrArea(d.exitMsrLoad, d.exitMsrLoadCount, pb)) return '26.2.1.2 VM-exit MSR-load area';
  // §26.2.1.3 VM-entry control fields
  if (!ctlOk(d.entry, caps.entry0, caps.entry1)) return '26.2.1.3 VM-entry reserved bits';
  const inj = checkEventInjection(d, caps);
  if (inj !== null) return inj;
  if (!msrArea(d.entryMsrLoad, d.entryMsrLoadCount, pb)) return '26.2.1.3 VM-entry MSR-load area';
  // not in SMM: both SMM controls must be 0
  if ((d.entry & ENTRY_SMM) !== 0) return '26.2.1.3 entry to SMM outside SMM';
  if ((d.entry & ENTRY_DEACT_DUAL) !== 0) return '26.2.1.3 deactivate dual-monitor treatment outside SMM';
  return null;
}

/** §26.2.1.1 EPTP bullets: memory type, walk length, A/D enable, reserved bits 11:7 and 63:N. */
export function eptpOk(e: U64, caps: VmxCaps): boolean {
  const type = e.lo & 7;
  if (!((type === 0 && (caps.eptCap & EPTCAP_UC) !== 0) || (type === 6 && (caps.eptCap & EPTCAP_WB) !== 0))) return false;
  if (((e.lo >>> 3) & 7) !== 3 || (caps.eptCap & EPTCAP_WALK4) === 0) return false;
  if ((e.lo & 0x40) !== 0 && (caps.eptCap & EPTCAP_AD) === 0) return false;
  if ((e.lo & 0xf80) !== 0) return false;
  return inPhys(e, caps.physAddrBits);
}

/** §26.2.1.3 "VM-entry interruption-information field" bullets. */
function checkEventInjection(d: DecodedVmcs, caps: VmxCaps): string | null {
  const info = d.entryIntrInfo;
  if (info >= 0) return null; // bit 31 (valid) clear
  const type = (info >>> 8) & 7, vector = info & 0xff;
  if (type === 1) return '26.2.1.3 injection type 1 reserved';
  if (type === 7 && (caps.proc1 & PROC_MTF) === 0) return '26.2.1.3 injection type 7 needs MTF support';
  if (type === 2 && vector !== 2) return '26.2.1.3 NMI vector is 2';
  if (type === 3 && vector > 31) return '26.2.1.3 hardware exception vector ≤ 31';
  if (type === 7 && vector !== 0) return '26.2.1.3 other-event vector is 0';
  const unrestricted = (secondary(d) & PROC2_UNRESTRICTED) !== 0;
  const pe = (d.guestCr0.lo & 1) !== 0;
  const errVector = vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
  const needsErr = (!unrestricted || pe) && type === 3 && errVector;
  if (((info >>> 11) & 1) !== (needsErr ? 1 : 0)) return '26.2.1.3 deliver-error-code bit';
  if ((info & 0x7ffff000) !== 0) return '26.2.1.3 interruption-information reserved bits 30:12';
  if ((info & 0x800) !== 0 && (d.entryErrorCode & 0xffff0000) !== 0) return '26.2.1.3 error code bits 31:16';
  if (type === 4 || type === 5 || type === 6) {
    const len = d.entryInstrLen >>> 0;
    if (len > 15 || (len === 0 && (caps.misc & MISC_ZERO_LEN_INJ) === 0)) return '26.2.1.3 instruction length';
  }
  return null;
}

// =======================================================================================
// §26.2.2-26.2.4 Checks on host-state area
// =======================================================================================

export interface EntryEnv {
  caps: VmxCaps;
  /** IA32_EFER.LMA of the logical processor executing VMLAUNCH/VMRESUME (§26.2.4). */
  lma: boolean;
  /** VTPR byte of the virtual-APIC page, -1 when not read (checkVmControls). */
  vtpr?: number;
}

export function checkHostState(d: DecodedVmcs, env: EntryEnv): string | null {
  const caps = env.caps, pb = caps.physAddrBits, lb = caps.linearAddrBits;
  // §26.2.2 control registers and MSRs
  const cr0 = d.hostCr0, cr4 = d.hostCr4;
  if (cr0.hi !== 0 || (cr0.lo & caps.cr0Fixed0) !== caps.cr0Fixed0 || (cr0.lo & ~caps.cr0Fixed1) !== 0) return '26.2.2 host CR0 fixed bits';
  if (cr4.hi !== 0 || (cr4.lo & caps.cr4Fixed0) !== caps.cr4Fixed0 || (cr4.lo & ~caps.cr4Fixed1) !== 0) return '26.2.2 host CR4 fixed bits';
  if (!inPhys(d.hostCr3, pb)) return '26.2.2 host CR3 beyond MAXPHYADDR';
  if (!canonical(d.hostSysenterEsp, lb) || !canonical(d.hostSysenterEip, lb)) return '26.2.2 host SYSENTER ESP/EIP canonical';
  if ((d.exit & EXIT_LOAD_PERF) !== 0) return '26.2.2 host IA32_PERF_GLOBAL_CTRL (no PMU)';
  if ((d.exit & EXIT_LOAD_PAT) !== 0 && !patOk(d.hostPat)) return '26.2.2 host IA32_PAT memory types';
  const host64 = (d.exit & EXIT_HOST_ADDR64) !== 0;
  if ((d.exit & EXIT_LOAD_EFER) !== 0) {
    const e = d.hostEfer;
    if (e.hi !== 0 || (e.lo & ~EFER_VALID) !== 0) return '26.2.2 host IA32_EFER reserved bits';
    if (((e.lo & EFER_LMA) !== 0) !== host64 || ((e.lo & EFER_LME) !== 0) !== host64) return '26.2.2 host IA32_EFER LMA/LME = host address-space size';
  }
  // §26.2.3 segment and descriptor-table registers
  for (const i of [0, 1, 2, 3, 4, 5, 7]) if ((d.hostSel[i]! & 7) !== 0) return '26.2.3 host selector RPL/TI';
  if (d.hostSel[1] === 0) return '26.2.3 host CS selector is not 0';
  if (d.hostSel[7] === 0) return '26.2.3 host TR selector is not 0';
  if (!host64 && d.hostSel[2] === 0) return '26.2.3 host SS selector is not 0 without 64-bit host';
  if (!canonical(d.hostFsBase, lb) || !canonical(d.hostGsBase, lb) || !canonical(d.hostGdtrBase, lb) ||
    !canonical(d.hostIdtrBase, lb) || !canonical(d.hostTrBase, lb)) return '26.2.3 host base addresses canonical';
  // §26.2.4 address-space size
  const ia32e = (d.entry & ENTRY_IA32E) !== 0;
  if (!env.lma) {
    if (ia32e || host64) return '26.2.4 outside IA-32e mode: no IA-32e guest, no 64-bit host';
  } else if (!host64) return '26.2.4 in IA-32e mode: host address-space size is 1';
  if (!host64) {
    if (ia32e) return '26.2.4 IA-32e guest needs a 64-bit host';
    if ((cr4.lo & (1 << 17)) !== 0) return '26.2.4 host CR4.PCIDE without 64-bit host';
    if (d.hostRip.hi !== 0) return '26.2.4 host RIP bits 63:32';
  } else {
    if ((cr4.lo & (1 << 5)) === 0) return '26.2.4 64-bit host needs CR4.PAE';
    if (!canonical(d.hostRip, lb)) return '26.2.4 host RIP canonical';
  }
  return null;
}

// =======================================================================================
// §26.3.1 Checks on the guest-state area
// =======================================================================================

/** Sets `qual` (exit qualification) through the result object when a check needs one. */
export function checkGuestState(d: DecodedVmcs, caps: VmxCaps, r: EntryCheckResult): string | null {
  r.qualification = QUAL_NONE;
  const lb = caps.linearAddrBits, pb = caps.physAddrBits;
  const p2 = secondary(d);
  const unrestricted = (p2 & PROC2_UNRESTRICTED) !== 0;
  const ia32e = (d.entry & ENTRY_IA32E) !== 0;
  const cr0 = d.guestCr0, cr4 = d.guestCr4;
  // §26.3.1.1 control registers, debug registers and MSRs
  const fixed0 = unrestricted ? caps.cr0Fixed0 & ~0x80000001 : caps.cr0Fixed0;
  if (cr0.hi !== 0 || (cr0.lo & fixed0) !== fixed0 || (cr0.lo & ~caps.cr0Fixed1) !== 0) return '26.3.1.1 guest CR0 fixed bits';
  const pg = cr0.lo < 0, pe = (cr0.lo & 1) !== 0;
  if (pg && !pe) return '26.3.1.1 CR0.PG needs CR0.PE';
  if (cr4.hi !== 0 || (cr4.lo & caps.cr4Fixed0) !== caps.cr4Fixed0 || (cr4.lo & ~caps.cr4Fixed1) !== 0) return '26.3.1.1 guest CR4 fixed bits';
  if ((d.entry & ENTRY_LOAD_DEBUG) !== 0) {
    if (d.guestDebugctl.hi !== 0 || (d.guestDebugctl.lo & ~DEBUGCTL_VALID) !== 0) return '26.3.1.1 IA32_DEBUGCTL reserved bits';
    if (d.guestDr7.hi !== 0) return '26.3.1.1 DR7 bits 63:32';
  }
  if (ia32e && (!pg || (cr4.lo & (1 << 5)) === 0)) return '26.3.1.1 IA-32e guest needs CR0.PG and CR4.PAE';
  if (!ia32e && (cr4.lo & (1 << 17)) !== 0) return '26.3.1.1 CR4.PCIDE needs IA-32e guest';
  if (!inPhys(d.guestCr3, pb)) return '26.3.1.1 guest CR3 beyond MAXPHYADDR';
  if (!canonical(d.guestSysenterEsp, lb) || !canonical(d.guestSysenterEip, lb)) return '26.3.1.1 guest SYSENTER ESP/EIP canonical';
  if ((d.entry & ENTRY_LOAD_PERF) !== 0) return '26.3.1.1 guest IA32_PERF_GLOBAL_CTRL (no PMU)';
  if ((d.entry & ENTRY_LOAD_PAT) !== 0 && !patOk(d.guestPat)) return '26.3.1.1 guest IA32_PAT memory types';
  if ((d.entry & ENTRY_LOAD_EFER) !== 0) {
    const e = d.guestEfer;
    if (e.hi !== 0 || (e.lo & ~EFER_VALID) !== 0) return '26.3.1.1 guest IA32_EFER reserved bits';
    if (((e.lo & EFER_LMA) !== 0) !== ia32e) return '26.3.1.1 guest EFER.LMA = IA-32e mode guest';
    if (pg && ((e.lo & EFER_LME) !== 0) !== ia32e) return '26.3.1.1 guest EFER.LME = IA-32e mode guest';
  }
  const rflags = d.guestRflags;
  const v86 = (rflags.lo & (1 << 17)) !== 0;
  // §26.3.1.2 segment registers
  const s = d.seg, cs = s[1]!, ss = s[2]!, tr = s[7]!, ldtr = s[6]!;
  if ((tr.sel & 4) !== 0) return '26.3.1.2 TR TI flag';
  if (usable(ldtr) && (ldtr.sel & 4) !== 0) return '26.3.1.2 LDTR TI flag';
  if (!v86 && !unrestricted && (ss.sel & 3) !== (cs.sel & 3)) return '26.3.1.2 SS.RPL = CS.RPL';
  if (v86) {
    for (let i = 0; i < 6; i++) {
      const g = s[i]!;
      if (g.base.hi !== 0 || g.base.lo !== ((g.sel & 0xffff) << 4)) return '26.3.1.2 virtual-8086 base = selector * 16';
      if (g.limit !== 0xffff) return '26.3.1.2 virtual-8086 limit 0xffff';
      if (g.ar !== 0xf3) return '26.3.1.2 virtual-8086 access rights 0xf3';
    }
  }
  if (!canonical(tr.base, lb) || !canonical(s[4]!.base, lb) || !canonical(s[5]!.base, lb)) return '26.3.1.2 TR/FS/GS base canonical';
  if (usable(ldtr) && !canonical(ldtr.base, lb)) return '26.3.1.2 LDTR base canonical';
  if (cs.base.hi !== 0) return '26.3.1.2 CS base bits 63:32';
  for (const i of [0, 2, 3]) if (usable(s[i]!) && s[i]!.base.hi !== 0) return '26.3.1.2 SS/DS/ES base bits 63:32';
  if (!v86) {
    const csType = cs.ar & 0xf;
    if (!(csType === 9 || csType === 11 || csType === 13 || csType === 15 || (unrestricted && csType === 3))) return '26.3.1.2 CS type';
    if (usable(ss) && (ss.ar & 0xf) !== 3 && (ss.ar & 0xf) !== 7) return '26.3.1.2 SS type';
    for (const i of [0, 3, 4, 5]) {
      const g = s[i]!;
      if (!usable(g)) continue;
      if ((g.ar & 1) === 0) return '26.3.1.2 DS/ES/FS/GS accessed';
      if ((g.ar & 8) !== 0 && (g.ar & 2) === 0) return '26.3.1.2 DS/ES/FS/GS code segment readable';
    }
    for (let i = 0; i < 6; i++) if ((i === 1 || usable(s[i]!)) && (s[i]!.ar & 0x10) === 0) return '26.3.1.2 S = 1';
    const dpl = (g: Seg): number => (g.ar >>> 5) & 3;
    if (csType === 3 && dpl(cs) !== 0) return '26.3.1.2 CS DPL 0 for type 3';
    if ((csType === 9 || csType === 11) && dpl(cs) !== dpl(ss)) return '26.3.1.2 CS DPL = SS DPL (non-conforming)';
    if ((csType === 13 || csType === 15) && dpl(cs) > dpl(ss)) return '26.3.1.2 CS DPL ≤ SS DPL (conforming)';
    if (!unrestricted && dpl(ss) !== (ss.sel & 3)) return '26.3.1.2 SS DPL = SS RPL';
    if ((csType === 3 || !pe) && dpl(ss) !== 0) return '26.3.1.2 SS DPL 0 (CS type 3 or CR0.PE = 0)';
    if (!unrestricted) {
      for (const i of [0, 3, 4, 5]) {
        const g = s[i]!;
        if (usable(g) && (g.ar & 0xf) <= 11 && dpl(g) < (g.sel & 3)) return '26.3.1.2 DS/ES/FS/GS DPL ≥ RPL';
      }
    }
    for (let i = 0; i < 6; i++) {
      const g = s[i]!;
      if (i !== 1 && !usable(g)) continue;
      if ((g.ar & 0x80) === 0) return '26.3.1.2 P = 1';
      if ((g.ar & 0xf00) !== 0 || (g.ar & 0xfffe0000) !== 0) return '26.3.1.2 access-rights reserved bits';
      if (!granularityOk(g)) return '26.3.1.2 G consistent with limit';
    }
    if (ia32e && (cs.ar & (1 << 13)) !== 0 && (cs.ar & (1 << 14)) !== 0) return '26.3.1.2 CS.D = 0 when CS.L = 1';
  }
  // TR and LDTR
  const trType = tr.ar & 0xf;
  if (ia32e ? trType !== 11 : trType !== 3 && trType !== 11) return '26.3.1.2 TR type';
  if ((tr.ar & 0x10) !== 0 || (tr.ar & 0x80) === 0 || (tr.ar & 0xf00) !== 0 || (tr.ar & 0xfffe0000) !== 0 ||
    (tr.ar & (1 << 16)) !== 0 || !granularityOk(tr)) return '26.3.1.2 TR access rights';
  if (usable(ldtr) && ((ldtr.ar & 0xf) !== 2 || (ldtr.ar & 0x10) !== 0 || (ldtr.ar & 0x80) === 0 ||
    (ldtr.ar & 0xf00) !== 0 || (ldtr.ar & 0xfffe0000) !== 0 || !granularityOk(ldtr))) return '26.3.1.2 LDTR access rights';
  // §26.3.1.3 descriptor-table registers
  if (!canonical(d.gdtrBase, lb) || !canonical(d.idtrBase, lb)) return '26.3.1.3 GDTR/IDTR base canonical';
  if ((d.gdtrLimit & 0xffff0000) !== 0 || (d.idtrLimit & 0xffff0000) !== 0) return '26.3.1.3 GDTR/IDTR limit bits 31:16';
  // §26.3.1.4 RIP and RFLAGS
  const long = ia32e && (cs.ar & (1 << 13)) !== 0;
  if (!long && d.guestRip.hi !== 0) return '26.3.1.4 RIP bits 63:32';
  if (long && !canonical(d.guestRip, lb)) return '26.3.1.4 RIP canonical';
  if (rflags.hi !== 0 || (rflags.lo & 0xffc08028) !== 0 || (rflags.lo & 2) === 0) return '26.3.1.4 RFLAGS reserved bits';
  if (v86 && (ia32e || !pe)) return '26.3.1.4 RFLAGS.VM with IA-32e guest or CR0.PE = 0';
  const injecting = d.entryIntrInfo < 0;
  const injType = (d.entryIntrInfo >>> 8) & 7;
  if (injecting && injType === 0 && (rflags.lo & (1 << 9)) === 0) return '26.3.1.4 RFLAGS.IF for external-interrupt injection';
  // §26.3.1.5 non-register state
  const act = d.activity >>> 0;
  if (act > 3) return '26.3.1.5 activity state';
  if ((act === 1 && (caps.misc & MISC_ACT_HLT) === 0) || (act === 2 && (caps.misc & MISC_ACT_SHUTDOWN) === 0) ||
    (act === 3 && (caps.misc & MISC_ACT_SIPI) === 0)) return '26.3.1.5 activity state not supported';
  if (act === 1 && ((ss.ar >>> 5) & 3) !== 0) return '26.3.1.5 HLT needs SS.DPL 0';
  if (act === 3 && injecting) return '26.3.1.5 no event injection in wait-for-SIPI';
  const intr = d.interruptibility;
  const sti = (intr & 1) !== 0, movss = (intr & 2) !== 0;
  if (act !== 0 && (sti || movss)) return '26.3.1.5 blocking by STI/MOV SS only when active';
  if ((intr & 0xfffffff0) !== 0) return '26.3.1.5 interruptibility reserved bits';
  if (sti && movss) return '26.3.1.5 blocking by STI and MOV SS';
  if ((rflags.lo & (1 << 9)) === 0 && sti) return '26.3.1.5 blocking by STI with IF = 0';
  if (injecting && injType === 0 && (sti || movss)) return '26.3.1.5 external-interrupt injection with STI/MOV SS blocking';
  if (injecting && injType === 2 && movss) return '26.3.1.5 NMI injection with MOV SS blocking';
  if ((intr & 4) !== 0) return '26.3.1.5 blocking by SMI outside SMM';
  if (injecting && injType === 2 && (d.pin & PIN_VIRTUAL_NMIS) !== 0 && (intr & 8) !== 0) return '26.3.1.5 virtual-NMI injection with blocking by NMI';
  if (injecting && injType === 2 && sti) {
    // implementation-specific in the SDM; we fail it as processors do, with qualification 3 (§26.8)
    r.qualification = QUAL_NMI_BLOCKED;
    return '26.3.1.5 NMI injection with STI blocking';
  }
  const pdbg = d.guestPendingDbg;
  if (pdbg.hi !== 0 || (pdbg.lo & ~0x500f) !== 0) return '26.3.1.5 pending debug exceptions reserved bits';
  if (sti || movss || act === 1) {
    const bs = (pdbg.lo & 0x4000) !== 0;
    const tf = (rflags.lo & (1 << 8)) !== 0, btf = (d.guestDebugctl.lo & 2) !== 0;
    if (tf && !btf && !bs) return '26.3.1.5 pending BS when TF = 1 and BTF = 0';
    if ((!tf || btf) && bs) return '26.3.1.5 pending BS clear when TF = 0 or BTF = 1';
  }
  const link = d.linkPointer;
  if (!(link.lo === -1 && link.hi === -1) && ((link.lo & 0xfff) !== 0 || !inPhys(link, pb))) {
    r.qualification = QUAL_LINK_POINTER;
    return '26.3.1.5 VMCS link pointer';
  }
  // §26.3.1.6 PDPTEs (EPT case: the fields themselves; the non-EPT case reads memory in
  // guest-state.ts). A present PDPTE with bits 2:1, 8:5 or any bit at or beyond MAXPHYADDR
  // set (bit 63 too: a PAE PDPTE has no XD bit, §4.4.1) fails the entry with exit
  // qualification 2 "PDPTE loading" as the memory case does (§26.8; kvm-unit-tests
  // vmx_pae_test "PDPTEs from VMCS" expects ENTRY_FAIL_PDPTE).
  if (pg && (cr4.lo & (1 << 5)) !== 0 && !ia32e && (p2 & PROC2_EPT) !== 0) {
    for (const e of d.pdpte) {
      if ((e.lo & 1) !== 0 && ((e.lo & 0x1e6) !== 0 || !inPhys(e, pb))) {
        r.qualification = QUAL_PDPTE;
        return '26.3.1.6 PDPTE reserved bits';
      }
    }
  }
  return null;
}

function usable(g: Seg): boolean { return (g.ar & (1 << 16)) === 0; }
/** G: limit bits 11:0 not all 1 → G = 0; any of bits 31:20 set → G = 1 (§26.3.1.2). */
function granularityOk(g: Seg): boolean {
  const G = (g.ar & (1 << 15)) !== 0;
  if ((g.limit & 0xfff) !== 0xfff && G) return false;
  if ((g.limit & 0xfff00000) !== 0 && !G) return false;
  return true;
}

// =======================================================================================
// The three steps in order (§26.1 "the checks are performed in the order...")
// =======================================================================================

export function checkVmEntry(d: DecodedVmcs, env: EntryEnv, r: EntryCheckResult): EntryCheckResult {
  r.kind = ENTRY_OK; r.error = 0; r.exitReason = 0; r.qualification = 0; r.check = '';
  let why = checkVmControls(d, env.caps, env.vtpr ?? -1);
  if (why !== null) { r.kind = ENTRY_VMFAIL; r.error = 7; r.check = why; return r; }
  why = checkHostState(d, env);
  if (why !== null) { r.kind = ENTRY_VMFAIL; r.error = 8; r.check = why; return r; }
  why = checkGuestState(d, env.caps, r);
  if (why !== null) { r.kind = ENTRY_FAIL_EXIT; r.exitReason = EXIT_REASON_INVALID_GUEST_STATE; r.check = why; return r; }
  r.qualification = 0;
  return r;
}
