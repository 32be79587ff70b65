/**
 * Segmentation: descriptor-table reads, segment-register loads with the protected-mode
 * checks of SDM Vol. 3A §5.4-5.6 and Vol. 2 MOV/POP Sreg, the CS loads used by far
 * transfers, LTR/LLDT helpers, and the supervisor stack writer used when an event or a
 * call gate switches stacks. Owned by the control-transfer family.
 *
 * A descriptor is handled as two int32 halves, lo (bytes 0-3) and hi (bytes 4-7), read
 * with readDescriptor (lo returned, hi left in cpu.hi):
 *
 *   lo: 31..16 base 15:0          | 15..0 limit 15:0
 *   hi: 31..24 base 31:24 | 23 G | 22 D/B | 21 L | 20 AVL | 19..16 limit 19:16 |
 *       15 P | 14..13 DPL | 12 S | 11..8 type | 7..0 base 23:16
 *
 * The hidden cache keeps the access rights in the VMCS layout (regs.ts AR_*), which is
 * hi bits 8..23 with the limit nibble removed.
 */
import type { Cpu } from './cpu.js';
import {
  CS, SS, DS, ES, FS, GS, LDTR, TR, GP, NP, SS_, TS, VM, CR0_PE, EFER_LMA,
  AR_P, AR_S, AR_DB, AR_L, AR_G, AR_UNUSABLE, AR_DPL_SHIFT,
} from './regs.js';

const TWO32 = 4294967296;

// ---- descriptor fields ------------------------------------------------------------------

/** Base address (bits 31:0) of a segment descriptor. */
export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}
/** Byte-granular limit: the 20-bit limit scaled by G (SDM Vol. 3A §3.4.5). */
export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & 0x800000) !== 0 ? raw * 4096 + 4095 : raw;
}
/** Access rights in the VMCS layout (type, S, DPL, P, AVL, L, D/B, G). */
export function descAr(hi: number): number { return (hi >> 8) & 0xf0ff; }
export function descDpl(hi: number): number { return (hi >> 13) & 3; }
export function descPresent(hi: number): boolean { return (hi & 0x8000) !== 0; }
/** Type field with S: 0x10..0x1f code/data, 0x00..0x0f system (SDM Vol. 3A Tables 3-1, 3-2). */
export function descType(hi: number): number { return (hi >> 8) & 0x1f; }
export function isCode(hi: number): boolean { return (hi & 0x1800) === 0x1800; }
export function isConforming(hi: number): boolean { return (hi & 0x1c00) === 0x1c00; }
/** Writable data segment (S=1, code=0, W=1): the only kind SS accepts. */
export function isWritableData(hi: number): boolean { return (hi & 0x1a00) === 0x1200; }

/** Selector error code: index, TI and EXT (SDM Vol. 3A §6.13). */
export function selError(sel: number, ext: number): number { return (sel & 0xfffc) | ext; }

// ---- descriptor tables ------------------------------------------------------------------

/**
 * Linear address of the descriptor `selector` names, or -1 when the 8 (or `bytes`) bytes
 * at its index lie beyond the GDT/LDT limit or the LDT is unusable.
 */
export function descriptorAddress(cpu: Cpu, selector: number, bytes = 8): number {
  const index = selector & 0xfff8;
  if ((selector & 4) !== 0) {
    if ((cpu.segAr[LDTR]! & AR_UNUSABLE) !== 0 || (cpu.segSel[LDTR]! & 0xfffc) === 0) return -1;
    if (index + bytes - 1 > cpu.segLimit[LDTR]!) return -1;
    return linearSys(cpu, cpu.segBase[LDTR]! + index);
  }
  if (index + bytes - 1 > cpu.gdtLimit) return -1;
  return linearSys(cpu, cpu.gdtBase + index);
}

/** Table bases are 32-bit outside IA-32e mode (wrap at 4 GiB). */
function linearSys(cpu: Cpu, lin: number): number {
  return (cpu.efer & EFER_LMA) !== 0 ? lin : lin >>> 0;
}

/**
 * Reads the 8-byte descriptor for `selector` (an implicit supervisor access, SDM Vol. 3A
 * §4.6). Returns the low dword; the high dword is left in cpu.hi. A selector beyond the
 * table limit raises `vector` (#GP unless the caller says #TS) with the selector error code.
 */
