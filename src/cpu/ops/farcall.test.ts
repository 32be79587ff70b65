import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, reg64, setReg64, makeCpu, run } from '../testing.js';
import { makeSystem, place, step, setDesc, setGate32, GDT, HANDLER, KSTACK, UCODE } from './gdtkit.js';
import type { TestCpu } from '../testing.js';
import { CS, SS, DS, ES, GS, RAX, RBX, RSP, VM, IF, AR_UNUSABLE, GP, NP } from '../regs.js';

const rd32 = (t: TestCpu, a: number): number => t.mem.read32(a) >>> 0;

/** Replaces delivery with recording (vector, error code) and a halt, like testing.ts does. */
function record(t: TestCpu): void {
  t.cpu.hooks = {
    deliver(c, vector, err) { t.exceptions.push([vector, err]); c.halted = true; },
    acknowledgeInterrupt: () => -1,
  };
}

/** A 32-bit (type 0xC) or 16-bit (type 4) call gate in GDT slot `index`. */
function callGate(t: TestCpu, index: number, sel: number, offset: number, dpl: number, params: number, type = 0xc): void {
  t.mem.write32(GDT + index * 8, ((offset & 0xffff) | (sel << 16)) | 0);
  t.mem.write32(GDT + index * 8 + 4, ((offset & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8) | params) | 0);
}

test('prot32: CALL far through a call gate from CPL 3 copies 2 parameters to the ring-0 stack; RETF 8 returns', () => {
  const t = makeSystem('prot32', 3);
  const { cpu, mem } = t;
  callGate(t, 9, 0x08, HANDLER, 3, 2);
  place(t, UCODE, hex(`
    9a 00 00 00 00 4b 00 ; call 0x4b:0 (offset ignored for a gate)
    b8 05 00 00 00       ; mov eax, 5`));
  place(t, HANDLER, hex('ca 08 00 ; retf 8'));
  cpu.r[8] = 0x7fff8;
  mem.write32(0x7fff8, 0x22);
  mem.write32(0x7fffc, 0x11);
  cpu.setSegCache(ES, 0x10, 0, 0xffffffff, 0xc093); // a DPL 0 data selector left in ES
  step(t, 1, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.equal(cpu.segSel[SS], 0x10);
  assert.equal(cpu.rip, HANDLER);
  assert.equal(cpu.r[8], KSTACK - 24);
  assert.deepEqual([0, 4, 8, 12, 16, 20].map((o) => rd32(t, KSTACK - 24 + o)), [UCODE + 7, 0x1b, 0x22, 0x11, 0x7fff8, 0x23]);
  step(t, 2);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x1b);
  assert.equal(cpu.segSel[SS], 0x23);
  assert.equal(cpu.r[8], 0x80000, 'old ESP + 8 bytes of parameters');
  assert.equal(cpu.getReg32(RAX), 5);
  assert.ok((cpu.segAr[ES]! & AR_UNUSABLE) !== 0, 'ES with DPL < CPL is nulled on the outward return');
  assert.equal(cpu.segSel[DS], 0x23);
});

test('long64: CALL far [m16:32] through a 64-bit call gate; RETFQ (48 CB) pops RIP, CS, RSP, SS', () => {
  const t = makeSystem('long64', 3);
  const { cpu, mem } = t;
  // 16-byte gate in slots 10-11: type 0xC, DPL 3, target 0x08:HANDLER
  mem.write32(GDT + 80, (HANDLER & 0xffff) | (0x08 << 16));
  mem.write32(GDT + 84, ((HANDLER & 0xffff0000) | 0x8000 | (3 << 13) | (0xc << 8)) | 0);
  mem.write32(GDT + 88, 0); mem.write32(GDT + 92, 0);
  mem.write32(0x5000, 0); mem.write16(0x5004, 0x53);
  setReg64(cpu, RBX, 0x5000n);
  place(t, UCODE, hex(`
    ff 1b            ; call far [rbx]  (m16:32)
    b8 05 00 00 00   ; mov eax, 5`));
  place(t, HANDLER, hex('48 cb ; retfq'));
  const userRsp = Number(reg64(cpu, RSP));
  step(t, 1, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[SS], 0, 'SS is null after a 64-bit gate raise');
  assert.equal(Number(reg64(cpu, RSP)), KSTACK - 32);
  assert.deepEqual([0, 8, 16, 24].map((o) => rd32(t, KSTACK - 32 + o)), [UCODE + 2, 0x2b, userRsp, 0x23]);
  step(t, 2);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x2b);
  assert.equal(cpu.segSel[SS], 0x23);
  assert.equal(Number(reg64(cpu, RSP)), userRsp);
  assert.equal(cpu.getReg32(RAX), 5);
});

