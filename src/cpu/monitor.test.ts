/**
 * MONITOR/MWAIT (src/cpu/monitor.ts): CPUID enumeration, the faults of SDM Vol. 2B
 * MONITOR/MWAIT, the sleep and its wake-ups, and the VM exits of Vol. 3C §25.1.3.
 * Encodings from GNU as:
 *   0f 01 c8     monitor %rax,%ecx,%edx
 *   67 0f 01 c8  monitor %eax,%ecx,%edx
 *   0f 01 c9     mwait   %eax,%ecx
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, CODE, type TestCpu } from './testing.js';
import { amdProfile, defaultProfile, cpuidLeaf, F1C_MONITOR } from './profile.js';
import { RAX, RCX, RDX, CS, SS, DS, IF } from './regs.js';
import { STOP_HALT } from './cpu.js';
import { mwaitPoll, monitorArmed, inMwait } from './monitor.js';
import { F } from './vmx/vmcs-fields.js';
import { EXIT } from './vmx/vmexit.js';
import { vmxSetup, guest, launch, resume, rd, rd32, or32, assertExited, raiseIrq, GUEST_CODE } from './vmx/testkit.js';

const MONITOR = '0f 01 c8', MWAIT = '0f 01 c9';
const LINE = 0x3000;

function cpuid(leaf: number, amd = false): number[] {
  const out = new Int32Array(4);
  cpuidLeaf(amd ? amdProfile() : defaultProfile(), leaf, 0, { exposeVmx: false, apicId: 0, cr4Osxsave: false, hasLapic: true, apicEnabled: true }, out);
  return [...out].map((v) => v >>> 0);
}

/** MONITOR on LINE+0x10 (ECX = EDX = 0), then MWAIT with ECX = `ecx`. */
function arm(t: TestCpu, ecx = 0): void {
  setReg64(t.cpu, RAX, BigInt(LINE + 0x10));
  setReg64(t.cpu, RCX, 0n);
  setReg64(t.cpu, RDX, 0n);
  run(t, MONITOR);
  assert.deepEqual(t.exceptions, [], 'MONITOR raised nothing');
  assert.equal(monitorArmed(t.cpu), true);
  setReg64(t.cpu, RCX, BigInt(ecx));
}

/** Runs MWAIT ; inc ebx (ff c3) ; hlt — sleeps at RIP = CODE + 3 when the monitor holds. */
function mwaitThenInc(t: TestCpu): void {
  t.mem.load(CODE, Uint8Array.from([0x0f, 0x01, 0xc9, 0xff, 0xc3, 0xf4]));
  t.cpu.rip = CODE; t.cpu.halted = false;
  assert.equal(t.cpu.run(100), STOP_HALT);
}

test('CPUID.1:ECX.MONITOR on Intel and AMD; leaf 5: 64-byte lines, ECX extensions and break-on-interrupt', () => {
  assert.notEqual(cpuid(1)[2]! & F1C_MONITOR, 0);
  assert.notEqual(cpuid(1, true)[2]! & F1C_MONITOR, 0);
  assert.deepEqual(cpuid(5), [64, 64, 3, 0]);
});

test('MWAIT sleeps until another agent stores to the monitored line, then continues past it', () => {
  const t = makeCpu('long64');
  arm(t);
  mwaitThenInc(t);
  assert.equal(t.cpu.halted, true);
  assert.equal(t.cpu.rip, CODE + 3, 'asleep right after MWAIT');
  assert.equal(inMwait(t.cpu), true);
  assert.equal(mwaitPoll(t.cpu), false, 'nothing happened yet');
  t.mem.write32(LINE + 0x3c, 0x1234); // another CPU or DMA writes the same 64-byte line
  assert.equal(mwaitPoll(t.cpu), true);
  assert.equal(t.cpu.halted, false);
  assert.equal(monitorArmed(t.cpu), false, 'the wake consumed the monitor');
  t.cpu.run(100);
  assert.equal(t.cpu.r[6], 1, 'inc ebx ran'); // RBX = 3 → r[6]
  assert.equal(t.cpu.rip, CODE + 6);
});

