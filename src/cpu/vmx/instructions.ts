/**
 * The VMX instructions of slice 1: VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD,
 * VMWRITE and VMCALL (root operation), each following its "Operation" pseudocode in SDM
 * Vol. 3C §30.3 with the conventions of §30.2 (VMsucceed / VMfailInvalid / VMfailValid)
 * and the error numbers of §30.4 (VMX_ERR below).
 *
 * Each export is a handler `(cpu: Cpu) => void` for the system family's opcode table
 * (ops/system.ts owns 0F 01, 0F 78, 0F 79 and 0F C7), called AFTER the prefixes and opcode
 * are decoded and, where the instruction has a ModRM byte, after cpu.decodeModrm(0):
 *   vmxon    F3 0F C7 /6 (mod != 3)  ModRM decoded; E = m64 VMXON-region pointer
 *   vmclear  66 0F C7 /6 (mod != 3)  ModRM decoded; E = m64 VMCS pointer
 *   vmptrld  NP 0F C7 /6 (mod != 3)  ModRM decoded; E = m64 VMCS pointer
 *   vmptrst  NP 0F C7 /7 (mod != 3)  ModRM decoded; E = m64 destination
 *   vmread   NP 0F 78 /r             ModRM decoded; G (reg) = field encoding, E = destination
 *   vmwrite  NP 0F 79 /r             ModRM decoded; G (reg) = field encoding, E = source
 *   vmxoff   0F 01 C4                no ModRM consumed by us (the C4 byte is the opcode)
 *   vmcall   0F 01 C1                likewise
 * With mod = 3, 0F C7 /6 and /7 are RDRAND/RDSEED (not ours); these functions still
 * raise #UD for a register operand, as the SDM's first check says.
 * VMREAD/VMWRITE use 64-bit operands in 64-bit mode and 32-bit operands otherwise (REX.W
 * and 66 do not change it); a 66/F2/F3 prefix makes them #UD (NP: 66/F2 0F 78/79 are AMD's
 * EXTRQ/INSERTQ, which Intel does not have).
 *
 * Instructions are atomic (cpu.ts convention): every check and memory access that can
 * fault happens before VMX state, the VMCS or RFLAGS change.
 * VMLAUNCH/VMRESUME are in vmentry.ts, INVEPT/INVVPID in invept.ts. In non-root
 * operation each of these exits (intercepts.ts) after its #UD checks.
 */
import type { Cpu } from '../cpu.js';
import { CF, ZF, VM } from '../regs.js';
import { CR0_PE, CR4_VMXE, EFER_LMA, MSR_FEATURE_CONTROL } from '../regs.js';
import { REP_NONE } from '../cpu.js';
import {
  F, FIELD_SLOT, FIELD_ACCESS, W16, W64, WNAT, T_READ_ONLY, VMCS_REVISION_ID, VMCS_SIZE, VMCS_OFF_LAUNCH_STATE,
  LAUNCH_CLEAR, encodingType, vmcsSet,
} from './vmcs-fields.js';
import { vmxState, INVALID_PTR, type VmxState } from './vmx-state.js';
import { vmxCaps, vmxCr0Allowed, vmxCr4Allowed, MISC_VMWRITE_ANY, PROC2_SHADOW_VMCS } from './capabilities.js';
import { interceptVmxInstruction } from './intercepts.js';
import { EXIT } from './vmexit.js';

const TWO32 = 4294967296;

