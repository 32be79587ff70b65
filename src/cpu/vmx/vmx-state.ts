/**
 * Per-CPU VMX state (SDM Vol. 3C §23.5-23.7, §24.1): whether the logical processor is in
 * VMX operation and in root or non-root operation, the VMXON pointer, the current-VMCS
 * pointer, and a cached copy of the current VMCS, as hardware keeps one on the chip.
 * The launch state of a VMCS lives in its region (vmcs-fields.ts header) and in the cache
 * while the VMCS is current, so every VMCS keeps its own.
 *
 * Until the Cpu holds it as `cpu.vmx` (the lead adds `vmx = createVmxState()` to Cpu),
 * vmxState() keeps it in a WeakMap keyed by the Cpu; both paths give the same object.
 * Physical pointers are JS numbers (exact: MAXPHYADDR ≤ 52); INVALID_PTR stands for
 * FFFFFFFF_FFFFFFFFH.
 */
import type { Cpu } from '../cpu.js';
import type { VmxCaps } from './capabilities.js';
import { VMCS_SIZE } from './vmcs-fields.js';

export const INVALID_PTR = -1;

export interface VmxState {
  /** In VMX operation (after a successful VMXON, until VMXOFF). */
  inVmx: boolean;
  /** VMX non-root operation (between VM entry and VM exit). Set by the next slice only. */
  nonRoot: boolean;
  /** Physical address of the VMXON region, INVALID_PTR outside VMX operation. */
  vmxonPtr: number;
  /** Current-VMCS pointer (SDM §24.1), INVALID_PTR when there is none. */
  currentVmcs: number;
  /** The cached current VMCS: the region's VMCS_SIZE bytes as dwords (vmcs-fields.ts layout). */
  readonly cache: Int32Array;
  /** INIT is blocked in VMX root operation (SDM §23.8; unblocked by VMXOFF). */
  initBlocked: boolean;
  /** Capabilities of this CPU, built on first use from its profile (capabilities.ts). */
  caps: VmxCaps | null;
}

export function createVmxState(): VmxState {
  return {
    inVmx: false, nonRoot: false, vmxonPtr: INVALID_PTR, currentVmcs: INVALID_PTR,
    cache: new Int32Array(VMCS_SIZE / 4), initBlocked: false, caps: null,
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
  s.initBlocked = false; s.cache.fill(0);
}
