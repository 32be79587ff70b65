// VLDMXCSR/VSTMXCSR (avx/mxcsr.ts): bytes from GNU as with the disassembly quoted; the
// #UD/#NM cases are encodings this machine's CPU rejects the same way (checked natively).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, type TestCpu } from '../testing.js';
import { makeAvxCpu } from './avx-testing.js';
import { F1C_AVX, type CpuProfile } from '../profile.js';
import { UD, NM, GP, CR0_TS, CR0_EM, CR4_OSXSAVE } from '../regs.js';

const DATA = 0x20000;

function at(t: TestCpu, code: string, rax = DATA): number[] | null {
  setReg64(t.cpu, 0, BigInt(rax));
  const before = t.exceptions.length;
  run(t, code);
  return t.exceptions.length === before ? null : t.exceptions[t.exceptions.length - 1]!;
}

test('VLDMXCSR loads MXCSR, VSTMXCSR stores it (64-bit, W ignored, REX-extended base)', () => {
  const t = makeAvxCpu();
  t.mem.write32(DATA, 0x7fc0); // RC = toward zero, DAZ, all masked
  // c5 f8 ae 10  vldmxcsr DWORD PTR [rax]
  assert.equal(at(t, 'c5 f8 ae 10'), null);
  assert.equal(t.cpu.fpu.mxcsr, 0x7fc0);
  // c5 f8 ae 1b  vstmxcsr DWORD PTR [rbx]
  setReg64(t.cpu, 3, BigInt(DATA + 0x40));
  t.mem.write32(DATA + 0x40, 0xdeadbeef);
  assert.equal(at(t, 'c5 f8 ae 1b'), null);
  assert.equal(t.mem.read32(DATA + 0x40), 0x7fc0);
  // c4 c1 78 ae 51 08  vldmxcsr DWORD PTR [r9+0x8]
  setReg64(t.cpu, 9, BigInt(DATA + 0x100));
  t.mem.write32(DATA + 0x108, 0x1f80 | 0x3f);
  assert.equal(at(t, 'c4 c1 78 ae 51 08'), null);
  assert.equal(t.cpu.fpu.mxcsr, 0x1fbf);
  // c4 e1 f8 ae 18  vstmxcsr [rax] with VEX.W1 (WIG): same instruction
  t.mem.write32(DATA, 0);
  assert.equal(at(t, 'c4 e1 f8 ae 18'), null);
  assert.equal(t.mem.read32(DATA), 0x1fbf);
});

test('VLDMXCSR: a bit outside MXCSR_MASK is #GP(0) and MXCSR keeps its value', () => {
  const t = makeAvxCpu();
  t.cpu.fpu.mxcsr = 0x1f80;
  t.mem.write32(DATA, 0x11f80);
  assert.deepEqual(at(t, 'c5 f8 ae 10'), [GP, 0]);
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80);
});

test('VLDMXCSR/VSTMXCSR #UD: VEX.pp != 00, VEX.L = 1, vvvv != 1111b, register operand, other /digit, LOCK', () => {
  const t = makeAvxCpu();
  t.cpu.fpu.mxcsr = 0x1f80;
  t.mem.write32(DATA, 0x7f80);
  for (const code of [
    'c4 e1 79 ae 10', // pp = 66
    'c4 e1 7a ae 10', // pp = F3
    'c4 e1 7b ae 18', // pp = F2
    'c4 e1 7c ae 10', // L = 1
    'c4 e1 70 ae 10', // vvvv = 1110b (register 1)
    'c4 e1 38 ae 18', // vvvv = 0111b (register 8)
    'c5 f8 ae d0', // mod = 11
    'c5 f8 ae 00', // /0 (FXSAVE has no VEX form)
    'c5 f8 ae 20', // /4 (XSAVE has no VEX form)
    'f0 c5 f8 ae 10', // LOCK before VEX
  ]) {
    assert.deepEqual(at(t, code), [UD, 0], code);
    assert.equal(t.cpu.fpu.mxcsr, 0x1f80, code);
  }
});

test('VLDMXCSR needs AVX, CR4.OSXSAVE and XCR0[2:1] = 11b (#UD), then #NM with CR0.TS; CR0.EM is not consulted', () => {
  const noAvx = makeAvxCpu();
  const p = noAvx.cpu.profile;
  (noAvx.cpu as unknown as { profile: CpuProfile }).profile = { ...p, leaf1Ecx: p.leaf1Ecx & ~F1C_AVX };
  assert.deepEqual(at(noAvx, 'c5 f8 ae 10'), [UD, 0]);
  const noOs = makeAvxCpu();
  noOs.cpu.cr4 &= ~CR4_OSXSAVE;
  assert.deepEqual(at(noOs, 'c5 f8 ae 18'), [UD, 0]);
  const sseOnly = makeAvxCpu();
  sseOnly.cpu.xcr0 = 3;
  assert.deepEqual(at(sseOnly, 'c5 f8 ae 10'), [UD, 0]);
  const ts = makeAvxCpu();
  ts.cpu.cr0 |= CR0_TS;
  assert.deepEqual(at(ts, 'c5 f8 ae 18'), [NM, 0]);
  // #UD outranks #NM: with CR0.TS and L = 1 the instruction is #UD
  assert.deepEqual(at(ts, 'c4 e1 7c ae 18'), [UD, 0]);
  const em = makeAvxCpu();
  em.cpu.cr0 |= CR0_EM;
  em.mem.write32(DATA, 0x1f00);
  assert.equal(at(em, 'c5 f8 ae 10'), null);
  assert.equal(em.cpu.fpu.mxcsr, 0x1f00);
});

test('VLDMXCSR/VSTMXCSR in 32-bit protected mode (C5 is VEX there when ModRM-like byte has bits 7:6 = 11)', () => {
  const t = makeAvxCpu('prot32');
  t.mem.write32(DATA, 0x3f80);
  // c5 f8 ae 10  vldmxcsr DWORD PTR [eax]
  assert.equal(at(t, 'c5 f8 ae 10'), null);
  assert.equal(t.cpu.fpu.mxcsr, 0x3f80);
  // c5 f8 ae 1b  vstmxcsr DWORD PTR [ebx]
  setReg64(t.cpu, 3, BigInt(DATA + 8));
  assert.equal(at(t, 'c5 f8 ae 1b'), null);
  assert.equal(t.mem.read32(DATA + 8), 0x3f80);
});
