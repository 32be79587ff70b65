/**
 * "Does this instruction exit?" (SDM Vol. 3C §25.1.2 unconditional, §25.1.3 controlled by
 * the VM-execution controls). Each function is called by the instruction where it executes,
 * only while cpu.vmx.nonRoot (STYLE habit 4), after the checks that have priority over VM
 * exits (§25.1.1: #UD for the mode, #GP for CPL): e.g.
 *   if (cpu.vmx.nonRoot) interceptHlt(cpu);
 * When the instruction exits, the function performs the VM exit through vmexit.ts (which
 * throws); otherwise it returns and the instruction proceeds. The CR0/CR4 guest/host masks
 * (§25.3) are applied by guestCr0Write/guestCr4Write/shadowCr0/shadowCr4.
 */
import type { Cpu } from '../cpu.js';
import { CR0_TS, CR0_PE } from '../regs.js';
import { F, vmcsLo, vmcsHi } from './vmcs-fields.js';
import { getNum } from './guest-state.js';
import {
  PROC_HLT, PROC_CR3_LOAD, PROC_CR3_STORE, PROC_CR8_LOAD, PROC_CR8_STORE, PROC_MOV_DR, PROC_UNCOND_IO,
  PROC_IO_BITMAPS, PROC_MSR_BITMAPS,
} from './capabilities.js';
import { vmExitInstr, exitWithLinear, exitWithInstructionInfo, EXIT } from './vmexit.js';
import { operandInfo, operandDisplacement } from './instr-info.js';

const TWO32 = 4294967296;
/** Primary processor-based controls not named in capabilities.ts. */
const PROC_INVLPG = 1 << 9, PROC_MWAIT = 1 << 10, PROC_RDPMC = 1 << 11, PROC_RDTSC = 1 << 12;
const PROC_MONITOR = 1 << 29, PROC_PAUSE = 1 << 30;
/** Secondary controls. */
const PROC2_DESC_TABLE = 1 << 2, PROC2_RDTSCP = 1 << 3, PROC2_WBINVD = 1 << 6, PROC2_INVPCID = 1 << 12;

/** CPUID, INVD, XSETBV, GETSEC exit unconditionally (§25.1.2). */
export function interceptCpuid(cpu: Cpu): never { return vmExitInstr(cpu, EXIT.CPUID, 0); }
export function interceptInvd(cpu: Cpu): never { return vmExitInstr(cpu, EXIT.INVD, 0); }
export function interceptXsetbv(cpu: Cpu): never { return vmExitInstr(cpu, EXIT.XSETBV, 0); }

export function interceptHlt(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_HLT) !== 0) vmExitInstr(cpu, EXIT.HLT, 0);
}
/** INVLPG: qualification = the linear-address operand (§27.2.1). */
export function interceptInvlpg(cpu: Cpu, lin: number): void {
  if ((cpu.vmx.proc & PROC_INVLPG) !== 0) vmExitInstr(cpu, EXIT.INVLPG, lin);
}
/**
 * INVPCID (§25.3): #UD without "enable INVPCID"; with it, a VM exit (reason 58, qualification
 * = displacement, INVEPT-format instruction information) when "INVLPG exiting" is set.
 */
export function interceptInvpcid(cpu: Cpu): void {
  if ((cpu.vmx.proc2 & PROC2_INVPCID) === 0) cpu.ud();
  if ((cpu.vmx.proc & PROC_INVLPG) !== 0) interceptVmxInstruction(cpu, EXIT.INVPCID, true);
}
export function interceptRdpmc(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_RDPMC) !== 0) vmExitInstr(cpu, EXIT.RDPMC, 0);
}
export function interceptRdtsc(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_RDTSC) !== 0) vmExitInstr(cpu, EXIT.RDTSC, 0);
}
/** RDTSCP: #UD unless "enable RDTSCP" (§25.3), then exits like RDTSC (reason 51). */
export function interceptRdtscp(cpu: Cpu): void {
  if ((cpu.vmx.proc2 & PROC2_RDTSCP) === 0) cpu.ud();
  if ((cpu.vmx.proc & PROC_RDTSC) !== 0) vmExitInstr(cpu, EXIT.RDTSCP, 0);
}
/**
 * XSAVES/XRSTORS (SDM Vol. 3C §25.1.3, §25.3): without "enable XSAVES/XRSTORS" they are #UD
 * (checked by fpu/fxsave.ts before #NM); with it, a VM exit (reason 63 XSAVES, 64 XRSTORS;
 * qualification = displacement, instruction information of Table 27-13 as for VMXON) when
 * EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap (§24.6.20, field 0x202C) is not zero.
 * Called after the #UD/#NM/CPL checks and before the memory operand is touched: the exit is
 * conditioned on registers only (§25.1.1). `xssLo/xssHi` = IA32_XSS.
 */
