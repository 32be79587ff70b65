/**
 * SSE4.2 string and text instructions PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (66 0F 3A
 * 60-63) and CRC32 (F2 0F 38 F0/F1, reached from MOVBE's slots in ops/bits.ts) — SDM Vol. 2B
 * §4.1 "Imm8 Control Byte Operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM" and the
 * CRC32 entry. PCMPGTQ is in sse41-int.ts, POPCNT in ops/bits.ts.
 *
 * imm8 of the string instructions:
 *   [1:0] source format: 00 unsigned bytes, 01 unsigned words, 10 signed bytes, 11 signed words
 *   [3:2] aggregation:   00 equal any, 01 ranges, 10 equal each, 11 equal ordered
 *   [5:4] polarity:      00 positive, 01 negative, 10 masked positive, 11 masked negative
 *   [6]   index: 0 least, 1 most significant set bit; mask: 0 bit mask, 1 element mask
 * Operand 1 is the register (xmm1), operand 2 xmm2/m128 (no alignment needed). Lengths are
 * explicit (|EAX|/|RAX| and |EDX|/|RDX|, saturated) or implicit (up to the first zero
 * element). Flags: CF = result ≠ 0, ZF = operand 2 shorter than the register, SF = operand 1
 * shorter, OF = result bit 0, AF = PF = 0.
 */
import type { Cpu, Handler } from '../cpu.js';
import { CF, ZF, SF, OF, RAX, RCX, RDX } from '../regs.js';
import { A, B, A8, B8, A8s, B8s, A16, B16, A16s, B16s, byPrefix, sseCheck, has, loadXmmSrc, loadXmmA, FE_SSE42 } from './common.js';
import { def } from '../ops/table.js';

/** Current element views (bytes/words, signed or not) chosen by imm8[1:0]. */
let ea: Uint8Array | Int8Array | Uint16Array | Int16Array = A8, eb: Uint8Array | Int8Array | Uint16Array | Int16Array = B8;

function explicitLen(cpu: Cpu, reg: number, n: number, wide: boolean): number {
  const lo = cpu.r[reg << 1]!;
  const v = Math.abs(wide ? cpu.r[(reg << 1) + 1]! * 4294967296 + (lo >>> 0) : lo);
  return v > n ? n : v;
}
function implicitLen(e: Uint8Array | Int8Array | Uint16Array | Int16Array, n: number): number {
  for (let i = 0; i < n; i++) if (e[i] === 0) return i;
  return n;
}

/** IntRes1 of the aggregation (SDM §4.1.4), with the invalid-element overrides of Table 4-7. */
function aggregate(agg: number, n: number, l1: number, l2: number): number {
  let res = 0;
  switch (agg) {
    case 0: // equal any: operand-2 element j equals some valid operand-1 element
      for (let j = 0; j < l2; j++) {
        for (let i = 0; i < l1; i++) if (ea[i] === eb[j]) { res |= 1 << j; break; }
      }
      break;
    case 1: // ranges: a[i] <= b[j] <= a[i+1] for a valid pair (i even)
      for (let j = 0; j < l2; j++) {
        const v = eb[j]!;
        for (let i = 0; i + 1 < l1; i += 2) if (v >= ea[i]! && v <= ea[i + 1]!) { res |= 1 << j; break; }
      }
      break;
    case 2: // equal each: both invalid → true, one invalid → false
      for (let i = 0; i < n; i++) {
        const v1 = i < l1, v2 = i < l2;
        if (v1 && v2 ? ea[i] === eb[i] : !v1 && !v2) res |= 1 << i;
      }
      break;
    default: // equal ordered: operand 1 occurs at position j of operand 2 (invalid operand-1 elements match)
      for (let j = 0; j < n; j++) {
        let ok = true;
        for (let i = 0; i < n - j && ok; i++) {
          if (i >= l1) break;
          const k = j + i;
          ok = k < l2 && ea[i] === eb[k];
        }
        if (ok) res |= 1 << j;
      }
  }
  return res;
}

