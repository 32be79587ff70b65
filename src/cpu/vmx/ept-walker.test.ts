// The page walker composed with EPT through cpu.gpaTranslate (STYLE habit 5, SDM Vol. 3C
// §29.3): a fake VM-exit engine installs a callback over eptTranslate; guest-physical
// 0..4 MiB is mapped by 4K EPT pages to host-physical 4..8 MiB. Accesses are MOV loads/stores
// (8b 03 mov eax,[rbx] / 89 03 mov [rbx],eax) executed by the CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, CODE, PT_BASE, setReg64, type TestCpu } from '../testing.js';
import { RAX, RBX } from '../regs.js';
import { STOP_HALT } from '../cpu.js';
import { loadPdptes, inPdpteLoad, walkLinear } from '../mmu.js';
import {
  eptTranslate, decodeEptp, eptPermMask, newEptResult, EPT_OK, EPTQ_READ, EPTQ_WRITE, EPTQ_FETCH, EPTQ_READABLE,
  EPTQ_WRITABLE, EPTQ_LINEAR_VALID, EPTQ_TRANSLATION,
} from './ept.js';

const HOST = 0x400000; // host-physical base of guest-physical 0
const EPML4 = 0x300000, EPDPT = 0x301000, EPD = 0x302000, EPT0 = 0x303000; // EPT0, EPT0+4K: two PTs
const CAP = (1 << 6) | (1 << 14) | (3 << 16) | (1 << 21);
const WB = 6 << 3;

interface Exit { gpa: number; qualification: number; fault: number }
const EXIT = new Error('test VM exit');

function setup(mode: 'long64' | 'prot32', eptpLo = EPML4 | 0x1e) {
  const t = makeCpu(mode, 8 << 20);
  const m = t.mem;
  const put = (pa: number, lo: number): void => { m.write32(pa, lo); m.write32(pa + 4, 0); };
  put(EPML4, EPDPT | 7); put(EPDPT, EPD | 7); put(EPD, EPT0 | 7); put(EPD + 8, (EPT0 + 0x1000) | 7);
  for (let i = 0; i < 1024; i++) put(EPT0 + i * 8, (HOST + i * 4096) | 7 | WB);
  // the guest's own page tables (testing.ts built them at host PT_BASE) move to guest-physical PT_BASE
  for (let i = 0; i < 0x3000; i += 4) m.write32(HOST + PT_BASE + i, m.read32(PT_BASE + i));
  const ept = decodeEptp(eptpLo, 0, CAP, 39);
  const res = newEptResult();
  const calls: Array<[number, number, boolean]> = [];
  const exits: Exit[] = [];
  t.cpu.gpaTranslate = (gpa, access, ps) => {
    calls.push([gpa, access, ps]);
    eptTranslate(m, ept, gpa, access, ps, res);
    if (res.fault !== EPT_OK) { exits.push({ gpa, qualification: res.qualification, fault: res.fault }); throw EXIT; }
    t.cpu.gpaPerm = eptPermMask(res);
    return res.hpa;
  };
  t.cpu.flushTlb();
  const eptEntry = (gpa: number, lo: number): void => { put(EPT0 + (gpa >>> 12) * 8, lo); t.cpu.flushTlb(); };
  return { t, calls, exits, eptEntry };
}

/** Loads code at guest-physical CODE (host HOST + CODE), runs to HLT or a VM exit. */
function runGuest(t: TestCpu, code: number[]): 'halt' | 'exit' {
  t.mem.load(HOST + CODE, Uint8Array.from([...code, 0xf4]));
  t.cpu.rip = CODE;
  t.cpu.halted = false;
  try {
    assert.equal(t.cpu.run(100), STOP_HALT);
    return 'halt';
  } catch (e) {
    if (e !== EXIT) throw e;
    return 'exit';
  }
}

test('4-level paging under EPT: table entries and the final address are guest-physical', () => {
  const { t, calls } = setup('long64');
  t.mem.write32(HOST + 0x3008, 0x11223344);
  t.mem.write32(0x3008, 0x55555555); // the same host-physical address: must not be read
  setReg64(t.cpu, RBX, 0x3008n);
  assert.equal(runGuest(t, [0x8b, 0x03]), 'halt');
  assert.equal(t.cpu.r[RAX * 2], 0x11223344);
  const has = (gpa: number, access: number, ps: boolean): boolean => calls.some((c) => c[0] === gpa && c[1] === access && c[2] === ps);
  assert.ok(has(PT_BASE, 0, true), 'PML4E read');
  assert.ok(has(PT_BASE + 0x1000, 0, true), 'PDPTE read');
  assert.ok(has(PT_BASE + 0x2000, 0, true), 'PDE read');
  assert.ok(has(PT_BASE + 0x2000, 1, true), 'PDE accessed-flag update is a write');
  assert.ok(has(0x3008, 0, false), 'final data address');
  assert.ok(has(CODE, 2, false), 'instruction fetch');
  assert.equal(t.mem.read32(HOST + PT_BASE + 0x2000) & 0x20, 0x20, 'guest PDE accessed, in host memory at HOST+');
});

