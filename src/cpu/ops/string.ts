/**
 * String instructions MOVS/CMPS/STOS/LODS/SCAS (A4-A7, AA-AF) with REP/REPE/REPNE
 * (SDM Vol. 2 MOVS, CMPS, STOS, LODS, SCAS, REP/REPE/REPNE; Vol. 1 §7.3.9).
 *
 * Index registers rSI/rDI and the count rCX are used at the address size (16/32/64 bits;
 * a 32-bit update in 64-bit mode zero-extends). The source segment honours an override,
 * the destination is always ES. DF selects the direction.
 *
 * REP runs its loop inside the handler. Progress is kept in locals and written back to
 * the registers in a `finally`, so when an iteration faults the registers describe
 * exactly the iterations that completed and the run loop's RIP rollback restarts the
 * instruction with the remaining count (SDM Vol. 1 §7.3.9.1: REP is interruptible).
 * One call does at most CAP iterations, then re-points RIP at the instruction so that
 * interrupts and stop requests are seen between slices.
 *
 * Fast path: REP MOVS (either direction) and REP STOS with DF=0 copy or fill whole runs of elements with
 * TypedArray.copyWithin/fill when source and destination are RAM pages already in the TLB
 * with the needed permission, the pages hold no decoded code, and the segments impose no
 * limit (64-bit mode or flat 4 GiB segments), so checking the first element is enough.
 */
import type { Cpu, Handler } from '../cpu.js';
import { LF_SUB, REP_NONE, REP_E } from '../cpu.js';
import { def } from './table.js';
import { DS, ES, DF, AR_UNUSABLE } from '../regs.js';

const TWO32 = 4294967296;
/** Iterations per handler call before the instruction is re-executed. */
export const REP_CAP = 4096;
/** Weight of one fast-path run (up to a page) against REP_CAP: at most 256 pages per call. */
const FAST_WEIGHT = 16;
/** Element cap per call when the fast path may run (the budget is what really limits it). */
const FAST_CAP = 1 << 24;
const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];

const RCX = 1, RSI = 6, RDI = 7;

/** An index register at the address size: unsigned for 16/32, signed number for 64. */
export function getIdx(cpu: Cpu, n: number, asz: number): number {
  if (asz === 8) return cpu.getRegNum(n);
  if (asz === 4) return cpu.r[n << 1]! >>> 0;
  return cpu.r[n << 1]! & 0xffff;
}

export function setIdx(cpu: Cpu, n: number, asz: number, v: number): void {
  const i = n << 1;
  if (asz === 8) { cpu.r[i] = v | 0; cpu.r[i + 1] = Math.floor(v / TWO32) | 0; }
  else if (asz === 4) { cpu.r[i] = v | 0; cpu.r[i + 1] = 0; }
  else cpu.r[i] = (cpu.r[i]! & ~0xffff) | (v & 0xffff);
}

/** Adds delta to an index at the address size, wrapping as the register would. */
export function advance(v: number, delta: number, asz: number): number {
  if (asz === 8) return v + delta;
  if (asz === 4) return (v + delta) >>> 0;
  return (v + delta) & 0xffff;
}

/** Linear address of seg:[off] (off from getIdx), checked for an access of `size`. */
export function strLin(cpu: Cpu, seg: number, off: number, asz: number, size: number, write: boolean): number {
  if (asz === 8) return cpu.linear(seg, off | 0, Math.floor(off / TWO32) | 0, size, write);
  return cpu.linear(seg, off | 0, 0, size, write);
}

/** min(rCX, cap) as a number (rCX is unsigned at the address size; 64-bit counts may exceed 2^53). */
export function repCount(cpu: Cpu, asz: number, cap: number): number {
  let c: number;
  if (asz === 8) {
    if (cpu.r[3] !== 0) return cap;
    c = cpu.r[2]! >>> 0;
  } else if (asz === 4) c = cpu.r[2]! >>> 0;
  else c = cpu.r[2]! & 0xffff;
  return c < cap ? c : cap;
}

