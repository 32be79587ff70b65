import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FwCfg, FW_CFG_CMDLINE_DATA, FW_CFG_CMDLINE_SIZE, FW_CFG_FILE_DIR, FW_CFG_ID, FW_CFG_NB_CPUS, FW_CFG_RAM_SIZE,
  FW_CFG_SIGNATURE,
} from './fw-cfg.js';

function readItem(d: FwCfg, key: number, n: number): number[] {
  d.write(0, 2, key);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(d.read(1, 1));
  return out;
}
const make = () => new FwCfg({ ramBytes: 256 * 1024 * 1024, cpuCount: 1, cmdline: 'a=1 b' });

test('signature "QEMU" and the ID (traditional interface only)', () => {
  const d = make();
  assert.equal(String.fromCharCode(...readItem(d, FW_CFG_SIGNATURE, 4)), 'QEMU');
  assert.deepEqual(readItem(d, FW_CFG_ID, 4), [1, 0, 0, 0]);
});

test('RAM size is a little-endian u64 and CPU count a u16', () => {
  const d = make();
  assert.deepEqual(readItem(d, FW_CFG_RAM_SIZE, 8), [0, 0, 0, 0x10, 0, 0, 0, 0]);
  assert.deepEqual(readItem(d, FW_CFG_NB_CPUS, 2), [1, 0]);
});

test('command line: size counts the NUL, data ends with it', () => {
  const d = make();
  assert.deepEqual(readItem(d, FW_CFG_CMDLINE_SIZE, 4), [6, 0, 0, 0]);
  assert.equal(String.fromCharCode(...readItem(d, FW_CFG_CMDLINE_DATA, 6)), 'a=1 b\0');
});

test('reads past the end and of absent items return 0; reselecting rewinds', () => {
  const d = make();
  assert.deepEqual(readItem(d, FW_CFG_SIGNATURE, 6), [0x51, 0x45, 0x4d, 0x55, 0, 0]);
  assert.deepEqual(readItem(d, 0x1234, 3), [0, 0, 0]);
  assert.deepEqual(readItem(d, FW_CFG_SIGNATURE, 1), [0x51]);
  assert.equal(d.read(0, 1), 0, 'the selector register reads 0');
});

test('file directory: empty by default, big-endian entries after addFile', () => {
  const d = make();
  assert.deepEqual(readItem(d, FW_CFG_FILE_DIR, 4), [0, 0, 0, 0]);
  const sel = d.addFile('etc/test', new Uint8Array([7, 8, 9]));
  const dir = readItem(d, FW_CFG_FILE_DIR, 4 + 64);
  assert.deepEqual(dir.slice(0, 4), [0, 0, 0, 1]);
  assert.deepEqual(dir.slice(4, 8), [0, 0, 0, 3]);
  assert.equal((dir[8]! << 8) | dir[9]!, sel);
  assert.equal(String.fromCharCode(...dir.slice(12, 20)), 'etc/test');
  assert.deepEqual(readItem(d, sel, 3), [7, 8, 9]);
});

test('a 32-bit read of the data port returns four bytes, lowest first', () => {
  const d = make();
  d.write(0, 2, FW_CFG_SIGNATURE);
  assert.equal(d.read(1, 4), 0x554d4551);
});

test('state round-trips mid-item', () => {
  const d = make();
  d.write(0, 2, FW_CFG_SIGNATURE);
  d.read(1, 1);
  const e = make();
  e.state = d.state;
  assert.equal(e.read(1, 1), 0x45);
});
