/**
 * Saving and restoring the x87/SSE state: FXSAVE/FXRSTOR (SDM Vol. 2A, Vol. 1 §10.5.1
 * Table 10-2/10-3), LDMXCSR/STMXCSR, and the XSAVE family for state components 0 (x87)
 * and 1 (SSE): XSAVE, XSAVEOPT, XSAVEC, XRSTOR, and the supervisor forms XSAVES/XRSTORS with
 * IA32_XSS (SDM Vol. 1 chapter 13, §13.11-13.12).
 *
 * Legacy region (offsets in bytes):
 *   0 FCW | 2 FSW | 4 abridged FTW | 6 FOP | 8 FIP (64-bit form: 8 bytes) | 12 FCS
 *   16 FDP (64-bit form: 8 bytes) | 20 FDS | 24 MXCSR | 28 MXCSR_MASK
 *   32 + 16*i ST(i) (10 bytes, in stack order) | 160 + 16*n XMMn (n < 16 in 64-bit mode, else < 8)
 * XSAVE header at 512: XSTATE_BV (8 bytes), XCOMP_BV (8 bytes), 48 reserved bytes.
 * Component 2 (AVX, SDM Vol. 1 §13.5.3): YMM_Hi128 of YMMn at 576 + 16*n, 256 bytes, in the
 * standard format and in the compacted one (the first component after the header); like
 * the XMM registers, only n < 8 outside 64-bit mode.
 *
 * All checks and every translation that can fault happen before the first write, so a
 * faulting instruction leaves memory and registers unchanged.
 */
import type { Cpu } from '../cpu.js';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXSAVE, NM } from '../regs.js';
import { isAmd, F1D_FXSR, F1D_SSE, F1C_XSAVE, XSAVE_SUB1_EAX, XD1_XSAVEOPT, XD1_XSAVEC, XD1_XSAVES, MSR_IA32_XSS, XSAVE_AVX_OFFSET, xsaveSize } from '../profile.js';
import { msrGet64 } from '../msr.js';
import { interceptXsaves } from '../vmx/intercepts.js';
import { MXCSR_MASK, MXCSR_MASK_AMD } from './state.js';
import { updateEs } from './x87.js';

/** The MXCSR bits that may be set (and FXSAVE's MXCSR_MASK field): the profile's vendor decides. */
export function mxcsrMask(cpu: Cpu): number { return isAmd(cpu.profile) ? MXCSR_MASK_AMD : MXCSR_MASK; }

/** Size of the standard-format XSAVE area for components 0 and 1 (legacy region + header). */
export const XSAVE_AREA_SIZE = 576;

function fxCheck(cpu: Cpu): void {
  if (cpu.lock || (cpu.profile.leaf1Edx & F1D_FXSR) === 0 || cpu.mod === 3) cpu.ud();
  if ((cpu.cr0 & (CR0_TS | CR0_EM)) !== 0) cpu.fault(NM, 0, false);
}

/** Translates the first and last byte so later accesses in [lin, lin+size) cannot fault. */
function probe(cpu: Cpu, lin: number, size: number, write: boolean): void {
  cpu.probeSplit(lin, size, write);
}

/** True for the REX.W forms in 64-bit mode (FXSAVE64 etc.): 64-bit FIP/FDP. */
function form64(cpu: Cpu): boolean { return cpu.code64 && cpu.rexW; }

function xmmCount(cpu: Cpu): number { return cpu.code64 ? 16 : 8; }

/**
 * x87 part of the legacy region (bytes 0..23 and 32..159). FOP, FIP, FCS, FDP and FDS: AMD
 * processors store them only while an unmasked exception is pending (FSW.ES = 1) and zeros
 * otherwise (AMD APM Vol. 4 FXSAVE; measured on this Zen 4 for FXSAVE, XSAVE, XSAVEOPT and
 * XSAVEC by fpu/xsave-diff.test.ts), so the nestvisor-amd profile does; Intel stores them.
 */
