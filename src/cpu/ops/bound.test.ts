// BOUND (62 /r, SDM Vol. 2A "BOUND"): #BR (5) when the signed index is outside
// [lower, upper], read from memory as two operand-size values; #UD with a register
// operand and in 64-bit mode. Found missing by decoder fuzzing (62 07 was #UD in 32-bit mode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, CODE } from '../testing.js';
import { RAX, RBX } from '../regs.js';

const BOUNDS = 0x40000;

test('62 03 bound eax, [ebx] (32-bit): in range retires, below or above is #BR at the BOUND', () => {
  for (const [eax, fault] of [[-5, false], [100, false], [-6, true], [101, true]] as const) {
    const t = makeCpu('prot32');
    t.mem.write32(BOUNDS, -5); t.mem.write32(BOUNDS + 4, 100);
    t.cpu.setReg32(RBX, BOUNDS); t.cpu.setReg32(RAX, eax);
    run(t, '62 03');
    assert.deepEqual(t.exceptions, fault ? [[5, 0]] : [], `eax=${eax}`);
    assert.equal(t.cpu.rip, fault ? CODE : CODE + 3, `eax=${eax}`); // a fault stays on BOUND; else past 62 03 and HLT
  }
});

test('66 62 03 bound ax, [ebx]: 16-bit bounds and index compare signed', () => {
  const t = makeCpu('prot32');
  t.mem.write16(BOUNDS, 0xfff0); t.mem.write16(BOUNDS + 2, 0x0010); // -16 .. 16
  t.cpu.setReg32(RBX, BOUNDS); t.cpu.setReg32(RAX, 0x1234fff0); // ax = -16; the upper half is ignored
  run(t, '66 62 03');
  assert.deepEqual(t.exceptions, []);
  t.cpu.setReg32(RAX, 0xffef); // ax = -17
  run(t, '66 62 03');
  assert.deepEqual(t.exceptions, [[5, 0]]);
});

test('62 07 bound ax, [bx] in real mode', () => {
  const t = makeCpu('real');
  t.mem.write16(0x4000, 1); t.mem.write16(0x4002, 3);
  t.cpu.setReg16(RBX, 0x4000); t.cpu.setReg16(RAX, 4);
  run(t, '62 07');
  assert.deepEqual(t.exceptions, [[5, 0]]);
});

test('62 c0 (register operand) is #UD; 62 03 in 64-bit mode is #UD (EVEX escape, no AVX-512)', () => {
  const t = makeCpu('prot32');
  run(t, '62 c0');
  assert.deepEqual(t.exceptions, [[6, 0]]);
  const l = makeCpu('long64');
  run(l, '62 03');
  assert.deepEqual(l.exceptions, [[6, 0]]);
});
