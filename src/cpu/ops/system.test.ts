// System instructions: CPUID, RDMSR/WRMSR, RDTSC(P), SWAPGS, FSGSBASE, RDPID, INVPCID,
// fences, CLFLUSH, UD0/1/2, XGETBV, STAC/CLAC. Bytes from `as --64` + objdump -d.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type TestCpu } from '../testing.js';
import { RAX, RBX, RCX, RDX, CS, SS, FS, GS, CR4_TSD, CR4_FSGSBASE, MSR_EFER, MSR_LSTAR, MSR_STAR } from '../regs.js';
import { msrGet64 } from '../msr.js';

const MSR_TSC = 0x10, MSR_TSC_ADJUST = 0x3b, MSR_PAT = 0x277, MSR_TSC_AUX = 0xc0000103;

function toUser(t: TestCpu): void {
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
}
/** wrmsr with ECX=index, EDX:EAX=value; returns the recorded exception vector or -1. */
function wr(t: TestCpu, index: number, value: bigint): number {
  t.cpu.setReg32(RCX, index);
  t.cpu.setReg32(RAX, Number(value & 0xffffffffn) | 0);
  t.cpu.setReg32(RDX, Number((value >> 32n) & 0xffffffffn) | 0);
  run(t, '0f 30'); // wrmsr
  const e = t.exceptions.pop();
  return e ? e[0] : -1;
}
function rd(t: TestCpu, index: number): bigint | number {
  t.cpu.setReg32(RCX, index);
  run(t, '0f 32'); // rdmsr
  const e = t.exceptions.pop();
  if (e) return e[0];
  return (reg64(t.cpu, RDX) << 32n) | reg64(t.cpu, RAX);
}

test('CPUID: vendor, and leaf 7 EBX advertises AVX2, BMI1 and BMI2 (src/cpu/avx/)', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0n);
  run(t, '0f a2'); // cpuid
  const s = [RBX, RDX, RCX].map((r) => Buffer.from(Int32Array.of(t.cpu.getReg32(r)).buffer).toString('latin1')).join('');
  assert.equal(s, 'GenuineIntel');
  setReg64(t.cpu, RAX, 7n); setReg64(t.cpu, RCX, 0n);
  run(t, '0f a2');
  assert.equal(t.cpu.getReg32(RBX) & ((1 << 3) | (1 << 5) | (1 << 8)), (1 << 3) | (1 << 5) | (1 << 8));
});

test('MSR round trips and #GP rules', () => {
  const t = makeCpu('long64');
  assert.equal(wr(t, MSR_LSTAR, 0xffff800012345678n), -1);
  assert.equal(rd(t, MSR_LSTAR), 0xffff800012345678n);
  assert.equal(t.cpu.msrs.get(MSR_LSTAR), -0x800000000000 + 0x12345678, 'stored as a signed number');
  assert.equal(wr(t, MSR_LSTAR, 0x0000800000000000n), 13, 'non-canonical');
  assert.equal(wr(t, MSR_STAR, 0x0023001012345678n), -1);
  assert.equal(rd(t, MSR_STAR), 0x0023001012345678n);
  assert.equal(msrGet64(t.cpu, MSR_STAR, 0, 0), 0x12345678);
  assert.equal(t.cpu.hi, 0x00230010);
  assert.equal(wr(t, MSR_EFER, 0xd01n), -1); // SCE|LME|LMA|NXE
  assert.equal(wr(t, MSR_EFER, 0xd03n), 13, 'reserved EFER bit');
  assert.equal(wr(t, MSR_EFER, 0x801n), 13, 'LME cannot change with paging on');
  assert.equal(wr(t, MSR_PAT, 0x0007040600070406n), -1);
  assert.equal(wr(t, MSR_PAT, 0x0007040600070402n), 13, 'type 2 is not a memory type');
  assert.equal(rd(t, 0x3a), 1n, 'FEATURE_CONTROL locked, VMX off');
  assert.equal(wr(t, 0x3a, 5n), 13);
  assert.equal(rd(t, 0x480), 13, 'VMX capability MSRs absent');
  assert.equal(rd(t, 0x12345), 13, 'unknown MSR');
  assert.equal(wr(t, 0x1a0, 0x400c51889n), -1, 'MISC_ENABLE writable bits');
  assert.equal(rd(t, 0x1a0), 0x400c51889n);
  assert.equal(wr(t, 0x1a0, 2n), 13);
  assert.equal(wr(t, 0xc0000100, 0x123456789abcn), -1);
  assert.equal(t.cpu.segBase[FS], 0x123456789abc);
  assert.equal(rd(t, 0x1b), 0xfee00900n, 'APIC base: enabled BSP');
  assert.equal(wr(t, 0x200, 0x80000006n), -1, 'MTRR PHYSBASE0');
  assert.equal(wr(t, 0x201, 0x7ffn), 13, 'MTRR PHYSMASK reserved bits');
  assert.equal(rd(t, 0xfe), 0x508n);
  assert.equal(rd(t, 0x10a) !== 13, true, 'ARCH_CAPABILITIES is advertised');
});

