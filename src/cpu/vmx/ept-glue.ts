/**
 * EPT in VMX non-root operation (SDM Vol. 3C §29.3, §27.2.1): connects the EPT walk
 * (ept.ts) to the CPU's guest-physical hook (cpu.gpaTranslate, mmu.ts). VM entry with
 * "enable EPT" decodes the EPTP once into this CPU's preallocated Ept object and installs
 * the CPU's translate function (created once per CPU, never per entry or access); every
 * VM exit and VM-entry failure removes it again (vmexit.ts).
 *
 * A failed translation ends the instruction (or event delivery) with a VM exit:
 *   EPT violation (reason 48): Table 27-7 qualification, guest-physical address, and the
 *     guest-linear address when bit 7 is set (the linear address of the walk with paging,
 *     the address itself without paging, where linear = guest-physical);
 *   EPT misconfiguration (reason 49): qualification 0, guest-physical address.
 * Both are fault-like: RIP is the instruction's own, or, during event delivery, the
 * return address the event was being delivered with (exceptions were already rolled back
 * to the faulting instruction, traps and interrupts point past it); the IDT-vectoring
 * information comes from vmexit.ts (cpu.delivering). Bit 12 (NMI unblocking due to IRET)
 * is set when an IRET that unblocked NMIs (ops/iret.ts tells setIretNmiUnblocking) hits
 * the violation while popping its frame.
 *
 * The CPU's TLB caches linear → host-physical with the permission mask eptPermMask()
 * allows (cpu.gpaPerm); it is flushed at every VM entry, VM exit and INVEPT, so no stale
 * EPT translation survives a change of EPTP or of the EPT paging structures that L1
 * announced with INVEPT.
 */
import type { Cpu } from '../cpu.js';
import { CR0_PG } from '../regs.js';
import { inPdpteLoad, walkLinear } from '../mmu.js';
import { Ept, EptResult, decodeEptp, eptTranslate, eptPermMask, newEptResult, EPT_OK, EPT_VIOLATION, EPTQ_LINEAR_VALID, EPTQ_NMI_UNBLOCKING } from './ept.js';
import { vmExit, exitWithGuestPhysical, exitWithLinear, EXIT } from './vmexit.js';
import { F, vmcsLo, vmcsHi } from './vmcs-fields.js';
import { vmxCaps } from './capabilities.js';

interface EptGlue {
  readonly ept: Ept;
  readonly res: EptResult;
  readonly translate: (gpa: number, access: number, isPagingStructure: boolean) => number;
}

const glues = new WeakMap<Cpu, EptGlue>();

/** Set by IRET while it unblocks NMIs in non-root operation (qualification bit 12). */
let iretUnblocking = false;
/** IRET in non-root calls this around its stack reads when it has just unblocked NMIs. */
export function setIretNmiUnblocking(on: boolean): void { iretUnblocking = on; }

function glueFor(cpu: Cpu): EptGlue {
  let g = glues.get(cpu);
  if (g !== undefined) return g;
  const ept: Ept = decodeEptp(0, 0, 0, 36);
  const res = newEptResult();
  const translate = (gpa: number, access: number, isPagingStructure: boolean): number => {
    eptTranslate(cpu.mem, ept, gpa, access, isPagingStructure, res, !inPdpteLoad());
    if (res.fault === EPT_OK) {
      cpu.gpaPerm = eptPermMask(res);
      return res.hpa;
    }
    return eptExit(cpu, gpa, res);
  };
  g = { ept, res, translate };
  glues.set(cpu, g);
  return g;
}

/**
 * Thrown instead of taking an EPT exit met inside a translated block (cpu.vmx.inBlock): the
 * block keeps RIP and the lazy flags in locals, and its catch clause writes them back (to
 * the faulting instruction, as for a fault) before the exit may save guest state; the
 * block's caller (jit/jit.ts) then calls takeDeferredEptExit. The exit information is
 * already staged, so the exit is the one the interpreter would have taken.
 */
export const EPT_EXIT_DEFERRED: { readonly tag: 'ept-exit-deferred' } = Object.freeze({ tag: 'ept-exit-deferred' as const });

function eptExit(cpu: Cpu, gpa: number, res: EptResult): never {
  exitWithGuestPhysical(gpa);
  let reason: number = EXIT.EPT_MISCONFIG, q = 0;
  if (res.fault === EPT_VIOLATION) {
    reason = EXIT.EPT_VIOLATION;
    q = res.qualification;
    if ((q & EPTQ_LINEAR_VALID) !== 0) exitWithLinear((cpu.cr0 & CR0_PG) !== 0 ? walkLinear() : gpa);
    if (iretUnblocking && cpu.delivering < 0) q |= EPTQ_NMI_UNBLOCKING;
  }
  iretUnblocking = false;
  const st = cpu.vmx;
  if (st.inBlock) { st.deferredReason = reason; st.deferredQual = q; throw EPT_EXIT_DEFERRED; }
  return eptExitNow(cpu, reason, q);
}

function eptExitNow(cpu: Cpu, reason: number, q: number): never {
  // fault-like: the instruction's own RIP unless an event was being delivered (its RIP is
  // already the one the event returns to)
  if (cpu.delivering < 0) cpu.rip = cpu.startRip;
  return vmExit(cpu, reason, q);
}

/** The EPT exit a translated block deferred (EPT_EXIT_DEFERRED), now that its state is written back. */
export function takeDeferredEptExit(cpu: Cpu): never {
  cpu.vmx.inBlock = false;
  return eptExitNow(cpu, cpu.vmx.deferredReason, cpu.vmx.deferredQual);
}

/**
 * Called by VM entry once guest state (and the MSR-load area) is loaded, before event
 * injection: installs EPT when the secondary control is set (`proc2` = the effective
 * secondary controls).
 */
export function activateEpt(cpu: Cpu, eptOn: boolean): void {
  if (!eptOn) { cpu.gpaTranslate = null; cpu.gpaPerm = 63; return; }
  const g = glueFor(cpu);
  const c = cpu.vmx.cache, caps = vmxCaps(cpu);
  decodeEptp(vmcsLo(c, F.EPT_POINTER), vmcsHi(c, F.EPT_POINTER), caps.eptCap, caps.physAddrBits, g.ept);
  cpu.gpaTranslate = g.translate;
  cpu.gpaPerm = 63;
}

/** Removes EPT (every VM exit, VM-entry failure, VMX abort). */
export function deactivateEpt(cpu: Cpu): void {
  cpu.gpaTranslate = null;
  cpu.gpaPerm = 63;
  iretUnblocking = false;
}
