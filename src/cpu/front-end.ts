/**
 * The instruction fetch and ModRM/SIB decoding part of the front end (SDM Vol. 2 §2.1-2.2):
 * the fetch window and its slow path through paging, and decodeModrm with its replay from
 * the decoded-instruction cache (decode-cache.ts). The Cpu's methods of the same names call
 * these; fetch8 itself stays in cpu.ts, inlined by every handler.
 */
import type { Cpu } from './cpu.js';
import { CS, DS, SS } from './regs.js';
import { DC_NO_REG } from './decode-cache.js';

const TWO32 = 4294967296;

/** Points the fetch cursor at RIP when the code page is cached. */
export function beginFetch(cpu: Cpu): void {
  const off = cpu.segBase[CS]! + cpu.rip - cpu.fetchPage;
  if (off >= 0 && off < 4096) { cpu.fp = cpu.fetchHost + off; cpu.fpEnd = cpu.fetchHost + 4096; }
  else cpu.fpEnd = 0;
}

/**
 * Points the fetch window at RIP's page from a TLB entry that allows execution at the
 * current privilege, without a page walk (a branch to another code page); false when
 * there is none (fetchSlow then walks). Entries hold execute permission as the walk
 * computed it (NX, SMEP: mmu.ts), so the check is the one translate() would make.
 */
export function refillFetch(cpu: Cpu, rip: number): boolean {
  let lin = cpu.segBase[CS]! + rip;
  if (!cpu.code64) lin = lin >>> 0; // the 32-bit wrap (ToUint32: negative bases too), no fmod call
  const pn = Math.floor(lin / 4096), i = pn & (cpu.tlbTag.length - 1);
  if (cpu.tlbTag[i] !== pn || (cpu.tlbPerm[i]! & cpu.exMask) === 0) return false;
  cpu.fetchPage = pn * 4096;
  cpu.fetchHost = cpu.tlbPhys[i]!;
  return true;
}

export function fetchSlow(cpu: Cpu): number {
  if (cpu.rip - cpu.startRip >= 15) cpu.gp(0); // SDM Vol. 2 §2.3.11: 15-byte limit
  let lin = cpu.segBase[CS]! + cpu.rip;
  if (!cpu.code64) lin = lin >>> 0; // 32-bit linear wrap (ToUint32: negative bases too)
  // a fetch from a non-canonical RIP is #GP(0) (SDM Vol. 3A §6.15 #GP; AMD's SYSRET
  // leaves a non-canonical RCX for this fetch to fault on, at CPL 3)
  else if (lin >= 0x800000000000 || lin < -0x800000000000) cpu.gp(0);
  const page = Math.floor(lin / 4096) * 4096;
  const phys = cpu.translate(lin, 2, cpu.cpl === 3);
  cpu.rip++;
  const physPage = Math.floor(phys / 4096) * 4096;
  const pageIdx = cpu.mem.ramIndex(physPage, 4096);
  if (pageIdx >= 0) {
    const idx = pageIdx + (phys - physPage);
    cpu.fetchPage = page;
    cpu.fetchHost = idx - (lin - page);
    cpu.fp = idx + 1;
    // the fast path (fetch8/fetch32) stops where the instruction reaches 15 bytes, so a
    // 16th byte comes back here and is #GP(0) (SDM Vol. 2 §2.3.11; found by decoder fuzzing)
    cpu.fpEnd = Math.min(cpu.fetchHost + 4096, idx + 16 - (cpu.rip - cpu.startRip));
    return cpu.ram[idx]!;
  }
  cpu.fetchPage = NaN;
  cpu.fpEnd = 0;
  return cpu.mem.read8(phys);
}

/**
 * Decodes ModRM (and SIB/displacement). `immBytes` is the size of the immediate that
 * follows, needed for RIP-relative addressing, which is relative to the next instruction.
 * Sets mod/reg/rm and, for memory operands, eaLo/eaHi/eaSeg.
 */
