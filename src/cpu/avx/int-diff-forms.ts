/**
 * The AV-INT family's forms for the VEX differential test (avx-diff.test.ts, harness
 * test/native/avx-harness.c): every form int.ts / int2.ts install, as random encodings on
 * ymm0-3, [rdx+disp8] memory (any alignment), RAX as the only GPR operand, VEX.W random,
 * 2- and 3-byte VEX. Invalid variants are mixed in at a low rate (L = 1 on 128-only forms,
 * vvvv ≠ 1111b where there is no vvvv, register forms of memory-only instructions, ModRM.reg
 * values a shift group lacks) so the #UD surface is compared too. Instructions whose result
 * is in RFLAGS or RCX get a tail that folds them into RAX (pushfq; pop rax; and eax, 8d5h
 * [; shl rax, 32; or rax, rcx]); VMASKMOVDQU gets `mov rdi, rdx` in front, VPCMPESTRx a
 * head that moves the buffer to RCX and small signed lengths to RAX/RDX.
 * Test support only (may allocate).
 */
export interface IntForm {
  name: string; map: number; pp: number; op: number; ls: number[]; shape: 'rvm'; w?: boolean;
  enc: (r: () => number) => number[];
  /** ModRM.reg of a shift-by-imm8 group form (0F 71/72/73), for the coverage audit. */
  sub?: number;
}

/** Operand shapes of the integer forms. */
const RVM = 0; // op reg, vvvv, r/m
const RM = 1; // op reg, r/m (vvvv = 1111b)
const SHIFTI = 2; // group 71/72/73: vvvv = destination, r/m register, ModRM.reg = `sub`
const GPR_RM = 3; // op rax(reg), xmm(r/m) register only (VPMOVMSKB, VPEXTRW C5)
const EXTR = 4; // op rax/m, xmm(reg), imm (VPEXTRB/W/D/Q)
const INSR = 5; // op xmm(reg), vvvv, rax/m, imm (VPINSR*)
const MEMLOAD = 6; // op reg, m (memory only)
const MEMSTORE = 7; // op m, reg (memory only)
const MASKMOV = 8; // VMASKMOVDQU xmm, xmm (register only), rdi = buffer
const STR = 9; // VPCMPxSTRx reg, r/m(rcx-based), imm
const BLENDV = 10; // VPBLENDVB reg, vvvv, r/m, is4

interface Opt {
  /** hostL128: 128-bit only here, but the host has the 256-bit form (VAES, VPCLMULQDQ on Zen 4): never L = 1. */
  imm?: boolean; l128?: boolean; hostL128?: boolean; flags?: boolean; sub?: number; ecx?: boolean; explicit?: boolean }

