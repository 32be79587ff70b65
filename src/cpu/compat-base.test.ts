/**
 * Compatibility mode with an FS/GS base written in 64-bit mode (WRMSR IA32_FS_BASE or
 * WRFSBASE): linear addresses are 32 bits there (SDM Vol. 3A §3.4.4, §3.2.4), so a
 * kernel-half base contributes only its low 32 bits. A negative double base once made
 * the emulator's `%`-based wrap give a negative linear address and a spurious #PF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, CODE } from './testing.js';
import { FS, GS, CS } from './regs.js';

const TWO32 = 4294967296;

test('compatibility mode: fs:/gs: with a 64-bit kernel-half base read at (base + offset) mod 2^32', () => {
  const t = makeCpu('long64');
  const c = t.cpu;
  c.setSegCache(CS, 0x18, 0, 0xffffffff, 0xc09b); // L=0, D=1: compatibility mode
  c.updateMode();
  c.segBase[FS] = -TWO32 + 0x2000;                // 0xffffffff_00002000
  c.segBase[GS] = -0x80000000 + 0x3000 - TWO32;   // 0xfffffffe_80003000 -> low half 0x80003000 (beyond RAM)
  t.mem.write32(0x2010, 0x12345678);
  // mov eax, fs:[0x10]; mov ebx, fs:[0xffffe000] (wraps to 0x0000); hlt
  t.mem.write32(0x0, 0x0badcafe);
  t.mem.load(CODE, Uint8Array.from([0x64, 0xa1, 0x10, 0, 0, 0, 0x64, 0x8b, 0x1d, 0x00, 0xe0, 0xff, 0xff, 0xf4]));
  c.rip = CODE;
  c.run(3);
  assert.deepEqual(t.exceptions, []);
  assert.equal(c.getReg32(0) >>> 0, 0x12345678);
  assert.equal(c.getReg32(3) >>> 0, 0x0badcafe);
});
