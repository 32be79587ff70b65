/**
 * Event injection at VM entry (SDM Vol. 3C §26.6): the VM-entry interruption-information
 * field names an event that is delivered through the guest IDT right after guest state is
 * loaded, as if it had occurred at the first guest instruction:
 *   type 0 external interrupt, 2 NMI, 3 hardware exception (with error code when bit 11),
 *   4 software interrupt, 5 privileged software exception (INT1), 6 software exception
 *   (INT3/INTO): types 4-6 push RIP + VM-entry instruction length; 7 other event (a
 *   pending monitor-trap-flag exit, §26.6.2).
 * The exception bitmap is not consulted for the injected event itself, but a fault during
 * its delivery is an ordinary exception of the guest (possibly a VM exit, with the injected
 * event in the IDT-vectoring information, §27.2.4) — cpu.raiseException handles that.
 */
import type { Cpu } from '../cpu.js';
import { FAULT } from '../fault.js';
import { F, vmcsLo } from './vmcs-fields.js';
import { PIN_VIRTUAL_NMIS } from './capabilities.js';
import { INTR_VALID, INTR_ERROR_VALID } from './vmexit.js';
import { MTF_INJECTED } from './vmx-state.js';

export function injectEvent(cpu: Cpu): void {
  const st = cpu.vmx, c = st.cache;
  const info = vmcsLo(c, F.VM_ENTRY_INTR_INFO);
  if ((info & INTR_VALID) === 0) return;
  const type = (info >>> 8) & 7, vector = info & 0xff;
  // a pending MTF VM exit before the first guest instruction, whatever the "monitor trap
  // flag" control says (§26.6.2; kvm-unit-tests vmx_mtf_test "injected MTF")
  if (type === 7) { st.mtfArmedAt = MTF_INJECTED; cpu.irqPending = true; return; }
  const hasErr = (info & INTR_ERROR_VALID) !== 0;
  const err = hasErr ? vmcsLo(c, F.VM_ENTRY_EXCEPTION_ERROR_CODE) : 0;
  const len = type >= 4 && type <= 6 ? vmcsLo(c, F.VM_ENTRY_INSTRUCTION_LEN) >>> 0 : 0;
  if (type === 2) {
    if ((st.pin & PIN_VIRTUAL_NMIS) !== 0) st.virtualNmiBlocked = true; else cpu.nmiBlocked = true;
  }
  // an injected event other than a software event makes an MTF exit pending right away (§26.7.3 / §25.5.2)
  if (type !== 4 && type !== 6) st.mtfArmedAt = -1;
  cpu.halted = false;
  st.vectoring = info & ~(1 << 12);
  st.vectoringError = err;
  cpu.delivering = type === 3 ? vector : type === 4 || type === 6 ? -1 : vector;
  cpu.startRip = cpu.rip;
  try {
    cpu.hooks.deliver(cpu, vector, err, hasErr, type === 4 || type === 6, cpu.rip + len);
    cpu.delivering = -1;
  } catch (e) {
    if (e !== FAULT) { cpu.delivering = -1; throw e; }
    const v = cpu.excVector, ec = cpu.excError, h = cpu.excHasError;
    // the vectoring information must survive for an exit caused by this nested fault
    if (cpu.delivering < 0) cpu.delivering = vector;
    cpu.raiseException(v, ec, h);
    cpu.delivering = -1;
  }
}
