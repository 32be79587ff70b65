/**
 * TPR shadow (SDM Vol. 3C §29.1-§29.3, §26.2.1.1): MOV to/from CR8 in a 64-bit guest use
 * VTPR in the virtual-APIC page, a MOV to CR8 below the TPR threshold is a trap-like VM
 * exit (reason 43), CR8-load/store exiting still win, and VM entry checks the threshold
 * against VTPR. The capability is advertised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAX, RBX } from '../regs.js';
import { reg64, setReg64 } from '../testing.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PROC_TPR_SHADOW, PROC_CR8_LOAD, PROC_CR8_STORE, PROC_HLT, vmxCaps } from './capabilities.js';
import { vmxSetup, guest, launch, resume, rd, rd32, wr, or32, assertExited, GUEST_CODE } from './testkit.js';

const VAPIC = 0x106000;

function tprSetup(threshold: number, vtpr: number) {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW | PROC_HLT);
  wr(t, F.VIRTUAL_APIC_PAGE_ADDR, VAPIC);
  wr(t, F.TPR_THRESHOLD, threshold);
  t.mem.write32(VAPIC + 0x80, vtpr);
  return t;
}

test('"use TPR shadow" is advertised as allowed-1 in the processor-based controls', () => {
  const t = vmxSetup();
  assert.notEqual(vmxCaps(t.cpu).proc1 & PROC_TPR_SHADOW, 0);
});

test('MOV from CR8 reads VTPR[7:4]; MOV to CR8 writes VTPR[7:4] and clears the other VTPR bits, the APIC TPR untouched', () => {
  const t = tprSetup(0, 0x5a | (0x77 << 8));
  t.cpu.cr8 = 3;
  setReg64(t.cpu, RAX, 9n);
  // 44 0f 20 c3   mov rbx, cr8
  // 44 0f 22 c0   mov cr8, rax
  // f4            hlt             (HLT exiting)
  guest(t, '44 0f 20 c3 44 0f 22 c0 f4');
  launch(t);
  assertExited(t, EXIT.HLT, GUEST_CODE + 8);
  assert.equal(reg64(t.cpu, RBX), 5n);
  assert.equal(t.mem.read32(VAPIC + 0x80), 0x90);
  assert.equal(t.cpu.cr8, 3, 'the real TPR is not the guest\'s');
});

test('MOV to CR8 below the TPR threshold: trap-like VM exit 43 after the instruction, qualification 0', () => {
  const t = tprSetup(6, 0x80);
  setReg64(t.cpu, RAX, 7n);
  // 44 0f 22 c0   mov cr8, rax   (7 ≥ 6: no exit)
  // b0 05         mov al, 5
  // 44 0f 22 c0   mov cr8, rax   (5 < 6: exit, RIP past it)
  // f4            hlt
  guest(t, '44 0f 22 c0 b0 05 44 0f 22 c0 f4');
  launch(t);
  assertExited(t, EXIT.TPR_BELOW_THRESHOLD, GUEST_CODE + 10);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0);
  assert.equal(t.mem.read32(VAPIC + 0x80), 0x50, 'VTPR written before the exit');
  // VTPR (5) is now below the threshold (6): VMRESUME fails its check (§26.2.1.1) until the
  // host lowers the threshold, as a hypervisor does; then the guest goes on past the MOV
  resume(t);
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), 7);
  wr(t, F.TPR_THRESHOLD, 5);
  resume(t);
  assertExited(t, EXIT.HLT, GUEST_CODE + 10);
});

test('CR8-load/-store exiting take priority over the TPR shadow; reserved bits still #GP first in the shadow path', () => {
  const t = tprSetup(0, 0x40);
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_CR8_LOAD | PROC_CR8_STORE);
  setReg64(t.cpu, RAX, 2n);
  guest(t, '44 0f 22 c0 f4'); // mov cr8, rax ; hlt
  launch(t);
  assertExited(t, EXIT.CR_ACCESS, GUEST_CODE);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 8); // CR8, MOV to CR, RAX
  assert.equal(t.mem.read32(VAPIC + 0x80), 0x40);

  const u = tprSetup(0, 0x40);
  wr(u, F.EXCEPTION_BITMAP, 1 << 13);
  setReg64(u.cpu, RAX, 0x10n);
  guest(u, '44 0f 22 c0 f4'); // mov cr8, rax (bit 4 set: #GP)
  launch(u);
  assertExited(u, EXIT.EXCEPTION_NMI, GUEST_CODE);
  assert.equal(rd32(u, F.VM_EXIT_INTR_INFO) & 0xff, 13);
  assert.equal(u.mem.read32(VAPIC + 0x80), 0x40);
});

test('VM entry: TPR threshold[3:0] above VTPR[7:4] fails with VMfailValid(7); equal passes', () => {
  const t = tprSetup(5, 0x40);
  guest(t, 'f4');
  launch(t);
  assert.equal(t.cpu.vmx.nonRoot, false);
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), 7);
  t.mem.write32(VAPIC + 0x80, 0x50);
  launch(t);
  assertExited(t, EXIT.HLT, GUEST_CODE);
});
