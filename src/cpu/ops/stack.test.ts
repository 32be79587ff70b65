import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, STACK_TOP, CODE } from '../testing.js';
import { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R9, R12, CS, SS, FS, ES, IF, DF, RF, VM, IOPL, AC, TF } from '../regs.js';
import { grp5Push } from './data.js';

const UD = 6, GP = 13, PF = 14;
const S = BigInt(STACK_TOP);

test('50-5F PUSH/POP r: 64-bit by default, REX.B reaches r8-r15, 66 gives 16-bit', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  setReg64(t.cpu, RAX, 0x1122334455667788n);
  setReg64(t.cpu, R12, 0x99n);
  run(t, `
    50        ; push rax
    41 54     ; push r12
    59        ; pop rcx
    41 59     ; pop r9
  `);
  assert.equal(reg64(t.cpu, RCX), 0x99n);
  assert.equal(reg64(t.cpu, R9), 0x1122334455667788n);
  assert.equal(reg64(t.cpu, RSP), S);
  run(t, '66 50'); // push ax
  assert.equal(reg64(t.cpu, RSP), S - 2n);
  assert.equal(t.mem.read16(STACK_TOP - 2), 0x7788);
  setReg64(t.cpu, RDX, 0xaaaa_0000n); // RESET leaves the CPUID signature in EDX: make the kept bits known
  run(t, '66 5a'); // pop dx
  assert.equal(reg64(t.cpu, RDX), 0xaaaa_7788n, 'a 16-bit pop keeps RDX[63:16]');
  assert.equal(reg64(t.cpu, RSP), S);
});

test('PUSH rSP pushes the old value; POP rSP loads the popped value', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  run(t, '54'); // push rsp
  assert.equal(t.mem.read32(STACK_TOP - 8), STACK_TOP);
  t.mem.write32(STACK_TOP - 8, 0x12340);
  run(t, '5c'); // pop rsp
  assert.equal(reg64(t.cpu, RSP), 0x12340n);
});

test('68/6A PUSH imm: sign-extended to 64 bits; 16-bit pushw in prot32', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  run(t, `
    68 78 56 34 92  ; push 0xffffffff92345678
    6a fe           ; push -2
  `);
  assert.equal(t.mem.read32(STACK_TOP - 8), 0x92345678 | 0);
  assert.equal(t.mem.read32(STACK_TOP - 4), -1);
  assert.equal(t.mem.read32(STACK_TOP - 16), -2);
  assert.equal(t.mem.read32(STACK_TOP - 12), -1);
  const p = makeCpu('prot32');
  run(p, '66 68 34 12'); // pushw 0x1234
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP - 2);
  assert.equal(p.mem.read16(STACK_TOP - 2), 0x1234);
});

test('PUSH/POP Sreg: 32-bit push writes 16 bits, 64-bit zero-extends; legacy forms #UD in 64-bit mode', () => {
  const p = makeCpu('prot32');
  p.mem.write32(STACK_TOP - 4, 0x7777_7777);
  run(p, '0e'); // push cs
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP - 4);
  assert.equal(p.mem.read32(STACK_TOP - 4) >>> 0, 0x7777_0010);
  const t = makeCpu('long64');
  for (const op of ['06', '0e', '16', '1e', '07', '17', '1f']) {
    run(t, op);
    assert.deepEqual(t.exceptions.pop(), [UD, 0], op);
  }
  setReg64(t.cpu, RSP, S);
  t.mem.write32(STACK_TOP - 4, -1);
  run(t, '0f a0 66 0f a8'); // push fs (64-bit: zero-extended); push gs (16-bit)
  assert.equal(reg64(t.cpu, RSP), S - 10n);
  assert.equal(t.mem.read32(STACK_TOP - 8), 0x10);
  assert.equal(t.mem.read32(STACK_TOP - 4), 0);
  assert.equal(t.mem.read16(STACK_TOP - 10), 0x10);
});

test('POP Sreg in real mode; POP SS sets the interrupt shadow', () => {
  const r = makeCpu('real');
  r.mem.write16(0xfff0, 0x1234);
  r.mem.write16(0xfff2, 0x2000);
  run(r, `
    07     ; pop es
    0f a1  ; pop fs
  `);
  assert.equal(r.cpu.segBase[ES], 0x12340);
  assert.equal(r.cpu.segBase[FS], 0x20000);
  assert.equal(r.cpu.getReg16(RSP), 0xfff4);
  r.mem.write16(0xfff4, 0);
  run(r, '17', 1); // pop ss (alone: the HLT after it would end the shadow)
  assert.equal(r.cpu.inhibitIrq, true);
  assert.equal(r.cpu.segSel[SS], 0);
});

