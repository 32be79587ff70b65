import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, CODE, PT_BASE, type TestCpu } from '../testing.js';
import { RAX, RCX, RSI, RDI, DS, ES, FS, DF } from '../regs.js';
import { REP_CAP } from './string.js';

const PF = 14;

function fillPattern(t: TestCpu, at: number, len: number, seed: number): void {
  for (let i = 0; i < len; i++) t.mem.write8(at + i, (i * 7 + seed) & 0xff);
}

/**
 * The long64 test mode identity-maps 1 GiB, but RAM is only 4 MiB: linear page 0x3ffff000
 * (the last one mapped) is pointed at RAM page 0x302000 so a copy can run up to 0x40000000.
 */
function mapLastPage(t: TestCpu): void {
  const pt = PT_BASE + 0x6000;
  t.mem.write32(PT_BASE + 0x2000 + 511 * 8, pt | 7);
  t.mem.write32(pt + 511 * 8, 0x302000 | 7);
}

/** Maps linear 0x40000000 (+8K) with 4K pages onto physical 0x300000 (beyond the 1 GiB identity map). */
function mapHighPages(t: TestCpu): void {
  const pd = PT_BASE + 0x4000, pt = PT_BASE + 0x5000;
  t.mem.write32(PT_BASE + 0x1000 + 8, pd | 7);
  t.mem.write32(pd, pt | 7);
  t.mem.write32(pt, 0x300000 | 7);
  t.mem.write32(pt + 8, 0x301000 | 7);
}

test('F3 A4 REP MOVSB across pages (fast path) copies and leaves RSI/RDI/RCX at the end', () => {
  const t = makeCpu('long64');
  fillPattern(t, 0x100003, 10000, 1);
  setReg64(t.cpu, RSI, 0x100003n);
  setReg64(t.cpu, RDI, 0x180007n);
  setReg64(t.cpu, RCX, 10000n);
  run(t, 'f3 a4'); // rep movsb
  for (let i = 0; i < 10000; i++) assert.equal(t.mem.read8(0x180007 + i), (i * 7 + 1) & 0xff);
  assert.equal(t.mem.read8(0x180007 + 10000), 0);
  assert.equal(reg64(t.cpu, RSI), 0x100003n + 10000n);
  assert.equal(reg64(t.cpu, RDI), 0x180007n + 10000n);
  assert.equal(reg64(t.cpu, RCX), 0n);
});

test('REP MOVSD/MOVSQ/MOVSW with element sizes 4, 8 and 2', () => {
  const t = makeCpu('long64');
  fillPattern(t, 0x100000, 0x3000, 3);
  for (const [code, size] of [['f3 a5', 4], ['f3 48 a5', 8], ['66 f3 a5', 2]] as const) {
    t.mem.load(0x180000, new Uint8Array(0x3000));
    setReg64(t.cpu, RSI, 0x100000n);
    setReg64(t.cpu, RDI, 0x180000n);
    setReg64(t.cpu, RCX, BigInt(0x2002 / size | 0));
    run(t, code);
    const n = (0x2002 / size | 0) * size;
    for (let i = 0; i < n; i++) assert.equal(t.mem.read8(0x180000 + i), (i * 7 + 3) & 0xff, `${code} byte ${i}`);
    assert.equal(t.mem.read8(0x180000 + n), 0);
    assert.equal(reg64(t.cpu, RDI), 0x180000n + BigInt(n));
  }
});

test('overlapping REP MOVSB keeps byte-by-byte forward semantics (the memset idiom)', () => {
  const t = makeCpu('long64');
  t.mem.write8(0x3000, 0x5a);
  setReg64(t.cpu, RSI, 0x3000n);
  setReg64(t.cpu, RDI, 0x3001n);
  setReg64(t.cpu, RCX, 100n);
  run(t, 'f3 a4');
  for (let i = 0; i <= 100; i++) assert.equal(t.mem.read8(0x3000 + i), 0x5a);
  assert.equal(t.mem.read8(0x3000 + 101), 0);
  // distance 3 with dword elements: each element reads what the previous one wrote
  const ref = new Uint8Array(64);
  for (let i = 0; i < 64; i++) { ref[i] = i + 1; t.mem.write8(0x4000 + i, i + 1); }
  for (let k = 0; k < 10; k++) { const v = ref.slice(4 * k, 4 * k + 4); ref.set(v, 3 + 4 * k); }
  setReg64(t.cpu, RSI, 0x4000n);
  setReg64(t.cpu, RDI, 0x4003n);
  setReg64(t.cpu, RCX, 10n);
  run(t, 'f3 a5'); // rep movsd
  for (let i = 0; i < 64; i++) assert.equal(t.mem.read8(0x4000 + i), ref[i], `byte ${i}`);
});

