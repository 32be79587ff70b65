/**
 * Hardware task switches (task-switch.ts; SDM Vol. 3A §7.3, Vol. 2 JMP/CALL/IRET/INT n):
 * 32-bit protected mode with the gdtkit GDT (TR = 0x30, TSS at 0x3000) plus tasks of our own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestCpu } from './testing.js';
import { hex } from './testing.js';
import { makeSystem, place, step, setDesc, setGate32, GDT, TSS, UCODE, HANDLER, KSTACK } from './ops/gdtkit.js';
import { defaultHooks } from './interrupts.js';
import { CS, SS, DS, ES, FS, GS, TR, LDTR, RAX, RBX, RSP, NT, VM, IF, CR0_TS, CR0_PG, CR4_PSE, AR_UNUSABLE, GP, TS, NP, SS_, DB } from './regs.js';

/** Second task's TSS (GDT slot 9, selector 0x48), a task gate to it (slot 10, 0x50). */
const TSS2 = 0x3200, TSS2_SEL = 0x48, GATE_SEL = 0x50;
/** A third TSS for IDT task gates (slot 11, 0x58) and a 16-bit TSS (slot 12, 0x60). */
const TSS3 = 0x3400, TSS3_SEL = 0x58, TSS16 = 0x3600, TSS16_SEL = 0x60;
const TASK_CODE = 0x24000, TASK_STACK = 0x60000;

const rd32 = (t: TestCpu, a: number): number => t.mem.read32(a) >>> 0;
const rd16 = (t: TestCpu, a: number): number => t.mem.read16(a);
const descHi = (t: TestCpu, sel: number): number => rd32(t, GDT + (sel & ~7) + 4);
const busy = (t: TestCpu, sel: number): boolean => (descHi(t, sel) & 0x200) !== 0;

interface TaskState { eip: number; eflags?: number; esp?: number; eax?: number; cs?: number; ss?: number; ds?: number; ldt?: number; cr3?: number; t?: boolean }

/** Writes a 32-bit TSS image (SDM Vol. 3A Figure 7-2). Segments default to the ring-0 flat ones. */
function tss32(t: TestCpu, base: number, s: TaskState): void {
  const m = t.mem;
  for (let o = 0; o < 0x68; o += 4) m.write32(base + o, 0);
  m.write32(base + 0x1c, s.cr3 ?? 0);
  m.write32(base + 0x20, s.eip);
  m.write32(base + 0x24, s.eflags ?? 2);
  m.write32(base + 0x28, s.eax ?? 0);
  m.write32(base + 0x38, s.esp ?? TASK_STACK);
  const ds = s.ds ?? 0x10;
  [ds, s.cs ?? 0x08, s.ss ?? 0x10, ds, ds, ds].forEach((v, i) => m.write16(base + 0x48 + 4 * i, v));
  m.write16(base + 0x60, s.ldt ?? 0);
  m.write16(base + 0x64, s.t === true ? 1 : 0);
  m.write16(base + 0x66, 0x68);
}

/** A CPU at CPL 0 in 32-bit protected mode with TSS2 (available) and a task gate to it. */
function system(): TestCpu {
  const t = makeSystem('prot32', 0);
  setDesc(t.mem, 9, TSS2, 0x67, 0x89, 0);
  t.mem.write32(GDT + 10 * 8, (TSS2_SEL << 16) | 0);
  t.mem.write32(GDT + 10 * 8 + 4, 0x8500); // P, DPL 0, type 5
  setDesc(t.mem, 11, TSS3, 0x67, 0x89, 0);
  setDesc(t.mem, 12, TSS16, 0x2b, 0x81, 0);
  tss32(t, TSS2, { eip: TASK_CODE, eax: 0x2222 });
  return t;
}

test('JMP far to a TSS: old state saved in the old TSS, new task loaded, busy bits moved, CR0.TS set, no link', () => {
  const t = system();
  const { cpu } = t;
  cpu.setReg32(RBX, 0xb0b0);
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  place(t, TASK_CODE, hex('f4 ; hlt'));
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[TR], TSS2_SEL);
  assert.equal(cpu.segBase[TR], TSS2);
  assert.equal(cpu.rip, TASK_CODE);
  assert.equal(cpu.getReg32(RAX), 0x2222);
  assert.equal(cpu.r[8], TASK_STACK);
  assert.equal(cpu.segSel[CS], 0x08);
  assert.ok((cpu.cr0 & CR0_TS) !== 0, 'CR0.TS set by the switch');
  assert.equal(cpu.flags & NT, 0, 'JMP does not nest');
  assert.equal(busy(t, TSS2_SEL), true, 'new task busy');
  assert.equal(busy(t, 0x30), false, 'old task no longer busy');
  assert.equal(rd32(t, TSS + 0x20), UCODE + 7, 'old EIP = the instruction after the JMP');
  assert.equal(rd32(t, TSS + 0x34), 0xb0b0, 'old EBX');
  assert.equal(rd16(t, TSS + 0x4c), 0x08, 'old CS');
  assert.equal(rd16(t, TSS2), 0, 'no previous-task link for JMP');
});