test('a write to an EPT read-only page exits even after a read filled the TLB', () => {
  const { t, exits, eptEntry } = setup('long64');
  for (let i = 0; i < 3; i++) t.mem.write32(HOST + PT_BASE + 0x2000 + i * 8, (i * 0x200000) | 0xe7); // A and D already set
  eptEntry(0x3000, (HOST + 0x3000) | 1 | WB);
  t.mem.write32(HOST + 0x3008, 77);
  setReg64(t.cpu, RBX, 0x3008n);
  assert.equal(runGuest(t, [0x8b, 0x03, 0x89, 0x03]), 'exit'); // mov eax,[rbx]; mov [rbx],eax
  assert.equal(t.cpu.r[RAX * 2], 77, 'the read completed');
  assert.equal(exits.length, 1);
  assert.equal(exits[0]!.gpa, 0x3008);
  assert.equal(exits[0]!.qualification, EPTQ_WRITE | EPTQ_READABLE | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION);
  assert.equal(walkLinear(), 0x3008, 'the linear address the engine reports');
});

test('guest paging structures in EPT read-only memory: the accessed-flag update exits as a read-modify-write (bits 0 and 1, bit 8 clear)', () => {
  const { t, exits, eptEntry } = setup('long64');
  eptEntry(PT_BASE + 0x2000, (HOST + PT_BASE + 0x2000) | 1 | WB); // the guest PD
  setReg64(t.cpu, RBX, 0x3008n);
  assert.equal(runGuest(t, [0x8b, 0x03]), 'exit'); // the code fetch's walk wants PDE.A
  assert.equal(exits[0]!.gpa, PT_BASE + 0x2000);
  assert.equal(exits[0]!.qualification, EPTQ_READ | EPTQ_WRITE | EPTQ_READABLE | EPTQ_LINEAR_VALID);
  // with A and D already set in the guest entries, reading them needs only R
  for (let i = 0; i < 3; i++) t.mem.write32(HOST + PT_BASE + 0x2000 + i * 8, (i * 0x200000) | 0xe7);
  t.cpu.flushTlb();
  assert.equal(runGuest(t, [0x8b, 0x03]), 'halt');
});

test('A/D-enabled EPT: guest paging-structure reads are writes (qualification read|write)', () => {
  const { t, exits, eptEntry } = setup('long64', EPML4 | 0x5e);
  for (let i = 0; i < 3; i++) t.mem.write32(HOST + PT_BASE + 0x2000 + i * 8, (i * 0x200000) | 0xe7);
  eptEntry(PT_BASE + 0x1000, (HOST + PT_BASE + 0x1000) | 1 | WB); // the guest PDPT
  assert.equal(runGuest(t, [0x90]), 'exit');
  assert.equal(exits[0]!.gpa, PT_BASE + 0x1000);
  assert.equal(exits[0]!.qualification, EPTQ_READ | EPTQ_WRITE | EPTQ_READABLE | EPTQ_LINEAR_VALID);
});

test('fetch from an EPT non-executable page exits with the fetch qualification', () => {
  const { t, exits, eptEntry } = setup('long64');
  eptEntry(CODE, (HOST + CODE) | 3 | WB);
  assert.equal(runGuest(t, [0x90]), 'exit');
  assert.equal(exits[0]!.gpa, CODE);
  assert.equal(exits[0]!.qualification, EPTQ_FETCH | EPTQ_READABLE | EPTQ_WRITABLE | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION);
});

test('paging off: the linear address is the guest-physical address and still goes through EPT', () => {
  const { t, calls, exits, eptEntry } = setup('prot32');
  t.mem.write32(HOST + 0x5000, 0x0badcafe);
  t.cpu.r[RBX * 2] = 0x5000;
  assert.equal(runGuest(t, [0x8b, 0x03]), 'halt');
  assert.equal(t.cpu.r[RAX * 2], 0x0badcafe);
  assert.ok(calls.some((c) => c[0] === 0x5000 && c[1] === 0 && !c[2]));
  eptEntry(0x5000, (HOST + 0x5000) | 1 | WB);
  assert.equal(runGuest(t, [0x8b, 0x03, 0x89, 0x03]), 'exit');
  assert.equal(exits[0]!.qualification, EPTQ_WRITE | EPTQ_READABLE | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION);
});

test('PAE PDPTE loads go through EPT as paging-structure reads without a linear address', () => {
  const { t, calls } = setup('prot32');
  const seen: boolean[] = [];
  const inner = t.cpu.gpaTranslate!;
  t.cpu.gpaTranslate = (gpa, access, ps) => { seen.push(inPdpteLoad()); return inner(gpa, access, ps); };
  t.mem.write32(HOST + 0x7000, 0x8001); t.mem.write32(HOST + 0x7004, 0); // PDPTE0 → 0x8000, present
  assert.equal(loadPdptes(t.cpu, 0x7000), true);
  assert.equal(t.cpu.pdpte[0], 0x8001);
  assert.deepEqual(calls.slice(-4).map((c) => [c[0], c[1], c[2]]), [[0x7000, 0, true], [0x7008, 0, true], [0x7010, 0, true], [0x7018, 0, true]]);
  assert.ok(seen.length > 0 && seen.every((v) => v));
  assert.equal(inPdpteLoad(), false);
});
