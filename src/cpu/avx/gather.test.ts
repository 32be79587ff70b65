// AVX2 gathers (avx/gather.ts, VSIB addressing avx/vsib.ts): bytes from GNU as with the
// disassembly quoted; the partial-fault case checks the SDM's restart rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, PT_BASE, CODE } from '../testing.js';
import { makeAvxCpu, ymmHex, setYmm } from './avx-testing.js';

const DATA = 0x20000;
const Z32 = '0'.repeat(32);
const h8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
/** 8 dwords as a YMM hex string (element 0 last). */
const dw = (...v: number[]): string => v.slice().reverse().map(h8).join('');

/** DATA holds dword k = 0x1000 + k for k = -64..63 (DATA - 256 .. DATA + 252). */
function fill(t: ReturnType<typeof makeAvxCpu>): void {
  for (let k = -64; k < 64; k++) t.mem.write32(DATA + 4 * k, 0x1000 + k);
}

test('VPGATHERDD/VGATHERDPS: dword indices (signed), mask elements cleared, masked-off elements kept', () => {
  const t = makeAvxCpu();
  fill(t);
  setReg64(t.cpu, 0, BigInt(DATA));
  setYmm(t, 2, dw(0, 1, -1, 7, -64, 63, 2, 3));
  setYmm(t, 1, 'ffffffff'.repeat(8));
  setYmm(t, 0, 'eeeeeeee'.repeat(8));
  // c4 e2 75 90 04 90  vpgatherdd ymm0,DWORD PTR [rax+ymm2*4],ymm1
  run(t, 'c4 e2 75 90 04 90');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), dw(0x1000, 0x1001, 0xfff, 0x1007, 0x1000 - 64, 0x1000 + 63, 0x1002, 0x1003));
  assert.equal(ymmHex(t, 1), '0'.repeat(64));
  // c4 e2 71 92 04 90  vgatherdps xmm0,DWORD PTR [rax+xmm2*4],xmm1: elements 1 and 3 off
  // (mask MSB clear, other bits set): kept; bits 255:128 of xmm0 zeroed at completion
  setYmm(t, 0, 'eeeeeeee'.repeat(8));
  setYmm(t, 1, dw(0x80000000, 0x7fffffff, -1, 1, -1, -1, -1, -1));
  run(t, 'c4 e2 71 92 04 90');
  assert.equal(ymmHex(t, 0), Z32 + dw(0x1000, 0xeeeeeeee, 0xfff, 0xeeeeeeee));
  assert.equal(ymmHex(t, 1), '0'.repeat(64));
});

