// The AV-INT family (avx/int.ts, avx/int2.ts): VEX.128/VEX.256 forms of the SSE2..SSE4.2
// integer instructions and VEX.128 AES/PCLMULQDQ. One test per group; bytes from GNU as
// (`as --64 -msyntax=intel -mnaked-reg`) with objdump's disassembly quoted. Results are
// checked against hand-computed values or against the legacy SSE instruction on the same
// data (the VEX form must equal it lane by lane).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, reg64, makeCpu } from '../testing.js';
import { makeAvxCpu, ymmHex, setYmm, hexBytes, memHex } from './avx-testing.js';
import { UD, GP, NM, CR0_TS, CR4_OSFXSR } from '../regs.js';

const DATA = 0x20000;
const Z32 = '0'.repeat(32);
const ONES = '0123456789abcdef'.repeat(4);

/** 128 bits repeated in both lanes, given as 32 hex digits. */
const both = (x: string): string => x + x;

test('VPSUBB/VPADDUSW/VPMULLD/VPCMPGTQ: c5 f1 f8 c2 vpsubb xmm0,xmm1,xmm2 (upper zeroed); c5 f5 f8 c2 vpsubb ymm0,ymm1,ymm2 (both lanes; AVX2)', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '10'.repeat(16) + '05'.repeat(16)); setYmm(t, 2, '01'.repeat(16) + '06'.repeat(16));
  setYmm(t, 0, ONES);
  run(t, 'c5 f1 f8 c2');
  assert.equal(ymmHex(t, 0), Z32 + 'ff'.repeat(16));
  run(t, 'c5 f5 f8 c2');
  assert.equal(ymmHex(t, 0), '0f'.repeat(16) + 'ff'.repeat(16));
  // c5 f5 dd c2  vpaddusw ymm0,ymm1,ymm2: unsigned saturation per word
  setYmm(t, 1, 'fff0'.repeat(8) + '0001'.repeat(8)); setYmm(t, 2, '0100'.repeat(8) + '0002'.repeat(8));
  run(t, 'c5 f5 dd c2');
  assert.equal(ymmHex(t, 0), 'ffff'.repeat(8) + '0003'.repeat(8));
  // c4 e2 75 40 c2  vpmulld ymm0,ymm1,ymm2: low 32 bits of the signed products
  setYmm(t, 1, both('ffffffff' + '00010000' + '7fffffff' + '00000003'));
  setYmm(t, 2, both('00000002' + '00010000' + '00000002' + 'fffffffd'));
  run(t, 'c4 e2 75 40 c2');
  assert.equal(ymmHex(t, 0), both('fffffffe' + '00000000' + 'fffffffe' + 'fffffff7'));
  // c4 e2 75 37 c2  vpcmpgtq ymm0,ymm1,ymm2: signed 64-bit
  setYmm(t, 1, '0000000000000001' + '8000000000000000' + '7fffffffffffffff' + 'ffffffffffffffff');
  setYmm(t, 2, 'ffffffffffffffff' + '0000000000000000' + '7ffffffffffffffe' + 'ffffffffffffffff');
  run(t, 'c4 e2 75 37 c2');
  assert.equal(ymmHex(t, 0), 'f'.repeat(16) + '0'.repeat(16) + 'f'.repeat(16) + '0'.repeat(16));
  assert.deepEqual(t.exceptions, []);
  // AVX without AVX2: the xmm form runs, the ymm form is #UD
  const a = makeAvxCpu('long64', {});
  run(a, 'c5 f1 f8 c2');
  assert.deepEqual(a.exceptions, []);
  run(a, 'c5 f5 f8 c2');
  assert.deepEqual(a.exceptions, [[UD, 0]]);
});

