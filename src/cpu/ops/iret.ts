/**
 * CF IRET/IRETD/IRETQ (SDM Vol. 2 IRET): real mode, virtual-8086 mode (IOPL 3), protected
 * mode to the same or an outer privilege level and back to virtual-8086 mode, and IA-32e
 * mode, where 64-bit mode always pops SS:RSP. A nested-task return (NT=1 outside IA-32e
 * mode) is a hardware task switch to the previous-task link (../task-switch.ts); NT=1 in
 * IA-32e mode is #GP(0).
 * IRET also ends NMI blocking (SDM Vol. 3A §6.7.1).
 */
import type { Cpu, Handler } from '../cpu.js';
import {
  CS, SS, ES, DS, FS, GS, VM, NT, IF, IOPL, VIF, VIP, RF, AC, ID, CR0_PE, EFER_LMA, ARITH_FLAGS, TF, DF,
} from '../regs.js';
import { loadCs, loadNull, loadReal, loadV86, loadFromDescriptor, setAccessed, nullInaccessibleSegments } from '../segments.js';
import { checkReturnCs, checkOuterSs, setReturnSp } from './farcall.js';
import { def } from './table.js';
import { iretTask } from '../task-switch.js';
import { requireVme16, virtualFlagsCheck, virtualFlagsLoad } from './vme.js';

const TWO32 = 4294967296;

/** Flags any IRET may change: arithmetic, TF, DF, NT, RF, AC, ID (IF/IOPL/VIF/VIP by privilege). */
const BASE_MASK = ARITH_FLAGS | TF | DF | NT | RF | AC | ID;

function iret(cpu: Cpu): void {
  const size = cpu.osz;
  if ((cpu.cr0 & CR0_PE) === 0) iretReal(cpu, size);
  else if ((cpu.flags & VM) !== 0) iretV86(cpu, size);
  else if ((cpu.efer & EFER_LMA) !== 0) {
    if ((cpu.flags & NT) !== 0) cpu.gp(0);
    iretProtected(cpu, size);
  } else if ((cpu.flags & NT) !== 0) iretTask(cpu); // return to the previous task (SDM Vol. 3A §7.4)
  else iretProtected(cpu, size);
  // with "virtual NMIs" a guest's IRET ends virtual-NMI blocking instead (SDM Vol. 3C §25.3)
  if (cpu.vmx.nonRoot && (cpu.vmx.pin & (1 << 5)) !== 0) cpu.vmx.virtualNmiBlocked = false;
  else cpu.nmiBlocked = false;
}

/** Pops IP, CS and FLAGS (size 2 or 4) for the real/v86 forms; returns the FLAGS image, IP in cpu.hi. */
function popRealFrame(cpu: Cpu, size: number): number {
  const ip = cpu.peek(size, 0);
  const off = size === 4 ? ip >>> 0 : ip;
  if (off > cpu.segLimit[CS]!) cpu.gp(0);
  cpu.hi = off;
  return cpu.peek(size, 2 * size);
}

function iretReal(cpu: Cpu, size: number): void {
  const fl = popRealFrame(cpu, size);
  const ip = cpu.hi;
  const cs = cpu.peek(size, size) & 0xffff;
  cpu.addSp(3 * size);
  loadReal(cpu, CS, cs);
  cpu.rip = ip;
  // 32-bit: VM, VIF and VIP are kept (EFLAGS AND 257FD5H); 16-bit: the low word
  cpu.setFlags(fl, size === 4 ? 0x257fd5 : 0xffff);
  cpu.updateMode();
}

/**
 * Virtual-8086 mode: IOPL-sensitive; IOPL itself, VM, VIF and VIP are kept. At IOPL < 3 a
 * 16-bit IRET with CR4.VME loads VIF from the IF image instead (SDM Vol. 2 IRET, vme.ts).
 */
function iretV86(cpu: Cpu, size: number): void {
  if ((cpu.flags & IOPL) !== IOPL) {
    requireVme16(cpu, size);
    const image = cpu.peek(2, 4);
    virtualFlagsCheck(cpu, size, image);
    const ip = cpu.peek(2, 0);
    if (ip > cpu.segLimit[CS]!) cpu.gp(0);
    const cs = cpu.peek(2, 2);
    cpu.addSp(6);
    loadV86(cpu, CS, cs);
    cpu.rip = ip;
    virtualFlagsLoad(cpu, image, BASE_MASK);
    return;
  }
  const fl = popRealFrame(cpu, size);
  const ip = cpu.hi;
  const cs = cpu.peek(size, size) & 0xffff;
  cpu.addSp(3 * size);
  loadV86(cpu, CS, cs);
  cpu.rip = ip;
  const mask = (BASE_MASK | IF) & (size === 4 ? -1 : 0xffff);
  cpu.setFlags(fl, mask);
}