test('STD: REP MOVSB and REP STOSW run downwards', () => {
  const t = makeCpu('long64');
  fillPattern(t, 0x3000, 16, 5);
  t.cpu.flags |= DF;
  setReg64(t.cpu, RSI, 0x300fn);
  setReg64(t.cpu, RDI, 0x500fn);
  setReg64(t.cpu, RCX, 16n);
  run(t, 'f3 a4');
  for (let i = 0; i < 16; i++) assert.equal(t.mem.read8(0x5000 + i), (i * 7 + 5) & 0xff);
  assert.equal(reg64(t.cpu, RSI), 0x2fffn);
  setReg64(t.cpu, RAX, 0xbeefn);
  setReg64(t.cpu, RDI, 0x600en);
  setReg64(t.cpu, RCX, 4n);
  run(t, '66 f3 ab'); // rep stosw
  for (let i = 0; i < 4; i++) assert.equal(t.mem.read16(0x6008 + 2 * i), 0xbeef);
  assert.equal(t.mem.read16(0x6006), 0);
  assert.equal(reg64(t.cpu, RDI), 0x6006n);
});

test('REP MOVSB into an unmapped page faults at that iteration and restarts with the rest', () => {
  const t = makeCpu('long64');
  mapLastPage(t);
  fillPattern(t, 0x3000, 0x100, 9);
  setReg64(t.cpu, RSI, 0x3000n);
  setReg64(t.cpu, RDI, 0x3ffffff0n);
  setReg64(t.cpu, RCX, 0x100n);
  run(t, 'f3 a4');
  assert.deepEqual(t.exceptions.pop(), [PF, 2]);
  assert.equal(t.cpu.cr2, 0x40000000);
  assert.equal(t.cpu.rip, CODE);
  assert.equal(reg64(t.cpu, RCX), 0xf0n);
  assert.equal(reg64(t.cpu, RSI), 0x3010n);
  assert.equal(reg64(t.cpu, RDI), 0x40000000n);
  for (let i = 0; i < 16; i++) assert.equal(t.mem.read8(0x302ff0 + i), (i * 7 + 9) & 0xff);
  // the "handler" maps the page; re-executing the instruction finishes the copy
  mapHighPages(t);
  t.cpu.halted = false;
  t.cpu.run(100);
  assert.equal(t.exceptions.length, 0);
  assert.equal(reg64(t.cpu, RCX), 0n);
  for (let i = 16; i < 0x100; i++) assert.equal(t.mem.read8(0x300000 + i - 16), (i * 7 + 9) & 0xff);
});

test('REP MOVSD with the source crossing into an unmapped page stops at the fault', () => {
  const t = makeCpu('long64');
  mapLastPage(t);
  setReg64(t.cpu, RSI, 0x3ffffff8n);
  setReg64(t.cpu, RDI, 0x5000n);
  setReg64(t.cpu, RCX, 8n);
  run(t, 'f3 a5'); // rep movsd: elements at ...f8 and ...fc succeed, 0x40000000 faults
  assert.deepEqual(t.exceptions.pop(), [PF, 0]);
  assert.equal(reg64(t.cpu, RCX), 6n);
  assert.equal(reg64(t.cpu, RSI), 0x40000000n);
  assert.equal(reg64(t.cpu, RDI), 0x5008n);
});

test('a long REP is sliced: one call does at most REP_CAP slow iterations and re-points RIP', () => {
  const t = makeCpu('real');
  t.cpu.setSegReal(ES, 0x2000);
  t.cpu.setReg16(RAX, 0x77);
  t.cpu.setReg16(RDI, 0);
  t.cpu.setReg16(RCX, 0x9000);
  t.mem.load(CODE, Uint8Array.from([0xf3, 0xaa, 0xf4])); // rep stosb; hlt
  t.cpu.rip = CODE;
  t.cpu.run(1);
  assert.equal(t.cpu.rip, CODE);
  assert.equal(t.cpu.getReg16(RCX), 0x9000 - REP_CAP);
  assert.equal(t.cpu.getReg16(RDI), REP_CAP);
  t.cpu.run(100);
  assert.equal(t.cpu.getReg16(RCX), 0);
  assert.equal(t.cpu.getReg16(RDI), 0x9000);
  assert.equal(t.mem.read8(0x20000 + 0x8fff), 0x77);
  assert.equal(t.mem.read8(0x20000 + 0x9000), 0);
});