function make(name: string, map: number, pp: number, op: number, k: number, o: Opt = {}): IntForm {
  const enc = (r: () => number): number[] => {
    const bad = (r() & 15) === 0; // one case in 16 tries an invalid variant
    const l = o.hostL128 ? 0 : o.l128 ? (bad && (r() & 1) === 0 ? 1 : 0) : r() & 1;
    const w = r() & 1;
    const noV = k !== RVM && k !== SHIFTI && k !== INSR && k !== BLENDV;
    const v = noV ? (bad && (r() & 1) === 0 ? 1 + (r() % 15) : 0) : r() & 3;
    let reg = r() & 3, rm = r() & 3;
    let mem = (r() & 1) === 0;
    const head: number[] = [], tail: number[] = [];
    let sub = -1;
    switch (k) {
      case SHIFTI: mem = bad && (r() & 1) === 0; sub = o.sub!; if (bad && (r() & 1) === 0) sub = r() & 7; break;
      case GPR_RM: reg = 0; mem = bad && (r() & 1) === 0; break;
      case EXTR: rm = 0; break;
      case INSR: rm = 0; break;
      case MEMLOAD: case MEMSTORE: mem = !(bad && (r() & 1) === 0); break;
      case MASKMOV: mem = bad && (r() & 1) === 0; head.push(0x48, 0x89, 0xd7); break;
      case STR:
        head.push(0x48, 0x89, 0xd1); // mov rcx, rdx: the buffer
        if (o.explicit) {
          head.push(0x48, 0x0f, 0xbe, 0xd0); // movsx rdx, al
          if (r() & 3) head.push(0x48, 0xc1, 0xfa, 0x03); // sar rdx, 3: -16..15 (else -128..127)
          head.push(0x48, 0x0f, 0xbf, 0xc0); // movsx rax, ax
          if (r() & 3) head.push(0x48, 0xc1, 0xf8, 0x0b); // sar rax, 11
        }
        break;
      default: break;
    }
    if (o.flags || k === STR) {
      tail.push(0x9c, 0x58, 0x25, 0xd5, 0x08, 0x00, 0x00); // pushfq; pop rax; and eax, 0x8d5
      if (o.ecx) tail.push(0x48, 0xc1, 0xe0, 0x20, 0x48, 0x09, 0xc8); // shl rax, 32; or rax, rcx
    }
    const b2 = (w << 7) | ((~v & 15) << 3) | (l << 2) | pp;
    const out = head.slice();
    if (map === 1 && w === 0 && (r() & 1) === 0) out.push(0xc5, 0x80 | (b2 & 0x7f));
    else out.push(0xc4, 0xe0 | map, b2);
    out.push(op);
    const regField = sub >= 0 ? sub : reg;
    if (mem) out.push((k === STR ? 0x41 : 0x42) | (regField << 3), r() % 33);
    else out.push(0xc0 | (regField << 3) | rm);
    if (k === BLENDV) out.push(((r() & 3) << 4) | (r() & 15));
    else if (o.imm) out.push(k === SHIFTI && (r() & 1) ? r() % 20 : r() & 0xff);
    return out.concat(tail);
  };
  return { name, map, pp, op, ls: [0, 1], shape: 'rvm', w: true, enc, ...(o.sub !== undefined ? { sub: o.sub } : {}) };
}

export const INT_FORMS: IntForm[] = [];
const add = (name: string, map: number, op: number, k: number = RVM, o: Opt = {}, pp = 1): void => { INT_FORMS.push(make(name, map, pp, op, k, o)); };

// map 1 lane-wise (66)
for (const [n, op] of [
  ['vpunpcklbw', 0x60], ['vpunpcklwd', 0x61], ['vpunpckldq', 0x62], ['vpacksswb', 0x63], ['vpcmpgtb', 0x64],
  ['vpcmpgtw', 0x65], ['vpcmpgtd', 0x66], ['vpackuswb', 0x67], ['vpunpckhbw', 0x68], ['vpunpckhwd', 0x69],
  ['vpunpckhdq', 0x6a], ['vpackssdw', 0x6b], ['vpunpcklqdq', 0x6c], ['vpunpckhqdq', 0x6d],
  ['vpsrlw', 0xd1], ['vpsrld', 0xd2], ['vpsrlq', 0xd3], ['vpmullw', 0xd5], ['vpsubusb', 0xd8], ['vpsubusw', 0xd9],
  ['vpminub', 0xda], ['vpaddusb', 0xdc], ['vpaddusw', 0xdd], ['vpmaxub', 0xde], ['vpavgb', 0xe0], ['vpsraw', 0xe1],
  ['vpsrad', 0xe2], ['vpavgw', 0xe3], ['vpmulhuw', 0xe4], ['vpmulhw', 0xe5], ['vpsubsb', 0xe8], ['vpsubsw', 0xe9],
  ['vpminsw', 0xea], ['vpaddsb', 0xec], ['vpaddsw', 0xed], ['vpmaxsw', 0xee], ['vpsllw', 0xf1], ['vpslld', 0xf2],
  ['vpsllq', 0xf3], ['vpmuludq', 0xf4], ['vpmaddwd', 0xf5], ['vpsadbw', 0xf6], ['vpsubb', 0xf8], ['vpsubw', 0xf9],
  ['vpsubd', 0xfa], ['vpsubq', 0xfb],
] as const) add(n, 1, op);
add('vpshufd', 1, 0x70, RM, { imm: true });
add('vpshufhw', 1, 0x70, RM, { imm: true }, 2);
add('vpshuflw', 1, 0x70, RM, { imm: true }, 3);
for (const [n, op, sub] of [
  ['vpsrlw imm', 0x71, 2], ['vpsraw imm', 0x71, 4], ['vpsllw imm', 0x71, 6], ['vpsrld imm', 0x72, 2],
  ['vpsrad imm', 0x72, 4], ['vpslld imm', 0x72, 6], ['vpsrlq imm', 0x73, 2], ['vpsrldq', 0x73, 3],
  ['vpsllq imm', 0x73, 6], ['vpslldq', 0x73, 7],
] as const) add(n, 1, op, SHIFTI, { imm: true, sub });
add('vpinsrw', 1, 0xc4, INSR, { imm: true, l128: true });
add('vpextrw (c5)', 1, 0xc5, GPR_RM, { imm: true, l128: true });
add('vpmovmskb', 1, 0xd7, GPR_RM);
add('vmovntdq', 1, 0xe7, MEMSTORE);
add('vlddqu', 1, 0xf0, MEMLOAD, {}, 3);
add('vmaskmovdqu', 1, 0xf7, MASKMOV, { l128: true });

