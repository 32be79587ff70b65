// XSAVE component 2 (AVX state, SDM Vol. 1 §13.5.3): standard and compacted layouts, the
// init optimisation (XINUSE[2]), XRSTOR's init of YMM_Hi128, XSETBV's rules for XCR0[2],
// CPUID leaf 0DH sizes. Bytes from GNU as, disassembly quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, makeCpu } from '../testing.js';
import { makeAvxCpu, ymmHex, setYmm } from './avx-testing.js';
import { CR4_OSXSAVE, GP } from '../regs.js';
import { withoutAvx, type CpuProfile } from '../profile.js';

/** A 64-bit test CPU whose profile lacks AVX (the shipped ones have it). */
function noAvxCpu(): ReturnType<typeof makeCpu> {
  const t = makeCpu('long64');
  (t.cpu as unknown as { profile: CpuProfile }).profile = withoutAvx(t.cpu.profile);
  return t;
}

const AREA = 0x30000; // 64-byte aligned
const ONES = '0123456789abcdef'.repeat(4);
const rd32 = (t: ReturnType<typeof makeCpu>, a: number): number => t.mem.view.getInt32(a, true);

function setEdxEax(t: ReturnType<typeof makeCpu>, v: number): void {
  setReg64(t.cpu, 0, BigInt(v)); setReg64(t.cpu, 2, 0n); setReg64(t.cpu, 3, BigInt(AREA));
}

test('XSAVE (0f ae 23 xsave [rbx]) stores YMM_Hi128 at 576 + 16n and sets XSTATE_BV[2] while in use', () => {
  const t = makeAvxCpu();
  for (let n = 0; n < 16; n++) setYmm(t, n, (n + 1).toString(16).padStart(8, '0').repeat(4) + 'cccccccc'.repeat(4));
  setEdxEax(t, 7);
  run(t, '0f ae 23');
  assert.deepEqual(t.exceptions, []);
  for (let n = 0; n < 16; n++) for (let k = 0; k < 4; k++) assert.equal(rd32(t, AREA + 576 + 16 * n + 4 * k), n + 1, `ymm${n} dword ${k}`);
  assert.equal(rd32(t, AREA + 512) & 7, 7);
  // c5 f8 77 vzeroupper: component 2 back in its initial configuration → XSTATE_BV[2] = 0
  run(t, 'c5 f8 77  0f ae 23');
  assert.equal(rd32(t, AREA + 512) & 4, 0);
  assert.equal(rd32(t, AREA + 512) & 2, 2);
  // RFBM without bit 2 leaves the AVX area and XSTATE_BV[2] as they were
  t.mem.view.setInt32(AREA + 576, 0x5a5a5a5a, true);
  t.mem.view.setInt32(AREA + 512, 4 | rd32(t, AREA + 512), true);
  setEdxEax(t, 3);
  run(t, '0f ae 23');
  assert.equal(rd32(t, AREA + 576), 0x5a5a5a5a);
  assert.equal(rd32(t, AREA + 512) & 4, 4);
});

test('XRSTOR (0f ae 2b xrstor [rbx]): XSTATE_BV[2] = 1 loads YMM_Hi128, = 0 initialises it; RFBM[2] = 0 leaves it', () => {
  const t = makeAvxCpu();
  for (let n = 0; n < 16; n++) setYmm(t, n, ONES);
  setEdxEax(t, 7);
  run(t, '0f ae 23'); // save ONES
  for (let n = 0; n < 16; n++) setYmm(t, n, '');
  run(t, '0f ae 2b');
  for (let n = 0; n < 16; n++) assert.equal(ymmHex(t, n), ONES);
  // XSTATE_BV[2] = 0 with RFBM[2] = 1: upper halves zeroed, XMM kept (bit 1 still set)
  t.mem.view.setInt32(AREA + 512, rd32(t, AREA + 512) & ~4, true);
  run(t, '0f ae 2b');
  for (let n = 0; n < 16; n++) assert.equal(ymmHex(t, n), '0'.repeat(32) + ONES.slice(32));
  // RFBM = 3: the upper halves are not touched
  for (let n = 0; n < 16; n++) setYmm(t, n, 'f'.repeat(64));
  setEdxEax(t, 3);
  run(t, '0f ae 2b');
  for (let n = 0; n < 16; n++) assert.equal(ymmHex(t, n), 'f'.repeat(32) + ONES.slice(32));
  assert.deepEqual(t.exceptions, []);
});

