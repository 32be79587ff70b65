/**
 * XSAVES/XRSTORS and IA32_XSS (SDM Vol. 1 §13.11-13.12, Vol. 2 XSAVES/XRSTORS, Vol. 3C
 * §26.3 for VMX non-root operation). Bytes quoted with their disassembly (binutils, Intel
 * syntax).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type TestCpu } from '../testing.js';
import { RAX, RBX, RCX, RDX, CS, SS, CR0_TS, CR4_OSFXSR, CR4_OSXSAVE } from '../regs.js';

const UD = 6, NM = 7, GP = 13;
const MEM = 0x3000;
const XSAVES = '0f c7 2b', XRSTORS = '0f c7 1b';          // xsaves [rbx] / xrstors [rbx]

function setup(): TestCpu {
  const t = makeCpu('long64');
  t.cpu.cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
  t.cpu.xcr0 = 3;
  setReg64(t.cpu, RBX, BigInt(MEM));
  setReg64(t.cpu, RAX, 0xffffffffn); setReg64(t.cpu, RDX, 0xffffffffn);
  return t;
}
function msr(t: TestCpu, write: boolean, index: number, value = 0n): bigint | number {
  setReg64(t.cpu, RCX, BigInt(index));
  setReg64(t.cpu, RAX, value & 0xffffffffn); setReg64(t.cpu, RDX, value >> 32n);
  run(t, write ? '0f 30' : '0f 32'); // wrmsr / rdmsr
  const e = t.exceptions.pop();
  if (e) return e[0];
  return write ? -1 : (reg64(t.cpu, RDX) << 32n) | reg64(t.cpu, RAX);
}

test('CPUID (0DH,1) advertises XSAVES with no supervisor components; IA32_XSS reads 0 and takes only 0', () => {
  const t = setup();
  setReg64(t.cpu, RAX, 0xdn); setReg64(t.cpu, RCX, 1n);
  run(t, '0f a2'); // cpuid
  assert.deepEqual([reg64(t.cpu, RAX), reg64(t.cpu, RBX), reg64(t.cpu, RCX), reg64(t.cpu, RDX)], [0xfn, 576n, 0n, 0n]);
  assert.equal(msr(t, false, 0xda0), 0n);
  assert.equal(msr(t, true, 0xda0, 0n), -1);
  for (const bad of [1n << 8n, 1n << 11n, 1n << 32n]) assert.equal(msr(t, true, 0xda0, bad), GP, `xss=${bad}`);
  assert.equal(msr(t, false, 0xda0), 0n);
});

test('XSAVES writes the compacted format with the init optimization; XRSTORS loads it back', () => {
  const t = setup();
  const f = t.cpu.fpu;
  f.initX87(); f.xmm[4] = 0x44; f.mxcsr = 0x1fc0;
  t.mem.write32(MEM, 0xdeadbeef);
  t.mem.write32(MEM + 512, 0x80);                 // XSTATE_BV bits outside RFBM are cleared
  t.mem.write32(MEM + 540, 0x1234);               // header bytes 16..63 are not written
  run(t, XSAVES);
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.mem.read32(MEM + 512), 2);        // XSTATE_BV = RFBM & XINUSE: x87 in init state
  assert.equal(t.mem.read32(MEM + 516), 0);
  assert.equal(t.mem.read32(MEM + 520), 3);        // XCOMP_BV = RFBM | bit 63
  assert.equal(t.mem.read32(MEM + 524) >>> 0, 0x80000000);
  assert.equal(t.mem.read32(MEM), 0xdeadbeef | 0); // x87 area not written
  assert.equal(t.mem.read32(MEM + 24), 0x1fc0);
  assert.equal(t.mem.read32(MEM + 160 + 16), 0x44);   // xmm[4] is XMM1's low dword
  t.mem.write32(MEM + 540, 0);
  // scramble, then restore: XMM back, x87 initialised from XSTATE_BV[0] = 0
  f.xmm[4] = 0; f.xmm[7] = 7; f.fcw = 0x40; f.mxcsr = 0x1f80;
  run(t, XRSTORS);
  assert.equal(t.exceptions.length, 0);
  assert.equal(f.xmm[4], 0x44); assert.equal(f.xmm[7], 0);
  assert.equal(f.fcw, 0x37f); assert.equal(f.mxcsr, 0x1fc0);
  // RFBM = EAX & XCR0: with EAX = 2 the x87 component is left alone
  f.fcw = 0x40; setReg64(t.cpu, RAX, 2n);
  run(t, XRSTORS);
  assert.equal(f.fcw, 0x40);
  // XSAVES64 stores the 64-bit FIP when the x87 is in use
  f.fipLo = 0x1000; f.fipHi = 0x7f; setReg64(t.cpu, RAX, 3n);
  run(t, '48 0f c7 2b'); // xsaves64 [rbx]
  assert.equal(t.mem.read32(MEM + 512), 3);
  assert.equal(t.mem.read32(MEM + 8), 0x1000); assert.equal(t.mem.read32(MEM + 12), 0x7f);
});

test('XRSTORS header checks: standard form, XCOMP_BV outside XCR0|IA32_XSS, XSTATE_BV outside XCOMP_BV, reserved bytes, MXCSR → #GP(0)', () => {
  const t = setup();
  t.cpu.fpu.xmm[0] = 1;
  run(t, XSAVES);
  const cases: Array<[string, () => void]> = [
    ['XCOMP_BV[63] = 0', () => t.mem.write32(MEM + 524, 0)],
    ['XCOMP_BV bit 8 (PT, not in IA32_XSS)', () => t.mem.write32(MEM + 520, 0x103)],
    ['XSTATE_BV bit not in XCOMP_BV', () => { t.mem.write32(MEM + 520, 1); }],
    ['header byte 16..63 set', () => t.mem.write32(MEM + 560, 1)],
    ['reserved MXCSR bit', () => t.mem.write32(MEM + 24, 0x10000)],
  ];
  const image = t.mem.ram.slice(MEM, MEM + 576);
  for (const [name, spoil] of cases) {
    t.mem.ram.set(image, MEM);
    spoil();
    t.cpu.fpu.xmm[0] = 5;
    run(t, XRSTORS);
    assert.deepEqual(t.exceptions.pop(), [GP, 0], name);
    assert.equal(t.cpu.fpu.xmm[0], 5, `${name}: nothing loaded`);
  }
  t.mem.ram.set(image, MEM);
  run(t, XRSTORS);
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.cpu.fpu.xmm[0], 1);
});

test('XSAVES/XRSTORS faults: #UD (OSXSAVE, register operand), #NM before #GP at CPL 3, #GP(0) misaligned', () => {
  const t = setup();
  t.cpu.cr4 &= ~CR4_OSXSAVE;
  run(t, XSAVES);
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  t.cpu.cr4 |= CR4_OSXSAVE;
  run(t, '0f c7 eb'); // (bad): 0F C7 /5 with a register operand
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  setReg64(t.cpu, RBX, BigInt(MEM + 32));
  run(t, XRSTORS);
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM + 600, 0x5a5a5a5a);
  // CPL 3: #GP(0), or #NM first when CR0.TS is set; memory untouched
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
  t.mem.write32(MEM + 512, 0x77);
  run(t, XSAVES);
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  t.cpu.cr0 |= CR0_TS;
  run(t, XSAVES);
  assert.deepEqual(t.exceptions.pop(), [NM, 0]);
  assert.equal(t.mem.read32(MEM + 512), 0x77);
});

test('VMX non-root: XSAVES/XRSTORS #UD unless "enable XSAVES/XRSTORS" (SDM Vol. 3C §26.3)', () => {
  const t = setup();
  t.cpu.fpu.initX87(); t.cpu.fpu.xmm[0] = 3;
  t.cpu.vmx.nonRoot = true; t.cpu.vmx.proc2 = 0;
  run(t, XSAVES);
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  run(t, XRSTORS);
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  t.cpu.vmx.proc2 = 1 << 20;
  run(t, XSAVES);
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.mem.read32(MEM + 512), 2);
  t.cpu.vmx.nonRoot = false;
});
