/**
 * VM-exit instruction information and the displacement qualification for instructions with
 * a memory operand (SDM Vol. 3C §27.2.1 "exit qualification", §27.2.5 Tables 27-9..27-14).
 *
 * The decoder (cpu.decodeModrm) keeps only the effective address, so the ModRM/SIB bytes
 * are parsed again from the instruction's own bytes (already fetched, so no fault): prefixes,
 * REX, the opcode escape bytes, then ModRM, SIB and displacement.
 *
 * Common layout (memory operand): 1:0 scaling | 9:7 address size (0 16, 1 32, 2 64) |
 * 10 mem/reg (1 = register) | 17:15 segment | 21:18 index | 22 index invalid |
 * 26:23 base | 27 base invalid. Tables 27-11 and 27-14 also put the r/m register in 6:3
 * ("Reg1") and Tables 27-12/27-14 the ModRM.reg register in 31:28 ("Reg2").
 */
import type { Cpu } from '../cpu.js';

const TWO32 = 4294967296;

/** Displacement (or RIP-relative effective address) for the exit qualification; set by parse(). */
let disp = 0;

function codeByte(cpu: Cpu, k: number): number {
  const lin = cpu.segBase[1]! + cpu.startRip + k;
  return cpu.mem.read8(cpu.translate(cpu.code64 ? lin : lin >>> 0, 2, cpu.cpl === 3));
}

/**
 * Parses the current instruction's memory operand; returns the instruction-information bits
 * common to every table (register operands: mem/reg = 1 and Reg1 = r/m).
 */
export function operandInfo(cpu: Cpu): number {
  disp = 0;
  const asz = cpu.asz === 2 ? 0 : cpu.asz === 4 ? 1 : 2;
  let info = (asz << 7) | ((cpu.reg & 15) << 28);
  if (cpu.mod === 3) return info | (1 << 10) | ((cpu.rm & 15) << 3);
  // skip prefixes, REX and the opcode bytes to reach ModRM
  let k = 0, b = codeByte(cpu, k);
  for (;;) {
    if (b === 0x66 || b === 0x67 || b === 0xf2 || b === 0xf3 || b === 0xf0 || b === 0x26 || b === 0x2e ||
      b === 0x36 || b === 0x3e || b === 0x64 || b === 0x65 || (cpu.code64 && (b & 0xf0) === 0x40)) { b = codeByte(cpu, ++k); continue; }
    break;
  }
  if (b === 0x0f) {
    b = codeByte(cpu, ++k);
    if (b === 0x38 || b === 0x3a) k++;
  }
  k++; // ModRM
  const modrm = codeByte(cpu, k++);
  const mod = modrm >> 6, rm = modrm & 7;
  let base = -1, index = -1, scale = 0, dispSize = 0, ripRel = false;
  if (cpu.asz === 2) {
    const B = [3, 3, 5, 5, 6, 7, 5, 3], I = [6, 7, 6, 7, -1, -1, -1, -1];
    base = B[rm]!; index = I[rm]!;
    if (mod === 0 && rm === 6) { base = -1; dispSize = 2; } else dispSize = mod === 1 ? 1 : mod === 2 ? 2 : 0;
  } else {
    if (rm === 4) {
      const sib = codeByte(cpu, k++);
      scale = sib >> 6;
      const idx = ((sib >> 3) & 7) | cpu.rexX;
      if (idx !== 4) index = idx;
      base = (sib & 7) | cpu.rexB;
      if ((sib & 7) === 5 && mod === 0) { base = -1; dispSize = 4; }
    } else if (rm === 5 && mod === 0) { dispSize = 4; ripRel = cpu.code64; }
    else base = rm | cpu.rexB;
    if (mod === 1) dispSize = 1; else if (mod === 2) dispSize = 4;
  }
  let d = 0;
  for (let i = 0; i < dispSize; i++) d |= codeByte(cpu, k + i) << (8 * i);
  if (dispSize === 1) d = (d << 24) >> 24; else if (dispSize === 2) d = (d << 16) >> 16;
  // §27.2.1: RIP-relative addressing reports displacement + RIP of the next instruction
  disp = ripRel ? cpu.eaHi * TWO32 + (cpu.eaLo >>> 0) : d;
  info |= scale | ((cpu.eaSeg & 7) << 15);
  info |= index < 0 ? 1 << 22 : (index & 15) << 18;
  info |= base < 0 ? 1 << 27 : (base & 15) << 23;
  return info;
}

/** The exit qualification of the last operandInfo(): the displacement, sign-extended. */
export function operandDisplacement(): number { return disp; }