function saveX87(cpu: Cpu, lin: number): void {
  const f = cpu.fpu;
  cpu.wr16(lin, f.fcw);
  cpu.wr16(lin + 2, f.getFsw());
  cpu.wr8(lin + 4, f.getAbridgedFtw());
  cpu.wr8(lin + 5, 0);
  const ptrs = (f.fsw & 0x80) !== 0 || !isAmd(cpu.profile);
  cpu.wr16(lin + 6, ptrs ? f.fop & 0x7ff : 0);
  if (!ptrs) {
    cpu.wr64(lin + 8, 0, 0);
    cpu.wr64(lin + 16, 0, 0);
  } else if (form64(cpu)) {
    cpu.wr64(lin + 8, f.fipLo, f.fipHi);
    cpu.wr64(lin + 16, f.fdpLo, f.fdpHi);
  } else {
    cpu.wr32(lin + 8, f.fipLo); cpu.wr16(lin + 12, f.fcs); cpu.wr16(lin + 14, 0);
    cpu.wr32(lin + 16, f.fdpLo); cpu.wr16(lin + 20, f.fds); cpu.wr16(lin + 22, 0);
  }
  for (let i = 0; i < 8; i++) {
    const p = (f.top + i) & 7, a = lin + 32 + 16 * i;
    cpu.wr64(a, f.mant[2 * p]!, f.mant[2 * p + 1]!);
    cpu.wr16(a + 8, f.se[p]!);
    cpu.wr16(a + 10, 0); cpu.wr32(a + 12, 0);
  }
}

function loadX87(cpu: Cpu, lin: number): void {
  const f = cpu.fpu;
  // FCW bits 6 and 13-15 are reserved, bit 6 reads as 1 (SDM Vol. 1 Figure 8-6), as FLDCW loads it
  f.fcw = (cpu.rd16(lin) & 0x1f3f) | 0x40;
  f.setFsw(cpu.rd16(lin + 2));
  // ES and B follow the loaded flags and masks, not the image (host-verified, as FLDENV/FRSTOR)
  updateEs(cpu);
  const ftw = cpu.rd8(lin + 4);
  f.fop = cpu.rd16(lin + 6) & 0x7ff;
  if (form64(cpu)) {
    // AMD keeps 57-bit pointers: bits 63:57 become copies of bit 56 (measured on this Zen 4 by
    // fpu/xsave-diff.test.ts, XRSTOR64/FXRSTOR64 then a save with FSW.ES = 1); Intel: as loaded
    const amd = isAmd(cpu.profile);
    f.fipLo = cpu.rd64(lin + 8); f.fipHi = amd ? (cpu.hi << 7) >> 7 : cpu.hi; f.fcs = 0;
    f.fdpLo = cpu.rd64(lin + 16); f.fdpHi = amd ? (cpu.hi << 7) >> 7 : cpu.hi; f.fds = 0;
  } else {
    f.fipLo = cpu.rd32(lin + 8); f.fipHi = 0; f.fcs = cpu.rd16(lin + 12);
    f.fdpLo = cpu.rd32(lin + 16); f.fdpHi = 0; f.fds = cpu.rd16(lin + 20);
  }
  const top = f.top;
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7, a = lin + 32 + 16 * i;
    f.mant[2 * p] = cpu.rd64(a); f.mant[2 * p + 1] = cpu.hi;
    f.se[p] = cpu.rd16(a + 8);
  }
  f.setAbridgedFtw(ftw);
}

function saveXmm(cpu: Cpu, lin: number): void {
  const x = cpu.fpu.xmm;
  for (let n = 0, c = xmmCount(cpu); n < c; n++) {
    cpu.wr64(lin + 160 + 16 * n, x[4 * n]!, x[4 * n + 1]!);
    cpu.wr64(lin + 168 + 16 * n, x[4 * n + 2]!, x[4 * n + 3]!);
  }
}
function loadXmm(cpu: Cpu, lin: number): void {
  const x = cpu.fpu.xmm;
  for (let n = 0, c = xmmCount(cpu); n < c; n++) {
    x[4 * n] = cpu.rd64(lin + 160 + 16 * n); x[4 * n + 1] = cpu.hi;
    x[4 * n + 2] = cpu.rd64(lin + 168 + 16 * n); x[4 * n + 3] = cpu.hi;
  }
}
function initXmm(cpu: Cpu): void { cpu.fpu.xmm.fill(0, 0, 4 * xmmCount(cpu)); }

