/**
 * The time-stamp counter (SDM Vol. 3B §18.17).
 *
 * The TSC is derived from a virtual clock, never from host time, so RDTSC is monotonic and
 * a given run is deterministic: TSC = instructionCount * TSC_PER_INSTRUCTION + tscOffset.
 * TSC_PER_INSTRUCTION is chosen so that the TSC advances at profile.tscHz when the guest
 * runs at NOMINAL_IPS instructions per (virtual) second. On a board, cpu.clock (the VM's one
 * virtual clock, advanced at the same nominal rate) replaces the instruction count.
 *
 * The offset is kept exactly, modulo 2^64 as on hardware, in two parts: cpu.tscOffset, a
 * multiple of 2^32 (the high dword as a signed int32 times 2^32: exact in a double), and
 * cpu.tscOffsetLo in [0, 2^32). So RDTSC and RDMSR(TSC) return the exact 64-bit value even
 * after a guest wrote a TSC or a VMCS TSC offset beyond 2^53 (kvm-unit-tests
 * atomic_switch_*_msrs_test loads TSC = 0x1234567890abcdef, then rdtsc_vmexit_diff_test
 * compares an L2 RDTSC with the VM-exit MSR-store value to the tick). tscValue() stays a
 * plain number for the timers that compare TSC deadlines (rounded above 2^53: sub-µs).
 */
import type { Cpu } from './cpu.js';

const TWO32 = 4294967296;

/** Nominal guest instruction rate of the virtual clock (instructions per virtual second). */
export const NOMINAL_IPS = 100_000_000;

/** TSC ticks per retired instruction at the profile's nominal TSC frequency. */
export function tscPerInstruction(cpu: Cpu): number {
  return Math.max(1, Math.round(cpu.profile.tscHz / NOMINAL_IPS));
}

/**
 * The TSC before the offset: from the VM's virtual clock when the board installed one
 * (cpu.clock, src/devices/clock.ts: TSC = virtual ns * tscHz / 1e9, so TSC, APIC timer,
 * PIT, HPET and RTC agree), else from this CPU's retired instructions (stand-alone tests).
 */
export function tscBase(cpu: Cpu): number {
  const c = cpu.clock;
  if (c !== null) return Math.floor(c.nowNs() * (cpu.profile.tscHz / 1e9));
  return cpu.instructionCount * tscPerInstruction(cpu);
}

/** The TSC offset as a plain number (a signed 64-bit value; rounded beyond 2^53). */
export function tscOffsetValue(cpu: Cpu): number { return cpu.tscOffset + cpu.tscOffsetLo; }

/** The current TSC as a number (non-negative; rounded beyond 2^53). */
export function tscValue(cpu: Cpu): number {
  const v = tscBase(cpu) + cpu.tscOffset + cpu.tscOffsetLo;
  return v < 0 ? 0 : v;
}

/**
 * Adds the 64-bit two's-complement value hi:lo to the TSC offset, exactly, modulo 2^64
 * (a VMCS TSC offset at VM entry; its negation, ~hi:-lo, at VM exit).
 */
export function addTscOffset(cpu: Cpu, lo: number, hi: number): void {
  const s = cpu.tscOffsetLo + (lo >>> 0);
  const carry = s >= TWO32 ? 1 : 0;
  cpu.tscOffsetLo = s - carry * TWO32;
  cpu.tscOffset = ((cpu.tscOffset / TWO32 + hi + carry) | 0) * TWO32;
}
/** Subtracts the 64-bit value hi:lo from the TSC offset, exactly (modulo 2^64). */
export function subTscOffset(cpu: Cpu, lo: number, hi: number): void {
  // -(hi:lo) = ~hi:~lo + 1
  const nlo = (~lo >>> 0) + 1;
  addTscOffset(cpu, nlo === TWO32 ? 0 : nlo, nlo === TWO32 ? ~hi + 1 : ~hi);
}
/** Adds a plain number (exact when |delta| < 2^53: IA32_TSC_ADJUST writes) to the offset. */
export function addTscOffsetNumber(cpu: Cpu, delta: number): void {
  const h = Math.floor(delta / TWO32);
  addTscOffset(cpu, delta - h * TWO32, h | 0);
}

/** RDTSC's value, base + offset modulo 2^64 exactly: returns the low dword, high dword in cpu.hi. */
export function readTsc(cpu: Cpu): number {
  const b = tscBase(cpu);
  const bh = Math.floor(b / TWO32);
  const s = (b - bh * TWO32) + cpu.tscOffsetLo;
  const carry = s >= TWO32 ? 1 : 0;
  cpu.hi = (bh + cpu.tscOffset / TWO32 + carry) | 0;
  return (s - carry * TWO32) | 0;
}

/**
 * WRMSR IA32_TIME_STAMP_COUNTER: moves the offset so the counter reads hi:lo now (exactly).
 * Returns the change of the counter as a number (for IA32_TSC_ADJUST).
 */
export function writeTsc(cpu: Cpu, lo: number, hi: number): number {
  const oldLo = readTsc(cpu) >>> 0, oldHi = cpu.hi;
  const b = tscBase(cpu);
  const bh = Math.floor(b / TWO32), bl = b - bh * TWO32;
  // offset = target - base
  cpu.tscOffset = 0; cpu.tscOffsetLo = 0;
  const d = (lo >>> 0) - bl;
  const borrow = d < 0 ? 1 : 0;
  addTscOffset(cpu, d + borrow * TWO32, (hi - bh - borrow) | 0);
  // the change, as a signed 64-bit difference of the two counter values
  const dl = (lo >>> 0) - oldLo;
  const db = dl < 0 ? 1 : 0;
  return ((hi - oldHi - db) | 0) * TWO32 + dl + db * TWO32;
}
