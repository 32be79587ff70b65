/**
 * Descriptor-table instructions: SGDT/SIDT/LGDT/LIDT (0F 01 /0-/3), group 6 (0F 00:
 * SLDT/STR/LLDT/LTR/VERR/VERW), LAR/LSL (0F 02/03) and ARPL (63, exported for the data
 * family). SDM Vol. 2 for each mnemonic; Vol. 3A §2.4 for the registers; UMIP
 * (Vol. 3A §2.5, CR4.UMIP) makes SGDT/SIDT/SLDT/STR #GP(0) at CPL > 0.
 */
import type { Cpu, Handler } from '../cpu.js';
import { ZF } from '../regs.js';
import { def } from './table.js';
import { descriptorAddress, loadLdtr, loadTr, descLimit } from '../segments.js';
import { LDTR, TR, CR4_UMIP, EFER_LMA } from '../regs.js';
import { interceptDescriptorTable } from '../vmx/intercepts.js';

const TWO32 = 4294967296;

/** Real mode and virtual-8086 mode do not recognise the group 6 / LAR / LSL / ARPL opcodes. */
export function requireProtectedNonV86(cpu: Cpu): void {
  if (!cpu.protectedMode || cpu.v86) cpu.ud();
}

/** UMIP: SGDT, SIDT, SLDT, SMSW and STR at CPL > 0 raise #GP(0) (SDM Vol. 3A §2.5). */
export function umipCheck(cpu: Cpu): void {
  if ((cpu.cr4 & CR4_UMIP) !== 0 && cpu.cpl > 0) cpu.gp(0);
}

// =======================================================================================
// SGDT / SIDT / LGDT / LIDT  (called by the group 7 dispatcher after decodeModrm)
// =======================================================================================

/** SGDT (/0) and SIDT (/1): store limit then base (8 bytes in 64-bit mode, else 4). */
export function sgdtSidt(cpu: Cpu, idt: boolean): void {
  if (cpu.mod === 3) cpu.ud();
  umipCheck(cpu);
  if (cpu.vmx.nonRoot) interceptDescriptorTable(cpu, false, idt ? 1 : 0);
  const wide = cpu.code64;
  const lin = cpu.eaLin(wide ? 10 : 6, true);
  const base = idt ? cpu.idtBase : cpu.gdtBase;
  const limit = idt ? cpu.idtLimit : cpu.gdtLimit;
  const h = Math.floor(base / TWO32);
  const lo = (base - h * TWO32) | 0;
  // check both ends before writing anything (atomicity across a page boundary)
  cpu.probeSplit(lin, wide ? 10 : 6, true);
  cpu.wr16(lin, limit);
  if (wide) cpu.wr64(lin + 2, lo, h | 0);
  else cpu.wr32(lin + 2, lo); // the full 32-bit base, also with a 16-bit operand size
}

/**
 * LGDT (/2) and LIDT (/3): CPL 0; base is 64-bit (canonical) in 64-bit mode, 32-bit
 * otherwise, 24-bit with a 16-bit operand size outside 64-bit mode.
 */
export function lgdtLidt(cpu: Cpu, idt: boolean): void {
  if (cpu.mod === 3) cpu.ud();
  cpu.requireCpl0();
  if (cpu.vmx.nonRoot) interceptDescriptorTable(cpu, false, idt ? 3 : 2);
  const wide = cpu.code64;
  const lin = cpu.eaLin(wide ? 10 : 6, false);
  const limit = cpu.rd16(lin);
  let base: number;
  if (wide) {
    const lo = cpu.rd32(lin + 2), hi = cpu.rd32(lin + 6);
    const s = hi >> 15;
    if (s !== 0 && s !== -1) cpu.gp(0);
    base = hi * TWO32 + (lo >>> 0);
  } else {
    base = cpu.rd32(lin + 2) >>> 0;
    if (cpu.osz === 2) base &= 0xffffff;
  }
  if (idt) { cpu.idtBase = base; cpu.idtLimit = limit; }
  else { cpu.gdtBase = base; cpu.gdtLimit = limit; }
}

// =======================================================================================
// Group 6: 0F 00 /0 SLDT, /1 STR, /2 LLDT, /3 LTR, /4 VERR, /5 VERW
// =======================================================================================

/** Stores a selector: registers take the operand size (zero-extended), memory 16 bits. */
function storeSelector(cpu: Cpu, sel: number): void {
  if (cpu.mod === 3) cpu.setRegSz(cpu.rm, cpu.osz === 2 ? 2 : cpu.osz, sel & 0xffff, 0);
  else cpu.wr16(cpu.eaLin(2, true), sel & 0xffff);
}

/** Reads the 16-bit selector operand of LLDT/LTR/VERR/VERW/LAR/LSL. */
function readSelector(cpu: Cpu): number {
  if (cpu.mod === 3) return cpu.r[cpu.rm << 1]! & 0xffff;
  return cpu.rd16(cpu.eaLin(2, false));
}

/** Sets or clears ZF alone (LAR/LSL/VERR/VERW/ARPL leave the other flags unchanged). */
function setZf(cpu: Cpu, on: boolean): void {
  cpu.materializeFlags();
  cpu.flags = on ? cpu.flags | ZF : cpu.flags & ~ZF;
}

