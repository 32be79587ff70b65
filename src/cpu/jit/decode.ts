/**
 * The translator's static decoder: reads one instruction from guest RAM at compile time
 * (prefixes, opcode, ModRM/SIB/displacement, immediate) without touching the CPU. It decodes
 * exactly what Cpu.decodePrefixes/decodeModrm decode (SDM Vol. 2 §2.1-2.2), so a block built
 * from it runs the bytes the interpreter would run; it knows the immediate sizes of the
 * opcodes the translator accepts (SHAPE) and reports everything else as not compilable.
 *
 * SSE/MMX (0F, 0F 38, 0F 3A with or without a 66/F2/F3 mandatory prefix), x87 (D8-DF, WAIT)
 * and VEX (C4/C5) instructions are accepted for handler calls (compile.ts): their length is
 * fixed by the map alone — ModRM always (EMMS and VZEROUPPER/VZEROALL excepted), an imm8 for
 * 0F 3A, 0F 70-73 and 0F C2/C4-C6 (SDM Vol. 2 Appendix A, Tables; VEX §2.3.5:
 * the same rule per map, map 2 without immediates). Left to the interpreter: 3DNow! (0F 0F,
 * 0F 0E: not offered), 0F 78/79 (VMREAD/VMWRITE, or EXTRQ/INSERTQ with their two immediates),
 * 0F C7 (XSAVES/XRSTORS, RDRAND, VMPTRLD: may VM-exit), 0F 38 80-82 (INVEPT/INVVPID/INVPCID:
 * VM exits) and the prefixed and register forms of 0F AE other than the fences (RD/WRFSBASE,
 * TPAUSE/UMWAIT), so that no accepted instruction can VM-exit by itself (jit.ts header). VEX
 * follows run-loop.ts decodeVex: C4/C5 are VEX in 64-bit mode, and in 32-bit code only when
 * the next byte has bits 7:6 = 11 (else LES/LDS, not accepted); a 66/F2/F3/LOCK/REX prefix
 * before it or a map other than 1-3 (#UD) is left to the interpreter.
 */
import { ES, CS, SS, DS, FS, GS } from '../regs.js';

/** Cpu's REP_* values (not imported: cpu.ts imports the translator, module init would cycle). */
const REP_NONE = 0, REP_E = 1, REP_NE = 2;

/** Marks an absent base/index register (the decode cache's DC_NO_REG). */
export const NO_REG = 16;

/** One decoded instruction (reused object: compile time only). */
export class Insn {
  /** Offset of the first byte in its page. */
  off = 0;
  len = 0;
  /** Bytes of prefixes and opcode: the handler starts fetching after them. */
  pfxLen = 0;
  opcode = 0;
  osz = 4; asz = 4;
  rex = 0; rexW = false;
  segOvr = -1;
  rep = REP_NONE;
  lock = false;
  pfx66 = false;
  /** VEX prefix fields, as decodeVex sets them (L, vvvv un-inverted, 4 bits). */
  vex = false;
  vexL = 0;
  vexV = 0;
  hasModrm = false;
  modrm = 0;
  mod = 0;
  /** ModRM.reg with REX.R. */
  reg = 0;
  /** ModRM.rm with REX.B for register operands (mod 3); raw rm otherwise. */
  rm = 0;
  base = NO_REG; index = NO_REG; scale = 0; disp = 0; seg = DS; ripRel = false;
  /** Immediate size in bytes (0 = none) and value: sign-extended int32 (imm64: lo, immHi). */
  immLen = 0;
  imm = 0;
  immHi = 0;
  /** 8-bit register operands use AH..BH for encodings 4-7 (no REX prefix). */
  get legacy8(): boolean { return this.rex === 0; }
}

