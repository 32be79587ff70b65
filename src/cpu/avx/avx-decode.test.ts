// VEX decoding (run-loop.ts decodeVex), the AVX availability check (avx/common.ts avxCheck)
// in the SDM's order, and the YMM upper-half rules. Bytes from GNU as, disassembly quoted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, setReg64, makeCpu, CODE } from '../testing.js';
import { makeAvxCpu, ymmHex, setYmm } from './avx-testing.js';
import { CR0_TS, CR0_PE, CR4_OSXSAVE, UD, NM, GP, CS, DS, ES, SS, FS, GS } from '../regs.js';
import { defaultProfile, withoutAvx, type CpuProfile } from '../profile.js';

const DATA = 0x20000;
const ONES = '0123456789abcdef'.repeat(4);

test('VEX.256 and VEX.128 decode in 64-bit mode; VEX.128 zeroes bits 255:128, legacy SSE keeps them', () => {
  const t = makeAvxCpu();
  setYmm(t, 2, '00000002'.repeat(8)); setYmm(t, 3, '00000003'.repeat(8)); setYmm(t, 1, ONES); setYmm(t, 5, ONES);
  // c5 f5 fe ca   vpaddd ymm1,ymm1,ymm2  (AVX2)
  // c5 d1 fe ea   vpaddd xmm5,xmm5,xmm2
  run(t, 'c5 f5 fe ca  c5 d1 fe ea');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 5), '0'.repeat(32) + '0123456989abcdf1'.repeat(2));
  assert.equal(ymmHex(t, 1), '0123456989abcdf1'.repeat(4));
  // 66 0f fe ca   paddd xmm1,xmm2: legacy SSE leaves bits 255:128 of ymm1 alone
  setYmm(t, 1, ONES);
  run(t, '66 0f fe ca');
  assert.equal(ymmHex(t, 1), ONES.slice(0, 32) + '0123456989abcdf1'.repeat(2));
});

test('VEX with REX.R/B-extended registers: c5 7e 6f 00 vmovdqu ymm8,[rax]; c5 7a 7f f8 vmovdqu xmm0,xmm15', () => {
  const t = makeAvxCpu();
  const bytes = Array.from({ length: 32 }, (_, i) => i + 1);
  t.mem.load(DATA, Uint8Array.from(bytes));
  setReg64(t.cpu, 0, BigInt(DATA + 0));
  setYmm(t, 15, ONES); setYmm(t, 0, 'f'.repeat(64));
  run(t, 'c5 7e 6f 00  c5 7a 7f f8');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 8), bytes.slice().reverse().map((b) => b.toString(16).padStart(2, '0')).join(''));
  assert.equal(ymmHex(t, 0), '0'.repeat(32) + ONES.slice(32));
});

test('3-byte VEX: c4 e2 71 29 c2 vpcmpeqq xmm0,xmm1,xmm2 (map 0F38); c4 e1 f9 6e c0 vmovq xmm0,rax (W1)', () => {
  const t = makeAvxCpu();
  setYmm(t, 1, '00000000000000050000000000000007'); setYmm(t, 2, '00000000000000050000000000000008');
  run(t, 'c4 e2 71 29 c2');
  assert.equal(ymmHex(t, 0), '0'.repeat(32) + 'ffffffffffffffff0000000000000000');
  setReg64(t.cpu, 0, 0x1122334455667788n);
  setYmm(t, 0, ONES);
  run(t, 'c4 e1 f9 6e c0');
  assert.equal(ymmHex(t, 0), '0'.repeat(48) + '1122334455667788');
});

test('a legacy 66/F2/F3/LOCK or REX prefix before VEX is #UD (SDM Vol. 2 §2.3.2)', () => {
  for (const pfx of ['66', 'f2', 'f3', 'f0', '40', '48']) {
    const t = makeAvxCpu();
    run(t, `${pfx} c5 f1 fe c2`); // vpaddd xmm0,xmm1,xmm2
    assert.deepEqual(t.exceptions, [[UD, 0]], pfx);
  }
  // segment and address-size prefixes are allowed: 67 c5 f8 10 00  vmovups xmm0,[eax]
  const t = makeAvxCpu();
  t.mem.load(DATA, Uint8Array.from([1, 2, 3, 4]));
  setReg64(t.cpu, 0, BigInt(DATA));
  run(t, '67 c5 f8 10 00');
  assert.deepEqual(t.exceptions, []);
  assert.equal(t.cpu.fpu.xmm[0], 0x04030201);
});

