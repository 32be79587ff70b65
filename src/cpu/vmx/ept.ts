/**
 * The EPT walk (SDM Vol. 3C §29.3): guest-physical → host-physical through the L1
 * hypervisor's extended page tables, with the outcomes VM exits report.
 *
 * EPTP (SDM Vol. 3C §24.6.11, Table 24-8):
 *   2:0   memory type of the EPT paging structures (0 UC, 6 WB)
 *   5:3   page-walk length - 1 (3: 4 levels)
 *   6     enable accessed/dirty flags (§29.3.5)
 *   11:7  reserved
 *   N-1:12 PML4 table address (N = MAXPHYADDR), 63:N reserved
 *
 * An EPT paging-structure entry (Tables 29-1..29-6), low dword:
 *   0 R   1 W   2 X (supervisor X with mode-based execute control, which is off here)
 *   5:3   memory type (leaf only; 2, 3, 7 are misconfigurations)
 *   6     ignore PAT (leaf only; stored, not used)
 *   7     page size (PDPTE: 1G, PDE: 2M; reserved in a PML4E, ignored in a PTE)
 *   8     accessed (when EPTP[6])   9 dirty (leaf, when EPTP[6])   10 user X (MBEC, ignored)
 *   11    ignored                   M-1:12 address
 * high dword: bits 51:M reserved, 62:52 ignored, 63 suppress #VE (ignored: no #VE).
 *
 * Outcomes (§29.3.3): a not-present entry (bits 2:0 = 0) is an EPT violation right there;
 * a present entry with an unsupported value is an EPT misconfiguration; after a complete
 * walk the access is checked against the AND of bits 2:0 over every entry used. With
 * EPTP[6] set, guest paging-structure accesses made for a linear address are writes for
 * violations and A/D (§29.3.3.2, §29.3.5), and their qualification reports both read and
 * write (Table 27-7, bit 1 note).
 * Accessed/dirty flags are set only once the translation succeeds: A in every entry used,
 * D in the leaf for writes.
 *
 * Pure and allocation-free: memory is the host-physical memory of the L1 VM (what the
 * EPT pointers address); results go into a caller-owned EptResult; the entries of the
 * current walk are kept in module-level typed arrays (the walk is not re-entrant).
 */
import type { PhysicalMemory } from '../../memory/physical.js';
import { T_SR, T_SW, T_UR, T_UW, T_SX, T_UX } from '../cpu.js';

const TWO32 = 4294967296;

/** IA32_VMX_EPT_VPID_CAP low-dword bits the walk depends on (SDM Vol. 3C Appendix A.10). */
export const EPTCAP_EXEC_ONLY = 1 << 0, EPTCAP_2M = 1 << 16, EPTCAP_1G = 1 << 17;

/** EptResult.fault values. */
export const EPT_OK = 0, EPT_VIOLATION = 1, EPT_MISCONFIG = 2;

/** EPT-violation exit-qualification bits (SDM Vol. 3C §27.2.1, Table 27-7). */
export const EPTQ_READ = 1 << 0, EPTQ_WRITE = 1 << 1, EPTQ_FETCH = 1 << 2;
export const EPTQ_READABLE = 1 << 3, EPTQ_WRITABLE = 1 << 4, EPTQ_EXECUTABLE = 1 << 5;
export const EPTQ_LINEAR_VALID = 1 << 7, EPTQ_TRANSLATION = 1 << 8;
/** Bit 12, NMI unblocking due to IRET: set by the exit engine, never by the walk. */
export const EPTQ_NMI_UNBLOCKING = 1 << 12;

/** A decoded EPTP plus the capabilities that decide what an entry may hold. */
export interface Ept {
  /** Host-physical address of the EPT PML4 table. */
  root: number;
  /** EPTP[6]: accessed and dirty flags enabled. */
  ad: boolean;
  /** EPTP[2:0]: memory type used for the EPT paging structures. */
  memType: number;
  /** Execute-only translations supported (IA32_VMX_EPT_VPID_CAP bit 0). */
  execOnly: boolean;
  /** 2-MByte / 1-GByte pages supported (cap bits 16, 17); otherwise bit 7 is reserved. */
  pages2M: boolean;
  pages1G: boolean;
  /** Bits 51:M of an entry's high dword that are reserved (M = MAXPHYADDR). */
  rsvdHi: number;
  /** Mask of the valid address bits in an entry's high dword. */
  hiAddrMask: number;
}

