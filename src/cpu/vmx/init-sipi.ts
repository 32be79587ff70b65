/**
 * INIT and start-up IPIs under VMX (SDM Vol. 3C §23.8 "Restrictions on VMX operation",
 * §25.2 "Other causes of VM exits", §24.4.2 activity states, §26.6.2):
 *
 *   VMX root operation    INIT is blocked: it stays pending (latched) until VMXOFF
 *                         unblocks it, or until VM entry, where it causes a VM exit.
 *   VMX non-root          INIT causes a VM exit, reason 3 (no qualification), at the next
 *                         instruction boundary; the INIT is consumed by that exit. A guest
 *                         in the wait-for-SIPI activity state exits on a SIPI with reason
 *                         4, the SIPI's vector as the qualification; elsewhere in non-root
 *                         a SIPI is ignored, as it is by a running processor.
 *   outside VMX           the board's ordinary INIT (reset, then wait-for-SIPI on an AP).
 *
 * The board (src/machine/vcpus.ts) asks vmxTakesInit / vmxTakesSipi before applying an
 * INIT or SIPI, and takeReleasedInit at each turn for an INIT that VMXOFF released.
 * The events themselves are taken in events.ts checkEvents, in the order of §26.7 / Table
 * 6-2: INIT before the monitor trap flag and every lower-priority event.
 */
import type { Cpu } from '../cpu.js';
import { ACT_WAIT_SIPI } from './vmx-state.js';

/**
 * INIT signal arriving at `cpu`: returns true when VMX operation takes it (blocked and held
 * in root operation, a VM exit in non-root), false for an ordinary INIT.
 */
export function vmxTakesInit(cpu: Cpu): boolean {
  const st = cpu.vmx;
  if (!st.inVmx) return false;
  st.initPending = true;
  // non-root: looked at (and exited on) at the next boundary, a halted guest woken for it
  if (st.nonRoot) cpu.irqPending = true;
  return true;
}

/**
 * Start-up IPI with `vector` arriving at `cpu`: true when VMX operation takes it — a SIPI
 * VM exit for a guest in wait-for-SIPI, ignored anywhere else in VMX operation.
 */
export function vmxTakesSipi(cpu: Cpu, vector: number): boolean {
  const st = cpu.vmx;
  if (!st.inVmx) return false;
  if (st.nonRoot && st.activity === ACT_WAIT_SIPI) {
    st.sipiVector = vector & 0xff;
    cpu.irqPending = true;
  }
  return true;
}

/**
 * An INIT held while blocked that VMXOFF has released (the processor is outside VMX
 * operation now): returns true once, for the board to perform the INIT.
 */
export function takeReleasedInit(cpu: Cpu): boolean {
  const st = cpu.vmx;
  if (!st.initPending || st.inVmx) return false;
  st.initPending = false;
  return true;
}
