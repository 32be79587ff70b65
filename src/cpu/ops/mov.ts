/**
 * MOV family beyond 89/8B/B8 (data.ts): byte and immediate moves, moffs, LEA, MOVZX/MOVSX/
 * MOVSXD, XCHG, XLAT, the NOP encodings (multi-byte NOP, hint NOPs, PREFETCH) and the
 * segment moves (MOV Sreg, LDS/LES/LSS/LFS/LGS). SDM Vol. 2 instruction pages of the same
 * names; opcode map in Vol. 2 Appendix A.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { CS, SS, DS, ES, FS, GS } from '../regs.js';
import { loadSegment } from './segments.js';
import { interceptPause } from '../vmx/intercepts.js';

const TWO32 = 4294967296;

/** LOCK is only legal on read-modify-write memory forms (SDM Vol. 2 LOCK: #UD otherwise). */
function noLock(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
}

/** MOV Eb,Gb (88) */
function movEbGb(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  const v = cpu.getReg8(cpu.reg);
  if (cpu.mod === 3) cpu.setReg8(cpu.rm, v);
  else cpu.wr8(cpu.eaLin(1, true), v);
}

/** MOV Gb,Eb (8A) */
function movGbEb(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  cpu.setReg8(cpu.reg, cpu.readE(1));
}

/**
 * MOV Ev,Sreg (8C). A memory destination is always written as 16 bits; a register
 * destination with a 32/64-bit operand size gets the selector zero-extended (SDM MOV:
 * "the upper bits of the destination are cleared" on P6 and later).
 */
function movEvSw(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  const seg = cpu.reg & 7;
  if (seg > GS) cpu.ud();
  const sel = cpu.segSel[seg]! & 0xffff;
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, cpu.osz, sel, 0);
  else cpu.wr16(cpu.eaLin(2, true), sel);
}

/**
 * MOV Sreg,Ew (8E). Loading CS this way is #UD; loading SS blocks interrupts (and debug
 * traps) until the next instruction has run (SDM Vol. 3A §6.8.3).
 */
function movSwEw(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  const seg = cpu.reg & 7;
  if (seg === CS || seg > GS) cpu.ud();
  const sel = cpu.readE(2);
  loadSegment(cpu, seg, sel);
  if (seg === SS) { cpu.inhibitIrq = true; cpu.shadowMovSs = true; }
}

/**
 * LEA Gv,M (8D): the effective address, computed at the address size, then truncated or
 * zero-extended to the operand size (SDM LEA Table 3-54). A register operand is #UD.
 */
function lea(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  // eaLo/eaHi are already reduced to the address size (hi = 0 unless asz = 8)
  cpu.setRegSz(cpu.reg, cpu.osz, cpu.osz === 2 ? cpu.eaLo & 0xffff : cpu.eaLo, cpu.eaHi);
}

/**
 * MOV AL/rAX <-> moffs (A0-A3): the offset is an immediate of the address size, 8 bytes
 * in 64-bit mode unless 67 makes it 4 (SDM MOV, note on moffs). Segment DS or override.
 */
function moffs(cpu: Cpu): void {
  noLock(cpu);
  let lo: number, hi = 0;
  if (cpu.asz === 8) { lo = cpu.fetch32(); hi = cpu.fetch32(); }
  else if (cpu.asz === 4) lo = cpu.fetch32();
  else lo = cpu.fetch16();
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const seg = cpu.segOvr >= 0 ? cpu.segOvr : DS;
  if ((cpu.opcode & 2) === 0) {
    const v = cpu.rdSz(cpu.linear(seg, lo, hi, size, false), size);
    cpu.setRegSz(0, size, v, cpu.hi);
  } else {
    const v = cpu.getRegSz(0, size);
    const vh = cpu.hi;
    cpu.wrSz(cpu.linear(seg, lo, hi, size, true), size, v, vh);
  }
}

/** MOV r8,imm8 (B0-B7): with any REX, 4-7 are SPL/BPL/SIL/DIL, else AH/CH/DH/BH. */
function movR8Imm(cpu: Cpu): void {
  noLock(cpu);
  cpu.setReg8((cpu.opcode & 7) | cpu.rexB, cpu.fetch8());
}