test('prot32: far JMP/CALL direct to code segments; fault error codes', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  record(t);
  place(t, UCODE, hex('ea 00 00 02 00 40 00 ; jmp 0x40:0x20000'));
  place(t, HANDLER, hex('f4'));
  step(t, 2, UCODE);
  assert.equal(cpu.segSel[CS], 0x40);
  assert.equal(cpu.rip, HANDLER + 1);
  // CALL far pushes CS and EIP (32-bit) on the current stack
  cpu.r[8] = KSTACK;
  place(t, UCODE, hex('9a 00 00 02 00 08 00 ; call 0x08:0x20000'));
  step(t, 2, UCODE);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.deepEqual([rd32(t, KSTACK - 8), rd32(t, KSTACK - 4)], [UCODE + 7, 0x40]);
  // not present → #NP(sel); data segment → #GP(sel); beyond the limit → #GP(0); null → #GP(0)
  setDesc(mem, 9, 0, 0xfffff, 0x1b, 0xc);
  for (const [code, want] of [
    ['ea 00 00 00 00 48 00', [NP, 0x48]],
    ['ea 00 00 00 00 10 00', [GP, 0x10]],
    ['ea 00 00 00 00 30 00', [GP, 0x30]],
    ['ea 00 00 00 00 00 00', [GP, 0]],
  ] as const) {
    place(t, UCODE, hex(code));
    step(t, 1, UCODE);
    assert.deepEqual(t.exceptions.pop(), want, code);
    assert.equal(cpu.segSel[CS], 0x08);
  }
  // CPL 3 cannot JMP to a non-conforming DPL 0 segment
  const u = makeSystem('prot32', 3);
  record(u);
  place(u, UCODE, hex('ea 00 00 02 00 08 00'));
  step(u, 1, UCODE);
  assert.deepEqual(u.exceptions.pop(), [GP, 0x08]);
});

test('RETF to an outer level checks the popped SS: RPL mismatch is #GP(SS selector) and nothing changes', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  record(t);
  cpu.r[8] = KSTACK - 16;
  mem.write32(KSTACK - 16, UCODE); mem.write32(KSTACK - 12, 0x1b);
  mem.write32(KSTACK - 8, 0x7000); mem.write32(KSTACK - 4, 0x20); // SS RPL 0 for a CPL 3 return
  place(t, HANDLER, hex('cb ; retf'));
  step(t, 1, HANDLER);
  assert.deepEqual(t.exceptions.pop(), [GP, 0x20]);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.r[8], KSTACK - 16);
});

test('real mode: 9A CALL far ptr16:16 and CB RETF', () => {
  const t = makeCpu('real');
  const { cpu, mem } = t;
  cpu.setSegReal(CS, 0x1000);
  mem.load(0x10000, Uint8Array.from(hex('9a 05 00 00 20 ; call 0x2000:5\n f4')));
  mem.load(0x20005, Uint8Array.from(hex('b8 34 12 ; mov ax, 0x1234\n cb ; retf')));
  cpu.rip = 0;
  cpu.run(10);
  assert.equal(cpu.segSel[CS], 0x1000);
  assert.equal(cpu.rip, 6);
  assert.equal(cpu.getReg16(RAX), 0x1234);
  assert.equal(cpu.getReg16(4), 0xfff0);
  assert.equal(mem.read16(0xfff0 - 4), 5);
  assert.equal(mem.read16(0xfff0 - 2), 0x1000);
});

test('IRET to virtual-8086 mode; INT n from v86 (IOPL 3) pushes GS FS DS ES on the ring-0 stack and IRET goes back', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  setGate32(mem, 0x30, 0x08, HANDLER, 0xe, 3);
  place(t, HANDLER, hex('cf ; iretd'));
  place(t, 0x20100, hex('cd 30 ; int 0x30\n 90'));
  cpu.r[8] = KSTACK - 0x100 - 36;
  const f = KSTACK - 0x100 - 36;
  [0x100, 0x2000, VM | IF | 0x3000 | 2, 0x1000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000].forEach((v, i) => mem.write32(f + 4 * i, v));
  place(t, UCODE, hex('cf ; iretd'));
  step(t, 1, UCODE);
  assert.equal(cpu.flags & VM, VM);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segBase[CS], 0x20000);
  assert.equal(cpu.segBase[SS], 0x30000);
  assert.equal(cpu.segBase[GS], 0x70000);
  assert.equal(cpu.rip, 0x100);
  assert.equal(cpu.r[8], 0x1000);
  step(t, 1);
  assert.equal(cpu.flags & VM, 0);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.r[8], KSTACK - 36);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => rd32(t, KSTACK - 36 + 4 * i) & ~(i === 2 ? 0x10000 : 0)),
    [0x102, 0x2000, VM | IF | 0x3000 | 2, 0x1000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000]);
  assert.ok((cpu.segAr[DS]! & AR_UNUSABLE) !== 0);
  step(t, 1);
  assert.equal(cpu.flags & VM, VM);
  assert.equal(cpu.rip, 0x102);
  assert.equal(cpu.segBase[DS], 0x50000);
  // with IOPL < 3, INT n in v86 mode is #GP(0)
  const u = makeSystem('prot32', 0);
  record(u);
  u.cpu.setFlags(VM, VM);
  u.mem.load(0x100, Uint8Array.from([0xcd, 0x30]));
  step(u, 1, 0x100);
  assert.deepEqual(u.exceptions.pop(), [GP, 0]);
  void run;
});
