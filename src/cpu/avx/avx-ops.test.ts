// The first VEX instruction set on the lane driver (avx/move.ts, avx/arith.ts): one test per
// instruction group, bytes from GNU as with the disassembly quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, reg64 } from '../testing.js';
import { makeAvxCpu, ymmHex, setYmm, f32Hex, f64Hex, hexBytes, memHex } from './avx-testing.js';
import { XM, UD, CR4_OSXMMEXCPT } from '../regs.js';

const DATA = 0x20000;
const ONES = '0123456789abcdef'.repeat(4);
const Z32 = '0'.repeat(32);

test('VMOVUPS/VMOVUPD/VMOVAPS/VMOVAPD/VMOVDQU/VMOVDQA loads, stores and register moves, 128 and 256', () => {
  const t = makeAvxCpu();
  const v = 'fedcba9876543210'.repeat(2) + ONES.slice(0, 32);
  t.mem.load(DATA, hexBytes(v));
  setReg64(t.cpu, 0, BigInt(DATA));
  setYmm(t, 2, ONES); setYmm(t, 3, v);
  // c5 fc 10 00  vmovups ymm0,[rax] | c5 fc 28 00 vmovaps ymm0,[rax] | c5 7e 6f 00 vmovdqu ymm8,[rax]
  for (const [code, reg] of [['c5 fc 10 00', 0], ['c5 fc 28 00', 0], ['c5 7e 6f 00', 8], ['c5 fd 6f 08', 1]] as const) {
    setYmm(t, reg, '');
    run(t, code);
    assert.equal(ymmHex(t, reg), v, code);
  }
  // c5 f8 10 20   vmovups xmm4,[rax]: upper half zeroed
  setYmm(t, 4, ONES);
  run(t, 'c5 f8 10 20');
  assert.equal(ymmHex(t, 4), Z32 + v.slice(32));
  // c5 f9 10 d3   vmovupd xmm2,xmm3 (VEX.128 register move: bits 255:128 zeroed)
  run(t, 'c5 f9 10 d3');
  assert.equal(ymmHex(t, 2), Z32 + v.slice(32));
  // c5 fc 11 08   vmovups [rax],ymm1 ; c5 f9 29 58 20  vmovapd [rax+0x20],xmm3 ; c5 fd 7f 48 40  vmovdqa [rax+0x40],ymm1
  setYmm(t, 1, ONES);
  run(t, 'c5 fc 11 08  c5 f9 29 58 20  c5 fd 7f 48 40');
  assert.deepEqual(t.exceptions, []);
  assert.equal(memHex(t, DATA, 32), ONES);
  assert.equal(memHex(t, DATA + 0x20, 16), v.slice(32));
  assert.equal(memHex(t, DATA + 0x40, 32), ONES);
  // c5 fc 29 cd   vmovaps ymm5,ymm1 (register form of the store opcode)
  run(t, 'c5 fc 29 cd');
  assert.equal(ymmHex(t, 5), ONES);
  // c5 fa 6f 00   vmovdqu xmm0,[rax+1]-style misaligned load is fine: c5 fa 6f 40 01 vmovdqu xmm0,[rax+0x1]
  run(t, 'c5 fa 6f 40 01');
  assert.deepEqual(t.exceptions, []);
  // c5 f9 6f 40 01  vmovdqa xmm0,[rax+0x1] → #GP(0)
  run(t, 'c5 f9 6f 40 01');
  assert.deepEqual(t.exceptions, [[13, 0]]);
});

test('VMOVD/VMOVQ: c5 f9 6e c0 vmovd xmm0,eax; c4 e1 f9 6e c0 vmovq xmm0,rax; c5 f9 7e c8 vmovd eax,xmm1; c4 e1 f9 7e c8 vmovq rax,xmm1', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, 0x1122334455667788n);
  setYmm(t, 0, ONES);
  run(t, 'c5 f9 6e c0');
  assert.equal(ymmHex(t, 0), '0'.repeat(56) + '55667788');
  setYmm(t, 1, ONES);
  run(t, 'c5 f9 7e c8');
  assert.equal(reg64(t.cpu, 0), 0x89abcdefn);
  run(t, 'c4 e1 f9 7e c8');
  assert.equal(reg64(t.cpu, 0), 0x0123456789abcdefn);
  // c5 fa 7e 00  vmovq xmm0,[rax] ; c5 fa 7e c1  vmovq xmm0,xmm1 ; c5 f9 d6 10  vmovq [rax],xmm2
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes('1111111122222222'));
  run(t, 'c5 fa 7e 00');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '1111111122222222');
  run(t, 'c5 fa 7e c1');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '0123456789abcdef');
  setYmm(t, 2, 'aaaaaaaabbbbbbbb');
  run(t, 'c5 f9 d6 10');
  assert.equal(memHex(t, DATA, 8), 'aaaaaaaabbbbbbbb');
  // c5 f9 d6 c8  vmovq xmm0,xmm1 (D6 register form): bits 255:64 zeroed
  setYmm(t, 0, ONES);
  run(t, 'c5 f9 d6 c8');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '0123456789abcdef');
  assert.deepEqual(t.exceptions, []);
});

