import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcTestdev, PC_TESTDEV_IOMEM_LEN } from './pc-testdev.js';
import type { IrqLine } from './lines.js';

function make() {
  const levels = new Map<number, boolean>();
  const events: string[] = [];
  const dev = new PcTestdev((n): IrqLine => ({ set: (l) => { levels.set(n, l); events.push(`${n}=${l ? 1 : 0}`); } }));
  return { dev, levels, events };
}

test('scratch register: a byte, word or dword at offset k hits bytes k.. of one 32-bit value', () => {
  const { dev } = make();
  dev.scratchPorts.write(0, 4, 0x12345678);
  assert.equal(dev.scratchPorts.read(0, 4), 0x12345678);
  assert.equal(dev.scratchPorts.read(1, 1), 0x56);
  assert.equal(dev.scratchPorts.read(2, 2), 0x1234);
  dev.scratchPorts.write(1, 2, 0xaabb);
  assert.equal(dev.scratchPorts.read(0, 4), 0x12aabb78);
  dev.scratchPorts.write(0, 1, 0x99); // emulator.c: rep outsb, then inb gives the last byte
  assert.equal(dev.scratchPorts.read(0, 1), 0x99);
  assert.equal(dev.scratchPorts.read(0, 4), 0x12aabb99);
  // bytes of an access that run past offset 3 belong to the next region
  dev.scratchPorts.write(3, 2, 0xeeff);
  assert.equal(dev.scratchPorts.read(0, 4), 0xffaabb99);
  assert.equal(dev.scratchPorts.read(3, 2), 0xff);
  assert.equal(dev.state.scratch, 0xffaabb99);
});

test('irq lines: a byte write drives line n to (v != 0); wider writes split into bytes as on KVM', () => {
  const { dev, levels, events } = make();
  dev.irqPorts.write(14, 1, 1);
  assert.equal(levels.get(14), true);
  dev.irqPorts.write(14, 1, 0x80);
  dev.irqPorts.write(14, 1, 0);
  assert.equal(levels.get(14), false);
  events.length = 0;
  // realmode.c: "movw $0x200b, %dx; movl $1, %eax; outl %eax, %dx" sets IRQ 11 (and 12-14 from the other bytes)
  dev.irqPorts.write(11, 4, 1);
  assert.deepEqual(events, ['11=1', '12=0', '13=0', '14=0']);
  assert.equal(dev.irqPorts.read(11, 1), 0);
});

test('irq lines 16-23 (beyond the ISA IRQs) and bytes past the region are ignored', () => {
  const { dev, events } = make();
  dev.irqPorts.write(16, 1, 1);
  dev.irqPorts.write(23, 1, 1);
  dev.irqPorts.write(15, 4, 0x01010101);
  assert.deepEqual(events, ['15=1']);
});

test('iomem: little-endian memory, all widths, cross-width reads', () => {
  const { dev } = make();
  dev.iomemRegion.write(0x10, 4, 0xdeadbeef | 0);
  assert.equal(dev.iomemRegion.read(0x10, 4), 0xdeadbeef);
  assert.equal(dev.iomemRegion.read(0x10, 1), 0xef);
  assert.equal(dev.iomemRegion.read(0x12, 2), 0xdead);
  dev.iomemRegion.write(0x11, 2, 0x1234);
  assert.equal(dev.iomemRegion.read(0x10, 4), 0xde1234ef);
  dev.iomemRegion.write(0xfff, 1, 0xaa);
  assert.equal(dev.iomemRegion.read(0xfff, 1), 0xaa);
  // the last bytes: an access running off the end keeps the bytes inside
  dev.iomemRegion.write(PC_TESTDEV_IOMEM_LEN - 2, 4, 0x44332211);
  assert.equal(dev.iomemRegion.read(PC_TESTDEV_IOMEM_LEN - 2, 4), 0x2211);
});

test('flush port: no guest-visible effect, reads 0', () => {
  const { dev } = make();
  dev.flushPort.write(0, 4, 0x1000);
  assert.equal(dev.flushPort.read(0, 4), 0);
});

test('state round-trips and rejects other versions', () => {
  const a = make().dev;
  a.scratchPorts.write(0, 4, 0xcafe);
  a.iomemRegion.write(5, 1, 7);
  const b = make().dev;
  b.state = a.state;
  assert.equal(b.scratchPorts.read(0, 4), 0xcafe);
  assert.equal(b.iomemRegion.read(5, 1), 7);
  assert.throws(() => { b.state = { ...a.state, version: 2 as 1 }; });
});