test('lane-wise 256-bit forms equal the legacy instruction on each lane (VPSHUFB, VPHADDW, VPALIGNR, VPUNPCKHBW, VPACKSSDW, VPSHUFHW, VPABSD, VPSADBW)', () => {
  const lo = '8f1e2d3c4b5a69788796a5b4c3d2e1f0', hi = '00ff11ee22dd33cc44bb55aa66997788';
  const lo2 = '0102030405860708090a0b8c0d0e0f10', hi2 = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
  const cases: Array<[string, string, string]> = [
    // [vex bytes on ymm0 ← ymm1 (vvvv), ymm2, legacy bytes on xmm1 ← xmm1, xmm2, name]
    ['c4 e2 75 00 c2', '66 0f 38 00 ca', 'vpshufb ymm0,ymm1,ymm2 / pshufb xmm1,xmm2'],
    ['c4 e2 75 01 c2', '66 0f 38 01 ca', 'vphaddw ymm0,ymm1,ymm2 / phaddw xmm1,xmm2'],
    ['c4 e3 75 0f c2 04', '66 0f 3a 0f ca 04', 'vpalignr ymm0,ymm1,ymm2,0x4 / palignr xmm1,xmm2,0x4'],
    ['c5 f5 68 c2', '66 0f 68 ca', 'vpunpckhbw ymm0,ymm1,ymm2 / punpckhbw xmm1,xmm2'],
    ['c5 f5 6b c2', '66 0f 6b ca', 'vpackssdw ymm0,ymm1,ymm2 / packssdw xmm1,xmm2'],
    ['c5 fe 70 c2 1b', 'f3 0f 70 ca 1b', 'vpshufhw ymm0,ymm2,0x1b / pshufhw xmm1,xmm2,0x1b'],
    ['c4 e2 7d 1e c2', '66 0f 38 1e ca', 'vpabsd ymm0,ymm2 / pabsd xmm1,xmm2'],
    ['c5 f5 f6 c2', '66 0f f6 ca', 'vpsadbw ymm0,ymm1,ymm2 / psadbw xmm1,xmm2'],
  ];
  for (const [vex, legacy, name] of cases) {
    const t = makeAvxCpu();
    setYmm(t, 1, hi + lo); setYmm(t, 2, hi2 + lo2);
    run(t, vex);
    const got = ymmHex(t, 0);
    const lane = (a: string, b: string): string => {
      const u = makeAvxCpu();
      setYmm(u, 1, a); setYmm(u, 2, b);
      run(u, legacy);
      return ymmHex(u, 1).slice(32);
    };
    assert.deepEqual(t.exceptions, [], name);
    assert.equal(got, lane(hi, hi2) + lane(lo, lo2), name);
  }
});

test('shifts by xmm/m128 count: c5 f5 f1 da vpsllw ymm3,ymm1,xmm2 (one count for both lanes); c5 f5 e1 18 vpsraw ymm3,ymm1,[rax] (m128); count > 15', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '8001'.repeat(16));
  setYmm(t, 2, 'ffffffffffffffffffffffffffffffff' + 'ffffffffffffffff' + '0000000000000004'); // only bits 63:0 count
  run(t, 'c5 f5 f1 da');
  assert.equal(ymmHex(t, 3), '0010'.repeat(16));
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes('0000000000000001' + '0000000000000003'));
  run(t, 'c5 f5 e1 18'); // count = whole low quadword = 3
  assert.equal(ymmHex(t, 3), 'f000'.repeat(16));
  t.mem.load(DATA, hexBytes('0000000000000000' + '0000000100000000')); // 2^32: > 15
  run(t, 'c5 f5 e1 18');
  assert.equal(ymmHex(t, 3), 'ffff'.repeat(16));
  assert.deepEqual(t.exceptions, []);
});

test('shifts by imm8 write VEX.vvvv: c5 d1 71 d1 04 vpsrlw xmm5,xmm1,0x4; c5 dd 73 d9 03 vpsrldq ymm4,ymm1,0x3 (per lane); c5 ed 71 e1 14 vpsraw ymm2,ymm1,0x14', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, ONES); setYmm(t, 5, 'f'.repeat(64));
  run(t, 'c5 d1 71 d1 04');
  assert.equal(ymmHex(t, 5), Z32 + '00120456089a0cde'.repeat(2));
  assert.equal(ymmHex(t, 1), ONES, 'the r/m source is not written');
  run(t, 'c5 dd 73 d9 03');
  assert.equal(ymmHex(t, 4), '0000000123456789abcdef0123456789'.repeat(2));
  setYmm(t, 1, '8000'.repeat(8) + '7fff'.repeat(8));
  run(t, 'c5 ed 71 e1 14');
  assert.equal(ymmHex(t, 2), 'ffff'.repeat(8) + '0000'.repeat(8));
  // c5 cd 72 f2 21 vpslld ymm6,ymm2,0x21: count ≥ 32 clears
  setYmm(t, 2, ONES);
  run(t, 'c5 cd 72 f2 21');
  assert.equal(ymmHex(t, 6), '0'.repeat(64));
  assert.deepEqual(t.exceptions, []);
  // memory form (c5 d1 71 11 04: mod = 00) and /1 (c5 d1 71 c9 04) do not exist: #UD
  run(t, 'c5 d1 71 11 04');
  run(t, 'c5 d1 71 c9 04');
  // 73 /4 (VPSRAQ) is AVX-512 only: c5 d1 73 e1 04 → #UD
  run(t, 'c5 d1 73 e1 04');
  assert.deepEqual(t.exceptions, [[UD, 0], [UD, 0], [UD, 0]]);
});