test('CALL far through a task gate nests (link, NT, both busy); IRET with NT=1 returns and frees the callee', () => {
  const t = system();
  const { cpu } = t;
  place(t, UCODE, hex(`
    9a 00 00 00 00 50 00 ; call 0x50:0x0 (task gate)
    b8 05 00 00 00       ; mov eax, 0x5`));
  place(t, TASK_CODE, hex(`
    bb 07 00 00 00       ; mov ebx, 0x7
    cf                   ; iret`));
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[TR], TSS2_SEL);
  assert.equal(rd16(t, TSS2), 0x30, 'previous-task link = old TR');
  assert.ok((cpu.flags & NT) !== 0, 'NT set in the called task');
  assert.equal(busy(t, 0x30), true, 'caller stays busy');
  assert.equal(busy(t, TSS2_SEL), true);
  step(t, 3);
  assert.equal(cpu.segSel[TR], 0x30, 'back in the first task');
  assert.equal(cpu.getReg32(RAX), 5, 'resumed after the CALL');
  assert.equal(cpu.getReg32(RBX), 0, 'the caller\'s EBX came back from its TSS');
  assert.equal(busy(t, TSS2_SEL), false, 'the task left by IRET is not busy');
  assert.equal(rd32(t, TSS2 + 0x24) & NT, 0, 'IRET clears NT in the saved image');
  assert.equal(rd32(t, TSS2 + 0x20), TASK_CODE + 6, 'callee EIP saved after its IRET');
  assert.equal(rd32(t, TSS2 + 0x34), 7);
});

test('INT n through a task gate in the IDT; an exception with an error code pushes it on the new task\'s stack', () => {
  const t = system();
  const { cpu, mem } = t;
  setGate32(mem, 0x40, TSS2_SEL, 0, 5, 0);
  setGate32(mem, 13, TSS3_SEL, 0, 5, 0);
  tss32(t, TSS3, { eip: TASK_CODE + 0x100, esp: 0x58000 });
  place(t, UCODE, hex(`
    cd 40                ; int 0x40
    66 b8 34 12          ; mov ax, 0x1234
    8e c0                ; mov es, eax`));
  place(t, TASK_CODE, hex('cf ; iret'));
  place(t, TASK_CODE + 0x100, hex('f4 ; hlt'));
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[TR], TSS2_SEL);
  assert.equal(rd16(t, TSS2), 0x30, 'INT nests like CALL');
  assert.equal(rd32(t, TSS + 0x20), UCODE + 2, 'return EIP = the next instruction');
  step(t, 3); // iret back; mov ax; mov es faults -> #GP(0x1234) through the task gate
  assert.equal(cpu.segSel[TR], TSS3_SEL);
  assert.equal(cpu.rip, TASK_CODE + 0x101, 'the #GP task ran its HLT');
  assert.equal(cpu.r[8], 0x58000 - 4);
  assert.equal(rd32(t, 0x58000 - 4), 0x1234, 'error code on the new stack');
  assert.equal(rd32(t, TSS + 0x20), UCODE + 6, 'faulting EIP saved in the old TSS');
  assert.ok((rd32(t, TSS + 0x24) & (1 << 16)) !== 0, 'RF set in the saved EFLAGS of a fault');
});

test('double fault through a task gate: #GP whose gate is not present -> #NP -> #DF task gets error code 0', () => {
  const t = system();
  const { cpu, mem } = t;
  setGate32(mem, 13, 0x08, 0x1000, 0xe, 0, false); // #GP gate not present
  setGate32(mem, 8, TSS3_SEL, 0, 5, 0);
  tss32(t, TSS3, { eip: TASK_CODE + 0x100, esp: 0x58000 });
  place(t, UCODE, hex('8e c0 ; mov es, eax (EAX = 0x1234)'));
  place(t, TASK_CODE + 0x100, hex('f4 ; hlt'));
  cpu.setReg32(RAX, 0x1234);
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[TR], TSS3_SEL);
  assert.equal(rd32(t, 0x58000 - 4), 0, '#DF error code');
  assert.equal(rd16(t, TSS3), 0x30, 'link to the faulting task');
});

test('JMP to a busy TSS is #GP(sel); a TSS with limit < 67H is #TS(sel); both leave the old task alone', () => {
  const t = system();
  const { cpu, mem } = t;
  t.exceptions.length = 0;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  place(t, UCODE, hex('ea 00 00 00 00 30 00 ; jmp 0x30:0x0 (the current, busy TSS)'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[GP, 0x30]]);
  setDesc(mem, 9, TSS2, 0x66, 0x89, 0);
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions[1], [TS, 0x48]);
  assert.equal(cpu.segSel[TR], 0x30);
  assert.equal(busy(t, 0x30), true);
  assert.equal(cpu.rip, UCODE);
});