/** Immediate kinds of insnShape. */
const I_NONE = 0, I_8 = 1, I_Z = 2, I_16 = 3, I_V = 4;
/** Shape of an accepted opcode: bit 0 = has ModRM, bits 4.. = immediate kind; -1 = not accepted. */
const SHAPE = new Int16Array(0x700).fill(-1);
function shape(op: number, modrm: boolean, imm: number): void { SHAPE[op] = (modrm ? 1 : 0) | (imm << 4); }
for (let op = 0; op < 8; op++) {
  const b = op << 3;
  shape(b, true, I_NONE); shape(b + 1, true, I_NONE); shape(b + 2, true, I_NONE); shape(b + 3, true, I_NONE);
  shape(b + 4, false, I_8); shape(b + 5, false, I_Z);
}
for (let op = 0x40; op < 0x60; op++) shape(op, false, I_NONE); // INC/DEC (outside 64-bit mode), PUSH/POP reg
shape(0x63, true, I_NONE); // MOVSXD (64-bit mode only: checked in accept)
shape(0x68, false, I_Z); shape(0x6a, false, I_8);
shape(0x69, true, I_Z); shape(0x6b, true, I_8);
for (let op = 0x70; op < 0x80; op++) shape(op, false, I_8);
shape(0x80, true, I_8); shape(0x81, true, I_Z); shape(0x82, true, I_8); shape(0x83, true, I_8);
for (let op = 0x84; op <= 0x8b; op++) shape(op, true, I_NONE);
shape(0x8d, true, I_NONE);
for (let op = 0x90; op <= 0x99; op++) shape(op, false, I_NONE);
shape(0xa8, false, I_8); shape(0xa9, false, I_Z);
for (let op = 0xb0; op < 0xb8; op++) shape(op, false, I_8);
for (let op = 0xb8; op < 0xc0; op++) shape(op, false, I_V);
shape(0xc0, true, I_8); shape(0xc1, true, I_8);
shape(0xc2, false, I_16); shape(0xc3, false, I_NONE);
shape(0xc6, true, I_8); shape(0xc7, true, I_Z);
for (let op = 0xd0; op <= 0xd3; op++) shape(op, true, I_NONE);
shape(0xe8, false, I_Z); shape(0xe9, false, I_Z); shape(0xeb, false, I_8);
shape(0xf6, true, I_NONE); shape(0xf7, true, I_NONE); // TEST's immediate: by ModRM.reg below
shape(0xfe, true, I_NONE); shape(0xff, true, I_NONE);
shape(0x11f, true, I_NONE);
for (let op = 0x140; op < 0x150; op++) shape(op, true, I_NONE);
for (let op = 0x180; op < 0x190; op++) shape(op, false, I_Z);
for (let op = 0x190; op < 0x1a0; op++) shape(op, true, I_NONE);
for (const op of [0x1a3, 0x1ab, 0x1b3, 0x1bb, 0x1a5, 0x1ad, 0x1af, 0x1b0, 0x1b1, 0x1c0, 0x1c1, 0x1b6, 0x1b7, 0x1be, 0x1bf, 0x1bc, 0x1bd]) shape(op, true, I_NONE);
shape(0x1ba, true, I_8); shape(0x1a4, true, I_8); shape(0x1ac, true, I_8);
for (let op = 0x1c8; op < 0x1d0; op++) shape(op, false, I_NONE);
// ---- handler calls for the floating-point and vector maps (see the header) ----
// x87 escapes (every form has ModRM: register forms are mod = 11) and WAIT/FWAIT
for (let op = 0xd8; op < 0xe0; op++) shape(op, true, I_NONE);
shape(0x9b, false, I_NONE);
// 0F: SSE/SSE2/SSE3 moves and arithmetic, MMX, PREFETCHh, MOVNTI, POPCNT (F3 0F B8)
for (let op = 0x110; op <= 0x118; op++) shape(op, true, I_NONE);
for (let op = 0x128; op < 0x130; op++) shape(op, true, I_NONE);
for (let op = 0x150; op < 0x170; op++) shape(op, true, I_NONE);
for (let op = 0x170; op < 0x174; op++) shape(op, true, I_8); // PSHUF*, shift groups 12-14
for (let op = 0x174; op < 0x177; op++) shape(op, true, I_NONE);
shape(0x177, false, I_NONE); // EMMS
for (let op = 0x17c; op < 0x180; op++) shape(op, true, I_NONE);
shape(0x1ae, true, I_NONE); // group 15: the forms are checked below
shape(0x1b8, true, I_NONE);
shape(0x1c2, true, I_8); shape(0x1c3, true, I_NONE); shape(0x1c4, true, I_8); shape(0x1c5, true, I_8); shape(0x1c6, true, I_8);
for (let op = 0x1d0; op < 0x1ff; op++) shape(op, true, I_NONE);
// 0F 38: SSSE3, SSE4.1/4.2, AES-NI, MOVBE/CRC32 (80-82 VM-exit: not accepted)
for (let op = 0x200; op < 0x280; op++) shape(op, true, I_NONE);
for (let op = 0x2db; op < 0x2e0; op++) shape(op, true, I_NONE);
shape(0x2f0, true, I_NONE); shape(0x2f1, true, I_NONE);
// 0F 3A: every opcode takes an imm8
for (let op = 0x300; op < 0x400; op++) shape(op, true, I_8);
// VEX maps 1-3 (table 0x400 + (map - 1) * 0x100 + opcode)
for (let op = 0x400; op < 0x700; op++) shape(op, true, op >= 0x600 ? I_8 : I_NONE);
for (const op of [0x470, 0x471, 0x472, 0x473, 0x4c2, 0x4c4, 0x4c5, 0x4c6]) shape(op, true, I_8);
shape(0x477, false, I_NONE); // VZEROUPPER / VZEROALL

