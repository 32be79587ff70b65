/**
 * VM exits: ALL exit bookkeeping in one module (STYLE habit 4; SDM Vol. 3C Chapter 27).
 * Instructions and events ask intercepts.ts / events.ts "does this exit?"; when it does,
 * they end up here, which:
 *   1. records the exit information (§27.2: reason, qualification, guest-linear and
 *      guest-physical address, interruption and IDT-vectoring information, instruction
 *      length and instruction information) in the cached VMCS,
 *   2. saves guest state (§27.3, guest-state.ts) and the VM-exit MSR-store area (§27.4),
 *   3. loads host state (§27.5) and the VM-exit MSR-load area (§27.6),
 *   4. returns the CPU to VMX root operation and unwinds the current instruction by
 *      throwing STOP (cpu.run() catches it and continues at the host RIP).
 * A VM-entry failure (§26.8) takes the same host-state path without saving guest state.
 * A failure while loading host state is a VMX abort (§27.7): the abort indicator is
 * written to the VMCS region and the logical processor shuts down (a triple-fault stop).
 *
 * Exit information that only some exits have is staged with the `exitWith*` setters just
 * before the exit (synchronous, so one module-level record suffices) and cleared after.
 * VPID policy: the software TLB is untagged, so every VM entry and VM exit flushes it
 * (always correct: SDM §28.3.3.3 allows any invalidation; VPIDs are an optimisation).
 */
import type { Cpu } from '../cpu.js';
import { STOP } from '../fault.js';
import { F, vmcsLo, VMCS_OFF_ABORT } from './vmcs-fields.js';
import { getNum, setNum, set32, saveGuestState, loadHostState, storeMsrArea, loadMsrArea } from './guest-state.js';
import { PIN_PREEMPT_TIMER, EXIT_SAVE_PREEMPT } from './capabilities.js';
import { tscValue, subTscOffset } from '../tsc.js';
import { deactivateEpt } from './ept-glue.js';

/** Basic exit reasons (SDM Vol. 3C Appendix C). */
export const EXIT = {
  EXCEPTION_NMI: 0, EXTERNAL_INTERRUPT: 1, TRIPLE_FAULT: 2, INIT: 3, SIPI: 4, INTERRUPT_WINDOW: 7,
  NMI_WINDOW: 8, TASK_SWITCH: 9, CPUID: 10, GETSEC: 11, HLT: 12, INVD: 13, INVLPG: 14, RDPMC: 15,
  RDTSC: 16, RSM: 17, VMCALL: 18, VMCLEAR: 19, VMLAUNCH: 20, VMPTRLD: 21, VMPTRST: 22, VMREAD: 23,
  VMRESUME: 24, VMWRITE: 25, VMXOFF: 26, VMXON: 27, CR_ACCESS: 28, DR_ACCESS: 29, IO: 30, RDMSR: 31,
  WRMSR: 32, ENTRY_FAIL_GUEST: 33, ENTRY_FAIL_MSR: 34, MWAIT: 36, MTF: 37, MONITOR: 39, PAUSE: 40,
  ENTRY_FAIL_MC: 41, TPR_BELOW_THRESHOLD: 43, APIC_ACCESS: 44, GDTR_IDTR: 46, LDTR_TR: 47,
  EPT_VIOLATION: 48, EPT_MISCONFIG: 49, INVEPT: 50, RDTSCP: 51, PREEMPTION_TIMER: 52, INVVPID: 53,
  WBINVD: 54, XSETBV: 55, INVPCID: 58, VMFUNC: 59, XSAVES: 63, XRSTORS: 64,
} as const;

/** Bit 31 of the exit-reason field: VM-entry failure (SDM §24.9.1). */
export const EXIT_REASON_ENTRY_FAILURE = 0x80000000 | 0;

/** Interruption-information format (SDM §24.9.2 Table 24-19 / §24.8.3): valid bit and types. */
export const INTR_VALID = 0x80000000 | 0, INTR_ERROR_VALID = 1 << 11, INTR_NMI_UNBLOCKING = 1 << 12;
export const INTR_TYPE_EXT = 0 << 8, INTR_TYPE_NMI = 2 << 8, INTR_TYPE_HW_EXC = 3 << 8, INTR_TYPE_SW_INT = 4 << 8;
export const INTR_TYPE_PRIV_SW_EXC = 5 << 8, INTR_TYPE_SW_EXC = 6 << 8, INTR_TYPE_OTHER = 7 << 8;

