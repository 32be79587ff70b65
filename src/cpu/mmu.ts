/**
 * The page walk (SDM Vol. 3A chapter 4): 32-bit paging (4K/4M pages, PSE-36), PAE and
 * 4-level paging (4K/2M/1G pages), NX, WP, SMEP, SMAP, accessed/dirty updates and the
 * #PF error code. The result's `perm` is the TLB permission mask (cpu.ts T_* bits) that
 * encodes what later accesses may do without another walk.
 */
import type { Cpu } from './cpu.js';
import { CR0_WP, CR4_PSE, CR4_PAE, CR4_SMEP, CR4_SMAP, EFER_LMA, EFER_NXE, AC } from './regs.js';

export interface WalkResult {
  phys: number;
  perm: number;
  pageSize: number;
  /** 0 = success, 1 = page fault (errorCode holds the #PF error code). */
  fault: number;
  errorCode: number;
}

const T_SR = 1, T_SW = 2, T_UR = 4, T_UW = 8, T_SX = 16, T_UX = 32;
const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16;
const TWO32 = 4294967296;

/** Reads a 64-bit entry; returns lo, hi in cpu-independent scratch. */
let entHi = 0;
function read64(cpu: Cpu, pa: number): number {
  const lo = cpu.mem.read32(pa);
  entHi = cpu.mem.read32(pa + 4);
  return lo;
}

/**
 * Walks the paging structures for `lin`. access: 0 read, 1 write, 2 execute.
 * `user`: the access is a CPL-3 access (implicit supervisor accesses pass false).
 */
export function walk(cpu: Cpu, lin: number, access: number, user: boolean, out: WalkResult): void {
  out.fault = 0;
  const nxe = (cpu.efer & EFER_NXE) !== 0;
  if ((cpu.efer & EFER_LMA) !== 0) walkLong(cpu, lin, access, user, nxe, out);
  else if ((cpu.cr4 & CR4_PAE) !== 0) walkPae(cpu, lin, access, user, nxe, out);
  else walk32(cpu, lin, access, user, out);
}

/** Physical-address mask for bits 51:32 of an entry, from MAXPHYADDR. */
function hiAddrMask(cpu: Cpu): number {
  return (1 << (cpu.profile.physAddrBits - 32)) - 1;
}

