/**
 * Pending debug exceptions at VM entry (SDM Vol. 3C §26.6.3, §27.1): B3-B0/BS of the
 * guest field become a #DB before the first guest instruction; through the exception
 * bitmap it exits with the bits as qualification and DR6 untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { vmxSetup, guest, launch, resume, rd, rd32, wr, or32, assertExited, GUEST_CODE } from './testkit.js';
import { PROC_MTF } from './capabilities.js';

test('pending BS|B1|B3 with #DB in the exception bitmap: exit 0, vector 1, qualification = the bits, DR6 unchanged', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 1);
  wr(t, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x4000 | 0x1000 | 0xa);
  const dr6 = t.cpu.dr[6];
  guest(t, '0f a2');
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | (3 << 8) | 1) >>> 0);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x400a);
  assert.equal(t.cpu.dr[6], dr6);
});

test('pending debug exceptions are held by blocking by MOV SS', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 1);
  wr(t, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x1001); // B0 with "enabled breakpoint" (BS needs TF)
  wr(t, F.GUEST_INTERRUPTIBILITY_INFO, 2);
  guest(t, '0f a2');
  launch(t);
  assertExited(t, EXIT.CPUID, GUEST_CODE);
  // CPUID exits before completing: the held trap is saved again (§27.3.4)
  assert.equal(rd(t, F.GUEST_PENDING_DBG_EXCEPTIONS), 0x1001);
});

test('pending BS|B0 under MOV SS blocking with TF: #DB after the first guest instruction, qualification 0x4001', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 1);
  wr(t, F.GUEST_RFLAGS, 0x102);
  wr(t, F.GUEST_PENDING_DBG_EXCEPTIONS, 0x5001); // BS | enabled breakpoint | B0 (kvm-unit-tests vmx_db_test)
  wr(t, F.GUEST_INTERRUPTIBILITY_INFO, 2);
  guest(t, '90 90'); // nop ; nop
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 1);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x4001);
  assert.equal(rd(t, F.GUEST_PENDING_DBG_EXCEPTIONS), 0);
});

test('MTF exit after a single-stepped instruction saves BS in pending debug exceptions; VMRESUME delivers it', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MTF);
  wr(t, F.GUEST_RFLAGS, 0x102); // TF
  const dr6 = t.cpu.dr[6];
  guest(t, '48 ff c0 48 ff c0'); // inc rax ; inc rax
  launch(t);
  // §25.5.2: the MTF exit takes priority over the single-step trap, which stays pending
  assertExited(t, EXIT.MTF, GUEST_CODE + 3);
  assert.equal(rd(t, F.GUEST_PENDING_DBG_EXCEPTIONS), 0x4000);
  assert.equal(t.cpu.dr[6], dr6);
  // on VM entry the pending #DB comes before the next instruction (§26.6.3)
  wr(t, F.EXCEPTION_BITMAP, 1 << 1);
  resume(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 3);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x4000);
  assert.equal(rd(t, F.GUEST_PENDING_DBG_EXCEPTIONS), 0);
});

test('without MTF the single-step trap is delivered (here: #DB exit), nothing left pending', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 1);
  wr(t, F.GUEST_RFLAGS, 0x102);
  t.cpu.dr[6] = 0xffff4ffa; // stale BS|B3|B1 (kvm-unit-tests vmx_db_test)
  guest(t, '48 ff c0 48 ff c0');
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 3);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x4000);
  assert.equal(rd(t, F.GUEST_PENDING_DBG_EXCEPTIONS), 0);
  assert.equal(t.cpu.dr[6], 0xffff4ffa, 'an intercepted #DB leaves DR6 alone (§27.1)');
});