test('RDMSR/WRMSR at CPL 3 → #GP(0)', () => {
  const t = makeCpu('long64');
  toUser(t);
  assert.equal(rd(t, MSR_EFER), 13);
});

test('RDTSC is monotonic and deterministic; WRMSR TSC and TSC_ADJUST move it', () => {
  const a = makeCpu('long64'), b = makeCpu('long64');
  run(a, '0f 31'); run(b, '0f 31'); // rdtsc
  const ta = (reg64(a.cpu, RDX) << 32n) | reg64(a.cpu, RAX);
  assert.equal(ta, (reg64(b.cpu, RDX) << 32n) | reg64(b.cpu, RAX));
  run(a, '0f 31'); // rdtsc again
  const ta2 = (reg64(a.cpu, RDX) << 32n) | reg64(a.cpu, RAX);
  assert.ok(ta2 > ta);
  assert.equal(wr(a, MSR_TSC, 1n << 40n), -1);
  const tsc = rd(a, MSR_TSC) as bigint;
  assert.ok(tsc >= 1n << 40n && tsc < (1n << 40n) + 1000n);
  const adj = rd(a, MSR_TSC_ADJUST) as bigint;
  assert.ok(adj > 0n);
  assert.equal(wr(a, MSR_TSC_ADJUST, 0n), -1);
  assert.ok((rd(a, MSR_TSC) as bigint) < 1n << 40n);
  a.cpu.cr4 |= CR4_TSD;
  toUser(a);
  run(a, '0f 31');
  assert.deepEqual(a.exceptions.pop(), [13, 0]);
});

test('RDTSCP and RDPID return IA32_TSC_AUX', () => {
  const t = makeCpu('long64');
  assert.equal(wr(t, MSR_TSC_AUX, 0x42n), -1);
  run(t, '0f 01 f9'); // rdtscp
  assert.equal(reg64(t.cpu, RCX), 0x42n);
  run(t, 'f3 0f c7 f8'); // rdpid rax
  assert.equal(reg64(t.cpu, RAX), 0x42n);
  assert.equal(wr(t, MSR_TSC_AUX, 1n << 32n), 13);
});

test('SWAPGS exchanges GS.base with KERNEL_GS_BASE; #UD outside 64-bit mode', () => {
  const t = makeCpu('long64');
  t.cpu.segBase[GS] = 0x1000;
  assert.equal(wr(t, 0xc0000102, 0xffff888000000000n), -1);
  run(t, '0f 01 f8'); // swapgs
  assert.equal(t.cpu.segBase[GS], -0x778000000000);
  assert.equal(rd(t, 0xc0000102), 0x1000n);
  const p = makeCpu('prot32');
  run(p, '0f 01 f8');
  assert.deepEqual(p.exceptions.pop(), [6, 0]);
});