/** VM-instruction error numbers (SDM Vol. 3C §30.4, Table 30-1). */
export const VMX_ERR = {
  VMCALL_IN_ROOT: 1,
  VMCLEAR_INVALID_ADDRESS: 2,
  VMCLEAR_VMXON_POINTER: 3,
  VMLAUNCH_NONCLEAR_VMCS: 4,
  VMRESUME_NONLAUNCHED_VMCS: 5,
  VMRESUME_AFTER_VMXOFF: 6,
  ENTRY_INVALID_CONTROL_FIELDS: 7,
  ENTRY_INVALID_HOST_STATE: 8,
  VMPTRLD_INVALID_ADDRESS: 9,
  VMPTRLD_VMXON_POINTER: 10,
  VMPTRLD_INCORRECT_REVISION: 11,
  UNSUPPORTED_VMCS_COMPONENT: 12,
  VMWRITE_READ_ONLY_COMPONENT: 13,
  VMXON_IN_ROOT: 15,
  ENTRY_INVALID_EXECUTIVE_VMCS: 16,
  ENTRY_NONLAUNCHED_EXECUTIVE_VMCS: 17,
  ENTRY_EXECUTIVE_NOT_VMXON: 18,
  VMCALL_NONCLEAR_VMCS: 19,
  VMCALL_INVALID_EXIT_CONTROLS: 20,
  VMCALL_INCORRECT_MSEG_REVISION: 22,
  VMXOFF_DUAL_MONITOR: 23,
  VMCALL_INVALID_SMM_FEATURES: 24,
  ENTRY_INVALID_EXECUTIVE_CONTROLS: 25,
  ENTRY_EVENTS_BLOCKED_BY_MOV_SS: 26,
  INVALID_INVEPT_INVVPID_OPERAND: 28,
} as const;

// =======================================================================================
// §30.2 conventions
// =======================================================================================

/** VMsucceed: CF, PF, AF, ZF, SF, OF := 0. */
export function vmSucceed(cpu: Cpu): void { cpu.setArith(0); }
/** VMfailInvalid: CF := 1, the other five := 0 (no current VMCS to hold an error number). */
export function vmFailInvalid(cpu: Cpu): void { cpu.setArith(CF); }
/** VMfailValid(n): ZF := 1, the others := 0; VM-instruction error field := n. */
export function vmFailValid(cpu: Cpu, st: VmxState, n: number): void {
  cpu.setArith(ZF);
  vmcsSet(st.cache, F.VM_INSTRUCTION_ERROR, n, 0);
}
/** VMfail(n): VMfailValid(n) when there is a current VMCS, VMfailInvalid otherwise. */
export function vmFail(cpu: Cpu, st: VmxState, n: number): void {
  if (st.currentVmcs !== INVALID_PTR) vmFailValid(cpu, st, n);
  else vmFailInvalid(cpu);
}

/**
 * IA32_FEATURE_CONTROL as RDMSR reports it. msr.ts reports it locked with "VMX outside
 * SMX" set exactly when VMX is exposed (the virtual firmware's choice) and keeps nothing in
 * cpu.msrs; a value stored under 0x3a (tests, a future writable model) takes precedence.
 */
export function featureControl(cpu: Cpu): number {
  const v = cpu.msrs.get(MSR_FEATURE_CONTROL);
  return v !== undefined ? v : (1 | (cpu.exposeVmx ? 4 : 0));
}

/**
 * The #UD conditions shared by every VMX instruction but VMXON (SDM §30.3): not in VMX
 * operation, real or virtual-8086 mode, compatibility mode; also LOCK, and VMX not exposed
 * to this VM at all (issue 5).
 */
