/**
 * Accumulator conversions and flag moves: CBW/CWDE/CDQE (98), CWD/CDQ/CQO (99),
 * SAHF/LAHF (9E/9F), CMC/CLC/STC (F5/F8/F9), SALC (D6), and the BCD adjustments
 * DAA/DAS/AAA/AAS/AAM/AAD (27 2F 37 3F D4 D5), which are #UD in 64-bit mode.
 * SDM Vol. 2A "CBW/CWDE/CDQE", "CWD/CDQ/CQO", "DAA", "DAS", "AAA", "AAS", "AAM", "AAD".
 */
import type { Cpu, Handler } from '../cpu.js';
import { CF, PF, AF, ZF, SF, RAX, RDX, DE } from '../regs.js';
import { FXC_LAHF } from '../profile.js';
import { def } from './table.js';
import { noLock } from './alucommon.js';

/** 98: AL->AX, AX->EAX, EAX->RAX sign extension. */
function cbw(cpu: Cpu): void {
  noLock(cpu);
  switch (cpu.osz) {
    case 2: cpu.setReg16(RAX, ((cpu.getReg8(0) << 24) >> 24) & 0xffff); return;
    case 4: cpu.setReg32(RAX, (cpu.getReg16(RAX) << 16) >> 16); return;
    default: { const v = cpu.getReg32(RAX); cpu.setReg64(RAX, v, v >> 31); }
  }
}

/** 99: AX->DX:AX, EAX->EDX:EAX, RAX->RDX:RAX. */
function cwd(cpu: Cpu): void {
  noLock(cpu);
  switch (cpu.osz) {
    case 2: cpu.setReg16(RDX, (cpu.getReg16(RAX) & 0x8000) !== 0 ? 0xffff : 0); return;
    case 4: cpu.setReg32(RDX, cpu.getReg32(RAX) >> 31); return;
    default: { cpu.getReg64(RAX); const s = cpu.hi >> 31; cpu.setReg64(RDX, s, s); }
  }
}

const SAHF_MASK = SF | ZF | AF | PF | CF;

/** 9E SAHF / 9F LAHF; in 64-bit mode only with CPUID.80000001H:ECX.LAHF-SAHF. */
function sahfLahf(cpu: Cpu): void {
  noLock(cpu);
  if (cpu.code64 && (cpu.profile.ext1Ecx & FXC_LAHF) === 0) cpu.ud();
  if (cpu.opcode === 0x9e) {
    cpu.materializeFlags();
    cpu.flags = (cpu.flags & ~SAHF_MASK) | (((cpu.getReg16(RAX) >> 8) & SAHF_MASK));
  } else {
    const f = (cpu.getFlags() & SAHF_MASK) | 2;
    cpu.setReg16(RAX, (cpu.getReg16(RAX) & 0xff) | (f << 8));
  }
}

/** F5 CMC / F8 CLC / F9 STC. */
function carryOps(cpu: Cpu): void {
  noLock(cpu);
  cpu.materializeFlags();
  switch (cpu.opcode) {
    case 0xf5: cpu.flags ^= CF; return;
    case 0xf8: cpu.flags &= ~CF; return;
    default: cpu.flags |= CF;
  }
}

/** D6 SALC (undocumented, AMD/Intel): AL = CF ? FF : 00; #UD in 64-bit mode. */
function salc(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
  noLock(cpu);
  cpu.setReg8(0, cpu.getCF() !== 0 ? 0xff : 0);
}

function legacyOnly(cpu: Cpu): void {
  if (cpu.code64) cpu.ud();
  noLock(cpu);
}

/** 27 DAA / 2F DAS: decimal adjust AL after addition/subtraction. OF is undefined (cleared). */
function daaDas(cpu: Cpu): void {
  legacyOnly(cpu);
  const sub = cpu.opcode === 0x2f;
  const oldAl = cpu.getReg8(0), oldCf = cpu.getCF(), oldAf = cpu.getAF();
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0xf) > 9 || oldAf) {
    const t = sub ? al - 6 : al + 6;
    cf = oldCf | (t < 0 || t > 0xff ? 1 : 0);
    al = t & 0xff;
    af = 1;
  }
  if (oldAl > 0x99 || oldCf) { al = (sub ? al - 0x60 : al + 0x60) & 0xff; cf = 1; }
  cpu.setReg8(0, al);
  cpu.setArith(cpu.szp(al, 1) | (cf ? CF : 0) | (af ? AF : 0));
}

/** 37 AAA / 3F AAS: ASCII adjust after addition/subtraction. SF ZF PF OF undefined (from AL, OF=0). */
function aaaAas(cpu: Cpu): void {
  legacyOnly(cpu);
  const sub = cpu.opcode === 0x3f;
  let ax = cpu.getReg16(RAX);
  let f = 0;
  if ((ax & 0xf) > 9 || cpu.getAF()) {
    if (sub) { ax = (ax - 6) & 0xffff; ax = (ax - 0x100) & 0xffff; }
    else ax = (ax + 0x106) & 0xffff;
    f = AF | CF;
  }
  ax &= 0xff0f;
  cpu.setReg16(RAX, ax);
  cpu.setArith(f | cpu.szp(ax & 0xff, 1));
}

/** D4 ib AAM: AH = AL / imm, AL = AL % imm; imm 0 raises #DE. OF AF CF undefined (cleared). */
function aam(cpu: Cpu): void {
  legacyOnly(cpu);
  const base = cpu.fetch8();
  if (base === 0) cpu.fault(DE, 0, false);
  const al = cpu.getReg8(0);
  const lo = al % base;
  cpu.setReg16(RAX, (Math.floor(al / base) << 8) | lo);
  cpu.setArith(cpu.szp(lo, 1));
}

/** D5 ib AAD: AL = (AL + AH * imm) & FF, AH = 0. OF AF CF undefined (cleared). */
function aad(cpu: Cpu): void {
  legacyOnly(cpu);
  const base = cpu.fetch8();
  const ax = cpu.getReg16(RAX);
  const al = ((ax & 0xff) + (ax >> 8) * base) & 0xff;
  cpu.setReg16(RAX, al);
  cpu.setArith(cpu.szp(al, 1));
}

export function installBcd(t: Handler[]): void {
  def(t, 0x98, cbw); def(t, 0x99, cwd);
  def(t, 0x9e, sahfLahf); def(t, 0x9f, sahfLahf);
  def(t, 0xf5, carryOps); def(t, 0xf8, carryOps); def(t, 0xf9, carryOps);
  def(t, 0xd6, salc);
  def(t, 0x27, daaDas); def(t, 0x2f, daaDas);
  def(t, 0x37, aaaAas); def(t, 0x3f, aaaAas);
  def(t, 0xd4, aam); def(t, 0xd5, aad);
}

