/**
 * Moving processor state between the CPU and the cached current VMCS (SDM Vol. 3C):
 *   loadGuestState   §26.3.2 (VM entry: control registers, debug registers, MSRs, segment
 *                    registers, descriptor tables, RIP/RSP/RFLAGS, PDPTEs) and §26.6.x's
 *                    non-register state (activity, interruptibility)
 *   saveGuestState   §27.3 (VM exit: the same registers back into the guest-state area)
 *   loadHostState    §27.5 (VM exit and VM-entry failure: the host-state area, with the
 *                    fixed segment caches of §27.5.2)
 *   MSR areas        §26.4 (VM-entry MSR load), §27.4 (VM-exit MSR store), §27.6 (load)
 * There is no snapshot of L1's registers anywhere: the host state is whatever L1 wrote into
 * the host-state area, as on hardware. Everything here writes the CPU directly (never
 * through the checked MOV-CR writers: these loads cannot fault, SDM §26.3.2.1 / §27.5.1).
 *
 * 64-bit fields are read as JS numbers (hi * 2^32 + unsigned lo, hi signed): exact for
 * canonical addresses and physical addresses, the CPU's own representation of RIP, bases
 * and CR3.
 */
import type { Cpu } from '../cpu.js';
import { FAULT } from '../fault.js';
import { rdmsr, wrmsr, msrGet64, msrSet64 } from '../msr.js';
import { loadPdptes } from '../mmu.js';
import {
  ES, CS, SS, DS, FS, GS, LDTR, TR, CR0_ET, CR0_PG, CR4_PAE, EFER_LMA, EFER_LME,
  MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP, MSR_PAT, MSR_FS_BASE, MSR_GS_BASE, AR_UNUSABLE,
} from '../regs.js';
import { F, vmcsLo, vmcsHi, vmcsSet } from './vmcs-fields.js';
import { ACT_ACTIVE, ACT_HLT, ACT_WAIT_SIPI } from './vmx-state.js';
import {
  ENTRY_LOAD_DEBUG, ENTRY_IA32E, ENTRY_LOAD_PAT, ENTRY_LOAD_EFER, EXIT_SAVE_DEBUG, EXIT_SAVE_PAT, EXIT_SAVE_EFER,
  EXIT_LOAD_PAT, EXIT_LOAD_EFER, EXIT_HOST_ADDR64, PIN_VIRTUAL_NMIS, PROC2_EPT, PROC_SECONDARY,
} from './capabilities.js';
import { mwaitWasLastWait } from '../monitor.js';

const TWO32 = 4294967296;
/** IA32_DEBUGCTL (SDM Vol. 4 Table 2-2); kept as a plain MSR value in cpu.msrs. */
export const MSR_DEBUGCTL = 0x1d9;

/** A 64-bit / natural-width field as a JS number (exact below 2^53). */
export function getNum(c: Int32Array, enc: number): number {
  return vmcsHi(c, enc) * TWO32 + (vmcsLo(c, enc) >>> 0);
}
export function setNum(c: Int32Array, enc: number, v: number): void {
  const h = Math.floor(v / TWO32);
  vmcsSet(c, enc, (v - h * TWO32) | 0, h | 0);
}
export function get32(c: Int32Array, enc: number): number { return vmcsLo(c, enc); }
export function set32(c: Int32Array, enc: number, v: number): void { vmcsSet(c, enc, v | 0, 0); }

/** Guest segment fields, in the CPU's segment numbering ES CS SS DS FS GS LDTR TR (SDM Appendix B). */
function segSel(i: number): number { return F.GUEST_ES_SELECTOR + 2 * i; }
function segLimit(i: number): number { return F.GUEST_ES_LIMIT + 2 * i; }
function segAr(i: number): number { return F.GUEST_ES_AR_BYTES + 2 * i; }
function segBase(i: number): number { return F.GUEST_ES_BASE + 2 * i; }

function secondary(c: Int32Array): number {
  return (vmcsLo(c, F.CPU_BASED_VM_EXEC_CONTROL) & PROC_SECONDARY) !== 0 ? vmcsLo(c, F.SECONDARY_VM_EXEC_CONTROL) : 0;
}

/** PAE paging (not 4-level) with these control values (SDM Vol. 3A §4.1.1). */
function paePaging(cpu: Cpu): boolean {
  return (cpu.cr0 & CR0_PG) !== 0 && (cpu.cr4 & CR4_PAE) !== 0 && (cpu.efer & EFER_LMA) === 0;
}

