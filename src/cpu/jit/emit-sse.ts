/**
 * Native code for the commonest legacy-SSE data instructions inside translated blocks: the
 * 128-bit moves (MOVUPS/MOVUPD/MOVAPS/MOVAPD/MOVDQA/MOVDQU loads, stores and register
 * copies), the bitwise ANDPS..XORPS/PAND..PXOR, PADDB..PADDQ, PSUBB..PSUBQ and
 * PCMPEQB/W/D — the instructions of plain memcpy, memset and string loops (issue 4). Every
 * other SSE/x87/VEX instruction calls its interpreter handler (compile.ts). Likewise the VEX
 * moves VMOVUPS/VMOVUPD/VMOVAPS/VMOVAPD/VMOVDQA/VMOVDQU on xmm and ymm (avx/move.ts loadVec,
 * storeVec: the memcpy/memset/strlen path of AVX code such as glibc's), after the handlers'
 * own avxCheck.
 *
 * The generated code does what the handlers in sse/move.ts and sse/integer.ts do, in their
 * order, so the faults are the same: first the handlers' own availability check, called at
 * run time (sse/common.ts sseCheck, SDM Vol. 3A §13.1-§13.2, §2.5: the CPUID feature, LOCK,
 * CR0.EM = 1 or CR4.OSFXSR = 0 → #UD, then CR0.TS = 1 → #NM — never baked into the block:
 * the guest may change CR0, CR4 or the profile between runs; with the prefix, opcode and
 * ModRM fields set as the interpreter's decode leaves them, so whatever else it records
 * stays the handlers'), then the memory operand's address (canonical/segment
 * checks), the 16-byte alignment of the aligned forms → #GP(0) (Vol. 1 §4.1.1), then the
 * accesses; a store translates both ends first when it crosses a page (sse/common.ts wr128),
 * so a fault writes nothing. Legacy SSE leaves bits 255:128 of the YMM registers alone.
 * Byte and word lanes are computed four or two at a time within an int32 (SWAR): carries
 * and borrows are kept from crossing lane boundaries by handling the top bit of each lane
 * apart, and equal lanes are found by the zero-lane test on a ^ b.
 */
import { sseCheck } from '../sse/common.js';
// the opcode table first: avx/common.ts reaches it through sse/fp.ts, and the AVX families it
// installs need avx/common.ts complete (module evaluation order)
import '../ops/table.js';
import { avxCheck, FE_AVX, NO_VVVV } from '../avx/common.js';
import type { Builder } from './builder.js';
import type { Insn } from './decode.js';
import { packPrefixes } from './prefixes.js';

const REP_E = 1, REP_NE = 2;
/** CPUID.1:EDX bits (SDM Vol. 2A Table 3-11). */
const EDX_SSE = 1 << 25, EDX_SSE2 = 1 << 26;

const K_LOAD = 1, K_LOAD_A = 2, K_STORE = 3, K_STORE_A = 4, K_OP = 5;
/** Operations of K_OP: dst = f(dst, src), on int32 lanes. */
const AND = 1, ANDN = 2, OR = 3, XOR = 4, ADDB = 5, ADDW = 6, ADDD = 7, ADDQ = 8, SUBB = 9, SUBW = 10, SUBD = 11, SUBQ = 12,
  EQB = 13, EQW = 14, EQD = 15;

