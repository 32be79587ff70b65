/**
 * Blocking by STI and by MOV SS (SDM Vol. 3C §24.4.2 Table 24-3, §27.3.4, §30.3): the CPU
 * records which instruction set its interrupt shadow, so a VM exit from the instruction in
 * the shadow saves bit 0 (STI) or bit 1 (MOV SS / POP SS), VM entry restores it, and
 * VMLAUNCH/VMRESUME right after MOV SS fails with VM-instruction error 26.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { vmxSetup, guest, launch, rd32, assertExited, exec, GUEST_CODE } from './testkit.js';

test('a CPUID exit right after STI saves blocking by STI (bit 0)', () => {
  const t = vmxSetup();
  guest(t, 'fb 0f a2'); // sti ; cpuid
  launch(t);
  assertExited(t, EXIT.CPUID, GUEST_CODE + 1);
  assert.equal(rd32(t, F.GUEST_INTERRUPTIBILITY_INFO), 1);
});

test('a CPUID exit right after MOV SS saves blocking by MOV SS (bit 1); one instruction later nothing', () => {
  const t = vmxSetup();
  guest(t, '8c d0 8e d0 0f a2'); // mov eax, ss ; mov ss, eax ; cpuid
  launch(t);
  assertExited(t, EXIT.CPUID, GUEST_CODE + 4);
  assert.equal(rd32(t, F.GUEST_INTERRUPTIBILITY_INFO), 2);
  const u = vmxSetup();
  guest(u, '8c d0 8e d0 90 0f a2'); // mov eax, ss ; mov ss, eax ; nop ; cpuid
  launch(u);
  assertExited(u, EXIT.CPUID, GUEST_CODE + 5);
  assert.equal(rd32(u, F.GUEST_INTERRUPTIBILITY_INFO), 0);
});

test('VMLAUNCH in a MOV SS shadow fails with VM-instruction error 26', () => {
  const t = vmxSetup();
  exec(t, '66 b8 10 00 8e d0 0f 01 c2'); // mov ax, 0x10 ; mov ss, ax ; vmlaunch
  assert.equal(t.cpu.vmx.nonRoot, false);
  assert.equal(t.cpu.getFlags() & 0x41, 0x40, 'VMfailValid');
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), 26);
});
