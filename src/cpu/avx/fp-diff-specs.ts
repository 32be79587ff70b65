/**
 * The AV-FP family's forms for the VEX differential test (avx-diff.test.ts, harness
 * test/native/avx-harness.c): every form fp.ts / fp2.ts install, as random encodings on
 * ymm0-3, [rdx+disp8] memory (any alignment), RAX as the only GPR operand, VEX.W random,
 * 2- and 3-byte VEX, random imm8 (VBLENDVPS/PD: the is4 register among ymm0-3). One case in
 * 16 tries an invalid variant (the L the form lacks, vvvv ≠ 1111b where there is no vvvv,
 * the operand kind a memory-only or register-only form lacks) so the #UD surface is
 * compared too. Results in RFLAGS (VCOMISS, VTESTPS…) are folded into RAX by a tail:
 * pushfq; pop rax; and eax, 8d5h. Test support only (may allocate).
 */
export interface FpForm {
  name: string; map: number; pp: number; op: number; ls: number[]; shape: 'rvm';
  /** operand kinds drawn (besides the 1-in-16 invalid variants): memory only, register only, both */
  memKind?: 'only' | 'never';
  enc: (r: () => number) => number[];
}

interface Opt {
  imm?: boolean; immAnd?: number; flags?: boolean;
  /** no vvvv operand (must be 1111b) */
  noV?: boolean;
  /** the L values the form has (default both) */
  ls?: number[];
  /** ModRM.reg / ModRM.rm name a GPR: rax */
  regGpr?: boolean; rmGpr?: boolean;
  mem?: 'only' | 'never';
}

function form(name: string, map: number, pp: number, op: number, o: Opt = {}): FpForm {
  const ls = o.ls ?? [0, 1];
  const enc = (r: () => number): number[] => {
    const bad = (r() & 15) === 0;
    let l = ls[r() % ls.length]!;
    if (bad && ls.length === 1 && (r() & 1) === 0) l ^= 1;
    const w = r() & 1;
    const v = o.noV ? (bad && (r() & 1) === 0 ? 1 + (r() % 15) : 0) : r() & 3;
    const reg = o.regGpr ? 0 : r() & 3;
    const rm = o.rmGpr ? 0 : r() & 3;
    let mem = (r() & 1) === 0;
    if (o.mem === 'only') mem = !(bad && (r() & 1) === 0);
    if (o.mem === 'never') mem = bad && (r() & 1) === 0;
    const b2 = (w << 7) | ((~v & 15) << 3) | (l << 2) | pp;
    const out = map === 1 && w === 0 ? [0xc5, 0x80 | (b2 & 0x7f)] : [0xc4, 0xe0 | map, b2];
    out.push(op);
    if (mem) out.push(0x42 | (reg << 3), r() % 33);
    else out.push(0xc0 | (reg << 3) | rm);
    if (o.imm) out.push(r() & (o.immAnd ?? 0xff));
    if (o.flags) out.push(0x9c, 0x58, 0x25, 0xd5, 0x08, 0, 0);
    return out;
  };
  return o.mem !== undefined ? { name, map, pp, op, ls, shape: 'rvm', memKind: o.mem, enc } : { name, map, pp, op, ls, shape: 'rvm', enc };
}

const U: Opt = { noV: true };
const L0: Opt = { ls: [0] };
const L1: Opt = { ls: [1] };

