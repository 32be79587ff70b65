/**
 * Far transfers: EA JMP ptr16:16/32, 9A CALL ptr16:16/32, FF /3 and FF /5 (m16:16/32/64),
 * CA/CB RETF, including calls and jumps through 16-bit, 32-bit and 64-bit call gates and
 * the privilege-raising CALL with its stack switch and parameter copy (SDM Vol. 2 CALL,
 * JMP, RET; Vol. 3A §5.8). JMP/CALL to a TSS or a task gate are hardware task switches
 * (../task-switch.ts).
 *
 * Every check, and every write to a stack, happens before CS, SS or RSP change.
 */
import type { Cpu, Handler } from '../cpu.js';
import { CS, SS, SS_, NP, VM, CR0_PE, EFER_LMA, AR_DB } from '../regs.js';
import {
  StackBuilder, readDescriptor, descriptorAddress, descDpl, descPresent, descLimit, descBase, descAr, descType,
  isCode, isConforming, isLongCode, isWritableData, selError, loadCs, loadNull, loadReal, loadV86,
  loadFromDescriptor, checkDirectCode, setAccessed, tssStack, tss64Stack, checkInnerSs, nullInaccessibleSegments,
} from '../segments.js';
import { def } from './table.js';
import { farTask } from '../task-switch.js';

const TWO32 = 4294967296;
const frame = new StackBuilder();

/** Offset of a far target in the new CS: canonical for 64-bit code, else within the limit (#GP(0)). */
function checkOffset(cpu: Cpu, off: number, lo: number, hi: number): number {
  if ((cpu.efer & EFER_LMA) !== 0 && isLongCode(hi)) {
    if (off < -0x800000000000 || off >= 0x800000000000) cpu.gp(0);
    return off;
  }
  const o = off >>> 0;
  if (o > descLimit(lo, hi)) cpu.gp(0);
  return o;
}

/** Writes RSP after a frame was built with `width`-byte addressing. */
function setSp(cpu: Cpu, width: number, sp: number, oldEsp: number): void {
  if (width === 8) { cpu.r[8] = sp | 0; cpu.r[9] = Math.floor(sp / TWO32) | 0; }
  else if (width === 4) cpu.r[8] = sp | 0;
  else cpu.r[8] = (oldEsp & ~0xffff) | (sp & 0xffff);
}

/** Starts a frame on the current stack at the current privilege. */
function currentStack(cpu: Cpu): void {
  const w = cpu.stackSize;
  frame.init(cpu.segBase[SS]!, cpu.segLimit[SS]!, cpu.segAr[SS]!, w === 8 ? cpu.getRegNum(4) : cpu.r[8]!, w,
    cpu.cpl === 3, SS_, 0);
}

/** Pushes CS:RIP as the return address of a far CALL at operand size `size`. */
function pushReturn(cpu: Cpu, size: number): void {
  frame.push(cpu, size, cpu.segSel[CS]!, 0);
  const rip = cpu.rip;
  frame.push(cpu, size, rip | 0, Math.floor(rip / TWO32) | 0);
}

// ---- JMP/CALL far -------------------------------------------------------------------------