test('VPMOVSX/VPMOVZX: c4 e2 7d 30 c1 vpmovzxbw ymm0,xmm1 widens 16 bytes (not lane-wise); c4 e2 79 22 08 vpmovsxbq xmm1,WORD PTR [rax]', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, 'ffffffffffffffffffffffffffffffff' + '80ff7f0102030405060708090a0b0c0d');
  run(t, 'c4 e2 7d 30 c1');
  assert.equal(ymmHex(t, 0), '0080' + '00ff' + '007f' + '0001' + '0002' + '0003' + '0004' + '0005'
    + '0006' + '0007' + '0008' + '0009' + '000a' + '000b' + '000c' + '000d');
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes('8000000000000001' + '7fffffff80000000' + '0000807f'));
  setYmm(t, 1, ONES);
  run(t, 'c4 e2 79 22 08');
  assert.equal(ymmHex(t, 1), Z32 + 'ffffffffffffff80' + '000000000000007f');
  assert.deepEqual(t.exceptions, []);
});

test('VPMOVSXDQ ymm: four dwords from m128 sign-extended to quadwords', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes('80000000000000017fffffff80000000'));
  run(t, 'c4 e2 7d 25 10'); // vpmovsxdq ymm2,XMMWORD PTR [rax]
  assert.equal(ymmHex(t, 2), 'ffffffff80000000' + '0000000000000001' + '000000007fffffff' + 'ffffffff80000000');
  assert.deepEqual(t.exceptions, []);
  // vvvv must be 1111b: c4 e2 75 25 10 → #UD
  run(t, 'c4 e2 75 25 10');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('VPMOVMSKB and VPTEST: c5 fd d7 c1 vpmovmskb eax,ymm1 (32 bits); c5 f9 d7 c9 vpmovmskb ecx,xmm1; c4 e2 7d 17 ca vptest ymm1,ymm2 (AVX)', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '80'.repeat(15) + '7f' + '00'.repeat(15) + 'ff');
  setReg64(t.cpu, 0, 0xffffffffffffffffn);
  run(t, 'c5 fd d7 c1');
  assert.equal(reg64(t.cpu, 0), 0xfffe0001n);
  run(t, 'c5 f9 d7 c9');
  assert.equal(reg64(t.cpu, 1), 0x0001n);
  // VPTEST runs on an AVX-only CPU at both lengths
  const a = makeAvxCpu('long64', {});
  setYmm(a, 1, 'f0'.repeat(16) + '00'.repeat(16)); setYmm(a, 2, '0f'.repeat(16) + '00'.repeat(16));
  run(a, 'c4 e2 7d 17 ca');
  assert.equal(Boolean(a.cpu.getZF()), true); assert.equal(Boolean(a.cpu.getCF()), false);
  setYmm(a, 2, 'f0'.repeat(16) + '00'.repeat(16));
  run(a, 'c4 e2 7d 17 ca');
  assert.equal(Boolean(a.cpu.getZF()), false); assert.equal(Boolean(a.cpu.getCF()), true);
  // c4 e2 79 17 ca vptest xmm1,xmm2: only bits 127:0 count
  run(a, 'c4 e2 79 17 ca');
  assert.equal(Boolean(a.cpu.getZF()), true); assert.equal(Boolean(a.cpu.getCF()), true);
  assert.deepEqual(a.exceptions, []);
  assert.deepEqual(t.exceptions, []);
});

test('VPEXTR/VPINSR (VEX.128 only; W1 = quadword): c4 e3 f9 16 c8 01 vpextrq rax,xmm1,0x1; c4 e3 f1 22 d0 01 vpinsrq xmm2,xmm1,rax,0x1; c5 f9 c5 c9 06 vpextrw ecx,xmm1,0x6', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, ONES);
  run(t, 'c4 e3 f9 16 c8 01');
  assert.equal(reg64(t.cpu, 0), 0x0123456789abcdefn);
  run(t, 'c4 e3 79 16 c8 03'); // vpextrd eax,xmm1,0x3
  assert.equal(reg64(t.cpu, 0), 0x01234567n);
  run(t, 'c5 f9 c5 c9 06'); // vpextrw ecx,xmm1,0x6
  assert.equal(reg64(t.cpu, 1), 0x4567n);
  setReg64(t.cpu, 0, BigInt(DATA));
  run(t, 'c4 e3 79 14 08 05'); // vpextrb BYTE PTR [rax],xmm1,0x5
  assert.equal(memHex(t, DATA, 1), '45');
  setReg64(t.cpu, 0, 0x1122334455667788n);
  setYmm(t, 2, 'f'.repeat(64));
  run(t, 'c4 e3 f1 22 d0 01');
  assert.equal(ymmHex(t, 2), Z32 + '1122334455667788' + '0123456789abcdef');
  assert.deepEqual(t.exceptions, []);
});

