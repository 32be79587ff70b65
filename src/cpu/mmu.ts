/**
 * The page walk (SDM Vol. 3A chapter 4): 32-bit paging (4K/4M pages, PSE-36), PAE paging
 * (PDPTEs cached at load time, §4.4.1) and 4-level paging (4K/2M/1G pages), NX, WP, SMEP,
 * SMAP (with EFLAGS.AC and implicit supervisor accesses), U/S, accessed/dirty updates,
 * reserved-bit checks and the #PF error code (§4.7). The result's `perm` is the TLB
 * permission mask (cpu.ts T_* bits) that encodes what later accesses may do without
 * another walk; it is always at most what the walk allowed, so a TLB hit never grants an
 * access the walk would refuse.
 *
 * No allocation per walk: the entries a walk visits are kept in module-level typed arrays
 * (the walker is not re-entrant, and never needs to be: it performs no guest accesses that
 * could walk again).
 *
 * Under EPT (VMX non-root, cpu.gpaTranslate set by the VM-entry engine) the addresses in
 * CR3 and in the entries are guest-physical: every entry read goes through
 * gpaTranslate(gpa, 0, true), every accessed/dirty update through gpaTranslate(gpa, 1, true)
 * (setting A/D is a write to the guest paging structure, SDM Vol. 3C §29.3.3.2), and the
 * final address through gpaTranslate(gpa, access, false), whose permission mask
 * (cpu.gpaPerm) limits the TLB entry (STYLE habit 5, SDM Vol. 3C §29.3.1).
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
/** #PF error code bits (SDM Vol. 3A §4.7, Figure 4-12). */
export const PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_I = 16;
const TWO32 = 4294967296;
/** Reserved bits of a PAE PDPTE's low dword: 2:1 and 8:5 (SDM Table 4-8). */
const PDPTE_RSVD_LO = 0x1e6;

/** Physical addresses and low dwords of the entries the current walk used (leaf last). */
const entAddr = new Float64Array(4);
const entLo = new Int32Array(4);
/** High dword of the last 64-bit entry read. */
let entHi = 0;

/** Reads the 64-bit entry at guest-physical `pa`: lo returned, hi in entHi. */
function read64(cpu: Cpu, pa: number): number {
  const g = cpu.gpaTranslate;
  const hpa = g === null ? pa : g(pa, 0, true);
  const lo = cpu.mem.read32(hpa);
  entHi = cpu.mem.read32(hpa + 4);
  return lo;
}

/** Reads the 32-bit entry at guest-physical `pa` (32-bit paging). */
function read32(cpu: Cpu, pa: number): number {
  const g = cpu.gpaTranslate;
  return cpu.mem.read32(g === null ? pa : g(pa, 0, true));
}

/** Writes back an entry's low dword (accessed/dirty update) at guest-physical `pa`. */
function writeEntry(cpu: Cpu, pa: number, lo: number): void {
  const g = cpu.gpaTranslate;
  cpu.mem.write32(g === null ? pa : g(pa, 1, true), lo);
}

/**
 * Walks the paging structures for `lin`. access: 0 read, 1 write, 2 execute.
 * `user`: the access is a user-mode access (CPL 3 data/code); implicit supervisor accesses
 * (descriptor tables, TSS, IDT) pass false even at CPL 3.
 */
export function walk(cpu: Cpu, lin: number, access: number, user: boolean, out: WalkResult): void {
  out.fault = 0;
  walkLin = lin;
  const nxe = (cpu.efer & EFER_NXE) !== 0;
  if ((cpu.efer & EFER_LMA) !== 0) walkLong(cpu, lin, access, user, nxe, out);
  else if ((cpu.cr4 & CR4_PAE) !== 0) walkPae(cpu, lin, access, user, nxe, out);
  else walk32(cpu, lin, access, user, out);
}

/** Mask of the valid physical-address bits 51:32 of an entry's high dword, from MAXPHYADDR. */
function hiAddrMask(cpu: Cpu): number {
  return (1 << (cpu.profile.physAddrBits - 32)) - 1;
}

/**
 * Loads the four PAE PDPTEs from `cr3` into cpu.pdpte (SDM §4.4.1). Returns false, loading
 * nothing, when a present PDPTE has a reserved bit set: MOV to CR0/CR3/CR4 then raises #GP.
 */
