/**
 * Port I/O: IN/OUT (E4-E7, EC-EF) and INS/OUTS (6C-6F) with REP, through cpu.io.
 * Protected-mode I/O permission (SDM Vol. 1 §19.5): when CPL > IOPL, or always in
 * virtual-8086 mode, every port byte of the access must have a clear bit in the TSS I/O
 * permission bitmap. String forms reuse the REP machinery of string.ts; the memory operand
 * is translated before the port is touched, because a port read can have side effects that
 * a restarted instruction must not repeat.
 */
import type { Cpu, Handler } from '../cpu.js';
import { REP_NONE } from '../cpu.js';
import { def } from './table.js';
import { DS, ES, TR, DF, AR_UNUSABLE } from '../regs.js';
import { getIdx, setIdx, advance, strLin, repCount, repConsume, REP_CAP } from './string.js';
import { interceptIo } from '../vmx/intercepts.js';

const RSI = 6, RDI = 7;

/**
 * Whether an access of `size` bytes at `port` is allowed (SDM Vol. 1 §19.5.1-19.5.2).
 * Real mode, and protected mode with CPL <= IOPL, always may. Otherwise the TSS must be a
 * 32/64-bit TSS; the bitmap offset is the word at TSS+0x66, and the two bitmap bytes that
 * hold the port's bits must lie within the TSS limit (bits past the limit count as set).
 */
export function ioPermitted(cpu: Cpu, port: number, size: number): boolean {
  if (!cpu.protectedMode) return true;
  if (!cpu.v86 && cpu.cpl <= ((cpu.flags >> 12) & 3)) return true;
  const ar = cpu.segAr[TR]!;
  const type = ar & 0xf;
  if ((ar & AR_UNUSABLE) !== 0 || (type !== 9 && type !== 0xb)) return false;
  const limit = cpu.segLimit[TR]!;
  if (limit < 0x67) return false;
  const base = cpu.segBase[TR]!;
  const off = cpu.rdSys16(base + 0x66) + (port >>> 3);
  if (off + 1 > limit) return false;
  const bits = cpu.rdSys16(base + off);
  return (bits & (((1 << size) - 1) << (port & 7))) === 0;
}

function ioSize(cpu: Cpu): number {
  return (cpu.opcode & 1) === 0 ? 1 : cpu.osz === 2 ? 2 : 4;
}

function checkPort(cpu: Cpu, port: number, size: number): void {
  if (!ioPermitted(cpu, port, size)) cpu.gp(0);
}

/** IN AL/eAX, port: a 32-bit result zero-extends into RAX. */
function doIn(cpu: Cpu, port: number): void {
  const size = ioSize(cpu);
  checkPort(cpu, port, size);
  if (cpu.vmx.nonRoot) interceptIo(cpu, port, size, true, false, cpu.opcode < 0xe8);
  const v = cpu.io.read(port, size);
  cpu.setRegSz(0, size, size === 4 ? v | 0 : v, 0);
}

function doOut(cpu: Cpu, port: number): void {
  const size = ioSize(cpu);
  checkPort(cpu, port, size);
  if (cpu.vmx.nonRoot) interceptIo(cpu, port, size, false, false, cpu.opcode < 0xe8);
  const v = cpu.getRegSz(0, size);
  cpu.io.write(port, size, size === 4 ? v >>> 0 : v);
}

function noLock(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
}

/** Makes sure a write of `size` bytes at `lin` will not fault (TLB hit or a full walk). */
function probeWrite(cpu: Cpu, lin: number, size: number): void {
  const pn = Math.floor(lin / 4096);
  const i = pn & (cpu.tlbTag.length - 1);
  const last = lin + size - 1;
  const samePage = Math.floor(last / 4096) === pn;
  if (samePage && cpu.tlbTag[i] === pn && (cpu.tlbPerm[i]! & cpu.wrMask) !== 0) return;
  cpu.translateData(lin, true);
  if (!samePage) cpu.translateData(last, true);
}