/** MOV Eb,Ib (C6 /0). Other /reg values are XABORT (C6 F8) or reserved: #UD here. */
function movEbIb(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(1);
  if ((cpu.reg & 7) !== 0) cpu.ud();
  const v = cpu.fetch8();
  if (cpu.mod === 3) cpu.setReg8(cpu.rm, v);
  else cpu.wr8(cpu.eaLin(1, true), v);
}

/** MOV Ev,Iz (C7 /0): with REX.W the imm32 is sign-extended to 64 bits. */
function movEvIz(cpu: Cpu): void {
  noLock(cpu);
  const size = cpu.osz;
  cpu.decodeModrm(size === 2 ? 2 : 4);
  if ((cpu.reg & 7) !== 0) cpu.ud();
  const v = cpu.fetchImm(size);
  const vh = cpu.hi;
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, size, v, vh);
  else cpu.wrSz(cpu.eaLin(size, true), size, v, vh);
}

/** MOVZX Gv,Eb / Gv,Ew (0F B6 / 0F B7). */
function movzx(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  const v = cpu.readE((cpu.opcode & 1) === 0 ? 1 : 2);
  cpu.setRegSz(cpu.reg, cpu.osz, v, 0);
}

/** MOVSX Gv,Eb / Gv,Ew (0F BE / 0F BF). */
function movsx(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  const byte = (cpu.opcode & 1) === 0;
  const raw = cpu.readE(byte ? 1 : 2);
  const v = byte ? (raw << 24) >> 24 : (raw << 16) >> 16;
  const size = cpu.osz;
  cpu.setRegSz(cpu.reg, size, size === 2 ? v & 0xffff : v, v >> 31);
}

/**
 * 63: MOVSXD Gv,Ed in 64-bit mode (sign-extends with REX.W; without it, it is a plain
 * 32/16-bit move, SDM MOVSX/MOVSXD). Outside 64-bit mode 63 is ARPL (system.ts).
 * Called by data.ts's opcode 63 handler after decodeModrm.
 */
function movsxd(cpu: Cpu): void {
  const size = cpu.osz;
  if (size === 8) { const v = cpu.readE(4); cpu.setReg64(cpu.reg, v, v >> 31); return; }
  cpu.setRegSz(cpu.reg, size, cpu.readE(size), 0);
}

/**
 * XCHG Eb,Gb / Ev,Gv (86/87). The memory form is locked whether or not LOCK is present
 * (SDM XCHG); our single-threaded core makes it atomic by construction. The memory write
 * comes before the register update so a fault leaves the register untouched.
 */
function xchgE(cpu: Cpu): void {
  cpu.decodeModrm(0);
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const r = cpu.getRegSz(cpu.reg, size);
  const rh = cpu.hi;
  if (cpu.mod === 3) {
    noLock(cpu);
    const e = cpu.getRegSz(cpu.rm, size);
    const eh = cpu.hi;
    cpu.setRegSz(cpu.rm, size, r, rh);
    cpu.setRegSz(cpu.reg, size, e, eh);
    return;
  }
  const lin = cpu.eaLin(size, true);
  const e = cpu.rdSz(lin, size);
  const eh = cpu.hi;
  cpu.wrSz(lin, size, r, rh);
  cpu.setRegSz(cpu.reg, size, e, eh);
}

/**
 * XCHG rAX,r (91-97, and 90 with REX.B = XCHG rAX,r8). Plain 90 is NOP even with a 32-bit
 * operand size (it does not clear RAX[63:32]); F3 90 is PAUSE, also a NOP here, which may
 * end the vCPU's turn (Cpu.pauseYieldCountdown).
 */
function xchgAx(cpu: Cpu): void {
  noLock(cpu);
  const n = (cpu.opcode & 7) | cpu.rexB;
  if (n === 0) {
    // F3 90 is PAUSE: PAUSE exiting in VMX non-root (SDM Vol. 3C §25.1.3)
    if (cpu.rep === 1) {
      if (cpu.vmx.nonRoot) interceptPause(cpu);
      // a spin-wait: with several vCPUs, end this one's turn so the one it waits for runs
      if (cpu.pauseYieldCountdown > 0 && --cpu.pauseYieldCountdown === 0) cpu.requestYield();
    }
    return;
  }
  const size = cpu.osz;
  const a = cpu.getRegSz(0, size);
  const ah = cpu.hi;
  const b = cpu.getRegSz(n, size);
  const bh = cpu.hi;
  cpu.setRegSz(0, size, b, bh);
  cpu.setRegSz(n, size, a, ah);
}

