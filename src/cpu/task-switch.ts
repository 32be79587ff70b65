/**
 * Hardware task switches (SDM Vol. 3A chapter 7 "Task Management", §7.3, and the TASK-GATE /
 * TASK-RETURN / SWITCH-TASKS parts of the JMP, CALL, IRET and INT n "Operation" sections
 * in Vol. 2). Four sources start one, numbered as the VMX exit qualification numbers them
 * (SDM Vol. 3C §28.2.1, Table 28-2, bits 31:30):
 *   CALL (0)  far CALL to an available TSS descriptor or to a task gate (GDT/LDT): nests
 *   IRET (1)  IRET with EFLAGS.NT = 1: back to the task named by the previous-task link
 *   JMP  (2)  far JMP to an available TSS or a task gate: no nesting
 *   IDT  (3)  an exception, NMI, external or software interrupt through a task gate: nests
 * None of this exists in IA-32e mode: the callers keep the #GP the SDM gives there.
 *
 * The switch runs in two halves, as §7.3 orders it:
 *   - In the old task's context: the descriptor checks (done by the callers, which give the
 *     right #GP/#TS/#NP vector and selector), the TSS limit checks (#TS), reading the whole
 *     new TSS and making sure the old TSS's dynamic fields can be written. A fault here
 *     leaves the old task untouched.
 *   - The commit (§7.3 steps 6-11): busy bits, the old task's state saved in its TSS, the
 *     previous-task link and NT for a nesting switch, TR loaded, CR0.TS set.
 *   - In the new task's context (§7.3 steps 12-13): CR3 (paging on, 32-bit TSS), EIP,
 *     EFLAGS, the general registers and the segment selectors are loaded, then LDTR, CS, SS
 *     and the data segments are qualified. A fault from here is delivered with the new
 *     task's EIP as its return address (cpu.startRip is moved there), as Table 7-1 says.
 *
 * TSS layouts (SDM Vol. 3A Figures 7-2 and 7-11): 32-bit — link 0, ESPn/SSn 4..1B, CR3 1C,
 * EIP 20, EFLAGS 24, EAX..EDI 28..44, ES CS SS DS FS GS 48..5C (4 apart), LDT 60, T bit
 * 64.0, I/O map base 66; 16-bit — link 0, SPn/SSn 2..0D, IP 0E, FLAGS 10, AX..DI 12..20,
 * ES CS SS DS 22..28, LDT 2A.
 *
 * In VMX non-root operation every task switch is a VM exit (SDM Vol. 3C §25.1.2), taken
 * after the checks §25.4.2 lists (gate and TSS-descriptor privilege, descriptor-table
 * limits) and before any busy/present/limit check on the new TSS and any state change.
 */
import type { Cpu } from './cpu.js';
import {
  CS, SS, DS, ES, FS, GS, LDTR, TR, GP, NP, SS_, TS, DB, NT, VM, CR0_PG, CR0_TS, AR_UNUSABLE,
} from './regs.js';
import {
  descriptorAddress, descBase, descLimit, descAr, descDpl, descPresent, descType, isCode, isConforming,
  isWritableData, selError, readDescriptor, loadCs, loadFromDescriptor, loadNull, loadV86, sysWrite, StackBuilder,
} from './segments.js';
import { writeCr3 } from './ops/crdr.js';
import {
  vmExit, vmExitInstr, exitWithLength, EXIT, INTR_VALID, INTR_TYPE_SW_INT, INTR_TYPE_SW_EXC,
} from './vmx/vmexit.js';

const TWO32 = 4294967296;

/** Source of a task switch, as VMX exit qualification bits 31:30 number it (SDM Vol. 3C Table 28-2). */
export const TASK_CALL = 0, TASK_IRET = 1, TASK_JMP = 2, TASK_IDT = 3;

/** DR6.BT: the debug trap raised by the new TSS's T flag (SDM Vol. 3B §17.2.3). */
const DR6_BT = 0x8000;

// ---- scratch for the new task's state (read in full before anything is committed) ---------
const newGpr = new Int32Array(8);
const newSeg = new Int32Array(6);
const frame = new StackBuilder();

/** Linear address of a TSS field: TSS bases are 32-bit outside IA-32e mode. */
function at(base: number, off: number): number { return (base + off) % TWO32; }

/** Available 16-bit (type 1) or 32-bit (type 9) TSS. */
function isAvailableTss(hi: number): boolean { const t = descType(hi); return t === 1 || t === 9; }
/** Busy 16-bit (3) or 32-bit (0xB) TSS. */
function isBusyTss(hi: number): boolean { const t = descType(hi); return t === 3 || t === 0xb; }

