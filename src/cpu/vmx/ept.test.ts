// EPT walk unit tests (SDM Vol. 3C §29.3): EPT tables are built in host memory, gpa → hpa
// translated directly with eptTranslate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../../memory/physical.js';
import { T_SR, T_SW, T_UR, T_UW, T_SX, T_UX } from '../cpu.js';
import {
  eptTranslate, eptpValid, decodeEptp, eptPermMask, newEptResult, EPT_OK, EPT_VIOLATION, EPT_MISCONFIG,
  EPTQ_READ, EPTQ_WRITE, EPTQ_FETCH, EPTQ_READABLE, EPTQ_WRITABLE, EPTQ_EXECUTABLE, EPTQ_LINEAR_VALID,
  EPTQ_TRANSLATION, EPTCAP_EXEC_ONLY, EPTCAP_2M, EPTCAP_1G, type Ept,
} from './ept.js';

const PML4 = 0x100000, PDPT = 0x101000, PD = 0x102000, PT = 0x103000;
const R = 1, W = 2, X = 4, RWX = 7, WB = 6 << 3, IPAT = 0x40, PS = 0x80, A = 0x100, D = 0x200;
/** Capabilities: walk length 4, UC, WB, 2M, 1G, A/D (IA32_VMX_EPT_VPID_CAP low dword). */
const CAP = (1 << 6) | (1 << 8) | (1 << 14) | EPTCAP_2M | EPTCAP_1G | (1 << 21);
const MAXPHY = 39;

function setup(eptpLo = PML4 | 0x1e, cap = CAP): { mem: PhysicalMemory; ept: Ept } {
  const mem = new PhysicalMemory(16 << 20);
  // gpa 0..2M through one path: PML4[0] → PDPT[0] → PD[0] → PT; PT[i] = 0x400000 + i*4K
  put(mem, PML4, PDPT | RWX); put(mem, PDPT, PD | RWX); put(mem, PD, PT | RWX);
  for (let i = 0; i < 512; i++) put(mem, PT + i * 8, (0x400000 + i * 4096) | RWX | WB);
  return { mem, ept: decodeEptp(eptpLo, 0, cap, MAXPHY) };
}
function put(mem: PhysicalMemory, pa: number, lo: number, hi = 0): void {
  mem.write32(pa, lo); mem.write32(pa + 4, hi);
}
function tr(mem: PhysicalMemory, ept: Ept, gpa: number, access: number, ps = false, linear = true) {
  const r = newEptResult();
  eptTranslate(mem, ept, gpa, access, ps, r, linear);
  return r;
}
const ACCESS_Q = [EPTQ_READ, EPTQ_WRITE, EPTQ_FETCH];

test('EPTP validity (§26.2.1.1): memory type, walk length, A/D, reserved bits, MAXPHYADDR', () => {
  assert.equal(eptpValid(PML4 | 0x1e, 0, CAP, MAXPHY), true); // WB, length 4
  assert.equal(eptpValid(PML4 | 0x18, 0, CAP, MAXPHY), true); // UC
  assert.equal(eptpValid(PML4 | 0x5e, 0, CAP, MAXPHY), true); // WB + A/D
  assert.equal(eptpValid(PML4 | 0x1e, 0, CAP & ~(1 << 14), MAXPHY), false); // WB not advertised
  assert.equal(eptpValid(PML4 | 0x5e, 0, CAP & ~(1 << 21), MAXPHY), false); // A/D not advertised
  for (const t of [1, 2, 3, 4, 5, 7]) assert.equal(eptpValid(PML4 | 0x18 | t, 0, CAP, MAXPHY), false, `type ${t}`);
  assert.equal(eptpValid(PML4 | 0x16, 0, CAP, MAXPHY), false); // walk length 3
  assert.equal(eptpValid(PML4 | 0x26, 0, CAP, MAXPHY), false); // walk length 5
  for (let b = 7; b <= 11; b++) assert.equal(eptpValid(PML4 | 0x1e | (1 << b), 0, CAP, MAXPHY), false, `bit ${b}`);
  assert.equal(eptpValid(PML4 | 0x1e, 0x40, CAP, MAXPHY), true); // bit 38
  assert.equal(eptpValid(PML4 | 0x1e, 0x80, CAP, MAXPHY), false); // bit 39 ≥ MAXPHYADDR
  const d = decodeEptp(PML4 | 0x5e, 0x12, CAP | EPTCAP_EXEC_ONLY, MAXPHY);
  assert.equal(d.root, 0x12 * 2 ** 32 + PML4);
  assert.equal(d.ad, true); assert.equal(d.memType, 6); assert.equal(d.execOnly, true);
});

