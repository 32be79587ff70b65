/**
 * Unit tests of the integer-ALU family: encodings the differential test does not reach
 * (immediates, memory operands, RIP-relative TEST, LOCK, #DE/#UD/#GP cases, BCD, CMOVcc,
 * CMPXCHG*). Bytes are quoted with their disassembly (binutils, Intel syntax).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, CODE } from '../testing.js';
import { RAX, RCX, RDX, RBX, R9 } from '../regs.js';
import { CF, ZF, SF, OF, AF, PF } from '../regs.js';
import { P, Q, umul64, smul64, udiv128, sdiv128 } from './muldiv.js';

const DE = 0, UD = 6, GP = 13;
const MEM = 0x3000;

function rd64(t: ReturnType<typeof makeCpu>, a: number): bigint {
  return (BigInt(t.mem.read32(a + 4) >>> 0) << 32n) | BigInt(t.mem.read32(a) >>> 0);
}
function wr64(t: ReturnType<typeof makeCpu>, a: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  t.mem.write32(a, Number(u & 0xffffffffn)); t.mem.write32(a + 4, Number(u >> 32n));
}

test('group 1: sign-extended immediates, memory destination, 32-bit zero extension', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM));
  wr64(t, MEM, 5n);
  run(t, '48 83 03 fe'); // add qword ptr [rbx], -2
  assert.equal(rd64(t, MEM), 3n);
  assert.equal(t.cpu.getCF(), 1);
  setReg64(t.cpu, RAX, 0x100000000n);
  run(t, '48 05 00 00 00 80'); // add rax, 0xffffffff80000000
  assert.equal(reg64(t.cpu, RAX), 0xffffffff80000000n + 0x100000000n - (1n << 64n));
  setReg64(t.cpu, RAX, 0xffffffff_00000001n);
  run(t, '83 e8 01'); // sub eax, 1
  assert.equal(reg64(t.cpu, RAX), 0n);
  assert.ok(t.cpu.getZF());
});

test('LOCK: allowed on a memory destination, #UD on a register or on CMP', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM, 1);
  run(t, 'f0 83 03 05'); // lock add dword ptr [rbx], 5
  assert.equal(t.mem.read32(MEM), 6);
  assert.equal(t.exceptions.length, 0);
  for (const code of [
    'f0 83 c0 05',    // lock add eax, 5
    'f0 83 3b 05',    // lock cmp dword ptr [rbx], 5
    'f0 48 ff c0',    // lock inc rax
    'f0 0f b1 d1',    // lock cmpxchg ecx, edx
    'f0 48 f7 e1',    // lock mul rcx
    'f0 d1 23',       // lock shl dword ptr [rbx], 1
    'f0 0f a3 0b',    // lock bt dword ptr [rbx], ecx
  ]) {
    run(t, code);
    assert.deepEqual(t.exceptions.pop(), [UD, 0], code);
  }
  run(t, 'f0 48 ff 03'); // lock inc qword ptr [rbx]
  assert.equal(t.mem.read32(MEM), 7);
  assert.equal(t.exceptions.length, 0);
});

test('F6/F7 TEST with RIP-relative memory accounts for the immediate', () => {
  const t = makeCpu('long64');
  // test dword ptr [rip+0x100], 0x11223344: 10 bytes, so the operand is at CODE+10+0x100
  t.mem.write32(CODE + 10 + 0x100, 0x01000000);
  run(t, 'f7 05 00 01 00 00 44 33 22 11');
  assert.equal(t.cpu.getZF(), false);
  // test byte ptr [rip+0x100], 0x80: 7 bytes
  t.mem.write8(CODE + 7 + 0x100, 0x80);
  run(t, 'f6 05 00 01 00 00 80');
  assert.equal(t.cpu.getZF(), false);
  assert.equal(t.cpu.getSF(), true);
});

test('NEG/NOT, INC/DEC preserve CF; FF /7 and FE /2 are #UD; 82 is #UD in 64-bit mode', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0n);
  run(t, 'f9 48 f7 d8'); // stc; neg rax
  assert.equal(t.cpu.getCF(), 0);
  assert.ok(t.cpu.getZF());
  setReg64(t.cpu, RBX, BigInt(MEM));
  wr64(t, MEM, 0x00ff00ff00ff00ffn);
  run(t, '48 f7 13'); // not qword ptr [rbx]
  assert.equal(rd64(t, MEM), 0xff00ff00ff00ff00n);
  wr64(t, MEM, 0x7fffffffffffffffn);
  run(t, 'f9 48 ff 03'); // stc; inc qword ptr [rbx]
  assert.equal(rd64(t, MEM), 0x8000000000000000n);
  assert.equal(t.cpu.getCF(), 1);
  assert.equal(t.cpu.getOF(), true);
  run(t, 'ff f8'); assert.deepEqual(t.exceptions.pop(), [UD, 0]); // FF /7
  run(t, 'fe d0'); assert.deepEqual(t.exceptions.pop(), [UD, 0]); // FE /2
  run(t, '82 c0 01'); assert.deepEqual(t.exceptions.pop(), [UD, 0]); // add al,1 (82 alias)
});

test('INC/DEC 40-4F and 82 outside 64-bit mode', () => {
  const t = makeCpu('prot32');
  t.cpu.setReg32(RAX, 0x7fffffff);
  t.cpu.setReg32(RCX, 0x10000);
  run(t, '40 66 49 82 c3 01'); // inc eax; dec cx; add bl, 1
  assert.equal(t.cpu.getReg32(RAX), 0x80000000 | 0);
  assert.equal(t.cpu.getReg32(RCX), 0x1ffff);
  assert.equal(t.cpu.getReg8(RBX), 1);
});

test('MUL/IMUL/DIV/IDIV on 64-bit operands, #DE on zero divisor and quotient overflow', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0xffffffffffffffffn);
  setReg64(t.cpu, RCX, 0xffffffffffffffffn);
  run(t, '48 f7 e1'); // mul rcx
  assert.equal(reg64(t.cpu, RAX), 1n);
  assert.equal(reg64(t.cpu, RDX), 0xfffffffffffffffen);
  assert.equal(t.cpu.getCF(), 1);
  run(t, '48 f7 f1'); // div rcx: RDX:RAX / RCX = (2^64-1)*(2^64-1) / (2^64-1)
  assert.equal(reg64(t.cpu, RAX), 0xffffffffffffffffn);
  assert.equal(reg64(t.cpu, RDX), 0n);
  setReg64(t.cpu, RCX, 0n);
  run(t, '48 f7 f1');
  assert.deepEqual(t.exceptions.pop(), [DE, 0]);
  assert.equal(t.cpu.rip, CODE, 'the fault leaves RIP at the DIV');
  // IDIV: -2^63 / -1 overflows
  setReg64(t.cpu, RAX, -(1n << 63n)); setReg64(t.cpu, RDX, -1n); setReg64(t.cpu, RCX, -1n);
  run(t, '48 f7 f9'); // idiv rcx
  assert.deepEqual(t.exceptions.pop(), [DE, 0]);
  assert.equal(reg64(t.cpu, RAX), BigInt.asUintN(64, -(1n << 63n)), 'registers untouched on #DE');
  setReg64(t.cpu, RAX, -7n); setReg64(t.cpu, RDX, -1n); setReg64(t.cpu, RCX, 2n);
  run(t, '48 f7 f9');
  assert.equal(reg64(t.cpu, RAX), BigInt.asUintN(64, -3n));
  assert.equal(reg64(t.cpu, RDX), BigInt.asUintN(64, -1n));
});

test('IMUL three-operand forms', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RCX, 0x4000000000000000n);
  run(t, '48 6b c1 fd'); // imul rax, rcx, -3
  assert.equal(reg64(t.cpu, RAX), BigInt.asUintN(64, -3n * 0x4000000000000000n));
  assert.equal(t.cpu.getCF(), 1);
  assert.equal(t.cpu.getOF(), true);
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM, 3);
  setReg64(t.cpu, RAX, -1n);
  run(t, '69 03 45 23 01 00'); // imul eax, dword ptr [rbx], 0x12345
  assert.equal(reg64(t.cpu, RAX), 0x369cfn);
  assert.equal(t.cpu.getCF(), 0);
});

test('128/64-bit division helpers agree with BigInt on random operands', () => {
  let s = 12345;
  const r32 = (): bigint => { s = (Math.imul(s, 1103515245) + 12345) | 0; return BigInt((s >>> 0) ^ ((s << 7) >>> 0)) & 0xffffffffn; };
  const halves = (v: bigint): [number, number] => [Number(v & 0xffffffffn) | 0, Number((v >> 32n) & 0xffffffffn) | 0];
  for (let i = 0; i < 2000; i++) {
    const d = i % 3 === 0 ? r32() || 1n : (r32() << 32n) | r32() || 1n;
    const q0 = (r32() << 32n) | r32();
    const r0 = ((r32() << 32n) | r32()) % d;
    const n = q0 * d + r0;
    if (n >> 128n) continue;
    const w = [0, 1, 2, 3].map((k) => Number((n >> BigInt(32 * k)) & 0xffffffffn) | 0);
    const [dl, dh] = halves(d);
    const ok = udiv128(w[3]!, w[2]!, w[1]!, w[0]!, dl, dh);
    const q = n / d;
    assert.equal(ok, q < (1n << 64n));
    if (ok) {
      assert.deepEqual([Q[0], Q[1], Q[2], Q[3]], [...halves(q), ...halves(n % d)]);
    }
    // signed: interpret n's low 128 bits and d as signed
    const sn = BigInt.asIntN(128, n), sd = BigInt.asIntN(64, d);
    const sq = sn / sd, sr = sn % sd;
    const sok = sdiv128(w[3]!, w[2]!, w[1]!, w[0]!, dl, dh);
    assert.equal(sok, sq >= -(1n << 63n) && sq < (1n << 63n));
    if (sok) assert.deepEqual([Q[0], Q[1], Q[2], Q[3]], [...halves(BigInt.asUintN(64, sq)), ...halves(BigInt.asUintN(64, sr))]);
    // products
    const a = (r32() << 32n) | r32(), b = d;
    umul64(...halves(a), ...halves(b));
    const pw = (a * b);
    assert.deepEqual([...P], [0, 1, 2, 3].map((k) => Number((pw >> BigInt(32 * k)) & 0xffffffffn) | 0));
    smul64(...halves(a), ...halves(b));
    const sp = BigInt.asUintN(128, BigInt.asIntN(64, a) * BigInt.asIntN(64, b));
    assert.deepEqual([...P], [0, 1, 2, 3].map((k) => Number((sp >> BigInt(32 * k)) & 0xffffffffn) | 0));
  }
});

test('shifts and rotates: immediate, memory, RCL modulo 9, count 0 keeps flags', () => {
  const t = makeCpu('long64');
  t.cpu.setReg32(RAX, 0x81);
  run(t, 'f9 c0 d0 09'); // stc; rcl al, 9  -> count 9 mod 9 = 0: no change
  assert.equal(t.cpu.getReg8(RAX), 0x81);
  assert.equal(t.cpu.getCF(), 1);
  setReg64(t.cpu, RBX, BigInt(MEM));
  wr64(t, MEM, 0x1000000000000001n);
  run(t, '48 c1 23 04'); // shl qword ptr [rbx], 4
  assert.equal(rd64(t, MEM), 0x10n);
  assert.equal(t.cpu.getCF(), 1);
  t.cpu.setReg32(RAX, 0x80000001);
  run(t, 'd1 f8'); // sar eax, 1
  assert.equal(t.cpu.getReg32(RAX), 0xc0000000 | 0);
  assert.equal(t.cpu.getCF(), 1);
  assert.equal(t.cpu.getOF(), false);
  // count 0: flags unchanged (cmc makes CF=1 first), but the 32-bit register is still written
  setReg64(t.cpu, RAX, 0xffffffff_00000000n);
  t.cpu.setReg8(RCX, 0);
  run(t, '31 d2 f9 d3 e0'); // xor edx,edx; stc; shl eax, cl
  assert.equal(t.cpu.getCF(), 1);
  assert.equal(t.cpu.getZF(), true);
  assert.equal(reg64(t.cpu, RAX), 0n);
});

test('SHLD/SHRD: memory form and the 16-bit count > 16 case', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM, 0x12345678);
  t.cpu.setReg32(RDX, 0xabcdef01 | 0);
  run(t, '0f ac 13 08'); // shrd dword ptr [rbx], edx, 8
  assert.equal(t.mem.read32(MEM) >>> 0, 0x01123456);
  t.cpu.setReg16(RAX, 0x1234);
  t.cpu.setReg16(RDX, 0x5678);
  run(t, '66 0f a4 d0 14'); // shld ax, dx, 20: Intel gives dest:src:dest shifted (src<<4 | dest>>12)
  assert.equal(t.cpu.getReg16(RAX), 0x6781);
});

test('BT family: register offsets reach beyond the operand (negative too); group 8', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM));
  setReg64(t.cpu, RCX, -1n); // bit -1 = bit 63 of the qword below [rbx]
  run(t, '48 0f ab 0b'); // bts qword ptr [rbx], rcx
  assert.equal(rd64(t, MEM - 8), 0x8000000000000000n);
  assert.equal(t.cpu.getCF(), 0);
  t.mem.write32(MEM, 0xffffffff | 0);
  run(t, '0f ba 33 23'); // btr dword ptr [rbx], 0x23 -> bit 35 & 31 = 3
  assert.equal(t.mem.read32(MEM) >>> 0, 0xfffffff7);
  assert.equal(t.cpu.getCF(), 1);
  run(t, '0f ba 23 23'); // bt dword ptr [rbx], 0x23
  assert.equal(t.cpu.getCF(), 0);
  run(t, '0f ba 03 01'); // group 8 /0 is undefined
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('BSR/LZCNT/POPCNT/BSWAP/MOVBE', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RCX, 0x0000800000000000n);
  run(t, '48 0f bd c1'); // bsr rax, rcx
  assert.equal(reg64(t.cpu, RAX), 47n);
  t.cpu.setReg32(RCX, 0x00010000);
  run(t, 'f3 0f bd c1'); // lzcnt eax, ecx
  assert.equal(reg64(t.cpu, RAX), 15n);
  assert.equal(t.cpu.getCF(), 0);
  setReg64(t.cpu, RCX, 0xf0000000000000ffn);
  run(t, 'f3 48 0f b8 c1'); // popcnt rax, rcx
  assert.equal(reg64(t.cpu, RAX), 12n);
  run(t, '0f b8 c1'); // without F3: JMPE, #UD
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
  setReg64(t.cpu, RAX, 0x0102030405060708n);
  run(t, '48 0f c8'); // bswap rax
  assert.equal(reg64(t.cpu, RAX), 0x0807060504030201n);
  setReg64(t.cpu, R9, 0xffffffff_11223344n);
  run(t, '41 0f c9'); // bswap r9d
  assert.equal(reg64(t.cpu, R9), 0x44332211n);
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM, 0x11223344);
  run(t, '0f 38 f0 03'); // movbe eax, dword ptr [rbx]
  assert.equal(t.cpu.getReg32(RAX), 0x44332211);
  setReg64(t.cpu, RCX, 0x0102030405060708n);
  run(t, '48 0f 38 f1 0b'); // movbe qword ptr [rbx], rcx
  assert.equal(rd64(t, MEM), 0x0807060504030201n);
  run(t, '0f 38 f0 c1'); // register form: #UD
  assert.deepEqual(t.exceptions.pop(), [UD, 0]);
});

test('CMOVcc zero-extends a 32-bit destination even when false; SETcc', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0xffffffff_12345678n);
  run(t, '85 c0 0f 44 c1'); // test eax,eax (ZF=0); cmove eax, ecx
  assert.equal(reg64(t.cpu, RAX), 0x12345678n);
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write8(MEM, 0x55);
  run(t, '85 c0 0f 95 03'); // setne byte ptr [rbx]
  assert.equal(t.mem.read8(MEM), 1);
});

test('CMPXCHG, XADD, CMPXCHG8B, CMPXCHG16B (alignment #GP)', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RBX, BigInt(MEM));
  t.mem.write32(MEM, 7);
  t.cpu.setReg32(RAX, 7); t.cpu.setReg32(RCX, 9);
  run(t, '0f b1 0b'); // cmpxchg dword ptr [rbx], ecx: equal -> store 9
  assert.equal(t.mem.read32(MEM), 9);
  assert.ok(t.cpu.getZF());
  run(t, '0f b1 0b'); // now unequal: eax = 9
  assert.equal(t.cpu.getReg32(RAX), 9);
  assert.equal(t.cpu.getZF(), false);
  wr64(t, MEM, 40n);
  setReg64(t.cpu, RCX, 2n);
  run(t, '48 0f c1 0b'); // xadd qword ptr [rbx], rcx
  assert.equal(rd64(t, MEM), 42n);
  assert.equal(reg64(t.cpu, RCX), 40n);
  wr64(t, MEM, 0x1111111122222222n);
  setReg64(t.cpu, RAX, 0x22222222n); setReg64(t.cpu, RDX, 0x11111111n);
  setReg64(t.cpu, RCX, 0xaaaaaaaan); setReg64(t.cpu, RBX, BigInt(MEM));
  t.cpu.setReg32(RBX, MEM); // ECX:EBX = aaaaaaaa:00003000
  run(t, '0f c7 0b'); // cmpxchg8b qword ptr [rbx]
  assert.equal(rd64(t, MEM), 0xaaaaaaaa00003000n);
  assert.ok(t.cpu.getZF());
  // CMPXCHG16B needs a 16-byte aligned operand
  setReg64(t.cpu, RBX, BigInt(MEM + 8));
  run(t, 'f0 48 0f c7 0b'); // lock cmpxchg16b [rbx]
  assert.deepEqual(t.exceptions.pop(), [GP, 0]);
  setReg64(t.cpu, RBX, BigInt(MEM));
  wr64(t, MEM, 1n); wr64(t, MEM + 8, 2n);
  setReg64(t.cpu, RAX, 5n); setReg64(t.cpu, RDX, 6n);
  run(t, 'f0 48 0f c7 0b'); // mismatch: RDX:RAX = m128
  assert.equal(reg64(t.cpu, RAX), 1n);
  assert.equal(reg64(t.cpu, RDX), 2n);
  assert.equal(t.cpu.getZF(), false);
});

test('CBW family, LAHF/SAHF, CMC/STC/CLC', () => {
  const t = makeCpu('long64');
  setReg64(t.cpu, RAX, 0x80000000n);
  run(t, '48 98 48 99'); // cdqe; cqo
  assert.equal(reg64(t.cpu, RAX), 0xffffffff80000000n);
  assert.equal(reg64(t.cpu, RDX), 0xffffffffffffffffn);
  t.cpu.setReg32(RAX, 0x80);
  run(t, '66 98'); // cbw
  assert.equal(t.cpu.getReg16(RAX), 0xff80);
  t.cpu.setReg32(RAX, (CF | ZF | SF | AF | PF) << 8);
  run(t, '9e f5 9f'); // sahf; cmc; lahf
  assert.equal(t.cpu.getReg8(4) /* AH */, SF | ZF | AF | PF | 2);
  run(t, 'f9'); assert.equal(t.cpu.getCF(), 1);
  run(t, 'f8'); assert.equal(t.cpu.getCF(), 0);
  void OF;
});

