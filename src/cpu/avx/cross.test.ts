// AVX2 cross-lane and masked instructions (avx/cross.ts): bytes from GNU as with the
// disassembly quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, PT_BASE } from '../testing.js';
import { makeAvxCpu, avxProfile, ymmHex, setYmm, memHex } from './avx-testing.js';
import { amdProfile, type CpuProfile } from '../profile.js';
import { DS } from '../regs.js';

const DATA = 0x20000;
const Z32 = '0'.repeat(32);
/** YMM value with dword i = i + 1 + 0x10 * i (distinct dwords, dword 0 last). */
const SEQ = '88777777' + '77666666' + '66555555' + '55444444' + '44333333' + '33222222' + '22111111' + '11000000';

function loadHex(t: ReturnType<typeof makeAvxCpu>, addr: number, s: string): void {
  const n = s.length / 2;
  for (let i = 0; i < n; i++) t.mem.ram[addr + i] = parseInt(s.slice(s.length - 2 * i - 2, s.length - 2 * i), 16);
}
/** Unmaps linear 2M..4M (PD entry 1 not present): accesses there are #PF. */
function unmap2M(t: ReturnType<typeof makeAvxCpu>): void {
  t.mem.write32(PT_BASE + 0x2000 + 8, 0);
  t.cpu.flushTlb();
}

test('VPBROADCASTB/W/D/Q and VBROADCASTI128 (register and memory sources, 128 and 256)', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  loadHex(t, DATA, 'ffeeddccbbaa99887766554433221100' + '0123456789abcdef0011223344556677');
  setYmm(t, 2, SEQ);
  // c4 e2 7d 78 ca  vpbroadcastb ymm1,xmm2
  run(t, 'c4 e2 7d 78 ca');
  assert.equal(ymmHex(t, 1), '00'.repeat(32));
  setYmm(t, 2, 'a5');
  run(t, 'c4 e2 7d 78 ca');
  assert.equal(ymmHex(t, 1), 'a5'.repeat(32));
  // c4 e2 79 79 08  vpbroadcastw xmm1,WORD PTR [rax]: bits 255:128 zeroed
  run(t, 'c4 e2 79 79 08');
  assert.equal(ymmHex(t, 1), Z32 + '6677'.repeat(8));
  // c4 e2 7d 58 18  vpbroadcastd ymm3,DWORD PTR [rax]
  run(t, 'c4 e2 7d 58 18');
  assert.equal(ymmHex(t, 3), '44556677'.repeat(8));
  // c4 e2 7d 59 ca  vpbroadcastq ymm1,xmm2
  setYmm(t, 2, SEQ);
  run(t, 'c4 e2 7d 59 ca');
  assert.equal(ymmHex(t, 1), '2211111111000000'.repeat(4));
  // c4 e2 7d 5a 08  vbroadcasti128 ymm1,XMMWORD PTR [rax]
  run(t, 'c4 e2 7d 5a 08');
  assert.equal(ymmHex(t, 1), '0123456789abcdef0011223344556677'.repeat(2));
  assert.deepEqual(t.exceptions, []);
  // #UD: VEX.W1 vpbroadcastd (c4 e2 fd 58 18), VEX.128 vbroadcasti128 (c4 e2 79 5a 08),
  // register-source vbroadcasti128 (c4 e2 7d 5a c1), and AVX2 absent (AVX-only CPU)
  for (const code of ['c4 e2 fd 58 18', 'c4 e2 79 5a 08', 'c4 e2 7d 5a c1']) {
    t.exceptions.length = 0;
    run(t, code);
    assert.deepEqual(t.exceptions, [[6, 0]], code);
  }
  const a = makeAvxCpu('long64', {});
  run(a, 'c4 e2 79 78 ca');
  assert.deepEqual(a.exceptions, [[6, 0]]);
});

