/**
 * The TSC stays exact to the tick modulo 2^64 (tsc.ts), also beyond 2^53 where a double
 * cannot hold it: after WRMSR TSC = 0x1234567890abcdef, an L2 RDTSC under a TSC offset
 * of -TSC and the IA32_TSC value the VM-exit MSR-store area saves differ by the ticks of
 * the instructions in between, as on hardware (SDM Vol. 3C §25.3 TSC offsetting, §27.4;
 * kvm-unit-tests rdtsc_vmexit_diff_test after atomic_switch_max_msrs_test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAX, RDX } from '../regs.js';
import { reg64 } from '../testing.js';
import { readTsc, writeTsc, addTscOffset, subTscOffset, tscPerInstruction } from '../tsc.js';
import { F, vmcsSet } from './vmcs-fields.js';
import { EXIT } from './vmexit.js';
import { PROC_TSC_OFFSET } from './capabilities.js';
import { vmxSetup, guest, launch, wr, or32, assertExited, MSR_AREA, GUEST_CODE } from './testkit.js';

const MSR_TSC = 0x10;
const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
function tsc(cpu: Parameters<typeof readTsc>[0]): bigint { const lo = readTsc(cpu); return big(lo, cpu.hi); }

test('a TSC written beyond 2^53 reads back exactly and counts by single instructions', () => {
  const t = vmxSetup();
  writeTsc(t.cpu, 0x90abcdef | 0, 0x12345678);
  assert.equal(tsc(t.cpu), 0x1234567890abcdefn);
  t.cpu.instructionCount += 3;
  assert.equal(tsc(t.cpu), 0x1234567890abcdefn + 3n * BigInt(tscPerInstruction(t.cpu)));
  // adding and removing a 64-bit offset (VM entry / exit) is exact, with wrap-around
  const before = tsc(t.cpu);
  addTscOffset(t.cpu, 0x6f543211, 0xedcba987 | 0); // -0x1234567890abcdef
  assert.equal(tsc(t.cpu), (before - 0x1234567890abcdefn) & 0xffffffffffffffffn);
  subTscOffset(t.cpu, 0x6f543211, 0xedcba987 | 0);
  assert.equal(tsc(t.cpu), before);
  writeTsc(t.cpu, -1, -1);
  assert.equal(tsc(t.cpu), 0xffffffffffffffffn);
  t.cpu.instructionCount += 1;
  assert.equal(tsc(t.cpu), BigInt(tscPerInstruction(t.cpu)) - 1n, 'wraps modulo 2^64');
});

test('L2 RDTSC and the VM-exit MSR-store TSC agree to the tick with a large TSC and offset', () => {
  const t = vmxSetup();
  writeTsc(t.cpu, 0x90abcdef | 0, 0x12345678);
  const host = tsc(t.cpu);
  const off = (-host) & 0xffffffffffffffffn;
  or32(t, F.CPU_BASED_VM_EXEC_CONTROL, PROC_TSC_OFFSET);
  vmcsSet(t.cpu.vmx.cache, F.TSC_OFFSET, Number(off & 0xffffffffn) | 0, Number(off >> 32n) | 0);
  t.mem.write32(MSR_AREA, MSR_TSC); t.mem.write32(MSR_AREA + 4, 0);
  wr(t, F.VM_EXIT_MSR_STORE_ADDR, MSR_AREA); wr(t, F.VM_EXIT_MSR_STORE_COUNT, 1);
  guest(t, '0f 31 0f 01 c1'); // rdtsc ; vmcall
  launch(t);
  assertExited(t, EXIT.VMCALL, GUEST_CODE + 2);
  const guestTsc = (reg64(t.cpu, RDX) << 32n) | (reg64(t.cpu, RAX) & 0xffffffffn);
  const stored = big(t.mem.read32(MSR_AREA + 8), t.mem.read32(MSR_AREA + 12));
  const delta = (stored + off - guestTsc) & 0xffffffffffffffffn;
  assert.ok(delta < 1000n, `delta ${delta}`);
  assert.ok(guestTsc < 1000n, `guest TSC starts near 0: ${guestTsc}`);
});

