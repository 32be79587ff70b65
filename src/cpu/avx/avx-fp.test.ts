// The VEX floating-point family (avx/fp.ts, avx/fp2.ts, avx/approx.ts): one test per
// instruction group, bytes from GNU as with the disassembly quoted. Bit-exactness against
// the host is avx-diff.test.ts's job (fp-diff-specs.ts); these pin the semantics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, reg64, PT_BASE } from '../testing.js';
import { makeAvxCpu, ymmHex, setYmm, f32Hex, f64Hex } from './avx-testing.js';
import { UD, GP, PF_, XM } from '../regs.js';
import { rcp32Host, rsqrt32Host } from '../sse/approx-host.js';
import { F7B_AVX2, type CpuProfile } from '../profile.js';

const DATA = 0x20000;
const Z32 = '0'.repeat(32);
const hx = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
/** Writes dwords (lane 0 first) to memory. */
function put32(t: ReturnType<typeof makeAvxCpu>, addr: number, ...d: number[]): void {
  d.forEach((v, i) => t.mem.write32(addr + 4 * i, v >>> 0));
}
function lastVector(t: ReturnType<typeof makeAvxCpu>): number | undefined { return t.exceptions.at(-1)?.[0]; }

test('VCMPPS/SD/SS: 32 predicates, signalling vs quiet on QNaN, scalar upper bits from src1', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, f32Hex(1, 2, NaN, 4, -0, 6, 7, 8));
  setYmm(t, 2, f32Hex(2, 2, 1, 3, 0, 7, 6, 8));
  // c5 f4 c2 c2 11  vcmplt_oqps ymm0,ymm1,ymm2: quiet on QNaN (no IE)
  t.cpu.fpu.mxcsr = 0x1f80;
  run(t, 'c5 f4 c2 c2 11');
  assert.equal(ymmHex(t, 0), [-1, 0, 0, 0, 0, -1, 0, 0].map(hx).reverse().join(''));
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80);
  // c5 f4 c2 c2 01  vcmpltps: LT_OS signals IE on the QNaN
  run(t, 'c5 f4 c2 c2 01');
  assert.equal(t.cpu.fpu.mxcsr & 1, 1);
  // c5 f3 c2 c2 1f  vcmptrue_ussd xmm0,xmm1,xmm2: all ones low, bits 127:64 from xmm1, upper zeroed
  setYmm(t, 1, 'ffff'.repeat(8) + '11111111222222223333333344444444');
  run(t, 'c5 f3 c2 c2 1f');
  assert.equal(ymmHex(t, 0), Z32 + '1111111122222222ffffffffffffffff');
  // c5 f2 c2 18 0b  vcmpfalsess xmm3,xmm1,[rax]
  setReg64(t.cpu, 0, BigInt(DATA));
  run(t, 'c5 f2 c2 18 0b');
  assert.equal(ymmHex(t, 3), Z32 + '111111112222222233333333' + '00000000');
  // NEQ_UQ (4) vs NEQ_OQ (0x0c) on an unordered pair
  setYmm(t, 1, f32Hex(NaN, 1)); setYmm(t, 2, f32Hex(1, 1));
  run(t, 'c5 f0 c2 c2 04'); // vcmpneqps xmm0,xmm1,xmm2
  assert.equal(ymmHex(t, 0).slice(56), 'ffffffff');
  run(t, 'c5 f0 c2 c2 0c'); // vcmpneq_oqps xmm0,xmm1,xmm2
  assert.equal(ymmHex(t, 0).slice(56), '00000000');
});