test('BCD adjustments and SALC outside 64-bit mode; #UD in 64-bit mode; AAM 0 is #DE', () => {
  const t = makeCpu('prot32');
  t.cpu.setReg32(RAX, 0x79);
  t.cpu.setReg32(RBX, 0x35);
  run(t, '00 d8 27'); // add al, bl; daa -> 0x79 + 0x35 = 0x114 in BCD: AL=0x14, CF=1
  assert.equal(t.cpu.getReg8(RAX), 0x14);
  assert.equal(t.cpu.getCF(), 1);
  t.cpu.setReg32(RAX, 0x35);
  t.cpu.setReg32(RBX, 0x47);
  run(t, '28 d8 2f'); // sub al, bl; das -> 35 - 47 = 88 borrow
  assert.equal(t.cpu.getReg8(RAX), 0x88);
  assert.equal(t.cpu.getCF(), 1);
  t.cpu.setReg32(RAX, 0x0009);
  t.cpu.setReg32(RBX, 0x08);
  run(t, '00 d8 37'); // add al, bl; aaa -> 9 + 8 = 17: AX = 0x0107
  assert.equal(t.cpu.getReg16(RAX), 0x0107);
  t.cpu.setReg32(RAX, 63);
  run(t, 'd4 0a'); // aam 10
  assert.equal(t.cpu.getReg16(RAX), 0x0603);
  run(t, 'd5 0a'); // aad 10
  assert.equal(t.cpu.getReg16(RAX), 63);
  run(t, 'd4 00'); // aam 0
  assert.deepEqual(t.exceptions.pop(), [DE, 0]);
  run(t, 'f9 d6'); // stc; salc
  assert.equal(t.cpu.getReg8(RAX), 0xff);
  const l = makeCpu('long64');
  for (const code of ['27', '2f', '37', '3f', 'd4 0a', 'd5 0a', 'd6']) {
    run(l, code);
    assert.deepEqual(l.exceptions.pop(), [UD, 0], code);
  }
});
