/**
 * AMD behaviour of the fast system calls and the AMD CPU profile (AMD APM Vol. 3 SYSCALL,
 * SYSRET, SYSENTER, CPUID; Vol. 2 §6.1): what the `nestvisor-amd` profile changes, next to
 * the Intel behaviour the default profile keeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, reg64, setReg64, makeCpu, run, type TestCpu } from '../testing.js';
import { makeSystem, place, step, HANDLER, UCODE } from './gdtkit.js';
import { msrSet64 } from '../msr.js';
import { amdProfile, defaultProfile, cpuidLeaf, type CpuProfile } from '../profile.js';
import { profileFromSpec } from '../profile-select.js';
import {
  CS, SS, RAX, RCX, RDX, R11, IF, TF, RF, EFER_SCE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK,
} from '../regs.js';

function useAmd(t: TestCpu): TestCpu {
  (t.cpu as unknown as { profile: CpuProfile }).profile = amdProfile();
  return t;
}

test('AMD: SYSCALL from compatibility mode goes to CSTAR; SYSRETL returns to 32-bit code, only SS.sel changes', () => {
  const t = useAmd(makeSystem('long64', 3));
  const { cpu } = t;
  cpu.setSegCache(CS, 0x1b, 0, 0xffffffff, 0xc0fb); // 32-bit code DPL 3: compatibility mode
  cpu.efer |= EFER_SCE;
  msrSet64(cpu, MSR_STAR, 0, (0x18 << 16) | 0x08);
  msrSet64(cpu, MSR_LSTAR, 0x30000, 0); // not taken: the caller is not in 64-bit mode
  msrSet64(cpu, MSR_CSTAR, HANDLER, 0);
  msrSet64(cpu, MSR_FMASK, TF | IF, 0);
  place(t, UCODE, hex(`
    0f 05            ; syscall
    b8 05 00 00 00   ; mov eax, 5`));
  place(t, HANDLER, hex('0f 07 ; sysretd'));
  cpu.flags |= IF | RF;
  const ssAr = cpu.segAr[SS]!;
  step(t, 1, UCODE);
  assert.equal(cpu.rip, HANDLER, 'CSTAR');
  assert.equal(cpu.code64, true);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.equal(cpu.segSel[SS], 0x10);
  assert.equal(reg64(cpu, RCX), BigInt(UCODE + 2));
  assert.equal(Number(reg64(cpu, R11)) & (IF | RF), IF, 'R11 = RFLAGS with RF cleared');
  assert.equal(cpu.flags & IF, 0);
  cpu.segAr[SS] = 0xc093; // the kernel's SS cache: SYSRET must leave it alone
  step(t, 2);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.code64, false);
  assert.equal(cpu.segSel[CS], 0x1b);
  assert.equal(cpu.segSel[SS], 0x20, 'STAR[63:48] + 8, RPL not forced');
  assert.equal(cpu.segAr[SS], 0xc093, 'SS attributes unchanged');
  assert.equal(cpu.getReg32(RAX), 5);
  assert.notEqual(ssAr, 0);
});

test('Intel: SYSCALL and SYSRET outside 64-bit mode are #UD (compatibility and legacy mode)', () => {
  const t = makeCpu('long64');
  t.cpu.efer |= EFER_SCE;
  t.cpu.setSegCache(CS, 0x08, 0, 0xffffffff, 0xc09b);
  run(t, '0f 05 ; syscall in compatibility mode');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  run(t, '0f 07 ; sysret in compatibility mode');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
});

test('AMD: legacy-mode SYSCALL to STAR[31:0] with flat 32-bit CPL-0 segments; SYSRET sets IF and returns to ECX', () => {
  const t = useAmd(makeSystem('prot32', 3));
  const { cpu } = t;
  cpu.efer |= EFER_SCE;
  msrSet64(cpu, MSR_STAR, HANDLER, (0x18 << 16) | 0x08);
  msrSet64(cpu, MSR_FMASK, IF, 0); // long-mode only: legacy SYSCALL clears IF itself
  place(t, UCODE, hex(`
    0f 05            ; syscall
    b8 05 00 00 00   ; mov eax, 5`));
  place(t, HANDLER, hex(`
    fa               ; cli
    0f 07            ; sysret`));
  cpu.flags |= IF;
  setReg64(cpu, RCX, 0x1234_5678_0000_0000n);
  step(t, 1, UCODE);
  assert.equal(cpu.rip, HANDLER);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.equal(cpu.segAr[CS], 0xc09b);
  assert.equal(cpu.segSel[SS], 0x10);
  assert.equal(cpu.getReg32(RCX), UCODE + 2);
  assert.equal(cpu.flags & IF, 0);
  step(t, 3);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x1b);
  assert.equal(cpu.segSel[SS], 0x20);
  assert.equal(cpu.flags & IF, IF, 'SYSRET sets IF in legacy mode');
  assert.equal(cpu.getReg32(RAX), 5);
});

test('AMD: SYSRETQ to a non-canonical RCX faults #GP(0) at CPL 3 on the fetch, not at CPL 0', () => {
  const t = useAmd(makeCpu('long64'));
  const { cpu } = t;
  cpu.efer |= EFER_SCE;
  msrSet64(cpu, MSR_STAR, 0, (0x18 << 16) | 0x08);
  setReg64(cpu, RCX, 0x0000_8000_0000_0000n);
  cpu.setReg32(R11, 0x2);
  run(t, '48 0f 07 ; sysretq');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(cpu.cpl, 3, 'the #GP is taken at CPL 3');
  assert.equal(cpu.segSel[CS], 0x2b);
  assert.equal(cpu.startRip, 0x8000_0000_0000, 'saved RIP is the non-canonical target');
  // Intel keeps the #GP at CPL 0 (the existing SYSRET test covers it)
});

test('AMD: SYSENTER/SYSEXIT are #UD in long mode; SYSRET is #GP(0) in real mode', () => {
  const t = useAmd(makeCpu('long64'));
  run(t, '0f 34 ; sysenter');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  run(t, '0f 35 ; sysexit');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  const r = useAmd(makeCpu('real'));
  r.cpu.efer |= EFER_SCE;
  run(r, '0f 07 ; sysret');
  assert.deepEqual(r.exceptions.pop(), [13, 0]);
  const i = makeCpu('long64');
  run(i, '0f 34 ; sysenter (Intel, SYSENTER_CS = 0)');
  assert.deepEqual(i.exceptions.pop(), [13, 0], 'Intel: legal in long mode, #GP for a null SYSENTER_CS');
});

function cpuid(p: CpuProfile, leaf: number, exposeVmx = false): number[] {
  const out = new Int32Array(4);
  cpuidLeaf(p, leaf, 0, { exposeVmx, apicId: 0, cr4Osxsave: false, hasLapic: true, apicEnabled: true }, out);
  return Array.from(out, (v) => v >>> 0);
}
const str = (...w: number[]): string => w.map((v) => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24)).join('');

test('AMD profile: CPUID vendor, signature, mirrored 80000001h:EDX, no SVM/VMX, zeros above the top leaf', () => {
  const a = amdProfile(), i = defaultProfile();
  const l0 = cpuid(a, 0);
  assert.equal(str(l0[1]!, l0[3]!, l0[2]!), 'AuthenticAMD');
  const x0 = cpuid(a, 0x80000000);
  assert.equal(str(x0[1]!, x0[3]!, x0[2]!), 'AuthenticAMD');
  assert.deepEqual(cpuid(i, 0x80000000).slice(1), [0, 0, 0], 'Intel: reserved');
  assert.equal(cpuid(a, 1)[0], 0x00a00f11, 'family 19h (0Fh + 0Ah), model 01h, stepping 1');
  const x1 = cpuid(a, 0x80000001);
  assert.equal(x1[0], 0x00a00f11);
  assert.equal(x1[3]! & 0x3ff, cpuid(a, 1)[3]! & 0x3ff, 'FPU..APIC mirrored from leaf 1');
  assert.equal(x1[3]! & (1 << 11), 1 << 11, 'SYSCALL');
  assert.equal(x1[2]! & (1 << 2), 0, 'no SVM');
  assert.equal(cpuid(a, 1, true)[2]! & (1 << 5), 0, 'VMX never shown for a profile without it');
  assert.equal(cpuid(i, 1, true)[2]! & (1 << 5), 1 << 5);
  assert.equal(cpuid(a, 1)[2]! & (1 << 24), 0, 'no TSC-deadline');
  assert.deepEqual(cpuid(a, 0x8000_0020), [0, 0, 0, 0]);
  assert.deepEqual(cpuid(a, 0x40), [0, 0, 0, 0]);
  assert.deepEqual(cpuid(i, 0x8000_0020), cpuid(i, i.maxLeaf), 'Intel: the highest basic leaf');
  assert.equal((cpuid(i, 0x80000006)[2]! >>> 12) & 0xf, 6, 'L2 8-way');
  assert.equal(profileFromSpec('nestvisor-amd').vendor, 'AuthenticAMD');
  assert.equal(profileFromSpec('nestvisor-amd,-pcid').leaf1Ecx & (1 << 17), 0);
});

test('AMD profile: Intel-only MSRs #GP, the legacy performance counters exist; Intel lacks those', () => {
  const a = useAmd(makeCpu('long64'));
  const rd = (t: TestCpu, msr: number): void => {
    t.cpu.setReg32(RCX, msr);
    run(t, '0f 32 ; rdmsr');
  };
  for (const msr of [0x3a, 0x1a0, 0xce, 0x17, 0x3b]) {
    rd(a, msr);
    assert.deepEqual(a.exceptions.pop(), [13, 0], `MSR ${msr.toString(16)}`);
  }
  a.cpu.setReg32(RCX, 0xc0010004); a.cpu.setReg32(RAX, 0x1234); a.cpu.setReg32(RDX, 0x7fff1);
  run(a, '0f 30 ; wrmsr PerfCtr0');
  assert.equal(a.exceptions.length, 0);
  rd(a, 0xc0010004);
  assert.equal(a.cpu.getReg32(RAX), 0x1234);
  assert.equal(a.cpu.getReg32(RDX), 0xfff1, '48-bit counter');
  a.cpu.setReg32(RCX, 0xc0010000); a.cpu.setReg32(RDX, 0x400);
  run(a, '0f 30 ; wrmsr PerfEvtSel0 with a reserved bit');
  assert.deepEqual(a.exceptions.pop(), [13, 0]);
  const i = makeCpu('long64');
  rd(i, 0x1a0);
  assert.equal(i.exceptions.length, 0, 'Intel has IA32_MISC_ENABLE');
  rd(i, 0xc0010004);
  assert.deepEqual(i.exceptions.pop(), [13, 0]);
});
