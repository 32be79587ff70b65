/**
 * The time-stamp counter (SDM Vol. 3B §18.17).
 *
 * The TSC is derived from a virtual clock, never from host time, so RDTSC is monotonic and
 * a given run is deterministic: TSC = instructionCount * TSC_PER_INSTRUCTION + tscOffset.
 * TSC_PER_INSTRUCTION is chosen so that the TSC advances at profile.tscHz when the guest
 * runs at NOMINAL_IPS instructions per (virtual) second. On a board, cpu.clock (the VM's one
 * virtual clock, advanced at the same nominal rate) replaces the instruction count.
 *
 * Values are JS numbers: exact below 2^53 (about 52 days at 2 GHz). A guest that writes a
 * larger TSC gets its low bits rounded — documented, never a host error.
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

/** The current TSC as a number (non-negative, exact below 2^53). */
export function tscValue(cpu: Cpu): number {
  const v = tscBase(cpu) + cpu.tscOffset;
  return v < 0 ? 0 : v;
}

/** RDTSC's value: returns the low dword, high dword in cpu.hi. */
export function readTsc(cpu: Cpu): number {
  const v = tscValue(cpu);
  const hi = Math.floor(v / TWO32);
  cpu.hi = hi | 0;
  return (v - hi * TWO32) | 0;
}

/** WRMSR IA32_TIME_STAMP_COUNTER: moves the offset so the counter reads the new value now. */
export function writeTsc(cpu: Cpu, lo: number, hi: number): number {
  const target = (hi >>> 0) * TWO32 + (lo >>> 0);
  const old = tscValue(cpu);
  cpu.tscOffset = target - tscBase(cpu);
  return target - old;
}