/** (opcode, mandatory-prefix index 0/66/F3/F2) → kind | op << 4 | (SSE2 ? 1 << 8 : 0); 0 = not native. */
const TABLE = new Uint16Array(0x200 * 4);
function nat(op: number, p: number, kind: number, fn: number, sse2: boolean): void { TABLE[(op - 0x100) * 4 + p] = kind | (fn << 4) | (sse2 ? 0x100 : 0); }
nat(0x110, 0, K_LOAD, 0, false); nat(0x110, 1, K_LOAD, 0, true);          // MOVUPS, MOVUPD xmm, xmm/m128
nat(0x128, 0, K_LOAD_A, 0, false); nat(0x128, 1, K_LOAD_A, 0, true);      // MOVAPS, MOVAPD
nat(0x16f, 1, K_LOAD_A, 0, true); nat(0x16f, 2, K_LOAD, 0, true);         // MOVDQA, MOVDQU
nat(0x111, 0, K_STORE, 0, false); nat(0x111, 1, K_STORE, 0, true);        // MOVUPS, MOVUPD xmm/m128, xmm
nat(0x129, 0, K_STORE_A, 0, false); nat(0x129, 1, K_STORE_A, 0, true);    // MOVAPS, MOVAPD
nat(0x17f, 1, K_STORE_A, 0, true); nat(0x17f, 2, K_STORE, 0, true);       // MOVDQA, MOVDQU
for (const [op, fn] of [[0x154, AND], [0x155, ANDN], [0x156, OR], [0x157, XOR]] as const) {
  nat(op, 0, K_OP, fn, false); nat(op, 1, K_OP, fn, true);                // ANDPS..XORPS, ANDPD..XORPD
}
for (const [op, fn] of [[0x1db, AND], [0x1df, ANDN], [0x1eb, OR], [0x1ef, XOR], [0x1fc, ADDB], [0x1fd, ADDW], [0x1fe, ADDD],
  [0x1d4, ADDQ], [0x1f8, SUBB], [0x1f9, SUBW], [0x1fa, SUBD], [0x1fb, SUBQ], [0x174, EQB], [0x175, EQW], [0x176, EQD]] as const) {
  nat(op, 1, K_OP, fn, true);                                             // 66 0F: PAND..PXOR, PADD*, PSUB*, PCMPEQ*
}

/** The mandatory-prefix index of sse/common.ts pfxIndex: F2/F3 win over 66 (SDM Vol. 2 §2.1.2). */
function pfxIndex(ins: Insn): number {
  return ins.rep === REP_NE ? 3 : ins.rep === REP_E ? 2 : ins.pfx66 ? 1 : 0;
}

export function emitSse(b: Builder, ins: Insn): boolean {
  const op = ins.opcode;
  if (ins.vex) return emitVexMove(b, ins);
  if (ins.lock || op < 0x100 || op >= 0x200) return false;
  const e = TABLE[(op - 0x100) * 4 + pfxIndex(ins)]!;
  if (e === 0) return false;
  const kind = e & 15, fn = (e >> 4) & 15, feature = (e & 0x100) !== 0 ? EDX_SSE2 : EDX_SSE;
  const mem = ins.mod !== 3;
  b.retireBefore();
  // the handlers' own availability check, with the fields it reads set as decodeModrm sets
  // them; of the prefix state it reads only LOCK (never set here: LOCK forms go to the
  // handler), so the prefix fields are reloaded only when a LOCK is left over from before
  const check = b.constant('sseCheck', sseCheck);
  const p = packPrefixes(ins);
  b.emit(`if (cpu.lock) cpu.loadPrefixes(${p});`);
  b.emit(`cpu.opcode = ${op}; cpu.modrmByte = ${ins.modrm}; cpu.mod = ${ins.mod}; cpu.reg = ${ins.reg}; cpu.rm = ${ins.rm};`);
  b.emit(`${check}(cpu, cpu.profile.leaf1Edx & ${feature});`);
  const x = b.t('x');
  b.emit(`const ${x} = cpu.fpu.xmm;`);
  const g = ins.reg << 2;
  if (kind === K_STORE || kind === K_STORE_A) {
    if (!mem) {
      const d = ins.rm << 2;
      b.emit(`${x}[${d}] = ${x}[${g}]; ${x}[${d + 1}] = ${x}[${g + 1}]; ${x}[${d + 2}] = ${x}[${g + 2}]; ${x}[${d + 3}] = ${x}[${g + 3}];`);
      return true;
    }
    const lin = b.ea(ins, 16, true);
    if (kind === K_STORE_A) b.emit(`if (${lin} % 16 !== 0) cpu.gp(0);`);
    b.emit(`if ((${lin} & 0xfff) > 4080) cpu.probeSplit(${lin}, 16, true);`);
    b.emit(`cpu.wr64(${lin}, ${x}[${g}], ${x}[${g + 1}]); cpu.wr64(${lin} + 8, ${x}[${g + 2}], ${x}[${g + 3}]);`);
    b.checkAfter();
    return true;
  }
  // the source operand: an XMM register or 16 bytes of memory (sse/common.ts loadXmmSrc, rd128)
  const s = [b.t('s'), b.t('s'), b.t('s'), b.t('s')] as const;
  if (mem) {
    const lin = b.ea(ins, 16, false);
    if (kind !== K_LOAD) b.emit(`if (${lin} % 16 !== 0) cpu.gp(0);`);
    b.emit(`const ${s[0]} = cpu.rd64(${lin}), ${s[1]} = cpu.hi; const ${s[2]} = cpu.rd64(${lin} + 8), ${s[3]} = cpu.hi;`);
  } else {
    const r = ins.rm << 2;
    b.emit(`const ${s[0]} = ${x}[${r}], ${s[1]} = ${x}[${r + 1}], ${s[2]} = ${x}[${r + 2}], ${s[3]} = ${x}[${r + 3}];`);
  }
  if (kind === K_LOAD || kind === K_LOAD_A) {
    b.emit(`${x}[${g}] = ${s[0]}; ${x}[${g + 1}] = ${s[1]}; ${x}[${g + 2}] = ${s[2]}; ${x}[${g + 3}] = ${s[3]};`);
  } else if (fn === ADDQ || fn === SUBQ) {
    for (let q = 0; q < 4; q += 2) {
      const t = b.t('q');
      const a = `${x}[${g + q}]`, ah = `${x}[${g + q + 1}]`;
      if (fn === ADDQ) {
        b.emit(`const ${t} = (${a} >>> 0) + (${s[q]} >>> 0); ${a} = ${t} | 0; ${ah} = (${ah} + ${s[q + 1]} + (${t} > 0xffffffff ? 1 : 0)) | 0;`);
      } else {
        b.emit(`const ${t} = (${a} >>> 0) - (${s[q]} >>> 0); ${a} = ${t} | 0; ${ah} = (${ah} - ${s[q + 1]} - (${t} < 0 ? 1 : 0)) | 0;`);
      }
    }
  } else {
    for (let i = 0; i < 4; i++) b.emit(`${x}[${g + i}] = ${lane(fn, `${x}[${g + i}]`, s[i])};`);
  }
  if (mem) b.checkAfter();
  return true;
}

