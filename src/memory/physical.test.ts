import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory, HIGH_RAM_BASE, LOW_RAM_LIMIT } from './physical.js';
import { makeCpu, run, setReg64 } from '../cpu/testing.js';
import { PT_BASE } from '../cpu/testing.js';

test('RAM up to 3 GiB sits at 0; the rest above 4 GiB; the hole is MMIO', () => {
  const small = new PhysicalMemory(1 << 20);
  assert.deepEqual(small.regions(), [[0, 1 << 20]]);
  assert.equal(small.ramIndex(0xff000, 0x1000), 0xff000);
  assert.equal(small.ramIndex(0xff000, 0x1001), -1);

  const big = new PhysicalMemory(LOW_RAM_LIMIT + (8 << 20)); // 3 GiB + 8 MiB (the host buffer is committed lazily)
  assert.deepEqual(big.regions(), [[0, LOW_RAM_LIMIT], [HIGH_RAM_BASE, 8 << 20]]);
  assert.equal(big.isRam(LOW_RAM_LIMIT, 1), false, 'the 3-4 GiB hole is not RAM');
  assert.equal(big.read32(0xfec00000) >>> 0, 0xffffffff, 'unclaimed hole floats');
  big.write32(HIGH_RAM_BASE + 4, 0x12345678);
  assert.equal(big.read32(HIGH_RAM_BASE + 4), 0x12345678);
  assert.equal(big.view.getInt32(LOW_RAM_LIMIT + 4, true), 0x12345678, 'stored right after low RAM in the buffer');
  assert.equal(big.isRam(HIGH_RAM_BASE + (8 << 20) - 4, 4), true);
  assert.equal(big.isRam(HIGH_RAM_BASE + (8 << 20) - 2, 4), false);
  assert.throws(() => new PhysicalMemory(2 ** 32 + 4096), /above 4 GiB/);
});

test('the CPU reaches RAM above 4 GiB through paging (TLB holds the RAM index)', () => {
  const t = makeCpu('long64', LOW_RAM_LIMIT + (4 << 20));
  // PDPT[1] -> a PD whose entry 0 maps linear 1 GiB to physical 4 GiB with a 2 MiB page
  const pd2 = PT_BASE + 0x3000;
  t.mem.write32(PT_BASE + 0x1000 + 8, pd2 | 7);
  t.mem.write32(pd2, 0x87);
  t.mem.write32(pd2 + 4, 1);
  setReg64(t.cpu, 0, 0xcafef00dn);
  setReg64(t.cpu, 3, 0x40000010n);
  run(t, '89 03 8b 0b'); // mov [rbx], eax; mov ecx, [rbx]
  assert.equal(t.mem.read32(HIGH_RAM_BASE + 0x10) >>> 0, 0xcafef00d);
  assert.equal(t.cpu.getReg32(1) >>> 0, 0xcafef00d);
});
