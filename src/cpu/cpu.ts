/**
 * The x86-64 CPU: architectural state, the fetch/decode front end, the memory access path
 * through the software TLB, lazy flags and the run loop. Instruction semantics live in
 * src/cpu/ops/ (one file per family) and reach the state only through this class.
 *
 * Representation (see docs/cpu-design.md for the reasons and the measurements):
 * - A 64-bit register is two int32 halves in one Int32Array: r[2n] = low, r[2n+1] = high.
 *   No BigInt anywhere; 32-bit operations, the common case, touch one element.
 * - RIP and canonical linear addresses are JS numbers (exact below 2^53): a canonical
 *   address is a signed 48-bit value, so the double is exact and a TLB key is one number.
 * - Flags are lazy: arithmetic records its operands and result; flags are computed when read.
 * - Faults throw one preallocated sentinel (fault.ts); the run loop rolls back and delivers.
 */
import type { PhysicalMemory } from '../memory/physical.js';
import type { PortBus } from '../memory/bus.js';
import { FAULT, STOP, isContributory, hasErrorCode, vectorName } from './fault.js';
import { cpuidLeaf, cpuidSignature, isAmd, type CpuProfile } from './profile.js';
import {
  CF, PF, AF, ZF, SF, OF, TF, IF, DF, RF, VM, AC, ARITH_FLAGS, ES, CS, SS, DS, FS, GS, LDTR, TR,
  CR0_PE, CR0_PG, CR0_WP, CR0_ET, CR0_CD, CR0_NW, CR4_PAE, CR4_SMEP, CR4_SMAP, EFER_LMA, AR_P, AR_S, AR_DB, AR_L, AR_G,
  AR_DPL_SHIFT, AR_UNUSABLE, GP, SS_, PF_, UD, DF_, NMI, AC_, CR0_AM,
} from './regs.js';
import { walk, type WalkResult } from './mmu.js';
import { debugRegsChanged, checkCodeBreakpoints, checkDataBreakpoints, afterDebug } from './debug.js';
import { buildTable } from './ops/table.js';
import { decodeCacheFor, type DecodeCache, DC_BITS, DC_MASK, DC_LEN_SHIFT, DC_HAS_MODRM, DC_NO_REG } from './decode-cache.js';
import { defaultHooks } from './interrupts.js';
import { tryBlock, JIT_DEFAULT } from './jit/jit.js';
import { FpuState } from './fpu/state.js';
import { createVmxState, resetVmxState } from './vmx/vmx-state.js';
import { exceptionExits, softwareException, tripleFaultExits, checkEvents, wakeGuest, softwareEventStart, softwareEventEnd } from './vmx/events.js';
import type { CpuClock, LapicPort } from './platform.js';

export type Handler = (cpu: Cpu) => void;

/** Why run() returned. */
export const STOP_BUDGET = 0, STOP_HALT = 1, STOP_REQUESTED = 2, STOP_TRIPLE_FAULT = 3, STOP_SHUTDOWN = 4;
/** run() returned because the vCPU scheduler asked this vCPU to give up its turn (requestYield). */
export const STOP_YIELD = 5;

/** Lazy-flags operation kinds. */
export const LF_NONE = 0, LF_ADD = 1, LF_ADC = 2, LF_SUB = 3, LF_SBB = 4, LF_LOGIC = 5, LF_INC = 6, LF_DEC = 7;

/** REP prefix state. */
export const REP_NONE = 0, REP_E = 1 /* F3 */, REP_NE = 2 /* F2 */;

/** TLB entry permission bits. */
export const T_SR = 1, T_SW = 2, T_UR = 4, T_UW = 8, T_SX = 16, T_UX = 32;

const TLB_BITS = 11;
const TLB_SIZE = 1 << TLB_BITS;
const TLB_MASK = TLB_SIZE - 1;
const TWO32 = 4294967296;

/** Parity of a byte: 1 when the number of set bits is even (PF semantics). */
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = (n & 1) === 0 ? 1 : 0;
}

