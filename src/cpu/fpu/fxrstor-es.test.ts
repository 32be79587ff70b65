/**
 * FXRSTOR takes FSW.ES and B from the loaded flags and masks, not from the image (as FLDENV and
 * FRSTOR do, which x87-diff.test.ts compares with the host). The expected words were measured on
 * this machine's CPU: FXRSTOR of an image with the given FCW/FSW, then FNSTSW AX.
 * Bytes are quoted with their disassembly (binutils, Intel syntax).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, setReg64, reg64 } from '../testing.js';
import { RAX, RBX, CR0_NE, CR4_OSFXSR } from '../regs.js';
import { F1D_SSE, F1D_SSE2, type CpuProfile } from '../profile.js';

const MEM = 0x3000, MF = 16;

function restore(fcw: number, fsw: number, code: string): { ax: number; exceptions: number[] } {
  const t = makeCpu('long64');
  t.cpu.cr4 |= CR4_OSFXSR;
  t.cpu.cr0 |= CR0_NE;
  const p = t.cpu.profile;
  (t.cpu as { profile: CpuProfile }).profile = { ...p, leaf1Edx: p.leaf1Edx | F1D_SSE | F1D_SSE2 };
  for (let i = 0; i < 512; i += 4) t.mem.write32(MEM + i, 0);
  t.mem.write16(MEM, fcw); t.mem.write16(MEM + 2, fsw);
  t.mem.write32(MEM + 24, 0x1f80); // MXCSR
  setReg64(t.cpu, RBX, BigInt(MEM));
  setReg64(t.cpu, RAX, 0n);
  run(t, code);
  return { ax: Number(reg64(t.cpu, RAX) & 0xffffn), exceptions: t.exceptions.map((e) => e[0]) };
}

test('FXRSTOR recomputes FSW.ES/B from the flags and masks (host-measured words)', () => {
  // 0f ae 0b  fxrstor [rbx]
  // df e0     fnstsw ax
  const cases: Array<[number, number, number]> = [
    [0x037f, 0x0081, 0x0001], // ES set in the image, IE masked: cleared
    [0x037f, 0x8081, 0x0001],
    [0x037f, 0x8000, 0x0000],
    [0x037e, 0x0001, 0x8081], // IE unmasked, ES clear in the image: set, with B
    [0x037e, 0x0041, 0x80c1],
    [0x037b, 0x0004, 0x8084], // ZE unmasked
  ];
  for (const [fcw, fsw, want] of cases) {
    const r = restore(fcw, fsw, '0f ae 0b df e0');
    assert.deepEqual(r.exceptions, [], `fcw ${fcw.toString(16)} fsw ${fsw.toString(16)}`);
    assert.equal(r.ax, want, `fcw ${fcw.toString(16)} fsw ${fsw.toString(16)}: FNSTSW ${r.ax.toString(16)}`);
  }
  // 0f ae 0b  fxrstor [rbx]
  // 9b        fwait        ; the pending unmasked IE is reported as #MF (CR0.NE = 1)
  assert.deepEqual(restore(0x037e, 0x0001, '0f ae 0b 9b').exceptions, [MF]);
  assert.deepEqual(restore(0x037f, 0x0081, '0f ae 0b 9b').exceptions, []);
});