test('XSAVEC (0f c7 23 xsavec [rbx]): compacted, component 2 at 576 only when in use; XCOMP_BV = RFBM | 2^63', () => {
  const t = makeAvxCpu();
  setYmm(t, 3, '12345678'.repeat(4) + '0'.repeat(32));
  setEdxEax(t, 7);
  run(t, '0f c7 23');
  assert.equal(rd32(t, AREA + 520), 7);
  assert.equal(rd32(t, AREA + 524), 0x80000000 | 0);
  assert.equal(rd32(t, AREA + 512) & 4, 4);
  assert.equal(rd32(t, AREA + 576 + 48), 0x12345678);
  // XRSTOR of that compacted image restores it
  setYmm(t, 3, '');
  run(t, '0f ae 2b');
  assert.equal(ymmHex(t, 3), '12345678'.repeat(4) + '0'.repeat(32));
  // all upper halves zero: the component is not written and XSTATE_BV[2] = 0
  run(t, 'c5 f8 77');
  t.mem.view.setInt32(AREA + 576, 0x77777777, true);
  run(t, '0f c7 23');
  assert.equal(rd32(t, AREA + 512) & 4, 0);
  assert.equal(rd32(t, AREA + 576), 0x77777777);
  assert.deepEqual(t.exceptions, []);
});

test('32-bit mode: XSAVE/XRSTOR cover YMM0-7 upper halves only', () => {
  const t = makeAvxCpu('prot32');
  for (let n = 0; n < 16; n++) setYmm(t, n, ONES);
  t.cpu.r[0] = 7; t.cpu.r[4] = 0; t.cpu.r[6] = AREA; // eax, edx, ebx
  t.mem.view.setInt32(AREA + 576 + 16 * 8, 0x33333333, true);
  run(t, '0f ae 23');
  assert.equal(rd32(t, AREA + 576 + 16 * 7), 0x89abcdef | 0);
  assert.equal(rd32(t, AREA + 576 + 16 * 8), 0x33333333);
  t.mem.view.setInt32(AREA + 512, rd32(t, AREA + 512) & ~4, true);
  run(t, '0f ae 2b');
  assert.equal(ymmHex(t, 7), '0'.repeat(32) + ONES.slice(32));
  assert.equal(ymmHex(t, 8), ONES);
  assert.deepEqual(t.exceptions, []);
});

test('XSETBV (0f 01 d1): XCR0 = 7 needs AVX in the profile; bit 2 without bit 1 is #GP; XGETBV(1) reports XINUSE[2]', () => {
  const t = makeAvxCpu();
  t.cpu.xcr0 = 1;
  for (const [v, ok] of [[7, true], [5, false], [3, true], [0xf, false]] as const) {
    const before = t.exceptions.length;
    setReg64(t.cpu, 0, BigInt(v)); setReg64(t.cpu, 1, 0n); setReg64(t.cpu, 2, 0n);
    run(t, '0f 01 d1');
    assert.equal(t.exceptions.length - before, ok ? 0 : 1, `xcr0 ${v}`);
    if (!ok) assert.deepEqual(t.exceptions.at(-1), [GP, 0]);
  }
  const d = noAvxCpu();
  d.cpu.cr4 |= CR4_OSXSAVE;
  setReg64(d.cpu, 0, 7n); setReg64(d.cpu, 1, 0n); setReg64(d.cpu, 2, 0n);
  run(d, '0f 01 d1');
  assert.deepEqual(d.exceptions, [[GP, 0]]);
  // 0f 01 d0 xgetbv with ECX = 1: XCR0 & XINUSE
  t.cpu.xcr0 = 7;
  setYmm(t, 0, ONES);
  setReg64(t.cpu, 1, 1n);
  run(t, '0f 01 d0');
  assert.equal(t.cpu.r[0]! & 4, 4);
  run(t, 'c5 f8 77  0f 01 d0');
  assert.equal(t.cpu.r[0]! & 4, 0);
});

test('CPUID 0DH: sizes follow XCR0 (576 / 832), sub-leaf 2 = 256 bytes at 576; nothing for AVX without it', () => {
  const t = makeAvxCpu();
  t.cpu.xcr0 = 3;
  let o = t.cpu.cpuid(0xd, 0);
  assert.deepEqual([o[0], o[1], o[2]], [7, 576, 832]);
  t.cpu.xcr0 = 7;
  o = t.cpu.cpuid(0xd, 0);
  assert.deepEqual([o[0], o[1], o[2]], [7, 832, 832]);
  assert.equal(t.cpu.cpuid(0xd, 1)[1], 832);
  o = t.cpu.cpuid(0xd, 2);
  assert.deepEqual([o[0], o[1], o[2], o[3]], [256, 576, 0, 0]);
  assert.notEqual(t.cpu.cpuid(1, 0)[2]! & (1 << 28), 0);
  const d = noAvxCpu();
  o = d.cpu.cpuid(0xd, 0);
  assert.deepEqual([o[0], o[1], o[2]], [3, 576, 576]);
  o = d.cpu.cpuid(0xd, 2);
  assert.deepEqual([o[0], o[1], o[2], o[3]], [0, 0, 0, 0]);
});