export function interceptXsaves(cpu: Cpu, restore: boolean, xssLo: number, xssHi: number): void {
  const c = cpu.vmx.cache;
  const lo = cpu.r[0]! & xssLo & vmcsLo(c, F.XSS_EXITING_BITMAP);
  const hi = cpu.r[4]! & xssHi & vmcsHi(c, F.XSS_EXITING_BITMAP);
  if ((lo | hi) !== 0) interceptVmxInstruction(cpu, restore ? EXIT.XRSTORS : EXIT.XSAVES, true);
}
/** RDPID: #UD unless "enable RDTSCP" (§25.3); never exits. */
export function interceptRdpid(cpu: Cpu): void {
  if ((cpu.vmx.proc2 & PROC2_RDTSCP) === 0) cpu.ud();
}
export function interceptWbinvd(cpu: Cpu): void {
  if ((cpu.vmx.proc2 & PROC2_WBINVD) !== 0) vmExitInstr(cpu, EXIT.WBINVD, 0);
}
export function interceptPause(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_PAUSE) !== 0) vmExitInstr(cpu, EXIT.PAUSE, 0);
}
export function interceptMonitor(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_MONITOR) !== 0) vmExitInstr(cpu, EXIT.MONITOR, 0);
}
/** MWAIT: qualification bit 0 = the monitor hardware is armed (SDM Vol. 3C §28.2.1, Table 28-1). */
export function interceptMwait(cpu: Cpu, armed: boolean): void {
  if ((cpu.vmx.proc & PROC_MWAIT) !== 0) vmExitInstr(cpu, EXIT.MWAIT, armed ? 1 : 0);
}

/**
 * A VMX instruction in non-root operation (§25.1.2): exits with the instruction
 * information of Tables 27-13/27-14 and the displacement as qualification.
 */
export function interceptVmxInstruction(cpu: Cpu, reason: number, hasOperand: boolean): never {
  if (!hasOperand) return vmExitInstr(cpu, reason, 0);
  const info = operandInfo(cpu);
  return vmExitInstr(cpu, reason, operandDisplacement(), info);
}

// ---- MSRs (§25.1.3, §24.6.9 MSR bitmaps) ------------------------------------------------

/**
 * RDMSR/WRMSR: every access exits without "use MSR bitmaps"; with it the bitmap page
 * decides: read-low 0x000, read-high 0x400, write-low 0x800, write-high 0xC00 (bit per MSR
 * for 0..1FFF and C0000000..C0001FFF); any other MSR exits.
 */
export function interceptMsr(cpu: Cpu, index: number, write: boolean): void {
  const st = cpu.vmx;
  const reason = write ? EXIT.WRMSR : EXIT.RDMSR;
  if ((st.proc & PROC_MSR_BITMAPS) === 0) vmExitInstr(cpu, reason, 0);
  index >>>= 0;
  let off: number;
  if (index <= 0x1fff) off = 0;
  else if (index >= 0xc0000000 && index <= 0xc0001fff) { off = 0x400; index -= 0xc0000000; }
  else return vmExitInstr(cpu, reason, 0);
  if (write) off += 0x800;
  const bitmap = getNum(st.cache, F.MSR_BITMAP);
  if (((cpu.mem.read8(bitmap + off + (index >>> 3)) >>> (index & 7)) & 1) !== 0) vmExitInstr(cpu, reason, 0);
}

