// BMI1/BMI2 (avx/bmi.ts): bytes from GNU as with the disassembly quoted. These run on a CPU
// without AVX state enabled (no CR4.OSXSAVE, XCR0 = 1): VEX GPR instructions need only
// their CPUID bit (SDM Vol. 2 Table 2-29).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type Mode, type TestCpu } from '../testing.js';
import { withBmi, withoutBmi, type CpuProfile } from '../profile.js';
import { CF, PF, AF, ZF, SF, OF, CR0_TS } from '../regs.js';

const RAX = 0, RCX = 1, RBX = 3, RSI = 6, R8 = 8;
const ARITH = CF | PF | AF | ZF | SF | OF;

function bmiCpu(mode: Mode = 'long64', on = true): TestCpu {
  const t = makeCpu(mode);
  (t.cpu as unknown as { profile: CpuProfile }).profile = on ? withBmi(t.cpu.profile) : withoutBmi(t.cpu.profile);
  return t;
}
/** Runs code with the given registers and all arithmetic flags set first; returns the flags after. */
function go(t: TestCpu, code: string, regs: Array<[number, bigint]>, flagsIn = ARITH): number {
  for (const [n, v] of regs) setReg64(t.cpu, n, v);
  t.cpu.setFlags(flagsIn, ARITH);
  run(t, code);
  return t.cpu.getFlags() & ARITH;
}

test('ANDN, BLSR, BLSMSK, BLSI: results and flags (CF, ZF, SF defined; OF = 0; AF = 0, PF = parity as this CPU)', () => {
  const t = bmiCpu();
  // c4 e2 e0 f2 c1  andn rax,rbx,rcx
  let f = go(t, 'c4 e2 e0 f2 c1', [[RBX, 0x0f0f_0000_ffff_0001n], [RCX, 0xffff_ffff_0000_00ffn]]);
  assert.equal(reg64(t.cpu, RAX), 0xf0f0_ffff_0000_00fen);
  assert.equal(f, SF);
  f = go(t, 'c4 e2 e0 f2 c1', [[RBX, -1n], [RCX, 0x1234n]], 0);
  assert.equal(reg64(t.cpu, RAX), 0n);
  assert.equal(f, ZF | PF);
  // c4 62 30 f2 06  andn r8d,r9d,DWORD PTR [rsi]: 32-bit, zero-extended
  t.mem.write32(0x20000, 0x8000_00ff);
  f = go(t, 'c4 62 30 f2 06', [[RSI, 0x20000n], [R8, -1n], [9, 0x0fn]]);
  assert.equal(reg64(t.cpu, R8), 0x8000_00f0n);
  assert.equal(f, SF | PF);
  // c4 e2 f8 f3 cb  blsr rax,rbx: lowest set bit cleared, CF = (src = 0)
  f = go(t, 'c4 e2 f8 f3 cb', [[RBX, 0x8000_0000_0000_0000n]]);
  assert.equal(reg64(t.cpu, RAX), 0n);
  assert.equal(f, ZF | PF);
  f = go(t, 'c4 e2 f8 f3 cb', [[RBX, 0n]]);
  assert.equal(reg64(t.cpu, RAX), 0n);
  assert.equal(f, CF | ZF | PF);
  // c4 e2 78 f3 d3  blsmsk eax,ebx: mask up to the lowest set bit, ZF = 0 always
  f = go(t, 'c4 e2 78 f3 d3', [[RBX, 0x0000_1000n]]);
  assert.equal(reg64(t.cpu, RAX), 0x1fffn);
  assert.equal(f, PF);
  f = go(t, 'c4 e2 78 f3 d3', [[RBX, 0n]]);
  assert.equal(reg64(t.cpu, RAX), 0xffff_ffffn);
  assert.equal(f, CF | SF | PF);
  // c4 e2 f8 f3 db  blsi rax,rbx: lowest set bit isolated, CF = (src ≠ 0)
  f = go(t, 'c4 e2 f8 f3 db', [[RBX, 0x0000_0100_0000_0000n]]);
  assert.equal(reg64(t.cpu, RAX), 0x0000_0100_0000_0000n);
  assert.equal(f, CF | PF);
  f = go(t, 'c4 e2 f8 f3 db', [[RBX, 0n]], 0);
  assert.equal(f, ZF | PF);
  // F3 /0 (c4 e2 f8 f3 c3) is not an instruction
  run(t, 'c4 e2 f8 f3 c3');
  assert.deepEqual(t.exceptions, [[6, 0]]);
});

