/**
 * FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, the XSAVE family, XGETBV/XSETBV and CPUID leaf 0DH.
 * Bytes are quoted with their disassembly (binutils, Intel syntax).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64 } from '../testing.js';
import { RAX, RBX, RCX, RDX, CR0_TS, CR0_EM, CR4_OSFXSR, CR4_OSXSAVE } from '../regs.js';
import { F1D_SSE, F1D_SSE2, withoutAvx, type CpuProfile } from '../profile.js';

const UD = 6, NM = 7, GP = 13;
const MEM = 0x3000;

/** Sets CR4.OSFXSR and makes sure the profile has SSE (LDMXCSR/STMXCSR need it). */
function sse(t: ReturnType<typeof makeCpu>): void {
  t.cpu.cr4 |= CR4_OSFXSR;
  const p = t.cpu.profile;
  (t.cpu as { profile: CpuProfile }).profile = { ...p, leaf1Edx: p.leaf1Edx | F1D_SSE | F1D_SSE2 };
}

test('FXSAVE64 writes the 512-byte layout; FXRSTOR64 restores it and recomputes tags', () => {
  const t = makeCpu('long64');
  sse(t);
  const f = t.cpu.fpu;
  for (let i = 0; i < 64; i++) f.xmm[i] = i * 0x01010101;
  f.mxcsr = 0x1f80 | 0x6000; // RC = toward zero
  f.fcw = 0x27f; f.top = 5; f.fsw = 0x41; f.fop = 0x1d9;
  f.fipLo = 0x1234; f.fipHi = 0x7f; f.fdpLo = 0x5678;
  f.tag.fill(3); f.tag[5] = 0; f.mant[11] = 0x80000000 | 0; f.mant[10] = 1; f.se[5] = 0x3fff;
  setReg64(t.cpu, RBX, BigInt(MEM));
  run(t, '48 0f ae 03'); // fxsave64 [rbx]
  const m = t.mem;
  assert.equal(m.read16(MEM), 0x27f);
  assert.equal(m.read16(MEM + 2), 0x41 | (5 << 11));
  assert.equal(m.read8(MEM + 4), 1 << 5);      // abridged tag: only R5 in use
  assert.equal(m.read16(MEM + 6), 0x1d9);
  assert.equal(m.read32(MEM + 8), 0x1234); assert.equal(m.read32(MEM + 12), 0x7f); // 64-bit FIP
  assert.equal(m.read32(MEM + 24) >>> 0, 0x7f80);
  assert.equal(m.read32(MEM + 28), 0xffff);     // MXCSR_MASK with DAZ
  assert.equal(m.read32(MEM + 32) >>> 0, 1);    // ST(0) = R5
  assert.equal(m.read32(MEM + 36) >>> 0, 0x80000000);
  assert.equal(m.read16(MEM + 40), 0x3fff);
  assert.equal(m.read32(MEM + 160 + 16 * 15 + 12) >>> 0, 63 * 0x01010101); // XMM15 dword 3
  // restore into a cleared state
  f.xmm.fill(0); f.mxcsr = 0x1f80; f.fcw = 0x37f; f.top = 0; f.tag.fill(3);
  run(t, '48 0f ae 0b'); // fxrstor64 [rbx]
  assert.equal(f.xmm[63], 63 * 0x01010101);
  assert.equal(f.mxcsr, 0x7f80);
  assert.equal(f.top, 5);
  assert.equal(f.getFtw(), 0xf3ff);             // R5 valid (00), others empty
  assert.equal(t.exceptions.length, 0);
});

test('FXSAVE (32-bit form) stores FCS/FDS; outside 64-bit mode only XMM0-7', () => {
  const t = makeCpu('prot32');
  sse(t);
  t.cpu.fpu.xmm.fill(-1);
  t.cpu.fpu.fcs = 0x23; t.cpu.fpu.fipLo = 0xabc;
  t.mem.write32(MEM + 160 + 16 * 8, 0x5a5a5a5a);
  t.cpu.setReg32(RBX, MEM);
  run(t, '0f ae 03'); // fxsave [ebx]
  assert.equal(t.mem.read32(MEM + 8), 0xabc);
  assert.equal(t.mem.read16(MEM + 12), 0x23);
  assert.equal(t.mem.read32(MEM + 160 + 16 * 7), -1);
  assert.equal(t.mem.read32(MEM + 160 + 16 * 8), 0x5a5a5a5a); // XMM8 slot untouched
});

