// Paging walk tests through real instructions: page tables are built in test memory, the
// accesses are MOV loads/stores (8b 03 / 89 03), JMP rel32 (e9) for fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, CODE, type TestCpu } from './testing.js';
import { RAX, RBX, CS, SS, AC, CR0_WP, CR4_SMEP, CR4_SMAP, CR4_PSE, CR4_PAE, CR0_PG, CR0_PE, EFER_NXE } from './regs.js';

const PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000, PT = 0x103000;
const P = 1, W = 2, U = 4, A = 0x20, D = 0x40, PS = 0x80;

/** 4-level tables: the first 2 MiB identity-mapped with 4K pages, all P|W|U. */
function longTables(t: TestCpu): void {
  const m = t.mem;
  m.write32(PML4, PDPT | 7); m.write32(PML4 + 4, 0);
  m.write32(PDPT, PD | 7); m.write32(PDPT + 4, 0);
  m.write32(PD, PT | 7); m.write32(PD + 4, 0);
  for (let i = 0; i < 512; i++) { m.write32(PT + i * 8, (i * 4096) | 7); m.write32(PT + i * 8 + 4, 0); }
  t.cpu.cr3 = PML4;
  t.cpu.flushTlb();
}
function pte(t: TestCpu, page: number, lo: number, hi = 0): void {
  t.mem.write32(PT + page * 8, lo); t.mem.write32(PT + page * 8 + 4, hi);
  t.cpu.flushTlb();
}
/** CPL 3 code and stack (64-bit). */
function user64(t: TestCpu): void {
  t.cpu.setSegCache(SS, 0x23, 0, 0xffffffff, 0xc0f3);
  t.cpu.setSegCache(CS, 0x2b, 0, 0xffffffff, 0xa0fb);
}

test('not-present page: #PF error 0 (read) / 2 (write), CR2 = address', () => {
  const t = makeCpu('long64'); longTables(t);
  pte(t, 0x40, 0);
  setReg64(t.cpu, RBX, 0x40010n);
  run(t, '8b 03'); // mov eax, [rbx]
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
  assert.equal(t.cpu.cr2, 0x40010);
  run(t, '89 03'); // mov [rbx], eax
  assert.deepEqual(t.exceptions.pop(), [14, 2]);
});

test('WP: supervisor write to a read-only page faults only with CR0.WP', () => {
  const t = makeCpu('long64'); longTables(t);
  pte(t, 0x40, 0x40000 | P | U);
  setReg64(t.cpu, RBX, 0x40000n); setReg64(t.cpu, RAX, 0x1234n);
  t.cpu.cr0 |= CR0_WP; t.cpu.flushTlb();
  run(t, '89 03'); // mov [rbx], eax
  assert.deepEqual(t.exceptions.pop(), [14, 3]);
  t.cpu.cr0 &= ~CR0_WP; t.cpu.flushTlb();
  run(t, '89 03');
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.mem.read32(0x40000), 0x1234);
});

test('U/S: user read of a supervisor page → 5, user write of a read-only page → 7', () => {
  const t = makeCpu('long64'); longTables(t);
  user64(t);
  pte(t, 0x40, 0x40000 | P | W);
  pte(t, 0x41, 0x41000 | P | U);
  setReg64(t.cpu, RBX, 0x40000n);
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 5]);
  setReg64(t.cpu, RBX, 0x41000n);
  run(t, '8b 03'); // readable: the run ends at the appended HLT, which #GPs at CPL 3
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(t.cpu.rip, CODE + 2);
  run(t, '89 03');
  assert.deepEqual(t.exceptions.pop(), [14, 7]);
  // U must be set at every level: clear it in the PDE
  setReg64(t.cpu, RBX, 0x42000n);
  t.mem.write32(PD, PT | 3); t.cpu.flushTlb();
  run(t, '8b 03'); // the user code page itself is now supervisor: the fetch faults, P|U|I
  assert.deepEqual(t.exceptions.pop(), [14, 0x15]);
});

test('NX: fetch from an XD page → #PF P|I (0x11); without NXE bit 63 is reserved', () => {
  const t = makeCpu('long64'); longTables(t);
  pte(t, 0x11, 0x11000 | P | W | U, 0x80000000 | 0);
  run(t, 'e9 fb 0f 00 00'); // jmp 0x11000
  assert.deepEqual(t.exceptions.pop(), [14, 0x11]);
  assert.equal(t.cpu.cr2, 0x11000);
  t.cpu.efer &= ~EFER_NXE; t.cpu.flushTlb();
  setReg64(t.cpu, RBX, 0x11000n);
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 9]); // P|RSVD
});

