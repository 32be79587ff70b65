// FMA3 (avx/fma.ts, fma-core.ts): one test per group, bytes from GNU as with the disassembly
// quoted. The differential test (fma-diff.test.ts) pins every form against the host CPU;
// these pin the rules it found in readable cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64 } from '../testing.js';
import { F1C_FMA, type CpuProfile } from '../profile.js';
import { makeAvxCpu, ymmHex, setYmm, f32Hex, f64Hex } from './avx-testing.js';
import { XM, UD, CR4_OSXMMEXCPT } from '../regs.js';

const FMA = { avx2: true, fma: true };
const Z32 = '0'.repeat(32);

test('VFMADD231PS ymm: a·b + c in every element of both lanes', () => {
  const t = makeAvxCpu('long64', FMA);
  setYmm(t, 0, f32Hex(1, 2, 3, 4, 5, 6, 7, 8));
  setYmm(t, 1, f32Hex(2, 2, 2, 2, -1, -1, 0.5, 0.5));
  setYmm(t, 2, f32Hex(3, 4, 5, 6, 7, 8, 9, 10));
  // c4 e2 75 b8 c2   vfmadd231ps ymm0,ymm1,ymm2   (ymm0 = ymm1·ymm2 + ymm0)
  run(t, 'c4 e2 75 b8 c2');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), f32Hex(7, 10, 13, 16, -2, -2, 11.5, 13));
});

test('132/213/231 operand orders and the scalar forms keep the destination\'s upper elements', () => {
  const t = makeAvxCpu('long64', FMA);
  const DATA = 0x20000;
  t.mem.load(DATA, new Uint8Array(new Float64Array([10]).buffer));
  setReg64(t.cpu, 0, BigInt(DATA));
  setYmm(t, 0, 'ffffffffffffffffffffffffffffffff' + f64Hex(3, 99).slice(32));
  setYmm(t, 1, f64Hex(5, 77));
  // c4 e2 f1 99 00   vfmadd132sd xmm0,xmm1,QWORD PTR [rax]   (xmm0 = xmm0·m64 + xmm1 = 3·10 + 5)
  run(t, 'c4 e2 f1 99 00');
  assert.equal(ymmHex(t, 0), Z32 + f64Hex(35, 99).slice(32), 'bits 127:64 from the destination, 255:128 zeroed');
  // c4 e2 71 a9 da   vfmadd213ss xmm3,xmm1,xmm2   (xmm3 = xmm1·xmm3 + xmm2)
  setYmm(t, 1, f32Hex(2));
  setYmm(t, 2, f32Hex(0.25));
  setYmm(t, 3, f32Hex(8, 1, 2, 3, 4));
  run(t, 'c4 e2 71 a9 da');
  assert.equal(ymmHex(t, 3), Z32 + f32Hex(16.25, 1, 2, 3).slice(32));
  // c4 e2 f1 bf c2   vfnmsub231sd xmm0,xmm1,xmm2   (xmm0 = −(xmm1·xmm2) − xmm0)
  setYmm(t, 0, f64Hex(1, 4)); setYmm(t, 1, f64Hex(3)); setYmm(t, 2, f64Hex(5));
  run(t, 'c4 e2 f1 bf c2');
  assert.equal(ymmHex(t, 0), Z32 + f64Hex(-16, 4).slice(32));
  assert.deepEqual(t.exceptions, []);
});

test('VFMADDSUB subtracts in even elements, VFMSUBADD in odd ones', () => {
  const t = makeAvxCpu('long64', FMA);
  setYmm(t, 0, f64Hex(1, 1, 1, 1)); setYmm(t, 1, f64Hex(2, 2, 2, 2)); setYmm(t, 2, f64Hex(3, 4, 5, 6));
  // c4 e2 f5 b6 c2   vfmaddsub231pd ymm0,ymm1,ymm2
  run(t, 'c4 e2 f5 b6 c2');
  assert.equal(ymmHex(t, 0), f64Hex(5, 9, 9, 13));
  setYmm(t, 0, f32Hex(1, 1, 1, 1)); setYmm(t, 1, f32Hex(2, 2, 2, 2)); setYmm(t, 2, f32Hex(3, 4, 5, 6));
  // c4 e2 71 b7 c2   vfmsubadd231ps xmm0,xmm1,xmm2
  run(t, 'c4 e2 71 b7 c2');
  assert.equal(ymmHex(t, 0), Z32 + f32Hex(7, 7, 11, 11).slice(32));
});