test('VHADDPS/VADDSUBPD/VHSUBPD per 128-bit lane', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  setYmm(t, 2, f32Hex(10, 20, 30, 40, 50, 60, 70, 80));
  run(t, 'c5 f7 7c c2'); // vhaddps ymm0,ymm1,ymm2
  assert.equal(ymmHex(t, 0), f32Hex(3, 7, 30, 70, 11, 15, 110, 150));
  setYmm(t, 1, f64Hex(1, 2, 3, 4)); setYmm(t, 2, f64Hex(10, 20, 30, 40));
  run(t, 'c5 f5 d0 c2'); // vaddsubpd ymm0,ymm1,ymm2
  assert.equal(ymmHex(t, 0), f64Hex(-9, 22, -27, 44));
  setYmm(t, 0, 'f'.repeat(64));
  run(t, 'c5 f1 7d c2'); // vhsubpd xmm0,xmm1,xmm2: upper half zeroed
  assert.equal(ymmHex(t, 0), f64Hex(-1, -10));
});

test('VROUNDPS/VROUNDSD: imm8 mode, imm8[2] = MXCSR.RC, imm8[3] suppresses #P', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, f32Hex(1.5, -1.5, 2.5, -0.25, 7.75, 8, -8.5, 0.5));
  t.cpu.fpu.mxcsr = 0x1f80;
  run(t, 'c4 e3 7d 08 c1 09'); // vroundps ymm0,ymm1,0x9: floor, no PE
  assert.equal(ymmHex(t, 0), f32Hex(1, -2, 2, -1, 7, 8, -9, 0));
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80);
  // c4 e3 71 0b c2 04  vroundsd xmm0,xmm1,xmm2,0x4: MXCSR.RC = up
  setYmm(t, 1, f64Hex(99, 77)); setYmm(t, 2, f64Hex(2.25, 5));
  t.cpu.fpu.mxcsr = 0x1f80 | (2 << 13);
  run(t, 'c4 e3 71 0b c2 04');
  assert.equal(ymmHex(t, 0), f64Hex(3, 77));
  assert.equal(t.cpu.fpu.mxcsr & 0x20, 0x20);
});

test('VDPPS per lane (ymm) and VDPPD (xmm only)', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  setYmm(t, 2, f32Hex(1, 1, 1, 1, 2, 2, 2, 2));
  run(t, 'c4 e3 75 40 c2 f1'); // vdpps ymm0,ymm1,ymm2,0xf1
  assert.equal(ymmHex(t, 0), f32Hex(10, 0, 0, 0, 52, 0, 0, 0));
  setYmm(t, 1, f64Hex(3, 4)); setYmm(t, 2, f64Hex(5, 6));
  run(t, 'c4 e3 71 41 c2 33'); // vdppd xmm0,xmm1,xmm2,0x33
  assert.equal(ymmHex(t, 0), f64Hex(39, 39));
  run(t, 'c4 e3 75 41 c2 33'); // the same with VEX.L = 1: no 256-bit VDPPD
  assert.equal(lastVector(t), UD);
});

test('VBLENDPS/VBLENDVPD/VSHUFPD/VSHUFPS/VUNPCK: per-lane immediates and the is4 register', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  setYmm(t, 2, f32Hex(10, 20, 30, 40, 50, 60, 70, 80));
  run(t, 'c4 e3 75 0c c2 5a'); // vblendps ymm0,ymm1,ymm2,0x5a: 0101 1010
  assert.equal(ymmHex(t, 0), f32Hex(1, 20, 3, 40, 50, 6, 70, 8));
  run(t, 'c5 f4 c6 c2 1b'); // vshufps ymm0,ymm1,ymm2,0x1b: same selectors in both lanes
  assert.equal(ymmHex(t, 0), f32Hex(4, 3, 20, 10, 8, 7, 60, 50));
  run(t, 'c5 f4 14 c2'); // vunpcklps ymm0,ymm1,ymm2
  assert.equal(ymmHex(t, 0), f32Hex(1, 10, 2, 20, 5, 50, 6, 60));
  setYmm(t, 1, f64Hex(1, 2, 3, 4)); setYmm(t, 2, f64Hex(10, 20, 30, 40));
  run(t, 'c5 f5 c6 c2 06'); // vshufpd ymm0,ymm1,ymm2,0x6: lane 0 bits 1:0 = 10, lane 1 bits 3:2 = 01
  assert.equal(ymmHex(t, 0), f64Hex(1, 20, 4, 30));
  run(t, 'c5 f5 15 c2'); // vunpckhpd ymm0,ymm1,ymm2
  assert.equal(ymmHex(t, 0), f64Hex(2, 20, 4, 40));
  setYmm(t, 3, f64Hex(-1, 1, 0, -0));
  run(t, 'c4 e3 75 4b c2 30'); // vblendvpd ymm0,ymm1,ymm2,ymm3: sign bits of ymm3 pick ymm2
  assert.equal(ymmHex(t, 0), f64Hex(10, 2, 3, 40));
});