/** Component 2: the upper halves of YMM0-15 (0-7 outside 64-bit mode) at XSAVE_AVX_OFFSET. */
function saveYmmh(cpu: Cpu, lin: number): void {
  const h = cpu.fpu.ymmh;
  for (let n = 0, c = xmmCount(cpu); n < c; n++) {
    cpu.wr64(lin + XSAVE_AVX_OFFSET + 16 * n, h[4 * n]!, h[4 * n + 1]!);
    cpu.wr64(lin + XSAVE_AVX_OFFSET + 8 + 16 * n, h[4 * n + 2]!, h[4 * n + 3]!);
  }
}
function loadYmmh(cpu: Cpu, lin: number): void {
  const h = cpu.fpu.ymmh;
  for (let n = 0, c = xmmCount(cpu); n < c; n++) {
    h[4 * n] = cpu.rd64(lin + XSAVE_AVX_OFFSET + 16 * n); h[4 * n + 1] = cpu.hi;
    h[4 * n + 2] = cpu.rd64(lin + XSAVE_AVX_OFFSET + 8 + 16 * n); h[4 * n + 3] = cpu.hi;
  }
}
function initYmmh(cpu: Cpu): void { cpu.fpu.ymmh.fill(0, 0, 4 * xmmCount(cpu)); }

/** 0F AE /0 FXSAVE m512 (REX.W: FXSAVE64). XMM and MXCSR are saved whatever CR4.OSFXSR is. */
export function fxsave(cpu: Cpu): void {
  fxCheck(cpu);
  const lin = cpu.eaLin(512, true);
  if (lin % 16 !== 0) cpu.gp(0);
  probe(cpu, lin, 512, true);
  saveX87(cpu, lin);
  cpu.wr32(lin + 24, cpu.fpu.mxcsr);
  cpu.wr32(lin + 28, mxcsrMask(cpu));
  saveXmm(cpu, lin);
}

/** 0F AE /1 FXRSTOR m512: #GP(0) on reserved MXCSR bits, checked before any state changes. */
export function fxrstor(cpu: Cpu): void {
  fxCheck(cpu);
  const lin = cpu.eaLin(512, false);
  if (lin % 16 !== 0) cpu.gp(0);
  probe(cpu, lin, 512, false);
  const mx = cpu.rd32(lin + 24);
  if ((mx & ~mxcsrMask(cpu)) !== 0) cpu.gp(0);
  loadX87(cpu, lin);
  // SDM FXRSTOR: with CR4.OSFXSR = 0 the XMM registers and MXCSR may not be restored; this
  // CPU restores them, as current Intel cores do
  cpu.fpu.mxcsr = mx;
  loadXmm(cpu, lin);
  cpu.fpu.sseTouched = 0;
  cpu.fpu.xmod |= 3;
}

function mxcsrCheck(cpu: Cpu): void {
  if (cpu.lock || (cpu.profile.leaf1Edx & F1D_SSE) === 0 || cpu.mod === 3) cpu.ud();
  if ((cpu.cr0 & CR0_EM) !== 0 || (cpu.cr4 & CR4_OSFXSR) === 0) cpu.ud();
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM, 0, false);
}

/** 0F AE /2 LDMXCSR m32: reserved bits → #GP(0) (SDM Vol. 2A LDMXCSR). */
export function ldmxcsr(cpu: Cpu): void {
  mxcsrCheck(cpu);
  const v = cpu.rd32(cpu.eaLin(4, false));
  if ((v & ~mxcsrMask(cpu)) !== 0) cpu.gp(0);
  cpu.fpu.mxcsr = v;
  cpu.fpu.xmod |= 2;
}

/** 0F AE /3 STMXCSR m32. */
export function stmxcsr(cpu: Cpu): void {
  mxcsrCheck(cpu);
  cpu.wr32(cpu.eaLin(4, true), cpu.fpu.mxcsr);
}

// ---- XSAVE family ------------------------------------------------------------------------