test('one rounding: (1+2^-30)(1-2^-30) - 1 is -2^-60, not the 0 of a separate multiply and add', () => {
  const t = makeAvxCpu('long64', FMA);
  setYmm(t, 0, f64Hex(-1)); setYmm(t, 1, f64Hex(1 + 2 ** -30)); setYmm(t, 2, f64Hex(1 - 2 ** -30));
  // c4 e2 f1 b8 c2   vfmadd231pd xmm0,xmm1,xmm2
  run(t, 'c4 e2 f1 b8 c2');
  assert.equal(ymmHex(t, 0), Z32 + f64Hex(-(2 ** -60), 0).slice(32));
  // binary32: (1+2^-12)^2 = 1 + 2^-11 + 2^-24 is a tie, broken once: to even (1 + 2^-11) in RN,
  // up in RU (c4 e2 71 b9 c2  vfmadd231ss xmm0,xmm1,xmm2 with c = 0)
  setYmm(t, 0, f32Hex(0)); setYmm(t, 1, f32Hex(1 + 2 ** -12)); setYmm(t, 2, f32Hex(1 + 2 ** -12));
  t.cpu.fpu.mxcsr = 0x1f80;
  run(t, 'c4 e2 71 b9 c2');
  assert.equal(ymmHex(t, 0), Z32 + f32Hex(1 + 2 ** -11, 0, 0, 0).slice(32));
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80 | 0x20, 'PE');
  setYmm(t, 0, f32Hex(0)); t.cpu.fpu.mxcsr = 0x5f80; // RC = up
  run(t, 'c4 e2 71 b9 c2');
  assert.equal(ymmHex(t, 0), Z32 + f32Hex(1 + 2 ** -11 + 2 ** -23, 0, 0, 0).slice(32));
});

test('NaNs: first NaN in multiplication order a, b, c, quieted, never negated; ∞·0 rules', () => {
  const t = makeAvxCpu('long64', FMA);
  // vfmadd132ss xmm0,xmm1,xmm2 (c4 e2 71 99 c2): a = xmm0, b = xmm2, c = xmm1
  setYmm(t, 0, '3f800000'); setYmm(t, 1, '7fc00002'); setYmm(t, 2, '7f800003');
  t.cpu.fpu.mxcsr = 0x1f80;
  run(t, 'c4 e2 71 99 c2');
  assert.equal(ymmHex(t, 0).slice(-8), '7fc00003', 'b (xmm2, an SNaN) before c (xmm1)');
  assert.equal(t.cpu.fpu.mxcsr, 0x1f81, 'IE for the SNaN');
  // c4 e2 71 bd c2   vfnmadd231ss xmm0,xmm1,xmm2: a NaN a is returned with its sign
  setYmm(t, 0, '3f800000'); setYmm(t, 1, '7fc00002'); setYmm(t, 2, '3f800000');
  run(t, 'c4 e2 71 bd c2');
  assert.equal(ymmHex(t, 0).slice(-8), '7fc00002');
  // ∞·0 + 1 → QNaN indefinite with IE; ∞·0 + QNaN → that QNaN without IE (this CPU)
  t.cpu.fpu.mxcsr = 0x1f80;
  setYmm(t, 0, '3f800000'); setYmm(t, 1, '7f800000'); setYmm(t, 2, '00000000');
  run(t, 'c4 e2 71 b9 c2');
  assert.equal(ymmHex(t, 0).slice(-8), 'ffc00000');
  assert.equal(t.cpu.fpu.mxcsr, 0x1f81);
  t.cpu.fpu.mxcsr = 0x1f80;
  setYmm(t, 0, '7fc00001'); setYmm(t, 1, '7f800000'); setYmm(t, 2, '00000000');
  run(t, 'c4 e2 71 b9 c2');
  assert.equal(ymmHex(t, 0).slice(-8), '7fc00001');
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80);
});

