/**
 * Control and debug registers: MOV to/from CR0/CR2/CR3/CR4/CR8 (0F 20/22), MOV to/from
 * DR0-DR7 (0F 21/23), CLTS (0F 06). The checked writers writeCr0/writeCr3/writeCr4 are
 * exported for LMSW, task switches and VM exits (SDM Vol. 3A §2.5, §4.1.1, §4.4.1, §9.8.5,
 * §4.10.4.1 for TLB invalidation, Vol. 3B §17.2 for the debug registers).
 *
 * TLB policy: the software TLB has no global or PCID tags; every event that may invalidate
 * any translation (CR3 loads, paging-mode changes, PGE/PCIDE toggles) flushes it entirely.
 * That is always correct — the SDM allows a processor to drop any TLB entry at any time —
 * and keeps global pages and PCIDs a pure optimisation to add later.
 */
import type { Cpu, Handler } from '../cpu.js';
import { def } from './table.js';
import { loadPdptes } from '../mmu.js';
import {
  CS, CR0_PE, CR0_MP, CR0_EM, CR0_TS, CR0_ET, CR0_NE, CR0_WP, CR0_AM, CR0_NW, CR0_CD, CR0_PG,
  CR4_VME, CR4_PVI, CR4_TSD, CR4_DE, CR4_PSE, CR4_PAE, CR4_MCE, CR4_PGE, CR4_PCE, CR4_OSFXSR,
  CR4_OSXMMEXCPT, CR4_UMIP, CR4_VMXE, CR4_FSGSBASE, CR4_PCIDE, CR4_OSXSAVE, CR4_SMEP, CR4_SMAP,
  EFER_LME, EFER_LMA, AR_L, DB,
} from '../regs.js';
import { cr4SupportedBits, vmxCr0Allowed, vmxCr4Allowed } from '../vmx/capabilities.js';
import {
  guestCr0Write, guestCr4Write, shadowCr0, shadowCr4, interceptCr3Write, interceptCr3Read, interceptCr8Write,
  interceptCr8Read, guestClts, interceptMovDr,
} from '../vmx/intercepts.js';
import { tprShadowOn, shadowCr8Read, shadowCr8Write } from '../vmx/tpr-shadow.js';

const TWO32 = 4294967296;
const CR0_VALID = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
/** CR4 bits whose change invalidates cached translations (SDM Vol. 3A §4.10.4.1). */
const CR4_TLB_BITS = CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_SMAP;
/** DR7 GD (general detect) and DR6 BD (SDM Vol. 3B §17.2.4, §17.2.3). */
const DR7_GD = 1 << 13, DR6_BD = 1 << 13;

/**
 * CR4 bits this CPU accepts: a bit whose feature the profile lacks is reserved (#GP). One
 * definition with IA32_VMX_CR4_FIXED1 (vmx/capabilities.ts); VMXE only when VMX is exposed.
 */
export function cr4ValidMask(cpu: Cpu): number {
  const m = cr4SupportedBits(cpu.profile);
  return cpu.exposeVmx ? m : m & ~CR4_VMXE;
}

/** True when PAE paging (not 4-level) would be in use with these values (SDM §4.1.1). */
function paePaging(cr0: number, cr4: number, efer: number): boolean {
  return (cr0 & CR0_PG) !== 0 && (cr4 & CR4_PAE) !== 0 && (efer & EFER_LMA) === 0;
}

/**
 * MOV to CR0 with every check of SDM Vol. 2A "MOV—Move to/from Control Registers" and
 * §9.8.5 (IA-32e activation). Bits 63:32 set → #GP; other reserved bits are ignored.
 */
export function writeCr0(cpu: Cpu, lo: number, hi: number): void {
  if (hi !== 0) cpu.gp(0);
  const old = cpu.cr0;
  const v = (lo & CR0_VALID) | CR0_ET; // ET is hardwired to 1
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) cpu.gp(0);
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) cpu.gp(0);
  // in VMX operation the IA32_VMX_CR0_FIXED0/1 bits hold (SDM Vol. 3C §23.8)
  if (cpu.vmx.inVmx && !vmxCr0Allowed(cpu, v)) cpu.gp(0);
  let efer = cpu.efer;
  const pgOn = (v & CR0_PG) !== 0 && (old & CR0_PG) === 0;
  const pgOff = (v & CR0_PG) === 0 && (old & CR0_PG) !== 0;
  if (pgOn && (efer & EFER_LME) !== 0) {
    // activating IA-32e mode needs PAE, and CS.L must be 0 (SDM §9.8.5)
    if ((cpu.cr4 & CR4_PAE) === 0 || (cpu.segAr[CS]! & AR_L) !== 0) cpu.gp(0);
    efer |= EFER_LMA;
  }
  if (pgOff) {
    if (cpu.code64 || (cpu.cr4 & CR4_PCIDE) !== 0) cpu.gp(0);
    efer &= ~EFER_LMA;
  }
  if (paePaging(v, cpu.cr4, efer) && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW)) !== 0) {
    if (!loadPdptes(cpu, cpu.cr3)) cpu.gp(0);
  }
  cpu.cr0 = v;
  cpu.efer = efer;
  if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) cpu.flushTlb();
  cpu.updateMode();
}