/** rCX -= done at the address size; returns true when rCX is still non-zero. */
export function repConsume(cpu: Cpu, asz: number, done: number): boolean {
  if (asz === 8) {
    let lo = (cpu.r[2]! >>> 0) - done;
    let hi = cpu.r[3]!;
    if (lo < 0) { lo += TWO32; hi = (hi - 1) | 0; }
    cpu.r[2] = lo | 0; cpu.r[3] = hi;
    return lo !== 0 || hi !== 0;
  }
  if (asz === 4) { const c = (cpu.r[2]! - done) | 0; cpu.r[2] = c; cpu.r[3] = 0; return c !== 0; }
  const c = (cpu.r[2]! - done) & 0xffff;
  cpu.r[2] = (cpu.r[2]! & ~0xffff) | c;
  return c !== 0;
}

/** Elements that fit before the index wraps at the address size (unbounded for 64-bit). */
function beforeWrap(v: number, size: number, asz: number): number {
  if (asz === 8) return 0x7fffffff;
  const top = asz === 4 ? TWO32 : 0x10000;
  return Math.floor((top - v) / size);
}

/** True when no limit check can fail for any offset (so one element's check covers a run). */
function flatSeg(cpu: Cpu, seg: number): boolean {
  if (cpu.code64) return true;
  const ar = cpu.segAr[seg]!;
  return cpu.segLimit[seg] === 0xffffffff && (ar & 0xc) !== 4 && (ar & AR_UNUSABLE) === 0;
}

/**
 * RAM index of a cached linear address when the TLB entry grants `permMask`, else -1.
 * For writes, pages holding decoded code are refused so the slow path reports them.
 */
function tlbRam(cpu: Cpu, lin: number, permMask: number, write: boolean): number {
  const pn = Math.floor(lin / 4096);
  const i = pn & (cpu.tlbTag.length - 1);
  if (cpu.tlbTag[i] !== pn || (cpu.tlbPerm[i]! & permMask) === 0) return -1;
  const p = cpu.tlbPhys[i]!;
  if (write && cpu.mem.codePages[p / 4096]! !== 0) return -1;
  return p + (lin - pn * 4096);
}

function srcSeg(cpu: Cpu): number {
  return cpu.segOvr >= 0 ? cpu.segOvr : DS;
}

// ---------------------------------------------------------------------------------------
// MOVS (A4/A5)
// ---------------------------------------------------------------------------------------

/** Offset of a linear address within its 4K page (linear addresses may be negative numbers). */
function pageOff(lin: number): number {
  return lin - Math.floor(lin / 4096) * 4096;
}

/**
 * One fast MOVS run starting with the element at linear s -> d (indexes si/di): copies
 * up to `max` elements that stay within one source and one destination page and do not
 * wrap the index registers, going down when `down` (DF=1). Returns the number of elements
 * copied, 0 when the slow path must do this element.
 */
function movsRun(cpu: Cpu, s: number, d: number, si: number, di: number, size: number, asz: number, max: number, down: boolean): number {
  const sp = tlbRam(cpu, s, cpu.rdMask, false);
  if (sp < 0) return 0;
  const dp = tlbRam(cpu, d, cpu.wrMask, true);
  if (dp < 0) return 0;
  const so = pageOff(s), dO = pageOff(d);
  if (so + size > 4096 || dO + size > 4096) return 0;
  let k = max;
  let dist: number;
  if (!down) {
    k = Math.min(k, Math.floor((4096 - so) / size), Math.floor((4096 - dO) / size),
      beforeWrap(si, size, asz), beforeWrap(di, size, asz));
    // element-by-element forward copy: a destination just above the source must not read
    // bytes this run writes, so the run stops at the distance between them
    dist = dp - sp;
  } else {
    k = Math.min(k, Math.floor(so / size) + 1, Math.floor(dO / size) + 1);
    if (asz !== 8) k = Math.min(k, Math.floor(si / size) + 1, Math.floor(di / size) + 1);
    dist = sp - dp; // going down, the hazard is a destination just below the source
  }
  if (dist > 0 && dist < k * size) k = Math.floor(dist / size);
  if (k < 2) return 0;
  const bytes = k * size;
  if (!down) cpu.ram.copyWithin(dp, sp, sp + bytes);
  else cpu.ram.copyWithin(dp - bytes + size, sp - bytes + size, sp + size);
  return k;
}