// =======================================================================================
// §26.3.2 Loading guest state
// =======================================================================================

/**
 * Loads the guest-state area into the CPU. Returns false when the PDPTEs of a PAE guest
 * without EPT are invalid: the caller reports a VM-entry failure with qualification 2
 * (SDM §26.3.1.6; checked here because it needs guest memory). Interruptibility and
 * activity state are loaded by the caller after the MSR-load area (§26.6).
 */
export function loadGuestState(cpu: Cpu): boolean {
  const c = cpu.vmx.cache;
  const entry = vmcsLo(c, F.VM_ENTRY_CONTROLS);
  cpu.cr0 = vmcsLo(c, F.GUEST_CR0) | CR0_ET;
  cpu.cr4 = vmcsLo(c, F.GUEST_CR4);
  cpu.cr3 = getNum(c, F.GUEST_CR3);
  if ((entry & ENTRY_LOAD_DEBUG) !== 0) {
    cpu.dr[7] = ((vmcsLo(c, F.GUEST_DR7) & 0xffff23ff) | 0x400) >>> 0;
    msrSet64(cpu, MSR_DEBUGCTL, vmcsLo(c, F.GUEST_IA32_DEBUGCTL), vmcsHi(c, F.GUEST_IA32_DEBUGCTL));
  }
  msrSet64(cpu, MSR_SYSENTER_CS, vmcsLo(c, F.GUEST_SYSENTER_CS), 0);
  cpu.msrs.set(MSR_SYSENTER_ESP, getNum(c, F.GUEST_SYSENTER_ESP));
  cpu.msrs.set(MSR_SYSENTER_EIP, getNum(c, F.GUEST_SYSENTER_EIP));
  if ((entry & ENTRY_LOAD_PAT) !== 0) msrSet64(cpu, MSR_PAT, vmcsLo(c, F.GUEST_IA32_PAT), vmcsHi(c, F.GUEST_IA32_PAT));
  const ia32e = (entry & ENTRY_IA32E) !== 0;
  if ((entry & ENTRY_LOAD_EFER) !== 0) cpu.efer = vmcsLo(c, F.GUEST_IA32_EFER);
  // §26.3.2.1: without "load IA32_EFER", LMA and LME follow "IA-32e mode guest"
  else cpu.efer = ia32e ? cpu.efer | EFER_LMA | EFER_LME : cpu.efer & ~(EFER_LMA | EFER_LME);
  // §26.3.2.2 segments: the VMCS access-rights layout is the CPU's own segAr layout
  for (let i = 0; i < 8; i++) {
    const ar = vmcsLo(c, segAr(i));
    const limit = vmcsLo(c, segLimit(i)) >>> 0;
    let base = getNum(c, segBase(i));
    // outside 64-bit mode the upper base bits of ES/CS/SS/DS are ignored (§26.3.2.2)
    if (i <= DS && !ia32e) base = base % TWO32;
    cpu.segSel[i] = vmcsLo(c, segSel(i)) & 0xffff;
    cpu.segBase[i] = base;
    cpu.segLimit[i] = limit;
    cpu.segAr[i] = ar & 0x1f0ff;
  }
  cpu.gdtBase = getNum(c, F.GUEST_GDTR_BASE); cpu.gdtLimit = vmcsLo(c, F.GUEST_GDTR_LIMIT) & 0xffff;
  cpu.idtBase = getNum(c, F.GUEST_IDTR_BASE); cpu.idtLimit = vmcsLo(c, F.GUEST_IDTR_LIMIT) & 0xffff;
  // §26.3.2.3 RIP, RSP, RFLAGS
  cpu.rip = getNum(c, F.GUEST_RIP);
  cpu.r[8] = vmcsLo(c, F.GUEST_RSP); cpu.r[9] = vmcsHi(c, F.GUEST_RSP);
  cpu.flags = (vmcsLo(c, F.GUEST_RFLAGS) & 0x3f7fd7) | 2;
  cpu.setArith(vmcsLo(c, F.GUEST_RFLAGS));
  cpu.updateMode();
  // §26.3.2.4 PDPTEs: from the VMCS with EPT, from guest memory otherwise
  if (paePaging(cpu)) {
    if ((secondary(c) & PROC2_EPT) !== 0) {
      for (let i = 0; i < 4; i++) {
        cpu.pdpte[2 * i] = vmcsLo(c, F.GUEST_PDPTE0 + 2 * i);
        cpu.pdpte[2 * i + 1] = vmcsHi(c, F.GUEST_PDPTE0 + 2 * i);
      }
    } else if (!loadPdptes(cpu, cpu.cr3)) return false;
  }
  cpu.flushTlb();
  return true;
}

