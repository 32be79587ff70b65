import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PciHost } from './pci-host.js';
import { I440fxHostBridge } from './pci-config.js';

const ADDR = 0, DATA = 4;
function cfg(bus: number, dev: number, fn: number, reg: number): number {
  return (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | reg) >>> 0;
}
function make() {
  const host = new PciHost();
  host.attach(0, 0, new I440fxHostBridge());
  return host;
}

test('00:00.0 is an i440FX host bridge', () => {
  const h = make();
  h.write(ADDR, 4, cfg(0, 0, 0, 0));
  assert.equal(h.read(DATA, 4), 0x12378086);
  assert.equal(h.read(DATA, 2), 0x8086);
  assert.equal(h.read(DATA + 2, 2), 0x1237);
  h.write(ADDR, 4, cfg(0, 0, 0, 8));
  assert.equal(h.read(DATA, 4) >>> 8, 0x060000, 'class code: host bridge');
  assert.equal(h.read(DATA + 3, 1), 0x06);
  h.write(ADDR, 4, cfg(0, 0, 0, 0x0c));
  assert.equal(h.read(DATA + 2, 1), 0x00, 'header type 0');
});

test('absent devices, other buses and a disabled address read all ones', () => {
  const h = make();
  h.write(ADDR, 4, cfg(0, 1, 0, 0));
  assert.equal(h.read(DATA, 4), 0xffffffff);
  assert.equal(h.read(DATA + 1, 1), 0xff);
  h.write(ADDR, 4, cfg(1, 0, 0, 0));
  assert.equal(h.read(DATA, 4), 0xffffffff);
  h.write(ADDR, 4, 0);
  assert.equal(h.read(DATA, 2), 0xffff);
  h.write(DATA, 4, 0x12345678); // vanishes
});

test('CONFIG_ADDRESS latches dwords only, with reserved bits reading 0', () => {
  const h = make();
  h.write(ADDR, 4, 0xffffffff);
  assert.equal(h.read(ADDR, 4), 0x80fffffc);
  h.write(ADDR, 1, 0);
  assert.equal(h.read(ADDR, 4), 0x80fffffc, 'byte writes do not touch it');
  assert.equal(h.read(ADDR + 1, 1), 0xff);
});

test('read-only fields ignore writes; writable ones keep them', () => {
  const h = make();
  h.write(ADDR, 4, cfg(0, 0, 0, 0));
  h.write(DATA, 4, 0);
  assert.equal(h.read(DATA, 4), 0x12378086);
  h.write(ADDR, 4, cfg(0, 0, 0, 0x0c));
  h.write(DATA + 1, 1, 0xff);
  assert.equal(h.read(DATA + 1, 1), 0xf8, 'latency timer: low bits fixed');
  h.write(ADDR, 4, cfg(0, 0, 0, 0x58));
  h.write(DATA, 4, 0x33221100);
  assert.equal(h.read(DATA, 4), 0x33221100, 'PAM registers are storage');
});

test('state round-trips', () => {
  const h = make();
  h.write(ADDR, 4, cfg(0, 3, 1, 0x40));
  const g = make();
  g.state = h.state;
  assert.equal(g.read(ADDR, 4), cfg(0, 3, 1, 0x40));
});

test('property: any port traffic never throws and reads fit their size', () => {
  fc.assert(fc.property(
    fc.array(fc.record({
      w: fc.boolean(), off: fc.integer({ min: 0, max: 7 }), size: fc.constantFrom(1, 2, 4),
      v: fc.integer({ min: 0, max: 0xffffffff }),
    }), { maxLength: 100 }),
    (ops) => {
      const h = make();
      for (const op of ops) {
        if (op.w) h.write(op.off, op.size, op.v);
        else { const r = h.read(op.off, op.size); if (r < 0 || r >= 2 ** (8 * op.size)) return false; }
      }
      return true;
    },
  ));
});