test('VPERMD/VPERMPS, VPERMQ/VPERMPD, VPERM2I128, VINSERTI128, VEXTRACTI128', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA));
  setYmm(t, 1, '00000000' + '00000001' + '0000000a' + 'fffffff3' + '00000007' + '00000006' + '00000005' + '00000004');
  setYmm(t, 2, SEQ);
  // c4 e2 75 36 c2  vpermd ymm0,ymm1,ymm2: dword i = ymm2[ymm1.dword i & 7]
  run(t, 'c4 e2 75 36 c2');
  assert.equal(ymmHex(t, 0), '11000000' + '22111111' + '33222222' + '44333333' + '88777777' + '77666666' + '66555555' + '55444444');
  // c4 e2 75 16 00  vpermps ymm0,ymm1,YMMWORD PTR [rax]
  loadHex(t, DATA, SEQ);
  run(t, 'c4 e2 75 16 00');
  assert.equal(ymmHex(t, 0), '11000000' + '22111111' + '33222222' + '44333333' + '88777777' + '77666666' + '66555555' + '55444444');
  // c4 e3 fd 00 c1 1b  vpermq ymm0,ymm1,0x1b (qwords reversed); c4 e3 fd 01 c1 1b vpermpd
  setYmm(t, 1, SEQ);
  for (const code of ['c4 e3 fd 00 c1 1b', 'c4 e3 fd 01 c1 1b']) {
    run(t, code);
    assert.equal(ymmHex(t, 0), '2211111111000000' + '4433333333222222' + '6655555555444444' + '8877777777666666', code);
  }
  // c4 e3 75 46 c2 83  vperm2i128 ymm0,ymm1,ymm2,0x83: low lane = ymm2 high, high lane = 0
  setYmm(t, 2, 'aa'.repeat(16) + 'bb'.repeat(16));
  run(t, 'c4 e3 75 46 c2 83');
  assert.equal(ymmHex(t, 0), Z32 + 'aa'.repeat(16));
  // c4 e3 75 46 c2 20  vperm2i128 ymm0,ymm1,ymm2,0x20: low = ymm1 low, high = ymm2 low
  run(t, 'c4 e3 75 46 c2 20');
  assert.equal(ymmHex(t, 0), 'bb'.repeat(16) + SEQ.slice(32));
  // c4 e3 75 38 c2 01  vinserti128 ymm0,ymm1,xmm2,0x1
  run(t, 'c4 e3 75 38 c2 01');
  assert.equal(ymmHex(t, 0), 'bb'.repeat(16) + SEQ.slice(32));
  // c4 e3 7d 39 c8 01  vextracti128 xmm0,ymm1,0x1 (bits 255:128 of xmm0 zeroed)
  run(t, 'c4 e3 7d 39 c8 01');
  assert.equal(ymmHex(t, 0), Z32 + SEQ.slice(0, 32));
  // c4 e3 7d 39 08 00  vextracti128 XMMWORD PTR [rax],ymm1,0x0
  loadHex(t, DATA, '00'.repeat(32));
  run(t, 'c4 e3 7d 39 08 00');
  assert.equal(memHex(t, DATA, 32), Z32 + SEQ.slice(32));
  assert.deepEqual(t.exceptions, []);
  // #UD: VEX.128 vpermd (c4 e2 71 36 c2), VEX.W0 vpermq (c4 e3 7d 00 c1 1b: Intel lists W1
  // only; Zen 4 runs it, see the next test), VEX.W1 vinserti128 (c4 e3 f5 38 c2 01), vvvv ≠ 1111b vpermq (c4 e3 f5 00 c1 1b)
  for (const code of ['c4 e2 71 36 c2', 'c4 e3 7d 00 c1 1b', 'c4 e3 f5 38 c2 01', 'c4 e3 f5 00 c1 1b']) {
    t.exceptions.length = 0;
    run(t, code);
    assert.deepEqual(t.exceptions, [[6, 0]], code);
  }
});