test('VMOVSS/VMOVSD: memory forms zero-extend, register forms merge src1 (vvvv), stores write the low element', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes('99999999aaaaaaaa'));
  setYmm(t, 0, ONES); setYmm(t, 1, 'f'.repeat(64)); setYmm(t, 2, '1234567812345678');
  run(t, 'c5 fa 10 00'); // vmovss xmm0,DWORD PTR [rax]
  assert.equal(ymmHex(t, 0), '0'.repeat(56) + 'aaaaaaaa');
  run(t, 'c5 fb 10 00'); // vmovsd xmm0,QWORD PTR [rax]
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '99999999aaaaaaaa');
  run(t, 'c5 f2 10 c2'); // vmovss xmm0,xmm1,xmm2
  assert.equal(ymmHex(t, 0), Z32 + 'ffffffffffffffffffffffff12345678');
  run(t, 'c5 f3 10 c2'); // vmovsd xmm0,xmm1,xmm2
  assert.equal(ymmHex(t, 0), Z32 + 'ffffffffffffffff1234567812345678');
  setYmm(t, 3, '5555555566666666');
  run(t, 'c5 fa 11 18'); // vmovss DWORD PTR [rax],xmm3
  assert.equal(memHex(t, DATA, 8), '9999999966666666');
  run(t, 'c5 fb 11 18'); // vmovsd QWORD PTR [rax],xmm3
  assert.equal(memHex(t, DATA, 8), '5555555566666666');
  // c5 f2 11 d0  vmovss xmm0,xmm1,xmm2 (store opcode, register form: dest = r/m)
  run(t, 'c5 f2 11 d0');
  assert.equal(ymmHex(t, 0), Z32 + 'ffffffffffffffffffffffff12345678');
  assert.deepEqual(t.exceptions, []);
  // c5 f2 10 00: vmovss xmm0,[rax] with vvvv = 1101b → #UD
  run(t, 'c5 f2 10 00');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('VADDPS/VSUBPD/VMULPS/VDIVPD/VMINPS/VMAXSD/VSQRTPS/VSQRTSD, 128 and 256, non-destructive', () => {
  const t = makeAvxCpu();
  setYmm(t, 2, f32Hex(1, 2, 3, 4, 5, 6, 7, 8)); setYmm(t, 3, f32Hex(0.5, 0.5, 0.5, 0.5, 10, 20, 30, 40));
  run(t, 'c5 ec 58 cb'); // vaddps ymm1,ymm2,ymm3
  assert.equal(ymmHex(t, 1), f32Hex(1.5, 2.5, 3.5, 4.5, 15, 26, 37, 48));
  assert.equal(ymmHex(t, 2), f32Hex(1, 2, 3, 4, 5, 6, 7, 8)); // sources untouched
  run(t, 'c5 e8 59 cb'); // vmulps xmm1,xmm2,xmm3
  assert.equal(ymmHex(t, 1), f32Hex(0.5, 1, 1.5, 2));
  setYmm(t, 2, f32Hex(1, -2, 3, -4, 5, 6, 7, 8));
  run(t, 'c5 ec 5d cb'); // vminps ymm1,ymm2,ymm3
  assert.equal(ymmHex(t, 1), f32Hex(0.5, -2, 0.5, -4, 5, 6, 7, 8));
  run(t, 'c5 fc 51 cb'); // vsqrtps ymm1,ymm3
  assert.equal(ymmHex(t, 1), f32Hex(Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2),
    Math.fround(Math.sqrt(10)), Math.fround(Math.sqrt(20)), Math.fround(Math.sqrt(30)), Math.fround(Math.sqrt(40))));
  setYmm(t, 4, f64Hex(10, 20, 30, 40)); setYmm(t, 5, f64Hex(1, 2, 4, 8));
  run(t, 'c5 dd 5c f5'); // vsubpd ymm6,ymm4,ymm5
  assert.equal(ymmHex(t, 6), f64Hex(9, 18, 26, 32));
  run(t, 'c5 dd 5e f5'); // vdivpd ymm6,ymm4,ymm5
  assert.equal(ymmHex(t, 6), f64Hex(10, 10, 7.5, 5));
  run(t, 'c5 d3 5f f4'); // vmaxsd xmm6,xmm5,xmm4: low = max(1, 10), high qword from xmm5
  assert.equal(ymmHex(t, 6), f64Hex(10, 2));
  run(t, 'c5 d3 51 f4'); // vsqrtsd xmm6,xmm5,xmm4
  assert.equal(ymmHex(t, 6), f64Hex(Math.sqrt(10), 2));
  assert.deepEqual(t.exceptions, []);
  // c5 f4 51 cb: vsqrtps with vvvv = 1110b → #UD (no vvvv operand)
  run(t, 'c5 f4 51 cb');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('scalar VADDSS/VADDSD: m32/m64 source, bits 127:32|64 from src1, VEX.L ignored, bits 255:128 zeroed', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes(f64Hex(0.25).slice(48)));
  setYmm(t, 10, f64Hex(1, 7, 9, 9)); setYmm(t, 9, ONES);
  run(t, 'c5 2b 58 08'); // vaddsd xmm9,xmm10,QWORD PTR [rax]
  assert.equal(ymmHex(t, 9), f64Hex(1.25, 7));
  setYmm(t, 2, f32Hex(1, 2, 3, 4, 5, 6, 7, 8)); setYmm(t, 3, f32Hex(10, 20));
  run(t, 'c5 ea 58 cb'); // vaddss xmm1,xmm2,xmm3
  assert.equal(ymmHex(t, 1), f32Hex(11, 2, 3, 4));
  run(t, 'c5 ee 58 cb'); // the same with VEX.L = 1 (LIG)
  assert.equal(ymmHex(t, 1), f32Hex(11, 2, 3, 4));
  assert.deepEqual(t.exceptions, []);
});

