import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, reg64, setReg64, makeCpu, run } from '../testing.js';
import { makeSystem, place, step, HANDLER, UCODE } from './gdtkit.js';
import { msrSet64 } from '../msr.js';
import {
  CS, SS, RAX, RCX, R11, IF, TF, EFER_SCE, MSR_STAR, MSR_LSTAR, MSR_FMASK,
  MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
} from '../regs.js';

test('SYSCALL / SYSRETQ round trip: fixed flat caches, RCX/R11, FMASK', () => {
  const t = makeSystem('long64', 3);
  const { cpu } = t;
  cpu.efer |= EFER_SCE;
  msrSet64(cpu, MSR_STAR, 0, (0x18 << 16) | 0x08); // SYSCALL CS 0x08 / SS 0x10; SYSRET base 0x18
  msrSet64(cpu, MSR_LSTAR, HANDLER, 0);
  msrSet64(cpu, MSR_FMASK, IF | TF, 0);
  place(t, UCODE, hex(`
    0f 05            ; syscall
    b8 05 00 00 00   ; mov eax, 5`));
  place(t, HANDLER, hex('48 0f 07 ; sysretq'));
  cpu.flags |= IF;
  step(t, 1, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.rip, HANDLER);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.equal(cpu.segAr[CS], 0xa09b);
  assert.equal(cpu.segSel[SS], 0x10);
  assert.equal(reg64(cpu, RCX), BigInt(UCODE + 2));
  assert.equal(Number(reg64(cpu, R11)) & IF, IF);
  assert.equal(cpu.flags & IF, 0, 'FMASK clears IF');
  step(t, 2);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x2b);
  assert.equal(cpu.segAr[CS], 0xa0fb);
  assert.equal(cpu.segSel[SS], 0x23);
  assert.equal(cpu.segAr[SS], 0xc0f3);
  assert.equal(cpu.flags & IF, IF, 'RFLAGS from R11');
  assert.equal(cpu.getReg32(RAX), 5);
});

test('SYSRET without REX.W returns to 32-bit compatibility code at ECX', () => {
  const t = makeCpu('long64');
  const { cpu } = t;
  cpu.efer |= EFER_SCE;
  msrSet64(cpu, MSR_STAR, 0, (0x18 << 16) | 0x08);
  setReg64(cpu, RCX, 0xffff_ffff_0000_2000n);
  cpu.setReg32(R11, 0x202);
  t.mem.write8(0x2000, 0xf4); // HLT at CPL 3: #GP(0) there proves where SYSRET went
  run(t, '0f 07 ; sysretd');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(cpu.segSel[CS], 0x1b);
  assert.equal(cpu.code64, false);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.startRip, 0x2000, 'the next instruction was at EIP = ECX');
});

test('SYSRET faults: non-canonical RCX is #GP(0) at CPL 0; CPL 3 is #GP(0); EFER.SCE=0 is #UD', () => {
  const t = makeCpu('long64');
  const { cpu } = t;
  cpu.efer |= EFER_SCE;
  setReg64(cpu, RCX, 0x0000_8000_0000_0000n);
  run(t, '48 0f 07');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(cpu.cpl, 0);
  cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
  setReg64(cpu, RCX, 0x1000n);
  run(t, '48 0f 07 ; sysretq at CPL 3');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  cpu.efer &= ~EFER_SCE;
  run(t, '0f 05');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  const p = makeCpu('prot32');
  p.cpu.efer |= EFER_SCE;
  run(p, '0f 05 ; syscall outside 64-bit mode');
  assert.deepEqual(p.exceptions.pop(), [6, 0]);
});

test('SYSENTER / SYSEXIT in 32-bit protected mode; SYSENTER_CS = 0 is #GP(0)', () => {
  const t = makeSystem('prot32', 3);
  const { cpu } = t;
  msrSet64(cpu, MSR_SYSENTER_CS, 0x08, 0);
  msrSet64(cpu, MSR_SYSENTER_ESP, 0x6f000, 0);
  msrSet64(cpu, MSR_SYSENTER_EIP, HANDLER, 0);
  place(t, UCODE, hex(`
    0f 34            ; sysenter
    b8 05 00 00 00   ; mov eax, 5`));
  place(t, HANDLER, hex(`
    ba 02 00 01 00   ; mov edx, 0x10002
    b9 00 00 08 00   ; mov ecx, 0x80000
    0f 35            ; sysexit`));
  cpu.flags |= IF;
  step(t, 1, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.equal(cpu.segSel[SS], 0x10);
  assert.equal(cpu.r[8], 0x6f000);
  assert.equal(cpu.flags & IF, 0);
  step(t, 4);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x1b);
  assert.equal(cpu.segSel[SS], 0x23);
  assert.equal(cpu.r[8], 0x80000);
  assert.equal(cpu.getReg32(RAX), 5);
  const z = makeCpu('prot32');
  run(z, '0f 34');
  assert.deepEqual(z.exceptions.pop(), [13, 0]);
});
