/**
 * Virtual-8086 mode and its extensions (vme.ts; SDM Vol. 3A §20.1-§20.4): entering v86 mode
 * with IRETD, leaving it through an interrupt gate with the 9-dword frame, and CR4.VME /
 * CR4.PVI virtual interrupt flags and the INT n redirection bit map. The v86 code is 16-bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestCpu } from '../testing.js';
import { hex } from '../testing.js';
import { makeSystem, place, step, setGate32, HANDLER, KSTACK, TSS, UCODE } from './gdtkit.js';
import { loadV86 } from '../segments.js';
import { CS, SS, DS, ES, FS, GS, TR, VM, IF, TF, IOPL, VIF, VIP, CR4_VME, CR4_PVI, AR_UNUSABLE, GP } from '../regs.js';

const rd32 = (t: TestCpu, a: number): number => t.mem.read32(a) >>> 0;
const rd16 = (t: TestCpu, a: number): number => t.mem.read16(a);
/** v86 segments: code at CS 0x1000 (= UCODE), stack at 0x5000:0x1000. */
const V86_CS = 0x1000, V86_SS = 0x5000, V86_SP = 0x1000;
const stackLin = (sp: number): number => V86_SS * 16 + sp;

/** Records exceptions (vector, error code) and halts instead of delivering them. */
function record(t: TestCpu): void {
  t.cpu.hooks = { deliver(c, v, e) { t.exceptions.push([v, e]); c.halted = true; }, acknowledgeInterrupt: () => -1 };
}

/** A CPL 0 system put straight into v86 mode at V86_CS:0 with `flags` (VM added). */
function v86(flags: number, cr4 = CR4_VME): TestCpu {
  const t = makeSystem('prot32', 0);
  const { cpu } = t;
  cpu.cr4 |= cr4;
  // the redirection bit map: 32 bytes at 68H, I/O map base 88H, TSS limit past both
  t.mem.write16(TSS + 0x66, 0x88);
  for (let i = 0; i < 32; i++) t.mem.write8(TSS + 0x68 + i, 0);
  cpu.segLimit[TR] = 0x88 + 8192 / 8;
  cpu.setFlags(flags | VM | 2, -1);
  for (const s of [ES, DS, FS, GS]) loadV86(cpu, s, 0x2000);
  loadV86(cpu, CS, V86_CS);
  loadV86(cpu, SS, V86_SS);
  cpu.r[8] = V86_SP;
  cpu.updateMode();
  record(t);
  return t;
}

test('IRETD at CPL 0 with VM=1 enters v86 mode; a #GP there reaches the ring-0 handler with the 9-dword frame', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  setGate32(mem, 13, 0x08, HANDLER, 0xe, 0);
  const frame = 0x6f000;
  [0x0000, V86_CS, VM | 2, V86_SP, V86_SS, 0x2000, 0x3000, 0x4000, 0x6000].forEach((v, i) => mem.write32(frame + 4 * i, v));
  cpu.r[8] = frame;
  place(t, 0x22000, hex('cf ; iretd'));
  place(t, UCODE, hex('fa ; cli (IOPL 0, no VME: #GP)'));
  place(t, HANDLER, hex('f4 ; hlt'));
  step(t, 1, 0x22000);
  assert.equal(cpu.v86, true);
  assert.equal(cpu.cpl, 3);
  assert.equal(cpu.segBase[DS], 0x30000);
  assert.equal(cpu.segBase[GS], 0x60000);
  assert.equal(cpu.defOsz, 2, '16-bit code');
  step(t, 1);
  assert.equal(cpu.v86, false);
  assert.equal(cpu.cpl, 0);
  assert.equal(cpu.rip, HANDLER + 1);
  assert.deepEqual([0, 4, 8, 12, 16, 20, 24, 28, 32, 36].map((o) => rd32(t, KSTACK - 40 + o)),
    [0, 0, V86_CS, (VM | 2 | (1 << 16)) >>> 0, V86_SP, V86_SS, 0x2000, 0x3000, 0x4000, 0x6000],
    'error code, EIP, CS, EFLAGS (VM, RF), ESP, SS, ES, DS, FS, GS');
  for (const s of [DS, ES, FS, GS]) assert.ok((cpu.segAr[s]! & AR_UNUSABLE) !== 0, 'data segments nulled');
});

test('VME: CLI/STI at IOPL 0 in v86 mode act on VIF, IF untouched; STI with VIP set is #GP(0)', () => {
  const t = v86(IF);
  const { cpu } = t;
  place(t, UCODE, hex(`
    fa    ; cli
    fb    ; sti
    fb    ; sti (VIP set by the test)`));
  step(t, 1, 0);
  assert.equal(cpu.flags & (IF | VIF), IF);
  step(t, 1);
  assert.equal(cpu.flags & (IF | VIF), IF | VIF);
  cpu.flags &= ~VIF;
  cpu.flags |= VIP;
  step(t, 1);
  assert.deepEqual(t.exceptions, [[GP, 0]]);
  assert.equal(cpu.flags & VIF, 0);
});