// map 2 (0F 38)
for (const [n, op] of [
  ['vpshufb', 0x00], ['vphaddw', 0x01], ['vphaddd', 0x02], ['vphaddsw', 0x03], ['vpmaddubsw', 0x04], ['vphsubw', 0x05],
  ['vphsubd', 0x06], ['vphsubsw', 0x07], ['vpsignb', 0x08], ['vpsignw', 0x09], ['vpsignd', 0x0a], ['vpmulhrsw', 0x0b],
  ['vpmuldq', 0x28], ['vpackusdw', 0x2b], ['vpcmpgtq', 0x37], ['vpminsb', 0x38], ['vpminsd', 0x39], ['vpminuw', 0x3a],
  ['vpminud', 0x3b], ['vpmaxsb', 0x3c], ['vpmaxsd', 0x3d], ['vpmaxuw', 0x3e], ['vpmaxud', 0x3f], ['vpmulld', 0x40],
] as const) add(n, 2, op);
for (const [n, op] of [['vpabsb', 0x1c], ['vpabsw', 0x1d], ['vpabsd', 0x1e]] as const) add(n, 2, op, RM);
add('vptest', 2, 0x17, RM, { flags: true });
for (const [n, op] of [['bw', 0x20], ['bd', 0x21], ['bq', 0x22], ['wd', 0x23], ['wq', 0x24], ['dq', 0x25]] as const) {
  add(`vpmovsx${n}`, 2, op, RM);
  add(`vpmovzx${n}`, 2, op + 0x10, RM);
}
add('vmovntdqa', 2, 0x2a, MEMLOAD);
add('vphminposuw', 2, 0x41, RM, { l128: true });
add('vaesimc', 2, 0xdb, RM, { l128: true });
for (const [n, op] of [['vaesenc', 0xdc], ['vaesenclast', 0xdd], ['vaesdec', 0xde], ['vaesdeclast', 0xdf]] as const) {
  add(n, 2, op, RVM, { hostL128: true });
}

// map 3 (0F 3A)
add('vpblendw', 3, 0x0e, RVM, { imm: true });
add('vpalignr', 3, 0x0f, RVM, { imm: true });
add('vpextrb', 3, 0x14, EXTR, { imm: true, l128: true });
add('vpextrw', 3, 0x15, EXTR, { imm: true, l128: true });
add('vpextrd/q', 3, 0x16, EXTR, { imm: true, l128: true });
add('vpinsrb', 3, 0x20, INSR, { imm: true, l128: true });
add('vpinsrd/q', 3, 0x22, INSR, { imm: true, l128: true });
add('vmpsadbw', 3, 0x42, RVM, { imm: true });
add('vpclmulqdq', 3, 0x44, RVM, { imm: true, hostL128: true });
add('vpblendvb', 3, 0x4c, BLENDV);
add('vpcmpestrm', 3, 0x60, STR, { imm: true, l128: true, explicit: true });
add('vpcmpestri', 3, 0x61, STR, { imm: true, l128: true, explicit: true, ecx: true });
add('vpcmpistrm', 3, 0x62, STR, { imm: true, l128: true });
add('vpcmpistri', 3, 0x63, STR, { imm: true, l128: true, ecx: true });
add('vaeskeygenassist', 3, 0xdf, RM, { imm: true, l128: true });
