/**
 * VMLAUNCH / VMRESUME: VM entry (SDM Vol. 3C §30.3 "VMLAUNCH/VMRESUME", Chapter 26).
 *
 *   1. instruction checks (§30.3): #UD, exit in non-root, #GP at CPL > 0, VMfailInvalid
 *      without a current VMCS, launch state (errors 4/5)
 *   2. decodeVmcs + checkVmEntry (entry-checks.ts): controls → VMfailValid(7), host state
 *      → VMfailValid(8), guest state → VM-entry failure (exit reason 33)
 *   3. loading guest state (§26.3.2, guest-state.ts), PDPTE check for PAE guests without
 *      EPT (failure 33 with qualification 2), the VM-entry MSR-load area (§26.4, failure 34
 *      with the entry number)
 *   4. non-register state, TSC offset, preemption timer, monitor trap flag, then event
 *      injection (§26.6, inject.ts)
 * The entry ends by throwing STOP so the run loop continues at the guest RIP without
 * treating VMLAUNCH as a retired instruction (no single-step trap of the host's TF).
 *
 * Error 26 (VM entry with events blocked by MOV SS): the CPU records which instruction set
 * its interrupt shadow (cpu.shadowMovSs).
 */
import type { Cpu } from '../cpu.js';
import { STOP } from '../fault.js';
import { VM, EFER_LMA, CR0_PE } from '../regs.js';
import { F, vmcsLo, vmcsHi, VMCS_OFF_LAUNCH_STATE, LAUNCH_CLEAR, LAUNCH_LAUNCHED } from './vmcs-fields.js';
import { INVALID_PTR } from './vmx-state.js';
import { vmxCaps, PIN_PREEMPT_TIMER, PROC_TSC_OFFSET, PROC_SECONDARY, PROC_TPR_SHADOW, PROC2_EPT } from './capabilities.js';
import { readVtpr } from './tpr-shadow.js';
import { DecodedVmcs, EntryCheckResult, decodeVmcs, checkVmEntry, ENTRY_VMFAIL, ENTRY_FAIL_EXIT, QUAL_PDPTE } from './entry-checks.js';
import { vmFailInvalid, vmFailValid, VMX_ERR } from './instructions.js';
import { loadGuestState, loadNonRegisterState, loadMsrArea, getNum } from './guest-state.js';
import { vmExitInstr, vmEntryFailure, vmExit, exitWithInterruption, EXIT, INTR_VALID, INTR_TYPE_HW_EXC } from './vmexit.js';
import { injectEvent } from './inject.js';
import { armEventPolling } from './events.js';
import { activateEpt } from './ept-glue.js';
import { tscValue, addTscOffset } from '../tsc.js';
import { linkPointerRegionOk, QUAL_LINK_POINTER } from './link-pointer.js';

const decoded = new DecodedVmcs();
const result = new EntryCheckResult();

/** 0F 01 C2 VMLAUNCH. */
export function vmlaunch(cpu: Cpu): void { vmEntry(cpu, true); }
/** 0F 01 C3 VMRESUME. */
export function vmresume(cpu: Cpu): void { vmEntry(cpu, false); }