test('VPERMILPS/PD (variable and imm8; VEX.W1 is #UD)', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  setYmm(t, 2, [7, 4, 1, 0, 2, 2, 3, 0].map(hx).reverse().join(''));
  run(t, 'c4 e2 75 0c c2'); // vpermilps ymm0,ymm1,ymm2: control bits 1:0, within each lane
  assert.equal(ymmHex(t, 0), f32Hex(4, 1, 2, 1, 7, 7, 8, 5));
  run(t, 'c4 e3 79 04 c1 1b'); // vpermilps xmm0,xmm1,0x1b
  assert.equal(ymmHex(t, 0), f32Hex(4, 3, 2, 1));
  setYmm(t, 1, f64Hex(1, 2, 3, 4));
  run(t, 'c4 e3 7d 05 c1 05'); // vpermilpd ymm0,ymm1,0x5: bit per element, 1 0 | 1 0
  assert.equal(ymmHex(t, 0), f64Hex(2, 1, 4, 3));
  run(t, 'c4 e2 f5 0c c2'); // the variable form with VEX.W1
  assert.equal(lastVector(t), UD);
});

test('VCVT: PD2PS and PD2DQ 256→128, PS2PD and DQ2PD 128→256, SI2SD W1, TSD2SI, SS2SD merge', () => {
  const t = makeAvxCpu();
  t.cpu.fpu.mxcsr = 0x1f80;
  setYmm(t, 0, 'f'.repeat(64));
  setYmm(t, 1, f64Hex(1.5, -2, 1e300, 0.1));
  run(t, 'c5 fd 5a c1'); // vcvtpd2ps xmm0,ymm1: bits 255:128 zeroed
  assert.equal(ymmHex(t, 0), f32Hex(1.5, -2, Infinity, Math.fround(0.1)));
  assert.equal(t.cpu.fpu.mxcsr & 0x3f, 0x28); // OE | PE (1e300), PE (0.1)
  setYmm(t, 1, f64Hex(2.5, -3.5, 7, 1e10));
  run(t, 'c5 ff e6 c1'); // vcvtpd2dq xmm0,ymm1: nearest-even, 1e10 → indefinite
  assert.equal(ymmHex(t, 0), Z32 + [2, -4, 7, 0x80000000].map(hx).reverse().join(''));
  setYmm(t, 1, f32Hex(1.5, -2, 3, 4));
  run(t, 'c5 fc 5a c1'); // vcvtps2pd ymm0,xmm1
  assert.equal(ymmHex(t, 0), f64Hex(1.5, -2, 3, 4));
  setYmm(t, 1, [5, -6, 7, 8].map(hx).reverse().join(''));
  run(t, 'c5 fe e6 c1'); // vcvtdq2pd ymm0,xmm1
  assert.equal(ymmHex(t, 0), f64Hex(5, -6, 7, 8));
  setReg64(t.cpu, 0, -(2n ** 40n));
  setYmm(t, 1, f64Hex(0, 42, 43, 44));
  run(t, 'c4 e1 f3 2a c0'); // vcvtsi2sd xmm0,xmm1,rax: 64-bit source, bits 127:64 from xmm1
  assert.equal(ymmHex(t, 0), f64Hex(-(2 ** 40), 42));
  setYmm(t, 1, f64Hex(-7.9));
  run(t, 'c4 e1 fb 2c c1'); // vcvttsd2si rax,xmm1
  assert.equal(reg64(t.cpu, 0), -7n & 0xffffffffffffffffn);
  setYmm(t, 1, f32Hex(9, 9, 9, 9)); setYmm(t, 2, f32Hex(0.5));
  run(t, 'c5 f2 5a c2'); // vcvtss2sd xmm0,xmm1,xmm2
  assert.equal(ymmHex(t, 0), Z32 + '41100000' + '41100000' + '3fe0000000000000');
  setYmm(t, 1, f32Hex(1.5, 2, -1e9, 7.5, 8, 9, 10, 11));
  run(t, 'c5 fd 5b c1'); // vcvtps2dq ymm0,ymm1 (nearest-even)
  assert.equal(ymmHex(t, 0), [2, 2, -1e9, 8, 8, 9, 10, 11].map(hx).reverse().join(''));
});