function movs(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const asz = cpu.asz;
  const seg = srcSeg(cpu);
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  let si = getIdx(cpu, RSI, asz), di = getIdx(cpu, RDI, asz);
  if (cpu.rep === REP_NONE) {
    const v = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
    cpu.wrSz(strLin(cpu, ES, di, asz, size, true), size, v, cpu.hi);
    setIdx(cpu, RSI, asz, advance(si, delta, asz));
    setIdx(cpu, RDI, asz, advance(di, delta, asz));
    return;
  }
  const fast = flatSeg(cpu, seg) && flatSeg(cpu, ES);
  const n = repCount(cpu, asz, fast ? FAST_CAP : REP_CAP);
  if (n === 0) return;
  let done = 0, budget = REP_CAP;
  try {
    while (done < n && budget > 0) {
      const s = strLin(cpu, seg, si, asz, size, false);
      const d = strLin(cpu, ES, di, asz, size, true);
      if (fast) {
        const k = movsRun(cpu, s, d, si, di, size, asz, n - done, delta < 0);
        if (k !== 0) {
          const bytes = delta * k;
          si = advance(si, bytes, asz); di = advance(di, bytes, asz);
          done += k; budget -= FAST_WEIGHT;
          continue;
        }
      }
      const v = cpu.rdSz(s, size);
      cpu.wrSz(d, size, v, cpu.hi);
      si = advance(si, delta, asz); di = advance(di, delta, asz);
      done++; budget--;
    }
  } finally {
    setIdx(cpu, RSI, asz, si);
    setIdx(cpu, RDI, asz, di);
    if (repConsume(cpu, asz, done)) cpu.rip = cpu.startRip;
  }
}

// ---------------------------------------------------------------------------------------
// STOS (AA/AB)
// ---------------------------------------------------------------------------------------

/** Writes one element at RAM index p, then doubles it up to `bytes` with copyWithin. */
function fillRam(cpu: Cpu, p: number, size: number, v: number, vh: number, bytes: number): void {
  const ram = cpu.ram;
  if (size === 1) { ram.fill(v, p, p + bytes); return; }
  const view = cpu.view;
  if (size === 2) view.setUint16(p, v, true);
  else { view.setInt32(p, v, true); if (size === 8) view.setInt32(p + 4, vh, true); }
  let have = size;
  while (have < bytes) {
    const n = have < bytes - have ? have : bytes - have;
    ram.copyWithin(p + have, p, p + n);
    have += n;
  }
}

function stos(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const asz = cpu.asz;
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  const v = cpu.getRegSz(0, size);
  const vh = cpu.hi;
  let di = getIdx(cpu, RDI, asz);
  if (cpu.rep === REP_NONE) {
    cpu.wrSz(strLin(cpu, ES, di, asz, size, true), size, v, vh);
    setIdx(cpu, RDI, asz, advance(di, delta, asz));
    return;
  }
  const fast = delta > 0 && flatSeg(cpu, ES);
  const n = repCount(cpu, asz, fast ? FAST_CAP : REP_CAP);
  if (n === 0) return;
  let done = 0, budget = REP_CAP;
  try {
    while (done < n && budget > 0) {
      const d = strLin(cpu, ES, di, asz, size, true);
      if (fast) {
        const dp = tlbRam(cpu, d, cpu.wrMask, true);
        if (dp >= 0) {
          let k = n - done;
          const kd = Math.floor((4096 - pageOff(d)) / size);
          if (kd < k) k = kd;
          const kw = beforeWrap(di, size, asz);
          if (kw < k) k = kw;
          if (k >= 2) {
            const bytes = k * size;
            fillRam(cpu, dp, size, v, vh, bytes);
            di = advance(di, bytes, asz);
            done += k; budget -= FAST_WEIGHT;
            continue;
          }
        }
      }
      cpu.wrSz(d, size, v, vh);
      di = advance(di, delta, asz);
      done++; budget--;
    }
  } finally {
    setIdx(cpu, RDI, asz, di);
    if (repConsume(cpu, asz, done)) cpu.rip = cpu.startRip;
  }
}

// ---------------------------------------------------------------------------------------
// LODS (AC/AD): REP LODS is legal, if useless; it leaves the last element in rAX.
// ---------------------------------------------------------------------------------------

function lods(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const asz = cpu.asz;
  const seg = srcSeg(cpu);
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  let si = getIdx(cpu, RSI, asz);
  if (cpu.rep === REP_NONE) {
    const v = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
    cpu.setRegSz(0, size, v, cpu.hi);
    setIdx(cpu, RSI, asz, advance(si, delta, asz));
    return;
  }
  const n = repCount(cpu, asz, REP_CAP);
  let done = 0;
  try {
    while (done < n) {
      const v = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
      cpu.setRegSz(0, size, v, cpu.hi);
      si = advance(si, delta, asz);
      done++;
    }
  } finally {
    setIdx(cpu, RSI, asz, si);
    if (repConsume(cpu, asz, done)) cpu.rip = cpu.startRip;
  }
}

