import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT } from './fault.js';
import type { Cpu } from './cpu.js';
import { makeSystem, setDesc, GDT, TSS } from './ops/gdtkit.js';
import { loadSegment, loadTr, loadLdtr, readDescriptor } from './segments.js';
import { DS, ES, FS, SS, TR, LDTR, GP, NP, SS_, AR_UNUSABLE } from './regs.js';

/** Runs `f` and returns [vector, errorCode] of the fault it raised, or null. */
function faultOf(cpu: Cpu, f: () => void): [number, number] | null {
  try { f(); } catch (e) {
    if (e !== FAULT) throw e;
    return [cpu.excVector, cpu.excError];
  }
  return null;
}

test('loadSegment (prot32, CPL 0): cache from the descriptor, accessed bit set in the GDT', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  setDesc(mem, 9, 0x12345678, 0x00fff, 0x93 & ~1, 0x4); // byte-granular, D=1, accessed clear
  loadSegment(cpu, DS, 0x48);
  assert.equal(cpu.segSel[DS], 0x48);
  assert.equal(cpu.segBase[DS], 0x12345678);
  assert.equal(cpu.segLimit[DS], 0xfff);
  assert.equal(cpu.segAr[DS], 0x4093);
  assert.equal(mem.read8(GDT + 9 * 8 + 5), 0x93, 'accessed bit written back');
  // page-granular limit expands to 4K units
  setDesc(mem, 9, 0, 0x0000f, 0x93, 0x8);
  loadSegment(cpu, ES, 0x48);
  assert.equal(cpu.segLimit[ES], 0xffff);
});

test('loadSegment faults with the exact error codes (SDM Vol. 2 MOV)', () => {
  const t = makeSystem('prot32', 3);
  const { cpu, mem } = t;
  setDesc(mem, 9, 0, 0xfffff, 0x13 | 0x60, 0xc);  // data DPL3, not present
  setDesc(mem, 10, 0, 0xfffff, 0xf9, 0xc);        // execute-only code DPL3
  setDesc(mem, 11, 0, 0xfffff, 0xfa, 0xc);        // readable code DPL3
  setDesc(mem, 12, 0, 0xfffff, 0xf1, 0xc);        // read-only data DPL3
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, DS, 0x10)), [GP, 0x10], 'DPL 0 data at CPL 3');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, DS, 0x80 | 3)), [GP, 0x80], 'beyond the GDT limit');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, DS, 0x33)), [GP, 0x30], 'system descriptor (TSS)');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, DS, 0x4b)), [NP, 0x48], 'not present');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, DS, 0x53)), [GP, 0x50], 'execute-only code');
  assert.equal(faultOf(cpu, () => loadSegment(cpu, DS, 0x5b)), null, 'readable code is fine');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, SS, 0x4b)), [SS_, 0x48], 'SS not present is #SS');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, SS, 0x63)), [GP, 0x60], 'SS read-only');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, SS, 0x21)), [GP, 0x20], 'SS RPL != CPL');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, SS, 0)), [GP, 0], 'null SS outside 64-bit mode');
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, FS, 0x0c)), [GP, 0x0c], 'LDT selector without an LDT');
  // a failed load leaves the register alone
  assert.equal(cpu.segSel[DS], 0x5b);
  // null selectors are fine for data registers: unusable, base and limit cleared
  loadSegment(cpu, ES, 3);
  assert.equal(cpu.segSel[ES], 3);
  assert.ok((cpu.segAr[ES]! & AR_UNUSABLE) !== 0);
});

test('loadSegment in 64-bit mode: null SS allowed at CPL 0 with RPL = CPL; real mode base = sel*16', () => {
  const t = makeSystem('long64', 0);
  const { cpu } = t;
  assert.equal(faultOf(cpu, () => loadSegment(cpu, SS, 0)), null);
  assert.ok((cpu.segAr[SS]! & AR_UNUSABLE) !== 0);
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, SS, 1)), [GP, 0]);
  const r = makeSystem('real', 0);
  loadSegment(r.cpu, DS, 0x1234);
  assert.equal(r.cpu.segBase[DS], 0x12340);
  assert.equal(r.cpu.segLimit[DS], 0xffff);
});

test('loadTr marks the TSS busy; loading a busy TSS is #GP(sel); 64-bit TSS descriptors are 16 bytes', () => {
  const t = makeSystem('long64', 0);
  const { cpu, mem } = t;
  assert.equal(cpu.segSel[TR], 0x30);
  assert.equal(cpu.segBase[TR], TSS);
  assert.equal(cpu.segAr[TR]! & 0xf, 0xb);
  assert.equal((mem.read8(GDT + 6 * 8 + 5) & 0xf), 0xb, 'busy in memory');
  assert.deepEqual(faultOf(cpu, () => loadTr(cpu, 0x30)), [GP, 0x30]);
  mem.write8(GDT + 6 * 8 + 5, 0x89);
  mem.write32(GDT + 7 * 8, 0x00000001); // base bits 63:32 = 1: non-canonical? no, 0x1_0000_3000 is canonical
  loadTr(cpu, 0x30);
  assert.equal(cpu.segBase[TR], 0x100003000);
  assert.deepEqual(faultOf(cpu, () => loadLdtr(cpu, 0x30)), [GP, 0x30], 'a TSS is not an LDT');
  loadLdtr(cpu, 0);
  assert.ok((cpu.segAr[LDTR]! & AR_UNUSABLE) !== 0);
});

test('LDT descriptors are found through LDTR; readDescriptor returns lo and leaves hi in cpu.hi', () => {
  const t = makeSystem('prot32', 0);
  const { cpu, mem } = t;
  const LDT = 0x4000;
  setDesc(mem, 9, LDT, 0x17, 0x82, 0); // LDT with 3 entries
  mem.write32(LDT + 8, 0x0000ffff);
  mem.write32(LDT + 12, 0x00cf9300 | 0x05);
  loadLdtr(cpu, 0x48);
  const lo = readDescriptor(cpu, 0x0c);
  assert.equal(lo, 0x0000ffff);
  assert.equal(cpu.hi, 0x00cf9305);
  loadSegment(cpu, DS, 0x0c);
  assert.equal(cpu.segBase[DS], 0x50000);
  assert.deepEqual(faultOf(cpu, () => loadSegment(cpu, DS, 0x1c)), [GP, 0x1c], 'beyond the LDT limit');
});