test('VCOMISS/VUCOMISD and VTESTPS set EFLAGS; VMOVMSKPD', () => {
  const t = makeAvxCpu();
  t.cpu.fpu.mxcsr = 0x1f80;
  const flags = (): number => t.cpu.getFlags() & 0x8d5;
  setYmm(t, 0, f32Hex(1)); setYmm(t, 1, f32Hex(2));
  run(t, 'c5 f8 2f c1'); // vcomiss xmm0,xmm1: less → CF
  assert.equal(flags(), 0x01);
  setYmm(t, 0, f64Hex(NaN)); setYmm(t, 1, f64Hex(2));
  run(t, 'c5 f9 2e c1'); // vucomisd xmm0,xmm1: unordered, QNaN: no IE
  assert.equal(flags(), 0x45);
  assert.equal(t.cpu.fpu.mxcsr & 1, 0);
  setYmm(t, 0, f32Hex(0, 0, 0, 0, 0, 0, 0, -1)); setYmm(t, 1, f32Hex(0, 0, 0, 0, 0, 0, 0, 1));
  run(t, 'c4 e2 7d 0e c1'); // vtestps ymm0,ymm1: no common sign bit → ZF; ymm1 has no sign bits → CF
  assert.equal(flags(), 0x41);
  setYmm(t, 1, f32Hex(0, 0, 0, 0, 0, 0, 0, -1));
  run(t, 'c4 e2 7d 0e c1');
  assert.equal(flags(), 0x01); // sign bit 7 in both: ZF = 0; none in ~ymm0 & ymm1: CF
  setYmm(t, 1, f64Hex(-1, 1, -0, 2));
  setReg64(t.cpu, 0, -1n);
  run(t, 'c5 fd 50 c1'); // vmovmskpd eax,ymm1: zero-extended to rax
  assert.equal(reg64(t.cpu, 0), 0b0101n);
});

