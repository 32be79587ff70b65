import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostPort, SystemControlA } from './system-ports.js';

test('port 0x80 swallows codes and remembers the last one', () => {
  const p = new PostPort();
  p.write(0, 1, 0x1234);
  assert.equal(p.state.lastCode, 0x34);
  assert.equal(p.read(0, 1), 0xff);
});

test('port 0x92 keeps the A20 bit; bit 0 resets on its 0→1 transition and stays set until a hard reset', () => {
  let resets = 0;
  const p = new SystemControlA(() => { resets++; });
  assert.equal(p.read(0, 1), 0x02, 'A20 enabled at power-on');
  p.write(0, 1, 0x00);
  assert.equal(p.a20Enabled, false);
  assert.equal(p.read(0, 1), 0x00);
  p.write(0, 1, 0xff);
  assert.equal(p.read(0, 1), 0x03, 'reserved bits do not stick; bit 0 does');
  assert.equal(resets, 1);
  p.write(0, 1, 0x03);
  assert.equal(resets, 1, 'no new reset while bit 0 stays set');
  p.write(0, 1, 0x02); p.write(0, 1, 0x03);
  assert.equal(resets, 2);
  p.hardReset();
  assert.equal(p.read(0, 1), 0x02);
  const q = new SystemControlA();
  q.state = { version: 1, value: 0 };
  assert.equal(q.a20Enabled, false);
});
