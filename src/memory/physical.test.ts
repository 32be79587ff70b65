import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory, HIGH_RAM_BASE, LOW_RAM_LIMIT } from './physical.js';

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
