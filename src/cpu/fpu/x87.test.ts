/**
 * x87 unit tests for what the differential test cannot see: #NM/#MF delivery, the
 * last-instruction pointers, environment layouts per mode, the SSE3 gate of FISTTP and the
 * transcendentals' documented accuracy. Bytes are quoted with their disassembly (binutils).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, CODE } from '../testing.js';
import { RBX, RCX, CR0_EM, CR0_TS, CR0_MP, CR0_NE } from '../regs.js';
import { F1C_SSE3, type CpuProfile } from '../profile.js';

const NM = 7, MF = 16, UD = 6;
const MEM = 0x3000, ENV = 0x3100;

function st0(t: ReturnType<typeof makeCpu>): [number, number, number] {
  const f = t.cpu.fpu, p = f.top;
  return [f.se[p]!, f.mant[2 * p + 1]! >>> 0, f.mant[2 * p]! >>> 0];
}

test('FLD1, FLDPI, FADDP, FSTP m64 and FNSTSW AX give π+1 rounded to a double', () => {
  const t = makeCpu('long64');
  t.cpu.fpu.initX87();
  setReg64(t.cpu, RBX, BigInt(MEM));
  run(t, `d9 e8      ; fld1
          d9 eb      ; fldpi
          de c1      ; faddp st(1),st
          dd 1b      ; fstp qword ptr [rbx]
          df e0      ; fnstsw ax`);
  const v = new DataView(t.mem.ram.buffer, MEM, 8).getFloat64(0, true);
  assert.equal(v, Math.PI + 1);
  assert.equal(t.cpu.r[0]! & 0xffff, 0x20); // PE only; TOP back to 0
  assert.equal(t.cpu.fpu.getFtw(), 0xffff);
  assert.equal(t.exceptions.length, 0);
});

test('CR0.EM or CR0.TS: every ESC instruction raises #NM; FWAIT only with MP and TS', () => {
  const t = makeCpu('long64');
  t.cpu.cr0 |= CR0_EM;
  run(t, 'd9 e8'); // fld1
  assert.deepEqual(t.exceptions.at(-1), [NM, 0]);
  run(t, '9b'); // fwait ignores EM
  assert.equal(t.exceptions.length, 1);
  t.cpu.cr0 = (t.cpu.cr0 & ~CR0_EM) | CR0_TS;
  run(t, 'df e0'); // fnstsw ax: non-waiting but still #NM
  assert.deepEqual(t.exceptions.at(-1), [NM, 0]);
  run(t, '9b');
  assert.equal(t.exceptions.length, 2); // TS without MP: FWAIT runs
  t.cpu.cr0 |= CR0_MP;
  run(t, '9b');
  assert.deepEqual(t.exceptions.at(-1), [NM, 0]);
});

test('an unmasked ZE is reported as #MF by the next waiting instruction (CR0.NE = 1), not by FNSTSW', () => {
  const t = makeCpu('long64');
  t.cpu.cr0 |= CR0_NE;
  t.cpu.fpu.initX87();
  t.mem.write16(MEM, 0x037b); // ZE unmasked
  setReg64(t.cpu, RBX, BigInt(MEM));
  run(t, `9b d9 2b   ; fldcw word ptr [rbx]
          d9 ee      ; fldz
          d9 e8      ; fld1
          de f1      ; fdivrp st(1),st  (1/0)
          df e0      ; fnstsw ax`);
  assert.equal(t.exceptions.length, 0);
  assert.equal(t.cpu.r[0]! & 0x80ff, 0x8084); // B, ES, ZE
  assert.deepEqual(st0(t), [0x3fff, 0x80000000, 0]); // no pop, ST(1) still 0.0
  assert.equal(t.cpu.fpu.top, 6);
  run(t, '9b'); // fwait
  assert.deepEqual(t.exceptions.at(-1), [MF, 0]);
  // FOP/FIP still describe the faulting division
  assert.equal(t.cpu.fpu.fop, 0x6f1);
  assert.equal(t.cpu.fpu.fipLo, CODE + 7);
  // CR0.NE = 0: the FERR# path is not modelled, the instruction proceeds
  t.cpu.cr0 &= ~CR0_NE;
  run(t, 'd9 e8'); // fld1
  assert.equal(t.exceptions.length, 1);
  assert.equal(t.cpu.fpu.top, 5);
});

test('FNSTENV (32-bit protected layout) stores FOP, FIP, FDP and masks all exceptions', () => {
  const t = makeCpu('prot32');
  t.cpu.fpu.initX87();
  t.cpu.fpu.fcw = 0x360;
  t.cpu.setReg32(RBX, MEM); t.cpu.setReg32(RCX, ENV);
  run(t, `dd 03      ; fld qword ptr [ebx]
          d9 31      ; fnstenv [ecx]`);
  const m = t.mem;
  assert.equal(m.read32(ENV) >>> 0, 0xffff0360);
  assert.equal(m.read32(ENV + 4) >>> 0, (0xffff0000 | (7 << 11)) >>> 0);
  assert.equal(m.read32(ENV + 8) >>> 0, 0xffff7fff); // ST(0) = R7 holds +0.0: tag 01 "zero"
  assert.equal(m.read32(ENV + 12), CODE);
  assert.equal(m.read32(ENV + 16) >>> 0, (0x503 << 16) | t.cpu.segSel[1]!);
  assert.equal(m.read32(ENV + 20), MEM);
  assert.equal(t.cpu.fpu.fcw, 0x37f);
});

test('FNSAVE/FRSTOR in real mode use the 16-bit real-mode layout and FNSAVE reinitializes', () => {
  const t = makeCpu('real');
  t.cpu.fpu.initX87();
  t.cpu.setReg16(RBX, 0x400);
  t.mem.write32(0x400, 0); t.mem.write32(0x404, 0x40090000); // 3.125
  run(t, `dd 07      ; fld qword ptr [bx]
          dd 37      ; fnsave [bx]`);
  const m = t.mem;
  assert.equal(m.read16(0x400), 0x37f);
  assert.equal(m.read16(0x400 + 2), 7 << 11);
  assert.equal(m.read16(0x400 + 6), CODE & 0xffff);                    // FIP[15:0] (linear)
  assert.equal(m.read16(0x400 + 8), ((CODE >>> 16) << 12) | 0x507);    // FIP[19:16], FOP
  assert.equal(m.read16(0x400 + 10), 0x400);                           // FDP[15:0]
  assert.equal(m.read16(0x400 + 14 + 8), 0x4000);                      // ST(0) exponent of 3.125
  assert.equal(t.cpu.fpu.getFtw(), 0xffff);
  run(t, 'dd 27'); // frstor [bx]
  assert.equal(t.cpu.fpu.top, 7);
  assert.deepEqual(st0(t), [0x4000, 0xc8000000, 0]);
  assert.equal(t.cpu.fpu.fop, 0x507);
});

test('FISTTP is #UD without SSE3 and truncates with it', () => {
  const t = makeCpu('long64');
  t.cpu.fpu.initX87();
  setReg64(t.cpu, RBX, BigInt(MEM));
  (t.cpu as { profile: CpuProfile }).profile = { ...t.cpu.profile, leaf1Ecx: t.cpu.profile.leaf1Ecx & ~F1C_SSE3 };
  run(t, 'd9 eb db 0b'); // fldpi; fisttp dword ptr [rbx]
  assert.deepEqual(t.exceptions.at(-1), [UD, 0]);
  (t.cpu as { profile: CpuProfile }).profile = { ...t.cpu.profile, leaf1Ecx: t.cpu.profile.leaf1Ecx | F1C_SSE3 };
  run(t, 'db 0b');
  assert.equal(t.mem.read32(MEM), 3);
  assert.equal(t.cpu.fpu.top, 0);
});

test('transcendentals: FSIN within the documented bound, FPTAN pushes 1.0, |x| ≥ 2^63 sets C2', () => {
  const t = makeCpu('long64');
  t.cpu.fpu.initX87();
  setReg64(t.cpu, RBX, BigInt(MEM));
  new DataView(t.mem.ram.buffer).setFloat64(MEM, 0.5, true);
  run(t, 'dd 03 d9 fe'); // fld qword ptr [rbx]; fsin
  const [se, hi, lo] = st0(t);
  const v = (hi * 2 ** 32 + lo) * 2 ** ((se & 0x7fff) - 16383 - 63);
  assert.ok(Math.abs(v - Math.sin(0.5)) <= 2 ** -52);
  run(t, 'd9 f2'); // fptan
  assert.deepEqual(st0(t), [0x3fff, 0x80000000, 0]);
  new DataView(t.mem.ram.buffer).setFloat64(MEM, 2 ** 64, true);
  run(t, 'dd 03 d9 fe');
  assert.equal(t.cpu.fpu.fsw & 0x400, 0x400);
  assert.deepEqual(st0(t), [0x403f, 0x80000000, 0]);
});