test('4-level walk: hpa with page offset, memory type and ignore-PAT from the leaf', () => {
  const { mem, ept } = setup();
  put(mem, PT + 5 * 8, 0x7000 | RWX | (4 << 3) | IPAT); // WP memory type, IPAT
  const r = tr(mem, ept, 0x5abc, 0);
  assert.equal(r.fault, EPT_OK);
  assert.equal(r.hpa, 0x7abc);
  assert.equal(r.memType, 4); assert.equal(r.ipat, true); assert.equal(r.pageSize, 4096);
  assert.equal(r.perm, 7);
  const r2 = tr(mem, ept, 0x1ffffe, 1);
  assert.equal(r2.hpa, 0x5ffffe); assert.equal(r2.memType, 6); assert.equal(r2.ipat, false);
  // a gpa above 4 GiB: PML4[0], PDPT[4]
  put(mem, PDPT + 4 * 8, 0x104000 | RWX); put(mem, 0x104000 + 8, 0x105000 | RWX);
  put(mem, 0x105000 + 3 * 8, 0x8000 | RWX | WB, 0x3);
  assert.equal(tr(mem, ept, 2 ** 32 + 0x203123, 2).hpa, 3 * 2 ** 32 + 0x8123);
});

test('every R/W/X combination × read/write/fetch, with and without execute-only support', () => {
  for (const execOnly of [false, true]) {
    for (let rwx = 0; rwx < 8; rwx++) {
      for (let access = 0; access < 3; access++) {
        const { mem, ept } = setup(PML4 | 0x1e, CAP | (execOnly ? EPTCAP_EXEC_ONLY : 0));
        put(mem, PT + 8, 0x9000 | rwx | WB);
        const r = tr(mem, ept, 0x1008, access);
        const name = `execOnly=${execOnly} rwx=${rwx} access=${access}`;
        if (rwx !== 0 && ((rwx & 3) === 2 || (rwx === 4 && !execOnly))) {
          assert.equal(r.fault, EPT_MISCONFIG, name);
          assert.equal(r.level, 1, name);
          continue;
        }
        if ((rwx & (1 << access)) !== 0) {
          assert.equal(r.fault, EPT_OK, name);
          assert.equal(r.hpa, 0x9008, name);
        } else {
          assert.equal(r.fault, EPT_VIOLATION, name);
          assert.equal(r.qualification, ACCESS_Q[access]! | (rwx << 3) | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION, name);
        }
      }
    }
  }
});

test('permissions are ANDed across levels; a not-present entry faults at its level with perms 0', () => {
  const { mem, ept } = setup();
  put(mem, PD, PT | R | X); // PDE: no write
  let r = tr(mem, ept, 0x3000, 1);
  assert.equal(r.fault, EPT_VIOLATION);
  assert.equal(r.qualification, EPTQ_WRITE | EPTQ_READABLE | EPTQ_EXECUTABLE | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION);
  assert.equal(tr(mem, ept, 0x3000, 0).fault, EPT_OK);
  put(mem, PDPT, PD | R | W); // PDPTE: no execute
  r = tr(mem, ept, 0x3000, 2);
  assert.equal(r.qualification, EPTQ_FETCH | EPTQ_READABLE | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION);
  put(mem, PML4, PDPT); // not present at level 4
  r = tr(mem, ept, 0x3000, 0);
  assert.equal(r.fault, EPT_VIOLATION); assert.equal(r.level, 4);
  assert.equal(r.qualification, EPTQ_READ | EPTQ_LINEAR_VALID | EPTQ_TRANSLATION);
});

