// The 4-level walk takes each table index from its own bits of the linear address (SDM Vol.
// 3A §4.5.4, Figure 4-8: PML4 47:39, PDPT 38:30, PD 29:21, PT 20:12) for addresses in both
// canonical halves, and ignores the PCID in CR3's low bits (§4.10.1). mmu.ts computes the
// indexes on int32 halves; the expected ones here come from BigInt shifts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, type TestCpu } from './testing.js';
import { RAX, RBX, CR4_PCIDE } from './regs.js';

const PML4 = 0x100000, P = 1, W = 2;

/** Identity map of the first 2 MiB (code, stack, test tables) through PML4[0]. */
function baseTables(t: TestCpu, alloc: () => number): void {
  const m = t.mem;
  const pdpt = alloc(), pd = alloc(), pt = alloc();
  m.write32(PML4, pdpt | 7); m.write32(pdpt, pd | 7); m.write32(pd, pt | 7);
  for (let i = 0; i < 512; i++) m.write32(pt + i * 8, (i * 4096) | 7);
}

/** Table of the next level under entry `idx` of `table`, made when missing. */
function sub(t: TestCpu, table: number, idx: number, alloc: () => number): number {
  const e = t.mem.read32(table + idx * 8);
  if ((e & P) !== 0) return e & ~0xfff;
  const n = alloc();
  t.mem.write32(table + idx * 8, n | 7); t.mem.write32(table + idx * 8 + 4, 0);
  return n;
}

test('4-level walk: every table index from its own address bits, both canonical halves, PCID ignored', () => {
  const t = makeCpu('long64', 8 << 20);
  let next = 0x200000;
  const alloc = (): number => { const a = next; next += 0x1000; for (let i = 0; i < 4096; i += 4) t.mem.write32(a + i, 0); return a; };
  for (let i = 0; i < 4096; i += 4) t.mem.write32(PML4 + i, 0);
  baseTables(t, alloc);
  const addrs = [
    0x0000_7fff_ffff_f000n, 0x0000_4000_4020_3000n, 0x0000_0080_0000_0000n, 0x0000_0040_0060_1000n,
    0xffff_8000_0000_0000n, 0xffff_ffff_ffff_f000n, 0xffff_c0de_8765_4000n, 0xffff_8123_4567_8000n,
    0xffff_fffe_c000_0000n, 0xffff_ff80_0020_0000n,
  ];
  const pages: number[] = [];
  for (const [k, a] of addrs.entries()) {
    const ix = [39n, 30n, 21n, 12n].map((s) => Number((a >> s) & 511n));
    let tb = PML4;
    for (let l = 0; l < 3; l++) tb = sub(t, tb, ix[l]!, alloc);
    const page = alloc();
    assert.equal(t.mem.read32(tb + ix[3]! * 8) & P, 0, `address ${k}: its own PTE`);
    t.mem.write32(tb + ix[3]! * 8, page | P | W);
    t.mem.write32(page + 0x18, 0x1000 + k);
    pages.push(page);
  }
  // CR4.PCIDE with PCID 0x5a5 in CR3[11:0]: the PML4 base is still CR3[51:12]
  t.cpu.cr4 |= CR4_PCIDE;
  t.cpu.cr3 = PML4 | 0x5a5;
  t.cpu.flushTlb();
  for (const [k, a] of addrs.entries()) {
    setReg64(t.cpu, RBX, BigInt.asIntN(64, a + 0x18n));
    setReg64(t.cpu, RAX, 0n);
    run(t, '48 8b 03'); // mov rax, [rbx]
    assert.deepEqual(t.exceptions, [], `address ${a.toString(16)}`);
    assert.equal(reg64(t.cpu, RAX), BigInt(0x1000 + k), `address ${a.toString(16)} reads its own page`);
  }
  // a store through a kernel-half address lands in its own page
  setReg64(t.cpu, RBX, BigInt.asIntN(64, addrs[6]! + 0x20n));
  setReg64(t.cpu, RAX, 0xbeefn);
  run(t, '48 89 03'); // mov [rbx], rax
  assert.deepEqual(t.exceptions, []);
  assert.equal(t.mem.read32(pages[6]! + 0x20), 0xbeef);
});