function checkUd(cpu: Cpu): VmxState {
  if (cpu.lock || !cpu.exposeVmx) return cpu.ud();
  const st = vmxState(cpu);
  if (!st.inVmx || (cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) return cpu.ud();
  if ((cpu.efer & EFER_LMA) !== 0 && !cpu.code64) return cpu.ud();
  return st;
}

/**
 * After the #UD checks: in non-root operation the instruction exits (SDM §25.1.2, with
 * the instruction information of §27.2.5), CPL > 0 is #GP(0).
 */
function checkRootCpl0(cpu: Cpu, st: VmxState, reason: number, hasOperand: boolean): void {
  if (st.nonRoot) interceptVmxInstruction(cpu, reason, hasOperand);
  if (cpu.cpl !== 0) cpu.gp(0);
}

/** Reads the m64 operand of VMXON/VMCLEAR/VMPTRLD (may fault): lo returned, hi in cpu.hi. */
function readM64(cpu: Cpu): number {
  return cpu.rd64(cpu.eaLin(8, false));
}

/** A VMX-region pointer must be 4K-aligned and within MAXPHYADDR (SDM §30.3). */
function validPointer(cpu: Cpu, lo: number, hi: number): boolean {
  if ((lo & 0xfff) !== 0) return false;
  const bits = cpu.profile.physAddrBits;
  return bits >= 64 || (hi >>> 0) < 2 ** (bits - 32);
}

/** Copies the cached current VMCS back to its region (SDM §24.11.1: "ensure data is in memory"). */
function flushCache(cpu: Cpu, st: VmxState): void {
  const base = st.currentVmcs, c = st.cache, mem = cpu.mem;
  for (let i = 0; i < VMCS_SIZE / 4; i++) mem.write32(base + i * 4, c[i]!);
}

function loadCache(cpu: Cpu, st: VmxState, base: number): void {
  const c = st.cache, mem = cpu.mem;
  for (let i = 0; i < VMCS_SIZE / 4; i++) c[i] = mem.read32(base + i * 4);
}

// =======================================================================================
// The instructions
// =======================================================================================

/** F3 0F C7 /6 VMXON m64: enter VMX root operation (SDM Vol. 3C §30.3 "VMXON"). */
export function vmxon(cpu: Cpu): void {
  if (cpu.mod === 3 || cpu.lock || !cpu.exposeVmx) return cpu.ud();
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.cr4 & CR4_VMXE) === 0 || (cpu.flags & VM) !== 0) return cpu.ud();
  if ((cpu.efer & EFER_LMA) !== 0 && !cpu.code64) return cpu.ud();
  const st = vmxState(cpu);
  if (st.inVmx) {
    checkRootCpl0(cpu, st, EXIT.VMXON, true);
    vmFail(cpu, st, VMX_ERR.VMXON_IN_ROOT);
    return;
  }
  if (cpu.cpl !== 0) return cpu.gp(0);
  // A20M does not exist on this platform (no A20 gate), so that #GP cause cannot arise.
  if (!vmxCr0Allowed(cpu, cpu.cr0) || !vmxCr4Allowed(cpu, cpu.cr4)) return cpu.gp(0);
  const fc = featureControl(cpu);
  // lock bit, and "enable VMX outside SMX" (this CPU has no SMX)
  if ((fc & 1) === 0 || (fc & 4) === 0) return cpu.gp(0);
  const lo = readM64(cpu), hi = cpu.hi;
  if (!validPointer(cpu, lo, hi)) { vmFailInvalid(cpu); return; }
  const ptr = hi * TWO32 + (lo >>> 0);
  const rev = cpu.mem.read32(ptr);
  if (rev !== VMCS_REVISION_ID) { vmFailInvalid(cpu); return; } // bits 30:0 must match, bit 31 must be 0
  st.inVmx = true;
  st.nonRoot = false;
  st.vmxonPtr = ptr;
  st.currentVmcs = INVALID_PTR;
  st.initBlocked = true;
  vmSucceed(cpu);
}

/** 0F 01 C4 VMXOFF: leave VMX operation (SDM §30.3 "VMXOFF"). */
export function vmxoff(cpu: Cpu): void {
  const st = checkUd(cpu);
  checkRootCpl0(cpu, st, EXIT.VMXOFF, false);
  // Dual-monitor treatment of SMIs is never active here, so error 23 cannot occur.
  // The SDM leaves a still-active VMCS undefined after VMXOFF; writing the cached copy
  // back keeps its data for a later VMXON + VMPTRLD, as software that forgot VMCLEAR expects.
  if (st.currentVmcs !== INVALID_PTR) flushCache(cpu, st);
  st.inVmx = false;
  st.vmxonPtr = INVALID_PTR;
  st.currentVmcs = INVALID_PTR;
  st.initBlocked = false;
  vmSucceed(cpu);
  // an INIT held while blocked is taken right after VMXOFF (§23.8): the board performs it
  // before this vCPU's next instruction (init-sipi.ts takeReleasedInit)
  if (st.initPending) cpu.requestStop();
}