/** Far JMP or CALL (call = true) to sel:off with operand size `size` (2, 4 or 8). */
export function farTransfer(cpu: Cpu, sel: number, off: number, size: number, call: boolean): void {
  sel &= 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) {
    // real and virtual-8086 mode: the limit of CS is checked, then CS = sel*16
    const o = size === 2 ? off & 0xffff : off >>> 0;
    if (o > cpu.segLimit[CS]!) cpu.gp(0);
    if (call) { currentStack(cpu); pushReturn(cpu, size); setSp(cpu, frame.width, frame.sp, cpu.r[8]!); }
    if ((cpu.flags & VM) !== 0) loadV86(cpu, CS, sel); else { loadReal(cpu, CS, sel); cpu.updateMode(); }
    cpu.rip = o;
    return;
  }
  if ((sel & 0xfffc) === 0) cpu.gp(0);
  const lo = readDescriptor(cpu, sel);
  const hi = cpu.hi;
  if ((hi & 0x1000) !== 0) {
    if (!isCode(hi)) cpu.gp(selError(sel, 0));
    checkDirectCode(cpu, sel, hi);
    const target = checkOffset(cpu, size === 2 ? off & 0xffff : off, lo, hi);
    if (call) { currentStack(cpu); pushReturn(cpu, size); setSp(cpu, frame.width, frame.sp, cpu.r[8]!); }
    loadCs(cpu, sel, lo, hi, cpu.cpl);
    cpu.rip = target;
    return;
  }
  const long = (cpu.efer & EFER_LMA) !== 0;
  const type = descType(hi);
  if (type === 0xc || (!long && type === 4)) { callGate(cpu, sel, lo, hi, call); return; }
  // a TSS (available 1/9 or busy 3/0xB: the busy check is the switch's) or a task gate (5):
  // a hardware task switch (task-switch.ts). IA-32e mode has no task switches: #GP(selector).
  if (!long && (type === 1 || type === 3 || type === 9 || type === 0xb || type === 5)) { farTask(cpu, sel, lo, hi, call); return; }
  cpu.gp(selError(sel, 0));
}

/**
 * Transfer through a call gate (SDM Vol. 3A §5.8.4-5.8.6). JMP may only reach the same
 * privilege; CALL to a more privileged non-conforming segment switches to the TSS
 * stack for that level, copying the gate's parameter count (16/32-bit gates only).
 */
function callGate(cpu: Cpu, gateSel: number, glo: number, ghi: number, call: boolean): void {
  const cpl = cpu.cpl;
  const gdpl = descDpl(ghi);
  if (gdpl < cpl || gdpl < (gateSel & 3)) cpu.gp(selError(gateSel, 0));
  if (!descPresent(ghi)) cpu.fault(NP, selError(gateSel, 0), true);
  const long = (cpu.efer & EFER_LMA) !== 0;
  const gate32 = (ghi & 0x800) !== 0;
  let off = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff;
  if (long) {
    // 64-bit call gates are 16 bytes; the upper half's type field must be 0
    const a = descriptorAddress(cpu, gateSel, 16);
    if (a < 0) cpu.gp(selError(gateSel, 0));
    const upper = cpu.rdSys32(a + 8), d3 = cpu.rdSys32(a + 12);
    if ((d3 & 0x1f00) !== 0) cpu.gp(selError(gateSel, 0));
    off += upper * TWO32;
  }
  const tsel = glo >>> 16;
  if ((tsel & 0xfffc) === 0) cpu.gp(0);
  const lo = readDescriptor(cpu, tsel);
  const hi = cpu.hi;
  const dpl = descDpl(hi);
  if (!isCode(hi) || dpl > cpl) cpu.gp(selError(tsel, 0));
  if (!call && !isConforming(hi) && dpl !== cpl) cpu.gp(selError(tsel, 0));
  if (long && !isLongCode(hi)) cpu.gp(selError(tsel, 0));
  if (!descPresent(hi)) cpu.fault(NP, selError(tsel, 0), true);
  const target = checkOffset(cpu, off, lo, hi);
  const size = long ? 8 : gate32 ? 4 : 2;
  if (!call) { loadCs(cpu, tsel, lo, hi, cpl); cpu.rip = target; return; }

  if (isConforming(hi) || dpl === cpl) {
    currentStack(cpu);
    pushReturn(cpu, size);
    setSp(cpu, frame.width, frame.sp, cpu.r[8]!);
    loadCs(cpu, tsel, lo, hi, cpl);
    cpu.rip = target;
    return;
  }
  // more privilege: new stack from the TSS
  if (long) {
    const rsp = tss64Stack(cpu, dpl, 0);
    frame.init(0, 0, 0, rsp, 8, false, SS_, 0);
    frame.push(cpu, 8, cpu.segSel[SS]!, 0);
    frame.push(cpu, 8, cpu.r[8]!, cpu.r[9]!);
    pushReturn(cpu, 8);
    loadNull(cpu, SS, dpl);
    setSp(cpu, 8, frame.sp, 0);
  } else {
    const esp = tssStack(cpu, dpl, 0);
    const ssSel = cpu.hi & 0xffff;
    const slo = checkInnerSs(cpu, ssSel, dpl, 0);
    const shi = cpu.hi;
    frame.init(descBase(slo, shi), descLimit(slo, shi), descAr(shi), esp, (shi & 0x400000) !== 0 ? 4 : 2,
      dpl === 3, SS_, selError(ssSel, 0));
    const oldEsp = cpu.r[8]!;
    frame.push(cpu, size, cpu.segSel[SS]!, 0);
    frame.push(cpu, size, size === 4 ? oldEsp : oldEsp & 0xffff, 0);
    // parameters keep their order: the deepest one is copied first (SDM Vol. 2 CALL)
    const count = ghi & 0x1f;
    for (let i = count - 1; i >= 0; i--) frame.push(cpu, size, cpu.peek(size, i * size), 0);
    pushReturn(cpu, size);
    loadFromDescriptor(cpu, SS, ssSel, slo, shi);
    setSp(cpu, frame.width, frame.sp, esp);
  }
  loadCs(cpu, tsel, lo, hi, dpl);
  cpu.rip = target;
}

