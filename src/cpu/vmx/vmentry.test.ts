/**
 * VMLAUNCH / VMRESUME (SDM Vol. 3C §30.3, Chapter 26) through the opcode table: the
 * instruction checks, the three check steps' outcomes, guest-state loading, the MSR-load
 * area, event injection, and VM-entry failures that load host state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STOP_HALT } from '../cpu.js';
import { RAX, RBX, CS, SS } from '../regs.js';
import { reg64, setReg64 } from '../testing.js';
import { F, VMCS_OFF_LAUNCH_STATE } from './vmcs-fields.js';
import { VMX_ERR } from './instructions.js';
import { INVALID_PTR } from './vmx-state.js';
import { EXIT } from './vmexit.js';
import { vmxSetup, guest, launch, resume, rd, rd32, wr, or32, assertExited, exec, GUEST_CODE, GUEST_STACK, HOST_CODE, MSR_AREA, IDT, VMCS } from './testkit.js';
import { PROC_MTF } from './capabilities.js';

function flags(t: ReturnType<typeof vmxSetup>): number { return t.cpu.getFlags() & 0x8d5; }

test('VMLAUNCH enters the guest: registers, RIP/RSP/RFLAGS and segments come from the VMCS', () => {
  const t = vmxSetup();
  // 48 c7 c0 2a 00 00 00   mov rax, 42
  // 0f a2                  cpuid  (exits unconditionally)
  guest(t, '48 c7 c0 2a 00 00 00 0f a2');
  wr(t, F.GUEST_RFLAGS, 0x202 | 0x1); // IF and CF
  assert.equal(launch(t), STOP_HALT);
  assertExited(t, EXIT.CPUID, GUEST_CODE + 7);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 2);
  assert.equal(reg64(t.cpu, RAX), 42n, 'guest GPRs stay in the CPU across the exit');
  assert.equal(rd(t, F.GUEST_RSP), GUEST_STACK);
  assert.equal(rd(t, F.GUEST_RFLAGS) & 0x203, 0x203);
  assert.equal(t.cpu.getFlags(), 2, 'host RFLAGS = 2 after a VM exit');
  assert.equal(t.cpu.segSel[CS], 0x08);
  assert.equal(t.cpu.cpl, 0);
  assert.equal(t.cpu.mem.read32(0) === undefined, false);
  assert.equal(t.cpu.vmx.cache[VMCS_OFF_LAUNCH_STATE >> 2], 1, 'launch state = launched');
});

test('VMRESUME continues after the exiting instruction once L1 advances the guest RIP', () => {
  const t = vmxSetup();
  // 0f a2 cpuid ; 48 ff c0 inc rax ; 0f 01 c1 vmcall
  guest(t, '0f a2 48 ff c0 0f 01 c1');
  launch(t);
  assertExited(t, EXIT.CPUID, GUEST_CODE);
  wr(t, F.GUEST_RIP, rd(t, F.GUEST_RIP) + rd32(t, F.VM_EXIT_INSTRUCTION_LEN));
  setReg64(t.cpu, RAX, 5n);
  assert.equal(resume(t), STOP_HALT);
  assertExited(t, EXIT.VMCALL, GUEST_CODE + 5);
  assert.equal(reg64(t.cpu, RAX), 6n);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 3);
});

test('VMLAUNCH of a launched VMCS fails with error 4; VMRESUME of a clear one with error 5', () => {
  const t = vmxSetup();
  resume(t);
  assert.equal(flags(t), 0x40);
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), VMX_ERR.VMRESUME_NONLAUNCHED_VMCS);
  guest(t, '0f a2');
  launch(t);
  assertExited(t, EXIT.CPUID);
  launch(t);
  assert.equal(flags(t), 0x40);
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), VMX_ERR.VMLAUNCH_NONCLEAR_VMCS);
});

test('VMLAUNCH without a current VMCS is VMfailInvalid; at CPL 3 #GP; outside VMX #UD', () => {
  const t = vmxSetup();
  exec(t, '66 0f c7 30', VMCS); // vmclear QWORD PTR [rax]
  assert.equal(t.cpu.vmx.currentVmcs, INVALID_PTR);
  launch(t);
  assert.equal(flags(t), 0x01);
  exec(t, '0f 01 c4'); // vmxoff
  launch(t);
  assert.deepEqual(t.exceptions.map((e) => e[0]), [6]);
});

test('control-field and host-state check failures are VMfailValid(7) / (8) and stay in the host', () => {
  const t = vmxSetup();
  wr(t, F.PIN_BASED_VM_EXEC_CONTROL, 0);
  launch(t);
  assert.equal(flags(t), 0x40);
  assert.equal(rd32(t, F.VM_INSTRUCTION_ERROR), VMX_ERR.ENTRY_INVALID_CONTROL_FIELDS);
  const u = vmxSetup();
  wr(u, F.HOST_TR_SELECTOR, 0);
  launch(u);
  assert.equal(rd32(u, F.VM_INSTRUCTION_ERROR), VMX_ERR.ENTRY_INVALID_HOST_STATE);
  assert.equal(u.cpu.rip, 0x10000 + 4, 'continues after VMLAUNCH (past the HLT that follows it)');
});

test('an invalid guest state is a VM-entry failure: reason 33 | bit 31, host state loaded', () => {
  const t = vmxSetup();
  wr(t, F.GUEST_RFLAGS, 0); // bit 1 must be 1
  guest(t, '0f a2');
  assert.equal(launch(t), STOP_HALT);
  assertExited(t, (EXIT.ENTRY_FAIL_GUEST | 0x80000000) >>> 0);
  assert.equal(t.cpu.vmx.cache[VMCS_OFF_LAUNCH_STATE >> 2], 0, 'a failed VMLAUNCH leaves the VMCS clear');
});

test('VM-entry MSR-load area: loads MSRs; a bad entry fails with reason 34 and its number', () => {
  const t = vmxSetup();
  // entry 1: IA32_SYSENTER_ESP = 0x1234; entry 2: IA32_KERNEL_GS_BASE = 0x5000
  t.mem.write32(MSR_AREA, 0x175); t.mem.write32(MSR_AREA + 8, 0x1234);
  t.mem.write32(MSR_AREA + 16, 0xc0000102); t.mem.write32(MSR_AREA + 24, 0x5000);
  wr(t, F.VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA); wr(t, F.VM_ENTRY_MSR_LOAD_COUNT, 2);
  // 0f 32 rdmsr (exits: no MSR bitmaps)
  guest(t, '0f 32');
  setReg64(t.cpu, 1, 0x175n);
  launch(t);
  assertExited(t, EXIT.RDMSR, GUEST_CODE);
  assert.equal(rd(t, F.GUEST_SYSENTER_ESP), 0x1234);
  // entry 2 names an MSR that does not exist
  const u = vmxSetup();
  u.mem.write32(MSR_AREA, 0x175); u.mem.write32(MSR_AREA + 16, 0x12345);
  wr(u, F.VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA); wr(u, F.VM_ENTRY_MSR_LOAD_COUNT, 2);
  launch(u);
  assertExited(u, (EXIT.ENTRY_FAIL_MSR | 0x80000000) >>> 0);
  assert.equal(rd(u, F.EXIT_QUALIFICATION), 2);
});

/** A 64-bit interrupt gate for `vector` to `handler` in the guest IDT. */
function gate(t: ReturnType<typeof vmxSetup>, vector: number, handler: number): void {
  const a = IDT + vector * 16;
  t.mem.write32(a, (0x08 << 16) | (handler & 0xffff));
  t.mem.write32(a + 4, (handler & 0xffff0000) | 0x8e00);
  t.mem.write32(a + 8, 0); t.mem.write32(a + 12, 0);
}