/** VMX-abort indicators (SDM §27.7). */
export const ABORT_MSR_STORE = 1, ABORT_HOST_PDPTE = 3, ABORT_MSR_LOAD = 4;

// ---- staged exit information (cleared after every exit) ---------------------------------
let stIntrInfo = 0, stIntrError = 0, stLen = 0, stInfo = 0, stLinear = 0, stGpa = 0;
let stHasLen = false, stHasInfo = false, stHasLinear = false, stHasGpa = false;

/** VM-exit interruption information and error code (exception, NMI, external interrupt exits). */
export function exitWithInterruption(info: number, error: number): void { stIntrInfo = info; stIntrError = error; }
/** VM-exit instruction length (instruction exits, software exceptions; SDM §27.2.5). */
export function exitWithLength(len: number): void { stLen = len; stHasLen = true; }
/** VM-exit instruction information (SDM §27.2.5, Tables 27-9..27-14). */
export function exitWithInstructionInfo(info: number): void { stInfo = info; stHasInfo = true; }
/** Guest-linear address (SDM §27.2.1: INS/OUTS, EPT violations, ...). */
export function exitWithLinear(lin: number): void { stLinear = lin; stHasLinear = true; }
/** Guest-physical address (EPT violations and misconfigurations, SDM §27.2.1). */
export function exitWithGuestPhysical(gpa: number): void { stGpa = gpa; stHasGpa = true; }

/**
 * A software interrupt or exception (INT n, INT3, INTO) being delivered through the guest
 * IDT: an exit during its delivery reports it as IDT-vectoring information (§27.2.4) with
 * the instruction's length (§27.2.5). Set by events.ts around the delivery, 0 otherwise.
 */
let stSwInfo = 0, stSwLen = 0;
export function deliveringSoftwareEvent(info: number, len: number): void { stSwInfo = info; stSwLen = len; }

function clearStaged(): void {
  stSwInfo = 0; stSwLen = 0;
  stIntrInfo = 0; stIntrError = 0; stLen = 0; stInfo = 0; stLinear = 0; stGpa = 0;
  stHasLen = false; stHasInfo = false; stHasLinear = false; stHasGpa = false;
}

/** Records reason and the staged information (§27.2). */
function recordExitInfo(cpu: Cpu, reason: number, qual: number): void {
  const c = cpu.vmx.cache, st = cpu.vmx;
  set32(c, F.VM_EXIT_REASON, reason);
  setNum(c, F.EXIT_QUALIFICATION, qual);
  set32(c, F.VM_EXIT_INTR_INFO, stIntrInfo);
  if ((stIntrInfo & INTR_ERROR_VALID) !== 0) set32(c, F.VM_EXIT_INTR_ERROR_CODE, stIntrError);
  // an exit in the middle of delivering an event reports that event (§27.2.4)
  const vec = cpu.delivering >= 0 ? st.vectoring : stSwInfo;
  set32(c, F.IDT_VECTORING_INFO, vec);
  if ((vec & INTR_ERROR_VALID) !== 0) set32(c, F.IDT_VECTORING_ERROR_CODE, st.vectoringError);
  if (stHasLen) set32(c, F.VM_EXIT_INSTRUCTION_LEN, stLen);
  else if (vec !== 0 && vec === stSwInfo) set32(c, F.VM_EXIT_INSTRUCTION_LEN, stSwLen);
  if (stHasInfo) set32(c, F.VMX_INSTRUCTION_INFO, stInfo);
  if (stHasLinear) setNum(c, F.GUEST_LINEAR_ADDRESS, stLinear);
  if (stHasGpa) setNum(c, F.GUEST_PHYSICAL_ADDRESS, stGpa);
  // VM exits clear the valid bit of the VM-entry interruption-information field (§24.8.3)
  set32(c, F.VM_ENTRY_INTR_INFO, vmcsLo(c, F.VM_ENTRY_INTR_INFO) & ~INTR_VALID);
}

/**
 * Leaves non-root operation for the guest state the CPU holds now: RIP must already be the
 * guest RIP to save (the faulting / exiting instruction, or the next one for trap-like
 * exits). Never returns.
 */
