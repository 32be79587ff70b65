import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64 } from '../testing.js';
import { RAX, RCX, RBX, RSP, RSI, RDI, R8, DS, ES, SS, FS, GS } from '../regs.js';

const UD = 6;

test('88/8A: byte moves pick AH..BH without REX and SPL..DIL with it', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0x1234n);
  setReg64(t.cpu, RBX, 0x3000n);
  run(t, `
    88 23      ; mov byte ptr [rbx], ah
    40 8a 23   ; mov spl, byte ptr [rbx]   (REX: reg 4 = SPL)
    8a 0b      ; mov cl, byte ptr [rbx]
  `);
  assert.equal(t.mem.read8(0x3000), 0x12);
  assert.equal(reg64(t.cpu, RSP) & 0xffn, 0x12n);
  assert.equal(reg64(t.cpu, RCX), 0x12n);
});

test('B0-B7: MOV r8,imm8 selects AH without REX, SPL with REX', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, 0x80000n);
  run(t, `
    b4 05      ; mov ah, 5
    40 b4 12   ; mov spl, 0x12
    41 b0 07   ; mov r8b, 7
  `);
  assert.equal(reg64(t.cpu, RAX), 0x500n);
  assert.equal(reg64(t.cpu, RSP), 0x80012n);
  assert.equal(reg64(t.cpu, R8), 7n);
});