test('reserved physical-address bits above MAXPHYADDR → #PF with RSVD', () => {
  const t = makeCpu('long64'); longTables(t);
  pte(t, 0x40, 0x40000 | P | W, 1 << 8); // bit 40 ≥ MAXPHYADDR 39
  setReg64(t.cpu, RBX, 0x40000n);
  run(t, '89 03');
  assert.deepEqual(t.exceptions.pop(), [14, 0xb]); // P|W|RSVD
  // PS in a PML4E is reserved
  pte(t, 0x40, 0x40000 | P | W);
  t.mem.write32(PML4, PDPT | 7 | PS); t.cpu.flushTlb();
  run(t, '8b 03'); // the code fetch itself walks through the bad PML4E: P|RSVD|I
  assert.deepEqual(t.exceptions.pop(), [14, 0x19]);
});

test('SMEP blocks supervisor fetches from user pages; SMAP blocks data unless EFLAGS.AC', () => {
  const t = makeCpu('long64'); longTables(t);
  pte(t, 0x11, 0x11000 | P | W | U);
  for (let i = 0; i < 0x40; i++) if (i !== 0x11) t.mem.write32(PT + i * 8, (i * 4096) | P | W); // supervisor
  t.cpu.cr4 |= CR4_SMEP; t.cpu.flushTlb();
  run(t, 'e9 fb 0f 00 00'); // jmp 0x11000
  assert.deepEqual(t.exceptions.pop(), [14, 0x11]);
  t.cpu.cr4 = (t.cpu.cr4 & ~CR4_SMEP) | CR4_SMAP; t.cpu.flushTlb();
  setReg64(t.cpu, RBX, 0x11000n);
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 1]);
  run(t, '0f 01 cb 8b 03 0f 01 ca'); // stac; mov eax, [rbx]; clac
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.cpu.flags & AC, 0);
  run(t, '8b 03'); // the TLB must not remember the AC=1 access
  assert.deepEqual(t.exceptions.pop(), [14, 1]);
});

test('accessed and dirty bits: A on every level, D on the leaf only after a write', () => {
  const t = makeCpu('long64'); longTables(t);
  pte(t, 0x40, 0x40000 | P | W);
  t.mem.write32(PD, PT | 7);
  setReg64(t.cpu, RBX, 0x40000n);
  run(t, '8b 03');
  assert.equal(t.mem.read32(PT + 0x40 * 8) & (A | D), A);
  assert.equal(t.mem.read32(PD) & A, A);
  run(t, '89 03');
  assert.equal(t.mem.read32(PT + 0x40 * 8) & (A | D), A | D);
  assert.equal(t.mem.read32(PD) & D, 0); // D is not set in non-leaf entries
  // a fault at the PTE still leaves A in the entries the walk went through, not in the PTE
  pte(t, 0x41, 0x41000 | W); // not present
  t.mem.write32(PD, PT | 7);
  pte(t, 0x42, 0x42000 | P); // read-only
  setReg64(t.cpu, RBX, 0x41000n);
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
  assert.equal(t.mem.read32(PD) & A, A);
  t.cpu.cr0 |= CR0_WP;
  setReg64(t.cpu, RBX, 0x42000n);
  run(t, '89 03');
  assert.deepEqual(t.exceptions.pop(), [14, 3]);
  assert.equal(t.mem.read32(PT + 0x42 * 8) & (A | D), 0, 'no A/D on a refused leaf');
});

test('2 MiB and 1 GiB pages translate; large-page reserved bits fault', () => {
  const t = makeCpu('long64'); longTables(t);
  t.mem.write32(PDPT + 8, 0 | P | W | PS); // 1 GiB: linear 1G → physical 0
  t.mem.write32(PD + 8, 0 | P | W | PS);   // 2 MiB: linear 2M → physical 0
  t.cpu.flushTlb();
  t.mem.write32(0x3000, 0xcafe);
  setReg64(t.cpu, RBX, 0x40003000n);
  run(t, '8b 03');
  assert.equal(reg64(t.cpu, RAX), 0xcafen);
  setReg64(t.cpu, RBX, 0x203000n);
  run(t, '8b 03');
  assert.equal(reg64(t.cpu, RAX), 0xcafen);
  t.mem.write32(PD + 8, 0x2000 | P | W | PS); t.cpu.flushTlb(); // bit 13 reserved in a 2M PDE
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 9]);
});

test('INVLPG drops a stale translation; MOV CR3 flushes the TLB', () => {
  const t = makeCpu('long64'); longTables(t);
  t.mem.write32(0x40000, 0x1111); t.mem.write32(0x50000, 0x2222);
  setReg64(t.cpu, RBX, 0x40000n);
  run(t, '8b 03');
  assert.equal(reg64(t.cpu, RAX), 0x1111n);
  t.mem.write32(PT + 0x40 * 8, 0x50000 | 7); // remap without invalidation
  run(t, '8b 03');
  assert.equal(reg64(t.cpu, RAX), 0x1111n, 'TLB keeps the old translation');
  run(t, '0f 01 3b 8b 03'); // invlpg [rbx]; mov eax, [rbx]
  assert.equal(reg64(t.cpu, RAX), 0x2222n);
  t.mem.write32(PT + 0x40 * 8, 0x40000 | 7);
  setReg64(t.cpu, RAX, BigInt(PML4));
  run(t, '0f 22 d8 8b 03'); // mov cr3, rax; mov eax, [rbx]
  assert.equal(reg64(t.cpu, RAX), 0x1111n);
});