test('VPGATHERDQ/QD/QQ and VGATHERQPD: element counts and widths, disp, index register XMM4 and XMM12', () => {
  const t = makeAvxCpu();
  fill(t);
  setReg64(t.cpu, 0, BigInt(DATA));
  const q = (k: number): string => h8(0x1000 + k + 1) + h8(0x1000 + k); // qword at DATA + 4k
  // c4 e2 f5 90 04 d0  vpgatherdq ymm0,QWORD PTR [rax+xmm2*8],ymm1: 4 qwords, xmm dword indices
  setYmm(t, 2, dw(1, -2, 3, 0, 99, 99, 99, 99));
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, 'c4 e2 f5 90 04 d0');
  assert.equal(ymmHex(t, 0), q(0) + q(6) + q(-4) + q(2));
  // c4 e2 75 91 04 90  vpgatherqd xmm0,DWORD PTR [rax+ymm2*4],xmm1: 4 dwords from qword
  // indices, bits 255:128 of ymm0 zeroed
  setYmm(t, 2, '0000000000000005' + 'ffffffffffffffff' + '0000000000000002' + 'fffffffffffffff0');
  setYmm(t, 1, 'ffffffff'.repeat(8));
  setYmm(t, 0, 'eeeeeeee'.repeat(8));
  run(t, 'c4 e2 75 91 04 90');
  assert.equal(ymmHex(t, 0), Z32 + h8(0x1005) + h8(0xfff) + h8(0x1002) + h8(0x1000 - 16));
  assert.equal(ymmHex(t, 1), '0'.repeat(64));
  // VEX.128 vpgatherqd (c4 e2 71 91 04 90): 2 dwords, bits 127:64 zeroed too
  setYmm(t, 0, 'eeeeeeee'.repeat(8));
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, 'c4 e2 71 91 04 90');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + h8(0x1002) + h8(0x1000 - 16));
  // c4 e2 f1 91 44 d0 10  vpgatherqq xmm0,QWORD PTR [rax+xmm2*8+0x10],xmm1
  setYmm(t, 2, '0000000000000000' + '0000000000000000' + '0000000000000001' + 'fffffffffffffffe');
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, 'c4 e2 f1 91 44 d0 10');
  assert.equal(ymmHex(t, 0), Z32 + q(6) + q(0));
  // c4 e2 f5 93 04 d0  vgatherqpd ymm0,QWORD PTR [rax+ymm2*8],ymm1
  setYmm(t, 2, '0000000000000003' + '0000000000000000' + 'ffffffffffffffff' + '0000000000000001');
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, 'c4 e2 f5 93 04 d0');
  assert.equal(ymmHex(t, 0), q(6) + q(0) + q(-2) + q(2));
  // c4 a2 71 90 04 a0  vpgatherdd xmm0,DWORD PTR [rax+xmm12*4],xmm1 (VEX.X selects xmm12)
  setYmm(t, 12, dw(4, 3, 2, 1));
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, 'c4 a2 71 90 04 a0');
  assert.equal(ymmHex(t, 0), Z32 + dw(0x1004, 0x1003, 0x1002, 0x1001));
  // c4 e2 71 90 04 20  vpgatherdd xmm0,DWORD PTR [rax+xmm4*1],xmm1 (SIB.index 100b is xmm4, not "none")
  setYmm(t, 4, dw(8, 12, 16, -4));
  setReg64(t.cpu, 4, 0x123456789n); // rsp: must not take part
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, 'c4 e2 71 90 04 20');
  assert.equal(ymmHex(t, 0), Z32 + dw(0x1002, 0x1003, 0x1004, 0xfff));
  // 67 c4 e2 71 90 04 90  vpgatherdd xmm0,DWORD PTR [eax+xmm2*4],xmm1: the address wraps at 32 bits
  setReg64(t.cpu, 0, 0xffffffff00000000n + BigInt(DATA));
  setYmm(t, 2, dw(1, 2, 3, 4));
  setYmm(t, 1, 'ffffffff'.repeat(8));
  run(t, '67 c4 e2 71 90 04 90');
  assert.equal(ymmHex(t, 0), Z32 + dw(0x1001, 0x1002, 0x1003, 0x1004));
  assert.deepEqual(t.exceptions, []);
});

test('gather partial fault: elements before the faulting one are done, the fault is delivered, the restart completes', () => {
  const t = makeAvxCpu();
  fill(t);
  // linear 2M..4M not present (PD entry 1; the page tables themselves are used by physical address)
  const pde = PT_BASE + 0x2000 + 8, saved = t.mem.read32(pde);
  t.mem.write32(pde, 0);
  t.cpu.flushTlb();
  t.mem.write32(0x300040, 0xabcd);
  setReg64(t.cpu, 0, BigInt(DATA));
  // element 2's index reaches 0x300040 (unmapped); element 5 is masked off and points there too
  const far = (0x300040 - DATA) / 4;
  setYmm(t, 2, dw(0, 1, far, 3, 4, far, 6, 7));
  setYmm(t, 1, dw(-1, -1, -1, -1, -1, 0x7fffffff, -1, -1));
  setYmm(t, 0, 'eeeeeeee'.repeat(8));
  // c4 e2 75 90 04 90  vpgatherdd ymm0,DWORD PTR [rax+ymm2*4],ymm1
  run(t, 'c4 e2 75 90 04 90');
  assert.deepEqual(t.exceptions, [[14, 0]]);
  assert.equal(t.cpu.cr2, 0x300040);
  assert.equal(t.cpu.rip, CODE); // the fault restarts the instruction
  const E = 0xeeeeeeee;
  assert.equal(ymmHex(t, 0), dw(0x1000, 0x1001, E, E, E, E, E, E));
  assert.equal(ymmHex(t, 1), dw(0, 0, -1, -1, -1, 0x7fffffff, -1, -1));
  // the OS maps the page and returns: the gather resumes at element 2
  t.mem.write32(pde, saved);
  t.cpu.flushTlb();
  t.exceptions.length = 0;
  t.mem.write32(DATA, 0x5555); // element 0 is done and not read again
  run(t, 'c4 e2 75 90 04 90');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), dw(0x1000, 0x1001, 0xabcd, 0x1003, 0x1004, E, 0x1006, 0x1007));
  assert.equal(ymmHex(t, 1), '0'.repeat(64));
});

