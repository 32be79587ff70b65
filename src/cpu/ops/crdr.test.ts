// MOV CR / MOV DR / CLTS / LMSW tests; bytes from `as --64` / `as --32` with objdump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, PT_BASE } from '../testing.js';
import {
  RAX, RCX, CS, SS, CR0_PE, CR0_PG, CR0_TS, CR0_CD, CR0_NW, CR0_WP, CR4_PAE, CR4_DE, CR4_PCIDE,
  EFER_LME, EFER_LMA,
} from '../regs.js';

test('mov rax, cr0 / mov cr0, rax: reads back, WP toggles, reserved high half #GP', () => {
  const t = makeCpu('long64');
  run(t, '0f 20 c0'); // mov rax, cr0
  assert.equal(reg64(t.cpu, RAX), BigInt(t.cpu.cr0 >>> 0));
  setReg64(t.cpu, RAX, BigInt((t.cpu.cr0 | CR0_WP) >>> 0));
  run(t, '0f 22 c0'); // mov cr0, rax
  assert.equal(t.cpu.cr0 & CR0_WP, CR0_WP);
  setReg64(t.cpu, RAX, (1n << 32n) | BigInt(t.cpu.cr0 >>> 0));
  run(t, '0f 22 c0');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('CR0 invalid combinations: PG without PE, NW without CD, clearing PG in 64-bit mode', () => {
  const t = makeCpu('prot32');
  t.cpu.setReg32(RAX, CR0_PG);
  run(t, '0f 22 c0'); // mov cr0, eax
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  t.cpu.setReg32(RAX, CR0_PE | CR0_NW);
  run(t, '0f 22 c0');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  const l = makeCpu('long64');
  setReg64(l.cpu, RAX, BigInt((l.cpu.cr0 & ~CR0_PG) >>> 0));
  run(l, '0f 22 c0');
  assert.deepEqual(l.exceptions.pop(), [13, 0]);
});

test('entering IA-32e mode: CR0.PG with EFER.LME sets LMA only with CR4.PAE', () => {
  const t = makeCpu('prot32');
  const c = t.cpu;
  // reuse testing.ts's identity tables: build them by switching a long64 CPU's memory layout
  const m = t.mem;
  m.write32(PT_BASE, (PT_BASE + 0x1000) | 7);
  m.write32(PT_BASE + 0x1000, (PT_BASE + 0x2000) | 7);
  for (let i = 0; i < 512; i++) m.write32(PT_BASE + 0x2000 + i * 8, (i * 0x200000) | 0x87);
  c.setReg32(RCX, 0xc0000080); c.setReg32(RAX, EFER_LME); t.cpu.setReg32(2, 0);
  run(t, '0f 30'); // wrmsr (EFER.LME)
  assert.equal(c.efer & EFER_LME, EFER_LME);
  c.setReg32(RAX, (c.cr0 | CR0_PG) >>> 0);
  run(t, '0f 22 c0'); // mov cr0, eax without PAE
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  c.setReg32(RAX, PT_BASE);
  run(t, '0f 22 d8'); // mov cr3, eax
  c.setReg32(RAX, CR4_PAE);
  run(t, '0f 22 e0'); // mov cr4, eax
  c.setReg32(RAX, (c.cr0 | CR0_PG) >>> 0);
  run(t, '0f 22 c0'); // mov cr0, eax
  assert.equal(t.exceptions.length, 0);
  assert.equal(c.efer & EFER_LMA, EFER_LMA);
  assert.equal(c.code64, false, 'compatibility mode until a 64-bit CS is loaded');
  // LME cannot change while paging is on
  c.setReg32(RCX, 0xc0000080); c.setReg32(RAX, 0);
  run(t, '0f 30');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  // PAE cannot be cleared in IA-32e mode
  c.setReg32(RAX, 0);
  run(t, '0f 22 e0');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('CR4: unsupported bits #GP, PCIDE needs CR3[11:0] = 0, CR3 bit 63 is not stored', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 1n << 12n); // LA57: not in the profile
  run(t, '0f 22 e0'); // mov cr4, rax
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  setReg64(t.cpu, RAX, BigInt(PT_BASE | 5));
  run(t, '0f 22 d8'); // mov cr3, rax
  setReg64(t.cpu, RAX, BigInt(t.cpu.cr4 | CR4_PCIDE));
  run(t, '0f 22 e0');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  setReg64(t.cpu, RAX, BigInt(PT_BASE));
  run(t, '0f 22 d8');
  setReg64(t.cpu, RAX, BigInt(t.cpu.cr4 | CR4_PCIDE));
  run(t, '0f 22 e0');
  assert.equal(t.exceptions.length, 0);
  setReg64(t.cpu, RAX, (1n << 63n) | BigInt(PT_BASE | 3));
  run(t, '0f 22 d8 0f 20 d8'); // mov cr3, rax; mov rax, cr3
  assert.equal(reg64(t.cpu, RAX), BigInt(PT_BASE | 3));
  setReg64(t.cpu, RAX, 1n << 45n); // beyond MAXPHYADDR
  run(t, '0f 22 d8');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('CR2 and CR8: 64-bit values, CR8 reserved bits #GP, CR8 only via REX.R', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0xffff800000001234n);
  run(t, '0f 22 d0 0f 20 d1'); // mov cr2, rax; mov rcx, cr2
  assert.equal(reg64(t.cpu, RCX), 0xffff800000001234n);
  setReg64(t.cpu, RAX, 9n);
  run(t, '44 0f 22 c0 44 0f 20 c1'); // mov cr8, rax; mov rcx, cr8
  assert.equal(reg64(t.cpu, RCX), 9n);
  setReg64(t.cpu, RAX, 0x10n);
  run(t, '44 0f 22 c0');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  run(t, '0f 20 c8'); // mov rax, cr1
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
});

test('CPL 3: MOV CR and MOV DR raise #GP(0)', () => {
  const t = makeCpu('long64');
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
  run(t, '0f 20 c0'); // mov rax, cr0
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  run(t, '0f 21 f8'); // mov rax, dr7
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
});

test('debug registers: DR4/DR5 alias DR6/DR7 unless CR4.DE, fixed bits, DR7.GD → #DB', () => {
  const t = makeCpu('long64');
  run(t, '0f 21 e0'); // mov rax, dr4 (= DR6)
  assert.equal(reg64(t.cpu, RAX), 0xffff0ff0n);
  setReg64(t.cpu, RAX, 0x12345678abcdn);
  run(t, '0f 23 c0 0f 21 c1'); // mov dr0, rax; mov rcx, dr0
  assert.equal(reg64(t.cpu, RCX), 0x12345678abcdn);
  setReg64(t.cpu, RAX, 1n << 32n);
  run(t, '0f 23 f8'); // mov dr7, rax
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  t.cpu.cr4 |= CR4_DE;
  run(t, '0f 21 e0');
  assert.deepEqual(t.exceptions.pop(), [6, 0]);
  setReg64(t.cpu, RAX, 0x2000n); // GD
  run(t, '0f 23 f8'); // mov dr7, rax
  assert.equal(t.cpu.dr[7], 0x2400);
  run(t, '0f 21 c0'); // mov rax, dr0 → #DB, BD set, GD cleared
  assert.deepEqual(t.exceptions.pop(), [1, 0]);
  assert.equal(t.cpu.dr[6]! & 0x2000, 0x2000);
  assert.equal(t.cpu.dr[7]! & 0x2000, 0);
});

test('CLTS clears CR0.TS; LMSW sets PE but cannot clear it', () => {
  const t = makeCpu('real');
  t.cpu.cr0 |= CR0_TS;
  run(t, '0f 06'); // clts
  assert.equal(t.cpu.cr0 & CR0_TS, 0);
  t.cpu.cr0 &= ~(CR0_CD | CR0_NW);
  t.cpu.setReg16(RAX, 0x9);
  run(t, '0f 01 f0'); // lmsw ax
  assert.equal(t.cpu.cr0 & 0xf, 0x9);
  t.cpu.setReg16(RAX, 0x0);
  run(t, '0f 01 f0');
  assert.equal(t.cpu.cr0 & CR0_PE, CR0_PE);
  run(t, '0f 01 e0'); // smsw ax (16-bit real mode)
  assert.equal(t.cpu.getReg16(RAX), t.cpu.cr0 & 0xffff);
});
