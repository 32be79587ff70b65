/**
 * The vCPU scheduler's early turn ends (docs/smp.md): PAUSE-loop yield and the IPI rule.
 * Raw code in RAM, windows driven by hand through Vcpus.runWindow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcMachine } from './pc.js';
import { IPI_WINDOW_INSTRUCTIONS, PAUSE_YIELD_COUNT, SMP_WINDOW_INSTRUCTIONS } from './vcpus.js';
import { CS } from '../cpu/regs.js';

function machine(cpus: number): PcMachine {
  return new PcMachine({ memoryBytes: 4 << 20, cpuCount: cpus, serialOut: () => {}, realTimeIdle: false });
}

// 1: pause; jmp 1b
const PAUSE_LOOP = [0xf3, 0x90, 0xeb, 0xfc];
// 1: inc ax; jmp 1b
const BUSY_LOOP = [0x40, 0xeb, 0xfd];

/** Starts vCPU `i` in real mode at `at` (a multiple of 16) running `code`. */
function startReal(m: PcMachine, i: number, at: number, code: number[]): void {
  m.memory.ram.set(code, at);
  if (i === 0) {
    const c = m.vcpus.cpus[0]!;
    c.setSegReal(CS, at >> 4);
    c.rip = 0;
  } else {
    m.vcpus.startup(i, at >> 12);
  }
}

test('PAUSE with several vCPUs: the turn ends at the PAUSE_YIELD_COUNT-th PAUSE, the other vCPU runs its window', () => {
  const m = machine(2);
  startReal(m, 0, 0x1000, PAUSE_LOOP);
  startReal(m, 1, 0x2000, BUSY_LOOP);
  const [c0, c1] = m.vcpus.cpus as [typeof m.cpu, typeof m.cpu];
  const t0 = m.interrupts.clock.nowNs();
  m.vcpus.runWindow(1_000_000);
  assert.equal(c0.instructionCount, 2 * PAUSE_YIELD_COUNT - 1, 'PAUSE, JMP, ..., the last PAUSE');
  assert.equal(c1.instructionCount, SMP_WINDOW_INSTRUCTIONS);
  assert.equal(m.interrupts.clock.nowNs() - t0, SMP_WINDOW_INSTRUCTIONS * 10, 'the window still spans its full virtual time');
  m.vcpus.runWindow(1_000_000);
  assert.equal(c0.instructionCount, 2 * (2 * PAUSE_YIELD_COUNT - 1) + 1, 'the count starts over every turn');
});

test('PAUSE with one vCPU is a plain NOP: the window runs to its end', () => {
  const m = machine(1);
  startReal(m, 0, 0x1000, PAUSE_LOOP);
  m.vcpus.runWindow(50_000);
  assert.equal(m.cpu.instructionCount, 50_000);
  assert.equal(m.cpu.pauseYieldCountdown, 0);
});

test('an NMI IPI ends the sender\'s turn after the ICR write and the window IPI_WINDOW_INSTRUCTIONS later', () => {
  const m = machine(2);
  const c0 = m.vcpus.cpus[0]!, c1 = m.vcpus.cpus[1]!;
  // vCPU 0, 32-bit flat: mov dword [0xfee00310], 1 << 24; mov dword [0xfee00300], 0x4400 (NMI); 1: jmp 1b
  m.memory.ram.set([0xc7, 0x05, 0x10, 0x03, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x01,
    0xc7, 0x05, 0x00, 0x03, 0xe0, 0xfe, 0x00, 0x44, 0x00, 0x00, 0xeb, 0xfe], 0x1000);
  c0.setupFlat32(0x1000);
  // vCPU 1, real mode: a busy loop; its NMI handler (IVT vector 2 → 0000:3000) is another one
  startReal(m, 1, 0x2000, BUSY_LOOP);
  m.memory.ram.set(BUSY_LOOP, 0x3000);
  m.memory.ram.set([0x00, 0x30, 0x00, 0x00], 2 * 4);
  const t0 = m.interrupts.clock.nowNs();
  m.vcpus.runWindow(1_000_000);
  assert.equal(c0.instructionCount, 2, 'the sender stopped right after the ICR write');
  // the window now ends IPI_WINDOW_INSTRUCTIONS after the send (the sender's 2nd instruction)
  assert.equal(c1.instructionCount, 1 + IPI_WINDOW_INSTRUCTIONS);
  assert.equal(c1.segSel[CS], 0, 'the receiver took the NMI in this window');
  assert.ok(c1.rip >= 0x3000 && c1.rip < 0x3003, `in the NMI handler (rip 0x${c1.rip.toString(16)})`);
  assert.equal(m.interrupts.clock.nowNs() - t0, (1 + IPI_WINDOW_INSTRUCTIONS) * 10);
});

test('the switch points depend only on the instruction streams: two runs retire the same counts', () => {
  const counts = (): number[] => {
    const m = machine(3);
    startReal(m, 0, 0x1000, PAUSE_LOOP);
    startReal(m, 1, 0x2000, BUSY_LOOP);
    startReal(m, 2, 0x3000, [0x40, 0xf3, 0x90, 0xeb, 0xfb]); // 1: inc ax; pause; jmp 1b
    for (let i = 0; i < 20; i++) m.vcpus.runWindow(1_000_000);
    return [...m.vcpus.cpus.map((c) => c.instructionCount), m.interrupts.clock.nowNs()];
  };
  assert.deepEqual(counts(), counts());
});