test('60/61 PUSHA/POPA: order, saved SP skipped on POPA; #UD in 64-bit mode', () => {
  const p = makeCpu('prot32');
  for (let n = 0; n < 8; n++) if (n !== RSP) p.cpu.setReg32(n, 0x100 + n);
  run(p, '60'); // pushad
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP - 32);
  const expect = [0x100, 0x101, 0x102, 0x103, STACK_TOP, 0x105, 0x106, 0x107];
  for (let n = 0; n < 8; n++) assert.equal(p.mem.read32(STACK_TOP - 4 * (n + 1)), expect[n]);
  for (let n = 0; n < 8; n++) if (n !== RSP) p.cpu.setReg32(n, 0);
  p.mem.write32(STACK_TOP - 20, 0xdead); // the saved ESP slot is ignored
  run(p, '61'); // popad
  for (let n = 0; n < 8; n++) if (n !== RSP) assert.equal(p.cpu.getReg32(n), 0x100 + n);
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP);
  run(p, '66 60'); // pushaw
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP - 16);
  const t = makeCpu('long64');
  run(t, '60');
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('8F /0 POP Ev: address computed after rSP is incremented; a fault restores rSP', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S - 16n);
  t.mem.write32(STACK_TOP - 16, 0xabcd);
  run(t, '8f 44 24 08'); // pop qword ptr [rsp+8] -> [S-8+8] = [S]
  assert.equal(reg64(t.cpu, RSP), S - 8n);
  assert.equal(t.mem.read32(STACK_TOP), 0xabcd);
  const p = makeCpu('prot32');
  p.cpu.setReg32(RSP, STACK_TOP - 8);
  p.mem.write32(STACK_TOP - 8, 0x55);
  run(p, '8f 04 24'); // pop dword ptr [esp]
  assert.equal(p.mem.read32(STACK_TOP - 4), 0x55);
  setReg64(t.cpu, RSP, S);
  setReg64(t.cpu, RBX, 0x40000000n);
  run(t, '8f 03'); // pop qword ptr [rbx] -> #PF, rSP unchanged
  assert.deepEqual(t.exceptions.pop(), [PF, 2]);
  assert.equal(reg64(t.cpu, RSP), S);
  run(t, '8f c8'); // 8F /1 is not POP
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  assert.equal(reg64(t.cpu, RSP), S);
});

test('FF /6 grp5Push: memory push at the stack operand size', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  setReg64(t.cpu, RBX, 0x3000n);
  t.mem.write32(0x3000, 0x11223344);
  t.mem.write32(0x3004, 0x55667788);
  t.mem.load(CODE, Uint8Array.from([0xff, 0x33])); // push qword ptr [rbx]
  t.cpu.rip = t.cpu.startRip = CODE;
  t.cpu.beginFetch();
  t.cpu.decodePrefixes();
  t.cpu.decodeModrm(0);
  grp5Push(t.cpu);
  assert.equal(reg64(t.cpu, RSP), S - 8n);
  assert.equal(t.mem.read32(STACK_TOP - 8), 0x11223344);
  assert.equal(t.mem.read32(STACK_TOP - 4), 0x55667788);
});

test('C8/C9 ENTER (nesting levels 0 and 3) and LEAVE in 64-bit mode', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  setReg64(t.cpu, RBP, 0x70000n);
  t.mem.write32(0x70000 - 8, 0xaaaa);
  t.mem.write32(0x70000 - 16, 0xbbbb);
  run(t, 'c8 10 00 03'); // enter 0x10, 3
  assert.equal(reg64(t.cpu, RBP), S - 8n);
  assert.equal(reg64(t.cpu, RSP), S - 32n - 0x10n);
  assert.equal(t.mem.read32(STACK_TOP - 8), 0x70000);   // old RBP
  assert.equal(t.mem.read32(STACK_TOP - 16), 0xaaaa);   // copied frame pointers
  assert.equal(t.mem.read32(STACK_TOP - 24), 0xbbbb);
  assert.equal(t.mem.read32(STACK_TOP - 32), STACK_TOP - 8); // the new frame pointer
  run(t, 'c9'); // leave
  assert.equal(reg64(t.cpu, RSP), S);
  assert.equal(reg64(t.cpu, RBP), 0x70000n);
  run(t, 'c8 20 00 00'); // enter 0x20, 0
  assert.equal(reg64(t.cpu, RBP), S - 8n);
  assert.equal(reg64(t.cpu, RSP), S - 8n - 0x20n);
});

test('ENTER is atomic: a fault reading the outer frame leaves RSP and RBP unchanged', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  setReg64(t.cpu, RBP, 0x40000010n);
  run(t, 'c8 00 00 02'); // enter 0, 2 reads [rbp-8] in unmapped memory
  assert.deepEqual(t.exceptions.pop(), [PF, 0]);
  assert.equal(reg64(t.cpu, RSP), S);
  assert.equal(reg64(t.cpu, RBP), 0x40000010n);
});