/** Legacy prefixes and REX (64-bit mode): a REX followed by one of these is ignored. */
const IS_PREFIX = new Uint8Array(256);
for (const b of [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) IS_PREFIX[b] = 1;
for (let b = 0x40; b < 0x50; b++) IS_PREFIX[b] = 1;

/** The hooks the VMX layer and the machine install (kept as plain fields: no closures per instruction). */
export interface CpuHooks {
  /** Delivers an event (exception/interrupt) through the IDT/IVT. Installed by interrupts.ts. */
  deliver(cpu: Cpu, vector: number, errorCode: number, hasError: boolean, software: boolean, nextRip: number): void;
  /** External interrupt controller: returns a vector to deliver or -1. Called when IF=1 and pending. */
  acknowledgeInterrupt(cpu: Cpu): number;
}

export class Cpu {
  readonly mem: PhysicalMemory;
  readonly ram: Uint8Array;
  readonly view: DataView;
  readonly io: PortBus;
  readonly profile: CpuProfile;

  // ---- general registers -------------------------------------------------------------
  /** GPR halves: r[2n] low dword, r[2n+1] high dword (int32). */
  readonly r = new Int32Array(32);
  /** Offset in CS of the next byte to fetch; after decode, of the next instruction. */
  rip = 0;
  /** RIP of the instruction being executed (faults roll back to it). */
  startRip = 0;
  /** High half returned by 64-bit reads (rd64, getReg64Hi etc.) to avoid allocation. */
  hi = 0;

  // ---- flags -------------------------------------------------------------------------
  /** EFLAGS without the six arithmetic flags while lfOp !== LF_NONE. Bit 1 always set. */
  flags = 2;
  lfOp = LF_NONE;
  lfSize = 4;
  lfRes = 0; lfResHi = 0;
  lfA = 0; lfAHi = 0;
  lfB = 0; lfBHi = 0;
  /** Carry in (ADC/SBB) or the preserved CF (INC/DEC). */
  lfCin = 0;

  // ---- segments (VMCS access-rights layout for segAr) ----------------------------------
  readonly segSel = new Int32Array(8);
  readonly segBase = new Float64Array(8);
  /** Effective (byte-granular) limit. */
  readonly segLimit = new Float64Array(8);
  readonly segAr = new Int32Array(8);
  gdtBase = 0; gdtLimit = 0xffff; idtBase = 0; idtLimit = 0x3ff;

  // ---- control state ------------------------------------------------------------------
  cr0 = CR0_ET | CR0_CD | CR0_NW;
  cr2 = 0;
  /** CR2 before the last #PF wrote it (SDM Vol. 3C §27.1: a #PF that causes a VM exit does not update CR2). */
  cr2Before = 0;
  cr3 = 0;
  cr4 = 0;
  cr8 = 0;
  efer = 0;
  xcr0 = 1;
  readonly dr = new Float64Array(8);
  /** PAE PDPTEs loaded on CR3 write in PAE mode (SDM Vol. 3A §4.4.1): lo/hi pairs. */
  readonly pdpte = new Int32Array(8);
  cpl = 0;
  /** MSR storage for the plain read/write MSRs; special ones are handled in msr.ts. */
  readonly msrs = new Map<number, number>();
  /** TSC offset, exact modulo 2^64 (tsc.ts): a multiple of 2^32 here, the low dword in tscOffsetLo. */
  tscOffset = 0;
  tscOffsetLo = 0;
  apicId = 0;
  exposeVmx = false;
  /**
   * Guest-physical → host-physical translation while EPT is active (VMX non-root; installed
   * by the VM-entry engine, null otherwise). Every paging-structure access of the walk and
   * every final physical address go through it (STYLE habit 5); it returns the host-physical
   * address or throws the VM exit. It sets gpaPerm to the TLB permission mask (vmx/ept.ts
   * eptPermMask) of the translation it made, which the TLB entry is limited to.
   */
  gpaTranslate: ((gpa: number, access: number, isPagingStructure: boolean) => number) | null = null;
  gpaPerm = 63;
  /** VMX operation state (src/cpu/vmx): root/non-root, VMXON and current-VMCS pointers, the cached VMCS. */
  readonly vmx = createVmxState();
  /** The VM's virtual clock (platform.ts); null in stand-alone CPU tests. */
  clock: CpuClock | null = null;
  /** This CPU's local APIC (platform.ts); null when the board has none. */
  lapic: LapicPort | null = null;

  // ---- derived mode (recomputed by updateMode) ------------------------------------------
  code64 = false;
  /** Default operand/address size in bytes for the current CS (2 or 4; 64-bit code: 4/8). */
  defOsz = 2;
  defAsz = 2;
  /** Stack address size in bytes (2, 4 or 8). */
  stackSize = 2;
  /** Masks of TLB permission bits for data reads/writes/fetches at the current CPL. */
  rdMask = T_SR; wrMask = T_SW; exMask = T_SX;
  /** CR0.AM set at CPL 3: alignment checks apply while EFLAGS.AC is also set (SDM Vol. 3A §6.15, int 17). */
  acUser = false;

  // ---- decode state of the current instruction -----------------------------------------
  osz = 4;
  asz = 4;
  rex = 0;
  rexW = false;
  rexR = 0; rexX = 0; rexB = 0;
  segOvr = -1;
  /** Set when the last decode saw a prefix, so the next one must reset the prefix state. */
  pfxDirty = true;
  rep = REP_NONE;
  lock = false;
  /** Mandatory-prefix bookkeeping for SSE tables: last of 66/F2/F3 seen. */
  pfx66 = false;
  opcode = 0;
  /** Packed prefix state the fields above hold (packPrefixes), -1 when unknown. */
  curPfx = -1;
  /** Translate hot code into JS blocks (jit/); NESTVISOR_JIT=1/0 sets the default. */
  jit = JIT_DEFAULT;
  /** The decoded-instruction cache (decode-cache.ts), shared by the CPUs of one memory. */
  readonly dc: DecodeCache;
  /** 0 = 16-bit, 1 = 32-bit, 2 = 64-bit code: part of a decode-cache tag. */
  modeId = 0;
  /** The current instruction came from the decode cache and its ModRM is still to be replayed. */
  dcReplay = false;
  /** Decode-cache slot of the current instruction (valid while dcReplay). */
  dcSlot = 0;
  modrmByte = 0;
  mod = 0;
  reg = 0;
  rm = 0;
  /** Effective address of a memory operand (offset within eaSeg): lo/hi halves. */
  eaLo = 0;
  eaHi = 0;
  eaSeg = DS;

  // ---- TLB ---------------------------------------------------------------------------
  readonly tlbTag = new Float64Array(TLB_SIZE).fill(NaN);
  /** Physical address of the page (RAM index; only RAM pages are cached). */
  readonly tlbPhys = new Float64Array(TLB_SIZE);
  readonly tlbPerm = new Uint8Array(TLB_SIZE);
  /** Instruction-fetch window: linear page base and its RAM index (NaN when invalid). */
  fetchPage = NaN;
  fetchHost = 0;
  tlbFlushes = 0;
  tlbHasLarge = false;
  readonly walkOut: WalkResult = { phys: 0, perm: 0, pageSize: 0, fault: 0, errorCode: 0 };

  // ---- run state ---------------------------------------------------------------------
  instructionCount = 0;
  halted = false;
  stopRequested = false;
  stopReason = STOP_BUDGET;
  tripleFaultReport = '';
  /** Interrupt shadow after MOV SS/POP SS/STI (SDM Vol. 3A §6.8.3). */
  inhibitIrq = false;
  /** The shadow came from MOV SS/POP SS, not STI (VMX interruptibility state bit 1 vs 0, error 26). */
  shadowMovSs = false;
  // ---- debug exceptions (SDM Vol. 3B §17.3): see debugRegsChanged / afterDebug ----------
  /** DR0-3 enabled as instruction breakpoints (bit i = DRi): checked before each instruction. */
  codeBreakpoints = 0;
  /** AMD takes an instruction breakpoint inside a MOV SS shadow; Intel does not (see runInner). */
  private readonly amdDebug: boolean;
  /** Page numbers of DR0-3 enabled as data breakpoints (NaN = none); those pages bypass the TLB. */
  readonly dataBpPage = new Float64Array(4).fill(NaN);
  /** DR0-3 as signed canonical linear addresses (how this CPU holds linear addresses). */
  readonly bpLin = new Float64Array(4);
  dataBreakpoints = false;
  /** DR6 B0-B3 bits matched by data accesses of the current instruction (a trap after it). */
  dbDataHits = 0;
  /**
   * Debug traps held back by MOV SS/POP SS blocking until after the next instruction (DR6
   * bit layout; VM entry/exit move them from/to the VMCS pending debug exceptions, vmx/).
   */
  dbHeld = 0;
  /** instructionCount when an event was last delivered from inside an instruction. */
  lastEventAt = -1;
  /** Set by devices when an interrupt may be pending; cleared when acknowledged. */
  irqPending = false;
  nmiPending = false;
  nmiBlocked = false;
  /** The vector being delivered (double-fault decisions), -1 when none. */
  delivering = -1;
  excVector = 0;
  excError = 0;
  excHasError = false;
  readonly table: Handler[];
  readonly cpuidOut = new Int32Array(4);
  /** x87/MMX/SSE register state (fpu/state.ts). */
  readonly fpu = new FpuState();
  hooks: CpuHooks;

  constructor(mem: PhysicalMemory, io: PortBus, profile: CpuProfile, table: Handler[] = buildTable(), hooks: CpuHooks = defaultHooks()) {
    this.mem = mem;
    this.ram = mem.ram;
    this.view = mem.view;
    this.io = io;
    this.profile = profile;
    this.amdDebug = isAmd(profile);
    this.table = table;
    this.hooks = hooks;
    this.dc = decodeCacheFor(mem);
    this.reset();
  }

  // =====================================================================================
  // Reset and mode
  // =====================================================================================

  /** Power-on/RESET state (SDM Vol. 3A §9.1.1, Table 9-1). */
  reset(): void {
    this.r.fill(0);
    this.r[2 * 2] = cpuidSignature(this.profile); // EDX: the CPUID.1:EAX signature (SDM Vol. 3A §9.1.4)
    this.flags = 2;
    this.lfOp = LF_NONE;
    this.cr0 = CR0_ET | CR0_CD | CR0_NW;
    this.cr2 = this.cr3 = this.cr4 = this.cr8 = 0;
    this.efer = 0;
    this.xcr0 = 1;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0;
    this.dr[7] = 0x400;
    this.dr.fill(0, 0, 4);
    this.dbDataHits = 0; this.dbHeld = 0;
    this.debugRegsChanged();
    for (let s = 0; s < 6; s++) this.setSegReal(s, 0);
    this.segSel[CS] = 0xf000;
    this.segBase[CS] = 0xffff0000;
    this.setSystemSeg(LDTR, 0, 0, 0xffff, 0x82);
    this.setSystemSeg(TR, 0, 0, 0xffff, 0x8b);
    this.gdtBase = 0; this.gdtLimit = 0xffff; this.idtBase = 0; this.idtLimit = 0xffff;
    this.rip = 0xfff0;
    this.halted = false;
    this.inhibitIrq = false;
    this.nmiBlocked = false;
    this.delivering = -1;
    this.msrs.clear();
    this.fpu.reset();
    resetVmxState(this.vmx);
    this.gpaTranslate = null; this.gpaPerm = 63; // no EPT outside non-root operation
    this.updateMode();
    this.flushTlb();
  }

  /** Real-mode segment load: base = selector * 16, limit 64K, data read/write (type 3). */
  setSegReal(seg: number, sel: number): void {
    this.segSel[seg] = sel & 0xffff;
    this.segBase[seg] = (sel & 0xffff) << 4;
    this.segLimit[seg] = 0xffff;
    this.segAr[seg] = seg === CS ? (0x9b) : 0x93;
  }

  setSystemSeg(seg: number, sel: number, base: number, limit: number, ar: number): void {
    this.segSel[seg] = sel; this.segBase[seg] = base; this.segLimit[seg] = limit; this.segAr[seg] = ar;
  }

  /** Loads a segment's hidden part directly (loaders, VM entry, descriptor loads). */
  setSegCache(seg: number, sel: number, base: number, limit: number, ar: number): void {
    this.segSel[seg] = sel & 0xffff;
    this.segBase[seg] = base;
    this.segLimit[seg] = limit;
    this.segAr[seg] = ar;
    if (seg === CS || seg === SS) this.updateMode();
  }

  /**
   * Multiboot's entry state (Multiboot 1 §3.2): 32-bit protected mode, flat 4 GiB code
   * and data segments, paging and interrupts off.
   */
  setupFlat32(entry: number): void {
    this.cr0 = (this.cr0 | CR0_PE) & ~(CR0_PG | CR0_CD | CR0_NW);
    this.cr0 |= CR0_ET;
    this.efer = 0;
    this.setSegCache(CS, 0x10, 0, 0xffffffff, 0xc09b);
    for (const s of [DS, ES, FS, GS, SS]) this.setSegCache(s, 0x18, 0, 0xffffffff, 0xc093);
    this.flags = 2;
    this.lfOp = LF_NONE;
    this.rip = entry >>> 0;
    this.updateMode();
    this.flushTlb();
  }

  /** Recomputes everything derived from CR0/CR4/EFER/CS/SS/CPL. Call after any of them changes. */
  updateMode(): void {
    this.pfxDirty = true;
    this.curPfx = -1;
    const pe = (this.cr0 & CR0_PE) !== 0;
    const csAr = this.segAr[CS]!;
    if ((this.efer & EFER_LMA) !== 0 && (csAr & AR_L) !== 0) {
      this.code64 = true; this.defOsz = 4; this.defAsz = 8; this.stackSize = 8;
    } else {
      this.code64 = false;
      const big = pe && (this.flags & VM) === 0 && (csAr & AR_DB) !== 0;
      this.defOsz = big ? 4 : 2; this.defAsz = big ? 4 : 2;
      this.stackSize = pe && (this.flags & VM) === 0 && (this.segAr[SS]! & AR_DB) !== 0 ? 4 : 2;
    }
    this.modeId = this.code64 ? 2 : this.defOsz === 4 ? 1 : 0;
    if (!pe) this.cpl = 0;
    else if ((this.flags & VM) !== 0) this.cpl = 3;
    else this.cpl = (this.segAr[CS]! >> AR_DPL_SHIFT) & 3;
    this.updatePermMasks();
  }

  updatePermMasks(): void {
    if (this.cpl === 3) { this.rdMask = T_UR; this.wrMask = T_UW; this.exMask = T_UX; }
    else { this.rdMask = T_SR; this.wrMask = T_SW; this.exMask = T_SX; }
    this.acUser = this.cpl === 3 && (this.cr0 & CR0_AM) !== 0;
    this.fetchPage = NaN; this.fpEnd = 0;
  }

  // =====================================================================================
  // Registers
  // =====================================================================================

  getReg32(n: number): number { return this.r[n << 1]!; }
  /** 32-bit writes zero the upper half (SDM Vol. 1 §3.4.1.1). */
  setReg32(n: number, v: number): void { this.r[n << 1] = v; this.r[(n << 1) + 1] = 0; }
  getReg16(n: number): number { return this.r[n << 1]! & 0xffff; }
  setReg16(n: number, v: number): void { const i = n << 1; this.r[i] = (this.r[i]! & ~0xffff) | (v & 0xffff); }
  /** 8-bit register by encoding: without REX 4..7 are AH CH DH BH (SDM Vol. 2 §3.1.1.1). */
  getReg8(n: number): number {
    if (n < 4 || this.rex !== 0) return this.r[n << 1]! & 0xff;
    return (this.r[(n - 4) << 1]! >> 8) & 0xff;
  }
  setReg8(n: number, v: number): void {
    if (n < 4 || this.rex !== 0) { const i = n << 1; this.r[i] = (this.r[i]! & ~0xff) | (v & 0xff); }
    else { const i = (n - 4) << 1; this.r[i] = (this.r[i]! & ~0xff00) | ((v & 0xff) << 8); }
  }
  /** Returns the low half; the high half is left in this.hi. */
  getReg64(n: number): number { this.hi = this.r[(n << 1) + 1]!; return this.r[n << 1]!; }
  setReg64(n: number, lo: number, hi: number): void { this.r[n << 1] = lo; this.r[(n << 1) + 1] = hi; }
  /** A register as a JS number (exact only below 2^53; for addresses and counters). */
  getRegNum(n: number): number { return this.r[(n << 1) + 1]! * TWO32 + (this.r[n << 1]! >>> 0); }

  /** Reads a register at the given operand size (1,2,4; 8 → low half, high in this.hi). */
  getRegSz(n: number, size: number): number {
    switch (size) {
      case 1: return this.getReg8(n);
      case 2: return this.r[n << 1]! & 0xffff;
      case 4: return this.r[n << 1]!;
      default: this.hi = this.r[(n << 1) + 1]!; return this.r[n << 1]!;
    }
  }
  setRegSz(n: number, size: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.setReg8(n, lo); return;
      case 2: this.setReg16(n, lo); return;
      case 4: this.r[n << 1] = lo; this.r[(n << 1) + 1] = 0; return;
      default: this.r[n << 1] = lo; this.r[(n << 1) + 1] = hi; return;
    }
  }

  // =====================================================================================
  // Flags
  // =====================================================================================

  /** Records a lazy arithmetic result. For size 8 the *Hi values are meaningful. */
  setLazy(op: number, size: number, res: number, a: number, b: number): void {
    this.lfOp = op; this.lfSize = size; this.lfRes = res; this.lfA = a; this.lfB = b;
  }
  setLazy64(op: number, res: number, resHi: number, a: number, aHi: number, b: number, bHi: number): void {
    this.lfOp = op; this.lfSize = 8;
    this.lfRes = res; this.lfResHi = resHi; this.lfA = a; this.lfAHi = aHi; this.lfB = b; this.lfBHi = bHi;
  }

  getCF(): number {
    const a = this.lfA, b = this.lfB, res = this.lfRes;
    switch (this.lfOp) {
      case LF_NONE: return this.flags & CF;
      case LF_LOGIC: return 0;
      case LF_INC: case LF_DEC: return this.lfCin;
      case LF_ADD:
        if (this.lfSize === 8) return ult64(res, this.lfResHi, a, this.lfAHi);
        return (res >>> 0) < (a >>> 0) ? 1 : 0;
      case LF_ADC:
        if (this.lfSize === 8) return ult64(res, this.lfResHi, a, this.lfAHi) | (this.lfCin & (res === a && this.lfResHi === this.lfAHi ? 1 : 0));
        return ((res >>> 0) < (a >>> 0) || (this.lfCin !== 0 && res === a)) ? 1 : 0;
      case LF_SUB:
        if (this.lfSize === 8) return ult64(a, this.lfAHi, b, this.lfBHi);
        return (a >>> 0) < (b >>> 0) ? 1 : 0;
      case LF_SBB:
        if (this.lfSize === 8) return ult64(a, this.lfAHi, b, this.lfBHi) | (this.lfCin & (a === b && this.lfAHi === this.lfBHi ? 1 : 0));
        return ((a >>> 0) < (b >>> 0) || (this.lfCin !== 0 && a === b)) ? 1 : 0;
    }
    return 0;
  }

  getZF(): boolean {
    if (this.lfOp === LF_NONE) return (this.flags & ZF) !== 0;
    if (this.lfSize === 8) return this.lfRes === 0 && this.lfResHi === 0;
    return this.lfRes === 0;
  }

  getSF(): boolean {
    if (this.lfOp === LF_NONE) return (this.flags & SF) !== 0;
    switch (this.lfSize) {
      case 1: return (this.lfRes & 0x80) !== 0;
      case 2: return (this.lfRes & 0x8000) !== 0;
      case 4: return this.lfRes < 0;
      default: return this.lfResHi < 0;
    }
  }

  getOF(): boolean {
    const op = this.lfOp;
    if (op === LF_NONE) return (this.flags & OF) !== 0;
    if (op === LF_LOGIC) return false;
    let a = this.lfA, b = this.lfB, res = this.lfRes;
    if (this.lfSize === 8) { a = this.lfAHi; b = this.lfBHi; res = this.lfResHi; }
    const sign = this.lfSize === 1 ? 0x80 : this.lfSize === 2 ? 0x8000 : 0x80000000;
    if (op === LF_ADD || op === LF_ADC || op === LF_INC) return ((a ^ res) & (b ^ res) & sign) !== 0;
    return ((a ^ b) & (a ^ res) & sign) !== 0;
  }

  getPF(): boolean {
    if (this.lfOp === LF_NONE) return (this.flags & PF) !== 0;
    return PARITY[this.lfRes & 0xff] === 1;
  }

  getAF(): boolean {
    if (this.lfOp === LF_NONE) return (this.flags & AF) !== 0;
    if (this.lfOp === LF_LOGIC) return false;
    return ((this.lfA ^ this.lfB ^ this.lfRes) & 0x10) !== 0;
  }

  /** Folds lazy flags into this.flags (before partial updates like CLC, BT, shifts). */
  materializeFlags(): void {
    if (this.lfOp === LF_NONE) return;
    let f = this.flags & ~ARITH_FLAGS;
    if (this.getCF()) f |= CF;
    if (this.getPF()) f |= PF;
    if (this.getAF()) f |= AF;
    if (this.getZF()) f |= ZF;
    if (this.getSF()) f |= SF;
    if (this.getOF()) f |= OF;
    this.flags = f;
    this.lfOp = LF_NONE;
  }

  /** Full EFLAGS value (bit 1 set; RF, VM as stored). */
  getFlags(): number {
    this.materializeFlags();
    return this.flags | 2;
  }

  /** Writes EFLAGS bits selected by mask; re-derives mode when VM changes. */
  setFlags(v: number, mask: number): void {
    this.materializeFlags();
    const old = this.flags;
    this.flags = ((old & ~mask) | (v & mask) | 2) & 0x3f7fd7;
    if (((old ^ this.flags) & VM) !== 0) this.updateMode();
  }

  /** Sets the six arithmetic flags from an explicit mask (shifts, multiply, BCD...). */
  setArith(bits: number): void {
    this.flags = (this.flags & ~ARITH_FLAGS) | (bits & ARITH_FLAGS);
    this.lfOp = LF_NONE;
  }

  /** ZF/SF/PF of a result of the given size, for eager flag computations. */
  szp(res: number, size: number): number {
    let f = PARITY[res & 0xff] === 1 ? PF : 0;
    switch (size) {
      case 1: if ((res & 0xff) === 0) f |= ZF; if (res & 0x80) f |= SF; break;
      case 2: if ((res & 0xffff) === 0) f |= ZF; if (res & 0x8000) f |= SF; break;
      default: if (res === 0) f |= ZF; if (res < 0) f |= SF; break;
    }
    return f;
  }

  /** Condition code evaluation, cc = low nibble of Jcc/SETcc/CMOVcc (SDM Vol. 1 App. B). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0: r = this.getOF(); break;
      case 1: r = this.getCF() !== 0; break;
      case 2: r = this.getZF(); break;
      case 3: r = this.getCF() !== 0 || this.getZF(); break;
      case 4: r = this.getSF(); break;
      case 5: r = this.getPF(); break;
      case 6: r = this.getSF() !== this.getOF(); break;
      default: r = this.getZF() || this.getSF() !== this.getOF(); break;
    }
    return (cc & 1) !== 0 ? !r : r;
  }

  // =====================================================================================
  // Faults
  // =====================================================================================

  /** Raises an architectural exception: unwinds the current instruction. */
  fault(vector: number, errorCode = 0, hasError = hasErrorCode(vector)): never {
    this.excVector = vector;
    this.excError = errorCode;
    this.excHasError = hasError;
    throw FAULT;
  }
  ud(): never { return this.fault(UD, 0, false); }
  gp(code = 0): never { return this.fault(GP, code, true); }

  /** Asks run() to return after the current instruction (device requests: debug-exit etc.). */
  requestStop(): void { this.stopRequested = true; }

  /**
   * PAUSE-loop exiting for the vCPU scheduler (src/machine/vcpus.ts, docs/smp.md), in the
   * spirit of VMX's PLE (SDM Vol. 3C §25.1.3): while > 0, each PAUSE counts it down and the
   * one that reaches 0 ends run() with STOP_YIELD once it retires. 0 (one vCPU) = never.
   */
  pauseYieldCountdown = 0;

  /** Asks run() to return STOP_YIELD after the current instruction: the vCPU's turn ends early. */
  requestYield(): void {
    if (this.stopReason === STOP_BUDGET) this.stopReason = STOP_YIELD;
    this.stopRequested = true;
  }

  // =====================================================================================
  // Instruction fetch
  // =====================================================================================

  /**
   * Fetch cursor: fp is the RAM index of the next code byte, valid while fp < fpEnd.
   * It is set up once per instruction (beginFetch) so each byte costs a compare and two
   * increments instead of an address computation.
   */
  fp = 0;
  fpEnd = 0;

  fetch8(): number {
    const p = this.fp;
    if (p < this.fpEnd) { this.fp = p + 1; this.rip++; return this.ram[p]!; }
    return this.fetchSlow();
  }

  /** Points the fetch cursor at RIP when the code page is cached. */
  beginFetch(): void {
    const off = this.segBase[CS]! + this.rip - this.fetchPage;
    if (off >= 0 && off < 4096) { this.fp = this.fetchHost + off; this.fpEnd = this.fetchHost + 4096; }
    else this.fpEnd = 0;
  }

  private fetchSlow(): number {
    if (this.rip - this.startRip >= 15) this.gp(0); // SDM Vol. 2 §2.3.11: 15-byte limit
    let lin = this.segBase[CS]! + this.rip;
    if (!this.code64) lin = lin % TWO32; // 32-bit linear wrap
    // a fetch from a non-canonical RIP is #GP(0) (SDM Vol. 3A §6.15 #GP; AMD's SYSRET
    // leaves a non-canonical RCX for this fetch to fault on, at CPL 3)
    else if (lin >= 0x800000000000 || lin < -0x800000000000) this.gp(0);
    const page = Math.floor(lin / 4096) * 4096;
    const phys = this.translate(lin, 2, this.cpl === 3);
    this.rip++;
    const pageIdx = this.mem.ramIndex(phys - (phys % 4096), 4096);
    if (pageIdx >= 0) {
      const idx = pageIdx + (phys % 4096);
      this.fetchPage = page;
      this.fetchHost = idx - (lin - page);
      this.fp = idx + 1;
      // the fast path (fetch8/fetch32) stops where the instruction reaches 15 bytes, so a
      // 16th byte comes back here and is #GP(0) (SDM Vol. 2 §2.3.11; found by decoder fuzzing)
      this.fpEnd = Math.min(this.fetchHost + 4096, idx + 16 - (this.rip - this.startRip));
      return this.ram[idx]!;
    }
    this.fetchPage = NaN;
    this.fpEnd = 0;
    return this.mem.read8(phys);
  }

  fetch16(): number { const a = this.fetch8(); return a | (this.fetch8() << 8); }
  fetch32(): number {
    const p = this.fp;
    if (p + 4 <= this.fpEnd) { this.fp = p + 4; this.rip += 4; return this.view.getInt32(p, true); }
    const a = this.fetch16(); return (a | (this.fetch16() << 16)) | 0;
  }
  /** Sign-extended 8-bit immediate. */
  fetchS8(): number { return (this.fetch8() << 24) >> 24; }
  /** Immediate of the operand size; 64-bit operands take a sign-extended imm32 (hi in this.hi). */
  fetchImm(size: number): number {
    switch (size) {
      case 1: return this.fetch8();
      case 2: return this.fetch16();
      case 4: return this.fetch32();
      default: { const v = this.fetch32(); this.hi = v >> 31; return v; }
    }
  }

  // =====================================================================================
  // ModRM / SIB decoding (SDM Vol. 2 §2.1.5, Tables 2-1..2-3; §2.2.1 for REX and RIP-relative)
  // =====================================================================================

  /**
   * Decodes ModRM (and SIB/displacement). `immBytes` is the size of the immediate that
   * follows, needed for RIP-relative addressing, which is relative to the next instruction.
   * Sets mod/reg/rm and, for memory operands, eaLo/eaHi/eaSeg.
   */
  decodeModrm(immBytes: number): void {
    if (this.dcReplay) { this.replayModrm(immBytes); return; }
    const rip0 = this.rip;
    const m = this.fetch8();
    this.modrmByte = m;
    const mod = m >> 6;
    this.mod = mod;
    this.reg = ((m >> 3) & 7) | this.rexR;
    const rm = m & 7;
    // the operand as base + index * 2^scale + disp (DC_NO_REG = absent), kept for the cache
    let base = DC_NO_REG, idx = DC_NO_REG, scale = 0, disp = 0, seg = DS, ripRel = 0;
    if (mod === 3) this.rm = rm | this.rexB;
    else {
      this.rm = rm;
      if (this.asz === 2) {
        // 16-bit forms (SDM Vol. 2 Table 2-1): BP-based ones default to SS
        switch (rm) {
          case 0: base = 3; idx = 6; break;           // BX+SI
          case 1: base = 3; idx = 7; break;           // BX+DI
          case 2: base = 5; idx = 6; seg = SS; break; // BP+SI
          case 3: base = 5; idx = 7; seg = SS; break; // BP+DI
          case 4: base = 6; break;
          case 5: base = 7; break;
          case 6: if (mod === 0) disp = this.fetch16(); else { base = 5; seg = SS; } break;
          default: base = 3; break;
        }
        if (mod === 1) disp = this.fetchS8();
        else if (mod === 2) disp = this.fetch16();
      } else {
        let b = rm;
        if (rm === 4) {
          const sib = this.fetch8();
          scale = sib >> 6;
          const ix = ((sib >> 3) & 7) | this.rexX;
          if (ix !== 4) idx = ix;
          b = sib & 7;
          if (b === 5 && mod === 0) { disp = this.fetch32(); b = DC_NO_REG; } // disp32, no base
          else b |= this.rexB;
        } else if (rm === 5 && mod === 0) {
          disp = this.fetch32();
          b = DC_NO_REG;
          // RIP-relative in 64-bit mode: relative to the end of the instruction, immediate included
          if (this.code64) ripRel = 1;
        } else b |= this.rexB;
        if (b !== DC_NO_REG) {
          base = b;
          if (b === 4 || b === 5) seg = SS; // rSP/rBP (not r12/r13) default to SS
          if (mod === 1) disp = this.fetchS8();
          else if (mod === 2) disp = this.fetch32();
        }
      }
      this.computeEa(base, idx, scale, disp, seg, ripRel, immBytes);
    }
    const dc = this.dc;
    if (dc.buildSlot >= 0) {
      // record the first ModRM of the instruction being cached; a second one is not cached
      if (dc.buildModrmLen !== 0) { dc.buildSlot = -1; return; }
      const s = dc.buildSlot, len = this.rip - rip0;
      dc.buildModrmLen = len;
      dc.modrm[s] = m | (len << 8) | (base << 11) | (idx << 16) | (scale << 21) | (seg << 23) | (ripRel << 26);
      dc.disp[s] = disp;
    }
  }

  /** decodeModrm for an instruction from the decode cache: the bytes are skipped, the address recomputed. */
  private replayModrm(immBytes: number): void {
    this.dcReplay = false;
    const s = this.dcSlot;
    const w = this.dc.modrm[s]!;
    const len = (w >> 8) & 7;
    this.fp += len; this.rip += len;
    const m = w & 0xff;
    this.modrmByte = m;
    const mod = m >> 6;
    this.mod = mod;
    this.reg = ((m >> 3) & 7) | this.rexR;
    if (mod === 3) { this.rm = (m & 7) | this.rexB; return; }
    this.rm = m & 7;
    this.computeEa((w >> 11) & 31, (w >> 16) & 31, (w >> 21) & 3, this.dc.disp[s]!, (w >> 23) & 7, (w >> 26) & 1, immBytes);
  }

  /** eaLo/eaHi/eaSeg from the decoded operand, exact on halves (carries included), at the address size. */
  private computeEa(base: number, idx: number, scale: number, disp: number, seg: number, ripRel: number, immBytes: number): void {
    const r = this.r;
    const asz = this.asz;
    let lo: number, hi = 0;
    if (ripRel !== 0) {
      const target = this.rip + immBytes + disp;
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
    this.eaLo = lo;
    this.eaHi = hi;
    this.eaSeg = this.segOvr >= 0 ? this.segOvr : seg;
  }

  // =====================================================================================
  // Linear addresses (SDM Vol. 3A §3.4, §5.3 limit checks, §3.3.7.1 canonical checks)
  // =====================================================================================

  /** Linear address of the decoded memory operand for an access of `size` bytes. */
  eaLin(size: number, write: boolean): number {
    return this.linear(this.eaSeg, this.eaLo, this.eaHi, size, write);
  }

  /**
   * Segment:offset → linear. In 64-bit mode only FS/GS bases apply and the result must be
   * canonical (#GP, or #SS for stack references). Elsewhere the limit is checked unless
   * the segment is flat, and the address wraps at 4 GiB.
   */
  linear(seg: number, lo: number, hi: number, size: number, write: boolean): number {
    if (this.code64) {
      let lin = hi * TWO32 + (lo >>> 0);
      if (seg >= FS) lin += this.segBase[seg]!;
      // canonical check covers the last byte too (an access straddling 2^47 faults)
      if (lin < -0x800000000000 || lin + size - 1 >= 0x800000000000) this.fault(seg === SS ? SS_ : GP, 0, true);
      if (this.acUser && (this.flags & AC) !== 0) this.alignCheck(lin, size);
      return lin;
    }
    const ar = this.segAr[seg]!;
    const off = lo >>> 0;
    const limit = this.segLimit[seg]!;
    if (limit !== 0xffffffff || (ar & 0xc) === 4 || (ar & (AR_UNUSABLE)) !== 0) this.checkSegment(seg, off, size, write);
    else if (write && (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0 && (ar & 0x1a) !== 0x12) this.checkSegment(seg, off, size, write);
    const lin = (this.segBase[seg]! + off) % TWO32;
    if (this.acUser && (this.flags & AC) !== 0) this.alignCheck(lin, size);
    return lin;
  }

  /**
   * #AC(0) for a misaligned word/dword/qword data reference at CPL 3 with CR0.AM and
   * EFLAGS.AC set (SDM Vol. 3A §6.15, Interrupt 17). Checked after the segment checks,
   * which take priority; other sizes (far pointers, m80, 16-byte SSE) are not checked here.
   */
  alignCheck(lin: number, size: number): void {
    if ((size === 2 || size === 4 || size === 8) && (lin & (size - 1)) !== 0) this.fault(AC_, 0, true);
  }

  /** Slow segment checks: presence/usability, type (read/write), limit, expand-down. */
  checkSegment(seg: number, off: number, size: number, write: boolean): void {
    const ar = this.segAr[seg]!;
    const err = seg === SS ? SS_ : GP;
    const pm = (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0;
    if (pm) {
      if ((ar & AR_UNUSABLE) !== 0 || (ar & AR_P) === 0) this.fault(err, 0, true);
      if (write) {
        // code segments are never writable; data segments need the W bit
        if ((ar & 8) !== 0 || (ar & 2) === 0) this.fault(err, 0, true);
      } else if ((ar & 0xa) === 8) this.fault(err, 0, true); // execute-only code
    }
    const limit = this.segLimit[seg]!;
    const end = off + size - 1;
    if (pm && (ar & 0x1c) === 0x14) {
      // expand-down data: valid offsets are (limit, upper], upper = 0xffff or 0xffffffff (B bit)
      const upper = (ar & AR_DB) !== 0 ? 0xffffffff : 0xffff;
      if (off <= limit || end > upper) this.fault(err, 0, true);
    } else if (end > limit) this.fault(err, 0, true);
  }

  // =====================================================================================
  // Paging and the TLB
  // =====================================================================================

  flushTlb(): void {
    this.tlbHasLarge = false;
    this.tlbTag.fill(NaN);
    this.fetchPage = NaN;
    this.fpEnd = 0;
    this.tlbFlushes++;
  }

  invalidatePage(lin: number): void {
    const pn = Math.floor(lin / 4096);
    // The TLB holds 4K pieces of large pages; INVLPG drops the whole large page (SDM
    // Vol. 3A §4.10.4.1), so once any large page was cached we flush everything.
    if (this.tlbHasLarge) { this.flushTlb(); return; }
    const i = pn & TLB_MASK;
    if (this.tlbTag[i] === pn) this.tlbTag[i] = NaN;
    this.fetchPage = NaN; this.fpEnd = 0;
  }

  /**
   * Linear → physical for an access type (0 read, 1 write, 2 execute) and privilege
   * (user = CPL 3 data/code access; implicit supervisor accesses pass false).
   * Fills the TLB for RAM pages; raises #PF on failure.
   */
  translate(lin: number, access: number, user: boolean): number {
    if ((this.cr0 & CR0_PG) === 0) {
      let phys = lin % TWO32;
      let perm = 63;
      // paging off under EPT: the linear address is the guest-physical one (SDM 3C §29.3.1)
      if (this.gpaTranslate !== null) { phys = this.gpaTranslate(phys, access, false); perm = this.gpaPerm; }
      const pn = Math.floor(lin / 4096);
      if (this.dataBreakpoints && this.watched(lin, access)) return phys;
      const idx = this.mem.ramIndex(phys - (phys % 4096), 4096);
      if (idx >= 0) {
        const i = pn & TLB_MASK;
        this.tlbTag[i] = pn; this.tlbPhys[i] = idx; this.tlbPerm[i] = perm;
      }
      return phys;
    }
    const w = this.walkOut;
    walk(this, lin, access, user, w);
    if (w.fault !== 0) {
      this.cr2Before = this.cr2; // a #PF that VM-exits leaves CR2 alone (vmx/events.ts restores it)
      this.cr2 = lin; // the faulting linear address (canonical, as a signed number)
      this.fault(PF_, w.errorCode, true);
    }
    const phys = w.phys;
    const pageBase = phys - (phys % 4096);
    if (this.dataBreakpoints && this.watched(lin, access)) return phys;
    const idx = this.mem.ramIndex(pageBase, 4096);
    if (idx >= 0) {
      // the TLB holds the RAM index of the page (equal to the address below 3 GiB)
      const i = Math.floor(lin / 4096) & TLB_MASK;
      this.tlbTag[i] = Math.floor(lin / 4096);
      this.tlbPhys[i] = idx;
      this.tlbPerm[i] = w.perm;
      if (w.pageSize > 4096) this.tlbHasLarge = true;
    }
    return phys;
  }

  /** A data access to a page with a data breakpoint: records hits; such pages stay out of the TLB. */
  private watched(lin: number, access: number): boolean {
    const pn = Math.floor(lin / 4096);
    const b = this.dataBpPage;
    if (b[0] !== pn && b[1] !== pn && b[2] !== pn && b[3] !== pn) return false;
    if (access !== 2) checkDataBreakpoints(this, lin, access);
    return true;
  }

  // =====================================================================================
  // Memory access by linear address (fast path: one TLB probe)
  // =====================================================================================

  rd8(lin: number): number {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK;
    if (this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.rdMask) !== 0) return this.ram[this.tlbPhys[i]! + (lin - pn * 4096)]!;
    return this.mem.read8(this.translateData(lin, false));
  }
  rd16(lin: number): number {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK, off = lin - pn * 4096;
    if (off <= 4094 && this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.rdMask) !== 0) return this.view.getUint16(this.tlbPhys[i]! + off, true);
    if (off > 4094) return this.rd8(lin) | (this.rd8(lin + 1) << 8);
    return this.mem.read16(this.translateData(lin, false));
  }
  /** Returns a signed int32. */
  rd32(lin: number): number {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK, off = lin - pn * 4096;
    if (off <= 4092 && this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.rdMask) !== 0) return this.view.getInt32(this.tlbPhys[i]! + off, true);
    if (off > 4092) return this.rdCross(lin, 4);
    return this.mem.read32(this.translateData(lin, false));
  }
  /** Returns the low dword; the high dword is left in this.hi. */
  rd64(lin: number): number {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK, off = lin - pn * 4096;
    if (off <= 4088 && this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.rdMask) !== 0) {
      const p = this.tlbPhys[i]! + off;
      this.hi = this.view.getInt32(p + 4, true);
      return this.view.getInt32(p, true);
    }
    const lo = this.rd32(lin);
    this.hi = this.rd32(lin + 4);
    return lo;
  }

  private rdCross(lin: number, size: number): number {
    // touch both pages first so a fault leaves nothing half-done
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.rd8(lin + k);
    return v | 0;
  }

  wr8(lin: number, v: number): void {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK;
    if (this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.wrMask) !== 0) {
      const p = this.tlbPhys[i]! + (lin - pn * 4096);
      if (this.mem.codePages[p >>> 12] !== 0) this.dc.invalidatePage(p >>> 12);
      this.ram[p] = v; return;
    }
    this.mem.write8(this.translateData(lin, true), v);
  }
  wr16(lin: number, v: number): void {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK, off = lin - pn * 4096;
    if (off <= 4094 && this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.wrMask) !== 0) {
      const p = this.tlbPhys[i]! + off;
      if (this.mem.codePages[p >>> 12] !== 0) this.dc.invalidatePage(p >>> 12);
      this.view.setUint16(p, v, true); return;
    }
    if (off > 4094) { this.translateData(lin + 1, true); this.wr8(lin, v); this.wr8(lin + 1, v >>> 8); return; }
    this.mem.write16(this.translateData(lin, true), v);
  }
  wr32(lin: number, v: number): void {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK, off = lin - pn * 4096;
    if (off <= 4092 && this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.wrMask) !== 0) {
      const p = this.tlbPhys[i]! + off;
      if (this.mem.codePages[p >>> 12] !== 0) this.dc.invalidatePage(p >>> 12);
      this.view.setInt32(p, v, true); return;
    }
    if (off > 4092) {
      this.translateData(lin, true); this.translateData(lin + 3, true);
      for (let k = 0; k < 4; k++) this.wr8(lin + k, v >>> (8 * k));
      return;
    }
    this.mem.write32(this.translateData(lin, true), v);
  }
  wr64(lin: number, lo: number, hi: number): void {
    const pn = Math.floor(lin / 4096), i = pn & TLB_MASK, off = lin - pn * 4096;
    if (off <= 4088 && this.tlbTag[i] === pn && (this.tlbPerm[i]! & this.wrMask) !== 0) {
      const p = this.tlbPhys[i]! + off;
      if (this.mem.codePages[p >>> 12] !== 0) this.dc.invalidatePage(p >>> 12);
      this.view.setInt32(p, lo, true); this.view.setInt32(p + 4, hi, true); return;
    }
    this.translateData(lin, true); this.translateData(lin + 7, true);
    this.wr32(lin, lo); this.wr32(lin + 4, hi);
  }

  /** Sized accessors (size 8: lo returned/passed, hi via this.hi / argument). */
  rdSz(lin: number, size: number): number {
    switch (size) {
      case 1: return this.rd8(lin);
      case 2: return this.rd16(lin);
      case 4: return this.rd32(lin);
      default: return this.rd64(lin);
    }
  }
  wrSz(lin: number, size: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.wr8(lin, lo); return;
      case 2: this.wr16(lin, lo); return;
      case 4: this.wr32(lin, lo); return;
      default: this.wr64(lin, lo, hi); return;
    }
  }

  /** Data access slow path: walk, permission check for the current privilege, TLB fill. */
  translateData(lin: number, write: boolean): number {
    return this.translate(lin, write ? 1 : 0, this.cpl === 3);
  }

  /** Implicit supervisor-mode accesses (descriptor tables, TSS, IDT): SDM Vol. 3A §4.6. */
  rdSys32(lin: number): number { return this.mem.read32(this.translate(lin, 0, false)); }
  rdSys8(lin: number): number { return this.mem.read8(this.translate(lin, 0, false)); }
  wrSys32(lin: number, v: number): void { this.mem.write32(this.translate(lin, 1, false), v); }
  rdSys16(lin: number): number { return this.rdSys8(lin) | (this.rdSys8(lin + 1) << 8); }

  // =====================================================================================
  // Operand helpers for handlers (E = ModRM r/m operand, G = ModRM reg operand)
  // =====================================================================================

  /** Reads the r/m operand (register or memory) at `size`. */
  readE(size: number): number {
    if (this.mod === 3) return this.getRegSz(this.rm, size);
    return this.rdSz(this.eaLin(size, false), size);
  }
  writeE(size: number, lo: number, hi: number): void {
    if (this.mod === 3) { this.setRegSz(this.rm, size, lo, hi); return; }
    this.wrSz(this.eaLin(size, true), size, lo, hi);
  }

  // =====================================================================================
  // Stack (SDM Vol. 1 §6.2; address size from SS.B or 64-bit mode)
  // =====================================================================================

  /** Pushes a value of `size` bytes (2, 4 or 8; 8 uses hi). */
  push(size: number, lo: number, hi: number): void {
    const sp = this.stackSize;
    if (sp === 8) {
      const rsp = this.getRegNum(4) - size;
      const lin = this.linear(SS, rsp | 0, Math.floor(rsp / TWO32), size, true);
      this.wrSz(lin, size, lo, hi);
      this.r[8] = rsp | 0; this.r[9] = Math.floor(rsp / TWO32) | 0;
    } else if (sp === 4) {
      const esp = (this.r[8]! - size) | 0;
      this.wrSz(this.linear(SS, esp, 0, size, true), size, lo, hi);
      this.r[8] = esp;
    } else {
      const spv = (this.r[8]! - size) & 0xffff;
      this.wrSz(this.linear(SS, spv, 0, size, true), size, lo, hi);
      this.r[8] = (this.r[8]! & ~0xffff) | spv;
    }
  }

  /** Reads the value at the top of the stack with an offset, without popping. */
  peek(size: number, offset: number): number {
    const sp = this.stackSize;
    if (sp === 8) {
      const rsp = this.getRegNum(4) + offset;
      return this.rdSz(this.linear(SS, rsp | 0, Math.floor(rsp / TWO32), size, false), size);
    }
    const v = sp === 4 ? (this.r[8]! + offset) | 0 : (this.r[8]! + offset) & 0xffff;
    return this.rdSz(this.linear(SS, v, 0, size, false), size);
  }

  /** Adjusts the stack pointer by `delta` at the stack's address size. */
  addSp(delta: number): void {
    const sp = this.stackSize;
    if (sp === 8) { const v = this.getRegNum(4) + delta; this.r[8] = v | 0; this.r[9] = Math.floor(v / TWO32) | 0; }
    else if (sp === 4) this.r[8] = (this.r[8]! + delta) | 0;
    else this.r[8] = (this.r[8]! & ~0xffff) | ((this.r[8]! + delta) & 0xffff);
  }

  /** Pops a value (hi in this.hi for size 8). */
  pop(size: number): number {
    const v = this.peek(size, 0);
    const h = this.hi;
    this.addSp(size);
    this.hi = h;
    return v;
  }

  // =====================================================================================
  // Control transfer helpers
  // =====================================================================================

  /** Sets RIP to a near target at the current operand size (SDM: EIP/IP truncation). */
  jumpNear(target: number): void {
    if (this.code64) {
      if (this.osz === 2) target = ((target % 65536) + 65536) % 65536;
      if (target < -0x800000000000 || target >= 0x800000000000) this.gp(0);
      this.rip = target;
    } else {
      const t = this.osz === 2 ? target & 0xffff : target >>> 0;
      if (t > this.segLimit[CS]!) this.gp(0);
      this.rip = t;
    }
  }

  /** The next instruction's RIP as a canonical 64-bit lo/hi (lo returned, hi in this.hi). */
  ripHalves(v: number): number {
    this.hi = Math.floor(v / TWO32) | 0;
    return v | 0;
  }

  cpuid(leaf: number, sub: number): Int32Array {
    cpuidLeaf(this.profile, leaf, sub, { exposeVmx: this.exposeVmx, apicId: this.apicId, cr4Osxsave: (this.cr4 & (1 << 18)) !== 0, hasLapic: this.lapic !== null, apicEnabled: this.lapic !== null && this.lapic.hwEnabled }, this.cpuidOut);
    return this.cpuidOut;
  }

  // =====================================================================================
  // The run loop
  // =====================================================================================

  /** Executes up to `budget` instructions. Returns a STOP_* reason. */
  run(budget: number): number {
    this.pfxDirty = true;
    this.curPfx = -1;
    this.stopRequested = false;
    this.stopReason = STOP_BUDGET;
    const end = this.instructionCount + budget;
    while (this.instructionCount < end) {
      if (this.halted) {
        if (!this.wakeFromHalt()) return STOP_HALT;
      }
      try {
        this.runInner(end);
      } catch (e) {
        this.dc.buildSlot = -1; // the instruction did not complete: nothing of it is cached
        if (e === FAULT) {
          this.rip = this.startRip;
          // a triple fault during this delivery throws STOP from here, outside the try
          try { this.raiseException(this.excVector, this.excError, this.excHasError); } catch (e2) { if (e2 !== STOP) throw e2; }
        } else if (e !== STOP) throw e;
      }
      if (this.stopRequested) { this.stopRequested = false; return this.stopReason === STOP_BUDGET ? STOP_REQUESTED : this.stopReason; }
    }
    return STOP_BUDGET;
  }

  private runInner(end: number): void {
    const table = this.table;
    const dc = this.dc;
    const tags = dc.tag;
    while (this.instructionCount < end && !this.halted) {
      if (this.irqPending || this.nmiPending) {
        if (this.checkInterrupts()) continue;
      }
      const shadow = this.inhibitIrq; // set by the previous instruction (STI, MOV SS, POP SS)
      const rip = this.rip;
      this.startRip = rip;
      const f0 = this.flags;
      // Intel inhibits instruction breakpoints on the instruction after MOV SS/POP SS (the
      // shadow's setter is still in this.opcode; STI is FB); AMD takes them (kvm-unit-tests
      // emulator test_mov_pop_ss_code_db)
      if (this.codeBreakpoints !== 0 && (f0 & RF) === 0 && !(shadow && this.opcode !== 0xfb && !this.amdDebug)) checkCodeBreakpoints(this);
      // the fetch cursor (beginFetch), then the decode cache by the RAM index of the first byte
      const off = this.segBase[CS]! + rip - this.fetchPage;
      if (off >= 0 && off < 4096) {
        const host = this.fetchHost;
        const fp = host + off;
        // a translated block (jit/) retires its instructions and does its own checks
        if (this.jit && tryBlock(this, fp, rip, end)) continue;
        this.fpEnd = host + 4096;
        const slot = fp & DC_MASK;
        const tag = ((fp >>> DC_BITS) << 2) | this.modeId;
        if (tags[slot] === tag) {
          const info = dc.info[slot]!;
          const len = (info >> DC_LEN_SHIFT) & 15;
          this.fp = fp + len;
          this.rip = rip + len;
          const p = dc.pfx[slot]!;
          if (p !== this.curPfx) this.loadPrefixes(p);
          this.dcReplay = (info & DC_HAS_MODRM) !== 0;
          this.dcSlot = slot;
          const op = info & 0x3ff;
          this.opcode = op;
          table[op]!(this);
        } else {
          this.fp = fp;
          this.fpEnd = Math.min(host + 4096, fp + 15); // an instruction being decoded: at most 15 bytes (fetchSlow)
          this.dcReplay = false;
          this.curPfx = -1;
          const page = fp >>> 12;
          if (dc.cacheable(page)) {
            // build an entry; its page is marked first so that a write by this very
            // instruction abandons it (dc.invalidatePage)
            tags[slot] = -1;
            dc.buildSlot = slot; dc.buildPage = page; dc.buildModrmLen = 0;
            this.mem.codePages[page] = 1;
            this.decodePrefixes();
            const pfxLen = this.rip - rip;
            table[this.opcode]!(this);
            if (dc.buildSlot === slot && off + pfxLen + dc.buildModrmLen <= 4096) {
              const p = this.packPrefixes();
              dc.pfx[slot] = p;
              dc.info[slot] = this.opcode | (pfxLen << DC_LEN_SHIFT) | (dc.buildModrmLen !== 0 ? DC_HAS_MODRM : 0);
              tags[slot] = tag;
              this.curPfx = p;
            }
            dc.buildSlot = -1;
          } else {
            this.decodePrefixes();
            table[this.opcode]!(this);
          }
        }
      } else {
        this.fpEnd = 0;
        this.dcReplay = false;
        this.curPfx = -1;
        this.decodePrefixes();
        table[this.opcode]!(this);
      }
      this.instructionCount++;
      if (this.stopRequested) return;
      if (shadow || ((f0 | this.flags) & (TF | RF)) !== 0 || this.dbDataHits !== 0 || this.dbHeld !== 0) afterDebug(this, f0, shadow);
    }
  }

  /**
   * The prefix state as one int32 (decode-cache entries): osz | asz << 4 | REX << 8 |
   * (segOvr + 1) << 16 | rep << 19 | lock << 21 | 66 << 22.
   */
  packPrefixes(): number {
    return this.osz | (this.asz << 4) | (this.rex << 8) | ((this.segOvr + 1) << 16) | (this.rep << 19) |
      (this.lock ? 1 << 21 : 0) | (this.pfx66 ? 1 << 22 : 0);
  }

  loadPrefixes(p: number): void {
    this.osz = p & 15;
    this.asz = (p >> 4) & 15;
    const rex = (p >> 8) & 0xff;
    this.rex = rex;
    this.rexW = (rex & 8) !== 0; this.rexR = (rex & 4) << 1; this.rexX = (rex & 2) << 2; this.rexB = (rex & 1) << 3;
    this.segOvr = ((p >> 16) & 7) - 1;
    this.rep = (p >> 19) & 3;
    this.lock = (p & (1 << 21)) !== 0;
    this.pfx66 = (p & (1 << 22)) !== 0;
    this.curPfx = p;
    this.pfxDirty = true;
  }

  /** Recomputes the breakpoint state after DR0-3/DR7 writes (debug.ts). */
  debugRegsChanged(): void { debugRegsChanged(this); }

  /** Reads legacy prefixes, REX and the opcode (1, 2 or 3 bytes) into this.opcode (0..1023). */
  decodePrefixes(): void {
    // Prefix state is reset only when the previous instruction changed it: most
    // instructions carry no prefix (32-bit code) or only REX (64-bit code).
    if (this.pfxDirty) {
      this.osz = this.defOsz;
      this.asz = this.defAsz;
      this.rex = 0; this.rexW = false; this.rexR = 0; this.rexX = 0; this.rexB = 0;
      this.segOvr = -1; this.rep = REP_NONE; this.lock = false; this.pfx66 = false;
      this.pfxDirty = false;
    }
    let b = this.fetch8();
    if (IS_PREFIX[b] === 0 || (b >= 0x40 && b < 0x50 && !this.code64)) {
      if (b !== 0x0f) { this.opcode = b; return; }
      this.opcode0f();
      return;
    }
    this.pfxDirty = true;
    for (;;) {
      switch (b) {
        case 0x66: this.pfx66 = true; this.osz = this.defOsz === 2 ? 4 : 2; if (this.code64) this.osz = 2; break;
        case 0x67: this.asz = this.code64 ? 4 : (this.defAsz === 2 ? 4 : 2); break;
        case 0xf2: this.rep = REP_NE; break;
        case 0xf3: this.rep = REP_E; break;
        case 0xf0: this.lock = true; break;
        case 0x26: this.segOvr = this.code64 ? -1 : ES; break;
        case 0x2e: this.segOvr = this.code64 ? -1 : CS; break;
        case 0x36: this.segOvr = this.code64 ? -1 : SS; break;
        case 0x3e: this.segOvr = this.code64 ? -1 : DS; break;
        case 0x64: this.segOvr = FS; break;
        case 0x65: this.segOvr = GS; break;
        default:
          if (this.code64 && (b & 0xf0) === 0x40) {
            // REX must immediately precede the opcode; a later prefix cancels it (SDM §2.2.1)
            const nb = this.fetch8();
            if (IS_PREFIX[nb] === 1) {
              b = nb; continue;
            }
            this.rex = b;
            this.rexW = (b & 8) !== 0; this.rexR = (b & 4) << 1; this.rexX = (b & 2) << 2; this.rexB = (b & 1) << 3;
            if (this.rexW) this.osz = 8;
            b = nb;
          }
          if (b === 0x0f) this.opcode0f();
          else this.opcode = b;
          return;
      }
      if (this.rip - this.startRip >= 15) this.gp(0);
      b = this.fetch8();
    }
  }

  /** The 0F, 0F 38 and 0F 3A opcode maps. */
  private opcode0f(): void {
    const b2 = this.fetch8();
    if (b2 === 0x38) this.opcode = 0x200 | this.fetch8();
    else if (b2 === 0x3a) this.opcode = 0x300 | this.fetch8();
    else this.opcode = 0x100 | b2;
  }

  /** Operand size for instructions that default to 64-bit in long mode (push/pop/near branches). */
  stackOsz(): number {
    if (this.code64) return this.osz === 2 ? 2 : 8;
    return this.osz;
  }

  // =====================================================================================
  // Event delivery framework: double and triple faults (SDM Vol. 3A §6.15, Table 6-5)
  // =====================================================================================

  /** Delivers an exception, turning a fault during delivery into #DF or a triple fault. */
  raiseException(vector: number, err: number, hasErr: boolean): void {
    const prev = this.delivering;
    if (prev === DF_) {
      this.tripleFault(`${vectorName(vector)} while delivering #DF`);
      return;
    }
    if (prev >= 0) {
      const prevPf = prev === PF_;
      const curCont = isContributory(vector);
      if ((isContributory(prev) && curCont) || (prevPf && (curCont || vector === PF_))) {
        this.delivering = -1;
        this.raiseException(DF_, 0, true);
        return;
      }
    }
    if (vector === 1 || vector === 3 || vector === 4) { /* traps: RIP already past */ }
    // VMX non-root: the exception bitmap may turn this into a VM exit (SDM Vol. 3C §25.2)
    if (this.vmx.nonRoot) exceptionExits(this, vector, err, hasErr);
    this.delivering = vector;
    this.lastEventAt = this.instructionCount;
    // an exception discards the debug traps its instruction (or a MOV SS before it) had
    // pending; a software interrupt keeps them for its handler's first instruction
    this.dbHeld = 0; this.dbDataHits = 0;
    try {
      this.hooks.deliver(this, vector, err, hasErr, false, this.rip);
      this.delivering = -1;
    } catch (e) {
      if (e !== FAULT) { this.delivering = -1; throw e; }
      const v = this.excVector, c = this.excError, h = this.excHasError;
      // nested fault during delivery: deliver() commits nothing before it can no longer
      // fault, so RIP is still the return address of the first event (the next
      // instruction for a trap such as single-step, not startRip)
      this.raiseException(v, c, h);
      this.delivering = -1;
    }
  }

  tripleFault(why: string): void {
    if (this.vmx.nonRoot) tripleFaultExits(this); // a VM exit, not a shutdown (SDM Vol. 3C §25.2)
    const rip = this.rip;
    this.tripleFaultReport = `triple fault at RIP=0x${(rip < 0 ? rip + 2 ** 64 : rip).toString(16)} ` +
      `(CS=0x${this.segSel[CS]!.toString(16)}, CPL ${this.cpl}): ${why}`;
    this.delivering = -1;
    this.stopReason = STOP_TRIPLE_FAULT;
    this.stopRequested = true;
    this.halted = true;
    throw STOP;
  }

  /** Delivers a software interrupt (INT n, INT3, INTO): the return RIP is the next instruction. */
  softwareInterrupt(vector: number): void {
    if (this.vmx.nonRoot) softwareException(this, vector); // INT3/INTO vs. the exception bitmap
    this.lastEventAt = this.instructionCount;
    if (!this.vmx.nonRoot) { this.hooks.deliver(this, vector, 0, false, true, this.rip); return; }
    // an exit during its delivery reports it as IDT-vectoring information (SDM Vol. 3C §27.2.4)
    softwareEventStart(this, vector);
    try { this.hooks.deliver(this, vector, 0, false, true, this.rip); } finally { softwareEventEnd(); }
  }

  private checkInterrupts(): boolean {
    if (this.vmx.nonRoot) return checkEvents(this); // VMX non-root event order (vmx/events.ts)
    if (this.inhibitIrq) { this.inhibitIrq = false; return false; }
    if (this.nmiPending && !this.nmiBlocked) {
      this.nmiPending = false;
      this.nmiBlocked = true;
      this.halted = false;
      this.startRip = this.rip;
      this.raiseException(NMI, 0, false);
      this.lastEventAt = -1;
      return true;
    }
    if (this.irqPending && (this.flags & IF) !== 0) {
      const v = this.hooks.acknowledgeInterrupt(this);
      if (v < 0) { this.irqPending = false; return false; }
      this.halted = false;
      this.startRip = this.rip;
      this.delivering = v;
      this.hooks.deliver(this, v, 0, false, false, this.rip);
      this.delivering = -1;
      return true;
    }
    return false;
  }

  private wakeFromHalt(): boolean {
    if (this.vmx.nonRoot) { if (!wakeGuest(this)) return false; this.halted = false; return true; }
    // the STI/MOV SS shadow covered the HLT itself (the "sti; hlt" idiom): it is over, and
    // the waking interrupt is taken before the next instruction (SDM Vol. 3A §6.8.3)
    this.inhibitIrq = false;
    // an NMI held pending by NMI blocking (until IRET) does not end the halt (SDM Vol. 3A §6.7.1)
    if (this.nmiPending && !this.nmiBlocked) { this.halted = false; return true; }
    if (this.irqPending && (this.flags & IF) !== 0) { this.halted = false; return true; }
    return false;
  }

  /** Mode checks shared by privileged instructions. */
  requireCpl0(): void { if (this.cpl !== 0) this.gp(0); }
  get protectedMode(): boolean { return (this.cr0 & CR0_PE) !== 0; }
  get v86(): boolean { return (this.flags & VM) !== 0; }
  get wp(): boolean { return (this.cr0 & CR0_WP) !== 0; }
  get smep(): boolean { return (this.cr4 & CR4_SMEP) !== 0; }
  get smap(): boolean { return (this.cr4 & CR4_SMAP) !== 0; }
  get pae(): boolean { return (this.cr4 & CR4_PAE) !== 0; }
  get acFlag(): boolean { return (this.flags & AC) !== 0; }
  get rfFlag(): boolean { return (this.flags & RF) !== 0; }
}

/** Unsigned 64-bit a < b on halves. */
export function ult64(aLo: number, aHi: number, bLo: number, bHi: number): number {
  if (aHi !== bHi) return (aHi >>> 0) < (bHi >>> 0) ? 1 : 0;
  return (aLo >>> 0) < (bLo >>> 0) ? 1 : 0;
}

export { CF, PF, AF, ZF, SF, OF, IF, DF, TF, AR_P, AR_S, AR_G };
