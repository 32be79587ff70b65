/**
 * Unit tests of the MMX/SSE integer and data-movement families: availability (#UD/#NM),
 * alignment (#GP), the MMX/x87 aliasing, and forms the differential test does not reach
 * (MASKMOVDQU through rDI, REX-extended registers). Bytes quoted with their disassembly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64 } from '../testing.js';
import { RAX, RBX, RDI, CR0_TS, CR0_EM, CR4_OSFXSR } from '../regs.js';
import { F1D_MMX, F1D_SSE, F1D_SSE2, type CpuProfile } from '../profile.js';

const UD = 6, NM = 7, GP = 13;
const MEM = 0x3000;

function sseCpu(): ReturnType<typeof makeCpu> {
  const t = makeCpu('long64');
  const p = t.cpu.profile;
  (t.cpu as { profile: CpuProfile }).profile = { ...p, leaf1Edx: p.leaf1Edx | F1D_MMX | F1D_SSE | F1D_SSE2 };
  t.cpu.cr4 |= CR4_OSFXSR;
  return t;
}

test('66 0f fe c1 paddd xmm0,xmm1: #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS', () => {
  const t = sseCpu();
  const x = t.cpu.fpu.xmm;
  x.set([1, 2, 3, -1], 0); x.set([10, 20, 30, 1], 4);
  run(t, '66 0f fe c1');
  assert.deepEqual([...x.subarray(0, 4)], [11, 22, 33, 0]);
  t.cpu.cr4 &= ~CR4_OSFXSR;
  run(t, '66 0f fe c1');
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  t.cpu.cr4 |= CR4_OSFXSR; t.cpu.cr0 |= CR0_EM;
  run(t, '66 0f fe c1');
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  t.cpu.cr0 = (t.cpu.cr0 & ~CR0_EM) | CR0_TS;
  run(t, '66 0f fe c1');
  assert.deepEqual(t.exceptions.pop(), [NM, 0]);
});

test('SSE2 integer forms are #UD when the profile does not advertise SSE2', () => {
  const t = makeCpu('long64');
  const p = t.cpu.profile;
  (t.cpu as { profile: CpuProfile }).profile = { ...p, leaf1Edx: p.leaf1Edx & ~(F1D_SSE | F1D_SSE2 | F1D_MMX) };
  t.cpu.cr4 |= CR4_OSFXSR;
  run(t, '66 0f fe c1'); // paddd xmm0,xmm1
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  run(t, '0f fc c1'); // paddb mm0,mm1
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('66 0f 6f 53 08 movdqa xmm2,[rbx+0x8]: misaligned → #GP(0); 66 0f 6f 13 loads', () => {
  const t = sseCpu();
  setReg64(t.cpu, RBX, BigInt(MEM));
  for (let i = 0; i < 16; i++) t.mem.write8(MEM + i, i);
  run(t, '66 0f 6f 13'); // movdqa xmm2,[rbx]
  assert.equal(t.cpu.fpu.xmm[8], 0x03020100);
  assert.equal(t.cpu.fpu.xmm[11], 0x0f0e0d0c);
  run(t, '66 0f 6f 53 08');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
});

test('0f fc c1 paddb mm0,mm1 makes TOS 0, tags valid, exponents all ones; 0f 77 emms empties', () => {
  const t = sseCpu();
  const f = t.cpu.fpu;
  f.top = 3; f.tag.fill(3);
  f.mant[0] = 0x01020304; f.mant[2] = 0x01010101;
  run(t, '0f fc c1');
  assert.equal(f.mant[0], 0x02030405);
  assert.equal(f.top, 0);
  assert.equal(f.getFtw(), 0);
  assert.equal(f.se[0], 0xffff);
  run(t, '0f 77');
  assert.equal(f.getFtw(), 0xffff);
  f.fsw = 0x80; // FSW.ES: an unmasked x87 exception is pending
  run(t, '0f fc c1');
  assert.deepEqual(t.exceptions.pop(), [16, 0]);
});

test('66 0f f7 ca maskmovdqu xmm1,xmm2 stores the selected bytes at [rdi]', () => {
  const t = sseCpu();
  const x = t.cpu.fpu.xmmU8;
  for (let i = 0; i < 16; i++) { x[16 + i] = 0xa0 + i; x[32 + i] = i % 3 === 0 ? 0x80 : 0x7f; }
  for (let i = 0; i < 16; i++) t.mem.write8(MEM + i, 0x11);
  setReg64(t.cpu, RDI, BigInt(MEM));
  run(t, '66 0f f7 ca');
  for (let i = 0; i < 16; i++) assert.equal(t.mem.read8(MEM + i), i % 3 === 0 ? 0xa0 + i : 0x11);
});

test('66 44 0f 6e c8 movd xmm9,eax; 66 4c 0f 7e c8 movq rax,xmm9; 66 0f 73 f8 03 pslldq xmm0,3', () => {
  const t = sseCpu();
  const f = t.cpu.fpu;
  setReg64(t.cpu, RAX, 0x1122334455667788n);
  f.xmm.fill(-1, 36, 40);
  run(t, '66 44 0f 6e c8 66 4c 0f 7e c8');
  assert.deepEqual([...f.xmm.subarray(36, 40)], [0x55667788, 0, 0, 0]);
  assert.equal(reg64(t.cpu, RAX), 0x55667788n);
  f.xmm.set([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c], 0);
  run(t, '66 0f 73 f8 03');
  assert.deepEqual([...f.xmm.subarray(0, 4)], [0x00000000 | (0 << 24), 0x04030201, 0x08070605, 0x0c0b0a09].map((v, i) => (i === 0 ? 0 : v)));
});