test('stores to other pages do not wake; a store of the same value does; a store before MWAIT makes MWAIT a no-op', () => {
  const t = makeCpu('long64');
  arm(t);
  mwaitThenInc(t);
  t.mem.write32(LINE + 0x1000, 7); // next page
  t.mem.write32(LINE - 4, 7); // previous page
  assert.equal(mwaitPoll(t.cpu), false);
  assert.equal(t.cpu.halted, true);
  t.mem.write8(LINE + 0x10, t.mem.read8(LINE + 0x10)); // rewrites the byte already there: still a store
  assert.equal(mwaitPoll(t.cpu), true);

  // a store elsewhere in the line's 4K page ends the wait early (an implementation-dependent
  // event, SDM Vol. 2B MWAIT); the guest's idle loop re-checks its condition
  const w = makeCpu('long64');
  arm(w);
  mwaitThenInc(w);
  w.mem.write32(LINE + 0x800, 0);
  assert.equal(mwaitPoll(w.cpu), true);

  // the CPU's own store through its TLB between MONITOR and MWAIT, same value as before:
  //   89 08        mov DWORD PTR [rax], ecx   (RAX = LINE + 0x10, ECX = 0: memory already 0)
  //   0f 01 c9     mwait
  const v = makeCpu('long64');
  arm(v);
  run(v, '89 08 ' + MWAIT);
  assert.deepEqual(v.exceptions, []);
  assert.equal(v.cpu.rip, CODE + 6, 'MWAIT returned at once, ran into the HLT');
  assert.equal(inMwait(v.cpu), false);

  const u = makeCpu('long64');
  arm(u);
  u.mem.write8(LINE, 0x55); // between MONITOR and MWAIT: the monitor has triggered
  assert.equal(monitorArmed(u.cpu), false);
  mwaitThenInc(u);
  assert.equal(u.cpu.rip, CODE + 6, 'ran through to the HLT');
  assert.equal(u.cpu.r[6], 1);
});

test('MWAIT without MONITOR returns at once; a second MWAIT after a wake needs a new MONITOR', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RCX, 0n);
  mwaitThenInc(t);
  assert.equal(t.cpu.rip, CODE + 6);
  arm(t);
  mwaitThenInc(t);
  t.mem.write8(LINE + 1, 9);
  assert.equal(mwaitPoll(t.cpu), true);
  mwaitThenInc(t);
  assert.equal(t.cpu.rip, CODE + 6, 'no armed monitor: no wait');
});

test('MWAIT ECX bit 0: a masked interrupt ends the wait (IF = 0) and stays pending; without it it does not', () => {
  const t = makeCpu('long64');
  t.cpu.flags &= ~IF;
  arm(t, 1);
  mwaitThenInc(t);
  assert.equal(t.cpu.rip, CODE + 3);
  t.cpu.irqPending = true;
  assert.equal(mwaitPoll(t.cpu), true);
  assert.equal(t.cpu.irqPending, true, 'still pending: IF = 0 masks its delivery');

  const u = makeCpu('long64');
  u.cpu.flags &= ~IF;
  arm(u, 0);
  mwaitThenInc(u);
  u.cpu.irqPending = true;
  assert.equal(mwaitPoll(u.cpu), false);
  assert.equal(u.cpu.halted, true);
});

test('a HLT after an MWAIT that an interrupt ended is not woken by stores to the old line', () => {
  const t = makeCpu('long64');
  arm(t);
  mwaitThenInc(t);
  t.cpu.halted = false; // woken as HLT is (interrupt with IF = 1), then runs on
  t.cpu.run(100); // inc ebx ; hlt
  assert.equal(t.cpu.halted, true);
  t.mem.write8(LINE, 1);
  assert.equal(inMwait(t.cpu), false);
  assert.equal(mwaitPoll(t.cpu), false);
  assert.equal(t.cpu.halted, true);
});

test('reserved ECX: MONITOR with ECX ≠ 0 and MWAIT with ECX bit 1 are #GP(0)', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, BigInt(LINE));
  setReg64(t.cpu, RCX, 1n);
  run(t, MONITOR);
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(monitorArmed(t.cpu), false);
  setReg64(t.cpu, RCX, 2n);
  run(t, MWAIT);
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('MONITOR checks DS:rAX as a byte read: non-canonical #GP(0), unmapped #PF, address size 32 with 67', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RCX, 0n);
  setReg64(t.cpu, RAX, 0x0000800000000000n);
  run(t, MONITOR);
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  setReg64(t.cpu, RAX, 0x40001000n); // the test identity map covers 1 GiB
  run(t, MONITOR);
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
  assert.equal(t.cpu.cr2, 0x40001000);
  // 67 0f 01 c8  monitor %eax,%ecx,%edx: the high half of RAX is ignored
  setReg64(t.cpu, RAX, 0xffff000000000000n | BigInt(LINE));
  run(t, '67 ' + MONITOR);
  assert.deepEqual(t.exceptions, []);
  assert.equal(monitorArmed(t.cpu), true);
});

test('MONITOR in protected mode: DS limit violation is #GP(0), SS override beyond its limit #SS(0)', () => {
  const t = makeCpu('prot32');
  setReg64(t.cpu, RCX, 0n);
  t.cpu.setSegCache(DS, 0x10, 0, 0xfff, 0xc093);
  t.cpu.setReg32(RAX, 0x2000);
  run(t, MONITOR);
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  t.cpu.setSegCache(SS, 0x10, 0, 0xfff, 0xc093);
  run(t, '36 ' + MONITOR); // ss monitor
  assert.deepEqual(t.exceptions.pop(), [12, 0]);
});