/** XINUSE for components 0, 1 and 2 (SDM Vol. 1 §13.6). */
export function xinuse(cpu: Cpu): number {
  return (cpu.fpu.x87InUse() ? 1 : 0) | (cpu.fpu.sseInUse() ? 2 : 0) | (cpu.fpu.avxInUse() ? 4 : 0);
}

/** Common checks: #UD without CR4.OSXSAVE, #NM with CR0.TS, 64-byte alignment. Returns RFBM. */
function xCheck(cpu: Cpu, write: boolean, need: number): number {
  if (cpu.lock || (cpu.profile.leaf1Ecx & F1C_XSAVE) === 0 || need === 0 || cpu.mod === 3) cpu.ud();
  if ((cpu.cr4 & CR4_OSXSAVE) === 0) cpu.ud();
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM, 0, false);
  // EDX:EAX & XCR0; only bits 0-2 can be set in XCR0. The area reaches the end of the
  // highest component in RFBM (576 bytes, 832 with AVX state)
  const rfbm = cpu.r[0]! & cpu.xcr0;
  xSize = xsaveSize(rfbm);
  const lin = cpu.eaLin(xSize, write);
  if (lin % 64 !== 0) cpu.gp(0);
  xLin = lin;
  return rfbm;
}
let xLin = 0, xSize = XSAVE_AREA_SIZE;

function xsaveCommon(cpu: Cpu, compacted: boolean, initOpt = false): void {
  xsaveBody(cpu, xCheck(cpu, true, compacted ? XSAVE_SUB1_EAX & XD1_XSAVEC : 1), compacted, initOpt);
}

/** Writes the area at xLin for RFBM (all checks done). */
function xsaveBody(cpu: Cpu, rfbm: number, compacted: boolean, initOpt = false): void {
  const lin = xLin;
  const inuse = xinuse(cpu);
  probe(cpu, lin, xSize, true);
  // header: XSTATE_BV bits of RFBM are set from XINUSE, the other bits keep their values
  const oldBv = cpu.rd32(lin + 512);
  if (compacted) {
    // init optimization (§13.10, §13.11): a component in its initial configuration is not
    // written and its XSTATE_BV bit is 0; XCOMP_BV = RFBM with bit 63 (compacted format)
    // SSE state is saved (MXCSR with it) when XINUSE[1] = 1 or MXCSR ≠ 1F80H (§13.10: MXCSR is
    // not part of XINUSE[1]); measured on this Zen 4 by fpu/xsave-diff.test.ts
    const bv = rfbm & (inuse | (cpu.fpu.mxcsr !== 0x1f80 ? 2 : 0));
    if ((bv & 1) !== 0) saveX87(cpu, lin);
    if ((bv & 2) !== 0) { cpu.wr32(lin + 24, cpu.fpu.mxcsr); cpu.wr32(lin + 28, mxcsrMask(cpu)); saveXmm(cpu, lin); }
    // component 2 is the first after the header in the compacted layout: offset 576
    if ((bv & 4) !== 0) saveYmmh(cpu, lin);
    cpu.wr64(lin + 512, bv, 0);
    cpu.wr64(lin + 520, rfbm, 0x80000000 | 0);
    return;
  }
  // XSAVEOPT's init optimization (§13.9): a component not in use is not written; its modified
  // optimization: nor is one unmodified since the last standard-form XRSTOR from this linear
  // address at this CPL (XRSTOR_INFO, fpu/state.ts xmod/xrLin), which left it in memory
  const f = cpu.fpu;
  const skip = initOpt && f.xrLin === lin && f.xrCpl === cpu.cpl ? rfbm & inuse & ~f.xmod & 7 : 0;
  const save = (initOpt ? rfbm & inuse : rfbm) & ~skip;
  if ((save & 1) !== 0) saveX87(cpu, lin);
  // MXCSR belongs to component 1 but is saved when RFBM[1] or RFBM[2] is set (§13.7); the host
  // writes it (and MXCSR_MASK) even when the modified optimization skips the XMM registers
  if ((rfbm & 6) !== 0) { cpu.wr32(lin + 24, cpu.fpu.mxcsr); cpu.wr32(lin + 28, mxcsrMask(cpu)); }
  if ((save & 2) !== 0) saveXmm(cpu, lin);
  if ((save & 4) !== 0) saveYmmh(cpu, lin);
  cpu.wr32(lin + 512, (oldBv & ~rfbm) | (inuse & rfbm));
}