function iretProtected(cpu: Cpu, size: number): void {
  const cpl = cpu.cpl;
  const lo = cpu.peek(size, 0);
  const off = size === 8 ? cpu.hi * TWO32 + (lo >>> 0) : size === 4 ? lo >>> 0 : lo;
  const sel = cpu.peek(size, size) & 0xffff;
  const fl = cpu.peek(size, 2 * size);
  const long = (cpu.efer & EFER_LMA) !== 0;
  if (!long && size === 4 && (fl & VM) !== 0 && cpl === 0) { iretToV86(cpu, off, sel, fl); return; }

  const clo = checkReturnCs(cpu, sel);
  const chi = cpu.hi;
  const rpl = sel & 3;
  let target: number;
  if (long && (chi & 0x600000) === 0x200000) {
    if (off < -0x800000000000 || off >= 0x800000000000) cpu.gp(0);
    target = off;
  } else {
    target = off >>> 0;
    const raw = (clo & 0xffff) | (chi & 0xf0000);
    const limit = (chi & 0x800000) !== 0 ? raw * 4096 + 4095 : raw;
    if (target > limit) cpu.gp(0);
  }
  // flags writable at the old CPL (SDM Vol. 2 IRET "RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL")
  let mask = BASE_MASK;
  if (cpl <= ((cpu.flags & IOPL) >> 12)) mask |= IF;
  if (cpl === 0) mask |= IOPL | VIF | VIP;
  if (size === 2) mask &= 0xffff;

  // 64-bit mode pops SS:RSP even at the same privilege level
  if (rpl === cpl && !cpu.code64) {
    setAccessed(cpu, sel, chi);
    cpu.addSp(3 * size);
    loadCs(cpu, sel, clo, chi, rpl);
    cpu.rip = target;
    cpu.setFlags(fl, mask);
    return;
  }
  const slo0 = cpu.peek(size, 3 * size);
  const sp = size === 8 ? cpu.hi * TWO32 + (slo0 >>> 0) : size === 4 ? slo0 >>> 0 : slo0;
  const ssSel = cpu.peek(size, 4 * size) & 0xffff;
  const slo = checkOuterSs(cpu, ssSel, rpl, chi);
  const shi = cpu.hi;
  setAccessed(cpu, sel, chi);
  if ((ssSel & 0xfffc) !== 0) setAccessed(cpu, ssSel, shi);
  cpu.setFlags(fl, mask);
  loadCs(cpu, sel, clo, chi, rpl);
  if ((ssSel & 0xfffc) === 0) loadNull(cpu, SS, ssSel); else loadFromDescriptor(cpu, SS, ssSel, slo, shi);
  setReturnSp(cpu, sp);
  cpu.rip = target;
  if (rpl > cpl) nullInaccessibleSegments(cpu);
}

/** Return to virtual-8086 mode from CPL 0 (SDM Vol. 2 IRET "RETURN-TO-VIRTUAL-8086-MODE"). */
function iretToV86(cpu: Cpu, off: number, sel: number, fl: number): void {
  if ((off & 0xffff0000) !== 0) cpu.gp(0);
  const esp = cpu.peek(4, 12);
  const ss = cpu.peek(4, 16) & 0xffff;
  const es = cpu.peek(4, 20) & 0xffff;
  const ds = cpu.peek(4, 24) & 0xffff;
  const fs = cpu.peek(4, 28) & 0xffff;
  const gs = cpu.peek(4, 32) & 0xffff;
  cpu.setFlags(fl, -1);
  loadV86(cpu, CS, sel);
  loadV86(cpu, SS, ss);
  loadV86(cpu, ES, es);
  loadV86(cpu, DS, ds);
  loadV86(cpu, FS, fs);
  loadV86(cpu, GS, gs);
  cpu.r[8] = esp;
  cpu.rip = off;
  cpu.updateMode();
}

export function installIret(t: Handler[]): void {
  def(t, 0xcf, iret);
}