test('ENTER/LEAVE with a 32-bit stack in prot32 (16-bit operand size variant too)', () => {
  const p = makeCpu('prot32');
  p.cpu.setReg32(RBP, 0x60000);
  p.mem.write32(0x60000 - 4, 0x1111);
  run(p, 'c8 08 00 02'); // enter 8, 2
  assert.equal(p.cpu.getReg32(RBP), STACK_TOP - 4);
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP - 12 - 8);
  assert.equal(p.mem.read32(STACK_TOP - 8), 0x1111);
  assert.equal(p.mem.read32(STACK_TOP - 12), STACK_TOP - 4);
  run(p, 'c9'); // leave
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP);
  assert.equal(p.cpu.getReg32(RBP), 0x60000);
  run(p, '66 c8 04 00 00'); // enter 4, 0 with a 16-bit operand size
  assert.equal(p.cpu.getReg32(RSP), STACK_TOP - 6);
  assert.equal(p.cpu.getReg32(RBP), 0x60000 | ((STACK_TOP - 2) & 0xffff));
});

test('9C/9D PUSHF/POPF at CPL 0: RF and VM are cleared in the image; POPF clears RF', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RSP, S);
  t.cpu.flags |= RF | DF;
  run(t, '9c'); // pushfq
  assert.equal(t.mem.read32(STACK_TOP - 8), 2 | DF);
  t.mem.write32(STACK_TOP - 8, 2 | IF | IOPL | AC | VM | RF | 1);
  run(t, '9d'); // popfq
  const f = t.cpu.getFlags();
  assert.equal(f & (IF | IOPL | AC | 1), IF | IOPL | AC | 1);
  assert.equal(f & (VM | RF | DF), 0);
});

test('POPF at CPL 3 keeps IF and IOPL; CLI/STI #GP when CPL > IOPL', () => {
  const p = makeCpu('prot32');
  p.cpu.segAr[CS] = 0xc0fb; // DPL 3 code
  p.cpu.segAr[SS] = 0xc0f3;
  p.cpu.flags |= IF;
  p.cpu.updateMode();
  assert.equal(p.cpu.cpl, 3);
  p.cpu.setReg32(RSP, STACK_TOP - 4);
  p.mem.write32(STACK_TOP - 4, 2 | IOPL | 1 | TF * 0);
  // (each run ends in HLT, itself a #GP(0) at CPL 3: that is where these runs stop)
  run(p, '9d'); // popfd
  assert.equal(p.cpu.getFlags() & (IF | IOPL | 1), IF | 1);
  assert.equal(p.cpu.rip, CODE + 1);
  run(p, 'fa'); // cli
  assert.equal(p.cpu.rip, CODE);
  p.cpu.flags |= IOPL;
  run(p, 'fa fb'); // cli; sti with IOPL = 3
  assert.equal(p.cpu.rip, CODE + 2);
  assert.equal(p.cpu.flags & IF, IF);
  assert.deepEqual(p.exceptions, [[GP, 0], [GP, 0], [GP, 0]]);
});

test('virtual-8086 mode: PUSHF/POPF/CLI fault with IOPL < 3', () => {
  const p = makeCpu('prot32');
  p.cpu.flags |= VM;
  p.cpu.updateMode();
  for (const op of ['9c', '9d', 'fa', 'fb']) {
    run(p, op);
    assert.deepEqual(p.exceptions.pop(), [GP, 0], op);
  }
  p.cpu.flags |= IOPL;
  p.cpu.setReg32(RSP, 0x1000);
  run(p, '9c'); // pushf: 16-bit in v86 mode
  assert.equal(p.cpu.getReg16(RSP), 0x0ffe);
  assert.equal(p.mem.read16(0x0ffe) & IOPL, IOPL);
});

test('FA/FB/FC/FD: STI shadows one instruction only when IF was 0; CLD/STD', () => {
  const r = makeCpu('real');
  run(r, 'fb', 1); // sti (alone: the HLT after it would end the shadow)
  assert.equal(r.cpu.flags & IF, IF);
  assert.equal(r.cpu.inhibitIrq, true);
  r.cpu.inhibitIrq = false;
  run(r, 'fb', 1);
  assert.equal(r.cpu.inhibitIrq, false);
  run(r, 'fa fd'); // cli; std
  assert.equal(r.cpu.flags & (IF | DF), DF);
  run(r, 'fc');
  assert.equal(r.cpu.flags & DF, 0);
  void RAX; void RCX; void RSI; void RDI;
});