test('BEXTR and BZHI: start/length and index past the operand, flags', () => {
  const t = bmiCpu();
  // c4 e2 f0 f7 c3  bextr rax,rbx,rcx: start 4, length 12
  let f = go(t, 'c4 e2 f0 f7 c3', [[RBX, 0xfedc_ba98_7654_3210n], [RCX, 0x0c04n]]);
  assert.equal(reg64(t.cpu, RAX), 0x321n);
  assert.equal(f, AF | PF); // ZF = 0, CF = OF = 0; this CPU: AF = 1, SF = 0, PF = parity (0x21: even)
  // start 60, length 200 (past the operand): the top 4 bits; start ≥ 64: 0
  f = go(t, 'c4 e2 f0 f7 c3', [[RBX, 0xfedc_ba98_7654_3210n], [RCX, 0xc83cn]]);
  assert.equal(reg64(t.cpu, RAX), 0xfn);
  assert.equal(f, AF | PF);
  f = go(t, 'c4 e2 f0 f7 c3', [[RBX, -1n], [RCX, 0x0840n]]);
  assert.equal(reg64(t.cpu, RAX), 0n);
  assert.equal(f, AF | ZF | PF);
  // c4 e2 70 f7 06  bextr eax,DWORD PTR [rsi],ecx: 32-bit, start 16 length 32 → bits 31:16
  t.mem.write32(0x20000, 0x8765_4321);
  f = go(t, 'c4 e2 70 f7 06', [[RSI, 0x20000n], [RCX, 0x2010n]]);
  assert.equal(reg64(t.cpu, RAX), 0x8765n);
  // c4 e2 f0 f5 c3  bzhi rax,rbx,rcx: bits 63:n cleared, CF = (n > 63)
  f = go(t, 'c4 e2 f0 f5 c3', [[RBX, -1n], [RCX, 0x1_0024n]]); // index is rcx[7:0] = 0x24
  assert.equal(reg64(t.cpu, RAX), 0xf_ffff_ffffn);
  assert.equal(f, PF);
  f = go(t, 'c4 e2 f0 f5 c3', [[RBX, -1n], [RCX, 64n]]);
  assert.equal(reg64(t.cpu, RAX), 0xffff_ffff_ffff_ffffn);
  assert.equal(f, CF | SF | PF);
  f = go(t, 'c4 e2 f0 f5 c3', [[RBX, -1n], [RCX, 0n]]);
  assert.equal(reg64(t.cpu, RAX), 0n);
  assert.equal(f, ZF | PF);
  // c4 e2 70 f5 c3  bzhi eax,ebx,ecx: n = 32 is past a 32-bit operand
  f = go(t, 'c4 e2 70 f5 c3', [[RBX, 0xffff_ffff_8000_0001n], [RCX, 32n]]);
  assert.equal(reg64(t.cpu, RAX), 0x8000_0001n);
  assert.equal(f, CF | SF);
});