test('8C: MOV r32,Sreg zero-extends; MOV m16,Sreg writes two bytes only', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, -1n);
  setReg64(t.cpu, RBX, 0x3000n);
  t.mem.write32(0x3000, 0x11223344);
  run(t, `
    8c d8      ; mov eax, ds
    8c 1b      ; mov word ptr [rbx], ds
  `);
  assert.equal(reg64(t.cpu, RAX), 0x10n);
  assert.equal(t.mem.read32(0x3000) >>> 0, 0x11220010);
  run(t, '8c f0'); // mov eax, (Sreg 6): reserved
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('8E: real-mode MOV Sreg sets base = sel*16; MOV SS blocks interrupts; MOV CS is #UD', () => {
  const t = makeCpu('real');
  t.cpu.setReg16(RAX, 0x1234);
  run(t, '8e d8'); // mov ds, ax
  assert.equal(t.cpu.segSel[DS], 0x1234);
  assert.equal(t.cpu.segBase[DS], 0x12340);
  run(t, '8e d0', 1); // mov ss, ax (alone: the HLT after it would end the shadow)
  assert.equal(t.cpu.segBase[SS], 0x12340);
  assert.equal(t.cpu.inhibitIrq, true);
  run(t, '8e c8'); // mov cs, ax
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('8D LEA: address size then operand size truncation; register form is #UD', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x1_0000_fff0n);
  setReg64(t.cpu, RCX, 0x8n);
  run(t, '66 8d 44 4b 10'); // lea ax, [rbx+rcx*2+0x10]
  assert.equal(reg64(t.cpu, RAX) & 0xffffn, 0x0010n);
  run(t, '67 8d 43 10'); // lea eax, [ebx+0x10]
  assert.equal(reg64(t.cpu, RAX), 0x10000n);
  run(t, '48 8d 44 4b 10'); // lea rax, [rbx+rcx*2+0x10]
  assert.equal(reg64(t.cpu, RAX), 0x1_0001_0010n);
  setReg64(t.cpu, RBX, 0x1_0000_0000n);
  run(t, '67 48 8d 43 ff'); // lea rax, [ebx-1]: the 32-bit address wraps, then zero-extends
  assert.equal(reg64(t.cpu, RAX), 0xffffffffn);
  run(t, '48 8d 05 10 00 00 00'); // lea rax, [rip+0x10]
  assert.equal(reg64(t.cpu, RAX), 0x10017n);
  run(t, '8d c3'); // lea eax, ebx
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('A0-A3: 64-bit moffs, 32-bit moffs with 67, and an FS override in prot32', () => {
  const t = makeCpu('long64');
  t.mem.write32(0x1000, 0x0badf00d);
  t.mem.write32(0x1004, 0x12345678);
  run(t, '48 a1 00 10 00 00 00 00 00 00'); // movabs rax, [0x1000]
  assert.equal(reg64(t.cpu, RAX), 0x123456780badf00dn);
  run(t, '67 a2 00 20 00 00'); // addr32 mov [0x2000], al
  assert.equal(t.mem.read8(0x2000), 0x0d);
  run(t, 'a1 00 00 00 40 00 00 00 00'); // movabs eax, [0x40000000]: unmapped
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
  const p = makeCpu('prot32');
  p.cpu.segBase[FS] = 0x5000;
  p.mem.write16(0x5010, 0xbeef);
  run(p, '66 64 a1 10 00 00 00'); // mov ax, fs:[0x10]
  assert.equal(p.cpu.getReg16(RAX), 0xbeef);
  run(p, '64 a3 20 00 00 00'); // mov fs:[0x20], eax
  assert.equal(p.mem.read16(0x5020), 0xbeef);
});

test('C6/C7: MOV Ev,imm; REX.W sign-extends imm32; /1 is #UD', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x3000n);
  run(t, `
    48 c7 03 fe ff ff ff ; mov qword ptr [rbx], -2
    c6 43 08 7f          ; mov byte ptr [rbx+8], 0x7f
    48 c7 c1 ff ff ff 7f ; mov rcx, 0x7fffffff
  `);
  assert.equal(t.mem.read32(0x3000), -2);
  assert.equal(t.mem.read32(0x3004), -1);
  assert.equal(t.mem.read8(0x3008), 0x7f);
  assert.equal(reg64(t.cpu, RCX), 0x7fffffffn);
  run(t, 'c7 0b 00 00 00 00'); // C7 /1 (reg=1)
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('0F B6/B7/BE/BF MOVZX/MOVSX and 63 MOVSXD', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x3000n);
  t.mem.write32(0x3000, 0x8081);
  run(t, '0f b6 03'); // movzx eax, byte ptr [rbx]
  assert.equal(reg64(t.cpu, RAX), 0x81n);
  run(t, '48 0f b7 03'); // movzx rax, word ptr [rbx]
  assert.equal(reg64(t.cpu, RAX), 0x8081n);
  run(t, '48 0f be 03'); // movsx rax, byte ptr [rbx]
  assert.equal(reg64(t.cpu, RAX), -127n & 0xffffffffffffffffn);
  setReg64(t.cpu, RAX, 0xffff_ffff_0000_0000n);
  setReg64(t.cpu, RBX, 0x80n);
  run(t, '66 0f be c3'); // movsx ax, bl: upper 48 bits kept
  assert.equal(reg64(t.cpu, RAX), 0xffff_ffff_0000_ff80n);
  setReg64(t.cpu, RBX, 0x8000n);
  run(t, '0f bf cb'); // movsx ecx, bx
  assert.equal(reg64(t.cpu, RCX), 0xffff8000n);
  setReg64(t.cpu, RBX, 0x80000000n);
  run(t, '48 63 cb'); // movsxd rcx, ebx
  assert.equal(reg64(t.cpu, RCX), 0xffffffff80000000n);
  run(t, '63 cb'); // movsxd ecx, ebx (no REX.W: a 32-bit move)
  assert.equal(reg64(t.cpu, RCX), 0x80000000n);
});