test('map_select 0 and 4 are #UD; an unclaimed VEX opcode is #UD', () => {
  for (const code of ['c4 e0 78 58 c0', 'c4 e4 78 58 c0', 'c5 f8 ff c0', 'c4 e3 79 ff c0 00']) {
    const t = makeAvxCpu();
    run(t, code);
    assert.deepEqual(t.exceptions, [[UD, 0]], code);
  }
});

test('protected mode: C5 with ModRM bits 7:6 = 11 is VEX, otherwise LDS/LES; real mode: always LES/LDS', () => {
  const t = makeAvxCpu('prot32');
  setYmm(t, 1, ONES);
  run(t, 'c5 f8 77'); // vzeroupper
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 1), '0'.repeat(32) + ONES.slice(32));
  // c4 05 00 00 02 00   les eax,[0x20000]: far pointer 0x00001234:0000 (a null selector loads into ES)
  t.mem.load(DATA, Uint8Array.from([0x34, 0x12, 0, 0, 0, 0]));
  run(t, 'c4 05 00 00 02 00');
  assert.deepEqual(t.exceptions, []);
  assert.equal(t.cpu.r[0], 0x1234);
  // real mode: c5 f8 is LDS with a register operand → #UD, not VZEROUPPER
  const r = makeAvxCpu('real');
  setYmm(r, 1, ONES);
  run(r, 'c5 f8 77');
  assert.deepEqual(r.exceptions, [[UD, 0]]);
  assert.equal(ymmHex(r, 1), ONES);
});

test('32-bit mode: VEX.B̄ is ignored and vvvv names xmm0-7, but vvvv must still be 1111b where unused', () => {
  const t = makeAvxCpu('prot32');
  setYmm(t, 1, '00000001'.repeat(8)); setYmm(t, 2, '00000002'.repeat(8));
  // c4 c1 71 fe c2: vpaddd xmm0,xmm1,xmm10 in 64-bit mode; B̄ = 0 is ignored here → xmm2
  run(t, 'c4 c1 71 fe c2');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), '0'.repeat(32) + '00000003'.repeat(4));
  // c4 e1 31 fe c2: vvvv = 1001b → xmm1 outside 64-bit mode (xmm9 in 64-bit mode)
  run(t, 'c4 e1 31 fe c2');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), '0'.repeat(32) + '00000003'.repeat(4));
  // c4 e1 40 10 c1: vmovups xmm0,xmm1 with vvvv = 1000b: not 1111b → #UD
  run(t, 'c4 e1 40 10 c1');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
});

test('avxCheck order: #UD without CR4.OSXSAVE, without XCR0[2:1] = 11b, without CPUID.AVX; then #NM with CR0.TS', () => {
  const code = 'c5 f4 58 c2'; // vaddps ymm0,ymm1,ymm2
  const cases: Array<[string, (t: ReturnType<typeof makeAvxCpu>) => void, number]> = [
    ['no OSXSAVE', (t) => { t.cpu.cr4 &= ~CR4_OSXSAVE; }, UD],
    ['no OSXSAVE, TS', (t) => { t.cpu.cr4 &= ~CR4_OSXSAVE; t.cpu.cr0 |= CR0_TS; }, UD],
    ['XCR0 = 3', (t) => { t.cpu.xcr0 = 3; }, UD],
    ['XCR0 = 3, TS', (t) => { t.cpu.xcr0 = 3; t.cpu.cr0 |= CR0_TS; }, UD],
    ['no AVX in CPUID', (t) => { (t.cpu as unknown as { profile: CpuProfile }).profile = withoutAvx(defaultProfile()); }, UD],
    ['TS', (t) => { t.cpu.cr0 |= CR0_TS; }, NM],
  ];
  for (const [name, setup, v] of cases) {
    const t = makeAvxCpu();
    setup(t);
    run(t, code);
    assert.deepEqual(t.exceptions, [[v, 0]], name);
  }
  // vvvv ≠ 1111b on a move is #UD even with CR0.TS = 1: c5 f0 10 00  (vmovups xmm0,[rax], vvvv = 1110b)
  const t = makeAvxCpu();
  t.cpu.cr0 |= CR0_TS;
  run(t, 'c5 f0 10 00');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  // L = 1 where there is no 256-bit form: c5 fd 6e c0 (vmovd with VEX.256) → #UD
  const u = makeAvxCpu();
  run(u, 'c5 fd 6e c0');
  assert.deepEqual(u.exceptions, [[UD, 0]]);
});

