import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex, reg64 } from './testing.js';
import { makeSystem, place, step, setGate32, setGate64, HANDLER, KSTACK, TSS, UCODE, IDT } from './ops/gdtkit.js';
import { STOP_TRIPLE_FAULT, STOP_HALT } from './cpu.js';
import { CS, SS, DS, RAX, RBX, IF, TF, AR_UNUSABLE } from './regs.js';

const rd32 = (t: ReturnType<typeof makeSystem>, a: number): number => t.mem.read32(a) >>> 0;

test('real mode: INT 21h through the IVT pushes FLAGS, CS, IP; IRET returns and restores IF', () => {
  const t = makeSystem('real', 0);
  const { cpu, mem } = t;
  mem.write32(0x21 * 4, (0x0200 << 16) | 0x0010); // 0200:0010 = linear 0x2010
  place(t, 0x2010, hex('b8 34 12 ; mov ax, 0x1234\n cf ; iret'));
  place(t, UCODE, hex('cd 21 ; int 0x21\n f4 ; hlt'));
  cpu.setSegReal(CS, 0x1000); // CS:IP = 1000:0000 = 0x10000
  cpu.flags |= IF;
  step(t, 1, 0);
  assert.equal(cpu.segSel[CS], 0x200);
  assert.equal(cpu.rip, 0x10);
  assert.equal(cpu.flags & IF, 0);
  assert.equal(cpu.getReg16(4), 0xfff0 - 6);
  assert.equal(mem.read16(0xfff0 - 6), 2, 'IP after INT');
  assert.equal(mem.read16(0xfff0 - 4), 0x1000, 'CS');
  assert.equal(mem.read16(0xfff0 - 2) & IF, IF, 'FLAGS image keeps IF');
  assert.equal(step(t, 10), STOP_HALT);
  assert.equal(cpu.getReg16(RAX), 0x1234);
  assert.equal(cpu.segSel[CS], 0x1000);
  assert.equal(cpu.rip, 3);
  assert.equal(cpu.getReg16(4), 0xfff0);
  assert.equal(cpu.flags & IF, IF);
});

test('real mode: #UD (0F 0B ud2) pushes the faulting IP and no error code', () => {
  const t = makeSystem('real', 0);
  const { cpu, mem } = t;
  mem.write32(6 * 4, 0x3000);
  place(t, 0x3000, hex('f4'));
  place(t, UCODE + 4, hex('0f 0b ; ud2'));
  cpu.setSegReal(CS, 0x1000);
  step(t, 5, 4);
  assert.equal(cpu.segSel[CS], 0);
  assert.equal(cpu.rip, 0x3001, 'halted in the handler at 0000:3000');
  assert.equal(cpu.getReg16(4), 0xfff0 - 6);
  assert.equal(mem.read16(0xfff0 - 6), 4, 'IP of the ud2 itself');
  assert.equal(mem.read16(0xfff0 - 4), 0x1000);
});

test('prot32: INT 80h from CPL 3 switches to the TSS ring-0 stack; IRETD returns to CPL 3', () => {
  const t = makeSystem('prot32', 3);
  const { cpu, mem } = t;
  setGate32(mem, 0x80, 0x08, HANDLER, 0xe, 3);
  place(t, UCODE, hex(`
    cd 80            ; int 0x80
    b8 05 00 00 00   ; mov eax, 5
    eb fe            ; jmp $`));
  place(t, HANDLER, hex('bb 07 00 00 00 ; mov ebx, 7\n cf ; iretd'));
  cpu.flags |= IF;
  const userEsp = cpu.r[8]!;
  step(t, 2, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.segSel[SS], 0x10);
  assert.equal(cpu.r[8], KSTACK - 20);
  assert.equal(cpu.flags & IF, 0, 'interrupt gate clears IF');
  assert.equal(rd32(t, KSTACK - 20), UCODE + 2, 'EIP');
  assert.equal(rd32(t, KSTACK - 16), 0x1b, 'CS');
  assert.equal(rd32(t, KSTACK - 12) & IF, IF, 'EFLAGS');
  assert.equal(rd32(t, KSTACK - 8), userEsp, 'ESP');
  assert.equal(rd32(t, KSTACK - 4), 0x23, 'SS');
  step(t, 2);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x1b);
  assert.equal(cpu.segSel[SS], 0x23);
  assert.equal(cpu.r[8], userEsp);
  assert.equal(cpu.getReg32(RAX), 5);
  assert.equal(cpu.getReg32(RBX), 7);
  assert.equal(cpu.flags & IF, IF);
});

