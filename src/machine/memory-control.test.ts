/**
 * Runtime memory changes on the PC board with guests/images/balloon.elf: the guest's own
 * balloon driver follows shrink (inflate) and grow (deflate, then hot-add) targets and says
 * so on COM1; the host's numbers agree; with a vCPU in VMX operation nothing changes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PcMachine } from './pc.js';
import { MemoryResizeError } from './memory-control.js';

const MIB = 1024 * 1024;
const image = new Uint8Array(readFileSync(new URL('../../../guests/images/balloon.elf', import.meta.url)));

function boot(memoryMb: number, maxMb: number, cmdline = '') {
  let out = '';
  const pc = new PcMachine({
    memoryBytes: memoryMb * MIB, maxMemoryBytes: maxMb * MIB, balloon: true, realTimeIdle: false,
    serialOut: (b) => { out += Buffer.from(b).toString('latin1'); }, instructionLimit: 3_000_000_000,
  });
  pc.loadKernel(image, cmdline, 'balloon.elf');
  const done = pc.run();
  const until = async (text: string, ms = 60_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!out.includes(text)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${JSON.stringify(text)}; serial:\n${out}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { pc, done, until, serial: () => out };
}

test('shrink through the balloon, grow back, then beyond the boot size by hot-add', async () => {
  const { pc, done, until, serial } = boot(64, 160);
  try {
    await until('balloon: RAM 64 MiB, driver ready');
    await until('at target: assigned 64 MiB, balloon 0 MiB');
    assert.equal(pc.memoryStatus()!.assignedBytes, 64 * MIB);
    pc.resizeMemory(40 * MIB);
    await until('at target: assigned 40 MiB, balloon 24 MiB');
    assert.equal(pc.memoryStatus()!.assignedBytes, 40 * MIB);
    assert.equal(pc.memoryControl!.balloon.pages, 24 * 256);
    pc.resizeMemory(128 * MIB);
    await until('hot-add: RAM now 128 MiB');
    await until('at target: assigned 128 MiB, balloon 0 MiB');
    assert.equal(pc.memory.size, 128 * MIB);
    assert.equal(pc.memoryStatus()!.assignedBytes, 128 * MIB);
    assert.throws(() => pc.resizeMemory(192 * MIB), (e) => e instanceof MemoryResizeError && e.reason === 'AboveCeiling');
    assert.equal(pc.memoryControl!.balloon.counters.badPages, 0, serial());
  } finally {
    pc.stop();
    await done;
  }
});

test('the guest reports its demand through the statistics queue', async () => {
  const { pc, done, until } = boot(64, 64, 'work=20');
  try {
    await until('work: holding 20 MiB');
    const end = Date.now() + 30_000;
    // 8 MiB below the allocator (kernel, boot data) + 20 MiB of work
    while (pc.memoryStatus()!.demandBytes !== 28 * MIB) {
      assert.ok(Date.now() < end, `demand ${pc.memoryStatus()!.demandBytes}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    pc.stop();
    await done;
  }
});

test('vmxActive is live: while a vCPU is in VMX operation a resize fails and nothing changes', async () => {
  const { pc, done, until } = boot(64, 128);
  try {
    await until('driver ready');
    assert.equal(pc.vmxActive(), false);
    pc.vcpus.cpus[0]!.vmx.inVmx = true; // what VMXON leaves behind (src/cpu/vmx/vmx-state.ts)
    assert.equal(pc.vmxActive(), true);
    assert.throws(() => pc.resizeMemory(32 * MIB), (e) => e instanceof MemoryResizeError && e.reason === 'NestedHypervisor' &&
      /hypervisor is running inside the virtual machine/.test(e.message));
    assert.equal(pc.memoryControl!.balloon.targetPages, 0);
    assert.equal(pc.memoryStatus()!.assignedBytes, 64 * MIB);
    pc.vcpus.cpus[0]!.vmx.inVmx = false;
    pc.resizeMemory(32 * MIB);
    await until('at target: assigned 32 MiB');
  } finally {
    pc.stop();
    await done;
  }
});

test('without a balloon driver, runtime changes are refused', () => {
  const pc = new PcMachine({ memoryBytes: 16 * MIB, maxMemoryBytes: 32 * MIB, balloon: true, serialOut: () => {} });
  assert.throws(() => pc.resizeMemory(8 * MIB), (e) => e instanceof MemoryResizeError && e.reason === 'NoBalloonDriver');
  const bare = new PcMachine({ memoryBytes: 16 * MIB, serialOut: () => {} });
  assert.equal(bare.memoryStatus(), null);
  assert.throws(() => bare.resizeMemory(8 * MIB), MemoryResizeError);
});
