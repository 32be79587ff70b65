/**
 * Small helpers shared by the integer-ALU files: operand-size masks, eager ZF/SF/PF of a
 * 64-bit result, the LOCK prefix rule and the RIP-relative fix-up for opcodes whose
 * immediate size is only known after ModRM.reg is decoded.
 */
import type { Cpu } from '../cpu.js';
import { ZF, SF, PF } from '../regs.js';

export const TWO32 = 4294967296;
/** Value mask by operand size in bytes (size 4 keeps int32; size 8 masks per half). */
export const MASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
/** Sign bit by operand size (of the low half; for size 8 of the high half). */
export const SIGN = [0, 0x80, 0x8000, 0, 0x80000000 | 0, 0, 0, 0, 0x80000000 | 0];

/** Even-parity table of a byte (PF). */
const PAR = new Uint8Array(256);
for (let i = 0; i < 256; i++) { let n = 0; for (let b = i; b; b >>= 1) n += b & 1; PAR[i] = (n & 1) === 0 ? 1 : 0; }

/** ZF/SF/PF of a 64-bit result held as halves. */
export function szp64(lo: number, hi: number): number {
  return (PAR[lo & 0xff] === 1 ? PF : 0) | ((lo | hi) === 0 ? ZF : 0) | (hi < 0 ? SF : 0);
}

/** ZF/SF/PF of a result of any size (size 8: hi given). */
export function szpSz(cpu: Cpu, lo: number, hi: number, size: number): number {
  return size === 8 ? szp64(lo, hi) : cpu.szp(lo, size);
}

/**
 * LOCK is legal only with a memory destination of ADD ADC AND BTC BTR BTS CMPXCHG
 * CMPXCHG8B/16B DEC INC NEG NOT OR SBB SUB XOR XADD XCHG (SDM Vol. 2A "LOCK"); anything
 * else raises #UD. Call after decodeModrm.
 */
export function lockMem(cpu: Cpu): void {
  if (cpu.lock && cpu.mod === 3) cpu.ud();
}
/** For instructions that can never be locked. */
export function noLock(cpu: Cpu): void {
  if (cpu.lock) cpu.ud();
}

/**
 * decodeModrm(0) computed a RIP-relative address as if no immediate followed; add the
 * immediate size once it is known (F6/F7 /0 TEST, whose immediate depends on ModRM.reg).
 */
export function ripRelFixup(cpu: Cpu, immBytes: number): void {
  if (!cpu.code64 || cpu.mod !== 0 || cpu.rm !== 5) return;
  if (cpu.asz === 8) {
    const s = (cpu.eaLo >>> 0) + immBytes;
    cpu.eaLo = s | 0;
    if (s >= TWO32) cpu.eaHi = (cpu.eaHi + 1) | 0;
  } else cpu.eaLo = (cpu.eaLo + immBytes) | 0;
}
