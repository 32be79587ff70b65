/**
 * The TLB-miss path of Cpu.translate (split out of cpu.ts): linear → physical for an access
 * type (0 read, 1 write, 2 execute) and privilege, through the page walk (mmu.ts) or, with
 * paging off, identity (or EPT's guest-physical translation, SDM Vol. 3C §29.3.1). RAM pages
 * are entered in the software TLB; pages with a data breakpoint stay out of it so every access
 * to them is checked (debug.ts). A failed walk raises #PF with CR2 = the linear address.
 */
import type { Cpu } from './cpu.js';
import { TLB_MASK, TLB_LOG } from './cpu.js';
import { CR0_PG, PF_ } from './regs.js';
import { walk } from './mmu.js';
import { checkDataBreakpoints } from './debug.js';

const TWO32 = 4294967296;

export function tlbFill(cpu: Cpu, lin: number, access: number, user: boolean): number {
  if ((cpu.cr0 & CR0_PG) === 0) {
    // the 32-bit wrap without `%` (an fmod call in V8); ToUint32 wraps negative values too
    let phys = lin >>> 0;
    let perm = 63;
    // paging off under EPT: the linear address is the guest-physical one (SDM 3C §29.3.1)
    if (cpu.gpaTranslate !== null) { phys = cpu.gpaTranslate(phys, access, false); perm = cpu.gpaPerm; }
    const pn = Math.floor(lin / 4096);
    if (cpu.dataBreakpoints && watched(cpu, lin, access)) return phys;
    const idx = cpu.mem.ramIndex(Math.floor(phys / 4096) * 4096, 4096);
    if (idx >= 0) {
      const i = pn & TLB_MASK;
      cpu.tlbTag[i] = pn; cpu.tlbPhys[i] = idx; cpu.tlbPerm[i] = perm;
      logFill(cpu, i);
    }
    return phys;
  }
  const w = cpu.walkOut;
  walk(cpu, lin, access, user, w);
  if (w.fault !== 0) {
    cpu.cr2Before = cpu.cr2; // a #PF that VM-exits leaves CR2 alone (vmx/events.ts restores it)
    cpu.cr2 = lin; // the faulting linear address (canonical, as a signed number)
    cpu.fault(PF_, w.errorCode, true);
  }
  const phys = w.phys;
  const pageBase = Math.floor(phys / 4096) * 4096; // not `%`: an fmod call in V8 (phys >= 0)
  if (cpu.dataBreakpoints && watched(cpu, lin, access)) return phys;
  const idx = cpu.mem.ramIndex(pageBase, 4096);
  if (idx >= 0) {
    // the TLB holds the RAM index of the page (equal to the address below 3 GiB)
    const i = Math.floor(lin / 4096) & TLB_MASK;
    cpu.tlbTag[i] = Math.floor(lin / 4096);
    cpu.tlbPhys[i] = idx;
    cpu.tlbPerm[i] = w.perm;
    logFill(cpu, i);
    if (w.pageSize > 4096) cpu.tlbHasLarge = true;
  }
  return phys;
}

/** Records a filled index for Cpu.flushTlb (past TLB_LOG fills it clears the whole TLB). */
function logFill(cpu: Cpu, i: number): void {
  const n = cpu.tlbLogN;
  if (n < TLB_LOG) cpu.tlbLog[n] = i;
  cpu.tlbLogN = n + 1;
}

/** A data access to a page with a data breakpoint: records hits; such pages stay out of the TLB. */
function watched(cpu: Cpu, lin: number, access: number): boolean {
  const pn = Math.floor(lin / 4096);
  const b = cpu.dataBpPage;
  if (b[0] !== pn && b[1] !== pn && b[2] !== pn && b[3] !== pn) return false;
  if (access !== 2) checkDataBreakpoints(cpu, lin, access);
  return true;
}