/**
 * Interruptibility and activity state (SDM §26.6.x): blocking by STI / MOV SS becomes the
 * CPU's interrupt shadow, blocking by NMI the NMI mask (or virtual-NMI blocking), and the
 * HLT and wait-for-SIPI activity states halt the guest (injection wakes it from HLT, §26.6.2).
 */
export function loadNonRegisterState(cpu: Cpu): void {
  const c = cpu.vmx.cache, st = cpu.vmx;
  const intr = vmcsLo(c, F.GUEST_INTERRUPTIBILITY_INFO);
  cpu.inhibitIrq = (intr & 3) !== 0;
  cpu.shadowMovSs = (intr & 2) !== 0;
  if ((st.pin & PIN_VIRTUAL_NMIS) !== 0) st.virtualNmiBlocked = (intr & 8) !== 0;
  else cpu.nmiBlocked = (intr & 8) !== 0;
  // HLT is the CPU's own halted state; wait-for-SIPI is halted too, and only INIT or a
  // SIPI end it (init-sipi.ts, events.ts)
  const act = vmcsLo(c, F.GUEST_ACTIVITY_STATE);
  st.activity = act === ACT_WAIT_SIPI ? ACT_WAIT_SIPI : ACT_ACTIVE;
  st.sipiVector = -1;
  cpu.halted = act === ACT_HLT || act === ACT_WAIT_SIPI;
}

// =======================================================================================
// §27.3 Saving guest state
// =======================================================================================

export function saveGuestState(cpu: Cpu): void {
  const st = cpu.vmx, c = st.cache;
  const exit = st.exitCtls;
  vmcsSet(c, F.GUEST_CR0, cpu.cr0, 0);
  vmcsSet(c, F.GUEST_CR4, cpu.cr4, 0);
  setNum(c, F.GUEST_CR3, cpu.cr3);
  if ((exit & EXIT_SAVE_DEBUG) !== 0) {
    set32(c, F.GUEST_DR7, cpu.dr[7]!);
    vmcsSet(c, F.GUEST_IA32_DEBUGCTL, msrGet64(cpu, MSR_DEBUGCTL, 0, 0), cpu.hi);
  }
  set32(c, F.GUEST_SYSENTER_CS, msrGet64(cpu, MSR_SYSENTER_CS, 0, 0));
  vmcsSet(c, F.GUEST_SYSENTER_ESP, msrGet64(cpu, MSR_SYSENTER_ESP, 0, 0), cpu.hi);
  vmcsSet(c, F.GUEST_SYSENTER_EIP, msrGet64(cpu, MSR_SYSENTER_EIP, 0, 0), cpu.hi);
  if ((exit & EXIT_SAVE_PAT) !== 0) vmcsSet(c, F.GUEST_IA32_PAT, rdmsr(cpu, MSR_PAT), cpu.hi);
  if ((exit & EXIT_SAVE_EFER) !== 0) vmcsSet(c, F.GUEST_IA32_EFER, cpu.efer, 0);
  // IA32_VMX_MISC bit 5: the "IA-32e mode guest" entry control receives EFER.LMA
  const entry = vmcsLo(c, F.VM_ENTRY_CONTROLS);
  set32(c, F.VM_ENTRY_CONTROLS, (cpu.efer & EFER_LMA) !== 0 ? entry | ENTRY_IA32E : entry & ~ENTRY_IA32E);
  for (let i = 0; i < 8; i++) {
    set32(c, segSel(i), cpu.segSel[i]!);
    set32(c, segLimit(i), cpu.segLimit[i]!);
    set32(c, segAr(i), cpu.segAr[i]!);
    setNum(c, segBase(i), cpu.segBase[i]!);
  }
  setNum(c, F.GUEST_GDTR_BASE, cpu.gdtBase); set32(c, F.GUEST_GDTR_LIMIT, cpu.gdtLimit);
  setNum(c, F.GUEST_IDTR_BASE, cpu.idtBase); set32(c, F.GUEST_IDTR_LIMIT, cpu.idtLimit);
  setNum(c, F.GUEST_RIP, cpu.rip);
  vmcsSet(c, F.GUEST_RSP, cpu.r[8]!, cpu.r[9]!);
  vmcsSet(c, F.GUEST_RFLAGS, cpu.getFlags(), 0);
  // §27.3.4 non-register state: the interrupt shadow lasts one instruction (cpu.ts ages it
  // after the instruction it covers), so a shadow still set here covers the guest RIP saved
  let intr = cpu.inhibitIrq ? (cpu.shadowMovSs ? 2 : 1) : 0;
  if ((st.pin & PIN_VIRTUAL_NMIS) !== 0 ? st.virtualNmiBlocked : cpu.nmiBlocked) intr |= 8;
  set32(c, F.GUEST_INTERRUPTIBILITY_INFO, intr);
  // a guest asleep in MWAIT (or woken from it by this exit's event) is saved as active
  // (§24.4.2: the activity-state field never reflects MWAIT's inactive state)
  const hlt = (cpu.halted || st.wokeFromHlt) && !mwaitWasLastWait(cpu);
  set32(c, F.GUEST_ACTIVITY_STATE, st.activity === ACT_WAIT_SIPI ? ACT_WAIT_SIPI : hlt ? ACT_HLT : ACT_ACTIVE);
  st.activity = ACT_ACTIVE;
  st.sipiVector = -1;
  st.wokeFromHlt = false;
  // debug traps an MTF exit took priority over (events.ts mtfBeforeDebugTrap), else none
  // ... and traps still held by MOV SS blocking (bit 12: an enabled breakpoint among B0-B3)
  const held = cpu.dbHeld;
  cpu.dbHeld = 0;
  setNum(c, F.GUEST_PENDING_DBG_EXCEPTIONS, st.pendingDbg | held | ((held & 0xf) !== 0 ? 0x1000 : 0));
  st.pendingDbg = 0;
  if (paePaging(cpu) && (secondary(c) & PROC2_EPT) !== 0) {
    for (let i = 0; i < 4; i++) vmcsSet(c, F.GUEST_PDPTE0 + 2 * i, cpu.pdpte[2 * i]!, cpu.pdpte[2 * i + 1]!);
  }
}