/**
 * Reads the TSS descriptor a task gate or the previous-task link names: it must be in the
 * GDT (TI = 0) and within its limit, else `vector`(selector + EXT). Returns lo; hi in cpu.hi.
 */
function readTssDescriptor(cpu: Cpu, sel: number, vector: number, ext: number): number {
  if ((sel & 4) !== 0) cpu.fault(vector, selError(sel, ext), true);
  return readDescriptor(cpu, sel, vector, ext);
}

/**
 * VM exit for a task switch in VMX non-root operation (SDM Vol. 3C §25.1.2, §25.4.2). The
 * qualification is the new TSS selector and the source (Table 28-2). CALL/JMP/IRET are
 * fault-like instruction exits (guest RIP = the instruction, with its length). For a task
 * gate in the IDT the event being delivered is reported as IDT-vectoring information
 * (§27.2.4); a software interrupt also reports its instruction length (§27.2.5) and the
 * guest RIP stays on the INT instruction, so that the VMM can re-inject it.
 */
function taskSwitchExit(cpu: Cpu, tssSel: number, source: number, vector: number, software: boolean): never {
  const qual = (tssSel & 0xffff) + source * 0x40000000;
  if (source !== TASK_IDT) return vmExitInstr(cpu, EXIT.TASK_SWITCH, qual);
  if (software) {
    const type = cpu.opcode === 0xcc || cpu.opcode === 0xce ? INTR_TYPE_SW_EXC : INTR_TYPE_SW_INT;
    cpu.vmx.vectoring = INTR_VALID | type | vector;
    cpu.delivering = vector;
    exitWithLength(cpu.rip - cpu.startRip);
    cpu.rip = cpu.startRip;
  }
  return vmExit(cpu, EXIT.TASK_SWITCH, qual);
}

// ---- the three entry points -------------------------------------------------------------------

/**
 * Far JMP/CALL whose selector names a TSS descriptor (types 1, 3, 9, 0xB) or a task gate
 * (type 5) outside IA-32e mode (SDM Vol. 2 JMP/CALL "TASK-GATE" and "TASK-STATE-SEGMENT").
 * `lo`/`hi` are the descriptor the selector named.
 */
export function farTask(cpu: Cpu, sel: number, lo: number, hi: number, call: boolean): void {
  const source = call ? TASK_CALL : TASK_JMP;
  const cpl = cpu.cpl;
  const dpl = descDpl(hi);
  let tssSel: number, tlo: number, thi: number;
  if (descType(hi) === 5) {
    // task gate: privilege is checked on the gate only (SDM Vol. 3A §7.2.5)
    if (dpl < cpl || dpl < (sel & 3)) cpu.gp(selError(sel, 0));
    if (!descPresent(hi)) cpu.fault(NP, selError(sel, 0), true);
    tssSel = lo >>> 16;
    tlo = readTssDescriptor(cpu, tssSel, GP, 0);
    thi = cpu.hi;
  } else {
    // a TSS descriptor directly: its DPL against CPL and RPL; TSS descriptors live in the GDT only
    if (dpl < cpl || dpl < (sel & 3)) cpu.gp(selError(sel, 0));
    if ((sel & 4) !== 0) cpu.gp(selError(sel, 0));
    tssSel = sel; tlo = lo; thi = hi;
  }
  if (cpu.vmx.nonRoot) taskSwitchExit(cpu, tssSel, source, -1, false);
  // the new task must not be busy (no recursion, SDM Vol. 3A §7.4)
  if (!isAvailableTss(thi)) cpu.gp(selError(tssSel, 0));
  if (!descPresent(thi)) cpu.fault(NP, selError(tssSel, 0), true);
  switchTasks(cpu, tssSel, tlo, thi, source, cpu.getFlags(), cpu.rip, 0, 0, false);
}

/**
 * IRET with NT = 1 outside IA-32e mode (SDM Vol. 2 IRET "TASK-RETURN"): back to the task
 * whose TSS selector is in the current TSS's previous-task link, which must be a busy TSS
 * in the GDT (#TS(selector) otherwise, #NP if not present).
 */
