// Cpu.flushTlb clears the entries logged since the last flush (tlb-fill.ts), or the whole
// TLB once more than TLB_LOG fills happened: either way no stale translation survives a
// flush (SDM Vol. 3A §4.10.4: MOV to CR3 invalidates non-global translations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, type TestCpu } from './testing.js';
import { TLB_LOG } from './cpu.js';

const PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000, PT0 = 0x103000;
/** 4 KiB pages: linear 8 MiB .. 16 MiB → physical 8 MiB .. 16 MiB (4 page tables). */
const BASE = 8 << 20, PAGES = 2048;

function tables(t: TestCpu): void {
  const m = t.mem;
  // keep testing.ts's 2 MiB identity pages for the low 8 MiB (code and stack)
  for (let i = 0; i < 4096; i += 4) { m.write32(PML4 + i, 0); m.write32(PDPT + i, 0); m.write32(PD + i, 0); }
  m.write32(PML4, PDPT | 7); m.write32(PDPT, PD | 7);
  for (let i = 0; i < 4; i++) m.write32(PD + i * 8, (i * 0x200000) | 0x87);
  for (let i = 0; i < 4; i++) m.write32(PD + (4 + i) * 8, (PT0 + i * 0x1000) | 7);
  for (let p = 0; p < PAGES; p++) m.write32(PT0 + p * 8, (BASE + p * 4096) | 0x67);
  t.cpu.cr3 = PML4;
  t.cpu.flushTlb();
}

for (const touched of [100, TLB_LOG + 500]) {
  test(`a flush after ${touched} TLB fills drops a remapped page (${touched > TLB_LOG ? 'whole-TLB' : 'logged-entries'} path)`, () => {
    const t = makeCpu('long64', 24 << 20);
    tables(t);
    const c = t.cpu, m = t.mem;
    const last = BASE + (touched - 1) * 4096;
    m.write8(BASE + 5, 0x11); m.write8(last + 5, 0x33); m.write8(BASE + PAGES * 4096 - 4096 + 5, 0x22);
    for (let p = 0; p < touched; p++) c.rd8(BASE + p * 4096);
    // the first and the last page touched now map the last frame
    m.write32(PT0, (BASE + PAGES * 4096 - 4096) | 0x67);
    m.write32(PT0 + (touched - 1) * 8, (BASE + PAGES * 4096 - 4096) | 0x67);
    assert.equal(c.rd8(BASE + 5), 0x11, 'the TLB still holds the old translations');
    assert.equal(c.rd8(last + 5), 0x33);
    c.flushTlb();
    assert.equal(c.rd8(BASE + 5), 0x22, 'the flush dropped them');
    assert.equal(c.rd8(last + 5), 0x22);
  });
}