test('prot32: INT n to a DPL 0 gate from CPL 3 is #GP(vector*8+2); a not-present gate #NP with EXT for hardware events', () => {
  const t = makeSystem('prot32', 3);
  const { cpu, mem } = t;
  setGate32(mem, 0x81, 0x08, HANDLER, 0xe, 0);
  setGate32(mem, 13, 0x08, HANDLER, 0xf, 0);
  place(t, UCODE, hex('cd 81 ; int 0x81'));
  place(t, HANDLER, hex('f4'));
  step(t, 1, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(rd32(t, KSTACK - 24), 0x81 * 8 + 2, 'error code, EXT=0 for INT n');
  assert.equal(rd32(t, KSTACK - 20), UCODE, 'a fault pushes the INT instruction itself');
});

test('prot32: a fault while delivering #GP (gate not present → #NP) becomes #DF with error code 0', () => {
  const t = makeSystem('prot32', 3);
  const { cpu, mem } = t;
  setGate32(mem, 13, 0x08, HANDLER, 0xe, 0, false);
  setGate32(mem, 8, 0x08, HANDLER + 0x100, 0xe, 0);
  place(t, HANDLER + 0x100, hex('f4'));
  place(t, UCODE, hex('f4 ; hlt at CPL 3 → #GP(0)'));
  step(t, 1, UCODE);
  assert.equal(cpu.rip, HANDLER + 0x101);
  assert.equal(cpu.cpl, 0);
  assert.equal(rd32(t, KSTACK - 24), 0, '#DF error code');
  assert.equal(rd32(t, KSTACK - 20), UCODE);
});

test('a fault while delivering #DF is a triple fault: run() stops and reports RIP and the faults', () => {
  const t = makeSystem('prot32', 3);
  const { cpu, mem } = t;
  setGate32(mem, 13, 0x08, HANDLER, 0xe, 0, false);
  setGate32(mem, 8, 0x08, HANDLER, 0xe, 0, false);
  place(t, UCODE, hex('f4'));
  assert.equal(step(t, 5, UCODE), STOP_TRIPLE_FAULT);
  assert.match(cpu.tripleFaultReport, /triple fault at RIP=0x10000/);
  assert.match(cpu.tripleFaultReport, /#NP while delivering #DF/);
});

test('prot32: IDT limit and presence: INT 40h beyond the limit is #GP(0x202); a hardware #UD through an absent gate is #NP(0x33)', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  setGate32(mem, 13, 0x08, HANDLER, 0xe, 0);
  setGate32(mem, 11, 0x08, HANDLER, 0xe, 0);
  setGate32(mem, 6, 0x08, HANDLER, 0xe, 0, false);
  place(t, HANDLER, hex('f4'));
  cpu.idtLimit = 0x20 * 8 - 1;
  place(t, UCODE, hex('cd 40 ; int 0x40'));
  cpu.r[8] = KSTACK; // CPL 0: no stack switch, the frame goes on the current stack
  step(t, 1, UCODE);
  assert.equal(cpu.rip, HANDLER + 1);
  assert.equal(rd32(t, KSTACK - 16), 0x40 * 8 + 2);
  assert.equal(rd32(t, KSTACK - 12), UCODE);
  // #UD is a hardware event: the #NP for its gate has EXT set (benign + contributory: no #DF)
  place(t, UCODE, hex('0f 0b ; ud2'));
  cpu.r[8] = KSTACK;
  step(t, 1, UCODE);
  assert.equal(cpu.rip, HANDLER + 1);
  assert.equal(rd32(t, KSTACK - 16), 6 * 8 + 2 + 1);
  assert.equal(rd32(t, KSTACK - 12), UCODE);
});

test('long64: INT 20h from CPL 3 through a gate with IST1: aligned IST stack, SS:RSP always pushed, null SS', () => {
  const t = makeSystem('long64', 3);
  const { cpu, mem } = t;
  setGate64(mem, 0x20, 0x08, HANDLER, 0xe, 3, 1);
  mem.write32(TSS + 0x24, 0x60008); // IST1, deliberately misaligned
  place(t, UCODE, hex(`
    cd 20            ; int 0x20
    b8 05 00 00 00   ; mov eax, 5`));
  place(t, HANDLER, hex('48 cf ; iretq'));
  const userRsp = Number(reg64(cpu, 4));
  step(t, 1, UCODE);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.rip, HANDLER);
  assert.equal(Number(reg64(cpu, 4)), 0x60000 - 40);
  assert.equal(cpu.segSel[SS], 0);
  assert.ok((cpu.segAr[SS]! & AR_UNUSABLE) !== 0);
  assert.equal(rd32(t, 0x60000 - 40), UCODE + 2, 'RIP');
  assert.equal(rd32(t, 0x60000 - 32), 0x2b, 'CS');
  assert.equal(rd32(t, 0x60000 - 16), userRsp, 'RSP');
  assert.equal(rd32(t, 0x60000 - 8), 0x23, 'SS');
  step(t, 2);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segSel[CS], 0x2b);
  assert.equal(cpu.segSel[SS], 0x23);
  assert.equal(Number(reg64(cpu, 4)), userRsp);
  assert.equal(cpu.getReg32(RAX), 5);
});