export function vmExit(cpu: Cpu, reason: number, qual: number): never {
  const st = cpu.vmx, c = st.cache;
  deactivateEpt(cpu); // guest-physical = host-physical again for everything below
  recordExitInfo(cpu, reason, qual);
  clearStaged();
  // undo TSC offsetting; save the preemption timer if asked (§27.3.4)
  subTscOffset(cpu, st.tscOffLo, st.tscOffHi);
  if ((st.pin & PIN_PREEMPT_TIMER) !== 0 && (st.exitCtls & EXIT_SAVE_PREEMPT) !== 0) {
    const left = Math.max(0, Math.ceil((st.preemptDeadline - tscValue(cpu)) / 32));
    set32(c, F.VMX_PREEMPTION_TIMER_VALUE, reason === EXIT.PREEMPTION_TIMER ? 0 : Math.min(left, 0xffffffff));
  }
  st.tscOffset = 0; st.tscOffLo = 0; st.tscOffHi = 0;
  st.preemptDeadline = NaN;
  st.timer?.cancel();
  saveGuestState(cpu);
  st.vectoring = 0;
  cpu.delivering = -1;
  st.nonRoot = false;
  const storeCount = vmcsLo(c, F.VM_EXIT_MSR_STORE_COUNT) >>> 0;
  if (storeCount !== 0 && storeMsrArea(cpu, getNum(c, F.VM_EXIT_MSR_STORE_ADDR), storeCount) !== 0) vmxAbort(cpu, ABORT_MSR_STORE);
  finishToHost(cpu);
}

/** §27.5-27.6 shared by VM exits and VM-entry failures. */
function finishToHost(cpu: Cpu): never {
  const c = cpu.vmx.cache;
  const why = loadHostState(cpu);
  if (why !== 0) vmxAbort(cpu, why);
  const loadCount = vmcsLo(c, F.VM_EXIT_MSR_LOAD_COUNT) >>> 0;
  if (loadCount !== 0 && loadMsrArea(cpu, getNum(c, F.VM_EXIT_MSR_LOAD_ADDR), loadCount) !== 0) vmxAbort(cpu, ABORT_MSR_LOAD);
  // events pending for the host are rechecked at the next instruction boundary; with a
  // local APIC the flag is its real INTR line again (in non-root it may have meant "poll")
  const l = cpu.lapic;
  cpu.irqPending = l !== null && l.interruptPending !== undefined ? l.interruptPending : true;
  throw STOP;
}

/**
 * An exit caused by executing an instruction (fault-like: the guest RIP saved is the
 * instruction's own): records its length, and its instruction information when given.
 */
export function vmExitInstr(cpu: Cpu, reason: number, qual: number, info = -1): never {
  exitWithLength(cpu.rip - cpu.startRip);
  if (info !== -1) exitWithInstructionInfo(info);
  cpu.rip = cpu.startRip;
  return vmExit(cpu, reason, qual);
}

/**
 * VM-entry failure after the checks of §26.3 or during MSR loading (§26.8): the exit
 * reason with bit 31 set, no guest state saved, host state loaded. Never returns.
 */
export function vmEntryFailure(cpu: Cpu, reason: number, qual: number): never {
  const st = cpu.vmx;
  deactivateEpt(cpu);
  recordExitInfo(cpu, reason | EXIT_REASON_ENTRY_FAILURE, qual);
  clearStaged();
  subTscOffset(cpu, st.tscOffLo, st.tscOffHi);
  st.tscOffset = 0; st.tscOffLo = 0; st.tscOffHi = 0;
  st.preemptDeadline = NaN;
  st.timer?.cancel();
  st.vectoring = 0;
  st.nonRoot = false;
  finishToHost(cpu);
}

/**
 * VMX abort (§27.7): the indicator goes into the VMCS region (offset 4), the logical
 * processor enters the shutdown state. Nestvisor stops the vCPU like a triple fault.
 */
export function vmxAbort(cpu: Cpu, indicator: number): never {
  const st = cpu.vmx;
  deactivateEpt(cpu);
  st.abort = indicator;
  st.nonRoot = false;
  if (st.currentVmcs >= 0) cpu.mem.write32(st.currentVmcs + VMCS_OFF_ABORT, indicator);
  cpu.tripleFault(`VMX abort ${indicator}`);
  throw STOP;
}
