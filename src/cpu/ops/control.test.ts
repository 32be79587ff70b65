import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, CODE, STACK_TOP } from '../testing.js';
import { RAX, RBX, RCX, RSP, CS, OF } from '../regs.js';

test('E8 CALL rel32 / C3 RET in 64-bit mode push and pop an 8-byte return address', () => {
  const t = makeCpu('long64');
  run(t, `
    e8 0b 00 00 00   ; call CODE+0x10
    b8 01 00 00 00   ; mov eax, 1
    f4               ; hlt
    90 90 90 90 90   ; padding
    bb 02 00 00 00   ; CODE+0x10: mov ebx, 2
    c3               ; ret`);
  assert.equal(reg64(t.cpu, RAX), 1n);
  assert.equal(reg64(t.cpu, RBX), 2n);
  assert.equal(reg64(t.cpu, RSP), BigInt(STACK_TOP));
  assert.equal(t.mem.read32(STACK_TOP - 8), CODE + 5);
  assert.equal(t.mem.read32(STACK_TOP - 4), 0);
});

test('C2 RET imm16 releases the callee\'s parameters; a 66-prefixed CALL still pushes 8 bytes in 64-bit mode', () => {
  const t = makeCpu('long64');
  run(t, `
    66 e8 0a 00 00 00 ; data16 call CODE+0x10 (Intel: operand size forced to 64)
    f4                ; hlt
    90 90 90 90 90 90 90 90 90
    c2 08 00          ; ret 8`);
  assert.equal(reg64(t.cpu, RSP), BigInt(STACK_TOP + 8));
  assert.equal(t.mem.read32(STACK_TOP - 8), CODE + 6);
});

test('CALL to a non-canonical target is #GP(0) and leaves RSP alone', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0x0000800000000000n);
  run(t, 'ff d0 ; call rax');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(reg64(t.cpu, RSP), BigInt(STACK_TOP));
  assert.equal(t.cpu.rip, CODE, 'RIP rolled back to the CALL');
});

test('FF /4 JMP r/m64 and FF /2 CALL [mem]', () => {
  const t = makeCpu('long64');
  t.mem.write32(0x3000, CODE + 0x10);
  setReg64(t.cpu, RBX, 0x3000n);
  run(t, `
    ff 13            ; call qword ptr [rbx]
    f4               ; hlt
    90 90 90 90 90 90 90 90 90 90 90 90 90
    b8 07 00 00 00   ; CODE+0x10: mov eax, 7
    c3               ; ret`);
  assert.equal(reg64(t.cpu, RAX), 7n);
  assert.equal(t.cpu.rip, CODE + 3);
});

test('E2 LOOP counts RCX down; 67 E2 uses ECX and zero-extends; E3 JRCXZ / 67 E3 JECXZ', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RCX, 3n);
  run(t, `
    05 01 00 00 00   ; L: add eax, 1
    e2 f9            ; loop L`);
  assert.equal(reg64(t.cpu, RAX), 3n);
  assert.equal(reg64(t.cpu, RCX), 0n);
  setReg64(t.cpu, RCX, 0x1_0000_0001n);
  setReg64(t.cpu, RAX, 0n);
  run(t, `
    05 01 00 00 00   ; L: add eax, 1
    67 e2 f8         ; loop L (ECX)`);
  assert.equal(reg64(t.cpu, RAX), 1n);
  assert.equal(reg64(t.cpu, RCX), 0n, 'ECX write zero-extends');
  setReg64(t.cpu, RCX, 0x1_0000_0000n);
  setReg64(t.cpu, RAX, 0n);
  run(t, `
    e3 05            ; jrcxz +5 (not taken: RCX != 0)
    b8 01 00 00 00   ; mov eax, 1
    67 e3 05         ; jecxz +5 (taken: ECX = 0)
    bb 09 00 00 00   ; mov ebx, 9 (skipped)`);
  assert.equal(reg64(t.cpu, RAX), 1n);
  assert.notEqual(reg64(t.cpu, RBX), 9n);
});

test('E0 LOOPNE / E1 LOOPE stop on ZF', () => {
  const t = makeCpu('prot32');
  t.cpu.setReg32(RCX, 10);
  t.cpu.setReg32(RAX, 0);
  run(t, `
    05 01 00 00 00   ; L: add eax, 1
    3d 04 00 00 00   ; cmp eax, 4
    e0 f4            ; loopne L`);
  assert.equal(t.cpu.getReg32(RAX), 4);
  assert.equal(t.cpu.getReg32(RCX), 6);
  run(t, `
    3d 04 00 00 00   ; L: cmp eax, 4  (ZF=1 every time)
    e1 f9            ; loope L`);
  assert.equal(t.cpu.getReg32(RCX), 0);
});

test('16-bit CALL/RET in real mode push 2 bytes and wrap IP', () => {
  const t = makeCpu('real');
  t.cpu.setSegReal(CS, 0x1000);
  t.mem.load(0x10000, Uint8Array.from([0xe8, 0x02, 0x00, 0xf4, 0x90, 0xc3])); // call +2; hlt; nop; ret
  t.cpu.rip = 0;
  t.cpu.run(10);
  assert.equal(t.cpu.rip, 4);
  assert.equal(t.cpu.getReg16(4), 0xfff0);
  assert.equal(t.mem.read16(0xfff0 - 2), 3);
});

test('CC INT3 / CD n / CE INTO / F1 INT1 raise the right vectors; INTO is #UD in 64-bit mode', () => {
  const t = makeCpu('prot32');
  run(t, 'cc ; int3');
  assert.deepEqual(t.exceptions.pop(), [3, 0]);
  run(t, 'cd 41 ; int 0x41');
  assert.deepEqual(t.exceptions.pop(), [0x41, 0]);
  run(t, 'f1 ; int1');
  assert.deepEqual(t.exceptions.pop(), [1, 0]);
  run(t, 'ce ; into (OF=0)');
  assert.equal(t.exceptions.length, 0);
  t.cpu.materializeFlags(); t.cpu.flags |= OF;
  run(t, 'ce ; into');
  assert.deepEqual(t.exceptions.pop(), [4, 0]);
  const l = makeCpu('long64');
  run(l, 'ce');
  assert.deepEqual(l.exceptions.pop(), [6, 0]);
  run(l, 'ea 00 00 00 00 08 00 ; jmp far (invalid in 64-bit mode)');
  assert.deepEqual(l.exceptions.pop(), [6, 0]);
});
