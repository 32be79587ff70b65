/**
 * The x86-64 CPU: architectural state, the memory access path through the software TLB,
 * segmentation, the stack and event delivery. Around it: run-loop.ts (run(), the
 * per-instruction loop, prefixes), front-end.ts (fetch window, ModRM), flags.ts (lazy
 * flags), tlb-fill.ts (the TLB-miss path), jit/ (the block translator). Instruction semantics live in src/cpu/ops/ (one file
 * per family) and reach the state only through this class.
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
import type { WalkResult } from './mmu.js';
import { debugRegsChanged } from './debug.js';
import { tlbFill } from './tlb-fill.js';
import * as flagsImpl from './flags.js';
import * as frontEnd from './front-end.js';
import * as runLoop from './run-loop.js';
import { buildTable } from './ops/table.js';
import { decodeCacheFor, type DecodeCache } from './decode-cache.js';
import { defaultHooks } from './interrupts.js';
import { JIT_DEFAULT } from './jit/jit.js';
import { FpuState } from './fpu/state.js';
import { createVmxState, resetVmxState } from './vmx/vmx-state.js';
import { exceptionExits, softwareException, tripleFaultExits, softwareEventStart, softwareEventEnd } from './vmx/events.js';
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

/**
 * 32768 entries (128 MiB of 4 KiB pages): kvm-unit-tests sieve.flat's 100 MB array missed the
 * 2048-entry TLB on nearly every store (docs/cpu-design.md "Memory path").
 */
