/**
 * IA32_DEBUGCTL through VMX (kvm-unit-tests vmx "debug controls"): WRMSR of LBR/BTF works,
 * other bits #GP; "load debug controls" loads the guest's value, "save debug controls"
 * stores it back, and the VM exit clears it for the host (SDM Vol. 3C §26.3.2.1, §27.3.1,
 * §27.5.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RCX, RDX } from '../regs.js';
import { setReg64 } from '../testing.js';
import { rdmsr } from '../msr.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { ENTRY_LOAD_DEBUG, EXIT_SAVE_DEBUG } from './capabilities.js';
import { vmxSetup, guest, launch, rd, wr, or32, assertExited, exec, GUEST_CODE } from './testkit.js';

test('IA32_DEBUGCTL: LBR/BTF writable, reserved bits #GP, loaded and saved by VMX, cleared on exit', () => {
  const t = vmxSetup();
  setReg64(t.cpu, RCX, 0x1d9n); setReg64(t.cpu, RDX, 0n);
  exec(t, 'b8 01 00 00 00 0f 30'); // mov eax, 1 ; wrmsr
  assert.equal(rdmsr(t.cpu, 0x1d9), 1);
  or32(t, F.VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG);
  or32(t, F.VM_EXIT_CONTROLS, EXIT_SAVE_DEBUG);
  wr(t, F.GUEST_IA32_DEBUGCTL, 2);
  guest(t, '90 0f a2'); // nop ; cpuid
  launch(t);
  assertExited(t, EXIT.CPUID, GUEST_CODE + 1);
  assert.equal(rd(t, F.GUEST_IA32_DEBUGCTL), 2, 'saved');
  assert.equal(rdmsr(t.cpu, 0x1d9), 0, 'cleared for the host');
  setReg64(t.cpu, RCX, 0x1d9n);
  t.exceptions.length = 0;
  exec(t, 'b8 04 00 00 00 0f 30'); // mov eax, 4 ; wrmsr
  assert.deepEqual(t.exceptions.map((e) => e[0]), [13]);
});
