/**
 * Unit tests of the SSE extensions past SSE2 (RCP/RSQRT, SSE3, SSSE3, SSE4.1, SSE4.2,
 * AES-NI, PCLMULQDQ): availability by CPUID bit, special cases and forms the differential
 * test does not reach. Bytes quoted with their disassembly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64 } from '../testing.js';
import { RAX, RBX, RCX, CR4_OSFXSR } from '../regs.js';
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
void reg64; void setReg64; void RAX; void RBX; void RCX; void MEM; void UD;

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
