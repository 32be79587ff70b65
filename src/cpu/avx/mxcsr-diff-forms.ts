/**
 * VLDMXCSR/VSTMXCSR (avx/mxcsr.ts) forms for the generic VEX differential test
 * (avx-diff.test.ts, harness test/native/avx-harness.c): VEX map 1 AE /2 and /3 on
 * [rdx+disp8] (disp8 0..60, inside the 64-byte buffer), VEX.W random (WIG). One instance in
 * eight each gets a VEX.pp other than 00, VEX.L = 1, vvvv ≠ 1111b, another /digit or a
 * register operand, so the #UD surface is compared too. The loaded dword is the buffer's
 * random content, so most loads #GP(0) on a reserved bit and the rest load; the buffer and
 * MXCSR are compared after. Any disp8: an unaligned read can put the buffer's small integers
 * (0, 1, 2) into bits 31:16, and this AMD host's MXCSR_MASK is 0x2ffff (bit 17, AMD's
 * misaligned-exception mask, loads without #GP), which the test's nestvisor-amd profile
 * models (fpu/state.ts MXCSR_MASK_AMD). Test support only (may allocate).
 */
export interface MxcsrForm {
  name: string; map: number; pp: number; op: number; ls: number[]; shape: 'mr'; w?: boolean;
  enc: (r: () => number) => number[];
}

const odd = (r: () => number): boolean => (r() & 7) === 0;

function enc(digit: number, dispStep: number): (r: () => number) => number[] {
  return (r) => {
    const pp = odd(r) ? 1 + (r() % 3) : 0, l = odd(r) ? 1 : 0, v = odd(r) ? 1 + (r() % 15) : 0, w = r() & 1;
    const reg = odd(r) ? r() & 7 : digit;
    const modrm = odd(r) ? [0xc0 | (reg << 3) | (r() & 3)] : [0x42 | (reg << 3), dispStep * (r() % (1 + Math.floor(60 / dispStep)))];
    return [0xc4, 0xe1, (w << 7) | ((~v & 15) << 3) | (l << 2) | pp, 0xae, ...modrm];
  };
}

export const MXCSR_FORMS: MxcsrForm[] = [
  { name: 'vldmxcsr', map: 1, pp: 0, op: 0xae, ls: [0], shape: 'mr', w: true, enc: enc(2, 1) },
  { name: 'vstmxcsr', map: 1, pp: 0, op: 0xae, ls: [0], shape: 'mr', w: true, enc: enc(3, 1) },
];
