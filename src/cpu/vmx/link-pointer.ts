/**
 * The VMCS link pointer's memory checks at VM entry (SDM Vol. 3C §26.3.1.5, "VMCS link
 * pointer"). entry-checks.ts checks the field itself (bits 11:0, MAXPHYADDR) as a pure
 * function; what needs guest memory and the current-VMCS pointer lives here, run by
 * vmentry.ts after the register checks passed and before the PDPTEs are loaded (§26.3.1.6
 * comes after §26.3.1.5). When the field is not FFFFFFFF_FFFFFFFFH:
 *   - bits 30:0 of the 4 bytes it references hold the VMCS revision identifier, and bit 31
 *     equals the "VMCS shadowing" control (the region is a shadow VMCS exactly when
 *     shadowing is on);
 *   - outside SMM (always, here) it is not the current-VMCS pointer.
 * A failure is a VM-entry failure, exit reason 33 with qualification 4 (§26.8).
 */
import type { Cpu } from '../cpu.js';
import type { DecodedVmcs } from './entry-checks.js';
import { VMCS_REVISION_ID } from './vmcs-fields.js';
import { PROC_SECONDARY, PROC2_SHADOW_VMCS } from './capabilities.js';

const TWO32 = 4294967296;

/** True when the link pointer passes the memory checks (or is FFFFFFFF_FFFFFFFFH). */
export function linkPointerRegionOk(cpu: Cpu, d: DecodedVmcs): boolean {
  const l = d.linkPointer;
  if (l.lo === -1 && l.hi === -1) return true;
  const ptr = (l.hi >>> 0) * TWO32 + (l.lo >>> 0);
  if (ptr === cpu.vmx.currentVmcs) return false;
  const shadowing = (d.proc & PROC_SECONDARY) !== 0 && (d.proc2 & PROC2_SHADOW_VMCS) !== 0;
  const word = cpu.mem.read32(ptr);
  return (word & 0x7fffffff) === VMCS_REVISION_ID && (word < 0) === shadowing;
}

export { QUAL_LINK_POINTER } from './entry-checks.js';