export function iretTask(cpu: Cpu): void {
  const link = cpu.rdSys16(at(cpu.segBase[TR]!, 0));
  const lo = readTssDescriptor(cpu, link, TS, 0);
  const hi = cpu.hi;
  if (cpu.vmx.nonRoot) taskSwitchExit(cpu, link, TASK_IRET, -1, false);
  if (!isBusyTss(hi)) cpu.fault(TS, selError(link, 0), true);
  if (!descPresent(hi)) cpu.fault(NP, selError(link, 0), true);
  switchTasks(cpu, link, lo, hi, TASK_IRET, cpu.getFlags(), cpu.rip, 0, 0, false);
}

/**
 * An event through a task gate in the IDT (SDM Vol. 2 INT n "TASK-GATE", Vol. 3A §6.11.1):
 * the caller has checked the gate (IDT limit, type, DPL for software interrupts, present).
 * `flags` is the EFLAGS image to save in the old TSS (RF set for fault-class exceptions,
 * as on a stack frame); an error code goes on the new task's stack.
 */
export function taskGateEvent(cpu: Cpu, vector: number, glo: number, errorCode: number, hasError: boolean,
  software: boolean, nextRip: number, flags: number): void {
  const ext = software ? 0 : 1;
  const tssSel = glo >>> 16;
  const lo = readTssDescriptor(cpu, tssSel, GP, ext);
  const hi = cpu.hi;
  if (cpu.vmx.nonRoot) taskSwitchExit(cpu, tssSel, TASK_IDT, vector, software);
  if (!isAvailableTss(hi)) cpu.fault(GP, selError(tssSel, ext), true);
  if (!descPresent(hi)) cpu.fault(NP, selError(tssSel, ext), true);
  switchTasks(cpu, tssSel, lo, hi, TASK_IDT, flags, nextRip, ext, errorCode, hasError);
}

// ---- SWITCH-TASKS -----------------------------------------------------------------------------

/** Sets (busy) or clears the busy bit (type bit 1) of the TSS descriptor `sel` in the GDT. */
function setBusy(cpu: Cpu, sel: number, busy: boolean): void {
  const a = descriptorAddress(cpu, sel);
  if (a < 0) return;
  const hi = cpu.rdSys32(a + 4);
  cpu.wrSys32(a + 4, busy ? hi | 0x200 : hi & ~0x200);
}

function wr16(cpu: Cpu, lin: number, v: number): void { sysWrite(cpu, lin, 2, v & 0xffff, 0, false); }
function wr32(cpu: Cpu, lin: number, v: number): void { sysWrite(cpu, lin, 4, v | 0, 0, false); }

/**
 * SDM Vol. 3A §7.3 steps 4-14 for the TSS descriptor `sel` (lo/hi), checked by the caller
 * for type, busy state and presence.
 */
