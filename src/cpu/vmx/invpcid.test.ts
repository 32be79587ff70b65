/**
 * INVPCID in VMX non-root operation (SDM Vol. 3C §25.3, Table 27-14): #UD unless "enable
 * INVPCID"; with it and "INVLPG exiting", a VM exit with reason 58, the instruction length
 * and INVEPT-format instruction information (register operand in bits 31:28). RDPID is #UD
 * without "enable RDTSCP" (§25.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RCX } from '../regs.js';
import { F } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PROC_SECONDARY } from './capabilities.js';
import { vmxSetup, guest, launch, rd32, wr, or32, assertExited, GUEST_CODE } from './testkit.js';

const PROC_INVLPG = 1 << 9, PROC2_INVPCID = 1 << 12;
// 48 b8 00 70 00 00 00 00 00 00   movabs rax, 0x7000   (a zero descriptor: PCID 0, address 0)
// 31 c9                           xor ecx, ecx
// 66 0f 38 82 08                  invpcid rcx, [rax]
// 0f a2                           cpuid
const CODE = '48 b8 00 70 00 00 00 00 00 00 31 c9 66 0f 38 82 08 0f a2';

test('INVPCID without "enable INVPCID" is #UD in the guest', () => {
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 6);
  guest(t, CODE);
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE + 12);
  assert.equal(rd32(t, F.VM_EXIT_INTR_INFO), (0x80000000 | (3 << 8) | 6) >>> 0);
});

test('INVPCID with "enable INVPCID" runs; with INVLPG exiting too it exits (reason 58)', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY);
  or32(t, F.SECONDARY_VM_EXEC_CONTROL, PROC2_INVPCID);
  guest(t, CODE);
  launch(t);
  assertExited(t, EXIT.CPUID, GUEST_CODE + 17); // INVPCID (type 0, address 0) executed

  const u = vmxSetup();
  or32(u, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY | PROC_INVLPG);
  or32(u, F.SECONDARY_VM_EXEC_CONTROL, PROC2_INVPCID);
  guest(u, CODE);
  launch(u);
  assertExited(u, EXIT.INVPCID, GUEST_CODE + 12);
  assert.equal(rd32(u, F.VM_EXIT_INSTRUCTION_LEN), 5);
  assert.equal((rd32(u, F.VMX_INSTRUCTION_INFO) >>> 28) & 0xf, RCX);
});

test('RDPID in the guest is #UD without "enable RDTSCP", runs with it', () => {
  const PROC2_RDTSCP = 1 << 3;
  const t = vmxSetup();
  wr(t, F.EXCEPTION_BITMAP, 1 << 6);
  guest(t, 'f3 0f c7 f8 0f a2'); // rdpid rax ; cpuid
  launch(t);
  assertExited(t, EXIT.EXCEPTION_NMI, GUEST_CODE);
  const u = vmxSetup();
  wr(u, F.EXCEPTION_BITMAP, 1 << 6);
  or32(u, F.CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY);
  or32(u, F.SECONDARY_VM_EXEC_CONTROL, PROC2_RDTSCP);
  guest(u, 'f3 0f c7 f8 0f a2');
  launch(u);
  assertExited(u, EXIT.CPUID, GUEST_CODE + 4);
});
