/**
 * The interrupt controllers and timers on the board: port/MMIO placement, and the
 * apic-timer and smp guest kernels (guests/), which pass under QEMU 7.2 TCG as well
 * (QEMU skips the TSC-deadline and x2APIC checks its TCG CPU lacks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PcMachine, RunResult } from './pc.js';

async function boot(name: string, cpus = 1): Promise<{ r: RunResult; out: string; m: PcMachine }> {
  const chunks: Uint8Array[] = [];
  const m = new PcMachine({
    memoryBytes: 64 << 20, cpuCount: cpus, serialOut: (b) => chunks.push(b), instructionLimit: 100_000_000, realTimeIdle: false,
  });
  m.loadKernel(new Uint8Array(readFileSync(new URL(`../../../guests/images/${name}.elf`, import.meta.url))), '', `${name}.elf`);
  const r = await m.run();
  return { r, out: Buffer.concat(chunks).toString('latin1'), m };
}

function failures(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('FAIL'));
}

test('board: 8259, 8254, ELCR and port B on the port bus; I/O APIC and local APIC pages on MMIO', () => {
  const m = new PcMachine({ memoryBytes: 4 << 20, serialOut: () => {} });
  m.ports.write(0x21, 1, 0x5a);
  assert.equal(m.ports.read(0x21, 1), 0x5a, 'OCW1 → IMR');
  assert.equal(m.ports.read(0x4d1, 1), 0);
  m.ports.write(0x43, 1, 0xe2);
  assert.equal(m.ports.read(0x40, 1), 0x70, 'read-back status: OUT low, null count, lo/hi, mode 0: idle until programmed');
  assert.equal(m.memory.read32(0xfee00030), 0x50014);
  m.memory.write32(0xfec00000, 1);
  assert.equal(m.memory.read32(0xfec00010), 0x170020);
});

test('apic-timer kernel: LAPIC one-shot/periodic/TSC-deadline, PIT via 8259 and I/O APIC, x2APIC self-IPI', async () => {
  const { r, out } = await boot('apic-timer');
  assert.deepEqual(failures(out), [], out);
  assert.match(out, /SUMMARY: 14 tests, 0 failures/, out);
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 });
});

for (const n of [2, 3]) {
  test(`smp kernel with ${n} CPUs: INIT/SIPI start-up, SIPI ignored while running, INIT re-parks`, async () => {
    const { r, out } = await boot('smp', n);
    assert.match(out, new RegExp(`CPUs: ${n}\n`));
    assert.match(out, /SUMMARY: 5 tests, 0 failures/, out);
    assert.deepEqual(r, { reason: 'debug-exit', exitCode: 1 });
  });
}

test('determinism: two runs of the smp kernel retire the same instructions', async () => {
  const a = await boot('smp', 3);
  const b = await boot('smp', 3);
  assert.equal(a.m.instructionsRetired, b.m.instructionsRetired);
  assert.equal(a.m.interrupts.clock.nowNs(), b.m.interrupts.clock.nowNs());
});

test('board: the RTC at 0x70/0x71 raises IRQ 8 on the slave 8259 (IR0) and on I/O APIC pin 8', () => {
  const m = new PcMachine({ memoryBytes: 4 << 20, serialOut: () => {} });
  const pic = m.interrupts.pic;
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01]]) m.ports.write(p!, 1, v!);
  m.ports.write(0x21, 1, 0xfb); m.ports.write(0xa1, 1, 0xfe); // only the cascade and IRQ 8
  m.memory.write32(0xfec00000, 0x10 + 16); m.memory.write32(0xfec00010, 0x41); // pin 8 → vector 0x41, unmasked
  m.memory.write32(0xfec00000, 0x11 + 16); m.memory.write32(0xfec00010, 0);
  m.ports.write(0x70, 1, 0x8b); // register B with NMIs masked
  m.ports.write(0x71, 1, 0x42); // PIE
  m.ports.write(0x70, 1, 0x0a);
  m.ports.write(0x71, 1, 0x2f); // 2 Hz
  m.interrupts.clock.advanceTo(500e6);
  assert.equal(pic.intrLevel, true);
  assert.equal(pic.acknowledge(), 0x28, 'IRQ 8 = slave IR0');
  m.memory.write32(0xfec00000, 0x10 + 16);
  assert.equal(m.interrupts.lapics[0]!.read(0x200 + 0x20, 4) & 2, 2, 'vector 0x41 in the BSP IRR through the I/O APIC');
  m.ports.write(0x70, 1, 0x0c);
  assert.equal(m.ports.read(0x71, 1), 0xc0, 'IRQF | PF');
});