function switchTasks(cpu: Cpu, sel: number, lo: number, hi: number, source: number, oldFlags: number,
  nextRip: number, ext: number, errorCode: number, hasError: boolean): void {
  const new32 = (hi & 0x800) !== 0;
  const nBase = descBase(lo, hi), nLimit = descLimit(lo, hi);
  // §7.2.2: a 32-bit TSS is at least 68H bytes, a 16-bit one 2CH
  if (nLimit < (new32 ? 0x67 : 0x2b)) cpu.fault(TS, selError(sel, ext), true);
  const oSel = cpu.segSel[TR]!, oBase = cpu.segBase[TR]!;
  const old32 = (cpu.segAr[TR]! & 8) !== 0;
  // the old TSS must hold the dynamic fields it is about to receive (through GS, or DS for
  // a 16-bit TSS); the SDM gives no vector, #TS(old TSS) is what Bochs raises
  const oldEnd = old32 ? 0x5f : 0x29;
  if (cpu.segLimit[TR]! < oldEnd) cpu.fault(TS, selError(oSel, ext), true);

  // --- the new task's state, read through the old task's address space (old CR3)
  let newCr3 = 0, newEip: number, newFlags: number, ldt: number, tBit = 0;
  if (new32) {
    newCr3 = cpu.rdSys32(at(nBase, 0x1c));
    newEip = cpu.rdSys32(at(nBase, 0x20));
    newFlags = cpu.rdSys32(at(nBase, 0x24));
    for (let i = 0; i < 8; i++) newGpr[i] = cpu.rdSys32(at(nBase, 0x28 + 4 * i));
    for (let s = 0; s < 6; s++) newSeg[s] = cpu.rdSys16(at(nBase, 0x48 + 4 * s));
    ldt = cpu.rdSys16(at(nBase, 0x60));
    tBit = cpu.rdSys16(at(nBase, 0x64)) & 1;
  } else {
    newEip = cpu.rdSys16(at(nBase, 0x0e));
    // a 16-bit TSS holds FLAGS only: bits 31:16 (VM among them) are loaded as 0
    newFlags = cpu.rdSys16(at(nBase, 0x10));
    // the upper halves of the registers are undefined after a switch to a 16-bit task;
    // like Bochs and QEMU they read as FFFFh
    for (let i = 0; i < 8; i++) newGpr[i] = cpu.rdSys16(at(nBase, 0x12 + 2 * i)) | 0xffff0000;
    for (let s = 0; s < 4; s++) newSeg[s] = cpu.rdSys16(at(nBase, 0x22 + 2 * s)); // ES CS SS DS
    newSeg[FS] = 0; newSeg[GS] = 0;
    ldt = cpu.rdSys16(at(nBase, 0x2a));
  }
  const nest = source === TASK_CALL || source === TASK_IDT;
  // every page written below is made present and writable first, so nothing is committed
  // before the last fault of the old task's context
  cpu.translate(at(oBase, 0x0e), 1, false);
  cpu.translate(at(oBase, oldEnd), 1, false);
  if (nest) cpu.translate(nBase, 1, false);

  // --- commit (§7.3 steps 6-11)
  // JMP and IRET leave the old task: it is no longer busy; IRET also clears NT in its image
  if (source === TASK_JMP || source === TASK_IRET) setBusy(cpu, oSel, false);
  const savedFlags = source === TASK_IRET ? oldFlags & ~NT : oldFlags;
  const r = cpu.r;
  if (old32) {
    wr32(cpu, at(oBase, 0x20), nextRip);
    wr32(cpu, at(oBase, 0x24), savedFlags);
    for (let i = 0; i < 8; i++) wr32(cpu, at(oBase, 0x28 + 4 * i), r[2 * i]!);
    for (let s = 0; s < 6; s++) wr16(cpu, at(oBase, 0x48 + 4 * s), cpu.segSel[s]!);
  } else {
    wr16(cpu, at(oBase, 0x0e), nextRip);
    wr16(cpu, at(oBase, 0x10), savedFlags);
    for (let i = 0; i < 8; i++) wr16(cpu, at(oBase, 0x12 + 2 * i), r[2 * i]!);
    for (let s = 0; s < 4; s++) wr16(cpu, at(oBase, 0x22 + 2 * s), cpu.segSel[s]!);
  }
  if (nest) {
    // the new task returns here with IRET: link to the old TSS, NT set (§7.4)
    wr16(cpu, nBase, oSel);
    newFlags |= NT;
  }
  // the new task is busy (an IRET returns to a task still marked busy)
  if (source !== TASK_IRET) setBusy(cpu, sel, true);
  cpu.setSystemSeg(TR, sel, nBase, nLimit, descAr(hi | 0x200));
  // §2.5: the next x87/SSE instruction of the new task gets #NM, so the OS can switch FPU state lazily
  cpu.cr0 |= CR0_TS;

  // --- the new task's context (§7.3 steps 12-13): faults from here return to its EIP
  cpu.rip = newEip >>> 0;
  cpu.startRip = cpu.rip;
  // CR3 only with paging on and a 32-bit TSS (a 16-bit TSS has no CR3 field)
  if (new32 && (cpu.cr0 & CR0_PG) !== 0) writeCr3(cpu, newCr3, 0);
  cpu.setFlags(newFlags, -1);
  for (let i = 0; i < 8; i++) { r[2 * i] = newGpr[i]!; r[2 * i + 1] = 0; }
  loadTaskSegments(cpu, ldt, ext);
  cpu.updateMode();

  if (hasError) {
    // the error code of the exception goes on the new task's stack (SDM Vol. 2 INT n TASK-GATE)
    const size = new32 ? 4 : 2;
    const width = cpu.stackSize;
    const esp = r[8]!;
    frame.init(cpu.segBase[SS]!, cpu.segLimit[SS]!, cpu.segAr[SS]!, esp, width, cpu.cpl === 3, SS_, ext);
    frame.push(cpu, size, errorCode, 0);
    r[8] = width === 4 ? frame.sp | 0 : (esp & ~0xffff) | frame.sp;
  }
  // EIP within the new CS (SDM Vol. 2 JMP/CALL/IRET: #GP(0); INT n: #GP(EXT))
  if (cpu.rip > cpu.segLimit[CS]!) cpu.gp(ext);
  if (tBit !== 0) {
    // the T flag: a debug trap before the new task's first instruction (SDM Vol. 3A §7.2.1);
    // the switch itself has completed, so this #DB is not nested in the event that caused it
    cpu.dr[6] = (cpu.dr[6]! | DR6_BT) >>> 0;
    cpu.delivering = -1;
    cpu.raiseException(DB, 0, false);
  }
}