function vmEntry(cpu: Cpu, launch: boolean): void {
  if (cpu.lock || !cpu.exposeVmx) return cpu.ud();
  const st = cpu.vmx;
  if (!st.inVmx || (cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) return cpu.ud();
  if ((cpu.efer & EFER_LMA) !== 0 && !cpu.code64) return cpu.ud();
  if (st.nonRoot) return vmExitInstr(cpu, launch ? EXIT.VMLAUNCH : EXIT.VMRESUME, 0);
  if (cpu.cpl !== 0) return cpu.gp(0);
  if (st.currentVmcs === INVALID_PTR) { vmFailInvalid(cpu); return; }
  // §30.3 "VMLAUNCH/VMRESUME": executed in a MOV SS/POP SS shadow → VMfailValid(26)
  if (cpu.inhibitIrq && cpu.shadowMovSs) { vmFailValid(cpu, st, VMX_ERR.ENTRY_EVENTS_BLOCKED_BY_MOV_SS); return; }
  const c = st.cache;
  const launchState = c[VMCS_OFF_LAUNCH_STATE >> 2]!;
  if (launch && launchState !== LAUNCH_CLEAR) { vmFailValid(cpu, st, VMX_ERR.VMLAUNCH_NONCLEAR_VMCS); return; }
  if (!launch && launchState !== LAUNCH_LAUNCHED) { vmFailValid(cpu, st, VMX_ERR.VMRESUME_NONLAUNCHED_VMCS); return; }

  const caps = vmxCaps(cpu);
  decodeVmcs(c, decoded);
  checkVmEntry(decoded, { caps, lma: (cpu.efer & EFER_LMA) !== 0, vtpr: entryVtpr(cpu, decoded) }, result);
  if (result.kind === ENTRY_VMFAIL) { vmFailValid(cpu, st, result.error); return; }

  // from here on the entry either succeeds or fails into the host (§26.8)
  captureControls(cpu);
  if (result.kind === ENTRY_FAIL_EXIT) vmEntryFailure(cpu, result.exitReason, result.qualification);
  // §26.3.1.5: the link pointer's referenced revision identifier and not the current VMCS
  if (!linkPointerRegionOk(cpu, decoded)) vmEntryFailure(cpu, EXIT.ENTRY_FAIL_GUEST, QUAL_LINK_POINTER);
  if (!loadGuestState(cpu)) vmEntryFailure(cpu, EXIT.ENTRY_FAIL_GUEST, QUAL_PDPTE);
  const n = vmcsLo(c, F.VM_ENTRY_MSR_LOAD_COUNT) >>> 0;
  if (n !== 0) {
    const bad = loadMsrArea(cpu, getNum(c, F.VM_ENTRY_MSR_LOAD_ADDR), n);
    if (bad !== 0) vmEntryFailure(cpu, EXIT.ENTRY_FAIL_MSR, bad);
  }
  if (launch) c[VMCS_OFF_LAUNCH_STATE >> 2] = LAUNCH_LAUNCHED;
  st.nonRoot = true;
  st.vectoring = 0;
  cpu.delivering = -1;
  // TSC offsetting (§25.3): RDTSC/RDMSR(TSC) in the guest read TSC + offset
  // (exactly, modulo 2^64: tsc.ts; the number form serves the preemption-timer arithmetic)
  if ((st.proc & PROC_TSC_OFFSET) !== 0) {
    st.tscOffset = getNum(c, F.TSC_OFFSET);
    st.tscOffLo = vmcsLo(c, F.TSC_OFFSET); st.tscOffHi = vmcsHi(c, F.TSC_OFFSET);
    addTscOffset(cpu, st.tscOffLo, st.tscOffHi);
  }
  // VMX-preemption timer (§25.5.1): counts down by 1 every 2^5 TSC ticks (IA32_VMX_MISC[4:0] = 5)
  st.preemptDeadline = (st.pin & PIN_PREEMPT_TIMER) !== 0
    ? tscValue(cpu) - st.tscOffset + (vmcsLo(c, F.VMX_PREEMPTION_TIMER_VALUE) >>> 0) * 32 : NaN;
  // on a board the deadline is also a clock timer: a halted guest's time runs to it (events.ts)
  if (st.timer !== null) {
    if (Number.isNaN(st.preemptDeadline)) st.timer.cancel();
    else st.timer.armAt(Math.ceil(st.preemptDeadline * 1e9 / cpu.profile.tscHz));
  }
  loadNonRegisterState(cpu);
  st.mtfArmedAt = cpu.instructionCount;
  cpu.flushTlb(); // VPID: untagged TLB, flushed on every entry and exit (vmexit.ts)
  // EPT (§29.3) from here on: every guest paging-structure access and guest-physical
  // address, starting with the delivery of an injected event (ept-glue.ts)
  activateEpt(cpu, (st.proc2 & PROC2_EPT) !== 0);
  armEventPolling(cpu);
  const injecting = (vmcsLo(c, F.VM_ENTRY_INTR_INFO) & INTR_VALID) !== 0;
  injectEvent(cpu);
  if (!injecting) pendingDebugExceptions(cpu);
  throw STOP;
}

/**
 * Pending debug exceptions (SDM Vol. 3C §26.6.3): B3-B0 and BS of the guest's pending
 * debug exceptions field become a #DB before the first guest instruction unless MOV SS
 * blocks it. A #DB that the exception bitmap turns into a VM exit reports the bits as its
 * qualification and leaves DR6 alone (§27.1); otherwise they are set in DR6 and the #DB is
 * delivered through the guest IDT.
 */
function pendingDebugExceptions(cpu: Cpu): void {
  const c = cpu.vmx.cache;
  const p = vmcsLo(c, F.GUEST_PENDING_DBG_EXCEPTIONS) & 0x400f;
  if (p === 0) return;
  // blocking by MOV SS holds them until after the first guest instruction (cpu.ts afterDebug)
  if ((vmcsLo(c, F.GUEST_INTERRUPTIBILITY_INFO) & 2) !== 0) { cpu.dbHeld = p; return; }
  cpu.startRip = cpu.rip;
  if (((cpu.vmx.exceptionBitmap >>> 1) & 1) !== 0) {
    exitWithInterruption(INTR_VALID | INTR_TYPE_HW_EXC | 1, 0);
    vmExit(cpu, EXIT.EXCEPTION_NMI, p);
  }
  cpu.dr[6] = (cpu.dr[6]! | p) >>> 0;
  cpu.raiseException(1, 0, false);
}

/**
 * VTPR for the TPR-threshold check (§26.2.1.1): read only with "use TPR shadow" and a
 * virtual-APIC address that passes its own check (4-KByte aligned, within MAXPHYADDR), so
 * a bad address fails as a bad address and never touches the bus.
 */
function entryVtpr(cpu: Cpu, d: DecodedVmcs): number {
  if ((d.proc & PROC_TPR_SHADOW) === 0) return -1;
  const a = d.virtualApic;
  if ((a.lo & 0xfff) !== 0 || (a.hi >>> 0) >= 2 ** (cpu.profile.physAddrBits - 32)) return -1;
  return readVtpr(cpu);
}

/** The execution controls the intercepts consult during non-root operation. */
function captureControls(cpu: Cpu): void {
  const st = cpu.vmx, d = decoded;
  st.pin = d.pin;
  st.proc = d.proc;
  st.proc2 = (d.proc & PROC_SECONDARY) !== 0 ? d.proc2 : 0;
  st.exitCtls = d.exit;
  st.entryCtls = d.entry;
  st.exceptionBitmap = d.exceptionBitmap;
  st.pfecMask = vmcsLo(st.cache, F.PAGE_FAULT_ERROR_CODE_MASK);
  st.pfecMatch = vmcsLo(st.cache, F.PAGE_FAULT_ERROR_CODE_MATCH);
  st.cr0Mask = vmcsLo(st.cache, F.CR0_GUEST_HOST_MASK);
  st.cr0Shadow = vmcsLo(st.cache, F.CR0_READ_SHADOW);
  st.cr4Mask = vmcsLo(st.cache, F.CR4_GUEST_HOST_MASK);
  st.cr4Shadow = vmcsLo(st.cache, F.CR4_READ_SHADOW);
  st.tscOffset = 0; st.tscOffLo = 0; st.tscOffHi = 0;
  st.preemptDeadline = NaN;
}