test('VEX.W0 VPERMQ/VPERMPD: #UD on nestvisor-intel (SDM: W1 only), run like W1 on nestvisor-amd (Zen 4)', () => {
  for (const amd of [false, true]) {
    const t = makeAvxCpu();
    if (amd) (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(amdProfile(), { avx2: true });
    setYmm(t, 1, SEQ);
    // c4 e3 7d 00 c1 1b  vpermq ymm0,ymm1,0x1b with VEX.W0 (objdump: (bad)); c4 e3 7d 01 c1 1b vpermpd
    for (const code of ['c4 e3 7d 00 c1 1b', 'c4 e3 7d 01 c1 1b']) {
      t.exceptions.length = 0;
      setYmm(t, 0, Z32 + Z32);
      run(t, code);
      if (amd) {
        assert.deepEqual(t.exceptions, [], code);
        assert.equal(ymmHex(t, 0), '2211111111000000' + '4433333333222222' + '6655555555444444' + '8877777777666666', code);
      } else assert.deepEqual(t.exceptions, [[6, 0]], code);
    }
    // VEX.L0 stays #UD on both: c4 e3 79 00 c1 1b
    t.exceptions.length = 0;
    run(t, 'c4 e3 79 00 c1 1b');
    assert.deepEqual(t.exceptions, [[6, 0]]);
  }
});

test('VPMASKMOVD/Q: masked-off elements never fault; a faulting load or store changes nothing', () => {
  const t = makeAvxCpu();
  unmap2M(t);
  const base = 0x200000 - 16; // elements 0-3 (dwords) on a mapped page, 4-7 on the unmapped one
  setReg64(t.cpu, 0, BigInt(base));
  loadHex(t, base, '44444444' + '33333333' + '22222222' + '11111111');
  setYmm(t, 1, '00000000'.repeat(4) + '80000000' + '00000000' + 'ffffffff' + '7fffffff');
  setYmm(t, 0, SEQ);
  // c4 e2 75 8c 00  vpmaskmovd ymm0,ymm1,YMMWORD PTR [rax]: elements 1 and 3 selected, 4-7 unmapped but off
  run(t, 'c4 e2 75 8c 00');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), '00000000'.repeat(4) + '44444444' + '00000000' + '22222222' + '00000000');
  // c4 e2 f1 8c 00  vpmaskmovq xmm0,xmm1,XMMWORD PTR [rax]: mask tops are dwords 1 and 3, both set
  run(t, 'c4 e2 f1 8c 00');
  assert.equal(ymmHex(t, 0), Z32 + '4444444433333333' + '2222222211111111');
  setYmm(t, 1, '00000000'.repeat(4) + '00000000' + '00000000' + '80000000' + '00000000');
  run(t, 'c4 e2 f1 8c 00');
  assert.equal(ymmHex(t, 0), Z32 + '0000000000000000' + '2222222211111111');
  setYmm(t, 1, '00000000'.repeat(4) + '80000000' + '00000000' + 'ffffffff' + '7fffffff');
  // selecting element 4 (unmapped) faults: #PF, destination unchanged
  setYmm(t, 1, '00000000'.repeat(3) + '80000000' + '80000000' + '00000000'.repeat(3));
  setYmm(t, 0, SEQ);
  run(t, 'c4 e2 75 8c 00');
  assert.deepEqual(t.exceptions, [[14, 0]]);
  assert.equal(t.cpu.cr2, 0x200000);
  assert.equal(ymmHex(t, 0), SEQ);
  // c4 e2 75 8e 10  vpmaskmovd YMMWORD PTR [rax],ymm1,ymm2: element 3 (mapped) and 4 (unmapped)
  // selected → #PF(write) and element 3 is not written either
  t.exceptions.length = 0;
  setYmm(t, 2, SEQ);
  run(t, 'c4 e2 75 8e 10');
  assert.deepEqual(t.exceptions, [[14, 2]]);
  assert.equal(memHex(t, base, 16), '44444444' + '33333333' + '22222222' + '11111111');
  // only mapped elements selected: written, the others untouched
  t.exceptions.length = 0;
  setYmm(t, 1, '00000000'.repeat(4) + '80000000' + '00000000' + '80000000' + '00000000');
  run(t, 'c4 e2 75 8e 10');
  assert.deepEqual(t.exceptions, []);
  assert.equal(memHex(t, base, 16), '44333333' + '33333333' + '22111111' + '11111111');
  // c4 e2 f5 8e 10  vpmaskmovq YMMWORD PTR [rax],ymm1,ymm2 with no element selected: nothing, no fault
  setYmm(t, 1, '7fffffff'.repeat(8));
  run(t, 'c4 e2 f5 8e 10');
  assert.deepEqual(t.exceptions, []);
  // register operand (c4 e2 75 8c c2) is #UD
  run(t, 'c4 e2 75 8c c2');
  assert.deepEqual(t.exceptions, [[6, 0]]);
});