test('gather #UD: same destination/index/mask registers, no VSIB byte, register operand, no AVX2; 32-bit mode works', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  setYmm(t, 1, 'ffffffff'.repeat(8));
  // c4 e2 75 90 04 88  vpgatherdd ymm0,[rax+ymm1*4],ymm1 (mask = index)
  // c4 e2 7d 90 04 90  vpgatherdd ymm0,[rax+ymm2*4],ymm0 (mask = destination)
  // c4 e2 75 90 0c 88  vpgatherdd ymm1,[rax+ymm1*4],ymm1 (all three)
  // c4 e2 75 90 14 90  vpgatherdd ymm2,[rax+ymm2*4],ymm1 (destination = index)
  // c4 e2 75 90 00     ModRM.rm = 000b: no VSIB byte;  c4 e2 75 90 c2: register operand
  for (const code of ['c4 e2 75 90 04 88', 'c4 e2 7d 90 04 90', 'c4 e2 75 90 0c 88', 'c4 e2 75 90 14 90', 'c4 e2 75 90 00', 'c4 e2 75 90 c2']) {
    t.exceptions.length = 0;
    setYmm(t, 0, 'eeeeeeee'.repeat(8));
    run(t, code);
    assert.deepEqual(t.exceptions, [[6, 0]], code);
    assert.equal(ymmHex(t, 0), 'eeeeeeee'.repeat(8), code);
  }
  const a = makeAvxCpu('long64', {});
  run(a, 'c4 e2 75 90 04 90');
  assert.deepEqual(a.exceptions, [[6, 0]]);
  // 32-bit protected mode: c4 e2 71 90 04 90  vpgatherdd xmm0,[eax+xmm2*4],xmm1
  const p = makeAvxCpu('prot32');
  fill(p);
  p.cpu.r[0] = DATA;
  setYmm(p, 2, dw(3, 2, 1, 0));
  setYmm(p, 1, 'ffffffff'.repeat(8));
  run(p, 'c4 e2 71 90 04 90');
  assert.deepEqual(p.exceptions, []);
  assert.equal(ymmHex(p, 0), Z32 + dw(0x1003, 0x1002, 0x1001, 0x1000));
});

test('a gather in a loop (decode-cache replay recomputes the VSIB base and index each time)', () => {
  const t = makeAvxCpu();
  fill(t);
  setReg64(t.cpu, 0, BigInt(DATA));
  setReg64(t.cpu, 1, 5n);
  setReg64(t.cpu, 2, 0x123n); // rdx and the other GPRs play no part
  setYmm(t, 2, dw(0, -8, 16, 3));
  setYmm(t, 3, dw(1, 2, 3, -1));
  setYmm(t, 5, '');
  // top: c5 f1 76 c9  vpcmpeqd xmm1,xmm1,xmm1 ; c4 e2 71 90 04 90  vpgatherdd xmm0,[rax+xmm2*4],xmm1
  //      c5 d1 fe e8  vpaddd xmm5,xmm5,xmm0   ; c5 e9 fe d3  vpaddd xmm2,xmm2,xmm3
  //      ff c9  dec ecx ; 75 ea  jne top
  run(t, 'c5 f1 76 c9  c4 e2 71 90 04 90  c5 d1 fe e8  c5 e9 fe d3  ff c9  75 ea');
  assert.deepEqual(t.exceptions, []);
  // element e sums 0x1000 + index over 5 iterations, index = start + k * step
  const sum = (start: number, step: number): number => 5 * 0x1000 + 5 * start + step * 10;
  assert.equal(ymmHex(t, 5), Z32 + dw(sum(0, 1), sum(-8, 2), sum(16, 3), sum(3, -1)));
});
