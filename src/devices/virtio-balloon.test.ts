/**
 * virtio-balloon over the modern PCI transport, driven the way a driver does through config
 * space and the BAR, with rings in a PhysicalMemory: pages given are zeroed and counted,
 * pages taken back are RAM again, bad page numbers and bad chains are counted and ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysicalMemory } from '../memory/physical.js';
import { VirtioBalloon, VIRTIO_BALLOON_F_NV_HOT_ADD, VIRTIO_BALLOON_F_STATS_VQ } from './virtio-balloon.js';

const QS = 8;
const RINGS = [[0x10000, 0x11000, 0x12000], [0x20000, 0x21000, 0x22000], [0x30000, 0x31000, 0x32000]] as const;
const LIST = 0x40000, STATS = 0x41000;

function rig(ramBytes = 1 << 20, reserve = ramBytes) {
  const mem = new PhysicalMemory(ramBytes, reserve);
  const irq: boolean[] = [];
  const dev = new VirtioBalloon(mem, { set: (l) => irq.push(l) }, () => 42);
  const t = dev.transport;
  const bar = t.region;
  return { mem, irq, dev, t, bar };
}

function bringUp(r: ReturnType<typeof rig>, features0: number) {
  const { bar, t } = r;
  t.configWrite(0x04, 2, 0x6);
  bar.write(0x14, 1, 0);
  bar.write(0x14, 1, 1 | 2);
  bar.write(0x08, 4, 0); bar.write(0x0c, 4, features0);
  bar.write(0x08, 4, 1); bar.write(0x0c, 4, 1);
  bar.write(0x14, 1, 1 | 2 | 8);
  RINGS.forEach(([d, a, u], q) => {
    bar.write(0x16, 2, q);
    bar.write(0x18, 2, QS);
    bar.write(0x20, 4, d); bar.write(0x24, 4, 0);
    bar.write(0x28, 4, a); bar.write(0x2c, 4, 0);
    bar.write(0x30, 4, u); bar.write(0x34, 4, 0);
    bar.write(0x1c, 2, 1);
  });
  bar.write(0x14, 1, 1 | 2 | 8 | 4);
}

/** Puts one chain of page numbers on queue q and kicks it. */
function send(r: ReturnType<typeof rig>, q: number, pfns: number[], flags = 0, len = 4 * pfns.length) {
  const [d, a] = RINGS[q]!;
  pfns.forEach((p, i) => r.mem.write32(LIST + 4 * i, p));
  r.mem.write32(d, LIST); r.mem.write32(d + 4, 0); r.mem.write32(d + 8, len); r.mem.write16(d + 12, flags);
  const idx = r.mem.read16(a + 2);
  r.mem.write16(a + 4 + 2 * (idx % QS), 0);
  r.mem.write16(a + 2, (idx + 1) & 0xffff);
  r.bar.write(0x3000 + 4 * q, 2, q);
}
const used = (r: ReturnType<typeof rig>, q: number) => r.mem.read16(RINGS[q]![2] + 2);

test('identity: virtio device 5 (0x1045), features STATS_VQ, NV_HOT_ADD and VERSION_1', () => {
  const { t, bar } = rig();
  assert.equal(t.configRead(0, 4), 0x10451af4);
  bar.write(0x00, 4, 0);
  assert.equal(bar.read(0x04, 4), (1 << VIRTIO_BALLOON_F_STATS_VQ) | (1 << VIRTIO_BALLOON_F_NV_HOT_ADD));
  bar.write(0x00, 4, 1);
  assert.equal(bar.read(0x04, 4), 1);
  assert.equal(bar.read(0x12, 2), 3);
});

test('target and actual in the device config; a new target raises a configuration interrupt', () => {
  const r = rig();
  bringUp(r, 0);
  r.dev.setTarget(10);
  assert.equal(r.bar.read(0x2000, 4), 10);
  assert.equal(r.bar.read(0x1000, 1), 2); // ISR: configuration change (read clears)
  r.bar.write(0x2004, 4, 7);
  assert.equal(r.dev.actual, 7);
  r.bar.write(0x2000, 4, 99); // num_pages is the device's
  assert.equal(r.dev.targetPages, 10);
  assert.equal(r.bar.read(0x2010, 4), 256); // ram_pages: 1 MiB
});