test('FXSAVE/FXRSTOR faults: misaligned #GP(0), CR0.TS/EM #NM, reserved MXCSR bits #GP(0)', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM + 8));
  run(t, '0f ae 03'); // fxsave [rbx]
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.cpu.cr0 |= CR0_TS;
  run(t, '0f ae 03');
  assert.deepEqual(t.exceptions.pop(), [NM, 0]);
  t.cpu.cr0 = (t.cpu.cr0 & ~CR0_TS) | CR0_EM;
  run(t, '0f ae 0b'); // fxrstor [rbx]
  assert.deepEqual(t.exceptions.pop(), [NM, 0]);
  t.cpu.cr0 &= ~CR0_EM;
  run(t, '0f ae 03');
  t.mem.write32(MEM + 24, 0x10000);
  t.cpu.fpu.mxcsr = 0x1f80;
  run(t, '0f ae 0b');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  assert.equal(t.exceptions.length, 0);
  // bytes after an unmapped boundary: nothing is written when the second page faults
  t.mem.write32(0x200000 + 0x2000 + 8, 0); t.cpu.flushTlb(); // PD[1]: 2M..4M not present
  setReg64(t.cpu, RBX, BigInt(0x200000 - 0x100));
  t.mem.write32(0x200000 - 0x100, 0x11111111);
  run(t, '0f ae 03');
  assert.deepEqual(t.exceptions.pop(), [14, 2]);
  assert.equal(t.mem.read32(0x200000 - 0x100), 0x11111111);
});

test('LDMXCSR/STMXCSR: #UD without CR4.OSFXSR, #NM with CR0.TS, #GP(0) on reserved bits', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM, 0x9fc0); // FTZ, RC=down, DAZ, masks
  sse(t);
  t.cpu.cr4 &= ~CR4_OSFXSR;
  run(t, '0f ae 13'); // ldmxcsr dword ptr [rbx]
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  t.cpu.cr4 |= CR4_OSFXSR;
  t.cpu.cr0 |= CR0_TS;
  run(t, '0f ae 13');
  assert.deepEqual(t.exceptions.pop(), [NM, 0]);
  t.cpu.cr0 &= ~CR0_TS;
  run(t, '0f ae 13 0f ae 5b 04'); // ldmxcsr [rbx]; stmxcsr [rbx+4]
  assert.equal(t.cpu.fpu.mxcsr, 0x9fc0);
  assert.equal(t.mem.read32(MEM + 4), 0x9fc0);
  t.mem.write32(MEM, 0x20000);
  run(t, '0f ae 13');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  assert.equal(t.cpu.fpu.mxcsr, 0x9fc0);
});

test('XSETBV/XGETBV: x87+SSE components; reserved bits and XCR0[0]=0 → #GP; ECX=1 gives XINUSE', () => {
  const t = makeCpu('long64');
  // a profile without AVX, where XCR0 bit 2 is reserved too (the shipped ones have AVX)
  (t.cpu as unknown as { profile: CpuProfile }).profile = withoutAvx(t.cpu.profile);
  run(t, '0f 01 d0'); // xgetbv
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  t.cpu.cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
  for (const bad of [0n, 2n, 7n, 0x100000001n]) {
    setReg64(t.cpu, RCX, 0n); setReg64(t.cpu, RAX, bad & 0xffffffffn); setReg64(t.cpu, RDX, bad >> 32n);
    run(t, '0f 01 d1'); // xsetbv
    assert.deepEqual(t.exceptions.pop(), [GP, 0], `xcr0=${bad}`);
  }
  setReg64(t.cpu, RAX, 3n); setReg64(t.cpu, RDX, 0n);
  run(t, '0f 01 d1 0f 01 d0'); // xsetbv; xgetbv
  assert.equal(reg64(t.cpu, RAX), 3n);
  t.cpu.fpu.initX87(); t.cpu.fpu.xmm[5] = 1;
  setReg64(t.cpu, RCX, 1n);
  run(t, '0f 01 d0'); // xgetbv with ECX=1: x87 in init state, SSE in use
  assert.equal(reg64(t.cpu, RAX), 2n);
  setReg64(t.cpu, RCX, 2n);
  run(t, '0f 01 d0');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
});