test('VMOVHLPS/VMOVHPS/VMOVLPD, VMOVDDUP/VMOVSLDUP, VINSERTPS/VEXTRACTPS', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  put32(t, DATA, 0xaaaa0000, 0xbbbb0000);
  setYmm(t, 1, 'f'.repeat(32) + '11111111222222223333333344444444');
  setYmm(t, 2, '55555555666666667777777788888888');
  run(t, 'c5 f0 12 c2'); // vmovhlps xmm0,xmm1,xmm2
  assert.equal(ymmHex(t, 0), Z32 + '11111111222222225555555566666666');
  run(t, 'c5 f0 16 00'); // vmovhps xmm0,xmm1,[rax]
  assert.equal(ymmHex(t, 0), Z32 + 'bbbb0000aaaa00003333333344444444');
  run(t, 'c5 f9 13 08'); // vmovlpd [rax],xmm1
  assert.equal(t.mem.read32(DATA), 0x44444444);
  assert.equal(t.mem.read32(DATA + 4), 0x33333333);
  setYmm(t, 1, f64Hex(1, 2, 3, 4));
  run(t, 'c5 ff 12 c1'); // vmovddup ymm0,ymm1
  assert.equal(ymmHex(t, 0), f64Hex(1, 1, 3, 3));
  setYmm(t, 1, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  run(t, 'c5 fe 12 c1'); // vmovsldup ymm0,ymm1
  assert.equal(ymmHex(t, 0), f32Hex(1, 1, 3, 3, 5, 5, 7, 7));
  setYmm(t, 2, f32Hex(10, 20, 30, 40));
  run(t, 'c4 e3 71 21 c2 99'); // vinsertps xmm0,xmm1,xmm2,0x99: ymm2[2] → element 1, zero mask 1001
  assert.equal(ymmHex(t, 0), f32Hex(0, 30, 3, 0));
  run(t, 'c4 e3 79 17 08 02'); // vextractps [rax],xmm1,0x2
  assert.equal(t.mem.read32(DATA), 0x40400000);
  setReg64(t.cpu, 0, -1n);
  run(t, 'c4 e3 79 17 c8 03'); // vextractps eax,xmm1,0x3: zero-extended
  assert.equal(reg64(t.cpu, 0), 0x40800000n);
});

test('VBROADCASTSS/SD/F128 (register source needs AVX2), VINSERTF128, VEXTRACTF128, VPERM2F128', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  put32(t, DATA, 0x11111111, 0x22222222, 0x33333333, 0x44444444);
  run(t, 'c4 e2 7d 18 00'); // vbroadcastss ymm0,[rax]
  assert.equal(ymmHex(t, 0), '11111111'.repeat(8));
  run(t, 'c4 e2 7d 19 00'); // vbroadcastsd ymm0,[rax]
  assert.equal(ymmHex(t, 0), '2222222211111111'.repeat(4));
  run(t, 'c4 e2 7d 1a 00'); // vbroadcastf128 ymm0,[rax]
  assert.equal(ymmHex(t, 0), '44444444333333332222222211111111'.repeat(2));
  setYmm(t, 1, f32Hex(7));
  run(t, 'c4 e2 79 18 c1'); // vbroadcastss xmm0,xmm1 (AVX2)
  assert.equal(ymmHex(t, 0), Z32 + '40e00000'.repeat(4));
  run(t, 'c4 e2 79 19 00'); // vbroadcastsd xmm0,[rax]: VEX.L = 0 is #UD
  assert.equal(lastVector(t), UD);
  // a CPU with AVX and without AVX2, whatever the shipped profile advertises
  const avxOnly = makeAvxCpu('long64', {});
  const prof = avxOnly.cpu.profile;
  (avxOnly.cpu as unknown as { profile: CpuProfile }).profile = { ...prof, leaf7Ebx: prof.leaf7Ebx & ~F7B_AVX2 };
  run(avxOnly, 'c4 e2 79 18 c1');
  assert.equal(lastVector(avxOnly), UD);
  setYmm(t, 1, 'a'.repeat(64)); setYmm(t, 2, 'b'.repeat(64));
  run(t, 'c4 e3 75 18 c2 01'); // vinsertf128 ymm0,ymm1,xmm2,0x1
  assert.equal(ymmHex(t, 0), 'b'.repeat(32) + 'a'.repeat(32));
  setYmm(t, 1, '1'.repeat(32) + '2'.repeat(32));
  run(t, 'c4 e3 7d 19 c8 01'); // vextractf128 xmm0,ymm1,0x1
  assert.equal(ymmHex(t, 0), Z32 + '1'.repeat(32));
  run(t, 'c4 e3 7d 19 08 00'); // vextractf128 [rax],ymm1,0x0
  assert.equal(t.mem.read32(DATA + 12), 0x22222222);
  setYmm(t, 2, '3'.repeat(32) + '4'.repeat(32));
  run(t, 'c4 e3 75 06 c2 83'); // vperm2f128 ymm0,ymm1,ymm2,0x83: low = ymm2 high, high zeroed
  assert.equal(ymmHex(t, 0), Z32 + '3'.repeat(32));
});

