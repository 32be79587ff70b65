import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualTimers } from './clock.js';
import { EthernetFrame } from './ethernet.js';
import { capture, LINKTYPE_ETHERNET, PcapWriter, readPcap } from './pcap.js';
import { VirtualSwitch } from './switch.js';

test('pcap: global header, records with timestamps, a switch capture and a port capture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nv-pcap-'));
  try {
    const timers = new ManualTimers();
    const sw = new VirtualSwitch('S', 'Private', { timers });
    const a = sw.connect({ name: 'a', kind: 'vm', mac: 1, deliver: () => {} });
    const b = sw.connect({ name: 'b', kind: 'vm', mac: 2, deliver: () => {} });
    const stopAll = capture(sw, PcapWriter.toFile(join(dir, 'all.pcap'), () => 1_700_000_000_500), null);
    const stopA = capture(sw, PcapWriter.toFile(join(dir, 'a.pcap'), () => 1_700_000_000_500), a);
    a.send(EthernetFrame.build(2, 1, 0x0800, new Uint8Array(46)));
    a.send(EthernetFrame.build(2, 9, 0x0800, new Uint8Array(46))); // spoofed: only in a's capture
    b.send(EthernetFrame.build(1, 2, 0x0800, new Uint8Array(46)));
    stopAll(); stopA();
    const all = readPcap(readFileSync(join(dir, 'all.pcap')));
    assert.equal(all.linkType, LINKTYPE_ETHERNET);
    assert.equal(all.frames.length, 2);
    assert.equal(all.frames[0]!.sec, 1_700_000_000);
    assert.equal(all.frames[0]!.usec, 500_000);
    assert.equal(all.frames[0]!.data.length, 60);
    const pa = readPcap(readFileSync(join(dir, 'a.pcap')));
    assert.equal(pa.frames.length, 3);
    const head = readFileSync(join(dir, 'a.pcap')).subarray(0, 4);
    assert.deepEqual([...head], [0xd4, 0xc3, 0xb2, 0xa1]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
