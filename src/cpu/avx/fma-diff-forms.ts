/**
 * The AV-FMA family's forms for the generic VEX differential test (avx-diff.test.ts,
 * harness test/native/avx-harness.c): every FMA3 opcode (map 2, 96-9F / A6-AF / B6-BF)
 * and F16C's VCVTPH2PS (map 2, 13) and VCVTPS2PH (map 3, 1D, imm8), as random encodings on
 * ymm0-3 and [rdx+disp8] with VEX.W and VEX.L random. One instance in eight gets a
 * non-66 VEX.pp, and F16C one in eight a vvvv ≠ 1111b, so the #UD surface is compared too.
 * The role-aware edge-operand tests are fma-diff.test.ts and f16c-diff.test.ts; this adds
 * the shared generator's operand material. Test support only (may allocate).
 */
export interface FmaForm {
  name: string; map: number; pp: number; op: number; ls: number[]; shape: 'rvm'; w?: boolean;
  enc: (r: () => number) => number[];
}

/** VEX.pp: 66 (01b) mostly, sometimes none/F3/F2 (no instruction there: #UD). */
const pp = (r: () => number): number => (r() & 7) === 0 ? [0, 2, 3][r() % 3]! : 1;
/** ModRM: register (ymm0-3) or [rdx+disp8] with disp8 in 0..32, ModRM.reg in 0..3. */
function modrm(r: () => number): number[] {
  const reg = r() & 3;
  return (r() & 1) === 0 ? [0x42 | (reg << 3), r() % 33] : [0xc0 | (reg << 3) | (r() & 3)];
}

function fmaEnc(op: number): (r: () => number) => number[] {
  return (r) => {
    const w = r() & 1, l = r() & 1, v = r() & 3;
    return [0xc4, 0xe2, (w << 7) | ((~v & 15) << 3) | (l << 2) | pp(r), op, ...modrm(r)];
  };
}

export const FMA_FORMS: FmaForm[] = [];
for (const col of [0x90, 0xa0, 0xb0]) {
  for (let k = 6; k <= 15; k++) {
    const op = col + k;
    FMA_FORMS.push({ name: `fma 0f38 ${op.toString(16)}`, map: 2, pp: 1, op, ls: [0, 1], shape: 'rvm', w: true, enc: fmaEnc(op) });
  }
}
FMA_FORMS.push({
  name: 'vcvtph2ps', map: 2, pp: 1, op: 0x13, ls: [0, 1], shape: 'rvm', w: true,
  enc: (r) => {
    const w = (r() & 7) === 0 ? 1 : 0, v = (r() & 7) === 0 ? 1 + (r() % 15) : 0;
    return [0xc4, 0xe2, (w << 7) | ((~v & 15) << 3) | ((r() & 1) << 2) | pp(r), 0x13, ...modrm(r)];
  },
});
FMA_FORMS.push({
  name: 'vcvtps2ph', map: 3, pp: 1, op: 0x1d, ls: [0, 1], shape: 'rvm', w: true,
  enc: (r) => {
    const w = (r() & 7) === 0 ? 1 : 0, v = (r() & 7) === 0 ? 1 + (r() % 15) : 0;
    return [0xc4, 0xe3, (w << 7) | ((~v & 15) << 3) | ((r() & 1) << 2) | pp(r), 0x1d, ...modrm(r), r() & 0xff];
  },
});
