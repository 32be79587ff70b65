import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.js';
import { Pit8254 } from './pit8254.js';

const TICK = 1e9 / 1193182;

function make() {
  const clock = new VirtualClock();
  const edges: boolean[] = [];
  const pit = new Pit8254(clock, { set: (l) => edges.push(l) });
  return { clock, pit, edges };
}

test('pit: mode 2 rate generator on channel 0 pulses IRQ 0 every period; counter reads', () => {
  const { clock, pit, edges } = make();
  pit.write(3, 1, 0x34); // ch0, lobyte/hibyte, mode 2
  pit.write(0, 1, 100); pit.write(0, 1, 0);
  clock.advanceTo(Math.floor(30 * TICK) + 1);
  pit.write(3, 1, 0x00); // latch
  assert.equal(pit.read(0, 1) | (pit.read(0, 1) << 8), 70);
  edges.length = 0;
  clock.advanceTo(Math.ceil(100 * TICK));
  assert.deepEqual(edges, [false, true]);
  for (let k = 2; k <= 5; k++) clock.advanceTo(Math.ceil(100 * k * TICK));
  assert.equal(edges.filter((e) => e).length, 5);
});

test('pit: mode 0 raises OUT at terminal count; read-back status', () => {
  const { clock, pit, edges } = make();
  pit.write(3, 1, 0x30); // ch0, lo/hi, mode 0: OUT low (it already was)
  assert.deepEqual(edges, []);
  pit.write(3, 1, 0xe2); // read-back status of ch0
  assert.equal(pit.read(0, 1), 0x70, 'OUT low, null count, lo/hi, mode 0');
  pit.write(0, 1, 10); pit.write(0, 1, 0);
  clock.advanceTo(Math.ceil(10 * TICK));
  assert.deepEqual(edges, [true]);
  pit.write(3, 1, 0xe2);
  assert.equal(pit.read(0, 1) & 0xc0, 0x80);
});

test('pit: channel 2 gate and OUT through port 0x61', () => {
  const { clock, pit } = make();
  pit.portB.write(0, 1, 0x01);
  pit.write(3, 1, 0xb0); // ch2, lo/hi, mode 0
  pit.write(2, 1, 50); pit.write(2, 1, 0);
  assert.equal(pit.portB.read(0, 1) & 0x21, 0x01);
  clock.advanceTo(Math.ceil(50 * TICK));
  assert.equal(pit.portB.read(0, 1) & 0x20, 0x20);
  pit.write(3, 1, 0xb6); // ch2, lo/hi, mode 3 (square wave): counts down by 2
  pit.write(2, 1, 100); pit.write(2, 1, 0);
  clock.advanceTo(clock.nowNs() + Math.ceil(10 * TICK));
  pit.write(3, 1, 0x80);
  assert.equal(pit.read(2, 1) | (pit.read(2, 1) << 8), 80);
});