test('a bad CS in the new TSS raises #TS(CS) in the context of the new task', () => {
  const t = system();
  const { cpu } = t;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  tss32(t, TSS2, { eip: TASK_CODE, cs: 0x10 }); // a data segment as CS
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[TS, 0x10]]);
  assert.equal(cpu.segSel[TR], TSS2_SEL, 'the switch happened');
  assert.equal(cpu.rip, TASK_CODE, 'the fault returns to the new task\'s EIP');
  assert.equal(busy(t, 0x30), false);
});

test('IRET with NT to a link whose TSS is not busy is #TS(link); not present is #NP(link)', () => {
  const t = system();
  const { cpu, mem } = t;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  mem.write16(TSS, TSS2_SEL);
  cpu.flags |= NT;
  place(t, UCODE, hex('cf ; iret'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[TS, TSS2_SEL]]);
  setDesc(mem, 9, TSS2, 0x67, 0x0b, 0); // busy, not present
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions[1], [NP, TSS2_SEL]);
});

test('a 16-bit TSS: FLAGS/IP/registers from the 2CH-byte image; upper halves read FFFFh; FS/GS null', () => {
  const t = system();
  const { cpu, mem } = t;
  for (let o = 0; o < 0x2c; o += 2) mem.write16(TSS16 + o, 0);
  mem.write16(TSS16 + 0x0e, 0x4000);  // IP
  mem.write16(TSS16 + 0x10, 0x0002);  // FLAGS
  mem.write16(TSS16 + 0x12, 0xabcd);  // AX
  mem.write16(TSS16 + 0x1a, 0x8000);  // SP
  [0x10, 0x08, 0x10, 0x10].forEach((v, i) => mem.write16(TSS16 + 0x22 + 2 * i, v));
  place(t, UCODE, hex('ea 00 00 00 00 60 00 ; jmp 0x60:0x0'));
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[TR], TSS16_SEL);
  assert.equal(cpu.rip, 0x4000);
  assert.equal(cpu.getReg32(RAX) >>> 0, 0xffffabcd);
  assert.equal(cpu.r[8]! >>> 0, 0xffff8000);
  assert.ok((cpu.segAr[FS]! & AR_UNUSABLE) !== 0 && (cpu.segAr[GS]! & AR_UNUSABLE) !== 0);
  assert.equal(descHi(t, TSS16_SEL) & 0xf00, 0x300, 'busy 16-bit TSS');
});

test('the T flag of the new TSS raises #DB with DR6.BT before the new task\'s first instruction', () => {
  const t = system();
  const { cpu } = t;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  tss32(t, TSS2, { eip: TASK_CODE, t: true });
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[DB, 0]]);
  assert.equal(cpu.rip, TASK_CODE);
  assert.ok((cpu.dr[6]! & 0x8000) !== 0, 'DR6.BT');
});

test('a task whose EFLAGS.VM = 1 runs in virtual-8086 mode with real-mode style segments', () => {
  const t = system();
  const { cpu, mem } = t;
  tss32(t, TSS2, { eip: 0x100, eflags: VM | IF | 2, esp: 0xfff0 });
  [0x2000, 0x1000, 0x3000, 0x4000, 0x5000, 0x6000].forEach((v, i) => mem.write16(TSS2 + 0x48 + 4 * i, v));
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.equal(cpu.v86, true);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segBase[CS], 0x10000);
  assert.equal(cpu.segBase[SS], 0x30000);
  assert.equal(cpu.segBase[DS], 0x40000);
  assert.equal(cpu.segBase[ES], 0x20000);
  assert.equal(cpu.segBase[GS], 0x60000);
  assert.equal(cpu.segLimit[CS], 0xffff);
  assert.equal(cpu.segSel[LDTR], 0);
});

test('IA-32e mode: JMP far to a TSS is #GP(sel), IRET with NT = 1 is #GP(0)', () => {
  const t = makeSystem('long64', 0);
  const { cpu } = t;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  t.mem.write32(0x5000, 0); t.mem.write16(0x5004, 0x30);
  cpu.setReg32(RBX, 0x5000);
  place(t, UCODE, hex('ff 2b ; jmp far [rbx] -> 0x30 (the 64-bit TSS)'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[GP, 0x30]]);
  cpu.flags |= NT;
  place(t, UCODE, hex('48 cf ; iretq'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions[1], [GP, 0]);
  assert.equal(cpu.getReg32(RSP) >>> 0, 0x80000);
});



test('with paging on, a 32-bit TSS loads CR3 (the new TSS is read through the old address space)', () => {
  const t = system();
  const { cpu, mem } = t;
  const PD1 = 0x380000, PD2 = 0x381000;
  mem.write32(PD1, 0x87); mem.write32(PD2, 0x87); // one 4M identity page, user/writable
  cpu.cr4 |= CR4_PSE;
  cpu.cr3 = PD1;
  cpu.cr0 |= CR0_PG;
  cpu.flushTlb();
  tss32(t, TSS2, { eip: TASK_CODE, cr3: PD2 });
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[TR], TSS2_SEL);
  assert.equal(cpu.cr3, PD2);
});