/** One int32 lane of dst = f(dst, src) (a, b are side-effect-free expressions). */
function lane(fn: number, a: string, s: string): string {
  switch (fn) {
    case AND: return `${a} & ${s}`;
    case ANDN: return `~${a} & ${s}`;
    case OR: return `${a} | ${s}`;
    case XOR: return `${a} ^ ${s}`;
    case ADDD: return `(${a} + ${s}) | 0`;
    case SUBD: return `(${a} - ${s}) | 0`;
    case EQD: return `${a} === ${s} ? -1 : 0`;
    // bytes/words: add/subtract the low 7/15 bits of each lane, then put the top bit back by XOR
    case ADDB: return `((${a} & 0x7f7f7f7f) + (${s} & 0x7f7f7f7f)) ^ ((${a} ^ ${s}) & 0x80808080)`;
    case ADDW: return `((${a} & 0x7fff7fff) + (${s} & 0x7fff7fff)) ^ ((${a} ^ ${s}) & 0x80008000)`;
    case SUBB: return `((${a} | 0x80808080) - (${s} & 0x7f7f7f7f)) ^ ((${a} ^ ~${s}) & 0x80808080)`;
    case SUBW: return `((${a} | 0x80008000) - (${s} & 0x7fff7fff)) ^ ((${a} ^ ~${s}) & 0x80008000)`;
    // a lane of a ^ b is zero exactly when adding 7f..f to its low bits leaves its top bit clear
    case EQB: return `Math.imul(~((((${a} ^ ${s}) & 0x7f7f7f7f) + 0x7f7f7f7f) | (${a} ^ ${s}) | 0x7f7f7f7f) >>> 7, 0xff)`;
    default: return `Math.imul(~((((${a} ^ ${s}) & 0x7fff7fff) + 0x7fff7fff) | (${a} ^ ${s}) | 0x7fff7fff) >>> 15, 0xffff)`; // EQW
  }
}

