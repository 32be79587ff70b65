import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MachineConfigError, PcMachine } from './pc.js';
import { NotMultibootError } from './errors.js';

const HLT = [0xf4];
const JMP_SELF = [0xeb, 0xfe];

function machine(slice = 1000) {
  const out: number[] = [];
  const m = new PcMachine({ memoryBytes: 4 << 20, serialOut: (b) => out.push(...b), sliceInstructions: slice });
  return { m, out };
}

test('the port map: COM1, PCI host bridge, fw_cfg, port A and an open bus elsewhere', () => {
  const { m, out } = machine();
  m.ports.write(0x3f8, 1, 0x41);
  m.ports.write(0x3f8, 1, 0x0a);
  assert.equal(m.ports.read(0x3fd, 1) & 0x60, 0x60, 'LSR: transmitter empty');
  m.ports.write(0xcf8, 4, 0x80000000);
  assert.equal(m.ports.read(0xcfc, 4), 0x12378086, 'i440FX at 00:00.0');
  m.ports.write(0xcf8, 4, 0x80000800);
  assert.equal(m.ports.read(0xcfc, 4), 0xffffffff, '00:01.0 absent');
  m.ports.write(0x510, 2, 0);
  assert.equal(String.fromCharCode(...[0, 1, 2, 3].map(() => m.ports.read(0x511, 1))), 'QEMU');
  m.ports.write(0x510, 2, 5);
  assert.equal(m.ports.read(0x511, 1), 1, 'one CPU');
  assert.equal(m.ports.read(0x92, 1), 0x02);
  m.ports.write(0x80, 1, 0x55);
  assert.equal(m.ports.read(0x1234, 1), 0xff);
  assert.deepEqual(out, [], 'serial output is batched until the machine runs');
});

test('a HLT with nothing to wake the CPU ends the run as "halt"', async () => {
  const { m } = machine();
  m.loadFlatImage(new Uint8Array(HLT));
  const r = await m.run();
  assert.equal(r.reason, 'halt');
  assert.match(r.report ?? '', /HLT at RIP=0x100001/);
});

test('stop() ends a spinning guest at the next slice boundary', async () => {
  const { m } = machine();
  m.loadFlatImage(new Uint8Array(JMP_SELF));
  setTimeout(() => m.stop(), 20);
  const r = await m.run();
  assert.equal(r.reason, 'stopped');
  assert.ok(m.instructionsRetired > 0);
});

test('a debug-exit write ends the run with QEMU\'s status and flushes serial output', async () => {
  const { m, out } = machine();
  m.loadFlatImage(new Uint8Array(JMP_SELF));
  m.ports.write(0x3f8, 1, 0x21);
  m.ports.write(0xf4, 1, 0x10); // as if the guest did it during the first slice
  const r = await m.run();
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 0x21 });
  assert.deepEqual(out, [0x21]);
});

test('loadKernel: Multiboot state in the CPU, command line to fw_cfg', () => {
  const { m } = machine();
  const image = new Uint8Array(readFileSync(new URL('../../../guests/images/hello.elf', import.meta.url)));
  const k = m.loadKernel(image, 'a b', 'hello.elf');
  assert.equal(m.cpu.rip, k.entry);
  m.ports.write(0x510, 2, 0x15);
  assert.equal(String.fromCharCode(...[0, 1, 2, 3].map(() => m.ports.read(0x511, 1))), 'a b\0');
  assert.throws(() => m.loadKernel(new Uint8Array(64), ''), NotMultibootError);
});

test('configuration errors are typed: CPU count, RAM size', () => {
  assert.throws(() => new PcMachine({ memoryBytes: 4 << 20, cpuCount: 256, serialOut: () => {} }), MachineConfigError);
  assert.throws(() => new PcMachine({ memoryBytes: 4 << 20, cpuCount: 0, serialOut: () => {} }), MachineConfigError);
  assert.throws(() => new PcMachine({ memoryBytes: 1000, serialOut: () => {} }), MachineConfigError);
});

test('a guest\'s OUT to COM1 and to 0xf4: serial bytes, then QEMU\'s exit status', async () => {
  const { m, out } = machine(10);
  // mov dx, 0x3f8 ; mov al, 'K' ; out dx, al ; mov al, 7 ; out 0xf4, al ; jmp $
  m.loadFlatImage(new Uint8Array([0x66, 0xba, 0xf8, 0x03, 0xb0, 0x4b, 0xee, 0xb0, 0x07, 0xe6, 0xf4, 0xeb, 0xfe]));
  const r = await m.run();
  assert.deepEqual(r, { reason: 'debug-exit', exitCode: 15 });
  assert.deepEqual(out, [0x4b]);
});

test('an exception with no usable IDT ends in a triple fault with a report', async () => {
  const { m } = machine();
  // lidt [0x100009] (limit 0) ; ud2 ; then the 6-byte IDTR operand
  m.loadFlatImage(new Uint8Array([0x0f, 0x01, 0x1d, 0x09, 0x00, 0x10, 0x00, 0x0f, 0x0b, 0, 0, 0, 0, 0, 0]));
  const r = await m.run();
  assert.equal(r.reason, 'triple-fault');
  assert.match(r.report ?? '', /triple fault at RIP=0x/);
});