test('VMASKMOVPS load: masked-off elements never fault; VMASKMOVPD store: all or nothing', () => {
  const t = makeAvxCpu();
  // unmap the 2 MiB page at 0x200000 (identity PD entry 1); page tables are read physically
  t.mem.write32(PT_BASE + 0x2000 + 8, 0);
  t.cpu.flushTlb();
  const base = 0x200000 - 8;
  put32(t, base, 0x11111111, 0x22222222);
  setReg64(t.cpu, 0, BigInt(base));
  setYmm(t, 1, [-1, 0, 0, 0, 0, 0, 0, 0].map(hx).reverse().join('')); // only element 0 selected
  run(t, 'c4 e2 75 2c 00'); // vmaskmovps ymm0,ymm1,[rax]: elements 2..7 lie on the unmapped page
  assert.equal(t.exceptions.length, 0);
  assert.equal(ymmHex(t, 0), '0'.repeat(56) + '11111111');
  setYmm(t, 1, [0, -1, 0, 0, 0, 0, 0, 0].map(hx).reverse().join('')); // qword 0 selected, the rest masked
  setYmm(t, 2, 'c'.repeat(64));
  run(t, 'c4 e2 75 2f 10'); // vmaskmovpd [rax],ymm1,ymm2
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.mem.read32(base) >>> 0, 0xcccccccc);
  put32(t, base, 0x11111111, 0x22222222);
  setYmm(t, 1, [0, -1, 0, 0, 0, -1, 0, 0].map(hx).reverse().join('')); // qwords 0 and 2: 2 unmapped
  run(t, 'c4 e2 75 2f 10');
  assert.equal(lastVector(t), PF_);
  assert.equal(t.mem.read32(base), 0x11111111); // nothing written
});

test('VRCPPS/VRSQRTSS: the host tables and specials; VMOVNTPS alignment; #XM before any write', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, ['3f800000', '40000000', '00000001', '7f800000', 'bf800000', '7fa00000', '41200000', '7e800000'].reverse().join(''));
  run(t, 'c5 fc 53 c1'); // vrcpps ymm0,ymm1
  const r = ymmHex(t, 0);
  assert.equal(r.slice(56), hx(rcp32Host(0x3f800000)));
  assert.equal(r.slice(48, 56), '3efff000'); // 1/2 = (1/1)/2 exactly: the result scales with the exponent
  assert.equal(r.slice(40, 48), '7f800000'); // denormal → +∞
  assert.equal(r.slice(16, 24), '7fe00000'); // SNaN quieted
  assert.equal(r.slice(0, 8), '00000000'); // 1/2^126 is below 2^-126: flushed
  for (const x of [0x3f800000, 0x41200000, 0x3fc00000]) {
    const v = new Float32Array(new Int32Array([rcp32Host(x)]).buffer)[0]!, e = 1 / new Float32Array(new Int32Array([x]).buffer)[0]!;
    assert.ok(Math.abs(v - e) <= 1.5 * 2 ** -12 * e);
    const s = new Float32Array(new Int32Array([rsqrt32Host(x)]).buffer)[0]!, se = 1 / Math.sqrt(new Float32Array(new Int32Array([x]).buffer)[0]!);
    assert.ok(Math.abs(s - se) <= 1.5 * 2 ** -12 * se);
  }
  setYmm(t, 1, '9'.repeat(64)); setYmm(t, 2, ['bf800000'].join(''));
  run(t, 'c5 f2 52 c2'); // vrsqrtss xmm0,xmm1,xmm2: negative → indefinite, bits 127:32 from xmm1
  assert.equal(ymmHex(t, 0), Z32 + '9'.repeat(24) + 'ffc00000');
  setReg64(t.cpu, 0, BigInt(DATA + 16));
  run(t, 'c5 fc 2b 08'); // vmovntps [rax],ymm1: 32-byte operand at a 16-byte boundary
  assert.equal(lastVector(t), GP);
  // unmasked invalid in the upper lane only: #XM, destination untouched
  t.cpu.fpu.mxcsr = 0x1f80 & ~0x80;
  setYmm(t, 0, 'e'.repeat(64));
  setYmm(t, 1, f32Hex(1, 2, 3, 4, 5, 6, 7, NaN)); setYmm(t, 2, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  run(t, 'c5 f4 c2 c2 01'); // vcmpltps ymm0,ymm1,ymm2
  assert.equal(lastVector(t), XM);
  assert.equal(ymmHex(t, 0), 'e'.repeat(64));
});