/** INS/INSB/INSW/INSD (6C/6D): ES:[rDI] <- port DX. */
function ins(cpu: Cpu): void {
  noLock(cpu);
  const size = ioSize(cpu);
  const port = cpu.r[4]! & 0xffff;
  checkPort(cpu, port, size);
  const asz = cpu.asz;
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  let di = getIdx(cpu, RDI, asz);
  if (cpu.vmx.nonRoot) interceptIo(cpu, port, size, true, true, false, strLin(cpu, ES, di, asz, size, true));
  if (cpu.rep === REP_NONE) {
    const lin = strLin(cpu, ES, di, asz, size, true);
    probeWrite(cpu, lin, size);
    cpu.wrSz(lin, size, cpu.io.read(port, size), 0);
    setIdx(cpu, RDI, asz, advance(di, delta, asz));
    return;
  }
  const n = repCount(cpu, asz, REP_CAP);
  let done = 0;
  try {
    while (done < n) {
      const lin = strLin(cpu, ES, di, asz, size, true);
      probeWrite(cpu, lin, size);
      cpu.wrSz(lin, size, cpu.io.read(port, size), 0);
      di = advance(di, delta, asz);
      done++;
      if (cpu.stopRequested) break;
    }
  } finally {
    setIdx(cpu, RDI, asz, di);
    if (repConsume(cpu, asz, done)) cpu.rip = cpu.startRip;
  }
}

/** OUTS/OUTSB/OUTSW/OUTSD (6E/6F): port DX <- seg:[rSI] (segment override allowed). */
function outs(cpu: Cpu): void {
  noLock(cpu);
  const size = ioSize(cpu);
  const port = cpu.r[4]! & 0xffff;
  checkPort(cpu, port, size);
  const asz = cpu.asz;
  const seg = cpu.segOvr >= 0 ? cpu.segOvr : DS;
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  let si = getIdx(cpu, RSI, asz);
  if (cpu.vmx.nonRoot) interceptIo(cpu, port, size, false, true, false, strLin(cpu, seg, si, asz, size, false));
  if (cpu.rep === REP_NONE) {
    const v = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
    cpu.io.write(port, size, size === 4 ? v >>> 0 : v);
    setIdx(cpu, RSI, asz, advance(si, delta, asz));
    return;
  }
  const n = repCount(cpu, asz, REP_CAP);
  let done = 0;
  try {
    while (done < n) {
      const v = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
      cpu.io.write(port, size, size === 4 ? v >>> 0 : v);
      si = advance(si, delta, asz);
      done++;
      if (cpu.stopRequested) break;
    }
  } finally {
    setIdx(cpu, RSI, asz, si);
    if (repConsume(cpu, asz, done)) cpu.rip = cpu.startRip;
  }
}

export function installIo(t: Handler[]): void {
  def(t, 0xe4, (cpu) => { noLock(cpu); doIn(cpu, cpu.fetch8()); });
  def(t, 0xe5, (cpu) => { noLock(cpu); doIn(cpu, cpu.fetch8()); });
  def(t, 0xe6, (cpu) => { noLock(cpu); doOut(cpu, cpu.fetch8()); });
  def(t, 0xe7, (cpu) => { noLock(cpu); doOut(cpu, cpu.fetch8()); });
  def(t, 0xec, (cpu) => { noLock(cpu); doIn(cpu, cpu.r[4]! & 0xffff); });
  def(t, 0xed, (cpu) => { noLock(cpu); doIn(cpu, cpu.r[4]! & 0xffff); });
  def(t, 0xee, (cpu) => { noLock(cpu); doOut(cpu, cpu.r[4]! & 0xffff); });
  def(t, 0xef, (cpu) => { noLock(cpu); doOut(cpu, cpu.r[4]! & 0xffff); });
  def(t, 0x6c, ins); def(t, 0x6d, ins);
  def(t, 0x6e, outs); def(t, 0x6f, outs);
}