/**
 * MOV to CR3. 4-level paging: bits 62:MAXPHYADDR reserved; with PCIDE bit 63 means "do not
 * flush" and is not stored (we flush anyway, see the file comment). PAE paging loads the
 * PDPTEs now, #GP on reserved bits (SDM §4.4.1).
 */
export function writeCr3(cpu: Cpu, lo: number, hi: number): void {
  let value: number;
  if ((cpu.efer & EFER_LMA) !== 0) {
    let h = hi;
    if ((cpu.cr4 & CR4_PCIDE) !== 0) h &= 0x7fffffff;
    if ((h & ~((1 << (cpu.profile.physAddrBits - 32)) - 1)) !== 0) cpu.gp(0);
    value = h * TWO32 + (lo >>> 0);
  } else {
    value = lo >>> 0;
    if (paePaging(cpu.cr0, cpu.cr4, cpu.efer) && !loadPdptes(cpu, value)) cpu.gp(0);
  }
  cpu.cr3 = value;
  cpu.flushTlb();
}

/** MOV to CR4: reserved/unsupported bits, PAE in long mode, PCIDE rules (SDM Vol. 2A MOV CR). */
export function writeCr4(cpu: Cpu, lo: number, hi: number): void {
  if (hi !== 0 || (lo & ~cr4ValidMask(cpu)) !== 0) cpu.gp(0);
  if (cpu.vmx.inVmx && !vmxCr4Allowed(cpu, lo)) cpu.gp(0); // SDM Vol. 3C §23.8
  const old = cpu.cr4;
  const lma = (cpu.efer & EFER_LMA) !== 0;
  if (lma && (lo & CR4_PAE) === 0) cpu.gp(0);
  if ((lo & CR4_PCIDE) !== 0 && (old & CR4_PCIDE) === 0) {
    if (!lma || (cpu.cr3 % 4096) !== 0) cpu.gp(0);
  }
  if (paePaging(cpu.cr0, lo, cpu.efer) && ((old ^ lo) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) !== 0) {
    if (!loadPdptes(cpu, cpu.cr3)) cpu.gp(0);
  }
  cpu.cr4 = lo;
  if (((old ^ lo) & CR4_TLB_BITS) !== 0) cpu.flushTlb();
  cpu.updateMode();
}

/**
 * ModRM of MOV CR/DR: mod is ignored and r/m always names a register (SDM Vol. 2A MOV CR
 * "the 2 bits in the mod field are ignored"), so no SIB/displacement is ever consumed.
 */
function crModrm(cpu: Cpu): void {
  const m = cpu.fetch8();
  cpu.modrmByte = m;
  cpu.mod = 3;
  cpu.reg = ((m >> 3) & 7) | cpu.rexR;
  cpu.rm = (m & 7) | cpu.rexB;
}

/** Writes a 64-bit (64-bit mode) or 32-bit control-register value into GPR rm. */
function setCrResult(cpu: Cpu, lo: number, hi: number): void {
  if (cpu.code64) cpu.setReg64(cpu.rm, lo, hi);
  else cpu.setReg32(cpu.rm, lo);
}
function setNumResult(cpu: Cpu, v: number): void {
  const h = Math.floor(v / TWO32);
  setCrResult(cpu, (v - h * TWO32) | 0, h | 0);
}

/** 0F 20: MOV r, CRn. */
function movFromCr(cpu: Cpu): void {
  crModrm(cpu);
  const n = cpu.reg;
  if (cpu.lock || (n !== 0 && n !== 2 && n !== 3 && n !== 4 && n !== 8)) cpu.ud();
  if (n === 8 && !cpu.code64) cpu.ud();
  cpu.requireCpl0();
  // VMX non-root: CR3/CR8-store exiting, and the CR0/CR4 read shadows (SDM Vol. 3C §25.3)
  const nr = cpu.vmx.nonRoot;
  if (nr) { if (n === 3) interceptCr3Read(cpu); else if (n === 8) interceptCr8Read(cpu); }
  switch (n) {
    case 0: setCrResult(cpu, nr ? shadowCr0(cpu) : cpu.cr0, 0); return;
    case 2: setNumResult(cpu, cpu.cr2); return;
    case 3: setNumResult(cpu, cpu.cr3); return;
    case 4: setCrResult(cpu, nr ? shadowCr4(cpu) : cpu.cr4, 0); return;
    default:
      // with the TPR shadow the guest reads VTPR[7:4] (SDM Vol. 3C §29.3)
      if (nr && tprShadowOn(cpu)) { setCrResult(cpu, shadowCr8Read(cpu), 0); return; }
      setCrResult(cpu, cpu.lapic !== null ? cpu.lapic.readCr8() : cpu.cr8 & 0xf, 0); return;
  }
}