export function loadPdptes(cpu: Cpu, cr3: number): boolean {
  if (cpu.gpaTranslate === null) return loadPdptesFrom(cpu, cr3);
  pdpteLoad = true;
  try { return loadPdptesFrom(cpu, cr3); } finally { pdpteLoad = false; }
}

/**
 * True while loadPdptes reads through cpu.gpaTranslate: such an access has no guest-linear
 * address, so an EPT violation reports qualification bits 7 and 8 clear and A/D-enabled EPT
 * treats it as a read (SDM Vol. 3C Table 27-7). The gpaTranslate callback asks this.
 */
export function inPdpteLoad(): boolean { return pdpteLoad; }
let pdpteLoad = false;

/**
 * The linear address of the walk in progress: for the gpaTranslate callback, which reports
 * it as the guest-linear address of an EPT violation (SDM Vol. 3C §27.2.1). With paging
 * off there is no walk; the linear address is then the guest-physical one.
 */
export function walkLinear(): number { return walkLin; }
let walkLin = 0;

function loadPdptesFrom(cpu: Cpu, cr3: number): boolean {
  const base = (cr3 & 0xffffffe0) >>> 0;
  const rsvdHi = ~hiAddrMask(cpu); // bits 63:MAXPHYADDR, XD included
  for (let i = 0; i < 4; i++) {
    const lo = read64(cpu, base + i * 8);
    if ((lo & 1) !== 0 && ((lo & PDPTE_RSVD_LO) !== 0 || (entHi & rsvdHi) !== 0)) return false;
  }
  for (let i = 0; i < 4; i++) {
    cpu.pdpte[2 * i] = read64(cpu, base + i * 8);
    cpu.pdpte[2 * i + 1] = entHi;
  }
  return true;
}

function walkLong(cpu: Cpu, lin: number, access: number, user: boolean, nxe: boolean, out: WalkResult): void {
  const hiMask = hiAddrMask(cpu);
  // reserved: bits 51:MAXPHYADDR (bits 62:52 are ignored in 4-level paging), XD when !NXE
  const rsvdHi = (0x000fffff & ~hiMask) | (nxe ? 0 : 0x80000000);
  // Integer operations only: `%` on doubles is a call to fmod in V8 and `2 ** k` one to
  // pow, and with them this walk took 60% of kvm-unit-tests sieve.flat's CPU time
  // (docs/cpu-design.md "Page walks"). CR3 bits 51:12 below MAXPHYADDR are the PML4 base.
  const cr3 = cpu.cr3;
  let table = (Math.floor(cr3 / TWO32) & hiMask) * TWO32 + (((cr3 | 0) & ~0xfff) >>> 0);
  // lin's halves: |lin| < 2^47 and ToInt32 is exact modulo 2^32, the quotient exact too;
  // the table indexes are bits 47:39, 38:30, 29:21, 20:12 (SDM Vol. 3A Figure 4-8)
  const linLo = lin | 0, linHi = Math.floor(lin / TWO32) | 0;
  let uAll = true, wAll = true, xd = false;
  let pageSize = 4096;
  let physBase = 0;
  let n = 0;
  for (let level = 4; level >= 1; level--) {
    const idx = level === 4 ? (linHi >>> 7) & 511 : level === 3 ? ((linLo >>> 30) | (linHi << 2)) & 511 :
      level === 2 ? (linLo >>> 21) & 511 : (linLo >>> 12) & 511;
    const pa = table + idx * 8;
    const lo = read64(cpu, pa);
    const hi = entHi;
    entAddr[n] = pa; entLo[n] = lo; n++;
    if ((lo & 1) === 0) return pf(cpu, access, user, 0, out);
    if ((hi & rsvdHi) !== 0) return pf(cpu, access, user, PF_RSVD | PF_P, out);
    if ((lo & 4) === 0) uAll = false;
    if ((lo & 2) === 0) wAll = false;
    if (hi < 0 && nxe) xd = true;
    const ps = (lo & 0x80) !== 0;
    if (level === 4 && ps) return pf(cpu, access, user, PF_RSVD | PF_P, out);
    if (ps && level > 1) {
      if (level === 3 && (cpu.profile.ext1Edx & (1 << 26)) === 0) return pf(cpu, access, user, PF_RSVD | PF_P, out);
      // bit 12 is PAT; bits 13..(shift-1) are reserved in a large-page entry (Tables 4-15, 4-17)
      const rsvLo = level === 3 ? 0x3fffe000 : 0x001fe000;
      if ((lo & rsvLo) !== 0) return pf(cpu, access, user, PF_RSVD | PF_P, out);
      pageSize = level === 3 ? 0x40000000 : 0x200000;
      const baseLo = (lo & ~(pageSize - 1) & ~0xfff) >>> 0;
      physBase = (hi & hiMask) * TWO32 + baseLo;
      break;
    }
    const next = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
    if (level === 1) { physBase = next; pageSize = 4096; break; }
    setAccessed(cpu, pa, lo);
    table = next;
  }
  finish(cpu, lin, access, user, uAll, wAll, xd, pageSize, physBase, n, out);
}