test('RDFSBASE/WRGSBASE need CR4.FSGSBASE; non-canonical WR*BASE → #GP', () => {
  const t = makeCpu('long64');
  run(t, 'f3 48 0f ae c0'); // rdfsbase rax
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  t.cpu.cr4 |= CR4_FSGSBASE;
  setReg64(t.cpu, RAX, 0x00007fff12345678n);
  run(t, 'f3 48 0f ae d8 f3 0f ae c9'); // wrgsbase rax; rdgsbase ecx
  assert.equal(t.cpu.segBase[GS], 0x7fff12345678);
  assert.equal(reg64(t.cpu, RCX), 0x12345678n);
  setReg64(t.cpu, RAX, 0x0000800000000000n);
  run(t, 'f3 48 0f ae d0'); // wrfsbase rax
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('UD0/UD1/UD2 raise #UD; fences and CLFLUSH run; CLFLUSH of an unmapped page → #PF', () => {
  const t = makeCpu('long64');
  for (const code of ['0f 0b', '0f b9 03', '0f ff 03']) { run(t, code); assert.deepEqual(t.exceptions.pop(), [6, 0]); }
  setReg64(t.cpu, RBX, 0x2000n);
  run(t, '0f ae e8 0f ae f0 0f ae f8 0f ae 3b 66 0f ae 3b'); // lfence; mfence; sfence; clflush [rbx]; clflushopt [rbx]
  assert.equal(t.exceptions.length, 0);
  setReg64(t.cpu, RBX, 0x40000000n);
  run(t, '0f ae 3b');
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
  run(t, '0f ae 03'); // fxsave [rbx]: unmapped page → #PF (write)
  assert.deepEqual(t.exceptions.pop(), [14, 2]);
});

test('CLWB (66 0F AE /6): runs with CPUID.(7,0):EBX.CLWB, #PF like a load on an unmapped page, #UD without the bit', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x2000n);
  run(t, '66 0f ae 33'); // clwb [rbx]
  assert.equal(t.exceptions.length, 0);
  setReg64(t.cpu, RBX, 0x40000000n);
  run(t, '66 0f ae 33');
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
  (t.cpu as unknown as { profile: object }).profile = { ...t.cpu.profile, leaf7Ebx: t.cpu.profile.leaf7Ebx & ~(1 << 24) };
  setReg64(t.cpu, RBX, 0x2000n);
  run(t, '66 0f ae 33');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  run(t, '66 0f ae f8'); // PCOMMIT (withdrawn, never advertised)
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
});

test('INVPCID: types 0-3, invalid type and reserved descriptor bits → #GP', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x3000n);
  setReg64(t.cpu, RAX, 2n);
  run(t, '66 0f 38 82 03'); // invpcid rax, [rbx]
  assert.equal(t.exceptions.length, 0);
  setReg64(t.cpu, RAX, 4n);
  run(t, '66 0f 38 82 03');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  t.mem.write32(0x3000, 5); // PCID 5 without CR4.PCIDE
  setReg64(t.cpu, RAX, 1n);
  run(t, '66 0f 38 82 03');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  run(t, '0f 38 82 03'); // no 66 prefix
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
});

test('XGETBV #UD without CR4.OSXSAVE; STAC/CLAC; VMCALL #UD; RDPMC #GP (MONITOR: monitor.test.ts)', () => {
  const t = makeCpu('long64');
  for (const code of ['0f 01 d0', '0f 01 c1']) { run(t, code); assert.deepEqual(t.exceptions.pop(), [6, 0]); }
  run(t, '0f 01 cb'); // stac
  assert.notEqual(t.cpu.flags & (1 << 18), 0);
  run(t, '0f 01 ca'); // clac
  assert.equal(t.cpu.flags & (1 << 18), 0);
  run(t, '0f 33'); // rdpmc
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  toUser(t);
  run(t, '0f 01 cb');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
});