/** 0F 22: MOV CRn, r. */
function movToCr(cpu: Cpu): void {
  crModrm(cpu);
  const n = cpu.reg;
  if (cpu.lock || (n !== 0 && n !== 2 && n !== 3 && n !== 4 && n !== 8)) cpu.ud();
  if (n === 8 && !cpu.code64) cpu.ud();
  cpu.requireCpl0();
  const lo = cpu.r[cpu.rm << 1]!;
  const hi = cpu.code64 ? cpu.r[(cpu.rm << 1) + 1]! : 0;
  // VMX non-root: guest/host masks, CR3-load (with CR3-target values) and CR8-load exiting
  const nr = cpu.vmx.nonRoot;
  switch (n) {
    case 0: writeCr0(cpu, nr ? guestCr0Write(cpu, lo) : lo, hi); return;
    case 2: cpu.cr2 = hi * TWO32 + (lo >>> 0); return;
    case 3: if (nr) interceptCr3Write(cpu, lo, hi); writeCr3(cpu, lo, hi); return;
    case 4: writeCr4(cpu, nr ? guestCr4Write(cpu, lo) : lo, hi); return;
    default:
      if (nr) interceptCr8Write(cpu);
      // CR8 is the TPR's priority class; bits 63:4 reserved (SDM Vol. 3A §10.8.6.1)
      if (hi !== 0 || (lo & ~0xf) !== 0) cpu.gp(0);
      // with the TPR shadow the guest writes VTPR, not the APIC's TPR (SDM Vol. 3C §29.3)
      if (nr && tprShadowOn(cpu)) { shadowCr8Write(cpu, lo); return; }
      cpu.cr8 = lo;
      if (cpu.lapic !== null) cpu.lapic.writeCr8(lo); // the local APIC's TPR[7:4]
      return;
  }
}

/** DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD); DR7.GD makes any access a #DB. */
function drCheck(cpu: Cpu): number {
  let n = cpu.reg;
  if (cpu.lock || n > 7) cpu.ud();
  cpu.requireCpl0();
  if (n === 4 || n === 5) {
    if ((cpu.cr4 & CR4_DE) !== 0) cpu.ud();
    n += 2;
  }
  // MOV-DR exiting has priority over the general-detect #DB (SDM Vol. 3C §25.1.1)
  if (cpu.vmx.nonRoot) interceptMovDr(cpu, n, cpu.opcode === 0x121);
  const dr7 = cpu.dr[7]!;
  if ((dr7 & DR7_GD) !== 0) {
    // general-detect fault: DR6.BD set, GD cleared so the handler can use the registers
    cpu.dr[6] = (cpu.dr[6]! | DR6_BD) >>> 0;
    cpu.dr[7] = (dr7 & ~DR7_GD) >>> 0;
    cpu.debugRegsChanged();
    cpu.fault(DB, 0, false);
  }
  return n;
}

/** 0F 21: MOV r, DRn. */
function movFromDr(cpu: Cpu): void {
  crModrm(cpu);
  const n = drCheck(cpu);
  setNumResult(cpu, cpu.dr[n]!);
}

/** 0F 23: MOV DRn, r. DR6/DR7 bits 63:32 must be 0 (#GP); fixed bits are forced. */
function movToDr(cpu: Cpu): void {
  crModrm(cpu);
  const n = drCheck(cpu);
  const lo = cpu.r[cpu.rm << 1]!;
  const hi = cpu.code64 ? cpu.r[(cpu.rm << 1) + 1]! : 0;
  if (n < 4) { cpu.dr[n] = hi * TWO32 + (lo >>> 0); cpu.debugRegsChanged(); return; }
  if (hi !== 0) cpu.gp(0);
  // DR6: bits 11:4 and 31:16 read as 1, bit 12 as 0; DR7: bit 10 is 1, 11/12/14/15 are 0
  if (n === 6) cpu.dr[6] = ((lo & 0xe00f) | 0xffff0ff0) >>> 0;
  else { cpu.dr[7] = ((lo & 0xffff23ff) | 0x400) >>> 0; cpu.debugRegsChanged(); }
}

/** 0F 06 CLTS: clears CR0.TS (CPL 0). */
function clts(cpu: Cpu): void {
  cpu.requireCpl0();
  if (cpu.vmx.nonRoot && !guestClts(cpu)) return;
  cpu.cr0 &= ~CR0_TS;
}

export function installCrDr(t: Handler[]): void {
  def(t, 0x120, movFromCr);
  def(t, 0x121, movFromDr);
  def(t, 0x122, movToCr);
  def(t, 0x123, movToDr);
  def(t, 0x106, clts);
}