const TLB_BITS = 15;
/** Fills logged per flush interval: a flush clears just the logged entries when they fit. */
export const TLB_LOG = 1024;
const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
const TWO32 = 4294967296;

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
  /**
   * VEX prefix (SDM Vol. 2 §2.3; run-loop.ts decodeVex, docs/cpu-design.md "AVX"): set for a
   * VEX-encoded instruction, dispatched through table entries 0x400-0x6ff. VEX.pp is mapped
   * onto pfx66/rep, VEX.W onto rexW and R/X/B onto rexR/rexX/rexB. vexL = VEX.L (0: 128-bit,
   * 1: 256-bit); vexV = VEX.vvvv un-inverted, all four bits (outside 64-bit mode the register
   * it names is vexV & 7: avx/common.ts vsrc()).
   */
  vex = false;
  vexL = 0;
  vexV = 0;
  opcode = 0;
  /** Packed prefix state the fields above hold (packPrefixes), -1 when unknown. */
  curPfx = -1;
  /** Translate hot code into JS blocks (jit/); NESTVISOR_JIT=0 turns it off. */
  jit = JIT_DEFAULT;
  /** The decoded-instruction cache (decode-cache.ts), shared by the CPUs of one memory. */
  readonly dc: DecodeCache;
  /**
   * 0 = 16-bit protected-mode, 1 = 32-bit, 2 = 64-bit, 3 = real or virtual-8086 mode code:
   * part of a decode-cache tag (C4/C5 is VEX in 16-bit protected mode, LES/LDS in real/V86).
   */
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
  /**
   * The SIB index register and scale of the last memory operand (index 16 = none), so a
   * VSIB instruction (gathers, avx/gather.ts) can take the general register's term back
   * out of eaLo/eaHi and add each vector element's instead (SDM Vol. 2 §2.3.12).
   */
  eaIdx = 16;
  eaScale = 0;

  // ---- TLB ---------------------------------------------------------------------------
  readonly tlbTag = new Float64Array(TLB_SIZE).fill(NaN);
  /** Physical address of the page (RAM index; only RAM pages are cached). */
  readonly tlbPhys = new Float64Array(TLB_SIZE);
  readonly tlbPerm = new Uint8Array(TLB_SIZE);
  /**
   * Indexes filled since the last flush (tlb-fill.ts logs them; tlbLogN counts on past
   * TLB_LOG): a flush then clears those few entries instead of the whole array, since VM
   * entries and exits, CR3 writes and INVLPG with large pages flush often.
   */
  readonly tlbLog = new Int32Array(TLB_LOG);
  tlbLogN = 0;
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
  readonly amdDebug: boolean;
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
    this.modeId = this.code64 ? 2 : this.defOsz === 4 ? 1 : pe && (this.flags & VM) === 0 ? 0 : 3;
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

  /** The arithmetic flags, computed from the lazy record when read (flags.ts). */
  getCF(): number { return flagsImpl.getCF(this); }
  getZF(): boolean { return flagsImpl.getZF(this); }
  getSF(): boolean { return flagsImpl.getSF(this); }
  getOF(): boolean { return flagsImpl.getOF(this); }
  getPF(): boolean { return flagsImpl.getPF(this); }
  getAF(): boolean { return flagsImpl.getAF(this); }

  /** Folds lazy flags into this.flags (before partial updates like CLC, BT, shifts). */
  materializeFlags(): void { flagsImpl.materializeFlags(this); }

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
  szp(res: number, size: number): number { return flagsImpl.szp(this, res, size); }

  /** Condition code evaluation, cc = low nibble of Jcc/SETcc/CMOVcc (SDM Vol. 1 App. B). */
  cond(cc: number): boolean { return flagsImpl.cond(this, cc); }

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
  beginFetch(): void { frontEnd.beginFetch(this); }

  /** Points the fetch window at RIP's page from an executable TLB entry, without a walk (front-end.ts). */
  refillFetch(rip: number): boolean { return frontEnd.refillFetch(this, rip); }

  /** A fetch outside the fetch window: limit, canonical and paging checks, then a new window (front-end.ts). */
  fetchSlow(): number { return frontEnd.fetchSlow(this); }

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
   * Decodes ModRM (and SIB/displacement); `immBytes` is the size of the immediate that
   * follows, for RIP-relative addressing. Sets mod/reg/rm and eaLo/eaHi/eaSeg (front-end.ts).
   */
  decodeModrm(immBytes: number): void { frontEnd.decodeModrm(this, immBytes); }

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
    // the 32-bit wrap: ToUint32 (`>>> 0`) reduces any integer double modulo 2^32, negative ones too (a
    // 64-bit FS/GS base written in long mode, used in compatibility mode: only its low 32 bits count);
    // `%` would be an fmod call in V8 and keep the sign
    const lin = (this.segBase[seg]! + off) >>> 0;
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
    const n = this.tlbLogN;
    if (n <= TLB_LOG) { const tag = this.tlbTag, log = this.tlbLog; for (let j = 0; j < n; j++) tag[log[j]!] = NaN; }
    else this.tlbTag.fill(NaN);
    this.tlbLogN = 0;
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
   * Fills the TLB for RAM pages; raises #PF on failure (tlb-fill.ts).
   */
  translate(lin: number, access: number, user: boolean): number { return tlbFill(this, lin, access, user); }

  /**
   * Checks both pages of a data access of `size` bytes before any byte moves, the first page
   * first. A fault on the second page reports its first byte (the boundary) in CR2, as the
   * hardware does: split loads and stores of 2-32 bytes on this host (Zen 4) fault with CR2 =
   * the boundary, whatever the offset (SDM Vol. 3A §6.15, Interrupt 14: CR2 holds the linear
   * address that generated the fault). `& 0xfff` takes ToInt32's low bits, right for negative
   * (upper-half canonical) addresses too, where `%` would keep the sign.
   */
  probeSplit(lin: number, size: number, write: boolean): void {
    this.translateData(lin, write);
    if ((lin & 0xfff) + size > 4096) { const last = lin + size - 1; this.translateData(last - (last & 0xfff), write); }
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
    this.probeSplit(lin, size, false); // both pages first: a fault leaves nothing half-done
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
    if (off > 4094) { this.probeSplit(lin, 2, true); this.wr8(lin, v); this.wr8(lin + 1, v >>> 8); return; }
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
      this.probeSplit(lin, 4, true);
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
    this.probeSplit(lin, 8, true);
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
    cpuidLeaf(this.profile, leaf, sub, { exposeVmx: this.exposeVmx, apicId: this.apicId, cr4Osxsave: (this.cr4 & (1 << 18)) !== 0, hasLapic: this.lapic !== null, apicEnabled: this.lapic !== null && this.lapic.hwEnabled, xcr0: this.xcr0 }, this.cpuidOut);
    return this.cpuidOut;
  }

  // =====================================================================================
  // The run loop
  // =====================================================================================

  /** Executes up to `budget` instructions. Returns a STOP_* reason. */
  run(budget: number): number { return runLoop.run(this, budget); }

  /** The prefix state as one int32 (decode-cache entries; run-loop.ts). */
  packPrefixes(): number { return runLoop.packPrefixes(this); }

  /** Sets the prefix fields from a packed state (run-loop.ts). */
  loadPrefixes(p: number): void { runLoop.loadPrefixes(this, p); }

  /** Recomputes the breakpoint state after DR0-3/DR7 writes (debug.ts). */
  debugRegsChanged(): void { debugRegsChanged(this); }

  /** Reads legacy prefixes, REX and the opcode (1, 2 or 3 bytes) into this.opcode (0..1023). */
  decodePrefixes(): void { runLoop.decodePrefixes(this); }

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