test('16-bit and 32-bit address sizes wrap SI/DI and zero-extend in 64-bit mode', () => {
  const r = makeCpu('real');
  r.cpu.setSegReal(DS, 0x100);
  r.cpu.setReg16(RSI, 0xfffe);
  r.cpu.setReg16(RDI, 0x8000);
  r.cpu.setReg16(RCX, 4);
  r.mem.write32(0x1000 + 0xfffe, 0x44332211);
  r.mem.write16(0x1000, 0x6655);
  run(r, 'f3 a4'); // rep movsb
  assert.equal(r.cpu.getReg16(RSI), 2);
  assert.equal(r.mem.read32(0x8000) >>> 0, 0x66552211);
  const t = makeCpu('long64');
  setReg64(t.cpu, RSI, 0xffff_ffff_0000_3000n);
  setReg64(t.cpu, RDI, 0x1_0000_5000n);
  setReg64(t.cpu, RCX, 0x1_0000_0004n);
  t.mem.write32(0x3000, 0x01020304);
  run(t, '67 f3 a4'); // rep movsb with 32-bit addressing: ECX = 4
  assert.equal(reg64(t.cpu, RSI), 0x3004n);
  assert.equal(reg64(t.cpu, RDI), 0x5004n);
  assert.equal(reg64(t.cpu, RCX), 0n);
  assert.equal(t.mem.read32(0x5000), 0x01020304);
});

test('segment override applies to the source only; REP with RCX = 0 touches nothing', () => {
  const p = makeCpu('prot32');
  p.cpu.segBase[FS] = 0x7000;
  p.mem.write8(0x7010, 0xab);
  p.cpu.setReg32(RSI, 0x10);
  p.cpu.setReg32(RDI, 0x20);
  run(p, '64 a4'); // movs byte ptr es:[edi], byte ptr fs:[esi]
  assert.equal(p.mem.read8(0x20), 0xab);
  assert.equal(p.cpu.getReg32(RSI), 0x11);
  const t = makeCpu('long64');
  setReg64(t.cpu, RSI, 0x7000_0000_0000n);
  setReg64(t.cpu, RCX, 0n);
  run(t, 'f3 a4');
  assert.equal(t.exceptions.length, 0);
  assert.equal(reg64(t.cpu, RSI), 0x7000_0000_0000n);
});

test('REP STOSB/STOSD/STOSQ fill (fast path) and stop exactly at the count', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0x1122334455667788n);
  for (const [code, size] of [['f3 aa', 1], ['f3 ab', 4], ['f3 48 ab', 8]] as const) {
    t.mem.load(0x100000, new Uint8Array(0x4000));
    setReg64(t.cpu, RDI, 0x100005n);
    setReg64(t.cpu, RCX, 1500n);
    run(t, code);
    const bytes = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
    for (let i = 0; i < 1500 * size; i++) assert.equal(t.mem.read8(0x100005 + i), bytes[i % size], `${code} byte ${i}`);
    assert.equal(t.mem.read8(0x100005 + 1500 * size), 0);
    assert.equal(t.mem.read8(0x100004), 0);
    assert.equal(reg64(t.cpu, RDI), 0x100005n + BigInt(1500 * size));
  }
});

test('REPE CMPSB stops at the first difference; flags are those of the last compare', () => {
  const t = makeCpu('long64');
  t.mem.load(0x3000, new TextEncoder().encode('hello world'));
  t.mem.load(0x4000, new TextEncoder().encode('hello there'));
  setReg64(t.cpu, RSI, 0x3000n);
  setReg64(t.cpu, RDI, 0x4000n);
  setReg64(t.cpu, RCX, 11n);
  run(t, 'f3 a6'); // repe cmpsb
  assert.equal(reg64(t.cpu, RCX), 4n);
  assert.equal(reg64(t.cpu, RSI), 0x3007n);
  assert.equal(t.cpu.getZF(), false);
  assert.equal(t.cpu.getCF(), 0); // 'w' > 't'
  setReg64(t.cpu, RSI, 0x3000n);
  setReg64(t.cpu, RDI, 0x4000n);
  setReg64(t.cpu, RCX, 5n);
  run(t, 'f3 a6');
  assert.equal(reg64(t.cpu, RCX), 0n);
  assert.equal(t.cpu.getZF(), true);
});