test('privilege: a task gate or TSS with DPL < CPL is #GP(selector); INT n through a DPL 0 task gate from CPL 3 is #GP(vector*8+2)', () => {
  const t = system();
  const { cpu, mem } = t;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  setGate32(mem, 0x40, TSS2_SEL, 0, 5, 0);
  // CPL 3 code and stack
  cpu.setSegCache(CS, 0x1b, 0, 0xffffffff, 0xc0fb);
  cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  cpu.updateMode();
  place(t, UCODE, hex(`
    ea 00 00 00 00 50 00 ; jmp 0x50:0x0 (task gate, DPL 0)
    9a 00 00 00 00 48 00 ; call 0x48:0x0 (TSS, DPL 0)
    cd 40                ; int 0x40 (task gate, DPL 0)`));
  step(t, 1, UCODE); step(t, 1, UCODE + 7);
  assert.deepEqual(t.exceptions, [[GP, GATE_SEL], [GP, TSS2_SEL]]);
  // INT n checks the IDT gate's DPL: the #GP goes through a real interrupt gate here
  cpu.hooks = defaultHooks();
  setGate32(mem, 13, 0x08, HANDLER, 0xe, 0);
  place(t, HANDLER, hex('f4 ; hlt'));
  step(t, 1, UCODE + 14);
  assert.equal(cpu.rip, HANDLER + 1);
  assert.equal(rd32(t, KSTACK - 24), 0x40 * 8 + 2, 'error code: IDT index, IDT bit');
  assert.equal(cpu.segSel[TR], 0x30);
});

test('the new task\'s checks: SS not present is #SS(SS), a data segment not present #NP(sel), both after the switch', () => {
  const t = system();
  const { cpu, mem } = t;
  cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  setDesc(mem, 13, 0, 0xfffff, 0x13, 0xc); // data, DPL 0, not present: selector 0x68
  tss32(t, TSS2, { eip: TASK_CODE, ss: 0x68 });
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[SS_, 0x68]]);
  assert.equal(cpu.segSel[TR], TSS2_SEL);
  // back to a fresh system for the data-segment case
  const u = system();
  u.cpu.hooks = { deliver(c, v, e) { u.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  setDesc(u.mem, 13, 0, 0xfffff, 0x13, 0xc);
  tss32(u, TSS2, { eip: TASK_CODE, ds: 0x68 });
  place(u, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(u, 1, UCODE);
  assert.deepEqual(u.exceptions, [[NP, 0x68]]);
  assert.equal(u.cpu.rip, TASK_CODE);
});

test('the new task\'s LDT is loaded before its segments, which may live in it; a non-LDT descriptor is #TS(LDT selector)', () => {
  const t = system();
  const { cpu, mem } = t;
  const LDT = 0x3800;
  setDesc(mem, 14, LDT, 0x17, 0x82, 0); // LDT descriptor: selector 0x70
  // LDT[1] code32 DPL 0 (selector 0x0c), LDT[2] data DPL 0 (selector 0x14)
  mem.write32(LDT + 8, 0x0000ffff); mem.write32(LDT + 12, 0x00cf9b00);
  mem.write32(LDT + 16, 0x0000ffff); mem.write32(LDT + 20, 0x00cf9300);
  tss32(t, TSS2, { eip: TASK_CODE, cs: 0x0c, ss: 0x14, ds: 0x14, ldt: 0x70 });
  place(t, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(t, 1, UCODE);
  assert.equal(cpu.segSel[LDTR], 0x70);
  assert.equal(cpu.segBase[LDTR], LDT);
  assert.equal(cpu.segSel[CS], 0x0c);
  assert.equal(cpu.segSel[SS], 0x14);
  const u = system();
  u.cpu.hooks = { deliver(c, v, e) { u.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
  tss32(u, TSS2, { eip: TASK_CODE, ldt: 0x10 }); // the data segment is no LDT
  place(u, UCODE, hex('ea 00 00 00 00 48 00 ; jmp 0x48:0x0'));
  step(u, 1, UCODE);
  assert.deepEqual(u.exceptions, [[TS, 0x10]]);
  assert.equal(u.cpu.segSel[TR], TSS2_SEL);
});