export function readDescriptor(cpu: Cpu, selector: number, vector = GP, ext = 0): number {
  const a = descriptorAddress(cpu, selector);
  if (a < 0) cpu.fault(vector, selError(selector, ext), true);
  const lo = cpu.rdSys32(a);
  const hi = cpu.rdSys32(a + 4);
  cpu.hi = hi;
  return lo;
}

/** Sets the accessed bit (type bit 0) of a code/data descriptor in memory (SDM Vol. 3A §3.4.5.1). */
export function setAccessed(cpu: Cpu, selector: number, hi: number): void {
  if ((hi & 0x100) !== 0) return;
  const a = descriptorAddress(cpu, selector);
  if (a >= 0) cpu.wrSys32(a + 4, hi | 0x100);
}

// ---- segment register loads ---------------------------------------------------------------

/** Real mode: only selector and base change; the limit and attributes stay (unreal mode). */
export function loadReal(cpu: Cpu, seg: number, sel: number): void {
  cpu.segSel[seg] = sel & 0xffff;
  cpu.segBase[seg] = (sel & 0xffff) * 16;
  if (cpu.segAr[seg]! & AR_UNUSABLE) cpu.segAr[seg] = seg === CS ? 0x9b : 0x93;
}

/** Virtual-8086 mode: base sel*16, 64K limit, DPL 3 read/write (SDM Vol. 3A §20.1.1). */
export function loadV86(cpu: Cpu, seg: number, sel: number): void {
  cpu.setSegCache(seg, sel, (sel & 0xffff) * 16, 0xffff, seg === CS ? 0xfb : 0xf3);
}

/** A null selector in DS/ES/FS/GS (or SS in 64-bit mode): the register becomes unusable. */
export function loadNull(cpu: Cpu, seg: number, sel: number): void {
  // Intel clears base and limit on a null load (AMD keeps the base: Linux X86_BUG_NULL_SEG).
  const dpl = seg === SS ? (sel & 3) << AR_DPL_SHIFT : 0;
  cpu.setSegCache(seg, sel, 0, 0, AR_UNUSABLE | dpl);
}

/** Loads a segment cache from a descriptor already checked by the caller. */
export function loadFromDescriptor(cpu: Cpu, seg: number, sel: number, lo: number, hi: number): void {
  setAccessed(cpu, sel, hi);
  cpu.setSegCache(seg, sel, descBase(lo, hi), descLimit(lo, hi), descAr(hi | 0x100));
}

/**
 * MOV/POP Sreg, LDS/LES/LFS/LGS/LSS: loads DS, ES, FS, GS or SS (SDM Vol. 2 MOV,
 * Vol. 3A §5.5-5.7). Protected mode checks type, RPL, DPL and CPL and raises
 * #GP(selector), #SS(selector) (SS not present) or #NP(selector); everything that can
 * fault happens before the register changes. Callers handle the SS interrupt shadow.
 */
export function loadSegment(cpu: Cpu, seg: number, selector: number): void {
  const sel = selector & 0xffff;
  if ((cpu.cr0 & CR0_PE) === 0) { loadReal(cpu, seg, sel); if (seg === SS) cpu.updateMode(); return; }
  if ((cpu.flags & VM) !== 0) { loadV86(cpu, seg, sel); return; }
  const cpl = cpu.cpl;
  const rpl = sel & 3;
  if ((sel & 0xfffc) === 0) {
    if (seg === SS) {
      // SDM Vol. 2 MOV: a null SS is allowed only in 64-bit mode, at CPL < 3, with RPL = CPL.
      if (!cpu.code64 || cpl === 3 || rpl !== cpl) cpu.gp(0);
    }
    loadNull(cpu, seg, sel);
    return;
  }
  const lo = readDescriptor(cpu, sel);
  const hi = cpu.hi;
  const dpl = descDpl(hi);
  if (seg === SS) {
    if (rpl !== cpl || dpl !== cpl || !isWritableData(hi)) cpu.gp(selError(sel, 0));
    if (!descPresent(hi)) cpu.fault(SS_, selError(sel, 0), true);
  } else {
    // data, or readable code (type bit 1 = R for code)
    if ((hi & 0x1000) === 0 || (hi & 0x0a00) === 0x0800) cpu.gp(selError(sel, 0));
    // data and non-conforming code: max(CPL, RPL) <= DPL
    if (!isConforming(hi) && (rpl > dpl || cpl > dpl)) cpu.gp(selError(sel, 0));
    if (!descPresent(hi)) cpu.fault(NP, selError(sel, 0), true);
  }
  loadFromDescriptor(cpu, seg, sel, lo, hi);
}