test('VPINSRW/VPINSRB merge into src1 (vvvv); VPEXTR with VEX.L = 1 is #UD', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, ONES);
  setReg64(t.cpu, 1, 0x1234beefn);
  run(t, 'c5 f1 c4 d1 02'); // vpinsrw xmm2,xmm1,ecx,0x2: word 2 = bits 47:32
  assert.equal(ymmHex(t, 2), Z32 + '0123456789abcdef' + '0123beef89abcdef');
  setReg64(t.cpu, 0, BigInt(DATA));
  t.mem.load(DATA, hexBytes('5a'));
  run(t, 'c4 e3 71 20 10 0f'); // vpinsrb xmm2,xmm1,BYTE PTR [rax],0xf
  assert.equal(ymmHex(t, 2), Z32 + '5a23456789abcdef0123456789abcdef');
  assert.deepEqual(t.exceptions, []);
  run(t, 'c4 e3 7d 16 c8 03'); // vpextrd eax,xmm1,0x3 with VEX.L = 1
  run(t, 'c4 e3 75 20 10 0f'); // vpinsrb with L = 1
  assert.deepEqual(t.exceptions, [[UD, 0], [UD, 0]]);
});

test('VPBLENDVB (is4) and VMPSADBW ymm (lane 1 from imm8[5:3]): c4 e3 75 4c c2 30 vpblendvb ymm0,ymm1,ymm2,ymm3; c4 e3 75 42 c2 2d vmpsadbw ymm0,ymm1,ymm2,0x2d', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '11'.repeat(32)); setYmm(t, 2, '22'.repeat(32)); setYmm(t, 3, '80007f00ff'.repeat(6) + '0080');
  run(t, 'c4 e3 75 4c c2 30');
  const m = '80007f00ff'.repeat(6) + '0080';
  let want = '';
  for (let i = 0; i < 64; i += 2) want += parseInt(m.slice(i, i + 2), 16) >= 0x80 ? '22' : '11';
  assert.equal(ymmHex(t, 0), want);
  // VEX.W1: c4 e3 f5 4c c2 30 → #UD
  run(t, 'c4 e3 f5 4c c2 30');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  // VMPSADBW: lane 1 equals the xmm form with imm8 = 0x2d >> 3 = 5 on the upper halves
  const hi1 = '0f1e2d3c4b5a69788796a5b4c3d2e1f0', lo1 = '00ff11ee22dd33cc44bb55aa66997788';
  const hi2 = '0102030405060708090a0b0c0d0e0f10', lo2 = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
  const u = makeAvxCpu();
  setYmm(u, 1, hi1 + lo1); setYmm(u, 2, hi2 + lo2);
  run(u, 'c4 e3 75 42 c2 2d');
  const x = makeAvxCpu();
  setYmm(x, 1, hi1); setYmm(x, 2, hi2);
  run(x, 'c4 e3 71 42 c2 05'); // vmpsadbw xmm0,xmm1,xmm2,0x5
  const hiLane = ymmHex(x, 0).slice(32);
  setYmm(x, 1, lo1); setYmm(x, 2, lo2);
  run(x, 'c4 e3 71 42 c2 2d');
  assert.equal(ymmHex(u, 0), hiLane + ymmHex(x, 0).slice(32));
  assert.deepEqual(u.exceptions, []);
});

