/**
 * virtio-vsock as a driver sees it: identity, guest_cid, packets both ways, and malformed
 * guest packets dropped and counted (never a host exception), including random bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PhysicalMemory } from '../memory/physical.js';
import { VirtioVsock, VSOCK_HDR_LEN, VSOCK_OP, decodeVsockHeader, encodeVsockHeader, type VsockHeader } from './virtio-vsock.js';

const QS = 8;
const Q = [[0x10000, 0x11000, 0x12000], [0x20000, 0x21000, 0x22000]] as const;
const TXBUF = 0x30000, RXBUF = 0x40000;

function rig() {
  const mem = new PhysicalMemory(1 << 20);
  const dev = new VirtioVsock(3, mem, { set: () => {} });
  const got: Array<{ h: VsockHeader; p: Uint8Array }> = [];
  let resets = 0;
  dev.sink = { packet: (h, p) => got.push({ h, p: p.slice() }), reset: () => { resets++; } };
  const bar = dev.transport.region;
  dev.transport.configWrite(0x04, 2, 0x6);
  bar.write(0x14, 1, 0); bar.write(0x14, 1, 3);
  bar.write(0x08, 4, 1); bar.write(0x0c, 4, 1);
  bar.write(0x14, 1, 3 | 8);
  for (const [q, [d, a, u]] of Q.entries()) {
    bar.write(0x16, 2, q); bar.write(0x18, 2, QS);
    bar.write(0x20, 4, d); bar.write(0x28, 4, a); bar.write(0x30, 4, u);
    bar.write(0x1c, 2, 1);
  }
  bar.write(0x14, 1, 3 | 8 | 4);
  const put = (q: 0 | 1, i: number, addr: number, len: number, write: boolean) => {
    const [d, a] = Q[q];
    mem.write32(d + 16 * i, addr); mem.write32(d + 16 * i + 4, 0); mem.write32(d + 16 * i + 8, len);
    mem.write16(d + 16 * i + 12, write ? 2 : 0); mem.write16(d + 16 * i + 14, 0);
    const idx = mem.read16(a + 2);
    mem.write16(a + 4 + 2 * (idx % QS), i); mem.write16(a + 2, (idx + 1) & 0xffff);
  };
  const transmit = (bytes: Uint8Array) => { mem.ram.set(bytes, TXBUF); put(1, 0, TXBUF, bytes.length, false); bar.write(0x3000 + 4, 2, 1); };
  return { mem, dev, got, bar, put, transmit, resets: () => resets };
}

const hdr = (o: Partial<VsockHeader>): VsockHeader => ({ srcCid: 3, dstCid: 2, srcPort: 5985, dstPort: 49152, len: 0, type: 1, op: VSOCK_OP.RW, flags: 0, bufAlloc: 8192, fwdCnt: 0, ...o });
const pkt = (h: VsockHeader, payload: number[] = []) => { const b = new Uint8Array(VSOCK_HDR_LEN + payload.length); b.set(encodeVsockHeader({ ...h, len: payload.length })); b.set(payload, VSOCK_HDR_LEN); return b; };

test('identity: virtio device 19 (PCI 1AF4:1053), guest_cid in the device configuration', () => {
  const { dev, bar } = rig();
  assert.equal(dev.transport.configRead(0, 4), 0x10531af4);
  assert.equal(bar.read(0x2000, 4), 3);
  assert.equal(bar.read(0x2004, 4), 0);
});

test('guest packets reach the sink with their payload; host packets fill receive buffers, split when long', () => {
  const r = rig();
  r.transmit(pkt(hdr({}), [1, 2, 3]));
  assert.equal(r.got.length, 1);
  assert.deepEqual([...r.got[0]!.p], [1, 2, 3]);
  r.dev.send(hdr({ srcCid: 2, dstCid: 3, srcPort: 49152, dstPort: 5985 }), new Uint8Array(100).fill(7));
  assert.equal(r.dev.pendingPackets, 1, 'waits for a receive buffer');
  r.put(0, 0, RXBUF, VSOCK_HDR_LEN + 60, true);
  r.put(0, 1, RXBUF + 0x1000, VSOCK_HDR_LEN + 60, true);
  r.bar.write(0x3000, 2, 0);
  assert.equal(r.dev.pendingPackets, 0);
  const first = decodeVsockHeader(r.mem.ram.subarray(RXBUF, RXBUF + VSOCK_HDR_LEN))!;
  const second = decodeVsockHeader(r.mem.ram.subarray(RXBUF + 0x1000, RXBUF + 0x1000 + VSOCK_HDR_LEN))!;
  assert.equal(first.len + second.len, 100);
  assert.equal(r.dev.counters.rxPackets, 2);
});

test('malformed guest packets are dropped and counted', () => {
  const r = rig();
  r.transmit(new Uint8Array(20));                                          // shorter than a header
  const lying = pkt(hdr({}), [1, 2]); lying[24] = 9; r.transmit(lying);    // len disagrees with the chain
  r.transmit(pkt(hdr({ srcCid: 7 })));                                     // spoofed source CID
  r.transmit(pkt(hdr({ dstCid: 5 })));                                     // not for the host
  r.transmit(pkt(hdr({ type: 2 })));                                       // SEQPACKET was not negotiated
  r.transmit(pkt(hdr({ op: 99 })));                                        // no such operation
  assert.equal(r.got.length, 0);
  assert.equal(r.dev.counters.txDropped, 6);
});

test('random transmit chains never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
    const r = rig();
    r.transmit(bytes);
    assert.equal(r.dev.counters.txPackets + r.dev.counters.txDropped, 1);
  }), { numRuns: 200 });
});

test('a device reset tells the host endpoint and forgets queued packets', () => {
  const r = rig();
  const before = r.resets(); // bring-up resets the device once
  r.dev.send(hdr({ srcCid: 2, dstCid: 3 }));
  r.bar.write(0x14, 1, 0);
  assert.equal(r.resets(), before + 1);
  assert.equal(r.dev.pendingPackets, 0);
});
