/**
 * INIT and SIPI under VMX (SDM Vol. 3C §23.8, §25.2, §24.4.2): INIT is held in VMX root
 * operation and exits (reason 3) at the next boundary in non-root — including right after
 * a VM entry when it was held before; VMXOFF releases a held INIT to the board; a guest
 * entered in the wait-for-SIPI activity state ignores interrupts and exits on a SIPI
 * (reason 4, vector as qualification).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STOP_BUDGET, STOP_HALT, STOP_REQUESTED } from '../cpu.js';
import { hex } from '../testing.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PIN_EXT_INTR, MISC_ACT_SIPI, vmxCaps } from './capabilities.js';
import { vmxTakesInit, vmxTakesSipi, takeReleasedInit } from './init-sipi.js';
import { vmxSetup, guest, launch, rd, rd32, wr, or32, assertExited, raiseIrq, GUEST_CODE } from './testkit.js';
import { CODE } from '../testing.js';

test('wait-for-SIPI is advertised in IA32_VMX_MISC bit 8 (shutdown is not)', () => {
  const t = vmxSetup();
  assert.notEqual(vmxCaps(t.cpu).misc & MISC_ACT_SIPI, 0);
  assert.equal(vmxCaps(t.cpu).misc & (1 << 7), 0);
});

test('INIT in VMX root operation is held, then exits (reason 3) before the first guest instruction', () => {
  const t = vmxSetup();
  assert.equal(vmxTakesInit(t.cpu), true, 'VMX takes it: no reset');
  assert.equal(t.cpu.vmx.inVmx, true);
  guest(t, '90 f4'); // nop ; hlt
  launch(t);
  assertExited(t, EXIT.INIT, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0);
  assert.equal(t.cpu.vmx.initPending, false, 'consumed by the exit');
});

test('INIT in non-root operation exits at the next instruction boundary; outside VMX it is the board\'s', () => {
  const t = vmxSetup();
  guest(t, 'eb fe'); // jmp $
  assert.equal(launch(t, 50), STOP_BUDGET);
  assert.equal(t.cpu.vmx.nonRoot, true);
  vmxTakesInit(t.cpu);
  assert.equal(t.cpu.run(50), STOP_HALT);
  assertExited(t, EXIT.INIT, GUEST_CODE);
  // a guest halted in HLT wakes for it and the exit saves activity state HLT
  const u = vmxSetup();
  guest(u, 'f4'); // hlt
  assert.equal(launch(u, 50), STOP_HALT);
  assert.equal(u.cpu.vmx.nonRoot, true);
  vmxTakesInit(u.cpu);
  u.cpu.run(50);
  assertExited(u, EXIT.INIT, GUEST_CODE + 1);
  assert.equal(rd32(u, F.GUEST_ACTIVITY_STATE), 1);
  const v = vmxSetup();
  v.cpu.vmx.inVmx = false;
  assert.equal(vmxTakesInit(v.cpu), false);
  assert.equal(vmxTakesSipi(v.cpu, 0x10), false);
});

test('VMXOFF releases a held INIT: the CPU stops after it and the board gets the INIT once', () => {
  const t = vmxSetup();
  vmxTakesInit(t.cpu);
  assert.equal(takeReleasedInit(t.cpu), false, 'still blocked in VMX root operation');
  // 0f 01 c4   vmxoff ; 90 nop ; f4 hlt
  t.mem.load(CODE, Uint8Array.from(hex('0f 01 c4 90 f4')));
  t.cpu.rip = CODE; t.cpu.halted = false;
  assert.equal(t.cpu.run(100), STOP_REQUESTED);
  assert.equal(t.cpu.rip, CODE + 3, 'stopped right after VMXOFF');
  assert.equal(takeReleasedInit(t.cpu), true);
  assert.equal(takeReleasedInit(t.cpu), false);
});

test('wait-for-SIPI activity state: interrupts do not wake it, a SIPI exits with its vector; no injection allowed', () => {
  const t = vmxSetup();
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR);
  wr(t, F.GUEST_ACTIVITY_STATE, 3);
  guest(t, 'f4');
  assert.equal(launch(t, 50), STOP_HALT);
  assert.equal(t.cpu.vmx.nonRoot, true);
  raiseIrq(t, 0x30);
  assert.equal(t.cpu.run(50), STOP_HALT, 'external interrupt blocked in wait-for-SIPI');
  assert.equal(t.cpu.vmx.nonRoot, true);
  assert.equal(vmxTakesSipi(t.cpu, 0x9a), true);
  t.cpu.run(50);
  assertExited(t, EXIT.SIPI, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x9a);
  assert.equal(rd32(t, F.GUEST_ACTIVITY_STATE), 3);
  // a SIPI to an active guest is ignored (external-interrupt exiting off: 0x30 is still pending)
  wr(t, F.GUEST_ACTIVITY_STATE, 0);
  wr(t, F.PIN_BASED_VM_EXEC_CONTROL, vmxCaps(t.cpu).pin0);
  guest(t, 'eb fe');
  t.mem.load(CODE, Uint8Array.from(hex('0f 01 c3 f4'))); // vmresume
  t.cpu.rip = CODE; t.cpu.halted = false;
  assert.equal(t.cpu.run(50), STOP_BUDGET);
  vmxTakesSipi(t.cpu, 0x9b);
  assert.equal(t.cpu.run(50), STOP_BUDGET);
  assert.equal(t.cpu.vmx.nonRoot, true);
  // injection with wait-for-SIPI fails the entry (VM-entry failure, reason 33)
  const u = vmxSetup();
  wr(u, F.GUEST_ACTIVITY_STATE, 3);
  wr(u, F.VM_ENTRY_INTR_INFO, 0x80000020);
  wr(u, F.GUEST_RFLAGS, 0x202);
  guest(u, 'f4');
  launch(u);
  assert.equal(rd32(u, F.VM_EXIT_REASON), (0x80000000 | 33) >>> 0);
});
