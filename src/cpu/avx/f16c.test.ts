// F16C (avx/f16c.ts): bytes from GNU as with the disassembly quoted; f16c-diff.test.ts pins
// every form against the host CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64 } from '../testing.js';
import { F1C_F16C, type CpuProfile } from '../profile.js';
import { makeAvxCpu, ymmHex, setYmm, f32Hex } from './avx-testing.js';
import { UD } from '../regs.js';

const F16C = { avx2: true, f16c: true };
const DATA = 0x20000;

test('VCVTPH2PS: exact widening, denormal halves included (no DAZ, no DE), SNaN quieted with IE', () => {
  const t = makeAvxCpu('long64', F16C);
  // halves (element 0 first) 1.0, −2.0, 2^-24 (denormal), 65504, +∞, SNaN 7c01, −0, 0x3555
  setYmm(t, 1, '3555' + '8000' + '7c01' + '7c00' + '7bff' + '0001' + 'c000' + '3c00');
  t.cpu.fpu.mxcsr = 0x1fc0; // DAZ: not applied to halves
  // c4 e2 7d 13 c1   vcvtph2ps ymm0,xmm1
  run(t, 'c4 e2 7d 13 c1');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), '3eaaa000' + '80000000' + '7fc02000' + '7f800000' + f32Hex(1, -2, 2 ** -24, 65504).slice(32));
  assert.equal(t.cpu.fpu.mxcsr, 0x1fc1, 'IE from the SNaN only');
  // c4 e2 79 13 d9   vcvtph2ps xmm3,xmm1: four elements, bits 255:128 zeroed
  setYmm(t, 3, 'f'.repeat(64));
  run(t, 'c4 e2 79 13 d9');
  assert.equal(ymmHex(t, 3), '0'.repeat(32) + f32Hex(1, -2, 2 ** -24, 65504).slice(32));
});

test('VCVTPS2PH: imm8 rounding or MXCSR.RC, overflow by direction, memory destination', () => {
  const t = makeAvxCpu('long64', F16C);
  // 1 + 2^-11 (a tie), 65520 (a tie at the overflow edge), 2^-25 (half the smallest denormal), 1/3
  setYmm(t, 1, f32Hex(1 + 2 ** -11, 65520, 2 ** -25, 1 / 3));
  t.cpu.fpu.mxcsr = 0x1f80;
  // c4 e3 79 1d c8 00   vcvtps2ph xmm0,xmm1,0x0 (round to nearest even)
  run(t, 'c4 e3 79 1d c8 00');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '3555' + '0000' + '7c00' + '3c00');
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80 | 0x08 | 0x10 | 0x20, 'OE, UE, PE');
  // imm8 = 4: MXCSR.RC (= up) decides — 1+2^-10, +∞, 2^-24, 0x3556
  t.cpu.fpu.mxcsr = 0x5f80;
  run(t, 'c4 e3 79 1d c8 04');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '3556' + '0001' + '7c00' + '3c01');
  // imm8 = 3 (toward zero): 65520 → 65504, no infinity
  run(t, 'c4 e3 79 1d c8 03');
  assert.equal(ymmHex(t, 0).slice(-16), '3555' + '0000' + '7bff' + '3c00');
  // c4 e3 79 1d 08 00   vcvtps2ph QWORD PTR [rax],xmm1,0x0: 8 bytes written, the next untouched
  t.mem.load(DATA, new Uint8Array(16).fill(0xee));
  setReg64(t.cpu, 0, BigInt(DATA));
  run(t, 'c4 e3 79 1d 08 00');
  assert.deepEqual([...t.mem.ram.subarray(DATA, DATA + 9)], [0x00, 0x3c, 0x00, 0x7c, 0x00, 0x00, 0x55, 0x35, 0xee]);
});

test('F16C: VEX.W1 and vvvv ≠ 1111b are #UD, and so is everything without F16C', () => {
  const t = makeAvxCpu('long64', F16C);
  // c4 e2 f9 13 c1 (W1), c4 e2 71 13 c1 (vvvv = 1), c4 e3 f9 1d c8 00 (W1)
  for (const code of ['c4 e2 f9 13 c1', 'c4 e2 71 13 c1', 'c4 e3 f9 1d c8 00']) {
    t.exceptions.length = 0;
    run(t, code);
    assert.deepEqual(t.exceptions, [[UD, 0]], code);
  }
  const n = makeAvxCpu('long64', { avx2: true });
  // whatever the base profile advertises, this CPU lacks the feature
  (n.cpu as unknown as { profile: CpuProfile }).profile = { ...n.cpu.profile, leaf1Ecx: n.cpu.profile.leaf1Ecx & ~F1C_F16C };
  run(n, 'c4 e2 7d 13 c1');
  assert.deepEqual(n.exceptions, [[UD, 0]]);
});

test('VCVTPS2PH to memory: the destination faults before any flag is committed', () => {
  const t = makeAvxCpu('long64', F16C);
  setYmm(t, 1, '7f800001'); // an SNaN: IE if the conversion ran
  t.cpu.fpu.mxcsr = 0x1f80;
  setReg64(t.cpu, 0, 0x8000000000000000n); // non-canonical
  // c4 e3 79 1d 08 00   vcvtps2ph QWORD PTR [rax],xmm1,0x0
  run(t, 'c4 e3 79 1d 08 00');
  assert.deepEqual(t.exceptions, [[13, 0]]);
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80);
});