/** EA / 9A: ptr16:16 or ptr16:32 immediate; invalid in 64-bit mode. */
function farDirect(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
  const size = cpu.osz;
  const off = size === 2 ? cpu.fetch16() : cpu.fetch32() >>> 0;
  const sel = cpu.fetch16();
  farTransfer(cpu, sel, off, size, cpu.opcode === 0x9a);
}

/** m16:16/32/64 operand of FF /3 and FF /5: returns the offset, selector in cpu.hi. */
function readFarPointer(cpu: Cpu): number {
  if (cpu.mod === 3) cpu.ud();
  const size = cpu.osz;
  const lin = cpu.eaLin(size + 2, false);
  const lo = cpu.rdSz(lin, size);
  const off = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  cpu.hi = cpu.rd16(lin + size);
  return off;
}

export function grp5CallFarImpl(cpu: Cpu): void {
  const off = readFarPointer(cpu);
  farTransfer(cpu, cpu.hi, off, cpu.osz, true);
}
export function grp5JmpFarImpl(cpu: Cpu): void {
  const off = readFarPointer(cpu);
  farTransfer(cpu, cpu.hi, off, cpu.osz, false);
}

// ---- RETF -------------------------------------------------------------------------------------

/**
 * Checks the SS selector popped by a return to an outer level (RETF, IRET): null only
 * when returning to 64-bit code at CPL < 3 (SDM Vol. 2 IRET/RET). Returns the descriptor
 * lo (hi in cpu.hi), or 0 with cpu.hi = 0 for an allowed null selector.
 */
export function checkOuterSs(cpu: Cpu, ssSel: number, rpl: number, csHi: number): number {
  if ((ssSel & 0xfffc) === 0) {
    if (!((cpu.efer & EFER_LMA) !== 0 && isLongCode(csHi) && rpl !== 3)) cpu.gp(0);
    cpu.hi = 0;
    return 0;
  }
  if ((ssSel & 3) !== rpl) cpu.gp(selError(ssSel, 0));
  const lo = readDescriptor(cpu, ssSel);
  const hi = cpu.hi;
  if (!isWritableData(hi) || descDpl(hi) !== rpl) cpu.gp(selError(ssSel, 0));
  if (!descPresent(hi)) cpu.fault(SS_, selError(ssSel, 0), true);
  cpu.hi = hi;
  return lo;
}