// =======================================================================================
// §27.5 Loading host state
// =======================================================================================

/**
 * Loads the host-state area. Returns 0, or the VMX-abort indicator (SDM §27.7) when the
 * host's PDPTEs cannot be loaded (3: "VMX abort: PDPTE load failure").
 */
export function loadHostState(cpu: Cpu): number {
  const c = cpu.vmx.cache;
  const exit = vmcsLo(c, F.VM_EXIT_CONTROLS);
  const host64 = (exit & EXIT_HOST_ADDR64) !== 0;
  // §27.5.1 control registers, debug registers, MSRs
  cpu.cr0 = vmcsLo(c, F.HOST_CR0) | CR0_ET;
  cpu.cr4 = vmcsLo(c, F.HOST_CR4);
  cpu.cr3 = getNum(c, F.HOST_CR3);
  cpu.dr[7] = 0x400;
  msrSet64(cpu, MSR_DEBUGCTL, 0, 0);
  msrSet64(cpu, MSR_SYSENTER_CS, vmcsLo(c, F.HOST_IA32_SYSENTER_CS), 0);
  cpu.msrs.set(MSR_SYSENTER_ESP, getNum(c, F.HOST_IA32_SYSENTER_ESP));
  cpu.msrs.set(MSR_SYSENTER_EIP, getNum(c, F.HOST_IA32_SYSENTER_EIP));
  if ((exit & EXIT_LOAD_PAT) !== 0) msrSet64(cpu, MSR_PAT, vmcsLo(c, F.HOST_IA32_PAT), vmcsHi(c, F.HOST_IA32_PAT));
  if ((exit & EXIT_LOAD_EFER) !== 0) cpu.efer = vmcsLo(c, F.HOST_IA32_EFER);
  else cpu.efer = host64 ? cpu.efer | EFER_LMA | EFER_LME : cpu.efer & ~(EFER_LMA | EFER_LME);
  // §27.5.2 segment registers: fixed caches
  const flat = 0xffffffff;
  cpu.segSel[CS] = vmcsLo(c, F.HOST_CS_SELECTOR);
  cpu.segBase[CS] = 0; cpu.segLimit[CS] = flat;
  cpu.segAr[CS] = 0x809b | (host64 ? 0x2000 : 0x4000); // type 11, S, DPL 0, P, G; L or D
  const data = [ES, SS, DS, FS, GS], dataEnc = [F.HOST_ES_SELECTOR, F.HOST_SS_SELECTOR, F.HOST_DS_SELECTOR, F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR];
  for (let k = 0; k < 5; k++) {
    const s = data[k]!, sel = vmcsLo(c, dataEnc[k]!);
    cpu.segSel[s] = sel;
    cpu.segBase[s] = 0; cpu.segLimit[s] = flat;
    // a null selector leaves the register unusable (§27.5.2); otherwise read/write accessed data
    cpu.segAr[s] = sel === 0 ? AR_UNUSABLE | 0xc093 : 0xc093;
  }
  cpu.segBase[FS] = getNum(c, F.HOST_FS_BASE);
  cpu.segBase[GS] = getNum(c, F.HOST_GS_BASE);
  cpu.segSel[TR] = vmcsLo(c, F.HOST_TR_SELECTOR);
  cpu.segBase[TR] = getNum(c, F.HOST_TR_BASE); cpu.segLimit[TR] = 0x67; cpu.segAr[TR] = 0x8b;
  cpu.segSel[LDTR] = 0; cpu.segBase[LDTR] = 0; cpu.segLimit[LDTR] = 0; cpu.segAr[LDTR] = AR_UNUSABLE;
  cpu.gdtBase = getNum(c, F.HOST_GDTR_BASE); cpu.gdtLimit = 0xffff;
  cpu.idtBase = getNum(c, F.HOST_IDTR_BASE); cpu.idtLimit = 0xffff;
  // §27.5.3 RIP, RSP, RFLAGS (all flags clear but bit 1)
  cpu.rip = getNum(c, F.HOST_RIP);
  cpu.r[8] = vmcsLo(c, F.HOST_RSP); cpu.r[9] = vmcsHi(c, F.HOST_RSP);
  if (!host64) cpu.r[9] = 0;
  cpu.setArith(0);
  cpu.flags = 2;
  cpu.inhibitIrq = false;
  cpu.halted = false;
  cpu.updateMode();
  cpu.flushTlb();
  if (paePaging(cpu) && !loadPdptes(cpu, cpu.cr3)) return 3;
  return 0;
}

