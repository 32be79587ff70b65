// The board's INITs keep what SDM Vol. 3A Table 9-1's INIT column keeps (cpu/init-signal.ts):
// an INIT IPI to an AP and a soft reset (INIT# to every processor: port 0x92, the 8042)
// leave XMM/YMM, MXCSR, the x87 registers and XCR0 alone; a hard reset (0xCF9) clears them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcMachine } from './pc.js';
import type { Cpu } from '../cpu/cpu.js';

function machine(): PcMachine {
  return new PcMachine({ memoryBytes: 4 << 20, cpuCount: 2, serialOut: () => {}, realTimeIdle: false });
}

/** Vector and x87 state a guest could have left: xmm5 = 0x11..., ymm5's upper half, MXCSR, ST(7), XCR0. */
function dirty(c: Cpu): void {
  c.fpu.xmm.fill(0x11111111, 20, 24);
  c.fpu.ymmh.fill(0x22222222, 20, 24);
  c.fpu.mxcsr = 0x9fc0;
  c.fpu.se[7] = 0x3fff; c.fpu.mant[15] = 0x80000000 | 0; c.fpu.fcw = 0x27f;
  c.xcr0 = 7;
}

function kept(c: Cpu): boolean {
  return c.fpu.xmm[20] === 0x11111111 && c.fpu.ymmh[23] === 0x22222222 && c.fpu.mxcsr === 0x9fc0 &&
    c.fpu.se[7] === 0x3fff && c.fpu.mant[15] === (0x80000000 | 0) && c.fpu.fcw === 0x27f && c.xcr0 === 7;
}

test('INIT IPI to an AP: parked for a SIPI in real mode with its x87/XMM/YMM/MXCSR/XCR0 kept', () => {
  const m = machine();
  const ap = m.vcpus.cpus[1]!;
  m.vcpus.startup(1, 0x10);
  assert.equal(m.vcpus.waitingForSipi[1], false);
  dirty(ap);
  ap.rip = 0x1234;
  m.vcpus.init(1);
  assert.equal(m.vcpus.waitingForSipi[1], true);
  assert.equal(ap.rip, 0xfff0);
  assert.equal(kept(ap), true);
});

test('soft reset (INIT#) keeps the vector state; hard reset (RESET) clears it', () => {
  const m = machine();
  const bsp = m.vcpus.cpus[0]!;
  dirty(bsp);
  m.boardReset.request('soft');
  m.boardReset.apply();
  assert.equal(bsp.rip, 0xfff0);
  assert.equal(kept(bsp), true);
  m.boardReset.request('hard');
  m.boardReset.apply();
  assert.equal(bsp.rip, 0xfff0);
  assert.deepEqual([bsp.fpu.xmm[20], bsp.fpu.ymmh[23], bsp.fpu.mxcsr, bsp.fpu.fcw, bsp.xcr0], [0, 0, 0x1f80, 0x40, 1]);
});