test('REPNE SCASB with RCX = -1 (the strlen idiom); SCASD and REPE CMPSQ', () => {
  const t = makeCpu('long64');
  t.mem.load(0x3000, new TextEncoder().encode('nestvisor\0'));
  setReg64(t.cpu, RDI, 0x3000n);
  setReg64(t.cpu, RCX, -1n);
  setReg64(t.cpu, RAX, 0n);
  run(t, 'f2 ae'); // repne scasb
  assert.equal(reg64(t.cpu, RCX), BigInt.asUintN(64, -1n - 10n));
  assert.equal(reg64(t.cpu, RDI), 0x300an);
  assert.equal(t.cpu.getZF(), true);
  t.mem.write32(0x5000, 0x12345678);
  setReg64(t.cpu, RAX, 0x12345679n);
  setReg64(t.cpu, RDI, 0x5000n);
  run(t, 'af'); // scasd: eax - [rdi]
  assert.equal(t.cpu.getZF(), false);
  assert.equal(t.cpu.getCF(), 0);
  assert.equal(reg64(t.cpu, RDI), 0x5004n);
  t.mem.write32(0x6000, 1); t.mem.write32(0x6008, 2); t.mem.write32(0x600c, 1);
  t.mem.write32(0x7000, 1); t.mem.write32(0x7008, 3);
  setReg64(t.cpu, RSI, 0x6000n);
  setReg64(t.cpu, RDI, 0x7000n);
  setReg64(t.cpu, RCX, 3n);
  run(t, 'f3 48 a7'); // repe cmpsq: second qword differs (0x1_00000002 vs 3)
  assert.equal(reg64(t.cpu, RCX), 1n);
  assert.equal(t.cpu.getZF(), false);
  assert.equal(t.cpu.getCF(), 0);
});

test('LODSQ/LODSB and single MOVSB', () => {
  const t = makeCpu('long64');
  t.mem.write32(0x3000, 0x11223344); t.mem.write32(0x3004, 0x55667788);
  setReg64(t.cpu, RSI, 0x3000n);
  run(t, '48 ad'); // lodsq
  assert.equal(reg64(t.cpu, RAX), 0x5566778811223344n);
  assert.equal(reg64(t.cpu, RSI), 0x3008n);
  setReg64(t.cpu, RSI, 0x3000n);
  setReg64(t.cpu, RCX, 3n);
  run(t, 'f3 ac'); // rep lodsb: AL is the last byte
  assert.equal(reg64(t.cpu, RAX), 0x5566778811223322n);
  setReg64(t.cpu, RSI, 0x3000n);
  setReg64(t.cpu, RDI, 0x3100n);
  run(t, 'a4'); // movsb
  assert.equal(t.mem.read8(0x3100), 0x44);
  assert.equal(reg64(t.cpu, RDI), 0x3101n);
});

/** Element-by-element MOVS on a plain byte array: the architectural definition. */
function refMovs(mem: Uint8Array, si: number, di: number, n: number, size: number, down: boolean): void {
  for (let i = 0; i < n; i++) {
    const el = mem.slice(si, si + size);
    mem.set(el, di);
    si += down ? -size : size;
    di += down ? -size : size;
  }
}

test('REP MOVS fast path equals element-by-element copying (sizes, directions, overlaps, kernel-half addresses)', () => {
  const t = makeCpu('long64');
  // PML4[256] aliases PML4[0]: 0xffff800000000000 + x maps to physical x
  t.mem.write32(PT_BASE + 256 * 8, (PT_BASE + 0x1000) | 7);
  const base = 0x100000, span = 0x6000;
  let seed = 12345;
  const rnd = (m: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % m; };
  const codes: Record<number, string> = { 1: 'f3 a4', 2: '66 f3 a5', 4: 'f3 a5', 8: 'f3 48 a5' };
  for (let iter = 0; iter < 60; iter++) {
    const size = [1, 2, 4, 8][rnd(4)]!;
    const down = rnd(2) === 1;
    const n = 1 + rnd(3000 / size);
    const src = base + 0x2000 + rnd(0x1000);
    const dist = [1, 2, 3, 5, 8, 13, 100, 4096, 5000][rnd(9)]! * (rnd(2) === 1 ? -1 : 1);
    const dst = src + dist;
    const kernel = rnd(2) === 1 ? 0xffff800000000000n : 0n;
    const init = new Uint8Array(span);
    for (let i = 0; i < span; i++) init[i] = rnd(256);
    t.mem.load(base, init);
    const ref = init.slice();
    // the model works on offsets from base; the first element is at si (up) or si (down, highest)
    refMovs(ref, src - base, dst - base, n, size, down);
    t.cpu.flags = down ? t.cpu.flags | DF : t.cpu.flags & ~DF;
    setReg64(t.cpu, RSI, kernel + BigInt(src));
    setReg64(t.cpu, RDI, kernel + BigInt(dst));
    setReg64(t.cpu, RCX, BigInt(n));
    run(t, codes[size]!);
    const got = t.mem.ram.subarray(base, base + span);
    const label = `size ${size} down ${down} n ${n} src ${src.toString(16)} dist ${dist} kernel ${kernel !== 0n}`;
    assert.equal(Buffer.compare(Buffer.from(got), Buffer.from(ref)), 0, label);
    const step = BigInt((down ? -size : size) * n);
    assert.equal(reg64(t.cpu, RSI), BigInt.asUintN(64, kernel + BigInt(src) + step), label);
    assert.equal(reg64(t.cpu, RCX), 0n, label);
  }
});