test('#UD at CPL 3 and with IA32_MISC_ENABLE.MONITOR_FSM (bit 18) clear', () => {
  const t = makeCpu('long64');
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
  setReg64(t.cpu, RAX, BigInt(LINE)); setReg64(t.cpu, RCX, 0n);
  run(t, MONITOR);
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  run(t, MWAIT);
  assert.deepEqual(t.exceptions.pop(), [6, 0]);

  const u = makeCpu('long64');
  // wrmsr IA32_MISC_ENABLE = 1 (fast strings only, bit 18 clear)
  u.cpu.setReg32(RCX, 0x1a0); u.cpu.setReg32(RAX, 1); u.cpu.setReg32(RDX, 0);
  run(u, '0f 30');
  assert.deepEqual(u.exceptions, []);
  setReg64(u.cpu, RAX, BigInt(LINE)); setReg64(u.cpu, RCX, 0n);
  run(u, MONITOR);
  assert.deepEqual(u.exceptions.pop(), [6, 0]);
});

test('VMX: MONITOR exiting (39) and MWAIT exiting (36) with qualification bit 0 = monitor armed', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, (1 << 29) | (1 << 10));
  setReg64(t.cpu, RAX, 0x3000n); setReg64(t.cpu, RCX, 0n);
  guest(t, MONITOR);
  launch(t);
  assertExited(t, EXIT.MONITOR, GUEST_CODE);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 3);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0);
  assert.equal(monitorArmed(t.cpu), false, 'the exiting MONITOR armed nothing');
  guest(t, MWAIT);
  resume(t);
  assertExited(t, EXIT.MWAIT, GUEST_CODE);
  assert.equal(rd32(t, F.VM_EXIT_INSTRUCTION_LEN), 3);
  assert.equal(rd(t, F.EXIT_QUALIFICATION), 0, 'not armed');

  const u = vmxSetup();
  or32(u, F.CPU_BASED_VM_EXEC_CONTROL, 1 << 10); // MWAIT exiting only: MONITOR runs in the guest
  setReg64(u.cpu, RAX, 0x3000n); setReg64(u.cpu, RCX, 0n);
  guest(u, MONITOR + ' ' + MWAIT);
  launch(u);
  assertExited(u, EXIT.MWAIT, GUEST_CODE + 3);
  assert.equal(rd(u, F.EXIT_QUALIFICATION), 1, 'armed');
});

test('VMX: MWAIT without exiting sleeps in the guest until a store to the line', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, 1 << 7); // HLT exiting: the HLT after the wake exits
  setReg64(t.cpu, RAX, 0x3000n); setReg64(t.cpu, RCX, 0n);
  guest(t, MONITOR + ' ' + MWAIT + ' f4'); // monitor ; mwait ; hlt
  launch(t);
  assert.equal(t.cpu.vmx.nonRoot, true, 'still in the guest');
  assert.equal(t.cpu.halted, true);
  assert.equal(mwaitPoll(t.cpu), false);
  t.mem.write8(0x3020, 1); // the guest's line (identity EPT-less mapping)
  assert.equal(mwaitPoll(t.cpu), true);
  t.cpu.run(100);
  assertExited(t, EXIT.HLT, GUEST_CODE + 6);
});

test('VMX: an external interrupt ends L2\'s MWAIT with exit 1, activity state saved active (§24.4.2), RIP after MWAIT', () => {
  const t = vmxSetup();
  or32(t, F.PIN_BASED_VM_EXEC_CONTROL, 1); // external-interrupt exiting
  setReg64(t.cpu, RAX, 0x3000n); setReg64(t.cpu, RCX, 0n);
  guest(t, MONITOR + ' ' + MWAIT + ' 90'); // monitor ; mwait ; nop
  launch(t);
  assert.equal(t.cpu.vmx.nonRoot, true);
  assert.equal(t.cpu.halted, true);
  raiseIrq(t, 0x50);
  t.cpu.run(100);
  assertExited(t, EXIT.EXTERNAL_INTERRUPT, GUEST_CODE + 6);
  assert.equal(rd32(t, F.GUEST_ACTIVITY_STATE), 0, 'MWAIT is never saved as HLT');

  const u = vmxSetup(); // the same with HLT: saved as HLT (1)
  or32(u, F.PIN_BASED_VM_EXEC_CONTROL, 1);
  guest(u, 'f4 90'); // hlt ; nop
  launch(u);
  raiseIrq(u, 0x50);
  u.cpu.run(100);
  assertExited(u, EXIT.EXTERNAL_INTERRUPT, GUEST_CODE + 1);
  assert.equal(rd32(u, F.GUEST_ACTIVITY_STATE), 1);
});

test('VMX: the monitor trap flag exits after a sleeping MWAIT with RIP past it and activity state active', () => {
  const t = vmxSetup();
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, 1 << 27); // monitor trap flag
  setReg64(t.cpu, RAX, 0x3000n); setReg64(t.cpu, RCX, 0n);
  guest(t, MONITOR + ' ' + MWAIT + ' 90'); // monitor ; mwait ; nop
  launch(t);
  assertExited(t, EXIT.MTF, GUEST_CODE + 3);
  assert.equal(monitorArmed(t.cpu), true, 'L2\'s MONITOR armed the line');
  resume(t);
  assertExited(t, EXIT.MTF, GUEST_CODE + 6);
  assert.equal(rd32(t, F.GUEST_ACTIVITY_STATE), 0);
});