/** Checks the CS popped by RETF/IRET (SDM Vol. 2 RET "protected mode"). */
export function checkReturnCs(cpu: Cpu, sel: number): number {
  if ((sel & 0xfffc) === 0) cpu.gp(0);
  const rpl = sel & 3;
  if (rpl < cpu.cpl) cpu.gp(selError(sel, 0));
  const lo = readDescriptor(cpu, sel);
  const hi = cpu.hi;
  if (!isCode(hi)) cpu.gp(selError(sel, 0));
  const dpl = descDpl(hi);
  if (isConforming(hi) ? dpl > rpl : dpl !== rpl) cpu.gp(selError(sel, 0));
  if ((cpu.efer & EFER_LMA) !== 0 && (hi & 0x600000) === 0x600000) cpu.gp(selError(sel, 0));
  if (!descPresent(hi)) cpu.fault(NP, selError(sel, 0), true);
  cpu.hi = hi;
  return lo;
}

/** Sets RSP after a return that loaded SS: width from the new mode/SS. */
export function setReturnSp(cpu: Cpu, sp: number): void {
  if (cpu.code64) { cpu.r[8] = sp | 0; cpu.r[9] = Math.floor(sp / TWO32) | 0; }
  else if ((cpu.segAr[SS]! & AR_DB) !== 0) { cpu.r[8] = sp | 0; if ((cpu.efer & EFER_LMA) !== 0) cpu.r[9] = 0; }
  else cpu.r[8] = (cpu.r[8]! & ~0xffff) | (sp & 0xffff);
}

/** CB RETF / CA RETF imm16. In 64-bit mode the default operand size is 32; REX.W pops 64-bit. */
function retFar(cpu: Cpu): void {
  const imm = cpu.opcode === 0xca ? cpu.fetch16() : 0;
  const size = cpu.osz;
  const lo = cpu.peek(size, 0);
  const off = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  const sel = cpu.peek(size, size) & 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0 || (cpu.flags & VM) !== 0) {
    if (off > cpu.segLimit[CS]!) cpu.gp(0);
    if ((cpu.flags & VM) !== 0) loadV86(cpu, CS, sel); else { loadReal(cpu, CS, sel); cpu.updateMode(); }
    cpu.rip = off;
    cpu.addSp(2 * size + imm);
    return;
  }
  const clo = checkReturnCs(cpu, sel);
  const chi = cpu.hi;
  const rpl = sel & 3;
  const target = checkOffset(cpu, size === 2 ? off & 0xffff : off, clo, chi);
  setAccessed(cpu, sel, chi); // the last access that can fault before the commit
  if (rpl === cpu.cpl) {
    cpu.addSp(2 * size + imm);
    loadCs(cpu, sel, clo, chi, rpl);
    cpu.rip = target;
    return;
  }
  // return to an outer privilege level: SS:ESP follow the released parameters
  const spOff = 2 * size + imm;
  const slo0 = cpu.peek(size, spOff);
  const sp = size === 8 ? cpu.hi * TWO32 + (slo0 >>> 0) : size === 4 ? slo0 >>> 0 : slo0;
  const ssSel = cpu.peek(size, spOff + size) & 0xffff;
  const slo = checkOuterSs(cpu, ssSel, rpl, chi);
  const shi = cpu.hi;
  if ((ssSel & 0xfffc) !== 0) setAccessed(cpu, ssSel, shi);
  loadCs(cpu, sel, clo, chi, rpl);
  if ((ssSel & 0xfffc) === 0) loadNull(cpu, SS, ssSel); else loadFromDescriptor(cpu, SS, ssSel, slo, shi);
  setReturnSp(cpu, sp + imm);
  cpu.rip = target;
  nullInaccessibleSegments(cpu);
}

export function installFar(t: Handler[]): void {
  def(t, 0xea, farDirect);
  def(t, 0x9a, farDirect);
  def(t, 0xcb, retFar);
  def(t, 0xca, retFar);
}
