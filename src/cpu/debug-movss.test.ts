/**
 * Instruction breakpoints inside a MOV SS shadow (SDM Vol. 3A §6.8.3): Intel does not take
 * the breakpoint on the instruction after MOV SS/POP SS; AMD does. STI's shadow does not
 * inhibit breakpoints on either. (kvm-unit-tests x86/emulator.c test_mov_pop_ss_code_db.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhysicalMemory } from '../memory/physical.js';
import { PortBus } from '../memory/bus.js';
import { Cpu } from './cpu.js';
import { amdProfile, defaultProfile, type CpuProfile } from './profile.js';
import { buildTable } from './ops/table.js';
import { setMode, run, CODE, type TestCpu } from './testing.js';

function cpuWith(profile: CpuProfile): TestCpu {
  const mem = new PhysicalMemory(4 << 20);
  const io = new PortBus();
  const exceptions: Array<[number, number]> = [];
  const cpu = new Cpu(mem, io, profile, buildTable(), {
    // record and resume with RF set, as kvm-unit-tests' handle_db does
    deliver(c, vector, err) { exceptions.push([vector, err]); if (vector === 1) c.flags |= 1 << 16; else c.halted = true; },
    acknowledgeInterrupt: () => -1,
  });
  setMode(cpu, 'real');
  return { cpu, mem, io, exceptions };
}

// real mode (a 16-bit MOV SS needs no descriptor):
// 8c d0       mov ax, ss
// 8e d0       mov ss, ax
// 31 c0       xor ax, ax        <- DR0 (CODE+4)
const MOV_SS = '8c d0 8e d0 31 c0';
// fb          sti
// 31 c0       xor ax, ax        <- DR0 (CODE+1)
const STI = 'fb 31 c0';

function armDr0(t: TestCpu, lin: number): void {
  t.cpu.dr[0] = lin;
  t.cpu.dr[7] = 0x401; // L0, R/W0 = 00 (execute), LEN0 = 00
  t.cpu.debugRegsChanged();
}

test('Intel: no instruction breakpoint on the instruction after MOV SS', () => {
  const t = cpuWith(defaultProfile());
  armDr0(t, CODE + 4);
  run(t, MOV_SS);
  assert.deepEqual(t.exceptions, []);
  assert.equal(t.cpu.r[0], 0);
});

test('AMD: the instruction breakpoint after MOV SS is taken', () => {
  const t = cpuWith(amdProfile());
  armDr0(t, CODE + 4);
  run(t, MOV_SS);
  assert.deepEqual(t.exceptions, [[1, 0]]);
  assert.equal(t.cpu.dr[6]! & 0xf, 1);
  assert.equal(t.cpu.r[0], 0);
});

test('Intel: STI\'s shadow does not inhibit the instruction breakpoint', () => {
  const t = cpuWith(defaultProfile());
  armDr0(t, CODE + 1);
  run(t, STI);
  assert.deepEqual(t.exceptions, [[1, 0]]);
});