test('86/87/90-97 XCHG; 90 is NOP (RAX upper half kept); REX.B 90 exchanges R8', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0x1_0000_0002n);
  setReg64(t.cpu, R8, 0x3n);
  setReg64(t.cpu, RBX, 0x3000n);
  setReg64(t.cpu, RCX, 0x5555_6666_7777_8888n);
  t.mem.write32(0x3000, 0x11111111);
  run(t, `
    90          ; nop
    f3 90       ; pause
    49 90       ; xchg r8, rax
    87 0b       ; xchg dword ptr [rbx], ecx
  `);
  assert.equal(reg64(t.cpu, RAX), 3n);
  assert.equal(reg64(t.cpu, R8), 0x1_0000_0002n);
  assert.equal(reg64(t.cpu, RCX), 0x11111111n);
  assert.equal(t.mem.read32(0x3000), 0x77778888);
  setReg64(t.cpu, RAX, 0x1_0000_0002n);
  run(t, '87 c0'); // xchg eax, eax: a 32-bit write zero-extends
  assert.equal(reg64(t.cpu, RAX), 2n);
  run(t, '86 23'); // xchg byte ptr [rbx], ah
  assert.equal(t.mem.read8(0x3000), 0);
  run(t, 'f0 87 c0'); // lock xchg eax, eax: LOCK needs a memory operand
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  run(t, 'f0 87 0b'); // lock xchg [rbx], ecx is fine
  assert.equal(t.exceptions.length, 0);
});

test('NOP encodings: 0F 1F, hint NOPs, prefetches; 0F 0D register form and LOCK MOV are #UD', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x7000_0000_0000n); // never accessed
  run(t, `
    0f 1f 04 00          ; nop dword ptr [rax+rax*1]
    66 0f 1f 44 00 00    ; nop word ptr [rax+rax*1+0]
    0f 18 13             ; prefetcht1 byte ptr [rbx]
    0f 0d 0b             ; prefetchw byte ptr [rbx]
    f3 0f 1e fa          ; endbr64
    0f 19 c0             ; hint nop
  `);
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.cpu.rip, 0x10000 + 24); // stopped at the final HLT
  run(t, '0f 0d c0');
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  run(t, 'f0 89 03'); // lock mov [rbx], eax
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('D7 XLAT in 64-bit and 16-bit address sizes', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, 0x3000n);
  setReg64(t.cpu, RAX, 0xff05n);
  t.mem.write8(0x3005, 0x42);
  run(t, 'd7'); // xlat
  assert.equal(reg64(t.cpu, RAX), 0xff42n);
  const r = makeCpu('real');
  r.cpu.setSegReal(DS, 0x100);
  r.cpu.setReg16(RBX, 0xfff0);
  r.cpu.setReg16(RAX, 0x20);
  r.mem.write8(0x1000 + 0x10, 0x99); // (0xfff0 + 0x20) wraps to 0x0010
  run(r, 'd7');
  assert.equal(r.cpu.getReg16(RAX), 0x99);
});

test('C4/C5, 0F B2/B4/B5: far pointer loads in real mode; C4 is #UD in 64-bit mode', () => {
  const t = makeCpu('real');
  t.cpu.setReg16(RBX, 0x3000);
  t.mem.write16(0x3000, 0x1234);
  t.mem.write16(0x3002, 0x0200);
  run(t, `
    c5 37       ; lds si, [bx]
  `);
  assert.equal(t.cpu.getReg16(RSI), 0x1234);
  assert.equal(t.cpu.segBase[DS], 0x2000);
  t.cpu.setSegReal(DS, 0);
  run(t, `
    c4 3f       ; les di, [bx]
    0f b4 07    ; lfs ax, [bx]
  `);
  assert.equal(t.cpu.getReg16(RDI), 0x1234);
  assert.equal(t.cpu.segSel[ES], 0x200);
  assert.equal(t.cpu.segSel[FS], 0x200);
  t.mem.write32(0x3000, 0x89abcdef | 0);
  t.mem.write16(0x3004, 0x0300);
  run(t, `
    66 0f b5 07 ; lgs eax, [bx]
    0f b2 27    ; lss sp, [bx]
  `);
  assert.equal(t.cpu.getReg32(RAX) >>> 0, 0x89abcdef);
  assert.equal(t.cpu.segSel[GS], 0x300);
  assert.equal(t.cpu.getReg16(RSP), 0xcdef);
  assert.equal(t.cpu.segSel[SS], 0x89ab);
  run(t, 'c5 c0'); // lds with a register operand
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  const l = makeCpu('long64');
  run(l, 'c5 37');
  assert.deepEqual(l.exceptions.pop(), [UD, 0]);
});