test('without VME, CLI/PUSHF/INT n at IOPL 0 in v86 mode are #GP(0)', () => {
  const t = v86(IF, 0);
  place(t, UCODE, hex('fa 9c cd 21 ; cli / pushf / int 0x21'));
  step(t, 1, 0); step(t, 1, 1); step(t, 1, 2);
  assert.deepEqual(t.exceptions, [[GP, 0], [GP, 0], [GP, 0]]);
});

test('VME: PUSHF stores VIF as IF and IOPL 3; POPF loads VIF from IF; POPF with TF = 1 and PUSHFD are #GP(0)', () => {
  const t = v86(IF);
  const { cpu } = t;
  place(t, UCODE, hex(`
    9c          ; pushf
    68 00 02    ; push 0x200
    9d          ; popf
    68 00 01    ; push 0x100
    9d          ; popf (TF)`));
  step(t, 1, 0);
  assert.equal(rd16(t, stackLin(V86_SP - 2)), IOPL | 2, 'IF image = VIF = 0, IOPL = 3');
  step(t, 2);
  assert.equal(cpu.flags & (IF | VIF | IOPL), IF | VIF, 'VIF set, IOPL kept at 0');
  assert.equal(cpu.r[8], V86_SP - 2);
  step(t, 2);
  assert.deepEqual(t.exceptions, [[GP, 0]]);
  assert.equal(cpu.r[8], V86_SP - 4, 'nothing popped');
  place(t, UCODE + 0x20, hex('66 9c ; pushfd'));
  step(t, 1, 0x20);
  assert.deepEqual(t.exceptions[1], [GP, 0]);
});

test('VME: INT n with a clear redirection bit goes through the v86 IVT with IF image = VIF and VIF cleared', () => {
  const t = v86(IF | VIF | TF);
  const { cpu, mem } = t;
  mem.write16(0x21 * 4, 0x0010); mem.write16(0x21 * 4 + 2, 0x1100);
  place(t, UCODE, hex('cd 21 ; int 0x21'));
  step(t, 1, 0);
  assert.equal(t.exceptions.length, 0, 'no #DB: the INT clears TF and is an event');
  assert.equal(cpu.segSel[CS], 0x1100);
  assert.equal(cpu.rip, 0x10);
  assert.equal(cpu.v86, true);
  assert.deepEqual([0, 2, 4].map((o) => rd16(t, stackLin(V86_SP - 6 + o))), [2, V86_CS, IF | TF | IOPL | 2]);
  assert.equal(cpu.flags & (IF | VIF | TF), IF, 'VIF and TF cleared, IF kept');
});

test('VME: INT n with its redirection bit set is #GP(0) at IOPL 0; at IOPL 3 a clear bit redirects and clears IF', () => {
  const t = v86(IF);
  const { cpu, mem } = t;
  mem.write8(TSS + 0x68 + (0x21 >> 3), 1 << (0x21 & 7));
  place(t, UCODE, hex('cd 21 ; int 0x21'));
  step(t, 1, 0);
  assert.deepEqual(t.exceptions, [[GP, 0]]);
  mem.write8(TSS + 0x68 + (0x21 >> 3), 0);
  mem.write16(0x21 * 4, 0x0040); mem.write16(0x21 * 4 + 2, 0x1000);
  cpu.flags |= IOPL;
  step(t, 1, 0);
  assert.equal(cpu.rip, 0x40);
  assert.equal(rd16(t, stackLin(V86_SP - 2)), IF | IOPL | 2);
  assert.equal(cpu.flags & IF, 0);
});

test('VME: a 16-bit IRET at IOPL 0 loads VIF from the IF image; with VIP set and IF = 1 it is #GP(0)', () => {
  const t = v86(IF);
  const { cpu, mem } = t;
  const sp = V86_SP - 6;
  [0x0030, V86_CS, IF | 2].forEach((v, i) => mem.write16(stackLin(sp + 2 * i), v));
  cpu.r[8] = sp;
  place(t, UCODE, hex('cf ; iret'));
  step(t, 1, 0);
  assert.equal(cpu.rip, 0x30);
  assert.equal(cpu.flags & (IF | VIF | IOPL), IF | VIF);
  cpu.r[8] = sp;
  cpu.flags |= VIP;
  step(t, 1, 0);
  assert.deepEqual(t.exceptions, [[GP, 0]]);
});

test('PVI: CLI/STI at CPL 3 with IOPL 0 act on VIF; without PVI they are #GP(0)', () => {
  const t = makeSystem('prot32', 3);
  const { cpu } = t;
  record(t);
  cpu.cr4 |= CR4_PVI;
  cpu.flags |= IF | VIF;
  place(t, UCODE, hex('fa fb ; cli / sti'));
  step(t, 1, UCODE);
  assert.equal(cpu.flags & (IF | VIF), IF);
  step(t, 1);
  assert.equal(cpu.flags & (IF | VIF), IF | VIF);
  cpu.cr4 &= ~CR4_PVI;
  step(t, 1, UCODE);
  assert.deepEqual(t.exceptions, [[GP, 0]]);
});