function walkLong(cpu: Cpu, lin: number, access: number, user: boolean, nxe: boolean, out: WalkResult): void {
  const hiMask = hiAddrMask(cpu);
  // reserved: bits 51:MAXPHYADDR of the high dword, and XD when !NXE
  const rsvdHi = (0x000fffff & ~hiMask) | (nxe ? 0 : 0x80000000);
  let table = (cpu.cr3 - (cpu.cr3 % 4096)) % (2 ** cpu.profile.physAddrBits);
  let uAll = true, wAll = true, xd = false;
  const addrs = [0, 0, 0, 0];
  const los = [0, 0, 0, 0];
  let level = 4;
  let pageSize = 4096;
  let physBase = 0;
  const linU = lin < 0 ? lin + 2 ** 64 : lin;
  let n = 0;
  for (; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const idx = Math.floor(linU / 2 ** shift) % 512;
    const pa = table + idx * 8;
    const lo = read64(cpu, pa);
    const hi = entHi;
    addrs[n] = pa; los[n] = lo; n++;
    if ((lo & 1) === 0) return pf(cpu, lin, access, user, 0, out);
    if ((hi & rsvdHi) !== 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
    if ((lo & 4) === 0) uAll = false;
    if ((lo & 2) === 0) wAll = false;
    if (hi < 0 && nxe) xd = true;
    const ps = (lo & 0x80) !== 0;
    if (level === 4 && ps) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
    if (ps && level > 1) {
      if (level === 3 && (cpu.profile.ext1Edx & (1 << 26)) === 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
      // bits 12 is PAT; bits 13..(shift-1) are reserved in a large-page entry
      const rsvLo = level === 3 ? 0x3fffe000 : 0x001fe000;
      if ((lo & rsvLo) !== 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
      pageSize = 2 ** shift;
      const baseLo = (lo & ~(pageSize - 1) & ~0xfff) >>> 0;
      physBase = (hi & hiMask) * TWO32 + baseLo;
      break;
    }
    const next = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
    if (level === 1) { physBase = next; pageSize = 4096; break; }
    table = next;
  }
  finish(cpu, lin, access, user, uAll, wAll, xd, pageSize, physBase, addrs, los, n, true, out);
}

function walkPae(cpu: Cpu, lin: number, access: number, user: boolean, nxe: boolean, out: WalkResult): void {
  const hiMask = hiAddrMask(cpu);
  const rsvdHi = (0x000fffff & ~hiMask) | (nxe ? 0 : 0x80000000);
  const l = lin >>> 0;
  // PDPTE: SDM §4.4.1 — loaded from CR3 (bits 31:5); P=0 → #PF, reserved bits → #PF(RSVD)
  const pdptePa = (cpu.cr3 & 0xffffffe0) >>> 0;
  const i3 = l >>> 30;
  const p3 = read64(cpu, pdptePa + i3 * 8);
  const h3 = entHi;
  if ((p3 & 1) === 0) return pf(cpu, lin, access, user, 0, out);
  if ((p3 & 0x1e6) !== 0 || (h3 & (rsvdHi | 0x80000000)) !== 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
  let table = (h3 & hiMask) * TWO32 + ((p3 & 0xfffff000) >>> 0);
  const addrs = [0, 0];
  const los = [0, 0];
  let uAll = true, wAll = true, xd = false, n = 0;
  let physBase = 0, pageSize = 4096;
  for (let level = 2; level >= 1; level--) {
    const idx = level === 2 ? (l >>> 21) & 511 : (l >>> 12) & 511;
    const pa = table + idx * 8;
    const lo = read64(cpu, pa);
    const hi = entHi;
    addrs[n] = pa; los[n] = lo; n++;
    if ((lo & 1) === 0) return pf(cpu, lin, access, user, 0, out);
    if ((hi & rsvdHi) !== 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
    if ((lo & 4) === 0) uAll = false;
    if ((lo & 2) === 0) wAll = false;
    if (hi < 0 && nxe) xd = true;
    if (level === 2 && (lo & 0x80) !== 0) {
      if ((lo & 0x001fe000) !== 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
      pageSize = 0x200000;
      physBase = (hi & hiMask) * TWO32 + ((lo & 0xffe00000) >>> 0);
      break;
    }
    const next = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
    if (level === 1) { physBase = next; break; }
    table = next;
  }
  finish(cpu, lin, access, user, uAll, wAll, xd, pageSize, physBase, addrs, los, n, true, out);
}

function walk32(cpu: Cpu, lin: number, access: number, user: boolean, out: WalkResult): void {
  const l = lin >>> 0;
  const pdePa = ((cpu.cr3 & 0xfffff000) >>> 0) + (l >>> 22) * 4;
  const pde = cpu.mem.read32(pdePa);
  if ((pde & 1) === 0) return pf(cpu, lin, access, user, 0, out);
  let uAll = (pde & 4) !== 0, wAll = (pde & 2) !== 0;
  if ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
    // 4 MiB page; PSE-36: bits 20:13 hold physical address bits 39:32 (SDM §4.3)
    if ((pde & 0x200000) !== 0) return pf(cpu, lin, access, user, PF_RSVD | PF_P, out);
    const high = ((pde >>> 13) & 0xff) & ((1 << (cpu.profile.physAddrBits - 32)) - 1);
    const physBase = high * TWO32 + ((pde & 0xffc00000) >>> 0);
    finish(cpu, lin, access, user, uAll, wAll, false, 0x400000, physBase, [pdePa], [pde], 1, false, out);
    return;
  }
  const ptePa = ((pde & 0xfffff000) >>> 0) + ((l >>> 12) & 1023) * 4;
  const pte = cpu.mem.read32(ptePa);
  if ((pte & 1) === 0) return pf(cpu, lin, access, user, 0, out);
  uAll = uAll && (pte & 4) !== 0;
  wAll = wAll && (pte & 2) !== 0;
  finish(cpu, lin, access, user, uAll, wAll, false, 4096, (pte & 0xfffff000) >>> 0, [pdePa, ptePa], [pde, pte], 2, false, out);
}

function finish(
  cpu: Cpu, lin: number, access: number, user: boolean, u: boolean, w: boolean, xd: boolean,
  pageSize: number, physBase: number, addrs: number[], los: number[], n: number, _wide: boolean, out: WalkResult,
): void {
  const wp = (cpu.cr0 & CR0_WP) !== 0;
  const smep = (cpu.cr4 & CR4_SMEP) !== 0;
  const smap = (cpu.cr4 & CR4_SMAP) !== 0;
  // access rights (SDM Vol. 3A §4.6)
  let bad = false;
  if (user) {
    if (!u) bad = true;
    else if (access === 1 && !w) bad = true;
    else if (access === 2 && xd) bad = true;
  } else {
    if (access === 2) {
      if (xd || (u && smep)) bad = true;
    } else {
      if (u && smap && (cpu.flags & AC) === 0) bad = true;
      if (access === 1 && !w && wp) bad = true;
    }
  }
  if (bad) return pf(cpu, lin, access, user, PF_P, out);
  // accessed flags on every level, dirty on the leaf for writes (SDM §4.8)
  const leaf = n - 1;
  for (let k = 0; k < n; k++) {
    let v = los[k]!;
    let nv = v | 0x20;
    if (k === leaf && access === 1) nv |= 0x40;
    if (nv !== v) cpu.mem.write32(addrs[k]!, nv);
    if (k === leaf) los[k] = nv;
  }
  const dirty = (los[leaf]! & 0x40) !== 0;
  let perm = 0;
  if (u) { perm |= T_UR; if (w && dirty) perm |= T_UW; if (!xd) perm |= T_UX; }
  if (!u || !smap) { perm |= T_SR; if ((w || !wp) && dirty) perm |= T_SW; }
  if (!xd && !(u && smep)) perm |= T_SX;
  const off = (lin < 0 ? lin + 2 ** 64 : lin) % pageSize;
  out.phys = physBase + off;
  out.perm = perm;
  out.pageSize = pageSize;
}

function pf(cpu: Cpu, _lin: number, access: number, user: boolean, bits: number, out: WalkResult): void {
  let e = bits;
  if (access === 1) e |= PF_W;
  if (user) e |= PF_U;
  // I/D is reported for fetches when NX or SMEP is in use (SDM §4.7)
  if (access === 2 && ((cpu.efer & EFER_NXE) !== 0 || (cpu.cr4 & CR4_SMEP) !== 0)) e |= PF_I;
  out.fault = 1;
  out.errorCode = e;
}

export { T_SR, T_SW, T_UR, T_UW, T_SX, T_UX, CR4_PAE };