test('XSAVE/XRSTOR standard form: XSTATE_BV, init of components, header checks, alignment', () => {
  const t = makeCpu('long64');
  t.cpu.cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
  t.cpu.xcr0 = 3;
  const f = t.cpu.fpu;
  f.initX87(); f.xmm[0] = 0x11; f.mxcsr = 0x1fc0;
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM + 512, 0x80); // a bit outside RFBM keeps its value
  setReg64(t.cpu, RAX, 0xffffffffn); setReg64(t.cpu, RDX, 0xffffffffn);
  run(t, '0f ae 23'); // xsave [rbx]
  assert.equal(t.mem.read32(MEM + 512), 0x82); // x87 in init state: bit 0 clear
  assert.equal(t.mem.read32(MEM + 160), 0x11);
  assert.equal(t.mem.read32(MEM + 24), 0x1fc0);
  t.mem.write32(MEM + 512, 0x2);
  f.xmm[0] = 0; f.xmm[9] = 9; f.fcw = 0x40; f.mxcsr = 0x1f80;
  run(t, '0f ae 2b'); // xrstor [rbx]
  assert.equal(f.xmm[0], 0x11); assert.equal(f.xmm[9], 0);
  assert.equal(f.fcw, 0x37f);                  // x87 initialised (XSTATE_BV[0] = 0)
  assert.equal(f.mxcsr, 0x1fc0);
  t.mem.write32(MEM + 512, 0x6);               // bit 2 not in XCR0
  run(t, '0f ae 2b');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  t.mem.write32(MEM + 512, 0x2); t.mem.write32(MEM + 528, 1); // reserved header bytes
  run(t, '0f ae 2b');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  t.mem.write32(MEM + 528, 0);
  setReg64(t.cpu, RBX, BigInt(MEM + 16));
  run(t, '0f ae 23');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  t.cpu.cr4 &= ~CR4_OSXSAVE;
  run(t, '0f ae 23');
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('XSAVEC writes the compacted header; XRSTOR of a compacted image; XSAVEOPT', () => {
  const t = makeCpu('long64');
  t.cpu.cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
  t.cpu.xcr0 = 3;
  const f = t.cpu.fpu;
  f.initX87(); f.xmm[4] = 0x44;
  setReg64(t.cpu, RBX, BigInt(MEM));
  setReg64(t.cpu, RAX, 3n); setReg64(t.cpu, RDX, 0n);
  t.mem.write32(MEM, 0xdeadbeef);
  run(t, '0f c7 23'); // xsavec [rbx]
  assert.equal(t.mem.read32(MEM + 512), 2);
  assert.equal(t.mem.read32(MEM + 520), 3);
  assert.equal(t.mem.read32(MEM + 524) >>> 0, 0x80000000);
  assert.equal(t.mem.read32(MEM), 0xdeadbeef | 0); // x87 in init state: not written
  f.xmm[4] = 0; f.fcw = 0x40;
  run(t, '0f ae 2b'); // xrstor [rbx]
  assert.equal(f.xmm[4], 0x44); assert.equal(f.fcw, 0x37f);
  run(t, '0f ae 33'); // xsaveopt [rbx]
  assert.equal(t.mem.read32(MEM + 512), 2);
  assert.equal(t.exceptions.length, 0);
});

test('CPUID leaf 0DH: sub-leaf 0 supported XCR0 and sizes, sub-leaf 1 XSAVEOPT/XSAVEC/XGETBV1/XSAVES', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0xdn); setReg64(t.cpu, RCX, 0n);
  run(t, '0f a2'); // cpuid
  // the shipped profile has AVX: supported XCR0 = 7, 576 bytes for XCR0 = 1 now, 832 for all
  assert.deepEqual([reg64(t.cpu, RAX), reg64(t.cpu, RBX), reg64(t.cpu, RCX), reg64(t.cpu, RDX)], [7n, 576n, 832n, 0n]);
  setReg64(t.cpu, RAX, 0xdn); setReg64(t.cpu, RCX, 1n);
  run(t, '0f a2');
  assert.deepEqual([reg64(t.cpu, RAX), reg64(t.cpu, RBX)], [0xfn, 576n]); // XSAVEOPT, XSAVEC, XGETBV1, XSAVES
  setReg64(t.cpu, RAX, 1n);
  run(t, '0f a2');
  assert.equal(Number(reg64(t.cpu, RCX) >> 26n) & 1, 1);  // XSAVE
  assert.equal(Number(reg64(t.cpu, RDX) >> 24n) & 1, 1);  // FXSR
});