/** 66 0F C7 /6 VMCLEAR m64 (SDM §30.3 "VMCLEAR"). */
export function vmclear(cpu: Cpu): void {
  if (cpu.mod === 3) return cpu.ud();
  const st = checkUd(cpu);
  checkRootCpl0(cpu, st, EXIT.VMCLEAR, true);
  const lo = readM64(cpu), hi = cpu.hi;
  if (!validPointer(cpu, lo, hi)) { vmFail(cpu, st, VMX_ERR.VMCLEAR_INVALID_ADDRESS); return; }
  const ptr = hi * TWO32 + (lo >>> 0);
  if (ptr === st.vmxonPtr) { vmFail(cpu, st, VMX_ERR.VMCLEAR_VMXON_POINTER); return; }
  if (ptr === st.currentVmcs) {
    st.cache[VMCS_OFF_LAUNCH_STATE >> 2] = LAUNCH_CLEAR;
    flushCache(cpu, st);
    st.currentVmcs = INVALID_PTR;
  } else {
    // not cached: its data is already in memory; only the launch state changes
    cpu.mem.write32(ptr + VMCS_OFF_LAUNCH_STATE, LAUNCH_CLEAR);
  }
  vmSucceed(cpu);
}

/** NP 0F C7 /6 VMPTRLD m64: make a VMCS current (SDM §30.3 "VMPTRLD"). */
export function vmptrld(cpu: Cpu): void {
  if (cpu.mod === 3) return cpu.ud();
  const st = checkUd(cpu);
  checkRootCpl0(cpu, st, EXIT.VMPTRLD, true);
  const lo = readM64(cpu), hi = cpu.hi;
  if (!validPointer(cpu, lo, hi)) { vmFail(cpu, st, VMX_ERR.VMPTRLD_INVALID_ADDRESS); return; }
  const ptr = hi * TWO32 + (lo >>> 0);
  if (ptr === st.vmxonPtr) { vmFail(cpu, st, VMX_ERR.VMPTRLD_VMXON_POINTER); return; }
  const rev = cpu.mem.read32(ptr);
  // bit 31 (shadow-VMCS indicator) is acceptable only with the 1-setting of VMCS shadowing
  const shadowOk = (vmxCaps(cpu).proc21 & PROC2_SHADOW_VMCS) !== 0;
  if ((rev & 0x7fffffff) !== VMCS_REVISION_ID || (rev < 0 && !shadowOk)) {
    vmFail(cpu, st, VMX_ERR.VMPTRLD_INCORRECT_REVISION);
    return;
  }
  if (ptr !== st.currentVmcs) {
    // one cached VMCS: the previous current one goes back to its region first
    if (st.currentVmcs !== INVALID_PTR) flushCache(cpu, st);
    loadCache(cpu, st, ptr);
    st.currentVmcs = ptr;
  }
  vmSucceed(cpu);
}

/** NP 0F C7 /7 VMPTRST m64: store the current-VMCS pointer (SDM §30.3 "VMPTRST"). */
export function vmptrst(cpu: Cpu): void {
  if (cpu.mod === 3) return cpu.ud();
  const st = checkUd(cpu);
  checkRootCpl0(cpu, st, EXIT.VMPTRST, true);
  const p = st.currentVmcs;
  if (p === INVALID_PTR) cpu.wr64(cpu.eaLin(8, true), -1, -1);
  else cpu.wr64(cpu.eaLin(8, true), p | 0, Math.floor(p / TWO32) | 0);
  vmSucceed(cpu);
}