/** 0F AE /4 XSAVE mem (REX.W: XSAVE64). */
export function xsave(cpu: Cpu): void { xsaveCommon(cpu, false); }

/**
 * 0F AE /6 XSAVEOPT: may skip components not modified since the last XRSTOR (§13.9).
 * Saving them anyway is one of the behaviours the SDM allows, and it writes the same
 * XSTATE_BV as XSAVE.
 */
export function xsaveopt(cpu: Cpu): void {
  if ((XSAVE_SUB1_EAX & XD1_XSAVEOPT) === 0) cpu.ud();
  xsaveCommon(cpu, false, true);
}

/** 0F C7 /4 XSAVEC: compacted format; components in their initial configuration are not written. */
export function xsavec(cpu: Cpu): void { xsaveCommon(cpu, true); }

/** 0F AE /5 XRSTOR mem (REX.W: XRSTOR64), standard and compacted forms (§13.8). */
export function xrstor(cpu: Cpu): void { xrstorBody(cpu, xCheck(cpu, false, 1), false); }

/**
 * Loads from the area at xLin for RFBM (§13.8, §13.12). `supervisor` (XRSTORS): only the
 * compacted form, with XCOMP_BV within XCR0 | IA32_XSS.
 */
function xrstorBody(cpu: Cpu, rfbm: number, supervisor: boolean): void {
  const lin = xLin;
  probe(cpu, lin, xSize, false);
  const bv = cpu.rd32(lin + 512), bvHi = cpu.rd32(lin + 516);
  const cb = cpu.rd32(lin + 520), cbHi = cpu.rd32(lin + 524);
  const compacted = cbHi < 0;
  let mx = cpu.fpu.mxcsr;
  if (!compacted) {
    // XRSTORS has no standard form: XCOMP_BV[63] = 0 is #GP (SDM Vol. 2 XRSTORS)
    if (supervisor) cpu.gp(0);
    // standard form: XSTATE_BV within XCR0, header bytes 8..23 zero
    if ((bv & ~cpu.xcr0) !== 0 || bvHi !== 0 || cb !== 0 || cbHi !== 0) cpu.gp(0);
    if (cpu.rd32(lin + 528) !== 0 || cpu.rd32(lin + 532) !== 0) cpu.gp(0);
    if ((rfbm & 6) !== 0) { mx = cpu.rd32(lin + 24); if ((mx & ~mxcsrMask(cpu)) !== 0) cpu.gp(0); }
  } else {
    // compacted form: needs XSAVEC (XRSTOR) or XSAVES (XRSTORS); XCOMP_BV within XCR0 (or
    // XCR0 | IA32_XSS), XSTATE_BV within XCOMP_BV, bytes 16..63 zero
    if (!supervisor && (XSAVE_SUB1_EAX & XD1_XSAVEC) === 0) cpu.gp(0);
    const allowed = supervisor ? cpu.xcr0 | msrGet64(cpu, MSR_IA32_XSS, 0, 0) : cpu.xcr0;
    if ((cb & ~allowed) !== 0 || (cbHi & 0x7fffffff) !== 0 || (bv & ~cb) !== 0 || bvHi !== 0) cpu.gp(0);
    for (let o = 528; o < 576; o += 4) if (cpu.rd32(lin + o) !== 0) cpu.gp(0);
    if ((rfbm & 2) !== 0) {
      if ((bv & 2) !== 0) { mx = cpu.rd32(lin + 24); if ((mx & ~mxcsrMask(cpu)) !== 0) cpu.gp(0); }
      else mx = 0x1f80;
    }
  }
  if ((rfbm & 1) !== 0) {
    if ((bv & 1) !== 0) loadX87(cpu, lin);
    else { cpu.fpu.initX87(); cpu.fpu.mant.fill(0); cpu.fpu.se.fill(0); }
  }
  if ((rfbm & 2) !== 0) {
    if ((bv & 2) !== 0) loadXmm(cpu, lin); else initXmm(cpu);
    cpu.fpu.sseTouched = 0; // XINUSE[1] from the values loaded (fpu/state.ts)
  }
  if ((rfbm & 4) !== 0) {
    if ((bv & 4) !== 0) loadYmmh(cpu, lin); else initYmmh(cpu);
  }
  cpu.fpu.mxcsr = mx;
  // XRSTOR_INFO for XSAVEOPT's modified optimization (§13.9): every component unmodified;
  // XSAVEOPT uses it only after the standard form, XRSTORS never sets it here
  const f = cpu.fpu;
  f.xmod = 0;
  f.xrLin = compacted || supervisor ? -1 : lin;
  f.xrCpl = cpu.cpl;
}

