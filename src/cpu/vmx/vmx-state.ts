/**
 * Per-CPU VMX state (SDM Vol. 3C §23.5-23.7, §24.1): whether the logical processor is in
 * VMX operation and in root or non-root operation, the VMXON pointer, the current-VMCS
 * pointer, and a cached copy of the current VMCS, as hardware keeps one on the chip.
 * The launch state of a VMCS lives in its region (vmcs-fields.ts header) and in the cache
 * while the VMCS is current, so every VMCS keeps its own.
 *
 * The Cpu holds it as `cpu.vmx`; vmxState(cpu) is the same object (kept for callers of
 * the first slice).
 * Physical pointers are JS numbers (exact: MAXPHYADDR ≤ 52); INVALID_PTR stands for
 * FFFFFFFF_FFFFFFFFH.
 */
import type { Cpu } from '../cpu.js';
import type { VmxCaps } from './capabilities.js';
import type { CpuTimer } from '../platform.js';
import { VMCS_SIZE } from './vmcs-fields.js';

export const INVALID_PTR = -1;

export interface VmxState {
  /** In VMX operation (after a successful VMXON, until VMXOFF). */
  inVmx: boolean;
  /** VMX non-root operation (between VM entry and VM exit; vmentry.ts / vmexit.ts). */
  nonRoot: boolean;
  /** Physical address of the VMXON region, INVALID_PTR outside VMX operation. */
  vmxonPtr: number;
  /** Current-VMCS pointer (SDM §24.1), INVALID_PTR when there is none. */
  currentVmcs: number;
  /** The cached current VMCS: the region's VMCS_SIZE bytes as dwords (vmcs-fields.ts layout). */
  readonly cache: Int32Array;
  /** INIT is blocked in VMX root operation (SDM §23.8; unblocked by VMXOFF). */
  initBlocked: boolean;
  /**
   * An INIT signal is pending (init-sipi.ts): held while blocked in VMX root operation,
   * a VM exit (reason 3) in non-root operation, a real INIT once VMXOFF unblocks it.
   */
  initPending: boolean;
  /** A start-up IPI's vector for a guest in the wait-for-SIPI activity state, -1 if none. */
  sipiVector: number;
  /**
   * The guest's activity state when it is one the CPU has no state for of its own:
   * ACT_WAIT_SIPI (3) from VM entry until the exit; 0 otherwise (HLT is cpu.halted).
   */
  activity: number;
  /** Capabilities of this CPU, built on first use from its profile (capabilities.ts). */
  caps: VmxCaps | null;

  // ---- the current VMCS's execution controls, captured at VM entry -------------------------
  // VMWRITE exits in non-root operation, so these cannot change until the next VM exit; the
  // intercepts read them here instead of decoding the cached VMCS per instruction.
  pin: number; proc: number; proc2: number; exitCtls: number; entryCtls: number;
  exceptionBitmap: number; pfecMask: number; pfecMatch: number;
  cr0Mask: number; cr0Shadow: number; cr4Mask: number; cr4Shadow: number;
  /**
   * TSC offset added to the CPU's TSC offset for the guest (0 without "use TSC offsetting"):
   * as a number (rounded beyond 2^53; for timer arithmetic) and exactly as the VMCS field's
   * halves (tsc.ts adds and removes these).
   */
  tscOffset: number;
  tscOffLo: number; tscOffHi: number;
  /** VMX-preemption timer: deadline as a TSC value (NaN when inactive). */
  preemptDeadline: number;
  /** Virtual-NMI blocking (with "virtual NMIs"; SDM §25.3). */
  virtualNmiBlocked: boolean;
  /** instructionCount at VM entry: the monitor trap flag fires after the next instruction. */
  mtfArmedAt: number;
  /** The event being delivered in non-root operation (IDT-vectoring info format), 0 if none. */
  vectoring: number;
  vectoringError: number;
  /** Why the last VMX abort happened (SDM §27.7), 0 if never. */
  abort: number;
  /** The guest left HLT only to look at events (events.ts); exits report activity state HLT. */
  wokeFromHlt: boolean;
  /** Debug traps held for the guest's pending-debug-exceptions field at the next exit (§27.3.4). */
  pendingDbg: number;
  /**
   * The board's clock timer for the VMX-preemption timer deadline (null stand-alone: a
   * halted guest then takes the timer as run out at once, events.ts wakeGuest).
   */
  timer: CpuTimer | null;
  /**
   * A translated block (cpu/jit) is running in non-root operation: an EPT exit met inside
   * it is deferred until the block has put RIP and the flags back (ept-glue.ts).
   */
  inBlock: boolean;
  /** The deferred EPT exit: reason (48/49) and qualification. */
  deferredReason: number;
  deferredQual: number;
}

/** Guest activity states (SDM Vol. 3C §24.4.2, Table 24-3). */
export const ACT_ACTIVE = 0, ACT_HLT = 1, ACT_SHUTDOWN = 2, ACT_WAIT_SIPI = 3;

/** mtfArmedAt for an MTF VM exit injected by VM entry (type 7): taken with the control clear too. */
export const MTF_INJECTED = -2;

export function createVmxState(): VmxState {
  return {
    inVmx: false, nonRoot: false, vmxonPtr: INVALID_PTR, currentVmcs: INVALID_PTR,
    cache: new Int32Array(VMCS_SIZE / 4), initBlocked: false, initPending: false, sipiVector: -1, activity: 0, caps: null,
    pin: 0, proc: 0, proc2: 0, exitCtls: 0, entryCtls: 0, exceptionBitmap: 0, pfecMask: 0, pfecMatch: 0,
    cr0Mask: 0, cr0Shadow: 0, cr4Mask: 0, cr4Shadow: 0, tscOffset: 0, tscOffLo: 0, tscOffHi: 0, preemptDeadline: NaN,
    virtualNmiBlocked: false, mtfArmedAt: -1, vectoring: 0, vectoringError: 0, abort: 0, wokeFromHlt: false,
    pendingDbg: 0, timer: null, inBlock: false, deferredReason: 0, deferredQual: 0,
  };
}

const states = new WeakMap<Cpu, VmxState>();

/** The VMX state of a CPU (cpu.vmx once the Cpu holds it, a side table until then). */
export function vmxState(cpu: Cpu): VmxState {
  const held = (cpu as unknown as { vmx?: VmxState }).vmx;
  if (held !== undefined) return held;
  let s = states.get(cpu);
  if (s === undefined) { s = createVmxState(); states.set(cpu, s); }
  return s;
}

/**
 * Leaves VMX operation without writing anything back (CPU reset / INIT outside VMX root,
 * SDM §23.8 "RESET"). VMXOFF uses the instruction path instead.
 */
export function resetVmxState(s: VmxState): void {
  s.inVmx = false; s.nonRoot = false; s.vmxonPtr = INVALID_PTR; s.currentVmcs = INVALID_PTR;
  s.initBlocked = false; s.initPending = false; s.sipiVector = -1; s.activity = 0; s.cache.fill(0);
  s.preemptDeadline = NaN; s.virtualNmiBlocked = false; s.vectoring = 0; s.tscOffset = 0; s.tscOffLo = 0; s.tscOffHi = 0; s.pendingDbg = 0;
  s.timer?.cancel();
}
