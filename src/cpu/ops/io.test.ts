import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCpu, run, reg64, setReg64, CODE, type TestCpu } from '../testing.js';
import { RAX, RCX, RDX, RSI, RDI, CS, SS, TR, FS, IOPL, VM } from '../regs.js';
import { ioPermitted } from './io.js';

const GP = 13, PF = 14;

/** A port device that logs writes and answers reads with a counter. */
function device(t: TestCpu, port: number, len: number): Array<[number, number, number]> {
  const log: Array<[number, number, number]> = [];
  let next = 0x10;
  t.io.register(port, len, {
    read(offset, size) { const v = size === 4 ? 0x80000000 + next++ : size === 2 ? 0x8000 + next++ : next++; log.push([offset, size, -1]); return v; },
    write(offset, size, value) { log.push([offset, size, value]); },
  }, 'test');
  return log;
}

test('E4-E7/EC-EF IN/OUT: sizes 1/2/4, immediate and DX ports, 32-bit IN zero-extends RAX', () => {
  const t = makeCpu('long64');
  const log = device(t, 0x60, 8);
  setReg64(t.cpu, RAX, 0xffff_ffff_ffff_ffffn);
  run(t, 'e4 60'); // in al, 0x60
  assert.equal(reg64(t.cpu, RAX), 0xffff_ffff_ffff_ff10n);
  run(t, 'e5 61'); // in eax, 0x61
  assert.equal(reg64(t.cpu, RAX), 0x80000011n);
  setReg64(t.cpu, RDX, 0x62n);
  run(t, '66 ed'); // in ax, dx
  assert.equal(reg64(t.cpu, RAX), 0x80008012n);
  setReg64(t.cpu, RAX, 0xdeadbeefn);
  run(t, `
    e6 63    ; out 0x63, al
    ef       ; out dx, eax
    66 ef    ; out dx, ax
  `);
  assert.deepEqual(log.slice(3), [[3, 1, 0xef], [2, 4, 0xdeadbeef], [2, 2, 0xbeef]]);
  run(t, 'e4 70'); // unclaimed ports float high
  assert.equal(reg64(t.cpu, RAX) & 0xffn, 0xffn);
});

test('6C-6F INS/OUTS with REP, DF=0, and a segment override on OUTS', () => {
  const p = makeCpu('prot32');
  const log = device(p, 0x1f0, 8);
  p.cpu.setReg32(RDX, 0x1f0);
  p.cpu.setReg32(RDI, 0x3000);
  p.cpu.setReg32(RCX, 3);
  run(p, 'f3 6c'); // rep insb
  assert.deepEqual([p.mem.read8(0x3000), p.mem.read8(0x3001), p.mem.read8(0x3002)], [0x10, 0x11, 0x12]);
  assert.equal(p.cpu.getReg32(RDI), 0x3003);
  assert.equal(p.cpu.getReg32(RCX), 0);
  p.cpu.setReg32(RSI, 0x3000);
  p.cpu.setReg32(RCX, 2);
  run(p, '66 f3 6f'); // rep outsw
  assert.deepEqual(log.slice(3), [[0, 2, 0x1110], [0, 2, 0x0012]]);
  assert.equal(p.cpu.getReg32(RSI), 0x3004);
  p.cpu.segBase[FS] = 0x5000;
  p.mem.write8(0x5000, 0x99);
  p.cpu.setReg32(RSI, 0);
  run(p, '64 6e'); // outs dx, byte ptr fs:[esi]
  assert.deepEqual(log[log.length - 1], [0, 1, 0x99]);
});

test('REP INSB into an unmapped page faults before reading the port and stops at the iteration', () => {
  const t = makeCpu('long64');
  const log = device(t, 0x1f0, 8);
  setReg64(t.cpu, RDX, 0x1f0n);
  setReg64(t.cpu, RDI, 0x40000000n);
  setReg64(t.cpu, RCX, 4n);
  run(t, 'f3 6c');
  assert.deepEqual(t.exceptions.pop(), [PF, 2]);
  assert.equal(log.length, 0);
  assert.equal(reg64(t.cpu, RCX), 4n);
});

/** prot32 at CPL 3, IOPL 0, with a 32-bit TSS at 0x8000 whose I/O bitmap allows only some ports. */
function userWithTss(limit: number): TestCpu {
  const p = makeCpu('prot32');
  p.cpu.setSystemSeg(TR, 0x28, 0x8000, limit, 0x8b);
  p.mem.write16(0x8000 + 0x66, 0x68);
  for (let i = 0; i < 0x2000; i++) p.mem.write8(0x8068 + i, 0xff);
  p.mem.write8(0x8068 + (0x3f8 >> 3), 0x00); // ports 0x3f8-0x3ff allowed
  p.mem.write8(0x8068 + (0x80 >> 3), 0x01); // 0x81-0x87 allowed, 0x80 not
  p.cpu.segAr[CS] = 0xc0fb;
  p.cpu.segAr[SS] = 0xc0f3;
  p.cpu.updateMode();
  return p;
}

test('ioPermitted: CPL <= IOPL always; otherwise every byte of the access needs a clear bitmap bit', () => {
  const p = userWithTss(0x68 + 0x2000);
  assert.equal(p.cpu.cpl, 3);
  assert.equal(ioPermitted(p.cpu, 0x3f8, 1), true);
  assert.equal(ioPermitted(p.cpu, 0x3fc, 4), true);
  assert.equal(ioPermitted(p.cpu, 0x3fe, 4), false); // 0x400-0x401 are denied
  assert.equal(ioPermitted(p.cpu, 0x80, 1), false);
  assert.equal(ioPermitted(p.cpu, 0x81, 2), true);
  assert.equal(ioPermitted(p.cpu, 0x7f, 2), false);
  p.cpu.flags |= IOPL;
  assert.equal(ioPermitted(p.cpu, 0x80, 1), true);
  p.cpu.flags |= VM; // v86 always consults the bitmap
  assert.equal(ioPermitted(p.cpu, 0x80, 1), false);
  const short = userWithTss(0x68 + (0x3f8 >> 3)); // the second bitmap byte lies past the limit
  assert.equal(ioPermitted(short.cpu, 0x3f8, 1), false);
  assert.equal(ioPermitted(short.cpu, 0x10, 1), false); // bit set in the bitmap
  const r = makeCpu('real');
  assert.equal(ioPermitted(r.cpu, 0x80, 1), true);
});

test('IN/OUT at CPL 3 go through the bitmap: allowed port works, denied port is #GP(0)', () => {
  const p = userWithTss(0x68 + 0x2000);
  const log = device(p, 0x3f8, 8);
  p.cpu.setReg32(RAX, 0x41);
  p.cpu.setReg32(RDX, 0x3f8);
  run(p, 'ee'); // out dx, al  (then HLT: #GP at CPL 3)
  assert.deepEqual(log, [[0, 1, 0x41]]);
  assert.equal(p.cpu.rip, CODE + 1);
  p.exceptions.length = 0;
  run(p, 'e6 80'); // out 0x80, al
  assert.deepEqual(p.exceptions, [[GP, 0]]);
  assert.equal(p.cpu.rip, CODE);
  p.cpu.setReg32(RDX, 0x80);
  p.cpu.setReg32(RCX, 1);
  p.exceptions.length = 0;
  run(p, 'f3 6c'); // rep insb on a denied port
  assert.deepEqual(p.exceptions, [[GP, 0]]);
  assert.equal(p.cpu.getReg32(RCX), 1);
  void RSI;
});
