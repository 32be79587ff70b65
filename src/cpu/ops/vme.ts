/**
 * Virtual-8086 mode extensions and protected-mode virtual interrupts (SDM Vol. 3A §20.3-
 * §20.4; CR4.VME and CR4.PVI, §2.5): the virtual interrupt flag VIF and the virtual
 * interrupt pending flag VIP stand in for IF where the instructions would otherwise fault
 * at IOPL < 3, and INT n in virtual-8086 mode can be redirected to the 8086 program's own
 * interrupt vector table through the TSS's software interrupt redirection bit map.
 * The instruction handlers (eflags.ts CLI/STI/PUSHF/POPF, control.ts INT n, iret.ts IRET)
 * call in here only on the paths that fault without the extensions.
 *
 *   instruction (IOPL < 3)       VM = 1, CR4.VME            VM = 0, CPL 3, CR4.PVI
 *   CLI                          VIF <- 0                   VIF <- 0
 *   STI                          VIF <- 1 (#GP if VIP)      VIF <- 1 (#GP if VIP)
 *   PUSHF (16-bit)               IF image = VIF, IOPL = 3   —
 *   POPF / IRET (16-bit)         VIF <- IF image; #GP if TF=1 or (IF=1 and VIP=1)
 *   INT n                        redirection bit map (Table 20-2)
 * 32-bit PUSHF/POPF/IRET keep faulting (#GP(0)): the virtual flags are for 8086 code.
 */
import type { Cpu } from '../cpu.js';
import { CS, SS, TR, IF, TF, RF, IOPL, VIF, VIP, CR4_VME, CR4_PVI, SS_ } from '../regs.js';
import { StackBuilder, loadV86 } from '../segments.js';

const frame = new StackBuilder();

export function vmeOn(cpu: Cpu): boolean { return (cpu.cr4 & CR4_VME) !== 0; }

/**
 * CLI/STI that CPL and IOPL forbid: VIF instead of IF in virtual-8086 mode with CR4.VME, or
 * at CPL 3 in protected mode with CR4.PVI (SDM Vol. 2 CLI/STI Operation); #GP(0) otherwise.
 * STI with VIP set is #GP(0) so the monitor can deliver the pending interrupt.
 */
export function virtualCliSti(cpu: Cpu, set: boolean): void {
  const ok = cpu.v86 ? (cpu.cr4 & CR4_VME) !== 0 : cpu.cpl === 3 && (cpu.cr4 & CR4_PVI) !== 0;
  if (!ok) cpu.gp(0);
  if (!set) { cpu.flags &= ~VIF; return; }
  if ((cpu.flags & VIP) !== 0) cpu.gp(0);
  cpu.flags |= VIF;
}

/** The 16-bit FLAGS image PUSHF stores in virtual-8086 mode with VME: IF from VIF, IOPL 3. */
export function virtualFlagsImage(cpu: Cpu): number {
  if (!vmeOn(cpu) || cpu.osz !== 2) cpu.gp(0);
  const f = cpu.getFlags() & 0xffff & ~IF;
  return f | IOPL | ((cpu.flags & VIF) !== 0 ? IF : 0);
}

/** The virtual flags serve 16-bit operands in virtual-8086 mode with CR4.VME only: #GP(0) before any stack access otherwise. */
export function requireVme16(cpu: Cpu, size: number): void {
  if (!vmeOn(cpu) || size !== 2) cpu.gp(0);
}

/**
 * POPF or IRET of a 16-bit FLAGS image in virtual-8086 mode with VME at IOPL < 3:
 * #GP(0) for a 32-bit operand, for TF = 1 in the image, or for IF = 1 with VIP set
 * (SDM Vol. 2 POPF/IRET). Call before anything is committed; then virtualFlagsLoad.
 */
export function virtualFlagsCheck(cpu: Cpu, size: number, image: number): void {
  requireVme16(cpu, size);
  if ((image & TF) !== 0 || ((image & IF) !== 0 && (cpu.flags & VIP) !== 0)) cpu.gp(0);
}

/** Loads FLAGS bits `mask` (IF and IOPL excluded) from `image` and VIF from its IF bit. */
export function virtualFlagsLoad(cpu: Cpu, image: number, mask: number): void {
  cpu.setFlags(image, mask & 0xffff & ~(IF | IOPL));
  cpu.flags = (image & IF) !== 0 ? cpu.flags | VIF : cpu.flags & ~VIF;
}

/**
 * INT n (CD ib) in virtual-8086 mode (SDM Vol. 3A §20.3.3, Table 20-2; Vol. 2 INT n):
 *   VME = 0: IOPL 3 → the protected-mode IDT handler; IOPL < 3 → #GP(0) (methods 1, 2).
 *   VME = 1: bit n of the redirection bit map (the 32 bytes below the I/O map base of the
 *   32-bit TSS) set → as without VME (methods 3, 4); clear → redirected through the 8086
 *   program's vector table at linear 0 like a real-mode INT (method 5), where at IOPL < 3
 *   the FLAGS image carries VIF as IF and IOPL 3, and VIF rather than IF is cleared (6).
 */
export function v86IntN(cpu: Cpu, n: number): void {
  const iopl3 = (cpu.flags & IOPL) === IOPL;
  if (!vmeOn(cpu)) {
    if (!iopl3) cpu.gp(0);
    cpu.softwareInterrupt(n);
    return;
  }
  // the bit map lives in a 32-bit TSS; reading beyond its limit is #GP(0)
  if ((cpu.segAr[TR]! & 8) === 0) cpu.gp(0);
  const base = cpu.segBase[TR]!, limit = cpu.segLimit[TR]!;
  if (limit < 0x67) cpu.gp(0);
  const ioBase = cpu.rdSys16(base + 0x66);
  const off = ioBase - 32 + (n >> 3);
  if (off < 0 || off > limit) cpu.gp(0);
  if (((cpu.rdSys8((base + off) % 4294967296) >> (n & 7)) & 1) !== 0) {
    if (!iopl3) cpu.gp(0);
    cpu.softwareInterrupt(n);
    return;
  }
  redirect(cpu, n, iopl3);
}

/** Method 5/6: an 8086-style interrupt inside the virtual-8086 task (its IVT at linear 0). */
function redirect(cpu: Cpu, n: number, iopl3: boolean): void {
  const ip = cpu.rd16(n * 4), cs = cpu.rd16(n * 4 + 2);
  let image = cpu.getFlags() & 0xffff;
  if (!iopl3) image = (image & ~IF) | IOPL | ((cpu.flags & VIF) !== 0 ? IF : 0);
  const sp = cpu.r[8]!;
  frame.init(cpu.segBase[SS]!, cpu.segLimit[SS]!, cpu.segAr[SS]!, sp, 2, true, SS_, 0);
  frame.push(cpu, 2, image, 0);
  frame.push(cpu, 2, cpu.segSel[CS]!, 0);
  frame.push(cpu, 2, cpu.rip & 0xffff, 0);
  cpu.r[8] = (sp & ~0xffff) | frame.sp;
  cpu.flags &= ~(TF | RF | (iopl3 ? IF : VIF));
  loadV86(cpu, CS, cs);
  cpu.rip = ip;
  cpu.lastEventAt = cpu.instructionCount; // an event: no single-step trap after the INT itself
}