/**
 * NOP Ev (0F 1F /0) and the reserved hint NOPs 0F 19-1E (ENDBR, the MPX BND forms and
 * CLDEMOTE decode here too and are NOPs while those features are not enumerated). The
 * ModRM is decoded (its length matters) but memory is never touched.
 */
function nopEv(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
}

/**
 * 0F 18 /0-3 PREFETCHh m8 (/4-7 and the register forms are reserved NOPs, SDM Table A-6
 * group 16) and 0F 0D PREFETCH/PREFETCHW m8 (register form #UD). Prefetches never fault.
 */
function prefetch18(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
}
function prefetch0d(cpu: Cpu): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
}

/** XLAT (D7): AL <- [seg:rBX + AL] at the address size; DS unless overridden. */
function xlat(cpu: Cpu): void {
  noLock(cpu);
  const al = cpu.r[0]! & 0xff;
  const seg = cpu.segOvr >= 0 ? cpu.segOvr : DS;
  let lo: number, hi = 0;
  if (cpu.asz === 8) {
    const s = (cpu.r[6]! >>> 0) + al;
    lo = s | 0; hi = (cpu.r[7]! + (s >= TWO32 ? 1 : 0)) | 0;
  } else if (cpu.asz === 4) lo = (cpu.r[6]! + al) | 0;
  else lo = (cpu.r[6]! + al) & 0xffff;
  const v = cpu.rd8(cpu.linear(seg, lo, hi, 1, false));
  cpu.r[0] = (cpu.r[0]! & ~0xff) | v;
}

/**
 * Far pointer loads: LES (C4) / LDS (C5) outside 64-bit mode, LSS/LFS/LGS (0F B2/B4/B5).
 * The m16:16/32/64 operand is offset then selector (SDM LDS/LES/LFS/LGS/LSS). Both parts
 * are read and the segment loaded before the register is written (atomic on a fault).
 * In 64-bit mode C4/C5 are VEX prefixes; without AVX they are #UD.
 */
function farPointer(cpu: Cpu, seg: number): void {
  noLock(cpu);
  cpu.decodeModrm(0);
  if (cpu.mod === 3) cpu.ud();
  const size = cpu.osz;
  const lin = cpu.eaLin(size + 2, false);
  const off = cpu.rdSz(lin, size);
  const offHi = cpu.hi;
  const sel = cpu.rd16(lin + size);
  loadSegment(cpu, seg, sel);
  cpu.setRegSz(cpu.reg, size, off, offHi);
}
function les(cpu: Cpu): void { if (cpu.code64) cpu.ud(); farPointer(cpu, ES); }
function lds(cpu: Cpu): void { if (cpu.code64) cpu.ud(); farPointer(cpu, DS); }
function lss(cpu: Cpu): void { farPointer(cpu, SS); }
function lfs(cpu: Cpu): void { farPointer(cpu, FS); }
function lgs(cpu: Cpu): void { farPointer(cpu, GS); }

export function installMov(t: Handler[]): void {
  def(t, 0x88, movEbGb);
  def(t, 0x8a, movGbEb);
  def(t, 0x8c, movEvSw);
  def(t, 0x8e, movSwEw);
  def(t, 0x8d, lea);
  for (let op = 0xa0; op <= 0xa3; op++) def(t, op, moffs);
  for (let r = 0; r < 8; r++) def(t, 0xb0 + r, movR8Imm);
  def(t, 0xc6, movEbIb);
  def(t, 0xc7, movEvIz);
  def(t, 0x1b6, movzx);
  def(t, 0x1b7, movzx);
  def(t, 0x1be, movsx);
  def(t, 0x1bf, movsx);
  def(t, 0x86, xchgE);
  def(t, 0x87, xchgE);
  for (let r = 0; r < 8; r++) def(t, 0x90 + r, xchgAx);
  def(t, 0x118, prefetch18);
  for (let op = 0x119; op <= 0x11f; op++) def(t, op, nopEv);
  def(t, 0x10d, prefetch0d);
  def(t, 0xd7, xlat);
  def(t, 0xc4, les);
  def(t, 0xc5, lds);
  def(t, 0x1b2, lss);
  def(t, 0x1b4, lfs);
  def(t, 0x1b5, lgs);
}

export { movsxd };
