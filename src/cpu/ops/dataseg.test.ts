/**
 * Segment-register moves of the data family in protected and 64-bit mode: MOV Sreg,
 * POP Sreg and LSS/LDS through segments.ts's loadSegment (descriptor checks), with the
 * atomicity the SDM requires (nothing changes when the load faults), and 63 = ARPL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, STACK_TOP, type TestCpu, type Mode } from '../testing.js';
import { setDesc, GDT } from './gdtkit.js';
import { RAX, RBX, RSP, DS, SS, FS, AR_UNUSABLE } from '../regs.js';

const GP = 13, SSF = 12, NP = 11, UD = 6;

/** GDT: 1 = flat code, 2 = data base 0x5000, 3 = DPL3 data, 4 = not-present data, 5 = code exec-only. */
function withGdt(mode: Mode): TestCpu {
  const t = makeCpu(mode);
  setDesc(t.mem, 1, 0, 0xfffff, 0x9b, mode === 'long64' ? 0xa : 0xc);
  setDesc(t.mem, 2, 0x5000, 0xfff, 0x93, 0x4);
  setDesc(t.mem, 3, 0, 0xfffff, 0xf3, 0xc);
  setDesc(t.mem, 4, 0, 0xfffff, 0x13, 0xc);
  setDesc(t.mem, 5, 0, 0xfffff, 0x99, 0xc);
  t.cpu.gdtBase = GDT;
  t.cpu.gdtLimit = 6 * 8 - 1;
  return t;
}

test('8E MOV DS in prot32 loads base/limit from the GDT; faults carry the selector', () => {
  const t = withGdt('prot32');
  t.cpu.setReg32(RAX, 0x10);
  t.mem.write32(0x5004, 0xcafe);
  run(t, `
    8e d8                ; mov ds, eax
    8b 1d 04 00 00 00    ; mov ebx, [4]
  `);
  assert.equal(t.cpu.segBase[DS], 0x5000);
  assert.equal(t.cpu.segLimit[DS], 0xfff);
  assert.equal(t.cpu.getReg32(RBX), 0xcafe);
  const cases: Array<[number, [number, number]]> = [
    [0x30, [GP, 0x30]], // beyond the GDT limit
    [0x20, [NP, 0x20]], // not present
    [0x28, [GP, 0x28]], // execute-only code
  ];
  for (const [sel, fault] of cases) {
    t.cpu.setReg32(RAX, sel);
    run(t, '8e d8');
    assert.deepEqual(t.exceptions.pop(), fault, `selector ${sel}`);
    assert.equal(t.cpu.segSel[DS], 0x10);
  }
});

test('MOV SS checks RPL = DPL = CPL; POP SS faults leave ESP; LSS is atomic', () => {
  const t = withGdt('prot32');
  t.cpu.setReg32(RAX, 0x1b);
  run(t, '8e d0'); // mov ss, eax with a DPL 3 selector at CPL 0
  assert.deepEqual(t.exceptions.pop(), [GP, 0x18]);
  t.cpu.setReg32(RSP, STACK_TOP - 4);
  t.mem.write32(STACK_TOP - 4, 0x20);
  run(t, '17'); // pop ss: not present -> #SS(sel)
  assert.deepEqual(t.exceptions.pop(), [SSF, 0x20]);
  assert.equal(t.cpu.getReg32(RSP), STACK_TOP - 4);
  t.mem.write32(0x3000, 0x1234);
  t.mem.write16(0x3004, 0x1b);
  t.cpu.setReg32(RBX, 0x3000);
  run(t, '0f b2 23'); // lss esp, [ebx] with a bad selector
  assert.deepEqual(t.exceptions.pop(), [GP, 0x18]);
  assert.equal(t.cpu.getReg32(RSP), STACK_TOP - 4);
  t.mem.write16(0x3004, 0x10);
  run(t, '0f b2 23'); // lss esp, [ebx]
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.cpu.getReg32(RSP), 0x1234);
  assert.equal(t.cpu.segBase[SS], 0x5000);
});

test('64-bit mode: a null selector makes FS unusable; MOV SS with null at CPL 0 is allowed', () => {
  const t = withGdt('long64');
  setReg64(t.cpu, RSP, BigInt(STACK_TOP - 8));
  t.mem.write32(STACK_TOP - 8, 0);
  run(t, '0f a1'); // pop fs
  assert.equal(t.cpu.segSel[FS], 0);
  assert.equal(t.cpu.segAr[FS]! & AR_UNUSABLE, AR_UNUSABLE);
  assert.equal(reg64(t.cpu, RSP), BigInt(STACK_TOP));
  setReg64(t.cpu, RAX, 0n);
  run(t, '8e d0', 1); // mov ss, eax (alone: the HLT after it would end the shadow)
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.cpu.segSel[SS], 0);
  assert.equal(t.cpu.inhibitIrq, true);
});

test('63 is ARPL outside 64-bit mode (and #UD in real mode), MOVSXD in 64-bit mode', () => {
  const t = withGdt('prot32');
  t.cpu.setReg32(RAX, 3);
  t.cpu.setReg32(RBX, 0x10);
  run(t, '63 c3'); // arpl bx, ax
  assert.equal(t.cpu.getReg32(RBX), 0x13);
  assert.equal(t.cpu.getZF(), true);
  const r = makeCpu('real');
  run(r, '63 c3');
  assert.deepEqual(r.exceptions.pop(), [UD, 0]);
});
