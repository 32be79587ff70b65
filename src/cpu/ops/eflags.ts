/**
 * EFLAGS moves owned by the data family: PUSHF/POPF (9C/9D), CLI/STI (FA/FB), CLD/STD
 * (FC/FD). The privilege rules are the SDM's POPF/CLI/STI "Operation" sections; where they
 * would fault at IOPL < 3, CR4.VME (v86 mode) and CR4.PVI (CPL 3) make them act on the
 * virtual interrupt flag instead (vme.ts).
 * IF and DF are not arithmetic flags, so they live in cpu.flags even while flags are lazy.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { CF, PF, AF, ZF, SF, TF, IF, DF, OF, IOPL, NT, RF, VM, AC, ID } from '../regs.js';
import { requireVme16, virtualCliSti, virtualFlagsImage, virtualFlagsCheck, virtualFlagsLoad } from './vme.js';

function noLock(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
}

function iopl(cpu: Cpu): number {
  return (cpu.flags >> 12) & 3;
}

/** Flags POPF may always change (with CPL/IOPL adding IF and IOPL). */
const POPF_BASE = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID;

/**
 * PUSHF/PUSHFD/PUSHFQ (9C). The image has VM and RF cleared. In v86 mode with IOPL < 3
 * it is #GP(0), except a 16-bit PUSHF with CR4.VME, which pushes VIF as IF (SDM PUSHF
 * Operation, Vol. 3A §20.4).
 */
function pushf(cpu: Cpu): void {
  noLock(cpu);
  if (cpu.v86 && iopl(cpu) < 3) { cpu.push(2, virtualFlagsImage(cpu), 0); return; }
  const size = cpu.stackOsz();
  const f = cpu.getFlags() & ~(VM | RF);
  cpu.push(size, size === 2 ? f & 0xffff : f, 0);
}

/**
 * POPF/POPFD/POPFQ (9D), SDM POPF Operation:
 * - real mode and CPL 0: everything but VIP, VIF, VM; IOPL and IF included;
 * - CPL <= IOPL: IF too, IOPL unchanged;
 * - CPL > IOPL: neither IF nor IOPL (silently kept, no fault);
 * - v86 with IOPL = 3: IF but not IOPL; v86 with IOPL < 3: #GP(0).
 * A 32/64-bit POPF clears RF; a 16-bit one only loads bits 15:0.
 */
function popf(cpu: Cpu): void {
  noLock(cpu);
  let mask = POPF_BASE;
  const pl = iopl(cpu);
  if (cpu.v86) {
    if (pl < 3) {
      // VME: a 16-bit POPF loads VIF from the IF image (SDM POPF Operation, Vol. 3A §20.4)
      requireVme16(cpu, cpu.osz);
      const image = cpu.peek(2, 0);
      virtualFlagsCheck(cpu, cpu.osz, image);
      cpu.addSp(2);
      virtualFlagsLoad(cpu, image, POPF_BASE);
      return;
    }
    mask |= IF;
  } else {
    if (cpu.cpl <= pl) mask |= IF;
    if (cpu.cpl === 0) mask |= IOPL;
  }
  const size = cpu.stackOsz();
  const v = cpu.pop(size);
  if (size === 2) { cpu.setFlags(v, mask & 0xffff); return; }
  cpu.setFlags(v, mask | RF);
  cpu.flags &= ~RF;
}

/** CLI (FA): allowed when CPL <= IOPL (v86: IOPL = 3); else VIF <- 0 with VME/PVI, or #GP(0). */
function cli(cpu: Cpu): void {
  noLock(cpu);
  if (cpu.protectedMode && (cpu.v86 ? iopl(cpu) < 3 : cpu.cpl > iopl(cpu))) { virtualCliSti(cpu, false); return; }
  cpu.flags &= ~IF;
}

/**
 * STI (FB): same privilege rule as CLI. When IF was 0, interrupts stay blocked until the
 * instruction after STI has completed (SDM STI; Vol. 3A §6.8.3), so "sti; hlt" is safe.
 */
function sti(cpu: Cpu): void {
  noLock(cpu);
  if (cpu.protectedMode && (cpu.v86 ? iopl(cpu) < 3 : cpu.cpl > iopl(cpu))) { virtualCliSti(cpu, true); return; }
  if ((cpu.flags & IF) === 0) {
    cpu.flags |= IF;
    cpu.inhibitIrq = true;
    cpu.shadowMovSs = false;
  }
}

export function installEflags(t: Handler[]): void {
  def(t, 0x9c, pushf);
  def(t, 0x9d, popf);
  def(t, 0xfa, cli);
  def(t, 0xfb, sti);
  def(t, 0xfc, (cpu) => { noLock(cpu); cpu.flags &= ~DF; });
  def(t, 0xfd, (cpu) => { noLock(cpu); cpu.flags |= DF; });
}
