import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualTimers } from './clock.js';
import { EthernetFrame, ETHERTYPE_IPV4 } from './ethernet.js';
import { BROADCAST_MAC } from './mac.js';
import { VirtualSwitch, type SwitchPort } from './switch.js';

const MAC1 = 0x00155d000001, MAC2 = 0x00155d000002, MAC3 = 0x00155d000003, L2MAC = 0x00155d0000a2;
const frame = (dst: number, src: number, n = 46) => EthernetFrame.build(dst, src, ETHERTYPE_IPV4, new Uint8Array(n));

function setup(type: 'Private' | 'Internal' = 'Private') {
  const timers = new ManualTimers();
  const sw = new VirtualSwitch('S', type, { timers, agingMs: 1000 });
  const got = new Map<string, Uint8Array[]>();
  const port = (name: string, mac: number, kind: 'vm' | 'host' = 'vm'): SwitchPort => {
    got.set(name, []);
    return sw.connect({ name, kind, mac, deliver: (f) => got.get(name)!.push(f) });
  };
  return { timers, sw, got, port };
}

test('broadcast floods to every other port; known unicast goes to its owner only', () => {
  const { got, port } = setup();
  const a = port('a', MAC1), b = port('b', MAC2); port('c', MAC3);
  a.send(frame(BROADCAST_MAC, MAC1));
  assert.equal(got.get('a')!.length, 0);
  assert.equal(got.get('b')!.length, 1);
  assert.equal(got.get('c')!.length, 1);
  b.send(frame(MAC1, MAC2));
  assert.equal(got.get('a')!.length, 1);
  assert.equal(got.get('c')!.length, 1);
  assert.equal(a.counters.sentFrames, 1);
  assert.equal(a.counters.receivedFrames, 1);
  assert.equal(b.counters.receivedBytes, 60);
});

test('seed "Usurpation des adresses MAC": foreign source MACs are dropped and counted until spoofing is On', () => {
  const { got, port } = setup();
  const l1 = port('L1', MAC1), other = port('other', MAC2);
  for (let i = 0; i < 3; i++) l1.send(frame(MAC2, L2MAC));
  assert.equal(l1.counters.dropped.macSpoofing, 3);
  assert.equal(got.get('other')!.length, 0);
  // replies to the L2 MAC cannot reach L1 either: its port owns MAC1 only
  other.send(frame(L2MAC, MAC2));
  assert.equal(got.get('L1')!.length, 0);
  assert.equal(l1.counters.filtered, 1);

  l1.macAddressSpoofing = true;
  l1.send(frame(MAC2, L2MAC));
  assert.equal(got.get('other')!.length, 1);
  assert.equal(l1.counters.dropped.macSpoofing, 3);
  other.send(frame(L2MAC, MAC2)); // now learned on L1's port
  assert.equal(got.get('L1')!.length, 1);
  // its own MAC still works
  l1.send(frame(MAC2, MAC1));
  assert.equal(got.get('other')!.length, 2);
});

test('learned MACs age out in virtual time; unknown unicast floods to spoofing, host ports only', () => {
  const { timers, sw, got, port } = setup('Internal');
  const l1 = port('L1', MAC1), host = port('host', MAC3, 'host'); port('plain', MAC2);
  l1.macAddressSpoofing = true;
  l1.send(frame(MAC3, L2MAC));
  assert.ok(sw.macTable().some((e) => !e.static && e.port === 'L1'));
  host.send(frame(L2MAC, MAC3));
  assert.equal(got.get('L1')!.length, 1);
  timers.advance(1001);
  assert.ok(!sw.macTable().some((e) => !e.static));
  host.send(frame(L2MAC, MAC3)); // unknown again: flooded, L1 (spoofing) hears it, 'plain' filters it
  assert.equal(got.get('L1')!.length, 2);
  assert.equal(got.get('plain')!.length, 0);
});

test('malformed frames and group source MACs are dropped and counted, never thrown', () => {
  const { got, port } = setup();
  const a = port('a', MAC1); port('b', MAC2);
  a.send(new Uint8Array(5));
  a.send(new Uint8Array(3000));
  a.send(frame(MAC2, 0x01005e000001));
  assert.equal(a.counters.dropped.malformed, 3);
  assert.equal(got.get('b')!.length, 0);
});

test('switch types: Private refuses a host port, a second host port is refused', () => {
  const { sw } = setup('Private');
  assert.throws(() => sw.connect({ name: 'h', kind: 'host', mac: 1, deliver: () => {} }), /private/);
  const i = setup('Internal');
  i.sw.connect({ name: 'h', kind: 'host', mac: 1, deliver: () => {} });
  assert.throws(() => i.sw.connect({ name: 'h2', kind: 'host', mac: 2, deliver: () => {} }), /already/);
  assert.throws(() => i.sw.connect({ name: 'u', kind: 'uplink', deliver: () => {} }), /external/);
});

test('a reply sent inside deliver is queued, not recursed, and a throwing endpoint does not stop the switch', () => {
  const timers = new ManualTimers();
  const sw = new VirtualSwitch('S', 'Private', { timers });
  const order: string[] = [];
  const a = sw.connect({ name: 'a', kind: 'vm', mac: MAC1, deliver: () => order.push('a') });
  let bPort: SwitchPort | null = null;
  bPort = sw.connect({ name: 'b', kind: 'vm', mac: MAC2, deliver: () => { order.push('b'); bPort!.send(frame(MAC1, MAC2)); order.push('b-done'); } });
  sw.connect({ name: 'c', kind: 'vm', mac: MAC3, deliver: () => { throw new Error('endpoint bug'); } });
  a.send(frame(BROADCAST_MAC, MAC1));
  assert.deepEqual(order, ['b', 'b-done', 'a']);
});

test('MAC flood cannot grow the learned table past its limit', () => {
  const timers = new ManualTimers();
  const sw = new VirtualSwitch('S', 'Private', { timers, maxLearned: 16 });
  const p = sw.connect({ name: 'a', kind: 'vm', mac: MAC1, macAddressSpoofing: true, deliver: () => {} });
  for (let i = 0; i < 100; i++) p.send(frame(BROADCAST_MAC, 0x020000000000 + i));
  assert.equal(sw.macTable().filter((e) => !e.static).length, 16);
});
