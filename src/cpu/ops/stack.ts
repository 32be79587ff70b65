/**
 * Stack family: PUSH/POP of registers, immediates, segment registers and memory, PUSHA/
 * POPA, ENTER/LEAVE (SDM Vol. 2 instruction pages; Vol. 1 §6.2-6.5). Operand size follows
 * cpu.stackOsz() (64-bit default in long mode, 66 gives 16, no 32-bit push there); the
 * stack pointer width follows cpu.stackSize. Multi-access instructions compute every
 * address from the unchanged rSP and commit rSP last, so a fault restarts them cleanly.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { ES, CS, SS, DS, FS, GS, RSP, RBP } from '../regs.js';
import { loadSegment } from './segments.js';

const TWO32 = 4294967296;

function noLock(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
}

/** rSP + delta at the stack address size, as an offset number (signed for 64-bit stacks). */
function spPlus(cpu: Cpu, delta: number): number {
  const ss = cpu.stackSize;
  if (ss === 8) return cpu.getRegNum(RSP) + delta;
  if (ss === 4) return (cpu.r[8]! + delta) >>> 0;
  return (cpu.r[8]! + delta) & 0xffff;
}

/** Linear address of SS:[off] for an offset from spPlus/bpPlus, checked for `size` bytes. */
function ssLin(cpu: Cpu, off: number, size: number, write: boolean): number {
  if (cpu.stackSize === 8) return cpu.linear(SS, off | 0, Math.floor(off / TWO32) | 0, size, write);
  return cpu.linear(SS, off | 0, 0, size, write);
}

/** Writes rSP (or ESP/SP) from an offset number at the stack address size. */
function setSp(cpu: Cpu, off: number): void {
  const ss = cpu.stackSize;
  if (ss === 8) { cpu.r[8] = off | 0; cpu.r[9] = Math.floor(off / TWO32) | 0; }
  else if (ss === 4) cpu.r[8] = off | 0;
  else cpu.r[8] = (cpu.r[8]! & ~0xffff) | (off & 0xffff);
}

/** rBP + delta at the stack address size (ENTER's nested frame walk, LEAVE). */
function bpPlus(cpu: Cpu, delta: number): number {
  const ss = cpu.stackSize;
  if (ss === 8) return cpu.getRegNum(RBP) + delta;
  if (ss === 4) return (cpu.r[10]! + delta) >>> 0;
  return (cpu.r[10]! + delta) & 0xffff;
}

/** PUSH r (50+r). PUSH rSP pushes the value before the decrement. */
function pushReg(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const v = cpu.getRegSz((cpu.opcode & 7) | cpu.rexB, size);
  cpu.push(size, v, cpu.hi);
}

/** POP r (58+r). POP rSP leaves rSP = the popped value (the increment happens first). */
function popReg(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const v = cpu.pop(size);
  cpu.setRegSz((cpu.opcode & 7) | cpu.rexB, size, v, cpu.hi);
}

/** PUSH Iz (68): imm16/imm32, sign-extended to 64 bits in 64-bit mode. */
function pushIz(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const v = size === 2 ? cpu.fetch16() : cpu.fetch32();
  cpu.push(size, v, v >> 31);
}

/** PUSH Ib (6A): sign-extended to the operand size. */
function pushIb(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const v = cpu.fetchS8();
  cpu.push(size, size === 2 ? v & 0xffff : v, v >> 31);
}

/**
 * PUSH Sreg (SDM PUSH, Description). A 64-bit push stores the selector zero-extended;
 * with a 32-bit operand size recent Intel cores write only the 16-bit selector and leave
 * the upper half of the slot unmodified, while ESP still moves by 4.
 */
function pushSeg(cpu: Cpu, seg: number): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const sel = cpu.segSel[seg]! & 0xffff;
  if (size !== 4) { cpu.push(size, sel, 0); return; }
  const off = spPlus(cpu, -size);
  cpu.wr16(ssLin(cpu, off, size, true), sel);
  setSp(cpu, off);
}

/**
 * POP Sreg: the descriptor checks of loadSegment happen before rSP moves. POP SS blocks
 * interrupts for one instruction (SDM Vol. 3A §6.8.3). POP CS does not exist (0F is the
 * two-byte escape).
 */
function popSeg(cpu: Cpu, seg: number): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const sel = cpu.peek(size, 0) & 0xffff;
  loadSegment(cpu, seg, sel);
  cpu.addSp(size);
  if (seg === SS) { cpu.inhibitIrq = true; cpu.shadowMovSs = true; }
}

function legacySeg(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
}

/** PUSHA/PUSHAD (60): AX CX DX BX (original SP) BP SI DI. #UD in 64-bit mode. */
function pusha(cpu: Cpu): void {
  noLock(cpu);
  legacySeg(cpu);
  const size = cpu.osz;
  for (let n = 0; n < 8; n++) {
    const off = spPlus(cpu, -(n + 1) * size);
    cpu.wrSz(ssLin(cpu, off, size, true), size, cpu.getRegSz(n, size), 0);
  }
  setSp(cpu, spPlus(cpu, -8 * size));
}