// ---- I/O (§25.1.3, §24.6.4 I/O bitmaps, qualification Table 27-5) ------------------------

/**
 * IN/OUT/INS/OUTS of `size` bytes at `port`. With "use I/O bitmaps" the bitmaps decide
 * (A: ports 0-7FFF, B: 8000-FFFF; an access wrapping past FFFF exits); otherwise
 * "unconditional I/O exiting" does. `imm`: the port came from an immediate.
 * String instructions also report the guest-linear address and (IA32_VMX_BASIC[54])
 * the address size and segment (Table 27-9).
 */
export function interceptIo(cpu: Cpu, port: number, size: number, isIn: boolean, string: boolean, imm: boolean, lin = 0): void {
  const st = cpu.vmx;
  let exits: boolean;
  if ((st.proc & PROC_IO_BITMAPS) !== 0) {
    exits = false;
    if (port + size - 1 > 0xffff) exits = true;
    else {
      const a = getNum(st.cache, F.IO_BITMAP_A), b = getNum(st.cache, F.IO_BITMAP_B);
      for (let p = port; p < port + size; p++) {
        const base = p < 0x8000 ? a : b, q = p & 0x7fff;
        if (((cpu.mem.read8(base + (q >>> 3)) >>> (q & 7)) & 1) !== 0) { exits = true; break; }
      }
    }
  } else exits = (st.proc & PROC_UNCOND_IO) !== 0;
  if (!exits) return;
  const qual = (size - 1) | (isIn ? 8 : 0) | (string ? 16 : 0) | (cpu.rep !== 0 && string ? 32 : 0) | (imm ? 64 : 0) | (port << 16);
  if (string) {
    exitWithLinear(lin);
    const asz = cpu.asz === 2 ? 0 : cpu.asz === 4 ? 1 : 2;
    const seg = isIn ? 0 : cpu.segOvr >= 0 ? cpu.segOvr : 3;
    exitWithInstructionInfo((asz << 7) | (seg << 15));
  }
  vmExitInstr(cpu, EXIT.IO, qual >>> 0);
}

// ---- control registers (§25.1.3, §25.3; qualification Table 27-3) ----------------------

/** Access types in the CR-access qualification. */
const CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3;

function crExit(cpu: Cpu, cr: number, type: number, gpr: number, lmswData = 0, lmswMem = false): never {
  const qual = cr | (type << 4) | (lmswMem ? 64 : 0) | ((gpr & 15) << 8) | ((lmswData & 0xffff) << 16);
  return vmExitInstr(cpu, EXIT.CR_ACCESS, qual >>> 0);
}

/** MOV to CR0 in the guest: exits when a host-owned bit would differ from the shadow; else the value to load. */
export function guestCr0Write(cpu: Cpu, v: number): number {
  const st = cpu.vmx;
  if (((v ^ st.cr0Shadow) & st.cr0Mask) !== 0) crExit(cpu, 0, CR_MOV_TO, cpu.rm);
  return (cpu.cr0 & st.cr0Mask) | (v & ~st.cr0Mask);
}
export function guestCr4Write(cpu: Cpu, v: number): number {
  const st = cpu.vmx;
  if (((v ^ st.cr4Shadow) & st.cr4Mask) !== 0) crExit(cpu, 4, CR_MOV_TO, cpu.rm);
  return (cpu.cr4 & st.cr4Mask) | (v & ~st.cr4Mask);
}
/** MOV from CR0/CR4 and SMSW in the guest: host-owned bits read from the shadow. */
export function shadowCr0(cpu: Cpu): number { const st = cpu.vmx; return (cpu.cr0 & ~st.cr0Mask) | (st.cr0Shadow & st.cr0Mask); }
export function shadowCr4(cpu: Cpu): number { const st = cpu.vmx; return (cpu.cr4 & ~st.cr4Mask) | (st.cr4Shadow & st.cr4Mask); }

