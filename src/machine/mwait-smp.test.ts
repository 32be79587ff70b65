/**
 * MWAIT on a board with several vCPUs (src/cpu/monitor.ts, vcpus.ts): a vCPU sleeping in
 * MWAIT retires nothing until another vCPU stores to its monitored line, then goes on
 * (SDM Vol. 2B MWAIT, Vol. 3A §9.10.4). Raw real-mode code, windows driven by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcMachine } from './pc.js';
import { CS } from '../cpu/regs.js';

function machine(cpus: number): PcMachine {
  return new PcMachine({ memoryBytes: 4 << 20, cpuCount: cpus, serialOut: () => {}, realTimeIdle: false });
}

// vCPU 1 at 0x2000 (real mode, IF = 0 after the SIPI, CPL 0):
//   b8 00 30        mov ax, 0x3000
//   31 c9           xor cx, cx
//   31 d2           xor dx, dx
//   0f 01 c8        monitor            (DS:AX = 0x3000)
//   31 c0           xor ax, ax
//   0f 01 c9        mwait
//   c6 06 00 31 01  mov byte [0x3100], 1
//   eb fe           1: jmp 1b
const SLEEPER = [0xb8, 0x00, 0x30, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xc8, 0x31, 0xc0, 0x0f, 0x01, 0xc9,
  0xc6, 0x06, 0x00, 0x31, 0x01, 0xeb, 0xfe];
const AFTER_MWAIT = 15;

/** vCPU 0 at 0x1000: `loop` n times, store `value` at `addr`, then spin. */
function waker(n: number, addr: number, value: number): number[] {
  // b9 nn nn  mov cx, n ; e2 fe  1: loop 1b ; c6 06 aa aa vv  mov byte [addr], value ; eb fe  jmp $
  return [0xb9, n & 0xff, n >> 8, 0xe2, 0xfe, 0xc6, 0x06, addr & 0xff, addr >> 8, value, 0xeb, 0xfe];
}

function start(m: PcMachine, wakerCode: number[]): void {
  m.memory.ram.set(wakerCode, 0x1000);
  const c0 = m.vcpus.cpus[0]!;
  c0.setSegReal(CS, 0x100);
  c0.rip = 0;
  m.memory.ram.set(SLEEPER, 0x2000);
  m.vcpus.startup(1, 2);
}

test('a vCPU in MWAIT sleeps (retires nothing) until another vCPU stores to the line, then runs on', () => {
  const m = machine(2);
  start(m, waker(30_000, 0x3008, 0)); // stores the value already there: still a store
  const c1 = m.vcpus.cpus[1]!;
  m.vcpus.runWindow(1_000_000);
  assert.equal(c1.halted, true, 'asleep in MWAIT');
  assert.equal(c1.rip, AFTER_MWAIT);
  const n = c1.instructionCount;
  m.vcpus.runWindow(1_000_000);
  assert.equal(c1.instructionCount, n, 'no spinning while it waits');
  for (let i = 0; i < 5; i++) m.vcpus.runWindow(1_000_000);
  assert.equal(c1.halted, false, 'woken by the store');
  assert.equal(m.memory.ram[0x3100], 1, 'ran the instruction after MWAIT');
});

test('a store to another page leaves the MWAIT asleep; the machine is not idle while a vCPU spins', () => {
  const m = machine(2);
  start(m, waker(100, 0x5000, 7));
  const c1 = m.vcpus.cpus[1]!;
  for (let i = 0; i < 4; i++) m.vcpus.runWindow(1_000_000);
  assert.equal(m.memory.ram[0x5000], 7, 'vCPU 0 stored');
  assert.equal(c1.halted, true);
  assert.equal(c1.rip, AFTER_MWAIT);
  assert.equal(m.memory.ram[0x3100], 0);
  assert.equal(m.vcpus.allIdle(), false);
});

test('a device (DMA) write to the line wakes the MWAIT on the next turn', () => {
  const m = machine(2);
  start(m, [0xeb, 0xfe]); // vCPU 0 only spins
  const c1 = m.vcpus.cpus[1]!;
  m.vcpus.runWindow(1_000_000);
  assert.equal(c1.halted, true);
  m.memory.write8(0x3030, 0x99);
  m.vcpus.runWindow(1_000_000);
  assert.equal(c1.halted, false);
  assert.equal(m.memory.ram[0x3100], 1);
});
