/**
 * virtio-net over the modern PCI transport, driven the way a driver does through config
 * space and the BAR, with rings in a PhysicalMemory. Bad chains are dropped and counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysicalMemory } from '../memory/physical.js';
import { VirtioNet, VIRTIO_NET_HDR_LEN } from './virtio-net.js';
import { VIRTIO_BAR_SIZE } from './virtio-pci.js';

const MAC = 0x00155d0a0b01;
const DESC = 0x10000, AVAIL = 0x11000, USED = 0x12000; // queue 0 (rx)
const TDESC = 0x20000, TAVAIL = 0x21000, TUSED = 0x22000; // queue 1 (tx)
const QS = 8;

function rig() {
  const mem = new PhysicalMemory(1 << 20);
  const irq: boolean[] = [];
  const sent: Uint8Array[] = [];
  const nic = new VirtioNet(MAC, mem, { set: (l) => irq.push(l) }, (f) => sent.push(f.slice()));
  const t = nic.transport;
  const cfg = { r: (o: number, s: number) => t.configRead(o, s), w: (o: number, s: number, v: number) => t.configWrite(o, s, v) };
  const bar = t.region;
  return { mem, irq, sent, nic, t, cfg, bar };
}

/** A driver's bring-up (§3.1.1) with queue sizes QS. */
function bringUp(r: ReturnType<typeof rig>, accept = true) {
  const { bar, cfg } = r;
  cfg.w(0x04, 2, 0x6); // memory + bus master
  bar.write(0x14, 1, 0);
  bar.write(0x14, 1, 1 | 2);
  bar.write(0x08, 4, 0); bar.write(0x0c, 4, bar.read(0x04, 4));
  bar.write(0x00, 4, 1);
  bar.write(0x08, 4, 1); bar.write(0x0c, 4, accept ? bar.read(0x04, 4) : 0);
  bar.write(0x14, 1, 1 | 2 | 8);
  for (const [q, d, a, u] of [[0, DESC, AVAIL, USED], [1, TDESC, TAVAIL, TUSED]] as const) {
    bar.write(0x16, 2, q);
    bar.write(0x18, 2, QS);
    bar.write(0x20, 4, d); bar.write(0x24, 4, 0);
    bar.write(0x28, 4, a); bar.write(0x2c, 4, 0);
    bar.write(0x30, 4, u); bar.write(0x34, 4, 0);
    bar.write(0x1c, 2, 1);
  }
  bar.write(0x14, 1, 1 | 2 | 8 | 4);
}

function desc(mem: PhysicalMemory, table: number, i: number, addr: number, len: number, flags: number, next = 0, hi = 0) {
  const o = table + 16 * i;
  mem.write32(o, addr); mem.write32(o + 4, hi); mem.write32(o + 8, len); mem.write16(o + 12, flags); mem.write16(o + 14, next);
}
function offer(mem: PhysicalMemory, avail: number, head: number) {
  const idx = mem.read16(avail + 2);
  mem.write16(avail + 4 + 2 * (idx % QS), head);
  mem.write16(avail + 2, (idx + 1) & 0xffff);
}

test('PCI identity, capability list and BAR sizing', () => {
  const { cfg } = rig();
  assert.equal(cfg.r(0, 4), 0x10411af4);
  assert.equal(cfg.r(0x08, 4) >>> 8, 0x020000);
  assert.ok(cfg.r(0x06, 2) & 0x10);
  const types: number[] = [];
  for (let p = cfg.r(0x34, 1); p; p = cfg.r(p + 1, 1)) {
    assert.equal(cfg.r(p, 1), 0x09);
    types.push(cfg.r(p + 3, 1));
    assert.equal(cfg.r(p + 4, 1), 4); // BAR 4
  }
  assert.deepEqual(types, [1, 2, 3, 4]);
  cfg.w(0x20, 4, 0xffffffff); cfg.w(0x24, 4, 0xffffffff);
  assert.equal(cfg.r(0x20, 4), (~(VIRTIO_BAR_SIZE - 1) & 0xfffffff0 | 0x4) >>> 0);
  assert.equal(cfg.r(0x24, 4), 0xffffffff);
  assert.equal(cfg.r(0x3d, 1), 1); // INTA#
});

test('features: VERSION_1 is required for FEATURES_OK; MAC and link status in device config', () => {
  const r = rig();
  bringUp(r, false);
  assert.equal(r.bar.read(0x14, 1) & 8, 0);
  const ok = rig();
  bringUp(ok);
  assert.equal(ok.bar.read(0x14, 1), 15);
  assert.ok(ok.t.hasFeature(32) && ok.t.hasFeature(5) && ok.t.hasFeature(16));
  assert.equal(ok.bar.read(0x2000, 4), 0x0a5d1500);
  assert.equal(ok.bar.read(0x2004, 2), 0x010b);
  assert.equal(ok.bar.read(0x2006, 2), 1);
  ok.nic.setLink(false);
  assert.equal(ok.bar.read(0x2006, 2), 0);
  assert.equal(ok.bar.read(0x1000, 1), 2); // config change, read clears
  assert.equal(ok.bar.read(0x1000, 1), 0);
});