/**
 * Loads CS for a far transfer whose checks are done: the selector's RPL becomes `cpl`.
 * For a conforming segment the cached DPL is set to the CPL as well, because the cache's
 * DPL is where cpu.updateMode reads the CPL from (on hardware CPL = SS.DPL = CS.RPL).
 */
export function loadCs(cpu: Cpu, sel: number, lo: number, hi: number, cpl: number): void {
  setAccessed(cpu, sel, hi);
  let ar = descAr(hi | 0x100);
  ar = (ar & ~(3 << AR_DPL_SHIFT)) | (cpl << AR_DPL_SHIFT);
  cpu.setSegCache(CS, (sel & 0xfffc) | cpl, descBase(lo, hi), descLimit(lo, hi), ar);
}

/**
 * Checks a code-segment descriptor as the target of a far JMP/CALL (direct, not through
 * a gate; SDM Vol. 2 JMP/CALL "far call to same privilege"), raising #GP(sel)/#NP(sel).
 */
export function checkDirectCode(cpu: Cpu, sel: number, hi: number): void {
  const cpl = cpu.cpl;
  const dpl = descDpl(hi);
  if (isConforming(hi)) { if (dpl > cpl) cpu.gp(selError(sel, 0)); }
  else if ((sel & 3) > cpl || dpl !== cpl) cpu.gp(selError(sel, 0));
  // IA-32e mode: L and D both set is reserved
  if ((cpu.efer & EFER_LMA) !== 0 && (hi & 0x600000) === 0x600000) cpu.gp(selError(sel, 0));
  if (!descPresent(hi)) cpu.fault(NP, selError(sel, 0), true);
}

/** After a return to an outer privilege level, data registers the new CPL may not use become null (SDM Vol. 2 RET). */
export function nullInaccessibleSegments(cpu: Cpu): void {
  const cpl = cpu.cpl;
  for (let s = 0; s < 6; s++) {
    if (s === CS || s === SS) continue;
    const ar = cpu.segAr[s]!;
    if ((ar & AR_UNUSABLE) !== 0) continue;
    const dpl = (ar >> AR_DPL_SHIFT) & 3;
    const conformingCode = (ar & 0x1c) === 0x1c;
    // The register is invalidated, not loaded: the selector becomes 0 and the segment
    // unusable, while the hidden base and limit stay (as in Bochs and QEMU) — a 64-bit
    // kernel's MSR-loaded GS base survives an IRET to user mode (kvm-unit-tests debug.c).
    if (dpl < cpl && !conformingCode) cpu.setSegCache(s, 0, cpu.segBase[s]!, cpu.segLimit[s]!, AR_UNUSABLE);
  }
}

/** Is the cached segment a 64-bit code segment (L=1, D=0)? */
export function isLongCode(hi: number): boolean { return (hi & 0x600000) === 0x200000; }

// ---- system segments: TR and LDTR -------------------------------------------------------------

/** Base bits 63:32 of a 16-byte system descriptor in IA-32e mode. */
function sysBaseHigh(cpu: Cpu, a: number): number {
  const b = cpu.rdSys32(a + 8);
  const d3 = cpu.rdSys32(a + 12);
  cpu.hi = d3;
  return b;
}

/**
 * LTR's load (SDM Vol. 2 LTR): an available 16-bit/32-bit TSS (64-bit TSS in IA-32e
 * mode, 16-byte descriptor) from the GDT; marks it busy in memory and in the cache.
 * The caller (system family) checks protected mode and CPL 0.
 */