export const FP_FORMS: FpForm[] = [
  // map 1 (0F)
  form('vcmpps', 1, 0, 0xc2, { imm: true }), form('vcmppd', 1, 1, 0xc2, { imm: true }),
  form('vcmpss', 1, 2, 0xc2, { imm: true }), form('vcmpsd', 1, 3, 0xc2, { imm: true }),
  form('vaddsubpd', 1, 1, 0xd0), form('vaddsubps', 1, 3, 0xd0),
  form('vhaddpd', 1, 1, 0x7c), form('vhaddps', 1, 3, 0x7c), form('vhsubpd', 1, 1, 0x7d), form('vhsubps', 1, 3, 0x7d),
  form('vunpcklps', 1, 0, 0x14), form('vunpcklpd', 1, 1, 0x14), form('vunpckhps', 1, 0, 0x15), form('vunpckhpd', 1, 1, 0x15),
  form('vshufps', 1, 0, 0xc6, { imm: true }), form('vshufpd', 1, 1, 0xc6, { imm: true }),
  form('vrsqrtps', 1, 0, 0x52, U), form('vrsqrtss', 1, 2, 0x52), form('vrcpps', 1, 0, 0x53, U), form('vrcpss', 1, 2, 0x53),
  form('vcvtdq2ps', 1, 0, 0x5b, U), form('vcvtps2dq', 1, 1, 0x5b, U), form('vcvttps2dq', 1, 2, 0x5b, U),
  form('vcvtps2pd', 1, 0, 0x5a, U), form('vcvtpd2ps', 1, 1, 0x5a, U), form('vcvtss2sd', 1, 2, 0x5a), form('vcvtsd2ss', 1, 3, 0x5a),
  form('vcvttpd2dq', 1, 1, 0xe6, U), form('vcvtdq2pd', 1, 2, 0xe6, U), form('vcvtpd2dq', 1, 3, 0xe6, U),
  form('vmovhlps/vmovlps', 1, 0, 0x12, L0), form('vmovlpd load', 1, 1, 0x12, { ...L0, mem: 'only' }),
  form('vmovsldup', 1, 2, 0x12, U), form('vmovddup', 1, 3, 0x12, U),
  form('vmovlps store', 1, 0, 0x13, { ...U, ...L0, mem: 'only' }), form('vmovlpd store', 1, 1, 0x13, { ...U, ...L0, mem: 'only' }),
  form('vmovlhps/vmovhps', 1, 0, 0x16, L0), form('vmovhpd load', 1, 1, 0x16, { ...L0, mem: 'only' }), form('vmovshdup', 1, 2, 0x16, U),
  form('vmovhps store', 1, 0, 0x17, { ...U, ...L0, mem: 'only' }), form('vmovhpd store', 1, 1, 0x17, { ...U, ...L0, mem: 'only' }),
  form('vcvtsi2ss', 1, 2, 0x2a, { rmGpr: true }), form('vcvtsi2sd', 1, 3, 0x2a, { rmGpr: true }),
  form('vmovntps', 1, 0, 0x2b, { ...U, mem: 'only' }), form('vmovntpd', 1, 1, 0x2b, { ...U, mem: 'only' }),
  form('vcvttss2si', 1, 2, 0x2c, { ...U, regGpr: true }), form('vcvttsd2si', 1, 3, 0x2c, { ...U, regGpr: true }),
  form('vcvtss2si', 1, 2, 0x2d, { ...U, regGpr: true }), form('vcvtsd2si', 1, 3, 0x2d, { ...U, regGpr: true }),
  form('vucomiss', 1, 0, 0x2e, { ...U, flags: true }), form('vucomisd', 1, 1, 0x2e, { ...U, flags: true }),
  form('vcomiss', 1, 0, 0x2f, { ...U, flags: true }), form('vcomisd', 1, 1, 0x2f, { ...U, flags: true }),
  form('vmovmskps', 1, 0, 0x50, { ...U, regGpr: true, mem: 'never' }), form('vmovmskpd', 1, 1, 0x50, { ...U, regGpr: true, mem: 'never' }),
  // map 2 (0F 38), 66
  form('vpermilps var', 2, 1, 0x0c), form('vpermilpd var', 2, 1, 0x0d),
  form('vtestps', 2, 1, 0x0e, { ...U, flags: true }), form('vtestpd', 2, 1, 0x0f, { ...U, flags: true }),
  form('vbroadcastss', 2, 1, 0x18, U), form('vbroadcastsd', 2, 1, 0x19, { ...U, ...L1 }),
  form('vbroadcastf128', 2, 1, 0x1a, { ...U, ...L1, mem: 'only' }),
  form('vmaskmovps load', 2, 1, 0x2c, { mem: 'only' }), form('vmaskmovpd load', 2, 1, 0x2d, { mem: 'only' }),
  form('vmaskmovps store', 2, 1, 0x2e, { mem: 'only' }), form('vmaskmovpd store', 2, 1, 0x2f, { mem: 'only' }),
  // map 3 (0F 3A), 66
  form('vpermilps imm', 3, 1, 0x04, { ...U, imm: true }), form('vpermilpd imm', 3, 1, 0x05, { ...U, imm: true }),
  form('vperm2f128', 3, 1, 0x06, { ...L1, imm: true }),
  form('vroundps', 3, 1, 0x08, { ...U, imm: true }), form('vroundpd', 3, 1, 0x09, { ...U, imm: true }),
  form('vroundss', 3, 1, 0x0a, { imm: true }), form('vroundsd', 3, 1, 0x0b, { imm: true }),
  form('vblendps', 3, 1, 0x0c, { imm: true }), form('vblendpd', 3, 1, 0x0d, { imm: true }),
  form('vextractps', 3, 1, 0x17, { ...U, ...L0, rmGpr: true, imm: true }),
  form('vinsertf128', 3, 1, 0x18, { ...L1, imm: true }), form('vextractf128', 3, 1, 0x19, { ...U, ...L1, imm: true }),
  form('vinsertps', 3, 1, 0x21, { ...L0, imm: true }),
  form('vdpps', 3, 1, 0x40, { imm: true }), form('vdppd', 3, 1, 0x41, { ...L0, imm: true }),
  form('vblendvps', 3, 1, 0x4a, { imm: true, immAnd: 0x3f }), form('vblendvpd', 3, 1, 0x4b, { imm: true, immAnd: 0x3f }),
];