/** VEX map 1 moves (opcode, pp) → 1 = load, 2 = aligned load, 3 = store, 4 = aligned store. */
function vexMoveKind(op: number, pp: number): number {
  switch (op) {
    case 0x410: return pp < 2 ? 1 : 0;   // VMOVUPS, VMOVUPD xmm/ymm, xmm/ymm/m
    case 0x428: return pp < 2 ? 2 : 0;   // VMOVAPS, VMOVAPD
    case 0x46f: return pp === 1 ? 2 : pp === 2 ? 1 : 0; // VMOVDQA, VMOVDQU
    case 0x411: return pp < 2 ? 3 : 0;
    case 0x429: return pp < 2 ? 4 : 0;
    case 0x47f: return pp === 1 ? 4 : pp === 2 ? 3 : 0;
    default: return 0;
  }
}

/**
 * The VEX moves as avx/move.ts loadVec/storeVec run them: avxCheck (CR4.OSXSAVE, XCR0[2:1],
 * CPUID.AVX, LOCK → #UD; VEX.vvvv ≠ 1111b → #UD; CR0.TS → #NM: SDM Vol. 2 §2.3.10, called at
 * run time with the prefix word, opcode and ModRM fields it reads set), then 16 (L = 0) or 32
 * bytes: the address, the alignment #GP(0) of VMOVAPS/APD/DQA (to the operand size), the
 * reads, or a store that translates both ends first when it crosses a page (avx/common.ts
 * readMem/writeMem); a VEX.128 destination register gets bits 255:128 zeroed (§2.3.10.1).
 */
function emitVexMove(b: Builder, ins: Insn): boolean {
  const pp = pfxIndex(ins); // VEX.pp: 66 → 1, F3 → 2, F2 → 3, as decodeVex maps it
  const kind = vexMoveKind(ins.opcode, pp);
  if (kind === 0) return false;
  const size = ins.vexL !== 0 ? 32 : 16, n = size >> 2;
  const mem = ins.mod !== 3;
  b.retireBefore();
  const check = b.constant('avxCheck', avxCheck);
  const p = packPrefixes(ins);
  b.emit(`if (cpu.curPfx !== ${p}) cpu.loadPrefixes(${p});`);
  b.emit(`cpu.opcode = ${ins.opcode}; cpu.modrmByte = ${ins.modrm}; cpu.mod = ${ins.mod}; cpu.reg = ${ins.reg}; cpu.rm = ${ins.rm};`);
  b.emit(`${check}(cpu, ${FE_AVX}, ${NO_VVVV});`);
  const x = b.t('x'), h = b.t('h');
  b.emit(`const ${x} = cpu.fpu.xmm, ${h} = cpu.fpu.ymmh;`);
  const load = kind <= 2;
  const src = load ? ins.rm : ins.reg, dst = load ? ins.reg : ins.rm;
  // dword i of YMMn: xmm[4n + i] for i < 4, ymmh[4n + i - 4] above
  const el = (reg: number, i: number): string => (i < 4 ? `${x}[${(reg << 2) + i}]` : `${h}[${(reg << 2) + i - 4}]`);
  const v = Array.from({ length: n }, () => b.t('v'));
  if (load && mem) {
    const lin = b.ea(ins, size, false);
    if (kind === 2) b.emit(`if (${lin} % ${size} !== 0) cpu.gp(0);`);
    for (let k = 0; k < n; k += 2) b.emit(`const ${v[k]} = cpu.rd64(${lin}${k === 0 ? '' : ` + ${k * 4}`}), ${v[k + 1]} = cpu.hi;`);
  } else {
    b.emit(`const ${v.map((t, i) => `${t} = ${el(src, i)}`).join(', ')};`);
  }
  if (!load && mem) {
    const lin = b.ea(ins, size, true);
    if (kind === 4) b.emit(`if (${lin} % ${size} !== 0) cpu.gp(0);`);
    b.emit(`if ((${lin} & 0xfff) > ${4096 - size}) cpu.probeSplit(${lin}, ${size}, true);`);
    for (let k = 0; k < n; k += 2) b.emit(`cpu.wr64(${lin}${k === 0 ? '' : ` + ${k * 4}`}, ${v[k]}, ${v[k + 1]});`);
  } else {
    b.emit(Array.from({ length: 8 }, (_, i) => `${el(dst, i)} = ${i < n ? v[i] : '0'};`).join(' '));
  }
  if (mem) b.checkAfter();
  return true;
}