test('event injection: a hardware exception with error code is delivered through the guest IDT', () => {
  const t = vmxSetup();
  const handler = GUEST_CODE + 0x100;
  gate(t, 13, handler);
  t.mem.load(handler, Uint8Array.from([0x0f, 0xa2])); // cpuid: exits inside the handler
  guest(t, '90');
  wr(t, F.VM_ENTRY_INTR_INFO, 0x80000000 | (3 << 8) | (1 << 11) | 13);
  wr(t, F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x18);
  launch(t);
  assertExited(t, EXIT.CPUID, handler);
  const rsp = rd(t, F.GUEST_RSP);
  assert.equal(t.mem.read32(rsp), 0x18, 'error code pushed');
  assert.equal(t.mem.read32(rsp + 8), GUEST_CODE, 'return RIP = guest RIP for a hardware exception');
  assert.equal(rd32(t, F.VM_ENTRY_INTR_INFO) >>> 31, 0, 'VM exit clears the valid bit');
});

test('event injection: a software interrupt returns to RIP + VM-entry instruction length', () => {
  const t = vmxSetup();
  const handler = GUEST_CODE + 0x100;
  gate(t, 0x80, handler);
  t.mem.write32(IDT + 0x80 * 16 + 4, (handler & 0xffff0000) | 0xee00); // DPL 3
  t.mem.load(handler, Uint8Array.from([0x0f, 0xa2]));
  wr(t, F.VM_ENTRY_INTR_INFO, 0x80000000 | (4 << 8) | 0x80);
  wr(t, F.VM_ENTRY_INSTRUCTION_LEN, 2);
  launch(t);
  assertExited(t, EXIT.CPUID, handler);
  assert.equal(t.mem.read32(rd(t, F.GUEST_RSP)), GUEST_CODE + 2);
});

test('guest activity state HLT: the guest waits; an injected interrupt wakes it', () => {
  const t = vmxSetup();
  wr(t, F.GUEST_ACTIVITY_STATE, 1);
  guest(t, '0f a2');
  assert.equal(launch(t), STOP_HALT);
  assert.equal(t.cpu.vmx.nonRoot, true, 'halted in the guest');
  assert.equal(t.cpu.halted, true);
  void RBX; void SS; void HOST_CODE;
});

test('monitor trap flag: a fault delivered through the guest IDT exits before the handler\'s first instruction (§25.5.2)', () => {
  const t = vmxSetup();
  const handler = GUEST_CODE + 0x100;
  gate(t, 6, handler);
  t.mem.write8(handler, 0x90); // nop
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_MTF);
  guest(t, '0f 0b'); // ud2: #UD, delivered to the guest's handler
  launch(t);
  assertExited(t, EXIT.MTF, handler);
});

test('injected "other event" (type 7, vector 0): an MTF VM exit before the first guest instruction, with the MTF control clear (§26.6.2)', () => {
  const t = vmxSetup();
  wr(t, F.VM_ENTRY_INTR_INFO, 0x80000000 | (7 << 8));
  guest(t, '48 ff c0'); // inc rax (never runs)
  launch(t);
  assertExited(t, EXIT.MTF, GUEST_CODE);
});