/** MOV to CR3: exits with CR3-load exiting unless the value is one of the CR3-target values. */
export function interceptCr3Write(cpu: Cpu, lo: number, hi: number): void {
  const st = cpu.vmx;
  if ((st.proc & PROC_CR3_LOAD) === 0) return;
  const v = hi * TWO32 + (lo >>> 0);
  const n = vmcsLo(st.cache, F.CR3_TARGET_COUNT);
  for (let i = 0; i < n && i < 4; i++) if (getNum(st.cache, F.CR3_TARGET_VALUE0 + 2 * i) === v) return;
  crExit(cpu, 3, CR_MOV_TO, cpu.rm);
}
export function interceptCr3Read(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_CR3_STORE) !== 0) crExit(cpu, 3, CR_MOV_FROM, cpu.rm);
}
export function interceptCr8Write(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_CR8_LOAD) !== 0) crExit(cpu, 8, CR_MOV_TO, cpu.rm);
}
export function interceptCr8Read(cpu: Cpu): void {
  if ((cpu.vmx.proc & PROC_CR8_STORE) !== 0) crExit(cpu, 8, CR_MOV_FROM, cpu.rm);
}

/**
 * CLTS: exits when TS is host-owned and set in the shadow; host-owned with a clear shadow
 * leaves CR0.TS alone (returns false: do not clear); guest-owned clears it (true).
 */
export function guestClts(cpu: Cpu): boolean {
  const st = cpu.vmx;
  if ((st.cr0Mask & CR0_TS) === 0) return true;
  if ((st.cr0Shadow & CR0_TS) !== 0) crExit(cpu, 0, CR_CLTS, 0);
  return false;
}

/**
 * LMSW with source `src` (bits 3:0 used): exits when a host-owned bit among PE/MP/EM/TS
 * would change against the shadow (PE only 0 → 1, as LMSW cannot clear PE). Otherwise the
 * value for CR0[3:0] with host-owned bits kept. With a memory operand (`mem`) the exit
 * saves its linear address `lin` in the guest-linear address field (§27.2.1).
 */
export function guestLmsw(cpu: Cpu, src: number, mem: boolean, lin = 0): number {
  const st = cpu.vmx, m = st.cr0Mask & 0xf, sh = st.cr0Shadow;
  const changes = ((src ^ sh) & m & 0xe) !== 0 || ((m & CR0_PE) !== 0 && (sh & CR0_PE) === 0 && (src & CR0_PE) !== 0);
  if (changes) {
    if (mem) exitWithLinear(lin);
    crExit(cpu, 0, CR_LMSW, mem ? 0 : cpu.rm, src, mem);
  }
  return (cpu.cr0 & m) | (src & ~m & 0xf);
}

// ---- debug registers (qualification Table 27-4) -------------------------------------------

export function interceptMovDr(cpu: Cpu, dr: number, fromDr: boolean): void {
  if ((cpu.vmx.proc & PROC_MOV_DR) === 0) return;
  vmExitInstr(cpu, EXIT.DR_ACCESS, (dr & 7) | (fromDr ? 16 : 0) | ((cpu.rm & 15) << 8));
}

// ---- descriptor tables (§25.1.3 "descriptor-table exiting", Tables 27-10 / 27-11) ---------

/**
 * LGDT/LIDT/SGDT/SIDT (identity 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT; reason 46) and
 * SLDT/STR/LLDT/LTR (0 SLDT, 1 STR, 2 LLDT, 3 LTR; reason 47).
 */
export function interceptDescriptorTable(cpu: Cpu, ldtrTr: boolean, identity: number): void {
  if ((cpu.vmx.proc2 & PROC2_DESC_TABLE) === 0) return;
  let info = operandInfo(cpu) & 0x0fffffff;
  info |= identity << 28;
  if (!ldtrTr) info = (info & ~(1 << 11) & ~0x78) | (cpu.osz === 2 ? 0 : 1 << 11);
  vmExitInstr(cpu, ldtrTr ? EXIT.LDTR_TR : EXIT.GDTR_IDTR, operandDisplacement(), info);
}