// ---------------------------------------------------------------------------------------
// CMPS (A6/A7) and SCAS (AE/AF): flags as CMP; REPE stops on ZF=0, REPNE on ZF=1.
// ---------------------------------------------------------------------------------------

/** CMP a,b at `size` with lazy flags; returns true when equal (ZF=1). */
function compare(cpu: Cpu, size: number, a: number, aHi: number, b: number, bHi: number): boolean {
  if (size === 8) {
    const s = (a >>> 0) - (b >>> 0);
    const lo = s | 0, hi = (aHi - bHi - (s < 0 ? 1 : 0)) | 0;
    cpu.setLazy64(LF_SUB, lo, hi, a, aHi, b, bHi);
    return lo === 0 && hi === 0;
  }
  const res = (a - b) & MASK[size]!;
  cpu.setLazy(LF_SUB, size, res, a, b);
  return res === 0;
}

function cmps(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const asz = cpu.asz;
  const seg = srcSeg(cpu);
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  let si = getIdx(cpu, RSI, asz), di = getIdx(cpu, RDI, asz);
  if (cpu.rep === REP_NONE) {
    const a = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
    const aHi = cpu.hi;
    const b = cpu.rdSz(strLin(cpu, ES, di, asz, size, false), size);
    compare(cpu, size, a, aHi, b, cpu.hi);
    setIdx(cpu, RSI, asz, advance(si, delta, asz));
    setIdx(cpu, RDI, asz, advance(di, delta, asz));
    return;
  }
  const n = repCount(cpu, asz, REP_CAP);
  const wantEq = cpu.rep === REP_E;
  let done = 0, stop = false;
  try {
    while (done < n) {
      const a = cpu.rdSz(strLin(cpu, seg, si, asz, size, false), size);
      const aHi = cpu.hi;
      const b = cpu.rdSz(strLin(cpu, ES, di, asz, size, false), size);
      const eq = compare(cpu, size, a, aHi, b, cpu.hi);
      si = advance(si, delta, asz); di = advance(di, delta, asz);
      done++;
      if (eq !== wantEq) { stop = true; break; }
    }
  } finally {
    setIdx(cpu, RSI, asz, si);
    setIdx(cpu, RDI, asz, di);
    if (repConsume(cpu, asz, done) && !stop) cpu.rip = cpu.startRip;
  }
}

function scas(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
  const size = (cpu.opcode & 1) === 0 ? 1 : cpu.osz;
  const asz = cpu.asz;
  const delta = (cpu.flags & DF) !== 0 ? -size : size;
  const a = cpu.getRegSz(0, size);
  const aHi = cpu.hi;
  let di = getIdx(cpu, RDI, asz);
  if (cpu.rep === REP_NONE) {
    const b = cpu.rdSz(strLin(cpu, ES, di, asz, size, false), size);
    compare(cpu, size, a, aHi, b, cpu.hi);
    setIdx(cpu, RDI, asz, advance(di, delta, asz));
    return;
  }
  const n = repCount(cpu, asz, REP_CAP);
  const wantEq = cpu.rep === REP_E;
  let done = 0, stop = false;
  try {
    while (done < n) {
      const b = cpu.rdSz(strLin(cpu, ES, di, asz, size, false), size);
      const eq = compare(cpu, size, a, aHi, b, cpu.hi);
      di = advance(di, delta, asz);
      done++;
      if (eq !== wantEq) { stop = true; break; }
    }
  } finally {
    setIdx(cpu, RDI, asz, di);
    if (repConsume(cpu, asz, done) && !stop) cpu.rip = cpu.startRip;
  }
}

export function installString(t: Handler[]): void {
  def(t, 0xa4, movs); def(t, 0xa5, movs);
  def(t, 0xa6, cmps); def(t, 0xa7, cmps);
  def(t, 0xaa, stos); def(t, 0xab, stos);
  def(t, 0xac, lods); def(t, 0xad, lods);
  def(t, 0xae, scas); def(t, 0xaf, scas);
}