test('2-MByte and 1-GByte pages: offsets, reserved bits, unsupported sizes', () => {
  const { mem, ept } = setup();
  put(mem, PD + 8, 0xa00000 | RWX | WB | PS); // gpa 2M..4M → hpa 10M..12M
  let r = tr(mem, ept, 0x212345, 1);
  assert.equal(r.fault, EPT_OK); assert.equal(r.hpa, 0xa12345); assert.equal(r.pageSize, 0x200000);
  put(mem, PDPT + 8, 0x40000000 | R | WB | PS, 0x1); // gpa 1G..2G → hpa 5G..6G, read-only
  r = tr(mem, ept, 0x40000000 + 0x1234567, 0);
  assert.equal(r.hpa, 0x140000000 + 0x1234567); assert.equal(r.pageSize, 0x40000000);
  assert.equal(tr(mem, ept, 0x40000000, 1).fault, EPT_VIOLATION);
  // reserved address bits inside a large page (20:12 / 29:12)
  put(mem, PD + 8, 0xa00000 | 0x1000 | RWX | WB | PS);
  assert.equal(tr(mem, ept, 0x200000, 0).fault, EPT_MISCONFIG);
  put(mem, PDPT + 8, 0x40000000 | 0x20000000 | R | WB | PS);
  assert.equal(tr(mem, ept, 0x40000000, 0).fault, EPT_MISCONFIG);
  // sizes the capabilities do not offer: bit 7 is reserved
  put(mem, PD + 8, 0xa00000 | RWX | WB | PS);
  put(mem, PDPT + 8, 0x40000000 | R | WB | PS);
  const small = decodeEptp(PML4 | 0x1e, 0, CAP & ~(EPTCAP_2M | EPTCAP_1G), MAXPHY);
  assert.equal(tr(mem, small, 0x200000, 0).fault, EPT_MISCONFIG);
  assert.equal(tr(mem, small, 0x40000000, 0).fault, EPT_MISCONFIG);
  assert.equal(tr(mem, small, 0x1000, 0).fault, EPT_OK);
  // bit 7 of a PTE is ignored
  put(mem, PT + 8, 0x9000 | RWX | WB | PS);
  assert.equal(tr(mem, ept, 0x1000, 0).hpa, 0x9000);
});

test('misconfigurations: memory types 2/3/7, reserved bits 7:3 / 6:3, bits above MAXPHYADDR', () => {
  for (const mt of [2, 3, 7]) {
    const { mem, ept } = setup();
    put(mem, PT + 8, 0x9000 | R | (mt << 3));
    const r = tr(mem, ept, 0x1000, 0);
    assert.equal(r.fault, EPT_MISCONFIG, `type ${mt}`); assert.equal(r.qualification, 0);
  }
  for (const mt of [0, 1, 4, 5, 6]) {
    const { mem, ept } = setup();
    put(mem, PT + 8, 0x9000 | R | (mt << 3));
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_OK, `type ${mt}`);
  }
  for (let b = 3; b <= 7; b++) {
    const { mem, ept } = setup();
    put(mem, PML4, PDPT | RWX | (1 << b));
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_MISCONFIG, `PML4E bit ${b}`);
    assert.equal(tr(mem, ept, 0x1000, 0).level, 4);
  }
  for (let b = 3; b <= 6; b++) {
    const { mem, ept } = setup();
    put(mem, PD, PT | RWX | (1 << b));
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_MISCONFIG, `PDE bit ${b}`);
  }
  {
    const { mem, ept } = setup();
    put(mem, PDPT, PD | RWX, 1 << 7); // address bit 39 with MAXPHYADDR 39
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_MISCONFIG);
    put(mem, PDPT, PD | RWX, (1 << 20) | (1 << 31)); // bits 52 and 63: ignored
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_OK);
    put(mem, PD, PT | W); // W without R, even in a non-leaf entry
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_MISCONFIG);
    // a not-present entry is a violation whatever else it holds
    put(mem, PD, PT | 0xf8, 0xfffff);
    assert.equal(tr(mem, ept, 0x1000, 0).fault, EPT_VIOLATION);
  }
  {
    // a misconfiguration below an entry that denies the access wins over the violation
    const { mem, ept } = setup();
    put(mem, PD, PT | R);
    put(mem, PT + 8, 0x9000 | RWX | (7 << 3));
    assert.equal(tr(mem, ept, 0x1000, 1).fault, EPT_MISCONFIG);
  }
});