test('VMOVNTDQ/VMOVNTDQA (aligned to the operand size), VLDDQU (unaligned, memory only)', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  setYmm(t, 1, ONES);
  run(t, 'c5 fd e7 08'); // vmovntdq YMMWORD PTR [rax],ymm1
  assert.equal(memHex(t, DATA, 32), ONES);
  run(t, 'c4 e2 7d 2a 10'); // vmovntdqa ymm2,YMMWORD PTR [rax]
  assert.equal(ymmHex(t, 2), ONES);
  run(t, 'c5 ff f0 58 01'); // vlddqu ymm3,[rax+0x1]
  assert.equal(ymmHex(t, 3), '00' + ONES.slice(0, 62));
  assert.deepEqual(t.exceptions, []);
  setReg64(t.cpu, 0, BigInt(DATA + 16));
  run(t, 'c5 fd e7 08'); // ymm store to a 16- but not 32-aligned address
  run(t, 'c4 e2 7d 2a 10');
  assert.deepEqual(t.exceptions, [[GP, 0], [GP, 0]]);
  run(t, 'c5 f9 e7 08'); // vmovntdq XMMWORD PTR [rax],xmm1 is fine at +16
  assert.equal(t.exceptions.length, 2);
  run(t, 'c5 ff f0 c1'); // vlddqu ymm0,ymm1: no register form
  assert.deepEqual(t.exceptions.slice(2), [[UD, 0]]);
  // VMOVNTDQA ymm needs AVX2
  const a = makeAvxCpu('long64', {});
  setReg64(a.cpu, 0, BigInt(DATA));
  run(a, 'c4 e2 79 2a 10');
  run(a, 'c4 e2 7d 2a 10');
  assert.deepEqual(a.exceptions, [[UD, 0]]);
});

