import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { ApicBus } from './apic-bus.js';
import { IoApic } from './ioapic.js';
import { Lapic, LapicHost, APIC_EOI, APIC_SVR } from './lapic.js';

function make() {
  const clock = new VirtualClock();
  const bus = new ApicBus();
  const host: LapicHost = {
    setInterruptPending: () => {}, nmi: () => {}, init: () => {}, startup: () => {},
    tscNow: () => 0, tscToNs: (t) => t, extIntAcknowledge: () => -1, mmioChanged: () => {},
  };
  const l0 = new Lapic(0, true, clock, bus, host);
  const l1 = new Lapic(1, false, clock, bus, host);
  l0.write(APIC_SVR, 4, 0x1ff); l1.write(APIC_SVR, 4, 0x1ff);
  const io = new IoApic(bus);
  const reg = (r: number, v?: number): number => {
    io.write(0, 1, r);
    if (v !== undefined) io.write(0x10, 4, v);
    return io.read(0x10, 4);
  };
  return { io, l0, l1, reg };
}

test('ioapic: ID, version, arbitration registers', () => {
  const { reg } = make();
  assert.equal(reg(1), 0x170020);
  reg(1, 0); assert.equal(reg(1), 0x170020, 'version is read-only');
  reg(0, 0xffffffff); assert.equal(reg(0), 0x0f000000, 'only ID bits 27:24 are writable');
  assert.equal(reg(2), 0x0f000000, 'arbitration follows the ID');
  assert.equal(reg(0x10), 0x10000, 'entries start masked');
});

test('ioapic: edge delivery by physical destination; edges on a masked pin are lost', () => {
  const { io, l1, reg } = make();
  reg(0x10 + 2 * 4 + 1, 0x01000000);
  reg(0x10 + 2 * 4, 0x10041); // masked, vector 0x41
  io.setIrq(4, true); io.setIrq(4, false);
  reg(0x10 + 2 * 4, 0x00041);
  assert.equal(l1.acknowledge(), -1);
  io.setIrq(4, true);
  assert.equal(l1.acknowledge(), 0x41);
});

test('ioapic: level-triggered remote IRR, EOI broadcast, redelivery while high', () => {
  const { io, l0, reg } = make();
  reg(0x10 + 2 * 9, 0x08051); // level, vector 0x51, APIC 0
  io.setIrq(9, true);
  assert.equal(reg(0x10 + 2 * 9) & 0x4000, 0x4000, 'remote IRR');
  assert.equal(l0.acknowledge(), 0x51);
  l0.write(APIC_EOI, 4, 0); // TMR set: broadcast
  assert.equal(l0.acknowledge(), 0x51, 'line still high: delivered again');
  io.setIrq(9, false);
  l0.write(APIC_EOI, 4, 0);
  assert.equal(reg(0x10 + 2 * 9) & 0x4000, 0);
  assert.equal(l0.acknowledge(), -1);
  io.setIrq(9, true);
  io.write(0x40, 4, 0x51); // EOI register clears remote IRR for the vector
  assert.equal(reg(0x10 + 2 * 9) & 0x4000, 0x4000, 'redelivered at once since still high');
});

test('ioapic: logical destination reaches the APIC whose LDR matches', () => {
  const { io, l0, l1, reg } = make();
  l1.write(0xd0, 4, 0x02000000);
  l0.write(0xd0, 4, 0x01000000);
  reg(0x10 + 2 * 3 + 1, 0x02000000);
  reg(0x10 + 2 * 3, 0x00863);
  io.setIrq(3, true);
  assert.equal(l0.acknowledge(), -1);
  assert.equal(l1.acknowledge(), 0x63);
});