test('a profile without AVX (withoutAvx): every VEX instruction is #UD even with XCR0 and OSXSAVE set', () => {
  const t = makeCpu('long64');
  (t.cpu as unknown as { profile: CpuProfile }).profile = withoutAvx(t.cpu.profile);
  t.cpu.cr4 |= CR4_OSXSAVE;
  t.cpu.xcr0 = 3; // XSETBV cannot set bit 2 on this profile
  run(t, 'c5 f8 77');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  assert.equal(t.cpu.cpuid(1, 0)[2]! & (1 << 28), 0);
});

test('256-bit integer forms need AVX2: c5 f5 fe c2 vpaddd ymm0,ymm1,ymm2 is #UD with AVX only', () => {
  const t = makeAvxCpu('long64', {});
  run(t, 'c5 f5 fe c2');
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  run(t, 'c5 f1 fe c2');
  assert.equal(t.exceptions.length, 1);
});

test('decode cache and translated blocks: a VEX loop with legacy-SSE and ALU neighbours keeps prefix state exact', () => {
  const t = makeAvxCpu();
  setYmm(t, 0, '0'.repeat(64)); setYmm(t, 1, '00000001'.repeat(8)); setYmm(t, 3, ONES);
  t.cpu.r[2] = 50; // ecx
  // loop: c5 fd fe c1        vpaddd ymm0,ymm0,ymm1
  //       66 0f fe d9        paddd xmm3,xmm1     (66 prefix, no VEX: ymm3 upper kept)
  //       0f af c1           imul eax,ecx
  //       ff c9              dec ecx
  //       75 f1              jne loop
  run(t, 'c5 fd fe c1  66 0f fe d9  0f af c1  ff c9  75 f1');
  assert.deepEqual(t.exceptions, []);
  assert.equal(ymmHex(t, 0), '00000032'.repeat(8));
  const lo = (BigInt('0x' + ONES.slice(32, 40)) + 50n) & 0xffffffffn;
  assert.equal(ymmHex(t, 3).slice(0, 32), ONES.slice(0, 32));
  assert.equal(ymmHex(t, 3).slice(32, 40), lo.toString(16).padStart(8, '0'));
});

test('#GP for a misaligned VMOVAPS ymm (32-byte rule), none for VMOVUPS; a faulting load changes nothing', () => {
  const t = makeAvxCpu();
  setReg64(t.cpu, 0, BigInt(DATA + 16));
  setYmm(t, 0, ONES);
  run(t, 'c5 fc 28 00'); // vmovaps ymm0,[rax]
  assert.deepEqual(t.exceptions, [[GP, 0]]);
  assert.equal(ymmHex(t, 0), ONES);
  run(t, 'c5 fc 10 00'); // vmovups ymm0,[rax]
  assert.equal(t.exceptions.length, 1);
  assert.equal(ymmHex(t, 0), '0'.repeat(64));
  assert.equal(t.cpu.rip, CODE + 5);
});

test('16-bit protected mode decodes VEX; the same cached bytes in real mode are LDS (decode-cache mode 0 vs 3)', () => {
  const t = makeAvxCpu('prot32');
  t.cpu.setSegCache(CS, 0x08, 0, 0xfffff, 0x9b); // 16-bit code segment (D = 0)
  t.mem.load(CODE, Uint8Array.from([0xc5, 0xf8, 0x77, 0xf4])); // vzeroupper; hlt — loaded once, so the entry stays cached
  const again = (): void => { t.cpu.rip = CODE; t.cpu.halted = false; t.cpu.run(10); };
  for (let i = 0; i < 3; i++) {
    setYmm(t, 1, ONES);
    again();
    assert.equal(ymmHex(t, 1), '0'.repeat(32) + ONES.slice(32));
  }
  assert.deepEqual(t.exceptions, []);
  t.cpu.cr0 &= ~CR0_PE;
  for (const s of [CS, DS, ES, SS, FS, GS]) t.cpu.setSegReal(s, 0);
  t.cpu.updateMode();
  setYmm(t, 1, ONES);
  again();
  assert.deepEqual(t.exceptions, [[UD, 0]]);
  assert.equal(ymmHex(t, 1), ONES);
});