/** POPA/POPAD (61): DI SI BP (skip SP) BX DX CX AX; all reads precede the writes. */
const popaTmp = new Int32Array(8);
function popa(cpu: Cpu): void {
  noLock(cpu);
  legacySeg(cpu);
  const size = cpu.osz;
  for (let k = 0; k < 8; k++) {
    if (k === 3) continue; // the saved SP is skipped
    popaTmp[7 - k] = cpu.rdSz(ssLin(cpu, spPlus(cpu, k * size), size, false), size);
  }
  const end = spPlus(cpu, 8 * size);
  for (let n = 0; n < 8; n++) if (n !== RSP) cpu.setRegSz(n, size, popaTmp[n]!, 0);
  setSp(cpu, end);
}

/**
 * POP Ev (8F /0). The operand's address is computed with rSP already incremented (SDM
 * POP: "If the destination operand uses rSP as a base register, the effective address is
 * calculated after rSP is incremented"), so rSP is advanced before decoding ModRM and put
 * back if decoding or the store faults.
 */
function popEv(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const v = cpu.peek(size, 0);
  const vh = cpu.hi;
  const sp0 = cpu.r[8]!, sp1 = cpu.r[9]!;
  cpu.addSp(size);
  try {
    cpu.decodeModrm(0);
    if ((cpu.reg & 7) !== 0) cpu.ud();
    if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, v, vh);
    else cpu.wrSz(cpu.eaLin(size, true), size, v, vh);
  } catch (e) {
    cpu.r[8] = sp0; cpu.r[9] = sp1;
    throw e;
  }
}

/** PUSH Ev (FF /6), called by alu.ts's group 5 after decodeModrm. */
export function grp5Push(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const v = cpu.readE(size);
  cpu.push(size, v, cpu.hi);
}

/**
 * ENTER Iw,Ib (C8): push rBP, copy level-1 frame pointers from the enclosing frame, push
 * the new frame pointer, then allocate (SDM ENTER, Operation). Nothing is committed until
 * every access succeeded; the final rSP gets the stack segment's limit/canonical check.
 */
function enter(cpu: Cpu): void {
  noLock(cpu);
  const alloc = cpu.fetch16();
  const level = cpu.fetch8() & 31;
  const size = cpu.stackOsz();
  const bp = cpu.getRegSz(RBP, size);
  const bpHi = cpu.hi;
  let delta = -size;
  cpu.wrSz(ssLin(cpu, spPlus(cpu, delta), size, true), size, bp, bpHi);
  const frame = spPlus(cpu, delta);
  if (level > 0) {
    for (let i = 1; i < level; i++) {
      const v = cpu.rdSz(ssLin(cpu, bpPlus(cpu, -i * size), size, false), size);
      const vh = cpu.hi;
      delta -= size;
      cpu.wrSz(ssLin(cpu, spPlus(cpu, delta), size, true), size, v, vh);
    }
    delta -= size;
    cpu.wrSz(ssLin(cpu, spPlus(cpu, delta), size, true), size, frame | 0, Math.floor(frame / TWO32) | 0);
  }
  const end = spPlus(cpu, delta - alloc);
  ssLin(cpu, end, 1, true);
  cpu.setRegSz(RBP, size, frame | 0, Math.floor(frame / TWO32) | 0);
  setSp(cpu, end);
}

/** LEAVE (C9): rSP <- rBP (stack address size), then pop rBP (operand size). */
function leave(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.stackOsz();
  const bp = bpPlus(cpu, 0);
  const v = cpu.rdSz(ssLin(cpu, bp, size, false), size);
  const vh = cpu.hi;
  setSp(cpu, bp + size);
  cpu.setRegSz(RBP, size, v, vh);
}

export function installStack(t: Handler[]): void {
  for (let r = 0; r < 8; r++) { def(t, 0x50 + r, pushReg); def(t, 0x58 + r, popReg); }
  def(t, 0x68, pushIz);
  def(t, 0x6a, pushIb);
  def(t, 0x06, (cpu) => { legacySeg(cpu); pushSeg(cpu, ES); });
  def(t, 0x0e, (cpu) => { legacySeg(cpu); pushSeg(cpu, CS); });
  def(t, 0x16, (cpu) => { legacySeg(cpu); pushSeg(cpu, SS); });
  def(t, 0x1e, (cpu) => { legacySeg(cpu); pushSeg(cpu, DS); });
  def(t, 0x07, (cpu) => { legacySeg(cpu); popSeg(cpu, ES); });
  def(t, 0x17, (cpu) => { legacySeg(cpu); popSeg(cpu, SS); });
  def(t, 0x1f, (cpu) => { legacySeg(cpu); popSeg(cpu, DS); });
  def(t, 0x1a0, (cpu) => pushSeg(cpu, FS));
  def(t, 0x1a1, (cpu) => popSeg(cpu, FS));
  def(t, 0x1a8, (cpu) => pushSeg(cpu, GS));
  def(t, 0x1a9, (cpu) => popSeg(cpu, GS));
  def(t, 0x60, pusha);
  def(t, 0x61, popa);
  def(t, 0x8f, popEv);
  def(t, 0xc8, enter);
  def(t, 0xc9, leave);
}
