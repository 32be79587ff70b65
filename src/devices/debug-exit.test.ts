import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DebugExit } from './debug-exit.js';

function make() {
  const codes: number[] = [];
  return { dev: new DebugExit({ exit: (c) => codes.push(c) }), codes };
}

test('a write of v exits with (v << 1) | 1, like QEMU', () => {
  const { dev, codes } = make();
  dev.write(0, 1, 0);
  dev.write(0, 1, 1);
  dev.write(3, 4, 0x7f);
  assert.deepEqual(codes, [1, 3, 0xff]);
  assert.equal(dev.state.exitCode, 0xff);
});

test('the access width masks the value; wide values do not wrap', () => {
  const { dev, codes } = make();
  dev.write(0, 1, 0x1ff);
  dev.write(0, 4, 0x80000000);
  assert.deepEqual(codes, [0x1ff, 0x100000001]);
});

test('reads return 0 and do not exit', () => {
  const { dev, codes } = make();
  assert.equal(dev.read(0, 4), 0);
  assert.deepEqual(codes, []);
});