export function decodeModrm(cpu: Cpu, immBytes: number): void {
  if (cpu.dcReplay) { replayModrm(cpu, immBytes); return; }
  const rip0 = cpu.rip;
  const m = cpu.fetch8();
  cpu.modrmByte = m;
  const mod = m >> 6;
  cpu.mod = mod;
  cpu.reg = ((m >> 3) & 7) | cpu.rexR;
  const rm = m & 7;
  // the operand as base + index * 2^scale + disp (DC_NO_REG = absent), kept for the cache
  let base = DC_NO_REG, idx = DC_NO_REG, scale = 0, disp = 0, seg = DS, ripRel = 0;
  if (mod === 3) cpu.rm = rm | cpu.rexB;
  else {
    cpu.rm = rm;
    if (cpu.asz === 2) {
      // 16-bit forms (SDM Vol. 2 Table 2-1): BP-based ones default to SS
      switch (rm) {
        case 0: base = 3; idx = 6; break;           // BX+SI
        case 1: base = 3; idx = 7; break;           // BX+DI
        case 2: base = 5; idx = 6; seg = SS; break; // BP+SI
        case 3: base = 5; idx = 7; seg = SS; break; // BP+DI
        case 4: base = 6; break;
        case 5: base = 7; break;
        case 6: if (mod === 0) disp = cpu.fetch16(); else { base = 5; seg = SS; } break;
        default: base = 3; break;
      }
      if (mod === 1) disp = cpu.fetchS8();
      else if (mod === 2) disp = cpu.fetch16();
    } else {
      let b = rm;
      if (rm === 4) {
        const sib = cpu.fetch8();
        scale = sib >> 6;
        const ix = ((sib >> 3) & 7) | cpu.rexX;
        if (ix !== 4) idx = ix;
        b = sib & 7;
        if (b === 5 && mod === 0) { disp = cpu.fetch32(); b = DC_NO_REG; } // disp32, no base
        else b |= cpu.rexB;
      } else if (rm === 5 && mod === 0) {
        disp = cpu.fetch32();
        b = DC_NO_REG;
        // RIP-relative in 64-bit mode: relative to the end of the instruction, immediate included
        if (cpu.code64) ripRel = 1;
      } else b |= cpu.rexB;
      if (b !== DC_NO_REG) {
        base = b;
        if (b === 4 || b === 5) seg = SS; // rSP/rBP (not r12/r13) default to SS
        if (mod === 1) disp = cpu.fetchS8();
        else if (mod === 2) disp = cpu.fetch32();
      }
    }
    computeEa(cpu, base, idx, scale, disp, seg, ripRel, immBytes);
  }
  const dc = cpu.dc;
  if (dc.buildSlot >= 0) {
    // record the first ModRM of the instruction being cached; a second one is not cached
    if (dc.buildModrmLen !== 0) { dc.buildSlot = -1; return; }
    const s = dc.buildSlot, len = cpu.rip - rip0;
    dc.buildModrmLen = len;
    dc.modrm[s] = m | (len << 8) | (base << 11) | (idx << 16) | (scale << 21) | (seg << 23) | (ripRel << 26);
    dc.disp[s] = disp;
  }
}

/** decodeModrm for an instruction from the decode cache: the bytes are skipped, the address recomputed. */
export function replayModrm(cpu: Cpu, immBytes: number): void {
  cpu.dcReplay = false;
  const s = cpu.dcSlot;
  const w = cpu.dc.modrm[s]!;
  const len = (w >> 8) & 7;
  cpu.fp += len; cpu.rip += len;
  const m = w & 0xff;
  cpu.modrmByte = m;
  const mod = m >> 6;
  cpu.mod = mod;
  cpu.reg = ((m >> 3) & 7) | cpu.rexR;
  if (mod === 3) { cpu.rm = (m & 7) | cpu.rexB; return; }
  cpu.rm = m & 7;
  computeEa(cpu, (w >> 11) & 31, (w >> 16) & 31, (w >> 21) & 3, cpu.dc.disp[s]!, (w >> 23) & 7, (w >> 26) & 1, immBytes);
}

/** eaLo/eaHi/eaSeg from the decoded operand, exact on halves (carries included), at the address size. */
export function computeEa(cpu: Cpu, base: number, idx: number, scale: number, disp: number, seg: number, ripRel: number, immBytes: number): void {
  const r = cpu.r;
  const asz = cpu.asz;
  let lo: number, hi = 0;
  if (ripRel !== 0) {
    const target = cpu.rip + immBytes + disp;
    lo = target | 0;
    if (asz === 8) hi = Math.floor(target / TWO32) | 0;
  } else if (asz === 8) {
    let il = 0, ih = 0, bl = 0, bh = 0;
    if (idx !== DC_NO_REG) {
      const l = r[idx << 1]!, h = r[(idx << 1) + 1]!;
      il = l << scale;
      ih = scale === 0 ? h : (h << scale) | (l >>> (32 - scale));
    }
    if (base !== DC_NO_REG) { bl = r[base << 1]!; bh = r[(base << 1) + 1]!; }
    const sum = (il >>> 0) + (bl >>> 0) + disp;
    hi = (ih + bh + Math.floor(sum / TWO32)) | 0;
    lo = sum | 0;
  } else {
    lo = disp;
    if (idx !== DC_NO_REG) lo += r[idx << 1]! << scale;
    if (base !== DC_NO_REG) lo += r[base << 1]!;
    lo = asz === 2 ? lo & 0xffff : lo | 0;
  }
  cpu.eaLo = lo;
  cpu.eaHi = hi;
  cpu.eaSeg = cpu.segOvr >= 0 ? cpu.segOvr : seg;
  cpu.eaIdx = idx; // for VSIB (avx/gather.ts): the index term is replaced per element
  cpu.eaScale = scale;
}
