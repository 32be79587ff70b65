/**
 * TPR shadow (SDM Vol. 3C §29.1-§29.3 "Virtual TPR", "TPR virtualization", "Virtualizing
 * MOV to/from CR8"): with the "use TPR shadow" primary control, MOV to/from CR8 in 64-bit
 * guest code uses VTPR, the dword at offset 80H of the virtual-APIC page, instead of the
 * local APIC's TPR — unless CR8-load/CR8-store exiting makes the instruction exit first
 * (those exits have priority, §25.1.3).
 *
 *   VTPR (virtual-APIC page + 80H)
 *     31:8  cleared by MOV to CR8
 *     7:4   the virtual task-priority class (= CR8[3:0])
 *     3:0   cleared by MOV to CR8
 *
 * TPR virtualization (§29.1.2): after a MOV to CR8 has written VTPR, and with
 * "virtual-interrupt delivery" 0 (the only setting offered), a VM exit "TPR below
 * threshold" (reason 43) follows when VTPR[7:4] < TPR threshold[3:0]. It is trap-like: the
 * instruction has completed, the saved RIP is the next instruction's, and there is no
 * exit qualification (§27.2.1).
 *
 * VM entry (§26.2.1.1) refuses a TPR threshold above VTPR[7:4] when "virtualize APIC
 * accesses" is 0 (entry-checks.ts, with the VTPR byte read by vmentry.ts from here).
 * The other source of a TPR-below-threshold exit at entry (§26.7.7) needs "virtualize APIC
 * accesses" = 1, which is not offered, so it cannot happen here.
 *
 * The virtual-APIC page address is host-physical for the guest (an L1 physical address,
 * not translated by EPT: §24.6.8); like any physical access of the VM it is bounds-checked
 * by PhysicalMemory (outside RAM it goes to the MMIO bus).
 */
import type { Cpu } from '../cpu.js';
import { F, vmcsLo } from './vmcs-fields.js';
import { getNum } from './guest-state.js';
import { vmExit, EXIT } from './vmexit.js';
import { PROC_TPR_SHADOW } from './capabilities.js';

/** Offset of VTPR in the virtual-APIC page (§29.1.1). */
export const VTPR_OFFSET = 0x80;

function vtprAddr(cpu: Cpu): number { return getNum(cpu.vmx.cache, F.VIRTUAL_APIC_PAGE_ADDR) + VTPR_OFFSET; }

/** The VTPR byte of the current VMCS's virtual-APIC page (VM entry's TPR-threshold check). */
export function readVtpr(cpu: Cpu): number { return cpu.mem.read8(vtprAddr(cpu)); }

/** MOV from CR8 with the TPR shadow: CR8[3:0] = VTPR[7:4], the rest 0 (§29.3). */
export function shadowCr8Read(cpu: Cpu): number { return (readVtpr(cpu) >>> 4) & 0xf; }

/**
 * MOV to CR8 with the TPR shadow, after the reserved-bit check (§29.3): VTPR[7:4] = v[3:0]
 * with VTPR[3:0] and VTPR[31:8] cleared, then TPR virtualization (§29.1.2), which may end
 * the instruction with a trap-like VM exit (reason 43; RIP already past the instruction).
 */
export function shadowCr8Write(cpu: Cpu, v: number): void {
  cpu.mem.write32(vtprAddr(cpu), (v & 0xf) << 4);
  const threshold = vmcsLo(cpu.vmx.cache, F.TPR_THRESHOLD) & 0xf;
  if ((v & 0xf) < threshold) vmExit(cpu, EXIT.TPR_BELOW_THRESHOLD, 0);
}

/** Whether MOV to/from CR8 of the guest uses VTPR (non-root with "use TPR shadow"). */
export function tprShadowOn(cpu: Cpu): boolean { return cpu.vmx.nonRoot && (cpu.vmx.proc & PROC_TPR_SHADOW) !== 0; }