/**
 * Loads LDTR and the six segment registers of the new task (SDM Vol. 3A §7.3 step 13,
 * Table 7-1): the selectors are in place first with their caches invalid (so a fault
 * leaves the new selectors visible, as the SDM's "may corrupt architectural state"
 * allows); then LDTR, CS, SS, DS, ES, FS, GS are qualified in that order. A task running
 * in virtual-8086 mode (EFLAGS.VM from a 32-bit TSS) takes them as real-mode style values.
 */
function loadTaskSegments(cpu: Cpu, ldt: number, ext: number): void {
  for (let i = 0; i < 4; i++) cpu.setSegCache(DATA_SEGS[i]!, newSeg[DATA_SEGS[i]!]!, 0, 0, AR_UNUSABLE);
  loadTaskLdt(cpu, ldt, ext);
  if ((cpu.flags & VM) !== 0) {
    for (let s = 0; s < 6; s++) loadV86(cpu, s, newSeg[s]!);
    return;
  }
  // CS: code; non-conforming DPL = RPL, conforming DPL <= RPL; the new CPL is its RPL
  const csSel = newSeg[CS]!;
  if ((csSel & 0xfffc) === 0) cpu.fault(TS, ext, true);
  const clo = readDescriptor(cpu, csSel, TS, ext);
  const chi = cpu.hi;
  const cpl = csSel & 3;
  if (!isCode(chi)) cpu.fault(TS, selError(csSel, ext), true);
  if (isConforming(chi) ? descDpl(chi) > cpl : descDpl(chi) !== cpl) cpu.fault(TS, selError(csSel, ext), true);
  if (!descPresent(chi)) cpu.fault(NP, selError(csSel, ext), true);
  // SS: writable data, RPL = DPL = CPL; not present is #SS
  const ssSel = newSeg[SS]!;
  if ((ssSel & 0xfffc) === 0) cpu.fault(TS, ext, true);
  const slo = readDescriptor(cpu, ssSel, TS, ext);
  const shi = cpu.hi;
  if (!isWritableData(shi) || (ssSel & 3) !== cpl || descDpl(shi) !== cpl) cpu.fault(TS, selError(ssSel, ext), true);
  if (!descPresent(shi)) cpu.fault(SS_, selError(ssSel, ext), true);
  loadCs(cpu, csSel, clo, chi, cpl);
  loadFromDescriptor(cpu, SS, ssSel, slo, shi);
  for (let i = 0; i < 4; i++) loadTaskData(cpu, DATA_SEGS[i]!, newSeg[DATA_SEGS[i]!]!, cpl, ext);
}

/** The order Table 7-1 checks the data segment registers in. */
const DATA_SEGS = [DS, ES, FS, GS];

/** LDTR of the new task: null is allowed; else an LDT descriptor (type 2) in the GDT, present (#TS otherwise). */
function loadTaskLdt(cpu: Cpu, sel: number, ext: number): void {
  if ((sel & 0xfffc) === 0) { cpu.setSystemSeg(LDTR, sel, 0, 0, AR_UNUSABLE); return; }
  if ((sel & 4) !== 0) cpu.fault(TS, selError(sel, ext), true);
  const lo = readDescriptor(cpu, sel, TS, ext);
  const hi = cpu.hi;
  if (descType(hi) !== 2 || !descPresent(hi)) cpu.fault(TS, selError(sel, ext), true);
  cpu.setSystemSeg(LDTR, sel, descBase(lo, hi), descLimit(lo, hi), descAr(hi));
}

/** DS/ES/FS/GS of the new task: null, data or readable code with DPL >= CPL and RPL (conforming code exempt). */
function loadTaskData(cpu: Cpu, seg: number, sel: number, cpl: number, ext: number): void {
  if ((sel & 0xfffc) === 0) { loadNull(cpu, seg, sel); return; }
  const lo = readDescriptor(cpu, sel, TS, ext);
  const hi = cpu.hi;
  if ((hi & 0x1000) === 0 || (hi & 0x0a00) === 0x0800) cpu.fault(TS, selError(sel, ext), true);
  const dpl = descDpl(hi);
  if (!isConforming(hi) && (dpl < cpl || dpl < (sel & 3))) cpu.fault(TS, selError(sel, ext), true);
  if (!descPresent(hi)) cpu.fault(NP, selError(sel, ext), true);
  loadFromDescriptor(cpu, seg, sel, lo, hi);
}
