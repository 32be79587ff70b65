import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HIGH_RAM_BASE, LOW_RAM_LIMIT } from '../memory/physical.js';
import { makeCpu, run, setReg64, PT_BASE } from './testing.js';

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
