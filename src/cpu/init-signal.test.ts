// INIT against power-up/RESET (SDM Vol. 3A §9.1, Table 9-1): INIT keeps the x87 state,
// XMM/YMM, MXCSR, XCR0, CR0.CD/NW and the MSRs, and sets everything else as RESET does;
// RESET (Cpu.reset) still clears them all. The state is made by running real instructions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type TestCpu } from './testing.js';
import { makeAvxCpu, ymmHex } from './avx/avx-testing.js';
import { initSignal } from './init-signal.js';
import { rdmsr } from './msr.js';
import { CS, DS, SS, RSP, CR0_CD, CR0_NW, CR0_ET, EFER_LME } from './regs.js';

const PROGRAM = `
  db e3                   ; fninit
  d9 eb                   ; fldpi
  d9 e8                   ; fld1
  c5 fd 76 c0             ; vpcmpeqd ymm0, ymm0, ymm0
  0f ae 14 25 00 00 03 00 ; ldmxcsr [0x30000]
  b9 77 02 00 00          ; mov ecx, 0x277 (IA32_PAT)
  b8 06 06 06 06          ; mov eax, 0x06060606
  ba 04 04 04 04          ; mov edx, 0x04040404
  0f 30                   ; wrmsr
  b9 74 01 00 00          ; mov ecx, 0x174 (IA32_SYSENTER_CS)
  b8 10 00 00 00          ; mov eax, 0x10
  31 d2                   ; xor edx, edx
  0f 30                   ; wrmsr
`;
const MXCSR = 0x7fc0; // DAZ, RC = toward zero, every exception masked
const ONES = 'f'.repeat(64);

/** A 64-bit CPU with AVX that ran PROGRAM: x87 stack pi, 1.0; ymm0 all ones; MXCSR, PAT, SYSENTER_CS written. */
function prepared(): TestCpu {
  const t = makeAvxCpu('long64');
  t.mem.write32(0x30000, MXCSR);
  run(t, PROGRAM);
  assert.deepEqual(t.exceptions, []);
  const c = t.cpu;
  assert.equal(c.fpu.top, 6);
  assert.equal(c.fpu.fcw, 0x37f);
  assert.equal(ymmHex(t, 0), ONES);
  assert.equal(c.fpu.mxcsr, MXCSR);
  c.dr[7] = 0x403; // L0, G0 (no address set: nothing matches)
  c.r[2 * RSP] = 0x1234;
  return t;
}

/** The x87 and SSE/AVX state (every field of FpuState, typed arrays as arrays), as one comparable snapshot. */
function fpState(t: TestCpu): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t.cpu.fpu)) out[k] = ArrayBuffer.isView(v) ? [...(v as Uint8Array)] : v;
  return out;
}

const msr64 = (t: TestCpu, i: number): string => {
  const lo = rdmsr(t.cpu, i);
  return ((BigInt(t.cpu.hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16);
};

test('INIT keeps x87 (ST0-7, FCW/FSW/FTW, pointers), XMM/YMM, MXCSR, XCR0 and MSRs; the rest takes its Table 9-1 value', () => {
  const t = prepared();
  const c = t.cpu;
  c.cr0 |= CR0_CD; // caches disabled by software before the INIT
  const before = fpState(t);
  for (const k of ['mant', 'se', 'tag', 'top', 'fcw', 'fsw', 'fop', 'fipLo', 'fdpLo', 'xmm', 'ymmh', 'mxcsr']) assert.ok(k in before, k);
  assert.notEqual(c.fpu.fipLo, 0, 'the last x87 instruction\'s address is recorded');
  initSignal(c);
  assert.deepEqual(fpState(t), before, 'x87/SSE/AVX state unchanged');
  assert.equal(ymmHex(t, 0), ONES);
  assert.equal(c.fpu.mxcsr, MXCSR);
  assert.equal(c.xcr0, 7, 'XCR0 unchanged by INIT');
  assert.equal(msr64(t, 0x277), '404040406060606', 'IA32_PAT unchanged');
  assert.equal(msr64(t, 0x174), '10', 'IA32_SYSENTER_CS unchanged');
  // Table 9-1 note 2: CD and NW as they were, ET set, every other bit clear
  assert.equal(c.cr0 >>> 0, (CR0_CD | CR0_ET) >>> 0);
  // what INIT sets as RESET does
  assert.equal(c.rip, 0xfff0);
  assert.deepEqual([c.segSel[CS], c.segBase[CS], c.segLimit[CS]], [0xf000, 0xffff0000, 0xffff]);
  assert.deepEqual([c.segSel[DS], c.segBase[DS], c.segSel[SS]], [0, 0, 0]);
  assert.equal(c.getFlags(), 2);
  assert.equal(c.r[2 * RSP], 0);
  assert.equal(c.cr4, 0);
  assert.equal(c.cr3, 0);
  assert.equal(c.efer & EFER_LME, 0);
  assert.equal(c.efer, 0);
  assert.equal(c.dr[7], 0x400);
  assert.equal(c.code64, false);
  // CD and NW both clear before the INIT stay clear (INIT does not set them, RESET does)
  c.cr0 = CR0_ET | 1;
  initSignal(c);
  assert.equal(c.cr0, CR0_ET);
  c.cr0 = (CR0_ET | CR0_NW | CR0_CD) | 0;
  initSignal(c);
  assert.equal(c.cr0 >>> 0, 0x60000010);
});

test('RESET (Cpu.reset) still clears what INIT keeps: FCW 0040H, FTW 5555H, ST = +0.0, XMM/YMM 0, MXCSR 1F80H, XCR0 1, MSRs', () => {
  const t = prepared();
  const c = t.cpu;
  c.cr0 &= ~CR0_CD;
  c.reset();
  const f = c.fpu;
  assert.equal(f.fcw, 0x40);
  assert.equal(f.getFtw(), 0x5555);
  assert.equal(f.getFsw(), 0);
  assert.deepEqual([...f.mant, ...f.se].every((v) => v === 0), true);
  assert.equal(ymmHex(t, 0), '0'.repeat(64));
  assert.equal(f.mxcsr, 0x1f80);
  assert.equal(c.xcr0, 1);
  assert.equal(msr64(t, 0x277), '7040600070406', 'IA32_PAT back to its power-up value');
  assert.equal(msr64(t, 0x174), '0');
  assert.equal(c.cr0 >>> 0, 0x60000010);
});