test('MXCSR: flags from both lanes of VEX.256; an unmasked exception in the upper lane writes nothing (#XM)', () => {
  const t = makeAvxCpu();
  setYmm(t, 2, f32Hex(1, 1, 1, 1, 1, 1, 1, 1)); setYmm(t, 3, f32Hex(1, 1, 1, 1, 1, 1, 1, 0));
  run(t, 'c5 ec 5e cb'); // vdivps ymm1,ymm2,ymm3: 1/0 in lane 7 → ZE
  assert.equal(t.cpu.fpu.mxcsr & 0x3f, 4);
  assert.equal(ymmHex(t, 1), f32Hex(1, 1, 1, 1, 1, 1, 1, Infinity));
  t.cpu.fpu.mxcsr = 0x1f80 & ~(1 << 9); // ZM clear
  setYmm(t, 1, ONES);
  run(t, 'c5 ec 5e cb');
  assert.deepEqual(t.exceptions, [[XM, 0]]);
  assert.equal(ymmHex(t, 1), ONES);
  t.cpu.cr4 &= ~CR4_OSXMMEXCPT;
  run(t, 'c5 ec 5e cb');
  assert.deepEqual(t.exceptions[1], [UD, 0]);
});

test('VANDPS/VANDNPD/VORPS/VXORPD and VPAND/VPANDN/VPOR/VPXOR', () => {
  const t = makeAvxCpu();
  const a = 'ff00ff00f0f0f0f0'.repeat(4), b = '0ff00ff0cccccccc'.repeat(4);
  const and = '0f000f00c0c0c0c0'.repeat(4), andn = '00f000f00c0c0c0c'.repeat(4), or = 'fff0fff0fcfcfcfc'.repeat(4), xor = 'f0f0f0f03c3c3c3c'.repeat(4);
  setYmm(t, 1, a); setYmm(t, 2, b);
  const cases: Array<[string, string, boolean]> = [
    ['c5 f4 54 c2', and, true],   // vandps ymm0,ymm1,ymm2
    ['c5 f1 55 c2', andn, false], // vandnpd xmm0,xmm1,xmm2
    ['c5 f4 56 c2', or, true],    // vorps ymm0,ymm1,ymm2
    ['c5 f5 57 c2', xor, true],   // vxorpd ymm0,ymm1,ymm2
    ['c5 f1 ef c2', xor, false],  // vpxor xmm0,xmm1,xmm2
    ['c5 f5 eb c2', or, true],    // vpor ymm0,ymm1,ymm2 (AVX2)
    ['c5 f1 df c2', andn, false], // vpandn xmm0,xmm1,xmm2
    ['c5 f5 db c2', and, true],   // vpand ymm0,ymm1,ymm2 (AVX2)
  ];
  for (const [code, want, y] of cases) {
    setYmm(t, 0, ONES);
    run(t, code);
    assert.equal(ymmHex(t, 0), y ? want : Z32 + want.slice(32), code);
  }
  // c5 f1 db 00  vpand xmm0,xmm1,XMMWORD PTR [rax]: unaligned memory is fine for VEX
  setReg64(t.cpu, 0, BigInt(DATA + 4));
  t.mem.load(DATA + 4, hexBytes(b.slice(32)));
  run(t, 'c5 f1 db 00');
  assert.equal(ymmHex(t, 0), Z32 + and.slice(32));
  assert.deepEqual(t.exceptions, []);
});