/**
 * The field encoding in register G for VMREAD/VMWRITE: returns the encoding, or -1 when
 * it names no supported component (bits 63:15 set, an unknown index, a HIGH access to a
 * field without one): error 12 (SDM §30.3 "VMREAD": in 64-bit mode bits 63:32 count too).
 */
function fieldOperand(cpu: Cpu): number {
  const r = cpu.reg;
  const lo = cpu.r[r << 1]!;
  if (cpu.code64 && cpu.r[(r << 1) + 1]! !== 0) return -1;
  if ((lo >>> 0) > 0x7fff || FIELD_SLOT[lo]! < 0) return -1;
  return lo;
}

/** NP 0F 78 VMREAD r/m, r: E := VMCS field named by G (SDM §30.3 "VMREAD"). */
export function vmread(cpu: Cpu): void {
  if (cpu.pfx66 || cpu.rep !== REP_NONE) return cpu.ud();
  const st = checkUd(cpu);
  checkRootCpl0(cpu, st, EXIT.VMREAD, true);
  if (st.currentVmcs === INVALID_PTR) { vmFailInvalid(cpu); return; }
  const enc = fieldOperand(cpu);
  if (enc < 0) { vmFailValid(cpu, st, VMX_ERR.UNSUPPORTED_VMCS_COMPONENT); return; }
  const i = FIELD_SLOT[enc]! >> 2, c = st.cache;
  const w = FIELD_ACCESS[enc]!;
  let lo = c[i]!, hi = 0;
  if (w === W16) lo &= 0xffff;
  else if (w === W64 || w === WNAT) hi = c[i + 1]!;
  // a wider field than the operand is truncated; a narrower one zero-extended
  const size = cpu.code64 ? 8 : 4;
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, lo, hi);
  else cpu.wrSz(cpu.eaLin(size, true), size, lo, hi);
  vmSucceed(cpu);
}

/** NP 0F 79 VMWRITE r, r/m: VMCS field named by G := E (SDM §30.3 "VMWRITE"). */
export function vmwrite(cpu: Cpu): void {
  if (cpu.pfx66 || cpu.rep !== REP_NONE) return cpu.ud();
  const st = checkUd(cpu);
  checkRootCpl0(cpu, st, EXIT.VMWRITE, true);
  if (st.currentVmcs === INVALID_PTR) { vmFailInvalid(cpu); return; }
  const size = cpu.code64 ? 8 : 4;
  const lo = cpu.readE(size);
  const hi = size === 8 ? cpu.hi : 0; // a 32-bit operand clears the upper half of a wider field
  const enc = fieldOperand(cpu);
  if (enc < 0) { vmFailValid(cpu, st, VMX_ERR.UNSUPPORTED_VMCS_COMPONENT); return; }
  if (encodingType(enc) === T_READ_ONLY && (vmxCaps(cpu).misc & MISC_VMWRITE_ANY) === 0) {
    vmFailValid(cpu, st, VMX_ERR.VMWRITE_READ_ONLY_COMPONENT);
    return;
  }
  vmcsSet(st.cache, enc, lo, hi);
  vmSucceed(cpu);
}

/**
 * 0F 01 C1 VMCALL in VMX root operation (SDM §30.3 "VMCALL"): outside VMX operation #UD;
 * in root operation without the dual-monitor treatment, VMfail(1). In non-root operation
 * it always exits, which is why that check comes before the mode checks.
 */
export function vmcall(cpu: Cpu): void {
  if (cpu.lock || !cpu.exposeVmx) return cpu.ud();
  const st = vmxState(cpu);
  if (!st.inVmx) return cpu.ud();
  if (st.nonRoot) interceptVmxInstruction(cpu, EXIT.VMCALL, false);
  if ((cpu.flags & VM) !== 0 || ((cpu.efer & EFER_LMA) !== 0 && !cpu.code64)) return cpu.ud();
  if (cpu.cpl !== 0) return cpu.gp(0);
  vmFail(cpu, st, VMX_ERR.VMCALL_IN_ROOT);
}