test('PDEP, PEXT, MULX, RORX, SARX/SHLX/SHRX: results, flags untouched', () => {
  const t = bmiCpu();
  // c4 e2 e3 f5 c1  pdep rax,rbx,rcx
  let f = go(t, 'c4 e2 e3 f5 c1', [[RBX, 0b1011n], [RCX, 0xf000_0000_0000_0101n]]);
  // mask bits 0, 8, 60-63 receive source bits 0-5: 1, 1, 0, 1, 0, 0
  assert.equal(reg64(t.cpu, RAX), 0x2000_0000_0000_0101n);
  assert.equal(f, ARITH);
  // c4 e2 e2 f5 c1  pext rax,rbx,rcx
  f = go(t, 'c4 e2 e2 f5 c1', [[RBX, 0xa000_0000_0000_0101n], [RCX, 0xf000_0000_0000_0101n]], 0);
  assert.equal(reg64(t.cpu, RAX), 0b10_1011n);
  assert.equal(f, 0);
  // c4 e2 63 f5 c1  pdep eax,ebx,ecx ; c4 e2 62 f5 c1  pext eax,ebx,ecx (32-bit)
  go(t, 'c4 e2 63 f5 c1', [[RBX, 0xffff_ffff_ffff_ffffn], [RCX, 0x8000_0001n]]);
  assert.equal(reg64(t.cpu, RAX), 0x8000_0001n);
  go(t, 'c4 e2 62 f5 c1', [[RBX, 0x8000_0000n], [RCX, 0xffff_0000_8000_0000n]]);
  assert.equal(reg64(t.cpu, RAX), 1n);
  // c4 e2 e3 f6 c1  mulx rax,rbx,rcx: rax:rbx = rdx * rcx (unsigned)
  f = go(t, 'c4 e2 e3 f6 c1', [[2, -1n], [RCX, -1n]]);
  assert.equal(reg64(t.cpu, RAX), 0xffff_ffff_ffff_fffen);
  assert.equal(reg64(t.cpu, RBX), 1n);
  assert.equal(f, ARITH);
  // c4 e2 63 f6 c1  mulx eax,ebx,ecx
  go(t, 'c4 e2 63 f6 c1', [[2, 0x1_8000_0000n], [RCX, 0x4n]]);
  assert.equal(reg64(t.cpu, RAX), 2n);
  assert.equal(reg64(t.cpu, RBX), 0n);
  // c4 e2 fb f6 c1  mulx rax,rax,rcx: both destinations rax → the high half
  go(t, 'c4 e2 fb f6 c1', [[2, 0x1_0000_0000n], [RCX, 0x3_0000_0007n]]);
  assert.equal(reg64(t.cpu, RAX), 3n);
  // c4 e3 fb f0 c3 0c  rorx rax,rbx,0xc ; c4 e3 7b f0 c3 24  rorx eax,ebx,0x24 (count mod 32 = 4)
  go(t, 'c4 e3 fb f0 c3 0c', [[RBX, 0x0123_4567_89ab_cdefn]]);
  assert.equal(reg64(t.cpu, RAX), 0xdef0_1234_5678_9abcn);
  go(t, 'c4 e3 7b f0 c3 24', [[RBX, 0x1234_5678n]]);
  assert.equal(reg64(t.cpu, RAX), 0x8123_4567n);
  // c4 e2 f2 f7 c3  sarx rax,rbx,rcx ; c4 e2 f1 f7 c3  shlx ; c4 e2 73 f7 c3  shrx eax,ebx,ecx
  go(t, 'c4 e2 f2 f7 c3', [[RBX, 0x8000_0000_0000_0000n], [RCX, 0x43n]]); // count 0x43 & 63 = 3
  assert.equal(reg64(t.cpu, RAX), 0xf000_0000_0000_0000n);
  go(t, 'c4 e2 f1 f7 c3', [[RBX, 0x1n], [RCX, 40n]]);
  assert.equal(reg64(t.cpu, RAX), 0x100_0000_0000n);
  go(t, 'c4 e2 73 f7 c3', [[RBX, 0xffff_ffff_8000_0000n], [RCX, 0x3fn]]); // count & 31 = 31
  assert.equal(reg64(t.cpu, RAX), 1n);
  // c4 62 89 f7 7e 08  shlx r15,QWORD PTR [rsi+0x8],r14
  t.mem.write32(0x20008, 0x1); t.mem.write32(0x2000c, 0);
  go(t, 'c4 62 89 f7 7e 08', [[RSI, 0x20000n], [14, 63n]]);
  assert.equal(reg64(t.cpu, 15), 0x8000_0000_0000_0000n);
  assert.deepEqual(t.exceptions, []);
});

test('BMI availability: #UD without the CPUID bit, with VEX.L = 1 or LOCK; no OSXSAVE/XCR0/TS needed; W ignored in 32-bit mode', () => {
  const off = bmiCpu('long64', false);
  run(off, 'c4 e2 e0 f2 c1'); // andn rax,rbx,rcx
  assert.deepEqual(off.exceptions, [[6, 0]]);
  const t = bmiCpu();
  // CPUID.(7,0):EBX bit 3 (BMI1) and bit 8 (BMI2): clear with withoutBmi, set by withBmi (and on the shipped profiles)
  assert.equal(off.cpu.cpuid(7, 0)[1]! & 0x108, 0);
  assert.equal(t.cpu.cpuid(7, 0)[1]! & 0x108, 0x108);
  // VEX.L = 1: c4 e2 e4 f2 c1 ; RORX with vvvv ≠ 1111b: c4 e3 f3 f0 c3 0c ; F2 ANDN: c4 e2 e3 f2 c1
  for (const code of ['c4 e2 e4 f2 c1', 'c4 e3 f3 f0 c3 0c', 'c4 e2 e3 f2 c1', 'c4 e2 e0 f6 c1']) {
    t.exceptions.length = 0;
    run(t, code);
    assert.deepEqual(t.exceptions, [[6, 0]], code);
  }
  // CR0.TS = 1 does not raise #NM (not an SSE/AVX state instruction), CR4.OSXSAVE is 0 here
  t.exceptions.length = 0;
  t.cpu.cr0 |= CR0_TS;
  go(t, 'c4 e2 e0 f2 c1', [[RBX, 0n], [RCX, 5n]]);
  assert.deepEqual(t.exceptions, []);
  assert.equal(reg64(t.cpu, RAX), 5n);
  // 32-bit protected mode: c4 e2 f0 f5 c3 (VEX.W1 bzhi) is bzhi eax,ebx,ecx
  const p = bmiCpu('prot32');
  p.cpu.r[RBX << 1] = -1; p.cpu.r[RCX << 1] = 8;
  run(p, 'c4 e2 f0 f5 c3');
  assert.deepEqual(p.exceptions, []);
  assert.equal(p.cpu.r[RAX << 1], 0xff);
});