const IS_PREFIX = new Uint8Array(256);
for (const b of [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]) IS_PREFIX[b] = 1;
for (let b = 0x40; b < 0x50; b++) IS_PREFIX[b] = 1;

/**
 * Decodes the instruction at ram[page + off] in the given mode (code64; defSz = default
 * operand/address size 4 for 32-bit code). Returns false when it is not one the translator
 * accepts or does not lie wholly inside the page.
 */
export function decodeInsn(ram: Uint8Array, page: number, off: number, code64: boolean, out: Insn): boolean {
  let p = off;
  bad = false;
  const get = (): number => (p < 4096 ? ram[page + p++]! : -1);
  out.off = off;
  out.osz = 4; out.asz = code64 ? 8 : 4;
  out.rex = 0; out.rexW = false; out.segOvr = -1; out.rep = REP_NONE; out.lock = false; out.pfx66 = false;
  out.vex = false; out.vexL = 0; out.vexV = 0;
  let b = get();
  // prefixes, as Cpu.decodePrefixes reads them
  for (;;) {
    if (b < 0 || p - off > 15) return false;
    if (IS_PREFIX[b] === 0 || (b >= 0x40 && b < 0x50 && !code64)) break;
    switch (b) {
      case 0x66: out.pfx66 = true; out.osz = 2; break;
      case 0x67: out.asz = code64 ? 4 : 2; break;
      case 0xf2: out.rep = REP_NE; break;
      case 0xf3: out.rep = REP_E; break;
      case 0xf0: out.lock = true; break;
      case 0x26: out.segOvr = code64 ? -1 : ES; break;
      case 0x2e: out.segOvr = code64 ? -1 : CS; break;
      case 0x36: out.segOvr = code64 ? -1 : SS; break;
      case 0x3e: out.segOvr = code64 ? -1 : DS; break;
      case 0x64: out.segOvr = FS; break;
      case 0x65: out.segOvr = GS; break;
      default: {
        // REX (64-bit mode): it counts only right before the opcode (SDM Vol. 2 §2.2.1)
        const nb = get();
        if (nb < 0) return false;
        if (IS_PREFIX[nb] === 1) { b = nb; continue; }
        out.rex = b; out.rexW = (b & 8) !== 0;
        if (out.rexW) out.osz = 8;
        b = nb;
        break;
      }
    }
    if (out.rex !== 0) break;
    b = get();
  }
  let op = b;
  if (op === 0x0f) {
    const b2 = get();
    if (b2 < 0) return false;
    if (b2 === 0x38 || b2 === 0x3a) {
      const b3 = get();
      if (b3 < 0) return false;
      op = (b2 === 0x38 ? 0x200 : 0x300) | b3;
    } else op = 0x100 | b2;
  } else if (op === 0xc4 || op === 0xc5) {
    // VEX (SDM Vol. 2 §2.3.5), exactly as run-loop.ts decodeVex reads it
    if (out.pfx66 || out.rep !== REP_NONE || out.lock || out.rex !== 0) return false; // #UD: interpreter
    const b1 = get();
    if (b1 < 0) return false;
    if (!code64 && (b1 & 0xc0) !== 0xc0) return false; // LES/LDS
    let w = 0, map = 1, rxb: number, b2: number;
    if (op === 0xc5) { rxb = (~b1 >> 5) & 4; b2 = b1; }
    else {
      rxb = (~b1 >> 5) & 7;
      map = b1 & 31;
      b2 = get();
      if (b2 < 0) return false;
      w = b2 >> 7;
    }
    if (!code64) rxb = 0; // R̄/X̄ are 1 there, B̄ is ignored (§2.3.5.3)
    if (map < 1 || map > 3) return false; // #UD: interpreter
    const ob = get();
    if (ob < 0) return false;
    out.vex = true;
    out.vexV = (~b2 >> 3) & 15;
    out.vexL = (b2 >> 2) & 1;
    const pp = b2 & 3;
    if (pp === 1) out.pfx66 = true;
    else if (pp === 2) out.rep = REP_E;
    else if (pp === 3) out.rep = REP_NE;
    out.rex = 0x40 | (w << 3) | rxb;
    out.rexW = w !== 0;
    if (w !== 0 && code64) out.osz = 8;
    op = 0x400 + ((map - 1) << 8) + ob;
  }
  if (p - off > 15) return false;
  out.opcode = op;
  out.pfxLen = p - off;
  const sh = SHAPE[op]!;
  if (sh < 0) return false;
  if (code64 && (op === 0x82 || (op >= 0x40 && op < 0x50))) return false;
  if (!code64 && op === 0x63) return false; // ARPL
  out.hasModrm = (sh & 1) !== 0;
  out.base = NO_REG; out.index = NO_REG; out.scale = 0; out.disp = 0; out.seg = DS; out.ripRel = false;
  out.mod = 3; out.reg = 0; out.rm = 0; out.modrm = 0;
  const rexR = (out.rex & 4) << 1, rexX = (out.rex & 2) << 2, rexB = (out.rex & 1) << 3;
  if (out.hasModrm) {
    const m = get();
    if (m < 0) return false;
    out.modrm = m;
    const mod = m >> 6;
    out.mod = mod;
    out.reg = ((m >> 3) & 7) | rexR;
    const rm = m & 7;
    if (mod === 3) out.rm = rm | rexB;
    else {
      out.rm = rm;
      if (out.asz === 2) return false; // 16-bit addressing: left to the interpreter
      let base = rm;
      if (rm === 4) {
        const sib = get();
        if (sib < 0) return false;
        out.scale = sib >> 6;
        const ix = ((sib >> 3) & 7) | rexX;
        if (ix !== 4) out.index = ix;
        base = sib & 7;
        if (base === 5 && mod === 0) { out.disp = rd32(); base = NO_REG; } else base |= rexB;
      } else if (rm === 5 && mod === 0) {
        out.disp = rd32(); base = NO_REG;
        if (code64) out.ripRel = true;
      } else base |= rexB;
      if (base !== NO_REG) {
        out.base = base;
        if (base === 4 || base === 5) out.seg = SS;
        if (mod === 1) { const d = get(); if (d < 0) return false; out.disp = (d << 24) >> 24; }
        else if (mod === 2) out.disp = rd32();
      }
      if (out.segOvr >= 0) out.seg = out.segOvr;
    }
  }
  let ik = sh >> 4;
  if (op === 0xf6 || op === 0xf7) { if ((out.reg & 7) < 2) ik = op === 0xf6 ? I_8 : I_Z; }
  if ((op === 0xc6 || op === 0xc7) && (out.reg & 7) !== 0) return false; // XABORT/XBEGIN
  if ((op === 0xfe && (out.reg & 7) > 1) || (op === 0xff && ((out.reg & 7) === 3 || (out.reg & 7) === 5 || (out.reg & 7) === 7))) return false;
  if (op === 0x90 && out.rep === REP_E) return false; // PAUSE: the scheduler's yield point
  // group 15: FXSAVE/FXRSTOR/LDMXCSR/STMXCSR/XSAVE/XRSTOR/XSAVEOPT/CLFLUSH and the fences only
  if (op === 0x1ae && (out.pfx66 || out.rep !== REP_NONE || (out.mod === 3 && (out.reg & 7) < 5))) return false;
  out.immHi = 0;
  switch (ik) {
    case I_NONE: out.immLen = 0; out.imm = 0; break;
    case I_8: { out.immLen = 1; const v = get(); if (v < 0) return false; out.imm = (v << 24) >> 24; break; }
    case I_16: { out.immLen = 2; const v = rd16(); out.imm = v; break; }
    case I_Z:
      // relative branches take rel32 in 64-bit mode whatever the operand size
      if (out.osz === 2 && !(code64 && ((op >= 0x180 && op < 0x190) || op === 0xe8 || op === 0xe9))) { out.immLen = 2; out.imm = (rd16() << 16) >> 16; }
      else { out.immLen = 4; out.imm = rd32(); }
      break;
    default: // I_V: MOV r, imm (imm64 with REX.W)
      if (out.osz === 8) { out.immLen = 8; out.imm = rd32(); out.immHi = rd32(); }
      else if (out.osz === 2) { out.immLen = 2; out.imm = rd16(); }
      else { out.immLen = 4; out.imm = rd32(); }
  }
  if (p > 4096 || bad || p - off > 15) return false;
  out.len = p - off;
  return true;

  function rd16(): number { const a = get(), c = get(); if (a < 0 || c < 0) { bad = true; return 0; } return a | (c << 8); }
  function rd32(): number { const a = rd16(), c = rd16(); return (a | (c << 16)) | 0; }
}
let bad = false;