/**
 * Linear address of the descriptor `sel` names, or -1 for a null selector or one beyond
 * its table's limit: LAR/LSL/VERR/VERW clear ZF then instead of faulting.
 */
function probeAddress(cpu: Cpu, sel: number): number {
  if ((sel & 0xfffc) === 0) return -1;
  return descriptorAddress(cpu, sel);
}

/** DPL ≥ max(CPL, RPL) unless conforming code (the shared rule of LAR/LSL/VERR/VERW). */
function privilegeOk(cpu: Cpu, sel: number, hi: number): boolean {
  const conformingCode = (hi & 0x1c00) === 0x1c00 && (hi & 0x1000) !== 0;
  if (conformingCode) return true;
  const dpl = (hi >> 13) & 3;
  return dpl >= cpu.cpl && dpl >= (sel & 3);
}

function group6(cpu: Cpu): void {
  requireProtectedNonV86(cpu);
  cpu.decodeModrm(0);
  switch (cpu.reg & 7) {
    case 0: case 1: case 2: case 3: {
      // SLDT/STR need UMIP's CPL check, LLDT/LTR CPL 0; then descriptor-table exiting (VMX)
      const op = cpu.reg & 7;
      if (op < 2) umipCheck(cpu); else cpu.requireCpl0();
      if (cpu.vmx.nonRoot) interceptDescriptorTable(cpu, true, op);
      if (op === 0) { storeSelector(cpu, cpu.segSel[LDTR]!); return; }
      if (op === 1) { storeSelector(cpu, cpu.segSel[TR]!); return; }
      const s = readSelector(cpu);
      if (op === 2) loadLdtr(cpu, s); else loadTr(cpu, s);
      return;
    }
    case 4: case 5: {
      const write = (cpu.reg & 7) === 5;
      const sel = readSelector(cpu);
      const a = probeAddress(cpu, sel);
      if (a < 0) { setZf(cpu, false); return; }
      const hi = cpu.rdSys32(a + 4);
      let ok = (hi & 0x1000) !== 0 && privilegeOk(cpu, sel, hi);
      if (ok) {
        const code = (hi & 0x800) !== 0;
        ok = write ? !code && (hi & 0x200) !== 0 : !code || (hi & 0x200) !== 0;
      }
      setZf(cpu, ok);
      return;
    }
    default: cpu.ud();
  }
}

// =======================================================================================
// LAR / LSL
// =======================================================================================

/** System descriptor types LAR accepts (SDM Vol. 2 LAR, Table 3-xx); IA-32e mode fewer. */
const LAR_LEGACY = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 0xb) | (1 << 0xc);
const LAR_LONG = (1 << 2) | (1 << 9) | (1 << 0xb) | (1 << 0xc);
const LSL_LEGACY = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 0xb);
const LSL_LONG = (1 << 2) | (1 << 9) | (1 << 0xb);

function larLsl(cpu: Cpu): void {
  requireProtectedNonV86(cpu);
  cpu.decodeModrm(0);
  const lsl = cpu.opcode === 0x103;
  const sel = readSelector(cpu);
  const a = probeAddress(cpu, sel);
  if (a < 0) { setZf(cpu, false); return; }
  const lo = cpu.rdSys32(a), hi = cpu.rdSys32(a + 4);
  if ((hi & 0x1000) === 0) {
    const long = (cpu.efer & EFER_LMA) !== 0;
    const ok = lsl ? (long ? LSL_LONG : LSL_LEGACY) : (long ? LAR_LONG : LAR_LEGACY);
    if ((ok & (1 << ((hi >> 8) & 0xf))) === 0) { setZf(cpu, false); return; }
  }
  if (!privilegeOk(cpu, sel, hi)) { setZf(cpu, false); return; }
  const size = cpu.osz;
  if (lsl) {
    const limit = descLimit(lo, hi) | 0;
    cpu.setRegSz(cpu.reg, size, size === 2 ? limit & 0xffff : limit, 0);
  } else {
    cpu.setRegSz(cpu.reg, size, size === 2 ? hi & 0xff00 : hi & 0x00f0ff00, 0);
  }
  setZf(cpu, true);
}

// =======================================================================================
// ARPL (63 /r outside 64-bit mode)
// =======================================================================================

/**
 * ARPL Ew, Gw: raises the destination selector's RPL to the source's. Called by the data
 * family's opcode 63 handler outside 64-bit mode, AFTER cpu.decodeModrm(0).
 */
export function arpl(cpu: Cpu): void {
  requireProtectedNonV86(cpu);
  const src = cpu.r[cpu.reg << 1]! & 3;
  if (cpu.mod === 3) {
    const d = cpu.r[cpu.rm << 1]! & 0xffff;
    if ((d & 3) < src) { cpu.setReg16(cpu.rm, (d & ~3) | src); setZf(cpu, true); } else setZf(cpu, false);
    return;
  }
  const lin = cpu.eaLin(2, true);
  const d = cpu.rd16(lin);
  if ((d & 3) < src) { cpu.wr16(lin, (d & ~3) | src); setZf(cpu, true); } else setZf(cpu, false);
}

export function installDescriptorTables(t: Handler[]): void {
  def(t, 0x100, group6);
  def(t, 0x102, larLsl);
  def(t, 0x103, larLsl);
}