function walkPae(cpu: Cpu, lin: number, access: number, user: boolean, nxe: boolean, out: WalkResult): void {
  const hiMask = hiAddrMask(cpu);
  // PAE paging: bits 62:MAXPHYADDR reserved (Tables 4-9..4-11), XD when !NXE
  const rsvdHi = (0x7fffffff & ~hiMask) | (nxe ? 0 : 0x80000000);
  const l = lin >>> 0;
  // the PDPTE comes from the registers loaded with CR3 (§4.4.1), not from memory
  const i3 = l >>> 30;
  const p3 = cpu.pdpte[2 * i3]!, h3 = cpu.pdpte[2 * i3 + 1]!;
  if ((p3 & 1) === 0) return pf(cpu, access, user, 0, out);
  let table = (h3 & hiMask) * TWO32 + ((p3 & 0xfffff000) >>> 0);
  let uAll = true, wAll = true, xd = false, n = 0;
  let physBase = 0, pageSize = 4096;
  for (let level = 2; level >= 1; level--) {
    const idx = level === 2 ? (l >>> 21) & 511 : (l >>> 12) & 511;
    const pa = table + idx * 8;
    const lo = read64(cpu, pa);
    const hi = entHi;
    entAddr[n] = pa; entLo[n] = lo; n++;
    if ((lo & 1) === 0) return pf(cpu, access, user, 0, out);
    if ((hi & rsvdHi) !== 0) return pf(cpu, access, user, PF_RSVD | PF_P, out);
    if ((lo & 4) === 0) uAll = false;
    if ((lo & 2) === 0) wAll = false;
    if (hi < 0 && nxe) xd = true;
    if (level === 2 && (lo & 0x80) !== 0) {
      if ((lo & 0x001fe000) !== 0) return pf(cpu, access, user, PF_RSVD | PF_P, out);
      pageSize = 0x200000;
      physBase = (hi & hiMask) * TWO32 + ((lo & 0xffe00000) >>> 0);
      break;
    }
    const next = (hi & hiMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
    if (level === 1) { physBase = next; break; }
    setAccessed(cpu, pa, lo);
    table = next;
  }
  finish(cpu, lin, access, user, uAll, wAll, xd, pageSize, physBase, n, out);
}

function walk32(cpu: Cpu, lin: number, access: number, user: boolean, out: WalkResult): void {
  const l = lin >>> 0;
  const pdePa = ((cpu.cr3 & 0xfffff000) >>> 0) + (l >>> 22) * 4;
  const pde = read32(cpu, pdePa);
  entAddr[0] = pdePa; entLo[0] = pde;
  if ((pde & 1) === 0) return pf(cpu, access, user, 0, out);
  let uAll = (pde & 4) !== 0, wAll = (pde & 2) !== 0;
  if ((pde & 0x80) !== 0 && (cpu.cr4 & CR4_PSE) !== 0) {
    // 4 MiB page; PSE-36: bits (M-20):13 hold physical address bits (M-1):32 and bits
    // 21:(M-19) are reserved (SDM Table 4-4), M = min(MAXPHYADDR, 40), 32 without PSE-36
    const m = (cpu.profile.leaf1Edx & (1 << 17)) !== 0 ? Math.min(cpu.profile.physAddrBits, 40) : 32;
    const rsvd = (0x3fe000 >>> (13 + m - 32)) << (13 + m - 32);
    if ((pde & rsvd) !== 0) return pf(cpu, access, user, PF_RSVD | PF_P, out);
    const high = (pde >>> 13) & ((2 ** (m - 32)) - 1);
    const physBase = high * TWO32 + ((pde & 0xffc00000) >>> 0);
    finish(cpu, lin, access, user, uAll, wAll, false, 0x400000, physBase, 1, out);
    return;
  }
  setAccessed(cpu, pdePa, pde);
  const ptePa = ((pde & 0xfffff000) >>> 0) + ((l >>> 12) & 1023) * 4;
  const pte = read32(cpu, ptePa);
  entAddr[1] = ptePa; entLo[1] = pte;
  if ((pte & 1) === 0) return pf(cpu, access, user, 0, out);
  uAll = uAll && (pte & 4) !== 0;
  wAll = wAll && (pte & 2) !== 0;
  finish(cpu, lin, access, user, uAll, wAll, false, 4096, (pte & 0xfffff000) >>> 0, 2, out);
}

/**
 * A non-leaf entry is "used" as soon as the walk descends through it, so its accessed flag
 * is set then, even if a lower level faults (SDM Vol. 3A §4.8).
 */
function setAccessed(cpu: Cpu, pa: number, lo: number): void {
  if ((lo & 0x20) === 0) writeEntry(cpu, pa, lo | 0x20);
}

/**
 * Access rights (SDM Vol. 3A §4.6), then the leaf's accessed/dirty update (§4.8), then the TLB
 * permission mask. `n` entries of entAddr/entLo were used, the leaf last.
 */
function finish(
  cpu: Cpu, lin: number, access: number, user: boolean, u: boolean, w: boolean, xd: boolean,
  pageSize: number, physBase: number, n: number, out: WalkResult,
): void {
  const wp = (cpu.cr0 & CR0_WP) !== 0;
  const smep = (cpu.cr4 & CR4_SMEP) !== 0;
  const smap = (cpu.cr4 & CR4_SMAP) !== 0;
  let bad = false;
  if (user) {
    if (!u) bad = true;
    else if (access === 1 && !w) bad = true;
    else if (access === 2 && xd) bad = true;
  } else if (access === 2) {
    if (xd || (u && smep)) bad = true;
  } else {
    // SMAP: EFLAGS.AC lifts it for explicit accesses at CPL < 3; implicit supervisor
    // accesses made at CPL 3 are always checked (§4.6.1)
    if (u && smap && (cpu.cpl === 3 || (cpu.flags & AC) === 0)) bad = true;
    if (access === 1 && !w && wp) bad = true;
  }
  if (bad) return pf(cpu, access, user, PF_P, out);
  // the leaf's accessed flag, and dirty for writes, only once the access is allowed
  const leaf = n - 1;
  const v = entLo[leaf]!;
  const nv = v | (access === 1 ? 0x60 : 0x20);
  if (nv !== v) { writeEntry(cpu, entAddr[leaf]!, nv); entLo[leaf] = nv; }
  const dirty = (nv & 0x40) !== 0;
  // A page that is not dirty yet is cached read-only so the first write walks and sets D.
  // Supervisor access to user pages under SMAP is never cached (AC is checked per walk).
  let perm = 0;
  if (u) { perm |= T_UR; if (w && dirty) perm |= T_UW; if (!xd) perm |= T_UX; }
  if (!u || !smap) { perm |= T_SR; if ((w || !wp) && dirty) perm |= T_SW; }
  if (!xd && !(u && smep)) perm |= T_SX;
  const off = lin - Math.floor(lin / pageSize) * pageSize; // exact for negative (kernel-half) lin too
  const g = cpu.gpaTranslate;
  if (g === null) out.phys = physBase + off;
  else {
    out.phys = g(physBase + off, access, false);
    perm &= cpu.gpaPerm;
  }
  out.perm = perm;
  out.pageSize = pageSize;
}

/** Records a #PF with the error code of §4.7 for this access. */
function pf(cpu: Cpu, access: number, user: boolean, bits: number, out: WalkResult): void {
  let e = bits;
  if (access === 1) e |= PF_W;
  if (user) e |= PF_U;
  // I/D is reported for fetches when SMEP is on, or NX is usable (PAE/4-level with NXE)
  if (access === 2 && ((cpu.cr4 & CR4_SMEP) !== 0 || ((cpu.cr4 & CR4_PAE) !== 0 && (cpu.efer & EFER_NXE) !== 0))) e |= PF_I;
  out.fault = 1;
  out.errorCode = e;
}

export { T_SR, T_SW, T_UR, T_UW, T_SX, T_UX, CR4_PAE };
