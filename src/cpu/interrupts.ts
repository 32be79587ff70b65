/**
 * Event delivery through the IVT (real mode) and the IDT (protected and IA-32e mode):
 * SDM Vol. 3A §6.10-6.14 and Vol. 2 "INT n/INTO/INT3/INT1" Operation. Owned by the
 * control-transfer family.
 *
 * `deliver` is called for exceptions (cpu.raiseException: faults with cpu.rip rolled back
 * to the faulting instruction, traps with cpu.rip past it), external interrupts and NMI
 * (cpu.checkInterrupts), and software interrupts (INT n/INT3/INTO via
 * cpu.softwareInterrupt). The return address pushed is always `nextRip`.
 *
 * Every check and every stack write happens before the first register changes, so a
 * fault during delivery leaves the interrupted context intact for the nested event
 * (cpu.raiseException turns it into #DF or a triple fault per SDM Table 6-5).
 *
 * Error codes of faults raised here carry EXT (bit 0) unless the event is a software
 * interrupt (SDM Vol. 3A §6.13); IDT references are vector*8 + 2 (IDT bit) + EXT.
 */
import type { Cpu, CpuHooks } from './cpu.js';
import {
  CS, SS, DS, ES, FS, GS, GP, NP, SS_, CR0_PE, EFER_LMA, IF, TF, NT, RF, VM, AC,
} from './regs.js';
import {
  StackBuilder, readDescriptor, descDpl, descPresent, descLimit, descBase, descAr, isCode, isConforming,
  isLongCode, selError, loadCs, loadNull, loadReal, setAccessed, tssStack, tss64Stack, checkInnerSs,
} from './segments.js';
import { taskGateEvent } from './task-switch.js';

const TWO32 = 4294967296;

/** Fault-class exceptions push RF = 1 so IRET does not re-trigger instruction breakpoints (SDM Vol. 3A §17.3.1.1). */
const FAULT_CLASS = (1 << 0) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 11) | (1 << 12) |
  (1 << 13) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 20) | (1 << 21);

/** Reused frame writer (delivery is synchronous; an aborted build needs no cleanup). */
const frame = new StackBuilder();

export function deliver(cpu: Cpu, vector: number, errorCode: number, hasError: boolean, software: boolean, nextRip: number): void {
  if ((cpu.cr0 & CR0_PE) === 0) deliverReal(cpu, vector, nextRip);
  else if ((cpu.efer & EFER_LMA) !== 0) deliverLong(cpu, vector, errorCode, hasError, software, nextRip);
  else deliverProtected(cpu, vector, errorCode, hasError, software, nextRip);
}

export function defaultHooks(): CpuHooks {
  return {
    deliver,
    acknowledgeInterrupt: () => -1,
  };
}

/** EFLAGS image to push: RF set for fault-class hardware exceptions. */
function pushedFlags(cpu: Cpu, vector: number, software: boolean): number {
  let f = cpu.getFlags();
  if (!software && vector < 32 && ((FAULT_CLASS >>> vector) & 1) !== 0) f |= RF;
  return f;
}

/** Flags after delivery: TF, NT, RF, VM cleared; IF too through an interrupt gate. */
function enterFlags(cpu: Cpu, trapGate: boolean): void {
  cpu.materializeFlags();
  cpu.flags &= ~(TF | NT | RF | VM | (trapGate ? 0 : IF));
}

// ---- real mode (SDM Vol. 3A §20.1.4) ----------------------------------------------------------

function deliverReal(cpu: Cpu, vector: number, nextRip: number): void {
  // no error codes in real mode; the IVT entry is IP then CS
  if (vector * 4 + 3 > cpu.idtLimit) cpu.gp(0);
  const a = (cpu.idtBase + vector * 4) >>> 0;
  const ip = cpu.rdSys16(a), cs = cpu.rdSys16(a + 2);
  const flags = cpu.getFlags();
  const sp = cpu.r[8]!;
  frame.init(cpu.segBase[SS]!, cpu.segLimit[SS]!, 0x93, sp, 2, false, SS_, 0);
  frame.push(cpu, 2, flags & 0xffff, 0);
  frame.push(cpu, 2, cpu.segSel[CS]!, 0);
  frame.push(cpu, 2, nextRip & 0xffff, 0);
  cpu.r[8] = (sp & ~0xffff) | frame.sp;
  cpu.flags = flags & ~(IF | TF | AC | RF);
  loadReal(cpu, CS, cs);
  cpu.rip = ip;
  cpu.updateMode();
}