// =======================================================================================
// MSR areas (SDM §26.4, §27.4, §27.6): 16-byte entries {u32 index, u32 reserved, u64 data}
// =======================================================================================

/**
 * MSRs an MSR-load area may not touch (SDM §26.4 / §27.6): IA32_FS_BASE and IA32_GS_BASE
 * (the segment bases come from the guest/host-state areas), the x2APIC range, IA32_SMBASE.
 */
function loadRefused(index: number): boolean {
  return index === MSR_FS_BASE || index === MSR_GS_BASE || (index >>> 8) === 0x8 || index === 0x9e;
}

/**
 * Loads `count` MSRs from `addr`. Returns 0, or the 1-based number of the entry that failed
 * (reserved bits, a refused MSR, or a WRMSR that would #GP).
 */
export function loadMsrArea(cpu: Cpu, addr: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const a = addr + i * 16;
    const index = cpu.mem.read32(a) >>> 0, rsvd = cpu.mem.read32(a + 4);
    const lo = cpu.mem.read32(a + 8), hi = cpu.mem.read32(a + 12);
    if (rsvd !== 0 || loadRefused(index)) return i + 1;
    try {
      wrmsr(cpu, index, lo, hi);
    } catch (e) {
      if (e !== FAULT) throw e;
      return i + 1;
    }
  }
  return 0;
}

/** Stores `count` MSRs into the data halves of the area at `addr`. Returns 0 or the failing entry. */
export function storeMsrArea(cpu: Cpu, addr: number, count: number): number {
  for (let i = 0; i < count; i++) {
    const a = addr + i * 16;
    const index = cpu.mem.read32(a) >>> 0;
    if (cpu.mem.read32(a + 4) !== 0 || (index >>> 8) === 0x8) return i + 1;
    try {
      const lo = rdmsr(cpu, index);
      cpu.mem.write32(a + 8, lo);
      cpu.mem.write32(a + 12, cpu.hi);
    } catch (e) {
      if (e !== FAULT) throw e;
      return i + 1;
    }
  }
  return 0;
}
