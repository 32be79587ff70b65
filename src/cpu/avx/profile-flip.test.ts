// The shipped profiles advertise the VEX set (issue 4, after avx/isa-audit.test.ts found it
// complete): CPUID.1:ECX AVX[28] FMA[12] F16C[29], CPUID.(7,0):EBX AVX2[5] BMI1[3] BMI2[8],
// XCR0 bit 2 settable, CPUID.1:ECX.OSXSAVE[27] = CR4.OSXSAVE, leaf 0DH sizes by XCR0; and
// the way back: withoutAvx / `--cpu nestvisor-intel,-avx`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type TestCpu } from '../testing.js';
import { defaultProfile, amdProfile, withoutAvx, xcr0Supported, F1C_AVX, F1C_FMA, F1C_F16C, F1C_OSXSAVE, F7B_AVX2, F7B_BMI1, F7B_BMI2, type CpuProfile } from '../profile.js';
import { profileFromSpec } from '../profile-select.js';
import { CR4_OSXSAVE, CR4_OSFXSR, GP, UD } from '../regs.js';

const VEC1 = F1C_AVX | F1C_FMA | F1C_F16C, VEC7 = F7B_AVX2 | F7B_BMI1 | F7B_BMI2;

function on(p: CpuProfile): TestCpu {
  const t = makeCpu('long64');
  (t.cpu as unknown as { profile: CpuProfile }).profile = p;
  return t;
}
function cpuid(t: TestCpu, leaf: number, sub: number): bigint[] {
  setReg64(t.cpu, 0, BigInt(leaf)); setReg64(t.cpu, 1, BigInt(sub));
  run(t, '0f a2'); // cpuid
  return [0, 3, 1, 2].map((r) => reg64(t.cpu, r));
}

test('nestvisor-intel and nestvisor-amd advertise AVX, FMA, F16C, AVX2, BMI1, BMI2 and XCR0 = 7; OSXSAVE follows CR4', () => {
  for (const p of [defaultProfile(), amdProfile()]) {
    assert.equal(p.leaf1Ecx & VEC1, VEC1, p.name);
    assert.equal(p.leaf7Ebx & VEC7, VEC7, p.name);
    assert.equal(xcr0Supported(p), 7, p.name);
    const t = on(p);
    t.cpu.cr4 |= CR4_OSFXSR;
    // CPUID.1:ECX.OSXSAVE reads CR4.OSXSAVE (SDM Vol. 2A CPUID, Table 3-10 bit 27)
    assert.equal(Number(cpuid(t, 1, 0)[2]!) & F1C_OSXSAVE, 0, p.name);
    assert.equal(Number(cpuid(t, 1, 0)[2]!) & VEC1, VEC1, p.name);
    assert.equal(Number(cpuid(t, 7, 0)[1]!) & VEC7, VEC7, p.name);
    // leaf 0DH sub-leaf 0: EAX = supported XCR0 bits, ECX = 832 (all), EBX = 576 for XCR0 = 1
    assert.deepEqual(cpuid(t, 0xd, 0).slice(0, 3), [7n, 576n, 832n], p.name);
    assert.deepEqual(cpuid(t, 0xd, 2).slice(0, 2), [256n, 576n], p.name);
    t.cpu.cr4 |= CR4_OSXSAVE;
    assert.notEqual(Number(cpuid(t, 1, 0)[2]!) & F1C_OSXSAVE, 0, p.name);
    // XSETBV XCR0 = 7 (SDM Vol. 1 §13.3), then EBX of sub-leaves 0 and 1 grows to 832
    setReg64(t.cpu, 0, 7n); setReg64(t.cpu, 1, 0n); setReg64(t.cpu, 2, 0n);
    run(t, '0f 01 d1'); // xsetbv
    assert.deepEqual(t.exceptions, [], p.name);
    assert.equal(t.cpu.xcr0, 7);
    assert.deepEqual(cpuid(t, 0xd, 0).slice(0, 3), [7n, 832n, 832n], p.name);
    assert.equal(cpuid(t, 0xd, 1)[1], 832n, p.name);
    // and VEX runs: c5 fd fe c1  vpaddd ymm0,ymm0,ymm1
    run(t, 'c5 fd fe c1');
    assert.deepEqual(t.exceptions, [], p.name);
  }
});

test('withoutAvx: no AVX/FMA/F16C/AVX2 in CPUID, XCR0 bit 2 reserved (#GP), VEX vector instructions #UD; BMI stays', () => {
  const p = withoutAvx(defaultProfile());
  assert.equal(p.leaf1Ecx & VEC1, 0);
  assert.equal(p.leaf7Ebx & VEC7, F7B_BMI1 | F7B_BMI2);
  const t = on(p);
  t.cpu.cr4 |= CR4_OSXSAVE | CR4_OSFXSR;
  assert.deepEqual(cpuid(t, 0xd, 0).slice(0, 3), [3n, 576n, 576n]);
  setReg64(t.cpu, 0, 7n); setReg64(t.cpu, 1, 0n); setReg64(t.cpu, 2, 0n);
  run(t, '0f 01 d1');
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  setReg64(t.cpu, 0, 3n);
  run(t, '0f 01 d1 c5 f9 fe c1'); // xsetbv; vpaddd xmm0,xmm0,xmm1
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  // c4 e2 e0 f2 c1  andn rax,rbx,rcx: BMI1 needs no AVX
  run(t, 'c4 e2 e0 f2 c1');
  assert.deepEqual(t.exceptions, []);
});

test('--cpu nestvisor-intel,-avx is a pre-AVX CPU (AVX2/FMA/F16C go with AVX); -xsave removes AVX; -bmi1/-bmi2 separately', () => {
  const noAvx = profileFromSpec('nestvisor-intel,-avx');
  assert.equal(noAvx.leaf1Ecx & VEC1, 0);
  assert.equal(noAvx.leaf7Ebx & F7B_AVX2, 0);
  assert.equal(noAvx.leaf7Ebx & (F7B_BMI1 | F7B_BMI2), F7B_BMI1 | F7B_BMI2);
  const noXsave = profileFromSpec('nestvisor-amd,-xsave');
  assert.equal(noXsave.leaf1Ecx & VEC1, 0);
  assert.equal(noXsave.leaf7Ebx & F7B_AVX2, 0);
  const noFma = profileFromSpec('nestvisor-intel,-fma,-bmi2');
  assert.equal(noFma.leaf1Ecx & VEC1, F1C_AVX | F1C_F16C);
  assert.equal(noFma.leaf7Ebx & VEC7, F7B_AVX2 | F7B_BMI1);
  assert.equal(profileFromSpec('nestvisor-intel,-avx2,+avx2').leaf7Ebx & F7B_AVX2, F7B_AVX2);
});