function pcmpstr(explicit: boolean, index: boolean): Handler {
  return byPrefix(null, (cpu) => {
    cpu.decodeModrm(1);
    sseCheck(cpu, has(cpu, FE_SSE42));
    const imm = cpu.fetch8();
    loadXmmSrc(cpu, 16, false);
    loadXmmA(cpu, cpu.reg);
    pcmpstrRun(cpu, explicit, index, imm, cpu.rexW);
  }, null, null);
}

/**
 * The operation of PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM once operand 1 is in A and
 * operand 2 in B (shared with the VEX forms, avx/int2.ts): result to ECX or XMM0 bits
 * 127:0, and the flags. `wide`: explicit lengths from RAX/RDX (REX.W / VEX.W1 in 64-bit mode).
 */
export function pcmpstrRun(cpu: Cpu, explicit: boolean, index: boolean, imm: number, wide: boolean): void {
  const words = (imm & 1) !== 0, signed = (imm & 2) !== 0, n = words ? 8 : 16;
  ea = words ? (signed ? A16s : A16) : signed ? A8s : A8;
  eb = words ? (signed ? B16s : B16) : signed ? B8s : B8;
  const l1 = explicit ? explicitLen(cpu, RAX, n, wide) : implicitLen(ea, n);
  const l2 = explicit ? explicitLen(cpu, RDX, n, wide) : implicitLen(eb, n);
  const mask = words ? 0xff : 0xffff;
  let res = aggregate((imm >> 2) & 3, n, l1, l2);
  switch ((imm >> 4) & 3) {
    case 1: res = ~res & mask; break;
    case 3: res ^= (1 << l2) - 1; break;
    default: break;
  }
  if (index) {
    const idx = res === 0 ? n : (imm & 0x40) !== 0 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
    cpu.setRegSz(RCX, 4, idx, 0);
  } else {
    const x = cpu.fpu;
    if ((imm & 0x40) === 0) { x.xmm[0] = res; x.xmm[1] = 0; x.xmm[2] = 0; x.xmm[3] = 0; }
    else if (words) for (let i = 0; i < 8; i++) x.xmmU16[i] = (res >> i) & 1 ? 0xffff : 0;
    else for (let i = 0; i < 16; i++) x.xmmU8[i] = (res >> i) & 1 ? 0xff : 0;
  }
  cpu.setArith((res !== 0 ? CF : 0) | (l2 < n ? ZF : 0) | (l1 < n ? SF : 0) | ((res & 1) !== 0 ? OF : 0));
}

// ---- CRC32 (Castagnoli polynomial 11EDC6F41H, bit-reflected as the SDM's CRC32 entry) ---------
const CRC = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC[i] = c;
}
function crcBytes(crc: number, v: number, n: number): number {
  for (let k = 0; k < n; k++) { crc = (crc >>> 8) ^ CRC[(crc ^ v) & 0xff]!; v >>>= 8; }
  return crc;
}

/**
 * F2 0F 38 F0 CRC32 r32|r64, r/m8; F2 0F 38 F1 CRC32 r32, r/m16|r/m32, r64, r/m64 (REX.W).
 * A general-purpose instruction: only CPUID.SSE4_2 gates it (no CR0/CR4 checks). The
 * destination's low 32 bits are the running CRC; the result is zero-extended.
 */
export function crc32(cpu: Cpu): void {
  cpu.decodeModrm(0);
  if (cpu.lock || has(cpu, FE_SSE42) === 0) cpu.ud();
  const size = cpu.opcode === 0x2f0 ? 1 : cpu.osz;
  const v = cpu.readE(size), vHi = cpu.hi;
  let crc = cpu.r[cpu.reg << 1]!;
  crc = crcBytes(crc, v, size > 4 ? 4 : size);
  if (size === 8) crc = crcBytes(crc, vHi, 4);
  cpu.setRegSz(cpu.reg, cpu.rexW ? 8 : 4, crc | 0, 0);
}

export function installSse42(t: Handler[]): void {
  def(t, 0x360, pcmpstr(true, false));
  def(t, 0x361, pcmpstr(true, true));
  def(t, 0x362, pcmpstr(false, false));
  def(t, 0x363, pcmpstr(false, true));
}
