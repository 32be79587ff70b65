// The 15-byte instruction limit (SDM Vol. 2 §2.3.11): a longer instruction is #GP(0) and does
// nothing, wherever its bytes lie — mid-page (the fetch fast path), across a page boundary
// (fetchSlow) or decoded for the first time. Found by decoder fuzzing: the fast path let
// 16-byte instructions run, e.g. 66 x13 40 00 00 (13 x o16, rex, add [rax], al).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64, CODE, type Mode } from '../testing.js';
import { RAX } from '../regs.js';

const rep = (b: string, n: number): string => Array(n).fill(b).join(' ');

function gpAt(mode: Mode, code: string, at = CODE): { exc: Array<[number, number]>; rax: bigint; mem: number } {
  const t = makeCpu(mode);
  t.mem.write8(0x20000, 0x11);
  setReg64(t.cpu, RAX, 0x20000n);
  if (at === CODE) run(t, code);
  else {
    t.mem.load(at, Uint8Array.from([...code.split(' ').map((x) => parseInt(x, 16)), 0xf4]));
    t.cpu.rip = at; t.cpu.halted = false; t.cpu.run(10);
  }
  return { exc: t.exceptions, rax: reg64(t.cpu, RAX), mem: t.mem.read8(0x20000) };
}

test('16 bytes: 66 x13 40 00 00 (13 x o16 rex add [rax], al) is #GP(0) in 64-bit mode, memory untouched', () => {
  const r = gpAt('long64', `${rep('66', 13)} 40 00 00`);
  assert.deepEqual(r.exc, [[13, 0]]);
  assert.equal(r.mem, 0x11);
});

test('15 bytes retire, 16 fault: 66 x9 / x10 then 48 05 imm32 (add rax, 0x100)', () => {
  const ok = gpAt('long64', `${rep('66', 9)} 48 05 00 01 00 00`);
  assert.deepEqual(ok.exc, []);
  assert.equal(ok.rax, 0x20100n);
  const bad = gpAt('long64', `${rep('66', 10)} 48 05 00 01 00 00`);
  assert.deepEqual(bad.exc, [[13, 0]]);
  assert.equal(bad.rax, 0x20000n);
});

test('real mode: f3 x12 81 c0 00 01 (16 bytes, add ax, 0x100) is #GP(0); f3 x11 is fine', () => {
  assert.deepEqual(gpAt('real', `${rep('f3', 12)} 81 c0 00 01`).exc, [[13, 0]]);
  const ok = gpAt('real', `${rep('f3', 11)} 81 c0 00 01`);
  assert.deepEqual(ok.exc, []);
  assert.equal(ok.rax & 0xffffn, 0x0100n);
});

test('across a page boundary: 66 x10 48 05 imm32 starting 8 bytes before a page end is #GP(0)', () => {
  const at = 0x20ff8;
  const bad = gpAt('long64', `${rep('66', 10)} 48 05 00 01 00 00`, at);
  assert.deepEqual(bad.exc, [[13, 0]]);
  assert.equal(bad.rax, 0x20000n);
  const ok = gpAt('long64', `${rep('66', 9)} 48 05 00 01 00 00`, at);
  assert.deepEqual(ok.exc, []);
  assert.equal(ok.rax, 0x20100n);
});