test('VPADDB/W/D/Q and VPCMPEQB/W/D/Q (c4 e2 71 29 c2 vpcmpeqq xmm0,xmm1,xmm2)', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '80ff7f01'.repeat(6) + 'ffffffffffffffff');
  setYmm(t, 2, '80017f02'.repeat(6) + '0000000000000001');
  const cases: Array<[string, string]> = [
    ['c5 f1 fc c2', Z32 + '0000fe03'.repeat(2) + 'ffffffffffffff00'], // vpaddb xmm0,xmm1,xmm2
    ['c5 f1 fd c2', Z32 + '0100fe03'.repeat(2) + 'ffffffffffff0000'], // vpaddw
    ['c5 f5 fe c2', '0100fe03'.repeat(6) + 'ffffffff00000000'], // vpaddd ymm0,ymm1,ymm2
    ['c5 f1 d4 c2', Z32 + '0100fe040100fe03' + '0000000000000000'], // vpaddq
    ['c5 f1 74 c2', Z32 + 'ff00ff00'.repeat(2) + '00000000000000' + '00'], // vpcmpeqb
    ['c5 f1 75 c2', Z32 + '00000000'.repeat(2) + '0000000000000000'], // vpcmpeqw
    ['c5 f1 76 c2', Z32 + '00000000'.repeat(2) + '0000000000000000'], // vpcmpeqd
    ['c4 e2 71 29 c2', Z32 + '0000000000000000' + '0000000000000000'], // vpcmpeqq
  ];
  for (const [code, want] of cases) {
    run(t, code);
    assert.equal(ymmHex(t, 0), want, code);
  }
  setYmm(t, 2, '80ff7f01'.repeat(6) + 'ffffffff00000001');
  run(t, 'c5 f1 76 c2'); // vpcmpeqd: lanes 1..3 equal, lane 0 differs
  assert.equal(ymmHex(t, 0), Z32 + 'ffffffffffffffffffffffff00000000');
  run(t, 'c5 f1 75 c2'); // vpcmpeqw: words 0 and 1 differ (ffff vs 0001, ffff vs 0000)
  assert.equal(ymmHex(t, 0), Z32 + 'ffffffffffffffffffffffff00000000');
  run(t, 'c4 e2 71 29 c2'); // vpcmpeqq: qword 1 equal, qword 0 differs
  assert.equal(ymmHex(t, 0), Z32 + 'ffffffffffffffff0000000000000000');
  assert.deepEqual(t.exceptions, []);
});

test('VZEROUPPER (c5 f8 77) and VZEROALL (c5 fc 77); outside 64-bit mode only YMM0-7', () => {
  const t = makeAvxCpu();
  for (let n = 0; n < 16; n++) setYmm(t, n, ONES);
  run(t, 'c5 f8 77');
  for (let n = 0; n < 16; n++) assert.equal(ymmHex(t, n), Z32 + ONES.slice(32));
  run(t, 'c5 fc 77');
  for (let n = 0; n < 16; n++) assert.equal(ymmHex(t, n), '0'.repeat(64));
  // c5 f0 77: vvvv ≠ 1111b → #UD
  run(t, 'c5 f0 77');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  const p = makeAvxCpu('prot32');
  for (let n = 0; n < 16; n++) setYmm(p, n, ONES);
  run(p, 'c5 fc 77');
  for (let n = 0; n < 8; n++) assert.equal(ymmHex(p, n), '0'.repeat(64));
  for (let n = 8; n < 16; n++) assert.equal(ymmHex(p, n), ONES);
});