test('transmit: a header + frame chain reaches the sink, the used ring advances, INTx rises and the ISR read lowers it', () => {
  const r = rig();
  bringUp(r);
  const frame = new Uint8Array(60); frame.fill(0xab); frame[6] = 0x00;
  r.mem.load(0x30000, new Uint8Array(VIRTIO_NET_HDR_LEN));
  r.mem.load(0x30100, frame);
  desc(r.mem, TDESC, 0, 0x30000, VIRTIO_NET_HDR_LEN, 1, 1);
  desc(r.mem, TDESC, 1, 0x30100, 60, 0);
  offer(r.mem, TAVAIL, 0);
  r.bar.write(0x3004, 2, 1);
  assert.equal(r.sent.length, 1);
  assert.deepEqual([...r.sent[0]!], [...frame]);
  assert.equal(r.mem.read16(TUSED + 2), 1);
  assert.equal(r.irq.at(-1), true);
  assert.equal(r.bar.read(0x1000, 1), 1);
  assert.equal(r.irq.at(-1), false);
  assert.equal(r.nic.counters.txFrames, 1);
});

test('receive: the frame lands behind a 12-byte header with num_buffers 1; no buffer or too small is counted', () => {
  const r = rig();
  bringUp(r);
  r.nic.receive(new Uint8Array(60));
  assert.equal(r.nic.counters.rxNoBuffer, 1);
  desc(r.mem, DESC, 0, 0x40000, 1526, 2);
  desc(r.mem, DESC, 1, 0x41000, 20, 2);
  offer(r.mem, AVAIL, 0); offer(r.mem, AVAIL, 1);
  const f = new Uint8Array(64).map((_, i) => i);
  r.nic.receive(f);
  assert.equal(r.mem.read16(USED + 2), 1);
  assert.equal(r.mem.read32(USED + 8), VIRTIO_NET_HDR_LEN + 64);
  assert.equal(r.mem.read16(0x40000 + 10), 1);
  assert.deepEqual([...r.mem.ram.subarray(0x40000 + 12, 0x40000 + 12 + 64)], [...f]);
  r.nic.receive(f);
  assert.equal(r.nic.counters.rxTooSmall, 1);
  assert.equal(r.mem.read32(USED + 16), 0);
});

test('bad chains: outside RAM, above 4 GiB, loops, bad indirect tables are returned with length 0 and counted', () => {
  const r = rig();
  bringUp(r);
  const q = r.t.queues[1]!;
  desc(r.mem, TDESC, 0, 0x000ff000, 0x2000, 0); //          runs past the 1 MiB of RAM
  desc(r.mem, TDESC, 1, 0x1000, 100, 0, 0, 1); //           above 4 GiB
  desc(r.mem, TDESC, 2, 0x1000, 12, 1, 3); desc(r.mem, TDESC, 3, 0x1000, 12, 1, 2); // loop
  desc(r.mem, TDESC, 4, 0x50000, 24, 4); //                 indirect with a nested indirect
  desc(r.mem, 0x50000, 0, 0x50100, 32, 4); desc(r.mem, 0x50000, 1, 0x1000, 12, 0);
  desc(r.mem, TDESC, 5, 0x1000, 12, 0, 9); //              good chain, header only: dropped as a runt
  for (const h of [0, 1, 2, 4, 5, 7 + 8]) offer(r.mem, TAVAIL, h & 7 | (h > 7 ? 0x10 : 0));
  r.bar.write(0x3004, 2, 1);
  assert.equal(q.counters.badChains, 5);
  assert.equal(r.nic.counters.txDropped, 1);
  assert.equal(r.sent.length, 0);
  assert.equal(r.mem.read16(TUSED + 2), 6);
  // an available index racing more than a ring ahead breaks the queue: NEEDS_RESET
  r.mem.write16(TAVAIL + 2, r.mem.read16(TAVAIL + 2) + 100);
  r.bar.write(0x3004, 2, 1);
  assert.ok(r.bar.read(0x14, 1) & 64);
  r.bar.write(0x14, 1, 0); // reset
  assert.equal(r.bar.read(0x14, 1), 0);
});

test('fuzz: random descriptor tables and ring indexes never throw and never touch memory outside RAM', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16 * QS, maxLength: 16 * QS }), fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 20 }),
    fc.uint8Array({ maxLength: 1600 }), (table, heads, frame) => {
      const r = rig();
      bringUp(r);
      r.mem.load(TDESC, table); r.mem.load(DESC, table);
      for (const h of heads) { offer(r.mem, TAVAIL, h); offer(r.mem, AVAIL, h); }
      r.bar.write(0x3004, 2, 1);
      r.nic.receive(frame);
    }), { numRuns: 300 });
});
