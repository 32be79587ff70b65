import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostPort, SystemControlA } from './system-ports.js';

test('port 0x80 swallows codes and remembers the last one', () => {
  const p = new PostPort();
  p.write(0, 1, 0x1234);
  assert.equal(p.state.lastCode, 0x34);
  assert.equal(p.read(0, 1), 0xff);
});

test('port 0x92 keeps the A20 bit and pulses reset on bit 0', () => {
  let resets = 0;
  const p = new SystemControlA(() => { resets++; });
  assert.equal(p.read(0, 1), 0x02, 'A20 enabled at power-on');
  p.write(0, 1, 0x00);
  assert.equal(p.a20Enabled, false);
  assert.equal(p.read(0, 1), 0x00);
  p.write(0, 1, 0xff);
  assert.equal(p.read(0, 1), 0x02, 'reserved bits and the reset pulse do not stick');
  assert.equal(resets, 1);
  const q = new SystemControlA();
  q.state = { version: 1, value: 0 };
  assert.equal(q.a20Enabled, false);
});
