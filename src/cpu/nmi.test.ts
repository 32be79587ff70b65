/**
 * NMI delivery and blocking (SDM Vol. 3A §6.7.1): an NMI blocks further NMIs until the
 * next IRET; a pending, blocked NMI neither is delivered nor ends a HLT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex } from './testing.js';
import { makeSystem, place, step, UCODE } from './ops/gdtkit.js';
import { STOP_HALT } from './cpu.js';
import { CS } from './regs.js';

test('NMI: vector 2 through the IVT, blocked until IRET, and a blocked NMI does not wake HLT', () => {
  const t = makeSystem('real', 0);
  const { cpu, mem } = t;
  mem.write32(2 * 4, (0x0200 << 16) | 0x0010); // NMI handler at 0200:0010 = linear 0x2010
  place(t, 0x2010, hex('fe 06 00 05 ; inc byte [0x500]\n f4 ; hlt\n cf ; iret'));
  place(t, UCODE, hex('f4 ; hlt\n f4 ; hlt'));
  cpu.setSegReal(CS, 0x1000);
  cpu.nmiPending = true;
  assert.equal(step(t, 10, 0), STOP_HALT, 'delivered at once (IF plays no part), then the handler halts');
  assert.equal(mem.read8(0x500), 1);
  assert.equal(cpu.nmiBlocked, true);
  cpu.nmiPending = true;
  assert.equal(cpu.run(10), STOP_HALT, 'the second NMI is held: the handler stays halted');
  assert.equal(mem.read8(0x500), 1);
  assert.equal(cpu.nmiPending, true);
  cpu.halted = false; // something else (an INIT-less wake-up) resumes the handler: IRET unblocks
  assert.equal(cpu.run(10), STOP_HALT);
  assert.equal(mem.read8(0x500), 2, 'the held NMI is taken right after IRET');
  assert.equal(cpu.nmiPending, false);
});
