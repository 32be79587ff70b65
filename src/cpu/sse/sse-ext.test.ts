/**
 * Unit tests of the SSE extensions past SSE2 (RCP/RSQRT, SSE3, SSSE3, SSE4.1, SSE4.2,
 * AES-NI, PCLMULQDQ): availability by CPUID bit, special cases and forms the differential
 * test does not reach. Bytes quoted with their disassembly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64 } from '../testing.js';
import { RAX, RBX, RCX, RDX, CR4_OSFXSR } from '../regs.js';
import {
  F1D_MMX, F1D_SSE, F1D_SSE2, F1C_SSE3, F1C_SSSE3, F1C_SSE41, F1C_SSE42, F1C_AES, F1C_PCLMUL, type CpuProfile,
} from '../profile.js';
import { rcp32, rsqrt32 } from './approx.js';

const UD = 6;
const MEM = 0x3000;
const ALL_ECX = F1C_SSE3 | F1C_SSSE3 | F1C_SSE41 | F1C_SSE42 | F1C_AES | F1C_PCLMUL;

function sseCpu(ecx = ALL_ECX): ReturnType<typeof makeCpu> {
  const t = makeCpu('long64');
  const p = t.cpu.profile;
  (t.cpu as { profile: CpuProfile }).profile = { ...p, leaf1Edx: p.leaf1Edx | F1D_MMX | F1D_SSE | F1D_SSE2, leaf1Ecx: (p.leaf1Ecx & ~ALL_ECX) | ecx };
  t.cpu.cr4 |= CR4_OSFXSR;
  return t;
}
const f32 = (b: number): number => new Float32Array(new Int32Array([b]).buffer)[0]!;
const bits = (v: number): number => new Int32Array(new Float32Array([v]).buffer)[0]!;
void RAX;

test('0f 53 c1 rcpps xmm0,xmm1 / f3 0f 52 13 rsqrtss xmm2,[rbx]: within 1.5·2^-12, specials per SDM', () => {
  // exhaustive over the significand table, a spread of exponents
  for (let e = 1; e < 255; e += 13) {
    for (let m = 0; m < 1 << 23; m += 997) {
      const b = (e << 23) | m, x = f32(b);
      const r = f32(rcp32(b)), exact = 1 / x;
      if (exact >= 2 ** -126) assert.ok(Math.abs(r - exact) <= 1.5 * 2 ** -12 * exact, `rcp ${b.toString(16)}`);
      else assert.equal(r, 0);
      const s = f32(rsqrt32(b)), se = 1 / Math.sqrt(x);
      assert.ok(Math.abs(s - se) <= 1.5 * 2 ** -12 * se, `rsqrt ${b.toString(16)}`);
    }
  }
  assert.equal(rcp32(0), 0x7f800000);                 // 1/+0 = +∞
  assert.equal(rcp32(0x80000001 | 0), 0xff800000 | 0); // denormal treated as −0
  assert.equal(rcp32(0xff800000 | 0), 0x80000000 | 0); // 1/−∞ = −0
  assert.equal(rcp32(0x7f000000), 0);                  // 1/2^127: tiny, flushed
  assert.equal(rcp32(0x7fa00000), 0x7fe00000);         // SNaN quieted
  assert.equal(rsqrt32(0xbf800000 | 0), 0xffc00000 | 0); // negative: indefinite
  assert.equal(rsqrt32(0x80000000 | 0), 0xff800000 | 0); // −0 → −∞
  assert.equal(rsqrt32(0x7f800000), 0);                // +∞ → +0

  const t = sseCpu();
  const x = t.cpu.fpu.xmm;
  x.set([bits(2), bits(-4), bits(0.5), 0], 4);
  t.cpu.fpu.mxcsr = 0x1f80;
  run(t, '0f 53 c1');
  assert.deepEqual([...x.subarray(0, 4)].map((v) => Math.round(f32(v) * 1000) / 1000), [0.5, -0.25, 2, Infinity]);
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80); // no flags, ever
  x.set([1, 2, 3, 4], 8);
  t.mem.write32(MEM, bits(16));
  setReg64(t.cpu, RBX, BigInt(MEM));
  run(t, 'f3 0f 52 13');
  assert.ok(Math.abs(f32(x[8]!) - 0.25) < 0.25 * 2 ** -12);
  assert.deepEqual([...x.subarray(9, 12)], [2, 3, 4]);
});

test('f2 0f 7c c1 haddps xmm0,xmm1; 66 0f d0 c1 addsubpd xmm0,xmm1; #UD without CPUID.SSE3', () => {
  const t = sseCpu();
  const x = t.cpu.fpu.xmm, d = t.cpu.fpu.xmmF64;
  x.set([bits(1), bits(2), bits(3), bits(4)], 0); x.set([bits(10), bits(20), bits(30), bits(40)], 4);
  run(t, 'f2 0f 7c c1');
  assert.deepEqual([...x.subarray(0, 4)].map(f32), [3, 7, 30, 70]);
  d[0] = 5; d[1] = 5; d[2] = 1; d[3] = 2;
  run(t, '66 0f d0 c1');
  assert.deepEqual([d[0], d[1]], [4, 7]);
  const u = sseCpu(0);
  run(u, 'f2 0f 7c c1');
  assert.deepEqual(u.exceptions.pop(), [UD, 0]);
});

test('66 0f 38 00 c1 pshufb xmm0,xmm1; 0f 38 1c c1 pabsb mm0,mm1; 66 0f 3a 0f c1 05 palignr xmm0,xmm1,5', () => {
  const t = sseCpu();
  const b = t.cpu.fpu.xmmU8;
  for (let i = 0; i < 16; i++) { b[i] = 0xa0 + i; b[16 + i] = i === 3 ? 0x80 : 15 - i; }
  run(t, '66 0f 38 00 c1');
  assert.deepEqual([...b.subarray(0, 5)], [0xaf, 0xae, 0xad, 0x00, 0xab]);
  t.cpu.fpu.mant[2] = 0x7f8001ff; t.cpu.fpu.mant[3] = 0;
  run(t, '0f 38 1c c1');
  assert.equal(t.cpu.fpu.mant[0], 0x7f800101);
  for (let i = 0; i < 16; i++) { b[i] = 0x10 + i; b[16 + i] = i; }
  run(t, '66 0f 3a 0f c1 05');
  assert.deepEqual([...b.subarray(0, 16)], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x10, 0x11, 0x12, 0x13, 0x14]);
  const u = sseCpu(F1C_SSE3);
  run(u, '66 0f 38 00 c1');
  assert.deepEqual(u.exceptions.pop(), [UD, 0]);
});

test('66 0f 38 10 ca pblendvb xmm1,xmm2,xmm0; 66 0f 38 17 c1 ptest xmm0,xmm1 sets ZF/CF only', () => {
  const t = sseCpu();
  const b = t.cpu.fpu.xmmU8;
  for (let i = 0; i < 16; i++) { b[i] = i & 1 ? 0x80 : 0x7f; b[16 + i] = 1; b[32 + i] = 2; }
  run(t, '66 0f 38 10 ca');
  assert.deepEqual([...b.subarray(16, 20)], [1, 2, 1, 2]);
  const x = t.cpu.fpu.xmm;
  x.set([0xf0, 0, 0, 0], 0); x.set([0x0f, 0, 0, 0], 4);
  t.cpu.setArith(0x8d5);
  run(t, '66 0f 38 17 c1');
  assert.equal(t.cpu.getFlags() & 0x8d5, 0x40); // ZF: disjoint; CF clear: src has bits outside dst
  x.set([0xff, 0, 0, 0], 0);
  run(t, '66 0f 38 17 c1');
  assert.equal(t.cpu.getFlags() & 0x8d5, 0x01);
});

test('66 0f 3a 14 c1 05 pextrb ecx,xmm0,5; 66 48 0f 3a 16 c9 01 pextrq rcx,xmm1,1; 66 0f 3a 22 13 03 pinsrd xmm2,[rbx],3', () => {
  const t = sseCpu();
  const x = t.cpu.fpu.xmm;
  x.set([0x03020100, 0x07068504, 0, 0], 0);
  setReg64(t.cpu, RCX, -1n);
  run(t, '66 0f 3a 14 c1 05');
  assert.equal(reg64(t.cpu, RCX), 0x85n);
  x.set([0, 0, 0x11223344, 0x55667788], 4);
  run(t, '66 48 0f 3a 16 c9 01');
  assert.equal(reg64(t.cpu, RCX), 0x5566778811223344n);
  t.mem.write32(MEM + 1, 0xcafef00d);
  setReg64(t.cpu, RBX, BigInt(MEM + 1)); // unaligned m32 is fine
  run(t, '66 0f 3a 22 13 03');
  assert.equal(x[11], 0xcafef00d | 0);
});

test('66 0f 3a 0b c1 0b roundsd xmm0,xmm1,0xb (truncate, no #P); 66 0f 3a 40 c1 f1 dpps xmm0,xmm1,0xf1; 66 0f 38 2a 03 movntdqa', () => {
  const t = sseCpu();
  const d = t.cpu.fpu.xmmF64, x = t.cpu.fpu.xmm;
  t.cpu.fpu.mxcsr = 0x1f80;
  d[0] = 9; d[1] = 7; d[2] = -2.75; d[3] = 1;
  run(t, '66 0f 3a 0b c1 0b');
  assert.deepEqual([d[0], d[1]], [-2, 7]);
  assert.equal(t.cpu.fpu.mxcsr, 0x1f80);
  run(t, '66 0f 3a 0b c1 00'); // nearest-even, precision signalled
  assert.equal(d[0], -3);
  assert.equal(t.cpu.fpu.mxcsr, 0x1fa0);
  x.set([bits(1), bits(2), bits(3), bits(4)], 0); x.set([bits(5), bits(6), bits(7), bits(8)], 4);
  run(t, '66 0f 3a 40 c1 f1');
  assert.deepEqual([...x.subarray(0, 4)].map(f32), [70, 0, 0, 0]);
  setReg64(t.cpu, RBX, BigInt(MEM + 8));
  run(t, '66 0f 38 2a 03');
  assert.deepEqual(t.exceptions.pop(), [13, 0]); // misaligned m128: #GP(0)
});

test('66 0f 3a 63 c1 0c pcmpistri xmm0,xmm1,0xc finds a substring; 66 0f 3a 60 c1 44 pcmpestrm ranges', () => {
  const t = sseCpu();
  const b = t.cpu.fpu.xmmU8;
  b.fill(0, 0, 32);
  [...'lo'].forEach((c, i) => { b[i] = c.charCodeAt(0); });          // needle in xmm0
  [...'hello world'].forEach((c, i) => { b[16 + i] = c.charCodeAt(0); }); // haystack in xmm1
  run(t, '66 0f 3a 63 c1 0c'); // unsigned bytes, equal ordered, positive, least significant index
  assert.equal(reg64(t.cpu, RCX), 3n);
  assert.equal(t.cpu.getFlags() & 0x8d5, 0x01 | 0x40 | 0x80); // CF, ZF (haystack ends), SF (needle ends)
  // ranges 'a'..'z' over "Hi!" with explicit lengths, byte mask output in xmm0
  b.fill(0, 0, 32); b[0] = 0x61; b[1] = 0x7a; b[16] = 0x48; b[17] = 0x69; b[18] = 0x21;
  setReg64(t.cpu, RAX, 2n); setReg64(t.cpu, RDX, -3n); // |EDX| = 3
  run(t, '66 0f 3a 60 c1 44');
  assert.deepEqual([...b.subarray(0, 4)], [0, 0xff, 0, 0]);
});

test('f2 0f 38 f0 c1 crc32 eax,cl; f2 48 0f 38 f1 03 crc32 rax,[rbx]; #UD without SSE4.2', () => {
  const t = sseCpu();
  // CRC-32C of "123456789" is E3069283 (init and final XOR with FFFFFFFF)
  const s = '123456789';
  setReg64(t.cpu, RAX, 0xffffffffn);
  for (const ch of s) { setReg64(t.cpu, RCX, BigInt(ch.charCodeAt(0))); run(t, 'f2 0f 38 f0 c1'); }
  assert.equal(reg64(t.cpu, RAX) ^ 0xffffffffn, 0xe3069283n);
  for (let i = 0; i < 8; i++) t.mem.write8(MEM + i, s.charCodeAt(i));
  setReg64(t.cpu, RBX, BigInt(MEM));
  setReg64(t.cpu, RAX, 0xdeadbeefffffffffn); // only the low 32 bits are the running CRC
  run(t, 'f2 48 0f 38 f1 03');
  setReg64(t.cpu, RCX, 0x39n);
  run(t, 'f2 0f 38 f0 c1');
  assert.equal(reg64(t.cpu, RAX) ^ 0xffffffffn, 0xe3069283n);
  const u = sseCpu(F1C_SSE41);
  run(u, 'f2 0f 38 f0 c1');
  assert.deepEqual(u.exceptions.pop(), [UD, 0]);
});

/** Sets XMM n from 32 hex digits written most significant first (as the SDM and Intel papers do). */
function setX(t: ReturnType<typeof makeCpu>, n: number, h: string): void {
  for (let i = 0; i < 4; i++) t.cpu.fpu.xmm[4 * n + i] = parseInt(h.slice(24 - 8 * i, 32 - 8 * i), 16) | 0;
}
function getX(t: ReturnType<typeof makeCpu>, n: number): string {
  let s = '';
  for (let i = 3; i >= 0; i--) s += (t.cpu.fpu.xmm[4 * n + i]! >>> 0).toString(16).padStart(8, '0');
  return s;
}

test('66 0f 38 dc ca aesenc xmm1,xmm2 (Intel AES-NI white paper vector); 66 0f 3a 44 c1 11 pclmulqdq xmm0,xmm1,0x11', () => {
  const t = sseCpu();
  setX(t, 1, '7b5b54657374566563746f725d53475d');
  setX(t, 2, '48692853686179295b477565726f6e5d');
  run(t, '66 0f 38 dc ca');
  assert.equal(getX(t, 1), 'a8311c2f9fdba3c58b104b58ded7e595');
  setX(t, 0, '00000000000000030000000000000000');
  setX(t, 1, '80000000000000070000000000000000');
  run(t, '66 0f 3a 44 c1 11'); // high quadwords: 3 ⊗ 0x8000000000000007 = 0x1_8000000000000009
  assert.equal(getX(t, 0), '00000000000000018000000000000009');
  const u = sseCpu(F1C_SSE42);
  run(u, '66 0f 38 dc ca');
  assert.deepEqual(u.exceptions.pop(), [UD, 0]);
});