test('32-bit paging: 4K pages, 4M pages with CR4.PSE, PSE-36 reserved bits', () => {
  const t = makeCpu('prot32');
  const c = t.cpu, m = t.mem;
  const PD32 = 0x100000, PT32 = 0x101000;
  m.write32(PD32, PT32 | 7);
  for (let i = 0; i < 1024; i++) m.write32(PT32 + i * 4, (i * 4096) | 7);
  m.write32(PT32 + 0x40 * 4, 0x41000 | 5); // linear 0x40000 → 0x41000, read-only
  m.write32(PD32 + 4, 0x00000000 | P | W | PS); // 4M page at linear 4M → physical 0
  m.write32(0x41000, 0xabcd); m.write32(0x3000, 0x77);
  c.cr3 = PD32; c.cr4 |= CR4_PSE; c.cr0 |= CR0_PG | CR0_WP; c.flushTlb();
  c.setReg32(RBX, 0x40000);
  run(t, '8b 03');
  assert.equal(c.getReg32(RAX), 0xabcd);
  run(t, '89 03');
  assert.deepEqual(t.exceptions.pop(), [14, 3]);
  c.setReg32(RBX, 0x403000);
  run(t, '8b 03');
  assert.equal(c.getReg32(RAX), 0x77);
  m.write32(PD32 + 4, (1 << 20) | P | W | PS); c.flushTlb(); // PA bit 39 > MAXPHYADDR
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 9]);
  // NX is not reported as I/D under 32-bit paging unless SMEP
  c.efer |= EFER_NXE;
  m.write32(PT32 + 0x11 * 4, 0); c.flushTlb();
  run(t, 'e9 fb 0f 00 00'); // jmp 0x11000
  assert.deepEqual(t.exceptions.pop(), [14, 0]);
});

test('PAE paging: PDPTEs loaded by MOV CR3, bad PDPTE → #GP, XD usable with NXE', () => {
  const t = makeCpu('prot32');
  const c = t.cpu, m = t.mem;
  const PDPT3 = 0x100000, PD3 = 0x101000, PT3 = 0x102000;
  m.write32(PDPT3, PD3 | 1);
  m.write32(PD3, PT3 | 7);
  for (let i = 0; i < 512; i++) m.write32(PT3 + i * 8, (i * 4096) | 7);
  m.write32(PT3 + 0x40 * 8, 0x41000 | 7);
  m.write32(0x41000, 0x5a5a);
  c.setReg32(RAX, PDPT3); c.setReg32(RBX, 0x40000);
  // mov cr3, eax; mov eax, cr4; or eax, 0x20 is ALU; set PAE directly instead then enable PG
  c.cr4 |= CR4_PAE;
  run(t, '0f 22 d8'); // mov cr3, eax (not paging yet: no PDPTE load)
  c.setReg32(RAX, c.cr0 | CR0_PG);
  run(t, '0f 22 c0 8b 03'); // mov cr0, eax (loads PDPTEs); mov eax, [ebx]
  assert.equal(t.exceptions.length, 0);
  assert.equal(c.getReg32(RAX), 0x5a5a);
  m.write32(0x103000, 1 | 2); // PDPTE with reserved bit 1
  c.setReg32(RAX, 0x103000);
  run(t, '0f 22 d8');
  assert.deepEqual(t.exceptions.pop(), [13, 0]);
  assert.equal(c.cr3, PDPT3);
  // bit 62 is reserved in PAE entries (ignored in 4-level paging)
  m.write32(PT3 + 0x40 * 8 + 4, 0x40000000); c.flushTlb();
  run(t, '8b 03');
  assert.deepEqual(t.exceptions.pop(), [14, 9]);
  m.write32(PT3 + 0x11 * 8 + 4, 0x80000000); c.efer |= EFER_NXE; c.flushTlb();
  run(t, 'e9 fb 0f 00 00'); // jmp 0x11000
  assert.deepEqual(t.exceptions.pop(), [14, 0x11]);
});

test('protected mode without paging does not walk', () => {
  const t = makeCpu('prot32');
  t.mem.write32(0x40000, 42);
  t.cpu.setReg32(RBX, 0x40000);
  run(t, '8b 03');
  assert.equal(t.cpu.getReg32(RAX), 42);
  assert.equal(t.cpu.cr0 & CR0_PE, CR0_PE);
});
