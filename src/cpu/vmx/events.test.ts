/**
 * External-interrupt exiting without "acknowledge interrupt on exit" (SDM Vol. 3C §25.2):
 * the exit happens only while the interrupt controller really asserts INTR. cpu.irqPending
 * alone is not enough: in non-root operation it also means "poll events", and every VM exit
 * sets it so the host rechecks its own events (kvm-unit-tests vmx: spurious "Unknown exit
 * reason, 0x1" in tests that never raise an interrupt).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PIN_EXT_INTR, PROC_HLT } from './capabilities.js';
import { vmxSetup, guest, launch, rd, rd32, wr, or32, assertExited, GUEST_CODE } from './testkit.js';
import type { LapicPort } from '../platform.js';
import { STOP_HALT } from '../cpu.js';

function stubLapic(pending: { now: boolean }): LapicPort {
  return {
    hwEnabled: true, msrLo: 0, msrHi: 0,
    readMsr: () => false, writeMsr: () => false, readCr8: () => 0, writeCr8: () => undefined,
    get interruptPending() { return pending.now; },
  };
}

test('a stale irqPending with INTR deasserted does not exit 1; an asserted INTR does', () => {
  const t = vmxSetup();
  const intr = { now: false };
  t.cpu.lapic = stubLapic(intr);
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR);
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_HLT);
  guest(t, '90 90 f4'); // nop ; nop ; hlt
  t.cpu.irqPending = true; // left over from the host (vmexit.ts sets it at every exit)
  launch(t);
  assertExited(t, EXIT.HLT, GUEST_CODE + 2);
  intr.now = true;
  t.cpu.irqPending = true;
  launch(t); // the VMCS is launched now
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), 4, 'VMLAUNCH with a launched VMCS fails');
  // VMRESUME at the HLT: the asserted INTR exits before the HLT executes
  t.mem.load(0x10000, Uint8Array.from([0x0f, 0x01, 0xc3, 0xf4])); // vmresume ; hlt
  t.cpu.rip = 0x10000; t.cpu.halted = false; t.cpu.run(100);
  assertExited(t, EXIT.EXTERNAL_INTERRUPT, GUEST_CODE + 2);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), 0, 'no vector without acknowledge-on-exit');
});

test('a #PF that exits through the exception bitmap leaves CR2 unchanged; the address is the qualification', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 14);
  t.cpu.cr2 = 0x1234;
  // 48 b8 00 00 00 80 00 00 00 00   movabs rax, 0x80000000   (not mapped: the identity map covers 1 GiB)
  // 8a 00                           mov al, BYTE PTR [rax]
  guest(t, '48 b8 00 00 00 80 00 00 00 00 8a 00');
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 10);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0x80000000);
  assert.equal(t.cpu.cr2, 0x1234, 'CR2 not written (SDM Vol. 3C §27.1)');
});

test('a guest halted with a stale irqPending and external-interrupt exiting stays halted (no spin)', () => {
  const t = vmxSetup();
  t.cpu.lapic = stubLapic({ now: false });
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR);
  guest(t, 'fb f4'); // sti ; hlt   (no HLT exiting: the guest halts)
  t.cpu.irqPending = true;
  assert.equal(launch(t, 100), STOP_HALT, 'run() returns: halted with nothing to do');
  assert.equal(t.cpu.vmx.nonRoot, true);
  assert.equal(t.cpu.halted, true);
  assert.equal(t.cpu.irqPending, false);
});