test('inflate zeroes and counts pages; deflate gives them back, zeroed again', () => {
  const r = rig();
  bringUp(r, 0);
  for (const p of [0x80, 0x81]) r.mem.ram.fill(0xab, p * 4096, p * 4096 + 4096);
  send(r, 0, [0x80, 0x81]);
  assert.equal(used(r, 0), 1);
  assert.equal(r.dev.pages, 2);
  assert.equal(r.mem.read8(0x80 * 4096 + 100), 0);
  assert.ok(r.dev.isHeld(0x81 * 4096));
  r.mem.write8(0x80 * 4096, 0x55); // a driver bug: writing a page it gave away
  send(r, 1, [0x80]);
  assert.equal(r.dev.pages, 1);
  assert.equal(r.mem.read8(0x80 * 4096), 0);
  assert.ok(!r.dev.isHeld(0x80 * 4096));
  assert.deepEqual(r.dev.state.pages, [0x81]);
});

test('bad page numbers (beyond RAM, in the hole, twice, never given) are ignored and counted', () => {
  const r = rig();
  bringUp(r, 0);
  send(r, 0, [0x90, 0x90, 0x100, 0xfee00, 0xffffffff]);
  assert.equal(r.dev.pages, 1);
  assert.equal(r.dev.counters.badPages, 4);
  send(r, 1, [0x91, 0x100000]);
  assert.equal(r.dev.pages, 1);
  assert.equal(r.dev.counters.badPages, 6);
});

test('a chain with a device-writable buffer or a ragged length is returned unused', () => {
  const r = rig();
  bringUp(r, 0);
  send(r, 0, [0x90], 2 /* WRITE */);
  send(r, 0, [0x90], 0, 6);
  assert.equal(r.dev.pages, 0);
  assert.equal(r.dev.counters.badChains, 2);
  assert.equal(used(r, 0), 2);
});

test('statistics: the device keeps the buffer, reads MEMFREE/MEMTOT, and hands it back on request', () => {
  const r = rig();
  bringUp(r, 1 << VIRTIO_BALLOON_F_STATS_VQ);
  const put = (tag: number, val: number, at: number) => { r.mem.write16(STATS + at, tag); r.mem.write32(STATS + at + 2, val); r.mem.write32(STATS + at + 6, 0); };
  put(4, 300 * 4096, 0); put(5, 1000 * 4096, 10);
  const [d, a] = RINGS[2];
  r.mem.write32(d, STATS); r.mem.write32(d + 8, 20); r.mem.write16(d + 12, 0);
  r.mem.write16(a + 4, 0); r.mem.write16(a + 2, 1);
  r.bar.write(0x3008, 2, 2);
  assert.deepEqual(r.dev.stats, { atNs: 42, memFree: 300 * 4096, memTotal: 1000 * 4096 });
  assert.equal(used(r, 2), 0);
  assert.ok(r.dev.requestStats());
  assert.equal(used(r, 2), 1);
  assert.ok(!r.dev.requestStats()); // nothing to hand back until the driver refills
});

test('device reset gives every page back to the guest', () => {
  const r = rig();
  bringUp(r, 0);
  send(r, 0, [0x90, 0x91]);
  r.bar.write(0x14, 1, 0);
  assert.equal(r.dev.pages, 0);
  assert.ok(!r.dev.isHeld(0x90 * 4096));
});

test('hot-added RAM can be ballooned; ram_pages follows the RAM size', () => {
  const r = rig(1 << 20, 2 << 20);
  bringUp(r, 1 << VIRTIO_BALLOON_F_NV_HOT_ADD);
  assert.ok(r.dev.hotAddAccepted);
  send(r, 0, [0x180]);
  assert.equal(r.dev.counters.badPages, 1);
  r.mem.hotAdd(2 << 20);
  r.dev.ramChanged();
  assert.equal(r.bar.read(0x2010, 4), 512);
  send(r, 0, [0x180]);
  assert.equal(r.dev.pages, 1);
});

test('random page lists never throw and keep the count equal to the pages held', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.array(fc.integer({ min: 0, max: 0x1ff }), { maxLength: 16 })), { maxLength: 20 }), (ops) => {
    const r = rig();
    bringUp(r, 0);
    for (const [inflate, list] of ops) send(r, inflate ? 0 : 1, list);
    assert.equal(r.dev.pages, r.dev.state.pages.length);
    assert.equal(r.dev.counters.inflated - r.dev.counters.deflated, r.dev.pages);
  }), { numRuns: 100 });
});
