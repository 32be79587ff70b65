import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { Hpet } from './hpet.js';

function make() {
  const clock = new VirtualClock();
  const irqs: string[] = [];
  const h = new Hpet(clock, (n, irq, level) => { if (irq >= 0) irqs.push(`${n}:${irq}:${level ? 1 : 0}`); });
  return { clock, h, irqs };
}

test('hpet: capabilities, counter frozen until enabled, then 10 ns per tick from the virtual clock', () => {
  const { clock, h } = make();
  assert.equal(h.read(0x0, 4), 0x8086a201);
  assert.equal(h.read(0x4, 4), 10_000_000);
  clock.advanceTo(1000);
  assert.equal(h.read(0xf0, 4), 0);
  h.write(0xf0, 4, 5);
  h.write(0x10, 4, 1);
  clock.advanceTo(2000);
  assert.equal(h.read(0xf0, 4), 105);
  h.write(0xf0, 4, 0);
  assert.equal(h.read(0xf0, 4), 105, 'the counter is read-only while running');
});

test('hpet: one-shot and periodic comparators; legacy replacement routes timer 0 to IRQ 0', () => {
  const { clock, h, irqs } = make();
  h.write(0x108, 4, 50); // timer 0 comparator (low half; the high half resets to all ones)
  h.write(0x10c, 4, 0);
  h.write(0x100, 4, 0x4 | (5 << 9)); // enabled, edge, route to pin 5
  h.write(0x10, 4, 1);
  clock.advanceTo(499);
  assert.deepEqual(irqs, []);
  clock.advanceTo(500);
  assert.deepEqual(irqs, ['0:5:1', '0:5:0']);
  irqs.length = 0;
  h.write(0x10, 4, 3); // legacy replacement
  h.write(0x120, 4, 0x4 | 0x8 | 0x40); // timer 1: periodic, value set
  h.write(0x12c, 4, 0);
  h.write(0x120, 4, 0x4 | 0x8 | 0x40);
  h.write(0x128, 4, 100); // first expiry at counter 100
  h.write(0x128, 4, 20); // then every 20 ticks
  for (let t = 600; t <= 1400; t += 100) clock.advanceTo(t);
  assert.deepEqual((irqs as string[]).filter((x) => x.endsWith(':1')), ['1:8:1', '1:8:1', '1:8:1'], 'counter 100, 120, 140');
});