test('accessed/dirty (§29.3.5): A on every entry used, D on the leaf for writes, only when EPTP[6]', () => {
  const { mem, ept } = setup(PML4 | 0x5e);
  let r = tr(mem, ept, 0x2000, 0);
  assert.equal(r.fault, EPT_OK); assert.equal(r.dirty, false);
  for (const pa of [PML4, PDPT, PD, PT + 16]) assert.equal(mem.read32(pa) & (A | D), A, pa.toString(16));
  assert.equal(eptPermMask(r), T_SR | T_UR | T_SX | T_UX); // not dirty: writes must walk again
  r = tr(mem, ept, 0x2000, 1);
  assert.equal(r.dirty, true);
  assert.equal(mem.read32(PT + 16) & (A | D), A | D);
  for (const pa of [PML4, PDPT, PD]) assert.equal(mem.read32(pa) & D, 0, 'D only in the leaf');
  assert.equal(eptPermMask(r), 63);
  // a violation sets nothing
  put(mem, PT + 24, 0x9000 | R | WB);
  assert.equal(tr(mem, ept, 0x3000, 1).fault, EPT_VIOLATION);
  assert.equal(mem.read32(PT + 24) & (A | D), 0);
  // A/D disabled: entries untouched, writes need no second walk
  const off = setup();
  r = tr(off.mem, off.ept, 0x2000, 1);
  for (const pa of [PML4, PDPT, PD, PT + 16]) assert.equal(off.mem.read32(pa) & (A | D), 0);
  assert.equal(r.dirty, true);
  // large-page leaf gets D
  put(mem, PD + 8, 0xa00000 | RWX | WB | PS);
  tr(mem, ept, 0x200000, 1);
  assert.equal(mem.read32(PD + 8) & (A | D), A | D);
});

test('guest paging-structure accesses: writes under A/D-enabled EPT, qualification bits 7/8', () => {
  const ad = setup(PML4 | 0x5e);
  put(ad.mem, PT + 8, 0x9000 | R | WB);
  let r = tr(ad.mem, ad.ept, 0x1000, 0, true);
  assert.equal(r.fault, EPT_VIOLATION);
  assert.equal(r.qualification, EPTQ_READ | EPTQ_WRITE | EPTQ_READABLE | EPTQ_LINEAR_VALID); // bit 8 clear
  put(ad.mem, PT + 16, 0x9000 | R | W | WB);
  r = tr(ad.mem, ad.ept, 0x2000, 0, true);
  assert.equal(r.fault, EPT_OK);
  assert.equal(ad.mem.read32(PT + 16) & (A | D), A | D, 'treated as a write for D');
  // a PDPTE load (no linear address) is a plain read
  assert.equal(tr(ad.mem, ad.ept, 0x1000, 0, true, false).fault, EPT_OK);
  // A/D disabled: a paging-structure read needs only R; an A/D update of the guest entry is
  // a locked read-modify-write, reported as read and write (bits 0 and 1)
  const off = setup();
  put(off.mem, PT + 8, 0x9000 | R | WB);
  assert.equal(tr(off.mem, off.ept, 0x1000, 0, true).fault, EPT_OK);
  r = tr(off.mem, off.ept, 0x1000, 1, true);
  assert.equal(r.qualification, EPTQ_READ | EPTQ_WRITE | EPTQ_READABLE | EPTQ_LINEAR_VALID);
  // no guest-linear address: bits 7 and 8 clear
  r = tr(off.mem, off.ept, 0x1000, 1, true, false);
  assert.equal(r.qualification, EPTQ_READ | EPTQ_WRITE | EPTQ_READABLE);
  // an ordinary data write (not a paging-structure entry) is a write only
  r = tr(off.mem, off.ept, 0x1000, 1, false, false);
  assert.equal(r.qualification, EPTQ_WRITE | EPTQ_READABLE);
});

test('eptPermMask: R → reads, W (dirty) → writes, X → fetches; execute-only gives fetch only', () => {
  const r = newEptResult();
  r.dirty = true;
  r.perm = R; assert.equal(eptPermMask(r), T_SR | T_UR);
  r.perm = R | W; assert.equal(eptPermMask(r), T_SR | T_UR | T_SW | T_UW);
  r.perm = X; assert.equal(eptPermMask(r), T_SX | T_UX);
  r.perm = RWX; r.dirty = false; assert.equal(eptPermMask(r), T_SR | T_UR | T_SX | T_UX);
});