// ---- XSAVES / XRSTORS (SDM Vol. 1 §13.11-13.12, Vol. 2 XSAVES/XRSTORS) ------------------------

/** Secondary processor-based control "enable XSAVES/XRSTORS" (SDM Vol. 3C §25.6.2 Table 25-7). */
const PROC2_XSAVES = 1 << 20;

/**
 * Checks of XSAVES/XRSTORS in priority order: #UD (no XSAVES in CPUID, CR4.OSXSAVE = 0,
 * LOCK, register operand; in VMX non-root operation without "enable XSAVES/XRSTORS",
 * SDM Vol. 3C §26.3), #NM (CR0.TS; decode-class faults come before #GP, Vol. 3A Table 6-2),
 * #GP(0) at CPL > 0, then the operand's own faults and 64-byte alignment. Returns RFBM =
 * EDX:EAX & (XCR0 | IA32_XSS). With the control set, the VM exit (vmx/intercepts.ts
 * interceptXsaves: EDX:EAX & IA32_XSS & the XSS-exiting bitmap ≠ 0, §25.1.3) comes after the
 * CPL check and before the operand; IA32_XSS takes only 0 while no supervisor state
 * component is implemented (msr.ts), so today a guest never sees that exit.
 */
function xsCheck(cpu: Cpu, write: boolean): number {
  if (cpu.lock || (cpu.profile.leaf1Ecx & F1C_XSAVE) === 0 || (XSAVE_SUB1_EAX & XD1_XSAVES) === 0 || cpu.mod === 3) cpu.ud();
  if ((cpu.cr4 & CR4_OSXSAVE) === 0) cpu.ud();
  if (cpu.vmx.nonRoot && (cpu.vmx.proc2 & PROC2_XSAVES) === 0) cpu.ud();
  if ((cpu.cr0 & CR0_TS) !== 0) cpu.fault(NM, 0, false);
  if (cpu.cpl !== 0) cpu.gp(0);
  const xss = msrGet64(cpu, MSR_IA32_XSS, 0, 0);
  if (cpu.vmx.nonRoot) interceptXsaves(cpu, !write, xss, cpu.hi); // before the memory operand (§25.1.1)
  const rfbm = cpu.r[0]! & (cpu.xcr0 | xss);
  xSize = xsaveSize(rfbm);
  const lin = cpu.eaLin(xSize, write);
  if (lin % 64 !== 0) cpu.gp(0);
  xLin = lin;
  return rfbm;
}

/**
 * 0F C7 /5 XSAVES mem (REX.W: XSAVES64): the compacted format like XSAVEC, for user and
 * supervisor components, with the init optimization. The modified optimization (skipping a
 * component unchanged since the XRSTORS that loaded it from the same area, §13.11) is not
 * used: writing the unchanged values is what the optimization's absence means, and the
 * result in memory is the same for software that follows §13.11's rules.
 */
export function xsaves(cpu: Cpu): void { xsaveBody(cpu, xsCheck(cpu, true), true); }

/** 0F C7 /3 XRSTORS mem (REX.W: XRSTORS64): compacted form only. */
export function xrstors(cpu: Cpu): void { xrstorBody(cpu, xsCheck(cpu, false), true); }