test('outside 64-bit mode: VEX.W1 of VCVTSI2SD/VCVTTSD2SI is ignored, VBLENDVPD ignores imm8[7]', () => {
  const t = makeAvxCpu('prot32');
  t.cpu.fpu.mxcsr = 0x1f80;
  t.cpu.setReg32(0, -1);
  setYmm(t, 1, f64Hex(0, 5));
  run(t, 'c4 e1 f3 2a c0'); // vcvtsi2sd xmm0,xmm1,eax (W1 ignored: a 32-bit source)
  assert.equal(ymmHex(t, 0), f64Hex(-1, 5));
  setYmm(t, 1, f64Hex(-123456.7));
  run(t, 'c4 e1 fb 2c c1'); // vcvttsd2si eax,xmm1 (W1 ignored)
  assert.equal(t.cpu.getReg32(0), -123456);
  setYmm(t, 1, f64Hex(1, 2, 3, 4)); setYmm(t, 2, f64Hex(10, 20, 30, 40));
  setYmm(t, 3, f64Hex(-1, 1, -1, 1));
  run(t, 'c4 e3 75 4b c2 b0'); // vblendvpd ymm0,ymm1,ymm2,ymm11 in 64-bit mode; ymm3 here
  assert.equal(ymmHex(t, 0), f64Hex(10, 2, 30, 4));
});

test('the imm8 is fetched before the #UD checks: a fetch fault on it ranks first (SDM Vol. 3A Table 6-2)', () => {
  const t = makeAvxCpu();
  // linear 0-2M through a 4K page table (identity), page 0x30000 not present
  const pt = 0x3fe000;
  for (let i = 0; i < 512; i++) { t.mem.write32(pt + 8 * i, i === 0x30 ? 0 : (i << 12) | 7); t.mem.write32(pt + 8 * i + 4, 0); }
  t.mem.write32(PT_BASE + 0x2000, pt | 7);
  t.cpu.flushTlb();
  const at = (addr: number, code: number[]): number | undefined => {
    t.mem.load(addr, Uint8Array.from([...code, 0xf4]));
    t.cpu.rip = addr; t.cpu.halted = false;
    const before = t.exceptions.length;
    t.cpu.run(2);
    return t.exceptions.length !== before ? lastVector(t) : undefined;
  };
  // c4 e3 75 41 c2 33  vdppd with VEX.L = 1 (#UD); c4 e3 f9 04 c1 1b  vpermilps xmm0,xmm1,0x1b with W1 (#UD);
  // c4 e3 f5 4b c2 30  vblendvpd with W1 (#UD); c4 e3 79 19 c8 01  vextractf128 with L = 0 (#UD)
  for (const code of [[0xc4, 0xe3, 0x75, 0x41, 0xc2, 0x33], [0xc4, 0xe3, 0xf9, 0x04, 0xc1, 0x1b],
    [0xc4, 0xe3, 0xf5, 0x4b, 0xc2, 0x30], [0xc4, 0xe3, 0x79, 0x19, 0xc8, 0x01]]) {
    assert.equal(at(0x20000, code), UD, code.join(' '));
    assert.equal(at(0x30000 - 5, code), PF_, code.join(' ')); // the imm8 alone lies on the missing page
  }
});