export interface EptResult {
  /** Host-physical address (valid when fault = EPT_OK). */
  hpa: number;
  /** EPT_OK, EPT_VIOLATION or EPT_MISCONFIG. */
  fault: number;
  /** Exit qualification of an EPT violation (Table 27-7, bits 0-8); 0 otherwise. */
  qualification: number;
  /** AND of bits 2:0 (R/W/X) of the entries used (the whole walk on success). */
  perm: number;
  /** Leaf memory type (bits 5:3) and ignore-PAT bit (6). */
  memType: number;
  ipat: boolean;
  /** Size of the page the leaf maps: 4096, 2 MiB or 1 GiB. */
  pageSize: number;
  /** Writes may skip the walk: A/D disabled, or the leaf's dirty flag is set. */
  dirty: boolean;
  /** Level (4..1) of the entry that faulted, 0 when none. */
  level: number;
}

export function newEptResult(): EptResult {
  return { hpa: 0, fault: EPT_OK, qualification: 0, perm: 0, memType: 0, ipat: false, pageSize: 4096, dirty: false, level: 0 };
}

/**
 * Whether an EPTP value is valid for VM entry on a CPU with these capabilities (SDM Vol. 3C
 * §26.2.1.1): memory type UC or WB as advertised (cap bits 8 and 14), walk length 4 (bit 6),
 * A/D only when advertised (bit 21), bits 11:7 and 63:MAXPHYADDR zero.
 */
export function eptpValid(lo: number, hi: number, eptCap: number, physAddrBits: number): boolean {
  const type = lo & 7;
  if (!((type === 0 && (eptCap & (1 << 8)) !== 0) || (type === 6 && (eptCap & (1 << 14)) !== 0))) return false;
  if (((lo >>> 3) & 7) !== 3 || (eptCap & (1 << 6)) === 0) return false;
  if ((lo & 0x40) !== 0 && (eptCap & (1 << 21)) === 0) return false;
  if ((lo & 0xf80) !== 0) return false;
  return (hi >>> 0) < 2 ** (physAddrBits - 32);
}

/**
 * Decodes an EPTP (assumed valid: VM entry checked it) into `out` (allocated when absent:
 * decode once per VM entry or EPTP change, not per access).
 */