// ---- protected mode (SDM Vol. 3A §6.12, Vol. 2 INT n "PROTECTED-MODE") -------------------------

function deliverProtected(cpu: Cpu, vector: number, errorCode: number, hasError: boolean, software: boolean, nextRip: number): void {
  const ext = software ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > cpu.idtLimit) cpu.gp(idtErr);
  const ga = (cpu.idtBase + vector * 8) >>> 0;
  const glo = cpu.rdSys32(ga), ghi = cpu.rdSys32(ga + 4);
  const type = (ghi >> 8) & 0x1f;
  if (type !== 5 && type !== 6 && type !== 7 && type !== 0xe && type !== 0xf) cpu.gp(idtErr);
  const cpl = cpu.cpl;
  if (software && descDpl(ghi) < cpl) cpu.gp(idtErr);
  if (!descPresent(ghi)) cpu.fault(NP, idtErr, true);
  // a task gate: a hardware task switch to the TSS it names (SDM Vol. 3A §6.11.1, §7.3)
  if (type === 5) {
    taskGateEvent(cpu, vector, glo, errorCode, hasError, software, nextRip, pushedFlags(cpu, vector, software));
    return;
  }
  const gate32 = (type & 8) !== 0;
  const trapGate = (type & 1) !== 0;
  const csSel = glo >>> 16;
  const offset = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff;
  if ((csSel & 0xfffc) === 0) cpu.gp(ext);
  const clo = readDescriptor(cpu, csSel, GP, ext);
  const chi = cpu.hi;
  const dpl = descDpl(chi);
  if (!isCode(chi) || dpl > cpl) cpu.gp(selError(csSel, ext));
  if (!descPresent(chi)) cpu.fault(NP, selError(csSel, ext), true);
  if (offset > descLimit(clo, chi)) cpu.gp(ext);
  const v86 = (cpu.flags & VM) !== 0;
  const size = gate32 ? 4 : 2;
  const flags = pushedFlags(cpu, vector, software);
  const ret = gate32 ? nextRip >>> 0 : nextRip & 0xffff;

  if (!isConforming(chi) && dpl < cpl) {
    // inter-privilege: the stack for the new CPL comes from the TSS
    if (v86 && dpl !== 0) cpu.gp(selError(csSel, ext));
    const esp = tssStack(cpu, dpl, ext);
    const ssSel = cpu.hi & 0xffff;
    const slo = checkInnerSs(cpu, ssSel, dpl, ext);
    const shi = cpu.hi;
    frame.init(descBase(slo, shi), descLimit(slo, shi), descAr(shi), esp, (shi & 0x400000) !== 0 ? 4 : 2,
      dpl === 3, SS_, selError(ssSel, ext));
    if (v86) {
      // from virtual-8086 mode the data selectors go on the ring-0 stack (SDM Vol. 3A §20.3.1.1)
      frame.push(cpu, size, cpu.segSel[GS]!, 0);
      frame.push(cpu, size, cpu.segSel[FS]!, 0);
      frame.push(cpu, size, cpu.segSel[DS]!, 0);
      frame.push(cpu, size, cpu.segSel[ES]!, 0);
    }
    frame.push(cpu, size, cpu.segSel[SS]!, 0);
    frame.push(cpu, size, size === 4 ? cpu.r[8]! : cpu.r[8]! & 0xffff, 0);
    frame.push(cpu, size, size === 4 ? flags : flags & 0xffff, 0);
    frame.push(cpu, size, cpu.segSel[CS]!, 0);
    frame.push(cpu, size, ret, 0);
    if (hasError) frame.push(cpu, size, errorCode, 0);
    setAccessed(cpu, ssSel, shi);
    setAccessed(cpu, csSel, chi);
    // commit
    enterFlags(cpu, trapGate);
    if (v86) { loadNull(cpu, GS, 0); loadNull(cpu, FS, 0); loadNull(cpu, DS, 0); loadNull(cpu, ES, 0); }
    cpu.setSegCache(SS, ssSel, descBase(slo, shi), descLimit(slo, shi), descAr(shi | 0x100));
    cpu.r[8] = frame.width === 4 ? frame.sp | 0 : (esp & ~0xffff) | frame.sp;
    loadCs(cpu, csSel, clo, chi, dpl);
  } else {
    // same privilege (or a conforming handler): the current stack
    if (v86) cpu.gp(selError(csSel, ext));
    const width = cpu.stackSize;
    const sp = cpu.r[8]!;
    frame.init(cpu.segBase[SS]!, cpu.segLimit[SS]!, cpu.segAr[SS]!, sp, width, cpl === 3, SS_, ext);
    frame.push(cpu, size, size === 4 ? flags : flags & 0xffff, 0);
    frame.push(cpu, size, cpu.segSel[CS]!, 0);
    frame.push(cpu, size, ret, 0);
    if (hasError) frame.push(cpu, size, errorCode, 0);
    setAccessed(cpu, csSel, chi);
    enterFlags(cpu, trapGate);
    cpu.r[8] = width === 4 ? frame.sp | 0 : (sp & ~0xffff) | frame.sp;
    loadCs(cpu, csSel, clo, chi, cpl);
  }
  cpu.rip = offset;
  cpu.updateMode();
}