test('long64: #GP with error code uses RSP0 from the TSS and pushes the faulting RIP', () => {
  const t = makeSystem('long64', 3);
  const { cpu, mem } = t;
  setGate64(mem, 0x21, 0x08, HANDLER, 0xe, 0);
  setGate64(mem, 13, 0x08, HANDLER + 0x40, 0xe, 0);
  place(t, HANDLER + 0x40, hex('f4'));
  place(t, UCODE, hex('cd 21 ; int 0x21 (gate DPL 0)'));
  cpu.flags |= TF; // also checks TF is cleared on delivery
  step(t, 1, UCODE);
  assert.equal(cpu.rip, HANDLER + 0x41);
  assert.equal(Number(reg64(cpu, 4)), KSTACK - 48);
  assert.equal(rd32(t, KSTACK - 48), 0x21 * 8 + 2, 'error code');
  assert.equal(rd32(t, KSTACK - 40), UCODE, 'RIP of INT');
  assert.equal(cpu.flags & TF, 0);
});

test('long64: a hardware interrupt (acknowledgeInterrupt) is delivered at an instruction boundary with IF=1', () => {
  const t = makeSystem('long64', 0);
  const { cpu, mem } = t;
  setGate64(mem, 0x30, 0x08, HANDLER, 0xe, 0);
  place(t, HANDLER, hex('f4'));
  place(t, UCODE, hex('90 ; nop'));
  let acked = 0;
  cpu.hooks = { deliver: cpu.hooks.deliver, acknowledgeInterrupt: () => { acked++; return 0x30; } };
  cpu.flags |= IF;
  cpu.irqPending = true;
  step(t, 1, UCODE);
  assert.equal(acked, 1);
  assert.equal(cpu.rip, HANDLER + 1);
  assert.equal(cpu.flags & IF, 0);
  // same privilege: the stack is the current one, aligned to 16
  const rsp = Number(reg64(cpu, 4));
  assert.equal(rd32(t, rsp), UCODE);
  assert.equal(cpu.segSel[SS], 0x10, 'no privilege change keeps SS');
  assert.equal(IDT, 0x2000);
  assert.equal(cpu.segSel[DS], 0x10);
});