export function decodeEptp(lo: number, hi: number, eptCap: number, physAddrBits: number, out?: Ept): Ept {
  const hiAddrMask = (2 ** (physAddrBits - 32)) - 1;
  const d: Ept = out ?? { root: 0, ad: false, memType: 0, execOnly: false, pages2M: false, pages1G: false, rsvdHi: 0, hiAddrMask: 0 };
  d.root = (hi & hiAddrMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
  d.ad = (lo & 0x40) !== 0;
  d.memType = lo & 7;
  d.execOnly = (eptCap & EPTCAP_EXEC_ONLY) !== 0;
  d.pages2M = (eptCap & EPTCAP_2M) !== 0;
  d.pages1G = (eptCap & EPTCAP_1G) !== 0;
  d.hiAddrMask = hiAddrMask;
  d.rsvdHi = 0x000fffff & ~hiAddrMask;
  return d;
}

/** Entries of the current walk: host-physical address and low dword (leaf last). */
const entAddr = new Float64Array(4);
const entLo = new Int32Array(4);

/** Leaf memory types that are misconfigurations (§29.3.3.1): 2, 3 and 7 are reserved. */
const BAD_MEMTYPE = 0b10001100;

/**
 * Translates `gpa` for an access (0 read, 1 write, 2 instruction fetch). `isPagingStructure`:
 * the access reads or updates a guest paging-structure entry (qualification bit 8 = 0; a
 * write for A/D-enabled EPT). `linearValid`: the access has a guest-linear address
 * (qualification bit 7; false e.g. for PDPTE loads by MOV CR3 or VM entry).
 */
export function eptTranslate(
  mem: PhysicalMemory, ept: Ept, gpa: number, access: number, isPagingStructure: boolean, out: EptResult,
  linearValid = true,
): void {
  // PDPTE loads (no linear address) are plain reads even with A/D on, as in Bochs' walk
  const treatAsWrite = isPagingStructure && ept.ad && linearValid;
  const write = access === 1 || treatAsWrite;
  out.fault = EPT_OK;
  out.level = 0;
  out.qualification = 0;
  let table = ept.root;
  let perm = 7;
  let n = 0;
  let pageSize = 4096;
  let base = 0;
  // integer operations only (`%` on doubles calls fmod in V8, `2 ** k` calls pow; see the
  // page walk in mmu.ts): gpa's halves, the indexes bits 47:39, 38:30, 29:21, 20:12
  const gLo = gpa | 0, gHi = Math.floor(gpa / TWO32) | 0;
  for (let level = 4; level >= 1; level--) {
    const idx = level === 4 ? (gHi >>> 7) & 511 : level === 3 ? ((gLo >>> 30) | (gHi << 2)) & 511 :
      level === 2 ? (gLo >>> 21) & 511 : (gLo >>> 12) & 511;
    const pa = table + idx * 8;
    const lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    entAddr[n] = pa; entLo[n] = lo; n++;
    const rwx = lo & 7;
    perm &= rwx;
    if (rwx === 0) return violation(access, isPagingStructure, treatAsWrite, linearValid, perm, level, out);
    // §29.3.3.1: write without read, execute-only without support, reserved bits
    if ((rwx & 3) === 2 || (rwx === 4 && !ept.execOnly) || (hi & ept.rsvdHi) !== 0) return misconfig(level, out);
    const ps = (lo & 0x80) !== 0;
    if (level === 4) {
      if ((lo & 0xf8) !== 0) return misconfig(level, out); // bits 7:3 reserved in a PML4E
    } else if (level === 1 || ps) {
      if (level === 3 && (!ept.pages1G || (lo & 0x3ffff000) !== 0)) return misconfig(level, out); // bits 29:12
      if (level === 2 && (!ept.pages2M || (lo & 0x001ff000) !== 0)) return misconfig(level, out); // bits 20:12
      if (((BAD_MEMTYPE >> ((lo >>> 3) & 7)) & 1) !== 0) return misconfig(level, out);
      pageSize = level === 3 ? 0x40000000 : level === 2 ? 0x200000 : 4096;
      base = (hi & ept.hiAddrMask) * TWO32 + ((lo & 0xfffff000 & ~(pageSize - 1)) >>> 0);
      break;
    } else if ((lo & 0x78) !== 0) return misconfig(level, out); // bits 6:3 reserved in a non-leaf entry
    table = (hi & ept.hiAddrMask) * TWO32 + ((lo & 0xfffff000) >>> 0);
  }
  const need = write ? 2 : access === 2 ? 4 : 1;
  if ((perm & need) === 0 || (treatAsWrite && (perm & 1) === 0)) {
    return violation(access, isPagingStructure, treatAsWrite, linearValid, perm, 0, out);
  }
  const leafLo = entLo[n - 1]!;
  if (ept.ad) {
    // §29.3.5: A in every entry used, D in the leaf for a write
    for (let i = 0; i < n - 1; i++) {
      const v = entLo[i]!;
      if ((v & 0x100) === 0) mem.write32(entAddr[i]!, v | 0x100);
    }
    const nv = leafLo | (write ? 0x300 : 0x100);
    if (nv !== leafLo) mem.write32(entAddr[n - 1]!, nv);
    out.dirty = (nv & 0x200) !== 0;
  } else out.dirty = true;
  out.perm = perm;
  out.memType = (leafLo >>> 3) & 7;
  out.ipat = (leafLo & 0x40) !== 0;
  out.pageSize = pageSize;
  out.hpa = base + (gLo & (pageSize - 1)); // the offset lies in the low dword (pages up to 1 GiB)
}

function misconfig(level: number, out: EptResult): void {
  out.fault = EPT_MISCONFIG;
  out.level = level;
  out.perm = 0;
}

/**
 * Table 27-7: bits 2:0 the access (a paging-structure access under A/D-enabled EPT, and an
 * A/D update of a paging-structure entry, set read and write), bits 5:3 the AND of R/W/X over the entries used (bit 5 is "executable"
 * with mode-based execute control off), bit 7 guest-linear valid, bit 8 (only with bit 7)
 * set for the translation of a linear address, clear for a paging-structure access.
 */
function violation(
  access: number, isPagingStructure: boolean, treatAsWrite: boolean, linearValid: boolean, perm: number, level: number,
  out: EptResult,
): void {
  // an accessed/dirty update of a guest paging-structure entry (A/D-disabled EPT) is a
  // locked read-modify-write: reported as a read and a write, like the writes A/D-enabled
  // EPT makes of every paging-structure access (kvm-unit-tests ept_access_test_paddr_*_ad_disabled)
  const rmw = treatAsWrite || (isPagingStructure && access === 1);
  let q = rmw ? EPTQ_READ | EPTQ_WRITE : access === 1 ? EPTQ_WRITE : access === 2 ? EPTQ_FETCH : EPTQ_READ;
  q |= perm << 3;
  if (linearValid) {
    q |= EPTQ_LINEAR_VALID;
    if (!isPagingStructure) q |= EPTQ_TRANSLATION;
  }
  out.fault = EPT_VIOLATION;
  out.qualification = q;
  out.perm = perm;
  out.level = level;
}

/**
 * The CPU TLB permission mask (cpu.ts T_* bits) a successful translation allows: R for data
 * reads, W only once the leaf is dirty (so the first write walks again and sets D), X for
 * fetches. EPT does not distinguish user from supervisor here (no mode-based execute).
 * The walker ANDs it into the guest paging permissions, so a TLB hit never skips an EPT check.
 */
export function eptPermMask(r: EptResult): number {
  let m = 0;
  if ((r.perm & 1) !== 0) m |= T_SR | T_UR;
  if ((r.perm & 2) !== 0 && r.dirty) m |= T_SW | T_UW;
  if ((r.perm & 4) !== 0) m |= T_SX | T_UX;
  return m;
}