export function loadTr(cpu: Cpu, selector: number): void {
  const sel = selector & 0xffff;
  if ((sel & 0xfffc) === 0) cpu.gp(0);
  if ((sel & 4) !== 0) cpu.gp(selError(sel, 0));
  const long = (cpu.efer & EFER_LMA) !== 0;
  const a = descriptorAddress(cpu, sel, long ? 16 : 8);
  if (a < 0) cpu.gp(selError(sel, 0));
  const lo = cpu.rdSys32(a), hi = cpu.rdSys32(a + 4);
  const type = descType(hi);
  if (long ? type !== 9 : (type !== 9 && type !== 1)) cpu.gp(selError(sel, 0));
  let base = descBase(lo, hi);
  if (long) {
    const upper = sysBaseHigh(cpu, a);
    if ((cpu.hi & 0x1f00) !== 0) cpu.gp(selError(sel, 0));
    base += (upper | 0) * TWO32;
    if (base < -0x800000000000 || base >= 0x800000000000) cpu.gp(selError(sel, 0));
  }
  if (!descPresent(hi)) cpu.fault(NP, selError(sel, 0), true);
  cpu.wrSys32(a + 4, hi | 0x200);
  cpu.setSystemSeg(TR, sel, base, descLimit(lo, hi), descAr(hi | 0x200));
}

/** LLDT's load (SDM Vol. 2 LLDT): a null selector leaves LDTR unusable. */
export function loadLdtr(cpu: Cpu, selector: number): void {
  const sel = selector & 0xffff;
  if ((sel & 0xfffc) === 0) { cpu.setSystemSeg(LDTR, sel, 0, 0, AR_UNUSABLE); return; }
  if ((sel & 4) !== 0) cpu.gp(selError(sel, 0));
  const long = (cpu.efer & EFER_LMA) !== 0;
  const a = descriptorAddress(cpu, sel, long ? 16 : 8);
  if (a < 0) cpu.gp(selError(sel, 0));
  const lo = cpu.rdSys32(a), hi = cpu.rdSys32(a + 4);
  if (descType(hi) !== 2) cpu.gp(selError(sel, 0));
  let base = descBase(lo, hi);
  if (long) {
    const upper = sysBaseHigh(cpu, a);
    if ((cpu.hi & 0x1f00) !== 0) cpu.gp(selError(sel, 0));
    base += (upper | 0) * TWO32;
    if (base < -0x800000000000 || base >= 0x800000000000) cpu.gp(selError(sel, 0));
  }
  if (!descPresent(hi)) cpu.fault(NP, selError(sel, 0), true);
  cpu.setSystemSeg(LDTR, sel, base, descLimit(lo, hi), descAr(hi));
}

// ---- TSS stack pointers -------------------------------------------------------------------

/**
 * The inner stack for privilege level `dpl` from the current TSS (SDM Vol. 3A §7.2.1,
 * Figures 7-2/7-11): 32-bit TSS SSn at 8+8n, ESPn at 4+8n; 16-bit TSS SPn at 2+4n, SSn at
 * 4+4n. Returns ESP; the SS selector is left in cpu.hi. A TSS too short raises #TS(TR).
 */
export function tssStack(cpu: Cpu, dpl: number, ext: number): number {
  const type = cpu.segAr[TR]! & 0xf;
  const is32 = (type & 8) !== 0;
  const off = is32 ? 4 + dpl * 8 : 2 + dpl * 4;
  const width = is32 ? 4 : 2;
  if (off + 2 * width - 1 > cpu.segLimit[TR]!) cpu.fault(TS, selError(cpu.segSel[TR]!, ext), true);
  const base = cpu.segBase[TR]!;
  if (is32) {
    const esp = cpu.rdSys32(linearSys(cpu, base + off));
    cpu.hi = cpu.rdSys16(linearSys(cpu, base + off + 4));
    return esp;
  }
  const sp = cpu.rdSys16(linearSys(cpu, base + off));
  cpu.hi = cpu.rdSys16(linearSys(cpu, base + off + 2));
  return sp;
}

/**
 * A 64-bit TSS stack pointer (SDM Vol. 3A §7.7, Figure 7-11): RSPn at 4+8n, ISTn at
 * 0x24+8(n-1). `slot` 0..2 = RSP0..2, 3..9 = IST1..7. Returns the value as a number
 * (canonical, signed); #TS(TR) when beyond the TSS limit.
 */