test('denormals: DE after the invalid checks; FTZ flushes even an exact denormal result', () => {
  const t = makeAvxCpu('long64', FMA);
  // 0·1 + 2^-149 with FTZ: +0 with UE|PE|DE (c4 e2 71 b9 c2  vfmadd231ss xmm0,xmm1,xmm2)
  setYmm(t, 0, '00000001'); setYmm(t, 1, '00000000'); setYmm(t, 2, '3f800000');
  t.cpu.fpu.mxcsr = 0x9f80;
  run(t, 'c4 e2 71 b9 c2');
  assert.equal(ymmHex(t, 0).slice(-8), '00000000');
  assert.equal(t.cpu.fpu.mxcsr, 0x9fb2);
  // without FTZ the exact denormal comes back with DE only
  setYmm(t, 0, '00000001'); t.cpu.fpu.mxcsr = 0x1f80;
  run(t, 'c4 e2 71 b9 c2');
  assert.equal(ymmHex(t, 0).slice(-8), '00000001');
  assert.equal(t.cpu.fpu.mxcsr, 0x1f82);
});

test('#XM with nothing written for an unmasked exception; #UD without FMA, for pp ≠ 66 and with LOCK', () => {
  const t = makeAvxCpu('long64', FMA);
  setYmm(t, 0, f32Hex(1, 1, 1, 1, 1, 1, 1, 1)); setYmm(t, 1, f32Hex(3e38, 1, 1, 1, 1, 1, 1, 1)); setYmm(t, 2, f32Hex(10, 1, 1, 1, 1, 1, 1, 1));
  t.cpu.fpu.mxcsr = 0x1f80 & ~0x400; // OE unmasked
  const before = ymmHex(t, 0);
  // c4 e2 75 b8 c2   vfmadd231ps ymm0,ymm1,ymm2: element 0 overflows
  run(t, 'c4 e2 75 b8 c2');
  assert.deepEqual(t.exceptions, [[XM, 0]]);
  assert.equal(ymmHex(t, 0), before);
  t.cpu.cr4 &= ~CR4_OSXMMEXCPT; t.exceptions.length = 0;
  run(t, 'c4 e2 75 b8 c2');
  assert.deepEqual(t.exceptions, [[UD, 0]], '#UD when CR4.OSXMMEXCPT = 0');
  const n = makeAvxCpu('long64', { avx2: true });
  // whatever the base profile advertises, this CPU lacks the feature
  (n.cpu as unknown as { profile: CpuProfile }).profile = { ...n.cpu.profile, leaf1Ecx: n.cpu.profile.leaf1Ecx & ~F1C_FMA };
  run(n, 'c4 e2 75 b8 c2');
  assert.deepEqual(n.exceptions, [[UD, 0]], 'FMA not advertised');
  // c4 e2 74 b8 c2: the same with VEX.pp = 00 — no instruction
  run(t, 'c4 e2 74 b8 c2');
  t.exceptions.length = 0; t.cpu.fpu.mxcsr = 0x1f80;
  run(t, 'c4 e2 74 b8 c2');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  t.exceptions.length = 0;
  run(t, 'f0 c4 e2 75 b8 c2');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('outside 64-bit mode VEX.W still selects PD (it is not ignored as for VMOVD)', () => {
  const t = makeAvxCpu('prot32', FMA);
  setYmm(t, 0, f64Hex(1, 2)); setYmm(t, 1, f64Hex(3, 4)); setYmm(t, 2, f64Hex(5, 6));
  // c4 e2 f1 b8 c2   vfmadd231pd xmm0,xmm1,xmm2
  run(t, 'c4 e2 f1 b8 c2');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), Z32 + f64Hex(16, 26).slice(32));
  // c4 e2 71 b8 c2   vfmadd231ps xmm0,xmm1,xmm2 (W0): the same registers as singles
  setYmm(t, 0, f32Hex(1, 2, 3, 4)); setYmm(t, 1, f32Hex(2, 2, 2, 2)); setYmm(t, 2, f32Hex(1, 1, 1, 0.5));
  run(t, 'c4 e2 71 b8 c2');
  assert.equal(ymmHex(t, 0), Z32 + f32Hex(3, 4, 5, 5).slice(32));
});
