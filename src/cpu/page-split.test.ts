/**
 * Data accesses that cross a page boundary (Cpu.probeSplit): both pages are checked before
 * any byte moves, the first page first, and a #PF on the second page reports the boundary
 * in CR2. Measured on this host (Zen 4, a user-mode probe with the second page PROT_NONE):
 * split loads and stores of 8, 16 and 32 bytes at every offset give CR2 = the boundary; with
 * both pages PROT_NONE, CR2 = the first byte. Also at upper-half canonical addresses, where
 * an earlier `lin % 4096` pre-check was negative and let a 16/32-byte store write its first
 * half before faulting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODE, PT_BASE, setReg64, type TestCpu } from './testing.js';
import { makeAvxCpu } from './avx/avx-testing.js';

const HIGH = 0xffffff8000000000n; // PML4[511] -> the low identity PDPT: HIGH + a maps to a
const BOUNDARY = 0x400000;         // PD[2] (0x400000-0x5fffff) is made not present

function setup(firstAbsent: boolean): TestCpu {
  const t = makeAvxCpu('long64');
  t.mem.write32(PT_BASE + 511 * 8, (PT_BASE + 0x1000) | 7);
  t.mem.write32(PT_BASE + 0x2000 + 2 * 8, 0);
  if (firstAbsent) { // the page below the boundary through a 4 KiB table, not present
    const pt = 0x300000;
    for (let i = 0; i < 512; i++) t.mem.write32(pt + i * 8, i === 511 ? 0 : (0x200000 + i * 0x1000) | 3);
    t.mem.write32(PT_BASE + 0x2000 + 1 * 8, pt | 7);
  }
  t.cpu.flushTlb();
  for (let a = 0x3fffc0; a < 0x400000; a += 4) t.mem.write32(a, 0x5a5a5a5a);
  return t;
}

/** [name, bytes (memory operand [rax]), size]; a load when the name starts with "load". */
const FORMS: [string, number[], number][] = [
  ['store mov [rax], bx (66 89 18)', [0x66, 0x89, 0x18], 2],
  ['store mov [rax], ebx (89 18)', [0x89, 0x18], 4],
  ['store mov [rax], rbx (48 89 18)', [0x48, 0x89, 0x18], 8],
  ['load mov ebx, [rax] (8b 18)', [0x8b, 0x18], 4],
  ['load mov rbx, [rax] (48 8b 18)', [0x48, 0x8b, 0x18], 8],
  ['store add [rax], rbx (48 01 18)', [0x48, 0x01, 0x18], 8],
  ['store movdqu [rax], xmm0 (f3 0f 7f 00)', [0xf3, 0x0f, 0x7f, 0x00], 16],
  ['load movdqu xmm1, [rax] (f3 0f 6f 08)', [0xf3, 0x0f, 0x6f, 0x08], 16],
  ['store vmovdqu [rax], ymm0 (c5 fe 7f 00)', [0xc5, 0xfe, 0x7f, 0x00], 32],
  ['load vmovdqu ymm1, [rax] (c5 fe 6f 08)', [0xc5, 0xfe, 0x6f, 0x08], 32],
  ['store fstp tbyte [rax] (db 38)', [0xdb, 0x38], 10],
  ['store sgdt [rax] (0f 01 00)', [0x0f, 0x01, 0x00], 10],
];

for (const high of [false, true]) {
  for (const firstAbsent of [false, true]) {
    test(`split accesses ${high ? 'at an upper-half address' : 'low'}, ${firstAbsent ? 'both pages' : 'the second page'} absent: #PF, CR2 = ${firstAbsent ? 'the first byte' : 'the boundary'}, nothing written`, () => {
      for (const [name, bytes, size] of FORMS) {
        for (const before of [1, size >> 1, size - 1]) {
          const t = setup(firstAbsent);
          const c = t.cpu;
          // vpcmpeqd ymm0, ymm0, ymm0 (c5 fd 76 c0): all ones; fld1 (d9 e8); mov ebx, -1 (bb ff ff ff ff); the access; hlt
          t.mem.load(CODE, Uint8Array.from([0xc5, 0xfd, 0x76, 0xc0, 0xd9, 0xe8, 0xbb, 0xff, 0xff, 0xff, 0xff, ...bytes, 0xf4]));
          const lin = BigInt(BOUNDARY - before) + (high ? HIGH : 0n);
          setReg64(c, 0, lin);
          c.rip = CODE;
          c.run(5);
          const label = `${name} at boundary − ${before}`;
          assert.deepEqual(t.exceptions.map(([v]) => v), [14], label);
          const want = firstAbsent ? lin : BigInt(BOUNDARY) + (high ? HIGH : 0n);
          assert.equal(c.cr2, Number(BigInt.asIntN(64, want)), `${label}: CR2`);
          for (let a = 0x3fffc0; a < 0x400000; a += 4) if (!firstAbsent) assert.equal(t.mem.read32(a) >>> 0, 0x5a5a5a5a, `${label}: ${a.toString(16)} unchanged`);
        }
      }
    });
  }
}