export function tss64Stack(cpu: Cpu, slot: number, ext: number): number {
  const off = slot < 3 ? 4 + slot * 8 : 0x24 + (slot - 3) * 8;
  if (off + 7 > cpu.segLimit[TR]!) cpu.fault(TS, selError(cpu.segSel[TR]!, ext), true);
  const base = cpu.segBase[TR]!;
  const lo = cpu.rdSys32(base + off);
  const hi = cpu.rdSys32(base + off + 4);
  return hi * TWO32 + (lo >>> 0);
}

/**
 * Checks the SS selector taken from a TSS for a privilege change to `cpl` (SDM Vol. 2
 * INT n / CALL "inter-privilege"): #TS for a bad selector or descriptor, #SS if not
 * present. Returns the descriptor's lo dword, hi in cpu.hi.
 */
export function checkInnerSs(cpu: Cpu, ssSel: number, cpl: number, ext: number): number {
  if ((ssSel & 0xfffc) === 0) cpu.fault(TS, ext, true);
  if ((ssSel & 3) !== cpl) cpu.fault(TS, selError(ssSel, ext), true);
  const lo = readDescriptor(cpu, ssSel, TS, ext);
  const hi = cpu.hi;
  if (descDpl(hi) !== cpl || !isWritableData(hi)) cpu.fault(TS, selError(ssSel, ext), true);
  if (!descPresent(hi)) cpu.fault(SS_, selError(ssSel, ext), true);
  cpu.hi = hi;
  return lo;
}

// ---- writing a stack that is not (yet) SS -------------------------------------------------

/**
 * Builds a frame on a stack described explicitly — the new stack of an interrupt or
 * call gate, before SS changes — so every check and write happens before any register
 * is committed (SDM Vol. 3A §6.12.1). One instance is reused: frames are built
 * synchronously and an aborted build leaves nothing to clean up.
 */
export class StackBuilder {
  base = 0; limit = 0; ar = 0;
  /** Offset (2/4-byte stacks) or canonical linear address (8) of the top. */
  sp = 0;
  width = 4;
  user = false;
  vec = SS_; code = 0;

  /** Stack-address width from the segment (B bit) or 8 for 64-bit mode. */
  init(base: number, limit: number, ar: number, sp: number, width: number, user: boolean, vec: number, code: number): void {
    this.base = base; this.limit = limit; this.ar = ar; this.width = width; this.user = user;
    this.vec = vec; this.code = code;
    this.sp = width === 8 ? sp : width === 4 ? sp >>> 0 : sp & 0xffff;
  }

  push(cpu: Cpu, size: number, lo: number, hi: number): void {
    let lin: number;
    if (this.width === 8) {
      const sp = this.sp - size;
      if (sp < -0x800000000000 || sp + size - 1 >= 0x800000000000) cpu.fault(this.vec, this.code, true);
      this.sp = sp;
      lin = sp;
    } else {
      const sp = this.width === 4 ? (this.sp - size) >>> 0 : (this.sp - size) & 0xffff;
      const end = sp + size - 1;
      if ((this.ar & 0x1c) === 0x14) {
        const upper = (this.ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
        if (sp <= this.limit || end > upper) cpu.fault(this.vec, this.code, true);
      } else if (end > this.limit) cpu.fault(this.vec, this.code, true);
      this.sp = sp;
      lin = (this.base + sp) >>> 0;
    }
    sysWrite(cpu, lin, size, lo, hi, this.user);
  }
}

/** Writes with an explicit privilege (the CPL after the transfer), across pages if needed. */
export function sysWrite(cpu: Cpu, lin: number, size: number, lo: number, hi: number, user: boolean): void {
  const first = Math.floor(lin / 4096), last = Math.floor((lin + size - 1) / 4096);
  if (first === last) {
    const p = cpu.translate(lin, 1, user);
    switch (size) {
      case 2: cpu.mem.write16(p, lo); return;
      case 4: cpu.mem.write32(p, lo); return;
      default: cpu.mem.write32(p, lo); cpu.mem.write32(p + 4, hi); return;
    }
  }
  // both pages checked before any byte is written, the first first; CR2 = the boundary (Cpu.probeSplit)
  cpu.translate(lin, 1, user);
  cpu.translate(last * 4096, 1, user);
  for (let k = 0; k < size; k++) {
    const v = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
    cpu.mem.write8(cpu.translate(lin + k, 1, user), v & 0xff);
  }
}

export { AR_P, AR_S, AR_L, AR_G, DS, ES, FS, GS };