test('VPSLLVD/Q, VPSRLVD/Q, VPSRAVD (per-element counts) and VPBLENDD', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '80000001'.repeat(8));
  setYmm(t, 2, '00000000' + '00000001' + '0000001f' + '00000020' + 'ffffffff' + '00000004' + '00000010' + '00000003');
  // c4 e2 75 47 c2  vpsllvd ymm0,ymm1,ymm2
  run(t, 'c4 e2 75 47 c2');
  assert.equal(ymmHex(t, 0), '80000001' + '00000002' + '80000000' + '00000000' + '00000000' + '00000010' + '00010000' + '00000008');
  // c4 e2 75 45 c2  vpsrlvd (as VEX.256: c4 e2 75 45 c2)
  run(t, 'c4 e2 75 45 c2');
  assert.equal(ymmHex(t, 0), '80000001' + '40000000' + '00000001' + '00000000' + '00000000' + '08000000' + '00008000' + '10000000');
  // c4 e2 75 46 c2  vpsravd ymm0,ymm1,ymm2: counts ≥ 32 fill with the sign
  run(t, 'c4 e2 75 46 c2');
  assert.equal(ymmHex(t, 0), '80000001' + 'c0000000' + 'ffffffff' + 'ffffffff' + 'ffffffff' + 'f8000000' + 'ffff8000' + 'f0000000');
  // c4 e2 f1 47 c2  vpsllvq xmm0,xmm1,xmm2 (qword counts 0x1f_00000020 → ≥ 64 → 0, and 4)
  setYmm(t, 2, '0000001f00000020' + '0000000000000024');
  run(t, 'c4 e2 f1 47 c2');
  assert.equal(ymmHex(t, 0), Z32 + '0000000000000000' + '0000001000000000');
  // c4 e2 f5 45 c2  vpsrlvq ymm0,ymm1,ymm2
  setYmm(t, 2, '0000000000000000' + '000000000000003f' + '0000000000000040' + '0000000000000021');
  run(t, 'c4 e2 f5 45 c2');
  assert.equal(ymmHex(t, 0), '8000000180000001' + '0000000000000001' + '0000000000000000' + '0000000040000000');
  // c4 e2 f5 46 c2 (VEX.W1 46: no VPSRAVQ in VEX) is #UD
  run(t, 'c4 e2 f5 46 c2');
  assert.deepEqual(t.exceptions, [[6, 0]]);
  // c4 e3 75 02 c2 a5  vpblendd ymm0,ymm1,ymm2,0xa5; c4 e3 71 02 c2 f5 vpblendd xmm0,xmm1,xmm2,0xf5
  t.exceptions.length = 0;
  setYmm(t, 1, 'aaaaaaaa'.repeat(8));
  setYmm(t, 2, SEQ);
  run(t, 'c4 e3 75 02 c2 a5');
  assert.equal(ymmHex(t, 0), '88777777' + 'aaaaaaaa' + '66555555' + 'aaaaaaaa' + 'aaaaaaaa' + '33222222' + 'aaaaaaaa' + '11000000');
  run(t, 'c4 e3 71 02 c2 f5');
  assert.equal(ymmHex(t, 0), Z32 + 'aaaaaaaa' + '33222222' + 'aaaaaaaa' + '11000000');
  assert.deepEqual(t.exceptions, []);
});

test('VPMASKMOVD in 32-bit protected mode: the segment limit is checked per selected element only', () => {
  const t = makeAvxCpu('prot32');
  // DS: base 0, limit 0x2000f (byte granular, expand-up data, writable)
  t.cpu.setSegCache(DS, 0x10, 0, 0x2000f, 0x4093);
  t.cpu.r[0] = 0x20000;
  loadHex(t, 0x20000, '44444444' + '33333333' + '22222222' + '11111111');
  // c4 e2 75 8c 00  vpmaskmovd ymm0,ymm1,[eax]: elements 0-3 inside the limit, 4-7 beyond
  setYmm(t, 1, '00000000'.repeat(4) + 'ffffffff'.repeat(4));
  run(t, 'c4 e2 75 8c 00');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), '00000000'.repeat(4) + '44444444' + '33333333' + '22222222' + '11111111');
  // selecting element 4 (offset 0x20010, past the limit): #GP(0), nothing stored by the store form
  setYmm(t, 1, '00000000'.repeat(3) + '80000000' + 'ffffffff'.repeat(4));
  setYmm(t, 2, SEQ);
  run(t, 'c4 e2 75 8e 10'); // vpmaskmovd [eax],ymm1,ymm2
  assert.deepEqual(t.exceptions, [[13, 0]]);
  assert.equal(memHex(t, 0x20000, 16), '44444444' + '33333333' + '22222222' + '11111111');
});

test('VEX.W1 VPEXTRQ/VPINSRQ outside 64-bit mode: #UD on nestvisor-amd (Zen 4), the D forms on nestvisor-intel', () => {
  for (const amd of [false, true]) {
    const t = makeAvxCpu('prot32');
    if (amd) (t.cpu as unknown as { profile: CpuProfile }).profile = avxProfile(amdProfile(), { avx2: true });
    setYmm(t, 1, Z32 + '44444444' + '33333333' + '22222222' + '11111111');
    // c4 e3 f9 16 c8 01  vpextrq eax,xmm1,0x1 (W1; 32-bit code)
    run(t, 'c4 e3 f9 16 c8 01');
    if (amd) assert.deepEqual(t.exceptions, [[6, 0]]);
    else { assert.deepEqual(t.exceptions, []); assert.equal(t.cpu.getReg32(0) >>> 0, 0x22222222); }
    t.exceptions.length = 0;
    t.cpu.setReg32(0, 0x55555555);
    // c4 e3 f1 22 c0 02  vpinsrq xmm0,xmm1,eax,0x2 (W1; 32-bit code)
    run(t, 'c4 e3 f1 22 c0 02');
    if (amd) assert.deepEqual(t.exceptions, [[6, 0]]);
    else assert.equal(ymmHex(t, 0), Z32 + '44444444' + '55555555' + '22222222' + '11111111');
  }
});