test('VMASKMOVDQU xmm1,xmm2 (c5 f9 f7 ca): selected bytes at [rdi]; VEX.256 is #UD', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 7, BigInt(DATA));
  t.mem.load(DATA, hexBytes('ee'.repeat(16)));
  setYmm(t, 1, '00112233445566778899aabbccddeeff');
  setYmm(t, 2, '80000000000000ff0000000000000080');
  run(t, 'c5 f9 f7 ca');
  assert.equal(memHex(t, DATA, 16), '00eeeeeeeeeeee77eeeeeeeeeeeeeeff');
  assert.deepEqual(t.exceptions, []);
  run(t, 'c5 fd f7 ca');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('VPCMPxSTRx: c4 e3 79 62 ca 40 vpcmpistrm xmm1,xmm2,0x40 (XMM0 byte mask, YMM0 bits 255:128 zeroed); c4 e3 79 61 08 0c vpcmpestri xmm1,[rax],0xc', () => {
  const t = makeAvxCpu();
  // equal any, unsigned bytes: which bytes of xmm2 occur in xmm1 ("ab")
  setYmm(t, 1, '00'.repeat(14) + '6261');
  setYmm(t, 2, '00'.repeat(11) + '6163786261');
  setYmm(t, 0, 'f'.repeat(64));
  run(t, 'c4 e3 79 62 ca 40');
  assert.equal(ymmHex(t, 0), Z32 + '00'.repeat(11) + 'ff0000ffff');
  assert.equal(Boolean(t.cpu.getCF()), true); assert.equal(Boolean(t.cpu.getZF()), true);
  // equal ordered ("ab" in "xxab..."), explicit lengths 2 and 16: index 2
  setReg64(t.cpu, 0, BigInt(DATA)); setReg64(t.cpu, 2, 16n);
  t.mem.load(DATA, hexBytes('7a7a7a7a7a7a7a7a7a7a7a7a62617878'));
  setYmm(t, 1, '00'.repeat(14) + '6261');
  setReg64(t.cpu, 0, 2n);
  setReg64(t.cpu, 3, BigInt(DATA));
  run(t, 'c4 e3 79 61 0b 0c'); // vpcmpestri xmm1,XMMWORD PTR [rbx],0xc
  assert.equal(reg64(t.cpu, 1), 2n);
  assert.deepEqual(t.exceptions, []);
  run(t, 'c4 e3 7d 61 0b 0c'); // L = 1
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('VAESENC/VAESDECLAST/VAESIMC/VAESKEYGENASSIST/VPCLMULQDQ equal the legacy AES-NI/PCLMULQDQ on the same data; VEX.256 is #UD (no VAES/VPCLMULQDQ-256)', () => {
  const st = '3243f6a8885a308d313198a2e0370734', key = '2b7e151628aed2a6abf7158809cf4f3c';
  const pairs: Array<[string, string, string]> = [
    ['c4 e2 71 dc c2', '66 0f 38 dc ca', 'vaesenc xmm0,xmm1,xmm2 / aesenc xmm1,xmm2'],
    ['c4 e2 71 dd c2', '66 0f 38 dd ca', 'vaesenclast / aesenclast'],
    ['c4 e2 71 de c2', '66 0f 38 de ca', 'vaesdec / aesdec'],
    ['c4 e2 71 df c2', '66 0f 38 df ca', 'vaesdeclast / aesdeclast'],
    ['c4 e2 79 db c2', '66 0f 38 db ca', 'vaesimc xmm0,xmm2 / aesimc xmm1,xmm2'],
    ['c4 e3 79 df c2 1b', '66 0f 3a df ca 1b', 'vaeskeygenassist xmm0,xmm2,0x1b / aeskeygenassist xmm1,xmm2,0x1b'],
    ['c4 e3 71 44 c2 11', '66 0f 3a 44 ca 11', 'vpclmulqdq xmm0,xmm1,xmm2,0x11 / pclmulqdq xmm1,xmm2,0x11'],
    ['c4 e3 71 44 c2 00', '66 0f 3a 44 ca 00', 'vpclmullqlqdq / pclmullqlqdq'],
  ];
  for (const [vex, legacy, name] of pairs) {
    const t = makeAvxCpu();
    setYmm(t, 1, st); setYmm(t, 2, key); setYmm(t, 0, 'f'.repeat(64));
    run(t, vex);
    const u = makeAvxCpu();
    setYmm(u, 1, st); setYmm(u, 2, key);
    run(u, legacy);
    assert.deepEqual(t.exceptions, [], name);
    assert.equal(ymmHex(t, 0), Z32 + ymmHex(u, 1).slice(32), name);
    assert.notEqual(ymmHex(t, 0), Z32 + st, name);
  }
  // FIPS-197 Appendix B round 1 starts from state ^ key; one AESENC with that state and
  // round key a0fafe17... gives the round-2 input a49c7ff2689f352b6b5bea43026a5049
  const t = makeAvxCpu();
  setYmm(t, 1, '193de3bea0f4e22b9ac68d2ae9f84808'.match(/../g)!.reverse().join(''));
  setYmm(t, 2, 'a0fafe1788542cb123a339392a6c7605'.match(/../g)!.reverse().join(''));
  run(t, 'c4 e2 71 dc c2');
  assert.equal(ymmHex(t, 0).slice(32), 'a49c7ff2689f352b6b5bea43026a5049'.match(/../g)!.reverse().join(''));
  // VEX.256: c4 e2 75 dc c2 vaesenc ymm0,ymm1,ymm2 and c4 e3 75 44 c2 11 → #UD here
  run(t, 'c4 e2 75 dc c2');
  run(t, 'c4 e3 75 44 c2 11');
  assert.deepEqual(t.exceptions, [[UD, 0], [UD, 0]]);
});

test('availability: #UD without CR4.OSXSAVE, #NM with CR0.TS, VPHMINPOSUW has no VEX.256 form', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '0005000400030002' + '0001000900070008');
  run(t, 'c4 e2 79 41 c1'); // vphminposuw xmm0,xmm1
  assert.equal(ymmHex(t, 0), Z32 + '0'.repeat(24) + '00030001');
  run(t, 'c4 e2 7d 41 c1'); // L = 1
  t.cpu.cr0 |= CR0_TS;
  run(t, 'c5 f5 f8 c2'); // vpsubb ymm0,ymm1,ymm2
  assert.deepEqual(t.exceptions, [[UD, 0], [NM, 0]]);
  const p = makeCpu('long64');
  p.cpu.cr4 |= CR4_OSFXSR;
  run(p, 'c5 f5 f8 c2');
  assert.deepEqual(p.exceptions, [[UD, 0]]);
});

test('outside 64-bit mode: VEX.W1 VPEXTRD stays a dword (SDM PEXTRD note 2), VPBLENDVB ignores imm8[7] (c4 e3 71 4c c2 b0 → xmm3)', () => {
  const t = makeAvxCpu('prot32');
  setYmm(t, 1, ONES);
  run(t, 'c4 e3 f9 16 c8 01'); // vpextrq rax,xmm1,0x1 in 64-bit mode; here vpextrd eax,xmm1,0x1
  assert.equal(t.cpu.r[0]! >>> 0, 0x01234567);
  setYmm(t, 1, '11'.repeat(16)); setYmm(t, 2, '22'.repeat(16)); setYmm(t, 3, '80'.repeat(8) + '00'.repeat(8));
  run(t, 'c4 e3 71 4c c2 b0'); // vpblendvb xmm0,xmm1,xmm2,xmm3 (register 11 → 3)
  assert.equal(ymmHex(t, 0), Z32 + '22'.repeat(8) + '11'.repeat(8));
  assert.deepEqual(t.exceptions, []);
});