// ---- IA-32e mode (SDM Vol. 3A §6.14) ----------------------------------------------------------

function deliverLong(cpu: Cpu, vector: number, errorCode: number, hasError: boolean, software: boolean, nextRip: number): void {
  const ext = software ? 0 : 1;
  const idtErr = vector * 8 + 2 + ext;
  if (vector * 16 + 15 > cpu.idtLimit) cpu.gp(idtErr);
  const ga = cpu.idtBase + vector * 16;
  const glo = cpu.rdSys32(ga), ghi = cpu.rdSys32(ga + 4), gOffHi = cpu.rdSys32(ga + 8);
  const type = (ghi >> 8) & 0x1f;
  // only 64-bit interrupt and trap gates exist in IA-32e mode (SDM Vol. 3A §6.14.1)
  if (type !== 0xe && type !== 0xf) cpu.gp(idtErr);
  const cpl = cpu.cpl;
  if (software && descDpl(ghi) < cpl) cpu.gp(idtErr);
  if (!descPresent(ghi)) cpu.fault(NP, idtErr, true);
  const csSel = glo >>> 16;
  const offset = gOffHi * TWO32 + ((((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0));
  if ((csSel & 0xfffc) === 0) cpu.gp(ext);
  const clo = readDescriptor(cpu, csSel, GP, ext);
  const chi = cpu.hi;
  const dpl = descDpl(chi);
  if (!isCode(chi) || dpl > cpl || !isLongCode(chi)) cpu.gp(selError(csSel, ext));
  if (!descPresent(chi)) cpu.fault(NP, selError(csSel, ext), true);
  if (offset < -0x800000000000 || offset >= 0x800000000000) cpu.gp(ext);
  const newCpl = !isConforming(chi) && dpl < cpl ? dpl : cpl;
  const ist = ghi & 7;
  let rsp: number;
  if (ist !== 0) rsp = tss64Stack(cpu, 2 + ist, ext);
  else if (newCpl !== cpl) rsp = tss64Stack(cpu, newCpl, ext);
  else rsp = cpu.code64 ? cpu.getRegNum(4) : cpu.r[8]! >>> 0;
  // the frame is 16-byte aligned (SDM Vol. 3A §6.14.2)
  rsp -= ((rsp % 16) + 16) % 16;
  frame.init(0, 0, 0, rsp, 8, newCpl === 3, SS_, ext);
  const flags = pushedFlags(cpu, vector, software);
  frame.push(cpu, 8, cpu.segSel[SS]!, 0);
  frame.push(cpu, 8, cpu.r[8]!, cpu.r[9]!);
  frame.push(cpu, 8, flags, 0);
  frame.push(cpu, 8, cpu.segSel[CS]!, 0);
  frame.push(cpu, 8, nextRip | 0, Math.floor(nextRip / TWO32) | 0);
  if (hasError) frame.push(cpu, 8, errorCode, 0);
  setAccessed(cpu, csSel, chi);
  // commit
  enterFlags(cpu, (type & 1) !== 0);
  // a privilege change loads SS with a null selector whose RPL is the new CPL
  if (newCpl !== cpl) loadNull(cpu, SS, newCpl);
  const sp = frame.sp;
  cpu.r[8] = sp | 0;
  cpu.r[9] = Math.floor(sp / TWO32) | 0;
  loadCs(cpu, csSel, clo, chi, newCpl);
  cpu.rip = offset;
  cpu.updateMode();
}
